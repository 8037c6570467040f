// Length-prefixed strings: IntNStringReceiver and its 1-, 2- and 4-byte
// forms, and the error sendString throws for a string its prefix cannot
// carry (Twisted: twisted.protocols.basic.IntNStringReceiver).
// Tests: test/unit/protocols/basic-intn.test.ts, test/fuzz/basic.test.ts

import { bindMethods } from '../../internet/_bind.js';
import { TorsionError } from '../../internet/error.js';
import type { IProtocolFactory, ITCPTransport } from '../../internet/interfaces.js';
import type { Factory } from '../../internet/protocol.js';
import { refuseTwistedNames } from './_twisted-names.js';
import { ByteBuffer, toBytes } from './byte-buffer.js';
import { PausableReceiver } from './pausable.js';

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
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic.IntNStringReceiver
 * @since 0.1.0
 */
export abstract class IntNStringReceiver<
  F extends IProtocolFactory | undefined = Factory | undefined,
> extends PausableReceiver<F> {
  /** `sendString` works unbound (`d.addCallback(this.sendString)`). */
  constructor() {
    super();
    bindMethods(this, ['sendString']);
  }

  /** How many bytes the length prefix has: 1 to 6. */
  abstract readonly prefixLength: number;
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
      if (available < prefixLength || this.paused || this.transport?.disconnecting === true) return;
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
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic.Int32StringReceiver
 * @since 0.1.0
 */
export class Int32StringReceiver<
  F extends IProtocolFactory | undefined = Factory | undefined,
> extends IntNStringReceiver<F> {
  /** 4: the prefix is a 32-bit unsigned integer. */
  readonly prefixLength: number = 4;
}

/**
 * Strings prefixed with their length as 2 bytes, big-endian.
 *
 * @remarks
 * See {@link IntNStringReceiver}. Strings up to 65535 bytes can be sent.
 *
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic.Int16StringReceiver
 * @since 0.1.0
 */
export class Int16StringReceiver<
  F extends IProtocolFactory | undefined = Factory | undefined,
> extends IntNStringReceiver<F> {
  /** 2: the prefix is a 16-bit unsigned integer. */
  readonly prefixLength: number = 2;
}

/**
 * Strings prefixed with their length as 1 byte.
 *
 * @remarks
 * See {@link IntNStringReceiver}. Strings up to 255 bytes can be sent.
 *
 * @typeParam F - The type of its `factory`, the factory that builds it
 *   (see `Protocol`).
 * @see Twisted: twisted.protocols.basic.Int8StringReceiver
 * @since 0.1.0
 */
export class Int8StringReceiver<
  F extends IProtocolFactory | undefined = Factory | undefined,
> extends IntNStringReceiver<F> {
  /** 1: the prefix is an 8-bit unsigned integer. */
  readonly prefixLength: number = 1;
}
