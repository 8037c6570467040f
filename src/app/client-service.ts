// ClientService: a service that keeps one outgoing connection up, connecting
// again after a back-off whenever it fails or is lost; backoffPolicy, the
// usual way to say how long to wait (Twisted:
// twisted.application.internet.ClientService, backoffPolicy).
// Tests: test/unit/app/client-service.test.ts, test/types/client-service.test.ts,
// test/integration/app/client-service.test.ts

import { type HalfCloseableProtocol, isHalfCloseable } from '../internet/_half-close.js';
import { requireClock } from '../internet/_require-clock.js';
import { CancelledError, Deferred, fail, maybeDeferred, succeed } from '../internet/defer.js';
import { Failure } from '../internet/failure.js';
import type {
  IAddress,
  IDelayedCall,
  IHalfCloseableProtocol,
  IHandshakeListener,
  IProtocol,
  IProtocolFactory,
  IReactorTime,
  IStreamClientEndpoint,
  ITransport,
} from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import { Service } from './service.js';

const log = new Logger('torsion.app');

/**
 * How long {@link ClientService} waits before its next attempt: given how
 * many attempts in a row have failed (1 after the first), the delay in
 * seconds (finite, at least 0).
 *
 * @since 0.1.0
 */
export type RetryPolicy = (this: void, failedAttempts: number) => number;

/** Options of {@link backoffPolicy}. */
export interface BackoffPolicyOptions {
  /** Seconds of the base delay, multiplied by `factor` once per failed attempt. @defaultValue 1 */
  initialDelay?: number;
  /**
   * Most seconds between attempts, before the jitter is added (so the
   * longest wait is this plus the most `jitter` returns). @defaultValue 60
   */
  maxDelay?: number;
  /** How much the delay grows with each failed attempt. @defaultValue 1.5 */
  factor?: number;
  /**
   * Seconds of noise added to every delay, so that many clients do not
   * retry together. @defaultValue Math.random (between 0 and 1)
   */
  jitter?: (this: void) => number;
}

function requireSeconds(value: number, name: string): number {
  if (!(value >= 0)) throw new RangeError(`backoffPolicy ${name} must be >= 0, got ${value}`);
  return value;
}

/**
 * An exponential back-off for {@link ClientService}: after `n` failed
 * attempts in a row it waits `min(initialDelay · factorⁿ, maxDelay) +
 * jitter()` seconds.
 *
 * @remarks
 * As in Twisted, the first wait (`n` = 1) is already `initialDelay · factor`,
 * and the exponent stops growing at 100.
 *
 * @example
 * ```ts
 * import { backoffPolicy } from 'torsion/app';
 *
 * const policy = backoffPolicy({ initialDelay: 0.5, maxDelay: 30, jitter: () => 0 });
 * policy(1); // 0.75
 * policy(20); // 30
 * ```
 *
 * @param options - See {@link BackoffPolicyOptions}.
 * @returns The policy, to pass as {@link ClientServiceOptions.retryPolicy}.
 * @throws RangeError if `initialDelay`, `maxDelay` or `factor` is negative
 *   or NaN; TypeError if `jitter` is not a function.
 * @see Twisted: twisted.application.internet.backoffPolicy
 * @since 0.1.0
 */
export function backoffPolicy(options: BackoffPolicyOptions = {}): RetryPolicy {
  const initialDelay = requireSeconds(options.initialDelay ?? 1.0, 'initialDelay');
  const maxDelay = requireSeconds(options.maxDelay ?? 60, 'maxDelay');
  const factor = requireSeconds(options.factor ?? 1.5, 'factor');
  const jitter = options.jitter ?? Math.random;
  if (typeof jitter !== 'function') {
    throw new TypeError(`backoffPolicy jitter must be a function, got ${typeof jitter}`);
  }
  return (failedAttempts: number): number =>
    // An overflow to Infinity (Python's OverflowError) is capped as well.
    Math.min(initialDelay * factor ** Math.min(100, failedAttempts), maxDelay) + jitter();
}

const defaultPolicy = backoffPolicy();

/** Options of {@link ClientService}. */
export interface ClientServiceOptions<P extends IProtocol = IProtocol> {
  /**
   * Schedules the waits between attempts: the reactor the endpoint connects
   * with, or a `Clock` in tests. Required: nothing falls back to real time.
   */
  clock: IReactorTime;
  /** How long to wait before each new attempt. @defaultValue backoffPolicy() */
  retryPolicy?: RetryPolicy;
  /**
   * Called with each newly connected protocol, before anyone waiting in
   * {@link ClientService.whenConnected} is given it: authenticate or check
   * the connection here. If it returns a Deferred or promise, the
   * connection counts as made once that settles; if it throws or that
   * fails, the connection is dropped and counts as a failed attempt. What
   * it returns otherwise is ignored.
   */
  prepareConnection?: (this: void, protocol: P) => unknown;
}

/** Options of {@link ClientService.whenConnected}. */
export interface WhenConnectedOptions {
  /**
   * Fail after this many failed attempts in a row (counted from this call)
   * with the last attempt's failure, instead of waiting for a connection.
   * 1 fails on the first failure. @defaultValue wait until connected or stopped
   */
  failAfterFailures?: number | undefined;
}

/**
 * The protocol the endpoint connects: forwards everything to the user's
 * protocol, and tells the service when the connection is lost.
 * (Twisted: twisted.application.internet._ReconnectingProtocolProxy)
 */
class ReconnectingProtocolProxy<P extends IProtocol> implements IProtocol {
  /** The user's protocol. */
  readonly protocol: P;
  /** The connection's transport, once made. */
  transport: ITransport | null = null;
  /** Why the connection was lost, once it was. */
  lostReason: Failure | null = null;
  readonly #lost: (proxy: ReconnectingProtocolProxy<P>, reason: Failure) => void;

  constructor(protocol: P, lost: (proxy: ReconnectingProtocolProxy<P>, reason: Failure) => void) {
    this.protocol = protocol;
    this.#lost = lost;
  }

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.protocol.makeConnection(transport);
  }

  connectionMade(): void {
    this.protocol.connectionMade();
  }

  dataReceived(data: Uint8Array): void {
    this.protocol.dataReceived(data);
  }

  connectionLost(reason: Failure): void {
    this.lostReason = reason;
    try {
      this.protocol.connectionLost(reason);
    } finally {
      this.#lost(this, reason);
    }
  }

  /** A TLS handshake begun by `startTLS` completed: told to the protocol if it listens. */
  handshakeCompleted(): void {
    const listener = this.protocol as Partial<IHandshakeListener>;
    if (typeof listener.handshakeCompleted === 'function') listener.handshakeCompleted();
  }

  logPrefix(): string {
    const prefix = (this.protocol as { logPrefix?: unknown }).logPrefix;
    return typeof prefix === 'function'
      ? String(prefix.call(this.protocol))
      : this.protocol.constructor.name;
  }

  toString(): string {
    return `<ReconnectingProtocolProxy wrapping ${describe(this.protocol)}>`;
  }
}

/** The proxy of a half-closeable protocol: transports see it as half-closeable only then. */
class HalfCloseableProtocolProxy<P extends IProtocol>
  extends ReconnectingProtocolProxy<P>
  implements IHalfCloseableProtocol
{
  readConnectionLost(): void {
    (this.protocol as unknown as HalfCloseableProtocol).readConnectionLost();
  }

  writeConnectionLost(): void {
    (this.protocol as unknown as HalfCloseableProtocol).writeConnectionLost?.();
  }
}

/**
 * The factory the endpoint is given: builds the user's protocols, each in a
 * proxy that reports its connection's loss.
 * (Twisted: twisted.application.internet._DisconnectFactory)
 */
class DisconnectFactory<P extends IProtocol> implements IProtocolFactory {
  readonly wrappedFactory: IProtocolFactory;
  readonly #lost: (proxy: ReconnectingProtocolProxy<P>, reason: Failure) => void;

  constructor(
    wrappedFactory: IProtocolFactory,
    lost: (proxy: ReconnectingProtocolProxy<P>, reason: Failure) => void,
  ) {
    this.wrappedFactory = wrappedFactory;
    this.#lost = lost;
  }

  buildProtocol(addr: IAddress): ReconnectingProtocolProxy<P> | null {
    const built = this.wrappedFactory.buildProtocol(addr) as P | null;
    if (built === null) return null;
    return isHalfCloseable(built)
      ? new HalfCloseableProtocolProxy<P>(built, this.#lost)
      : new ReconnectingProtocolProxy<P>(built, this.#lost);
  }

  doStart(): void {
    this.wrappedFactory.doStart();
  }

  doStop(): void {
    this.wrappedFactory.doStop();
  }

  toString(): string {
    return `<DisconnectFactory wrapping ${describe(this.wrappedFactory)}>`;
  }
}

/** An object's own `toString()`, or its class name where that says nothing. */
function describe(value: object): string {
  const text = String(value);
  return text === '[object Object]' ? value.constructor.name : text;
}

/** One connection attempt: connecting, then preparing the connection. */
interface Attempt<P extends IProtocol> {
  /** The attempt's chain, once built (cancelling it abandons the attempt). */
  chain: Deferred<void> | null;
  /** The connection, once the endpoint has made it. */
  connection: ReconnectingProtocolProxy<P> | null;
  /** Set when the attempt should be cancelled before `chain` exists. */
  cancelRequested: boolean;
}

type Connection<P extends IProtocol> = ReconnectingProtocolProxy<P>;

/** A whenConnected caller, with how many more failures it waits through. */
interface Waiter<P extends IProtocol> {
  readonly deferred: Deferred<P>;
  remaining: number | undefined;
}

// The states of the service, as Twisted's _ClientMachine has them:
// `disconnecting` waits for an attempt or a connection to end after a stop;
// with `restart` set (started again meanwhile) it then connects again,
// which is Twisted's Restarting state.
type State<P extends IProtocol> =
  | { readonly name: 'idle' }
  | { readonly name: 'connecting'; readonly attempt: Attempt<P> }
  | { readonly name: 'waiting'; readonly retry: IDelayedCall }
  | { readonly name: 'connected'; readonly connection: Connection<P> }
  | {
      readonly name: 'disconnecting';
      on: Attempt<P> | Connection<P>;
      restart: boolean;
    }
  | { readonly name: 'stopped' };

/**
 * Keeps one connection to `endpoint` up while it runs: connects when
 * started, and after the connection fails or is lost waits as `retryPolicy`
 * says and connects again.
 *
 * @remarks
 * {@link ClientService.whenConnected} gives the connected protocol (at once
 * when there is one). Stopping cancels an attempt in progress or the wait
 * before the next, closes the connection, and fires once it is closed;
 * callers still waiting in `whenConnected` then fail with
 * {@link CancelledError}. A failed attempt is logged as a warning (a lost
 * connection as info) in the `torsion.app` namespace, with the delay
 * before the next attempt.
 *
 * The endpoint is given a factory of its own, whose protocols wrap the
 * ones `factory` builds and forward everything to them (half-closing
 * too); `whenConnected` and `prepareConnection` see `factory`'s protocols.
 *
 * Differences from Twisted: `clock` is required (Twisted's defaults to the
 * global reactor); `prepareConnection` is given the protocol `factory`
 * built, not the proxy the endpoint connected; a connection that
 * `prepareConnection` rejects is closed (Twisted leaves it open), and one
 * lost while being prepared cancels the preparation and counts as a failed
 * attempt (Twisted has no transition for it); starting again after a stop
 * begins a fresh back-off (Twisted keeps counting); `whenConnected`
 * callers waiting when a never-started service is stopped fail with
 * `CancelledError` (in Twisted they wait on).
 *
 * @example
 * ```ts
 * import { ClientService } from 'torsion/app';
 * import { clientFromString } from 'torsion/endpoints';
 * import { Factory, Protocol } from 'torsion/protocol';
 * import { reactor } from 'torsion/reactor';
 *
 * class Hello extends Protocol {
 *   override connectionMade(): void {
 *     this.transport.write(new TextEncoder().encode('hello\n'));
 *   }
 * }
 * const endpoint = clientFromString(reactor, 'tcp:host=127.0.0.1:port=7000');
 * const service = new ClientService(endpoint, Factory.forProtocol(Hello), { clock: reactor });
 * service.startService();
 * const hello: Hello = await service.whenConnected(); // reconnects if the server restarts
 * await service.stopService();
 * ```
 *
 * @typeParam P - The protocol `factory` builds, which
 *   {@link ClientService.whenConnected} gives.
 * @see Twisted: twisted.application.internet.ClientService
 * @since 0.1.0
 */
export class ClientService<P extends IProtocol = IProtocol> extends Service {
  /** Where to connect. */
  readonly endpoint: IStreamClientEndpoint;
  /** What builds the connection's protocol. */
  readonly factory: IProtocolFactory;
  /** What schedules the waits between attempts. */
  readonly clock: IReactorTime;
  readonly #retryPolicy: RetryPolicy;
  readonly #prepareConnection: ((this: void, protocol: P) => unknown) | undefined;
  #state: State<P> = { name: 'idle' };
  #failedAttempts = 0;
  #waiters: Waiter<P>[] = [];
  #stopWaiters: Deferred<void>[] = [];

  /**
   * @param endpoint - Where to connect, each time.
   * @param factory - Builds the protocol of each connection; its
   *   `buildProtocol` returning `null` counts as a failed attempt.
   * @param options - The clock (required) and the rest; see
   *   {@link ClientServiceOptions}.
   * @throws TypeError if `options.clock` is not an `IReactorTime`, or
   *   `retryPolicy` or `prepareConnection` is given and not a function.
   */
  constructor(
    endpoint: IStreamClientEndpoint,
    factory: IProtocolFactory & { buildProtocol(addr: IAddress): P | null },
    options: ClientServiceOptions<P>,
  ) {
    super();
    this.endpoint = endpoint;
    this.factory = factory;
    this.clock = requireClock(
      (options as Partial<ClientServiceOptions<P>> | undefined)?.clock,
      'ClientService needs a clock option (IReactorTime)',
    );
    const { retryPolicy, prepareConnection } = options;
    if (retryPolicy !== undefined && typeof retryPolicy !== 'function') {
      throw new TypeError(
        `ClientService retryPolicy must be a function, got ${typeof retryPolicy}`,
      );
    }
    if (prepareConnection !== undefined && typeof prepareConnection !== 'function') {
      throw new TypeError(
        `ClientService prepareConnection must be a function, got ${typeof prepareConnection}`,
      );
    }
    this.#retryPolicy = retryPolicy ?? defaultPolicy;
    this.#prepareConnection = prepareConnection;
  }

  /**
   * The connected protocol: at once if connected, else the next connection's.
   *
   * @param options - See {@link WhenConnectedOptions}.
   * @returns A Deferred that fires with the protocol `factory` built; fails
   *   with {@link CancelledError} if the service is stopped first (at once
   *   if it is stopped now), or with the last attempt's failure after
   *   `failAfterFailures` failed attempts. Cancelling it stops the waiting.
   * @throws RangeError if `failAfterFailures` is not a whole number >= 1.
   */
  whenConnected(options: WhenConnectedOptions = {}): Deferred<P> {
    const { failAfterFailures } = options;
    if (
      failAfterFailures !== undefined &&
      !(Number.isInteger(failAfterFailures) && failAfterFailures >= 1)
    ) {
      throw new RangeError(
        `whenConnected failAfterFailures must be a whole number >= 1, got ${failAfterFailures}`,
      );
    }
    const state = this.#state;
    if (state.name === 'connected') return succeed(state.connection.protocol);
    if (state.name === 'stopped') return fail(new CancelledError());
    const waiter: Waiter<P> = {
      deferred: new Deferred<P>(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      }),
      remaining: failAfterFailures,
    };
    this.#waiters.push(waiter);
    return waiter.deferred;
  }

  /** Starts connecting (once the previous connection is closed, if stopping). */
  override startService(): void {
    if (this.running) {
      log.warn('Duplicate ClientService.startService of {service}: ignored', {
        service: String(this),
      });
      return;
    }
    super.startService();
    const state = this.#state;
    if (state.name === 'idle' || state.name === 'stopped') {
      this.#failedAttempts = 0;
      this.#connect();
    } else if (state.name === 'disconnecting') {
      state.restart = true;
    }
  }

  /**
   * Stops connecting: cancels the attempt in progress or the wait before
   * the next, and closes the connection.
   *
   * @returns A Deferred that fires once the connection is closed and the
   *   attempt has ended (at once if there is neither).
   */
  override stopService(): Deferred<void> {
    super.stopService();
    const state = this.#state;
    switch (state.name) {
      case 'idle':
      case 'stopped':
        this.#state = { name: 'stopped' };
        this.#cancelWaiters();
        return succeed(undefined);
      case 'waiting':
        state.retry.cancel();
        this.#state = { name: 'stopped' };
        this.#cancelWaiters();
        return succeed(undefined);
      case 'connecting': {
        const stopped = this.#waitForStop();
        this.#state = { name: 'disconnecting', on: state.attempt, restart: false };
        this.#cancelAttempt(state.attempt);
        return stopped;
      }
      case 'connected': {
        const stopped = this.#waitForStop();
        this.#state = { name: 'disconnecting', on: state.connection, restart: false };
        state.connection.transport?.loseConnection();
        return stopped;
      }
      case 'disconnecting':
        state.restart = false;
        return this.#waitForStop();
    }
  }

  #connect(): void {
    const attempt: Attempt<P> = { chain: null, connection: null, cancelRequested: false };
    // The state is set first: the endpoint may answer before connect returns.
    this.#state = { name: 'connecting', attempt };
    const factory = new DisconnectFactory<P>(this.factory, (proxy, reason) =>
      this.#connectionLost(proxy, reason),
    );
    let connecting: Deferred<ReconnectingProtocolProxy<P>>;
    try {
      connecting = this.endpoint.connect(factory);
    } catch (error) {
      connecting = fail(error);
    }
    attempt.chain = connecting
      .addCallback((proxy: ReconnectingProtocolProxy<P>) => {
        attempt.connection = proxy;
        const prepare = this.#prepareConnection;
        if (proxy.lostReason !== null || prepare === undefined) return proxy;
        return maybeDeferred(prepare, proxy.protocol).addCallback(() => proxy);
      })
      .addCallbacks(
        (proxy: ReconnectingProtocolProxy<P>) => this.#attemptSucceeded(attempt, proxy),
        (failure: Failure) => this.#attemptFailed(attempt, failure),
      );
    if (attempt.cancelRequested) attempt.chain.cancel();
  }

  #cancelAttempt(attempt: Attempt<P>): void {
    // Cancelling the chain while prepareConnection's Deferred is pending
    // cancels that Deferred.
    if (attempt.chain === null) attempt.cancelRequested = true;
    else attempt.chain.cancel();
  }

  #attemptSucceeded(attempt: Attempt<P>, proxy: Connection<P>): void {
    // Lost while prepareConnection ran: a failed attempt.
    if (proxy.lostReason !== null) {
      this.#attemptFailed(attempt, proxy.lostReason);
      return;
    }
    const state = this.#state;
    if (state.name === 'connecting' && state.attempt === attempt) {
      this.#failedAttempts = 0;
      this.#state = { name: 'connected', connection: proxy };
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter.deferred.callback(proxy.protocol);
    } else {
      // Stopped while preparing, and cancelling did not stop it: close it,
      // and a stop waits for that.
      if (state.name === 'disconnecting' && state.on === attempt) state.on = proxy;
      proxy.transport?.loseConnection();
    }
  }

  #attemptFailed(attempt: Attempt<P>, failure: Failure): void {
    const connection = attempt.connection;
    // A connection made but then lost or rejected while being prepared:
    // the loss is the reason worth reporting, not the cancellation of the
    // preparation it caused.
    const reason = connection?.lostReason ?? failure;
    const open = connection !== null && connection.lostReason === null ? connection : null;
    const state = this.#state;
    if (state.name === 'connecting' && state.attempt === attempt) {
      open?.transport?.loseConnection();
      this.#waitToRetry(reason, 'failed');
      const ready: Waiter<P>[] = [];
      const notReady: Waiter<P>[] = [];
      for (const waiter of this.#waiters) {
        if (waiter.remaining === undefined) notReady.push(waiter);
        else if (waiter.remaining <= 1) ready.push(waiter);
        else {
          waiter.remaining -= 1;
          notReady.push(waiter);
        }
      }
      this.#waiters = notReady;
      for (const waiter of ready) waiter.deferred.errback(reason);
    } else if (state.name === 'disconnecting' && state.on === attempt) {
      if (open === null) this.#finishDisconnecting(state.restart);
      else {
        state.on = open;
        open.transport?.loseConnection();
      }
    }
  }

  #connectionLost(proxy: Connection<P>, reason: Failure): void {
    const state = this.#state;
    if (state.name === 'connected' && state.connection === proxy) {
      this.#waitToRetry(reason, 'lost');
    } else if (state.name === 'connecting' && state.attempt.connection === proxy) {
      // Lost while prepareConnection runs: stop waiting for it.
      this.#cancelAttempt(state.attempt);
    } else if (state.name === 'disconnecting' && state.on === proxy) {
      this.#finishDisconnecting(state.restart);
    }
    // Otherwise a connection already let go of (rejected by
    // prepareConnection): nothing waits for it.
  }

  #waitToRetry(reason: Failure, what: 'failed' | 'lost'): void {
    this.#failedAttempts += 1;
    const attempt = this.#failedAttempts;
    const delay = this.#delayFor(attempt);
    const fields = {
      service: String(this),
      endpoint: describe(this.endpoint),
      reason: reason.getErrorMessage(),
      attempt,
      delay: Math.round(delay * 1000) / 1000,
    };
    if (what === 'failed') {
      log.warn(
        '{service} could not connect to {endpoint} (retry {attempt} in {delay} seconds): {reason}',
        fields,
      );
    } else {
      log.info(
        '{service} lost its connection to {endpoint} (reconnecting in {delay} seconds): {reason}',
        fields,
      );
    }
    const retry = this.clock.callLater(delay, () => {
      if (this.#state.name === 'waiting') this.#connect();
    });
    this.#state = { name: 'waiting', retry };
  }

  #delayFor(failedAttempts: number): number {
    let delay: unknown;
    try {
      delay = this.#retryPolicy(failedAttempts);
    } catch (error) {
      log.failure('{service}: its retryPolicy threw; using the default back-off', error, {
        service: String(this),
        level: 'error',
      });
      return defaultPolicy(failedAttempts);
    }
    if (typeof delay === 'number' && Number.isFinite(delay) && delay >= 0) return delay;
    log.error(
      '{service}: its retryPolicy returned {delay}, not a finite number of seconds >= 0; using the default back-off',
      { service: String(this), delay: String(delay) },
    );
    return defaultPolicy(failedAttempts);
  }

  #finishDisconnecting(restart: boolean): void {
    if (restart) {
      this.#failedAttempts = 0;
      this.#connect();
    } else {
      this.#state = { name: 'stopped' };
      this.#cancelWaiters();
    }
    const stopWaiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const waiter of stopWaiters) waiter.callback(undefined);
  }

  #waitForStop(): Deferred<void> {
    const stopped = new Deferred<void>();
    this.#stopWaiters.push(stopped);
    return stopped;
  }

  #cancelWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.deferred.errback(new Failure(new CancelledError()));
  }
}
