// Delivering bytes to a protocol in chunks of every size, as IProtocol's
// contract asks protocol tests to do (Twisted's "for i in range(1, 10)" loops),
// and forAllChunkings: every split of an input (seeded random ones beyond a
// size) must give the same events as the whole input at once.
// Tests: test/unit/testing/chunks.test.ts, test/unit/testing/chunkings.test.ts

import { inspect, isDeepStrictEqual } from 'node:util';
import { hashSeed, Prng } from '../internet/_prng.js';
import type { IProtocol } from '../internet/interfaces.js';
import { assertionError } from './_assertion-error.js';
import { StringTransport } from './string-transport.js';

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

/**
 * Feeds `data` to `protocol.dataReceived` in chunks of the given sizes, in
 * order: how to replay the split a {@link forAllChunkings} failure names.
 *
 * @remarks
 * Each chunk is a fresh copy, as a real transport's reads are. Bytes past
 * the sizes' total are not delivered. Unlike {@link forAllChunkings}, it
 * does not look at the transport: it delivers every chunk.
 *
 * @example
 * ```ts
 * deliverSplit(proto, Buffer.from('one\r\ntwo\r\n'), [3, 1, 6]);
 * ```
 *
 * @param protocol - Receives the chunks.
 * @param data - The bytes.
 * @param sizes - The chunk sizes, each a positive integer.
 * @throws RangeError if a size is not a positive integer, or the sizes add
 *   up to more than `data` holds.
 * @since 0.1.0
 */
export function deliverSplit(
  protocol: Pick<IProtocol, 'dataReceived'>,
  data: Uint8Array,
  sizes: readonly number[],
): void {
  let total = 0;
  for (const size of sizes) {
    if (!(Number.isInteger(size) && size > 0)) {
      throw new RangeError(`chunk sizes must be positive integers, got ${String(size)}`);
    }
    total += size;
  }
  if (total > data.byteLength) {
    throw new RangeError(
      `the chunk sizes add up to ${total} bytes; the data has ${data.byteLength}`,
    );
  }
  let at = 0;
  for (const size of sizes) {
    protocol.dataReceived(Buffer.from(data.subarray(at, at + size)));
    at += size;
  }
}

/**
 * Options of {@link forAllChunkings}.
 *
 * @since 0.1.0
 */
export interface ForAllChunkingsOptions {
  /**
   * Inputs of at most this many bytes are fed every one of their
   * 2^(n-1) splits; longer ones, random splits. At most 20.
   * @defaultValue 12
   */
  exhaustiveUpTo?: number | undefined;
  /**
   * How many random splits a longer input gets (besides the fixed chunk
   * sizes of {@link CHUNK_SIZES}).
   * @defaultValue 100
   */
  count?: number | undefined;
  /**
   * The seed of the random splits; a failure names it. A 32-bit unsigned
   * integer.
   * @defaultValue 0
   */
  seed?: number | undefined;
  /**
   * Makes each run's transport, given the run's protocol (before it is
   * connected): a `StringTransportWithDisconnection` that tells it, say.
   * @defaultValue `new StringTransport()`
   */
  makeTransport?: ((protocol: IProtocol) => StringTransport) | undefined;
}

/** What a run observed: the events, or what delivery threw. */
type Outcome = { readonly observed: unknown } | { readonly threw: string };

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The cut positions of split number `mask` (bit i: a cut after byte i + 1). */
function splitOfMask(mask: number, length: number): number[] {
  const sizes: number[] = [];
  let start = 0;
  for (let i = 1; i < length; i++) {
    if ((mask & (1 << (i - 1))) !== 0) {
      sizes.push(i - start);
      start = i;
    }
  }
  sizes.push(length - start);
  return sizes;
}

/** A random split: cuts between bytes with a probability drawn per split. */
function randomSplit(prng: Prng, length: number): number[] {
  // Log-uniform in [1/length, 1]: as many splits into a few big chunks as
  // into many one-byte ones.
  const p = length <= 1 ? 1 : Math.exp(-prng.next() * Math.log(length));
  const sizes: number[] = [];
  let start = 0;
  for (let i = 1; i < length; i++) {
    if (prng.next() < p) {
      sizes.push(i - start);
      start = i;
    }
  }
  sizes.push(length - start);
  return sizes;
}

function fixedSplit(size: number, length: number): number[] {
  const sizes: number[] = [];
  for (let at = 0; at < length; at += size) sizes.push(Math.min(size, length - at));
  return sizes;
}

function showSplit(sizes: readonly number[]): string {
  const text = `[${sizes.join(', ')}]`;
  return text.length <= 300 ? text : `${text.slice(0, 300)}…] (${sizes.length} chunks)`;
}

/**
 * Checks that a protocol sees the same thing however its input is split:
 * a fresh protocol is fed each split of `bytes` over a `StringTransport`,
 * and what `observe` returns must equal (deeply, strictly) what it returns
 * for the whole input delivered at once.
 *
 * @remarks
 * An input of at most `exhaustiveUpTo` bytes (12 by default) gets every
 * split, 2^(n-1) of them; a longer one gets the fixed chunk sizes of
 * {@link CHUNK_SIZES} and then `count` random splits drawn from `seed`
 * (cut probabilities from one cut in n to every byte). Each chunk is
 * delivered as a fresh copy; once the protocol closes its transport
 * (`loseConnection`, `abortConnection`), the rest is not delivered, as a
 * real transport would not. When delivering throws, the error's name and
 * message are what is compared.
 *
 * The check is synchronous: a protocol that answers on a clock should be
 * given one in `makeProtocol` and advanced in `observe`.
 *
 * On the first difference it throws node:assert's `AssertionError`,
 * naming the split (its chunk sizes, to replay with {@link deliverSplit}),
 * the seed and both observations; the error also has `split` and `seed`
 * properties.
 *
 * Use fast-check in a test for shrinking if you need it; this helper
 * depends on nothing but its own seeded generator.
 *
 * @example
 * ```ts
 * forAllChunkings(
 *   () => new LineCollector(),
 *   Buffer.from('one\r\ntwo\r\nthr'),
 *   (proto) => proto.lines,
 * );
 * ```
 *
 * @param makeProtocol - Makes a fresh protocol for each run.
 * @param bytes - The input (a string is taken as UTF-8).
 * @param observe - What a run produced: the events the protocol recorded,
 *   what it wrote (`transport.value()`), whether it closed….
 * @param options - See {@link ForAllChunkingsOptions}.
 * @returns How many splits were checked (the whole input not counted).
 * @throws AssertionError for the first split whose observation differs.
 * @since 0.1.0
 */
export function forAllChunkings<P extends IProtocol, T>(
  makeProtocol: () => P,
  bytes: Uint8Array | string,
  observe: (protocol: P, transport: StringTransport) => T,
  options: ForAllChunkingsOptions = {},
): number {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(
      `forAllChunkings() expects Uint8Array or string bytes, got ${typeof bytes}`,
    );
  }
  const exhaustiveUpTo = options.exhaustiveUpTo ?? 12;
  const count = options.count ?? 100;
  const seed = options.seed ?? 0;
  if (!(Number.isInteger(exhaustiveUpTo) && exhaustiveUpTo >= 0 && exhaustiveUpTo <= 20)) {
    throw new RangeError(
      `exhaustiveUpTo must be a whole number from 0 to 20, got ${exhaustiveUpTo}`,
    );
  }
  if (!(Number.isInteger(count) && count >= 0)) {
    throw new RangeError(`count must be a whole number, 0 or more, got ${count}`);
  }
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new RangeError(`seed must be a whole number from 0 to 4294967295, got ${seed}`);
  }
  const makeTransport = options.makeTransport ?? (() => new StringTransport());
  const length = data.byteLength;

  const run = (sizes: readonly number[]): Outcome => {
    const protocol = makeProtocol();
    const transport = makeTransport(protocol);
    try {
      protocol.makeConnection(transport);
      let at = 0;
      for (const size of sizes) {
        // A real transport delivers nothing more once the protocol closes it.
        if (transport.disconnecting) break;
        protocol.dataReceived(Buffer.from(data.subarray(at, at + size)));
        at += size;
      }
    } catch (error) {
      return { threw: describeError(error) };
    }
    return { observed: observe(protocol, transport) };
  };
  const whole = run(length === 0 ? [] : [length]);
  let checked = 0;
  const check = (sizes: number[], how: string): void => {
    checked++;
    const outcome = run(sizes);
    if (isDeepStrictEqual(outcome, whole)) return;
    const show = (o: Outcome): string =>
      'threw' in o
        ? `threw ${o.threw}`
        : inspect(o.observed, { depth: 6, maxArrayLength: 50, breakLength: Infinity });
    const error = assertionError(
      `forAllChunkings: split ${showSplit(sizes)} of ${length} bytes (${how}, seed ${seed}) ` +
        `gave ${show(outcome)}; the whole input gave ${show(whole)}. ` +
        `Replay it with deliverSplit(protocol, bytes, split).`,
    );
    throw Object.assign(error, { split: sizes, seed });
  };

  if (length === 0) return 0;
  if (length <= exhaustiveUpTo) {
    const total = 2 ** (length - 1);
    for (let mask = 0; mask < total; mask++) {
      check(splitOfMask(mask, length), `split ${mask + 1} of all ${total}`);
    }
    return checked;
  }
  for (const size of CHUNK_SIZES) {
    if (size < length) check(fixedSplit(size, length), `chunks of ${size} bytes`);
  }
  const prng = new Prng(hashSeed(seed, length));
  for (let i = 0; i < count; i++)
    check(randomSplit(prng, length), `random split ${i + 1} of ${count}`);
  return checked;
}
