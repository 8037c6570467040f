// Idle timeouts: TimeoutMixin, a timer a protocol holds, and
// TimeoutFactory with its TimeoutProtocol (Twisted:
// twisted.protocols.policies.TimeoutMixin, TimeoutFactory).
// Tests: test/unit/protocols/policies-timeout.test.ts, test/unit/protocols/policies-timeout-grace.test.ts, test/integration/policies.test.ts, test/integration/closing-timeout.test.ts

import { requireClock } from '../../internet/_require-clock.js';
import type { Failure } from '../../internet/failure.js';
import type { IAddress, IDelayedCall, IProtocol, IReactorTime } from '../../internet/interfaces.js';
import { ProtocolWrapper, type WrappedFactory, WrappingFactory } from './wrapper.js';

/**
 * Seconds a timed-out connection has to close after `loseConnection()`
 * before it is aborted: the default of the `abortGrace` options.
 */
const DEFAULT_ABORT_GRACE = 5;

/** Checks an `abortGrace` option: seconds >= 0, or null. */
function checkAbortGrace(grace: number | null | undefined): number | null {
  if (grace === undefined) return DEFAULT_ABORT_GRACE;
  if (grace !== null && !(grace >= 0)) {
    throw new RangeError(`abortGrace must be >= 0 seconds or null, got ${grace}`);
  }
  return grace;
}

/**
 * What a {@link TimeoutMixin} acts for: usually the protocol that holds it.
 *
 * @since 0.1.0
 */
export interface TimeoutOwner {
  /**
   * Closed on timeout when neither `onTimeout` nor `timeoutConnection` is
   * given, and aborted if still open `abortGrace` seconds later.
   */
  readonly transport?:
    | {
        /** Closes the connection once what is buffered has been sent. */
        loseConnection(): void;
        /** Closes the connection at once, dropping what is buffered. */
        abortConnection?(): void;
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
  /**
   * Seconds the default timeout action (the owner's transport's
   * `loseConnection()`) waits before aborting the transport
   * (`abortConnection()`), when the connection has not closed meanwhile
   * (the owner's `connectionLost` calls `setTimeout(null)`); `null` never
   * aborts, as Twisted. `loseConnection()` waits until everything buffered
   * has been sent, which a peer that has stopped reading makes forever.
   * @defaultValue 5
   */
  abortGrace?: number | null | undefined;
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
 * has one, else closes the owner's transport with `loseConnection()` and,
 * if the connection is still open {@link TimeoutMixin.abortGrace} seconds
 * later, aborts it.
 *
 * Differences from Twisted: a mixin becomes a helper object the protocol
 * holds (composition); the clock is a required option rather than an
 * overridable `callLater` that defaults to the global reactor; "no timeout"
 * is `null` (Twisted's `None`); `setTimeout` and `resetTimeout` start a
 * fresh timer when the previous one was cancelled from elsewhere, rather
 * than raising; the default action aborts a connection that has not closed
 * `abortGrace` seconds after its `loseConnection()` (Twisted's waits
 * forever for a peer that has stopped reading to take the buffered data).
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
  /**
   * Seconds between the default timeout action's `loseConnection()` and
   * `abortConnection()`, or `null` to never abort (see {@link TimeoutMixinOptions.abortGrace}).
   */
  abortGrace: number | null;
  readonly #owner: TimeoutOwner | undefined;
  readonly #onTimeout: (() => void) | undefined;
  // The pending timeout; null when none is set or once it has fired.
  #timeoutCall: IDelayedCall | null = null;
  // The pending abort after a timeout's loseConnection, or null.
  #abortCall: IDelayedCall | null = null;
  // True while the owner's timeoutConnection runs, so that one which calls
  // back into this helper gets the default instead of recursing.
  #inOwner = false;

  /**
   * @param owner - The protocol the timeout serves: its `timeoutConnection`
   *   is called on timeout, or its `transport` closed. May be omitted when
   *   `onTimeout` is given.
   * @param options - The clock (required) and the rest; see {@link TimeoutMixinOptions}.
   * @throws TypeError if `options.clock` is not an `IReactorTime`.
   * @throws RangeError if `options.abortGrace` is negative or NaN.
   */
  constructor(owner: TimeoutOwner | undefined, options: TimeoutMixinOptions) {
    this.clock = requireClock(
      (options as Partial<TimeoutMixinOptions> | undefined)?.clock,
      'TimeoutMixin needs a clock option (IReactorTime)',
    );
    this.#owner = owner;
    this.#onTimeout = options.onTimeout;
    this.timeOut = options.timeOut ?? null;
    this.abortGrace = checkAbortGrace(options.abortGrace);
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
   * cancels the timeout. Either way, cancels the abort that a timeout's
   * default action has scheduled, if it is pending.
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
    this.#cancelAbort();
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
   * `timeoutConnection`, else closes the owner's transport, and aborts it
   * {@link TimeoutMixin.abortGrace} seconds later unless `setTimeout` is
   * called meanwhile (by the owner's `connectionLost`, say).
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
    const transport = owner?.transport;
    if (transport === undefined) return;
    this.#cancelAbort();
    const grace = this.abortGrace;
    if (grace !== null && typeof transport.abortConnection === 'function') {
      // Scheduled first: a connectionLost that runs within loseConnection
      // (and calls setTimeout(null)) then cancels it.
      this.#abortCall = this.clock.callLater(grace, () => {
        this.#abortCall = null;
        transport.abortConnection?.();
      });
    }
    transport.loseConnection();
  }

  #cancelAbort(): void {
    const call = this.#abortCall;
    this.#abortCall = null;
    if (call?.active()) call.cancel();
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
 * which calls `loseConnection()` and, if the connection is still open the
 * factory's `abortGrace` seconds later, `abortConnection()`; override it to
 * do something else.
 *
 * Differences from Twisted: the abort after `abortGrace` seconds (Twisted's
 * `loseConnection()` waits forever for a peer that has stopped reading to
 * take what is buffered, and so does the connection).
 *
 * @see Twisted: twisted.protocols.policies.TimeoutProtocol
 * @since 0.1.0
 */
export class TimeoutProtocol extends ProtocolWrapper {
  declare factory: TimeoutFactory;
  readonly #timeout: TimeoutMixin;
  // The pending abort after timeoutFunc's loseConnection, or null.
  #abortCall: IDelayedCall | null = null;

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

  /**
   * Cancels the pending timeout, if any, and the abort a timeout has
   * scheduled; the period becomes `null`.
   */
  cancelTimeout(): void {
    this.#timeout.setTimeout(null);
    const abort = this.#abortCall;
    this.#abortCall = null;
    if (abort?.active()) abort.cancel();
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

  /**
   * Called on timeout: closes the connection, and aborts it if it is still
   * open the factory's `abortGrace` seconds later. Override to do something
   * else.
   */
  timeoutFunc(): void {
    const grace = this.factory.abortGrace;
    if (grace !== null && this.#abortCall === null) {
      // Scheduled first: a connectionLost within loseConnection cancels it.
      this.#abortCall = this.factory.clock.callLater(grace, () => {
        this.#abortCall = null;
        this.abortConnection();
      });
    }
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
  /**
   * Seconds a timed-out connection has to close after `loseConnection()`
   * before it is aborted (`abortConnection()`), or `null` to wait forever,
   * as Twisted. `loseConnection()` waits until everything buffered has been
   * sent, which a peer that has stopped reading makes forever.
   * @defaultValue 5
   */
  abortGrace?: number | null | undefined;
}

/**
 * Closes the connections of the factory it wraps when they have been idle
 * (nothing read, nothing written) for `timeoutPeriod` seconds, and aborts
 * those still open `abortGrace` seconds later.
 *
 * @remarks
 * Differences from Twisted: the abort after `abortGrace` seconds (Twisted
 * waits forever for a timed-out connection whose peer does not read).
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
   * Seconds a timed-out connection has to close before it is aborted, or
   * `null` for never (see {@link TimeoutFactoryOptions.abortGrace}).
   */
  abortGrace: number | null;

  /**
   * @param wrappedFactory - The factory whose connections time out.
   * @param options - The clock (required), the period and the abort grace;
   *   see {@link TimeoutFactoryOptions}.
   * @throws TypeError if `options.clock` is not an `IReactorTime`.
   * @throws RangeError if `options.abortGrace` is negative or NaN.
   */
  constructor(wrappedFactory: WrappedFactory, options: TimeoutFactoryOptions) {
    super(wrappedFactory);
    this.clock = requireClock(
      (options as Partial<TimeoutFactoryOptions> | undefined)?.clock,
      'TimeoutFactory needs a clock option (IReactorTime)',
    );
    this.timeoutPeriod = options.timeoutPeriod === undefined ? 30 * 60 : options.timeoutPeriod;
    this.abortGrace = checkAbortGrace(options.abortGrace);
  }

  /** Wraps in a {@link TimeoutProtocol} with this factory's period. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): TimeoutProtocol {
    return new TimeoutProtocol(this, wrappedProtocol, this.timeoutPeriod);
  }
}
