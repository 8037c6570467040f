// Query strings and path segments: the WHATWG urlencoded parser's rules
// (splitting, "+", percent-decoding to UTF-8 with U+FFFD, malformed "%"),
// checked case by case and against Node's URLSearchParams for any string.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodePathSegment, parseQueryString } from '../../../src/web/_form.js';

const entries = (m: Map<string, string[]>): [string, string[]][] => [...m];

/**
 * What URLSearchParams makes of `query`, grouped as parseQueryString groups it.
 *
 * Characters outside ASCII are first written as the percent-escapes of their
 * UTF-8 bytes, which the standard's parser reads identically (it
 * percent-decodes the UTF-8 encoding of its input). Node 20's URLSearchParams
 * gets raw non-ASCII text after an invalid escape wrong: `'%e9€'` gives one
 * U+FFFD where the standard, `new URL(…).searchParams` and Python all give
 * U+FFFD then `€`.
 */
function reference(query: string): [string, string[]][] {
  const ascii = query.replace(/[\u0080-\u{10ffff}]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase()}`).join(''),
  );
  const grouped = new Map<string, string[]>();
  // URLSearchParams drops one leading "?", so one is added for it to drop.
  for (const [name, value] of new URLSearchParams(`?${ascii}`)) {
    const values = grouped.get(name);
    if (values === undefined) grouped.set(name, [value]);
    else values.push(value);
  }
  return [...grouped];
}

describe('parseQueryString', () => {
  test('groups repeated names, keeping the order of names and of values', () => {
    assert.deepEqual(entries(parseQueryString('b=2&a=1&b=3&a=4')), [
      ['b', ['2', '3']],
      ['a', ['1', '4']],
    ]);
  });

  test('reads "+" as a space and percent-escapes as UTF-8, in names and values', () => {
    assert.deepEqual(
      entries(parseQueryString('q=a+b%20c&na+me=%C3%A9t%C3%A9&e=%E2%82%AC%F0%9F%98%80')),
      [
        ['q', ['a b c']],
        ['na me', ['été']],
        ['e', ['€😀']],
      ],
    );
    assert.deepEqual(entries(parseQueryString('plus=%2B&amp=%26&eq=%3D')), [
      ['plus', ['+']],
      ['amp', ['&']],
      ['eq', ['=']],
    ]);
  });

  test('splits each piece at its first "=", and gives names without one the value ""', () => {
    assert.deepEqual(entries(parseQueryString('a==b&flag&c=d=e&=v&=')), [
      ['a', ['=b']],
      ['flag', ['']],
      ['c', ['d=e']],
      ['', ['v', '']],
    ]);
  });

  test('skips empty pieces and keeps a leading "?" as part of the first name', () => {
    assert.equal(parseQueryString('').size, 0);
    assert.equal(parseQueryString('&&&').size, 0);
    assert.deepEqual(entries(parseQueryString('&a=1&&b=2&')), [
      ['a', ['1']],
      ['b', ['2']],
    ]);
    assert.deepEqual(entries(parseQueryString('?a=1')), [['?a', ['1']]]);
  });

  test('keeps a "%" not followed by two hex digits as it is', () => {
    assert.deepEqual(entries(parseQueryString('a=%&b=%2&c=%zz&d=%%41&e=100%&f=%4g')), [
      ['a', ['%']],
      ['b', ['%2']],
      ['c', ['%zz']],
      ['d', ['%A']],
      ['e', ['100%']],
      ['f', ['%4g']],
    ]);
  });

  test('decodes invalid UTF-8 to U+FFFD, one per maximal subpart, and keeps a leading BOM', () => {
    assert.deepEqual(entries(parseQueryString('a=%C3&b=%FF%FE&c=%C0%AF&d=%E2%82&e=%EF%BB%BFx')), [
      ['a', ['\uFFFD']],
      ['b', ['\uFFFD\uFFFD']],
      ['c', ['\uFFFD\uFFFD']],
      ['d', ['\uFFFD']],
      ['e', ['\uFEFFx']],
    ]);
  });

  test('keeps characters outside ASCII as they are, and replaces lone surrogates', () => {
    assert.deepEqual(entries(parseQueryString('é=ü+€&\uD800=\uDC00x')), [
      ['é', ['ü €']],
      ['\uFFFD', ['\uFFFDx']],
    ]);
    // An invalid escape before raw text does not swallow it (Node's
    // URLSearchParams does; new URL(...).searchParams does not).
    assert.deepEqual(entries(parseQueryString('a=%E9€&b=%E9\uFEFF')), [
      ['a', ['\uFFFD€']],
      ['b', ['\uFFFD\uFEFF']],
    ]);
  });

  test('gives what URLSearchParams gives for any string', () => {
    const unit = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          '%',
          '+',
          '&',
          '=',
          '2',
          'B',
          'c',
          'F',
          'e',
          '9',
          'C3',
          'A9',
          '?',
        ),
      },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
      { weight: 1, arbitrary: fc.constantFrom('\uD800', '\uDFFF', '\uFEFF', 'é') },
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (query) => {
        assert.deepEqual(entries(parseQueryString(query)), reference(query), JSON.stringify(query));
      }),
      { seed: 0x7e57_f001, numRuns: 3000 },
    );
  });
});

describe('decodePathSegment', () => {
  test('percent-decodes to UTF-8 and leaves "+" alone', () => {
    assert.equal(decodePathSegment('a%20b+c'), 'a b+c');
    assert.equal(decodePathSegment('caf%C3%A9'), 'café');
    assert.equal(decodePathSegment('%2F%2e%2E'), '/..');
    assert.equal(decodePathSegment('plain'), 'plain');
    assert.equal(decodePathSegment(''), '');
  });

  test('keeps malformed "%" and turns invalid UTF-8 into U+FFFD', () => {
    assert.equal(decodePathSegment('%'), '%');
    assert.equal(decodePathSegment('100%'), '100%');
    assert.equal(decodePathSegment('%4'), '%4');
    assert.equal(decodePathSegment('%G0'), '%G0');
    assert.equal(decodePathSegment('%E9t%E9'), '\uFFFDt\uFFFD');
    assert.equal(decodePathSegment('%00'), '\0');
  });

  test('agrees with decodeURIComponent wherever that does not throw', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('%', '2', '5', 'C', '3', 'a', 'F', 'é', '+', '/', 'x') }),
        (s) => {
          let expected: string;
          try {
            expected = decodeURIComponent(s);
          } catch {
            return;
          }
          assert.equal(decodePathSegment(s), expected);
        },
      ),
      { seed: 0x7e57_f002, numRuns: 2000 },
    );
  });

  test('inverts encodeURIComponent, and equals the query parser on a value with "+" and "&" escaped', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
        assert.equal(decodePathSegment(encodeURIComponent(s)), s);
      }),
      { seed: 0x7e57_f003, numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        const escaped = s.replace(/[+&]/g, (c) => (c === '+' ? '%2B' : '%26'));
        assert.equal(decodePathSegment(s), parseQueryString(`x=${escaped}`).get('x')?.[0]);
      }),
      { seed: 0x7e57_f004, numRuns: 1000 },
    );
  });
});
