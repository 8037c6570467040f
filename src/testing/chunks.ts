// Delivering bytes to a protocol in chunks of every size, as IProtocol's
// contract asks protocol tests to do (Twisted's "for i in range(1, 10)" loops).
// Tests: test/unit/testing/chunks.test.ts

import type { IProtocol } from '../internet/interfaces.js';

/**
 * The chunk sizes the house style runs every receiver test with: one byte
 * at a time up to everything at once.
 *
 * @since 0.1.0
 */
export const CHUNK_SIZES: readonly number[] = Object.freeze([1, 2, 3, 5, 8, 64, Infinity]);

/**
 * Feeds `data` to `protocol.dataReceived` in slices of `chunkSize` bytes.
 *
 * @remarks
 * The slices are views of `data` (no copies), delivered in order; the last
 * one may be shorter. `Infinity` delivers everything in one call. Empty
 * `data` makes no call at all. If `dataReceived` throws, the rest is not
 * delivered and the error reaches the caller.
 *
 * @example
 * ```ts
 * for (const size of CHUNK_SIZES) {
 *   const proto = new LineCollector();
 *   proto.makeConnection(new StringTransport());
 *   deliverInChunks(proto, Buffer.from('one\r\ntwo\r\n'), size);
 *   assert.deepEqual(proto.lines, ['one', 'two']);
 * }
 * ```
 *
 * @param protocol - Receives the slices.
 * @param data - The bytes to deliver.
 * @param chunkSize - Bytes per call: a positive integer, or `Infinity`.
 * @returns How many times `dataReceived` was called.
 * @throws RangeError if `chunkSize` is not a positive integer or `Infinity`;
 *   TypeError if `data` is not a Uint8Array.
 * @since 0.1.0
 */
export function deliverInChunks(
  protocol: Pick<IProtocol, 'dataReceived'>,
  data: Uint8Array,
  chunkSize: number,
): number {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`deliverInChunks() expects Uint8Array data, got ${typeof data}`);
  }
  if (!(chunkSize === Infinity || (Number.isInteger(chunkSize) && chunkSize > 0))) {
    throw new RangeError(
      `chunk size must be a positive integer or Infinity, got ${String(chunkSize)}`,
    );
  }
  let calls = 0;
  for (let start = 0; start < data.byteLength; start += chunkSize) {
    protocol.dataReceived(data.subarray(start, start + chunkSize));
    calls++;
  }
  return calls;
}
