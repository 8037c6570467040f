// Idle timeouts: TimeoutMixin, a timer a protocol holds, and
// TimeoutFactory with its TimeoutProtocol (Twisted:
// twisted.protocols.policies.TimeoutMixin, TimeoutFactory).
// Tests: test/unit/protocols/policies-timeout.test.ts, test/integration/policies.test.ts

import { requireClock } from '../../internet/_require-clock.js';
import type { Failure } from '../../internet/failure.js';
import type { IAddress, IDelayedCall, IProtocol, IReactorTime } from '../../internet/interfaces.js';
import { ProtocolWrapper, type WrappedFactory, WrappingFactory } from './wrapper.js';

/**
 * What a {@link TimeoutMixin} acts for: usually the protocol that holds it.
 *
 * @since 0.1.0
 */
export interface TimeoutOwner {
  /** Closed on timeout when neither `onTimeout` nor `timeoutConnection` is given. */
  readonly transport?:
    | {
        /** Closes the connection once what is buffered has been sent. */
        loseConnection(): void;
      }
    | undefined;
  /** Called on timeout, when present and no `onTimeout` option is given. */
  timeoutConnection?(): void;
}

/** Options of {@link TimeoutMixin}. */
export interface TimeoutMixinOptions {
  /**
   * Schedules the timeout: the reactor, or a `Clock` in tests. Required:
   * nothing falls back to real time.
   */
  clock: IReactorTime;
  /**
   * The initial value of {@link TimeoutMixin.timeOut}; no timer starts until
   * {@link TimeoutMixin.setTimeout} is called.
   * @defaultValue null
   */
  timeOut?: number | null | undefined;
  /**
   * Called on timeout, instead of the owner's `timeoutConnection` or closing
   * its transport.
   */
  onTimeout?: (() => void) | undefined;
}

/**
 * A single idle timeout for a connection, held by the protocol it serves.
 *
 * @remarks
 * Start it with {@link TimeoutMixin.setTimeout}, push it back with
 * {@link TimeoutMixin.resetTimeout} whenever something meaningful happens
 * (typically on each `dataReceived`), and stop it with `setTimeout(null)`
 * (typically in `connectionLost`). When it expires,
 * {@link TimeoutMixin.timeoutConnection} runs: it calls the `onTimeout`
 * option if given, else the owner's own `timeoutConnection()` method if it
 * has one, else closes the owner's transport with `loseConnection()`.
 *
 * Differences from Twisted: a mixin becomes a helper object the protocol
 * holds (composition); the clock is a required option rather than an
 * overridable `callLater` that defaults to the global reactor; "no timeout"
 * is `null` (Twisted's `None`); `setTimeout` and `resetTimeout` start a
 * fresh timer when the previous one was cancelled from elsewhere, rather
 * than raising.
 *
 * @example
 * ```ts
 * class Idle extends Protocol {
 *   readonly timeout = new TimeoutMixin(this, { clock: reactor, timeOut: 30 });
 *   override connectionMade() { this.timeout.setTimeout(this.timeout.timeOut); }
 *   override dataReceived(data: Uint8Array) { this.timeout.resetTimeout(); }
 *   override connectionLost() { this.timeout.setTimeout(null); }
 *   timeoutConnection() { this.transport.write(Buffer.from('bye\r\n')); this.transport.loseConnection(); }
 * }
 * ```
 *
 * @see Twisted: twisted.protocols.policies.TimeoutMixin
 * @since 0.1.0
 */
export class TimeoutMixin {
  /** The timeout period in seconds, or `null` when there is no timeout. */
  timeOut: number | null;
  /** Schedules the timeout. */
  clock: IReactorTime;
  readonly #owner: TimeoutOwner | undefined;
  readonly #onTimeout: (() => void) | undefined;
  // The pending timeout; null when none is set or once it has fired.
  #timeoutCall: IDelayedCall | null = null;
  // True while the owner's timeoutConnection runs, so that one which calls
  // back into this helper gets the default instead of recursing.
  #inOwner = false;

  /**
   * @param owner - The protocol the timeout serves: its `timeoutConnection`
   *   is called on timeout, or its `transport` closed. May be omitted when
   *   `onTimeout` is given.
   * @param options - The clock (required) and the rest; see {@link TimeoutMixinOptions}.
   * @throws TypeError if `options.clock` is not an `IReactorTime`.
   */
  constructor(owner: TimeoutOwner | undefined, options: TimeoutMixinOptions) {
    this.clock = requireClock(
      (options as Partial<TimeoutMixinOptions> | undefined)?.clock,
      'TimeoutMixin needs a clock option (IReactorTime)',
    );
    this.#owner = owner;
    this.#onTimeout = options.onTimeout;
    this.timeOut = options.timeOut ?? null;
  }

  /** The pending timeout call, or `null` when none is pending. */
  get timeoutCall(): IDelayedCall | null {
    return this.#timeoutCall;
  }

  /**
   * Restarts the countdown from now: "they're still there".
   *
   * @remarks
   * Does nothing when no timeout is set or it has already fired.
   */
  resetTimeout(): void {
    const call = this.#timeoutCall;
    if (call === null || this.timeOut === null) return;
    if (call.active()) call.reset(this.timeOut);
    else this.#timeoutCall = this.#schedule(this.timeOut);
  }

  /**
   * Changes the timeout period, restarting the countdown from now, or
   * cancels the timeout.
   *
   * @param period - Seconds (float) until the timeout, or `null` (or
   *   `undefined`, Python's `None`) to cancel it.
   * @returns The previous period, or `null` if there was none.
   * @throws RangeError if `period` is negative or NaN.
   */
  setTimeout(period: number | null | undefined): number | null {
    period ??= null;
    if (period !== null && !(period >= 0)) {
      throw new RangeError(`timeout period must be >= 0 seconds or null, got ${period}`);
    }
    const previous = this.timeOut;
    this.timeOut = period;
    const call = this.#timeoutCall;
    if (period === null) {
      // It may have been cancelled elsewhere (at reactor shutdown, say).
      if (call?.active()) call.cancel();
      this.#timeoutCall = null;
    } else if (call?.active()) {
      call.reset(period);
    } else {
      this.#timeoutCall = this.#schedule(period);
    }
    return previous;
  }

  /**
   * Called when the timeout expires: calls `onTimeout`, else the owner's
   * `timeoutConnection`, else closes the owner's transport.
   */
  timeoutConnection(): void {
    if (this.#onTimeout !== undefined) {
      this.#onTimeout();
      return;
    }
    const owner = this.#owner;
    if (owner !== undefined && typeof owner.timeoutConnection === 'function' && !this.#inOwner) {
      this.#inOwner = true;
      try {
        owner.timeoutConnection();
      } finally {
        this.#inOwner = false;
      }
      return;
    }
    owner?.transport?.loseConnection();
  }

  #schedule(period: number): IDelayedCall {
    return this.clock.callLater(period, () => {
      this.#timeoutCall = null;
      this.timeoutConnection();
    });
  }
}

/**
 * The wrapper of {@link TimeoutFactory}: closes the connection when nothing
 * has been read or written for `timeoutPeriod` seconds.
 *
 * @remarks
 * The countdown starts when the wrapper is built, is restarted by every
 * `dataReceived`, `write` and `writeSequence`, and is cancelled by
 * `connectionLost`. On timeout {@link TimeoutProtocol.timeoutFunc} runs,
 * which calls `loseConnection()`; override it to do something else.
 *
 * @see Twisted: twisted.protocols.policies.TimeoutProtocol
 * @since 0.1.0
 */
export class TimeoutProtocol extends ProtocolWrapper {
  declare factory: TimeoutFactory;
  readonly #timeout: TimeoutMixin;

  /**
   * @param factory - The timeout factory; its `clock` schedules the timeout.
   * @param wrappedProtocol - The protocol to wrap.
   * @param timeoutPeriod - Seconds of idleness before the connection is
   *   closed, or `null` for no timeout.
   */
  constructor(factory: TimeoutFactory, wrappedProtocol: IProtocol, timeoutPeriod: number | null) {
    super(factory, wrappedProtocol);
    this.#timeout = new TimeoutMixin(this, {
      clock: factory.clock,
      onTimeout: () => this.timeoutFunc(),
    });
    this.setTimeout(timeoutPeriod);
  }

  /** The timeout period in seconds, or `null` when there is no timeout. */
  get timeoutPeriod(): number | null {
    return this.#timeout.timeOut;
  }

  /** The pending timeout call, or `null` when none is pending. */
  get timeoutCall(): IDelayedCall | null {
    return this.#timeout.timeoutCall;
  }

  /**
   * Cancels any pending timeout and, given a period, starts a new one.
   *
   * @param timeoutPeriod - Seconds (float), or `null` (the default) for no timeout.
   */
  setTimeout(timeoutPeriod: number | null = null): void {
    this.cancelTimeout();
    this.#timeout.setTimeout(timeoutPeriod);
  }

  /** Cancels the pending timeout, if any; the period becomes `null`. */
  cancelTimeout(): void {
    this.#timeout.setTimeout(null);
  }

  /** Restarts the countdown, usually because something was read or written. */
  resetTimeout(): void {
    this.#timeout.resetTimeout();
  }

  /** Restarts the countdown, then writes. */
  override write(data: Uint8Array): void {
    this.resetTimeout();
    super.write(data);
  }

  /** Restarts the countdown, then writes. */
  override writeSequence(data: Iterable<Uint8Array>): void {
    this.resetTimeout();
    super.writeSequence(data);
  }

  /** Restarts the countdown, then passes the bytes on. */
  override dataReceived(data: Uint8Array): void {
    this.resetTimeout();
    super.dataReceived(data);
  }

  /** Cancels the timeout, then passes the loss on. */
  override connectionLost(reason: Failure): void {
    this.cancelTimeout();
    super.connectionLost(reason);
  }

  /** Called on timeout: closes the connection. Override to do something else. */
  timeoutFunc(): void {
    this.loseConnection();
  }
}

/** Options of {@link TimeoutFactory}. */
export interface TimeoutFactoryOptions {
  /**
   * Seconds of idleness before a connection is closed, or `null` for none.
   * @defaultValue 1800 (30 minutes)
   */
  timeoutPeriod?: number | null | undefined;
  /**
   * Schedules the timeouts: the reactor the factory listens on, or a `Clock`
   * in tests. Required: nothing falls back to real time.
   */
  clock: IReactorTime;
}

/**
 * Closes the connections of the factory it wraps when they have been idle
 * (nothing read, nothing written) for `timeoutPeriod` seconds.
 *
 * @example
 * ```ts
 * const idle = new TimeoutFactory(Factory.forProtocol(Chat), { timeoutPeriod: 300, clock: reactor });
 * reactor.listenTCP(8000, idle);
 * ```
 *
 * @see Twisted: twisted.protocols.policies.TimeoutFactory
 * @since 0.1.0
 */
export class TimeoutFactory extends WrappingFactory<TimeoutProtocol> {
  /** Seconds of idleness before a connection is closed, or `null` for none. */
  timeoutPeriod: number | null;
  /** Schedules the timeouts. */
  clock: IReactorTime;

  /**
   * @param wrappedFactory - The factory whose connections time out.
   * @param options - The clock (required) and the period; see {@link TimeoutFactoryOptions}.
   * @throws TypeError if `options.clock` is not an `IReactorTime`.
   */
  constructor(wrappedFactory: WrappedFactory, options: TimeoutFactoryOptions) {
    super(wrappedFactory);
    this.clock = requireClock(
      (options as Partial<TimeoutFactoryOptions> | undefined)?.clock,
      'TimeoutFactory needs a clock option (IReactorTime)',
    );
    this.timeoutPeriod = options.timeoutPeriod === undefined ? 30 * 60 : options.timeoutPeriod;
  }

  /** Wraps in a {@link TimeoutProtocol} with this factory's period. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): TimeoutProtocol {
    return new TimeoutProtocol(this, wrappedProtocol, this.timeoutPeriod);
  }
}
