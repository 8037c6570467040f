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

/**
 * The bytes received and not yet consumed.
 *
 * While nothing is buffered, a chunk is parsed where it lies (no copy); only
 * an unfinished tail is copied into a store, which grows by doubling. Bytes
 * below the write position are never overwritten, so views of them (the
 * lines delivered) stay valid; compacting or growing allocates a new store.
 */
class ByteBuffer {
  /** The bytes, from `start` to `end`; either a received chunk or the store. */
  data: Buffer = EMPTY;
  start = 0;
  end = 0;
  /**
   * Where the next delimiter search begins: bytes before it are known to
   * hold no delimiter start, so a long line is never searched twice.
   */
  searchFrom = 0;
  /** Whether `data` is our store (appendable) rather than the caller's chunk. */
  #owned = false;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Buffer): void {
    const length = this.end - this.start;
    if (length === 0) {
      // Nothing buffered: parse the chunk where it lies.
      this.data = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.searchFrom = 0;
      this.#owned = false;
      return;
    }
    if (!this.#owned || this.end + chunk.length > this.data.length) {
      this.#moveTo(Buffer.allocUnsafe(Math.max((length + chunk.length) * 2, 256)));
    }
    chunk.copy(this.data, this.end);
    this.end += chunk.length;
  }

  /** Copies a remainder still in the caller's chunk into a store of our own. */
  keep(): void {
    if (this.#owned || this.start === this.end) return;
    this.#moveTo(Buffer.allocUnsafe(this.end - this.start));
  }

  /** Takes everything buffered (a view, never overwritten afterwards). */
  takeAll(): Buffer {
    const all = this.data.subarray(this.start, this.end);
    this.clear();
    return all;
  }

  /** Consumes the bytes before `position`. */
  consumeTo(position: number): void {
    this.start = position;
    if (this.searchFrom < position) this.searchFrom = position;
    if (this.start === this.end) this.clear();
  }

  clear(): void {
    this.data = EMPTY;
    this.start = 0;
    this.end = 0;
    this.searchFrom = 0;
    this.#owned = false;
  }

  /**
   * The index of the next `delimiter` within the buffered bytes, or -1; on
   * -1, later searches resume where a delimiter could still begin.
   */
  find(delimiter: Uint8Array): number {
    const at = this.data.indexOf(delimiter, Math.max(this.searchFrom, this.start));
    if (at !== -1 && at + delimiter.length <= this.end) return at;
    this.searchFrom = Math.max(this.end - delimiter.length + 1, this.start);
    return -1;
  }

  #moveTo(store: Buffer): void {
    const shift = this.start;
    this.data.copy(store, 0, this.start, this.end);
    this.data = store;
    this.end -= shift;
    this.start = 0;
    this.searchFrom = Math.max(this.searchFrom - shift, 0);
    this.#owned = true;
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
    const chunk = asBuffer(data);
    if (this.#busy) {
      if (chunk.length > 0) buffer.append(chunk);
      return;
    }
    this.#busy = true;
    try {
      if (chunk.length > 0) buffer.append(chunk);
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
      const at = buffer.find(delimiter);
      if (at === -1) {
        if (buffer.length >= this.maxLength + delimiter.length)
          this.lineLengthExceeded(buffer.takeAll());
        return;
      }
      if (at - buffer.start > this.maxLength) {
        this.lineLengthExceeded(buffer.takeAll());
        return;
      }
      const line = buffer.data.subarray(buffer.start, at);
      buffer.consumeTo(at + delimiter.length);
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
    const chunk = asBuffer(data);
    if (chunk.length === 0) return;
    buffer.append(chunk);
    const delimiter = this.delimiter;
    for (let at = buffer.find(delimiter); at !== -1; at = buffer.find(delimiter)) {
      if (isDisconnecting(this.transport)) {
        buffer.clear();
        return;
      }
      const line = buffer.data.subarray(buffer.start, at);
      buffer.consumeTo(at + delimiter.length);
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
