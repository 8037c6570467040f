// Shared pieces of the framing-protocol tests (test/unit/protocols/basic-*,
// test/fuzz/basic): chunk sizes, byte helpers, an in-memory file, and
// delivery that stops at a dropped connection as a real transport does.
// Test-only; not exported.

import type { ReadableFile } from 'torsion/protocols/basic';
import type { IProtocol } from 'torsion/reactor';
import { CHUNK_SIZES } from 'torsion/testing';

/**
 * Every chunk size a receiver test runs with: the house sizes
 * ({@link CHUNK_SIZES}) and 1 to 9, as Twisted's `range(1, 10)` loops.
 */
export const SIZES: readonly number[] = [
  ...new Set([...CHUNK_SIZES, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
].sort((a, b) => a - b);

/** The bytes of `text`, one per character (latin1). */
export function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Received byte strings as latin1 text, for readable assertion diffs. */
export function texts(list: readonly Uint8Array[]): string[] {
  return list.map((b) => Buffer.from(b).toString('latin1'));
}

/** Something with the `disconnecting` flag of the test transports. */
interface Disconnectable {
  readonly disconnecting: boolean;
}

/**
 * Feeds `data` in `size`-byte slices, stopping once the transport is
 * disconnecting, since a real transport delivers nothing after
 * `loseConnection()`.
 *
 * @returns How many bytes were delivered.
 */
export function feed(
  protocol: Pick<IProtocol, 'dataReceived'>,
  transport: Disconnectable,
  data: Uint8Array,
  size: number,
): number {
  let at = 0;
  while (at < data.length && !transport.disconnecting) {
    const end = Math.min(at + size, data.length);
    protocol.dataReceived(data.subarray(at, end));
    at = end;
  }
  return at;
}

/** Twisted's BytesIO for FileSender: a file over bytes in memory. */
export class BytesFile implements ReadableFile {
  readonly #data: Buffer;
  #position = 0;
  /** How many times `read` was called. */
  reads = 0;

  constructor(data: Uint8Array) {
    this.#data = Buffer.from(data);
  }

  read(buffer: Uint8Array, offset: number, length: number): number {
    this.reads++;
    const count = this.#data.copy(buffer, offset, this.#position, this.#position + length);
    this.#position += count;
    return count;
  }
}
