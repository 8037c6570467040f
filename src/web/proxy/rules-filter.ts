// RulesFilter: a proxy filter that applies a rule set to each request and
// response: refuses blocked hosts with a page naming the rule, blocked images
// with a transparent GIF or a 403, strips cookies and edits headers, and
// reports what it did to the proxy's statistics.
// Tests: test/unit/web/proxy/rules-filter.test.ts

import { escapeHtml } from '../_html.js';
import type { Headers } from '../headers.js';
import { originOf, siteOf } from './_rule-patterns.js';
import type {
  IProxyFilter,
  IProxyStats,
  ProxiedRequestInfo,
  ProxiedResponseInfo,
  ProxyAnswer,
} from './hooks.js';
import { hasImageExtension, type ProxyRule, type Rules, type RulesMatch } from './rules.js';

/**
 * How a {@link RulesFilter} is set up.
 *
 * @since 0.1.0
 */
export interface RulesFilterOptions {
  /** Where blocked requests, blocked images and stripped cookies are counted. */
  readonly stats?: IProxyStats;
}

/** A 1×1 transparent GIF (GIF89a, two-colour table, colour 0 transparent): 43 bytes. */
const TRANSPARENT_GIF = Uint8Array.from([
  0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
  0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
  0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
]);

/**
 * Where filterRequest leaves its decision on the request's info object for
 * filterResponse: a private slot, so the decision lives exactly as long as
 * the request. (A Map keyed by the info objects cost the proxy 14% of its
 * throughput in measured runs, its garbage outliving the young generation;
 * a WeakMap more still.)
 */
const STATE: unique symbol = Symbol('RulesFilter.state');

/** A request's info object with the filter's slot. */
type WithState = ProxiedRequestInfo & { [STATE]?: RequestState | undefined };

/** What filterRequest decided, kept for filterResponse. */
interface RequestState {
  readonly match: RulesMatch;
  /** Whether `Set-Cookie` is stripped from the response. */
  readonly stripCookies: boolean;
}

/** The first value of `name`, or `undefined`. */
function first(headers: Headers, name: string): string | undefined {
  return headers.getRawHeaders(name)?.[0];
}

/**
 * Whether a request looks like an image: `Sec-Fetch-Dest: image`, an
 * `Accept` that starts with `image/`, or a path with an image extension.
 */
function isImageRequest(request: ProxiedRequestInfo): boolean {
  const dest = first(request.headers, 'Sec-Fetch-Dest');
  if (dest !== undefined && dest.trim().toLowerCase() === 'image') return true;
  const accept = first(request.headers, 'Accept');
  if (accept?.trimStart().toLowerCase().startsWith('image/')) return true;
  return hasImageExtension(request.path);
}

/**
 * Whether a request comes from another site than its destination's: by
 * `Sec-Fetch-Site` when the browser sends it, else by the `Referer`'s host.
 * Without either (a typed URL, a script), it is first-party.
 */
function isThirdParty(request: ProxiedRequestInfo): boolean {
  const site = first(request.headers, 'Sec-Fetch-Site');
  if (site !== undefined) return site.trim().toLowerCase() === 'cross-site';
  const referer = first(request.headers, 'Referer');
  if (referer === undefined) return false;
  const from = originOf(referer);
  return from !== undefined && siteOf(from.host) !== siteOf(request.host);
}

/** Removes every `name` field; returns how many there were. */
function strip(headers: Headers, name: string): number {
  const values = headers.getRawHeaders(name);
  if (values === undefined) return 0;
  headers.removeHeader(name);
  return values.length;
}

/** A `Referer` reduced to its origin, or removed when it comes from another site or is not a URL. */
function trimReferer(request: ProxiedRequestInfo): void {
  const referer = first(request.headers, 'Referer');
  if (referer === undefined) return;
  const from = originOf(referer);
  if (from === undefined || siteOf(from.host) !== siteOf(request.host)) {
    request.headers.removeHeader('Referer');
    return;
  }
  const trimmed = `${from.origin}/`;
  if (trimmed !== referer) request.headers._setChecked('Referer', 'referer', trimmed);
}

/** The page for a refused request: the URL and the rule, escaped. */
function blockPage(request: ProxiedRequestInfo, rule: ProxyRule): ProxyAnswer {
  const url = escapeHtml(request.url);
  const body = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>403 Blocked by the proxy</title></head>
<body>
<h1>403 Blocked by the proxy</h1>
<p>The proxy refused <code>${url}</code>.</p>
<p>Rule <code>${escapeHtml(rule.where)}</code>: <code>${escapeHtml(rule.text)}</code></p>
</body>
</html>
`;
  return {
    code: 403,
    phrase: 'Forbidden',
    headers: [
      ['Content-Type', 'text/html; charset=utf-8'],
      ['Cache-Control', 'no-store'],
    ],
    body,
  };
}

/**
 * A proxy filter that applies a {@link Rules} set: blocks hosts, images and
 * cookies, edits request headers, and counts what it did.
 *
 * @remarks
 * For each request, in this order:
 * 1. a `block` rule wins: a 403 page naming the rule (file and line) and the
 *    URL (a `CONNECT` is refused the same way; nothing more is done to a
 *    tunnel, whose content the proxy cannot see);
 * 2. a `block-images` rule wins and the request looks like an image
 *    (`Sec-Fetch-Dest: image`, `Accept: image/…`, an image extension): a 1×1
 *    transparent GIF, or a 403 with `option image-answer 403`;
 * 3. cookies: `strip-cookies` removes `Cookie`; `strip-third-party-cookies`
 *    does when the request is a third party's (its `Sec-Fetch-Site`, else its
 *    `Referer`'s site); the response's `Set-Cookie` fields go the same way;
 * 4. `strip-header` and `set-header` edit the request's headers;
 * 5. `trim-referer` reduces `Referer` to its origin within a site and removes
 *    it across sites.
 *
 * A response whose `Content-Type` is `image/…` is replaced as in step 2 when
 * a `block-images` rule wins for its request.
 *
 * Rules can be swapped while the proxy runs: given a function, the filter
 * asks it for the rules at each request (a {@link RulesWatcher}'s `rules`).
 *
 * @example
 * ```ts
 * const watcher = new RulesWatcher('rules.txt', { clock: reactor });
 * const filter = new RulesFilter(() => watcher.rules, { stats });
 * ```
 *
 * @since 0.1.0
 */
export class RulesFilter implements IProxyFilter {
  readonly #rules: () => Rules;
  readonly #stats: IProxyStats | undefined;
  /** Decisions for info objects that cannot take the slot (frozen ones). */
  readonly #frozen = new WeakMap<ProxiedRequestInfo, RequestState>();

  /**
   * @param rules - The rules, or a function returning the rules in force
   *   (asked once per request).
   */
  constructor(rules: Rules | (() => Rules), options: RulesFilterOptions = {}) {
    this.#rules = typeof rules === 'function' ? rules : () => rules;
    this.#stats = options.stats;
  }

  /** Applies the rules to a request: see the class remarks. */
  filterRequest(request: ProxiedRequestInfo): ProxyAnswer | undefined {
    const rules = this.#rules();
    const match = rules.match(request);
    if (match.blocked) {
      const rule = match.access as ProxyRule;
      this.#stats?.blocked(request, rule.where);
      return blockPage(request, rule);
    }
    if (request.method === 'CONNECT') return undefined;
    if (match.images?.action === 'block-images' && isImageRequest(request)) {
      this.#stats?.imageBlocked(request, match.images.where);
      return imageAnswer(rules, match.images, request);
    }
    const headers = request.headers;
    const cookieRule = match.cookies?.action;
    const stripCookies =
      cookieRule === 'strip-cookies' ||
      (cookieRule === 'strip-third-party-cookies' && isThirdParty(request));
    if (stripCookies) {
      const count = strip(headers, 'Cookie');
      if (count > 0) this.#stats?.cookiesStripped(request, count);
    }
    for (const rule of match.headers) {
      if (rule.action === 'strip-header') headers.removeHeader(rule.header as string);
      else if (rule.action === 'set-header') {
        // Name and value were checked when the rules were parsed.
        const name = rule.header as string;
        headers._setChecked(name, name.toLowerCase(), rule.value as string);
      }
    }
    if (match.referer?.action === 'trim-referer') trimReferer(request);
    const state: RequestState = { match, stripCookies };
    if (Object.isExtensible(request)) (request as WithState)[STATE] = state;
    else this.#frozen.set(request, state);
    return undefined;
  }

  /** Applies the rules to a response: blocks images by `Content-Type`, strips `Set-Cookie`. */
  filterResponse(
    request: ProxiedRequestInfo,
    response: ProxiedResponseInfo,
  ): ProxyAnswer | undefined {
    let state = (request as WithState)[STATE] ?? this.#frozen.get(request);
    if (state === undefined) {
      // filterRequest did not see this request (or another filter made it):
      // decide now, from what is left of its headers.
      const match = this.#rules().match(request);
      const stripCookies =
        match.cookies?.action === 'strip-cookies' ||
        (match.cookies?.action === 'strip-third-party-cookies' && isThirdParty(request));
      state = { match, stripCookies };
    } else if (Object.isExtensible(request)) (request as WithState)[STATE] = undefined;
    else this.#frozen.delete(request);
    const images = state.match.images;
    if (images?.action === 'block-images') {
      const type = first(response.headers, 'Content-Type');
      if (type?.trimStart().toLowerCase().startsWith('image/')) {
        this.#stats?.imageBlocked(request, images.where);
        return imageAnswer(this.#rules(), images, request);
      }
    }
    if (state.stripCookies) {
      const count = strip(response.headers, 'Set-Cookie');
      if (count > 0) this.#stats?.cookiesStripped(request, count);
    }
    return undefined;
  }
}

/** The answer to a blocked image: the GIF, or a 403, as the rules' option says. */
function imageAnswer(rules: Rules, rule: ProxyRule, request: ProxiedRequestInfo): ProxyAnswer {
  if (rules.options.imageAnswer === 'gif') {
    return {
      code: 200,
      headers: [
        ['Content-Type', 'image/gif'],
        ['Cache-Control', 'no-store'],
      ],
      body: TRANSPARENT_GIF.slice(),
    };
  }
  return {
    code: 403,
    phrase: 'Forbidden',
    headers: [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Cache-Control', 'no-store'],
    ],
    body: `Image blocked by the proxy: ${request.url}\nRule ${rule.where}: ${rule.text}\n`,
  };
}
