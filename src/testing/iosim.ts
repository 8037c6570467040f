// A simulated connection between two protocols in memory: each side's
// transport buffers what is written, and an IOPump moves the bytes across
// when the test says so (Twisted: twisted.test.iosim).
// Tests: test/unit/testing/iosim.test.ts, test/unit/internet/half-close.test.ts, test/unit/internet/write-limits.test.ts,
// test/unit/testing/iosim-tls.test.ts

import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, PeerCertificate, TlsOptions } from 'node:tls';
import { bindMethods, TRANSPORT_METHODS } from '../internet/_bind.js';
import { isHalfCloseable } from '../internet/_half-close.js';
import {
  DEFAULT_WRITE_HIGH,
  DEFAULT_WRITE_LOW,
  resolveWriteBufferLimits,
} from '../internet/_write-limits.js';
import { IPv4Address } from '../internet/address.js';
import { Deferred } from '../internet/defer.js';
import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  NoProtocol,
} from '../internet/error.js';
import { Failure } from '../internet/failure.js';
import type {
  EndpointConnectOptions,
  IAddress,
  IConnector,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  IStreamClientEndpoint,
  ITLSTransport,
  IWriteBufferLimits,
  ProtocolOf,
  StartTLSOptions,
  WriteBufferLimitOptions,
  WriteBufferLimits,
} from '../internet/interfaces.js';
import { Factory, Protocol } from '../internet/protocol.js';
import { checkByteSequence, checkBytes } from './_bytes.js';
import { type FakeConnector, type MemoryReactor, MemoryReactorClock } from './memory-reactor.js';
import type { ProducerState } from './string-transport.js';

// ---------------------------------------------------------------------------
// Transports

/**
 * The default address of both ends of a {@link FakeTransport}: an address
 * that stands for nothing in particular.
 *
 * @see Twisted: twisted.test.iosim.FakeAddress
 * @since 0.1.0
 */
export class FakeAddress implements IAddress {
  /** `FakeAddress`. */
  toString(): string {
    return 'FakeAddress';
  }
}

/** Options of {@link FakeTransport}. */
export interface FakeTransportOptions {
  /** What `getHost()` returns. @defaultValue a new {@link FakeAddress} */
  hostAddress?: IAddress | undefined;
  /** What `getPeer()` returns. @defaultValue a new {@link FakeAddress} */
  peerAddress?: IAddress | undefined;
}

let nextSerial = 0;

/**
 * One end of a simulated connection: it buffers what its protocol writes
 * until an {@link IOPump} carries it to the other end.
 *
 * @remarks
 * What the two protocols see:
 *
 * - `write` and `writeSequence` buffer copies of the bytes; after
 *   `loseConnection`, `abortConnection` or `loseWriteConnection` writes are
 *   dropped silently.
 * - `loseConnection()`: once the pump has delivered what is buffered, the
 *   peer's protocol gets `connectionLost` (a Failure of `ConnectionDone`),
 *   then, on the next pump, this side's.
 * - `abortConnection()` drops what is buffered and what arrives later; this
 *   side's protocol gets `ConnectionAborted` and the peer's `ConnectionLost`.
 * - `loseWriteConnection()` half-closes: once the buffer is delivered, a
 *   half-closeable peer (one with `readConnectionLost`, the rule every
 *   transport applies) gets `readConnectionLost()` and this side
 *   `writeConnectionLost()` if it has one; a peer that cannot half-close
 *   loses the whole connection, as over TCP.
 * - As a push producer of what it reads, `pauseProducing()` holds incoming
 *   bytes in the peer's buffer until `resumeProducing()`; `stopProducing()`
 *   loses the connection.
 * - A registered pull producer is asked for more (`resumeProducing`) on
 *   registration and on every pump. A push producer is paused when a write
 *   leaves more than the high mark buffered (64 KiB; see
 *   `setWriteBufferLimits`), and resumed once the pump has carried the
 *   buffer across. A producer still registered when the connection is lost
 *   is stopped.
 *
 * - `startTLS(options)` simulates STARTTLS without cryptography (see
 *   {@link FakeTransport.startTLS}).
 *
 * Differences from Twisted: registering a second producer throws,
 * `abortConnection` drops buffered data, pausing holds data back,
 * `loseWriteConnection` half-closes.
 *
 * @see Twisted: twisted.test.iosim.FakeTransport
 * @since 0.1.0
 */
export class FakeTransport implements ITLSTransport, IWriteBufferLimits {
  /** The protocol this transport delivers received bytes to. */
  readonly protocol: IProtocol;
  /** True for the accepting side of the connection, false for the connecting side. */
  readonly isServer: boolean;
  /** A number unique to this transport, for telling transports apart in output. */
  readonly serial: number;
  /** What `getHost()` returns. */
  hostAddress: IAddress;
  /** What `getPeer()` returns. */
  peerAddress: IAddress;
  /** The bytes written and not yet carried to the peer, in order. */
  stream: Uint8Array[] = [];
  /** True once `loseConnection` or `abortConnection` was called, or the peer disconnected. */
  disconnecting = false;
  /** True once the pump has told the peer that this side disconnected. */
  disconnected = false;
  /** True once `abortConnection` was called. */
  aborted = false;
  /** True once `loseWriteConnection` was called. */
  writeDisconnecting = false;
  /** True once the pump has carried this side's half-close to the peer. */
  writeDisconnected = false;
  /** True once the peer has half-closed its side. */
  readDisconnected = false;
  /** The error this side's protocol gets in `connectionLost`. */
  disconnectReason: Error = new ConnectionDone('Connection done');
  /** The registered producer, if there is one. */
  producer: IPushProducer | IPullProducer | undefined = undefined;
  /** Whether the registered producer is a push producer; `undefined` if none is registered. */
  streamingProducer: boolean | undefined = undefined;
  /** This transport's state as a push producer of what it reads. */
  producerState: ProducerState = 'producing';
  /** The options `startTLS` was given, or `undefined` before it was called. */
  tlsOptions: ConnectionOptions | TlsOptions | undefined = undefined;
  /** Whether this side plays the TLS server (set by `startTLS`). */
  tlsServer = false;
  // startTLS's progress: not asked; waiting for the peer's hello; done.
  #tls: 'none' | 'started' | 'done' = 'none';
  // This side's hello waits to be carried to the peer.
  #helloPending = false;
  // The bytes of `stream` written before startTLS: sent in the clear before the hello.
  #plainLeft = 0;
  // The peer's hello arrived (its transport) and this side has not used it yet.
  #peerHello: FakeTransport | undefined;
  #peerCertificate: PeerCertificate | null = null;
  #negotiated: string | null = null;
  // True once this side's protocol has had connectionLost.
  #lost = false;
  #noDelay = false;
  #keepAlive = false;
  #high = DEFAULT_WRITE_HIGH;
  #low = DEFAULT_WRITE_LOW;
  // The push producer was paused because the buffer passed #high.
  #producerPaused = false;

  /**
   * @param protocol - Receives the bytes the peer writes.
   * @param isServer - True for the accepting side.
   * @param options - The addresses; see {@link FakeTransportOptions}.
   */
  constructor(protocol: IProtocol, isServer: boolean, options: FakeTransportOptions = {}) {
    this.protocol = protocol;
    this.isServer = isServer;
    this.serial = nextSerial++;
    this.hostAddress = options.hostAddress ?? new FakeAddress();
    this.peerAddress = options.peerAddress ?? new FakeAddress();
    bindMethods(this, TRANSPORT_METHODS);
  }

  /** Whether this side's protocol has been told the connection is lost. */
  get connectionLostReported(): boolean {
    return this.#lost;
  }

  /** `FakeTransport<S,3,Echo>`: side, serial and protocol class. */
  toString(): string {
    return `FakeTransport<${this.isServer ? 'S' : 'C'},${this.serial},${this.protocol.constructor.name}>`;
  }

  /**
   * Buffers a copy of `data` for the peer; dropped once the transport is
   * closing.
   *
   * @throws TypeError if `data` is not a Uint8Array.
   */
  write(data: Uint8Array): void {
    checkBytes(data, 'write');
    if (this.disconnecting || this.writeDisconnecting) return;
    this.stream.push(new Uint8Array(data));
    this.#checkHigh();
  }

  /**
   * Buffers the chunks as one write.
   *
   * @throws TypeError if a chunk is not a Uint8Array.
   */
  writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = checkByteSequence(data, 'writeSequence');
    if (chunks.length > 0) this.write(Buffer.concat(chunks));
  }

  /** Closes once the buffered bytes have been carried across. */
  loseConnection(): void {
    this.disconnecting = true;
  }

  /** Closes at once, dropping buffered bytes and any that arrive later. */
  abortConnection(): void {
    if (!this.aborted) {
      this.aborted = true;
      this.stream = [];
      if (!this.#lost) this.disconnectReason = new ConnectionAborted();
    }
    this.disconnecting = true;
  }

  /** Half-closes: the peer learns once the buffered bytes have been carried across. */
  loseWriteConnection(): void {
    this.writeDisconnecting = true;
  }

  /** The peer's address. */
  getPeer(): IAddress {
    return this.peerAddress;
  }

  /** This side's address. */
  getHost(): IAddress {
    return this.hostAddress;
  }

  /** `'iosim'`, the name used for this transport in logs. */
  logPrefix(): string {
    return 'iosim';
  }

  /**
   * Registers the producer that writes to this transport; a pull producer
   * is asked for data at once. On a lost connection the producer is stopped
   * instead.
   *
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.producer !== undefined) {
      throw new Error('Cannot register producer, because a producer is already registered');
    }
    if (this.#lost) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.streamingProducer = streaming;
    this.#producerPaused = false;
    if (!streaming) producer.resumeProducing();
    else this.#checkHigh();
  }

  /** Forgets the registered producer. */
  unregisterProducer(): void {
    this.producer = undefined;
    this.streamingProducer = undefined;
    this.#producerPaused = false;
  }

  /**
   * Sets the marks between which a push producer is paused and resumed.
   *
   * @throws RangeError if a mark is negative or not a whole number, or
   *   `low` is above `high`.
   */
  setWriteBufferLimits(limits?: WriteBufferLimitOptions): void {
    const { high, low } = resolveWriteBufferLimits(limits);
    this.#high = high;
    this.#low = low;
    this.#checkHigh();
    this.#checkLow();
  }

  /** The marks in force: 64 KiB and 16 KiB unless set. */
  getWriteBufferLimits(): WriteBufferLimits {
    return { high: this.#high, low: this.#low };
  }

  /** The bytes written and not yet carried to the peer. */
  getWriteBufferSize(): number {
    let size = 0;
    for (const chunk of this.stream) size += chunk.byteLength;
    return size;
  }

  /** Unregisters the producer and loses the connection. */
  stopConsuming(): void {
    this.unregisterProducer();
    this.loseConnection();
  }

  /** Holds back incoming bytes until `resumeProducing`. */
  pauseProducing(): void {
    if (this.producerState !== 'stopped') this.producerState = 'paused';
  }

  /** Delivers incoming bytes again. */
  resumeProducing(): void {
    if (this.producerState !== 'stopped') this.producerState = 'producing';
  }

  /** Stops reading for good: loses the connection. */
  stopProducing(): void {
    this.producerState = 'stopped';
    this.loseConnection();
  }

  /** The value last given to `setTcpNoDelay`; false at first. */
  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  /** Records the setting. */
  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
  }

  /** The value last given to `setTcpKeepAlive`; false at first. */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Records the setting. */
  setTcpKeepAlive(enabled: boolean): void {
    this.#keepAlive = enabled;
  }

  /**
   * Starts simulated TLS (STARTTLS) on this connection: no cryptography,
   * but the order of events of a real handshake.
   *
   * @remarks
   * What it simulates:
   *
   * - Bytes written before the call reach the peer in the clear, then this
   *   side's "hello"; bytes written after it wait in the buffer until the
   *   handshake has completed, then go (in order) as "encrypted" bytes,
   *   which the peer's protocol gets as they were written.
   * - The handshake completes on a side once it has called `startTLS` and
   *   the peer's hello has arrived: both sides must call it. Then
   *   `handshakeCompleted()` is called on a protocol that has it,
   *   `negotiatedProtocol` is the first of the server's `ALPNProtocols`
   *   that the client also offered (`null` unless both gave a list), and
   *   `getPeerCertificate()` is the peer's `cert` option parsed (Node's
   *   legacy object: `subject`, `issuer`, `subjectaltname`, `valid_to`,
   *   `fingerprint256`, `raw`, …), or `null` if the peer gave none; a
   *   client presents its certificate only to a server with `requestCert`.
   * - Failures, as a real handshake would fail (the connection is lost with
   *   a `ConnectionLost` whose message starts `TLS handshake failed:`, the
   *   peer's with `Connection reset by peer`): plain bytes arriving after
   *   this side started TLS (the peer did not start it, or sent plain bytes
   *   after this side's hello); a server with `requestCert` (and
   *   `rejectUnauthorized` not false) and a client without `cert`; ALPN
   *   lists with nothing in common.
   *
   * What it cannot check: nothing is encrypted or verified. Keys,
   * certificate chains, `ca`, host names (`servername`), versions and
   * ciphers are not checked against each other; test those on real
   * sockets (see `test/integration/starttls.test.ts`).
   *
   * @param options - As the real transport takes them: a client needs
   *   `servername` or `host`, a server `key` and `cert` (or `pfx`, or a
   *   `secureContext`).
   * @param how - `server` says which side this end plays (by default the
   *   accepting side's transport is the server); `unread` is ignored (no
   *   TLS bytes ever share a chunk with plain ones here).
   * @throws Error if TLS was started already, or the connection is
   *   closing or half-closed; TypeError if the options lack what the side
   *   needs.
   */
  startTLS(options: ConnectionOptions | TlsOptions, how: StartTLSOptions = {}): void {
    if (this.#tls !== 'none') throw new Error(`startTLS(): ${String(this)} already uses TLS`);
    if (this.disconnecting || this.writeDisconnecting) {
      throw new Error(`startTLS(): ${String(this)} is closing or half-closed`);
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `startTLS() expects TLS options (an object), got ${options === null ? 'null' : typeof options}`,
      );
    }
    const server = how.server ?? this.isServer;
    if (server) {
      const settings = options as TlsOptions;
      if (
        settings.secureContext === undefined &&
        settings.pfx === undefined &&
        settings.SNICallback === undefined &&
        (settings.key === undefined || settings.cert === undefined)
      ) {
        throw new TypeError(
          'startTLS() as a TLS server needs a key and a certificate (key and cert, pfx, or a secureContext)',
        );
      }
    } else {
      const settings = options as ConnectionOptions;
      const name = settings.servername ?? settings.host;
      if (typeof name !== 'string' || name === '') {
        throw new TypeError(
          "startTLS() as a TLS client needs the server's name to verify its certificate: give servername (or host)",
        );
      }
    }
    this.tlsOptions = options;
    this.tlsServer = server;
    this.#tls = 'started';
    this.#helloPending = true;
    this.#plainLeft = this.getWriteBufferSize();
    // The peer's hello came first (it started TLS before this side did).
    if (this.#peerHello !== undefined) this.#handshake(this.#peerHello);
  }

  /** Whether `startTLS` was called. */
  get tlsStarted(): boolean {
    return this.#tls !== 'none';
  }

  /** The peer's `cert` option, parsed, once the handshake has completed; `null` otherwise. */
  getPeerCertificate(): PeerCertificate | null {
    return this.#peerCertificate;
  }

  /** The protocol agreed through ALPN once the handshake has completed; `null` otherwise. */
  get negotiatedProtocol(): string | null {
    return this.#negotiated;
  }

  /**
   * Takes the buffered bytes that may go now, joined; `undefined` if there
   * are none. With TLS started, the plain bytes written before it go
   * first, and those written after it only once the handshake is done.
   * Called by the pump.
   */
  getOutBuffer(): Buffer | undefined {
    if (this.stream.length === 0) return undefined;
    let data: Buffer;
    if (this.#tls === 'none' || (this.#tls === 'done' && !this.#helloPending)) {
      data = Buffer.concat(this.stream);
      this.stream = [];
    } else {
      if (this.#plainLeft === 0) return undefined;
      const all = Buffer.concat(this.stream);
      data = all.subarray(0, this.#plainLeft);
      const rest = all.subarray(this.#plainLeft);
      this.stream = rest.byteLength > 0 ? [rest] : [];
      this.#plainLeft = 0;
    }
    this.#checkLow();
    return data;
  }

  /**
   * Takes this side's TLS hello, once the plain bytes before it have gone:
   * whether there was one to carry. Called by the pump.
   */
  takeHello(): boolean {
    if (!this.#helloPending || this.#plainLeft > 0 || this.aborted) return false;
    this.#helloPending = false;
    return true;
  }

  /**
   * The peer's TLS hello arrives: the handshake completes if this side has
   * started TLS; else it waits for this side's `startTLS`. Called by the pump.
   */
  helloReceived(peer: FakeTransport): void {
    if (this.aborted || this.#lost) return;
    if (this.#tls === 'none') {
      this.#peerHello = peer;
      return;
    }
    this.#handshake(peer);
  }

  // Completes the handshake with the peer's settings, or fails it.
  #handshake(peer: FakeTransport): void {
    this.#peerHello = undefined;
    const mine = (this.tlsOptions ?? {}) as TlsOptions;
    const theirs = (peer.tlsOptions ?? {}) as TlsOptions;
    const [server, client] = this.tlsServer ? [mine, theirs] : [theirs, mine];
    if (this.tlsServer === peer.tlsServer) {
      this.#failTLS(`both sides played the TLS ${this.tlsServer ? 'server' : 'client'}`);
      return;
    }
    const presents = server.requestCert === true && client.cert !== undefined;
    if (server.requestCert === true && server.rejectUnauthorized !== false && !presents) {
      this.#failTLS('the server asked for a client certificate and the client has none');
      return;
    }
    let negotiated: string | null = null;
    const offered = alpnList(client.ALPNProtocols);
    const accepted = alpnList(server.ALPNProtocols);
    if (offered !== undefined && accepted !== undefined) {
      negotiated = accepted.find((name) => offered.includes(name)) ?? null;
      if (negotiated === null) {
        this.#failTLS(
          `no application protocol in common (ALPN: the client offered ${offered.join(', ')}, the server accepts ${accepted.join(', ')})`,
        );
        return;
      }
    }
    // The server presents its certificate; a client only when asked.
    const shown = this.tlsServer ? (presents ? client.cert : undefined) : server.cert;
    this.#peerCertificate = shown === undefined ? null : parseCertificate(shown);
    this.#negotiated = negotiated;
    this.#tls = 'done';
    const listener = this.protocol as IProtocol & { handshakeCompleted?: unknown };
    if (typeof listener.handshakeCompleted === 'function') {
      (listener.handshakeCompleted as () => void).call(listener);
    }
  }

  // Fails the connection as a failed handshake does.
  #failTLS(why: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.stream = [];
    this.disconnecting = true;
    if (!this.#lost) this.disconnectReason = new ConnectionLost(`TLS handshake failed: ${why}`);
  }

  // Pauses a running push producer once the buffer is over the high mark.
  #checkHigh(): void {
    const producer = this.producer;
    if (producer === undefined || this.streamingProducer !== true || this.#producerPaused) return;
    if (this.getWriteBufferSize() <= this.#high) return;
    this.#producerPaused = true;
    (producer as IPushProducer).pauseProducing();
  }

  // Resumes a paused push producer once the buffer is at the low mark or under.
  #checkLow(): void {
    const producer = this.producer;
    if (producer === undefined || !this.#producerPaused || this.#lost) return;
    if (this.getWriteBufferSize() > this.#low) return;
    this.#producerPaused = false;
    (producer as IPushProducer).resumeProducing();
  }

  /**
   * Hands bytes from the peer to the protocol, unless this side has aborted
   * or lost the connection. Called by the pump.
   */
  bufferReceived(data: Uint8Array): void {
    if (this.aborted || this.#lost) return;
    if (this.#tls === 'started') {
      // Plain bytes where a TLS record was due: a real handshake fails here.
      this.#failTLS(
        `${data.byteLength} plain byte(s) arrived after this side started TLS (the peer did not start TLS, or wrote in the clear after this side's hello)`,
      );
      return;
    }
    this.protocol.dataReceived(data);
  }

  /**
   * Stops a registered producer and calls the protocol's `connectionLost`
   * with `disconnectReason`, the first time. Called by the pump.
   */
  reportDisconnect(): void {
    if (this.#lost) return;
    this.#lost = true;
    const producer = this.producer;
    if (producer !== undefined) {
      this.unregisterProducer();
      producer.stopProducing();
    }
    this.protocol.connectionLost(new Failure(this.disconnectReason));
  }

  /** Asks a registered pull producer for more. Called by the pump. */
  checkProducer(): void {
    if (this.producer !== undefined && this.streamingProducer === false) {
      this.producer.resumeProducing();
    }
  }
}

/** An ALPN list as a list of names, or undefined if none was given. */
function alpnList(list: TlsOptions['ALPNProtocols']): string[] | undefined {
  if (list === undefined) return undefined;
  if (Array.isArray(list)) {
    return list.map((name: string | Uint8Array) =>
      typeof name === 'string' ? name : Buffer.from(name).toString('latin1'),
    );
  }
  // Node's wire format: each name preceded by its length.
  const bytes = Buffer.from(list as Uint8Array);
  const names: string[] = [];
  for (let i = 0; i < bytes.length; ) {
    const length = bytes[i] as number;
    names.push(bytes.subarray(i + 1, i + 1 + length).toString('latin1'));
    i += 1 + length;
  }
  return names;
}

/** The first certificate of a `cert` option, as Node describes a peer's certificate. */
function parseCertificate(cert: NonNullable<TlsOptions['cert']>): PeerCertificate {
  const first = Array.isArray(cert) ? cert[0] : cert;
  const text = typeof first === 'string' ? first : Buffer.from(first as Uint8Array).toString();
  const x509 = new X509Certificate(text);
  return x509.toLegacyObject() as unknown as PeerCertificate;
}

/**
 * Makes the transport of the connecting side for `protocol`.
 *
 * @see Twisted: twisted.test.iosim.makeFakeClient
 * @since 0.1.0
 */
export function makeFakeClient(protocol: IProtocol): FakeTransport {
  return new FakeTransport(protocol, false);
}

/**
 * Makes the transport of the accepting side for `protocol`.
 *
 * @see Twisted: twisted.test.iosim.makeFakeServer
 * @since 0.1.0
 */
export function makeFakeServer(protocol: IProtocol): FakeTransport {
  return new FakeTransport(protocol, true);
}

// ---------------------------------------------------------------------------
// The pump

/** The part of a clock the pump uses: `Clock`, `MemoryReactorClock`. */
export interface AdvanceableClock {
  /** Moves time forward by `amount` seconds, running the calls that fall due. */
  advance(amount: number): void;
}

/** Options of {@link IOPump}. */
export interface IOPumpOptions {
  /** Print the traffic of every pump. @defaultValue false */
  debug?: boolean | undefined;
  /** Advanced by 0 on every pump. @defaultValue a new `MemoryReactorClock` */
  clock?: AdvanceableClock | undefined;
  /** Where debug lines go. @defaultValue `console.log` */
  output?: ((line: string) => void) | undefined;
}

/** Options of {@link IOPump.pump} and {@link IOPump.flush}. */
export interface PumpOptions {
  /** Print the traffic of this pump, even if the pump was not made with `debug`. @defaultValue false */
  debug?: boolean | undefined;
  /** Advance the clock by 0 first, running the calls due now. @defaultValue true */
  advanceClock?: boolean | undefined;
}

/** How many rounds {@link IOPump.flush} makes before giving up. */
const MAX_FLUSH_ROUNDS = 1000;

/**
 * Moves bytes between the two ends of a simulated connection, when the test
 * says so.
 *
 * @remarks
 * One {@link IOPump.pump} is one exchange: the clock is advanced by 0 (so
 * `callLater(0, …)` calls run), registered pull producers are asked for
 * more, each side's buffered bytes are delivered to the other side's
 * protocol in one `dataReceived`, and, if no bytes moved, one pending
 * half-close or disconnection is carried across. {@link IOPump.flush} pumps
 * until nothing moves.
 *
 * @see Twisted: twisted.test.iosim.IOPump
 * @since 0.1.0
 */
export class IOPump {
  /** The connecting side's protocol. */
  readonly client: IProtocol;
  /** The accepting side's protocol. */
  readonly server: IProtocol;
  /** The connecting side's transport. */
  readonly clientIO: FakeTransport;
  /** The accepting side's transport. */
  readonly serverIO: FakeTransport;
  /** The clock advanced by each pump. */
  readonly clock: AdvanceableClock;
  /** Whether every pump prints its traffic. */
  debug: boolean;
  readonly #output: (line: string) => void;

  /**
   * @param client - The connecting side's protocol.
   * @param server - The accepting side's protocol.
   * @param clientIO - Its transport.
   * @param serverIO - Its transport.
   * @param options - See {@link IOPumpOptions}.
   */
  constructor(
    client: IProtocol,
    server: IProtocol,
    clientIO: FakeTransport,
    serverIO: FakeTransport,
    options: IOPumpOptions = {},
  ) {
    this.client = client;
    this.server = server;
    this.clientIO = clientIO;
    this.serverIO = serverIO;
    this.debug = options.debug ?? false;
    this.clock = options.clock ?? new MemoryReactorClock();
    this.#output = options.output ?? ((line) => console.log(line));
  }

  /**
   * Pumps until nothing moves.
   *
   * @param options - See {@link PumpOptions}.
   * @returns Whether anything moved.
   * @throws Error if things still move after 1000 pumps (the protocols
   *   probably talk forever).
   */
  flush(options: PumpOptions = {}): boolean {
    let moved = false;
    for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
      if (!this.pump(options)) return moved;
      moved = true;
    }
    throw new Error(`IOPump.flush: still moving data after ${MAX_FLUSH_ROUNDS} pumps`);
  }

  /**
   * Makes one exchange: advances the clock by 0, then carries the buffered
   * bytes both ways, or else one half-close or disconnection.
   *
   * @param options - See {@link PumpOptions}.
   * @returns Whether anything moved.
   */
  pump(options: PumpOptions = {}): boolean {
    const debug = this.debug || (options.debug ?? false);
    if (options.advanceClock ?? true) this.clock.advance(0);
    if (debug) this.#output('-- GLUG --');
    const { clientIO, serverIO } = this;
    // A side that has paused reading leaves the bytes in the sender's buffer.
    const sData = clientIO.producerState === 'paused' ? undefined : serverIO.getOutBuffer();
    const cData = serverIO.producerState === 'paused' ? undefined : clientIO.getOutBuffer();
    clientIO.checkProducer();
    serverIO.checkProducer();
    if (debug) {
      this.#output('.');
      if (cData !== undefined) this.#output(`C: ${JSON.stringify(cData.toString('latin1'))}`);
      if (sData !== undefined) this.#output(`S: ${JSON.stringify(sData.toString('latin1'))}`);
    }
    if (cData !== undefined) serverIO.bufferReceived(cData);
    if (sData !== undefined) clientIO.bufferReceived(sData);
    if (cData !== undefined || sData !== undefined) return true;
    // A TLS hello goes once the plain bytes before it have arrived.
    const cHello = clientIO.takeHello();
    const sHello = serverIO.takeHello();
    if (debug && cHello) this.#output('C: <TLS hello>');
    if (debug && sHello) this.#output('S: <TLS hello>');
    if (cHello) serverIO.helloReceived(clientIO);
    if (sHello) clientIO.helloReceived(serverIO);
    if (cHello || sHello) return true;
    if (this.#halfClose(serverIO, clientIO) || this.#halfClose(clientIO, serverIO)) return true;
    if (this.#disconnect(serverIO, clientIO, debug ? '* C' : undefined)) return true;
    return this.#disconnect(clientIO, serverIO, debug ? '* S' : undefined);
  }

  /** Carries `from`'s half-close to `to`, if one is due. */
  #halfClose(from: FakeTransport, to: FakeTransport): boolean {
    if (!from.writeDisconnecting || from.writeDisconnected || from.disconnecting) return false;
    if (from.stream.length > 0) return false;
    from.writeDisconnected = true;
    if (!isHalfCloseable(to.protocol)) {
      // Over TCP, a protocol that cannot half-close loses the connection on EOF.
      to.disconnecting = true;
      return true;
    }
    to.readDisconnected = true;
    to.protocol.readConnectionLost();
    const fromProtocol = from.protocol;
    if (isHalfCloseable(fromProtocol)) fromProtocol.writeConnectionLost?.();
    // Both directions shut: the connection is closed.
    if (to.writeDisconnected && !from.disconnecting && !to.disconnecting) from.disconnecting = true;
    return true;
  }

  /** Carries `from`'s disconnection to `to`, if one is due. */
  #disconnect(from: FakeTransport, to: FakeTransport, note: string | undefined): boolean {
    if (!from.disconnecting || from.disconnected) return false;
    if (from.stream.length > 0 && !from.aborted) return false;
    if (note !== undefined) this.#output(note);
    from.disconnected = true;
    to.disconnecting = true;
    if (from.aborted && !to.aborted) {
      to.disconnectReason = new ConnectionLost('Connection reset by peer');
    }
    to.reportDisconnect();
    return true;
  }
}

// ---------------------------------------------------------------------------
// Connecting protocols

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Print the traffic of every pump. @defaultValue false */
  debug?: boolean | undefined;
  /**
   * Flush once before returning, so that greetings and handshakes are done.
   * @defaultValue true
   */
  greet?: boolean | undefined;
  /** Advanced by 0 on every pump. @defaultValue a new `MemoryReactorClock` */
  clock?: AdvanceableClock | undefined;
  /** Where debug lines go. @defaultValue `console.log` */
  output?: ((line: string) => void) | undefined;
}

/**
 * Connects two protocols through their fake transports and returns the
 * pump between them.
 *
 * @remarks
 * The server's `makeConnection` runs first, then the client's; with `greet`
 * (the default) the pump is flushed once before it is returned.
 *
 * @param serverProtocol - The accepting side's protocol.
 * @param serverTransport - Its transport.
 * @param clientProtocol - The connecting side's protocol.
 * @param clientTransport - Its transport.
 * @param options - See {@link ConnectOptions}.
 * @returns The pump.
 * @see Twisted: twisted.test.iosim.connect
 * @since 0.1.0
 */
export function connect(
  serverProtocol: IProtocol,
  serverTransport: FakeTransport,
  clientProtocol: IProtocol,
  clientTransport: FakeTransport,
  options: ConnectOptions = {},
): IOPump {
  serverProtocol.makeConnection(serverTransport);
  clientProtocol.makeConnection(clientTransport);
  const pump = new IOPump(clientProtocol, serverProtocol, clientTransport, serverTransport, {
    debug: options.debug,
    clock: options.clock,
    output: options.output,
  });
  if (options.greet ?? true) pump.flush();
  return pump;
}

/**
 * Where {@link connectedServerAndClient} gets a protocol: a protocol class
 * with a no-argument constructor, a function returning a protocol, or a
 * factory (whose `buildProtocol` is called with the peer's address).
 *
 * @since 0.1.0
 */
export type ProtocolSource<P extends IProtocol> =
  | (new () => P)
  | (() => P)
  | {
      /** Makes the protocol for a connection from `addr`; `null` refuses it. */
      buildProtocol(addr: IAddress): P | null;
    };

/** Options of {@link connectedServerAndClient}. */
export interface ConnectedServerAndClientOptions extends ConnectOptions {
  /** Makes the client's transport. @defaultValue {@link makeFakeClient} */
  clientTransportFactory?: ((protocol: IProtocol) => FakeTransport) | undefined;
  /** Makes the server's transport. @defaultValue {@link makeFakeServer} */
  serverTransportFactory?: ((protocol: IProtocol) => FakeTransport) | undefined;
}

function isConstructor(f: Function): f is new () => unknown {
  try {
    // Constructs a String with f as new.target: throws if f cannot construct,
    // and never calls f.
    Reflect.construct(String, [], f);
    return true;
  } catch {
    return false;
  }
}

function makeProtocol<P extends IProtocol>(source: ProtocolSource<P>, peer: IAddress): P {
  if (typeof source === 'function') {
    return isConstructor(source) ? new source() : (source as () => P)();
  }
  const protocol = source.buildProtocol(peer);
  if (protocol === null) throw new Error(`${String(source)} refused to build a protocol`);
  return protocol;
}

/**
 * Makes a server and a client protocol, connects them in memory, and
 * returns them with the pump between them.
 *
 * @remarks
 * The client protocol is made first, then the server; each gets a
 * {@link FakeTransport}. With `greet` (the default) the pump is flushed once,
 * so the protocols are past their greetings.
 *
 * @example
 * ```ts
 * const [client, server, pump] = connectedServerAndClient(EchoServer, AccumulatingProtocol);
 * client.transport.write(Buffer.from('hello'));
 * pump.flush();
 * assert.deepEqual(client.data, Buffer.from('hello'));
 * ```
 *
 * @param serverSource - Makes the server protocol; see {@link ProtocolSource}.
 * @param clientSource - Makes the client protocol.
 * @param options - See {@link ConnectedServerAndClientOptions}.
 * @returns `[client, server, pump]`, in Twisted's order.
 * @throws Error if a factory refuses to build a protocol.
 * @see Twisted: twisted.test.iosim.connectedServerAndClient
 * @since 0.1.0
 */
export function connectedServerAndClient<S extends IProtocol, C extends IProtocol>(
  serverSource: ProtocolSource<S>,
  clientSource: ProtocolSource<C>,
  options: ConnectedServerAndClientOptions = {},
): [client: C, server: S, pump: IOPump] {
  const client = makeProtocol(clientSource, new FakeAddress());
  const server = makeProtocol(serverSource, new FakeAddress());
  const clientIO = (options.clientTransportFactory ?? makeFakeClient)(client);
  const serverIO = (options.serverTransportFactory ?? makeFakeServer)(server);
  return [client, server, connect(server, serverIO, client, clientIO, options)];
}

// ---------------------------------------------------------------------------
// Completing a MemoryReactor's connections

interface ConnectingFactory extends IProtocolFactory {
  clientConnectionFailed(connector: IConnector, reason: Failure): void;
}

function canFail(factory: IProtocolFactory): factory is ConnectingFactory {
  return typeof (factory as Partial<ConnectingFactory>).clientConnectionFailed === 'function';
}

/** Options of {@link ConnectionCompleter.succeedOnce}. */
export interface SucceedOnceOptions {
  /** Print the connection's traffic. @defaultValue false */
  debug?: boolean | undefined;
}

/**
 * Makes the TCP connection attempts recorded by a {@link MemoryReactor}
 * succeed or fail, one at a time.
 *
 * @remarks
 * A `connectTCP` attempt matches a port from `listenTCP` that is still
 * listening on the same port number (a port-0 listener's number is the one
 * its `getHost()` reports). Attempts whose connector was stopped or
 * disconnected are skipped.
 *
 * @see Twisted: twisted.test.iosim.ConnectionCompleter
 * @since 0.1.0
 */
export class ConnectionCompleter {
  readonly #reactor: MemoryReactor;
  readonly #debug: boolean;
  #nextClientPort = 50000;

  /**
   * @param reactor - The reactor whose attempts to complete.
   * @param options - `debug`: print the traffic of every connection made
   *   (default false).
   */
  constructor(reactor: MemoryReactor, options: { debug?: boolean | undefined } = {}) {
    this.#reactor = reactor;
    this.#debug = options.debug ?? false;
  }

  /**
   * Connects the first pending TCP attempt that has a matching listener.
   *
   * @remarks
   * Both factories build their protocols (the client's with the
   * destination address, the server's with the client's made-up address,
   * `127.0.0.1` and a port from 50000 up), and they are connected with
   * {@link connect}, greeting included. The pump advances the reactor's
   * clock if it is a `MemoryReactorClock`. The attempt's record and
   * connector are removed from the reactor.
   *
   * A client factory that refuses to build a protocol gets
   * `clientConnectionFailed` with `NoProtocol`, and no pump is returned; if
   * the server's factory refuses, the client connects and is disconnected
   * at once.
   *
   * @param options - See {@link SucceedOnceOptions}; `debug` defaults to the
   *   completer's.
   * @returns The pump of the new connection, or `undefined` if no attempt
   *   could be completed.
   */
  succeedOnce(options: SucceedOnceOptions = {}): IOPump | undefined {
    const reactor = this.#reactor;
    for (const [index, record] of reactor.tcpClients.entries()) {
      const [, clientPort, clientFactory] = record;
      const connector = this.#connectorOf(clientFactory, clientPort);
      if (connector === undefined) continue;
      const port = reactor.ports.find(
        (p) =>
          p.kind === 'TCP' &&
          p.listening &&
          (p.getHost() as Partial<IPv4Address>).port === clientPort,
      );
      if (port === undefined) continue;
      reactor.tcpClients.splice(index, 1);
      reactor.connectors.splice(reactor.connectors.indexOf(connector), 1);
      const destination = connector.getDestination();
      const clientAddress = new IPv4Address('TCP', '127.0.0.1', this.#nextClientPort++);
      const clientProtocol = clientFactory.buildProtocol(destination);
      if (clientProtocol === null) {
        if (canFail(clientFactory)) {
          clientFactory.clientConnectionFailed(connector, new Failure(new NoProtocol()));
        }
        return undefined;
      }
      const built = (port.factory as IProtocolFactory).buildProtocol(clientAddress);
      const refused = built === null;
      // A refused connection is accepted and closed at once: a stand-in takes the server's side.
      const serverProtocol = built ?? new Protocol();
      const serverTransport = new FakeTransport(serverProtocol, true, {
        hostAddress: destination,
        peerAddress: clientAddress,
      });
      const clientTransport = new FakeTransport(clientProtocol, false, {
        hostAddress: clientAddress,
        peerAddress: destination,
      });
      const clock = reactor instanceof MemoryReactorClock ? reactor : undefined;
      const pump = connect(serverProtocol, serverTransport, clientProtocol, clientTransport, {
        debug: options.debug ?? this.#debug,
        clock,
      });
      if (refused) {
        serverTransport.loseConnection();
        pump.flush();
      }
      return pump;
    }
    return undefined;
  }

  /**
   * Fails the first pending TCP attempt: its record and connector are
   * removed, and its factory's `clientConnectionFailed` is called.
   *
   * @param reason - Default: a Failure of `ConnectionRefusedError`.
   * @throws Error if there is no pending TCP attempt.
   */
  failOnce(reason: Failure = new Failure(new ConnectionRefusedError())): void {
    const reactor = this.#reactor;
    for (const [index, record] of reactor.tcpClients.entries()) {
      const [, clientPort, clientFactory] = record;
      const connector = this.#connectorOf(clientFactory, clientPort);
      if (connector === undefined) continue;
      reactor.tcpClients.splice(index, 1);
      reactor.connectors.splice(reactor.connectors.indexOf(connector), 1);
      if (canFail(clientFactory)) clientFactory.clientConnectionFailed(connector, reason);
      return;
    }
    throw new Error('ConnectionCompleter.failOnce: no pending TCP connection attempt');
  }

  #connectorOf(factory: IProtocolFactory, port: number): FakeConnector | undefined {
    return this.#reactor.connectors.find(
      (c) =>
        c.factory === factory &&
        c.state === 'connecting' &&
        (c.getDestination() as Partial<IPv4Address>).port === port,
    );
  }
}

/** Options of {@link connectableEndpoint}. */
export interface ConnectableEndpointOptions {
  /** Print the traffic of the connections made. @defaultValue false */
  debug?: boolean | undefined;
}

/** A client endpoint over a MemoryReactorClock's `connectTCP`. */
class MemoryClientEndpoint implements IStreamClientEndpoint {
  readonly #reactor: MemoryReactorClock;
  readonly #host: string;
  readonly #port: number;

  constructor(reactor: MemoryReactorClock, host: string, port: number) {
    this.#reactor = reactor;
    this.#host = host;
    this.#port = port;
  }

  connect<F extends IProtocolFactory>(
    factory: F,
    options: EndpointConnectOptions = {},
  ): Deferred<ProtocolOf<F>> {
    const d = this.#connect(factory) as Deferred<ProtocolOf<F>>;
    return options.signal === undefined ? d : d.cancelOn(options.signal);
  }

  #connect(factory: IProtocolFactory): Deferred<IProtocol> {
    let connector: IConnector | undefined;
    const d = new Deferred<IProtocol>(() => connector?.stopConnecting());
    const reactor = this.#reactor;
    const wrapper = {
      doStart: () => factory.doStart(),
      doStop: () => factory.doStop(),
      buildProtocol(addr: IAddress): IProtocol | null {
        const protocol = factory.buildProtocol(addr);
        if (protocol === null) return null;
        // Fired on the next turn, once the protocol is connected; the pump
        // that completes the connection advances the reactor's clock.
        reactor.callLater(0, () => {
          if (!d.called) d.callback(protocol);
        });
        return protocol;
      },
      clientConnectionFailed(_connector: IConnector, reason: Failure): void {
        if (!d.called) d.errback(reason);
      },
    };
    connector = reactor.connectTCP(this.#host, this.#port, wrapper);
    return d;
  }
}

/**
 * Makes a client endpoint whose connections a {@link ConnectionCompleter}
 * completes or fails on demand.
 *
 * @remarks
 * The endpoint connects over a fresh `MemoryReactorClock` to port 4321,
 * where a plain `Protocol` factory listens. Its `connect(factory)` returns a
 * Deferred that fires with the protocol once `succeedOnce()` has connected
 * it, or fails with the reason given to `failOnce()`.
 *
 * Cancellation: cancelling that Deferred stops the connection attempt
 * (`succeedOnce` then skips it) and fails it with `CancelledError`.
 *
 * @param options - See {@link ConnectableEndpointOptions}.
 * @returns `[endpoint, completer]`.
 * @see Twisted: twisted.test.iosim.connectableEndpoint
 * @since 0.1.0
 */
export function connectableEndpoint(
  options: ConnectableEndpointOptions = {},
): [endpoint: IStreamClientEndpoint, completer: ConnectionCompleter] {
  const reactor = new MemoryReactorClock();
  reactor.listenTCP(4321, Factory.forProtocol(Protocol));
  const completer = new ConnectionCompleter(reactor, { debug: options.debug });
  return [new MemoryClientEndpoint(reactor, '0.0.0.0', 4321), completer];
}
