// Clock: the deterministic IReactorTime that tests pass wherever a reactor
// keeps time (Twisted: twisted.internet.task.Clock).
// Tests: test/unit/internet/task-clock.test.ts

import { bindAllMethods } from '../_bind.js';
import { type DelayedCall, TimedCallQueue } from '../_timed-calls.js';
import type { IDelayedCall, IReactorTime } from '../interfaces.js';

export { DelayedCall } from '../_timed-calls.js';

/** Where each call of a Clock was scheduled (the stack at `callLater`). */
const schedulers = new WeakMap<IDelayedCall, Error>();

/**
 * Where a call of a {@link Clock} was scheduled: the two frames that called
 * `callLater`, such as `TimeoutMixin.setTimeout (…/timeout.js:120:10)`, or
 * `undefined` for a call some other clock made.
 *
 * @param call - A call returned by a Clock's (or a MemoryReactorClock's)
 *   `callLater`.
 * @returns The frames, or `undefined`.
 * @internal For assertReactorClean's report.
 */
export function whereScheduled(call: IDelayedCall): string | undefined {
  const stack = schedulers.get(call)?.stack;
  if (stack === undefined) return undefined;
  const frames = stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ''));
  let first = 0;
  while (first < frames.length && /\bcallLater\b/.test(frames[first] ?? '')) first++;
  const callers = frames.slice(first, first + 2);
  return callers.length === 0 ? undefined : callers.join(', called from ');
}

/**
 * A deterministic {@link IReactorTime}: time stands still until you
 * {@link Clock.advance} it.
 *
 * @remarks
 * Pass a Clock wherever code takes an `IReactorTime` (timeouts, looping
 * calls, retries) and drive time from the test: no real timers, no waiting,
 * the same result on every run. Calls due at the same time run in the order
 * they were scheduled. A call that throws stops `advance` and the error
 * reaches the test; calls not yet run stay scheduled.
 *
 * Pending calls live in a heap, so each of 100,000 pending calls costs
 * O(log n) to schedule, cancel or reschedule.
 *
 * @example
 * ```ts
 * const clock = new Clock();
 * const d = new Deferred<string>().addTimeout(10, clock);
 * clock.advance(15);
 * failureResultOf(d, TimeoutError);
 * ```
 *
 * @see Twisted: twisted.internet.task.Clock
 * @since 0.1.0
 */
export class Clock implements IReactorTime {
  #now: number;
  readonly #calls: TimedCallQueue;

  /**
   * @param start - The initial time in seconds. Default 0.
   */
  constructor(start = 0) {
    this.#now = start;
    this.#calls = new TimedCallQueue(() => this.#now);
    bindAllMethods(this);
  }

  /** The current time on this clock, in seconds. */
  seconds(): number {
    return this.#now;
  }

  /**
   * Schedules `f(...args)` to run once the clock has advanced `delay` seconds.
   *
   * @param delay - Seconds (float, at least 0).
   * @param f - The function to call.
   * @param args - Arguments for `f`.
   * @returns The scheduled call.
   * @throws RangeError if `delay` is negative or NaN.
   */
  callLater<A extends unknown[]>(
    delay: number,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): DelayedCall {
    const call = this.#calls.schedule(delay, f, args);
    // The stack is captured now and formatted only if a test asks, through
    // assertReactorClean, where a leftover call came from.
    schedulers.set(call, new Error());
    return call;
  }

  /** The calls not yet run or cancelled, earliest first. */
  getDelayedCalls(): DelayedCall[] {
    return this.#calls.pending();
  }

  /**
   * Moves time forward by `amount` seconds and runs every call that falls
   * due, in time order, including calls that those calls schedule within
   * the new time.
   *
   * @param amount - Seconds (float, at least 0).
   * @throws RangeError if `amount` is negative; whatever a call throws.
   */
  advance(amount: number): void {
    if (!(amount >= 0)) throw new RangeError(`cannot advance a Clock by ${amount} seconds`);
    this.#now += amount;
    for (let call = this.#calls.takeDue(this.#now); call !== undefined; ) {
      call.run();
      call = this.#calls.takeDue(this.#now);
    }
  }

  /**
   * Advances the clock by each of `timings` in turn.
   *
   * @param timings - Seconds to advance, one step each.
   */
  pump(timings: Iterable<number>): void {
    for (const amount of timings) this.advance(amount);
  }
}
