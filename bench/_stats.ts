// The figures the benchmark runners print: medians and numbers formatted
// for tables (shared by bench/run.ts, bench/http-hello.ts and
// bench/http-client.ts).

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A number for a table: thousands grouped from 1,000 on, else three significant digits; `–` if not finite. */
export function format(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}
