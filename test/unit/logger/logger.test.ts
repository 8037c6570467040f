// Logger: the events it emits and where it sends them
// (Twisted: twisted/logger/test/test_logger.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Failure } from 'torsion/defer';
import {
  captureLogs,
  formatEvent,
  type ILogObserver,
  type LogEvent,
  Logger,
  type LogLevel,
} from 'torsion/logger';

/** A Logger writing to a list instead of the global publisher. */
function listLogger(namespace?: string, source?: unknown): { log: Logger; events: LogEvent[] } {
  const events: LogEvent[] = [];
  const observer: ILogObserver = (event) => {
    events.push(event);
  };
  return { log: new Logger(namespace, { source, observer }), events };
}

function only(events: LogEvent[]): LogEvent {
  assert.equal(events.length, 1);
  return events[0] as LogEvent;
}

describe('Logger construction', () => {
  test('has the namespace given, torsion by default, and no source by default', () => {
    assert.equal(new Logger('app.db').namespace, 'app.db');
    const plain = new Logger();
    assert.equal(plain.namespace, 'torsion');
    assert.equal(plain.source, undefined);
  });

  test('keeps the source given in the options', () => {
    const source = { name: 'conn-1' };
    assert.equal(new Logger('n', { source }).source, source);
  });
});

describe('Logger.emit', () => {
  test('emits one event with the level, namespace, source, format, logger and time', () => {
    const source = { name: 'conn-1' };
    const { log, events } = listLogger('app.net', source);
    const before = Date.now() / 1000;
    log.emit('warn', 'slow {what}', { what: 'peer' });
    const after = Date.now() / 1000;
    const event = only(events);
    assert.equal(event.log_level, 'warn');
    assert.equal(event.log_namespace, 'app.net');
    assert.equal(event.log_source, source);
    assert.equal(event.log_format, 'slow {what}');
    assert.equal(event.log_logger, log);
    assert.equal(typeof event.log_time, 'number');
    assert.ok(before <= (event.log_time as number) && (event.log_time as number) <= after);
    assert.equal(event.what, 'peer');
  });

  test('adds the extra fields, so the format can use them', () => {
    const { log, events } = listLogger();
    log.emit('info', '{count} items from {origin.host}', { count: 3, origin: { host: 'h' } });
    assert.equal(formatEvent(only(events)), '3 items from h');
  });

  test('makes the source available to the format', () => {
    const { log, events } = listLogger('n', { name: 'conn-7' });
    log.emit('info', 'from {log_source.name}');
    assert.equal(formatEvent(only(events)), 'from conn-7');
  });

  test('lets its own fields win over extra fields of the same name', () => {
    const { log, events } = listLogger('real');
    log.emit('error', 'x', { log_level: 'debug', log_namespace: 'fake', log_format: 'y' });
    const event = only(events);
    assert.equal(event.log_level, 'error');
    assert.equal(event.log_namespace, 'real');
    assert.equal(event.log_format, 'x');
  });

  test('emits an event without a format when none is given', () => {
    const { log, events } = listLogger();
    log.emit('info');
    const event = only(events);
    assert.equal(event.log_format, undefined);
    assert.equal(formatEvent(event), '');
  });

  test('makes a new event each time, not sharing the fields object', () => {
    const { log, events } = listLogger();
    const fields = { n: 1 };
    log.emit('info', '{n}', fields);
    log.emit('info', '{n}', fields);
    assert.notEqual(events[0], events[1]);
    assert.notEqual(events[0], fields);
    assert.deepEqual(fields, { n: 1 });
  });
});

describe('Logger level methods', () => {
  test('debug, info, warn, error and critical emit at their level', () => {
    const { log, events } = listLogger();
    log.debug('d', { k: 1 });
    log.info('i');
    log.warn('w');
    log.error('e');
    log.critical('c');
    assert.deepEqual(
      events.map((event) => [event.log_level, event.log_format]),
      [
        ['debug', 'd'],
        ['info', 'i'],
        ['warn', 'w'],
        ['error', 'e'],
        ['critical', 'c'],
      ],
    );
    assert.equal(events[0]?.k, 1);
  });
});

describe('Logger.failure', () => {
  test('wraps a thrown value in a Failure, at level critical by default', () => {
    const { log, events } = listLogger();
    const error = new RangeError('bad range');
    log.failure('while {doing}', error, { doing: 'parsing' });
    const event = only(events);
    assert.equal(event.log_level, 'critical');
    assert.ok(event.log_failure instanceof Failure);
    assert.equal(event.log_failure.value, error);
    assert.equal(formatEvent(event), 'while parsing');
  });

  test('passes a Failure through as it is', () => {
    const { log, events } = listLogger();
    const failure = new Failure(new Error('already wrapped'));
    log.failure('oops', failure);
    assert.equal(only(events).log_failure, failure);
  });

  test('wraps values that are not Errors too', () => {
    const { log, events } = listLogger();
    log.failure('oops', 'a thrown string');
    assert.equal(only(events).log_failure?.value, 'a thrown string');
  });

  test('takes its level from the level option, which is not itself a field', () => {
    const levels: LogLevel[] = ['debug', 'info', 'warn', 'error', 'critical'];
    for (const level of levels) {
      const { log, events } = listLogger();
      log.failure('x', new Error('e'), { level, extra: true });
      const event = only(events);
      assert.equal(event.log_level, level);
      assert.equal(Object.hasOwn(event, 'level'), false);
      assert.equal(event.extra, true);
    }
  });
});

describe('Logger destinations', () => {
  test('writes to the global publisher when no observer is given', () => {
    const logs = captureLogs();
    try {
      new Logger('logger.test.global').info('to everyone');
    } finally {
      logs.stop();
    }
    assert.deepEqual(
      logs.events.map((event) => [event.log_namespace, event.log_format]),
      [['logger.test.global', 'to everyone']],
    );
  });

  test('a Logger with its own observer does not publish globally', () => {
    const logs = captureLogs();
    const { log, events } = listLogger('private');
    try {
      log.critical('only for my observer');
      log.failure('nor this', new Error('e'));
    } finally {
      logs.stop();
    }
    assert.equal(events.length, 2);
    assert.deepEqual(logs.events, []);
  });
});
