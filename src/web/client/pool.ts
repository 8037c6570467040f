// HTTPConnectionPool: where an agent's connections come from and, when they
// stay open, go back to: a cache of idle connections per origin, each with
// a timeout, and one retry of an idempotent request whose cached connection
// turned out dead (Twisted: twisted.web.client.HTTPConnectionPool).
// Tests: test/unit/web/client-pool.test.ts, test/unit/web/client-pool-expiry.test.ts

import { CancelledError, Deferred, gatherResults, succeed } from '../../internet/defer.js';
import type { Failure } from '../../internet/failure.js';
import type {
  IAddress,
  IDelayedCall,
  IProtocolFactory,
  IReactorTime,
  IStreamClientEndpoint,
} from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { type ClientRequest, HTTP11ClientProtocol } from './client-protocol.js';
import { RequestNotSent, RequestTransmissionFailed, ResponseNeverReceived } from './errors.js';
import type { Response } from './response.js';

const log = new Logger('torsion.web.client');

/**
 * A connection a pool hands out: send one request on it.
 *
 * @since 0.1.0
 */
export interface IClientConnection {
  /** Sends `request`; see {@link HTTP11ClientProtocol.request}. */
  request(request: ClientRequest): Deferred<Response>;
}

/** Options of {@link HTTPConnectionPool}. */
export interface HTTPConnectionPoolOptions {
  /**
   * Whether connections are kept open for further requests. A pool that
   * keeps none asks for `Connection: close` and closes each connection
   * after its response.
   * @defaultValue true
   */
  readonly persistent?: boolean;
  /** The most idle connections kept per origin; the oldest is closed to make room. @defaultValue 2 */
  readonly maxPersistentPerHost?: number;
  /** Seconds an idle connection is kept before it is closed. @defaultValue 240 */
  readonly cachedConnectionTimeout?: number;
  /**
   * Whether an idempotent request without a body (`GET`, `HEAD`,
   * `OPTIONS`, `DELETE`, `TRACE`) sent on a cached connection that turns
   * out to have been closed by the server is sent once more on a new one.
   * @defaultValue true
   */
  readonly retryAutomatically?: boolean;
}

/** Methods a request may be repeated with when a cached connection was dead (Twisted's list). */
const RETRIABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'TRACE']);

/** A cached connection and when it is to be closed (reactor time, seconds). */
interface Idle {
  readonly protocol: PooledProtocol;
  readonly expires: number;
}

/** A client protocol that tells its pool when it is idle again and when it is gone. */
class PooledProtocol extends HTTP11ClientProtocol {
  readonly #lost: (protocol: PooledProtocol) => void;
  readonly closed = new Deferred<void>();

  constructor(
    quiescent: (protocol: PooledProtocol) => void,
    lost: (protocol: PooledProtocol) => void,
  ) {
    super((protocol) => quiescent(protocol as PooledProtocol));
    this.#lost = lost;
  }

  override connectionLost(reason?: Failure): void {
    super.connectionLost(reason);
    this.#lost(this);
    this.closed.callback(undefined);
  }
}

/**
 * The connections of one or more agents: new ones from an endpoint, idle
 * ones kept per origin for the next request.
 *
 * @remarks
 * A connection comes back to the pool when its response has been read in
 * full, if both sides allowed keep-alive; at most `maxPersistentPerHost`
 * idle connections are kept per origin (the oldest is closed to make room;
 * the number of connections in use at once is not limited), and each is
 * closed after `cachedConnectionTimeout` seconds unused. A cached
 * connection the server closed meanwhile is dropped when it closes.
 *
 * A server may close an idle connection just as a request is sent on it;
 * with `retryAutomatically`, an idempotent request without a body that
 * failed that way (`RequestNotSent`, `RequestTransmissionFailed` or
 * `ResponseNeverReceived`, and not a cancellation) is sent again, once, on
 * a new connection.
 *
 * Call {@link HTTPConnectionPool.closeCachedConnections} before shutting
 * down: idle connections otherwise keep the process alive until they time
 * out.
 *
 * @example
 * ```ts
 * const pool = new HTTPConnectionPool(reactor, { maxPersistentPerHost: 10 });
 * const agent = new Agent(reactor, { pool });
 * // … requests …
 * await pool.closeCachedConnections();
 * ```
 *
 * @see Twisted: twisted.web.client.HTTPConnectionPool
 * @since 0.1.0
 */
export class HTTPConnectionPool {
  /** Whether connections are kept for further requests. */
  readonly persistent: boolean;
  /** The most idle connections kept per origin. */
  readonly maxPersistentPerHost: number;
  /** Seconds an idle connection is kept. */
  readonly cachedConnectionTimeout: number;
  /** Whether an idempotent request on a dead cached connection is sent again. */
  readonly retryAutomatically: boolean;
  readonly #clock: IReactorTime;
  /** Idle connections per key, oldest first. */
  readonly #idle = new Map<string, Idle[]>();
  /** How many connections `#idle` holds, all keys together. */
  #idleCount = 0;
  /**
   * The one timer that closes idle connections, due at or before the
   * earliest expiry. A timer per connection, armed on every return to the
   * pool and cancelled on every reuse, cost a tenth of the client's CPU per
   * request under keep-alive; this one is left armed while connections come
   * and go, and cancelled only when no connection is left to wait for.
   */
  #expiry: IDelayedCall | undefined;

  /**
   * @param clock - Times the idle connections.
   */
  constructor(clock: IReactorTime, options: HTTPConnectionPoolOptions = {}) {
    const max = options.maxPersistentPerHost ?? 2;
    const timeout = options.cachedConnectionTimeout ?? 240;
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(`maxPersistentPerHost must be a whole number ≥ 0, not ${max}`);
    }
    if (!(timeout >= 0)) {
      throw new RangeError(
        `cachedConnectionTimeout must be a number of seconds ≥ 0, not ${timeout}`,
      );
    }
    this.#clock = clock;
    this.persistent = options.persistent ?? true;
    this.maxPersistentPerHost = max;
    this.cachedConnectionTimeout = timeout;
    this.retryAutomatically = options.retryAutomatically ?? true;
  }

  /** How many idle connections are cached for `key` (for monitoring and tests). */
  idleConnections(key: string): number {
    return this.#idle.get(key)?.length ?? 0;
  }

  /**
   * A connection for `key`: an idle one from the cache, or a new one from
   * `endpoint`.
   *
   * @param key - Which connections are interchangeable (an agent uses the
   *   origin, `https://example.com:443`).
   * @returns A Deferred of the connection; cancelling it while connecting
   *   abandons the attempt.
   */
  getConnection(key: string, endpoint: IStreamClientEndpoint): Deferred<IClientConnection> {
    const idle = this.#idle.get(key);
    while (idle !== undefined && idle.length > 0) {
      const { protocol } = idle.shift() as Idle;
      this.#idleCount--;
      if (idle.length === 0) this.#idle.delete(key);
      if (protocol.state !== 'quiescent') continue;
      if (!this.retryAutomatically) return succeed<IClientConnection>(protocol);
      return succeed<IClientConnection>({
        request: (request) => this.#retrying(protocol, request, key, endpoint),
      });
    }
    return this.#newConnection(key, endpoint);
  }

  /**
   * Closes every idle connection.
   *
   * @returns A Deferred that fires when they have all closed.
   */
  closeCachedConnections(): Deferred<void> {
    const closing: Deferred<void>[] = [];
    const all = [...this.#idle.values()];
    this.#idle.clear();
    this.#idleCount = 0;
    this.#cancelExpiry();
    for (const idle of all) {
      for (const { protocol } of idle) {
        closing.push(protocol.closed);
        protocol.transport.loseConnection();
      }
    }
    return gatherResults(closing).addCallback(() => undefined);
  }

  #newConnection(key: string, endpoint: IStreamClientEndpoint): Deferred<IClientConnection> {
    const factory: IProtocolFactory = {
      buildProtocol: (_addr: IAddress) =>
        new PooledProtocol(
          (protocol) => this.#put(key, protocol),
          (protocol) => this.#remove(key, protocol),
        ),
      doStart() {},
      doStop() {},
    };
    return endpoint.connect(factory).addCallback((protocol) => protocol as PooledProtocol);
  }

  /** Sends `request` on a cached connection, and once more on a new one if that was dead. */
  #retrying(
    protocol: HTTP11ClientProtocol,
    request: ClientRequest,
    key: string,
    endpoint: IStreamClientEndpoint,
  ): Deferred<Response> {
    return protocol.request(request).addErrback((failure: Failure) => {
      if (!shouldRetry(request, failure)) return failure;
      log.debug('A cached connection to {key} was closed; sending {method} again on a new one', {
        key,
        method: request.method,
      });
      return this.#newConnection(key, endpoint).addCallback((fresh) => fresh.request(request));
    });
  }

  /** A connection is idle after a response: cache it, or close it. */
  #put(key: string, protocol: PooledProtocol): void {
    if (!this.persistent || this.maxPersistentPerHost === 0) {
      protocol.transport.loseConnection();
      return;
    }
    let idle = this.#idle.get(key);
    if (idle === undefined) {
      idle = [];
      this.#idle.set(key, idle);
    }
    if (idle.length >= this.maxPersistentPerHost) {
      const oldest = idle.shift() as Idle;
      this.#idleCount--;
      oldest.protocol.transport.loseConnection();
    }
    const timeout = this.cachedConnectionTimeout;
    idle.push({ protocol, expires: this.#clock.seconds() + timeout });
    this.#idleCount++;
    this.#expiry ??= this.#clock.callLater(timeout, () => this.#expire());
  }

  /** Closes the idle connections whose time is up, and waits for the next one. */
  #expire(): void {
    this.#expiry = undefined;
    const now = this.#clock.seconds();
    let next = Number.POSITIVE_INFINITY;
    for (const [key, idle] of this.#idle) {
      while (idle.length > 0 && (idle[0] as Idle).expires <= now) {
        const { protocol } = idle.shift() as Idle;
        this.#idleCount--;
        protocol.transport.loseConnection();
      }
      if (idle.length === 0) this.#idle.delete(key);
      else next = Math.min(next, (idle[0] as Idle).expires);
    }
    if (next !== Number.POSITIVE_INFINITY) {
      this.#expiry = this.#clock.callLater(next - now, () => this.#expire());
    }
  }

  #cancelExpiry(): void {
    if (this.#expiry?.active()) this.#expiry.cancel();
    this.#expiry = undefined;
  }

  /** A pooled connection closed: forget it if it was idle. */
  #remove(key: string, protocol: PooledProtocol): void {
    const idle = this.#idle.get(key);
    const at = idle === undefined ? -1 : idle.findIndex((entry) => entry.protocol === protocol);
    if (idle !== undefined && at !== -1) {
      idle.splice(at, 1);
      this.#idleCount--;
      if (idle.length === 0) this.#idle.delete(key);
    }
    // With nothing idle, a timer would only keep the process alive.
    if (this.#idleCount === 0) this.#cancelExpiry();
  }
}

/** Whether a request that failed on a cached connection may be sent again (Twisted's rules). */
function shouldRetry(request: ClientRequest, failure: Failure): boolean {
  if (!RETRIABLE.has(request.method) || request.bodyProducer !== undefined) return false;
  const error = failure.value;
  if (error instanceof RequestNotSent) return true;
  if (!(error instanceof RequestTransmissionFailed || error instanceof ResponseNeverReceived)) {
    return false;
  }
  return error.reasons.every((reason) => reason.check(CancelledError) === null);
}
