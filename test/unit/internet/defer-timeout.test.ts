// Deferred.addTimeout and TimeoutError (ported from Twisted's
// twisted/test/test_defer.py DeferredAddTimeoutTests and TimeoutErrorTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimeoutError as RootTimeoutError } from 'torsion';
import { CancelledError, Deferred, Failure, TimeoutError } from 'torsion/defer';
import { Clock } from 'torsion/task';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

/** An onTimeoutCancel that replaces whatever result with 'OVERRIDDEN'. */
const override = (): string => 'OVERRIDDEN';

/**
 * For the tests where `d` fires (or is cancelled) before its deadline:
 * returns an inner Deferred, never fired, and a function that chains it
 * from `d` while recording what `d` gave. Were `d` cancelled later by the
 * timeout, the inner Deferred would be cancelled too.
 */
function chainInner(): { inner: Deferred<null>; seen: unknown[]; chain: (r: unknown) => unknown } {
  const inner = new Deferred<null>();
  const seen: unknown[] = [];
  return {
    inner,
    seen,
    chain: (result: unknown) => {
      seen.push(result);
      return inner;
    },
  };
}

describe('Deferred.addTimeout', () => {
  test('returns the Deferred itself, so more callbacks can be added to the chain', () => {
    const d = new Deferred<null>();
    const returned = d.addTimeout(5, new Clock());
    assert.equal(returned, d);
    d.addCallback(() => 'done');
    d.callback(null);
    assert.equal(successResultOf(d), 'done');
  });

  for (const custom of [false, true]) {
    const withCustom = custom ? ', even with a custom onTimeoutCancel' : '';

    test(`a success before the deadline goes through, and nothing is cancelled later${withCustom}`, () => {
      const clock = new Clock();
      const d = new Deferred<string>();
      if (custom) d.addTimeout(10, clock, override);
      else d.addTimeout(10, clock);
      const { inner, seen, chain } = chainInner();
      d.addCallback(chain);
      d.callback('results');
      assert.deepEqual(seen, ['results']);

      clock.advance(15);
      assertNoResult(inner);
      assert.deepEqual(clock.getDelayedCalls(), []);
    });

    test(`a failure before the deadline goes through, and nothing is cancelled later${withCustom}`, () => {
      const clock = new Clock();
      const d = new Deferred<null>();
      if (custom) d.addTimeout(10, clock, override);
      else d.addTimeout(10, clock);
      const { inner, seen, chain } = chainInner();
      d.addErrback(chain);
      const error = new RangeError('fail');
      d.errback(error);
      assert.equal(seen.length, 1);
      assert.ok(seen[0] instanceof Failure);
      assert.equal(seen[0].value, error);

      clock.advance(15);
      assertNoResult(inner);
    });

    test(`a manual cancel before the deadline keeps its CancelledError and is not repeated${withCustom}`, () => {
      const clock = new Clock();
      const d = new Deferred<null>();
      if (custom) d.addTimeout(10, clock, override);
      else d.addTimeout(10, clock);
      const { inner, seen, chain } = chainInner();
      d.addErrback(chain);
      d.cancel();
      assert.equal(seen.length, 1);
      assert.ok(seen[0] instanceof Failure);
      assert.equal(seen[0].type, CancelledError);

      clock.advance(15);
      assertNoResult(inner);
    });
  }

  test('fails with TimeoutError when the deadline passes first', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    d.addTimeout(10, clock);
    assertNoResult(d);
    clock.advance(9.999);
    assertNoResult(d);
    clock.advance(5);
    failureResultOf(d, TimeoutError);
  });

  test('when the deadline passes, a custom onTimeoutCancel decides the result', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    d.addTimeout(10, clock, override);
    assertNoResult(d);
    clock.advance(15);
    assert.equal(successResultOf(d), 'OVERRIDDEN');
  });

  test('the onTimeoutCancel option may also be given in an options object', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    d.addTimeout(10, clock, { onTimeoutCancel: override });
    clock.advance(15);
    assert.equal(successResultOf(d), 'OVERRIDDEN');
  });

  test('onTimeoutCancel receives the cancelled result and the timeout', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    const calls: Array<[unknown, number]> = [];
    d.addTimeout(2.5, clock, (result, timeout) => {
      calls.push([result, timeout]);
      return 'translated';
    });
    clock.advance(3);
    assert.equal(successResultOf(d), 'translated');
    assert.equal(calls.length, 1);
    const [result, timeout] = calls[0] as [unknown, number];
    assert.ok(result instanceof Failure);
    assert.equal(result.type, CancelledError);
    assert.equal(timeout, 2.5);
  });

  test('a canceller that calls back turns the timeout into that success', () => {
    const clock = new Clock();
    const d = new Deferred<string>((cancelled) => cancelled.callback('I was cancelled!'));
    d.addTimeout(10, clock);
    assertNoResult(d);
    clock.advance(15);
    assert.equal(successResultOf(d), 'I was cancelled!');
  });

  test('a canceller that fails with another error keeps that error, not TimeoutError', () => {
    const clock = new Clock();
    const error = new RangeError('what!');
    const d = new Deferred<null>((cancelled) => cancelled.errback(error));
    d.addTimeout(10, clock);
    assertNoResult(d);
    clock.advance(15);
    assert.equal(failureResultOf(d, RangeError).value, error);
  });

  test('a custom onTimeoutCancel also decides after a canceller that failed with another error', () => {
    const clock = new Clock();
    const d = new Deferred<null>((cancelled) => cancelled.errback(new RangeError('what!')));
    d.addTimeout(10, clock, override);
    assertNoResult(d);
    clock.advance(15);
    assert.equal(successResultOf(d), 'OVERRIDDEN');
  });

  test('an errback added before the timeout sees the CancelledError; passed on, it becomes TimeoutError', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    const seen: Failure[] = [];
    d.addErrback((failure) => {
      seen.push(failure);
      return failure;
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    assert.equal(seen.length, 1);
    assert.ok(seen[0]?.value instanceof CancelledError);
    failureResultOf(d, TimeoutError);
  });

  test('an errback added before the timeout that traps the CancelledError makes the Deferred succeed', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    const seen: Failure[] = [];
    d.addErrback((failure) => {
      seen.push(failure);
      failure.trap(CancelledError);
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    assert.equal(seen.length, 1);
    assert.ok(seen[0]?.value instanceof CancelledError);
    assert.equal(successResultOf(d), undefined);
  });

  test('with a custom onTimeoutCancel, an errback added before that passes the CancelledError on is overridden', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    const seen: Failure[] = [];
    d.addErrback((failure) => {
      seen.push(failure);
      return failure;
    });
    d.addTimeout(10, clock, override);
    clock.advance(15);
    assert.ok(seen[0]?.value instanceof CancelledError);
    assert.equal(successResultOf(d), 'OVERRIDDEN');
  });

  test('with a custom onTimeoutCancel, an errback added before that suppresses the CancelledError is overridden', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    const seen: Failure[] = [];
    d.addErrback((failure) => {
      seen.push(failure);
    });
    d.addTimeout(10, clock, override);
    clock.advance(15);
    assert.ok(seen[0]?.value instanceof CancelledError);
    assert.equal(successResultOf(d), 'OVERRIDDEN');
  });

  test('a callback added before the timeout runs with the success a canceller gives, without TimeoutError', () => {
    const clock = new Clock();
    const success = 'success';
    const d = new Deferred<string>((cancelled) => cancelled.callback(success));
    const seen: string[] = [];
    d.addCallback((value) => {
      seen.push(value);
      return value;
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    assert.deepEqual(seen, [success]);
    assert.equal(successResultOf(d), success);
  });

  test('with a custom onTimeoutCancel, the success a canceller gives is overridden too', () => {
    const clock = new Clock();
    const d = new Deferred<string>((cancelled) => cancelled.callback('success'));
    const seen: string[] = [];
    d.addCallback((value) => {
      seen.push(value);
      return value;
    });
    d.addTimeout(10, clock, override);
    clock.advance(15);
    assert.deepEqual(seen, ['success']);
    assert.equal(successResultOf(d), 'OVERRIDDEN');
  });
});

describe('TimeoutError', () => {
  test('from addTimeout, it carries the deadline and the CancelledError as its cause', () => {
    const clock = new Clock();
    const d = new Deferred<null>();
    d.addTimeout(7.5, clock);
    clock.advance(8);
    const error = failureResultOf(d, TimeoutError).value as TimeoutError;
    assert.equal(error.timeout, 7.5);
    assert.ok(error.cause instanceof CancelledError);
    assert.match(error.message, /7\.5 seconds/);
  });

  test('has a stable name and code, and no deadline unless given one', () => {
    const error = new TimeoutError();
    assert.equal(error.name, 'TimeoutError');
    assert.equal(error.code, 'ERR_DEFERRED_TIMEOUT');
    assert.equal(error.timeout, undefined);
    assert.equal(new TimeoutError('late', { timeout: 3 }).timeout, 3);
  });

  test('is the TimeoutError exported by the torsion root module', () => {
    assert.equal(RootTimeoutError, TimeoutError);
  });
});
