// Deferreds: results that are not there yet, with Twisted's exact semantics
// (Twisted: twisted.internet.defer).
// Tests: test/unit/internet/defer*.test.ts, test/unit/internet/inlinecb.test.ts,
// test/unit/internet/bound-methods.test.ts

/**
 * Deferreds: results that are not there yet, and the callbacks that wait
 * for them, fired synchronously and in order as in Twisted. With them come
 * `Failure` (an error travelling down the errbacks), the combinators
 * (`DeferredList`, `gatherResults`, `race`), sequential code
 * (`inlineCallbacks`, `ensureDeferred`), the coordination primitives
 * (`DeferredLock`, `DeferredSemaphore`, `DeferredQueue`) and their errors.
 *
 * Use a Deferred for every result your code waits for; it is also
 * `PromiseLike`, so `await d` works where a Promise would. Twisted:
 * `twisted.internet.defer` (and `twisted.python.failure` for `Failure`).
 *
 * @example
 * ```ts
 * import { Deferred, gatherResults, succeed } from 'torsion/defer';
 *
 * const d = new Deferred<number>();
 * d.addCallback((n) => n * 2).addCallback((n) => console.log(n));
 * d.callback(21); // prints 42 before callback() returns
 *
 * const [n, s] = await gatherResults([succeed(1), succeed('two')]); // number, string
 * ```
 *
 * @module torsion/defer
 * @primaryExport
 */

import { inspect } from 'node:util';
import { Logger } from '../logger/logger.js';
import { bindMethods, bindOnRead } from './_bind.js';
import { TorsionError } from './error.js';
import { captureStack, Failure } from './failure.js';
import type { IDelayedCall, IReactorTime } from './interfaces.js';

export { type ErrorClass, type ErrorMatcher, Failure, type TracebackDetail } from './failure.js';

const log = new Logger('torsion.internet.defer');

// ---------------------------------------------------------------------------
// Errors

/**
 * Thrown by `callback()` or `errback()` on a Deferred that has already fired.
 *
 * @remarks
 * With {@link setDebugging} on, the message shows where the Deferred was
 * created (`C:` lines) and where it first fired (`I:` lines).
 *
 * @see Twisted: twisted.internet.defer.AlreadyCalledError
 * @since 0.1.0
 */
export class AlreadyCalledError extends TorsionError {
  override name = 'AlreadyCalledError' as const;
  override readonly code = 'ERR_ALREADY_CALLED_DEFERRED' as const;
  constructor(message = 'the Deferred has already fired', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The failure of a Deferred that was cancelled.
 *
 * @see Twisted: twisted.internet.defer.CancelledError
 * @since 0.1.0
 */
export class CancelledError extends TorsionError {
  override name = 'CancelledError' as const;
  override readonly code = 'ERR_CANCELLED' as const;
  constructor(message = 'the Deferred was cancelled', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The failure of a Deferred that did not fire within its
 * {@link Deferred.addTimeout} deadline.
 *
 * @see Twisted: twisted.internet.defer.TimeoutError
 * @since 0.1.0
 */
export class TimeoutError extends TorsionError {
  override name = 'TimeoutError' as const;
  override readonly code = 'ERR_DEFERRED_TIMEOUT' as const;
  /** The deadline that passed, in seconds, when known. */
  readonly timeout: number | undefined;
  constructor(message = 'the Deferred timed out', options?: ErrorOptions & { timeout?: number }) {
    super(message, options);
    this.timeout = options?.timeout;
  }
}

/**
 * Thrown by {@link ensureDeferred} for a value that is neither a Deferred, a
 * promise nor a generator.
 *
 * @see Twisted: twisted.internet.defer.NotACoroutineError
 * @since 0.1.0
 */
export class NotACoroutineError extends TypeError {
  /** The error's class name. */
  override name = 'NotACoroutineError' as const;
  /** A stable, machine-readable identifier of this kind of error. */
  readonly code = 'ERR_NOT_A_COROUTINE' as const;
}

/**
 * The failure of a {@link DeferredList} with `fireOnOneErrback`, or of
 * {@link gatherResults}: the first input that failed.
 *
 * @see Twisted: twisted.internet.defer.FirstError
 * @since 0.1.0
 */
export class FirstError extends TorsionError {
  override name = 'FirstError' as const;
  override readonly code = 'ERR_FIRST_ERROR' as const;
  /** The failure of that input. */
  readonly subFailure: Failure;
  /** Its position in the list. */
  readonly index: number;

  constructor(failure: Failure, index: number, options?: ErrorOptions) {
    super(`FirstError[#${index}, ${failure.getBriefTraceback()}]`, {
      cause: failure.value,
      ...options,
    });
    this.subFailure = failure;
    this.index = index;
  }

  /** Whether `other` is a FirstError for the same index and the same failure. */
  equals(other: unknown): boolean {
    return (
      other instanceof FirstError &&
      other.index === this.index &&
      other.subFailure === this.subFailure
    );
  }
}

/**
 * The failure of {@link race} when every input failed; `failures` are in
 * input order.
 *
 * @see Twisted: twisted.internet.defer.FailureGroup
 * @since 0.1.0
 */
export class FailureGroup extends TorsionError {
  override name = 'FailureGroup' as const;
  override readonly code = 'ERR_FAILURE_GROUP' as const;
  /** The failures, in the order of the inputs. */
  readonly failures: Failure[];
  constructor(failures: Failure[], options?: ErrorOptions) {
    super(`all ${failures.length} Deferreds failed`, options);
    this.failures = failures;
  }
}

/**
 * Thrown by {@link DeferredQueue.put} when the queue is full.
 *
 * @see Twisted: twisted.internet.defer.QueueOverflow
 * @since 0.1.0
 */
export class QueueOverflow extends TorsionError {
  override name = 'QueueOverflow' as const;
  override readonly code = 'ERR_QUEUE_OVERFLOW' as const;
  constructor(message = 'the DeferredQueue is full', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by {@link DeferredQueue.get} when too many gets are already waiting.
 *
 * @see Twisted: twisted.internet.defer.QueueUnderflow
 * @since 0.1.0
 */
export class QueueUnderflow extends TorsionError {
  override name = 'QueueUnderflow' as const;
  override readonly code = 'ERR_QUEUE_UNDERFLOW' as const;
  constructor(message = 'too many gets are waiting on the DeferredQueue', options?: ErrorOptions) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------
// Debugging and unhandled errors

let debugging = false;

/**
 * Turns Deferred debugging on or off.
 *
 * @remarks
 * While on, every new Deferred records the stack where it was created and
 * the stack where it first fired. {@link AlreadyCalledError} messages and
 * "Unhandled error in Deferred" reports then show both. It costs a stack
 * capture per Deferred, so leave it off in production.
 *
 * @see Twisted: twisted.internet.defer.setDebugging
 * @since 0.1.0
 */
export function setDebugging(on: boolean): void {
  debugging = on;
}

/**
 * Whether Deferred debugging is on.
 *
 * @since 0.1.0
 */
export function getDebugging(): boolean {
  return debugging;
}

/**
 * What a Deferred remembers for error reports: where it was created and
 * first fired (when debugging), and the failure it ended with, which is
 * reported as unhandled if the Deferred is garbage-collected still holding it.
 */
class DebugInfo {
  failResult: Failure | null = null;
  creator: string | null = null;
  invoker: string | null = null;
  registered = false;

  tracebacks(): string {
    let info = '';
    if (this.creator !== null)
      info += ` C: Deferred was created:\n${prefixFrames(this.creator, ' C:')}\n`;
    if (this.invoker !== null)
      info += ` I: First Invoker was:\n${prefixFrames(this.invoker, ' I:')}\n`;
    return info;
  }
}

/** The "    at …" lines of `stack`, each with `prefix` in front. */
function prefixFrames(stack: string, prefix: string): string {
  return stack
    .split('\n')
    .filter((line) => line.startsWith('    at '))
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

/** Failures still unhandled, so that they can be reported at exit. */
const unhandled = new Set<DebugInfo>();
let exitHookInstalled = false;

const collected = new FinalizationRegistry<DebugInfo>((info) => {
  unhandled.delete(info);
  reportUnhandled(info);
});

function reportUnhandled(info: DebugInfo): void {
  const failure = info.failResult;
  if (failure === null) return;
  info.failResult = null;
  log.critical('Unhandled error in Deferred:', { isError: true });
  const debugInfo = info.tracebacks();
  log.failure(debugInfo === '' ? '' : '(debug: {debugInfo})', failure, { debugInfo });
}

function reportAllUnhandled(): void {
  for (const info of unhandled) reportUnhandled(info);
  unhandled.clear();
}

// ---------------------------------------------------------------------------
// Deferred

/**
 * The value a Deferred carries after a callback that returned `R`: a
 * returned Deferred or promise is waited for, and a returned {@link Failure}
 * continues on the error path.
 *
 * @since 0.1.0
 */
export type ResultOf<R> =
  R extends Deferred<infer U> ? U : R extends Promise<infer U> ? U : Exclude<R, Failure>;

/**
 * A callback: gets the result and the extra arguments given when it was added.
 * It is called without an object (`this: void`): pass a bound method or an
 * arrow function, as the compiler checks.
 */
export type Callback<T, A extends unknown[], R> = (this: void, result: T, ...args: A) => R;
/** An errback: gets the Failure and the extra arguments given when it was added. */
export type Errback<A extends unknown[], R> = (this: void, failure: Failure, ...args: A) => R;
/** Called by {@link Deferred.cancel} before the Deferred has fired. */
export type Canceller<T> = (deferred: Deferred<T>) => void;
/** Translates the result of a Deferred that timed out; see {@link Deferred.addTimeout}. */
export type OnTimeoutCancel<T, R> = (result: T | Failure, timeout: number) => R;

type AnyFunction = (...args: never[]) => unknown;

/** Marks a step that hands this Deferred's result to a Deferred waiting on it. */
const CONTINUE: AnyFunction = () => undefined;

let nextId = 1;
const ids = new WeakMap<object, number>();
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

// Friend functions with access to Deferred's private state, for the helpers
// below (succeed, inlineCallbacks); assigned in Deferred's static block.
let fireSucceeded: <T>(d: Deferred<T>, result: T) => void;
let insertFirstErrback: <T>(d: Deferred<T>, errback: Errback<[], unknown>) => void;

/**
 * A result that is not there yet: a callback chain that runs when someone
 * fires the Deferred with `callback(value)` or `errback(error)`.
 *
 * @remarks
 * Semantics are Twisted's, exactly:
 *
 * - **Firing is synchronous.** `callback(v)` runs every callback already
 *   added, in order, before it returns; each gets the previous one's return
 *   value. A callback added after the Deferred fired runs at once.
 * - **Errors switch tracks.** A callback that throws or returns a
 *   {@link Failure} sends the chain down the error path, where errbacks get
 *   the Failure; an errback that returns a plain value switches back.
 * - **Chaining.** A callback that returns another Deferred pauses this
 *   chain until that one fires, then continues with its result. Chains are
 *   processed iteratively: 100,000 nested Deferreds do not grow the stack.
 * - **Fire once.** A second `callback`/`errback` throws
 *   {@link AlreadyCalledError}.
 * - **Cancellation.** `cancel()` calls the canceller given to the
 *   constructor; if that does not fire the Deferred, it fails with
 *   {@link CancelledError}. A Deferred waiting on another one forwards the
 *   cancellation to it.
 * - **Unhandled errors.** A Deferred garbage-collected (or still alive at
 *   exit) while its result is a Failure is logged as
 *   "Unhandled error in Deferred".
 *
 * A Deferred is also `PromiseLike`: `await d` gives the result (or throws
 * `failure.value`) and, as in Twisted, consumes it: the Deferred's result is
 * `undefined` afterwards.
 *
 * Differences from Twisted: a callback that returns a native `Promise` is
 * chained as if it had returned a Deferred; `callback()` with a Deferred as
 * the value is a `TypeError`; a callback that returns its own Deferred fails
 * the chain with a `TypeError` instead of a warning and a hang.
 *
 * @example
 * ```ts
 * const d = new Deferred<number>();
 * d.addCallback((n) => n * 2).addCallback((n) => console.log(n));
 * reactor.callLater(1, () => d.callback(21)); // prints 42 a second later
 * ```
 *
 * @typeParam T - The type of the result the Deferred fires with.
 * @see Twisted: twisted.internet.defer.Deferred
 * @since 0.1.0
 */
export class Deferred<T = unknown> implements PromiseLike<T> {
  /** The current result; meaningful once called. A Deferred here means "waiting on it". */
  #result: unknown = undefined;
  #called = false;
  #paused = 0;
  /**
   * The callback chain, flat: [callback, errback, callbackArgs, errbackArgs]
   * per step. A null function passes the result through unchanged.
   */
  #steps: unknown[] | null = null;
  /** Index in #steps of the next step to run; both reset when the chain drains. */
  #next = 0;
  /** Typed loosely so that a Deferred<T> stays assignable to a Deferred<unknown>. */
  #canceller: ((deferred: never) => void) | null;
  /** True while one of this Deferred's callbacks is on the stack (no re-entrant runs). */
  #running = false;
  #chainedTo: Deferred<unknown> | null = null;
  /** Set by cancel() without a canceller: the producer's one late fire is swallowed. */
  #suppressAlreadyCalled = false;
  #debugInfo: DebugInfo | null = null;

  static {
    fireSucceeded = (d, result) => {
      d.#called = true;
      d.#result = result;
    };
    insertFirstErrback = (d, errback) => {
      (d.#steps ??= []).splice(d.#next, 0, null, errback, undefined, undefined);
    };
  }

  /**
   * @param canceller - Called by {@link Deferred.cancel} with this Deferred
   *   before it has fired, to stop the work that would fire it. If it does
   *   not fire the Deferred, `cancel()` fails it with {@link CancelledError}.
   *   Without a canceller, the producer's eventual `callback`/`errback` is
   *   silently dropped once.
   */
  constructor(canceller?: Canceller<T> | null) {
    this.#canceller = canceller ?? null;
    if (debugging) {
      const info = new DebugInfo();
      info.creator = captureStack(Deferred);
      this.#debugInfo = info;
    }
  }

  /** Whether `callback` or `errback` has been called. */
  get called(): boolean {
    return this.#called;
  }

  /** How many unmatched {@link Deferred.pause} calls there are; 0 when running. */
  get paused(): number {
    return this.#paused;
  }

  /**
   * Adds a callback and an errback as one step.
   *
   * @remarks
   * Exactly one of the two runs, depending on whether the result reaching
   * this step is a success or a {@link Failure}. `null` as the errback passes
   * failures through.
   *
   * @param callback - Runs on success with the result and `callbackArgs`.
   * @param errback - Runs on failure with the Failure and `errbackArgs`.
   * @param callbackArgs - Extra arguments for `callback`.
   * @param errbackArgs - Extra arguments for `errback`.
   * @returns This Deferred, typed with its new result.
   */
  addCallbacks<R1, R2 = never, A1 extends unknown[] = [], A2 extends unknown[] = []>(
    this: Deferred<unknown>,
    callback: Callback<T, A1, R1>,
    errback?: Errback<A2, R2> | null,
    callbackArgs?: A1 | null,
    errbackArgs?: A2 | null,
  ): Deferred<ResultOf<R1> | ResultOf<R2>> {
    this.#addStep(
      callback,
      errback ?? null,
      callbackArgs != null && callbackArgs.length > 0 ? callbackArgs : undefined,
      errbackArgs != null && errbackArgs.length > 0 ? errbackArgs : undefined,
    );
    return this as unknown as Deferred<ResultOf<R1> | ResultOf<R2>>;
  }

  /**
   * Adds a callback, which runs on success with the result followed by `args`.
   * Failures pass it by.
   *
   * @returns This Deferred, typed with the callback's result.
   */
  addCallback<R, A extends unknown[] = []>(
    this: Deferred<unknown>,
    callback: Callback<T, A, R>,
    ...args: A
  ): Deferred<ResultOf<R>> {
    this.#addStep(callback, null, args.length > 0 ? args : undefined, undefined);
    return this as unknown as Deferred<ResultOf<R>>;
  }

  /**
   * Adds an errback, which runs on failure with the {@link Failure} followed
   * by `args`. Successes pass it by. Returning a value recovers; throwing
   * (or `failure.trap` not matching) keeps the chain on the error path.
   *
   * @returns This Deferred, typed with the recovered result.
   */
  addErrback<R, A extends unknown[] = []>(
    this: Deferred<unknown>,
    errback: Errback<A, R>,
    ...args: A
  ): Deferred<T | ResultOf<R>> {
    this.#addStep(null, errback, undefined, args.length > 0 ? args : undefined);
    return this as unknown as Deferred<T | ResultOf<R>>;
  }

  /**
   * Adds one function as both callback and errback: it runs with the result
   * or the {@link Failure}, followed by `args`.
   *
   * @returns This Deferred, typed with the function's result.
   */
  addBoth<R, A extends unknown[] = []>(
    this: Deferred<unknown>,
    callback: (this: void, result: T | Failure, ...args: A) => R,
    ...args: A
  ): Deferred<ResultOf<R>> {
    const extra = args.length > 0 ? args : undefined;
    this.#addStep(callback, callback, extra, extra);
    return this as unknown as Deferred<ResultOf<R>>;
  }

  /**
   * Fails this Deferred with {@link TimeoutError} unless it fires within
   * `timeout` seconds.
   *
   * @remarks
   * The timeout covers the callbacks added before this call and none added
   * after. When the time is up, the Deferred is cancelled; if the result
   * is then a {@link CancelledError} failure it becomes a
   * {@link TimeoutError}, unless `onTimeoutCancel` is given, which then
   * receives the result and the timeout and decides. A result that arrives in
   * time (or an explicit `cancel()`) cancels the timer and is left alone.
   *
   * @param timeout - Seconds (float) to wait.
   * @param clock - Schedules the timeout; pass a `Clock` in tests.
   * @param onTimeoutCancel - Translates the result after a timeout, or an
   *   options object `{ onTimeoutCancel }`.
   * @returns This Deferred.
   * @see Twisted: twisted.internet.defer.Deferred.addTimeout
   */
  addTimeout<R = T>(
    this: Deferred<unknown>,
    timeout: number,
    clock: IReactorTime,
    onTimeoutCancel?: OnTimeoutCancel<T, R> | { onTimeoutCancel?: OnTimeoutCancel<T, R> },
  ): Deferred<T | ResultOf<R>> {
    const translate =
      typeof onTimeoutCancel === 'function' ? onTimeoutCancel : onTimeoutCancel?.onTimeoutCancel;
    let timedOut = false;
    const delayedCall: IDelayedCall = clock.callLater(timeout, () => {
      timedOut = true;
      this.cancel();
    });
    const convert = (result: T | Failure): unknown =>
      timedOut ? (translate ?? cancelledToTimedOutError)(result, timeout) : result;
    this.#addStep(convert, convert, undefined, undefined);
    const cancelTimer = (result: unknown): unknown => {
      if (delayedCall.active()) delayedCall.cancel();
      return result;
    };
    this.#addStep(cancelTimer, cancelTimer, undefined, undefined);
    return this as unknown as Deferred<T | ResultOf<R>>;
  }

  /**
   * Cancels this Deferred when `signal` aborts: the other direction of
   * {@link Deferred.fromAsync}, for code that holds an `AbortSignal`.
   *
   * @remarks
   * An already aborted signal cancels at once. Once the Deferred has fired
   * the signal no longer matters: the listener is removed, so a long-lived
   * signal does not keep finished Deferreds alive. The Deferred's canceller
   * decides what cancelling means (a connection attempt is abandoned, a
   * timer stopped); without one it fails with {@link CancelledError}.
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * endpoint.connect(factory).cancelOn(controller.signal);
   * controller.abort(); // abandons the connection attempt
   * ```
   *
   * @param signal - The signal whose abort cancels this Deferred.
   * @returns This Deferred.
   */
  cancelOn(signal: AbortSignal): this {
    if (this.#called) return this;
    if (signal.aborted) {
      this.cancel();
      return this;
    }
    const onAbort = (): void => {
      this.cancel();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const removeListener = (result: unknown): unknown => {
      signal.removeEventListener('abort', onAbort);
      return result;
    };
    this.#addStep(removeListener, removeListener, undefined, undefined);
    return this;
  }

  /**
   * Makes `other` fire with this Deferred's result: shorthand for
   * `addCallbacks(r => other.callback(r), f => other.errback(f))`.
   *
   * @remarks
   * This Deferred's result is `undefined` afterwards. Unlike returning a
   * Deferred from a callback, long explicit chains grow the stack.
   *
   * @returns This Deferred.
   */
  chainDeferred(other: Deferred<T>): Deferred<void> {
    other.#chainedTo = this as Deferred<unknown>;
    return this.addCallbacks(
      (result) => {
        other.callback(result);
      },
      (failure) => {
        other.errback(failure);
      },
    );
  }

  /**
   * Fires the Deferred with a result: runs the callback chain now, on this
   * stack. A {@link Failure} as the result fires the error path, as `errback`.
   * Works unbound, as Twisted's bound method: `clock.callLater(1, d.callback, 9)`.
   *
   * @throws {@link AlreadyCalledError} if the Deferred has already fired.
   * @throws TypeError if `result` is a Deferred (return it from a callback to chain).
   */
  callback(result: T | Failure): void {
    if (result instanceof Deferred) {
      throw new TypeError('callback() was given a Deferred: return it from a callback to chain it');
    }
    this.#start(result, methods.callback);
  }

  /**
   * Fires the Deferred with an error: runs the chain on the error path.
   * Works unbound: `e.addErrback(d.errback)`.
   *
   * @param reason - A {@link Failure}, or any thrown value (it is wrapped).
   * @throws {@link AlreadyCalledError} if the Deferred has already fired.
   */
  errback(reason: unknown): void {
    this.#start(reason instanceof Failure ? reason : new Failure(reason), methods.errback);
  }

  /** Stops the chain from running until a matching {@link Deferred.unpause}. */
  pause(this: Deferred<unknown>): void {
    this.#paused++;
  }

  /** Undoes one {@link Deferred.pause}; at zero, runs any pending callbacks. */
  unpause(this: Deferred<unknown>): void {
    if (this.#paused === 0) return;
    this.#paused--;
    if (this.#paused === 0 && this.#called) this.#runCallbacks();
  }

  /**
   * Cancels the work this Deferred waits for.
   *
   * @remarks
   * Before it has fired: calls the canceller; if that did not fire the
   * Deferred, fails it with {@link CancelledError}. While waiting on another
   * Deferred returned by a callback: cancels that one. Otherwise: nothing.
   * Works unbound: `clock.callLater(5, d.cancel)`.
   */
  cancel(): void {
    if (!this.#called) {
      const canceller = this.#canceller;
      if (canceller !== null) canceller(this as never);
      else this.#suppressAlreadyCalled = true;
      if (!this.#called) this.errback(new Failure(new CancelledError()));
    } else if (this.#result instanceof Deferred) {
      this.#result.cancel();
    }
  }

  /**
   * Registers callbacks as a promise does; prefer `await d`.
   *
   * @remarks
   * This consumes the result: the Deferred's result is `undefined`
   * afterwards and its failure is no longer unhandled. A failure rejects with
   * `failure.value`, the original error.
   */
  // biome-ignore lint/suspicious/noThenProperty: a Deferred is PromiseLike by design.
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.asPromise().then(onFulfilled, onRejected);
  }

  /**
   * A promise of the result; a failure rejects with `failure.value`.
   *
   * @remarks
   * Consumes the result, as `await` does. Cancellation: promises cannot be
   * cancelled; cancel the Deferred itself.
   */
  asPromise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#addStep(
        (result: T) => {
          resolve(result);
        },
        (failure: Failure) => {
          reject(failure.value);
        },
        undefined,
        undefined,
      );
    });
  }

  /**
   * `const value = yield* d` inside {@link inlineCallbacks}: waits for `d`
   * with `value` typed as `T` (Twisted's `yield from d`).
   */
  *[Symbol.iterator](): Generator<Deferred<T>, T, T> {
    return yield this;
  }

  /**
   * `<Deferred #3>`, `<Deferred #3 current result: 42>` or
   * `<Deferred #3 waiting on Deferred #7>`.
   */
  toString(): string {
    const name = this.constructor.name;
    const id = idOf(this);
    if (this.#chainedTo !== null) {
      return `<${name} #${id} waiting on Deferred #${idOf(this.#chainedTo)}>`;
    }
    if (!this.#called) return `<${name} #${id}>`;
    return `<${name} #${id} current result: ${inspect(this.#result, { depth: 1, breakLength: Infinity })}>`;
  }

  /** The `util.inspect` form, same as {@link Deferred.toString}. @hidden */
  [inspect.custom](): string {
    return this.toString();
  }

  /**
   * A Deferred that fires with what `promise` resolves to, or fails with
   * what it rejects with.
   *
   * @remarks
   * Cancellation: promises cannot be stopped, so `cancel()` fails the
   * Deferred with {@link CancelledError} at once and the promise's eventual
   * outcome is ignored.
   *
   * @see Twisted: twisted.internet.defer.Deferred.fromFuture
   */
  static fromPromise<T>(promise: PromiseLike<T>): Deferred<T> {
    const d = new Deferred<T>();
    promise.then(
      (value) => {
        d.callback(value);
      },
      (reason: unknown) => {
        d.errback(reason);
      },
    );
    return d;
  }

  /**
   * Wraps a running coroutine in a Deferred: the promise an `async`
   * function returned, or a generator that yields Deferreds (run as by
   * {@link inlineCallbacks}).
   *
   * @remarks
   * Twisted users write `Deferred.fromCoroutine(main())` for `async def
   * main()`; here `main()` is an `async` function and the Deferred fires
   * with what it returns or fails with what it throws. To cancel the work
   * itself, use {@link Deferred.fromAsync}, which passes an `AbortSignal`.
   *
   * @param coroutine - A promise (any thenable that is not a Deferred) or a
   *   generator.
   * @throws {@link NotACoroutineError} for anything else, a Deferred included
   *   (it needs no wrapping).
   * @see Twisted: twisted.internet.defer.Deferred.fromCoroutine
   */
  static fromCoroutine<T>(coroutine: PromiseLike<T> | Generator<unknown, T, never>): Deferred<T> {
    const thenable = typeof (coroutine as { then?: unknown } | null)?.then === 'function';
    if (coroutine instanceof Deferred || !(thenable || isGenerator(coroutine))) {
      throw new NotACoroutineError(
        `Deferred.fromCoroutine needs a promise or a generator, got ${
          coroutine instanceof Deferred
            ? 'a Deferred (use it as it is)'
            : inspect(coroutine, { depth: 0 })
        }`,
      );
    }
    return ensureDeferred(coroutine);
  }

  /**
   * Runs an `async` function and gives its outcome as a Deferred whose
   * `cancel()` aborts the function's `AbortSignal`.
   *
   * @remarks
   * Cancellation: `cancel()` aborts the signal (its reason is a
   * {@link CancelledError}) and fails the Deferred with `CancelledError` at
   * once; whatever the function does afterwards is ignored and nothing is
   * reported as unhandled.
   *
   * @example
   * ```ts
   * const d = Deferred.fromAsync((signal) => fetch(url, { signal }).then((r) => r.text()));
   * d.addTimeout(5, reactor); // aborts the fetch after 5 s
   * ```
   */
  static fromAsync<T>(fn: (signal: AbortSignal) => PromiseLike<T> | T): Deferred<T> {
    const controller = new AbortController();
    let cancelled = false;
    const d = new Deferred<T>(() => {
      cancelled = true;
      controller.abort(new CancelledError());
    });
    let outcome: PromiseLike<T> | T;
    try {
      outcome = fn(controller.signal);
    } catch (error) {
      d.errback(error);
      return d;
    }
    Promise.resolve(outcome).then(
      (value) => {
        if (!cancelled) d.callback(value);
      },
      (reason: unknown) => {
        if (!cancelled) d.errback(reason);
      },
    );
    return d;
  }

  #addStep(callback: unknown, errback: unknown, callbackArgs: unknown, errbackArgs: unknown): void {
    let steps = this.#steps;
    if (steps === null) {
      // Grown by push, an empty array gets room for four steps at once; a
      // literal of four would be reallocated by the next add.
      steps = [];
      this.#steps = steps;
    }
    steps.push(callback, errback, callbackArgs, errbackArgs);
    if (this.#called) this.#runCallbacks();
  }

  /** `invokedVia` is the public method that called this, where the invoker's stack starts. */
  #start(result: unknown, invokedVia: Function): void {
    if (this.#called) {
      if (this.#suppressAlreadyCalled) {
        this.#suppressAlreadyCalled = false;
        return;
      }
      if (debugging) {
        const info = (this.#debugInfo ??= new DebugInfo());
        throw new AlreadyCalledError(`the Deferred has already fired\n${info.tracebacks()}`);
      }
      throw new AlreadyCalledError();
    }
    if (debugging) (this.#debugInfo ??= new DebugInfo()).invoker = captureStack(invokedVia);
    this.#called = true;
    // Drop the canceller: it can no longer run, and it may refer back to us.
    this.#canceller = null;
    this.#result = result;
    this.#runCallbacks();
  }

  /**
   * Runs as much of the chain as can run now.
   *
   * Chaining is iterative: when a Deferred hands its result to the Deferred
   * waiting on it, the waiter becomes `current` and the giver is stacked in
   * `chain`, to resume once the waiter is done. So the stack does not grow
   * with the length of a chain of Deferreds.
   */
  #runCallbacks(): void {
    if (this.#running) return;
    let chain: Deferred<unknown>[] | null = null;
    let current: Deferred<unknown> = this as Deferred<unknown>;
    for (;;) {
      if (current.#paused > 0) return;
      const cur = current;
      let finished = true;
      cur.#chainedTo = null;
      const steps = cur.#steps;
      if (steps !== null) {
        while (cur.#next < steps.length) {
          const i = cur.#next;
          cur.#next = i + 4;
          const onError = cur.#result instanceof Failure ? 1 : 0;
          const fn = steps[i + onError] as AnyFunction | null;
          const args = steps[i + 2 + onError] as unknown[] | Deferred<unknown> | undefined;
          if (fn === null) continue;
          if (fn === CONTINUE) {
            // Give our result to the Deferred waiting on us and resume it.
            const waiter = args as Deferred<unknown>;
            waiter.#result = cur.#result;
            cur.#result = undefined;
            if (cur.#debugInfo !== null) cur.#clearUnhandled();
            waiter.#paused--;
            (chain ??= []).push(cur);
            current = waiter;
            finished = false;
            break;
          }
          let result: unknown;
          cur.#running = true;
          try {
            result =
              args === undefined
                ? (fn as (r: unknown) => unknown)(cur.#result)
                : (fn as (r: unknown, ...a: unknown[]) => unknown)(
                    cur.#result,
                    ...(args as unknown[]),
                  );
          } catch (error) {
            result = new Failure(error);
          }
          cur.#running = false;
          if (typeof result === 'object' && result !== null) {
            if (result instanceof Promise) result = Deferred.fromPromise(result);
            if (result instanceof Deferred) {
              if (result === cur) {
                result = new Failure(
                  new TypeError(
                    'a callback returned the Deferred it was added to; the chain cannot continue',
                  ),
                );
              } else {
                const inner = result as Deferred<unknown>;
                if (!inner.#called || inner.#paused > 0 || inner.#result instanceof Deferred) {
                  // Not ready: wait for it.
                  cur.#paused++;
                  cur.#chainedTo = inner;
                  cur.#result = inner;
                  (inner.#steps ??= []).push(CONTINUE, CONTINUE, cur, cur);
                  break;
                }
                // It has a result: take it and go on.
                result = inner.#result;
                inner.#result = undefined;
                if (inner.#debugInfo !== null) inner.#clearUnhandled();
              }
            }
          }
          cur.#result = result;
        }
        if (cur.#next >= steps.length) {
          // Drained: drop the array (much cheaper than truncating it in place).
          cur.#steps = null;
          cur.#next = 0;
        }
      }
      if (finished) {
        if (cur.#result instanceof Failure) cur.#markUnhandled(cur.#result);
        else if (cur.#debugInfo !== null) cur.#clearUnhandled();
        if (chain === null || chain.length === 0) return;
        current = chain.pop() as Deferred<unknown>;
      }
    }
  }

  #markUnhandled(failure: Failure): void {
    const info = (this.#debugInfo ??= new DebugInfo());
    info.failResult = failure;
    // V8 formats an Error's stack lazily, keeping the raw frames (their
    // receivers and functions, such as this Deferred and its callbacks) until
    // then. Format it now (Twisted's cleanFailure), or the failure held for
    // the report would keep this Deferred alive and it would never be reported.
    let value = failure.value;
    for (let depth = 0; value instanceof Error && depth < 8; depth++) {
      void value.stack;
      value = value.cause;
    }
    if (info.registered) return;
    info.registered = true;
    collected.register(this, info, info);
    unhandled.add(info);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', reportAllUnhandled);
    }
  }

  #clearUnhandled(): void {
    const info = this.#debugInfo as DebugInfo;
    info.failResult = null;
    if (!info.registered) return;
    info.registered = false;
    collected.unregister(info);
    unhandled.delete(info);
  }
}

// `d.callback`, `d.errback` and `d.cancel` can be passed on as they are
// (`clock.callLater(1, d.callback, 9)`), at no cost to `d.callback(v)`.
const methods = bindOnRead(Deferred.prototype, ['callback', 'errback', 'cancel']);

function cancelledToTimedOutError<T>(result: T | Failure, timeout: number): T {
  if (result instanceof Failure) {
    result.trap(CancelledError);
    throw new TimeoutError(`the Deferred timed out after ${timeout} seconds`, {
      timeout,
      cause: result.value,
    });
  }
  return result;
}

// ---------------------------------------------------------------------------
// Making Deferreds

/**
 * A Deferred that has already fired with `result`.
 *
 * @remarks
 * Useful to return from a function that must return a Deferred when the
 * answer is known at once.
 *
 * @see Twisted: twisted.internet.defer.succeed
 * @since 0.1.0
 */
export function succeed<T>(result: T): Deferred<T> {
  const d = new Deferred<T>();
  if (result instanceof Failure || result instanceof Deferred) d.callback(result);
  else fireSucceeded(d, result);
  return d;
}

/**
 * A Deferred that has already failed with `reason`.
 *
 * @param reason - A {@link Failure}, or any thrown value (it is wrapped).
 * @see Twisted: twisted.internet.defer.fail
 * @since 0.1.0
 */
export function fail<T = never>(reason: unknown): Deferred<T> {
  const d = new Deferred<T>();
  d.errback(reason);
  return d;
}

/**
 * Calls `f(...args)` and gives its outcome as a Deferred, whatever `f` does.
 *
 * @remarks
 * A returned Deferred is given back as it is; a returned promise is adopted
 * ({@link Deferred.fromPromise}); a returned {@link Failure} or a throw
 * gives a failed Deferred; any other value a fired one.
 *
 * @see Twisted: twisted.internet.defer.maybeDeferred
 * @since 0.1.0
 */
export function maybeDeferred<R, A extends unknown[]>(
  f: (this: void, ...args: A) => R,
  ...args: A
): Deferred<ResultOf<R>> {
  let result: unknown;
  try {
    result = f(...args);
  } catch (error) {
    return fail(error);
  }
  if (result instanceof Deferred) return result as Deferred<ResultOf<R>>;
  if (result instanceof Failure) return fail(result);
  if (result instanceof Promise) return Deferred.fromPromise(result) as Deferred<ResultOf<R>>;
  return succeed(result as ResultOf<R>);
}

/**
 * Gives a Deferred for a Deferred, a promise or a generator.
 *
 * @remarks
 * A Deferred is returned as it is; a promise (or any thenable) is adopted;
 * a generator is run as by {@link inlineCallbacks}.
 *
 * @throws {@link NotACoroutineError} for anything else.
 * @see Twisted: twisted.internet.defer.ensureDeferred
 * @since 0.1.0
 */
export function ensureDeferred<T>(
  value: Deferred<T> | PromiseLike<T> | Generator<unknown, T, never>,
): Deferred<T> {
  if (value instanceof Deferred) return value;
  if (isGenerator(value)) return runInlineCallbacks(value as Generator<unknown, T, unknown>);
  if (typeof (value as { then?: unknown } | null)?.then === 'function') {
    return Deferred.fromPromise(value as PromiseLike<T>);
  }
  throw new NotACoroutineError(
    `ensureDeferred needs a Deferred, a promise or a generator, got ${inspect(value, { depth: 0 })}`,
  );
}

function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  return Object.prototype.toString.call(value) === '[object Generator]';
}

// ---------------------------------------------------------------------------
// inlineCallbacks

interface InlineStatus<T> {
  /** The Deferred to fire when the generator finishes (replaced when cancelled). */
  deferred: Deferred<T>;
  /** The Deferred the generator is waiting on, if any. */
  waitingOn: Deferred<unknown> | null;
}

/** Thrown into the cancelled inlineCallbacks Deferred's own chain; never seen outside. */
class InlineCallbacksCancelled extends Error {}

/**
 * Turns a generator function into a function returning a Deferred, where
 * `yield d` waits for `d`.
 *
 * @remarks
 * Inside the generator, `yield d` gives `d`'s result, or throws its
 * failure's value at the `yield`; `yield* d` does the same with the result
 * typed. Yielding a promise or another generator waits for it too; yielding
 * any other value gives it straight back. `return v` fires the returned
 * Deferred with `v`; a throw fails it.
 *
 * Types: TypeScript gives every plain `yield` one type, so `yield d` is
 * `unknown`: use `yield* d` for a typed result, or narrow (`(yield p) as
 * number`) what `yield*` cannot take, such as a promise. The returned
 * Deferred's type is inferred from the generator's `return`.
 *
 * The generator starts at once, synchronously, and resumes synchronously in
 * whatever `callback()` fires the Deferred it waits on; Deferreds that have
 * already fired do not grow the stack.
 *
 * Cancellation: cancelling the returned Deferred cancels the Deferred the
 * generator is waiting on; the resulting {@link CancelledError} is thrown at
 * the `yield`, where the generator may catch it and carry on. The returned
 * Deferred fires with whatever the generator finally does.
 *
 * @example
 * ```ts
 * const fetchUser = inlineCallbacks(function* (id: number) {
 *   const row = yield* db.query(id); // typed: Row
 *   const avatar = (yield fetchAvatar(row.avatarId)) as Avatar; // a promise: narrowed
 *   return { ...row, avatar };
 * });
 * fetchUser(7).addCallback(console.log);
 * ```
 *
 * @param f - A generator function.
 * @returns A function with the same parameters that returns a Deferred.
 * @throws TypeError (when the returned function is called) if `f` does not return a generator.
 * @see Twisted: twisted.internet.defer.inlineCallbacks
 * @since 0.1.0
 */
export function inlineCallbacks<This, A extends unknown[], R>(
  f: (this: This, ...args: A) => Generator<unknown, R, unknown>,
): (this: This, ...args: A) => Deferred<ResultOf<R>> {
  const name = f.name || 'anonymous';
  return {
    [name](this: This, ...args: A): Deferred<ResultOf<R>> {
      const gen: unknown = f.apply(this, args);
      if (!isGenerator(gen)) {
        throw new TypeError(
          `inlineCallbacks requires ${name} to produce a generator; instead got ${inspect(gen, { depth: 0 })}`,
        );
      }
      return runInlineCallbacks(gen) as Deferred<ResultOf<R>>;
    },
  }[name] as (this: This, ...args: A) => Deferred<ResultOf<R>>;
}

function runInlineCallbacks<T>(gen: Generator<unknown, unknown, unknown>): Deferred<T> {
  const status: InlineStatus<T> = {
    deferred: undefined as unknown as Deferred<T>,
    waitingOn: null,
  };
  const deferred = new Deferred<T>((d) => cancelInlineCallbacks(d, status));
  status.deferred = deferred;
  stepGenerator(undefined, gen, status);
  return deferred;
}

interface Waiting {
  /** True until the awaited Deferred fires during the yield that added the callback. */
  waiting: boolean;
  result: unknown;
}

function gotResult<T>(
  result: unknown,
  waiting: Waiting,
  gen: Generator<unknown, unknown, unknown>,
  status: InlineStatus<T>,
): void {
  if (waiting.waiting) {
    waiting.waiting = false;
    waiting.result = result;
  } else {
    stepGenerator(result, gen, status);
  }
}

/**
 * Drives the generator: sends results in (or throws failures), until it
 * waits on a Deferred that has not fired, or finishes. Deferreds that have
 * fired are handled in this loop, not by recursion.
 */
function stepGenerator<T>(
  result: unknown,
  gen: Generator<unknown, unknown, unknown>,
  status: InlineStatus<T>,
): void {
  const waiting: Waiting = { waiting: true, result: undefined };
  for (;;) {
    let step: IteratorResult<unknown, unknown>;
    try {
      step = result instanceof Failure ? gen.throw(result.value) : gen.next(result);
    } catch (error) {
      status.deferred.errback(error);
      return;
    }
    if (step.done) {
      finishInlineCallbacks(step.value, status);
      return;
    }
    let yielded = step.value;
    if (yielded instanceof Promise) yielded = Deferred.fromPromise(yielded);
    else if (isGenerator(yielded)) yielded = runInlineCallbacks(yielded);
    if (!(yielded instanceof Deferred)) {
      result = yielded;
      continue;
    }
    const awaited = yielded as Deferred<unknown>;
    awaited.addBoth(gotResult, waiting, gen, status);
    if (waiting.waiting) {
      waiting.waiting = false;
      status.waitingOn = awaited;
      return;
    }
    result = waiting.result;
    waiting.waiting = true;
    waiting.result = undefined;
  }
}

function finishInlineCallbacks<T>(value: unknown, status: InlineStatus<T>): void {
  if (value instanceof Promise) value = Deferred.fromPromise(value);
  if (value instanceof Deferred) {
    // Returning a Deferred (or promise) waits for it, as an async function does.
    const returned = value as Deferred<T>;
    status.waitingOn = returned;
    returned.addCallbacks(
      (result) => {
        status.deferred.callback(result);
      },
      (failure) => {
        status.deferred.errback(failure);
      },
    );
    return;
  }
  status.deferred.callback(value as T);
}

/**
 * The canceller of an inlineCallbacks Deferred: puts an errback first in its
 * chain and fails it, so that the chain then waits on a fresh Deferred that
 * the generator fires when it finishes, while the awaited Deferred is
 * cancelled and its CancelledError thrown into the generator.
 */
function cancelInlineCallbacks<T>(d: Deferred<T>, status: InlineStatus<T>): void {
  insertFirstErrback(d, (failure: Failure) => {
    failure.trap(InlineCallbacksCancelled);
    status.deferred = new Deferred<T>((next) => cancelInlineCallbacks(next, status));
    status.waitingOn?.cancel();
    return status.deferred;
  });
  d.errback(new InlineCallbacksCancelled());
}

// ---------------------------------------------------------------------------
// Combining Deferreds

/** One entry of a {@link DeferredList} result: `[true, value]` or `[false, failure]`. */
export type DeferredListEntry<T> = [true, T] | [false, Failure];

/**
 * The entries of a {@link DeferredList} over a tuple (or array) of
 * Deferreds, element by element.
 *
 * @since 0.1.0
 */
export type DeferredListEntries<D extends readonly unknown[]> = {
  -readonly [K in keyof D]: DeferredListEntry<DeferredResult<D[K]>>;
};

/** Options of {@link DeferredList}. */
export interface DeferredListOptions {
  /** Fire with `[value, index]` as soon as one input succeeds. Default false. */
  fireOnOneCallback?: boolean;
  /** Fail with {@link FirstError} as soon as one input fails. Default false. */
  fireOnOneErrback?: boolean;
  /**
   * Turn each input's failure into `undefined` for the callbacks added to it
   * after the list, so it is not reported as unhandled. Default false.
   */
  consumeErrors?: boolean;
}

/**
 * The constructor of {@link DeferredList}: its result type depends on
 * `fireOnOneCallback`.
 *
 * @since 0.1.0
 */
export interface DeferredListConstructor {
  new <const D extends readonly Deferred<unknown>[]>(
    deferreds: D,
    options?: DeferredListOptions & { fireOnOneCallback?: false },
  ): DeferredList<DeferredResult<D[number]>, DeferredListEntries<D>>;
  new <T>(
    deferreds: Iterable<Deferred<T>>,
    options: DeferredListOptions & { fireOnOneCallback: true },
  ): DeferredList<T, [T, number] | DeferredListEntry<T>[]>;
  new <T>(
    deferreds: Iterable<Deferred<T>>,
    options?: DeferredListOptions & { fireOnOneCallback?: false },
  ): DeferredList<T, DeferredListEntry<T>[]>;
  // `fireOnOneCallback` known only at run time (a boolean): either result.
  new <T>(
    deferreds: Iterable<Deferred<T>>,
    options?: DeferredListOptions,
  ): DeferredList<T, [T, number] | DeferredListEntry<T>[]>;
  /** The prototype shared by DeferredList instances. */
  readonly prototype: DeferredList<unknown, unknown>;
}

/**
 * The class behind {@link DeferredList}: construct lists with
 * `new DeferredList(...)`, whose result type follows `fireOnOneCallback`;
 * extend this class to subclass one. The reference documents it as
 * {@link DeferredList}, one entry.
 *
 * @hidden
 */
export class DeferredListImpl<T, R> extends Deferred<R> {
  static {
    // Shown by toString() and in stacks: users know the class as DeferredList.
    Object.defineProperty(DeferredListImpl, 'name', { value: 'DeferredList' });
  }
  readonly #inputs: Deferred<T>[];
  readonly #results: Array<DeferredListEntry<T> | undefined>;
  #finished = 0;
  /** As given to the constructor. */
  readonly fireOnOneCallback: boolean;
  /** As given to the constructor. */
  readonly fireOnOneErrback: boolean;
  /** As given to the constructor. */
  readonly consumeErrors: boolean;

  constructor(deferreds: Iterable<Deferred<T>>, options: DeferredListOptions = {}) {
    super();
    this.#inputs = [...deferreds];
    this.#results = new Array(this.#inputs.length).fill(undefined);
    this.fireOnOneCallback = options.fireOnOneCallback ?? false;
    this.fireOnOneErrback = options.fireOnOneErrback ?? false;
    this.consumeErrors = options.consumeErrors ?? false;
    if (this.#inputs.length === 0 && !this.fireOnOneCallback) this.callback([] as R);
    this.#inputs.forEach((input, index) => {
      input.addCallbacks(
        (value: T) => this.#inputFired(index, [true, value]),
        (failure: Failure) => this.#inputFired(index, [false, failure]),
      );
    });
  }

  #inputFired(index: number, entry: DeferredListEntry<T>): unknown {
    this.#results[index] = entry;
    this.#finished++;
    if (!this.called) {
      if (entry[0] && this.fireOnOneCallback) {
        this.callback([entry[1], index] as R);
      } else if (!entry[0] && this.fireOnOneErrback) {
        this.errback(new FirstError(entry[1], index));
      } else if (this.#finished === this.#results.length) {
        this.callback(this.#results as R);
      }
    }
    if (!entry[0] && this.consumeErrors) return undefined;
    return entry[1];
  }

  /** Cancels every input, if the list has not fired. */
  override cancel(): void {
    if (this.called) return;
    for (const input of this.#inputs) {
      try {
        input.cancel();
      } catch (error) {
        log.failure('Exception raised from user supplied canceller', error);
      }
    }
  }
}

// Its own cancel shadows Deferred's bound one: bind it too (`gatherResults(ds).cancel`).
bindOnRead(DeferredListImpl.prototype, ['cancel']);

/**
 * A Deferred that fires when several Deferreds have fired.
 *
 * @remarks
 * By default it fires, once every input has fired, with one
 * `[success, valueOrFailure]` entry per input, in input order; an empty list
 * fires at once with `[]`. With `fireOnOneCallback` it fires with
 * `[value, index]` for the first input that succeeds (and with the full list
 * if all fail); with `fireOnOneErrback` it fails with {@link FirstError} for
 * the first input that fails. It works by adding callbacks to the inputs, so
 * callbacks added to an input before the list see its result first.
 *
 * Cancellation: cancelling the list before it fires cancels every input
 * (a canceller that throws is logged, and the rest are still cancelled).
 *
 * To subclass it, extend `DeferredListImpl`, the class behind this
 * constant (which gives `new DeferredList(...)` its result types).
 *
 * @example
 * ```ts
 * new DeferredList([fetchA(), fetchB()], { consumeErrors: true }).addCallback((entries) => {
 *   for (const [ok, value] of entries) console.log(ok ? value : value.getErrorMessage());
 * });
 * ```
 *
 * @see Twisted: twisted.internet.defer.DeferredList
 * @since 0.1.0
 * @class
 */
export const DeferredList: DeferredListConstructor = DeferredListImpl as DeferredListConstructor;
/** A {@link DeferredList} instance, with its inputs' type `T` and its result type `R`. */
export type DeferredList<T, R = DeferredListEntry<T>[]> = DeferredListImpl<T, R>;

/**
 * The result type of a Deferred (or of a promise).
 *
 * @since 0.1.0
 */
export type DeferredResult<D> = D extends PromiseLike<infer T> ? T : never;

/**
 * The results of a tuple (or array) of Deferreds, element by element:
 * `[Deferred<number>, Deferred<string>]` gives `[number, string]`.
 *
 * @since 0.1.0
 */
export type DeferredResults<D extends readonly unknown[]> = {
  -readonly [K in keyof D]: DeferredResult<D[K]>;
};

/**
 * A Deferred of the results of `deferreds`, in order, or of the first
 * failure, as a {@link FirstError}.
 *
 * @remarks
 * Given an array literal of differently typed Deferreds, the result is
 * typed element by element, as `Promise.all`'s is:
 * `gatherResults([succeed(1), succeed('a')])` is a `Deferred<[number, string]>`.
 *
 * Cancellation: cancels every input that has not fired.
 *
 * @param options - `consumeErrors`: see {@link DeferredListOptions}.
 * @see Twisted: twisted.internet.defer.gatherResults
 * @since 0.1.0
 */
export function gatherResults<const D extends readonly Deferred<unknown>[]>(
  deferreds: D,
  options?: { consumeErrors?: boolean | undefined },
): Deferred<DeferredResults<D>>;
/**
 * A Deferred of the results of `deferreds` (any iterable), in order, or of
 * the first failure, as a {@link FirstError}.
 *
 * @param options - `consumeErrors`: see {@link DeferredListOptions}.
 */
export function gatherResults<T>(
  deferreds: Iterable<Deferred<T>>,
  options?: { consumeErrors?: boolean | undefined },
): Deferred<T[]>;
export function gatherResults<T>(
  deferreds: Iterable<Deferred<T>>,
  options: { consumeErrors?: boolean | undefined } = {},
): Deferred<T[]> {
  return new DeferredList(deferreds, {
    fireOnOneErrback: true,
    consumeErrors: options.consumeErrors ?? false,
  }).addCallback((entries) => entries.map((entry) => entry[1] as T));
}

/**
 * A Deferred of `[index, value]` for the first of `deferreds` to succeed;
 * the others are then cancelled.
 *
 * @remarks
 * If every input fails, it fails with {@link FailureGroup} holding their
 * failures in input order. Results that arrive after the winner are dropped.
 * Given an array literal of differently typed Deferreds, the value is typed
 * as the union of their results.
 *
 * Cancellation: cancels every input.
 *
 * @see Twisted: twisted.internet.defer.race
 * @since 0.1.0
 */
export function race<const D extends readonly Deferred<unknown>[]>(
  deferreds: D,
): Deferred<[number, DeferredResult<D[number]>]>;
/**
 * A Deferred of `[index, value]` for the first of `deferreds` (any
 * iterable) to succeed; the others are then cancelled.
 */
export function race<T>(deferreds: Iterable<Deferred<T>>): Deferred<[number, T]>;
export function race<T>(deferreds: Iterable<Deferred<T>>): Deferred<[number, T]> {
  const inputs = [...deferreds];
  let winner: Deferred<T> | null = null;
  const final = new Deferred<[number, T]>(() => {
    for (const d of inputs) d.cancel();
  });
  const failures: Array<[number, Failure]> = [];
  inputs.forEach((input, index) => {
    input.addCallbacks(
      (value: T) => {
        if (winner !== null) return;
        winner = input;
        for (const other of inputs) if (other !== winner) other.cancel();
        final.callback([index, value]);
      },
      (failure: Failure) => {
        failures.push([index, failure]);
        if (failures.length === inputs.length) {
          failures.sort((a, b) => a[0] - b[0]);
          final.errback(new FailureGroup(failures.map(([, f]) => f)));
        }
      },
    );
  });
  return final;
}

// ---------------------------------------------------------------------------
// Locks, semaphores and queues

/**
 * A lock for event-driven code: `acquire()` gives a Deferred that fires with
 * the lock once it is free.
 *
 * @remarks
 * Waiters get the lock in the order they asked. Cancellation: cancelling a
 * pending `acquire()` removes it from the queue and fails it with
 * {@link CancelledError}; cancelling one that already has the lock does
 * nothing.
 *
 * @see Twisted: twisted.internet.defer.DeferredLock
 * @since 0.1.0
 */
export class DeferredLock {
  /** Whether the lock is held. Read it; do not set it. */
  locked = false;
  /** The pending acquires, oldest first. */
  readonly waiting: Deferred<this>[] = [];

  /** `acquire`, `release` and `run` work unbound (`d.addBoth(lock.release)`). */
  constructor() {
    bindMethods(this, ['acquire', 'release', 'run']);
  }

  /** A Deferred that fires with this lock once the caller holds it. */
  acquire(): Deferred<this> {
    const d = new Deferred<this>((cancelled) => removeItem(this.waiting, cancelled));
    if (this.locked) {
      this.waiting.push(d);
    } else {
      this.locked = true;
      d.callback(this);
    }
    return d;
  }

  /**
   * Releases the lock, handing it to the oldest waiter.
   *
   * @throws Error if the lock is not held.
   */
  release(): void {
    if (!this.locked) throw new Error('Tried to release an unlocked lock');
    this.locked = false;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.locked = true;
      next.callback(this);
    }
  }

  /**
   * Acquires the lock, runs `f(...args)`, and releases the lock once `f`'s
   * result (which may be a Deferred or promise) is ready, success or failure.
   *
   * @returns A Deferred of `f`'s result.
   */
  run<R, A extends unknown[]>(f: (this: void, ...args: A) => R, ...args: A): Deferred<ResultOf<R>> {
    return runHolding(this, f, args);
  }
}

/**
 * A semaphore for event-driven code: at most `tokens` holders at a time.
 *
 * @remarks
 * Cancellation: as {@link DeferredLock}.
 *
 * @see Twisted: twisted.internet.defer.DeferredSemaphore
 * @since 0.1.0
 */
export class DeferredSemaphore {
  /** How many more holders there may be now. */
  tokens: number;
  /** The most holders at a time. */
  readonly limit: number;
  /** The pending acquires, oldest first. */
  readonly waiting: Deferred<this>[] = [];

  /**
   * @param tokens - The number of holders allowed at once (at least 1).
   * @throws RangeError if `tokens` is less than 1.
   */
  constructor(tokens: number) {
    if (!(tokens >= 1))
      throw new RangeError(`DeferredSemaphore requires tokens >= 1, got ${tokens}`);
    this.tokens = tokens;
    this.limit = tokens;
    bindMethods(this, ['acquire', 'release', 'run']);
  }

  /** A Deferred that fires with this semaphore once the caller holds a token. */
  acquire(): Deferred<this> {
    const d = new Deferred<this>((cancelled) => removeItem(this.waiting, cancelled));
    if (this.tokens === 0) {
      this.waiting.push(d);
    } else {
      this.tokens--;
      d.callback(this);
    }
    return d;
  }

  /**
   * Returns a token, handing it to the oldest waiter.
   *
   * @throws Error if more tokens are released than were acquired.
   */
  release(): void {
    if (this.tokens >= this.limit)
      throw new Error('Someone released me too many times: too many tokens!');
    this.tokens++;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.tokens--;
      next.callback(this);
    }
  }

  /** As {@link DeferredLock.run}, holding one token. */
  run<R, A extends unknown[]>(f: (this: void, ...args: A) => R, ...args: A): Deferred<ResultOf<R>> {
    return runHolding(this, f, args);
  }
}

function runHolding<R, A extends unknown[]>(
  primitive: DeferredLock | DeferredSemaphore,
  f: (...args: A) => R,
  args: A,
): Deferred<ResultOf<R>> {
  return primitive.acquire().addCallback(() =>
    maybeDeferred(f, ...args).addBoth((result) => {
      primitive.release();
      return result;
    }),
  ) as unknown as Deferred<ResultOf<R>>;
}

function removeItem<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index !== -1) list.splice(index, 1);
}

/** Options of {@link DeferredQueue}. */
export interface DeferredQueueOptions {
  /** The most objects the queue holds; `put` beyond it throws {@link QueueOverflow}. Default: no limit. */
  size?: number | undefined;
  /** The most pending `get`s; one more throws {@link QueueUnderflow}. Default: no limit. */
  backlog?: number | undefined;
}

/**
 * A queue whose `get()` gives a Deferred that fires when an object is there.
 *
 * @remarks
 * Cancellation: cancelling a pending `get()` removes it, so a later `put`
 * goes to the next waiter or into the queue, never to the cancelled get.
 *
 * @see Twisted: twisted.internet.defer.DeferredQueue
 * @since 0.1.0
 */
export class DeferredQueue<T> {
  /** The pending gets, oldest first. */
  readonly waiting: Deferred<T>[] = [];
  /** The objects put and not yet taken, oldest first. */
  readonly pending: T[] = [];
  /** The most objects held, or `undefined` for no limit. */
  readonly size: number | undefined;
  /** The most pending gets, or `undefined` for no limit. */
  readonly backlog: number | undefined;

  /**
   * @param size - The most objects held, or an options object `{ size, backlog }`.
   * @param backlog - The most pending gets.
   */
  constructor(size?: number | DeferredQueueOptions, backlog?: number) {
    const options = typeof size === 'object' ? size : { size, backlog };
    this.size = options.size;
    this.backlog = options.backlog;
    bindMethods(this, ['put', 'get']);
  }

  /**
   * Adds `obj`: gives it to the oldest pending get, or keeps it.
   *
   * @throws {@link QueueOverflow} if the queue is full.
   */
  put(obj: T): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.callback(obj);
    else if (this.size === undefined || this.pending.length < this.size) this.pending.push(obj);
    else throw new QueueOverflow();
  }

  /**
   * A Deferred of the next object: fired at once if one is there.
   *
   * @throws {@link QueueUnderflow} if `backlog` gets are already waiting.
   */
  get(): Deferred<T> {
    if (this.pending.length > 0) return succeed(this.pending.shift() as T);
    if (this.backlog !== undefined && this.waiting.length >= this.backlog)
      throw new QueueUnderflow();
    const d = new Deferred<T>((cancelled) => removeItem(this.waiting, cancelled));
    this.waiting.push(d);
    return d;
  }
}
