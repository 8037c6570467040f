// LoopingCall (ported from Twisted's twisted/test/test_task.py LoopTests and
// ReactorLoopTests, the latter on a Clock instead of the real reactor).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred, type Failure, fail } from 'torsion/defer';
import { Clock, LoopingCall } from 'torsion/task';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class TestException extends Error {
  override name = 'TestException';
}

describe('LoopingCall constructor', () => {
  test('throws a TypeError naming the clock when the function comes first', () => {
    const noClock = LoopingCall as unknown as new (f: () => void) => LoopingCall;
    assert.throws(() => new noClock(() => undefined), {
      name: 'TypeError',
      message:
        /^LoopingCall needs a clock \(IReactorTime\) as its first argument.*got the function/,
    });
  });

  test('throws a TypeError when the clock is undefined, rather than using real time', () => {
    const noClock = undefined as unknown as Clock;
    assert.throws(() => new LoopingCall(noClock, () => undefined), {
      name: 'TypeError',
      message: /LoopingCall needs a clock.*got undefined/,
    });
  });

  test('takes the clock as its first argument, before the function', () => {
    const clock = new Clock();
    const seen: Array<[string, number]> = [];
    const loop = new LoopingCall(clock, (a: string, b: number) => seen.push([a, b]), 'x', 2);
    assert.equal(loop.clock, clock);
    loop.start(1);
    loop.stop();
    assert.deepEqual(seen, [['x', 2]]);
  });

  test('lets the clock be replaced before start, as Twisted callers do', () => {
    const first = new Clock();
    const clock = new Clock();
    const times: number[] = [];
    const loop = new LoopingCall(first, () => times.push(clock.seconds()));
    loop.clock = clock;
    loop.start(1);
    clock.advance(1);
    loop.stop();
    assert.deepEqual(times, [0, 1]);
    assert.deepEqual(clock.getDelayedCalls(), []);
    assert.equal(first.seconds(), 0);
    assert.deepEqual(first.getDelayedCalls(), []);
  });

  test('rejects something that is not a function with a TypeError', () => {
    const clock = new Clock();
    assert.throws(
      () => new LoopingCall(clock, 'not a function' as unknown as () => void),
      TypeError,
    );
  });
});

describe('LoopingCall.start', () => {
  test('calls the function at once and then every interval, with its arguments', () => {
    const clock = new Clock();
    const calls: Array<[string, string]> = [];
    const loop = new LoopingCall(clock, (a: string, b: string) => calls.push([a, b]), 'a', 'b');
    const d = loop.start(0.1);
    const results: unknown[] = [];
    d.addCallback((result) => results.push(result));
    clock.pump([0.05, 0.1, 0.1]);
    assert.deepEqual(calls, [
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
    loop.stop();
    assert.equal(results[0], loop);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('waits one interval before the first call when now is false', () => {
    const clock = new Clock();
    const calls: unknown[] = [];
    const loop = new LoopingCall(clock, (x: null) => calls.push(x), null);
    const d = loop.start(0.1, false);
    clock.pump([0.05, 0.1, 0.1]);
    assert.equal(calls.length, 2);
    loop.stop();
    assert.equal(successResultOf(d), loop);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('accepts { now: false } as an options object', () => {
    const clock = new Clock();
    const times: number[] = [];
    const loop = new LoopingCall(clock, () => times.push(clock.seconds()));
    loop.start(2, { now: false });
    assert.deepEqual(times, []);
    clock.advance(2);
    loop.stop();
    assert.deepEqual(times, [2]);
  });

  test('records the interval and the start time, and is running until stopped', () => {
    const clock = new Clock(5);
    const loop = new LoopingCall(clock, () => undefined);
    assert.equal(loop.running, false);
    assert.equal(loop.interval, undefined);
    assert.equal(loop.starttime, undefined);
    loop.start(1.5);
    assert.equal(loop.running, true);
    assert.equal(loop.interval, 1.5);
    assert.equal(loop.starttime, 5);
    assert.equal(loop.call?.getTime(), 6.5);
    loop.stop();
    assert.equal(loop.running, false);
    assert.equal(loop.call, null);
  });

  test('rejects a negative interval with a RangeError', () => {
    const loop = new LoopingCall(new Clock(), () => undefined);
    assert.throws(() => loop.start(-1), RangeError);
    assert.throws(() => loop.start(Number.NaN), RangeError);
    assert.equal(loop.running, false);
  });

  test('throws an Error when the loop is already running', () => {
    const clock = new Clock();
    const loop = new LoopingCall(clock, () => undefined);
    loop.start(1);
    assert.throws(() => loop.start(1), /already running/);
    loop.stop();
  });

  test('can start again after the loop was stopped', () => {
    const clock = new Clock();
    const times: number[] = [];
    const loop = new LoopingCall(clock, () => times.push(clock.seconds()));
    const first = loop.start(1);
    loop.stop();
    clock.advance(10);
    const second = loop.start(1);
    clock.advance(1);
    loop.stop();
    assert.equal(successResultOf(first), loop);
    assert.equal(successResultOf(second), loop);
    assert.deepEqual(times, [0, 10, 11]);
  });

  test('with interval 0 calls the function again on every turn of the clock', () => {
    const clock = new Clock();
    let ran = 0;
    const loop = new LoopingCall(clock, () => {
      ran++;
      if (ran > 5) loop.stop();
    });
    const d = loop.start(0);
    clock.advance(0);
    assert.equal(successResultOf(d), loop);
    assert.equal(ran, 6);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});

describe('LoopingCall scheduling', () => {
  test('skips the slots that passed while the function itself ran long', () => {
    const times: number[] = [];
    const clock = new Clock();
    let callDuration = 2;
    const loop = new LoopingCall(clock, () => {
      times.push(clock.seconds());
      clock.advance(callDuration);
    });
    loop.start(0.5);
    assert.deepEqual(times, [0]);
    assert.equal(clock.seconds(), 2);

    // The slot at 2 is the present, not the future: skipped.
    clock.advance(0);
    assert.deepEqual(times, [0]);

    callDuration = 1;
    clock.advance(0.5);
    assert.deepEqual(times, [0, 2.5]);
    assert.equal(clock.seconds(), 3.5);

    clock.advance(0);
    assert.deepEqual(times, [0, 2.5]);

    callDuration = 0;
    clock.advance(0.5);
    assert.deepEqual(times, [0, 2.5, 4]);
    assert.equal(clock.seconds(), 4);
    loop.stop();
  });

  test('skips the slots that passed while the clock did not run the loop', () => {
    const times: number[] = [];
    const clock = new Clock();
    const loop = new LoopingCall(clock, () => times.push(clock.seconds()));
    loop.start(0.5);
    assert.deepEqual(times, [0]);
    clock.advance(2);
    assert.deepEqual(times, [0, 2]);
    clock.advance(1);
    assert.deepEqual(times, [0, 2, 3]);
    clock.advance(0);
    assert.deepEqual(times, [0, 2, 3]);
    loop.stop();
  });

  test('does not schedule the next call before a Deferred returned by the function fires', () => {
    const clock = new Clock();
    const loop = new LoopingCall(clock, () => {
      const d = new Deferred<void>();
      d.addCallback(() => loop.stop());
      clock.callLater(1, () => d.callback());
      return d;
    });
    const done = loop.start(0.2);
    clock.pump([0.2, 0.8]);
    assert.equal(successResultOf(done), loop);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('does not schedule the next call before a promise returned by the function settles', async () => {
    const clock = new Clock();
    let calls = 0;
    let release: () => void = () => undefined;
    const loop = new LoopingCall(clock, () => {
      calls++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    loop.start(1);
    clock.advance(5);
    assert.equal(calls, 1);
    assert.deepEqual(clock.getDelayedCalls(), []);
    release();
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(loop.call?.getTime(), 6);
    clock.advance(1);
    assert.equal(calls, 2);
    loop.stop();
    release();
  });

  test('takes a new interval into account from the next scheduling, aligned to the start', () => {
    const clock = new Clock();
    const times: number[] = [];
    const loop = new LoopingCall(clock, () => times.push(clock.seconds()));
    loop.start(1);
    loop.interval = 3;
    clock.pump([1, 1, 1, 1, 1, 1]);
    loop.stop();
    assert.deepEqual(times, [0, 1, 3, 6]);
  });
});

describe('LoopingCall.stop', () => {
  for (const interval of [0, 10]) {
    test(`prevents any call when called right after start(${interval}, false)`, () => {
      let ran = 0;
      const clock = new Clock();
      const loop = new LoopingCall(clock, () => {
        ran++;
      });
      loop.start(interval, false);
      loop.stop();
      assert.equal(ran, 0);
      assert.deepEqual(clock.getDelayedCalls(), []);
    });
  }

  test('prevents further calls even when called from another timed call', () => {
    const clock = new Clock();
    let ran = 0;
    const loop = new LoopingCall(clock, () => {
      ran++;
    });
    const d = loop.start(1, false);
    clock.callLater(0, () => loop.stop());
    clock.advance(0);
    clock.advance(5);
    assert.equal(ran, 0);
    assert.equal(successResultOf(d), loop);
  });

  test('throws an Error when the loop is not running', () => {
    const loop = new LoopingCall(new Clock(), () => undefined);
    assert.throws(() => loop.stop(), /not running/);
  });

  test('called by the function itself fires the loop Deferred once the function returns', () => {
    const clock = new Clock();
    const firedInside: boolean[] = [];
    let d: Deferred<LoopingCall<[]>> | undefined;
    const loop = new LoopingCall(clock, () => {
      loop.stop();
      firedInside.push(d?.called ?? false);
    });
    d = loop.start(1);
    assert.deepEqual(firedInside, [false]);
    assert.equal(successResultOf(d), loop);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('while a returned Deferred is pending fires the loop Deferred when it fires', () => {
    const clock = new Clock();
    const pending = new Deferred<void>();
    const loop = new LoopingCall(clock, () => pending);
    const d = loop.start(1);
    loop.stop();
    assertNoResult(d);
    pending.callback();
    assert.equal(successResultOf(d), loop);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});

describe('LoopingCall.reset', () => {
  test('skips the next call and counts the interval again from now', () => {
    let ran = 0;
    const clock = new Clock();
    const loop = new LoopingCall(clock, () => {
      ran++;
    });
    loop.start(2, false);
    clock.advance(1);
    loop.reset();
    clock.advance(1);
    assert.equal(ran, 0);
    clock.advance(1);
    assert.equal(ran, 1);
    assert.equal(loop.starttime, 1);
    loop.stop();
  });

  test('throws an Error when the loop is not running', () => {
    const loop = new LoopingCall(new Clock(), () => undefined);
    assert.throws(() => loop.reset(), /not running/);
  });
});

describe('LoopingCall failures', () => {
  test('fails the loop Deferred with what the function throws, and stops running', () => {
    const clock = new Clock();
    const loop = new LoopingCall(
      clock,
      (x: string) => {
        throw new TestException(x);
      },
      'bar',
    );
    const failure = failureResultOf(loop.start(0.1), TestException);
    assert.equal((failure.value as Error).message, 'bar');
    assert.equal(loop.running, false);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('fails the loop Deferred when the function stops the loop and then throws', () => {
    const clock = new Clock();
    const loop = new LoopingCall(
      clock,
      (x: string) => {
        loop.stop();
        throw new TestException(x);
      },
      'bar',
    );
    failureResultOf(loop.start(0.1), TestException);
    assert.equal(loop.running, false);
  });

  test('fails the loop Deferred when a Deferred returned by the function fails', () => {
    const clock = new Clock();
    const loop = new LoopingCall(clock, () => {
      const d = new Deferred<void>();
      clock.callLater(0.3, () => d.errback(new TestException()));
      return d;
    });
    const done = loop.start(1);
    assertNoResult(done);
    clock.pump([0.3]);
    failureResultOf(done, TestException);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('fails the loop Deferred when the function returns a failed Deferred on a later call', () => {
    const clock = new Clock();
    let calls = 0;
    const loop = new LoopingCall(clock, () => {
      calls++;
      return calls === 3 ? fail(new TestException('third')) : undefined;
    });
    const done = loop.start(1);
    clock.pump([1, 1]);
    failureResultOf(done, TestException);
    assert.equal(calls, 3);
    assert.equal(loop.running, false);
  });
});

describe('LoopingCall cancellation', () => {
  test('cancelling the loop Deferred stops the loop and fails it with CancelledError', () => {
    const clock = new Clock();
    let ran = 0;
    const loop = new LoopingCall(clock, () => {
      ran++;
    });
    const d = loop.start(1);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(loop.running, false);
    assert.deepEqual(clock.getDelayedCalls(), []);
    clock.advance(5);
    assert.equal(ran, 1);
  });

  test('cancelling the loop Deferred cancels a pending Deferred returned by the function', () => {
    const clock = new Clock();
    let pendingCancelled = false;
    const pending = new Deferred<void>(() => {
      pendingCancelled = true;
    });
    const loop = new LoopingCall(clock, () => pending);
    const d = loop.start(1);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(pendingCancelled, true);
    assert.equal(loop.running, false);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});

describe('LoopingCall.withCount', () => {
  const INTERVAL = 0.5;
  const REALISTIC_DELAY = 0.01;

  test('passes the number of intervals that went by since the last call', () => {
    const times: Array<[number, number]> = [];
    const clock = new Clock();
    const loop = LoopingCall.withCount((count) => times.push([clock.seconds(), count]), clock);
    loop.start(INTERVAL);
    assert.deepEqual(times, [[0, 1]]);

    clock.advance(INTERVAL + REALISTIC_DELAY);
    assert.deepEqual(times, [
      [0, 1],
      [INTERVAL + REALISTIC_DELAY, 1],
    ]);

    // Three intervals later, two calls were skipped: the count is 3.
    clock.advance(3 * INTERVAL + REALISTIC_DELAY);
    const expected: Array<[number, number]> = [
      [0, 1],
      [INTERVAL + REALISTIC_DELAY, 1],
      [4 * INTERVAL + 2 * REALISTIC_DELAY, 3],
    ];
    assert.deepEqual(times, expected);

    clock.advance(0);
    assert.deepEqual(times, expected);
    loop.stop();
  });

  test('counts only the slots expected, not the time elapsed between calls', () => {
    const times: Array<[number, number]> = [];
    const clock = new Clock();
    const loop = LoopingCall.withCount((count) => times.push([clock.seconds(), count]), clock);
    loop.start(INTERVAL);
    assert.deepEqual(times.pop(), [0, 1]);

    clock.advance(INTERVAL + REALISTIC_DELAY);
    assert.deepEqual(times.pop(), [INTERVAL + REALISTIC_DELAY, 1]);

    // Delayed by 1.75 intervals: still one slot, not two.
    clock.advance(INTERVAL * 1.75);
    assert.deepEqual(times.pop(), [2.75 * INTERVAL + REALISTIC_DELAY, 1]);

    clock.advance(INTERVAL * 0.25);
    assert.deepEqual(times.pop(), [3.0 * INTERVAL + REALISTIC_DELAY, 1]);
    loop.stop();
  });

  test('never passes 0 and its counts add up to the intervals elapsed, despite float error', () => {
    const clock = new Clock();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((count) => counts.push(count), clock);
    const count = 10;
    const timespan = 1.0;
    const interval = timespan / count;
    loop.start(interval, false);
    for (let i = 0; i < count; i++) clock.advance(interval);
    let sum = 0;
    for (let i = 0; i < count; i++) sum += interval;
    const epsilon = timespan - sum;
    clock.advance(epsilon);
    // The test means something only if 0.1 is inexact and the clock reached the timespan.
    assert.ok(Math.abs(epsilon) > 0, `${epsilon} should not be zero`);
    assert.ok(clock.seconds() >= timespan, `${clock.seconds()} should be >= ${timespan}`);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      count,
    );
    assert.ok(!counts.includes(0));
    loop.stop();
  });

  test('with interval 0 always passes a count of 1', () => {
    const clock = new Clock();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((count) => {
      counts.push(count);
      if (counts.length > 4) loop.stop();
    }, clock);
    const d = loop.start(0, false);
    clock.pump([0, 0, 0, 0, 0]);
    assert.equal(successResultOf(d), loop);
    assert.deepEqual(counts, [1, 1, 1, 1, 1]);
  });

  test('with interval 0 passes 1 after waiting on a Deferred, however long it took', () => {
    const clock = new Clock();
    const pending = new Deferred<void>();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((count) => {
      counts.push(count);
      if (counts.length === 2) return pending;
      if (counts.length > 4) loop.stop();
      return undefined;
    }, clock);
    loop.start(0, false);

    clock.pump([0, 0]);
    assert.deepEqual(counts, [1, 1]);
    clock.pump([1, 1]);
    assert.deepEqual(counts, [1, 1]);

    pending.callback();
    clock.pump([0, 0, 0, 0]);
    assert.deepEqual(counts, [1, 1, 1, 1, 1]);
  });

  test('counts from the last call when the interval changes from 0 to a longer one', () => {
    const clock = new Clock();
    const pending = new Deferred<void>();
    const counts: number[] = [];
    const stepsBeforeDelay = 2;
    const extraTimeAfterDelay = 5;
    const mutatedLoopInterval = 2;
    const durationOfDelay = 9;
    const skippedTime = extraTimeAfterDelay + durationOfDelay;
    // As in Twisted (its #5962), the second call sees the time as 1, not 2,
    // which adds one to the count.
    const expectedSkipCount = Math.floor(skippedTime / mutatedLoopInterval) + 1;

    const loop = LoopingCall.withCount((count) => {
      counts.push(count);
      return counts.length === stepsBeforeDelay ? pending : undefined;
    }, clock);
    loop.start(0, false);

    clock.pump(Array.from({ length: stepsBeforeDelay + extraTimeAfterDelay }, () => 1));
    assert.deepEqual(counts, [1, 1]);

    loop.interval = mutatedLoopInterval;
    pending.callback();

    clock.advance(durationOfDelay);
    assert.deepEqual(counts, [1, 1, expectedSkipCount]);

    clock.advance(1 * mutatedLoopInterval);
    assert.deepEqual(counts, [1, 1, expectedSkipCount, 1]);

    clock.advance(2 * mutatedLoopInterval);
    assert.deepEqual(counts, [1, 1, expectedSkipCount, 1, 2]);
    loop.stop();
  });

  test('does not call again before a returned Deferred fires, then counts the missed slots', () => {
    const clock = new Clock();
    const pending = new Deferred<void>();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((count) => {
      counts.push(count);
      return counts.length === 1 ? pending : undefined;
    }, clock);
    loop.start(0.2, false);
    assert.deepEqual(counts, []);

    clock.pump([0.2, 0.4]);
    assert.equal(counts.length, 1);

    pending.callback();
    clock.pump([0.2]);
    // Slots at about 0.6 and 0.8 were missed.
    assert.deepEqual(counts, [1, 3]);
    loop.stop();
  });
});

describe('LoopingCall.toString', () => {
  test('names the function and shows the interval and the arguments', () => {
    function installReactor(_a: number, _b: string): void {}
    const loop = new LoopingCall(new Clock(), installReactor, 1, 'key');
    assert.equal(String(loop), "LoopingCall<undefined>(installReactor, 1, 'key')");
  });

  test('shows the interval once started', () => {
    const clock = new Clock();
    function poll(): void {}
    const loop = new LoopingCall(clock, poll);
    loop.start(1, false);
    assert.equal(String(loop), 'LoopingCall<1>(poll)');
    loop.stop();
  });

  test('names a withCount loop after its count callable', () => {
    function frame(_count: number): void {}
    const loop = LoopingCall.withCount(frame, new Clock());
    assert.equal(String(loop), 'LoopingCall<undefined>(withCount(frame))');
  });

  test('calls an anonymous function anonymous', () => {
    const loop = new LoopingCall(new Clock(), [() => undefined][0] as () => void);
    assert.equal(String(loop), 'LoopingCall<undefined>(anonymous)');
  });
});

describe('LoopingCall with a failing function', () => {
  test('hands the Failure to errbacks of the loop Deferred with the original error', () => {
    const clock = new Clock();
    const error = new TestException('boom');
    const loop = new LoopingCall(clock, () => {
      throw error;
    });
    const failures: Failure[] = [];
    loop.start(1).addErrback((failure) => {
      failures.push(failure);
    });
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.value, error);
  });
});
