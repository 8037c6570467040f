// Headers: an HTTP header collection with case-insensitive names that keeps
// order and duplicates, and refuses what could not be sent safely
// (Twisted: twisted.web.http_headers.Headers).
// Tests: test/unit/web/headers.test.ts

import { isTokenString } from './_tokens.js';

interface Entry {
  /** The name as first given. */
  readonly name: string;
  values: string[];
}

/**
 * HTTP header fields: each name (compared case-insensitively) holds its values
 * in the order they were added. Names must be tokens (RFC 9110 §5.6.2) and
 * values must not hold CR, LF or NUL: anything else is refused with a
 * `TypeError` before it is stored, so nothing stored can split a message.
 *
 * @example
 * ```ts
 * const headers = new Headers({ 'Content-Type': ['text/plain'] });
 * headers.addRawHeader('set-cookie', 'a=1');
 * headers.addRawHeader('Set-Cookie', 'b=2');
 * headers.getRawHeaders('SET-COOKIE'); // ['a=1', 'b=2']
 * ```
 */
export class Headers implements Iterable<[name: string, values: string[]]> {
  private readonly entries = new Map<string, Entry>();

  /** A collection holding `init`'s names and values, in its order. */
  constructor(
    init?:
      | Iterable<readonly [string, readonly string[]]>
      | Readonly<Record<string, readonly string[]>>,
  ) {
    if (init === undefined) return;
    const pairs = Symbol.iterator in init ? init : Object.entries(init);
    for (const [name, values] of pairs as Iterable<readonly [string, readonly string[]]>) {
      for (const value of values) this.addRawHeader(name, value);
      if (values.length === 0) this.setRawHeaders(name, []);
    }
  }

  /**
   * @internal Headers from a parsed head, whose names and values the parser
   * has checked already (`[name, value]` pairs in order).
   */
  static _fromParsed(list: readonly (readonly [string, string])[]): Headers {
    const headers = new Headers();
    const entries = headers.entries;
    for (const [name, value] of list) {
      const key = name.toLowerCase();
      const entry = entries.get(key);
      if (entry === undefined) entries.set(key, { name, values: [value] });
      else entry.values.push(value);
    }
    return headers;
  }

  /** @internal Sets `name` (lower case: `key`) to the one value `value`, both known to be valid. */
  _setChecked(name: string, key: string, value: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) this.entries.set(key, { name, values: [value] });
    else entry.values = [value];
  }

  /** @internal Each name with its values, not copied: for serialising a head. */
  _entries(): IterableIterator<{ readonly name: string; readonly values: readonly string[] }> {
    return this.entries.values();
  }

  /** The values of `name` in order (a copy), or `undefined` when there is none. */
  getRawHeaders(name: string): string[] | undefined {
    const entry = this.entries.get(name.toLowerCase());
    return entry === undefined ? undefined : [...entry.values];
  }

  /** Replaces the values of `name` with `values` (all checked first: none is stored if one is refused). */
  setRawHeaders(name: string, values: readonly string[]): void {
    checkName(name);
    for (const value of values) checkValue(name, value);
    const key = name.toLowerCase();
    const entry = this.entries.get(key);
    if (entry === undefined) this.entries.set(key, { name, values: [...values] });
    else entry.values = [...values];
  }

  /** Adds `value` after the values `name` already has. */
  addRawHeader(name: string, value: string): void {
    checkName(name);
    checkValue(name, value);
    const key = name.toLowerCase();
    const entry = this.entries.get(key);
    if (entry === undefined) this.entries.set(key, { name, values: [value] });
    else entry.values.push(value);
  }

  /** Whether `name` is present. */
  hasHeader(name: string): boolean {
    return this.entries.has(name.toLowerCase());
  }

  /** Removes `name` and all its values (nothing happens when it is absent). */
  removeHeader(name: string): void {
    this.entries.delete(name.toLowerCase());
  }

  /** A new collection with the same names and values, in the same order. */
  copy(): Headers {
    const copy = new Headers();
    for (const [key, { name, values }] of this.entries)
      copy.entries.set(key, { name, values: [...values] });
    return copy;
  }

  /** Each name (as first given) with a copy of its values, in the order the names were first added. */
  *[Symbol.iterator](): IterableIterator<[name: string, values: string[]]> {
    for (const { name, values } of this.entries.values()) yield [name, [...values]];
  }
}

function checkName(name: string): void {
  if (!isTokenString(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
}

function checkValue(name: string, value: string): void {
  if (/[\r\n\0]/.test(value)) {
    throw new TypeError(
      `invalid value for header ${name}: CR, LF and NUL are not allowed (${JSON.stringify(value)})`,
    );
  }
}
