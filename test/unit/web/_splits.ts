// Test support: the same request bytes delivered in one read, one byte at a
// time and at seeded random splits (fast-check), so that every request test
// checks that how the bytes arrive changes nothing (Twisted's
// IProtocol.dataReceived advice: test with differing chunk sizes, down to one
// byte at a time).

import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IResource } from '../../../src/web/resource.js';
import type { SiteOptions } from '../../../src/web/site.js';
import { type Connection, connect } from './_server.js';

/** The seed of the random splits: fixed, so a failure replays. */
export const SPLIT_SEED = 0x7_1157;
/** How many random splits each input gets, besides one read and byte by byte. */
export const SPLIT_RUNS = 20;

/** `data` cut at `points` (offsets, any order, duplicates allowed). */
export function cut(data: Buffer, points: readonly number[]): Buffer[] {
  const sorted = [...new Set(points)].filter((p) => p > 0 && p < data.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of sorted) {
    chunks.push(data.subarray(start, p));
    start = p;
  }
  chunks.push(data.subarray(start));
  return chunks;
}

/**
 * Calls `check` with `input` (latin1 for a string) as one chunk, then one
 * byte per chunk, then cut at {@link SPLIT_RUNS} seeded random sets of points.
 * `how` names the delivery, for assertion messages.
 */
export function forEachSplit(
  input: string | Buffer,
  check: (chunks: Buffer[], how: string) => void,
): void {
  const data = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  check([data], 'one read');
  if (data.length > 1) {
    check(
      Array.from(data, (byte) => Buffer.of(byte)),
      'byte by byte',
    );
  }
  fc.assert(
    fc.property(
      fc.array(fc.nat({ max: Math.max(data.length, 1) }), { maxLength: 16 }),
      (points) => {
        check(cut(data, points), `split at ${JSON.stringify([...points].sort((a, b) => a - b))}`);
      },
    ),
    { seed: SPLIT_SEED, numRuns: SPLIT_RUNS },
  );
}

/**
 * Serves `input` to a new connection on a Site over `makeResource()` in
 * every way {@link forEachSplit} delivers it, asserts that each gives the
 * same bytes out and the same connection state, and returns the connection
 * that got it in one read.
 */
export function serveSplits(
  makeResource: () => IResource,
  input: string | Buffer,
  options: SiteOptions = {},
): Connection {
  let first: Connection | undefined;
  forEachSplit(input, (chunks, how) => {
    const c = connect(makeResource(), options);
    for (const chunk of chunks) c.send(chunk);
    if (first === undefined) {
      first = c;
      return;
    }
    assert.equal(c.output(), first.output(), `the output differs when delivered ${how}`);
    assert.equal(
      c.transport.disconnecting,
      first.transport.disconnecting,
      `the connection state differs when delivered ${how}`,
    );
  });
  return first as Connection;
}
