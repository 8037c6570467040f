// Line receivers: LineReceiver (lines and raw data, pausable) and
// LineOnlyReceiver (lines only) (Twisted: twisted.protocols.basic).
// Tests: test/unit/protocols/basic-line.test.ts, test/unit/protocols/basic-lineonly.test.ts,
// test/fuzz/basic.test.ts

import { bindMethods } from '../../internet/_bind.js';
import type { IProtocolFactory, ITCPTransport } from '../../internet/interfaces.js';
import { type Factory, Protocol } from '../../internet/protocol.js';
import { refuseTwistedNames } from './_twisted-names.js';
import { asBuffer, ByteBuffer, EMPTY, toBytes } from './byte-buffer.js';
import { PausableReceiver } from './pausable.js';

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
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic.LineReceiver
 * @since 0.1.0
 */
export class LineReceiver<
  F extends IProtocolFactory | undefined = Factory | undefined,
> extends PausableReceiver<F> {
  /** `sendLine` works unbound: `new LoopingCall(clock, this.sendLine, 'PING')`. */
  constructor() {
    super();
    bindMethods(this, ['sendLine']);
  }

  /** The line delimiter. Default `\r\n`. */
  delimiter: Uint8Array = Buffer.from('\r\n');
  /** The longest line accepted, in bytes. Default 16384. */
  maxLength = 16384;
  /**
   * Twisted's name for `maxLength`, which this class does not read: setting
   * it does not compile, and one set from JavaScript is refused with a
   * `TypeError` when the connection is made.
   *
   * @deprecated Set `maxLength`.
   */
  declare readonly MAX_LENGTH?: never;

  /** Attaches the transport; refuses Twisted's `MAX_LENGTH` (see above). */
  override makeConnection(transport: ITCPTransport): void {
    refuseTwistedNames(this);
    super.makeConnection(transport);
  }

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
        if (this.transport?.disconnecting === true) return;
        continue;
      }
      // Bytes the handler handed back (setLineMode(extra)) are parsed now.
      // Twisted returns here and leaves them until more data arrives, so what
      // it delivers would depend on how the bytes were split.
      if (this.transport?.disconnecting === true) return;
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
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic.LineOnlyReceiver
 * @since 0.1.0
 */
export class LineOnlyReceiver<
  F extends IProtocolFactory | undefined = Factory | undefined,
> extends Protocol<ITCPTransport, F> {
  /** `sendLine` works unbound, as {@link LineReceiver}'s. */
  constructor() {
    super();
    bindMethods(this, ['sendLine']);
  }

  /** The line delimiter. Default `\r\n`. */
  delimiter: Uint8Array = Buffer.from('\r\n');
  /** The longest line accepted, in bytes. Default 16384. */
  maxLength = 16384;
  /**
   * Twisted's name for `maxLength`, which this class does not read: setting
   * it does not compile, and one set from JavaScript is refused with a
   * `TypeError` when the connection is made.
   *
   * @deprecated Set `maxLength`.
   */
  declare readonly MAX_LENGTH?: never;

  /** Attaches the transport; refuses Twisted's `MAX_LENGTH` (see above). */
  override makeConnection(transport: ITCPTransport): void {
    refuseTwistedNames(this);
    super.makeConnection(transport);
  }

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
      if (this.transport?.disconnecting === true) {
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
