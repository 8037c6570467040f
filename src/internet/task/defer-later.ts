// deferLater: a Deferred of a call made after a delay on a clock
// (Twisted: twisted.internet.task.deferLater).
// Tests: test/unit/internet/task-deferlater.test.ts

import { Deferred, type ResultOf } from '../defer.js';
import type { IReactorTime } from '../interfaces.js';

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
  callable: (this: void, ...args: A) => R,
  ...args: A
): Deferred<ResultOf<R>>;
export function deferLater<R, A extends unknown[]>(
  clock: IReactorTime,
  delay: number,
  callable?: (this: void, ...args: A) => R,
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
