// Write-buffer limits (asyncio's set_write_buffer_limits): their defaults
// and the checks every transport that takes them applies. No Node imports,
// so the test doubles use it too.
// Tests: test/unit/internet/write-limits.test.ts, test/integration/tcp-write-limits.test.ts

import type { WriteBufferLimitOptions, WriteBufferLimits } from './interfaces.js';

/** The default high mark, bytes (Twisted's FileDescriptor.bufferSize). @internal */
export const DEFAULT_WRITE_HIGH = 64 * 1024;

/** The default low mark, bytes: a quarter of the high mark, as asyncio. @internal */
export const DEFAULT_WRITE_LOW = 16 * 1024;

function checkMark(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
    throw new RangeError(`${name} must be a whole number of bytes, at least 0, got ${value}`);
  }
}

/**
 * The limits `options` ask for, with asyncio's defaults: `high` 64 KiB, or
 * 4 × `low` when only `low` is given; `low` a quarter of `high`.
 *
 * @throws RangeError if a mark is negative or not a whole number, or `low`
 *   is above `high`.
 * @internal
 */
export function resolveWriteBufferLimits(options: WriteBufferLimitOptions = {}): WriteBufferLimits {
  const { high: askedHigh, low: askedLow } = options;
  checkMark(askedHigh, 'high');
  checkMark(askedLow, 'low');
  const high = askedHigh ?? (askedLow === undefined ? DEFAULT_WRITE_HIGH : 4 * askedLow);
  const low = askedLow ?? Math.floor(high / 4);
  if (low > high) throw new RangeError(`low (${low}) must not be above high (${high})`);
  return { high, low };
}
