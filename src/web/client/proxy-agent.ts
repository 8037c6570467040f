// ProxyAgent: requests through an HTTP proxy. `http:` URLs are sent to the
// proxy with the absolute URL as the request-target; `https:` URLs go
// through a tunnel (`CONNECT host:port`, then TLS to the origin over it).
// (Twisted: twisted.web.client.ProxyAgent, which has no CONNECT; the tunnel
// is ours.)
// Tests: test/unit/web/client-proxy.test.ts, test/integration/web/client-proxy.test.ts

import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Deferred, fail } from '../../internet/defer.js';
import { ConnectError, SSLError, TimeoutError } from '../../internet/error.js';
import { Failure } from '../../internet/failure.js';
import type {
  EndpointConnectOptions,
  IAddress,
  IDelayedCall,
  IProtocol,
  IProtocolFactory,
  IReactorTime,
  IStreamClientEndpoint,
  ITCPTransport,
  ITLSTransport,
  ProtocolOf,
} from '../../internet/interfaces.js';
import { type HttpParseError, HttpParser, type ResponseHead } from '../_parser.js';
import { Headers } from '../headers.js';
import { type IAgent, requestWithEndpoint } from './agent.js';
import type { IBodyProducer } from './client-protocol.js';
import { ProxyConnectError } from './errors.js';
import { HTTPConnectionPool } from './pool.js';
import type { Response } from './response.js';
import { URI } from './uri.js';

/** Options of {@link ProxyAgent}. */
export interface ProxyAgentOptions {
  /**
   * Where connections come from and go back to. Default: a pool that keeps
   * none, as {@link Agent}'s. Connections to the proxy for `http:` URLs
   * are shared by every origin; a tunnel serves its one origin only.
   */
  readonly pool?: HTTPConnectionPool;
  /**
   * The `Proxy-Authorization` header's value (such as
   * `'Basic dXNlcjpwYXNz'`): sent with each `http:` request and with each
   * `CONNECT`, never to an origin through a tunnel.
   */
  readonly proxyAuthorization?: string;
  /**
   * TLS settings for `https:` origins, as `tls.connect` takes them. By
   * default the origin's certificate is verified against Node's bundled
   * roots and must name the URL's host, as with a direct {@link Agent};
   * `{ ca }` adds trust roots.
   */
  readonly tls?: ConnectionOptions;
  /**
   * Seconds an `https:` request may wait for its tunnel: connecting to the
   * proxy, its answer to `CONNECT` and the TLS handshake together. Past it
   * the request fails with `TimeoutError` and the connection is closed.
   * (Connecting to the proxy is also bounded by its endpoint's own timeout.)
   * @defaultValue 30
   */
  readonly tunnelTimeout?: number;
}

/** A number per proxy endpoint (and per credential), so that pool keys tell proxies apart. */
const endpointIds = new WeakMap<IStreamClientEndpoint, number>();
const credentialIds = new Map<string, number>();
let lastId = 0;

function endpointId(endpoint: IStreamClientEndpoint): number {
  let id = endpointIds.get(endpoint);
  if (id === undefined) {
    id = ++lastId;
    endpointIds.set(endpoint, id);
  }
  return id;
}

function credentialId(credential: string | undefined): number {
  if (credential === undefined) return 0;
  let id = credentialIds.get(credential);
  if (id === undefined) {
    id = credentialIds.size + 1;
    credentialIds.set(credential, id);
  }
  return id;
}

/** How a proxy is named in messages: its endpoint's description, when it has one. */
function describeProxy(endpoint: IStreamClientEndpoint): string {
  const text = String(endpoint);
  return text === '[object Object]' ? 'the proxy' : `the proxy ${text}`;
}

/**
 * An HTTP client that sends every request through an HTTP proxy.
 *
 * @remarks
 * For an `http:` URL the request goes to the proxy with the absolute URL
 * as its request-target (`GET http://example.com/ HTTP/1.1`); connections
 * to the proxy are pooled under the proxy, whatever the origin.
 *
 * For an `https:` URL the agent asks the proxy for a tunnel
 * (`CONNECT example.com:443`); once the proxy answers 2xx it starts TLS to
 * the origin over it, verified against the URL's host as a direct
 * {@link Agent} does, and sends the request inside. A tunnel is pooled for
 * its origin only. Any other answer fails the request with
 * {@link ProxyConnectError}, which names the proxy, the target and the
 * status; a failed handshake fails it with `SSLError`.
 *
 * `proxyAuthorization` goes to the proxy only: with `http:` requests and
 * with `CONNECT`. A `Proxy-Authorization` header among a request's own
 * headers is sent to the proxy for `http:` URLs, and dropped for `https:`
 * ones, where the origin would see it.
 *
 * Cancelling the Deferred at any stage (connecting to the proxy, waiting
 * for its answer to `CONNECT`, during the handshake, waiting for the
 * response) closes the connection.
 *
 * @example
 * ```ts
 * const proxy = new HostnameEndpoint(reactor, 'proxy.example', 3128);
 * const agent = new ProxyAgent(proxy, reactor, { proxyAuthorization: 'Basic dXNlcjpwYXNz' });
 * const response = await agent.request('GET', 'https://example.com/');
 * ```
 *
 * @see Twisted: twisted.web.client.ProxyAgent
 * @since 0.1.0
 */
export class ProxyAgent implements IAgent {
  readonly #endpoint: IStreamClientEndpoint;
  readonly #pool: HTTPConnectionPool;
  readonly #authorization: string | undefined;
  readonly #tls: ConnectionOptions | undefined;
  readonly #key: string;
  readonly #clock: IReactorTime;
  readonly #tunnelTimeout: number;

  /**
   * @param endpoint - Connects to the proxy.
   * @param reactor - Times the pool's idle connections (when no pool is given).
   * @throws TypeError if `proxyAuthorization` holds CR, LF or NUL;
   *   RangeError if `tunnelTimeout` is not a positive number of seconds.
   */
  constructor(
    endpoint: IStreamClientEndpoint,
    reactor: IReactorTime,
    options: ProxyAgentOptions = {},
  ) {
    const authorization = options.proxyAuthorization;
    if (authorization !== undefined && /[\r\n\0]/.test(authorization)) {
      throw new TypeError('proxyAuthorization must not hold CR, LF or NUL');
    }
    const timeout = options.tunnelTimeout ?? 30;
    if (!(timeout > 0)) {
      throw new RangeError(`tunnelTimeout must be a positive number of seconds, not ${timeout}`);
    }
    this.#clock = reactor;
    this.#tunnelTimeout = timeout;
    this.#endpoint = endpoint;
    this.#pool = options.pool ?? new HTTPConnectionPool(reactor, { persistent: false });
    this.#authorization = authorization;
    this.#tls = options.tls;
    this.#key = `proxy#${endpointId(endpoint)}`;
  }

  /** {@inheritDoc IAgent.request} */
  request(
    method: string,
    uri: string,
    headers?: Headers,
    bodyProducer?: IBodyProducer,
  ): Deferred<Response> {
    let parsed: URI;
    try {
      parsed = URI.fromString(uri);
    } catch (error) {
      return fail(error);
    }
    const sent = headers === undefined ? new Headers() : headers.copy();
    if (parsed.scheme === 'http') {
      const authorization = this.#authorization;
      if (authorization !== undefined && !sent.hasHeader('proxy-authorization')) {
        sent.addRawHeader('Proxy-Authorization', authorization);
      }
      return requestWithEndpoint(
        this.#pool,
        parsed,
        this.#endpoint,
        method,
        parsed.toString(),
        sent,
        bodyProducer,
        `${this.#key} http`,
      );
    }
    sent.removeHeader('proxy-authorization');
    const tunnel = new TunnelEndpoint(
      this.#endpoint,
      parsed.host,
      parsed.port,
      this.#tls ?? {},
      this.#authorization,
      this.#clock,
      this.#tunnelTimeout,
    );
    return requestWithEndpoint(
      this.#pool,
      parsed,
      tunnel,
      method,
      parsed.originForm,
      sent,
      bodyProducer,
      `${this.#key} ${credentialId(this.#authorization)} ${parsed.origin}`,
    );
  }
}

/**
 * An endpoint to `host:port` through an HTTP proxy's tunnel, with TLS to
 * the origin over it: connects to the proxy, sends `CONNECT`, and once the
 * proxy answers 2xx starts TLS (a client, verifying `host`); the connect
 * Deferred fires with the factory's protocol once the handshake is done.
 *
 * @internal Used by {@link ProxyAgent}.
 */
export class TunnelEndpoint implements IStreamClientEndpoint {
  constructor(
    private readonly proxy: IStreamClientEndpoint,
    private readonly host: string,
    private readonly port: number,
    private readonly tls: ConnectionOptions,
    private readonly authorization: string | undefined,
    private readonly clock: IReactorTime,
    private readonly timeout: number,
  ) {}

  /** The `host:port` of the tunnel, as CONNECT names it. */
  get target(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  connect<F extends IProtocolFactory>(
    factory: F,
    options: EndpointConnectOptions = {},
  ): Deferred<ProtocolOf<F>> {
    let tunnel: TunnelProtocol | undefined;
    let connecting: Deferred<IProtocol> | undefined;
    let timer: IDelayedCall | undefined;
    const result = new Deferred<ProtocolOf<F>>(() => {
      if (timer?.active() === true) timer.cancel();
      if (tunnel !== undefined) tunnel.cancel();
      else connecting?.cancel();
    });
    const done = (outcome: IProtocol | Failure): void => {
      if (timer?.active() === true) timer.cancel();
      if (result.called) return;
      if (outcome instanceof Failure) result.errback(outcome);
      else result.callback(outcome as ProtocolOf<F>);
    };
    const proxyName = describeProxy(this.proxy);
    timer = this.clock.callLater(this.timeout, () => {
      done(
        new Failure(
          new TimeoutError(
            `${this.target} through ${proxyName}: no tunnel after ${this.timeout} seconds`,
          ),
        ),
      );
      // Then let go of the attempt; what that reports is ignored (done already).
      if (tunnel !== undefined) tunnel.cancel();
      else connecting?.cancel();
    });
    const tls: ConnectionOptions = {
      ...this.tls,
      host: this.host,
      ...(isIP(this.host) === 0 && this.tls.servername === undefined && { servername: this.host }),
    };
    const tunnelFactory: IProtocolFactory = {
      buildProtocol: (_addr: IAddress) => {
        tunnel = new TunnelProtocol(this.target, proxyName, this.authorization, tls, factory, done);
        return tunnel;
      },
      doStart() {},
      doStop() {},
    };
    const signal = options.signal;
    if (signal?.aborted === true) {
      result.cancel();
      return result;
    }
    const onAbort = (): void => result.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    result.addBoth((outcome) => {
      signal?.removeEventListener('abort', onAbort);
      return outcome;
    });
    connecting = this.proxy.connect(tunnelFactory);
    connecting.addErrback((failure: Failure) => {
      done(failure);
      return undefined;
    });
    return result;
  }

  /** `<TunnelEndpoint example.com:443 through hostname:proxy:3128>` */
  toString(): string {
    return `<TunnelEndpoint ${this.target} through ${String(this.proxy)}>`;
  }
}

/**
 * The protocol on a connection to the proxy while the tunnel is set up;
 * afterwards it hands what arrives to the protocol of the origin.
 */
class TunnelProtocol implements IProtocol {
  transport: ITCPTransport | undefined;
  #state: 'connecting' | 'handshaking' | 'open' | 'failed' = 'connecting';
  #inner: IProtocol | undefined;
  readonly #parser: HttpParser;

  constructor(
    private readonly target: string,
    private readonly proxyName: string,
    private readonly authorization: string | undefined,
    private readonly tls: ConnectionOptions,
    private readonly factory: IProtocolFactory,
    private readonly done: (outcome: IProtocol | Failure) => void,
  ) {
    this.#parser = new HttpParser('response', {
      onResponseHead: (head) => this.#answered(head),
      onBody: () => undefined,
      onMessageComplete: () => undefined,
      onUpgrade: (rest) => this.#tunnelOpen(rest),
      onError: (error) => this.#parseFailed(error),
    });
  }

  makeConnection(transport: ITCPTransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  connectionMade(): void {
    const lines = [`CONNECT ${this.target} HTTP/1.1`, `Host: ${this.target}`];
    if (this.authorization !== undefined) {
      lines.push(`Proxy-Authorization: ${this.authorization}`);
    }
    this.#parser.expectResponse('CONNECT');
    this.transport?.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  }

  dataReceived(data: Uint8Array): void {
    if (this.#state === 'open') {
      this.#inner?.dataReceived(data);
      return;
    }
    if (this.#state !== 'connecting') return;
    this.#parser.feed(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Told by the transport once TLS to the origin is up. */
  handshakeCompleted(): void {
    if (this.#state !== 'handshaking') return;
    const transport = this.transport as ITCPTransport;
    let inner: IProtocol | null | undefined;
    try {
      inner = this.factory.buildProtocol(transport.getPeer());
    } catch (error) {
      this.#fail(new Failure(error));
      return;
    }
    if (inner == null) {
      this.#fail(new Failure(new ConnectError(`${this.target}: the factory built no protocol`)));
      return;
    }
    this.#state = 'open';
    this.#inner = inner;
    inner.makeConnection(transport);
    this.done(inner);
  }

  connectionLost(reason: Failure): void {
    const state = this.#state;
    this.#state = 'failed';
    if (state === 'open') {
      this.#inner?.connectionLost(reason);
      return;
    }
    if (state === 'failed') return;
    if (state === 'handshaking') {
      const cause = reason.value as Error;
      this.done(
        new Failure(
          new SSLError(`${this.target} through ${this.proxyName} (${reason.getErrorMessage()})`, {
            cause,
          }),
        ),
      );
      return;
    }
    this.done(
      new Failure(
        new ConnectError(
          `${this.target}: ${this.proxyName} closed the connection before answering CONNECT (${reason.getErrorMessage()})`,
          { cause: reason.value },
        ),
      ),
    );
  }

  /** Abandons the tunnel (the connect Deferred was cancelled). */
  cancel(): void {
    if (this.#state === 'open' || this.#state === 'failed') return;
    this.#state = 'failed';
    this.transport?.abortConnection();
  }

  #answered(head: ResponseHead): void {
    // 1xx: interim, the answer follows; 2xx: the tunnel opens (onUpgrade).
    if (head.status < 300) return;
    this.#fail(
      new Failure(new ProxyConnectError(this.proxyName, this.target, head.status, head.reason)),
    );
  }

  #tunnelOpen(rest: Buffer): void {
    if (this.#state !== 'connecting') return;
    const transport = this.transport as ITCPTransport & Partial<ITLSTransport>;
    if (typeof transport.startTLS !== 'function') {
      this.#fail(
        new Failure(
          new ConnectError(`${this.target}: the connection to the proxy cannot start TLS`),
        ),
      );
      return;
    }
    this.#state = 'handshaking';
    try {
      transport.startTLS(this.tls, { server: false, unread: rest });
    } catch (error) {
      this.#fail(new Failure(error));
    }
  }

  #parseFailed(error: HttpParseError): void {
    this.#fail(
      new Failure(
        new ConnectError(
          `${this.target}: ${this.proxyName} answered CONNECT with a malformed response (${error.message})`,
          { cause: error },
        ),
      ),
    );
  }

  /** Fails the connect Deferred and closes the connection. */
  #fail(reason: Failure): void {
    if (this.#state === 'failed' || this.#state === 'open') return;
    this.#state = 'failed';
    this.done(reason);
    this.transport?.abortConnection();
  }
}
