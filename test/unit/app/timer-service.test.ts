// TimerService (ported from Twisted's
// src/twisted/application/test/test_internet.py TimerServiceTests, on a Clock).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimerService } from 'torsion/app';
import { Deferred, type Failure } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { Clock } from 'torsion/task';
import { assertNoResult, successResultOf } from 'torsion/testing';

describe('TimerService', () => {
  test('starting calls the function at once, with its arguments, then every step', () => {
    const clock = new Clock();
    const calls: [number, string][] = [];
    const timer = new TimerService(clock, 2, (n: number, s: string) => calls.push([n, s]), 1, 'x');
    timer.startService();
    assert.equal(timer.running, true);
    assert.deepEqual(calls, [[1, 'x']]);
    clock.advance(2);
    assert.equal(calls.length, 2);
    successResultOf(timer.stopService() ?? new Deferred<void>());
    clock.advance(10);
    assert.equal(calls.length, 2);
    assert.equal(timer.running, false);
  });

  test('stopService waits for a pending call to finish', () => {
    const clock = new Clock();
    const pending = new Deferred<void>();
    const timer = new TimerService(clock, 1, () => pending);
    timer.startService();
    const stopped = timer.stopService();
    assert.ok(stopped !== undefined);
    assertNoResult(stopped);
    assert.equal(timer.running, true);
    pending.callback(undefined);
    successResultOf(stopped);
    assert.equal(timer.running, false);
  });

  test('stopService fires at once when no call is pending', () => {
    const timer = new TimerService(new Clock(), 1, () => undefined);
    timer.startService();
    const stopped = timer.stopService();
    assert.ok(stopped !== undefined);
    successResultOf(stopped);
  });

  test('a failing call is logged and ends the loop; stopping still works', () => {
    const logs = captureLogs();
    try {
      const clock = new Clock();
      let calls = 0;
      const timer = new TimerService(clock, 1, () => {
        calls += 1;
        throw new Error('tick broke');
      });
      timer.startService();
      clock.advance(5);
      assert.equal(calls, 1);
      const logged = logs.events.filter((e) => e.log_failure !== undefined);
      assert.equal(logged.length, 1);
      const failure = logged[0]?.log_failure as Failure | undefined;
      assert.match(String(failure?.value), /tick broke/);
      const stopped = timer.stopService();
      assert.ok(stopped !== undefined);
      successResultOf(stopped);
      assert.equal(timer.running, false);
    } finally {
      logs.stop();
    }
  });

  test('it can be started again after a stop', () => {
    const clock = new Clock();
    let calls = 0;
    const timer = new TimerService(clock, 1, () => {
      calls += 1;
    });
    timer.startService();
    timer.stopService();
    timer.startService();
    assert.equal(calls, 2);
    clock.advance(1);
    assert.equal(calls, 3);
    timer.stopService();
  });

  test('a negative step is refused with a clear error', () => {
    assert.throws(() => new TimerService(new Clock(), -1, () => undefined), /step must be >= 0/);
  });
});
