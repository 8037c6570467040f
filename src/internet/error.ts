// Exceptions of the reactor layer (Twisted: twisted.internet.error) and the
// base class every Torsion error shares.
// Tests: test/unit/internet/error.test.ts

/**
 * The base class of Torsion's errors.
 *
 * @remarks
 * It adds one thing to `Error`: a stable {@link TorsionError.code}. Match on
 * `err.code` rather than `instanceof` when errors may cross package copies or
 * realms: codes are never reused once published. Every subclass sets a literal
 * `name` (Twisted's class name) and accepts `{ cause }`.
 *
 * @since 0.1.0
 */
export class TorsionError extends Error {
  override name: string = 'TorsionError';
  /** A stable, machine-readable identifier of this kind of error. */
  readonly code: string = 'ERR_TORSION';
}

/**
 * Thrown by {@link IDelayedCall.cancel}, `reset` or `delay` on a call that has
 * already run.
 *
 * @see Twisted: twisted.internet.error.AlreadyCalled
 * @since 0.1.0
 */
export class AlreadyCalled extends TorsionError {
  override name = 'AlreadyCalled' as const;
  override readonly code = 'ERR_ALREADY_CALLED' as const;
  constructor(message = 'the delayed call has already run', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by {@link IDelayedCall.cancel}, `reset` or `delay` on a call that was
 * cancelled.
 *
 * @see Twisted: twisted.internet.error.AlreadyCancelled
 * @since 0.1.0
 */
export class AlreadyCancelled extends TorsionError {
  override name = 'AlreadyCancelled' as const;
  override readonly code = 'ERR_ALREADY_CANCELLED' as const;
  constructor(message = 'the delayed call was cancelled', options?: ErrorOptions) {
    super(message, options);
  }
}
