// Site: the factory of a web server's connections, holding its resource tree,
// its limits and timeouts, and its access log (Twisted: twisted.web.server.Site).
// Tests: test/unit/web/channel.test.ts, test/unit/web/channel-timeouts.test.ts,
// test/unit/web/request.test.ts, test/integration/web/site.test.ts,
// test/unit/web/twisted-web.test.ts, test/unit/web/site-drain.test.ts

import { Deferred, succeed } from '../internet/defer.js';
import type { IAddress, IReactorTime } from '../internet/interfaces.js';
import { Factory } from '../internet/protocol.js';
import { realTimeClock } from '../internet/task/_real-time-clock.js';
import { Logger } from '../logger/logger.js';
import { HttpDateCache } from './_http-date.js';
import { HTTPChannel } from './channel.js';
import type { Request } from './request.js';
import { getChildForRequest, type IResource, Resource } from './resource.js';

/** The `Server` header a site sends unless told otherwise. */
const SERVER_NAME = 'Torsion';

/**
 * How a {@link Site} serves: its clock, timeouts, limits and logging. Every
 * option has a default; a number of seconds or bytes may be `null` for "no
 * limit" where the option says so.
 *
 * @since 0.1.0
 */
export interface SiteOptions {
  /**
   * The clock of the timeouts and the `Date` header: the reactor, or a
   * `Clock` in tests. Default: real time from Node's timers.
   */
  readonly clock?: IReactorTime;
  /**
   * Seconds a connection may stay idle between requests, or stall while
   * sending a body, before it is closed. Default 60 (Twisted's); `null`: never.
   */
  readonly timeout?: number | null;
  /**
   * Seconds a request head may take to arrive in full, counted from its
   * first byte; past it the client gets 408 and the connection closes (a
   * slow-headers attack holds nothing for long). Default 30; `null`: no limit.
   */
  readonly headersTimeout?: number | null;
  /**
   * Seconds a connection closed by a timeout may take to close before it is
   * aborted. Default 15 (Twisted's); `null`: never aborted.
   */
  readonly abortTimeout?: number | null;
  /** Longest request line, in bytes (414 past it). Default 8192. */
  readonly maxRequestLineLength?: number;
  /** Most header fields in a request (431 past it). Default 500 (Twisted's). */
  readonly maxHeaderCount?: number;
  /** Most bytes in a request head, request line included (431 past it). Default 16384 (Twisted's). */
  readonly maxHeaderBytes?: number;
  /** Most bytes in a request body (413 past it). Default 1 GiB; `null`: no limit. */
  readonly maxRequestBodySize?: number | null;
  /**
   * Bytes of a whole request body kept in memory; a larger one waits in a
   * temporary file until the request ends. Default 1 MiB.
   */
  readonly bodySpoolThreshold?: number;
  /** Where request bodies over the spool threshold are written. Default: the system's temporary directory. */
  readonly spoolDirectory?: string;
  /**
   * Bodiless requests a client may pipeline behind the one being answered
   * before reading pauses. Default 16.
   */
  readonly maxPipelinedRequests?: number;
  /**
   * Whether a 500 page shows the failure's traceback. Default false: the
   * traceback goes to the log only (it can reveal the program's insides).
   */
  readonly displayTracebacks?: boolean;
  /**
   * The access log: `true` logs each request in Combined Log Format at
   * `info` in the namespace `torsion.web.access`; a `Logger` logs there
   * instead. Default: no access log.
   */
  readonly accessLog?: boolean | Logger;
  /** The `Server` header; `null` sends none. Default `Torsion`. */
  readonly serverName?: string | null;
}

/** The answer to `OPTIONS *`: 200 with an empty body. */
class ServerOptions extends Resource {
  override isLeaf = true;
  render_OPTIONS(): string {
    return '';
  }
}

const SERVER_OPTIONS = new ServerOptions();

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A web site: the factory of HTTP connections ({@link HTTPChannel}) serving
 * a resource tree.
 *
 * @remarks
 * Serve it like any factory: `reactor.listenTCP(8080, site)` or
 * `endpoint.listen(site)`. Each request's path is walked from `resource`
 * (see {@link getChildForRequest}) and the resource reached renders it.
 *
 * A site is drainable (it has the `drain()` of `torsion/app`'s
 * `IDrainable`): a `StreamServerEndpointService` serving it stops
 * listening, then waits for {@link Site.drain} before its stop fires.
 *
 * @example
 * ```ts
 * const root = new Resource();
 * root.putChild('hello', new Hello());
 * const site = new Site(root, { clock: reactor, accessLog: true });
 * reactor.listenTCP(8080, site);
 * ```
 *
 * @see Twisted: twisted.web.server.Site
 * @since 0.1.0
 */
export class Site extends Factory<HTTPChannel> {
  /** The root of the resource tree. */
  resource: IResource;
  /** The clock of timeouts and `Date` headers. */
  readonly clock: IReactorTime;
  /** Idle timeout, seconds (`null`: none). */
  timeout: number | null;
  /** Request-head timeout, seconds (`null`: none). */
  headersTimeout: number | null;
  /** Seconds before a timed-out connection is aborted (`null`: never). */
  abortTimeout: number | null;
  /** Longest request line. */
  readonly maxRequestLineLength: number;
  /** Most header fields per request. */
  readonly maxHeaderCount: number;
  /** Most bytes per request head. */
  readonly maxHeaderBytes: number;
  /** Most bytes per request body (`null`: no limit). */
  readonly maxRequestBodySize: number | null;
  /** Bytes of a request body kept in memory. */
  readonly bodySpoolThreshold: number;
  /** Where large request bodies wait. */
  readonly spoolDirectory: string | undefined;
  /** Bodiless requests parsed ahead of their turn. */
  readonly maxPipelinedRequests: number;
  /** Whether 500 pages show tracebacks. */
  displayTracebacks: boolean;
  /** The `Server` header (`null`: none). */
  serverName: string | null;
  readonly #accessLog: Logger | undefined;
  readonly #dates: HttpDateCache;
  /** The last `serverName` found valid. */
  #checkedServerName: string | undefined;
  /** The open connections. */
  readonly #channels = new Set<HTTPChannel>();
  /** While a drain runs, the Deferreds that fire when it ends; `null` otherwise. */
  #drainWaiters: Deferred<void>[] | null = null;

  /**
   * @param resource - The root of the resource tree.
   * @param options - Timeouts, limits, logging; see {@link SiteOptions}.
   */
  constructor(resource: IResource, options: SiteOptions = {}) {
    super();
    if (typeof (resource as Partial<IResource> | undefined)?.getChildWithDefault !== 'function') {
      throw new TypeError(
        `Site: the root must be a resource (an IResource), not ${String(resource)}`,
      );
    }
    this.resource = resource;
    this.clock = options.clock ?? realTimeClock();
    this.timeout = seconds('timeout', options.timeout, 60);
    this.headersTimeout = seconds('headersTimeout', options.headersTimeout, 30);
    this.abortTimeout = seconds('abortTimeout', options.abortTimeout, 15);
    this.maxRequestLineLength = count('maxRequestLineLength', options.maxRequestLineLength, 8192);
    this.maxHeaderCount = count('maxHeaderCount', options.maxHeaderCount, 500);
    this.maxHeaderBytes = count('maxHeaderBytes', options.maxHeaderBytes, 16384);
    this.maxRequestBodySize =
      options.maxRequestBodySize === null
        ? null
        : count('maxRequestBodySize', options.maxRequestBodySize, 1024 ** 3, 0);
    this.bodySpoolThreshold = count(
      'bodySpoolThreshold',
      options.bodySpoolThreshold,
      1024 * 1024,
      0,
    );
    this.spoolDirectory = options.spoolDirectory;
    this.maxPipelinedRequests = count('maxPipelinedRequests', options.maxPipelinedRequests, 16);
    this.displayTracebacks = options.displayTracebacks ?? false;
    this.serverName = options.serverName === undefined ? SERVER_NAME : options.serverName;
    const accessLog = options.accessLog ?? false;
    this.#accessLog =
      accessLog === true
        ? new Logger('torsion.web.access')
        : accessLog === false
          ? undefined
          : accessLog;
    this.#dates = new HttpDateCache(this.clock);
  }

  /** A channel for a new connection. */
  override buildProtocol(_addr: IAddress): HTTPChannel {
    return new HTTPChannel(this);
  }

  /**
   * Winds the site's connections down for a graceful stop: answers the
   * requests already received, then closes every connection.
   *
   * @remarks
   * A connection with no request in progress (idle between keep-alive
   * requests, or part-way through a request head) closes at once. A
   * connection with requests in progress reads no further request: the
   * requests it had already parsed (a pipeline) are answered in order, the
   * last answer says `Connection: close` (unless its head was sent before
   * the drain began), and the connection closes after it. Requests the
   * client pipelined that had not been parsed yet are dropped with the
   * connection; the client sees it closed after the last answer and may
   * send them again elsewhere. A streaming (`NOT_DONE_YET`) response is
   * waited for; bounding that wait is the caller's business (the `torsion`
   * runner stops the reactor after its shutdown timeout).
   *
   * A connection made while a drain runs is closed at once (it has no
   * request in progress). Once the drain has fired the site serves new
   * connections again, so that a stopped service may be started again.
   *
   * @returns A Deferred that fires when every connection has closed: at
   *   once if there are none. Calling it again while a drain runs gives
   *   another Deferred that fires at the same time.
   *
   * @example
   * ```ts
   * await port.stopListening(); // no new connections
   * await site.drain(); // the requests in flight answered, every connection closed
   * ```
   */
  drain(): Deferred<void> {
    if (this.#channels.size === 0) return succeed(undefined);
    const waiter = new Deferred<void>();
    if (this.#drainWaiters !== null) {
      this.#drainWaiters.push(waiter);
      return waiter;
    }
    this.#drainWaiters = [waiter];
    // A copy: a connection that closes at once leaves the set during the loop.
    for (const channel of [...this.#channels]) channel._drain();
    return waiter;
  }

  /** @internal A channel's connection was made; a channel made during a drain is drained too. */
  _channelOpened(channel: HTTPChannel): void {
    this.#channels.add(channel);
    if (this.#drainWaiters !== null) channel._drain();
  }

  /** @internal A channel's connection was lost; the last one ends a drain. */
  _channelClosed(channel: HTTPChannel): void {
    if (!this.#channels.delete(channel) || this.#channels.size > 0) return;
    const waiters = this.#drainWaiters;
    if (waiters === null) return;
    this.#drainWaiters = null;
    for (const waiter of waiters) waiter.callback(undefined);
  }

  /**
   * The resource that answers `request`: the tree walked along its path.
   * Override it to choose differently (virtual hosts, say).
   */
  getResourceFor(request: Request): IResource {
    return getChildForRequest(this.resource, request);
  }

  /** @internal Sets the headers every response starts with and finds the resource. */
  _prepare(request: Request): IResource {
    const headers = request.responseHeaders;
    const server = this.serverName;
    if (server !== null) {
      // Checked once for each name given (it is a public field).
      if (server !== this.#checkedServerName) {
        headers.setRawHeaders('Server', [server]);
        this.#checkedServerName = server;
      } else {
        headers._setChecked('Server', 'server', server);
      }
    }
    headers._setChecked('Date', 'date', this.#dates.current());
    // `OPTIONS *` asks about the server, not a resource (the parser refuses
    // `*` with any other method): answered here, as Twisted does.
    if (request.uri === '*') return SERVER_OPTIONS;
    return this.getResourceFor(request);
  }

  /** @internal The `Date` header for now. */
  _dateHeader(): string {
    return this.#dates.current();
  }

  /** @internal Writes a finished request to the access log, if there is one. */
  _logAccess(request: Request): void {
    const logger = this.#accessLog;
    if (logger === undefined) return;
    const peer = request.getClientAddress() as Partial<{ host: string }>;
    const line =
      `${peer.host ?? '-'} - ${request.getUser() ?? '-'} [${clfTime(this.clock.seconds())}] ` +
      `${quote(`${request.method} ${request.uri} ${request.clientproto}`)} ${request.code} ` +
      `${request.sentLength > 0 ? request.sentLength : '-'} ${quote(request.getHeader('referer'))} ` +
      `${quote(request.getHeader('user-agent'))}`;
    logger.info('{log_line}', {
      log_line: line,
      clientAddress: peer.host,
      method: request.method,
      uri: request.uri,
      code: request.code,
      length: request.sentLength,
    });
  }
}

/** A quoted field of the access log: `"-"` when absent; `"`, `\\`, control and non-ASCII characters escaped. */
function quote(value: string | undefined): string {
  if (value === undefined) return '"-"';
  let out = '"';
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (code < 0x20 || code >= 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/** A time in the Common Log Format: `03/Dec/2026:18:11:48 +0000`. */
function clfTime(seconds: number): string {
  const d = new Date(Math.floor(seconds) * 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function seconds(name: string, value: number | null | undefined, fallback: number): number | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Site: ${name} must be a positive number of seconds or null, not ${String(value)}`,
    );
  }
  return value;
}

function count(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Site: ${name} must be an integer of at least ${min}, not ${String(value)}`,
    );
  }
  return value;
}
