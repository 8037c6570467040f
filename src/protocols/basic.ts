// Basic framing protocols: bytes → lines, length-prefixed strings,
// netstrings (Twisted: twisted.protocols.basic).
// Tests: test/unit/protocols/basic-*.test.ts, test/fuzz/basic.test.ts

import { Protocol } from '../internet/protocol.js';

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

/** A view of `length` bytes of `source` from `offset`: no copy. */
function view(source: Buffer, offset: number, length: number): Buffer {
  // Buffer.from(arrayBuffer, …) makes a view faster than Buffer#subarray.
  return Buffer.from(source.buffer, source.byteOffset + offset, length);
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
  #tailStart = 0;
  #tailEnd = 0;
  #chunk: Buffer = EMPTY;
  #chunkStart = 0;
  #chunkEnd = 0;
  /**
   * Where the next delimiter search begins, counted in buffered bytes from
   * the start: bytes before it hold no delimiter start, so a long line is
   * never searched twice.
   */
  #searched = 0;

  get length(): number {
    return this.#tailEnd - this.#tailStart + (this.#chunkEnd - this.#chunkStart);
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
      this.#appendToTail(this.#chunk, this.#chunkStart, this.#chunkEnd);
    } else if (this.#tailEnd === this.#tailStart) {
      this.#tail = EMPTY;
      this.#tailStart = 0;
      this.#tailEnd = 0;
    }
    this.#dropChunk();
  }

  /** Copies `source[from:to]` to the end of the tail, growing its store if needed. */
  #appendToTail(source: Buffer, from: number, to: number): void {
    const length = to - from;
    const tailLength = this.#tailEnd - this.#tailStart;
    if (this.#tailEnd + length > this.#tail.length) {
      // A new store: the old one keeps backing the lines already delivered.
      const store = Buffer.allocUnsafe(Math.max((tailLength + length) * 2, 1024));
      this.#tail.copy(store, 0, this.#tailStart, this.#tailEnd);
      this.#tail = store;
      this.#tailStart = 0;
      this.#tailEnd = tailLength;
    }
    source.copy(this.#tail, this.#tailEnd, from, to);
    this.#tailEnd += length;
  }

  /** Takes everything buffered. */
  takeAll(): Buffer {
    const tailLength = this.#tailEnd - this.#tailStart;
    const chunkLength = this.#chunkEnd - this.#chunkStart;
    let all: Buffer;
    if (chunkLength === 0) all = view(this.#tail, this.#tailStart, tailLength);
    else if (tailLength === 0) all = view(this.#chunk, this.#chunkStart, chunkLength);
    else {
      all = Buffer.allocUnsafe(tailLength + chunkLength);
      this.#tail.copy(all, 0, this.#tailStart, this.#tailEnd);
      this.#chunk.copy(all, tailLength, this.#chunkStart, this.#chunkEnd);
    }
    this.clear();
    return all;
  }

  clear(): void {
    this.#tail = EMPTY;
    this.#tailStart = 0;
    this.#tailEnd = 0;
    this.#dropChunk();
    this.#searched = 0;
  }

  /**
   * Takes the next line ending in `delimiter` (without it), or returns
   * `undefined` if no complete line is buffered. `maxLength` is checked by
   * the caller on the line's length; `lineLength` reports it without
   * building the line (for the oversized case).
   */
  nextLine(delimiter: Uint8Array): Buffer | undefined {
    const dl = delimiter.length;
    const first = delimiter[0] as number;
    const tail = this.#tail;
    const tailLength = this.#tailEnd - this.#tailStart;
    if (tailLength > 0) {
      // In the tail itself (bytes queued by a nested dataReceived). Usually
      // the tail is what was left after a search, so this is skipped; it must
      // be, since indexOf would also scan the store's unused space.
      const tailFrom = this.#tailStart + this.#searched;
      const inTailAt =
        tailFrom + dl <= this.#tailEnd
          ? findIn(tail, tailFrom, this.#tailEnd, delimiter, first)
          : -1;
      if (inTailAt !== -1) {
        const line = view(tail, this.#tailStart, inTailAt - this.#tailStart);
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
        const line = view(tail, this.#tailStart, from - this.#tailStart);
        this.#resetTail();
        this.#chunkStart += dl - inTail;
        this.#searched = 0;
        return line;
      }
      // In the chunk: the line is the tail plus the chunk's head, appended to the tail's store.
      const searchFrom = Math.max(this.#searched - tailLength, 0);
      const at = findIn(chunk, chunkStart + searchFrom, this.#chunkEnd, delimiter, first);
      if (at === -1) {
        this.#searched = Math.max(this.length - dl + 1, 0);
        return undefined;
      }
      this.#appendToTail(chunk, chunkStart, at);
      const line = view(this.#tail, this.#tailStart, this.#tailEnd - this.#tailStart);
      this.#resetTail();
      this.#chunkStart = at + dl;
      this.#searched = 0;
      return line;
    }
    const chunk = this.#chunk;
    const chunkStart = this.#chunkStart;
    const at = findIn(chunk, chunkStart + this.#searched, this.#chunkEnd, delimiter, first);
    if (at === -1) {
      this.#searched = Math.max(this.#chunkEnd - chunkStart - dl + 1, 0);
      return undefined;
    }
    this.#chunkStart = at + dl;
    this.#searched = 0;
    return view(chunk, chunkStart, at - chunkStart);
  }

  /** Empties the tail, keeping its store for what comes next (never writing below its end). */
  #resetTail(): void {
    this.#tailStart = this.#tailEnd;
  }

  #dropChunk(): void {
    this.#chunk = EMPTY;
    this.#chunkStart = 0;
    this.#chunkEnd = 0;
  }
}

/**
 * The index of `delimiter` in `data` between `from` and `end`, or -1.
 * Searches for the delimiter's first byte and checks the rest: a one-byte
 * `indexOf` is a memchr, several times faster than a multi-byte search.
 */
function findIn(
  data: Buffer,
  from: number,
  end: number,
  delimiter: Uint8Array,
  first: number,
): number {
  const dl = delimiter.length;
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
export class LineReceiver extends Protocol {
  /** The line delimiter. Default `\r\n`. */
  delimiter: Uint8Array = Buffer.from('\r\n');
  /** The longest line accepted, in bytes. Default 16384. */
  maxLength = 16384;
  /** Whether the receiver is paused (see {@link LineReceiver.pauseProducing}). */
  paused = false;
  #lineMode = true;
  readonly #buffer = new ByteBuffer();
  /** True while the parsing loop runs: a nested dataReceived only buffers. */
  #busy = false;

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
    const buffer = this.#buffer;
    buffer.append(asBuffer(data));
    if (this.#busy) {
      // Called from a callback: queue the bytes (copied, since the caller
      // may reuse them) for the running loop.
      buffer.keep();
      return;
    }
    this.#busy = true;
    try {
      this.#dispatch();
    } finally {
      this.#busy = false;
      // The caller's chunk may be reused once we return: keep what is left.
      buffer.keep();
    }
  }

  #dispatch(): void {
    const buffer = this.#buffer;
    while (buffer.length > 0 && !this.paused) {
      if (!this.#lineMode) {
        this.rawDataReceived(buffer.takeAll());
        continue;
      }
      const delimiter = this.delimiter;
      const line = buffer.nextLine(delimiter);
      if (line === undefined) {
        if (buffer.length >= this.maxLength + delimiter.length)
          this.lineLengthExceeded(buffer.takeAll());
        return;
      }
      if (line.length > this.maxLength) {
        this.lineLengthExceeded(Buffer.concat([line, delimiter, buffer.takeAll()]));
        return;
      }
      this.lineReceived(line);
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
 * A faster line receiver for protocols that only ever receive lines: no raw
 * mode, no pausing, no re-entrancy guard.
 *
 * @remarks
 * Limits as {@link LineReceiver}: a line longer than `maxLength`, or more
 * than `maxLength` bytes without a delimiter, goes to
 * {@link LineOnlyReceiver.lineLengthExceeded}. Dispatching stops once the
 * transport is disconnecting. `sendLine` writes the line and the delimiter
 * as one `writeSequence`.
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
    if (buffer.length > this.maxLength) {
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
