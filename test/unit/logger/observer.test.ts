// LogPublisher: fanning events out to observers, surviving observers that
// throw, and the fallback used while nobody listens
// (Twisted: twisted/logger/test/test_observer.py, test_global.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Failure } from 'torsion/defer';
import {
  formatEventAsClassicLogText,
  globalLogPublisher,
  type ILogObserver,
  type LogEvent,
  LogPublisher,
} from 'torsion/logger';

/** An observer that records what it sees, under a name. */
function recorder(name: string, seen: Array<[string, LogEvent]>): ILogObserver {
  return (event) => {
    seen.push([name, event]);
  };
}

describe('LogPublisher observers', () => {
  test('delivers each event to every observer, in the order they were added', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    publisher.addObserver(recorder('a', seen));
    publisher.addObserver(recorder('b', seen));
    publisher.addObserver(recorder('c', seen));
    const e1: LogEvent = { log_format: 'one' };
    const e2: LogEvent = { log_format: 'two' };
    publisher.publish(e1);
    publisher.publish(e2);
    assert.deepEqual(seen, [
      ['a', e1],
      ['b', e1],
      ['c', e1],
      ['a', e2],
      ['b', e2],
      ['c', e2],
    ]);
    assert.equal(seen[0]?.[1], e1, 'observers get the event object itself');
  });

  test('adding an observer twice attaches it once', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    const observer = recorder('a', seen);
    publisher.addObserver(observer);
    publisher.addObserver(observer);
    assert.deepEqual(publisher.observers, [observer]);
    publisher.publish({});
    assert.equal(seen.length, 1);
  });

  test('a removed observer gets no more events; the others still do', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    const a = recorder('a', seen);
    const b = recorder('b', seen);
    publisher.addObserver(a);
    publisher.addObserver(b);
    publisher.removeObserver(a);
    publisher.publish({ log_format: 'after' });
    assert.deepEqual(
      seen.map(([name]) => name),
      ['b'],
    );
    assert.deepEqual(publisher.observers, [b]);
  });

  test('removing an observer that is not attached does nothing', () => {
    const publisher = new LogPublisher();
    const attached: ILogObserver = () => undefined;
    publisher.addObserver(attached);
    publisher.removeObserver(() => undefined);
    assert.deepEqual(publisher.observers, [attached]);
  });

  test('an observer added or removed during delivery takes effect from the next event', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    const late = recorder('late', seen);
    const victim = recorder('victim', seen);
    publisher.addObserver(() => {
      publisher.addObserver(late);
      publisher.removeObserver(victim);
    });
    publisher.addObserver(victim);
    publisher.publish({ log_format: 'first' });
    publisher.publish({ log_format: 'second' });
    assert.deepEqual(
      seen.map(([name, event]) => `${name}:${event.log_format}`),
      ['victim:first', 'late:second'],
    );
  });

  test('publish is bound, so a publisher can observe another one', () => {
    const upstream = new LogPublisher();
    const downstream = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    downstream.addObserver(recorder('down', seen));
    upstream.addObserver(downstream.publish);
    const event: LogEvent = { log_format: 'relayed' };
    upstream.publish(event);
    assert.deepEqual(seen, [['down', event]]);
  });
});

describe('LogPublisher with an observer that throws', () => {
  test('still delivers the event to the observers after it', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    publisher.addObserver(function broken() {
      throw new Error('observer bug');
    });
    publisher.addObserver(recorder('after', seen));
    const event: LogEvent = { log_format: 'important' };
    publisher.publish(event);
    assert.equal(seen[0]?.[1], event);
  });

  test('reports it to the other observers as a critical "Temporarily disabling observer" event', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    publisher.addObserver(recorder('before', seen));
    publisher.addObserver(function broken() {
      throw new Error('observer bug');
    });
    publisher.addObserver(recorder('after', seen));
    publisher.publish({ log_format: 'important' });

    const reports = seen.filter(([, event]) => event.log_format !== 'important');
    assert.deepEqual(
      reports.map(([name]) => name),
      ['before', 'after'],
    );
    const report = reports[0]?.[1] as LogEvent;
    assert.equal(report.log_level, 'critical');
    assert.equal(report.log_namespace, 'torsion.logger');
    assert.equal(typeof report.log_time, 'number');
    assert.equal(report.observer, 'broken');
    assert.equal(report.error, 'observer bug');
    // Twisted: LogPublisherTests.test_observerRaises — the report carries a
    // Failure of what the observer threw.
    assert.ok(report.log_failure instanceof Failure);
    assert.equal(report.log_failure.check(Error), Error);
    assert.equal((report.log_failure.value as Error).message, 'observer bug');
    assert.equal(report.log_format, 'Temporarily disabling observer {observer} due to exception');
  });

  test('reports after the event has reached every observer', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    publisher.addObserver(() => {
      throw new Error('first');
    });
    publisher.addObserver(recorder('only', seen));
    publisher.publish({ log_format: 'event' });
    assert.deepEqual(
      seen.map(([, event]) => event.log_format),
      ['event', 'Temporarily disabling observer {observer} due to exception'],
    );
  });

  test('names an anonymous observer and a thrown non-Error in the report', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    publisher.addObserver(() => {
      throw 'plain string';
    });
    publisher.addObserver(recorder('witness', seen));
    publisher.publish({});
    const report = seen[1]?.[1] as LogEvent;
    assert.equal(report.observer, '<anonymous observer>');
    assert.equal(report.error, 'plain string');
    assert.equal(report.log_failure?.value, 'plain string');
  });

  test('the report written as text names the observer and shows the traceback', () => {
    const publisher = new LogPublisher();
    const lines: string[] = [];
    publisher.addObserver(function brokenWriter() {
      throw new TypeError('disk on fire');
    });
    publisher.addObserver((event) => {
      if (event.log_failure !== undefined) lines.push(formatEventAsClassicLogText(event));
    });
    publisher.publish({ log_format: 'x' });
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] ?? '',
      /\[torsion\.logger#critical\] Temporarily disabling observer brokenWriter due to exception\n\t.*TypeError: disk on fire/,
    );
  });

  test('keeps the observer attached: it gets the next event too', () => {
    const publisher = new LogPublisher();
    let calls = 0;
    const flaky: ILogObserver = () => {
      calls++;
      throw new Error('flaky');
    };
    publisher.addObserver(flaky);
    publisher.publish({});
    publisher.publish({});
    assert.equal(calls, 2);
    assert.deepEqual(publisher.observers, [flaky]);
  });

  test('does not let an observer that throws on the report stop the report or the publisher', () => {
    const publisher = new LogPublisher();
    const seen: Array<[string, LogEvent]> = [];
    publisher.addObserver(() => {
      throw new Error('always');
    });
    publisher.addObserver(() => {
      throw new Error('also always');
    });
    publisher.addObserver(recorder('calm', seen));
    assert.doesNotThrow(() => publisher.publish({ log_format: 'x' }));
    // The event, then one report for each of the two broken observers.
    assert.deepEqual(
      seen.map(([, event]) => event.error ?? event.log_format),
      ['x', 'always', 'also always'],
    );
  });
});

describe('LogPublisher fallback', () => {
  test('receives events only while no observer is attached', () => {
    const fallbackSeen: LogEvent[] = [];
    const publisher = new LogPublisher({ fallback: (event) => fallbackSeen.push(event) });
    const seen: Array<[string, LogEvent]> = [];
    const observer = recorder('o', seen);

    const before: LogEvent = { log_format: 'before' };
    publisher.publish(before);
    publisher.addObserver(observer);
    const during: LogEvent = { log_format: 'during' };
    publisher.publish(during);
    publisher.removeObserver(observer);
    const after: LogEvent = { log_format: 'after' };
    publisher.publish(after);

    assert.deepEqual(fallbackSeen, [before, after]);
    assert.deepEqual(seen, [['o', during]]);
  });

  test('without a fallback, events published to nobody are dropped', () => {
    const publisher = new LogPublisher();
    assert.doesNotThrow(() => publisher.publish({ log_level: 'critical', log_format: 'lost' }));
    assert.deepEqual(publisher.observers, []);
  });
});

describe('globalLogPublisher', () => {
  test('is a LogPublisher', () => {
    assert.ok(globalLogPublisher instanceof LogPublisher);
  });
});

describe("LogPublisher (Twisted's test_observer.py)", () => {
  test('takes its first observers in the constructor (test_observers)', () => {
    const o1: ILogObserver = () => undefined;
    const o2: ILogObserver = () => undefined;
    const publisher = new LogPublisher({ observers: [o1, o2] });
    assert.deepEqual(publisher.observers, [o1, o2]);
    const o3: ILogObserver = () => undefined;
    publisher.addObserver(o3);
    assert.deepEqual(publisher.observers, [o1, o2, o3]);
  });

  test('refuses an observer that is not a function (test_addObserverNotCallable)', () => {
    const publisher = new LogPublisher();
    for (const bad of [{}, null, 'observer', { observe: () => undefined }]) {
      assert.throws(() => publisher.addObserver(bad as unknown as ILogObserver), {
        name: 'TypeError',
        message: /an observer must be a function/,
      });
    }
    assert.deepEqual(publisher.observers, []);
  });

  test('an observer that throws: the others get a report with the very error (test_observerRaises)', () => {
    const exception = new Error('ARGH! EVIL DEATH!');
    const events: LogEvent[] = [];
    const observer: ILogObserver = (event) => {
      const shouldThrow = events.length === 0;
      events.push(event);
      if (shouldThrow) throw exception;
    };
    const collector: LogEvent[] = [];
    const publisher = new LogPublisher({ observers: [observer, (e) => collector.push(e)] });
    const event: LogEvent = { foo: 1, bar: 2 };
    publisher.publish(event);
    assert.deepEqual(events, [event]);
    const errors = collector.filter((e) => e.log_failure !== undefined).map((e) => e.log_failure);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.value, exception);
  });

  test('log_trace records each observer the event is given to (test_trace)', () => {
    const traces = new Map<number, unknown[]>();
    const o1: ILogObserver = (e) => {
      if (!traces.has(1)) traces.set(1, [...(e.log_trace as unknown[])]);
    };
    const o2: ILogObserver = (e) => {
      if (!traces.has(2)) traces.set(2, [...(e.log_trace as unknown[])]);
    };
    const publisher = new LogPublisher({ observers: [o1, o2] });
    publisher.publish({ foo: 1, log_trace: [] });
    assert.deepEqual(traces.get(1), [[publisher, o1]]);
    assert.deepEqual(traces.get(2), [
      [publisher, o1],
      [publisher, o2],
    ]);
  });
});
