// The interfaces of the reactor and of the objects it hands out
// (Twisted: twisted.internet.interfaces). Type-only: nothing here runs.
// Implementations import these with `import type`; test doubles implement
// them without importing any real reactor.

/**
 * A call scheduled with {@link IReactorTime.callLater}.
 *
 * @see Twisted: twisted.internet.interfaces.IDelayedCall
 * @since 0.1.0
 */
export interface IDelayedCall {
  /** The time, in the reactor's seconds, at which the call is due. */
  getTime(): number;
  /**
   * Stops the call from running.
   * @throws {@link AlreadyCalled} if it has run; {@link AlreadyCancelled} if cancelled.
   */
  cancel(): void;
  /**
   * Postpones the call by `secondsLater` seconds from its current due time.
   * @throws {@link AlreadyCalled} or {@link AlreadyCancelled} when not active.
   */
  delay(secondsLater: number): void;
  /**
   * Reschedules the call to run `secondsFromNow` seconds from now.
   * @throws {@link AlreadyCalled} or {@link AlreadyCancelled} when not active.
   */
  reset(secondsFromNow: number): void;
  /** Whether the call has neither run nor been cancelled. */
  active(): boolean;
}

/**
 * Time: what the current time is, and calling functions later.
 *
 * @remarks
 * Every API that waits takes the `IReactorTime` it should use, so a test can
 * pass a deterministic {@link Clock} and the program a real reactor.
 * Calls due at the same time run in the order they were scheduled.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorTime
 * @since 0.1.0
 */
export interface IReactorTime {
  /** The current time in seconds (a float), on this reactor's clock. */
  seconds(): number;
  /**
   * Calls `f(...args)` `delay` seconds from now.
   *
   * @param delay - Seconds (float, at least 0).
   * @param f - The function to call; what it returns is ignored, and what it
   *   throws is logged by a real reactor.
   * @param args - Arguments for `f`.
   * @returns A handle to cancel or reschedule the call.
   * @throws RangeError if `delay` is negative or not a number.
   */
  callLater<A extends unknown[]>(
    delay: number,
    f: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall;
  /** The calls scheduled and not yet run or cancelled, earliest first. */
  getDelayedCalls(): IDelayedCall[];
}
