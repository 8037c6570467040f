// FilteringProxyFactory: the filtering web proxy put together — a forward
// Proxy whose filter is a rule set (which may be reloaded under it), whose
// clients are checked against ClientAccess, and whose own address serves the
// status page at /_torsion/. What `torsion proxy` and `npm start` run.
// Tests: test/unit/web/proxy/filtering-proxy.test.ts, test/integration/web/proxy-chromium.test.ts

import type { Deferred } from '../../internet/defer.js';
import type { IAddress } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { escapeHtml } from '../_html.js';
import type { HTTPChannel } from '../channel.js';
import type { Request } from '../request.js';
import { type IResource, Resource } from '../resource.js';
import { ClientAccess } from './client-access.js';
import { Proxy as ForwardProxy, type ProxyOptions } from './proxy.js';
import { Rules } from './rules.js';
import { RulesFilter } from './rules-filter.js';
import { RulesWatcher } from './rules-watcher.js';
import { ProxyStats } from './stats.js';
import { ProxyStatusResource } from './status-page.js';

const log = new Logger('torsion.web.proxy');

/** Seconds between two log lines about refusing the same client for the same reason. */
const REFUSAL_LOG_INTERVAL = 60;

/** Clients whose refusals are remembered for that; past it the memory starts afresh. */
const MAX_REFUSALS_TRACKED = 1024;

/** Where the status page is mounted on the proxy's own address. */
const STATUS_SEGMENT = '_torsion';

/**
 * How a {@link FilteringProxyFactory} is set up: a {@link ForwardProxy | Proxy}'s options
 * (its `filter`, `stats` and `localResource` are the filtering proxy's own)
 * and the rules, the clients served and the statistics.
 *
 * @since 0.1.0
 */
export interface FilteringProxyOptions
  extends Omit<ProxyOptions, 'filter' | 'stats' | 'localResource'> {
  /**
   * The rules: a rule set, a {@link RulesWatcher} (whose reloads take effect
   * on the next request), or a function returning the rules in force.
   * Default: the built-in rules ({@link Rules.defaults}).
   */
  readonly rules?: Rules | RulesWatcher | (() => Rules);
  /** Which clients are served and how many connections each may hold. Default: loopback clients only, 64 each. */
  readonly access?: ClientAccess;
  /** Where the counters are kept. Default: a new {@link ProxyStats} on the reactor's clock. */
  readonly stats?: ProxyStats;
  /** Whether `/_torsion/` on the proxy's own address serves the status page. Default `true`. */
  readonly statusPage?: boolean;
}

/** The rules in force, however they were given. */
function rulesGetter(rules: Rules | RulesWatcher | (() => Rules)): () => Rules {
  if (rules instanceof RulesWatcher) return () => rules.rules;
  if (rules instanceof Rules) return () => rules;
  return rules;
}

/**
 * The proxy's own pages: a short note at `/` saying what it is, and the
 * status page under `/_torsion/`.
 */
class ProxyHome extends Resource {
  constructor(status: ProxyStatusResource | undefined) {
    super();
    if (status !== undefined) this.putChild(STATUS_SEGMENT, status);
  }

  override getChild(path: string, request: Request): IResource {
    return path === '' ? this : super.getChild(path, request);
  }

  render_GET(request: Request): string {
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    const host = escapeHtml(request.getHeader('host') ?? '127.0.0.1:8080');
    const status = this.children.has(STATUS_SEGMENT)
      ? `<p>Its status page is <a href="/${STATUS_SEGMENT}/">/${STATUS_SEGMENT}/</a>.</p>`
      : '';
    return (
      '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Torsion proxy</title></head>' +
      `<body><h1>Torsion proxy</h1><p>This is a filtering web proxy. Use it as your browser's HTTP proxy, or try <code>curl -x http://${host} http://example.com/</code>.</p>` +
      `${status}</body></html>`
    );
  }
}

/**
 * The filtering web proxy: a forward {@link ForwardProxy | Proxy} that applies a rule set
 * to every request (blocking hosts and images, stripping cookies and
 * headers — see {@link Rules}), serves only the clients its
 * {@link ClientAccess} admits, counts what it does in a
 * {@link ProxyStats}, and shows it all on a status page at `/_torsion/` on
 * its own address (loopback clients only).
 *
 * @remarks
 * A client outside the access ranges, or one already holding its maximum
 * of connections, is refused as its connection opens (the connection is
 * aborted and the refusal logged), before a byte is read: a proxy listening beyond
 * loopback is never an open proxy. Call {@link FilteringProxyFactory.drain}
 * to stop: it ends the status page's event streams, closes tunnels, and
 * answers the requests in flight.
 *
 * @example
 * ```ts
 * import { serverFromString } from 'torsion/endpoints';
 * import { reactor } from 'torsion/reactor';
 * import { FilteringProxyFactory, Rules } from 'torsion/web';
 *
 * const proxy = new FilteringProxyFactory({
 *   reactor,
 *   rules: Rules.parse('block .doubleclick.net\nstrip-cookies *\n', 'my-rules'),
 * });
 * await serverFromString(reactor, 'tcp:8080:interface=127.0.0.1').listen(proxy);
 * // curl -x http://127.0.0.1:8080 http://example.com/
 * ```
 *
 * @since 0.1.0
 */
export class FilteringProxyFactory extends ForwardProxy {
  /** Which clients are served. */
  readonly access: ClientAccess;
  /** The counters the status page shows. */
  declare readonly stats: ProxyStats;
  /** The status page, unless turned off. */
  readonly statusPage: ProxyStatusResource | undefined;
  /** The rule set or watcher given (the built-in rules when none was). */
  readonly #rules: () => Rules;
  /** The address each open connection was admitted for, to release it when it closes. */
  readonly #admitted = new WeakMap<HTTPChannel, IAddress>();
  /** When a refusal was last logged, by reason and client host, and how many since. */
  readonly #refusals = new Map<string, { at: number; since: number }>();
  /** Connections refused when they opened (their close is not counted). */
  readonly #refused = new WeakSet<HTTPChannel>();

  /**
   * @param options - The reactor (required), the rules, the clients served,
   *   and a {@link ForwardProxy | Proxy}'s options.
   * @throws TypeError or RangeError for an option out of its range.
   */
  constructor(options: FilteringProxyOptions) {
    const { reactor } = options;
    const stats = options.stats ?? new ProxyStats(reactor);
    const rules = rulesGetter(options.rules ?? Rules.defaults({ clock: reactor }));
    const statusPage =
      options.statusPage === false
        ? undefined
        : new ProxyStatusResource(stats, { clock: reactor, rules });
    super({
      ...options,
      filter: new RulesFilter(rules, { stats }),
      stats,
      localResource: new ProxyHome(statusPage),
    });
    this.access = options.access ?? new ClientAccess();
    this.statusPage = statusPage;
    this.#rules = rules;
  }

  /** The rules in force now. */
  get rules(): Rules {
    return this.#rules();
  }

  /**
   * @internal A client connection opened: served if the access ranges
   * admit its client, otherwise closed at once (and the refusal logged).
   */
  override _channelOpened(channel: HTTPChannel): void {
    const addr = channel.transport.getPeer();
    const admission = this.access.admit(addr);
    if (admission !== 'ok') {
      this.#logRefusal(addr, admission);
      this.#refused.add(channel);
      channel.transport.abortConnection();
      return;
    }
    this.#admitted.set(channel, addr);
    super._channelOpened(channel);
  }

  /**
   * Logs a refused connection: the first from a client, then at most one
   * line a minute for it, saying how many were refused in between (a
   * scanner or a runaway client does not flood the log).
   */
  #logRefusal(addr: IAddress, why: 'forbidden' | 'too-many'): void {
    const host = (addr as { host?: unknown }).host;
    const key = `${why} ${typeof host === 'string' ? host : String(addr)}`;
    const now = this.reactor.seconds();
    const last = this.#refusals.get(key);
    if (last !== undefined && now - last.at < REFUSAL_LOG_INTERVAL) {
      last.since++;
      return;
    }
    if (this.#refusals.size >= MAX_REFUSALS_TRACKED) this.#refusals.clear();
    this.#refusals.set(key, { at: now, since: 0 });
    log.warn(
      why === 'forbidden'
        ? 'Refused a connection from {client}: not loopback and not in the allowed client ranges{more}'
        : 'Refused a connection from {client}: it already holds {limit} connections{more}',
      {
        client: String(addr),
        limit: this.access.maxConnectionsPerClient,
        more:
          last !== undefined && last.since > 0
            ? ` (and ${last.since} more since the last such line)`
            : '',
      },
    );
  }

  /** @internal A client connection closed: its admission is released. */
  override _channelClosed(channel: HTTPChannel): void {
    if (this.#refused.delete(channel)) return;
    const addr = this.#admitted.get(channel);
    if (addr !== undefined) {
      this.#admitted.delete(channel);
      this.access.release(addr);
    }
    super._channelClosed(channel);
  }

  /**
   * Winds the proxy down: ends the status page's event streams, then
   * drains as a {@link ForwardProxy | Proxy} does.
   */
  override drain(): Deferred<void> {
    this.statusPage?.close();
    return super.drain();
  }
}
