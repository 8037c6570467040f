// The contracts between a proxy and what it is extended with: a filter that
// may refuse a request or edit its headers, the statistics it reports to, and
// the view of a rule set that a status page shows (Twisted's web.proxy has no
// such hooks; Privoxy's actions and mitmproxy's addons are the models).

import type { IAddress } from '../../internet/interfaces.js';
import type { Headers } from '../headers.js';

/**
 * What a filter and the statistics see of one request passing through a
 * proxy (forward or reverse), before it is sent upstream.
 *
 * @since 0.1.0
 */
export interface ProxiedRequestInfo {
  /** The request's method: `GET`, `POST`, … or `CONNECT` for a tunnel. */
  readonly method: string;
  /**
   * The absolute URL asked for (`http://example.com:8080/a?b`); for
   * `CONNECT`, `https://host:port/` (the tunnel's destination).
   */
  readonly url: string;
  /** `http` or `https` (`https` for a `CONNECT` tunnel). */
  readonly scheme: 'http' | 'https';
  /** The destination host, lower case, without the brackets of an IPv6 address. */
  readonly host: string;
  /** The destination port. */
  readonly port: number;
  /** The path and query sent upstream (`/a?b`); `''` for `CONNECT`. */
  readonly path: string;
  /**
   * The headers that will be sent upstream, hop-by-hop headers already
   * removed; a filter may edit them (strip `Cookie`, rewrite `Referer`).
   */
  readonly headers: Headers;
  /** The client's address, as the proxy's listening port saw it. */
  readonly clientAddress: IAddress;
}

/**
 * What a filter and the statistics see of an upstream response, before its
 * head is sent to the client.
 *
 * @since 0.1.0
 */
export interface ProxiedResponseInfo {
  /** The upstream's status code. */
  readonly code: number;
  /**
   * The headers that will be sent to the client, hop-by-hop headers already
   * removed; a filter may edit them (strip `Set-Cookie`).
   */
  readonly headers: Headers;
}

/**
 * An answer a proxy sends in place of forwarding: a block page, a
 * transparent GIF for a blocked image.
 *
 * @since 0.1.0
 */
export interface ProxyAnswer {
  /** The status code (403 for a block). */
  readonly code: number;
  /** The reason phrase; the code's usual phrase when absent. */
  readonly phrase?: string;
  /** Headers, in order (`Content-Type` among them); `Content-Length` is added. */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  /** The body (UTF-8 when a string). */
  readonly body: string | Uint8Array;
}

/**
 * Decides, for each request through a proxy, whether it goes upstream, and
 * edits what passes.
 *
 * @remarks
 * Both methods are synchronous and are called once per request: a
 * `CONNECT` gets only `filterRequest` (a tunnel carries no HTTP the proxy
 * reads). A method that throws is logged and the request answered 500,
 * never the process ended.
 *
 * @since 0.1.0
 */
export interface IProxyFilter {
  /**
   * Called before the upstream connection is sought.
   *
   * @returns An answer to send instead of forwarding, or `undefined` to
   *   forward (with whatever edits were made to `request.headers`).
   */
  filterRequest?(request: ProxiedRequestInfo): ProxyAnswer | undefined;
  /**
   * Called when the upstream response's head has arrived.
   *
   * @returns An answer to send instead of the upstream's (whose body is then
   *   discarded), or `undefined` to pass it on (with whatever edits were made
   *   to `response.headers`).
   */
  filterResponse?(
    request: ProxiedRequestInfo,
    response: ProxiedResponseInfo,
  ): ProxyAnswer | undefined;
}

/**
 * Where a proxy and its filter report what they do: the counters of a
 * status page (`ProxyStats` keeps them).
 *
 * @since 0.1.0
 */
export interface IProxyStats {
  /** A client connection was accepted. */
  connectionOpened(): void;
  /** A client connection closed. */
  connectionClosed(): void;
  /** A request arrived (every request, blocked ones and `CONNECT` included). */
  request(request: ProxiedRequestInfo): void;
  /** A request was refused by a rule (`rule` names it: file and line). */
  blocked(request: ProxiedRequestInfo, rule: string): void;
  /** An image was refused (counted apart from {@link IProxyStats.blocked}). */
  imageBlocked(request: ProxiedRequestInfo, rule: string): void;
  /** `count` cookie headers (`Cookie` or `Set-Cookie` fields) were removed. */
  cookiesStripped(request: ProxiedRequestInfo, count: number): void;
  /** The upstream failed the request: answered 502 or 504 for `reason`. */
  upstreamError(request: ProxiedRequestInfo, reason: string): void;
}

/**
 * One rule of a rule set as a status page lists it.
 *
 * @since 0.1.0
 */
export interface ProxyRuleLine {
  /** Its line number in its file (1-based). */
  readonly line: number;
  /** The line as written, without its comment. */
  readonly text: string;
}

/**
 * The rule set in force, as a status page shows it.
 *
 * @since 0.1.0
 */
export interface ProxyRulesSummary {
  /** Where the rules came from: a file's path, or `built-in`. */
  readonly source: string;
  /** When they were loaded, in seconds of the proxy's clock. */
  readonly loadedAt: number;
  /** The rules, in order. */
  readonly rules: readonly ProxyRuleLine[];
}

/**
 * How one rule bears on a URL in an explanation.
 *
 * @since 0.1.0
 */
export interface ProxyExplainStep {
  /** The rule. */
  readonly rule: ProxyRuleLine;
  /** Whether it matches the URL. */
  readonly matched: boolean;
  /** Why it matches or not, in a short sentence. */
  readonly reason: string;
  /** Whether it decides an action (the last match of its kind wins). */
  readonly wins: boolean;
}

/**
 * Which rules match a URL, which win, and what the proxy will do with it.
 *
 * @since 0.1.0
 */
export interface ProxyExplanation {
  /** The URL explained, as parsed. */
  readonly url: string;
  /** Every rule, in order, with whether it matched and why. */
  readonly steps: readonly ProxyExplainStep[];
  /** The outcome in one sentence ("blocked by line 12: block *.ads.example"). */
  readonly verdict: string;
}

/**
 * A rule set seen from outside: what a status page lists and explains.
 *
 * @since 0.1.0
 */
export interface IProxyRulesView {
  /** The rules in force. */
  summary(): ProxyRulesSummary;
  /**
   * Which rules match `url` and which win.
   *
   * @throws TypeError for a URL that cannot be parsed (the message says why).
   */
  explain(url: string): ProxyExplanation;
}
