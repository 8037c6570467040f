// Cookies (RFC 6265): reading a request's Cookie header and writing a
// Set-Cookie value with its attributes, refusing what a user agent would
// misread (Twisted: twisted.web.http.Request.parseCookies, addCookie).
// Tests: test/unit/web/cookies.test.ts

import { formatHttpDate, parseHttpDate } from './_http-date.js';
import { isTokenString } from './_tokens.js';

/**
 * The cookies of a request, from its `Cookie` header values, by name.
 *
 * @remarks
 * Each value is split on `;`; each pair on its first `=`, with the name and
 * the value trimmed of spaces and tabs. A value wrapped in double quotes is
 * unwrapped. A pair without `=` or with an empty name is skipped, and of a
 * name given more than once the first value is kept: RFC 6265 §5.4 has user
 * agents send cookies with longer paths first, so the first is the most
 * specific. Nothing is validated further and nothing throws.
 *
 * Differences from Twisted: `received_cookies` keeps the quotes and the
 * value's trailing spaces, and the last of a repeated name.
 *
 * @param values - The raw `Cookie` header values (`undefined` when absent).
 * @returns A new map from cookie name to value, in order of first appearance.
 * @see Twisted: twisted.web.http.Request.parseCookies
 */
export function parseCookieHeader(values: readonly string[] | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (values === undefined) return cookies;
  for (const header of values) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const name = trimOWS(pair.slice(0, eq));
      if (name === '' || cookies.has(name)) continue;
      let value = trimOWS(pair.slice(eq + 1));
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
        value = value.slice(1, -1);
      }
      cookies.set(name, value);
    }
  }
  return cookies;
}

/** `s` without leading and trailing spaces and tabs (OWS), unlike `trim()` which also takes other whitespace. */
function trimOWS(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === ' ' || s[start] === '\t')) start++;
  while (end > start && (s[end - 1] === ' ' || s[end - 1] === '\t')) end--;
  return s.slice(start, end);
}

/**
 * The attributes of a cookie set with `Request.addCookie`; each one
 * left out is not sent.
 */
export interface CookieOptions {
  /**
   * When the cookie expires: a `Date`, seconds since the epoch, or an
   * HTTP-date string; sent as an IMF-fixdate (`Expires=`).
   */
  readonly expires?: Date | number | string;
  /** The cookie's lifetime in whole seconds (`Max-Age=`); 0 or less removes it at once. */
  readonly maxAge?: number;
  /** The hosts the cookie is sent to: this domain and its subdomains (`Domain=`). */
  readonly domain?: string;
  /** The path prefix of the requests the cookie is sent with (`Path=`). */
  readonly path?: string;
  /** Sends the cookie over secure connections only (`Secure`). */
  readonly secure?: boolean;
  /** Hides the cookie from scripts in the browser (`HttpOnly`). */
  readonly httpOnly?: boolean;
  /** Whether cross-site requests carry the cookie (`SameSite=`); `'None'` requires `secure`. */
  readonly sameSite?: 'Strict' | 'Lax' | 'None';
  /** Keys the cookie to the top-level site (CHIPS, `Partitioned`); requires `secure`. */
  readonly partitioned?: boolean;
}

/** Whether `c` is a cookie-octet (RFC 6265 §4.1.1): US-ASCII but CTLs, whitespace, DQUOTE, comma, semicolon and backslash. */
function isCookieOctet(c: number): boolean {
  return c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x5c;
}

function isCookieValue(value: string): boolean {
  let start = 0;
  let end = value.length;
  if (end >= 2 && value.startsWith('"') && value.endsWith('"')) {
    start = 1;
    end -= 1;
  }
  for (let i = start; i < end; i++) if (!isCookieOctet(value.charCodeAt(i))) return false;
  return true;
}

/** Whether `s` may be an attribute value: printable US-ASCII and space, no `;` (RFC 6265 §4.1.1's av-octets, kept to ASCII). */
function isAttributeValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x3b) return false;
  }
  return true;
}

/** The IMF-fixdate of `expires`, whichever form it is given in. */
function expiresDate(expires: Date | number | string): string {
  let seconds: number | undefined;
  if (expires instanceof Date) seconds = expires.getTime() / 1000;
  else if (typeof expires === 'number') seconds = expires;
  else seconds = parseHttpDate(expires);
  if (seconds !== undefined && Number.isFinite(seconds)) {
    try {
      return formatHttpDate(seconds);
    } catch {
      // Beyond the year 9999: not a date an HTTP-date can write.
    }
  }
  throw new TypeError(`Set-Cookie: expires is not a valid date: ${String(expires)}`);
}

/**
 * A `Set-Cookie` header value: `name=value` followed by the attributes of
 * `options`, in the order Expires, Domain, Path, Max-Age, Secure, HttpOnly,
 * SameSite, Partitioned.
 *
 * @remarks
 * Nothing is escaped or rewritten: a name or value a user agent would read
 * differently is refused instead. Encode other values (for example with
 * `encodeURIComponent`) before calling. `expires` is written as an IMF-fixdate
 * whatever form it is given in.
 *
 * Differences from Twisted: `addCookie` replaces `;` and line breaks with
 * spaces and passes everything else through; it has no `partitioned` and
 * writes `SameSite` in lower case. The `Comment` attribute, gone from RFC
 * 6265, is not offered.
 *
 * @example
 * ```ts
 * serializeSetCookie('session', 'abc123', { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
 * // 'session=abc123; Path=/; Secure; HttpOnly; SameSite=Lax'
 * ```
 *
 * @param name - The cookie's name: an RFC 9110 token.
 * @param value - Its value: cookie-octets (RFC 6265 §4.1.1), optionally in
 *   double quotes; may be empty.
 * @param options - The attributes to send.
 * @throws TypeError naming the problem when `name` is not a token, `value`
 *   holds a byte outside cookie-octet, `domain` or `path` holds `;` or a
 *   character outside printable ASCII, `maxAge` is not an integer, `expires`
 *   is not a valid date, `sameSite` is not one of its three values, or
 *   `sameSite: 'None'` or `partitioned` comes without `secure`.
 * @see Twisted: twisted.web.http.Request.addCookie
 */
export function serializeSetCookie(
  name: string,
  value: string,
  options: CookieOptions = {},
): string {
  if (!isTokenString(name)) {
    throw new TypeError(`Set-Cookie: the name ${JSON.stringify(name)} is not a token`);
  }
  if (!isCookieValue(value)) {
    throw new TypeError(
      `Set-Cookie: the value of ${name} holds a character outside RFC 6265's cookie-octet ` +
        '(control, space, DQUOTE, comma, semicolon, backslash or non-ASCII)',
    );
  }
  let out = `${name}=${value}`;
  const { expires, maxAge, domain, path, secure, httpOnly, sameSite, partitioned } = options;
  if (expires !== undefined) out += `; Expires=${expiresDate(expires)}`;
  if (domain !== undefined) {
    if (!isAttributeValue(domain)) {
      throw new TypeError(
        `Set-Cookie: the domain of ${name} holds ';' or a control or non-ASCII character`,
      );
    }
    out += `; Domain=${domain}`;
  }
  if (path !== undefined) {
    if (!isAttributeValue(path)) {
      throw new TypeError(
        `Set-Cookie: the path of ${name} holds ';' or a control or non-ASCII character`,
      );
    }
    out += `; Path=${path}`;
  }
  if (maxAge !== undefined) {
    if (!Number.isSafeInteger(maxAge)) {
      throw new TypeError(`Set-Cookie: maxAge of ${name} is not an integer: ${maxAge}`);
    }
    out += `; Max-Age=${maxAge}`;
  }
  if (secure === true) out += '; Secure';
  if (httpOnly === true) out += '; HttpOnly';
  if (sameSite !== undefined) {
    if (sameSite !== 'Strict' && sameSite !== 'Lax' && sameSite !== 'None') {
      throw new TypeError(
        `Set-Cookie: sameSite of ${name} must be 'Strict', 'Lax' or 'None', not ${String(sameSite)}`,
      );
    }
    if (sameSite === 'None' && secure !== true) {
      throw new TypeError(
        `Set-Cookie: sameSite 'None' on ${name} requires secure (browsers drop it otherwise)`,
      );
    }
    out += `; SameSite=${sameSite}`;
  }
  if (partitioned === true) {
    if (secure !== true) {
      throw new TypeError(
        `Set-Cookie: partitioned on ${name} requires secure (browsers drop it otherwise)`,
      );
    }
    out += '; Partitioned';
  }
  return out;
}
