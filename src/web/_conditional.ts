// Conditional requests (RFC 9110 §13): evaluating If-Match,
// If-Unmodified-Since, If-None-Match and If-Modified-Since in the order
// §13.2.2 prescribes, and If-Range (Twisted: twisted.web.http.Request's
// setETag, setLastModified and the CACHED result).
// Tests: test/unit/web/conditional.test.ts

import { parseHttpDate } from './_http-date.js';
import type { Headers } from './headers.js';

/** The validators of a resource's current representation. */
export interface Validators {
  /**
   * Its entity tag as the `ETag` header would carry it, quotes included:
   * `"v1"` (strong) or `W/"v1"` (weak).
   */
  readonly etag?: string;
  /** Its modification time in seconds since the epoch; compared in whole seconds. */
  readonly lastModified?: number;
}

interface EntityTag {
  readonly weak: boolean;
  readonly opaque: string;
}

interface TagList {
  readonly wildcard: boolean;
  readonly tags: EntityTag[];
}

/** Whether `c` may appear between an entity tag's quotes (etagc: `!`, `#`-`~`, obs-text). */
function isEtagc(c: number): boolean {
  return c === 0x21 || (c >= 0x23 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

function isOWS(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/**
 * The entity tags of an `If-Match` or `If-None-Match` list, and whether it
 * holds `*`. A malformed element is skipped up to the next comma: it can match
 * nothing, which is the cautious answer for both headers (If-Match fails,
 * If-None-Match lets the request through).
 */
function parseTagList(value: string): TagList {
  const tags: EntityTag[] = [];
  let wildcard = false;
  let i = 0;
  const n = value.length;
  const skipElement = (): void => {
    while (i < n && value[i] !== ',') i++;
  };
  while (i < n) {
    while (i < n && (isOWS(value[i]) || value[i] === ',')) i++;
    if (i >= n) break;
    let tag: EntityTag | '*' | undefined;
    if (value[i] === '*') {
      i++;
      tag = '*';
    } else {
      const weak = value.startsWith('W/', i);
      if (weak) i += 2;
      if (value[i] === '"') {
        const open = i;
        i++;
        while (i < n && value[i] !== '"' && isEtagc(value.charCodeAt(i))) i++;
        if (value[i] === '"') {
          tag = { weak, opaque: value.slice(open + 1, i) };
          i++;
        }
      }
    }
    while (i < n && isOWS(value[i])) i++;
    if (tag === undefined || (i < n && value[i] !== ',')) {
      skipElement();
      continue;
    }
    if (tag === '*') wildcard = true;
    else tags.push(tag);
  }
  return { wildcard, tags };
}

/** The entity tag `etag` stands for, or `undefined` when it is not one. */
function parseEntityTag(etag: string): EntityTag | undefined {
  const list = parseTagList(etag);
  return list.wildcard || list.tags.length !== 1 ? undefined : list.tags[0];
}

/** Strong comparison (§8.8.3.2): both strong and the same opaque tag. */
function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** Weak comparison: the same opaque tag, weak or not. */
function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

/** The values of a header as one list (field lines combine with commas, §5.3), or `undefined`. */
function listHeader(headers: Headers, name: string): string | undefined {
  return headers.getRawHeaders(name)?.join(',');
}

/**
 * The seconds of a date header, or `undefined` when it is absent, invalid or
 * given more than once: §13.1.3 and §13.1.4 have a recipient ignore such.
 */
function dateHeader(headers: Headers, name: string): number | undefined {
  const values = headers.getRawHeaders(name);
  if (values === undefined || values.length !== 1) return undefined;
  return parseHttpDate((values[0] ?? '').replace(/^[ \t]+|[ \t]+$/g, ''));
}

function isGetOrHead(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * What a request's preconditions say about serving it: `'proceed'`, `304`
 * (Not Modified) or `412` (Precondition Failed).
 *
 * @remarks
 * Evaluates the headers in RFC 9110 §13.2.2's order, for a resource that has
 * a current representation with the validators `current`:
 *
 * 1. `If-Match`: `*` holds; otherwise it holds when one of its tags matches
 *    `current.etag` by strong comparison (weak tags never do). False → 412.
 * 2. Only without `If-Match`, `If-Unmodified-Since`: false when
 *    `lastModified` is later than the date → 412.
 * 3. `If-None-Match`: false when it is `*` or one of its tags matches
 *    `current.etag` by weak comparison → 304 for GET and HEAD, 412 for the
 *    other methods.
 * 4. Only without `If-None-Match` and only for GET and HEAD,
 *    `If-Modified-Since`: false when `lastModified` is not later than the date
 *    → 304.
 *
 * A date header that is not a valid HTTP-date, or appears more than once, is
 * ignored, as is a date condition when `lastModified` is unknown. Times are
 * compared in whole seconds (`lastModified` rounded down). Entity-tag lists may
 * span several field lines and hold commas inside quotes; malformed elements
 * match nothing. Methods are compared case-sensitively.
 *
 * Steps 1 and 2 ignore §13.2.1's allowance for a request whose state change
 * has already happened; the caller decides that. Range (step 5) is
 * {@link ifRangeAllows}'s.
 *
 * Differences from Twisted: `setETag` and `setLastModified` each consult one
 * header and only ever answer 304 (or 412 for a failed If-None-Match on an
 * unsafe method); If-Match and If-Unmodified-Since are not supported.
 *
 * @param method - The request method.
 * @param headers - The request headers.
 * @param current - The current representation's validators.
 * @see Twisted: twisted.web.http.Request.setETag, setLastModified
 */
export function evaluatePreconditions(
  method: string,
  headers: Headers,
  current: Validators,
): 'proceed' | 304 | 412 {
  const etag = current.etag === undefined ? undefined : parseEntityTag(current.etag);
  const lastModified =
    current.lastModified === undefined ? undefined : Math.floor(current.lastModified);

  const ifMatch = listHeader(headers, 'If-Match');
  if (ifMatch !== undefined) {
    const list = parseTagList(ifMatch);
    const holds =
      list.wildcard || (etag !== undefined && list.tags.some((t) => strongMatch(t, etag)));
    if (!holds) return 412;
  } else if (lastModified !== undefined) {
    const since = dateHeader(headers, 'If-Unmodified-Since');
    if (since !== undefined && lastModified > since) return 412;
  }

  const ifNoneMatch = listHeader(headers, 'If-None-Match');
  if (ifNoneMatch !== undefined) {
    const list = parseTagList(ifNoneMatch);
    const matches =
      list.wildcard || (etag !== undefined && list.tags.some((t) => weakMatch(t, etag)));
    if (matches) return isGetOrHead(method) ? 304 : 412;
  } else if (isGetOrHead(method) && lastModified !== undefined) {
    const since = dateHeader(headers, 'If-Modified-Since');
    if (since !== undefined && lastModified <= since) return 304;
  }
  return 'proceed';
}

/**
 * Whether a request's `Range` header may be honoured given its `If-Range`
 * (RFC 9110 §13.1.5): true when there is no `If-Range`, when it is a strong
 * entity tag that matches `current.etag` by strong comparison, or when it is
 * an HTTP-date equal (in whole seconds) to `current.lastModified`. A weak tag,
 * a malformed value, or one given more than once never allows it: then the
 * whole representation is sent.
 *
 * @remarks
 * §13.1.5 also asks that a date only be trusted when the modification time
 * is a strong validator (at least a second older than the response's Date);
 * that check is left to the caller, which knows both times.
 *
 * @param headers - The request headers.
 * @param current - The current representation's validators.
 */
export function ifRangeAllows(headers: Headers, current: Validators): boolean {
  const values = headers.getRawHeaders('If-Range');
  if (values === undefined) return true;
  if (values.length !== 1) return false;
  const value = (values[0] ?? '').replace(/^[ \t]+|[ \t]+$/g, '');
  if (value.startsWith('"') || value.startsWith('W/')) {
    const tag = parseEntityTag(value);
    const etag = current.etag === undefined ? undefined : parseEntityTag(current.etag);
    return tag !== undefined && etag !== undefined && strongMatch(tag, etag);
  }
  const date = parseHttpDate(value);
  return (
    date !== undefined &&
    current.lastModified !== undefined &&
    Math.floor(current.lastModified) === date
  );
}
