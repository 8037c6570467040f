// Byte ranges: RFC 9110 §14.1's examples, Twisted's range-parsing tests
// (twisted/web/test/test_static.py RangeTests), satisfiability, clamping,
// coalescing and the abuse limit, and Content-Range values.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { contentRangeHeader, MAX_RANGES, parseRangeHeader } from '../../../src/web/_ranges.js';

const r = (start: number, end: number) => ({ start, end });

describe('parseRangeHeader', () => {
  test("reads RFC 9110 §14.1.2's examples against a 10000-byte representation", () => {
    assert.deepEqual(parseRangeHeader('bytes=0-499', 10000), [r(0, 499)]);
    assert.deepEqual(parseRangeHeader('bytes=500-999', 10000), [r(500, 999)]);
    assert.deepEqual(parseRangeHeader('bytes=-500', 10000), [r(9500, 9999)]);
    assert.deepEqual(parseRangeHeader('bytes=9500-', 10000), [r(9500, 9999)]);
    assert.deepEqual(parseRangeHeader('bytes=0-0,-1', 10000), [r(0, 0), r(9999, 9999)]);
    // Overlapping and adjacent ranges are merged rather than sent twice.
    assert.deepEqual(parseRangeHeader('bytes=500-600,601-999', 10000), [r(500, 999)]);
    assert.deepEqual(parseRangeHeader('bytes=500-700,601-999', 10000), [r(500, 999)]);
  });

  test("reads the ranges of Twisted's tests (test_range, test_rangeMissingStop, test_rangeMissingStart, test_multipleRanges)", () => {
    assert.deepEqual(parseRangeHeader('bytes=2-5', 64), [r(2, 5)]);
    assert.deepEqual(parseRangeHeader('bytes=0-', 64), [r(0, 63)]);
    assert.deepEqual(parseRangeHeader('bytes=-3', 64), [r(61, 63)]);
    // Twisted keeps 1-2 and 3-4 apart; they touch, so they are one range here.
    assert.deepEqual(parseRangeHeader('bytes=1-2,3-4', 64), [r(1, 4)]);
    assert.deepEqual(parseRangeHeader('bytes=1-2,4-5', 64), [r(1, 2), r(4, 5)]);
  });

  test('accepts whitespace around the parts, and empty list elements (test_rangeWithSpace, test_nullRangeElements)', () => {
    for (const value of [
      ' bytes=1-2 ',
      'bytes =1-2 ',
      'bytes= 1-2',
      'bytes=1 -2',
      'bytes=1- 2',
      'bytes=1-2 ',
    ]) {
      assert.deepEqual(parseRangeHeader(value, 64), [r(1, 2)], value);
    }
    assert.deepEqual(parseRangeHeader('bytes=1-2,\t, ,\t', 64), [r(1, 2)]);
    assert.deepEqual(parseRangeHeader('bytes=,1-2', 64), [r(1, 2)]);
  });

  test('takes the unit without regard to case', () => {
    assert.deepEqual(parseRangeHeader('BYTES=0-1', 64), [r(0, 1)]);
    assert.deepEqual(parseRangeHeader('Bytes=0-1', 64), [r(0, 1)]);
  });

  test('ignores (undefined) other units and invalid syntax (test_invalidRanges)', () => {
    for (const value of [
      'bytes',
      'unknown=1-2',
      'items=0-1',
      'bytes=3',
      'bytes=-',
      'bytes=foo-',
      'bytes=-foo',
      'bytes=5-4',
      'bytes=',
      'bytes=,',
      'bytes=1-2,5-4',
      'bytes=1-2,x',
      'bytes=+1-2',
      'bytes=1-+2',
      'bytes=-1-2',
      'bytes=0x1-2',
      'bytes=1.0-2',
      'bytes=1-2-3',
      'bytes=1 2-3',
      'bytes 1-2',
      '',
    ]) {
      assert.equal(parseRangeHeader(value, 64), undefined, value);
    }
  });

  test('clamps ends past the representation and takes a suffix longer than it as all of it', () => {
    assert.deepEqual(parseRangeHeader('bytes=40-100', 64), [r(40, 63)]);
    assert.deepEqual(parseRangeHeader('bytes=0-99999999999999999999', 64), [r(0, 63)]);
    assert.deepEqual(parseRangeHeader('bytes=-100', 64), [r(0, 63)]);
    assert.deepEqual(parseRangeHeader('bytes=63-63', 64), [r(63, 63)]);
  });

  test('is unsatisfiable when no range overlaps the representation (test_invalidStartBytePos)', () => {
    assert.equal(parseRangeHeader('bytes=67-108', 64), 'unsatisfiable');
    assert.equal(parseRangeHeader('bytes=64-', 64), 'unsatisfiable');
    assert.equal(parseRangeHeader('bytes=-0', 64), 'unsatisfiable');
    assert.equal(parseRangeHeader('bytes=64-70,-0,100-', 64), 'unsatisfiable');
    assert.equal(parseRangeHeader('bytes=99999999999999999999-', 64), 'unsatisfiable');
  });

  test('drops the unsatisfiable ranges when another one is satisfiable (test_oneSatisfiableRangeIsEnough)', () => {
    assert.deepEqual(parseRangeHeader('bytes=67-108,-0,10-20', 64), [r(10, 20)]);
  });

  test('finds every range unsatisfiable in an empty representation', () => {
    for (const value of ['bytes=0-', 'bytes=0-0', 'bytes=-1', 'bytes=-100', 'bytes=0-5,-3']) {
      assert.equal(parseRangeHeader(value, 0), 'unsatisfiable', value);
    }
    assert.equal(parseRangeHeader('bytes=5-4', 0), undefined);
  });

  test('sorts and merges several ranges, but returns a single range as asked', () => {
    assert.deepEqual(parseRangeHeader('bytes=50-59,0-9,20-29', 100), [
      r(0, 9),
      r(20, 29),
      r(50, 59),
    ]);
    assert.deepEqual(parseRangeHeader('bytes=0-9,5-14,-90', 100), [r(0, 99)]);
    assert.deepEqual(parseRangeHeader('bytes=0-0,0-0,0-0', 100), [r(0, 0)]);
    assert.deepEqual(parseRangeHeader('bytes=90-,-5', 100), [r(90, 99)]);
  });

  test(`ignores a header with more than ${MAX_RANGES} ranges, and takes exactly ${MAX_RANGES}`, () => {
    const specs = (n: number) => Array.from({ length: n }, (_, i) => `${i * 2}-${i * 2}`).join(',');
    const hundred = parseRangeHeader(`bytes=${specs(MAX_RANGES)}`, 1000);
    assert.ok(Array.isArray(hundred));
    assert.equal(hundred.length, MAX_RANGES);
    assert.equal(parseRangeHeader(`bytes=${specs(MAX_RANGES + 1)}`, 1000), undefined);
    // Also when the ranges overlap nothing or one another.
    assert.equal(
      parseRangeHeader(
        `bytes=${Array(MAX_RANGES + 1)
          .fill('0-0')
          .join(',')}`,
        1000,
      ),
      undefined,
    );
    assert.equal(
      parseRangeHeader(
        `bytes=${Array(MAX_RANGES + 1)
          .fill('5000-')
          .join(',')}`,
        1000,
      ),
      undefined,
    );
  });

  test('never gives overlapping, adjacent, unordered or out-of-bounds ranges, and never throws', () => {
    const spec = fc.oneof(
      fc.tuple(fc.nat(300), fc.nat(300)).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.nat(300).map((a) => `${a}-`),
      fc.nat(300).map((n) => `-${n}`),
    );
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 12 }), fc.nat(256), (specs, size) => {
        const result = parseRangeHeader(`bytes=${specs.join(',')}`, size);
        assert.notEqual(result, undefined, 'valid syntax is never ignored');
        if (result === 'unsatisfiable' || result === undefined) return;
        assert.ok(result.length >= 1);
        for (const [i, range] of result.entries()) {
          assert.ok(Number.isInteger(range.start) && Number.isInteger(range.end));
          assert.ok(0 <= range.start && range.start <= range.end && range.end < size);
          const next = result[i + 1];
          if (next !== undefined) assert.ok(range.end + 1 < next.start, 'ordered, apart');
        }
      }),
      { seed: 0x7e57_a001, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string(), fc.nat(1000), (value, size) => {
        parseRangeHeader(value, size);
        parseRangeHeader(`bytes=${value}`, size);
      }),
      { seed: 0x7e57_a002, numRuns: 1000 },
    );
  });

  test('covers exactly the bytes the ranges ask for within the representation', () => {
    const spec = fc.oneof(
      fc.tuple(fc.nat(100), fc.nat(100)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
      fc.nat(100).map((a) => [a, undefined] as const),
      fc.nat(100).map((n) => [undefined, n] as const),
    );
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 8 }), fc.nat(80), (specs, size) => {
        const wanted = new Set<number>();
        for (const [first, last] of specs) {
          const from = first === undefined ? size - (last ?? 0) : first;
          const to = first === undefined ? size - 1 : (last ?? size - 1);
          for (let b = Math.max(0, from); b <= Math.min(to, size - 1); b++) wanted.add(b);
        }
        const text = specs.map(([a, b]) => `${a ?? ''}-${b ?? ''}`).join(',');
        const result = parseRangeHeader(`bytes=${text}`, size);
        if (wanted.size === 0) {
          assert.equal(result, 'unsatisfiable', text);
          return;
        }
        assert.ok(Array.isArray(result), text);
        const got = new Set<number>();
        for (const { start, end } of result) for (let b = start; b <= end; b++) got.add(b);
        assert.deepEqual(
          [...got].sort((x, y) => x - y),
          [...wanted].sort((x, y) => x - y),
          text,
        );
      }),
      { seed: 0x7e57_a003, numRuns: 2000 },
    );
  });
});

describe('contentRangeHeader', () => {
  test('writes a range with the complete length, and the unsatisfied form for a 416', () => {
    assert.equal(contentRangeHeader(r(0, 9), 100), 'bytes 0-9/100');
    assert.equal(contentRangeHeader(r(40, 63), 64), 'bytes 40-63/64');
    assert.equal(contentRangeHeader(undefined, 100), 'bytes */100');
    assert.equal(contentRangeHeader(undefined, 0), 'bytes */0');
  });
});
