// HTTP-date (RFC 9110 §5.6.7): formatting as IMF-fixdate, parsing the three
// formats a recipient must accept, and a per-second cache of the Date header
// (Twisted: twisted.web.http.datetimeToString, stringToDatetime).
// Tests: test/unit/web/http-date.test.ts

import type { IReactorTime } from '../internet/interfaces.js';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const LONG_DAY_NAMES = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
] as const;
const MONTH_NAMES = [
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
] as const;
const MONTHS = new Map(MONTH_NAMES.map((name, i) => [name.toLowerCase(), i + 1]));
const SHORT_DAYS = new Set(DAY_NAMES.map((name) => name.toLowerCase()));
const LONG_DAYS = new Set<string>(LONG_DAY_NAMES);

/** The greatest time IMF-fixdate can hold: 9999-12-31T23:59:59Z, in seconds. */
const MAX_SECONDS = 253402300799;
/** The least: 0000-01-01T00:00:00Z, in seconds. */
const MIN_SECONDS = -62167219200;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * The IMF-fixdate form of a time, as the `Date`, `Last-Modified` and
 * `Expires` headers carry it: `Sun, 06 Nov 1994 08:49:37 GMT`.
 *
 * @param seconds - Seconds since the epoch; a fraction is dropped (rounded
 *   down), so the result names the second the time falls in.
 * @throws RangeError if `seconds` is not finite or falls outside the years
 *   0000 to 9999, which the format cannot write.
 * @see Twisted: twisted.web.http.datetimeToString
 */
export function formatHttpDate(seconds: number): string {
  const whole = Math.floor(seconds);
  if (!Number.isFinite(whole) || whole < MIN_SECONDS || whole > MAX_SECONDS) {
    throw new RangeError(`formatHttpDate: ${seconds} is outside the years 0000-9999`);
  }
  const d = new Date(whole * 1000);
  const year = String(d.getUTCFullYear()).padStart(4, '0');
  return (
    `${DAY_NAMES[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTH_NAMES[d.getUTCMonth()]} ` +
    `${year} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`
  );
}

// The three grammars of RFC 9110 §5.6.7, anchored so trailing garbage fails.
// Names are matched case-insensitively (as Twisted does); the day name is
// checked to be a day name but not against the date, since it is redundant.
//   IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
//   rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT (four-digit years accepted too)
const RFC850_DATE =
  /^([A-Za-z]{6,9}), (\d{2})-([A-Za-z]{3})-(\d{2}|\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
//   asctime-date: Sun Nov  6 08:49:37 1994 (day is 2DIGIT or SP DIGIT)
const ASCTIME_DATE = /^([A-Za-z]{3}) ([A-Za-z]{3}) (\d{2}| \d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
function daysFromCivil(year: number, month: number, day: number): number {
  // Howard Hinnant's days_from_civil: years start in March so the leap day
  // is the last day of the year.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function toSeconds(
  year: number,
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const month = MONTHS.get(monthName.toLowerCase());
  if (month === undefined) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  // 60 is the leap second the grammar allows; POSIX time has no room for it,
  // so it counts as the first second of the next minute.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

/**
 * The year a two-digit rfc850-date year stands for: RFC 9110 §5.6.7 reads a
 * year that would be more than 50 years in the future as the most recent past
 * year with the same last two digits.
 */
function expandTwoDigitYear(yy: number, now: number): number {
  const current = new Date(Math.floor(now) * 1000).getUTCFullYear();
  let year = current - (current % 100) + yy;
  if (year > current + 50) year -= 100;
  return year;
}

/**
 * Seconds since the epoch of an HTTP-date in any of the three formats RFC 9110
 * §5.6.7 asks recipients to accept, or `undefined` when `value` is not one.
 *
 * @remarks
 * The formats are IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete
 * RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and C's asctime
 * (`Sun Nov  6 08:49:37 1994`). Day and month names are matched without regard
 * to case; the day name must be one but is not checked against the date.
 * Out-of-range fields (`31 Feb`, hour 24), other spacing, other zones than
 * `GMT` and trailing text all give `undefined`. A leap second (`:60`) counts
 * as the next minute's first second.
 *
 * A two-digit RFC 850 year that would be more than 50 years after `now` means
 * the most recent past year ending in those digits, as RFC 9110 requires;
 * a four-digit year is accepted in that form too (Twisted's tests use one).
 *
 * Differences from Twisted: `stringToDatetime` also accepts dates without a
 * day name or without `GMT`, and raises on what it cannot parse; this returns
 * `undefined` for anything outside the three grammars.
 *
 * @param value - The header value, without surrounding whitespace.
 * @param now - The current time in seconds since the epoch, for the two-digit
 *   year rule only; defaults to the system's wall clock.
 * @see Twisted: twisted.web.http.stringToDatetime
 */
export function parseHttpDate(value: string, now?: number): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m !== null) {
    if (!SHORT_DAYS.has(group(m, 1).toLowerCase())) return undefined;
    return toSeconds(num(m, 4), group(m, 3), num(m, 2), num(m, 5), num(m, 6), num(m, 7));
  }
  m = RFC850_DATE.exec(value);
  if (m !== null) {
    if (!LONG_DAYS.has(group(m, 1).toLowerCase())) return undefined;
    let year = num(m, 4);
    if (group(m, 4).length === 2) year = expandTwoDigitYear(year, now ?? Date.now() / 1000);
    return toSeconds(year, group(m, 3), num(m, 2), num(m, 5), num(m, 6), num(m, 7));
  }
  m = ASCTIME_DATE.exec(value);
  if (m !== null) {
    if (!SHORT_DAYS.has(group(m, 1).toLowerCase())) return undefined;
    return toSeconds(num(m, 7), group(m, 2), num(m, 3), num(m, 4), num(m, 5), num(m, 6));
  }
  return undefined;
}

function group(m: RegExpExecArray, i: number): string {
  return m[i] ?? '';
}

function num(m: RegExpExecArray, i: number): number {
  return Number(group(m, i));
}

/**
 * The value of the `Date` header for the current second of a clock, formatted
 * once per second however many responses ask for it.
 *
 * @example
 * ```ts
 * const dates = new HttpDateCache(reactor);
 * request.setHeader('Date', dates.current());
 * ```
 */
export class HttpDateCache {
  readonly #clock: IReactorTime;
  /** The whole second `#value` was formatted for (NaN before the first call). */
  #second = Number.NaN;
  #value = '';

  /** A cache reading the time from `clock`. */
  constructor(clock: IReactorTime) {
    this.#clock = clock;
  }

  /** The IMF-fixdate of `clock.seconds()`, recomputed only when the whole second has changed. */
  current(): string {
    const second = Math.floor(this.#clock.seconds());
    if (second !== this.#second) {
      this.#value = formatHttpDate(second);
      this.#second = second;
    }
    return this.#value;
  }
}
