// Basic framing protocols: bytes → lines, length-prefixed strings,
// netstrings (Twisted: twisted.protocols.basic).
// Tests: test/unit/protocols/basic-*.test.ts, test/fuzz/basic.test.ts

import { closeSync, openSync, readSync } from 'node:fs';
import { Deferred } from '../internet/defer.js';
import { TorsionError } from '../internet/error.js';
import type { IConsumer, IPullProducer, ITransport } from '../internet/interfaces.js';
import { Protocol } from '../internet/protocol.js';
import { Logger } from '../logger/logger.js';
import { BufferView } from './_buffer-view.js';

const log = new Logger('torsion.protocols.basic');

const EMPTY = Buffer.alloc(0);

/** Views `data` as a Buffer without copying. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Bytes as given, or a string encoded as UTF-8. */
function toBytes(line: Uint8Array | string): Uint8Array {
  return typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
}

function isDisconnecting(transport: unknown): boolean {
  return (transport as { disconnecting?: boolean } | undefined)?.disconnecting === true;
}

/**
 * The bytes received and not yet consumed: an owned tail (bytes left over
 * from earlier chunks) followed by the chunk being parsed, which is borrowed
 * from the caller and read in place.
 *
 * Only a line that spans the two is copied; everything else is delivered as
 * a view. Before the caller's chunk goes away, what is left of it is copied
 * into the tail (`keep`). The tail's store grows by doubling and is never
 * overwritten below its end, so views of it (lines delivered) stay valid.
 */
class ByteBuffer {
  #tail: Buffer = EMPTY;
  /** The tail's `buffer` and `byteOffset`, read once per store. */
  #tailMemory: ArrayBufferLike = EMPTY.buffer;
  #tailBase = 0;
  #tailStart = 0;
  #tailEnd = 0;
  #chunk: Buffer = EMPTY;
  /**
   * The chunk's `buffer` and `byteOffset`, read when the first view of it is
   * made: each read costs a call, and a line is a view.
   */
  #chunkMemory: ArrayBufferLike | undefined;
  #chunkBase = 0;
  #chunkStart = 0;
  #chunkEnd = 0;
  /**
   * Where the next delimiter search begins, counted in buffered bytes from
   * the start: bytes before it hold no delimiter start, so a long line is
   * never searched twice.
   */
  #searched = 0;
  /**
   * How many bytes, counted from the start, the reader is waiting for (0 if
   * unknown): the tail's store grows no larger than that, so a long string
   * is not over-allocated. Reset by every `take`.
   */
  #expected = 0;

  get length(): number {
    return this.#tailEnd - this.#tailStart + (this.#chunkEnd - this.#chunkStart);
  }

  /** True while a dispatch loop runs over this buffer. */
  #dispatching = false;

  /**
   * Adds received bytes and runs `dispatch` (a receiver's parsing loop) on
   * them, unless a dispatch is already running further up the stack (a
   * callback fed more bytes): then the bytes are queued, copied since the
   * caller may reuse them, and the running loop takes them next, in order.
   * Afterwards what is left is kept, as the caller's chunk may be reused.
   */
  receive<T>(data: Uint8Array, dispatch: (this: T) => void, owner: T): void {
    this.append(asBuffer(data));
    if (this.#dispatching) {
      this.keep();
      return;
    }
    this.#dispatching = true;
    try {
      dispatch.call(owner);
    } finally {
      this.#dispatching = false;
      this.keep();
    }
  }

  /** Adds a received chunk: borrowed if nothing of the last one is left, copied otherwise. */
  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#chunkEnd > this.#chunkStart) {
      // A chunk is still being parsed (a nested dataReceived): queue behind it.
      this.keep();
    }
    if (this.#tailEnd === this.#tailStart && this.#chunkEnd === this.#chunkStart)
      this.#searched = 0;
    this.#chunk = chunk;
    this.#chunkMemory = undefined;
    this.#chunkStart = 0;
    this.#chunkEnd = chunk.length;
  }

  /**
   * Copies what is left of the borrowed chunk into the tail. With nothing
   * left at all, the tail's store is released: an idle receiver holds no
   * buffer.
   */
  keep(): void {
    const left = this.#chunkEnd - this.#chunkStart;
    if (left > 0) {
      this.#appendChunkToTail(this.#chunkStart, this.#chunkEnd);
    } else if (this.#tailEnd === this.#tailStart) {
      this.#setTail(EMPTY, 0);
    }
    this.#dropChunk();
  }

  /** Copies the chunk's bytes `from`–`to` to the end of the tail, growing its store if needed. */
  #appendChunkToTail(from: number, to: number): void {
    const length = to - from;
    const tailLength = this.#tailEnd - this.#tailStart;
    if (this.#tailEnd + length > this.#tail.length) {
      // A new store: the old one keeps backing the lines already delivered.
      // It doubles (at most twice what was received, so a length announced
      // by the peer allocates nothing by itself), capped at what a length
      // prefix said is coming.
      const needed = tailLength + length;
      let size = Math.max(needed * 2, 1024);
      if (this.#expected > needed && this.#expected < size) size = this.#expected;
      const store = Buffer.allocUnsafe(size);
      this.#tail.copy(store, 0, this.#tailStart, this.#tailEnd);
      this.#setTail(store, tailLength);
    }
    const tail = this.#tail;
    const end = this.#tailEnd;
    if (length <= 16) {
      const chunk = this.#chunk;
      for (let i = 0; i < length; i++) tail[end + i] = chunk[from + i] as number;
    } else {
      // What Buffer#copy does, without its argument checks: about half the cost.
      tail.set(this.#chunkView(from, length), end);
    }
    this.#tailEnd = end + length;
  }

  /** Takes everything buffered. */
  takeAll(): Buffer {
    const tailLength = this.#tailEnd - this.#tailStart;
    const chunkLength = this.#chunkEnd - this.#chunkStart;
    let all: Buffer;
    if (chunkLength === 0) all = this.#tailView(this.#tailStart, tailLength);
    else if (tailLength === 0) all = this.#chunkView(this.#chunkStart, chunkLength);
    else {
      all = Buffer.allocUnsafe(tailLength + chunkLength);
      this.#tail.copy(all, 0, this.#tailStart, this.#tailEnd);
      this.#chunk.copy(all, tailLength, this.#chunkStart, this.#chunkEnd);
    }
    this.clear();
    return all;
  }

  clear(): void {
    this.#setTail(EMPTY, 0);
    this.#dropChunk();
    this.#searched = 0;
    this.#expected = 0;
  }

  /** A copy of everything buffered, leaving it buffered. */
  copyAll(): Buffer {
    const all = Buffer.allocUnsafe(this.length);
    this.#tail.copy(all, 0, this.#tailStart, this.#tailEnd);
    this.#chunk.copy(all, this.#tailEnd - this.#tailStart, this.#chunkStart, this.#chunkEnd);
    return all;
  }

  /** The buffered byte at `index` (which must be below `length`). */
  byteAt(index: number): number {
    const inTail = index + this.#tailStart;
    if (inTail < this.#tailEnd) return this.#tail[inTail] as number;
    return this.#chunk[this.#chunkStart + index - (this.#tailEnd - this.#tailStart)] as number;
  }

  /**
   * Reads the first `size` buffered bytes (1 to 6, at most `length`) as a
   * big-endian unsigned integer, leaving them buffered.
   */
  readUIntBE(size: number): number {
    const tailLength = this.#tailEnd - this.#tailStart;
    if (tailLength === 0) return this.#chunk.readUIntBE(this.#chunkStart, size);
    if (tailLength >= size) return this.#tail.readUIntBE(this.#tailStart, size);
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.byteAt(i);
    return value;
  }

  /** Notes that the reader waits for `count` bytes from the start (see `#expected`). */
  expect(count: number): void {
    this.#expected = count;
  }

  /** Drops the first `count` buffered bytes (at most `length`). */
  skip(count: number): void {
    this.#expected = 0;
    this.#searched = Math.max(this.#searched - count, 0);
    const tailLength = this.#tailEnd - this.#tailStart;
    if (count <= tailLength) {
      this.#tailStart += count;
    } else {
      this.#resetTail();
      this.#chunkStart += count - tailLength;
    }
  }

  /**
   * Drops `skipped` bytes and takes the `count` after them (together at most
   * `length`): a length prefix and its string, in one call.
   */
  takeAfter(skipped: number, count: number): Buffer {
    if (this.#tailEnd === this.#tailStart) {
      // The usual case, a whole frame in the chunk: one view, no bookkeeping.
      this.#expected = 0;
      this.#searched = 0;
      const from = this.#chunkStart + skipped;
      this.#chunkStart = from + count;
      return this.#chunkView(from, count);
    }
    this.skip(skipped);
    return this.take(count);
  }

  /**
   * Takes the first `count` buffered bytes (at most `length`) as one Buffer:
   * a view, copied only if it spans the tail and the chunk.
   */
  take(count: number): Buffer {
    this.#expected = 0;
    this.#searched = Math.max(this.#searched - count, 0);
    const tailLength = this.#tailEnd - this.#tailStart;
    if (tailLength === 0) {
      const taken = this.#chunkView(this.#chunkStart, count);
      this.#chunkStart += count;
      return taken;
    }
    if (count <= tailLength) {
      const taken = this.#tailView(this.#tailStart, count);
      this.#tailStart += count;
      return taken;
    }
    const fromChunk = count - tailLength;
    this.#appendChunkToTail(this.#chunkStart, this.#chunkStart + fromChunk);
    const taken = this.#tailView(this.#tailStart, count);
    this.#resetTail();
    this.#chunkStart += fromChunk;
    return taken;
  }

  /**
   * Takes the next line ending in `delimiter` (without it), or returns
   * `undefined` if no complete line is buffered. `maxLength` is checked by
   * the caller on the line's length; `lineLength` reports it without
   * building the line (for the oversized case).
   */
  nextLine(delimiter: Uint8Array): Buffer | undefined {
    if (this.#tailEnd !== this.#tailStart) return this.#nextLineWithTail(delimiter);
    // The usual case: nothing left in the tail, the line is a view of the chunk.
    const chunk = this.#chunk;
    const chunkStart = this.#chunkStart;
    const at = findIn(chunk, chunkStart + this.#searched, this.#chunkEnd, delimiter);
    if (at === -1) {
      this.#searched = Math.max(this.#chunkEnd - chunkStart - delimiter.length + 1, 0);
      return undefined;
    }
    this.#chunkStart = at + delimiter.length;
    this.#searched = 0;
    return this.#chunkView(chunkStart, at - chunkStart);
  }

  /** `nextLine` when bytes are left in the tail: the line may start there. */
  #nextLineWithTail(delimiter: Uint8Array): Buffer | undefined {
    const dl = delimiter.length;
    const tail = this.#tail;
    const tailLength = this.#tailEnd - this.#tailStart;
    // In the tail itself (bytes queued by a nested dataReceived). Usually
    // the tail is what was left after a search, so this is skipped; it must
    // be, since indexOf would also scan the store's unused space.
    const tailFrom = this.#tailStart + this.#searched;
    const inTailAt =
      tailFrom + dl <= this.#tailEnd ? findIn(tail, tailFrom, this.#tailEnd, delimiter) : -1;
    if (inTailAt !== -1) {
      const line = this.#tailView(this.#tailStart, inTailAt - this.#tailStart);
      this.#tailStart = inTailAt + dl;
      this.#searched = 0;
      if (this.#tailStart === this.#tailEnd) this.#resetTail();
      return line;
    }
    // Straddling the tail's end and the chunk's start.
    const chunk = this.#chunk;
    const chunkStart = this.#chunkStart;
    const chunkLength = this.#chunkEnd - chunkStart;
    for (let inTail = Math.min(dl - 1, tailLength); inTail >= 1; inTail--) {
      if (dl - inTail > chunkLength) continue;
      const from = this.#tailEnd - inTail;
      let k = 0;
      while (k < inTail && tail[from + k] === delimiter[k]) k++;
      if (k < inTail) continue;
      while (k < dl && chunk[chunkStart + k - inTail] === delimiter[k]) k++;
      if (k < dl) continue;
      const line = this.#tailView(this.#tailStart, from - this.#tailStart);
      this.#resetTail();
      this.#chunkStart += dl - inTail;
      this.#searched = 0;
      return line;
    }
    // In the chunk: the line is the tail plus the chunk's head, appended to the tail's store.
    const searchFrom = Math.max(this.#searched - tailLength, 0);
    const at = findIn(chunk, chunkStart + searchFrom, this.#chunkEnd, delimiter);
    if (at === -1) {
      this.#searched = Math.max(this.length - dl + 1, 0);
      return undefined;
    }
    this.#appendChunkToTail(chunkStart, at);
    const line = this.#tailView(this.#tailStart, this.#tailEnd - this.#tailStart);
    this.#resetTail();
    this.#chunkStart = at + dl;
    this.#searched = 0;
    return line;
  }

  /** Empties the tail, keeping its store for what comes next (never writing below its end). */
  #resetTail(): void {
    this.#tailStart = this.#tailEnd;
  }

  /** Makes `store` the tail's store, holding `length` bytes from its start. */
  #setTail(store: Buffer, length: number): void {
    this.#tail = store;
    this.#tailMemory = store.buffer;
    this.#tailBase = store.byteOffset;
    this.#tailStart = 0;
    this.#tailEnd = length;
  }

  /** A view of `length` bytes of the tail's store from `offset`. */
  #tailView(offset: number, length: number): Buffer {
    return new BufferView(this.#tailMemory, this.#tailBase + offset, length);
  }

  /** A view of `length` bytes of the chunk from `offset`. */
  #chunkView(offset: number, length: number): Buffer {
    let memory = this.#chunkMemory;
    if (memory === undefined) {
      memory = this.#chunkMemory = this.#chunk.buffer;
      this.#chunkBase = this.#chunk.byteOffset;
    }
    return new BufferView(memory, this.#chunkBase + offset, length);
  }

  #dropChunk(): void {
    this.#chunk = EMPTY;
    this.#chunkMemory = undefined;
    this.#chunkStart = 0;
    this.#chunkEnd = 0;
  }
}

/**
 * The index of `delimiter` in `data` between `from` and `end`, or -1.
 * Searches for the delimiter's first byte and checks the rest: a one-byte
 * `indexOf` is a memchr, several times faster than a multi-byte search.
 */
function findIn(data: Buffer, from: number, end: number, delimiter: Uint8Array): number {
  const dl = delimiter.length;
  const first = delimiter[0] as number;
  let at = data.indexOf(first, from);
  while (at !== -1 && at + dl <= end) {
    let k = 1;
    while (k < dl && data[at + k] === delimiter[k]) k++;
    if (k === dl) return at;
    at = data.indexOf(first, at + 1);
  }
  return -1;
}

/**
 * A receiver that can be paused as a producer: pausing stops both the
 * transport reading and the dispatching of what is already buffered, and
 * resuming dispatches it. The base of {@link LineReceiver} and
 * {@link IntNStringReceiver}.
 *
 * @see Twisted: twisted.protocols.basic._PauseableMixin
 * @since 0.1.0
 */
export class PausableReceiver extends Protocol {
  /** Whether the receiver is paused. */
  paused = false;

  /** Stops dispatching and stops the transport reading. */
  pauseProducing(): void {
    this.paused = true;
    this.transport.pauseProducing();
  }

  /** Resumes reading and dispatches what was buffered meanwhile. */
  resumeProducing(): void {
    this.paused = false;
    this.transport.resumeProducing();
    this.dataReceived(EMPTY);
  }

  /** Stops dispatching for good and stops the transport. */
  stopProducing(): void {
    this.paused = true;
    this.transport.stopProducing();
  }
}

/**
 * A protocol that receives lines, and optionally raw data: the base of
 * line-oriented protocols such as SMTP, POP, IRC or HTTP's head.
 *
 * @remarks
 * In line mode each line, without its `delimiter`, goes to
 * {@link LineReceiver.lineReceived}; after {@link LineReceiver.setRawMode}
 * the bytes go to {@link LineReceiver.rawDataReceived} instead, until
 * {@link LineReceiver.setLineMode}, which can hand back bytes to parse as
 * lines again.
 *
 * - A line longer than `maxLength` bytes (or that many bytes without a
 *   delimiter) goes to {@link LineReceiver.lineLengthExceeded} with the rest
 *   of the buffer; by default the connection is dropped.
 * - Dispatching stops while the receiver is paused
 *   ({@link LineReceiver.pauseProducing}) and once the transport is
 *   disconnecting.
 * - A `dataReceived` made from inside a callback only buffers: the running
 *   loop handles the bytes next, in order.
 * - Lines are `Buffer` views of the received bytes, not copies; they stay
 *   valid when kept.
 *
 * Finding delimiters uses `Buffer.indexOf` and resumes where the last search
 * stopped, so a long line arriving in small pieces is not searched again
 * from its start.
 *
 * Differences from Twisted: bytes that `lineLengthExceeded` hands back with
 * `setLineMode(extra)` are parsed at once (Twisted leaves them buffered
 * until more data arrives); a handler reports an error by throwing, not by
 * returning it.
 *
 * Security: accepting a bare `\n` where a protocol requires `\r\n` (or the
 * reverse) lets two parsers disagree on where a line ends, the root of
 * request smuggling; keep `delimiter` exact and `maxLength` small.
 *
 * @example
 * ```ts
 * class Upper extends LineReceiver {
 *   override lineReceived(line: Buffer): void {
 *     this.sendLine(line.toString('utf8').toUpperCase());
 *   }
 * }
 * ```
 *
 * @see Twisted: twisted.protocols.basic.LineReceiver
 * @since 0.1.0
 */
export class LineReceiver extends PausableReceiver {
  /** The line delimiter. Default `\r\n`. */
  delimiter: Uint8Array = Buffer.from('\r\n');
  /** The longest line accepted, in bytes. Default 16384. */
  maxLength = 16384;
  #lineMode = true;
  readonly #buffer = new ByteBuffer();

  /** Whether lines (rather than raw data) are being received. */
  get lineMode(): boolean {
    return this.#lineMode;
  }

  /**
   * Splits the bytes into lines (or raw chunks) and dispatches them.
   *
   * @param data - Received bytes, in any fragments.
   */
  override dataReceived(data: Uint8Array): void {
    this.#buffer.receive(data, this.#dispatch, this);
  }

  #dispatch(): void {
    const buffer = this.#buffer;
    while (!this.paused) {
      if (!this.#lineMode) {
        if (buffer.length === 0) return;
        this.rawDataReceived(buffer.takeAll());
        continue;
      }
      const delimiter = this.delimiter;
      const line = buffer.nextLine(delimiter);
      if (line === undefined) {
        if (buffer.length < this.maxLength + delimiter.length) return;
        this.lineLengthExceeded(buffer.takeAll());
      } else if (line.length > this.maxLength) {
        this.lineLengthExceeded(Buffer.concat([line, delimiter, buffer.takeAll()]));
      } else {
        this.lineReceived(line);
        if (isDisconnecting(this.transport)) return;
        continue;
      }
      // Bytes the handler handed back (setLineMode(extra)) are parsed now.
      // Twisted returns here and leaves them until more data arrives, so what
      // it delivers would depend on how the bytes were split.
      if (isDisconnecting(this.transport)) return;
    }
  }

  /**
   * Switches to line mode; `extra` (bytes that arrived after the raw data
   * ended) is parsed as lines.
   */
  setLineMode(extra: Uint8Array = EMPTY): void {
    this.#lineMode = true;
    if (extra.length > 0) this.dataReceived(extra);
  }

  /** Switches to raw mode: the rest of the bytes go to `rawDataReceived`. */
  setRawMode(): void {
    this.#lineMode = false;
  }

  /**
   * Empties the buffer of bytes not yet dispatched.
   *
   * @returns The bytes that were buffered.
   */
  clearLineBuffer(): Buffer {
    return this.#buffer.takeAll();
  }

  /**
   * Called with each line, without the delimiter. Override it.
   *
   * @param _line - The line: a view of the received bytes.
   */
  lineReceived(_line: Buffer): void {
    throw new Error(`${this.constructor.name} must override lineReceived`);
  }

  /**
   * Called with each chunk of raw data in raw mode. Override it if you use
   * raw mode.
   */
  rawDataReceived(_data: Buffer): void {
    throw new Error(`${this.constructor.name} must override rawDataReceived to use raw mode`);
  }

  /**
   * Sends `line` and the delimiter.
   *
   * @param line - Bytes, or a string (encoded as UTF-8).
   */
  sendLine(line: Uint8Array | string): void {
    this.transport.write(Buffer.concat([toBytes(line), this.delimiter]));
  }

  /**
   * Called when a line is longer than `maxLength`; by default drops the
   * connection.
   *
   * @param _line - The rest of the buffer, from the start of the long line:
   *   possibly more than one line, or only part of one.
   */
  lineLengthExceeded(_line: Buffer): void {
    this.transport.loseConnection();
  }
}

/**
 * A faster line receiver for protocols that only ever receive lines: no raw
 * mode, no pausing, no re-entrancy guard.
 *
 * @remarks
 * Limits as {@link LineReceiver}: a line longer than `maxLength`, or
 * `maxLength` plus the delimiter's length bytes without a delimiter, goes to
 * {@link LineOnlyReceiver.lineLengthExceeded}. Dispatching stops once the
 * transport is disconnecting. `sendLine` writes the line and the delimiter
 * as one `writeSequence`.
 *
 * Differences from Twisted: Twisted's limit on bytes without a delimiter is
 * `maxLength`, so it drops a line of exactly `maxLength` bytes when its
 * delimiter arrives split across two chunks; here, as in LineReceiver, what
 * is delivered does not depend on how the bytes were split.
 *
 * @see Twisted: twisted.protocols.basic.LineOnlyReceiver
 * @since 0.1.0
 */
export class LineOnlyReceiver extends Protocol {
  /** The line delimiter. Default `\r\n`. */
  delimiter: Uint8Array = Buffer.from('\r\n');
  /** The longest line accepted, in bytes. Default 16384. */
  maxLength = 16384;
  readonly #buffer = new ByteBuffer();

  /** Splits the bytes into lines and dispatches them. */
  override dataReceived(data: Uint8Array): void {
    const buffer = this.#buffer;
    buffer.append(asBuffer(data));
    const delimiter = this.delimiter;
    for (
      let line = buffer.nextLine(delimiter);
      line !== undefined;
      line = buffer.nextLine(delimiter)
    ) {
      if (isDisconnecting(this.transport)) {
        buffer.clear();
        return;
      }
      if (line.length > this.maxLength) {
        buffer.clear();
        this.lineLengthExceeded(line);
        return;
      }
      this.lineReceived(line);
    }
    // maxLength plus a delimiter's length, as LineReceiver: Twisted's `>
    // maxLength` drops a line of exactly maxLength whose delimiter arrives
    // split across chunks, though the same bytes in one chunk are accepted.
    if (buffer.length >= this.maxLength + delimiter.length) {
      this.lineLengthExceeded(buffer.takeAll());
      return;
    }
    buffer.keep();
  }

  /** Called with each line, without the delimiter. Override it. */
  lineReceived(_line: Buffer): void {
    throw new Error(`${this.constructor.name} must override lineReceived`);
  }

  /**
   * Sends `line` and the delimiter, as one `writeSequence`.
   *
   * @param line - Bytes, or a string (encoded as UTF-8).
   */
  sendLine(line: Uint8Array | string): void {
    this.transport.writeSequence([toBytes(line), this.delimiter]);
  }

  /** Called with a line (or buffer) longer than `maxLength`; by default drops the connection. */
  lineLengthExceeded(_line: Buffer): void {
    this.transport.loseConnection();
  }
}

// ---------------------------------------------------------------------------
// Length-prefixed strings: netstrings and IntN strings

/**
 * Thrown by `sendString` when a string is too long for the length prefix of
 * its framing.
 *
 * @see Twisted: twisted.protocols.basic.StringTooLongError
 * @since 0.1.0
 */
export class StringTooLongError extends TorsionError {
  override name = 'StringTooLongError' as const;
  override readonly code = 'ERR_STRING_TOO_LONG' as const;
}

/**
 * What a {@link NetstringReceiver} found wrong in what its peer sent: it is
 * logged (as the event's `error` field) when the connection is dropped.
 *
 * @see Twisted: twisted.protocols.basic.NetstringParseError
 * @since 0.1.0
 */
export class NetstringParseError extends TorsionError {
  override name = 'NetstringParseError' as const;
  override readonly code = 'ERR_NETSTRING_PARSE' as const;
}

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

function isDigit(byte: number): boolean {
  return byte >= ZERO && byte <= NINE;
}

/** A byte for a message: `0x61 ('a')`, or `0x00` when not printable. */
function describeByte(byte: number): string {
  const hex = `0x${byte.toString(16).padStart(2, '0')}`;
  return byte >= 0x20 && byte < 0x7f ? `${hex} ('${String.fromCharCode(byte)}')` : hex;
}

/** Up to 16 buffered bytes from `from`, JSON-quoted, for a message. */
function previewBytes(buffer: ByteBuffer, from: number): string {
  const end = Math.min(buffer.length, from + 16);
  let text = '';
  for (let i = from; i < end; i++) text += String.fromCharCode(buffer.byteAt(i));
  return `${JSON.stringify(text)}${buffer.length > end ? '…' : ''}`;
}

/**
 * A protocol that sends and receives netstrings: `<length>:<bytes>,`, the
 * length in ASCII decimal digits.
 *
 * @remarks
 * Each string received, without its framing, goes to
 * {@link NetstringReceiver.stringReceived}; {@link NetstringReceiver.sendString}
 * frames and sends one. The format is D. J. Bernstein's
 * (https://cr.yp.to/proto/netstrings.txt).
 *
 * Parsing is strict, as Twisted's: the length is decimal digits with no
 * leading zero (only `0` itself may start with `0`), then `:`, then exactly
 * that many bytes, then `,`. A length above `maxLength` is refused as soon
 * as its digits show it, before any payload is buffered. Anything else (a
 * non-digit where a length is expected, a leading zero, a missing `:` or
 * `,`) makes the receiver set {@link NetstringReceiver.brokenPeer}, log a
 * warning that names what was wrong and the offending bytes (namespace
 * `torsion.protocols.basic`, the {@link NetstringParseError} in the event's
 * `error` field) and drop the connection with `loseConnection()`; nothing
 * more is parsed.
 *
 * Strings are `Buffer` views of the received bytes when a whole netstring
 * arrives in one chunk; one that spans chunks is gathered in a buffer that
 * grows by doubling up to the announced length, so a large string costs a
 * bounded number of copies.
 *
 * Dispatching stops once the transport is disconnecting, and a
 * `dataReceived` made from inside `stringReceived` only buffers: the running
 * loop handles the bytes next, in order.
 *
 * Differences from Twisted: once the peer is broken, later bytes are
 * ignored (Twisted parses them again and calls `loseConnection()` each
 * time); a length followed by anything but digits or `:` (even a newline)
 * is refused at once; strings stop being dispatched when the transport is
 * disconnecting; `brokenPeer` is a boolean; Twisted's private parsing steps
 * (`_consumeLength`, `_payloadComplete`, `IncompleteNetstring`) are not part
 * of the API.
 *
 * Security: keep `maxLength` as small as your protocol allows; it bounds
 * what one peer can make this receiver buffer.
 *
 * @example
 * ```ts
 * class Echo extends NetstringReceiver {
 *   override stringReceived(string: Buffer): void {
 *     this.sendString(string);
 *   }
 * }
 * ```
 *
 * @see Twisted: twisted.protocols.basic.NetstringReceiver
 * @since 0.1.0
 */
export class NetstringReceiver extends Protocol {
  /** The longest string accepted, in bytes. Default 99999. */
  maxLength = 99999;
  /** Set once the peer sent something that is not a netstring; the connection is then dropped. */
  brokenPeer = false;
  readonly #buffer = new ByteBuffer();
  /** Whether the length has been read (then `#length` is the payload's), or is being read. */
  #inPayload = false;
  /** The length read so far (digits consumed from the buffer), or the payload's length. */
  #length = 0;
  /** How many length digits have been consumed. */
  #digits = 0;

  /**
   * Parses netstrings from the bytes and dispatches them.
   *
   * @param data - Received bytes, in any fragments.
   */
  override dataReceived(data: Uint8Array): void {
    if (this.brokenPeer) return;
    this.#buffer.receive(data, this.#parse, this);
  }

  #parse(): void {
    const buffer = this.#buffer;
    while (buffer.length > 0 && !this.brokenPeer && !isDisconnecting(this.transport)) {
      if (!this.#inPayload && !this.#parseLength()) return;
      const length = this.#length;
      if (buffer.length <= length) {
        buffer.expect(length + 1);
        return;
      }
      const terminator = buffer.byteAt(length);
      if (terminator !== COMMA) {
        this.#broken(
          `netstring of length ${length} is not terminated by ',': got ${describeByte(terminator)} at ${previewBytes(buffer, length)}`,
        );
        return;
      }
      const string = buffer.take(length);
      buffer.skip(1);
      this.#inPayload = false;
      this.#length = 0;
      this.#digits = 0;
      this.stringReceived(string);
    }
  }

  /**
   * Consumes length digits and the colon. Returns true once the colon is
   * consumed, false if more bytes are needed or the peer is broken.
   */
  #parseLength(): boolean {
    const buffer = this.#buffer;
    const available = buffer.length;
    const maxLength = Math.min(this.maxLength, Number.MAX_SAFE_INTEGER);
    let length = this.#length;
    let digits = this.#digits;
    let at = 0;
    for (; at < available; at++) {
      const byte = buffer.byteAt(at);
      if (byte === COLON) break;
      if (!isDigit(byte)) {
        buffer.skip(at);
        this.#broken(
          digits === 0
            ? `netstring does not start with a length: got ${describeByte(byte)} at ${previewBytes(buffer, 0)}`
            : `netstring length ${length} is followed by ${describeByte(byte)}, not ':'`,
        );
        return false;
      }
      if (digits === 1 && length === 0) {
        this.#broken(`netstring length has a leading zero: '0${String.fromCharCode(byte)}'`);
        return false;
      }
      length = length * 10 + (byte - ZERO);
      digits++;
      if (length > maxLength) {
        // Name the digits received so far, up to a bound.
        let shown = String(length);
        let next = at + 1;
        for (; next < available && shown.length < 24 && isDigit(buffer.byteAt(next)); next++) {
          shown += String.fromCharCode(buffer.byteAt(next));
        }
        const cut = next === available || isDigit(buffer.byteAt(next));
        if (cut) shown += '…';
        this.#broken(`netstring length ${shown} exceeds maxLength (${this.maxLength})`);
        return false;
      }
    }
    buffer.skip(at);
    this.#length = length;
    this.#digits = digits;
    if (at === available) return false;
    if (digits === 0) {
      this.#broken(`netstring has no length before ':': got ${previewBytes(buffer, 0)}`);
      return false;
    }
    buffer.skip(1);
    this.#inPayload = true;
    return true;
  }

  /** The peer sent something that is not a netstring: log why, and drop the connection. */
  #broken(reason: string): void {
    const error = new NetstringParseError(reason);
    this.brokenPeer = true;
    this.#buffer.clear();
    log.warn('{protocol}: dropping the connection: {reason}', {
      protocol: this.logPrefix(),
      reason,
      error,
    });
    this.transport.loseConnection();
  }

  /**
   * Called with each string received, without its framing. Override it.
   *
   * @param _string - The string: a view of the received bytes when it
   *   arrived in one chunk.
   */
  stringReceived(_string: Buffer): void {
    throw new Error(`${this.constructor.name} must override stringReceived`);
  }

  /**
   * Sends `string` as a netstring.
   *
   * @param string - Bytes, or a string (encoded as UTF-8).
   */
  sendString(string: Uint8Array | string): void {
    const data = toBytes(string);
    this.transport.writeSequence([Buffer.from(`${data.length}:`, 'latin1'), data, COMMA_BYTES]);
  }
}

const COMMA_BYTES = Buffer.from(',', 'latin1');

/**
 * The base of protocols that send and receive strings prefixed with their
 * length as a big-endian unsigned integer of {@link IntNStringReceiver.prefixLength}
 * bytes.
 *
 * @remarks
 * Subclasses set `prefixLength` (1 to 6); {@link Int8StringReceiver},
 * {@link Int16StringReceiver} and {@link Int32StringReceiver} are the usual
 * ones. Each string received, without its prefix, goes to
 * {@link IntNStringReceiver.stringReceived}.
 *
 * - A prefix above `maxLength` goes to
 *   {@link IntNStringReceiver.lengthLimitExceeded}, which by default drops
 *   the connection; the string is not buffered or delivered, and the bytes
 *   from that prefix on stay in {@link IntNStringReceiver.recvd}.
 * - Dispatching stops while the receiver is paused
 *   ({@link IntNStringReceiver.pauseProducing}) and once the transport is
 *   disconnecting.
 * - A `dataReceived` made from inside a callback only buffers: the running
 *   loop handles the bytes next, in order.
 * - Strings are `Buffer` views of the received bytes when a whole string
 *   arrives in one chunk; one that spans chunks is gathered in a buffer that
 *   grows by doubling up to the announced length (never allocated ahead of
 *   the bytes), so a large string costs a bounded number of copies.
 *
 * Differences from Twisted: stopping at a disconnecting transport; the
 * prefix is always big-endian (Twisted lets a subclass pick any `struct`
 * format, as `structFormat`).
 *
 * Security: `maxLength` bounds what one peer can make this receiver buffer;
 * raising it for a 4-byte prefix lets a peer ask for up to 4 GiB.
 *
 * @see Twisted: twisted.protocols.basic.IntNStringReceiver
 * @since 0.1.0
 */
export abstract class IntNStringReceiver extends PausableReceiver {
  /** How many bytes the length prefix has: 1 to 6. */
  abstract readonly prefixLength: number;
  /** The longest string accepted, in bytes. Default 99999. */
  maxLength = 99999;
  readonly #buffer = new ByteBuffer();

  /**
   * Splits the bytes into strings and dispatches them.
   *
   * @param data - Received bytes, in any fragments.
   */
  override dataReceived(data: Uint8Array): void {
    this.#buffer.receive(data, this.#dispatch, this);
  }

  #dispatch(): void {
    const buffer = this.#buffer;
    const prefixLength = this.prefixLength;
    for (;;) {
      const available = buffer.length;
      if (available < prefixLength || this.paused || isDisconnecting(this.transport)) return;
      const length = buffer.readUIntBE(prefixLength);
      if (length > this.maxLength) {
        this.lengthLimitExceeded(length);
        return;
      }
      const end = prefixLength + length;
      if (available < end) {
        buffer.expect(end);
        return;
      }
      this.stringReceived(buffer.takeAfter(prefixLength, length));
    }
  }

  /**
   * The bytes received and not yet parsed, from the next length prefix on:
   * a copy. Setting it replaces them; parsing goes on from the new bytes.
   *
   * @remarks
   * Twisted keeps this for protocols that change framing in the middle of a
   * connection (AMP's `_switchTo` reads it and empties it). Inside
   * {@link IntNStringReceiver.stringReceived} it holds what follows the
   * current string in the bytes received so far; inside
   * {@link IntNStringReceiver.lengthLimitExceeded}, the bytes from the
   * offending prefix on.
   *
   * @see Twisted: twisted.protocols.basic.IntNStringReceiver.recvd
   */
  get recvd(): Buffer {
    return this.#buffer.copyAll();
  }

  /**
   * Replaces the bytes not yet parsed; parsing goes on from `data`.
   *
   * @param data - The new unparsed bytes (copied).
   */
  set recvd(data: Uint8Array) {
    const buffer = this.#buffer;
    buffer.clear();
    buffer.append(Buffer.from(data));
    buffer.keep();
  }

  /**
   * Called with each string received, without its prefix. Override it.
   *
   * @param _string - The string: a view of the received bytes when it
   *   arrived in one chunk.
   */
  stringReceived(_string: Buffer): void {
    throw new Error(`${this.constructor.name} must override stringReceived`);
  }

  /**
   * Called with a length prefix above `maxLength`; by default drops the
   * connection.
   *
   * @param _length - The length the prefix announced, in bytes.
   */
  lengthLimitExceeded(_length: number): void {
    this.transport.loseConnection();
  }

  /**
   * Sends `string` with its length prefix.
   *
   * @param string - Bytes, or a string (encoded as UTF-8).
   * @throws {@link StringTooLongError} if the length does not fit the
   *   prefix: 2^(8 × prefixLength) bytes or more.
   */
  sendString(string: Uint8Array | string): void {
    const data = toBytes(string);
    const prefixLength = this.prefixLength;
    const limit = 2 ** (8 * prefixLength);
    if (data.length >= limit) {
      throw new StringTooLongError(
        `string length (${data.length}) does not fit a ${prefixLength}-byte length prefix (maximum ${limit - 1})`,
      );
    }
    const prefix = Buffer.allocUnsafe(prefixLength);
    prefix.writeUIntBE(data.length, 0, prefixLength);
    this.transport.writeSequence([prefix, data]);
  }
}

/**
 * Strings prefixed with their length as 4 bytes, big-endian.
 *
 * @remarks
 * See {@link IntNStringReceiver}. Strings up to 2^32 − 1 bytes can be sent;
 * received ones are limited by `maxLength` (default 99999).
 *
 * @example
 * ```ts
 * class Echo extends Int32StringReceiver {
 *   override stringReceived(string: Buffer): void {
 *     this.sendString(string);
 *   }
 * }
 * ```
 *
 * @see Twisted: twisted.protocols.basic.Int32StringReceiver
 * @since 0.1.0
 */
export class Int32StringReceiver extends IntNStringReceiver {
  /** 4: the prefix is a 32-bit unsigned integer. */
  readonly prefixLength: number = 4;
}

/**
 * Strings prefixed with their length as 2 bytes, big-endian.
 *
 * @remarks
 * See {@link IntNStringReceiver}. Strings up to 65535 bytes can be sent.
 *
 * @see Twisted: twisted.protocols.basic.Int16StringReceiver
 * @since 0.1.0
 */
export class Int16StringReceiver extends IntNStringReceiver {
  /** 2: the prefix is a 16-bit unsigned integer. */
  readonly prefixLength: number = 2;
}

/**
 * Strings prefixed with their length as 1 byte.
 *
 * @remarks
 * See {@link IntNStringReceiver}. Strings up to 255 bytes can be sent.
 *
 * @see Twisted: twisted.protocols.basic.Int8StringReceiver
 * @since 0.1.0
 */
export class Int8StringReceiver extends IntNStringReceiver {
  /** 1: the prefix is an 8-bit unsigned integer. */
  readonly prefixLength: number = 1;
}

// ---------------------------------------------------------------------------
// Stateful string protocols

/**
 * What {@link dispatchStringToState} needs of a protocol: its state, and a
 * transport to close.
 *
 * @since 0.1.0
 */
export interface StatefulStringHandler {
  /** The current state: the next string goes to `proto_<state>`. */
  state: string;
  /** The transport, closed when a handler is missing or throws, or the state becomes `'done'`. */
  readonly transport: Pick<ITransport, 'loseConnection'>;
  /** The name used in log messages. */
  logPrefix?(): string;
}

/**
 * Hands `string` to the method `proto_<state>` of `protocol`, found by
 * name; a string it returns becomes the new state.
 *
 * @remarks
 * This is the body of {@link StatefulStringProtocol.stringReceived}, for
 * protocols with another framing: call it from their `stringReceived` (AMP
 * does this with 2-byte prefixes):
 *
 * ```ts
 * class Boxes extends Int16StringReceiver implements StatefulStringHandler {
 *   state = 'init';
 *   override stringReceived(string: Buffer): void {
 *     dispatchStringToState(this, string);
 *   }
 *   proto_init(key: Buffer): string { … return 'value'; }
 * }
 * ```
 *
 * A handler that returns anything but a string leaves the state unchanged.
 * When the state becomes `'done'`, the connection is closed. When no
 * `proto_<state>` method exists, or the handler throws, the error is logged
 * (namespace `torsion.protocols.basic`) and the connection is closed; the
 * state is left as it was.
 *
 * @param protocol - The protocol whose handlers are called.
 * @param string - The string received.
 * @see Twisted: twisted.protocols.basic.StatefulStringProtocol.stringReceived
 * @since 0.1.0
 */
export function dispatchStringToState(protocol: StatefulStringHandler, string: Buffer): void {
  const state = protocol.state;
  const name = `proto_${state}`;
  const handler = (protocol as unknown as Record<string, unknown>)[name];
  const prefix = protocol.logPrefix?.() ?? protocol.constructor.name;
  if (typeof handler !== 'function') {
    log.error('{protocol}: no handler {handler} for state {state}; dropping the connection', {
      protocol: prefix,
      handler: name,
      state,
    });
    protocol.transport.loseConnection();
    return;
  }
  let next: unknown;
  try {
    next = (handler as (this: StatefulStringHandler, string: Buffer) => unknown).call(
      protocol,
      string,
    );
  } catch (error) {
    log.failure('{protocol}: {handler} failed in state {state}; dropping the connection', error, {
      protocol: prefix,
      handler: name,
      state,
    });
    protocol.transport.loseConnection();
    return;
  }
  if (typeof next === 'string') protocol.state = next;
  if (protocol.state === 'done') protocol.transport.loseConnection();
}

/**
 * A netstring protocol whose strings go to a method chosen by its state:
 * `proto_init`, then whichever state each handler returns.
 *
 * @remarks
 * Define `proto_<state>(string: Buffer)` methods; the first string goes to
 * `proto_init`. A handler that returns a string moves the protocol to that
 * state; returning nothing keeps the state. The state `'done'` closes the
 * connection. A missing handler or a throw is logged and drops the
 * connection (see {@link dispatchStringToState}).
 *
 * Design: Twisted's `StatefulStringProtocol` is a mixin, combined by
 * multiple inheritance with a string receiver. TypeScript has single
 * inheritance, and class-factory mixins lose names and docs, so this class
 * extends {@link NetstringReceiver} (the pairing Twisted documents), and the
 * dispatch itself is the exported function {@link dispatchStringToState}:
 * a protocol with another framing (say {@link Int16StringReceiver}, as AMP)
 * calls it from its own `stringReceived`, by composition.
 *
 * Differences from Twisted: a handler returning nothing keeps the state
 * (Twisted sets it to `None`); a missing handler drops the connection
 * (Twisted only logs it).
 *
 * @example
 * ```ts
 * class Login extends StatefulStringProtocol {
 *   proto_init(user: Buffer): string {
 *     this.user = user.toString('utf8');
 *     return 'password';
 *   }
 *   proto_password(password: Buffer): string {
 *     this.sendString(check(this.user, password) ? 'welcome' : 'denied');
 *     return 'done';
 *   }
 * }
 * ```
 *
 * @see Twisted: twisted.protocols.basic.StatefulStringProtocol
 * @since 0.1.0
 */
export class StatefulStringProtocol extends NetstringReceiver implements StatefulStringHandler {
  /** The current state: the next string goes to `proto_<state>`. Initially `'init'`. */
  state = 'init';

  /**
   * Hands the string to `proto_<state>`.
   *
   * @param string - The string received.
   */
  override stringReceived(string: Buffer): void {
    dispatchStringToState(this, string);
  }
}

// ---------------------------------------------------------------------------
// FileSender

/**
 * A file read synchronously, as {@link FileSender} needs: a pull producer
 * must write its chunk before `resumeProducing` returns.
 *
 * @remarks
 * {@link openFileForSending} makes one from a path; an object over bytes in
 * memory is a few lines.
 *
 * @since 0.1.0
 */
export interface ReadableFile {
  /**
   * Reads up to `length` bytes into `buffer` at `offset`.
   *
   * @param buffer - Where to put the bytes.
   * @param offset - Where in `buffer` to start.
   * @param length - The most bytes to read.
   * @returns How many bytes were read; 0 at the end of the file.
   */
  read(buffer: Uint8Array, offset: number, length: number): number;
}

/**
 * A file opened by {@link openFileForSending}.
 *
 * @since 0.1.0
 */
export interface OpenedFile extends ReadableFile {
  /** The file descriptor. */
  readonly fd: number;
  /** Closes the file. Calling it again does nothing. */
  close(): void;
}

/**
 * Opens the file at `path` for reading, as a {@link ReadableFile} for
 * {@link FileSender.beginFileTransfer}.
 *
 * @remarks
 * Reads are `fs.readSync` calls on the descriptor, from the start of the
 * file on. The sender does not close the file: close it when the transfer's
 * Deferred fires, either way.
 *
 * @example
 * ```ts
 * const file = openFileForSending('report.pdf');
 * new FileSender()
 *   .beginFileTransfer(file, transport)
 *   .addBoth((result) => {
 *     file.close();
 *     return result;
 *   });
 * ```
 *
 * @param path - The file's path.
 * @returns The open file.
 * @throws The `fs.openSync` error (`ENOENT`, `EACCES`, …) if it cannot be opened.
 * @since 0.1.0
 */
export function openFileForSending(path: string): OpenedFile {
  const fd = openSync(path, 'r');
  let closed = false;
  let position = 0;
  return {
    fd,
    read(buffer: Uint8Array, offset: number, length: number): number {
      const count = readSync(fd, buffer, offset, length, position);
      position += count;
      return count;
    },
    close(): void {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/**
 * The failure of a {@link FileSender} transfer whose consumer called
 * `stopProducing` before the end of the file.
 *
 * @since 0.1.0
 */
export class FileTransferStoppedError extends TorsionError {
  override name = 'FileTransferStoppedError' as const;
  override readonly code = 'ERR_FILE_TRANSFER_STOPPED' as const;
  constructor(
    message = 'the consumer asked the FileSender to stop producing',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A pull producer that writes a file to a consumer, one chunk each time the
 * consumer asks.
 *
 * @remarks
 * {@link FileSender.beginFileTransfer} registers the sender with the
 * consumer as a non-streaming (pull) producer; each `resumeProducing` reads
 * up to `chunkSize` bytes, passes them through the optional transform and
 * writes them. The read that finds the end of the file unregisters the
 * sender and fires the Deferred with the last byte written.
 *
 * Differences from Twisted: the file is a {@link ReadableFile} (a
 * synchronous `read` into a buffer) rather than a Python file object; the
 * Deferred fires with the last byte as a number (or `undefined` when
 * nothing was written), not as a one-byte string; a read or transform
 * that throws fails the Deferred and unregisters the sender, instead of
 * raising from `resumeProducing`; cancelling the Deferred stops the
 * transfer.
 *
 * @see Twisted: twisted.protocols.basic.FileSender
 * @since 0.1.0
 */
export class FileSender implements IPullProducer {
  /** The most bytes read and written per `resumeProducing`. Default 16384. */
  chunkSize = 16384;
  /** The last byte written to the consumer, if any. */
  lastSent: number | undefined = undefined;
  /** The file being sent; `undefined` before the transfer and after it ends. */
  #file: ReadableFile | undefined;
  #consumer: IConsumer | undefined;
  #transform: ((chunk: Buffer) => Uint8Array) | undefined;
  /** The transfer's Deferred, until it fires. */
  #deferred: Deferred<number | undefined> | undefined;

  /**
   * Starts sending `file` to `consumer`.
   *
   * @remarks
   * Cancellation: cancelling the returned Deferred stops the transfer (no
   * more reads), unregisters the sender from the consumer and fails the
   * Deferred with `CancelledError`.
   *
   * @param file - Where the bytes come from.
   * @param consumer - Where they go, usually a transport.
   * @param transform - Applied to each chunk read before it is written.
   * @returns A Deferred that fires with the last byte written (`undefined`
   *   if nothing was) once the whole file has been written, or fails with
   *   {@link FileTransferStoppedError} if the consumer stops the transfer,
   *   or with the error of a read or transform that throws.
   * @see Twisted: twisted.protocols.basic.FileSender.beginFileTransfer
   */
  beginFileTransfer(
    file: ReadableFile,
    consumer: IConsumer,
    transform?: (chunk: Buffer) => Uint8Array,
  ): Deferred<number | undefined> {
    this.#file = file;
    this.#consumer = consumer;
    this.#transform = transform;
    const deferred = new Deferred<number | undefined>(() => {
      if (this.#deferred !== deferred) return;
      this.#deferred = undefined;
      this.#finish();
    });
    this.#deferred = deferred;
    consumer.registerProducer(this, false);
    return deferred;
  }

  /** Writes the next chunk to the consumer, or finishes the transfer at the end of the file. */
  resumeProducing(): void {
    const file = this.#file;
    if (file === undefined) return;
    let chunk: Uint8Array;
    try {
      const buffer = Buffer.allocUnsafe(this.chunkSize);
      const count = file.read(buffer, 0, buffer.length);
      if (count <= 0) {
        this.#finish();
        const deferred = this.#deferred;
        this.#deferred = undefined;
        deferred?.callback(this.lastSent);
        return;
      }
      const read = buffer.subarray(0, count);
      chunk = this.#transform === undefined ? read : this.#transform(read);
    } catch (error) {
      this.#finish();
      const deferred = this.#deferred;
      this.#deferred = undefined;
      deferred?.errback(error);
      return;
    }
    this.#consumer?.write(chunk);
    if (chunk.length > 0) this.lastSent = chunk[chunk.length - 1];
  }

  /** Does nothing: a pull producer writes only when asked. */
  pauseProducing(): void {}

  /** Stops the transfer: the Deferred fails with {@link FileTransferStoppedError}. */
  stopProducing(): void {
    this.#file = undefined;
    const deferred = this.#deferred;
    this.#deferred = undefined;
    deferred?.errback(new FileTransferStoppedError());
  }

  /** Ends the transfer: no more reads, unregistered from the consumer. */
  #finish(): void {
    this.#file = undefined;
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#transform = undefined;
    consumer?.unregisterProducer();
  }
}
