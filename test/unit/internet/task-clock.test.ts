// Clock: the deterministic IReactorTime (ported from Twisted's
// twisted/test/test_task.py ClockTests, plus ordering and heap behaviours).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlreadyCalled, AlreadyCancelled, type IDelayedCall, type IReactorTime } from 'torsion';
import { Clock } from 'torsion/task';

describe('Clock.seconds', () => {
  test('starts at zero', () => {
    assert.equal(new Clock().seconds(), 0);
  });

  test('starts at the time given to the constructor', () => {
    assert.equal(new Clock(100.5).seconds(), 100.5);
  });

  test('moves forward by exactly the amount advanced', () => {
    const clock = new Clock();
    clock.advance(1.5);
    clock.advance(0.25);
    assert.equal(clock.seconds(), 1.75);
  });
});

describe('Clock.callLater', () => {
  test('returns an active IDelayedCall due at now plus the delay', () => {
    const clock = new Clock();
    const call: IDelayedCall = clock.callLater(1, (_a: number, _b: number) => undefined, 1, 2);
    assert.equal(call.getTime(), 1);
    assert.ok(call.active());
  });

  test('a cancelled call is no longer active and never runs', () => {
    const clock = new Clock();
    const events: string[] = [];
    const call = clock.callLater(1, () => events.push('ran'));
    call.cancel();
    assert.equal(call.active(), false);
    clock.advance(5);
    assert.deepEqual(events, []);
  });

  test('returns a new call each time', () => {
    const clock = new Clock();
    const call1 = clock.callLater(10, () => undefined);
    const call2 = clock.callLater(1, () => undefined);
    assert.notEqual(call1, call2);
  });

  test('passes the extra arguments to the function', () => {
    const clock = new Clock();
    const seen: Array<[number, string]> = [];
    clock.callLater(1, (a: number, b: string) => seen.push([a, b]), 1, 'two');
    clock.advance(1);
    assert.deepEqual(seen, [[1, 'two']]);
  });

  test('rejects a negative or NaN delay with a RangeError', () => {
    const clock = new Clock();
    assert.throws(() => clock.callLater(-1, () => undefined), RangeError);
    assert.throws(() => clock.callLater(Number.NaN, () => undefined), RangeError);
  });

  test('rejects a function that is not a function with a TypeError', () => {
    const clock = new Clock();
    assert.throws(() => clock.callLater(1, 'not a function' as unknown as () => void), TypeError);
  });

  test('a zero delay runs on the next advance, even advance(0)', () => {
    const clock = new Clock();
    const events: string[] = [];
    clock.callLater(0, () => events.push('now'));
    assert.deepEqual(events, []);
    clock.advance(0);
    assert.deepEqual(events, ['now']);
  });
});

describe('Clock.advance', () => {
  test('runs a call only once its time has come', () => {
    const clock = new Clock();
    const events: string[] = [];
    const call = clock.callLater(2, () => events.push('ran'));
    clock.advance(1);
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, ['ran']);
    assert.equal(call.active(), false);
  });

  test('marks a call as called before running it, so cancelling it inside throws AlreadyCalled', () => {
    const clock = new Clock();
    let thrown: unknown;
    const call = clock.callLater(1, () => {
      try {
        call.cancel();
      } catch (error) {
        thrown = error;
      }
    });
    clock.advance(1);
    assert.ok(thrown instanceof AlreadyCalled);
    assert.equal(call.called, true);
  });

  test('runs due calls in time order, then same-time calls in the order scheduled', () => {
    const clock = new Clock();
    const events: string[] = [];
    clock.callLater(2, () => events.push('b1'));
    clock.callLater(1, () => events.push('a'));
    clock.callLater(2, () => events.push('b2'));
    clock.callLater(2, () => events.push('b3'));
    clock.advance(5);
    assert.deepEqual(events, ['a', 'b1', 'b2', 'b3']);
  });

  test('moves time first, then runs due calls, including calls they schedule that are already due', () => {
    const clock = new Clock();
    const events: Array<[string, number]> = [];
    clock.callLater(1, () => {
      events.push(['first', clock.seconds()]);
      clock.callLater(0, () => events.push(['due now', clock.seconds()]));
      clock.callLater(1, () => events.push(['one later', clock.seconds()]));
    });
    clock.advance(5);
    assert.deepEqual(events, [
      ['first', 5],
      ['due now', 5],
    ]);
    clock.advance(1);
    assert.deepEqual(events.at(-1), ['one later', 6]);
  });

  test('lets an error from a call reach the caller and keeps the remaining calls scheduled', () => {
    const clock = new Clock();
    const events: string[] = [];
    clock.callLater(1, () => {
      throw new Error('boom');
    });
    clock.callLater(2, () => events.push('second'));
    assert.throws(() => clock.advance(3), /boom/);
    assert.deepEqual(events, []);
    clock.advance(0);
    assert.deepEqual(events, ['second']);
  });

  test('rejects a negative amount with a RangeError', () => {
    assert.throws(() => new Clock().advance(-1), RangeError);
  });
});

describe('Clock.pump', () => {
  test('advances by each amount in turn', () => {
    const clock = new Clock();
    const times: number[] = [];
    clock.callLater(1, () => times.push(clock.seconds()));
    clock.callLater(2.5, () => times.push(clock.seconds()));
    clock.pump([1, 1, 1]);
    assert.deepEqual(times, [1, 3]);
    assert.equal(clock.seconds(), 3);
  });
});

describe('IDelayedCall.delay and reset', () => {
  test('delay postpones the call from its current due time', () => {
    const clock = new Clock();
    const events: Array<[number, number]> = [];
    const call = clock.callLater(1, (a: number, b: number) => events.push([a, b]), 1, 2);
    call.delay(1);
    assert.equal(call.getTime(), 2);
    clock.advance(1.5);
    assert.deepEqual(events, []);
    clock.advance(1.0);
    assert.deepEqual(events, [[1, 2]]);
  });

  test('reset to a later time counts from now', () => {
    const clock = new Clock();
    const events: string[] = [];
    const call = clock.callLater(2, () => events.push('ran'));
    clock.advance(1);
    call.reset(3);
    assert.equal(call.getTime(), 4);
    clock.advance(2);
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, ['ran']);
  });

  test('reset to an earlier time runs the call sooner', () => {
    const clock = new Clock();
    const events: string[] = [];
    const call = clock.callLater(4, () => events.push('ran'));
    call.reset(3);
    assert.equal(call.getTime(), 3);
    clock.advance(3);
    assert.deepEqual(events, ['ran']);
  });

  test('a call reset past a later-scheduled call runs after it', () => {
    const clock = new Clock();
    const result: Array<[string, number]> = [];
    const logTime = (name: string) => result.push([name, clock.seconds()]);
    const callA = clock.callLater(1.0, logTime, 'a');
    callA.reset(3.0);
    clock.callLater(2.0, logTime, 'b');
    clock.pump([1, 1, 1]);
    assert.deepEqual(result, [
      ['b', 2],
      ['a', 3],
    ]);
  });

  test('a call reset past an earlier-scheduled call runs after it', () => {
    const clock = new Clock();
    const result: Array<[string, number]> = [];
    const logTime = (name: string) => result.push([name, clock.seconds()]);
    const callA = clock.callLater(1.0, logTime, 'a');
    clock.callLater(2.0, logTime, 'b');
    callA.reset(3.0);
    clock.pump([1, 1, 1]);
    assert.deepEqual(result, [
      ['b', 2],
      ['a', 3],
    ]);
  });

  test('a reset made inside another call keeps the order of the calls', () => {
    const clock = new Clock();
    const result: Array<[string, number]> = [];
    const logTime = (name: string) => result.push([name, clock.seconds()]);
    const callB = clock.callLater(2.0, logTime, 'b');
    clock.callLater(1.0, () => callB.reset(3.0));
    clock.callLater(3.0, logTime, 'c');
    clock.pump(Array.from({ length: 10 }, () => 0.5));
    assert.deepEqual(result, [
      ['c', 3],
      ['b', 4],
    ]);
  });

  test('cancel, delay and reset on a call that ran throw AlreadyCalled', () => {
    const clock = new Clock();
    const call = clock.callLater(1, () => undefined);
    clock.advance(1);
    assert.throws(() => call.cancel(), AlreadyCalled);
    assert.throws(() => call.delay(1), AlreadyCalled);
    assert.throws(() => call.reset(1), AlreadyCalled);
  });

  test('cancel, delay and reset on a cancelled call throw AlreadyCancelled', () => {
    const clock = new Clock();
    const call = clock.callLater(1, () => undefined);
    call.cancel();
    assert.throws(() => call.cancel(), AlreadyCancelled);
    assert.throws(() => call.delay(1), AlreadyCancelled);
    assert.throws(() => call.reset(1), AlreadyCancelled);
  });

  test('the errors carry stable codes', () => {
    assert.equal(new AlreadyCalled().code, 'ERR_ALREADY_CALLED');
    assert.equal(new AlreadyCancelled().code, 'ERR_ALREADY_CANCELLED');
  });
});

describe('Clock.getDelayedCalls', () => {
  test('is empty on a new clock', () => {
    assert.deepEqual(new Clock().getDelayedCalls(), []);
  });

  test('lists the pending calls, earliest first', () => {
    const clock = new Clock();
    const late = clock.callLater(2, () => undefined);
    const early = clock.callLater(1, () => undefined);
    assert.deepEqual(clock.getDelayedCalls(), [early, late]);
  });

  test('leaves out calls that ran or were cancelled', () => {
    const clock = new Clock();
    clock.callLater(1, () => undefined);
    const cancelled = clock.callLater(5, () => undefined);
    const pending = clock.callLater(10, () => undefined);
    cancelled.cancel();
    clock.advance(2);
    assert.deepEqual(clock.getDelayedCalls(), [pending]);
  });
});

describe('Clock as IReactorTime', () => {
  test('is usable wherever an IReactorTime is expected', () => {
    const time: IReactorTime = new Clock();
    const call = time.callLater(1, () => undefined);
    assert.deepEqual(time.getDelayedCalls(), [call]);
  });
});

describe('Clock with many pending calls', () => {
  test('runs 100,000 calls scheduled at random times in time order, skipping the cancelled half', () => {
    const clock = new Clock();
    let seed = 2463534242;
    const random = (): number => {
      seed ^= seed << 13;
      seed >>>= 0;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      return seed % 1000;
    };
    const fired: number[] = [];
    const calls = Array.from({ length: 100_000 }, (_, i) => {
      const delay = random() / 1000;
      return clock.callLater(delay, () => fired.push(i));
    });
    for (let i = 0; i < calls.length; i += 2) calls[i]?.cancel();
    clock.advance(1);
    assert.equal(fired.length, 50_000);
    assert.ok(fired.every((i) => i % 2 === 1));
    for (let k = 1; k < fired.length; k++) {
      const a = calls[fired[k - 1] as number] as IDelayedCall;
      const b = calls[fired[k] as number] as IDelayedCall;
      const inOrder =
        a.getTime() < b.getTime() ||
        (a.getTime() === b.getTime() && (fired[k - 1] as number) < (fired[k] as number));
      assert.ok(inOrder, `call ${fired[k]} ran out of order`);
    }
  });
});
