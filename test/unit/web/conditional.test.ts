// Conditional requests: each precondition of RFC 9110 §13.1, their order of
// evaluation (§13.2.2), strong and weak comparison (§8.8.3.2's table),
// entity-tag lists with commas inside quotes, ignored dates, and If-Range
// (§13.1.5).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { evaluatePreconditions, ifRangeAllows } from '../../../src/web/_conditional.js';
import { formatHttpDate } from '../../../src/web/_http-date.js';
import { Headers } from '../../../src/web/headers.js';

const T = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
const date = (s: number): string => formatHttpDate(s);
const h = (init: Record<string, string | string[]>): Headers =>
  new Headers(Object.entries(init).map(([k, v]) => [k, typeof v === 'string' ? [v] : v] as const));
const current = { etag: '"a"', lastModified: T };

describe('evaluatePreconditions', () => {
  test('proceeds when the request has no precondition', () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE']) {
      assert.equal(evaluatePreconditions(method, h({}), current), 'proceed');
    }
    assert.equal(evaluatePreconditions('GET', h({}), {}), 'proceed');
  });

  describe('If-Match (step 1)', () => {
    test('holds when a listed tag matches by strong comparison; otherwise 412', () => {
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '"a"' }), current), 'proceed');
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '"x", "a"' }), current), 'proceed');
      assert.equal(
        evaluatePreconditions('PUT', h({ 'If-Match': ['"x"', '"a"'] }), current),
        'proceed',
      );
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '"b"' }), current), 412);
      assert.equal(evaluatePreconditions('GET', h({ 'If-Match': '"b"' }), current), 412);
    });

    test('never matches a weak tag, on either side', () => {
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': 'W/"a"' }), current), 412);
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '"a"' }), { etag: 'W/"a"' }), 412);
    });

    test('"*" holds for any current representation; a tag fails without a current etag', () => {
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '*' }), current), 'proceed');
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '*' }), {}), 'proceed');
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '"a"' }), {}), 412);
    });

    test('reads commas inside quotes as part of the tag', () => {
      const commas = { etag: '"a,b"' };
      assert.equal(
        evaluatePreconditions('PUT', h({ 'If-Match': '"x,y", "a,b"' }), commas),
        'proceed',
      );
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '"a,b"' }), current), 412);
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '"a", "b"' }), commas), 412);
    });

    test('lets malformed elements match nothing, and still reads the valid ones', () => {
      for (const value of ['a', '"a', 'a"', '"a"x', 'W/a', 'w/"a"', '""a"', '"a b"', '']) {
        assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': value }), current), 412, value);
      }
      assert.equal(
        evaluatePreconditions('PUT', h({ 'If-Match': 'junk, "a"' }), current),
        'proceed',
      );
      assert.equal(
        evaluatePreconditions('PUT', h({ 'If-Match': '"x"y, "a"' }), current),
        'proceed',
      );
    });

    test('treats a current etag that is not an entity tag as none', () => {
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': 'a' }), { etag: 'a' }), 412);
      assert.equal(evaluatePreconditions('PUT', h({ 'If-Match': '"a"' }), { etag: 'a' }), 412);
    });
  });

  describe('If-Unmodified-Since (step 2)', () => {
    test('fails with 412 when the resource changed after the date', () => {
      const ius = (s: number) => h({ 'If-Unmodified-Since': date(s) });
      assert.equal(evaluatePreconditions('PUT', ius(T - 1), current), 412);
      assert.equal(evaluatePreconditions('PUT', ius(T), current), 'proceed');
      assert.equal(evaluatePreconditions('PUT', ius(T + 1), current), 'proceed');
      assert.equal(evaluatePreconditions('GET', ius(T - 1), current), 412);
    });

    test('compares whole seconds', () => {
      const ius = h({ 'If-Unmodified-Since': date(T) });
      assert.equal(evaluatePreconditions('PUT', ius, { lastModified: T + 0.9 }), 'proceed');
      assert.equal(evaluatePreconditions('PUT', ius, { lastModified: T + 1 }), 412);
    });

    test('is ignored with If-Match, when invalid or repeated, or without a modification time', () => {
      const stale = date(T - 1);
      assert.equal(
        evaluatePreconditions(
          'PUT',
          h({ 'If-Match': '"a"', 'If-Unmodified-Since': stale }),
          current,
        ),
        'proceed',
      );
      for (const bad of ['yesterday', `${stale} x`, '784111776']) {
        assert.equal(
          evaluatePreconditions('PUT', h({ 'If-Unmodified-Since': bad }), current),
          'proceed',
        );
      }
      assert.equal(
        evaluatePreconditions('PUT', h({ 'If-Unmodified-Since': [stale, stale] }), current),
        'proceed',
      );
      assert.equal(
        evaluatePreconditions('PUT', h({ 'If-Unmodified-Since': stale }), { etag: '"a"' }),
        'proceed',
      );
    });

    test('accepts the obsolete date formats and surrounding whitespace', () => {
      for (const value of ['Sun Nov  6 08:49:36 1994', ' Sun, 06 Nov 1994 08:49:36 GMT\t']) {
        assert.equal(
          evaluatePreconditions('PUT', h({ 'If-Unmodified-Since': value }), current),
          412,
        );
      }
    });
  });

  describe('If-None-Match (step 3)', () => {
    test('matching by weak comparison gives 304 for GET and HEAD, 412 for other methods', () => {
      for (const value of ['"a"', 'W/"a"', '"x", W/"a"', '*']) {
        for (const [etag, label] of [
          ['"a"', 'strong'],
          ['W/"a"', 'weak'],
        ] as const) {
          const headers = h({ 'If-None-Match': value });
          assert.equal(evaluatePreconditions('GET', headers, { etag }), 304, `${value} ${label}`);
          assert.equal(evaluatePreconditions('HEAD', headers, { etag }), 304, `${value} ${label}`);
          assert.equal(evaluatePreconditions('POST', headers, { etag }), 412, `${value} ${label}`);
          assert.equal(evaluatePreconditions('PUT', headers, { etag }), 412, `${value} ${label}`);
        }
      }
    });

    test('proceeds when no tag matches, or there is no current etag (unless "*")', () => {
      assert.equal(
        evaluatePreconditions('GET', h({ 'If-None-Match': '"b", W/"c"' }), current),
        'proceed',
      );
      assert.equal(evaluatePreconditions('GET', h({ 'If-None-Match': '"a"' }), {}), 'proceed');
      assert.equal(evaluatePreconditions('GET', h({ 'If-None-Match': '*' }), {}), 304);
      assert.equal(evaluatePreconditions('GET', h({ 'If-None-Match': 'a' }), current), 'proceed');
    });

    test('compares methods case-sensitively: "get" is not GET', () => {
      assert.equal(evaluatePreconditions('get', h({ 'If-None-Match': '"a"' }), current), 412);
    });
  });

  describe('If-Modified-Since (step 4)', () => {
    test('gives 304 to GET and HEAD when the resource has not changed since the date', () => {
      const ims = (s: number) => h({ 'If-Modified-Since': date(s) });
      assert.equal(evaluatePreconditions('GET', ims(T), current), 304);
      assert.equal(evaluatePreconditions('HEAD', ims(T + 1), current), 304);
      assert.equal(evaluatePreconditions('GET', ims(T - 1), current), 'proceed');
      assert.equal(evaluatePreconditions('GET', ims(T), { lastModified: T + 0.5 }), 304);
    });

    test('is ignored for other methods, with If-None-Match, when invalid or repeated, or without a modification time', () => {
      const fresh = date(T);
      assert.equal(
        evaluatePreconditions('POST', h({ 'If-Modified-Since': fresh }), current),
        'proceed',
      );
      assert.equal(
        evaluatePreconditions(
          'GET',
          h({ 'If-None-Match': '"b"', 'If-Modified-Since': fresh }),
          current,
        ),
        'proceed',
      );
      assert.equal(
        evaluatePreconditions('GET', h({ 'If-Modified-Since': 'now' }), current),
        'proceed',
      );
      assert.equal(
        evaluatePreconditions('GET', h({ 'If-Modified-Since': [fresh, fresh] }), current),
        'proceed',
      );
      assert.equal(
        evaluatePreconditions('GET', h({ 'If-Modified-Since': fresh }), { etag: '"a"' }),
        'proceed',
      );
    });
  });

  test('evaluates in RFC 9110 §13.2.2 order: a failed If-Match or If-Unmodified-Since wins over a 304', () => {
    assert.equal(
      evaluatePreconditions('GET', h({ 'If-Match': '"b"', 'If-None-Match': '"a"' }), current),
      412,
    );
    assert.equal(
      evaluatePreconditions(
        'GET',
        h({ 'If-Unmodified-Since': date(T - 1), 'If-Modified-Since': date(T) }),
        current,
      ),
      412,
    );
    assert.equal(
      evaluatePreconditions('GET', h({ 'If-Match': '"a"', 'If-None-Match': '"a"' }), current),
      304,
    );
  });

  test("follows §8.8.3.2's comparison table (If-Match strong, If-None-Match weak)", () => {
    const table: [string, string, boolean, boolean][] = [
      ['W/"1"', 'W/"1"', false, true],
      ['W/"1"', 'W/"2"', false, false],
      ['W/"1"', '"1"', false, true],
      ['"1"', '"1"', true, true],
    ];
    for (const [a, b, strong, weak] of table) {
      for (const [x, y] of [
        [a, b],
        [b, a],
      ]) {
        assert.equal(
          evaluatePreconditions('GET', h({ 'If-Match': x as string }), { etag: y as string }),
          strong ? 'proceed' : 412,
          `${x} strong ${y}`,
        );
        assert.equal(
          evaluatePreconditions('GET', h({ 'If-None-Match': x as string }), { etag: y as string }),
          weak ? 304 : 'proceed',
          `${x} weak ${y}`,
        );
      }
    }
  });

  test('matches a list of any entity tags, commas and spacing included, exactly when one is the current', () => {
    const opaque = fc.stringMatching(/^[\x21\x23-\x7e]{0,6}$/);
    const tag = fc.tuple(fc.boolean(), opaque, fc.constantFrom('', ' ', '\t', '  '));
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 6 }), opaque, (tags, mine) => {
        const value = tags
          .map(([weak, o, ows]) => `${ows}${weak ? 'W/' : ''}"${o}"${ows}`)
          .join(',');
        const headers = h({ 'If-None-Match': value });
        const expected = tags.some(([, o]) => o === mine) ? 304 : 'proceed';
        assert.equal(evaluatePreconditions('GET', headers, { etag: `"${mine}"` }), expected, value);
        const strong = tags.some(([weak, o]) => !weak && o === mine) ? 'proceed' : 412;
        assert.equal(
          evaluatePreconditions('PUT', h({ 'If-Match': value }), { etag: `"${mine}"` }),
          strong,
          value,
        );
      }),
      { seed: 0x7e57_e001, numRuns: 1000 },
    );
  });

  test('never throws, whatever the header values', () => {
    const value = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !/[\r\n\0]/.test(s));
    fc.assert(
      fc.property(
        value,
        value,
        value,
        value,
        fc.constantFrom('GET', 'PUT'),
        (a, b, c, d, method) => {
          const headers = h({
            'If-Match': a,
            'If-None-Match': b,
            'If-Modified-Since': c,
            'If-Unmodified-Since': d,
          });
          const result = evaluatePreconditions(method, headers, current);
          assert.ok(result === 'proceed' || result === 304 || result === 412);
        },
      ),
      { seed: 0x7e57_e002, numRuns: 500 },
    );
  });
});

describe('ifRangeAllows', () => {
  test('allows the range when there is no If-Range', () => {
    assert.equal(ifRangeAllows(h({}), current), true);
    assert.equal(ifRangeAllows(h({}), {}), true);
  });

  test('allows it for a strong tag that matches strongly, never for a weak one', () => {
    assert.equal(ifRangeAllows(h({ 'If-Range': '"a"' }), current), true);
    assert.equal(ifRangeAllows(h({ 'If-Range': ' "a" ' }), current), true);
    assert.equal(ifRangeAllows(h({ 'If-Range': '"b"' }), current), false);
    assert.equal(ifRangeAllows(h({ 'If-Range': 'W/"a"' }), { etag: 'W/"a"' }), false);
    assert.equal(ifRangeAllows(h({ 'If-Range': '"a"' }), { etag: 'W/"a"' }), false);
    assert.equal(ifRangeAllows(h({ 'If-Range': '"a"' }), { lastModified: T }), false);
  });

  test('allows it for an HTTP-date exactly equal to the modification time in whole seconds', () => {
    assert.equal(ifRangeAllows(h({ 'If-Range': date(T) }), current), true);
    assert.equal(ifRangeAllows(h({ 'If-Range': date(T) }), { lastModified: T + 0.75 }), true);
    assert.equal(ifRangeAllows(h({ 'If-Range': date(T + 1) }), current), false);
    assert.equal(ifRangeAllows(h({ 'If-Range': date(T - 1) }), current), false);
    assert.equal(ifRangeAllows(h({ 'If-Range': date(T) }), { etag: '"a"' }), false);
  });

  test('refuses malformed values, a list, and a repeated header', () => {
    for (const value of ['', '*', 'a', '"a', '"a", "b"', 'yesterday', `${date(T)} x`]) {
      assert.equal(ifRangeAllows(h({ 'If-Range': value }), current), false, value);
    }
    assert.equal(ifRangeAllows(h({ 'If-Range': ['"a"', '"a"'] }), current), false);
  });
});
