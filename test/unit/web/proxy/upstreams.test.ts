// UpstreamSet: round-robin and least-connections, passive health (out of
// the rotation after N failures in a row, back after the cooldown, logged
// both ways), and the checks of its options.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Clock } from '../../../../src/internet/task/clock.js';
import { captureLogs } from '../../../../src/logger/capture.js';
import { UpstreamSet } from '../../../../src/web/proxy/_upstreams.js';

const A = { host: '10.0.0.1', port: 80 };
const B = { host: '10.0.0.2', port: 80 };
const C = { host: '::1', port: 8080 };

function names(set: UpstreamSet, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(set.pick()?.name ?? 'none');
  return out;
}

describe('UpstreamSet: balancing', () => {
  test('round-robin takes each in turn', () => {
    const set = new UpstreamSet([A, B, C], new Clock());
    assert.deepEqual(names(set, 4), ['10.0.0.1:80', '10.0.0.2:80', '[::1]:8080', '10.0.0.1:80']);
  });

  test('least-connections takes the one with the fewest requests in progress', () => {
    const set = new UpstreamSet([A, B], new Clock(), 'least-connections');
    const first = set.pick();
    assert.ok(first !== undefined);
    set.started(first);
    set.started(first);
    const second = set.pick();
    assert.notEqual(second, first);
    assert.ok(second !== undefined);
    set.started(second);
    assert.equal(set.pick(), second, 'still the less busy one');
    set.finished(first, 'ok');
    set.finished(first, 'ok');
    assert.equal(set.pick(), first);
  });

  test('bad options are refused with clear errors', () => {
    const clock = new Clock();
    assert.throws(() => new UpstreamSet([], clock), /at least one upstream/);
    assert.throws(() => new UpstreamSet([{ host: '', port: 1 }], clock), /needs a host/);
    assert.throws(() => new UpstreamSet([{ host: 'a', port: 70000 }], clock), /1–65535/);
    assert.throws(
      () => new UpstreamSet([A], clock, 'random' as 'round-robin'),
      /round-robin' or 'least-connections/,
    );
    assert.throws(() => new UpstreamSet([A], clock, 'round-robin', { failures: -1 }), /failures/);
    assert.throws(() => new UpstreamSet([A], clock, 'round-robin', { cooldown: -1 }), /cooldown/);
  });
});

describe('UpstreamSet: passive health', () => {
  test('N failures in a row take an upstream out for the cooldown, logged both ways', () => {
    const clock = new Clock();
    const set = new UpstreamSet([A, B], clock, 'round-robin', { failures: 2, cooldown: 10 });
    const [a, b] = set.upstreams;
    assert.ok(a !== undefined && b !== undefined);
    const logs = captureLogs();
    try {
      set.started(a);
      set.finished(a, 'failed');
      assert.deepEqual(names(set, 2), ['10.0.0.1:80', '10.0.0.2:80'], 'one failure: still in');
      set.started(a);
      set.finished(a, 'failed');
      assert.deepEqual(names(set, 3), ['10.0.0.2:80', '10.0.0.2:80', '10.0.0.2:80']);
      clock.advance(10);
      assert.ok(names(set, 2).includes('10.0.0.1:80'), 'tried again after the cooldown');
      set.started(a);
      set.finished(a, 'ok');
    } finally {
      logs.stop();
    }
    const texts = logs.events.map((e) => String(e.log_format));
    assert.ok(
      texts.some((t) => t.includes('skipped for')),
      'leaving logged',
    );
    assert.ok(
      texts.some((t) => t.includes('tried again')),
      'trial logged',
    );
    assert.ok(
      texts.some((t) => t.includes('answers again')),
      'return logged',
    );
  });

  test('a success resets the count; cancellations do not count', () => {
    const set = new UpstreamSet([A], new Clock(), 'round-robin', { failures: 2, cooldown: 10 });
    const [a] = set.upstreams;
    assert.ok(a !== undefined);
    set.finished(a, 'failed');
    set.finished(a, 'ok');
    set.finished(a, 'failed');
    set.finished(a, 'cancelled');
    assert.equal(set.pick(), a);
  });

  test('with every upstream out, none is picked, and the wait is known', () => {
    const clock = new Clock();
    const set = new UpstreamSet([A], clock, 'round-robin', { failures: 1, cooldown: 5 });
    const [a] = set.upstreams;
    assert.ok(a !== undefined);
    set.finished(a, 'failed');
    assert.equal(set.pick(), undefined);
    clock.advance(2);
    assert.equal(set.nextReturn(), 3);
    clock.advance(3);
    assert.equal(set.pick(), a);
    set.finished(a, 'failed');
    assert.equal(set.pick(), undefined, 'a failed trial takes it out again at once');
  });

  test('failures: 0 never takes an upstream out', () => {
    const set = new UpstreamSet([A], new Clock(), 'round-robin', { failures: 0 });
    const [a] = set.upstreams;
    assert.ok(a !== undefined);
    for (let i = 0; i < 10; i++) set.finished(a, 'failed');
    assert.equal(set.pick(), a);
  });
});
