// deferLater (ported from Twisted's twisted/test/test_task.py DeferLaterTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred } from 'torsion/defer';
import { Clock, deferLater } from 'torsion/task';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class TestException extends Error {
  override name = 'TestException';
}

describe('deferLater', () => {
  test('calls the function with its arguments after the delay and fires with its result', () => {
    const calls: Array<[string, string]> = [];
    const flag = { flag: true };
    const clock = new Clock();
    const d = deferLater(
      clock,
      3,
      (foo: string, bar: string) => {
        calls.push([foo, bar]);
        return flag;
      },
      'foo',
      'bar',
    );
    clock.advance(2);
    assert.deepEqual(calls, []);
    assertNoResult(d);
    clock.advance(1);
    assert.deepEqual(calls, [['foo', 'bar']]);
    assert.equal(successResultOf(d), flag);
  });

  test('fails with what the function throws', () => {
    const clock = new Clock();
    const d = deferLater(clock, 1, () => {
      throw new TestException();
    });
    clock.advance(1);
    failureResultOf(d, TestException);
  });

  test('cancelling it cancels the delayed call and fails with CancelledError', () => {
    const called: unknown[] = [];
    const clock = new Clock();
    const d = deferLater(clock, 1, (x: null) => called.push(x), null);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.deepEqual(clock.getDelayedCalls(), []);
    clock.advance(1);
    assert.deepEqual(called, []);
  });

  test('fires with undefined when no function is given', () => {
    const clock = new Clock();
    const d = deferLater(clock, 2.0);
    assertNoResult(d);
    clock.advance(2.0);
    assert.equal(successResultOf(d), undefined);
  });

  test('waits for a Deferred returned by the function', () => {
    const clock = new Clock();
    const inner = new Deferred<string>();
    const d = deferLater(clock, 1, () => inner);
    clock.advance(1);
    assertNoResult(d);
    inner.callback('later');
    assert.equal(successResultOf(d), 'later');
  });

  test('cancelling it while a returned Deferred is pending cancels that Deferred', () => {
    const clock = new Clock();
    let innerCancelled = false;
    const inner = new Deferred<string>(() => {
      innerCancelled = true;
    });
    const d = deferLater(clock, 1, () => inner);
    clock.advance(1);
    d.cancel();
    assert.equal(innerCancelled, true);
    failureResultOf(d, CancelledError);
  });

  test('waits for a promise returned by the function', async () => {
    const clock = new Clock();
    const d = deferLater(clock, 1, async (n: number) => n * 2, 21);
    clock.advance(1);
    assert.equal(await d, 42);
  });

  test('rejects a negative delay with a RangeError and schedules nothing', () => {
    const clock = new Clock();
    assert.throws(() => deferLater(clock, -1), RangeError);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});
