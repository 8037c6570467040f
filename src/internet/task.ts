// Scheduling utilities (Twisted: twisted.internet.task): Clock, the
// deterministic IReactorTime that tests pass wherever a reactor keeps time;
// LoopingCall; deferLater; react; and the Cooperator, which shares the
// reactor between long-running iterators.
// Tests: test/unit/internet/task-clock.test.ts, task-looping.test.ts,
// task-deferlater.test.ts, task-react.test.ts, task-cooperator.test.ts

import { constants as osConstants } from 'node:os';
import { inspect } from 'node:util';
import { Logger } from '../logger/logger.js';
import { type DelayedCall, TimedCallQueue } from './_timed-calls.js';
import { CancelledError, Deferred, ensureDeferred, maybeDeferred, type ResultOf } from './defer.js';
import { ReactorNotRunning, TorsionError } from './error.js';
import { Failure } from './failure.js';
import type { IDelayedCall, IReactorCore, IReactorTime } from './interfaces.js';
import { reactor as defaultReactor } from './reactor.js';

export { DelayedCall } from './_timed-calls.js';

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

const log = new Logger('torsion.internet.task');

/**
 * Python's `%` for floats: the result has the sign of the divisor, so time
 * before the start of a loop still maps into `[0, divisor)`.
 */
function floorMod(dividend: number, divisor: number): number {
  const r = dividend % divisor;
  return r !== 0 && r < 0 !== divisor < 0 ? r + divisor : r;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function describeFunction(f: CallableFunction): string {
  return f.name === '' ? 'anonymous' : f.name;
}

// ---------------------------------------------------------------------------
// LoopingCall

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
 * The function runs on {@link LoopingCall.clock}: pass the clock first
 * (`new LoopingCall(clock, f, ...args)`), or set the property before
 * `start`. Without one, the default `reactor` is used.
 *
 * Differences from Twisted: misuse (starting a running loop, stopping or
 * resetting one that is not running) throws an `Error` rather than failing
 * an assertion; the Deferred returned by `start` can be cancelled; the
 * deprecated `deferred` attribute is not ported.
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
  readonly f: (...args: A) => unknown;
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
   */
  constructor(clock: IReactorTime, f: (...args: A) => unknown, ...args: A);
  /**
   * Prepares a loop that calls `f(...args)` on the default `reactor`.
   *
   * @param f - The function to call.
   * @param args - Its arguments.
   */
  constructor(f: (...args: A) => unknown, ...args: A);
  constructor(...params: unknown[]) {
    let f: unknown;
    if (typeof params[0] === 'function') {
      this.clock = defaultReactor;
      f = params[0];
      this.args = params.slice(1) as A;
    } else {
      this.clock = params[0] as IReactorTime;
      f = params[1];
      this.args = params.slice(2) as A;
    }
    if (typeof f !== 'function') {
      throw new TypeError(`LoopingCall needs a function to call, got ${typeof f}`);
    }
    this.f = f as (...args: A) => unknown;
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
   * @param clock - What schedules the calls. Default: the default `reactor`.
   * @returns A new, unstarted LoopingCall.
   * @see Twisted: twisted.internet.task.LoopingCall.withCount
   */
  static withCount(
    countCallable: (count: number) => unknown,
    clock?: IReactorTime,
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
    const loop: LoopingCall<[]> =
      clock === undefined ? new LoopingCall(counter) : new LoopingCall(clock, counter);
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

  /** The `util.inspect` form, same as {@link LoopingCall.toString}. */
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

// ---------------------------------------------------------------------------
// deferLater

/**
 * Calls `callable(...args)` `delay` seconds from now, and gives its result
 * as a Deferred.
 *
 * @remarks
 * Without a callable, the Deferred fires with `undefined` after the delay.
 * A callable that throws fails the Deferred; one that returns a Deferred
 * or a promise is waited for.
 *
 * Cancellation: cancelling before the delay is over cancels the delayed
 * call (the callable never runs) and fails with {@link CancelledError};
 * cancelling while a Deferred returned by the callable is pending cancels
 * that Deferred.
 *
 * @example
 * ```ts
 * const d = deferLater(reactor, 2.5, (name: string) => `hello ${name}`, 'world');
 * d.addCallback(console.log); // "hello world", 2.5 seconds later
 * ```
 *
 * @param clock - What schedules the call: a reactor, or a `Clock` in tests.
 * @param delay - Seconds (float) to wait.
 * @returns A Deferred that fires with `undefined` after the delay.
 * @throws RangeError if `delay` is negative or NaN.
 * @see Twisted: twisted.internet.task.deferLater
 * @since 0.1.0
 */
export function deferLater(clock: IReactorTime, delay: number): Deferred<undefined>;
/**
 * Calls `callable(...args)` `delay` seconds from now, and gives its result
 * as a Deferred.
 *
 * @remarks
 * Cancellation: before the delay is over, cancelling cancels the delayed
 * call and fails with {@link CancelledError}; afterwards, it cancels a
 * pending Deferred returned by the callable.
 *
 * @param clock - What schedules the call.
 * @param delay - Seconds (float) to wait.
 * @param callable - The function to call after the delay.
 * @param args - Its arguments.
 * @returns A Deferred of the callable's result.
 */
export function deferLater<R, A extends unknown[]>(
  clock: IReactorTime,
  delay: number,
  callable: (...args: A) => R,
  ...args: A
): Deferred<ResultOf<R>>;
export function deferLater<R, A extends unknown[]>(
  clock: IReactorTime,
  delay: number,
  callable?: (...args: A) => R,
  ...args: A
): Deferred<ResultOf<R> | undefined> {
  const d = new Deferred<undefined>(() => {
    delayedCall.cancel();
  });
  const delayedCall = clock.callLater(delay, () => {
    d.callback(undefined);
  });
  return callable === undefined ? d : d.addCallback(() => callable(...args));
}

// ---------------------------------------------------------------------------
// react

/**
 * Raised (or failed with) by a main function to choose the exit status of
 * {@link react}.
 *
 * @remarks
 * Python's `SystemExit(23)`: `throw new SystemExit(23)` inside the main
 * function passed to `react` makes the process exit with status 23, and is
 * not logged as an error.
 *
 * @see Twisted: react's handling of Python's SystemExit
 * @since 0.1.0
 */
export class SystemExit extends TorsionError {
  override name = 'SystemExit' as const;
  override readonly code = 'ERR_SYSTEM_EXIT' as const;
  /** The process exit status: an integer from 0 to 255. */
  readonly exitCode: number;

  /**
   * @param exitCode - The exit status, 0 to 255. Default 0.
   * @param message - Default `exit with status <exitCode>`.
   * @param options - `{ cause }`.
   * @throws RangeError if `exitCode` is not an integer from 0 to 255.
   */
  constructor(exitCode = 0, message?: string, options?: ErrorOptions) {
    if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) {
      throw new RangeError(`an exit status is an integer from 0 to 255, got ${exitCode}`);
    }
    super(message ?? `exit with status ${exitCode}`, options);
    this.exitCode = exitCode;
  }
}

/** The exit status a failure of main asks for, if it is a SystemExit (of any package copy). */
function exitCodeOf(failure: Failure): number | undefined {
  const value = failure.value as { code?: unknown; exitCode?: unknown } | null;
  if (value instanceof SystemExit) return value.exitCode;
  if (typeof value === 'object' && value !== null && value.code === 'ERR_SYSTEM_EXIT') {
    return typeof value.exitCode === 'number' ? value.exitCode : 1;
  }
  return undefined;
}

/** 128 + the number of the signal that stopped the reactor, if one did. */
function signalStatusOf(reactor: IReactorCore): number | undefined {
  const signal = (reactor as { exitSignal?: unknown }).exitSignal;
  if (typeof signal !== 'string') return undefined;
  const number = (osConstants.signals as Record<string, number | undefined>)[signal];
  return number === undefined ? undefined : 128 + number;
}

/** Calls main and gives its outcome, whatever it returns or throws, as a Deferred. */
function callMain(main: (...args: never[]) => unknown, args: unknown[]): Deferred<unknown> {
  return maybeDeferred(() => {
    const result = Reflect.apply(main, undefined, args);
    if (isThenable(result) || Object.prototype.toString.call(result) === '[object Generator]') {
      return ensureDeferred(result as PromiseLike<unknown>);
    }
    return result;
  });
}

/** One turn of Node's event loop, so that promise jobs already queued have run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

/**
 * Runs `main(reactor, ...argv)` and the reactor until main has finished,
 * and gives the exit status that {@link react} would exit with.
 *
 * @remarks
 * `main` is called at once, before the reactor runs; it may return a
 * Deferred, a promise (an `async` function), a generator (run as by
 * `inlineCallbacks`) or a plain value, or throw. When its result is known
 * the reactor is stopped, exactly once: not at all if it is already
 * shutting down (a `'before'` `'shutdown'` trigger watches for that), for
 * example because `main` stopped it or a signal did.
 *
 * The exit status is 0 when main succeeds, or never finishes before the
 * reactor stops. When main fails, the failure is logged ("main function
 * encountered error") and the status is 1, unless the error is a
 * {@link SystemExit}, whose `exitCode` is the status and which is not
 * logged. If a signal stopped the reactor (`NodeReactor.exitSignal`), the
 * status is 128 + the signal's number (130 for SIGINT, 143 for SIGTERM),
 * unless main failed with a `SystemExit`, which says otherwise.
 *
 * An `async` main that finishes as a consequence of the shutdown (in a
 * `'during'` trigger, say) is given one more turn of the event loop after
 * the reactor has stopped, so that its promise can settle and count.
 *
 * @param main - Called with the default `reactor` followed by the elements of `argv`.
 * @param argv - Extra arguments for `main`. Default none.
 * @returns A promise of the exit status, settled once the reactor has
 *   stopped; it rejects only if the reactor cannot run.
 * @see Twisted: twisted.internet.task.react
 * @since 0.1.0
 */
export function runMain<A extends unknown[]>(
  main: (reactor: IReactorCore & IReactorTime, ...argv: A) => unknown,
  argv?: A,
): Promise<number>;
/**
 * Runs `main(reactor, ...argv)` and `reactor` until main has finished, and
 * gives the exit status.
 *
 * @param main - Called with the reactor followed by the elements of `argv`.
 * @param argv - Extra arguments for `main`.
 * @param reactor - The reactor to run.
 * @returns A promise of the exit status, settled once the reactor has stopped.
 */
export function runMain<R extends IReactorCore, A extends unknown[]>(
  main: (reactor: R, ...argv: A) => unknown,
  argv: A,
  reactor: R,
): Promise<number>;
export async function runMain(
  main: (reactor: never, ...argv: never[]) => unknown,
  argv: readonly unknown[] = [],
  reactor: IReactorCore = defaultReactor,
): Promise<number> {
  const finished = callMain(main, [reactor, ...argv]);
  let code = 0;
  let explicitCode = false;
  let stopping = false;
  reactor.addSystemEventTrigger('before', 'shutdown', () => {
    stopping = true;
  });
  const stop = (result: unknown, stopReactor: boolean): void => {
    if (stopReactor) {
      try {
        reactor.stop();
      } catch (error) {
        if (!(error instanceof ReactorNotRunning)) throw error;
      }
    }
    if (result instanceof Failure) {
      const exitCode = exitCodeOf(result);
      if (exitCode !== undefined) {
        code = exitCode;
        explicitCode = true;
      } else {
        log.failure('main function encountered error', result);
        code = 1;
      }
    }
  };
  finished.addBoth((result) => {
    if (stopping) stop(result, false);
    else reactor.callWhenRunning(stop, result, true);
  });
  await reactor.run();
  await nextTurn();
  const signalStatus = signalStatusOf(reactor);
  return signalStatus !== undefined && !explicitCode ? signalStatus : code;
}

/**
 * Runs `main(reactor, ...argv)` and the reactor until main has finished,
 * then exits the process: the way to start a program with a clear end, such
 * as a client or a one-off job.
 *
 * @remarks
 * This is {@link runMain} followed by `process.exit(status)`: 0 when main
 * succeeds, 1 when it fails (the failure is logged), the `exitCode` of a
 * {@link SystemExit} it fails with, 128 + the signal number when a signal
 * stopped the reactor. It stops the reactor exactly once, at the right
 * time. If the reactor cannot run at all, that is logged and the status is 1.
 *
 * @example
 * ```ts
 * react(async (reactor, url: string) => {
 *   const body = await fetchPage(reactor, url);
 *   console.log(body);
 * }, [process.argv[2] ?? 'http://example.com/']);
 * ```
 *
 * @param main - Called with the default `reactor` followed by the elements of `argv`.
 * @param argv - Extra arguments for `main`. Default none.
 * @returns Nothing: the process exits.
 * @see Twisted: twisted.internet.task.react
 * @since 0.1.0
 */
export function react<A extends unknown[]>(
  main: (reactor: IReactorCore & IReactorTime, ...argv: A) => unknown,
  argv?: A,
): Promise<never>;
/**
 * Runs `main(reactor, ...argv)` and `reactor` until main has finished, then
 * exits the process.
 *
 * @param main - Called with the reactor followed by the elements of `argv`.
 * @param argv - Extra arguments for `main`.
 * @param reactor - The reactor to run.
 * @returns Nothing: the process exits.
 */
export function react<R extends IReactorCore, A extends unknown[]>(
  main: (reactor: R, ...argv: A) => unknown,
  argv: A,
  reactor: R,
): Promise<never>;
export async function react(
  main: (reactor: never, ...argv: never[]) => unknown,
  argv: unknown[] = [],
  reactor: IReactorCore = defaultReactor,
): Promise<never> {
  let status: number;
  try {
    status = await runMain(
      main as (reactor: IReactorCore, ...argv: unknown[]) => unknown,
      argv,
      reactor,
    );
  } catch (error) {
    log.failure('react could not run the reactor', error);
    status = 1;
  }
  process.exit(status);
}

// ---------------------------------------------------------------------------
// Cooperator

/**
 * A task or its cooperator was in the wrong state for the operation: the
 * base class of the Cooperator's errors.
 *
 * @see Twisted: twisted.internet.task.SchedulerError
 * @since 0.1.0
 */
export class SchedulerError extends TorsionError {
  override name: string = 'SchedulerError';
  override readonly code: string = 'ERR_SCHEDULER';
  constructor(
    message = 'the task or its cooperator is in the wrong state',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The cooperator was stopped, before or while the task ran.
 *
 * @see Twisted: twisted.internet.task.SchedulerStopped
 * @since 0.1.0
 */
export class SchedulerStopped extends SchedulerError {
  override name = 'SchedulerStopped' as const;
  override readonly code = 'ERR_SCHEDULER_STOPPED' as const;
  constructor(message = 'the cooperator was stopped', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The task has finished for good: done, stopped or failed.
 *
 * @see Twisted: twisted.internet.task.TaskFinished
 * @since 0.1.0
 */
export class TaskFinished extends SchedulerError {
  override name: string = 'TaskFinished';
  override readonly code: string = 'ERR_TASK_FINISHED';
  constructor(message = 'the task has finished', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The task's iterator is exhausted.
 *
 * @see Twisted: twisted.internet.task.TaskDone
 * @since 0.1.0
 */
export class TaskDone extends TaskFinished {
  override name = 'TaskDone' as const;
  override readonly code = 'ERR_TASK_DONE' as const;
  constructor(message = 'the task is done: its iterator is exhausted', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The task was stopped with {@link CooperativeTask.stop}.
 *
 * @see Twisted: twisted.internet.task.TaskStopped
 * @since 0.1.0
 */
export class TaskStopped extends TaskFinished {
  override name = 'TaskStopped' as const;
  override readonly code = 'ERR_TASK_STOPPED' as const;
  constructor(message = 'the task was stopped', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The task's iterator threw, or a Deferred it yielded failed.
 *
 * @see Twisted: twisted.internet.task.TaskFailed
 * @since 0.1.0
 */
export class TaskFailed extends TaskFinished {
  override name = 'TaskFailed' as const;
  override readonly code = 'ERR_TASK_FAILED' as const;
  constructor(message = 'the task failed with an unhandled error', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * {@link CooperativeTask.resume} was called on a task that is not paused.
 *
 * @see Twisted: twisted.internet.task.NotPaused
 * @since 0.1.0
 */
export class NotPaused extends SchedulerError {
  override name = 'NotPaused' as const;
  override readonly code = 'ERR_NOT_PAUSED' as const;
  constructor(message = 'the task is not paused', options?: ErrorOptions) {
    super(message, options);
  }
}

/** Something scheduled by a Cooperator's scheduler, which it may cancel. */
type ScheduledCall = Pick<IDelayedCall, 'cancel'>;

/**
 * Options of {@link Cooperator}.
 *
 * @since 0.1.0
 */
export interface CooperatorOptions {
  /**
   * Called at the start of each step (tick); returns a predicate that says
   * when the step should end. Work units run until it returns true, at
   * least one per step.
   * @defaultValue steps of 10 ms, measured with `performance.now()`
   */
  terminationPredicateFactory?: () => () => boolean;
  /**
   * Arranges for a step to run later; returns something that can cancel it.
   * @defaultValue `(step) => reactor.callLater(0, step)` on the default `reactor`
   */
  scheduler?: (step: () => void) => Pick<IDelayedCall, 'cancel'>;
  /**
   * Whether tasks run as soon as they are added, or wait for
   * {@link Cooperator.start}.
   * @defaultValue true
   */
  started?: boolean;
}

/** The length of a step of the default termination predicate, in milliseconds. */
const MAX_SLICE_MS = 10;

function defaultTerminationPredicateFactory(): () => boolean {
  const end = performance.now() + MAX_SLICE_MS;
  return () => performance.now() >= end;
}

function defaultScheduler(step: () => void): ScheduledCall {
  return defaultReactor.callLater(0, step);
}

// Friend functions between Cooperator and CooperativeTask, which need each
// other's private state; assigned in the classes' static blocks.
let addTask: (cooperator: Cooperator, task: CooperativeTask) => void;
let removeTask: (cooperator: Cooperator, task: CooperativeTask) => void;
let oneWorkUnit: (task: CooperativeTask) => void;
let completeWith: (
  task: CooperativeTask,
  state: () => SchedulerError,
  result: Iterator<unknown> | Failure,
) => void;

/**
 * One iterator being run by a {@link Cooperator}: it can be paused, resumed,
 * stopped and waited on.
 *
 * @remarks
 * Each step of the cooperator calls the iterator's `next()` once. When it
 * yields a Deferred (or a promise), the task pauses until that has fired.
 * The task ends when the iterator is exhausted ({@link TaskDone}), throws
 * or a yielded Deferred fails ({@link TaskFailed}), is stopped
 * ({@link TaskStopped}), or its cooperator is stopped
 * ({@link SchedulerStopped}); each of these errors is what `pause()` and
 * `stop()` throw afterwards.
 *
 * Create tasks with {@link Cooperator.cooperate} or {@link cooperate}.
 *
 * @typeParam I - The iterator's type, which {@link CooperativeTask.whenDone} gives back.
 * @see Twisted: twisted.internet.task.CooperativeTask
 * @since 0.1.0
 */
export class CooperativeTask<I extends Iterator<unknown> = Iterator<unknown>> {
  readonly #iterator: I;
  readonly #cooperator: Cooperator;
  /** Deferreds from whenDone() waiting for the end of the task. */
  #deferreds: Deferred<I>[] = [];
  /** How many pause() calls are not yet resumed; the task is in its cooperator's list only at 0. */
  #pauseCount = 0;
  /** How the task ended (a factory of the error later operations throw); null while it runs. */
  #completionState: (() => SchedulerError) | null = null;
  #completionResult: I | Failure | undefined = undefined;

  static {
    oneWorkUnit = (task) => {
      task.#oneWorkUnit();
    };
    completeWith = (task, state, result) => {
      task.#completeWith(state, result as Iterator<unknown> & Failure);
    };
  }

  /**
   * Adds a task to `cooperator`; use {@link Cooperator.cooperate} instead.
   *
   * @internal
   */
  constructor(iterator: I, cooperator: Cooperator) {
    this.#iterator = iterator;
    this.#cooperator = cooperator;
    addTask(cooperator, this as CooperativeTask);
  }

  /**
   * Gives a Deferred that fires when the task ends.
   *
   * @remarks
   * Each call gives a new Deferred, so callbacks added to one do not change
   * what another fires with.
   *
   * Cancellation: cancelling the Deferred fails it with
   * {@link CancelledError} and stops it waiting; the task goes on.
   *
   * @returns A Deferred that fires with the iterator once it is exhausted,
   *   or fails with what it threw (or what a Deferred it yielded failed
   *   with), with {@link TaskStopped} if the task is stopped, or with
   *   {@link SchedulerStopped} if its cooperator is.
   */
  whenDone(): Deferred<I> {
    if (this.#completionState !== null) {
      const d = new Deferred<I>();
      d.callback(this.#completionResult as I | Failure);
      return d;
    }
    const d = new Deferred<I>(() => {
      this.#deferreds = this.#deferreds.filter((waiting) => waiting !== d);
    });
    this.#deferreds.push(d);
    return d;
  }

  /**
   * Stops doing work until {@link CooperativeTask.resume}; pauses nest, so
   * two pauses need two resumes.
   *
   * @throws {@link TaskFinished} (or {@link SchedulerStopped}) if the task has ended.
   */
  pause(): void {
    this.#checkFinish();
    this.#pauseCount++;
    if (this.#pauseCount === 1) removeTask(this.#cooperator, this as CooperativeTask);
  }

  /**
   * Undoes one {@link CooperativeTask.pause}; after the last one the task
   * does work again from the cooperator's next step. Resuming a task that
   * ended while paused does nothing more.
   *
   * @throws {@link NotPaused} if the task is not paused.
   */
  resume(): void {
    if (this.#pauseCount === 0) throw new NotPaused();
    this.#pauseCount--;
    if (this.#pauseCount === 0 && this.#completionState === null) {
      addTask(this.#cooperator, this as CooperativeTask);
    }
  }

  /**
   * Stops the task for good; {@link CooperativeTask.whenDone} Deferreds
   * fail with {@link TaskStopped}.
   *
   * @throws {@link TaskFinished} (or {@link SchedulerStopped}) if the task has already ended.
   */
  stop(): void {
    this.#checkFinish();
    this.#completeWith(() => new TaskStopped(), new Failure(new TaskStopped()) as I | Failure);
  }

  #checkFinish(): void {
    if (this.#completionState !== null) throw this.#completionState();
  }

  #completeWith(state: () => SchedulerError, result: I | Failure): void {
    this.#completionState = state;
    this.#completionResult = result;
    if (this.#pauseCount === 0) removeTask(this.#cooperator, this as CooperativeTask);
    // Fire only now that the task is out of its cooperator: a callback may
    // stop the cooperator, which must not find this task to complete again.
    const waiting = this.#deferreds;
    this.#deferreds = [];
    for (const d of waiting) d.callback(result);
  }

  /** Takes one value from the iterator: the task's unit of work. */
  #oneWorkUnit(): void {
    // A step that is under way may still reach a task its cooperator's stop() ended.
    if (this.#completionState !== null) return;
    let step: IteratorResult<unknown>;
    try {
      step = this.#iterator.next();
    } catch (error) {
      if (this.#completionState === null) {
        this.#completeWith(() => new TaskFailed(), new Failure(error));
      } else {
        log.failure('A task that had already ended threw', error);
      }
      return;
    }
    // The iterator itself may have stopped its task.
    if (this.#completionState !== null) return;
    if (step.done === true) {
      this.#completeWith(() => new TaskDone(), this.#iterator);
      return;
    }
    const value = step.value;
    if (value instanceof Deferred || isThenable(value)) {
      const d = value instanceof Deferred ? value : Deferred.fromPromise(value);
      this.pause();
      d.addCallbacks(
        () => {
          this.resume();
        },
        (failure) => {
          // A task that ended meanwhile has nobody to tell: leave the
          // failure unhandled, to be reported.
          if (this.#completionState !== null) return failure;
          this.#completeWith(() => new TaskFailed(), failure);
          return undefined;
        },
      );
    }
  }
}

/**
 * Shares time between long-running iterators, a little of each in turn,
 * without blocking the reactor.
 *
 * @remarks
 * Each iterator is a task, and each value it yields is a unit of work. On
 * each step, the cooperator takes one value from each task in turn (round
 * robin) until its termination predicate says the step is over (by
 * default, after 10 ms), then schedules the next step (by default with
 * `reactor.callLater(0, …)`, so I/O gets its turn). A task that yields a
 * Deferred or a promise is paused until it fires. When no task is left to
 * run, no step is scheduled.
 *
 * Uses: running CPU-heavy work without blocking, limiting parallelism (run
 * a few tasks at a time), or doing one asynchronous thing after another
 * (yield each Deferred).
 *
 * Cooperators do not cooperate with each other: most programs should use
 * the module's {@link cooperate} and {@link coiterate}.
 *
 * Differences from Twisted: `stop()` ends every running task (Twisted's can
 * skip some, as it removes them from the list it walks); the Deferred from
 * `coiterate` can be cancelled, which stops the task.
 *
 * @example
 * ```ts
 * const coop = new Cooperator({ scheduler: (step) => reactor.callLater(0, step) });
 * function* crunch(rows: Row[]) { for (const row of rows) yield process(row); }
 * coop.coiterate(crunch(rows)).addCallback(() => console.log('all done'));
 * ```
 *
 * @see Twisted: twisted.internet.task.Cooperator
 * @since 0.1.0
 */
export class Cooperator {
  /** The tasks that can do work now: not paused, not ended. */
  #tasks: CooperativeTask[] = [];
  /** Where the round robin is in #tasks; carries over from one step to the next. */
  #metarator: Iterator<CooperativeTask> = [][Symbol.iterator]();
  readonly #terminationPredicateFactory: () => () => boolean;
  readonly #scheduler: (step: () => void) => ScheduledCall;
  /** The scheduled next step; null when none is (no tasks, or not started). */
  #delayedCall: ScheduledCall | null = null;
  #stopped = false;
  #started: boolean;
  /** Tasks were added before start(): schedule a step then. */
  #mustScheduleOnStart = false;

  static {
    addTask = (cooperator, task) => {
      cooperator.#addTask(task);
    };
    removeTask = (cooperator, task) => {
      cooperator.#removeTask(task);
    };
  }

  /**
   * @param options - The termination predicate factory, the scheduler, and
   *   whether to start at once; see {@link CooperatorOptions}.
   */
  constructor(options: CooperatorOptions = {}) {
    this.#terminationPredicateFactory =
      options.terminationPredicateFactory ?? defaultTerminationPredicateFactory;
    this.#scheduler = options.scheduler ?? defaultScheduler;
    this.#started = options.started ?? true;
  }

  /** True when started and not stopped. */
  get running(): boolean {
    return this.#started && !this.#stopped;
  }

  /**
   * Runs `iterator` as a task, as {@link Cooperator.cooperate} does, and
   * gives a Deferred that fires when it ends.
   *
   * @remarks
   * Cancellation: cancelling the Deferred stops the task (the iterator is
   * not advanced again) and fails it with {@link CancelledError}. A
   * `doneDeferred` you pass keeps its own canceller instead.
   *
   * @param iterator - The work, one unit per value (a generator, say).
   * @param doneDeferred - The Deferred to fire; default a new one.
   * @returns A Deferred that fires with the iterator once it is exhausted,
   *   or fails with what it threw, or with {@link SchedulerStopped}.
   */
  coiterate<I extends Iterator<unknown>>(iterator: I, doneDeferred?: Deferred<I>): Deferred<I> {
    let cancelling = false;
    const done =
      doneDeferred ??
      new Deferred<I>(() => {
        cancelling = true;
        task.stop();
      });
    const task = new CooperativeTask(iterator, this);
    task.whenDone().addBoth((result) => {
      // A doneDeferred of the caller's may have been cancelled (fired) already.
      if (!cancelling && !done.called) done.callback(result);
    });
    return done;
  }

  /**
   * Runs `iterator` as a long-running task: its `next()` is called once per
   * step, sharing time with the other tasks.
   *
   * @param iterator - The work, one unit per value (a generator, say).
   * @returns The task, to pause, resume, stop or wait on.
   */
  cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I> {
    return new CooperativeTask(iterator, this);
  }

  /** Starts scheduling steps, after `{ started: false }` or a stop. */
  start(): void {
    this.#stopped = false;
    this.#started = true;
    if (this.#mustScheduleOnStart) {
      this.#mustScheduleOnStart = false;
      this.#reschedule();
    }
  }

  /**
   * Stops scheduling steps: every task that can run now ends, failing its
   * `whenDone` Deferreds with {@link SchedulerStopped}; so does every task
   * added later or resumed later (a paused one, say), until
   * {@link Cooperator.start}.
   */
  stop(): void {
    this.#stopped = true;
    const tasks = this.#tasks;
    this.#tasks = [];
    // End a step under way (a task may stop its own cooperator).
    this.#metarator = [][Symbol.iterator]();
    if (this.#delayedCall !== null) {
      this.#delayedCall.cancel();
      this.#delayedCall = null;
    }
    for (const task of tasks) {
      completeWith(task, () => new SchedulerStopped(), new Failure(new SchedulerStopped()));
    }
  }

  #addTask(task: CooperativeTask): void {
    this.#tasks.push(task);
    if (this.#stopped) {
      // completeWith removes it again.
      completeWith(task, () => new SchedulerStopped(), new Failure(new SchedulerStopped()));
    } else {
      this.#reschedule();
    }
  }

  #removeTask(task: CooperativeTask): void {
    const index = this.#tasks.indexOf(task);
    if (index !== -1) this.#tasks.splice(index, 1);
    // No work left: a pending step would do nothing, so cancel it.
    if (this.#tasks.length === 0 && this.#delayedCall !== null) {
      this.#delayedCall.cancel();
      this.#delayedCall = null;
    }
  }

  /** Runs one step: units of work, round robin, until the termination predicate says stop. */
  #tick(): void {
    this.#delayedCall = null;
    const terminator = this.#terminationPredicateFactory();
    step: while (this.#tasks.length > 0) {
      for (let next = this.#metarator.next(); next.done !== true; next = this.#metarator.next()) {
        oneWorkUnit(next.value);
        if (terminator()) break step;
      }
      this.#metarator = this.#tasks[Symbol.iterator]();
    }
    this.#reschedule();
  }

  #reschedule(): void {
    if (!this.#started) {
      this.#mustScheduleOnStart = true;
      return;
    }
    if (this.#delayedCall === null && this.#tasks.length > 0) {
      this.#delayedCall = this.#scheduler(() => this.#tick());
    }
  }
}

/** The cooperator of the module functions cooperate() and coiterate(). */
const theCooperator = new Cooperator();

/**
 * Runs `iterator` as a long-running task on the default cooperator, which
 * shares time between all the tasks given to this function and to
 * {@link coiterate}.
 *
 * @remarks
 * Break CPU-heavy work into small steps, yield between them, and pass the
 * generator here: no step blocks the reactor for longer than one unit of
 * work of one task (and a step lasts about 10 ms). The default cooperator
 * schedules its steps on the default `reactor`.
 *
 * @example
 * ```ts
 * function* hashAll(files: string[]) { for (const f of files) yield hashOne(f); }
 * cooperate(hashAll(files)).whenDone().addCallback(() => console.log('hashed'));
 * ```
 *
 * @param iterator - The work, one unit per value.
 * @returns The task, to pause, resume, stop or wait on.
 * @see Twisted: twisted.internet.task.cooperate
 * @since 0.1.0
 */
export function cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I> {
  return theCooperator.cooperate(iterator);
}

/**
 * Runs `iterator` on the default cooperator, as {@link cooperate} does, and
 * gives a Deferred that fires when it ends.
 *
 * @remarks
 * Cancellation: cancelling the Deferred stops the task and fails it with
 * {@link CancelledError}.
 *
 * @param iterator - The work, one unit per value.
 * @returns A Deferred that fires with the iterator once it is exhausted, or
 *   fails with what it threw.
 * @see Twisted: twisted.internet.task.coiterate
 * @since 0.1.0
 */
export function coiterate<I extends Iterator<unknown>>(iterator: I): Deferred<I> {
  return theCooperator.coiterate(iterator);
}
