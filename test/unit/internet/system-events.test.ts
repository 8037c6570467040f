// System event triggers: three phases, before-phase Deferreds, removal
// (ported from Twisted's twisted/test/test_internet.py SystemEventTests).
// Custom events fire synchronously, so these need no running loop.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { NodeReactor, type SystemEventTriggerID } from 'torsion/reactor';

describe('system event triggers', () => {
  for (const phase of ['before', 'during', 'after'] as const) {
    test(`a ${phase} trigger runs when its event fires, with its arguments, once`, () => {
      const reactor = new NodeReactor();
      const events: Array<[string, number]> = [];
      reactor.addSystemEventTrigger(
        phase,
        'test',
        (tag: string, n: number) => events.push([tag, n]),
        'fired',
        7,
      );
      assert.deepEqual(events, []);
      reactor.fireSystemEvent('test');
      assert.deepEqual(events, [['fired', 7]]);
      reactor.fireSystemEvent('test');
      assert.equal(events.length, 1);
    });
  }

  test('an unknown phase is a RangeError and adds nothing', () => {
    const reactor = new NodeReactor();
    assert.throws(
      () => reactor.addSystemEventTrigger('xxx' as 'before', 'test', () => undefined),
      RangeError,
    );
    reactor.fireSystemEvent('test');
  });

  test('a trigger that is not a function is a TypeError', () => {
    const reactor = new NodeReactor();
    assert.throws(
      () => reactor.addSystemEventTrigger('before', 'test', 42 as unknown as () => void),
      TypeError,
    );
  });

  test('before triggers run before during triggers, which run before after triggers', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger('after', 'test', () => events.push('after'));
    reactor.addSystemEventTrigger('during', 'test', () => events.push('during'));
    reactor.addSystemEventTrigger('before', 'test', () => events.push('before'));
    reactor.fireSystemEvent('test');
    assert.deepEqual(events, ['before', 'during', 'after']);
  });

  test('triggers of one phase run in the order they were added', () => {
    const reactor = new NodeReactor();
    const events: number[] = [];
    for (let i = 0; i < 5; i++)
      reactor.addSystemEventTrigger('during', 'test', () => events.push(i));
    reactor.fireSystemEvent('test');
    assert.deepEqual(events, [0, 1, 2, 3, 4]);
  });

  test('the during phase waits for a Deferred returned by a before trigger', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    const d = new Deferred<void>();
    reactor.addSystemEventTrigger('before', 'test', () => d);
    reactor.addSystemEventTrigger('during', 'test', () => events.push('during'));
    reactor.fireSystemEvent('test');
    assert.deepEqual(events, []);
    d.callback(undefined);
    assert.deepEqual(events, ['during']);
  });

  test('the during phase waits for every Deferred returned by before triggers', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    reactor.addSystemEventTrigger('before', 'test', () => first);
    reactor.addSystemEventTrigger('before', 'test', () => second);
    reactor.addSystemEventTrigger('during', 'test', () => events.push('during'));
    reactor.fireSystemEvent('test');
    first.callback(undefined);
    assert.deepEqual(events, []);
    second.callback(undefined);
    assert.deepEqual(events, ['during']);
  });

  test('a before trigger that fires an earlier trigger’s Deferred does not skip the later ones', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    reactor.addSystemEventTrigger('before', 'test', () => first);
    reactor.addSystemEventTrigger('before', 'test', () => first.callback(undefined));
    reactor.addSystemEventTrigger('before', 'test', () => {
      events.push('before');
      return second;
    });
    reactor.addSystemEventTrigger('during', 'test', () => events.push('during'));
    reactor.fireSystemEvent('test');
    assert.deepEqual(events, ['before']);
    second.callback(undefined);
    assert.deepEqual(events, ['before', 'during']);
  });

  test('a failed before-trigger Deferred is logged and the event still proceeds', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    const logs = captureLogs();
    try {
      const d = new Deferred<void>();
      reactor.addSystemEventTrigger('before', 'test', () => d);
      reactor.addSystemEventTrigger('during', 'test', () => events.push('during'));
      reactor.fireSystemEvent('test');
      d.errback(new Error('cleanup failed'));
    } finally {
      logs.stop();
    }
    assert.deepEqual(events, ['during']);
    assert.equal(logs.events.length, 1);
    assert.equal(logs.events[0]?.log_failure?.getErrorMessage(), 'cleanup failed');
  });

  test('a removed trigger is not called', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger('before', 'test', () => events.push('first'));
    reactor.removeSystemEventTrigger(
      reactor.addSystemEventTrigger('before', 'test', () => events.push('second')),
    );
    reactor.fireSystemEvent('test');
    assert.deepEqual(events, ['first']);
  });

  test('removing a trigger twice, or one never added, throws', () => {
    const reactor = new NodeReactor();
    const id = reactor.addSystemEventTrigger('during', 'test', () => undefined);
    reactor.removeSystemEventTrigger(id);
    assert.throws(() => reactor.removeSystemEventTrigger(id), /no such during-test trigger/);
    const forged: SystemEventTriggerID = { eventType: 'test', phase: 'during' };
    assert.throws(() => reactor.removeSystemEventTrigger(forged), /no such during-test trigger/);
    assert.throws(
      () => reactor.removeSystemEventTrigger({ eventType: 'unknown', phase: 'before' }),
      Error,
    );
  });

  test('waiting on one event does not hold up another', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    const firstDeferred = new Deferred<void>();
    const secondDeferred = new Deferred<void>();
    reactor.addSystemEventTrigger('before', 'first', () => {
      events.push('before first');
      return firstDeferred;
    });
    reactor.addSystemEventTrigger('after', 'first', () => events.push('after first'));
    reactor.addSystemEventTrigger('before', 'second', () => {
      events.push('before second');
      return secondDeferred;
    });
    reactor.addSystemEventTrigger('after', 'second', () => events.push('after second'));
    reactor.fireSystemEvent('first');
    reactor.fireSystemEvent('second');
    assert.deepEqual(events, ['before first', 'before second']);
    firstDeferred.callback(undefined);
    assert.deepEqual(events, ['before first', 'before second', 'after first']);
    secondDeferred.callback(undefined);
    assert.deepEqual(events, ['before first', 'before second', 'after first', 'after second']);
  });

  test('a trigger added to a later phase while an event fires runs in the same firing', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger('during', 'test', () => {
      events.push('during');
      reactor.addSystemEventTrigger('after', 'test', () => events.push('added after'));
    });
    reactor.fireSystemEvent('test');
    assert.deepEqual(events, ['during', 'added after']);
  });

  test('firing an event with no triggers does nothing', () => {
    assert.doesNotThrow(() => new NodeReactor().fireSystemEvent('nothing here'));
  });
});
