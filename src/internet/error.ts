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
  /** The error's class name, as in Twisted (`'ConnectionDone'`, `'CancelledError'`, …). */
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

/**
 * Thrown by `stop()` on a reactor that is not running.
 *
 * @see Twisted: twisted.internet.error.ReactorNotRunning
 * @since 0.1.0
 */
export class ReactorNotRunning extends TorsionError {
  override name = 'ReactorNotRunning' as const;
  override readonly code = 'ERR_REACTOR_NOT_RUNNING' as const;
  constructor(message = "can't stop a reactor that isn't running", options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by `run()` on a reactor that is already running.
 *
 * @see Twisted: twisted.internet.error.ReactorAlreadyRunning
 * @since 0.1.0
 */
export class ReactorAlreadyRunning extends TorsionError {
  override name = 'ReactorAlreadyRunning' as const;
  override readonly code = 'ERR_REACTOR_ALREADY_RUNNING' as const;
  constructor(message = 'the reactor is already running', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by `run()` on a reactor that has been stopped: a reactor runs once.
 *
 * @see Twisted: twisted.internet.error.ReactorNotRestartable
 * @since 0.1.0
 */
export class ReactorNotRestartable extends TorsionError {
  override name = 'ReactorNotRestartable' as const;
  override readonly code = 'ERR_REACTOR_NOT_RESTARTABLE' as const;
  constructor(
    message = 'the reactor has been stopped and cannot run again',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A host name could not be resolved to an address.
 *
 * @see Twisted: twisted.internet.error.DNSLookupError
 * @since 0.1.0
 */
export class DNSLookupError extends TorsionError {
  override name = 'DNSLookupError' as const;
  override readonly code = 'ERR_DNS_LOOKUP' as const;
  /** The name that was looked up. */
  readonly hostname: string | undefined;
  constructor(message = 'DNS lookup failed', options?: ErrorOptions & { hostname?: string }) {
    super(message, options);
    this.hostname = options?.hostname;
  }
}
