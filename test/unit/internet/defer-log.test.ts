// Reporting of failures left unhandled in Deferreds that are garbage-collected
// (ported from Twisted's twisted/test/test_defer.py LogTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred, Failure, fail, setDebugging } from 'torsion/defer';
import {
  captureLogs,
  formatEvent,
  formatEventAsClassicLogText,
  type LogCapture,
  type LogEvent,
} from 'torsion/logger';
import { collectUntil } from '../../helpers/gc.js';

/** The error every test here leaves unhandled (Twisted's tests use ZeroDivisionError). */
class DivisionByZero extends Error {
  override name = 'DivisionByZero';
}

function divideByZero(): never {
  throw new DivisionByZero('integer division or modulo by zero');
}

/**
 * Runs `leave` (which must keep no reference to the Deferreds it makes),
 * then collects garbage until two events are captured or the rounds run out.
 */
async function reportedEvents(leave: () => void): Promise<LogEvent[]> {
  const logs = captureLogs();
  try {
    leave();
    await collectUntil(() => logs.events.length >= 2);
    return [...logs.events];
  } finally {
    logs.stop();
  }
}

/**
 * Runs `leave`, then collects garbage until the object `leave` returns a
 * weak reference to is gone, plus the full bounded run so that any
 * finalization callback gets its chance.
 */
async function eventsAfterCollecting(leave: () => WeakRef<object>): Promise<LogEvent[]> {
  const logs: LogCapture = captureLogs();
  try {
    const ref = leave();
    assert.ok(
      await collectUntil(() => ref.deref() === undefined),
      'the Deferred was never collected',
    );
    await collectUntil(() => false);
    return [...logs.events];
  } finally {
    logs.stop();
  }
}

/** Checks the two events of an unhandled-error report and returns the second. */
function checkReport(events: LogEvent[]): LogEvent {
  assert.equal(events.length, 2, `expected 2 events, got ${events.length}`);
  const [first, second] = events as [LogEvent, LogEvent];
  assert.equal(first.log_level, 'critical');
  assert.equal(first.log_format, 'Unhandled error in Deferred:');
  assert.equal(first.log_failure, undefined);
  assert.equal(second.log_level, 'critical');
  const failure = second.log_failure;
  assert.ok(failure instanceof Failure);
  assert.equal(failure.trap(DivisionByZero), DivisionByZero);
  return second;
}

describe('unhandled errors in collected Deferreds', () => {
  test('a collected Deferred whose last result is a failure is reported as two critical events', async () => {
    const events = await reportedEvents(() => {
      const d = new Deferred<number>();
      d.addCallback(() => divideByZero());
      d.callback(1);
    });
    checkReport(events);
  });

  test('is reported the same when the Deferred was made in an inner function', async () => {
    function leaveFailure(): void {
      const d = new Deferred<number>();
      d.addCallback(() => divideByZero());
      d.callback(1);
    }
    const events = await reportedEvents(leaveFailure);
    checkReport(events);
  });

  test('is reported even when the Deferred is part of a reference cycle', async () => {
    function leaveFailureInCycle(): void {
      const d = new Deferred<number>();
      const cyclic = d as Deferred<number> & { self?: unknown };
      d.addCallback((_n: number, _d: Deferred<number> = d) => divideByZero());
      cyclic.self = d;
      d.callback(1);
    }
    const events = await reportedEvents(leaveFailureInCycle);
    checkReport(events);
  });

  test('the report shows the traceback, not a representation of the failure or the Deferred', async () => {
    const events = await reportedEvents(() => {
      const d = new Deferred<number>();
      d.addCallback(() => divideByZero());
      d.callback(1);
    });
    const second = checkReport(events);
    assert.equal(second.log_format, '');
    assert.equal(formatEvent(second), '');
    const text = formatEventAsClassicLogText(second);
    assert.match(text, /\] DivisionByZero: integer division or modulo by zero\n/);
    assert.doesNotMatch(text, /Failure instance|<Failure|<Deferred/);
  });

  test('with debugging on, the report adds where the Deferred was created and fired', async () => {
    function leaveFailure(): void {
      const d = new Deferred<number>();
      d.addCallback(() => divideByZero());
      d.callback(1);
    }
    let events: LogEvent[];
    setDebugging(true);
    try {
      events = await reportedEvents(leaveFailure);
    } finally {
      setDebugging(false);
    }
    const second = checkReport(events);
    assert.equal(second.log_format, '(debug: {debugInfo})');
    const text = formatEvent(second);
    assert.ok(text.startsWith('(debug:  C: Deferred was created:\n'), text);
    assert.match(text, /^ C: {4}at leaveFailure \(/m);
    assert.match(text, /^ I: First Invoker was:$/m);
    assert.match(text, /^ I: {4}at leaveFailure \(/m);
  });

  test('with debugging turned on after the Deferred was made, the report shows the invoker only', async () => {
    function leaveFailure(): void {
      const d = new Deferred<number>();
      setDebugging(true);
      d.addCallback(() => divideByZero());
      d.callback(1);
    }
    let events: LogEvent[];
    try {
      events = await reportedEvents(leaveFailure);
    } finally {
      setDebugging(false);
    }
    const text = formatEvent(checkReport(events));
    assert.ok(text.startsWith('(debug:  I: First Invoker was:\n'), text);
    assert.doesNotMatch(text, /^ C:/m);
  });

  test('a failure taken over by the Deferred whose callback returned it is not reported', async () => {
    const events = await eventsAfterCollecting(() => {
      let inner: Deferred<never> | undefined;
      const d = new Deferred<null>();
      d.addCallback(() => {
        inner = fail(new RangeError('zoop'));
        return inner;
      });
      d.callback(null);
      const results: unknown[] = [];
      const errors: Failure[] = [];
      d.addCallbacks(
        (result) => {
          results.push(result);
        },
        (failure) => {
          errors.push(failure);
        },
      );
      assert.deepEqual(results, []);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.trap(RangeError), RangeError);
      assert.ok(inner !== undefined);
      return new WeakRef(inner);
    });
    assert.deepEqual(events, []);
  });

  test('a failure whose errback chains to another Deferred is cleared and not reported', async () => {
    const events = await eventsAfterCollecting(() => {
      const bad = fail<null>(new Error('oh no'));
      const good = new Deferred<null>();
      bad.addErrback(() => good);
      return new WeakRef(bad);
    });
    assert.deepEqual(events, []);
  });
});
