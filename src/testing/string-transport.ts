// StringTransport: a transport that keeps what is written in memory and
// records its other state, for testing protocols one side at a time
// (Twisted: twisted.internet.testing.StringTransport).
// Tests: test/unit/testing/string-transport.test.ts, test/unit/internet/starttls.test.ts, test/unit/internet/write-limits.test.ts, test/unit/internet/transport-disconnecting.test.ts

import type { ConnectionOptions, PeerCertificate, TlsOptions } from 'node:tls';
import { bindMethods, TRANSPORT_METHODS } from '../internet/_bind.js';
import { resolveWriteBufferLimits } from '../internet/_write-limits.js';
import { type IPAddress, IPv4Address } from '../internet/address.js';
import { ConnectionAborted, ConnectionDone } from '../internet/error.js';
import { Failure } from '../internet/failure.js';
import type {
  IAddress,
  IProtocol,
  IPullProducer,
  IPushProducer,
  ITLSTransport,
  IWriteBufferLimits,
  StartTLSOptions,
  WriteBufferLimitOptions,
  WriteBufferLimits,
} from '../internet/interfaces.js';
import { checkByteSequence, checkBytes } from './_bytes.js';

/**
 * The state of a test transport in its role as a push producer of what it
 * reads.
 *
 * @since 0.1.0
 */
export type ProducerState = 'producing' | 'paused' | 'stopped';

/**
 * Options of {@link StringTransport}.
 *
 * @typeParam A - The type of the addresses given.
 */
export interface StringTransportOptions<A extends IAddress = IAddress> {
  /**
   * What `getHost()` returns.
   * @defaultValue `IPv4Address('TCP', '10.0.0.1', 12345)`
   */
  hostAddress?: A | undefined;
  /**
   * What `getPeer()` returns.
   * @defaultValue `IPv4Address('TCP', '192.168.1.1', 54321)`
   */
  peerAddress?: A | undefined;
  /**
   * Allows `pauseProducing` and `resumeProducing` after `loseConnection`.
   *
   * @remarks
   * By default they throw then, so that code which expects more data after
   * closing shows up in tests. Set this when a test pauses or resumes a
   * closing transport on purpose.
   *
   * @defaultValue false
   */
  lenient?: boolean | undefined;
}

/**
 * A transport that keeps every byte written to it in memory, and records
 * its other state without doing anything.
 *
 * @remarks
 * Connect it to a protocol with `protocol.makeConnection(transport)`, feed
 * the protocol with `dataReceived`, and read what it wrote with
 * {@link StringTransport.value}. Nothing is sent anywhere and no event loop
 * is needed.
 *
 * Besides the transport interfaces it implements, a StringTransport has
 * members for tests only (`value`, `clear`, `disconnecting`, `disconnected`,
 * `producer`, `streaming`, `producerState`, …). Code under test must not use
 * them: real transports do not have them.
 *
 * As a push producer (of what it would read), it only records its state:
 * `pauseProducing` and `resumeProducing` throw once the transport is
 * stopped, or once `loseConnection` was called unless `lenient` is set.
 *
 * @example
 * ```ts
 * const transport = new StringTransport();
 * const proto = new Echo();
 * proto.makeConnection(transport);
 * proto.dataReceived(Buffer.from('hello'));
 * assert.deepEqual(transport.value(), Buffer.from('hello'));
 * ```
 *
 * @typeParam A - The type of its addresses, inferred from the addresses
 *   given: `IPAddress` by default (`new StringTransport().getPeer().port`
 *   compiles). The defaults are IPv4 addresses, so give both addresses when
 *   they are of another kind.
 * @see Twisted: twisted.internet.testing.StringTransport
 * @since 0.1.0
 */
export class StringTransport<A extends IAddress = IPAddress>
  implements ITLSTransport<A>, IWriteBufferLimits
{
  /** False until `loseConnection` (or `abortConnection`) is called. */
  disconnecting = false;
  /** False until `abortConnection` is called. */
  disconnected = false;
  /** False until `loseWriteConnection` is called. */
  writeDisconnecting = false;
  /** Whether the transport is connected; `StringTransportWithDisconnection` clears it. */
  connected = true;
  /** The registered producer, if there is one. */
  producer: IPushProducer | IPullProducer | undefined = undefined;
  /** Whether the registered producer is a push producer; `undefined` if none is registered. */
  streaming: boolean | undefined = undefined;
  /** The transport's state as a push producer. */
  producerState: ProducerState = 'producing';
  /**
   * Whether `startTLS` was called. Nothing is encrypted: what is written
   * afterwards is recorded as it is (call `clear()` at the switch to tell
   * the two apart), and the handshake never happens by itself: call the
   * protocol's `handshakeCompleted()` to play its success, or its
   * `connectionLost` for a failure.
   */
  tlsStarted = false;
  /** The options `startTLS` was given. */
  tlsOptions: ConnectionOptions | TlsOptions | undefined = undefined;
  /** The side `startTLS` was asked to play: `server` as given (`undefined` for the default side). */
  tlsServer: boolean | undefined = undefined;
  /** The `unread` bytes `startTLS` was given, if any. */
  tlsUnread: Uint8Array | undefined = undefined;
  /** What `getPeerCertificate()` returns; set it to play a handshake's outcome. */
  peerCertificate: PeerCertificate | null = null;
  /** The protocol agreed through ALPN; set it to play a handshake's outcome. */
  negotiatedProtocol: string | null = null;
  /** What `getHost()` returns; `undefined` for the default address. */
  hostAddr: A | undefined;
  /** What `getPeer()` returns; `undefined` for the default address. */
  peerAddr: A | undefined;
  // The chunks written since the last clear(), in order.
  #chunks: Uint8Array[] = [];
  readonly #lenient: boolean;
  #noDelay = false;
  #keepAlive = false;
  #limits: WriteBufferLimits = resolveWriteBufferLimits();

  /**
   * @param options - Addresses and leniency; see {@link StringTransportOptions}.
   */
  constructor(options: StringTransportOptions<A> = {}) {
    this.hostAddr = options.hostAddress;
    this.peerAddr = options.peerAddress;
    this.#lenient = options.lenient ?? false;
    bindMethods(this, TRANSPORT_METHODS);
  }

  /**
   * Forgets everything written so far. For tests only.
   */
  clear(): void {
    this.#chunks = [];
  }

  /**
   * Everything written since the transport was made or last cleared, as one
   * Buffer. For tests only.
   */
  value(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks)];
    const only = this.#chunks[0] as Uint8Array;
    return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
  }

  /**
   * Records `data`.
   *
   * @throws TypeError if `data` is not a Uint8Array (a string, say).
   */
  write(data: Uint8Array): void {
    checkBytes(data, 'write');
    // Copied: the caller may reuse its buffer after write() returns.
    this.#chunks.push(new Uint8Array(data));
  }

  /**
   * Records each chunk in turn.
   *
   * @throws TypeError if a chunk is not a Uint8Array.
   */
  writeSequence(data: Iterable<Uint8Array>): void {
    for (const chunk of checkByteSequence(data, 'writeSequence')) this.write(chunk);
  }

  /** Sets `disconnecting`; nothing else happens. */
  loseConnection(): void {
    this.disconnecting = true;
  }

  /** Sets `disconnected`, then does what `loseConnection` does. */
  abortConnection(): void {
    this.disconnected = true;
    this.loseConnection();
  }

  /** Sets `writeDisconnecting`; nothing else happens. */
  loseWriteConnection(): void {
    this.writeDisconnecting = true;
  }

  /** The peer address given, or `IPv4Address('TCP', '192.168.1.1', 54321)`. */
  getPeer(): A {
    return this.peerAddr ?? (new IPv4Address('TCP', '192.168.1.1', 54321) as IAddress as A);
  }

  /** The host address given, or `IPv4Address('TCP', '10.0.0.1', 12345)`. */
  getHost(): A {
    return this.hostAddr ?? (new IPv4Address('TCP', '10.0.0.1', 12345) as IAddress as A);
  }

  /**
   * Records `producer` and `streaming`.
   *
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.producer !== undefined) throw new Error('Cannot register two producers');
    this.producer = producer;
    this.streaming = streaming;
  }

  /**
   * Forgets the registered producer.
   *
   * @throws Error if no producer is registered.
   */
  unregisterProducer(): void {
    if (this.producer === undefined) {
      throw new Error('Cannot unregister a producer unless one is registered');
    }
    this.producer = undefined;
    this.streaming = undefined;
  }

  /**
   * Sets `producerState` to `'paused'`.
   *
   * @throws Error if the transport is stopped, or disconnecting and not lenient.
   */
  pauseProducing(): void {
    this.#checkState('pause');
    this.producerState = 'paused';
  }

  /**
   * Sets `producerState` to `'producing'`.
   *
   * @throws Error if the transport is stopped, or disconnecting and not lenient.
   */
  resumeProducing(): void {
    this.#checkState('resume');
    this.producerState = 'producing';
  }

  /** Sets `producerState` to `'stopped'`, for good. */
  stopProducing(): void {
    this.producerState = 'stopped';
  }

  /**
   * Records the call (see {@link StringTransport.tlsStarted}).
   *
   * @throws Error as a real transport does: if TLS was started already, or
   *   the transport is closing or half-closed; TypeError if `options` is not an object.
   */
  startTLS(options: ConnectionOptions | TlsOptions, how: StartTLSOptions = {}): void {
    if (this.tlsStarted) throw new Error('startTLS(): the transport already uses TLS');
    if (this.disconnecting || this.writeDisconnecting) {
      throw new Error('startTLS(): the transport is closing or half-closed');
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError('startTLS() expects TLS options (an object)');
    }
    this.tlsStarted = true;
    this.tlsOptions = options;
    this.tlsServer = how.server;
    this.tlsUnread = how.unread;
  }

  /** {@link StringTransport.peerCertificate}. */
  getPeerCertificate(): PeerCertificate | null {
    return this.peerCertificate;
  }

  /** The value last given to `setTcpNoDelay`; false at first. */
  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  /** Records whether Nagle's algorithm is off. */
  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
  }

  /** The value last given to `setTcpKeepAlive`; false at first. */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Records whether keep-alive probes are on. */
  setTcpKeepAlive(enabled: boolean): void {
    this.#keepAlive = enabled;
  }

  /**
   * Checks and records the marks; nothing else happens: a StringTransport
   * never buffers, so it never pauses a producer.
   *
   * @throws RangeError if a mark is negative or not a whole number, or
   *   `low` is above `high`.
   */
  setWriteBufferLimits(limits?: WriteBufferLimitOptions): void {
    this.#limits = resolveWriteBufferLimits(limits);
  }

  /** The marks last set: 64 KiB and 16 KiB at first. */
  getWriteBufferLimits(): WriteBufferLimits {
    return this.#limits;
  }

  /** Always 0: what is written is recorded at once, never waits to be sent. */
  getWriteBufferSize(): number {
    return 0;
  }

  #checkState(action: 'pause' | 'resume'): void {
    if (this.disconnecting && !this.#lenient) {
      throw new Error(`Cannot ${action} producing after loseConnection`);
    }
    if (this.producerState === 'stopped') throw new Error(`Cannot ${action} a stopped producer`);
  }
}

/**
 * A {@link StringTransport} that tells its protocol when it is closed.
 *
 * @remarks
 * Set {@link StringTransportWithDisconnection.protocol} (or pass it in the
 * options). The first `loseConnection()` calls the protocol's
 * `connectionLost` with a Failure of `ConnectionDone`; the first
 * `abortConnection()` with a Failure of `ConnectionAborted`. Later calls do
 * nothing, so `connectionLost` runs once.
 *
 * Differences from Twisted: `loseConnection` also sets `disconnecting`, and
 * `abortConnection` reports `ConnectionAborted` rather than `ConnectionDone`,
 * as real transports do.
 *
 * @typeParam A - The type of its addresses, as {@link StringTransport}'s.
 * @see Twisted: twisted.internet.testing.StringTransportWithDisconnection
 * @since 0.1.0
 */
export class StringTransportWithDisconnection<
  A extends IAddress = IPAddress,
> extends StringTransport<A> {
  /** The protocol told about the disconnection. */
  protocol: IProtocol | undefined;

  /**
   * @param options - As {@link StringTransport}'s, and the protocol to tell.
   */
  constructor(options: StringTransportOptions<A> & { protocol?: IProtocol } = {}) {
    super(options);
    this.protocol = options.protocol;
  }

  /**
   * Marks the transport disconnected and calls the protocol's
   * `connectionLost` with a Failure of `ConnectionDone`, the first time.
   *
   * @throws Error if no protocol is set.
   */
  override loseConnection(): void {
    this.#disconnect(new ConnectionDone('Bye.'));
  }

  /**
   * Like `loseConnection`, but also sets `disconnected`, and the reason is
   * `ConnectionAborted`.
   *
   * @throws Error if no protocol is set.
   */
  override abortConnection(): void {
    this.disconnected = true;
    this.#disconnect(new ConnectionAborted());
  }

  #disconnect(reason: Error): void {
    if (!this.connected) return;
    const protocol = this.protocol;
    if (protocol === undefined) {
      throw new Error('StringTransportWithDisconnection has no protocol to tell: set protocol');
    }
    this.connected = false;
    this.disconnecting = true;
    protocol.connectionLost(new Failure(reason));
  }
}
