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
  logLevelWithName,
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

  test('drops events without a level', () => {
    assert.equal(new LogLevelFilterPredicate().predicate({ log_namespace: 'a' }), 'no');
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

  test('the empty namespace sets the default, and clearLogLevels keeps only the default', () => {
    const levels = new LogLevelFilterPredicate();
    levels.setLogLevelForNamespace('', 'error');
    levels.setLogLevelForNamespace('x', 'debug');
    assert.equal(levels.defaultLogLevel, 'error');
    levels.clearLogLevels();
    assert.equal(levels.logLevelForNamespace('x'), 'error');
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
