// ProxyStatusResource: the proxy's own status page at /_torsion/ — live
// counters, requests per second as an inline SVG chart, the hosts blocked
// most, the rules in force and a form that explains a URL — with the
// statistics streamed as server-sent events and as JSON. Loopback clients
// only, and only under an IP or localhost name (against DNS rebinding). No
// framework and no external asset: one page with a small inline script,
// allowed by hash in its Content-Security-Policy, and which works without it.
// Tests: test/unit/web/proxy/status-page.test.ts,
// test/integration/web/status-page-chromium.test.ts

import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { Failure } from '../../internet/failure.js';
import type { IAddress, IPushProducer, IReactorTime } from '../../internet/interfaces.js';
import { LoopingCall } from '../../internet/task/looping-call.js';
import { Logger } from '../../logger/logger.js';
import { errorPageHtml, escapeHtml } from '../_html.js';
import type { Request } from '../request.js';
import { NOT_DONE_YET, type RenderResult, Resource } from '../resource.js';
import type { IProxyRulesView, ProxyExplanation, ProxyRulesSummary } from './hooks.js';
import type { ProxyCounters, ProxyStats, ProxyStatsSnapshot } from './stats.js';

const log = new Logger('torsion.web.proxy');

/**
 * How a {@link ProxyStatusResource} is set up.
 *
 * @since 0.1.0
 */
export interface ProxyStatusOptions {
  /** The clock of the event streams' timer and of "now": the reactor, or a `Clock` in tests. */
  readonly clock: IReactorTime;
  /**
   * The rules in force, to list and to explain URLs with; a function when
   * they may be replaced (a reload), called at each use. Absent: the page
   * says no rules are loaded.
   */
  readonly rules?: IProxyRulesView | (() => IProxyRulesView | undefined);
  /** Seconds between two updates on an event stream. Default 1. */
  readonly interval?: number;
  /** Most event streams open at once; more are answered 503. Default 16. */
  readonly maxStreams?: number;
}

/**
 * What the status page streams and `stats.json` answers: the statistics'
 * snapshot and a summary of the rules in force.
 *
 * @since 0.1.0
 */
export interface ProxyStatusPayload extends ProxyStatsSnapshot {
  /** Where the rules came from, when they were loaded and how many there are; `null` without rules. */
  readonly rules: {
    /** A file's path, or `built-in`. */
    readonly source: string;
    /** When they were loaded, in seconds of the proxy's clock. */
    readonly loadedAt: number;
    /** How many rules there are. */
    readonly count: number;
  } | null;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether an address is a loopback address: `127.0.0.0/8`, `::1`, or an
 * IPv4 loopback address mapped into IPv6 (`::ffff:127.0.0.1`).
 *
 * @remarks
 * Given an `IAddress`, its host is judged; an address without a host (a
 * UNIX socket's) is local, and counts as loopback. A string that is not an
 * IP address (a host name, even `localhost`) is not.
 *
 * @param address - An address, or a host as text.
 * @since 0.1.0
 */
export function isLoopbackAddress(address: IAddress | string): boolean {
  let host: string;
  if (typeof address === 'string') {
    host = address;
  } else {
    const h = (address as { host?: unknown }).host;
    if (typeof h !== 'string') return true;
    host = h;
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const lower = host.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) host = lower.slice(7);
  const family = isIP(host);
  if (family === 0) return false;
  return LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether a `Host` header names the server by an IP literal, `localhost` or
 * a name under `.localhost` (with an optional port): names that a DNS
 * rebinding attack cannot point at the proxy from a web page.
 */
function isLocalHostHeader(value: string): boolean {
  let host: string;
  let port: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) return false;
    host = value.slice(1, close);
    if (isIP(host) !== 6) return false;
    port = value.slice(close + 1);
    if (port !== '' && !port.startsWith(':')) return false;
    port = port.slice(1);
  } else {
    const colon = value.indexOf(':');
    if (colon !== value.lastIndexOf(':')) return false;
    host = colon < 0 ? value : value.slice(0, colon);
    port = colon < 0 ? '' : value.slice(colon + 1);
    const name = host.toLowerCase().replace(/\.$/, '');
    const ok =
      isIP(host) === 4 ||
      name === 'localhost' ||
      (name.endsWith('.localhost') && /^[a-z0-9.-]+$/.test(name) && !name.includes('..'));
    if (!ok) return false;
  }
  return port === '' || (/^\d{1,5}$/.test(port) && Number(port) <= 65535);
}

// ---------------------------------------------------------------------------
// The page's style and script. Both are constant, so the
// Content-Security-Policy allows exactly them by hash.

const STYLE = `
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5f6b76; --line: #c9d1d9; --accent: #1f6feb; --ok: #1a7f37; --bad: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9aa6b2; --line: #30363d; --accent: #58a6ff; --ok: #3fb950; --bad: #f85149; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid var(--line); }
.muted, .axis { color: var(--muted); }
#live.on { color: var(--ok); } #live.off { color: var(--bad); } #live.wait { color: var(--muted); }
.counters { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: .5rem; margin: 0; }
.counters div { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
.counters dt { color: var(--muted); font-size: .85rem; }
.counters dd { margin: 0; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
#chart { width: 100%; height: auto; max-height: 10rem; border: 1px solid var(--line); border-radius: 6px; color: var(--accent); }
#top-blocked .count { color: var(--muted); font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
td, th { text-align: left; padding: .15rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.line { color: var(--muted); text-align: right; width: 3rem; }
tr.wins td { font-weight: 600; }
code { font-family: ui-monospace, monospace; }
form input[name=url] { width: min(32rem, 70%); font: inherit; }
.error { color: var(--bad); }
#explain-verdict { font-weight: 600; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var byId = function (id) { return document.getElementById(id); };
  var live = byId('live');
  if (live === null || typeof EventSource !== 'function') return;
  var names = {
    requests: 'counter-requests',
    blockedConnections: 'counter-blocked-connections',
    strippedCookies: 'counter-stripped-cookies',
    blockedImages: 'counter-blocked-images',
    upstreamErrors: 'counter-upstream-errors',
    activeConnections: 'counter-active-connections'
  };
  function setText(id, text) { var e = byId(id); if (e !== null) e.textContent = text; }
  function status(text, state) { live.textContent = text; live.className = state; }
  function chart(values) {
    var line = byId('chart-line');
    if (line === null) return;
    var W = 600, H = 120, n = values.length, max = 1, i, points = [];
    for (i = 0; i < n; i++) if (values[i] > max) max = values[i];
    for (i = 0; i < n; i++) {
      var x = n > 1 ? (i * W) / (n - 1) : 0;
      var y = H - 2 - (values[i] / max) * (H - 4);
      points.push(Math.round(x * 10) / 10 + ',' + Math.round(y * 10) / 10);
    }
    line.setAttribute('points', points.join(' '));
    var peak = 0;
    for (i = 0; i < n; i++) if (values[i] > peak) peak = values[i];
    setText('chart-max', String(peak));
    setText('chart-last', String(n > 0 ? values[n - 1] : 0));
  }
  function hosts(list) {
    var ol = byId('top-blocked');
    if (ol === null) return;
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    if (list.length === 0) {
      var none = document.createElement('li');
      none.className = 'none muted';
      none.textContent = 'none yet';
      ol.appendChild(none);
      return;
    }
    list.forEach(function (h) {
      var li = document.createElement('li');
      var host = document.createElement('span');
      host.className = 'host';
      host.textContent = h.host;
      var count = document.createElement('span');
      count.className = 'count';
      count.textContent = String(h.count);
      li.appendChild(host);
      li.appendChild(document.createTextNode(' '));
      li.appendChild(count);
      ol.appendChild(li);
    });
  }
  function update(s) {
    Object.keys(names).forEach(function (k) { setText(names[k], String(s.counters[k])); });
    chart(s.requestsPerSecond.values);
    hosts(s.topBlockedHosts);
    setText('updated', new Date(s.time * 1000).toISOString());
    var loaded = byId('rules-loaded');
    if (s.rules !== null && loaded !== null && loaded.getAttribute('data-loaded-at') !== String(s.rules.loadedAt)) {
      setText('rules-source', s.rules.source);
      loaded.textContent = new Date(s.rules.loadedAt * 1000).toISOString();
      var note = byId('rules-reloaded');
      if (note !== null) note.hidden = false;
    }
  }
  status('connecting\\u2026', 'wait');
  var events = new EventSource('events');
  events.onopen = function () { status('live', 'on'); };
  events.onerror = function () {
    status(events.readyState === 2 ? 'stopped: counters as of the last update' : 'reconnecting\\u2026', 'off');
  };
  events.onmessage = function (e) {
    try { update(JSON.parse(e.data)); } catch (error) { status('bad update: ' + error, 'off'); }
  };
})();
`;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

/** The page's policy: its own style and script, its own event stream and form, nothing else. */
const PAGE_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  `style-src 'sha256-${sha256(STYLE)}'`,
  "connect-src 'self'",
  'img-src data:',
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The counters in the order shown, with their element ids and labels. */
const COUNTERS: ReadonlyArray<readonly [keyof ProxyCounters, string, string]> = [
  ['requests', 'counter-requests', 'Requests'],
  ['blockedConnections', 'counter-blocked-connections', 'Blocked connections'],
  ['strippedCookies', 'counter-stripped-cookies', 'Stripped cookies'],
  ['blockedImages', 'counter-blocked-images', 'Blocked images'],
  ['upstreamErrors', 'counter-upstream-errors', 'Upstream errors'],
  ['activeConnections', 'counter-active-connections', 'Active connections'],
];

const CHART_WIDTH = 600;
const CHART_HEIGHT = 120;

/** The polyline's points for per-second counts: the same scale as the page's script. */
function chartPoints(values: readonly number[]): string {
  const n = values.length;
  let max = 1;
  for (const v of values) if (v > max) max = v;
  const points: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = n > 1 ? (i * CHART_WIDTH) / (n - 1) : 0;
    const y = CHART_HEIGHT - 2 - ((values[i] as number) / max) * (CHART_HEIGHT - 4);
    points.push(`${Math.round(x * 10) / 10},${Math.round(y * 10) / 10}`);
  }
  return points.join(' ');
}

/** A time of the clock as an ISO date (UTC), or the number if it is none. */
function isoTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString();
}

/** `600` seconds as "10 minutes", `90` as "90 seconds". */
function spanText(seconds: number): string {
  return seconds >= 120 && seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`;
}

/** The explanation part of a page: what to show under the explain form. */
type ExplainPart =
  | { readonly kind: 'none' }
  | { readonly kind: 'result'; readonly url: string; readonly explanation: ProxyExplanation }
  | { readonly kind: 'error'; readonly url: string; readonly message: string };

/**
 * One open event stream: a push producer on its response, so that a client
 * that does not read pauses it (its updates are skipped: each carries the
 * whole state, so the next one makes up for them).
 */
class EventStream implements IPushProducer {
  paused = false;

  constructor(
    readonly request: Request,
    readonly onStop: (stream: EventStream) => void,
  ) {}

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
  }

  /** The connection went away. */
  stopProducing(): void {
    this.onStop(this);
  }
}

/**
 * The status page of a proxy: a resource the proxy serves at `/_torsion/`
 * on its own address.
 *
 * @remarks
 * It is a leaf that reads the rest of the path itself:
 *
 * - `` (the page): the six counters, the requests per second over the
 *   statistics' window as an inline SVG chart, the hosts blocked most, the
 *   rules in force with their source and load time, and a form that
 *   explains a URL. With JavaScript, a small inline script follows the
 *   event stream and updates the counters, the chart and the list; without
 *   it, the page shows the counters as of its loading and the form still
 *   works.
 * - `events`: server-sent events, one `data:` line of JSON (a
 *   {@link ProxyStatusPayload}) at once and then every `interval` seconds,
 *   on one timer shared by every stream. At most `maxStreams` are open at
 *   once (503 beyond). A stream ends when its client goes away, or at
 *   {@link ProxyStatusResource.close}. A client that does not read has its
 *   updates skipped until it does.
 * - `stats.json`: the same payload, once.
 * - `explain?url=…`: the page with the rules' explanation of the URL: each
 *   rule that matches and why, which wins, and the verdict. A URL the rules
 *   cannot parse gets 400 and the reason.
 *
 * Security: it answers loopback clients only (403 for others), and only
 * requests whose `Host` is an IP address, `localhost` or a name under
 * `.localhost` (403 otherwise), so that a web page cannot read it through a
 * name of its own pointed at 127.0.0.1 (DNS rebinding). Everything shown is
 * escaped. The page's `Content-Security-Policy` allows its own inline style
 * and script by hash, its own event stream and form, and nothing else; no
 * response may be framed or cached.
 *
 * @example
 * ```ts
 * const stats = new ProxyStats(reactor);
 * const status = new ProxyStatusResource(stats, { clock: reactor, rules: () => filter.rules });
 * root.putChild('_torsion', status);
 * // …before shutting down:
 * status.close();
 * ```
 *
 * @since 0.1.0
 */
export class ProxyStatusResource extends Resource {
  override isLeaf = true;
  /** The statistics shown. */
  readonly stats: ProxyStats;
  /** Seconds between two updates on an event stream. */
  readonly interval: number;
  /** Most event streams open at once. */
  readonly maxStreams: number;
  readonly #clock: IReactorTime;
  readonly #rules: IProxyRulesView | (() => IProxyRulesView | undefined) | undefined;
  readonly #streams = new Set<EventStream>();
  /** Writes to every stream; running while there is one. */
  #loop: LoopingCall | undefined;
  #closed = false;

  /**
   * @param stats - The statistics to show.
   * @param options - The clock, the rules, the update interval and the bound on streams.
   * @throws RangeError for an interval that is not a positive number of
   *   seconds, or a bound that is not a positive integer.
   */
  constructor(stats: ProxyStats, options: ProxyStatusOptions) {
    super();
    const interval = options.interval ?? 1;
    if (typeof interval !== 'number' || !(interval > 0) || !Number.isFinite(interval)) {
      throw new RangeError(
        `ProxyStatusResource: interval must be a positive number of seconds, not ${String(interval)}`,
      );
    }
    const maxStreams = options.maxStreams ?? 16;
    if (!Number.isSafeInteger(maxStreams) || maxStreams < 1) {
      throw new RangeError(
        `ProxyStatusResource: maxStreams must be a positive integer, not ${String(maxStreams)}`,
      );
    }
    this.stats = stats;
    this.interval = interval;
    this.maxStreams = maxStreams;
    this.#clock = options.clock;
    this.#rules = options.rules;
  }

  /** How many event streams are open. */
  get openStreams(): number {
    return this.#streams.size;
  }

  /**
   * Ends every event stream (each response finishes, so the browser sees
   * the stream end) and stops the timer; later event streams are refused
   * (503). Call it before the proxy shuts down: a site waits for its
   * streaming responses when it drains.
   */
  close(): void {
    this.#closed = true;
    this.#stopLoop();
    const streams = [...this.#streams];
    this.#streams.clear();
    for (const stream of streams) this.#end(stream);
  }

  /** Refuses clients that are not on loopback or ask under another name; then renders. */
  override render(request: Request): RenderResult {
    securityHeaders(request);
    if (!isLoopbackAddress(request.getClientAddress())) {
      return this.#error(
        request,
        403,
        'Forbidden',
        'The proxy status page answers only clients on this machine (loopback addresses).',
      );
    }
    const hosts = request.requestHeaders.getRawHeaders('host') ?? [];
    if (hosts.length > 1 || (hosts.length === 1 && !isLocalHostHeader(hosts[0] as string))) {
      return this.#error(
        request,
        403,
        'Forbidden',
        `The proxy status page answers only under an IP address or a localhost name, not under ${JSON.stringify(hosts.join(', '))} (a defence against DNS rebinding). Open it as http://127.0.0.1:<port>/_torsion/ instead.`,
      );
    }
    return super.render(request);
  }

  /** The page, its event stream, its JSON or an explanation, by the rest of the path. */
  render_GET(request: Request): RenderResult {
    const rest = request.postpath;
    if (rest.length === 0) {
      request.redirect(`/${request.prepath.map(encodeURIComponent).join('/')}/`, 301);
      return '';
    }
    if (rest.length === 1) {
      switch (rest[0]) {
        case '':
          return this.#page(request, { kind: 'none' }, 200);
        case 'events':
          return this.#events(request);
        case 'stats.json':
          request.setHeader('Content-Type', 'application/json');
          return `${JSON.stringify(this.#payload())}\n`;
        case 'explain':
          return this.#explain(request);
      }
    }
    return this.#error(request, 404, 'Not Found', 'The status page has no such part.');
  }

  /** The statistics and the rules' summary, as streamed and as `stats.json`. */
  #payload(): ProxyStatusPayload {
    const summary = this.#summary();
    return {
      ...this.stats.snapshot(),
      rules:
        summary === undefined
          ? null
          : { source: summary.source, loadedAt: summary.loadedAt, count: summary.rules.length },
    };
  }

  #view(): IProxyRulesView | undefined {
    const rules = this.#rules;
    if (typeof rules !== 'function') return rules;
    try {
      return rules();
    } catch (error) {
      log.failure('The status page could not get the rules in force', new Failure(error));
      return undefined;
    }
  }

  #summary(): ProxyRulesSummary | undefined {
    const view = this.#view();
    if (view === undefined) return undefined;
    try {
      return view.summary();
    } catch (error) {
      log.failure(
        'The rules could not summarize themselves for the status page',
        new Failure(error),
      );
      return undefined;
    }
  }

  #explain(request: Request): RenderResult {
    const url = (request.args.get('url')?.[0] ?? '').trim();
    if (url === '') {
      return this.#page(
        request,
        { kind: 'error', url, message: 'Give a URL to explain, such as http://example.com/.' },
        400,
      );
    }
    const view = this.#view();
    if (view === undefined) {
      return this.#page(
        request,
        { kind: 'error', url, message: 'No rules are loaded, so no rule applies to any URL.' },
        503,
      );
    }
    let explanation: ProxyExplanation;
    try {
      explanation = view.explain(url);
    } catch (error) {
      if (error instanceof TypeError) {
        return this.#page(
          request,
          { kind: 'error', url, message: `This URL cannot be explained: ${error.message}` },
          400,
        );
      }
      log.failure('The rules failed to explain {url}', new Failure(error), { url });
      return this.#page(
        request,
        {
          kind: 'error',
          url,
          message: 'The rules failed to explain this URL; the error has been logged.',
        },
        500,
      );
    }
    return this.#page(request, { kind: 'result', url, explanation }, 200);
  }

  #events(request: Request): RenderResult {
    if (this.#closed || this.#streams.size >= this.maxStreams) {
      request.setHeader('Retry-After', '5');
      request.setHeader('Content-Type', 'text/plain; charset=utf-8');
      request.setResponseCode(503);
      return this.#closed
        ? 'The proxy is shutting down: its status has no more updates.\n'
        : `Too many status event streams are open (${this.maxStreams}); close a status page and retry.\n`;
    }
    request.setHeader('Content-Type', 'text/event-stream');
    if (request.method === 'HEAD') return '';
    const stream = new EventStream(request, (s) => this.#drop(s));
    this.#streams.add(stream);
    request.notifyFinish().addErrback(() => {
      this.#drop(stream);
      return null;
    });
    request.registerProducer(stream, true);
    // The client waits this long before reconnecting after the stream breaks.
    request.write(`retry: ${Math.round(this.interval * 3000)}\n${this.#message()}`);
    if (this.#loop === undefined) {
      const loop = new LoopingCall(this.#clock, () => this.#tick());
      this.#loop = loop;
      loop.start(this.interval, false).addErrback((failure) => {
        log.failure('The status page stopped updating its event streams', failure);
        if (this.#loop === loop) this.#loop = undefined;
        return null;
      });
    }
    return NOT_DONE_YET;
  }

  /** One `data:` message carrying the payload now. */
  #message(): string {
    return `data: ${JSON.stringify(this.#payload())}\n\n`;
  }

  /** Writes the payload to every stream that is not paused: one snapshot for all. */
  #tick(): void {
    if (this.#streams.size === 0) return;
    const message = Buffer.from(this.#message());
    for (const stream of this.#streams) {
      if (stream.paused) continue;
      try {
        stream.request.write(message);
      } catch (error) {
        // One broken stream (its response ended under it) must not stop the others' updates.
        log.failure('A status event stream failed; it is dropped', new Failure(error));
        this.#drop(stream);
      }
    }
  }

  /** A stream's client went away. */
  #drop(stream: EventStream): void {
    if (!this.#streams.delete(stream)) return;
    if (this.#streams.size === 0) this.#stopLoop();
  }

  #stopLoop(): void {
    const loop = this.#loop;
    this.#loop = undefined;
    if (loop?.running) loop.stop();
  }

  /** Ends a stream's response. */
  #end(stream: EventStream): void {
    const request = stream.request;
    try {
      request.unregisterProducer();
      if (!request.finished) request.finish();
    } catch (error) {
      log.failure('Could not end a status event stream', new Failure(error));
    }
  }

  #error(request: Request, code: number, brief: string, detail: string): string {
    request.setResponseCode(code);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return errorPageHtml(code, brief, detail);
  }

  #page(request: Request, explain: ExplainPart, code: number): string {
    request.setResponseCode(code);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    request.setHeader('Content-Security-Policy', PAGE_CSP);
    const payload = this.#payload();
    const summary = this.#summary();
    return renderPage(payload, summary, explain, this.#view() !== undefined);
  }
}

/** Headers every answer of the status page carries: not sniffed, cached, framed or referred. */
function securityHeaders(request: Request): void {
  request.setHeader('X-Content-Type-Options', 'nosniff');
  request.setHeader('Cache-Control', 'no-store');
  request.setHeader('Referrer-Policy', 'no-referrer');
  request.setHeader('X-Frame-Options', 'DENY');
}

/** The whole page, escaped. */
function renderPage(
  payload: ProxyStatusPayload,
  summary: ProxyRulesSummary | undefined,
  explain: ExplainPart,
  haveRules: boolean,
): string {
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    '<link rel="icon" href="data:,">\n<title>Torsion proxy status</title>\n',
    `<style>${STYLE}</style>\n</head>\n<body>\n`,
    '<header>\n<h1>Torsion proxy</h1>\n',
    `<p class="muted">Updates: <span id="live" class="off">off (counters as of loading)</span> · as of <time id="updated">${escapeHtml(isoTime(payload.time))}</time> · running since ${escapeHtml(isoTime(payload.startedAt))}</p>\n`,
    '</header>\n',
  );

  out.push('<section>\n<h2>Counters</h2>\n<dl class="counters">\n');
  for (const [key, id, label] of COUNTERS) {
    out.push(
      `<div><dt>${escapeHtml(label)}</dt><dd id="${id}">${payload.counters[key]}</dd></div>\n`,
    );
  }
  out.push('</dl>\n</section>\n');

  const values = payload.requestsPerSecond.values;
  let peak = 0;
  for (const v of values) if (v > peak) peak = v;
  out.push(
    `<section>\n<h2>Requests per second, last ${escapeHtml(spanText(values.length))}</h2>\n`,
    `<svg id="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" preserveAspectRatio="none" role="img" aria-label="Requests per second over the last ${escapeHtml(spanText(values.length))}">\n`,
    `<line x1="0" y1="${CHART_HEIGHT - 2}" x2="${CHART_WIDTH}" y2="${CHART_HEIGHT - 2}" stroke="currentColor" stroke-opacity="0.3" stroke-width="1"/>\n`,
    `<polyline id="chart-line" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" points="${chartPoints(values)}"/>\n`,
    '</svg>\n',
    `<p class="axis">Peak <span id="chart-max">${peak}</span>/s · last second <span id="chart-last">${values.length > 0 ? values[values.length - 1] : 0}</span>/s</p>\n`,
    '</section>\n',
  );

  out.push('<section>\n<h2>Hosts blocked most</h2>\n<ol id="top-blocked">\n');
  if (payload.topBlockedHosts.length === 0) out.push('<li class="none muted">none yet</li>\n');
  for (const { host, count } of payload.topBlockedHosts) {
    out.push(
      `<li><span class="host">${escapeHtml(host)}</span> <span class="count">${count}</span></li>\n`,
    );
  }
  out.push('</ol>\n</section>\n');

  out.push('<section>\n<h2>Rules in force</h2>\n');
  if (summary === undefined) {
    out.push(
      `<p id="rules-source" class="muted">${haveRules ? 'The rules are unavailable (see the log).' : 'No rules are loaded: everything passes.'}</p>\n`,
    );
  } else {
    out.push(
      `<p>From <code id="rules-source">${escapeHtml(summary.source)}</code>, loaded <time id="rules-loaded" data-loaded-at="${escapeHtml(String(summary.loadedAt))}">${escapeHtml(isoTime(summary.loadedAt))}</time>; ${summary.rules.length} rule${summary.rules.length === 1 ? '' : 's'}. <span id="rules-reloaded" class="muted" hidden>They have been reloaded since: load this page again to see them.</span></p>\n`,
      `<details${summary.rules.length <= 50 ? ' open' : ''}><summary>The rules, in order (the last match wins)</summary>\n<table id="rules">\n`,
    );
    for (const rule of summary.rules) {
      out.push(
        `<tr><td class="line">${rule.line}</td><td><code>${escapeHtml(rule.text)}</code></td></tr>\n`,
      );
    }
    out.push('</table>\n</details>\n');
  }
  out.push('</section>\n');

  const url = explain.kind === 'none' ? '' : explain.url;
  out.push(
    '<section>\n<h2>Explain a URL</h2>\n',
    '<form id="explain-form" action="explain" method="get">\n',
    `<label>URL <input name="url" type="text" inputmode="url" required placeholder="http://example.com/page" value="${escapeHtml(url)}"></label>\n`,
    '<button type="submit">Explain</button>\n</form>\n',
  );
  if (explain.kind === 'error') {
    out.push(`<p id="explain-error" class="error">${escapeHtml(explain.message)}</p>\n`);
  } else if (explain.kind === 'result') {
    out.push(renderExplanation(explain.explanation));
  }
  out.push('</section>\n', `<script>${SCRIPT}</script>\n</body>\n</html>\n`);
  return out.join('');
}

/** The verdict, the rules that match (the winners marked), and the others folded away. */
function renderExplanation(explanation: ProxyExplanation): string {
  const matched = explanation.steps.filter((s) => s.matched);
  const others = explanation.steps.filter((s) => !s.matched);
  const row = (step: ProxyExplanation['steps'][number]): string =>
    `<tr${step.wins ? ' class="wins"' : ''}><td class="line">${step.rule.line}</td><td><code>${escapeHtml(step.rule.text)}</code></td><td>${step.wins ? 'wins' : step.matched ? 'matches' : 'no match'}</td><td>${escapeHtml(step.reason)}</td></tr>\n`;
  const out: string[] = [
    '<div id="explain-result">\n',
    `<p>For <code id="explain-url">${escapeHtml(explanation.url)}</code>:</p>\n`,
    `<p id="explain-verdict">${escapeHtml(explanation.verdict)}</p>\n`,
  ];
  if (matched.length === 0) {
    out.push('<p class="muted">No rule matches this URL.</p>\n');
  } else {
    out.push(
      '<table id="explain-matches">\n<tr><th>Line</th><th>Rule</th><th></th><th>Why</th></tr>\n',
    );
    for (const step of matched) out.push(row(step));
    out.push('</table>\n');
  }
  if (others.length > 0) {
    out.push(
      `<details><summary>${others.length} rule${others.length === 1 ? ' does' : 's do'} not match</summary>\n<table id="explain-others">\n`,
    );
    for (const step of others) out.push(row(step));
    out.push('</table>\n</details>\n');
  }
  out.push('</div>\n');
  return out.join('');
}
