// captureLogs: collecting the events published while a test runs
// (Twisted: twisted/logger/test/test_capture.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  captureLogs,
  globalLogPublisher,
  type LogEvent,
  Logger,
  LogPublisher,
} from 'torsion/logger';

describe('captureLogs', () => {
  test('collects every event published, in order, in a live array', () => {
    const publisher = new LogPublisher();
    const logs = captureLogs(publisher);
    const events = logs.events;
    const e1: LogEvent = { log_format: 'one' };
    const e2: LogEvent = { log_format: 'two' };
    publisher.publish(e1);
    publisher.publish(e2);
    logs.stop();
    assert.equal(logs.events, events);
    assert.deepEqual(logs.events, [e1, e2]);
    assert.equal(logs.events[0], e1);
  });

  test('stop() detaches the capture: later events are not collected', () => {
    const publisher = new LogPublisher();
    const logs = captureLogs(publisher);
    publisher.publish({ log_format: 'kept' });
    logs.stop();
    publisher.publish({ log_format: 'missed' });
    assert.deepEqual(
      logs.events.map((event) => event.log_format),
      ['kept'],
    );
    assert.deepEqual(publisher.observers, []);
  });

  test('stopping twice is harmless and leaves other observers attached', () => {
    const publisher = new LogPublisher();
    const other = captureLogs(publisher);
    const logs = captureLogs(publisher);
    logs.stop();
    assert.doesNotThrow(() => logs.stop());
    publisher.publish({ log_format: 'still heard' });
    other.stop();
    assert.equal(other.events.length, 1);
    assert.equal(logs.events.length, 0);
  });

  test('two captures on one publisher each collect the events', () => {
    const publisher = new LogPublisher();
    const first = captureLogs(publisher);
    const second = captureLogs(publisher);
    const event: LogEvent = { log_format: 'shared' };
    publisher.publish(event);
    first.stop();
    second.stop();
    assert.deepEqual(first.events, [event]);
    assert.deepEqual(second.events, [event]);
  });

  test('silences the publisher’s fallback while attached, and only then', () => {
    const fallbackSeen: LogEvent[] = [];
    const publisher = new LogPublisher({ fallback: (event) => fallbackSeen.push(event) });
    const logs = captureLogs(publisher);
    publisher.publish({ log_format: 'captured' });
    logs.stop();
    publisher.publish({ log_format: 'fallen back' });
    assert.deepEqual(
      fallbackSeen.map((event) => event.log_format),
      ['fallen back'],
    );
  });

  test('captures the global publisher by default, where Loggers write', () => {
    const attached = globalLogPublisher.observers.length;
    const logs = captureLogs();
    try {
      new Logger('capture.test').warn('seen {n}', { n: 1 });
    } finally {
      logs.stop();
    }
    assert.equal(logs.events.length, 1);
    assert.equal(logs.events[0]?.log_namespace, 'capture.test');
    assert.equal(logs.events[0]?.n, 1);
    assert.equal(globalLogPublisher.observers.length, attached);
  });
});
