// ProxyStats: the counters a proxy and its filter report to (IProxyStats),
// the requests per second over a window of time, and the hosts blocked most,
// kept cheap enough to be called on every proxied request. Twisted's
// web.proxy keeps no statistics; Privoxy's and Squid's status pages are the
// models of what a proxy's user wants to see.
// Tests: test/unit/web/proxy/stats.test.ts

import type { IReactorTime } from '../../internet/interfaces.js';
import type { IProxyStats, ProxiedRequestInfo } from './hooks.js';

/**
 * How a {@link ProxyStats} is set up.
 *
 * @since 0.1.0
 */
export interface ProxyStatsOptions {
  /**
   * Seconds of requests-per-second history kept (one count per second).
   * Default 600 (ten minutes).
   */
  readonly window?: number;
  /**
   * Most blocked hosts counted at once; when a new host arrives with the
   * table full, the host with the smallest count is forgotten. Default 1000.
   */
  readonly maxTrackedHosts?: number;
}

/**
 * The counters of a {@link ProxyStats}, as numbers.
 *
 * @since 0.1.0
 */
export interface ProxyCounters {
  /** Requests received (blocked ones and `CONNECT` included). */
  readonly requests: number;
  /** Requests refused by a rule (images apart). */
  readonly blockedConnections: number;
  /** Cookie header fields removed (`Cookie` and `Set-Cookie`). */
  readonly strippedCookies: number;
  /** Images refused by a rule. */
  readonly blockedImages: number;
  /** Requests the upstream failed (answered 502 or 504). */
  readonly upstreamErrors: number;
  /** Client connections open now. */
  readonly activeConnections: number;
}

/**
 * A host and how many of its requests were blocked.
 *
 * @since 0.1.0
 */
export interface BlockedHostCount {
  /** The destination host. */
  readonly host: string;
  /** Requests to it blocked (connections and images). */
  readonly count: number;
}

/**
 * A plain, JSON-ready copy of a {@link ProxyStats} at one moment: what the
 * status page renders and streams.
 *
 * @since 0.1.0
 */
export interface ProxyStatsSnapshot {
  /** When it was taken, in seconds of the clock. */
  readonly time: number;
  /** When the statistics began, in seconds of the clock. */
  readonly startedAt: number;
  /** The counters. */
  readonly counters: ProxyCounters;
  /**
   * Requests per second over the window: `values[i]` counts the requests
   * that arrived in the second starting at `end - values.length + i`.
   * The last value is the last whole second; the second under way is not
   * included.
   */
  readonly requestsPerSecond: {
    /** The start of the second under way (the end of the last one counted), in seconds of the clock. */
    readonly end: number;
    /** One count per second, oldest first. */
    readonly values: number[];
  };
  /** The hosts blocked most, most first. */
  readonly topBlockedHosts: BlockedHostCount[];
}

/**
 * Counts what a proxy does, for its status page: implements
 * {@link IProxyStats}.
 *
 * @remarks
 * Every report costs a few additions: the requests-per-second history is a
 * ring of per-second counts (one slot per second of the window, zeroed as
 * time moves on), and the blocked hosts are a map bounded by
 * `maxTrackedHosts`. When that map is full, a new host replaces the host
 * with the smallest count (the one counted longest ago among equals), so the
 * hosts blocked often stay; a table kept this way ranks the heavy hitters,
 * though a host evicted and seen again starts from one. The eviction scans
 * the map, which happens only for a blocked request to a host not in it.
 *
 * Blocked images count among their host's blocks in
 * {@link ProxyStats.topBlockedHosts}, but in their own counter
 * ({@link ProxyStats.blockedImages}), not in
 * {@link ProxyStats.blockedConnections}.
 *
 * Time comes from the clock given: pass a `Clock` in tests. A clock that
 * goes back is treated as standing still.
 *
 * @example
 * ```ts
 * const stats = new ProxyStats(reactor);
 * stats.request(info);
 * stats.snapshot().counters.requests; // 1
 * ```
 *
 * @since 0.1.0
 */
export class ProxyStats implements IProxyStats {
  /** The seconds of history kept. */
  readonly window: number;
  /** Most blocked hosts counted at once. */
  readonly maxTrackedHosts: number;
  readonly #clock: IReactorTime;
  readonly #startedAt: number;
  #requests = 0;
  #blockedConnections = 0;
  #strippedCookies = 0;
  #blockedImages = 0;
  #upstreamErrors = 0;
  #activeConnections = 0;
  /**
   * Requests per second: the count of second `s` is in slot `s % (window + 1)`,
   * for the second under way (`#second`) and the `window` whole seconds before it.
   */
  readonly #buckets: Float64Array;
  /** The second of the newest slot (the one under way when last looked at). */
  #second: number;
  /** Blocked requests by host, never more than `maxTrackedHosts` entries. */
  readonly #blockedHosts = new Map<string, number>();

  /**
   * @param clock - Where time comes from: the reactor, or a `Clock` in tests.
   * @param options - The window of history and the bound on hosts.
   * @throws RangeError for a window or bound that is not a positive integer.
   */
  constructor(clock: IReactorTime, options: ProxyStatsOptions = {}) {
    this.window = positiveInteger('window', options.window, 600);
    this.maxTrackedHosts = positiveInteger('maxTrackedHosts', options.maxTrackedHosts, 1000);
    this.#clock = clock;
    this.#startedAt = clock.seconds();
    this.#second = Math.floor(this.#startedAt);
    this.#buckets = new Float64Array(this.window + 1);
  }

  /** Requests received (blocked ones and `CONNECT` included). */
  get requests(): number {
    return this.#requests;
  }

  /** Requests refused by a rule (images apart). */
  get blockedConnections(): number {
    return this.#blockedConnections;
  }

  /** Cookie header fields removed (`Cookie` and `Set-Cookie`). */
  get strippedCookies(): number {
    return this.#strippedCookies;
  }

  /** Images refused by a rule. */
  get blockedImages(): number {
    return this.#blockedImages;
  }

  /** Requests the upstream failed (answered 502 or 504). */
  get upstreamErrors(): number {
    return this.#upstreamErrors;
  }

  /** Client connections open now. */
  get activeConnections(): number {
    return this.#activeConnections;
  }

  /** When the statistics began, in seconds of the clock. */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** A client connection was accepted. */
  connectionOpened(): void {
    this.#activeConnections++;
  }

  /** A client connection closed (never counted below zero). */
  connectionClosed(): void {
    if (this.#activeConnections > 0) this.#activeConnections--;
  }

  /** A request arrived: counted, and in the second it arrived in. */
  request(_request: ProxiedRequestInfo): void {
    this.#requests++;
    this.#advance();
    const slot = this.#second % this.#buckets.length;
    this.#buckets[slot] = (this.#buckets[slot] as number) + 1;
  }

  /** A request was refused by a rule: counted, and against its host. */
  blocked(request: ProxiedRequestInfo, _rule: string): void {
    this.#blockedConnections++;
    this.#countHost(request.host);
  }

  /** An image was refused by a rule: counted, and against its host. */
  imageBlocked(request: ProxiedRequestInfo, _rule: string): void {
    this.#blockedImages++;
    this.#countHost(request.host);
  }

  /** `count` cookie header fields were removed (a count that is not positive is ignored). */
  cookiesStripped(_request: ProxiedRequestInfo, count: number): void {
    if (count > 0 && Number.isFinite(count)) this.#strippedCookies += Math.floor(count);
  }

  /** The upstream failed the request. */
  upstreamError(_request: ProxiedRequestInfo, _reason: string): void {
    this.#upstreamErrors++;
  }

  /**
   * Requests per second for the last `seconds` whole seconds (the window by
   * default, at most the window), oldest first; the second under way is
   * not included.
   */
  requestsPerSecond(seconds: number = this.window): number[] {
    this.#advance();
    const n = Math.max(0, Math.min(this.window, Math.floor(seconds)));
    const out = new Array<number>(n);
    // The last whole second is #second - 1.
    const slots = this.#buckets.length;
    const first = this.#second - n;
    for (let i = 0; i < n; i++) {
      const s = first + i;
      out[i] = s < 0 ? 0 : (this.#buckets[s % slots] as number);
    }
    return out;
  }

  /**
   * The `n` hosts blocked most (10 by default), most first; hosts with the
   * same count in alphabetical order.
   */
  topBlockedHosts(n = 10): BlockedHostCount[] {
    const want = Math.max(0, Math.floor(n));
    if (want === 0) return [];
    const hosts = this.#blockedHosts;
    let top: [string, number][];
    if (want * 4 >= hosts.size) {
      top = [...hosts].sort(byCountThenHost).slice(0, want);
    } else {
      // A few out of many (the status page's ten out of a thousand, each
      // second): keep the best `want` in order in one pass, no full sort.
      top = [];
      for (const entry of hosts) {
        if (top.length === want && byCountThenHost(entry, top[want - 1] as [string, number]) >= 0) {
          continue;
        }
        let i = top.length === want ? want - 1 : top.length;
        if (top.length === want) top.pop();
        while (i > 0 && byCountThenHost(entry, top[i - 1] as [string, number]) < 0) i--;
        top.splice(i, 0, entry);
      }
    }
    return top.map(([host, count]) => ({ host, count }));
  }

  /** The counters, as a plain object. */
  counters(): ProxyCounters {
    return {
      requests: this.#requests,
      blockedConnections: this.#blockedConnections,
      strippedCookies: this.#strippedCookies,
      blockedImages: this.#blockedImages,
      upstreamErrors: this.#upstreamErrors,
      activeConnections: this.#activeConnections,
    };
  }

  /**
   * Everything, as a plain JSON-ready object.
   *
   * @param options - `top`: how many blocked hosts (default 10); `seconds`:
   *   how many seconds of history (default the window).
   */
  snapshot(options: { readonly top?: number; readonly seconds?: number } = {}): ProxyStatsSnapshot {
    const values = this.requestsPerSecond(options.seconds ?? this.window);
    return {
      time: this.#clock.seconds(),
      startedAt: this.#startedAt,
      counters: this.counters(),
      requestsPerSecond: { end: this.#second, values },
      topBlockedHosts: this.topBlockedHosts(options.top ?? 10),
    };
  }

  /** Moves the ring to the current second, zeroing the slots of the seconds passed. */
  #advance(): void {
    const now = Math.floor(this.#clock.seconds());
    const passed = now - this.#second;
    if (!(passed > 0)) return;
    const slots = this.#buckets.length;
    if (passed >= slots) {
      this.#buckets.fill(0);
    } else {
      for (let s = this.#second + 1; s <= now; s++) this.#buckets[s % slots] = 0;
    }
    this.#second = now;
  }

  #countHost(host: string): void {
    const hosts = this.#blockedHosts;
    const count = hosts.get(host);
    if (count !== undefined) {
      hosts.set(host, count + 1);
      return;
    }
    if (hosts.size >= this.maxTrackedHosts) {
      // The smallest count; the first found among equals is the one added
      // longest ago (a Map iterates in insertion order). Nothing is below 1.
      let victim: string | undefined;
      let least = Number.POSITIVE_INFINITY;
      for (const [h, c] of hosts) {
        if (c < least) {
          least = c;
          victim = h;
          if (c <= 1) break;
        }
      }
      if (victim !== undefined) hosts.delete(victim);
    }
    hosts.set(host, 1);
  }
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`ProxyStats: ${name} must be a positive integer, not ${String(value)}`);
  }
  return value;
}

/** Most blocked first; equal counts in alphabetical order of host. */
function byCountThenHost(a: readonly [string, number], b: readonly [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}
