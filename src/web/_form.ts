// Query strings and path segments: the WHATWG URL standard's
// application/x-www-form-urlencoded parser and percent-decoding to UTF-8
// (Twisted: twisted.web.http.parse_qs, urllib.parse.unquote).
// Tests: test/unit/web/form.test.ts

// "UTF-8 decode without BOM": a leading U+FEFF is data, not a byte-order
// mark, and invalid sequences become U+FFFD (maximal subparts, as WHATWG).
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * `s` percent-decoded (WHATWG URL §1.3): `s` is taken as UTF-8, each `%XX`
 * becomes the byte XX, a `%` not followed by two hex digits stays, and the
 * bytes are decoded as UTF-8. With `plusIsSpace`, `+` is a space first.
 */
function percentDecode(s: string, plusIsSpace: boolean): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 || c >= 0x80 || (plusIsSpace && c === 0x2b)) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  // Buffer.from writes a lone surrogate as EF BF BD, as the standard's UTF-8
  // encode of a scalar value string does.
  const input = Buffer.from(s, 'utf8');
  const out = new Uint8Array(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const b = input[i] as number;
    if (b === 0x25 && i + 2 < input.length) {
      const hi = hexValue(input[i + 1] as number);
      const lo = hexValue(input[i + 2] as number);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = plusIsSpace && b === 0x2b ? 0x20 : b;
  }
  return UTF8.decode(out.subarray(0, n));
}

/**
 * The names and values of an `application/x-www-form-urlencoded` string, as
 * the WHATWG URL standard's parser reads it: the same pairs, in the same
 * order, as `new URLSearchParams('?' + query)`.
 *
 * @remarks
 * `query` is split on `&`; empty pieces are skipped. Each piece splits at its
 * first `=` into name and value (a piece without `=` is a name with the value
 * `''`); in both, `+` is a space and percent-escapes are decoded as UTF-8, with
 * U+FFFD for invalid sequences; a `%` not followed by two hex digits is kept
 * as it is. A leading `?` is not removed: pass what follows it.
 *
 * Differences from Twisted: `request.args` comes from `parse_qs` with blank
 * values kept, which also splits on `;` in older Pythons and yields bytes.
 *
 * @param query - The query string (the part of the target after `?`), or a
 *   form body decoded as latin1 or UTF-8.
 * @returns A new map from each name to its values, both in order of appearance.
 * @see Twisted: twisted.web.http.parse_qs
 */
export function parseQueryString(query: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  if (query === '') return result;
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = percentDecode(eq === -1 ? piece : piece.slice(0, eq), true);
    const value = eq === -1 ? '' : percentDecode(piece.slice(eq + 1), true);
    const values = result.get(name);
    if (values === undefined) result.set(name, [value]);
    else values.push(value);
  }
  return result;
}

/**
 * A path segment percent-decoded: each `%XX` is the byte XX, the bytes are
 * read as UTF-8 (U+FFFD for invalid sequences), and a `%` not followed by two
 * hex digits stays as it is. `+` is left alone: it means a space only in
 * query strings.
 *
 * @remarks
 * A decoded segment may hold `/`, NUL or `..`-like text that the raw one did
 * not; code that maps segments to files must check the decoded form.
 *
 * @param segment - One segment of a request path, between slashes.
 * @see Twisted: urllib.parse.unquote as twisted.web.server.Request.process uses it
 */
export function decodePathSegment(segment: string): string {
  return percentDecode(segment, false);
}
