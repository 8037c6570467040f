// Clock: the deterministic IReactorTime that tests pass wherever a reactor
// keeps time (Twisted: twisted.internet.task.Clock).
// Tests: test/unit/internet/task-clock.test.ts

import { type DelayedCall, TimedCallQueue } from '../_timed-calls.js';
import type { IReactorTime } from '../interfaces.js';

export { DelayedCall } from '../_timed-calls.js';

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
    f: (...args: A) => unknown,
    ...args: A
  ): DelayedCall {
    return this.#calls.schedule(delay, f, args);
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
