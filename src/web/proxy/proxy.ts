// Proxy: the forward proxy a user listens with (a Site whose requests are
// absolute URLs and CONNECT tunnels), and ProxyRequest, the exchange of one
// request through it (Twisted: twisted.web.proxy.Proxy and ProxyRequest,
// which buffer bodies, open a connection per request and have no CONNECT).
// Tests: test/unit/web/proxy/forward.test.ts, test/unit/web/proxy/connect.test.ts,
// test/unit/web/proxy/twisted-proxy-client.test.ts, test/integration/web/proxy-forward.test.ts,
// test/reliability/proxy-upload.test.ts

import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Deferred } from '../../internet/defer.js';
import {
  HostnameEndpoint,
  type HostnameEndpointReactor,
} from '../../internet/endpoints/hostname.js';
import { ConnectError, TimeoutError } from '../../internet/error.js';
import { Failure } from '../../internet/failure.js';
import type {
  IAddress,
  IDelayedCall,
  IHalfCloseableProtocol,
  IProtocol,
  IReactorTime,
  ITCPTransport,
} from '../../internet/interfaces.js';
import { Protocol } from '../../internet/protocol.js';
import { Logger } from '../../logger/logger.js';
import { errorPageHtml } from '../_html.js';
import { HttpParser } from '../_parser.js';
import { reasonPhrase } from '../_status.js';
import { HTTPChannel } from '../channel.js';
import { ProxyConnectError } from '../client/errors.js';
import type { HTTPConnectionPool } from '../client/pool.js';
import type { Headers } from '../headers.js';
import type { Request } from '../request.js';
import { getChildForRequest, type IResource, NOT_DONE_YET, Resource } from '../resource.js';
import { Site, type SiteOptions } from '../site.js';
import { sendAnswer } from './_error-page.js';
import { Forwarder } from './_forward.js';
import { stripHopByHop } from './_hop-by-hop.js';
import { TunnelEnd } from './_tunnel.js';
import type { IProxyFilter, IProxyStats, ProxiedRequestInfo, ProxyAnswer } from './hooks.js';

const log = new Logger('torsion.web.proxy');

/** A token as `Via`'s received-by pseudonym may be (RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * How a {@link Proxy} forwards: its reactor, upstream connections,
 * timeouts, hooks, and the web server options of its listening side.
 *
 * @since 0.1.0
 */
export interface ProxyOptions extends Omit<SiteOptions, 'clock'> {
  /** Connects upstream, resolves names and keeps time. */
  readonly reactor: HostnameEndpointReactor;
  /**
   * Where upstream connections come from and go back to (kept alive between
   * requests). Default: a pool made with the reactor, keeping up to 256
   * idle connections per origin for 60 seconds.
   */
  readonly pool?: HTTPConnectionPool;
  /** Decides, for each request, whether it goes upstream, and edits what passes. */
  readonly filter?: IProxyFilter;
  /** Where the proxy reports what it does (connections, requests, upstream errors). */
  readonly stats?: IProxyStats;
  /** Seconds an upstream connection (or a tunnel's) may take to open; past it, 504. Default 10. */
  readonly connectTimeout?: number;
  /** Seconds an upstream may take to start its response; past it, 504. Default 60. */
  readonly responseTimeout?: number;
  /**
   * Whether the client's address is added upstream in `X-Forwarded-For`.
   * Default false: a forward proxy does not tell the sites its users visit
   * who they are.
   */
  readonly xForwardedFor?: boolean;
  /** The ports `CONNECT` may open a tunnel to; others get 403. Default `[443]`. */
  readonly connectPorts?: readonly number[];
  /**
   * Another proxy to go through (`http://host:port`): absolute-form
   * requests are sent to it as they are, and tunnels are opened with its
   * `CONNECT` (a refusal is answered 502, naming its status). Default:
   * straight to each origin.
   */
  readonly upstreamProxy?: string;
  /**
   * What answers requests addressed to the proxy itself (origin-form, such
   * as `GET /_torsion/`, or an absolute URL naming the proxy's own
   * address): a status page, say. Default: none; such requests get a 400
   * page explaining that this is a proxy.
   */
  readonly localResource?: IResource;
  /**
   * The proxy's name in `Via` (a token). Default: `torsion-` and 8 random
   * hexadecimal digits, new for each proxy.
   */
  readonly via?: string;
  /** TLS settings for `https:` upstreams, as `tls.connect` takes them (`{ ca }` to trust more roots). */
  readonly tls?: ConnectionOptions;
}

/** The target of one request through the proxy, as {@link ProxyRequest.parseTarget} reads it. */
export interface ProxyTarget {
  /** `http` or `https` (`https` for a `CONNECT`). */
  readonly scheme: 'http' | 'https';
  /** The host, lower case, an IPv6 address without its brackets. */
  readonly host: string;
  /** The port: the URL's, else the scheme's default ({@link ProxyRequest.ports}). */
  readonly port: number;
  /** The path and query to send upstream (`/` at least); `''` for `CONNECT`. */
  readonly path: string;
}

/** Requests in origin-form, when the proxy has no local resource. */
const NOT_A_SERVER = new (class NotAServer extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  override render(request: Request): string {
    request.setResponseCode(400);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return errorPageHtml(
      400,
      'Bad Request',
      `This is a proxy: it forwards requests for absolute URLs (GET http://example.com/ HTTP/1.1) and opens tunnels with CONNECT; it serves no page at ${request.uri}.`,
    );
  }
})();

/**
 * The protocol of a connection to the upstream proxy while it opens a
 * tunnel: sends `CONNECT`, reads the answer, and on a 2xx hands the
 * connection to the tunnel's upstream end (which from then on gets every
 * event); `ready` fires with the bytes that followed the answer, or fails
 * with a `ProxyConnectError` (another status) or a `ConnectError`.
 */
class ConnectThrough extends Protocol<ITCPTransport> implements IHalfCloseableProtocol {
  readonly ready = new Deferred<Buffer>();
  readonly #parser: HttpParser;
  #open = false;
  #timer: IDelayedCall | undefined;

  constructor(
    private readonly target: string,
    private readonly upstreamProxy: string,
    private readonly via: string,
    private readonly end: TunnelEnd,
    private readonly clock: IReactorTime,
    private readonly timeout: number,
  ) {
    super();
    this.#parser = new HttpParser('response', {
      onResponseHead: (head) => {
        if (head.status >= 300) {
          this.#fail(
            new ProxyConnectError(this.upstreamProxy, this.target, head.status, head.reason),
          );
        }
      },
      onBody: () => undefined,
      onMessageComplete: () => undefined,
      onUpgrade: (rest) => {
        if (this.ready.called) return;
        this.#timer?.cancel();
        this.#open = true;
        this.end.makeConnection(this.transport);
        this.ready.callback(Buffer.from(rest));
      },
      onError: (error) =>
        this.#fail(
          new ConnectError(
            `${this.upstreamProxy} answered CONNECT ${this.target} with a malformed response (${error.message})`,
          ),
        ),
    });
    this.#parser.expectResponse('CONNECT');
  }

  override connectionMade(): void {
    this.#timer = this.clock.callLater(this.timeout, () => {
      this.#timer = undefined;
      this.#fail(
        new TimeoutError(
          `${this.upstreamProxy} did not answer CONNECT ${this.target} within ${this.timeout} seconds`,
        ),
      );
    });
    this.transport.write(
      Buffer.from(
        `CONNECT ${this.target} HTTP/1.1\r\nHost: ${this.target}\r\nVia: 1.1 ${this.via}\r\n\r\n`,
        'latin1',
      ),
    );
  }

  override dataReceived(data: Uint8Array): void {
    if (this.#open) {
      this.end.dataReceived(data);
      return;
    }
    if (this.ready.called) return;
    this.#parser.feed(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  readConnectionLost(): void {
    if (this.#open) this.end.readConnectionLost();
    else this.transport.loseConnection();
  }

  writeConnectionLost(): void {}

  override connectionLost(reason: Failure): void {
    if (this.#open) {
      this.end.connectionLost(reason);
      return;
    }
    this.#fail(
      new ConnectError(
        `${this.upstreamProxy} closed the connection before answering CONNECT ${this.target}`,
      ),
    );
  }

  /** The client went away: a tunnel still being opened is dropped. */
  abandon(): void {
    if (!this.#open && this.transport !== undefined) this.transport.abortConnection();
  }

  #fail(error: Error): void {
    if (this.ready.called) return;
    if (this.#timer?.active() === true) this.#timer.cancel();
    this.#timer = undefined;
    this.ready.errback(new Failure(error));
    this.transport?.abortConnection();
  }
}

/**
 * A proxy's client connection. A client that finishes sending (FIN) while a
 * request of its is in flight has gone away, as far as a proxy can tell:
 * the connection is aborted, which cancels the upstream request (a server
 * would answer first; a proxy would hold an upstream for nobody). A tunnel's
 * FIN is passed through as ever.
 */
class ProxyChannel extends HTTPChannel {
  override readConnectionLost(): void {
    if (this.pendingRequests > 0) {
      this.transport.abortConnection();
      return;
    }
    super.readConnectionLost();
  }
}

/** The resource every forwarded request and tunnel renders with. */
class ForwardResource extends Resource {
  override isLeaf = true;
  /** The body is forwarded as it arrives, never held whole. */
  override streamsRequestBody = true;

  constructor(private readonly proxy: Proxy) {
    super();
  }

  override render(request: Request): typeof NOT_DONE_YET {
    new ProxyRequest(this.proxy, request).process();
    return NOT_DONE_YET;
  }
}

/**
 * A forward proxy: the factory a user listens with, serving HTTP clients
 * that send absolute URLs (`GET http://example.com/ HTTP/1.1`) and open
 * tunnels with `CONNECT`.
 *
 * @remarks
 * A `Proxy` is a {@link Site}: `reactor.listenTCP(8080, proxy)` or
 * `endpoint.listen(proxy)`, with the site's timeouts and limits for its
 * clients (its request bodies are unlimited by default). Twisted's `Proxy`
 * is the connection (an `HTTPChannel` subclass) and one builds a factory
 * around it; here the connection stays an {@link HTTPChannel} and `Proxy`
 * is the factory.
 *
 * Each request is a {@link ProxyRequest}. Absolute-form requests are
 * forwarded with their bodies streamed both ways, on upstream connections
 * kept alive in {@link ProxyOptions.pool}; hop-by-hop headers are removed
 * both ways and `Via` added both ways; a request whose `Via` already holds
 * this proxy's name is a loop (508). `CONNECT host:port` to an allowed port
 * opens a TCP connection there, answers `200 Connection established`, and
 * splices the two connections (403 for another port). Requests in
 * origin-form, or naming the proxy's own address, go to
 * {@link ProxyOptions.localResource}. Every refusal or failure is a short
 * HTML page saying which upstream and why: 400, 403, 502 (refused, reset,
 * malformed), 504 (timeouts), 508.
 *
 * A client that finishes sending (FIN) while its request is in flight is
 * taken as gone: its connection is aborted and the upstream request
 * cancelled.
 *
 * Who may use the proxy is not decided here: listen on loopback, or wrap
 * the proxy with a `ClientAccess` check.
 *
 * @example
 * ```ts
 * import { reactor } from 'torsion/reactor';
 * import { Proxy as ForwardProxy } from 'torsion/web';
 *
 * const proxy = new ForwardProxy({ reactor });
 * reactor.listenTCP(8080, proxy, { interface: '127.0.0.1' });
 * // curl -x http://127.0.0.1:8080 http://example.com/
 * ```
 *
 * @see Twisted: twisted.web.proxy.Proxy
 * @since 0.1.0
 */
// biome-ignore lint/suspicious/noShadowRestrictedNames: DESIGN.md's (and Twisted's) name; importers rename it.
export class Proxy extends Site {
  /** Connects upstream and keeps time. */
  readonly reactor: HostnameEndpointReactor;
  /** The upstream connections. */
  readonly pool: HTTPConnectionPool;
  /** The filter, if any. */
  readonly filter: IProxyFilter | undefined;
  /** The statistics, if any. */
  readonly stats: IProxyStats | undefined;
  /** Seconds an upstream connection may take to open. */
  readonly connectTimeout: number;
  /** Seconds an upstream may take to start answering. */
  readonly responseTimeout: number;
  /** Whether `X-Forwarded-For` is added upstream. */
  readonly xForwardedFor: boolean;
  /** The ports `CONNECT` may reach. */
  readonly connectPorts: ReadonlySet<number>;
  /** The proxy requests go through, if any: its host and port. */
  readonly upstreamProxy:
    | {
        /** The upstream proxy's host. */
        readonly host: string;
        /** The upstream proxy's port. */
        readonly port: number;
      }
    | undefined;
  /** What answers requests addressed to the proxy itself, if anything. */
  readonly localResource: IResource | undefined;
  /** The proxy's name in `Via`. */
  readonly via: string;
  /** TLS settings for `https:` upstreams. */
  readonly tls: ConnectionOptions | undefined;
  readonly #forwarder: ForwardResource;
  /** @internal The forwarding engine (shared with the reverse proxy). */
  readonly _engine: Forwarder;
  /** The open tunnels: each its client end and its upstream end. */
  readonly #tunnels = new Set<readonly [TunnelEnd, TunnelEnd]>();

  /**
   * @param options - The reactor (required), upstream settings and hooks;
   *   see {@link ProxyOptions}.
   * @throws TypeError or RangeError for an option out of its range (the
   *   message names it).
   */
  constructor(options: ProxyOptions) {
    const { reactor } = options ?? {};
    if (
      typeof (reactor as Partial<HostnameEndpointReactor> | undefined)?.connectTCP !== 'function'
    ) {
      throw new TypeError('Proxy: options.reactor must be a reactor (it connects upstream)');
    }
    super(options.localResource ?? NOT_A_SERVER, {
      ...options,
      clock: reactor,
      maxRequestBodySize:
        options.maxRequestBodySize === undefined ? null : options.maxRequestBodySize,
    });
    this.reactor = reactor;
    this.filter = options.filter;
    this.stats = options.stats;
    this.connectTimeout = positive('connectTimeout', options.connectTimeout, 10);
    this.responseTimeout = positive('responseTimeout', options.responseTimeout, 60);
    this.xForwardedFor = options.xForwardedFor ?? false;
    const ports = options.connectPorts ?? [443];
    for (const port of ports) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new RangeError(`Proxy: connectPorts holds ${String(port)}, not a port (1–65535)`);
      }
    }
    this.connectPorts = new Set(ports);
    this.upstreamProxy =
      options.upstreamProxy === undefined ? undefined : parseUpstreamProxy(options.upstreamProxy);
    this.localResource = options.localResource;
    const via = options.via ?? `torsion-${randomBytes(4).toString('hex')}`;
    if (!TOKEN.test(via)) {
      throw new TypeError(
        `Proxy: via must be a token (letters, digits, -._~…), not ${JSON.stringify(via)}`,
      );
    }
    this.via = via;
    this.tls = options.tls;
    this.#forwarder = new ForwardResource(this);
    const upstream = this.upstreamProxy;
    this._engine = new Forwarder({
      reactor,
      ...(options.pool !== undefined && { pool: options.pool }),
      connectTimeout: this.connectTimeout,
      responseTimeout: this.responseTimeout,
      ...(this.filter !== undefined && { filter: this.filter }),
      ...(this.stats !== undefined && { stats: this.stats }),
      ...(this.tls !== undefined && { tls: this.tls }),
      rewriteResponseHeaders: (headers) => {
        headers.addRawHeader('Via', `1.1 ${via}`);
      },
      ...(upstream !== undefined && {
        endpointFor: () =>
          new HostnameEndpoint(reactor, upstream.host, upstream.port, {
            timeout: this.connectTimeout,
          }),
      }),
    });
    this.pool = this._engine.pool;
  }

  /** A connection for a new client. */
  override buildProtocol(_addr: IAddress): HTTPChannel {
    return new ProxyChannel(this);
  }

  /**
   * The resource that answers `request`: the forwarder for absolute-form
   * requests and `CONNECT`, the local resource (or a 400 page) for
   * requests addressed to the proxy itself.
   */
  override getResourceFor(request: Request): IResource {
    if (request.method === 'CONNECT') return this.#forwarder;
    const uri = request.uri;
    if (uri.startsWith('/') || uri === '*') return super.getResourceFor(request);
    const target = ProxyRequest.parseTarget(uri);
    if (typeof target !== 'string' && isOwnAddress(target, request.getHost())) {
      return getChildForRequest(this.resource, request);
    }
    return this.#forwarder;
  }

  /**
   * Winds the proxy down: closes its open tunnels, then drains as a
   * {@link Site} does (answers the requests in flight, closes the
   * connections).
   */
  override drain(): Deferred<void> {
    for (const tunnel of [...this.#tunnels]) closeTunnel(tunnel);
    return super.drain().addCallback(() => this.pool.closeCachedConnections());
  }

  /** How many `CONNECT` tunnels are open. */
  get openTunnels(): number {
    return this.#tunnels.size;
  }

  /** @internal A client connection opened: counted, then served. */
  override _channelOpened(channel: HTTPChannel): void {
    report(this.stats, 'connectionOpened', () => this.stats?.connectionOpened());
    super._channelOpened(channel);
  }

  /** @internal A client connection closed. */
  override _channelClosed(channel: HTTPChannel): void {
    report(this.stats, 'connectionClosed', () => this.stats?.connectionClosed());
    super._channelClosed(channel);
  }

  /** @internal A tunnel is being opened; `done` forgets it once both its connections have closed. */
  _tunnelOpened(tunnel: readonly [TunnelEnd, TunnelEnd]): () => void {
    this.#tunnels.add(tunnel);
    return () => {
      this.#tunnels.delete(tunnel);
    };
  }
}

/**
 * One request through a {@link Proxy}: its target read, checked, shown to
 * the filter and the statistics, then forwarded or tunnelled, or answered
 * with a page saying why not.
 *
 * @remarks
 * A proxy makes one for each request it forwards; its hooks
 * ({@link IProxyFilter}, {@link IProxyStats}) are the way to change what
 * it does, no subclass needed.
 *
 * @see Twisted: twisted.web.proxy.ProxyRequest
 * @since 0.1.0
 */
export class ProxyRequest {
  /** The default port of each scheme (Twisted's `ProxyRequest.ports`, with https). */
  static readonly ports: Readonly<Record<'http' | 'https', number>> = Object.freeze({
    http: 80,
    https: 443,
  });

  /** The proxy. */
  readonly proxy: Proxy;
  /** The client's request. */
  readonly request: Request;

  /**
   * @param proxy - The proxy the request arrived at.
   * @param request - The client's request.
   */
  constructor(proxy: Proxy, request: Request) {
    this.proxy = proxy;
    this.request = request;
  }

  /**
   * Reads a request-target: an absolute `http:` or `https:` URL, or (for
   * `CONNECT`, `connect` true) `host:port`.
   *
   * @returns The target, or a sentence saying why it cannot be used.
   */
  static parseTarget(target: string, connect = false): ProxyTarget | string {
    let scheme: 'http' | 'https';
    let authority: string;
    let path: string;
    if (connect) {
      scheme = 'https';
      authority = target;
      path = '';
    } else {
      const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)$/.exec(target);
      if (match === null) return `${JSON.stringify(target)} is not an absolute URL`;
      const given = (match[1] as string).toLowerCase();
      if (given !== 'http' && given !== 'https') {
        return `the scheme ${JSON.stringify(given)} is not one this proxy forwards (http, https)`;
      }
      scheme = given;
      authority = match[2] as string;
      path = match[3] as string;
      if (path === '') path = '/';
      else if (path.startsWith('?')) path = `/${path}`;
    }
    if (authority.includes('@')) return 'a URL with credentials in it is not forwarded';
    let host: string;
    let portText: string | undefined;
    if (authority.startsWith('[')) {
      const close = authority.indexOf(']');
      if (close === -1) return `the host in ${JSON.stringify(authority)} has no closing bracket`;
      host = authority.slice(1, close);
      if (isIP(host) !== 6) return `${JSON.stringify(host)} is not an IPv6 address`;
      const after = authority.slice(close + 1);
      if (after !== '' && !after.startsWith(':'))
        return `${JSON.stringify(authority)} is not host:port`;
      portText = after === '' ? undefined : after.slice(1);
    } else {
      const colon = authority.lastIndexOf(':');
      host = colon === -1 ? authority : authority.slice(0, colon);
      portText = colon === -1 ? undefined : authority.slice(colon + 1);
      if (!/^[A-Za-z0-9._-]+$/.test(host) || host.startsWith('.') || host.startsWith('-')) {
        return `${JSON.stringify(host)} is not a host name`;
      }
    }
    if (host === '') return 'the URL has no host';
    let port: number;
    if (portText === undefined || portText === '') {
      if (connect) return `CONNECT needs host:port, not ${JSON.stringify(target)}`;
      port = ProxyRequest.ports[scheme];
    } else {
      if (!/^[0-9]{1,5}$/.test(portText)) return `${JSON.stringify(portText)} is not a port`;
      port = Number(portText);
      if (port < 1 || port > 65535) return `${port} is not a port (1–65535)`;
    }
    return { scheme, host: host.toLowerCase(), port, path };
  }

  /** Does the work: answers, forwards or tunnels the request. */
  process(): void {
    const request = this.request;
    const connect = request.method === 'CONNECT';
    const target = ProxyRequest.parseTarget(request.uri, connect);
    if (typeof target === 'string') {
      this.#page(400, `The proxy cannot forward this request: ${target}.`);
      return;
    }
    if (!connect) {
      this.#forward(target);
      return;
    }
    const headers = request.requestHeaders.copy();
    stripHopByHop(headers);
    const info = describe(request, target, headers);
    const stats = this.proxy.stats;
    report(stats, 'request', () => stats?.request(info));
    if (this.#looped()) return;
    if (!this.proxy.connectPorts.has(target.port)) {
      this.#page(
        403,
        `Tunnels to port ${target.port} are not allowed (${hostPort(target)}); allowed: ${[...this.proxy.connectPorts].join(', ') || 'none'}.`,
      );
      return;
    }
    if (isOwnAddress(target, request.getHost())) {
      this.#page(403, `${hostPort(target)} is this proxy itself: no tunnel to it.`);
      return;
    }
    const filter = this.proxy.filter;
    if (filter?.filterRequest !== undefined) {
      let answer: ProxyAnswer | undefined;
      try {
        answer = filter.filterRequest(info);
      } catch (error) {
        log.failure('The proxy filter threw from filterRequest for {url}', new Failure(error), {
          url: info.url,
        });
        this.#page(500, 'The proxy could not decide on this request; the error has been logged.');
        return;
      }
      if (answer !== undefined) {
        sendAnswer(request, answer);
        return;
      }
    }
    this.#tunnel(target, info);
  }

  /** Answers 508 if the request has passed through this proxy already. */
  #looped(): boolean {
    if (!viaHolds(this.request.requestHeaders.getRawHeaders('via'), this.proxy.via)) return false;
    this.#page(
      508,
      `The request has passed through this proxy (${this.proxy.via}) already: forwarding it again would loop.`,
    );
    return true;
  }

  /** Opens the tunnel of a `CONNECT`. */
  #tunnel(target: ProxyTarget, info: ProxiedRequestInfo): void {
    const request = this.request;
    const proxy = this.proxy;
    const name = hostPort(target);
    let forget: (() => void) | undefined;
    const tunnel = TunnelEnd.pair(() => forget?.());
    const [clientEnd, upstreamEnd] = tunnel;
    const through = proxy.upstreamProxy;
    const endpoint =
      through === undefined
        ? new HostnameEndpoint(proxy.reactor, target.host, target.port, {
            timeout: proxy.connectTimeout,
          })
        : new HostnameEndpoint(proxy.reactor, through.host, through.port, {
            timeout: proxy.connectTimeout,
          });
    let opener: ConnectThrough | undefined;
    const connecting = endpoint.connect({
      buildProtocol: (_addr: IAddress): IProtocol => {
        if (through === undefined) return upstreamEnd;
        opener = new ConnectThrough(
          name,
          `${through.host}:${through.port}`,
          proxy.via,
          upstreamEnd,
          proxy.reactor,
          proxy.connectTimeout,
        );
        return opener;
      },
      doStart() {},
      doStop() {},
    });
    // Through another proxy, the tunnel is open once it has answered CONNECT with 2xx.
    const attempt: Deferred<Buffer> =
      through === undefined
        ? connecting.addCallback(() => Buffer.alloc(0))
        : connecting.addCallback(() => (opener as ConnectThrough).ready);
    // The client went away while connecting: abandon the attempt.
    request.notifyFinish().addErrback(() => {
      if (!attempt.called) attempt.cancel();
      opener?.abandon();
      return undefined;
    });
    attempt.addCallbacks(
      (rest: Buffer) => {
        if (request.finished) {
          // The client went away as the connection was made.
          upstreamEnd.transport.loseConnection();
          return null;
        }
        forget = proxy._tunnelOpened(tunnel);
        try {
          const connection = request.channel._takeOver(request, clientEnd);
          connection.transport.write(
            Buffer.from(
              `HTTP/1.1 200 Connection established\r\nVia: 1.1 ${proxy.via}\r\n\r\n`,
              'latin1',
            ),
          );
          clientEnd.makeConnection(connection.transport);
          connection.resume();
          // What the upstream proxy sent right behind its 2xx.
          if (rest.length > 0) upstreamEnd.dataReceived(rest);
        } catch (error) {
          log.failure(
            'The tunnel to {target} could not take the connection over',
            new Failure(error),
            { target: name },
          );
          upstreamEnd.transport.abortConnection();
          request.transport.abortConnection();
        }
        return null;
      },
      (failure: Failure) => {
        if (request.finished) return null;
        const timedOut = failure.check(TimeoutError) !== null;
        const reason = timedOut
          ? `did not accept a connection within ${proxy.connectTimeout} seconds`
          : failure.check(ProxyConnectError) !== null
            ? `could not be reached through the upstream proxy: ${failure.getErrorMessage()}`
            : `could not be reached: ${failure.getErrorMessage()}`;
        report(proxy.stats, 'upstreamError', () => proxy.stats?.upstreamError(info, reason));
        this.#page(timedOut ? 504 : 502, `The upstream ${name} ${reason}.`);
        return null;
      },
    );
  }

  /** Forwards an absolute-form request (the engine strips, filters, counts and answers). */
  #forward(target: ProxyTarget): void {
    const request = this.request;
    const proxy = this.proxy;
    const headers = request.requestHeaders;
    if (viaHolds(headers.getRawHeaders('via'), proxy.via)) {
      const stats = proxy.stats;
      if (stats !== undefined) {
        const info = describe(request, target, headers);
        report(stats, 'request', () => stats.request(info));
      }
      this.#looped();
      return;
    }
    headers.addRawHeader(
      'Via',
      `${request.clientproto === 'HTTP/1.0' ? '1.0' : '1.1'} ${proxy.via}`,
    );
    if (proxy.xForwardedFor) {
      const client = (request.getClientAddress() as Partial<{ host: string }>).host;
      if (client !== undefined) headers.addRawHeader('X-Forwarded-For', client);
    }
    proxy._engine.forward(request, {
      scheme: target.scheme,
      host: target.host,
      port: target.port,
      path:
        proxy.upstreamProxy === undefined
          ? target.path
          : `${target.scheme}://${hostPort(target, true)}${target.path}`,
      headers,
      name: hostPort(target),
    });
  }

  /** Answers with a short HTML page. */
  #page(code: number, detail: string): void {
    sendAnswer(this.request, {
      code,
      headers: [
        ['Content-Type', 'text/html; charset=utf-8'],
        ['Via', `1.1 ${this.proxy.via}`],
      ],
      body: errorPageHtml(code, reasonPhrase(code), detail),
    });
  }
}

/** Closes both connections of a tunnel, after what each has to write. */
function closeTunnel(tunnel: readonly [TunnelEnd, TunnelEnd]): void {
  const open = tunnel.filter((end) => end.connected && !end.closed);
  // A transport waits for its producer to unregister before it closes.
  for (const end of open) end.transport.unregisterProducer();
  for (const end of open) end.transport.loseConnection();
}

/** What the filter and the statistics see of a request. */
function describe(request: Request, target: ProxyTarget, headers: Headers): ProxiedRequestInfo {
  return {
    method: request.method,
    url:
      request.method === 'CONNECT'
        ? `https://${hostPort(target)}/`
        : `${target.scheme}://${hostPort(target, true)}${target.path}`,
    scheme: target.scheme,
    host: target.host,
    port: target.port,
    path: target.path,
    headers,
    clientAddress: request.getClientAddress(),
  };
}

/** `host:port`, an IPv6 host in brackets; without the port when it is the scheme's default and `elide`. */
function hostPort(target: ProxyTarget, elide = false): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  if (elide && target.port === ProxyRequest.ports[target.scheme]) return host;
  return `${host}:${target.port}`;
}

/** Whether any `Via` entry was received by `token` (a loop). */
function viaHolds(values: readonly string[] | undefined, token: string): boolean {
  if (values === undefined) return false;
  for (const value of values) {
    for (const entry of value.split(',')) {
      // `1.1 name (comment)`: the received-by is the second word.
      const words = entry.trim().split(/\s+/);
      if (words[1] === token) return true;
    }
  }
  return false;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** Whether `target` names the address the request arrived on. */
function isOwnAddress(target: ProxyTarget, local: IAddress): boolean {
  const own = local as Partial<{ host: string; port: number }>;
  if (own.port !== target.port || own.host === undefined) return false;
  const host = own.host.toLowerCase().replace(/^::ffff:/, '');
  if (target.host === host) return true;
  const loopback = host === '::1' || host.startsWith('127.');
  return loopback && (LOOPBACK_NAMES.has(target.host) || target.host.startsWith('127.'));
}

function parseUpstreamProxy(url: string): { host: string; port: number } {
  const target = typeof url === 'string' ? ProxyRequest.parseTarget(url) : 'not a string';
  if (typeof target === 'string' || target.scheme !== 'http') {
    throw new TypeError(
      `Proxy: upstreamProxy must be an http:// URL (http://host:port), not ${JSON.stringify(url)}${typeof target === 'string' ? ` (${target})` : ''}`,
    );
  }
  return { host: target.host, port: target.port };
}

/** Calls a statistics method; a throw is logged, never passed on. */
function report(stats: IProxyStats | undefined, what: string, call: () => void): void {
  if (stats === undefined) return;
  try {
    call();
  } catch (error) {
    log.failure('The proxy statistics threw from {what}', new Failure(error), { what });
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Proxy: ${name} must be a positive number of seconds, not ${String(value)}`,
    );
  }
  return value;
}
