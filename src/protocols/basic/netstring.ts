// Netstrings: NetstringReceiver and the error it logs when the peer breaks the
// framing (Twisted: twisted.protocols.basic.NetstringReceiver).
// Tests: test/unit/protocols/basic-netstring.test.ts, test/fuzz/basic.test.ts

import { bindMethods } from '../../internet/_bind.js';
import { TorsionError } from '../../internet/error.js';
import type { IProtocolFactory, ITCPTransport } from '../../internet/interfaces.js';
import { type Factory, Protocol } from '../../internet/protocol.js';
import { Logger } from '../../logger/logger.js';
import { refuseTwistedNames } from './_twisted-names.js';
import { ByteBuffer, toBytes } from './byte-buffer.js';

const log = new Logger('torsion.protocols.basic');

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
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic.NetstringReceiver
 * @since 0.1.0
 */
export class NetstringReceiver<
  F extends IProtocolFactory | undefined = Factory | undefined,
> extends Protocol<ITCPTransport, F> {
  /** `sendString` works unbound (`d.addCallback(this.sendString)`). */
  constructor() {
    super();
    bindMethods(this, ['sendString']);
  }

  /** The longest string accepted, in bytes. Default 99999. */
  maxLength = 99999;
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
    while (buffer.length > 0 && !this.brokenPeer && !this.transport?.disconnecting === true) {
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
