// deferLater: a Deferred of a call made after a delay on a clock
// (Twisted: twisted.internet.task.deferLater).
// Tests: test/unit/internet/task-deferlater.test.ts, test/unit/internet/abort-signal.test.ts

import { Deferred, type ResultOf } from '../defer.js';
import type { IReactorTime } from '../interfaces.js';

/** Options of {@link deferLater}, given before the callable. */
export interface DeferLaterOptions {
  /**
   * Aborting it cancels the wait, as cancelling the Deferred does (same
   * errors); one already aborted cancels it at once. The listener is
   * removed when the Deferred fires.
   */
  signal?: AbortSignal | undefined;
}

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
 * call (the callable never runs) and fails with {@link torsion/defer!CancelledError | CancelledError};
 * cancelling while a Deferred returned by the callable is pending cancels
 * that Deferred. Aborting the `signal` of the options does the same. The
 * options come before the callable, since the callable's arguments run to
 * the end: `deferLater(clock, 5, { signal }, f, ...args)`.
 *
 * @example
 * ```ts
 * const d = deferLater(reactor, 2.5, (name: string) => `hello ${name}`, 'world');
 * d.addCallback(console.log); // "hello world", 2.5 seconds later
 * const controller = new AbortController();
 * deferLater(reactor, 60, { signal: controller.signal }, poll);
 * controller.abort(); // poll never runs; the Deferred fails with CancelledError
 * ```
 *
 * @param clock - What schedules the call: a reactor, or a `Clock` in tests.
 * @param delay - Seconds (float) to wait.
 * @param options - `signal`, to cancel the wait.
 * @returns A Deferred that fires with `undefined` after the delay.
 * @throws RangeError if `delay` is negative or NaN.
 * @see Twisted: twisted.internet.task.deferLater
 * @since 0.1.0
 */
export function deferLater(
  clock: IReactorTime,
  delay: number,
  options?: DeferLaterOptions,
): Deferred<undefined>;
/**
 * Calls `callable(...args)` `delay` seconds from now, and gives its result
 * as a Deferred.
 *
 * @remarks
 * Cancellation: before the delay is over, cancelling cancels the delayed
 * call and fails with {@link torsion/defer!CancelledError | CancelledError}; afterwards, it cancels a
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
  callable: (this: void, ...args: A) => R,
  ...args: A
): Deferred<ResultOf<R>>;
/**
 * Calls `callable(...args)` `delay` seconds from now, unless
 * `options.signal` is aborted first, and gives its result as a Deferred.
 *
 * @remarks
 * Cancellation: aborting the signal cancels as `cancel()` does: before the
 * delay is over, the delayed call (failing with {@link torsion/defer!CancelledError | CancelledError});
 * afterwards, a pending Deferred returned by the callable.
 *
 * @param clock - What schedules the call.
 * @param delay - Seconds (float) to wait.
 * @param options - `signal`, to cancel the wait.
 * @param callable - The function to call after the delay.
 * @param args - Its arguments.
 * @returns A Deferred of the callable's result.
 */
export function deferLater<R, A extends unknown[]>(
  clock: IReactorTime,
  delay: number,
  options: DeferLaterOptions,
  callable: (this: void, ...args: A) => R,
  ...args: A
): Deferred<ResultOf<R>>;
export function deferLater(
  clock: IReactorTime,
  delay: number,
  ...rest: unknown[]
): Deferred<unknown> {
  // The options, if given, come before the callable: a function is the callable.
  const options = typeof rest[0] === 'function' ? undefined : (rest.shift() as DeferLaterOptions);
  const callable = rest.shift() as ((...args: unknown[]) => unknown) | undefined;
  const d = new Deferred<unknown>(() => {
    delayedCall.cancel();
  });
  const delayedCall = clock.callLater(delay, () => {
    d.callback(undefined);
  });
  if (callable !== undefined) d.addCallback(() => callable(...rest));
  return options?.signal === undefined ? d : d.cancelOn(options.signal);
}
