// HTTP-date: IMF-fixdate formatting, parsing of RFC 9110 §5.6.7's three
// formats with their range checks and the two-digit-year rule, and the
// per-second Date cache (Twisted: twisted/web/test/test_http.py DateTimeTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Clock } from '../../../src/internet/task/clock.js';
import { formatHttpDate, HttpDateCache, parseHttpDate } from '../../../src/web/_http-date.js';

/** RFC 9110 §5.6.7's example instant, Sun, 06 Nov 1994 08:49:37 GMT. */
const EXAMPLE = 784111777;
/** 2026-01-01T00:00:00Z, a fixed "now" for the two-digit-year rule. */
const NOW_2026 = 1767225600;
const MAX = 253402300799; // 9999-12-31T23:59:59Z

describe('formatHttpDate', () => {
  test("writes RFC 9110's example as IMF-fixdate", () => {
    assert.equal(formatHttpDate(EXAMPLE), 'Sun, 06 Nov 1994 08:49:37 GMT');
    assert.equal(formatHttpDate(0), 'Thu, 01 Jan 1970 00:00:00 GMT');
  });

  test('drops fractions: the result names the second the time falls in', () => {
    assert.equal(formatHttpDate(EXAMPLE + 0.999), 'Sun, 06 Nov 1994 08:49:37 GMT');
    assert.equal(formatHttpDate(-0.5), 'Wed, 31 Dec 1969 23:59:59 GMT');
  });

  test('writes four-digit years from 0000 to 9999 and refuses what lies outside', () => {
    assert.equal(formatHttpDate(MAX), 'Fri, 31 Dec 9999 23:59:59 GMT');
    assert.equal(formatHttpDate(-62167219200), 'Sat, 01 Jan 0000 00:00:00 GMT');
    assert.throws(() => formatHttpDate(MAX + 1), RangeError);
    assert.throws(() => formatHttpDate(-62167219201), RangeError);
    assert.throws(() => formatHttpDate(Number.NaN), RangeError);
    assert.throws(() => formatHttpDate(Number.POSITIVE_INFINITY), RangeError);
  });

  test("agrees with Date's toUTCString for every second of the years 1970-9999", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), (s) => {
        assert.equal(formatHttpDate(s), new Date(s * 1000).toUTCString());
      }),
      { seed: 0x7e57_d001, numRuns: 2000 },
    );
  });
});

describe('parseHttpDate', () => {
  test("reads RFC 9110's example in each of the three formats", () => {
    for (const value of [
      'Sun, 06 Nov 1994 08:49:37 GMT',
      'Sunday, 06-Nov-94 08:49:37 GMT',
      'Sun Nov  6 08:49:37 1994',
    ]) {
      assert.equal(parseHttpDate(value, NOW_2026), EXAMPLE, value);
    }
  });

  test("reads the formats of Twisted's testStringToDatetime that have a day name", () => {
    assert.equal(parseHttpDate('Sunday, 06-Nov-1994 08:49:37 GMT'), EXAMPLE);
    assert.equal(parseHttpDate('Thursday, 29-Sep-16 17:15:29 GMT', NOW_2026), 1475169329);
    // Twisted also guesses dates without a day name; these are not HTTP-dates.
    for (const value of [
      '06 Nov 1994 08:49:37 GMT',
      '06-Nov-94 08:49:37 GMT',
      '06-Nov-1994 08:49:37 GMT',
      'Nov  6 08:49:37 1994',
    ]) {
      assert.equal(parseHttpDate(value, NOW_2026), undefined, value);
    }
  });

  test('reads day and month names without regard to case, and asctime days written with two digits', () => {
    assert.equal(parseHttpDate('SUN, 06 nov 1994 08:49:37 GMT'), EXAMPLE);
    assert.equal(parseHttpDate('sunday, 06-NOV-94 08:49:37 GMT', NOW_2026), EXAMPLE);
    assert.equal(parseHttpDate('Sun Nov 06 08:49:37 1994'), EXAMPLE);
    assert.equal(
      parseHttpDate('Mon Nov 16 08:49:37 1994'),
      EXAMPLE + 10 * 86400,
      'two-digit asctime day',
    );
  });

  test('does not check the day name against the date (it is redundant)', () => {
    assert.equal(parseHttpDate('Mon, 06 Nov 1994 08:49:37 GMT'), EXAMPLE);
  });

  test('reads a two-digit RFC 850 year more than 50 years ahead as the most recent past year', () => {
    // Now is 2026: up to 2076 is "not more than 50 years in the future".
    const year = (yy: string): number => {
      const s = parseHttpDate(`Friday, 01-Jan-${yy} 00:00:00 GMT`, NOW_2026);
      assert.notEqual(s, undefined, yy);
      return new Date((s as number) * 1000).getUTCFullYear();
    };
    assert.equal(year('26'), 2026);
    assert.equal(year('00'), 2000);
    assert.equal(year('76'), 2076);
    assert.equal(year('77'), 1977);
    assert.equal(year('99'), 1999);
    // In 2090 the years read are those of the current century, "95" being
    // only 5 years ahead.
    const now2090 = Date.UTC(2090, 0, 1) / 1000;
    const in2090 = (yy: string): number =>
      new Date(
        (parseHttpDate(`Sunday, 01-Jan-${yy} 00:00:00 GMT`, now2090) as number) * 1000,
      ).getUTCFullYear();
    assert.equal(in2090('30'), 2030);
    assert.equal(in2090('95'), 2095);
  });

  test('accepts a leap day in leap years only, and a leap second as the next minute', () => {
    assert.equal(parseHttpDate('Tue, 29 Feb 2000 00:00:00 GMT'), 951782400);
    assert.equal(parseHttpDate('Thu, 29 Feb 1900 00:00:00 GMT'), undefined);
    assert.equal(parseHttpDate('Sun, 29 Feb 2026 00:00:00 GMT'), undefined);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:60 GMT'), EXAMPLE + 23);
  });

  test('refuses bad names, out-of-range fields, other layouts, zones and trailing text', () => {
    for (const value of [
      '',
      'Sux, 06 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nox 1994 08:49:37 GMT',
      'Sun, 00 Nov 1994 08:49:37 GMT',
      'Sun, 31 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 08:60:37 GMT',
      'Sun, 06 Nov 1994 08:49:61 GMT',
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 94 08:49:37 GMT',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 06 Nov 1994 08:49:37 +0000',
      'Sun, 06 Nov 1994 08:49:37',
      'Sun, 06 Nov 1994 08:49:37 GMT ',
      ' Sun, 06 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 08:49:37 GMTx',
      'Sun,  06 Nov 1994 08:49:37 GMT',
      'Sun 06 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 8:49:37 GMT',
      'Sun, 06-Nov-94 08:49:37 GMT',
      'Sundae, 06-Nov-94 08:49:37 GMT',
      'Sunday, 06-Nov-994 08:49:37 GMT',
      'Sunday, 06 Nov 1994 08:49:37 GMT',
      'Sun Nov 6 08:49:37 1994',
      'Sun Nov  6 08:49:37 94',
      'Sun Nov  6 08:49:37 1994 GMT',
      'Sun Nov  6 08:49:37 1994x',
      'Sun, 06 Nov 1994 08:49:37 GMT\r\n',
      '784111777',
    ]) {
      assert.equal(parseHttpDate(value, NOW_2026), undefined, JSON.stringify(value));
    }
  });

  test('reads back what formatHttpDate writes, for every second of the years 1970-9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), (s) => {
        assert.equal(parseHttpDate(formatHttpDate(s)), s);
      }),
      { seed: 0x7e57_d002, numRuns: 5000 },
    );
  });

  test('reads the asctime form of any second as the same time, and never throws on any string', () => {
    const months = [
      'Jan',
      'Feb',
      'Mar',
      'Apr',
      'May',
      'Jun',
      'Jul',
      'Aug',
      'Sep',
      'Oct',
      'Nov',
      'Dec',
    ];
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    const p2 = (n: number): string => String(n).padStart(2, '0');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), (s) => {
        const d = new Date(s * 1000);
        const asctime =
          `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
          `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
        assert.equal(parseHttpDate(asctime), s, asctime);
      }),
      { seed: 0x7e57_d003, numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string(), (value) => {
        const s = parseHttpDate(value, NOW_2026);
        assert.ok(s === undefined || Number.isInteger(s));
      }),
      { seed: 0x7e57_d004, numRuns: 1000 },
    );
  });
});

describe('HttpDateCache', () => {
  test("gives the IMF-fixdate of the clock's current whole second", () => {
    const clock = new Clock(EXAMPLE);
    const dates = new HttpDateCache(clock);
    assert.equal(dates.current(), 'Sun, 06 Nov 1994 08:49:37 GMT');
    clock.advance(0.999);
    assert.equal(dates.current(), 'Sun, 06 Nov 1994 08:49:37 GMT');
    clock.advance(0.001);
    assert.equal(dates.current(), 'Sun, 06 Nov 1994 08:49:38 GMT');
    clock.advance(3600);
    assert.equal(dates.current(), 'Sun, 06 Nov 1994 09:49:38 GMT');
  });

  test('follows a clock that goes back', () => {
    let now = EXAMPLE + 10;
    const clock = { seconds: () => now } as unknown as Clock;
    const dates = new HttpDateCache(clock);
    assert.equal(dates.current(), 'Sun, 06 Nov 1994 08:49:47 GMT');
    now = EXAMPLE;
    assert.equal(dates.current(), 'Sun, 06 Nov 1994 08:49:37 GMT');
  });
});
