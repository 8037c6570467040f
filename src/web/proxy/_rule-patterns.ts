// Internal: the host patterns of the proxy's rules (`example.com`,
// `.example.com`, `ad*.example.com`, `*:25`, `example.com/ads/`), parsed,
// matched and explained; and the approximate "site" of a host that tells
// first-party requests from third-party ones.
// Tests: test/unit/web/proxy/rules.test.ts

import { isIP } from 'node:net';

/**
 * A parsed pattern. `kind` says how the host part matches:
 * - `any`: every host (`*`);
 * - `exact`: the host `host` only;
 * - `domain`: `host` and all its subdomains (written `.example.com`);
 * - `wildcard`: the host matches `regex` (written with `*` in labels).
 */
export interface HostPattern {
  readonly kind: 'any' | 'exact' | 'domain' | 'wildcard';
  /** The pattern as written. */
  readonly text: string;
  /** The host part, lower case: the exact host, the domain (no leading dot), or the wildcard. */
  readonly host: string;
  /** For `wildcard`: the compiled host matcher. */
  readonly regex: RegExp | undefined;
  /**
   * For `wildcard`: a label without `*` that every matching host has as one
   * of its labels (the longest such), by which the rule is indexed; absent
   * when every label has a `*`.
   */
  readonly keyLabel: string | undefined;
  /**
   * For `wildcard`: the characters before its first `*`, which every host
   * it matches starts with (`''` when it starts with `*` or a dot): a quick
   * test before the regular expression.
   */
  readonly prefix: string;
  /**
   * For a `wildcard` with one `*` and no leading dot, the same test without
   * the regular expression: the host is `prefix`, a middle part, `suffix`;
   * the middle holds no dot, or (`multi`: a whole first or last `*` label)
   * is one or more labels.
   */
  readonly glob:
    | { readonly prefix: string; readonly suffix: string; readonly multi: boolean }
    | undefined;
  /**
   * For a wildcard `*.LABELS.*` (no other `*`, no leading dot): `.LABELS.`,
   * which the host must hold between one or more labels on each side.
   */
  readonly infix: string | undefined;
  /** The port the pattern asks for; `undefined`: any port. */
  readonly port: number | undefined;
  /** The path prefix the pattern asks for (starts with `/`); `undefined`: any path. */
  readonly path: string | undefined;
}

/** What a pattern is compared with: a request's destination. */
export interface PatternTarget {
  readonly host: string;
  readonly port: number;
  /** Path and query; `''` for a `CONNECT` tunnel (which has none). */
  readonly path: string;
}

const LABEL = /^[a-z0-9_*-]+$/;

/**
 * Parses a pattern.
 *
 * @returns The pattern, or a string saying what is wrong with it.
 */
export function parsePattern(text: string): HostPattern | string {
  const bad = (why: string): string => `bad pattern ${JSON.stringify(text)}: ${why}`;
  const scheme = text.indexOf('://');
  if (scheme >= 0) {
    return bad(`a pattern has no scheme (write ${JSON.stringify(text.slice(scheme + 3))})`);
  }
  const slash = text.indexOf('/');
  const hostPort = slash < 0 ? text : text.slice(0, slash);
  const path = slash < 0 ? undefined : text.slice(slash);
  if (path !== undefined && /[\0-\x20\x7f]/.test(path)) {
    return bad('control characters or spaces in the path');
  }
  let hostText: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    // An IPv6 address, bracketed as in a URL: an exact host only.
    const close = hostPort.indexOf(']');
    if (close < 0) return bad('"[" without "]"');
    hostText = hostPort.slice(1, close).toLowerCase();
    if (isIP(hostText) !== 6) return bad(`${JSON.stringify(hostText)} is not an IPv6 address`);
    const rest = hostPort.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return bad(`unexpected ${JSON.stringify(rest)} after "]"`);
      portText = rest.slice(1);
    }
  } else {
    const colon = hostPort.indexOf(':');
    hostText = (colon < 0 ? hostPort : hostPort.slice(0, colon)).toLowerCase();
    portText = colon < 0 ? undefined : hostPort.slice(colon + 1);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) {
      return bad(`bad port ${JSON.stringify(portText)} (a port is 1 to 65535)`);
    }
  }
  const common = {
    text,
    port,
    path,
    regex: undefined,
    keyLabel: undefined,
    prefix: '',
    glob: undefined,
    infix: undefined,
  };
  if (hostText === '') return bad('no host (write * for every host)');
  if (hostPort.startsWith('[')) return { ...common, kind: 'exact', host: hostText };
  if (hostText === '*') return { ...common, kind: 'any', host: '*' };
  const domain = hostText.startsWith('.');
  const name = domain ? hostText.slice(1) : hostText;
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '') return bad('empty label');
    if (!LABEL.test(label)) {
      const c = /[^a-z0-9_*-]/.exec(label)?.[0] ?? label;
      return bad(`${JSON.stringify(c)} cannot appear in a host`);
    }
  }
  if (!name.includes('*')) return { ...common, kind: domain ? 'domain' : 'exact', host: name };
  return {
    ...common,
    kind: 'wildcard',
    host: hostText,
    regex: wildcardRegex(labels, domain),
    keyLabel: keyLabel(labels),
    prefix: domain ? '' : name.slice(0, name.indexOf('*')),
    glob: domain ? undefined : globOf(name, labels),
    infix: domain ? undefined : infixOf(name, labels),
  };
}

/** A regular expression's source for `text`, with its special characters escaped. */
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

/**
 * The matcher of a wildcard host: a `*` inside a label stands for any
 * characters but a dot; a label that is only `*`, first or last in a pattern
 * of several labels, stands for one or more whole labels; a leading dot adds
 * any subdomains.
 */
function wildcardRegex(labels: readonly string[], domain: boolean): RegExp {
  const last = labels.length - 1;
  const parts = labels.map((label, i) =>
    label === '*' && last > 0 && (i === 0 || i === last)
      ? '[^.]+(?:\\.[^.]+)*'
      : label.split('*').map(escapeRegex).join('[^.]*'),
  );
  return new RegExp(`^${domain ? '(?:[^.]+\\.)*' : ''}${parts.join('\\.')}$`);
}

/** The regex-free form of a wildcard with one `*` (see {@link HostPattern.glob}), else `undefined`. */
function globOf(
  name: string,
  labels: readonly string[],
): { prefix: string; suffix: string; multi: boolean } | undefined {
  const star = name.indexOf('*');
  if (name.indexOf('*', star + 1) >= 0) return undefined;
  const last = labels.length - 1;
  const multi = last > 0 && (labels[0] === '*' || labels[last] === '*');
  return { prefix: name.slice(0, star), suffix: name.slice(star + 1), multi };
}

/** The `.LABELS.` of a wildcard `*.LABELS.*` (see {@link HostPattern.infix}), else `undefined`. */
function infixOf(name: string, labels: readonly string[]): string | undefined {
  const last = labels.length - 1;
  if (last < 2 || labels[0] !== '*' || labels[last] !== '*') return undefined;
  const middle = name.slice(1, -1);
  return middle.includes('*') ? undefined : middle;
}

/** Whether `host` matches `*${infix}*`, whose stars are one or more labels each. */
function infixMatches(infix: string, host: string): boolean {
  // Labels on either side must not be empty: a host with an empty label
  // (leading, trailing or double dot) could place the infix wrongly.
  if (
    host.charCodeAt(0) === 0x2e ||
    host.charCodeAt(host.length - 1) === 0x2e ||
    host.includes('..')
  ) {
    return false;
  }
  const at = host.indexOf(infix, 1);
  return at > 0 && at + infix.length < host.length;
}

/** Whether `host` matches a glob (see {@link HostPattern.glob}). */
function globMatches(
  g: { readonly prefix: string; readonly suffix: string; readonly multi: boolean },
  host: string,
): boolean {
  const start = g.prefix.length;
  const end = host.length - g.suffix.length;
  if (end < start || !host.startsWith(g.prefix) || !host.endsWith(g.suffix)) return false;
  if (!g.multi) {
    const dot = host.indexOf('.', start);
    return dot < 0 || dot >= end;
  }
  // One or more labels, none empty.
  if (end === start || host.charCodeAt(start) === 0x2e || host.charCodeAt(end - 1) === 0x2e) {
    return false;
  }
  const dots = host.indexOf('..', start);
  return dots < 0 || dots + 1 >= end;
}

/** The longest label without `*`, which every host the wildcard matches has. */
function keyLabel(labels: readonly string[]): string | undefined {
  let key: string | undefined;
  for (const label of labels) {
    if (!label.includes('*') && (key === undefined || label.length > key.length)) key = label;
  }
  return key;
}

/** Whether `host` (lower case, no trailing dot) matches the host part of `p`. */
export function hostMatches(p: HostPattern, host: string): boolean {
  switch (p.kind) {
    case 'any':
      return true;
    case 'exact':
      return host === p.host;
    case 'domain':
      return (
        host === p.host ||
        (host.length > p.host.length &&
          host.endsWith(p.host) &&
          host.charCodeAt(host.length - p.host.length - 1) === 0x2e)
      );
    default:
      if (p.glob !== undefined) return globMatches(p.glob, host);
      if (p.infix !== undefined) return infixMatches(p.infix, host);
      return host.startsWith(p.prefix) && (p.regex as RegExp).test(host);
  }
}

/** Whether `target` matches `p`: host, then port, then path. */
export function patternMatches(p: HostPattern, target: PatternTarget): boolean {
  if (p.port !== undefined && p.port !== target.port) return false;
  if (p.path !== undefined && !target.path.startsWith(p.path)) return false;
  return hostMatches(p, target.host);
}

/** Whether `target` matches `p`, and why, in a short sentence. */
export function explainPattern(
  p: HostPattern,
  target: PatternTarget,
): { matched: boolean; reason: string } {
  const host = target.host;
  let why: string;
  if (!hostMatches(p, host)) {
    switch (p.kind) {
      case 'exact':
        why = `the host ${host} is not ${p.host}`;
        break;
      case 'domain':
        why = `${host} is not in the domain ${p.host}`;
        break;
      default:
        why = `${host} does not match the wildcard ${p.host}`;
    }
    return { matched: false, reason: why };
  }
  switch (p.kind) {
    case 'any':
      why = 'every host matches *';
      break;
    case 'exact':
      why = `the host is ${host}`;
      break;
    case 'domain':
      why = host === p.host ? `${host} is the domain itself` : `${host} is in the domain ${p.host}`;
      break;
    default:
      why = `${host} matches the wildcard ${p.host}`;
  }
  if (p.port !== undefined) {
    if (p.port !== target.port) {
      return { matched: false, reason: `the port is ${target.port}, not ${p.port}` };
    }
    why += `, on port ${p.port}`;
  }
  if (p.path !== undefined) {
    if (target.path === '') {
      return { matched: false, reason: `a CONNECT tunnel has no path to compare with ${p.path}` };
    }
    if (!target.path.startsWith(p.path)) {
      return {
        matched: false,
        reason: `the path ${target.path} does not start with ${p.path}`,
      };
    }
    why += `, and the path starts with ${p.path}`;
  }
  return { matched: true, reason: why };
}

/** Second-level labels under which country domains register names (`example.co.uk`). */
const COUNTRY_SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gov', 'ne', 'net', 'or', 'org']);

/**
 * The "site" of a host, approximately its registrable domain: the last two
 * labels (`news.example.com` → `example.com`), three under a country's usual
 * second-level labels (`www.example.co.uk` → `example.co.uk`); an IP address
 * is its own site.
 *
 * @remarks
 * No public-suffix list ships with the package: hosts under suffixes such as
 * `github.io` are taken as one site. Good enough to tell a page's own
 * requests from third parties in the common case.
 */
export function siteOf(host: string): string {
  // An IPv6 address, or an IPv4 one (a DNS name does not end in a digit).
  const end = host.charCodeAt(host.length - 1);
  if (host.includes(':') || (end >= 0x30 && end <= 0x39 && /^[\d.]+$/.test(host))) return host;
  const last = host.lastIndexOf('.');
  if (last <= 0) return host;
  const second = host.lastIndexOf('.', last - 1);
  if (second < 0) return host;
  const tld = host.slice(last + 1);
  const sld = host.slice(second + 1, last);
  if (tld.length === 2 && COUNTRY_SECOND_LEVEL.has(sld)) {
    const third = host.lastIndexOf('.', second - 1);
    return third < 0 ? host : host.slice(third + 1);
  }
  return host.slice(second + 1);
}

/**
 * The origin (`https://example.com:8443`) and host (as {@link normalHost}
 * gives it) of an `http:` or `https:` URL, as `new URL(url)` would give
 * them; `undefined` for what is not such a URL.
 *
 * @remarks
 * A `Referer` is read on every request: the common form (lower case, no
 * user info, no default port, a DNS name) is read directly, anything else
 * through `URL`.
 */
export function originOf(url: string): { origin: string; host: string } | undefined {
  const start = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : 0;
  if (start > 0) {
    let end = start;
    let colon = -1;
    let simple = true;
    for (; end < url.length; end++) {
      const c = url.charCodeAt(end);
      if (c === 0x2f || c === 0x3f || c === 0x23) break; // / ? #
      if (c === 0x3a) {
        if (colon >= 0) simple = false;
        colon = end;
      } else if (
        !((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e)
      ) {
        simple = false;
      }
    }
    const hostEnd = colon < 0 ? end : colon;
    const host = url.slice(start, hostEnd);
    const port = colon < 0 ? '' : url.slice(colon + 1, end);
    const lastDot = host.lastIndexOf('.');
    if (
      simple &&
      host !== '' &&
      // A last label that starts with a digit makes an IPv4 address (or an
      // invalid URL): left to URL, as is a trailing dot.
      /^[a-z]/.test(host.slice(lastDot + 1)) &&
      !host.startsWith('.') &&
      !host.includes('..') &&
      !host.includes('xn--') &&
      (colon < 0 ||
        (/^[1-9]\d{0,4}$/.test(port) &&
          Number(port) <= 65535 &&
          port !== (start === 8 ? '443' : '80')))
    ) {
      return { origin: url.slice(0, end), host };
    }
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  return { origin: u.origin, host: normalHost(u.hostname) };
}

/** `host` lower case, without IPv6 brackets and without a trailing dot. */
export function normalHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}
