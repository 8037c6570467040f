// TimedCallQueue and DelayedCall: the heap of pending calls shared by Clock
// and the reactor (Twisted: twisted.internet.base.DelayedCall and the
// reactor's call heap). Internal module, so imported by path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AlreadyCalled, AlreadyCancelled } from 'torsion';
import {
  checkDelay,
  type DelayedCall,
  TimedCallQueue,
} from '../../../src/internet/_timed-calls.js';

/** A queue whose time the test sets, counting the calls of its hook. */
function makeQueue(): { queue: TimedCallQueue; time: { now: number }; hook: { calls: number } } {
  const time = { now: 0 };
  const hook = { calls: 0 };
  const queue = new TimedCallQueue(
    () => time.now,
    () => {
      hook.calls++;
    },
  );
  return { queue, time, hook };
}

const noop = (): undefined => undefined;

/** Takes every call due at or before `now`, in the order the queue gives them. */
function takeAll(queue: TimedCallQueue, now = Number.POSITIVE_INFINITY): DelayedCall[] {
  const taken: DelayedCall[] = [];
  for (let call = queue.takeDue(now); call !== undefined; call = queue.takeDue(now)) {
    taken.push(call);
  }
  return taken;
}

describe('TimedCallQueue.schedule', () => {
  test('returns an active call due at now plus the delay', () => {
    const { queue, time } = makeQueue();
    time.now = 10;
    const call = queue.schedule(2.5, noop, []);
    assert.equal(call.getTime(), 12.5);
    assert.equal(call.active(), true);
    assert.equal(call.called, false);
    assert.equal(call.cancelled, false);
  });

  test('keeps the function and its arguments, and run() calls one with the other', () => {
    const { queue } = makeQueue();
    const seen: Array<[number, string]> = [];
    const record = (a: number, b: string): void => {
      seen.push([a, b]);
    };
    const call = queue.schedule(1, record, [7, 'seven']);
    assert.equal(call.func, record);
    assert.deepEqual(call.args, [7, 'seven']);
    call.run();
    assert.deepEqual(seen, [[7, 'seven']]);
  });

  test('rejects a negative or NaN delay with a RangeError and schedules nothing', () => {
    const { queue, hook } = makeQueue();
    assert.throws(() => queue.schedule(-0.5, noop, []), RangeError);
    assert.throws(() => queue.schedule(Number.NaN, noop, []), RangeError);
    assert.equal(queue.size, 0);
    assert.equal(hook.calls, 0);
  });

  test('rejects a delay that is not a number, or a function that is not a function, with a TypeError', () => {
    const { queue } = makeQueue();
    assert.throws(() => queue.schedule('1' as unknown as number, noop, []), TypeError);
    assert.throws(() => queue.schedule(1, 42 as unknown as () => void, []), TypeError);
    assert.equal(queue.size, 0);
  });
});

describe('checkDelay', () => {
  test('accepts zero, fractions and infinity', () => {
    checkDelay(0);
    checkDelay(0.001);
    checkDelay(Number.POSITIVE_INFINITY);
  });

  test('rejects negative numbers and NaN with a RangeError, other types with a TypeError', () => {
    assert.throws(() => checkDelay(-1), RangeError);
    assert.throws(() => checkDelay(Number.NaN), RangeError);
    assert.throws(() => checkDelay(undefined as unknown as number), TypeError);
  });
});

describe('TimedCallQueue.takeDue', () => {
  test('gives nothing while no call is due, and a call due exactly now', () => {
    const { queue } = makeQueue();
    const call = queue.schedule(2, noop, []);
    assert.equal(queue.takeDue(1.999), undefined);
    assert.equal(queue.takeDue(2), call);
    assert.equal(queue.takeDue(2), undefined);
  });

  test('marks the call taken as called, so it is no longer active', () => {
    const { queue } = makeQueue();
    const call = queue.schedule(1, noop, []);
    queue.takeDue(1);
    assert.equal(call.called, true);
    assert.equal(call.active(), false);
    assert.throws(() => call.cancel(), AlreadyCalled);
    assert.throws(() => call.reset(1), AlreadyCalled);
    assert.throws(() => call.delay(1), AlreadyCalled);
  });

  test('gives calls due at the same time in the order they were scheduled', () => {
    const { queue } = makeQueue();
    const calls = [3, 1, 3, 2, 1, 3].map((delay) => queue.schedule(delay, noop, []));
    const [c0, c1, c2, c3, c4, c5] = calls;
    assert.deepEqual(takeAll(queue), [c1, c4, c3, c0, c2, c5]);
  });

  test('gives nothing on an empty queue', () => {
    assert.equal(makeQueue().queue.takeDue(Number.POSITIVE_INFINITY), undefined);
  });
});

describe('TimedCallQueue.earliestTime, size and pending', () => {
  test('earliestTime is undefined on an empty queue and the soonest due time otherwise', () => {
    const { queue } = makeQueue();
    assert.equal(queue.earliestTime(), undefined);
    queue.schedule(5, noop, []);
    const soon = queue.schedule(2, noop, []);
    assert.equal(queue.earliestTime(), 2);
    soon.cancel();
    assert.equal(queue.earliestTime(), 5);
  });

  test('size counts the calls neither taken nor cancelled', () => {
    const { queue } = makeQueue();
    const a = queue.schedule(1, noop, []);
    queue.schedule(2, noop, []);
    queue.schedule(3, noop, []);
    assert.equal(queue.size, 3);
    a.cancel();
    assert.equal(queue.size, 2);
    queue.takeDue(2);
    assert.equal(queue.size, 1);
  });

  test('pending lists the calls earliest first, as a copy', () => {
    const { queue } = makeQueue();
    const late = queue.schedule(3, noop, []);
    const early = queue.schedule(1, noop, []);
    const tie = queue.schedule(3, noop, []);
    const listed = queue.pending();
    assert.deepEqual(listed, [early, late, tie]);
    listed.length = 0;
    assert.equal(queue.size, 3);
  });

  test('seconds is the owner time and nextSequence counts up', () => {
    const { queue, time } = makeQueue();
    time.now = 4.5;
    assert.equal(queue.seconds(), 4.5);
    const first = queue.nextSequence();
    assert.equal(queue.nextSequence(), first + 1);
  });
});

describe('DelayedCall.cancel, reset and delay', () => {
  test('cancel removes the call: it is cancelled, inactive and never taken', () => {
    const { queue } = makeQueue();
    const call = queue.schedule(1, noop, []);
    call.cancel();
    assert.equal(call.cancelled, true);
    assert.equal(call.active(), false);
    assert.deepEqual(takeAll(queue), []);
  });

  test('cancel, reset and delay on a cancelled call throw AlreadyCancelled', () => {
    const { queue } = makeQueue();
    const call = queue.schedule(1, noop, []);
    call.cancel();
    assert.throws(() => call.cancel(), AlreadyCancelled);
    assert.throws(() => call.reset(1), AlreadyCancelled);
    assert.throws(() => call.delay(1), AlreadyCancelled);
  });

  test('reset counts from the current time and delay from the due time', () => {
    const { queue, time } = makeQueue();
    const call = queue.schedule(5, noop, []);
    time.now = 3;
    call.reset(1);
    assert.equal(call.getTime(), 4);
    call.delay(2.5);
    assert.equal(call.getTime(), 6.5);
    call.delay(-1);
    assert.equal(call.getTime(), 5.5);
  });

  test('reset and delay put the call after others due at the same time', () => {
    const { queue } = makeQueue();
    const a = queue.schedule(2, noop, []);
    const b = queue.schedule(2, noop, []);
    a.reset(2);
    const c = queue.schedule(1, noop, []);
    c.delay(1);
    assert.deepEqual(takeAll(queue), [b, a, c]);
  });

  test('reset rejects a negative delay and delay rejects NaN, leaving the call as it was', () => {
    const { queue } = makeQueue();
    const call = queue.schedule(2, noop, []);
    assert.throws(() => call.reset(-1), RangeError);
    assert.throws(() => call.delay(Number.NaN), RangeError);
    assert.throws(() => call.delay('1' as unknown as number), RangeError);
    assert.equal(call.getTime(), 2);
    assert.deepEqual(takeAll(queue), [call]);
  });

  test('removing or updating a call that has left the queue does nothing', () => {
    const { queue, hook } = makeQueue();
    const gone = queue.schedule(1, noop, []);
    const stays = queue.schedule(2, noop, []);
    gone.cancel();
    const hooked = hook.calls;
    queue.remove(gone);
    queue.update(gone);
    assert.equal(hook.calls, hooked);
    assert.deepEqual(queue.pending(), [stays]);
  });
});

describe('TimedCallQueue onEarliestChange', () => {
  test('is called when a new call becomes the earliest, not when it goes behind', () => {
    const { queue, hook } = makeQueue();
    queue.schedule(5, noop, []);
    assert.equal(hook.calls, 1);
    queue.schedule(7, noop, []);
    queue.schedule(5, noop, []);
    assert.equal(hook.calls, 1);
    queue.schedule(4, noop, []);
    assert.equal(hook.calls, 2);
  });

  test('is called when the earliest call is cancelled, not when another one is', () => {
    const { queue, hook } = makeQueue();
    const first = queue.schedule(1, noop, []);
    const second = queue.schedule(2, noop, []);
    queue.schedule(3, noop, []);
    hook.calls = 0;
    second.cancel();
    assert.equal(hook.calls, 0);
    first.cancel();
    assert.equal(hook.calls, 1);
  });

  test('is called when a reset moves a call to the front or away from it', () => {
    const { queue, hook } = makeQueue();
    const first = queue.schedule(1, noop, []);
    const second = queue.schedule(2, noop, []);
    const third = queue.schedule(3, noop, []);
    hook.calls = 0;
    third.reset(0.5);
    assert.equal(hook.calls, 1);
    third.reset(10);
    assert.equal(hook.calls, 2);
    second.delay(0.5);
    assert.equal(hook.calls, 2);
    assert.deepEqual(queue.pending(), [first, second, third]);
  });

  test('is optional', () => {
    const queue = new TimedCallQueue(() => 0);
    const call = queue.schedule(1, noop, []);
    call.reset(2);
    call.cancel();
    assert.equal(queue.size, 0);
  });
});

describe('DelayedCall.toString', () => {
  test('shows the function name, due time and state', () => {
    const { queue } = makeQueue();
    function tick(): void {}
    const pending = queue.schedule(12.5, tick, []);
    assert.equal(pending.toString(), '<DelayedCall tick at 12.5s>');
    pending.cancel();
    assert.equal(pending.toString(), '<DelayedCall tick at 12.5s cancelled>');
    const taken = queue.schedule(0, tick, []);
    queue.takeDue(0);
    assert.equal(taken.toString(), '<DelayedCall tick at 0s called>');
  });

  test('calls a function without a name anonymous', () => {
    const { queue } = makeQueue();
    const call = queue.schedule(2, () => undefined, []);
    assert.equal(String(call), '<DelayedCall anonymous at 2s>');
  });
});

describe('TimedCallQueue under random operations', () => {
  type Op =
    | { op: 'schedule'; delay: number }
    | { op: 'cancel'; target: number }
    | { op: 'reset'; target: number; delay: number }
    | { op: 'delay'; target: number; by: number }
    | { op: 'tick'; by: number }
    | { op: 'take' };

  // Half-second steps over a small range, so that equal due times are common.
  const delayArb = fc.integer({ min: 0, max: 8 }).map((n) => n / 2);
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: delayArb.map((delay): Op => ({ op: 'schedule', delay })) },
    { weight: 2, arbitrary: fc.nat().map((target): Op => ({ op: 'cancel', target })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.nat(), delayArb)
        .map(([target, delay]): Op => ({ op: 'reset', target, delay })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.nat(), fc.integer({ min: -4, max: 4 }))
        .map(([target, n]): Op => ({ op: 'delay', target, by: n / 2 })),
    },
    { weight: 1, arbitrary: delayArb.map((by): Op => ({ op: 'tick', by })) },
    { weight: 1, arbitrary: fc.constant<Op>({ op: 'take' }) },
  );

  /** The model: each call's state and, while active, its (time, order) key. */
  interface Entry {
    call: DelayedCall;
    state: 'active' | 'cancelled' | 'called';
    time: number;
    order: number;
  }

  test('taking due calls gives exactly the active calls in (time, scheduling order) order', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const { queue, time, hook } = makeQueue();
        const entries: Entry[] = [];
        let order = 0;
        const active = (): Entry[] =>
          entries
            .filter((e) => e.state === 'active')
            .sort((a, b) => a.time - b.time || a.order - b.order);
        const front = (): Entry | undefined => active()[0];

        for (const op of ops) {
          const before = front();
          const hookBefore = hook.calls;
          let touched: Entry | undefined;
          if (op.op === 'schedule') {
            const call = queue.schedule(op.delay, noop, []);
            touched = { call, state: 'active', time: time.now + op.delay, order: order++ };
            entries.push(touched);
          } else if (op.op === 'tick') {
            time.now += op.by;
          } else if (op.op === 'take') {
            const due = before !== undefined && before.time <= time.now ? before : undefined;
            assert.equal(queue.takeDue(time.now), due?.call);
            if (due !== undefined) {
              due.state = 'called';
              assert.equal(due.call.called, true);
            }
          } else if (entries.length > 0) {
            const target = entries[op.target % entries.length] as Entry;
            const act = (): void => {
              if (op.op === 'cancel') target.call.cancel();
              else if (op.op === 'reset') target.call.reset(op.delay);
              else target.call.delay(op.by);
            };
            if (target.state === 'cancelled') {
              assert.throws(act, AlreadyCancelled);
            } else if (target.state === 'called') {
              assert.throws(act, AlreadyCalled);
            } else {
              act();
              touched = target;
              if (op.op === 'cancel') target.state = 'cancelled';
              else if (op.op === 'reset') target.time = time.now + op.delay;
              else target.time += op.by;
              if (op.op !== 'cancel') target.order = order++;
            }
          }

          const after = front();
          assert.equal(queue.size, active().length);
          assert.equal(queue.earliestTime(), after?.time);
          assert.deepEqual(
            queue.pending(),
            active().map((e) => e.call),
          );
          if (op.op !== 'take') {
            // The hook runs exactly when the operation's call was or becomes
            // the earliest; in particular whenever the earliest time changes.
            const frontTouched = touched !== undefined && (before === touched || after === touched);
            assert.equal(hook.calls - hookBefore, frontTouched ? 1 : 0);
            if (before?.time !== after?.time) assert.ok(hook.calls > hookBefore);
          }
        }

        const expected = active().map((e) => e.call);
        const taken = takeAll(queue);
        assert.deepEqual(taken, expected);
        assert.ok(taken.every((call) => call.called && !call.active()));
        assert.equal(queue.size, 0);
        assert.equal(queue.earliestTime(), undefined);
      }),
      { numRuns: 200 },
    );
  });
});
