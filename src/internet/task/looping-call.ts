// LoopingCall: calls a function every interval seconds on a clock
// (Twisted: twisted.internet.task.LoopingCall).
// Tests: test/unit/internet/task-looping.test.ts

import { inspect } from 'node:util';
import { bindMethods } from '../_bind.js';
import { requireClock } from '../_require-clock.js';
import { CancelledError, Deferred, maybeDeferred } from '../defer.js';
import type { IDelayedCall, IReactorTime } from '../interfaces.js';

/**
 * Python's `%` for floats: the result has the sign of the divisor, so time
 * before the start of a loop still maps into `[0, divisor)`.
 */
function floorMod(dividend: number, divisor: number): number {
  const r = dividend % divisor;
  return r !== 0 && r < 0 !== divisor < 0 ? r + divisor : r;
}

function describeFunction(f: CallableFunction): string {
  return f.name === '' ? 'anonymous' : f.name;
}

/**
 * Options of {@link LoopingCall.start}.
 *
 * @since 0.1.0
 */
export interface LoopingCallStartOptions {
  /**
   * Whether to call the function at once, rather than one interval from now.
   * @defaultValue true
   */
  now?: boolean;
}

/**
 * Calls a function repeatedly, every `interval` seconds.
 *
 * @remarks
 * Calls are aligned to the time of {@link LoopingCall.start}: with interval
 * `i` started at `t0`, the function runs at `t0`, `t0 + i`, `t0 + 2i`, …
 * When a call (or the reactor) runs late, the slots already missed are
 * skipped and the next call is at the next slot still in the future; use
 * {@link LoopingCall.withCount} to learn how many slots went by. With
 * interval 0 the function runs once per turn of the reactor.
 *
 * If the function returns a Deferred (or a promise), the next call is not
 * scheduled until it has fired; its result is ignored. If the function
 * throws or its Deferred fails, the loop stops and the Deferred returned by
 * `start` fails with the error.
 *
 * The function runs on {@link LoopingCall.clock}, which is the first
 * argument (`new LoopingCall(clock, f, ...args)`): the reactor in a
 * program, a `Clock` in tests.
 *
 * Differences from Twisted: the clock is required (Twisted's defaults to
 * the global reactor, so a forgotten clock runs a test on real time);
 * misuse (starting a running loop, stopping or resetting one that is not
 * running) throws an `Error` rather than failing an assertion; the
 * Deferred returned by `start` can be cancelled; the deprecated `deferred`
 * attribute is not ported.
 *
 * @example
 * ```ts
 * const loop = new LoopingCall(reactor, () => console.log('tick'));
 * loop.start(1.5).addCallback(() => console.log('stopped'));
 * reactor.callLater(10, () => loop.stop());
 * ```
 *
 * @typeParam A - The arguments passed to the function.
 * @see Twisted: twisted.internet.task.LoopingCall
 * @since 0.1.0
 */
export class LoopingCall<A extends unknown[] = unknown[]> {
  /**
   * What schedules the calls. Replace it, if you must, before
   * {@link LoopingCall.start}.
   */
  clock: IReactorTime;
  /**
   * Seconds between calls; set by {@link LoopingCall.start}, `undefined`
   * before. Changing it while the loop runs takes effect from the next
   * scheduling.
   */
  interval: number | undefined = undefined;
  /** The function called on each iteration. */
  readonly f: (this: void, ...args: A) => unknown;
  /** The arguments it is called with. */
  readonly args: A;
  #running = false;
  /** The next scheduled call; null while the function runs or its Deferred is pending. */
  #call: IDelayedCall | null = null;
  #starttime: number | undefined = undefined;
  /** The Deferred of the current start(); null once it has fired or been cancelled. */
  #deferred: Deferred<this> | null = null;
  /** The outcome of the current call of the function, while it is pending. */
  #pending: Deferred<unknown> | null = null;
  #runAtStart = false;
  /** When counting skipped slots, the time of the last call of the count callable. */
  #realLastTime: number | undefined = undefined;

  /**
   * Prepares a loop that calls `f(...args)` on `clock`.
   *
   * @param clock - What schedules the calls: a reactor, or a `Clock` in tests.
   * @param f - The function to call.
   * @param args - Its arguments.
   * @throws TypeError if `clock` is not an `IReactorTime` (a function in
   *   its place means the clock was left out) or `f` is not a function.
   */
  constructor(clock: IReactorTime, f: (this: void, ...args: A) => unknown, ...args: A) {
    this.clock = requireClock(
      clock,
      'LoopingCall needs a clock (IReactorTime) as its first argument',
    );
    if (typeof f !== 'function') {
      throw new TypeError(`LoopingCall needs a function to call, got ${typeof f}`);
    }
    this.f = f;
    this.args = args;
    bindMethods(this, ['start', 'stop', 'reset']);
  }

  /**
   * Makes a loop that passes its function the number of intervals that
   * went by since the function was last called.
   *
   * @remarks
   * The count is usually 1. It is more when calls were skipped: the reactor
   * was busy, the function ran longer than an interval, or a Deferred it
   * returned fired late. With interval 0 it is always 1. A frame-based
   * animation, for example, advances by `count` frames.
   *
   * @param countCallable - Called with the count (an integer, at least 1).
   * @param clock - What schedules the calls: a reactor, or a `Clock` in tests.
   * @returns A new, unstarted LoopingCall.
   * @see Twisted: twisted.internet.task.LoopingCall.withCount
   */
  static withCount(
    countCallable: (count: number) => unknown,
    clock: IReactorTime,
  ): LoopingCall<[]> {
    const counter = (): unknown => {
      const now = loop.clock.seconds();
      if (loop.interval === 0) {
        loop.#realLastTime = now;
        return countCallable(1);
      }
      let lastTime = loop.#realLastTime;
      if (lastTime === undefined) {
        lastTime = loop.#starttime ?? now;
        if (loop.#runAtStart) lastTime -= loop.interval ?? 0;
      }
      const count = loop.#intervalOf(now) - loop.#intervalOf(lastTime);
      if (count > 0) {
        loop.#realLastTime = now;
        return countCallable(count);
      }
      return undefined;
    };
    Object.defineProperty(counter, 'name', {
      value: `withCount(${describeFunction(countCallable)})`,
    });
    const loop = new LoopingCall(clock, counter);
    return loop;
  }

  /** True from {@link LoopingCall.start} until it is stopped, cancelled or fails. */
  get running(): boolean {
    return this.#running;
  }

  /** The clock time at which the loop was started (or last reset); `undefined` before. */
  get starttime(): number | undefined {
    return this.#starttime;
  }

  /**
   * The scheduled next call, or `null` when none is scheduled (not
   * running, or the function is running or waiting on its Deferred).
   */
  get call(): IDelayedCall | null {
    return this.#call;
  }

  /**
   * Starts calling the function every `interval` seconds.
   *
   * @remarks
   * Cancellation: cancelling the returned Deferred stops the loop (no more
   * calls are made), cancels a Deferred the function returned that is still
   * pending, and fails with {@link CancelledError}.
   *
   * @param interval - Seconds (float) between calls; 0 calls once per turn.
   * @param now - Whether to call at once (default `true`) or one interval
   *   from now; or an options object `{ now }`.
   * @returns A Deferred that fires with this LoopingCall once
   *   {@link LoopingCall.stop} is called, or fails with what the function
   *   threw (the loop is then no longer running).
   * @throws Error if the loop is already running.
   * @throws RangeError if `interval` is negative or NaN.
   */
  start(interval: number, now: boolean | LoopingCallStartOptions = true): Deferred<this> {
    if (this.#running) throw new Error(`${this} is already running: stop it before starting it`);
    if (!(interval >= 0)) {
      throw new RangeError(`LoopingCall interval must be >= 0 seconds, got ${interval}`);
    }
    const runNow = typeof now === 'boolean' ? now : (now.now ?? true);
    this.#running = true;
    const deferred: Deferred<this> = new Deferred<this>(() => this.#cancel(deferred));
    this.#deferred = deferred;
    this.#starttime = this.clock.seconds();
    this.interval = interval;
    this.#runAtStart = runNow;
    // A restarted loop counts from its new start, not from the previous run.
    this.#realLastTime = undefined;
    if (runNow) this.#run();
    else this.#scheduleFrom(this.#starttime);
    return deferred;
  }

  /**
   * Stops the loop: no further calls are made.
   *
   * @remarks
   * The Deferred returned by `start` fires with this LoopingCall at once,
   * or, if the function is running or its Deferred is pending, as soon as
   * that finishes.
   *
   * @throws Error if the loop is not running.
   */
  stop(): void {
    if (!this.#running) throw new Error(`${this} is not running: there is nothing to stop`);
    this.#running = false;
    if (this.#call !== null) {
      this.#call.cancel();
      this.#call = null;
      const deferred = this.#deferred;
      this.#deferred = null;
      deferred?.callback(this);
    }
  }

  /**
   * Skips the next call and starts counting intervals again from now.
   *
   * @remarks
   * Does nothing while the function is running or its Deferred is pending.
   *
   * @throws Error if the loop is not running.
   */
  reset(): void {
    if (!this.#running) throw new Error(`${this} is not running: there is nothing to reset`);
    if (this.#call !== null) {
      this.#call.cancel();
      this.#call = null;
      this.#starttime = this.clock.seconds();
      this.#scheduleFrom(this.#starttime);
    }
  }

  /** `LoopingCall<interval>(name, ...args)`, for example `LoopingCall<1.5>(poll, 'db')`. */
  toString(): string {
    const parts = [
      describeFunction(this.f),
      ...this.args.map((arg) => inspect(arg, { depth: 0, breakLength: Number.POSITIVE_INFINITY })),
    ];
    return `LoopingCall<${this.interval}>(${parts.join(', ')})`;
  }

  /** The `util.inspect` form, same as {@link LoopingCall.toString}. @hidden */
  [inspect.custom](): string {
    return this.toString();
  }

  /** Calls the function once, then schedules the next call when its outcome is known. */
  #run(): void {
    this.#call = null;
    // Identifies this start(): a call whose loop was cancelled, or stopped
    // and started again, must not touch the current loop.
    const loop = this.#deferred;
    const result = maybeDeferred(this.f, ...this.args);
    this.#pending = result;
    result
      .addCallback(() => {
        if (this.#pending === result) this.#pending = null;
        if (loop !== this.#deferred) {
          if (loop !== null && !loop.called) loop.callback(this);
        } else if (this.#running) {
          this.#scheduleFrom(this.clock.seconds());
        } else {
          this.#deferred = null;
          loop?.callback(this);
        }
      })
      .addErrback((failure) => {
        if (this.#pending === result) this.#pending = null;
        if (loop === this.#deferred) {
          this.#running = false;
          this.#deferred = null;
        }
        // A loop already cancelled has nobody left to tell.
        if (loop !== null && !loop.called) loop.errback(failure);
      });
  }

  /** The canceller of the Deferred returned by start(). */
  #cancel(deferred: Deferred<this>): void {
    if (this.#deferred !== deferred) return;
    this.#running = false;
    this.#deferred = null;
    if (this.#call !== null) {
      this.#call.cancel();
      this.#call = null;
    }
    // Fail first, so that the failure of the cancelled pending call below
    // is not mistaken for the loop's own.
    deferred.errback(new CancelledError('the LoopingCall was cancelled'));
    const pending = this.#pending;
    this.#pending = null;
    pending?.cancel();
  }

  /** Schedules the next call for the next interval boundary after `when`. */
  #scheduleFrom(when: number): void {
    this.#call = this.clock.callLater(this.#howLong(when), () => this.#run());
  }

  /** Seconds from `when` until the next call is due. */
  #howLong(when: number): number {
    const interval = this.interval ?? 0;
    // Interval 0: as fast as possible, once per turn.
    if (interval === 0) return 0;
    const runningFor = when - (this.#starttime ?? when);
    const untilNextInterval = interval - floorMod(runningFor, interval);
    // A delay tiny next to a large `when` may vanish when added to it (its
    // digits fall off the end of the float): the boundary is effectively
    // now, so wait for the one after.
    if (when === when + untilNextInterval) return interval;
    return untilNextInterval;
  }

  /** How many whole intervals had passed since the start at time `t`. */
  #intervalOf(t: number): number {
    return Math.trunc((t - (this.#starttime ?? t)) / (this.interval ?? 1));
  }
}
