// CookieJar: an RFC 6265 §5 cookie store for a user agent: Set-Cookie
// parsing (with §5.1.1 dates), the storage model, expiry on a clock,
// eviction, and the Cookie header for a request; persisted as JSON
// (Twisted relies on http.cookiejar.CookieJar).
// Tests: test/unit/web/client-cookie-jar.test.ts, test/integration/web/client-decoding.test.ts

import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { IReactorTime } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { URI } from './uri.js';

const log = new Logger('torsion.web.client.cookies');

/**
 * A cookie as a {@link CookieJar} stores it (RFC 6265 §5.3).
 *
 * @since 0.1.0
 */
export interface Cookie {
  /** The name. */
  readonly name: string;
  /** The value, as the server sent it (quotes kept). */
  readonly value: string;
  /**
   * The host the cookie was set by (when {@link Cookie.hostOnly}), or the
   * domain it applies to with its subdomains: lowercase, in ASCII
   * (punycode), without a leading dot.
   */
  readonly domain: string;
  /** Whether the cookie goes to {@link Cookie.domain} only, not its subdomains (no `Domain` attribute). */
  readonly hostOnly: boolean;
  /** The path it applies to, and below. */
  readonly path: string;
  /**
   * When it expires, in seconds since the epoch; `undefined` for a session
   * cookie (no `Max-Age` or `Expires`), which lives as long as the jar.
   */
  readonly expires: number | undefined;
  /** Sent over https only (`Secure`). */
  readonly secure: boolean;
  /**
   * `HttpOnly` was set. Kept and persisted; it only restricts scripts in a
   * browser, so a client that sends every request over HTTP ignores it.
   */
  readonly httpOnly: boolean;
  /**
   * The `SameSite` attribute, when it named one of the three values (any
   * case). Kept and persisted, not enforced: a non-browser client has no
   * "site" its requests come from.
   */
  readonly sameSite: 'Strict' | 'Lax' | 'None' | undefined;
  /** When it was first stored (kept when a newer cookie replaces it), in clock seconds. */
  readonly creationTime: number;
  /** When it was last sent or stored, in clock seconds. */
  readonly lastAccessTime: number;
}

/**
 * A cookie in a {@link CookieJarJSON}: `expires` is `null` for a session cookie.
 *
 * @since 0.1.0
 */
export interface CookieJSON {
  /** {@inheritDoc Cookie.name} */
  readonly name: string;
  /** {@inheritDoc Cookie.value} */
  readonly value: string;
  /** {@inheritDoc Cookie.domain} */
  readonly domain: string;
  /** {@inheritDoc Cookie.hostOnly} */
  readonly hostOnly: boolean;
  /** {@inheritDoc Cookie.path} */
  readonly path: string;
  /** When it expires, in seconds since the epoch; `null` for a session cookie. */
  readonly expires: number | null;
  /** {@inheritDoc Cookie.secure} */
  readonly secure: boolean;
  /** {@inheritDoc Cookie.httpOnly} */
  readonly httpOnly: boolean;
  /** {@inheritDoc Cookie.sameSite} */
  readonly sameSite?: 'Strict' | 'Lax' | 'None';
  /** {@inheritDoc Cookie.creationTime} */
  readonly creationTime: number;
  /** {@inheritDoc Cookie.lastAccessTime} */
  readonly lastAccessTime: number;
}

/**
 * A {@link CookieJar} as {@link CookieJar.toJSON} gives it and
 * {@link CookieJar.fromJSON} takes it.
 *
 * @since 0.1.0
 */
export interface CookieJarJSON {
  /** The format's version: 1. */
  readonly version: 1;
  /** The cookies, oldest first. */
  readonly cookies: readonly CookieJSON[];
}

/** Options of {@link CookieJar}. */
export interface CookieJarOptions {
  /**
   * The most cookies kept for one {@link Cookie.domain}; past it the least
   * recently used of that domain is dropped. @defaultValue 50 (RFC 6265 §6.1's minimum)
   */
  readonly maxCookiesPerDomain?: number;
  /**
   * The most cookies kept in all; past it the least recently used is
   * dropped. @defaultValue 3000 (RFC 6265 §6.1's minimum)
   */
  readonly maxCookies?: number;
  /**
   * The longest name plus value accepted, in characters; a longer cookie is
   * ignored (RFC 6265bis §5.6 step 4). @defaultValue 4096
   */
  readonly maxCookieSize?: number;
  /**
   * Whether a domain is a public suffix (`com`, `co.uk`), under which no
   * site may set a cookie for all its subdomains. No public-suffix list is
   * shipped: by default only single-label names (`com`, `org`, `local`)
   * count, so `Domain=co.uk` from `a.co.uk` is accepted. Pass a function
   * backed by a list (the `psl` package, say) to refuse those too.
   */
  readonly isPublicSuffix?: (domain: string) => boolean;
}

/** A stored cookie with the order it was first created in. */
interface Entry extends Cookie {
  /** Breaks ties between equal creation times (a clock that did not move). */
  readonly sequence: number;
}

/** The characters RFC 6265 §5.1.1 splits a date on. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: tab is one of them
const DATE_DELIMITERS = /[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/;
const TIME = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D|$)/;
const DAY_OF_MONTH = /^(\d{1,2})(?:\D|$)/;
const YEAR = /^(\d{2,4})(?:\D|$)/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Parses a cookie date by RFC 6265 §5.1.1: the tokens between delimiters
 * give, first come, the time (`hh:mm:ss`), the day of the month, the month
 * (its first three letters, any case) and the year (two-digit years are
 * 1970–2069); the rest is ignored, so `Wed, 09-Jun-21 10:18:14 GMT`,
 * `Sun Nov 6 08:49:37 1994` and `6 Nov 94 08:49:37` all parse.
 *
 * @returns Seconds since the epoch (UTC), or `undefined` when a part is
 *   missing or out of range, or the date does not exist (`31 Feb`).
 * @internal Exported for the tests.
 */
export function parseCookieDate(text: string): number | undefined {
  let time: [number, number, number] | undefined;
  let day: number | undefined;
  let month: number | undefined;
  let year: number | undefined;
  for (const token of text.split(DATE_DELIMITERS)) {
    if (token === '') continue;
    let m: RegExpExecArray | null;
    if (time === undefined && (m = TIME.exec(token)) !== null) {
      time = [Number(m[1]), Number(m[2]), Number(m[3])];
    } else if (day === undefined && (m = DAY_OF_MONTH.exec(token)) !== null) {
      day = Number(m[1]);
    } else if (month === undefined && MONTHS.includes(token.slice(0, 3).toLowerCase())) {
      month = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
    } else if (year === undefined && (m = YEAR.exec(token)) !== null) {
      year = Number(m[1]);
    }
  }
  if (time === undefined || day === undefined || month === undefined || year === undefined) {
    return undefined;
  }
  if (year >= 70 && year <= 99) year += 1900;
  else if (year >= 0 && year <= 69) year += 2000;
  const [hour, minute, second] = time;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second, 0);
  if (date.getUTCDate() !== day) return undefined; // 31 Feb and the like
  return date.getTime() / 1000;
}

/** Removes spaces and tabs (RFC 6265's WSP) at both ends. */
function trimWSP(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Control characters a cookie may not carry (tab aside), as RFC 6265bis §5.6 refuses them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f]/;

/** A Set-Cookie value split by RFC 6265 §5.2. */
interface ParsedSetCookie {
  name: string;
  value: string;
  /** Seconds from now (`Max-Age`), the last valid one. */
  maxAge: number | undefined;
  /** An absolute time (`Expires`), the last valid one. */
  expires: number | undefined;
  /** The last non-empty `Domain`, lowercase, without its leading dot. */
  domain: string | undefined;
  /** The last `Path`, `undefined` when absent or not starting with `/`. */
  path: string | undefined;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'Strict' | 'Lax' | 'None' | undefined;
}

/**
 * Splits a Set-Cookie value by RFC 6265 §5.2.
 *
 * @returns The cookie and its attributes, or a sentence saying why it is
 *   ignored.
 */
function parseSetCookie(header: string): ParsedSetCookie | string {
  const semicolon = header.indexOf(';');
  const pair = semicolon === -1 ? header : header.slice(0, semicolon);
  const equals = pair.indexOf('=');
  if (equals === -1) return 'it has no "=" before its first ";"';
  const name = trimWSP(pair.slice(0, equals));
  const value = trimWSP(pair.slice(equals + 1));
  if (name === '') return 'its name is empty';
  if (CONTROLS.test(name) || CONTROLS.test(value)) return 'it holds control characters';
  const cookie: ParsedSetCookie = {
    name,
    value,
    maxAge: undefined,
    expires: undefined,
    domain: undefined,
    path: undefined,
    secure: false,
    httpOnly: false,
    sameSite: undefined,
  };
  if (semicolon === -1) return cookie;
  for (const av of header.slice(semicolon + 1).split(';')) {
    const eq = av.indexOf('=');
    const attribute = trimWSP(eq === -1 ? av : av.slice(0, eq)).toLowerCase();
    const attributeValue = eq === -1 ? '' : trimWSP(av.slice(eq + 1));
    switch (attribute) {
      case 'expires': {
        const expires = parseCookieDate(attributeValue);
        if (expires !== undefined) cookie.expires = expires;
        break;
      }
      case 'max-age':
        // A leading digit or "-", then digits only; anything else is ignored.
        if (/^-?\d+$/.test(attributeValue)) cookie.maxAge = Number(attributeValue);
        break;
      case 'domain':
        // An empty Domain is ignored (§5.2.3's "SHOULD ignore the cookie-av").
        if (attributeValue !== '') {
          cookie.domain = (
            attributeValue.startsWith('.') ? attributeValue.slice(1) : attributeValue
          ).toLowerCase();
        }
        break;
      case 'path':
        cookie.path = attributeValue.startsWith('/') ? attributeValue : undefined;
        break;
      case 'secure':
        cookie.secure = true;
        break;
      case 'httponly':
        cookie.httpOnly = true;
        break;
      case 'samesite': {
        const lower = attributeValue.toLowerCase();
        cookie.sameSite =
          lower === 'strict'
            ? 'Strict'
            : lower === 'lax'
              ? 'Lax'
              : lower === 'none'
                ? 'None'
                : undefined;
        break;
      }
      default:
        break;
    }
  }
  return cookie;
}

/** The default-path of a request path (RFC 6265 §5.1.4). */
function defaultPath(path: string): string {
  if (!path.startsWith('/')) return '/';
  const last = path.lastIndexOf('/');
  return last === 0 ? '/' : path.slice(0, last);
}

/** Whether `path` is `cookiePath` or below it (RFC 6265 §5.1.4 path-match). */
function pathMatches(path: string, cookiePath: string): boolean {
  if (path === cookiePath) return true;
  if (!path.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || path[cookiePath.length] === '/';
}

/** Whether `host` is `domain` or a name under it (RFC 6265 §5.1.3 domain-match). */
function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  return host.endsWith(`.${domain}`) && isIP(host) === 0;
}

/** The canonical form of a Domain attribute (§5.1.2): ASCII, lowercase. */
function canonicalDomain(domain: string): string {
  if (!/[^\p{ASCII}]/u.test(domain)) return domain;
  return domainToASCII(domain) || domain;
}

const singleLabel = (domain: string): boolean => !domain.includes('.');

/**
 * Cookies, kept as RFC 6265 §5 has a user agent keep them: what
 * `Set-Cookie` headers set, and the `Cookie` header each request gets.
 *
 * @remarks
 * Parsing follows §5.2 and is as lenient as browsers: attribute names in any
 * case, `Expires` by the §5.1.1 date algorithm, `Max-Age` over `Expires`,
 * the last valid value of an attribute winning, a leading dot of `Domain`
 * ignored, a `Path` that does not start with `/` replaced by the request's
 * default path. A cookie is ignored (and logged at debug level) when it has
 * no `=` or no name, control characters, a name and value longer than
 * `maxCookieSize`, or a `Domain` the request's host does not domain-match
 * (a sibling, a subdomain of it, another IP address) or that is a public
 * suffix (see {@link CookieJarOptions.isPublicSuffix}: without a list only
 * single-label names are known) other than the host itself.
 *
 * Storage is §5.3's: a cookie without `Domain` is host-only; one with the
 * same name, domain and path replaces the old one and keeps its creation
 * time; one already expired (`Max-Age=0`, a past `Expires`) just deletes its
 * namesake. `Secure` cookies are kept from any request but only sent over
 * https; `HttpOnly` and `SameSite` are kept, not enforced. Past the limits
 * (`maxCookiesPerDomain` per cookie domain, `maxCookies` in all) the least
 * recently used cookies go first. Time is the clock's `seconds()`, read as
 * seconds since the epoch (a reactor's; a test `Clock` advanced to a date).
 *
 * What RFC 6265bis adds is left out: `Secure` cookies set over http are
 * kept (RFC 6265 allows it; they are still only sent over https), the
 * `__Secure-` and `__Host-` prefixes are not checked, and expiry dates are
 * not capped at 400 days. Its size limit (name and value together) and its
 * refusal of control characters are in.
 *
 * The `Cookie` header is §5.4's: the cookies whose domain, path and
 * `Secure` match the URL, longer paths first, then older first, as
 * `name=value` pairs joined by `; `.
 *
 * @example
 * ```ts
 * const jar = new CookieJar(reactor);
 * jar.setCookie('sid=31d4d96e; Path=/; Secure; HttpOnly', 'https://example.com/login');
 * jar.getCookieHeader('https://example.com/account'); // 'sid=31d4d96e'
 * fs.writeFileSync('cookies.json', JSON.stringify(jar));
 * ```
 *
 * @see Twisted: http.cookiejar.CookieJar, as twisted.web.client.CookieAgent uses it
 * @since 0.1.0
 */
export class CookieJar implements Iterable<Cookie> {
  readonly #clock: Pick<IReactorTime, 'seconds'>;
  readonly #maxPerDomain: number;
  readonly #maxCookies: number;
  readonly #maxCookieSize: number;
  readonly #isPublicSuffix: (domain: string) => boolean;
  /** By `domain`, then `path`, then `name`: one entry per §5.3 identity. */
  readonly #entries = new Map<string, Entry>();
  #sequence = 0;

  /**
   * @param clock - Reads the time (seconds since the epoch) for expiry.
   * @throws RangeError if a limit is not a positive integer.
   */
  constructor(clock: Pick<IReactorTime, 'seconds'>, options: CookieJarOptions = {}) {
    this.#clock = clock;
    this.#maxPerDomain = positive(options.maxCookiesPerDomain ?? 50, 'maxCookiesPerDomain');
    this.#maxCookies = positive(options.maxCookies ?? 3000, 'maxCookies');
    this.#maxCookieSize = positive(options.maxCookieSize ?? 4096, 'maxCookieSize');
    this.#isPublicSuffix = options.isPublicSuffix ?? singleLabel;
  }

  /**
   * Stores the cookie a `Set-Cookie` header value sets, as received in the
   * response to `uri`.
   *
   * @param uri - The URL of the request the response answered.
   * @returns The cookie stored, or `undefined` when it was ignored, or
   *   expired on arrival (deleting a stored one of the same name, domain
   *   and path).
   * @throws InvalidURIError if `uri` is not an http or https URL.
   */
  setCookie(setCookieHeader: string, uri: string | URI): Cookie | undefined {
    const url = typeof uri === 'string' ? URI.fromString(uri) : uri;
    const ignore = (why: string): undefined => {
      log.debug('Ignored the cookie {header} from {url}: {why}', {
        header: setCookieHeader,
        url: url.toString(),
        why,
      });
      return undefined;
    };
    const parsed = parseSetCookie(setCookieHeader);
    if (typeof parsed === 'string') return ignore(parsed);
    if (parsed.name.length + parsed.value.length > this.#maxCookieSize) {
      return ignore(`its name and value are longer than ${this.#maxCookieSize} characters`);
    }
    const now = this.#clock.seconds();
    const host = url.host;
    let domain = parsed.domain === undefined ? '' : canonicalDomain(parsed.domain);
    if (domain !== '' && this.#isPublicSuffix(domain)) {
      if (domain !== host) return ignore(`its Domain ${domain} is a public suffix`);
      domain = '';
    }
    let hostOnly = true;
    if (domain !== '') {
      if (!domainMatches(host, domain)) {
        return ignore(`its Domain ${domain} does not match the host ${host}`);
      }
      hostOnly = false;
    } else {
      domain = host;
    }
    const expires =
      parsed.maxAge !== undefined
        ? parsed.maxAge <= 0
          ? Number.NEGATIVE_INFINITY
          : now + parsed.maxAge
        : parsed.expires;
    const path = parsed.path ?? defaultPath(url.path);
    const key = keyOf(domain, path, parsed.name);
    const old = this.#entries.get(key);
    this.#entries.delete(key);
    if (expires !== undefined && expires <= now) return undefined;
    const entry: Entry = {
      name: parsed.name,
      value: parsed.value,
      domain,
      hostOnly,
      path,
      expires,
      secure: parsed.secure,
      httpOnly: parsed.httpOnly,
      sameSite: parsed.sameSite,
      creationTime: old?.creationTime ?? now,
      lastAccessTime: now,
      sequence: old?.sequence ?? this.#sequence++,
    };
    this.#entries.set(key, entry);
    this.#evict(entry.domain, now);
    return publicCookie(entry);
  }

  /**
   * The cookies to send with a request to `uri`, in the `Cookie` header's
   * order; marks them used.
   *
   * @throws InvalidURIError if `uri` is not an http or https URL.
   */
  getCookies(uri: string | URI): Cookie[] {
    const url = typeof uri === 'string' ? URI.fromString(uri) : uri;
    const now = this.#clock.seconds();
    this.#removeExpired(now);
    const host = url.host;
    const matching: Entry[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.hostOnly ? host !== entry.domain : !domainMatches(host, entry.domain)) continue;
      if (!pathMatches(url.path, entry.path)) continue;
      if (entry.secure && url.scheme !== 'https') continue;
      const used = { ...entry, lastAccessTime: now };
      this.#entries.set(key, used);
      matching.push(used);
    }
    matching.sort(
      (a, b) =>
        b.path.length - a.path.length || a.creationTime - b.creationTime || a.sequence - b.sequence,
    );
    return matching.map(publicCookie);
  }

  /**
   * The `Cookie` header's value for a request to `uri`, or `undefined` if
   * no cookie applies.
   *
   * @throws InvalidURIError if `uri` is not an http or https URL.
   */
  getCookieHeader(uri: string | URI): string | undefined {
    const cookies = this.getCookies(uri);
    if (cookies.length === 0) return undefined;
    return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
  }

  /** The cookies stored and not expired, oldest first. */
  *cookies(): IterableIterator<Cookie> {
    this.#removeExpired(this.#clock.seconds());
    const entries = [...this.#entries.values()].sort((a, b) => a.sequence - b.sequence);
    for (const entry of entries) yield publicCookie(entry);
  }

  /** The same as {@link CookieJar.cookies}. */
  [Symbol.iterator](): IterableIterator<Cookie> {
    return this.cookies();
  }

  /** How many cookies are stored and not expired. */
  get size(): number {
    this.#removeExpired(this.#clock.seconds());
    return this.#entries.size;
  }

  /**
   * Removes cookies: all of them, or those whose {@link Cookie.domain} is
   * `domain` (the exact value, as stored).
   */
  clear(domain?: string): void {
    if (domain === undefined) {
      this.#entries.clear();
      return;
    }
    for (const [key, entry] of this.#entries) {
      if (entry.domain === domain) this.#entries.delete(key);
    }
  }

  /**
   * Removes the session cookies (those without an expiry), as a browser
   * does when it closes.
   */
  clearSession(): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expires === undefined) this.#entries.delete(key);
    }
  }

  /**
   * The cookies not expired, for `JSON.stringify`; session cookies are
   * included (call {@link CookieJar.clearSession} first to leave them out).
   */
  toJSON(): CookieJarJSON {
    return {
      version: 1,
      cookies: [...this.cookies()].map((cookie) => {
        const { sameSite, expires, ...rest } = cookie;
        return {
          ...rest,
          expires: expires ?? null,
          ...(sameSite !== undefined && { sameSite }),
        };
      }),
    };
  }

  /**
   * A jar holding the cookies of a {@link CookieJar.toJSON} result (those
   * expired meanwhile are dropped).
   *
   * @param data - The parsed JSON.
   * @throws TypeError naming the cookie and the field, if `data` is not in
   *   the format.
   */
  static fromJSON(
    clock: Pick<IReactorTime, 'seconds'>,
    data: unknown,
    options: CookieJarOptions = {},
  ): CookieJar {
    const jar = new CookieJar(clock, options);
    if (
      typeof data !== 'object' ||
      data === null ||
      (data as { version?: unknown }).version !== 1
    ) {
      throw new TypeError('not a cookie jar in JSON: expected { version: 1, cookies: [...] }');
    }
    const cookies = (data as { cookies?: unknown }).cookies;
    if (!Array.isArray(cookies))
      throw new TypeError('a cookie jar in JSON: "cookies" is not an array');
    const now = clock.seconds();
    cookies.forEach((item: unknown, index) => {
      const entry = checkCookieJSON(item, index, jar.#sequence++);
      if (entry.expires !== undefined && entry.expires <= now) return;
      jar.#entries.set(keyOf(entry.domain, entry.path, entry.name), entry);
      jar.#evict(entry.domain, now);
    });
    return jar;
  }

  #removeExpired(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expires !== undefined && entry.expires <= now) this.#entries.delete(key);
    }
  }

  /** Drops expired cookies, then the least recently used past the limits (§5.3, last step). */
  #evict(domain: string, now: number): void {
    this.#removeExpired(now);
    const inDomain = [...this.#entries].filter(([, entry]) => entry.domain === domain);
    this.#dropLeastRecentlyUsed(inDomain, inDomain.length - this.#maxPerDomain);
    this.#dropLeastRecentlyUsed([...this.#entries], this.#entries.size - this.#maxCookies);
  }

  #dropLeastRecentlyUsed(entries: [string, Entry][], excess: number): void {
    if (excess <= 0) return;
    entries.sort(([, a], [, b]) => a.lastAccessTime - b.lastAccessTime || a.sequence - b.sequence);
    for (const [key, entry] of entries.slice(0, excess)) {
      log.debug('Evicted the cookie {name} of {domain}: too many cookies', {
        name: entry.name,
        domain: entry.domain,
      });
      this.#entries.delete(key);
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`CookieJar: ${name} must be a positive integer, not ${value}`);
  }
  return value;
}

function keyOf(domain: string, path: string, name: string): string {
  return JSON.stringify([domain, path, name]);
}

function publicCookie(entry: Entry): Cookie {
  const { sequence: _sequence, ...cookie } = entry;
  return cookie;
}

/** Checks one cookie of a jar's JSON. */
function checkCookieJSON(item: unknown, index: number, sequence: number): Entry {
  const where = `cookie ${index} of the jar's JSON`;
  if (typeof item !== 'object' || item === null) throw new TypeError(`${where} is not an object`);
  const c = item as Record<string, unknown>;
  const field = (name: string, type: 'string' | 'boolean' | 'number'): void => {
    if (typeof c[name] !== type || (type === 'number' && !Number.isFinite(c[name]))) {
      throw new TypeError(
        `${where}: "${name}" is not a ${type === 'number' ? 'finite number' : type}`,
      );
    }
  };
  for (const name of ['name', 'value', 'domain', 'path']) field(name, 'string');
  for (const name of ['hostOnly', 'secure', 'httpOnly']) field(name, 'boolean');
  for (const name of ['creationTime', 'lastAccessTime']) field(name, 'number');
  if (c.expires !== null && c.expires !== undefined) field('expires', 'number');
  if (
    c.sameSite !== undefined &&
    c.sameSite !== 'Strict' &&
    c.sameSite !== 'Lax' &&
    c.sameSite !== 'None'
  ) {
    throw new TypeError(`${where}: "sameSite" is not "Strict", "Lax" or "None"`);
  }
  if (c.name === '' || CONTROLS.test(c.name as string) || CONTROLS.test(c.value as string)) {
    throw new TypeError(
      `${where}: the name is empty or the name or value holds control characters`,
    );
  }
  if (!(c.path as string).startsWith('/'))
    throw new TypeError(`${where}: "path" does not start with "/"`);
  return {
    name: c.name as string,
    value: c.value as string,
    domain: (c.domain as string).toLowerCase(),
    hostOnly: c.hostOnly as boolean,
    path: c.path as string,
    expires: typeof c.expires === 'number' ? c.expires : undefined,
    secure: c.secure as boolean,
    httpOnly: c.httpOnly as boolean,
    sameSite: c.sameSite as Cookie['sameSite'],
    creationTime: c.creationTime as number,
    lastAccessTime: c.lastAccessTime as number,
    sequence,
  };
}
