// Byte ranges (RFC 9110 §14.1-14.4): parsing a request's Range header against
// a representation's size, and the Content-Range value of a response
// (Twisted: twisted.web.static.File._parseRangeHeader, _doRangeRequest).
// Tests: test/unit/web/ranges.test.ts

/** A satisfiable byte range of a representation: offsets from 0, both inclusive. */
export interface ByteRange {
  /** The offset of the first byte. */
  readonly start: number;
  /** The offset of the last byte (inclusive), at most the size less one. */
  readonly end: number;
}

/** More ranges than this in one header and it is ignored (RFC 9110 §14.2 lets a server). */
export const MAX_RANGES = 100;

const DIGITS = /^[0-9]+$/;

/** A range-spec as written: `first-last`, `first-` (last undefined) or `-suffix` (first undefined). */
interface Spec {
  readonly first: number | undefined;
  readonly last: number | undefined;
}

function trimOWS(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** The range-specs of a range-set, or `undefined` if one of them is not valid syntax. */
function parseRangeSet(set: string): Spec[] | undefined {
  const specs: Spec[] = [];
  // The list rule (RFC 9110 §5.6.1) lets empty elements and OWS around commas
  // appear; they are skipped.
  for (const raw of set.split(',')) {
    const element = trimOWS(raw);
    if (element === '') continue;
    const dash = element.indexOf('-');
    if (dash === -1) return undefined;
    const before = trimOWS(element.slice(0, dash));
    const after = trimOWS(element.slice(dash + 1));
    if (before === '') {
      if (!DIGITS.test(after)) return undefined;
      specs.push({ first: undefined, last: Number(after) });
    } else {
      if (!DIGITS.test(before)) return undefined;
      const first = Number(before);
      if (after === '') {
        specs.push({ first, last: undefined });
      } else {
        if (!DIGITS.test(after)) return undefined;
        const last = Number(after);
        // §14.1.1: an int-range whose last-pos is below its first-pos is invalid.
        if (last < first) return undefined;
        specs.push({ first, last });
      }
    }
    if (specs.length > MAX_RANGES) return undefined;
  }
  return specs.length === 0 ? undefined : specs;
}

/**
 * The byte ranges a `Range` header asks of a representation of `size` bytes.
 *
 * @remarks
 * Follows RFC 9110 §14.1-14.2. The outcomes:
 *
 * - `undefined`: ignore the header and send the whole representation (200).
 *   That is the answer for a unit other than `bytes` (compared without regard
 *   to case), for anything that is not valid `bytes=` syntax (including a
 *   range whose last position is below its first), and for more than
 *   {@link MAX_RANGES} ranges.
 * - `'unsatisfiable'`: no range overlaps the representation (416, with the
 *   `Content-Range` that {@link contentRangeHeader} gives for no range). A range
 *   starting at or beyond `size` and a zero-length suffix (`-0`) overlap
 *   nothing; an empty representation satisfies no range at all.
 * - The ranges to send (206), each within `[0, size - 1]`: `first-` runs to
 *   the end, `-n` is the last `n` bytes (the whole representation when it is
 *   shorter), a last position past the end is clamped to `size - 1`, and
 *   ranges that overlap nothing are dropped. One range comes back as asked;
 *   when there are several they are sorted and those that overlap or touch
 *   are merged, so a client cannot make the server send a byte twice or
 *   answer many tiny ranges (§14.2's denial-of-service warning).
 *
 * Whitespace around `=`, `-` and `,` is accepted, as Twisted does.
 *
 * @param value - The `Range` header value.
 * @param size - The representation's length in bytes.
 * @see Twisted: twisted.web.static.File._parseRangeHeader
 */
export function parseRangeHeader(
  value: string,
  size: number,
): ByteRange[] | 'unsatisfiable' | undefined {
  const eq = value.indexOf('=');
  if (eq === -1 || trimOWS(value.slice(0, eq)).toLowerCase() !== 'bytes') return undefined;
  const specs = parseRangeSet(value.slice(eq + 1));
  if (specs === undefined) return undefined;
  const ranges: ByteRange[] = [];
  for (const { first, last } of specs) {
    if (size <= 0) break;
    if (first === undefined) {
      // A suffix: the last `last` bytes.
      if (last === undefined || last === 0) continue;
      ranges.push({ start: Math.max(0, size - last), end: size - 1 });
    } else {
      if (first >= size) continue;
      ranges.push({ start: first, end: last === undefined ? size - 1 : Math.min(last, size - 1) });
    }
  }
  if (ranges.length === 0) return 'unsatisfiable';
  return ranges.length === 1 ? ranges : coalesce(ranges);
}

/** `ranges` sorted by start, with overlapping and adjacent ones merged. */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && r.start <= prev.end + 1) prev.end = Math.max(prev.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/**
 * The `Content-Range` value for a range of a representation of `size` bytes
 * (`bytes 0-9/100`), or for a 416 response when `range` is `undefined`
 * (`bytes *` then a slash and the size: the size alone is known).
 *
 * @param range - The range sent, or `undefined` for an unsatisfiable request.
 * @param size - The representation's length in bytes.
 * @see Twisted: twisted.web.static.File._contentRange
 */
export function contentRangeHeader(range: ByteRange | undefined, size: number): string {
  return range === undefined ? `bytes */${size}` : `bytes ${range.start}-${range.end}/${size}`;
}
