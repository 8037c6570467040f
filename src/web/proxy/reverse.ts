// ReverseProxyResource: a resource that relays everything below it to other
// web servers, mounted in a resource tree as in Twisted, with several
// upstreams, balancing, passive health, X-Forwarded-*/Forwarded, header
// rewriting and an Upgrade (WebSocket) passthrough
// (Twisted: twisted.web.proxy.ReverseProxyResource).
// Tests: test/unit/web/proxy/twisted-reverse-proxy.test.ts, test/unit/web/proxy/reverse.test.ts,
// test/integration/web/proxy-reverse.test.ts

import type { ConnectionOptions } from 'node:tls';
import type { Deferred } from '../../internet/defer.js';
import type { HostnameEndpointReactor } from '../../internet/endpoints/hostname.js';
import { Failure } from '../../internet/failure.js';
import type { IAddress, IProtocolFactory } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { hasToken } from '../_tokens.js';
import type { HTTPConnectionPool } from '../client/pool.js';
import type { Headers } from '../headers.js';
import type { Request } from '../request.js';
import { NOT_DONE_YET, Resource } from '../resource.js';
import { sendAnswer, sendProxyError } from './_error-page.js';
import { Forwarder, type ForwardOutcome, type ForwardTarget, hostHeader } from './_forward.js';
import { addForwardedHeaders } from './_forwarded.js';
import { stripHopByHop } from './_hop-by-hop.js';
import { TunnelEnd } from './_tunnel.js';
import {
  type BalanceStrategy,
  type HealthOptions,
  type Upstream,
  type UpstreamAddress,
  UpstreamSet,
} from './_upstreams.js';
import type { IProxyFilter, IProxyStats, ProxiedRequestInfo } from './hooks.js';

const log = new Logger('torsion.web.proxy');

/**
 * Options of {@link ReverseProxyResource}.
 *
 * @since 0.1.0
 */
export interface ReverseProxyOptions {
  /** Connects to the upstreams and times them (Twisted's `reactor` argument; no global fallback). */
  readonly reactor: HostnameEndpointReactor;
  /**
   * Where upstream connections are kept between requests. By default a
   * persistent pool of the resource's own (up to 256 idle connections per
   * upstream, each kept 60 s).
   */
  readonly pool?: HTTPConnectionPool;
  /**
   * The scheme of the upstream the constructor names: `https` connects to
   * it with TLS (see {@link ReverseProxyOptions.tls}). @defaultValue 'http'
   */
  readonly scheme?: 'http' | 'https';
  /** More upstreams, after the one the constructor names; requests are spread over all. */
  readonly upstreams?: readonly UpstreamAddress[];
  /** How the upstream of each request is chosen. @defaultValue 'round-robin' */
  readonly balance?: BalanceStrategy;
  /** Passive health checking. @defaultValue `{ failures: 3, cooldown: 10 }` */
  readonly health?: HealthOptions;
  /** Seconds to wait for an upstream connection (then 504). @defaultValue 10 */
  readonly connectTimeout?: number;
  /** Seconds to wait for an upstream's response head once the request is sent (then 504). @defaultValue 60 */
  readonly responseTimeout?: number;
  /**
   * Whether the client's `Host` is sent upstream. By default it is rewritten
   * to the upstream's host and port, as Twisted does.
   * @defaultValue false
   */
  readonly preserveHost?: boolean;
  /** Whether `X-Forwarded-For/Host/Proto` and `Forwarded` are added. @defaultValue true */
  readonly xForwarded?: boolean;
  /**
   * Edits the headers sent upstream (hop-by-hop fields removed, `Host` and
   * the forwarding headers set) just before they go.
   */
  readonly rewriteRequestHeaders?: (headers: Headers, request: Request) => void;
  /** Edits the upstream's response headers (hop-by-hop fields removed) before they are sent on. */
  readonly rewriteResponseHeaders?: (headers: Headers, request: Request) => void;
  /** Refuses or edits requests and responses. */
  readonly filter?: IProxyFilter;
  /** Where requests and upstream errors are counted. */
  readonly stats?: IProxyStats;
  /** TLS settings for `https` upstreams. @defaultValue true (Node's roots, the host name checked) */
  readonly tls?: boolean | ConnectionOptions;
}

/** What the resources of one mount share: the upstreams, the forwarder, the options. */
class Mount {
  readonly options: ReverseProxyOptions;
  readonly upstreams: UpstreamSet;
  readonly forwarder: Forwarder;
  readonly preserveHost: boolean;
  readonly xForwarded: boolean;

  constructor(host: string, port: number, options: ReverseProxyOptions) {
    this.options = options;
    this.upstreams = new UpstreamSet(
      [
        { host, port, ...(options.scheme !== undefined && { scheme: options.scheme }) },
        ...(options.upstreams ?? []),
      ],
      options.reactor,
      options.balance,
      options.health,
    );
    const upstreams = this.upstreams;
    this.forwarder = new Forwarder({
      reactor: options.reactor,
      ...(options.pool !== undefined && { pool: options.pool }),
      ...(options.connectTimeout !== undefined && { connectTimeout: options.connectTimeout }),
      ...(options.responseTimeout !== undefined && { responseTimeout: options.responseTimeout }),
      ...(options.filter !== undefined && { filter: options.filter }),
      ...(options.stats !== undefined && { stats: options.stats }),
      ...(options.rewriteResponseHeaders !== undefined && {
        rewriteResponseHeaders: options.rewriteResponseHeaders,
      }),
      ...(options.tls !== undefined && { tls: options.tls }),
      onOutcome: (target, outcome) =>
        upstreams.finished((target as UpstreamTarget).upstream, outcome),
    });
    this.preserveHost = options.preserveHost ?? false;
    this.xForwarded = options.xForwarded ?? true;
  }
}

/** A forward target that remembers its upstream (for the balancer's bookkeeping). */
interface UpstreamTarget extends ForwardTarget {
  readonly upstream: Upstream;
}

/** The mount a child is made for (set by `getChild` just around the constructor call). */
let childMount: Mount | undefined;

/**
 * A resource that relays every request below it to another web server,
 * keeping the path under the mount.
 *
 * @remarks
 * Mounted at `/app` with `path` `/base`, a request for `/app/a/b?q=1` goes
 * to the upstream as `/base/a/b?q=1`: each segment below the mount is a
 * child resource ({@link ReverseProxyResource.getChild}) whose `path` has
 * the segment appended, percent-encoded. Mounted as a site's root with
 * `path` `''`, the path is passed through as it is.
 *
 * Unlike Twisted's, it streams bodies both ways with backpressure (never
 * holding one whole), keeps upstream connections alive in a pool, spreads
 * requests over several upstreams with passive health checks, adds
 * `X-Forwarded-For`, `X-Forwarded-Host`, `X-Forwarded-Proto` and
 * `Forwarded`, answers 502 (refused, reset, malformed) or 504 (timed out)
 * with a page naming the upstream, and passes `Upgrade` requests
 * (WebSocket) through: when the upstream answers, the two connections are
 * spliced and bytes flow raw both ways.
 *
 * Call {@link ReverseProxyResource.closeCachedConnections} when shutting
 * down: idle upstream connections otherwise stay open until they time out.
 *
 * @example
 * ```ts
 * const root = new Resource();
 * root.putChild('app', new ReverseProxyResource('127.0.0.1', 8081, '', {
 *   reactor,
 *   upstreams: [{ host: '127.0.0.1', port: 8082 }],
 * }));
 * const site = new Site(root, { clock: reactor });
 * ```
 *
 * @see Twisted: twisted.web.proxy.ReverseProxyResource
 * @since 0.1.0
 */
export class ReverseProxyResource extends Resource {
  /** The first upstream's host. */
  readonly host: string;
  /** The first upstream's port. */
  readonly port: number;
  /** The upstream path this resource stands for (segments percent-encoded, no trailing slash added). */
  readonly path: string;
  /** The reactor that connects to the upstreams. */
  readonly reactor: HostnameEndpointReactor;
  override streamsRequestBody = true;
  readonly #mount: Mount;

  /**
   * @param host - The upstream's host name or address.
   * @param port - Its port.
   * @param path - The upstream path the mount stands for (`''` or `/base`,
   *   no trailing slash); its special characters already percent-encoded.
   * @param options - The reactor (required) and the rest.
   * @throws TypeError or RangeError for a bad host, port, path or option.
   */
  constructor(host: string, port: number, path: string, options: ReverseProxyOptions) {
    super();
    const mount = childMount;
    childMount = undefined;
    if (mount === undefined) {
      if (typeof path !== 'string' || (path !== '' && !/^\/[\x21-\x7e]*$/.test(path))) {
        throw new TypeError(
          `ReverseProxyResource: path must be '' or start with "/" and hold only visible ASCII (percent-encode the rest), not ${JSON.stringify(path)}`,
        );
      }
      if (options === undefined || options === null || typeof options.reactor !== 'object') {
        throw new TypeError(
          'ReverseProxyResource: options.reactor is required (pass the reactor that connects to the upstream)',
        );
      }
      this.#mount = new Mount(host, port, options);
    } else {
      this.#mount = mount;
    }
    this.host = host;
    this.port = port;
    this.path = path;
    this.reactor = this.#mount.options.reactor;
  }

  /** The options the mount was made with (shared by its children). */
  get options(): ReverseProxyOptions {
    return this.#mount.options;
  }

  /**
   * A proxy resource for the segment below this one: same upstreams and
   * options, `path` with `/` and the segment (percent-encoded, `/` too) appended.
   */
  override getChild(segment: string, _request: Request | undefined): ReverseProxyResource {
    childMount = this.#mount;
    try {
      return new ReverseProxyResource(
        this.host,
        this.port,
        `${this.path}/${quoteSegment(segment)}`,
        this.#mount.options,
      );
    } finally {
      childMount = undefined;
    }
  }

  /** Forwards the request: the upstream path is this resource's `path` and the request's query. */
  override render(request: Request): typeof NOT_DONE_YET {
    const mount = this.#mount;
    const uri = request.uri;
    const q = uri.indexOf('?');
    const base = this.path === '' ? '/' : this.path;
    const path = q === -1 ? base : base + uri.slice(q);
    const upstream = mount.upstreams.pick();
    if (upstream === undefined) {
      const wait = Math.ceil(mount.upstreams.nextReturn());
      const name = mount.upstreams.upstreams.map((u) => u.name).join(', ');
      sendProxyError(
        request,
        502,
        name,
        `is out of the rotation after repeated failures (tried again in ${wait} s)`,
      );
      const stats = mount.options.stats;
      if (stats !== undefined) {
        try {
          stats.upstreamError(describe(request, upstream, path), 'no upstream available');
        } catch (error) {
          log.failure('A proxy statistics object threw', new Failure(error));
        }
      }
      return NOT_DONE_YET;
    }
    const headers = request.requestHeaders;
    const upgrade = wantsUpgrade(request);
    const clientHost = mount.xForwarded ? request.getHeader('host') : undefined;
    stripHopByHop(headers, { keepUpgrade: upgrade });
    if (!mount.preserveHost || !headers.hasHeader('host')) {
      headers.setRawHeaders('Host', [hostHeader(upstream)]);
    }
    if (mount.xForwarded) {
      const peer = request.getClientAddress() as Partial<{ host: string }>;
      addForwardedHeaders(headers, {
        clientIP: peer.host,
        host: clientHost,
        proto: request.isSecure() ? 'https' : 'http',
      });
    }
    try {
      mount.options.rewriteRequestHeaders?.(headers, request);
    } catch (error) {
      request.processingFailed(new Failure(error));
      return NOT_DONE_YET;
    }
    const target: UpstreamTarget = {
      scheme: upstream.scheme,
      host: upstream.host,
      port: upstream.port,
      path,
      headers,
      name: upstream.name,
      upstream,
    };
    mount.upstreams.started(upstream);
    if (upgrade) {
      new UpgradePassthrough(mount, request, target).start();
    } else {
      mount.forwarder.forward(request, target);
    }
    return NOT_DONE_YET;
  }

  /** Closes the idle upstream connections of the mount. */
  closeCachedConnections(): Deferred<void> {
    return this.#mount.forwarder.closeCachedConnections();
  }
}

/** `segment` percent-encoded as Python's `quote(segment, safe='')` does: all but `A-Za-z0-9_.-~`. */
function quoteSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Whether the client asks to switch protocols (`Connection: upgrade` and `Upgrade`), with no body. */
function wantsUpgrade(request: Request): boolean {
  if (!request.requestHeaders.hasHeader('upgrade')) return false;
  const connection = request.requestHeaders.getRawHeaders('connection');
  if (connection === undefined || !connection.some((v) => hasToken(v, 'upgrade'))) return false;
  return request.content.done && request.content.received === 0;
}

function describe(
  request: Request,
  upstream: Upstream | undefined,
  path: string,
): ProxiedRequestInfo {
  const scheme = upstream?.scheme ?? 'http';
  const host = upstream?.host ?? '';
  const port = upstream?.port ?? 0;
  return {
    method: request.method,
    url: upstream === undefined ? path : `${scheme}://${hostHeader(upstream)}${path}`,
    scheme,
    host: host.toLowerCase(),
    port,
    path,
    headers: request.requestHeaders,
    clientAddress: request.getClientAddress(),
  };
}

/**
 * An `Upgrade` request on its way: the upstream connection is made, the
 * request head written on it, and the client's connection taken over; from
 * then on bytes pass raw both ways (the upstream's `101` and what follows,
 * or whatever else it answers).
 */
class UpgradePassthrough {
  readonly #mount: Mount;
  readonly #request: Request;
  readonly #target: UpstreamTarget;
  #connecting: Deferred<unknown> | undefined;
  #over = false;

  constructor(mount: Mount, request: Request, target: UpstreamTarget) {
    this.#mount = mount;
    this.#request = request;
    this.#target = target;
  }

  start(): void {
    const { filter, stats } = this.#mount.options;
    const request = this.#request;
    const target = this.#target;
    if (filter !== undefined || stats !== undefined) {
      const info = describe(request, target.upstream, target.path);
      try {
        stats?.request(info);
      } catch (error) {
        log.failure('A proxy statistics object threw', new Failure(error));
      }
      if (filter?.filterRequest !== undefined) {
        let answer: ReturnType<NonNullable<IProxyFilter['filterRequest']>>;
        try {
          answer = filter.filterRequest(info);
        } catch (error) {
          this.#end('cancelled');
          request.processingFailed(new Failure(error));
          return;
        }
        if (answer !== undefined) {
          this.#end('cancelled');
          sendAnswer(request, answer);
          return;
        }
      }
    }
    const [client, upstream] = TunnelEnd.pair(() => this.#end('ok'));
    const factory: IProtocolFactory = {
      buildProtocol: (_addr: IAddress) => upstream,
      doStart() {},
      doStop() {},
    };
    const key = `${target.scheme}://${target.host}:${target.port}`;
    const forwarder = this.#mount.forwarder;
    let d: Deferred<unknown>;
    try {
      d = forwarder._endpoint(target, key).connect(factory);
    } catch (error) {
      this.#failed(new Failure(error));
      return;
    }
    this.#connecting = d;
    request.notifyFinish().addErrback(() => {
      if (this.#connecting !== undefined) this.#connecting.cancel();
      return null;
    });
    d.addCallbacks(
      () => {
        this.#connecting = undefined;
        this.#connected(client, upstream);
        return null;
      },
      (failure: Failure) => {
        this.#connecting = undefined;
        this.#failed(failure);
        return null;
      },
    );
  }

  #connected(client: TunnelEnd, upstream: TunnelEnd): void {
    const request = this.#request;
    const target = this.#target;
    let head = `${request.method} ${target.path} HTTP/1.1\r\n`;
    for (const { name, values } of target.headers._entries()) {
      for (const value of values) head += `${name}: ${value}\r\n`;
    }
    head += 'Connection: Upgrade\r\n\r\n';
    upstream.transport.write(Buffer.from(head, 'latin1'));
    let taken: ReturnType<Request['channel']['_takeOver']>;
    try {
      taken = request.channel._takeOver(request, client);
    } catch (error) {
      log.failure('Could not take the connection over for {method} {path}', new Failure(error), {
        method: request.method,
        path: target.path,
      });
      upstream.transport.loseConnection();
      return;
    }
    client.makeConnection(taken.transport);
    taken.resume();
  }

  #failed(failure: Failure): void {
    const request = this.#request;
    if (request.finished) {
      this.#end('cancelled');
      return;
    }
    const forwarder = this.#mount.forwarder;
    const error = failure.value as { name?: string };
    const timedOut = error?.name === 'TimeoutError';
    const code = timedOut ? 504 : 502;
    const reason = timedOut
      ? `did not accept a connection within ${forwarder.connectTimeout} seconds`
      : error?.name === 'ConnectionRefusedError'
        ? 'refused the connection'
        : `could not be reached (${failure.getErrorMessage()})`;
    const stats = this.#mount.options.stats;
    if (stats !== undefined) {
      try {
        stats.upstreamError(describe(request, this.#target.upstream, this.#target.path), reason);
      } catch (e) {
        log.failure('A proxy statistics object threw', new Failure(e));
      }
    }
    sendProxyError(request, code, this.#target.upstream.name, reason);
    this.#end('failed');
  }

  #end(outcome: ForwardOutcome): void {
    if (this.#over) return;
    this.#over = true;
    this.#mount.upstreams.finished(this.#target.upstream, outcome);
  }
}
