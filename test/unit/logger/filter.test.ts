// FilteringLogObserver and LogLevelFilterPredicate (Twisted: logger/test/test_filter.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FilteringLogObserver,
  InvalidLogLevelError,
  type LogEvent,
  type LogLevel,
  LogLevelFilterPredicate,
  type LogPredicate,
  LogPublisher,
  logLevelWithName,
  type PredicateResult,
} from 'torsion/logger';

function sink(): { events: LogEvent[]; observer: (e: LogEvent) => void } {
  const events: LogEvent[] = [];
  return { events, observer: (e: LogEvent) => events.push(e) };
}

describe('FilteringLogObserver', () => {
  const events: LogEvent[] = [0, 1, 2, 3].map((n) => ({ n }));
  const byN =
    (result: (n: number) => 'yes' | 'no' | 'maybe'): LogPredicate =>
    (e) =>
      result(e.n as number);

  test('with no predicates lets every event through', () => {
    const out = sink();
    const filter = new FilteringLogObserver(out.observer, []);
    for (const e of events) filter.observe(e);
    assert.deepEqual(out.events, events);
  });

  test('drops events a predicate says no to, and lets maybe through', () => {
    const out = sink();
    const filter = new FilteringLogObserver(out.observer, [
      byN((n) => (n % 2 === 0 ? 'no' : 'maybe')),
    ]);
    for (const e of events) filter.observe(e);
    assert.deepEqual(out.events, [{ n: 1 }, { n: 3 }]);
  });

  test('stops asking at the first yes or no', () => {
    const out = sink();
    const asked: string[] = [];
    const filter = new FilteringLogObserver(out.observer, [
      (e) => {
        asked.push(`first ${e.n}`);
        return e.n === 0 ? 'yes' : e.n === 1 ? 'no' : 'maybe';
      },
      (e) => {
        asked.push(`second ${e.n}`);
        return 'no';
      },
    ]);
    for (const e of events.slice(0, 3)) filter.observe(e);
    assert.deepEqual(out.events, [{ n: 0 }]);
    assert.deepEqual(asked, ['first 0', 'first 1', 'first 2', 'second 2']);
  });

  test('sends the dropped events to the negative observer', () => {
    const out = sink();
    const dropped = sink();
    const filter = new FilteringLogObserver(
      out.observer,
      [byN((n) => (n < 2 ? 'no' : 'yes'))],
      dropped.observer,
    );
    for (const e of events) filter.observe(e);
    assert.deepEqual(out.events, [{ n: 2 }, { n: 3 }]);
    assert.deepEqual(dropped.events, [{ n: 0 }, { n: 1 }]);
  });
});

describe('LogLevelFilterPredicate', () => {
  test('lets events at or above the default level through (info by default)', () => {
    const levels = new LogLevelFilterPredicate();
    assert.equal(levels.predicate({ log_level: 'debug', log_namespace: 'a' }), 'no');
    assert.equal(levels.predicate({ log_level: 'info', log_namespace: 'a' }), 'maybe');
    assert.equal(levels.predicate({ log_level: 'critical', log_namespace: 'a' }), 'maybe');
  });

  test('drops events without a level, or without a namespace', () => {
    const levels = new LogLevelFilterPredicate();
    assert.equal(levels.predicate({ log_namespace: 'a' }), 'no');
    assert.equal(levels.predicate({ log_level: 'critical' }), 'no');
    assert.equal(levels.predicate({ log_level: 'critical', log_namespace: '' }), 'no');
  });

  test('a namespace inherits the level of its nearest parent that has one', () => {
    const levels = new LogLevelFilterPredicate('warn');
    levels.setLogLevelForNamespace('app', 'error');
    levels.setLogLevelForNamespace('app.http', 'debug');
    assert.equal(levels.logLevelForNamespace('app.http.client'), 'debug');
    assert.equal(levels.logLevelForNamespace('app.http'), 'debug');
    assert.equal(levels.logLevelForNamespace('app.db'), 'error');
    assert.equal(levels.logLevelForNamespace('apple'), 'warn');
    assert.equal(levels.logLevelForNamespace(undefined), 'warn');
    assert.equal(
      levels.predicate({ log_level: 'debug', log_namespace: 'app.http.client' }),
      'maybe',
    );
    assert.equal(levels.predicate({ log_level: 'warn', log_namespace: 'app.db' }), 'no');
  });

  test('the empty namespace sets the level of the rest until clearLogLevels, which goes back to the default', () => {
    const levels = new LogLevelFilterPredicate();
    levels.setLogLevelForNamespace('', 'error');
    levels.setLogLevelForNamespace('x', 'debug');
    assert.equal(levels.logLevelForNamespace('y'), 'error');
    assert.equal(levels.defaultLogLevel, 'info');
    levels.clearLogLevels();
    assert.equal(levels.logLevelForNamespace('x'), 'info');
    assert.equal(levels.logLevelForNamespace(''), 'info');
  });

  test('setting defaultLogLevel replaces the level set for the empty namespace', () => {
    const levels = new LogLevelFilterPredicate();
    levels.setLogLevelForNamespace('', 'error');
    levels.defaultLogLevel = 'warn';
    assert.equal(levels.logLevelForNamespace('y'), 'warn');
  });

  test('refuses an unknown level name for a namespace, naming it and listing the valid ones', () => {
    const levels = new LogLevelFilterPredicate();
    const typo = 'warning' as LogLevel;
    assert.throws(
      () => levels.setLogLevelForNamespace('app.http', typo),
      (error: unknown) =>
        error instanceof InvalidLogLevelError &&
        error.level === 'warning' &&
        error.message ===
          `Invalid log level for namespace 'app.http' "warning": expected one of debug, info, warn, error, critical`,
    );
    // Nothing was set: the namespace still inherits the default.
    assert.equal(levels.logLevelForNamespace('app.http'), 'info');
  });

  test('refuses an unknown default level, in the constructor and when set', () => {
    assert.throws(() => new LogLevelFilterPredicate('loud' as LogLevel), InvalidLogLevelError);
    const levels = new LogLevelFilterPredicate('warn');
    assert.throws(() => {
      levels.defaultLogLevel = 'INFO' as LogLevel;
    }, /Invalid default log level "INFO": expected one of debug, info, warn, error, critical/);
    assert.throws(() => levels.setLogLevelForNamespace('', 'x' as LogLevel), InvalidLogLevelError);
    assert.equal(levels.defaultLogLevel, 'warn');
  });

  test('logLevelWithName accepts each level name and refuses anything else', () => {
    for (const name of ['debug', 'info', 'warn', 'error', 'critical']) {
      assert.equal(logLevelWithName(name), name);
    }
    for (const bad of ['', 'Info', 'warning', 'fatal', undefined, 3]) {
      assert.throws(() => logLevelWithName(bad), InvalidLogLevelError, String(bad));
    }
  });

  test('filters a whole stream of events through FilteringLogObserver', () => {
    const out = sink();
    const levels = new LogLevelFilterPredicate('warn');
    levels.setLogLevelForNamespace('noisy', 'critical');
    const filter = new FilteringLogObserver(out.observer, [levels.predicate]);
    filter.observe({ log_level: 'info', log_namespace: 'app', id: 1 });
    filter.observe({ log_level: 'error', log_namespace: 'app', id: 2 });
    filter.observe({ log_level: 'error', log_namespace: 'noisy.thing', id: 3 });
    filter.observe({ log_level: 'critical', log_namespace: 'noisy', id: 4 });
    assert.deepEqual(
      out.events.map((e) => e.id),
      [2, 4],
    );
  });
});

describe("Twisted's test_filter.py", () => {
  type Name = 'twoMinus' | 'twoPlus' | 'notTwo' | 'no' | 'bogus';
  const filters: Record<Name, LogPredicate> = {
    twoMinus: (e) => ((e.count as number) <= 2 ? 'yes' : 'maybe'),
    twoPlus: (e) => ((e.count as number) >= 2 ? 'yes' : 'maybe'),
    notTwo: (e) => (e.count === 2 ? 'no' : 'maybe'),
    no: () => 'no',
    bogus: () => undefined as unknown as PredicateResult,
  };

  /** The counts of the events 0..3 let through, and of those dropped (Twisted: filterWith). */
  function filterWith(names: Name[]): [number[], number[]] {
    const seen = sink();
    const notSeen = sink();
    const filter = new FilteringLogObserver(
      seen.observer,
      names.map((n) => filters[n]),
      notSeen.observer,
    );
    for (const count of [0, 1, 2, 3]) filter.observe({ count });
    return [
      seen.events.map((e) => e.count as number),
      notSeen.events.map((e) => e.count as number),
    ];
  }

  test('no filters, a no, a yes, yes then no, yes yes no (test_shouldLogEvent…)', () => {
    assert.deepEqual(filterWith([]), [[0, 1, 2, 3], []]);
    assert.deepEqual(filterWith(['notTwo']), [[0, 1, 3], [2]]);
    assert.deepEqual(filterWith(['twoPlus']), [[0, 1, 2, 3], []]);
    assert.deepEqual(filterWith(['twoPlus', 'no']), [
      [2, 3],
      [0, 1],
    ]);
    assert.deepEqual(filterWith(['twoPlus', 'twoMinus', 'no']), [[0, 1, 2, 3], []]);
  });

  test('a predicate that answers something else is a TypeError (test_shouldLogEventBadPredicateResult)', () => {
    assert.throws(() => filterWith(['bogus']), {
      name: 'TypeError',
      message: /a predicate returned undefined, not 'yes', 'no' or 'maybe'/,
    });
  });

  test('yes and maybe let the event through, no does not (test_call)', () => {
    for (const [result, passes] of [
      ['yes', true],
      ['maybe', true],
      ['no', false],
    ] as const) {
      const out = sink();
      const e: LogEvent = { obj: {} };
      new FilteringLogObserver(out.observer, [() => result]).observe(e);
      assert.deepEqual(out.events, passes ? [e] : [], result);
    }
  });

  test('log_trace records the way through publishers and filters (test_trace)', () => {
    const oYes = () => undefined;
    const oNo = () => undefined;
    const yesFilter = new FilteringLogObserver(oYes, [() => 'yes']);
    const noFilter = new FilteringLogObserver(oNo, [() => 'no']);
    const event: LogEvent = { log_trace: [] };
    let traced: unknown[] = [];
    const testObserver = (e: LogEvent): void => {
      assert.equal(e, event);
      traced = [...(e.log_trace as unknown[])];
    };
    const publisher = new LogPublisher({
      observers: [yesFilter.observe, noFilter.observe, testObserver],
    });
    publisher.publish(event);
    assert.deepEqual(traced, [
      [publisher, yesFilter.observe],
      [yesFilter, oYes],
      [publisher, noFilter.observe],
      [publisher, testObserver],
    ]);
  });

  test('the default level for no namespace and any namespace (test_defaultLogLevel)', () => {
    const predicate = new LogLevelFilterPredicate();
    for (const namespace of ['', undefined, 'rocker.cool.namespace']) {
      assert.equal(predicate.logLevelForNamespace(namespace), predicate.defaultLogLevel);
    }
  });

  test('levels set and read by namespace, inherited by dotted children (test_setLogLevel)', () => {
    for (const root of ['', undefined]) {
      const predicate = new LogLevelFilterPredicate();
      predicate.setLogLevelForNamespace(root, 'error');
      predicate.setLogLevelForNamespace('twext.web2', 'debug');
      predicate.setLogLevelForNamespace('twext.web2.dav', 'warn');
      assert.equal(predicate.logLevelForNamespace(''), 'error');
      assert.equal(predicate.logLevelForNamespace(undefined), 'error');
      assert.equal(predicate.logLevelForNamespace('twisted'), 'error');
      assert.equal(predicate.logLevelForNamespace('twext.web2'), 'debug');
      assert.equal(predicate.logLevelForNamespace('twext.web2.dav'), 'warn');
      assert.equal(predicate.logLevelForNamespace('twext.web2.dav.test'), 'warn');
      assert.equal(predicate.logLevelForNamespace('twext.web2.dav.test1.test2'), 'warn');
    }
  });

  test('an invalid level is refused (test_setInvalidLogLevel)', () => {
    const predicate = new LogLevelFilterPredicate();
    assert.throws(
      () => predicate.setLogLevelForNamespace('twext.web2', {} as LogLevel),
      InvalidLogLevelError,
    );
  });

  test('clearLogLevels puts every namespace back at the default (test_clearLogLevels)', () => {
    const predicate = new LogLevelFilterPredicate();
    predicate.setLogLevelForNamespace('twext.web2', 'debug');
    predicate.setLogLevelForNamespace('twext.web2.dav', 'error');
    predicate.clearLogLevels();
    for (const ns of ['twisted', 'twext.web2', 'twext.web2.dav', 'twext.web2.dav.test']) {
      assert.equal(predicate.logLevelForNamespace(ns), predicate.defaultLogLevel);
    }
  });

  test('events are filtered by level and namespace (test_filtering)', () => {
    const predicate = new LogLevelFilterPredicate();
    predicate.setLogLevelForNamespace('', 'error');
    predicate.setLogLevelForNamespace('twext.web2', 'debug');
    predicate.setLogLevelForNamespace('twext.web2.dav', 'warn');
    const check = (
      namespace: string | undefined,
      level: LogLevel | undefined,
      expected: PredicateResult,
    ) =>
      assert.equal(
        predicate.predicate({ log_namespace: namespace, log_level: level }),
        expected,
        `${String(namespace)} ${String(level)}`,
      );
    check('', 'debug', 'no');
    check(undefined, 'debug', 'no');
    check('', 'error', 'no');
    check(undefined, 'error', 'no');
    check('twext.web2', 'debug', 'maybe');
    check('twext.web2', 'error', 'maybe');
    check('twext.web2.dav', 'debug', 'no');
    check('twext.web2.dav', 'error', 'maybe');
    check('', 'critical', 'no');
    check(undefined, 'critical', 'no');
    check('twext.web2', undefined, 'no');
  });
});
