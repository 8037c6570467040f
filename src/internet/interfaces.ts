// The interfaces of the reactor and of the objects it hands out
// (Twisted: twisted.internet.interfaces). Type-only: nothing here runs.
// Implementations import these with `import type`; test doubles implement
// them without importing any real reactor.

import type { ConnectionOptions, PeerCertificate, TlsOptions } from 'node:tls';
import type { IPAddress, UNIXAddress } from './address.js';
import type { Deferred } from './defer.js';
import type { Failure } from './failure.js';

// ---------------------------------------------------------------------------
// Time

/**
 * A call scheduled with {@link IReactorTime.callLater}.
 *
 * @see Twisted: twisted.internet.interfaces.IDelayedCall
 * @since 0.1.0
 */
export interface IDelayedCall {
  /** The time, in the reactor's seconds, at which the call is due. */
  getTime(): number;
  /**
   * Stops the call from running.
   * @throws `AlreadyCalled` if it has run; `AlreadyCancelled` if it was cancelled.
   */
  cancel(): void;
  /**
   * Postpones the call by `secondsLater` seconds from its current due time.
   * @throws `AlreadyCalled` or `AlreadyCancelled` when not active.
   */
  delay(secondsLater: number): void;
  /**
   * Reschedules the call to run `secondsFromNow` seconds from now.
   * @throws `AlreadyCalled` or `AlreadyCancelled` when not active.
   */
  reset(secondsFromNow: number): void;
  /** Whether the call has neither run nor been cancelled. */
  active(): boolean;
}

/**
 * Time: what the current time is, and calling functions later.
 *
 * @remarks
 * Every API that waits takes the `IReactorTime` it should use, so a test can
 * pass a deterministic `Clock` and the program a real reactor. Calls due at
 * the same time run in the order they were scheduled.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorTime
 * @since 0.1.0
 */
export interface IReactorTime {
  /** The current time in seconds (a float), on this reactor's clock. */
  seconds(): number;
  /**
   * Calls `f(...args)` `delay` seconds from now.
   *
   * @param delay - Seconds (float, at least 0).
   * @param f - The function to call; what it returns is ignored, and what it
   *   throws is logged by a real reactor.
   * @param args - Arguments for `f`.
   * @returns A handle to cancel or reschedule the call.
   * @throws RangeError if `delay` is negative or not a number.
   */
  callLater<A extends unknown[]>(
    delay: number,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): IDelayedCall;
  /** The calls scheduled and not yet run or cancelled, earliest first. */
  getDelayedCalls(): IDelayedCall[];
}

// ---------------------------------------------------------------------------
// The reactor's life cycle

/** When a system event trigger runs, relative to the event. */
export type SystemEventPhase = 'before' | 'during' | 'after';

/**
 * The system events: `'startup'` and `'shutdown'` are fired by the reactor;
 * other names can be fired with {@link IReactorCore.fireSystemEvent}.
 */
export type SystemEventType = 'startup' | 'shutdown' | (string & {});

/**
 * The handle of a system event trigger, for
 * {@link IReactorCore.removeSystemEventTrigger}.
 */
export interface SystemEventTriggerID {
  /** The event the trigger belongs to. */
  readonly eventType: SystemEventType;
  /** The phase it runs in. */
  readonly phase: SystemEventPhase;
}

/** Options of {@link IReactorCore.run}. */
export interface RunOptions {
  /**
   * Whether SIGINT and SIGTERM stop the reactor gracefully while it runs.
   * @defaultValue true
   */
  installSignalHandlers?: boolean;
}

/**
 * The reactor's life cycle: running, stopping, and the system events that
 * mark the way.
 *
 * @remarks
 * Each system event has three phases, run in order: `'before'`, `'during'`,
 * `'after'`. A `'before'` trigger may return a Deferred; the `'during'`
 * phase waits until all of them have fired. The reactor fires `'startup'`
 * when it starts running and `'shutdown'` when it stops.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorCore
 * @since 0.1.0
 */
export interface IReactorCore {
  /** True from `during startup` to `during shutdown`. */
  readonly running: boolean;
  /**
   * Looks up a host name.
   *
   * @param name - A host name or an IP address (returned as it is).
   * @param timeout - Seconds before giving up. Default 60.
   * @returns A Deferred of an IP address, or failing with `DNSLookupError`.
   */
  resolve(name: string, timeout?: number): Deferred<string>;
  /**
   * Fires the startup events, then keeps the process alive until
   * {@link IReactorCore.stop} (or SIGINT/SIGTERM) has run the shutdown events.
   *
   * @returns A promise that settles when the reactor has stopped.
   * @throws `ReactorAlreadyRunning` if it is running; `ReactorNotRestartable`
   *   if it has been stopped before.
   */
  run(options?: RunOptions): Promise<void>;
  /**
   * Fires the shutdown events and stops the reactor.
   * @throws `ReactorNotRunning` if the reactor is not running.
   */
  stop(): void;
  /**
   * Stops the reactor at once, without firing any system events. Rude: work
   * in progress may be lost. For a reactor stuck in shutdown, or tests.
   */
  crash(): void;
  /** Runs the triggers of `eventType`, phase by phase. */
  fireSystemEvent(eventType: SystemEventType): void;
  /**
   * Adds a function to be called in a phase of a system event.
   *
   * @returns A handle for {@link IReactorCore.removeSystemEventTrigger}.
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID;
  /**
   * Removes a trigger added with {@link IReactorCore.addSystemEventTrigger}.
   * @throws Error if the handle is unknown or was already removed.
   */
  removeSystemEventTrigger(triggerID: SystemEventTriggerID): void;
  /**
   * Calls `f(...args)` now if the reactor is running, otherwise once it is
   * (as an `after startup` trigger).
   *
   * @returns The trigger's handle, or `undefined` if `f` was called at once.
   */
  callWhenRunning<A extends unknown[]>(
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID | undefined;
}

// ---------------------------------------------------------------------------
// Addresses, producers and consumers

/**
 * The address of one end of a connection: `IPv4Address`, `IPv6Address`,
 * `UNIXAddress`, …
 *
 * @see Twisted: twisted.internet.interfaces.IAddress
 * @since 0.1.0
 */
export interface IAddress {
  /** A readable form of the address. */
  toString(): string;
}

/**
 * An IP address and port, as a resolver gives it: what `IPv4Address` and
 * `IPv6Address` are, and all a resolver needs to return (a test's resolver
 * may return plain objects).
 *
 * @since 0.1.0
 */
export interface IIPAddress extends IAddress {
  /** The transport the address is for. */
  readonly type: 'TCP' | 'UDP';
  /** The IP address: a dotted quad or an IPv6 address (its family is read from it). */
  readonly host: string;
  /** The port number (0 in a resolver's answer). */
  readonly port: number;
}

/**
 * Something that produces data for a consumer.
 *
 * @see Twisted: twisted.internet.interfaces.IProducer
 * @since 0.1.0
 */
export interface IProducer {
  /** Stops producing for good: the consumer is going away. */
  stopProducing(): void;
}

/**
 * A producer that writes whenever it has data, until paused.
 *
 * @remarks
 * It starts unpaused; the consumer calls `pauseProducing` when it is full
 * and `resumeProducing` when it has drained.
 *
 * @see Twisted: twisted.internet.interfaces.IPushProducer
 * @since 0.1.0
 */
export interface IPushProducer extends IProducer {
  /** Stops producing until {@link IPushProducer.resumeProducing}. */
  pauseProducing(): void;
  /** Starts producing again after a pause. */
  resumeProducing(): void;
}

/**
 * A producer that writes exactly one chunk each time it is asked.
 *
 * @see Twisted: twisted.internet.interfaces.IPullProducer
 * @since 0.1.0
 */
export interface IPullProducer extends IProducer {
  /** Writes one chunk to the consumer, synchronously. */
  resumeProducing(): void;
}

/**
 * Something that receives data, possibly from a registered producer.
 *
 * @see Twisted: twisted.internet.interfaces.IConsumer
 * @since 0.1.0
 */
export interface IConsumer {
  /**
   * Registers the producer that writes to this consumer.
   *
   * @param producer - The producer.
   * @param streaming - True for a push producer, false for a pull producer.
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void;
  /** Forgets the registered producer. */
  unregisterProducer(): void;
  /** Takes some data. */
  write(data: Uint8Array): void;
}

// ---------------------------------------------------------------------------
// Transports and protocols

/**
 * One end of a connection, as a protocol sees it: where to write bytes.
 *
 * @remarks
 * Bytes are bytes: `write` takes `Uint8Array` only and throws a `TypeError`
 * for a string.
 *
 * @typeParam A - The type of its addresses: `ITransport<IPAddress>` for a
 *   TCP connection, `ITransport<UNIXAddress>` for a UNIX one.
 * @see Twisted: twisted.internet.interfaces.ITransport
 * @since 0.1.0
 */
export interface ITransport<A extends IAddress = IAddress> {
  /** Sends `data`, in order, without blocking; it is buffered as needed. */
  write(data: Uint8Array): void;
  /** Sends each chunk in turn, as one write where the transport can. */
  writeSequence(data: Iterable<Uint8Array>): void;
  /**
   * Closes the connection once the buffered data has been sent (and a
   * registered producer has unregistered).
   */
  loseConnection(): void;
  /**
   * Whether the connection is closing or closed: true once
   * `loseConnection` (or `abortConnection`) was called, and stays true.
   *
   * @remarks
   * Framing protocols read it to stop dispatching the rest of a chunk once
   * a handler has dropped the connection. A transport may also set it when
   * the peer closed and it is closing its side too.
   *
   * @see Twisted: twisted.internet.abstract.FileDescriptor.disconnecting
   */
  readonly disconnecting: boolean;
  /** The address of the other end. */
  getPeer(): A;
  /** The address of this end. */
  getHost(): A;
}

/**
 * A TCP connection's transport.
 *
 * @remarks
 * A protocol that knows it runs over TCP can say so, and read the port of
 * its peer: `declare transport: ITCPTransport<IPAddress>` in the class, then
 * `this.transport.getPeer().port`. A UNIX-domain connection's transport
 * has the same methods: `ITCPTransport<UNIXAddress>`.
 *
 * @typeParam A - The type of its addresses; `IAddress` by default, which
 *   any transport fits.
 * @see Twisted: twisted.internet.interfaces.ITCPTransport
 * @since 0.1.0
 */
export interface ITCPTransport<A extends IAddress = IAddress>
  extends ITransport<A>,
    IConsumer,
    IPushProducer {
  /** Half-closes: sends FIN after buffered data; reading goes on. */
  loseWriteConnection(): void;
  /** Closes at once, dropping buffered data. */
  abortConnection(): void;
  /** Whether Nagle's algorithm is off. */
  getTcpNoDelay(): boolean;
  /** Turns Nagle's algorithm off (true) or on. */
  setTcpNoDelay(enabled: boolean): void;
  /** Whether TCP keep-alive probes are on. */
  getTcpKeepAlive(): boolean;
  /** Turns TCP keep-alive probes on or off. */
  setTcpKeepAlive(enabled: boolean): void;
}

/** The limits of {@link IWriteBufferLimits.setWriteBufferLimits}, in bytes; both optional. */
export interface WriteBufferLimitOptions {
  /**
   * Pause a streaming producer when more than this many bytes wait to be
   * sent. @defaultValue 4 × `low` if `low` is given, else 65536 (64 KiB)
   */
  high?: number | undefined;
  /**
   * Resume it once this many bytes or fewer wait.
   * @defaultValue `high` / 4 (rounded down): 16384 (16 KiB) by default
   */
  low?: number | undefined;
}

/** The write-buffer limits in force, in bytes (see {@link IWriteBufferLimits}). */
export interface WriteBufferLimits {
  /** A streaming producer is paused when more than this many bytes wait to be sent. */
  readonly high: number;
  /** A paused streaming producer is resumed once this many bytes or fewer wait. */
  readonly low: number;
}

/**
 * A transport whose write buffer drives a registered streaming producer
 * between two marks you can set.
 *
 * @remarks
 * Semantics are asyncio's: a streaming producer registered on the
 * transport is paused (`pauseProducing`) when the bytes waiting to be sent
 * go strictly over `high`, and resumed (`resumeProducing`) once they have
 * drained to `low` or below. The defaults are 64 KiB and 16 KiB (Twisted's
 * `FileDescriptor.bufferSize` is the 64 KiB). A transport learns how much
 * is buffered only when a write completes, so the resume comes at the first
 * completed write that leaves at most `low` bytes: at `low` or below,
 * possibly well below.
 *
 * Torsion's TCP, UNIX and TLS transports, and the `FakeTransport` of the
 * in-memory pump, implement it; `StringTransport` records the limits but
 * never buffers.
 *
 * @see asyncio: WriteTransport.set_write_buffer_limits
 * @since 0.1.0
 */
export interface IWriteBufferLimits {
  /**
   * Sets the marks; takes effect at once (a producer may be paused or
   * resumed by this call).
   *
   * @param limits - `high` and `low` in bytes; see {@link WriteBufferLimitOptions}.
   * @throws RangeError if a mark is negative or not a whole number, or
   *   `low` is above `high`.
   */
  setWriteBufferLimits(limits?: WriteBufferLimitOptions): void;
  /** The marks in force. */
  getWriteBufferLimits(): WriteBufferLimits;
  /** How many bytes wait to be sent now. */
  getWriteBufferSize(): number;
}

/**
 * A TLS connection's transport: a TCP transport whose peer has completed a
 * TLS handshake.
 *
 * @remarks
 * The bytes a protocol writes and receives are the plaintext; encryption
 * happens below. `abortConnection()` closes the socket without a TLS
 * close-notify.
 *
 * @typeParam A - The type of its addresses (`IPAddress`, in practice).
 * @see Twisted: twisted.internet.interfaces.ISSLTransport
 * @since 0.1.0
 */
export interface ISSLTransport<A extends IAddress = IAddress> extends ITCPTransport<A> {
  /**
   * The certificate the peer presented, as Node describes it, or `null` if
   * it presented none (a client, usually, unless the server asked for one).
   * Known from `connectionMade` on, and still after the connection closed.
   */
  getPeerCertificate(): PeerCertificate | null;
  /**
   * The application protocol agreed through ALPN (such as `'h2'` or
   * `'http/1.1'`), or `null` if none was.
   *
   * @see Twisted: twisted.internet.interfaces.INegotiated.negotiatedProtocol
   */
  readonly negotiatedProtocol: string | null;
}

/**
 * How {@link ITLSTransport.startTLS} starts TLS.
 *
 * @since 0.1.0
 */
export interface StartTLSOptions {
  /**
   * Whether this end plays the TLS server. By default it does on a
   * connection a port accepted, and plays the client on one this end
   * connected (Twisted's `normal=True`).
   */
  readonly server?: boolean | undefined;
  /**
   * Bytes already delivered to the protocol that belong to TLS: what
   * followed the request to start it in the same chunk (the peer's first
   * handshake bytes, sent without waiting for an answer). The TLS layer
   * reads them first.
   */
  readonly unread?: Uint8Array | undefined;
}

/**
 * A connected stream transport that can switch to TLS in the middle of the
 * connection (STARTTLS): plain bytes before, TLS after, with the same
 * protocol object.
 *
 * @remarks
 * After `startTLS` everything written is sent encrypted, including what is
 * written while the handshake is still going on (it waits for it), and
 * `dataReceived` gets the decrypted bytes. What was written before the call
 * is sent in the clear first. Producers, half-close and the reasons given
 * to `connectionLost` work as before; a failed handshake (an untrusted
 * certificate, a certificate for another host name, no common protocol
 * version) closes the connection and `connectionLost` gets a
 * `ConnectionLost` whose message names the reason and whose `cause` is
 * Node's error (its `code` says which: `ERR_TLS_CERT_ALTNAME_INVALID`,
 * `DEPTH_ZERO_SELF_SIGNED_CERT`, …). A protocol with a `handshakeCompleted()`
 * method (see {@link IHandshakeListener}) is told when the handshake has
 * succeeded.
 *
 * As a client, the peer's certificate is verified by default against
 * Node's bundled roots (or `ca`), and must name `servername` (or `host`,
 * which may be an IP address): one of them is required.
 *
 * @example
 * ```ts
 * class Upgrading extends LineReceiver {
 *   lineReceived(line: Buffer): void {
 *     if (line.toString() === 'STARTTLS') {
 *       this.sendLine(Buffer.from('GO AHEAD'));
 *       (this.transport as ITLSTransport).startTLS({ key, cert });
 *     }
 *   }
 * }
 * ```
 *
 * @typeParam A - The type of its addresses.
 * @see Twisted: twisted.internet.interfaces.ITLSTransport
 * @since 0.1.0
 */
export interface ITLSTransport<A extends IAddress = IAddress> extends ITCPTransport<A> {
  /**
   * Starts TLS on this connection.
   *
   * @param options - As `tls.connect` takes them for a client (`servername`
   *   or `host` required; `ca`, `rejectUnauthorized`, `ALPNProtocols`, …),
   *   as `tls.createServer` for a server (`key` and `cert`, or `pfx`, or a
   *   `secureContext`).
   * @param how - Which side this end plays.
   * @throws Error if TLS was started already, or the connection is closing
   *   or half-closed; TypeError if the options lack what the side needs;
   *   Node's error if they are unusable (a bad key or certificate).
   */
  startTLS(options: ConnectionOptions | TlsOptions, how?: StartTLSOptions): void;
  /**
   * Whether the connection uses TLS: `startTLS` was called (what is
   * written from then on is encrypted), or it was a TLS connection from
   * the start.
   */
  readonly tlsStarted: boolean;
  /**
   * The certificate the peer presented in the handshake `startTLS` began,
   * or `null` (no TLS yet, the handshake is not done, or the peer presented none).
   */
  getPeerCertificate(): PeerCertificate | null;
  /** The protocol agreed through ALPN in that handshake, or `null`. */
  readonly negotiatedProtocol: string | null;
}

/**
 * A protocol that wants to know when the TLS handshake `startTLS` began has
 * succeeded.
 *
 * @see Twisted: twisted.internet.interfaces.IHandshakeListener
 * @since 0.1.0
 */
export interface IHandshakeListener {
  /** The handshake has completed: the peer is verified and data flows encrypted. */
  handshakeCompleted(): void;
}

/**
 * The handler of one connection's events.
 *
 * @remarks
 * The calls arrive in this order:
 * `makeConnection → connectionMade → dataReceived* → connectionLost`.
 * `dataReceived` may get any fragment of what the peer sent: buffer partial
 * messages, and test with every chunk size down to one byte.
 *
 * @see Twisted: twisted.internet.interfaces.IProtocol
 * @since 0.1.0
 */
export interface IProtocol {
  /** Attaches the transport and calls `connectionMade`. */
  makeConnection(transport: ITransport): void;
  /** Called when the connection is made. */
  connectionMade(): void;
  /** Called with bytes as they arrive. */
  dataReceived(data: Uint8Array): void;
  /**
   * Called once when the connection is closed: `reason` wraps
   * `ConnectionDone` for a clean close and `ConnectionLost` otherwise.
   */
  connectionLost(reason: Failure): void;
}

/**
 * A protocol that can handle the two directions closing separately.
 *
 * @remarks
 * The interface is the whole contract, as in Twisted. At run time every
 * transport applies one rule (`isHalfCloseable` in
 * `src/internet/_half-close.ts`): a protocol with a `readConnectionLost`
 * method half-closes, and `writeConnectionLost` is called if it is there.
 * TypeScript interfaces leave no trace at run time, so the method the
 * peer's FIN calls is what decides.
 *
 * @see Twisted: twisted.internet.interfaces.IHalfCloseableProtocol
 * @since 0.1.0
 */
export interface IHalfCloseableProtocol {
  /** The peer has finished sending; writing may go on, then `loseConnection`. */
  readConnectionLost(): void;
  /** This side's writing has been shut down. */
  writeConnectionLost(): void;
}

/**
 * Makes a protocol for each new connection.
 *
 * @see Twisted: twisted.internet.interfaces.IProtocolFactory
 * @since 0.1.0
 */
export interface IProtocolFactory {
  /**
   * Makes the protocol for a connection from or to `addr`; `null` refuses
   * the connection.
   */
  buildProtocol(addr: IAddress): IProtocol | null;
  /** Called when the factory starts being used by a port or connector. */
  doStart(): void;
  /** Called when it stops being used. */
  doStop(): void;
}

/**
 * The protocol a factory builds: `ProtocolOf<Factory<Echo>>` is `Echo`.
 *
 * @since 0.1.0
 */
export type ProtocolOf<F extends IProtocolFactory> = Exclude<ReturnType<F['buildProtocol']>, null>;

/**
 * A listening socket.
 *
 * @remarks
 * The reactor's `listen…` methods say what address it has: `listenTCP`
 * gives an `IListeningPort<IPAddress>`, so `port.getHost().port` compiles;
 * `listenUNIX` an `IListeningPort<UNIXAddress>`.
 *
 * @typeParam A - The type of the address it listens on.
 * @see Twisted: twisted.internet.interfaces.IListeningPort
 * @since 0.1.0
 */
export interface IListeningPort<A extends IAddress = IAddress> {
  /** Starts listening (done already by `listenTCP` and friends). */
  startListening(): void;
  /** Stops listening; the Deferred fires once the socket is closed. */
  stopListening(): Deferred<void>;
  /** The address listened on; its port is known at once, even for port 0. */
  getHost(): A;
}

/**
 * An outgoing connection attempt, and the connection it makes.
 *
 * @typeParam A - The type of the address it connects to.
 * @see Twisted: twisted.internet.interfaces.IConnector
 * @since 0.1.0
 */
export interface IConnector<A extends IAddress = IAddress> {
  /** Stops the attempt in progress. */
  stopConnecting(): void;
  /** Closes the connection, or stops the attempt. */
  disconnect(): void;
  /** Connects (again). */
  connect(): void;
  /** The address connected to. */
  getDestination(): A;
}

// ---------------------------------------------------------------------------
// Reactor I/O

/** Options of {@link IReactorTCP.listenTCP}. */
export interface ListenTCPOptions {
  /**
   * The size of the queue of connections the system has completed and the
   * server not yet accepted; a connection beyond it waits for the client's
   * retransmission (a second or more).
   *
   * @remarks
   * Differs from Twisted, whose default is 50: 511, as Node's, so that a
   * burst of connections is not stalled. The system may cap it
   * (`net.core.somaxconn` on Linux).
   *
   * @defaultValue 511
   */
  backlog?: number | undefined;
  /** The address to listen on. @defaultValue all IPv4 interfaces */
  interface?: string | undefined;
}

/** Options of {@link IReactorTCP.connectTCP}. */
export interface ConnectTCPOptions {
  /** Seconds before the attempt fails with a timeout. @defaultValue 30 */
  timeout?: number | undefined;
  /** The local `[host, port]` to connect from. */
  bindAddress?: readonly [string, number] | undefined;
}

/**
 * TCP: listening and connecting.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorTCP
 * @since 0.1.0
 */
export interface IReactorTCP {
  /**
   * Listens on `port` and serves each connection with a protocol from
   * `factory`.
   *
   * @param port - A port number; 0 picks a free one (see `getHost()`).
   * @returns The listening port, at once.
   * @throws `CannotListenError` if the address cannot be bound.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options?: ListenTCPOptions,
  ): IListeningPort<IPAddress>;
  /** Connects to `host:port`, using a protocol from `factory`. */
  connectTCP(
    host: string,
    port: number,
    factory: IProtocolFactory,
    options?: ConnectTCPOptions,
  ): IConnector<IPAddress>;
}

/** Options of {@link IReactorUNIX.listenUNIX}. */
export interface ListenUNIXOptions {
  /**
   * The size of the queue of connections the system has completed and the
   * server not yet accepted; a connection beyond it waits for the client's
   * retransmission (a second or more).
   *
   * @remarks
   * Differs from Twisted, whose default is 50: 511, as Node's, so that a
   * burst of connections is not stalled. The system may cap it
   * (`net.core.somaxconn` on Linux).
   *
   * @defaultValue 511
   */
  backlog?: number | undefined;
  /** File mode of the socket. @defaultValue 0o666 */
  mode?: number | undefined;
  /** Whether to hold a lock file beside the socket. @defaultValue false */
  wantPID?: boolean | undefined;
}

/** Options of {@link IReactorUNIX.connectUNIX}. */
export interface ConnectUNIXOptions {
  /**
   * Seconds before the attempt fails. A listener whose queue of unaccepted
   * connections is full refuses at once (EAGAIN); the attempt waits for it,
   * trying again, as a TCP client would wait, until this timeout.
   * @defaultValue 30
   */
  timeout?: number | undefined;
  /** Whether to check the server's lock file first. @defaultValue false */
  checkPID?: boolean | undefined;
}

/**
 * UNIX-domain stream sockets.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorUNIX
 * @since 0.1.0
 */
export interface IReactorUNIX {
  /** Listens on the socket file `address`. */
  listenUNIX(
    address: string,
    factory: IProtocolFactory,
    options?: ListenUNIXOptions,
  ): IListeningPort<UNIXAddress>;
  /** Connects to the socket file `address`. */
  connectUNIX(
    address: string,
    factory: IProtocolFactory,
    options?: ConnectUNIXOptions,
  ): IConnector<UNIXAddress>;
}

/**
 * TLS over TCP.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorSSL
 * @since 0.1.0
 */
export interface IReactorSSL {
  /** Listens for TLS connections; `contextFactory` holds the key and certificate. */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    contextFactory: TlsOptions,
    options?: ListenTCPOptions,
  ): IListeningPort<IPAddress>;
  /** Connects with TLS; `contextFactory` holds the trust settings. */
  connectSSL(
    host: string,
    port: number,
    factory: IProtocolFactory,
    contextFactory: ConnectionOptions,
    options?: ConnectTCPOptions,
  ): IConnector<IPAddress>;
}

/**
 * A UDP socket's transport.
 *
 * @see Twisted: twisted.internet.interfaces.IUDPTransport
 * @since 0.1.0
 */
export interface IUDPTransport {
  /**
   * Sends one datagram, to `addr` (an IP address and port) or, once
   * connected, to the peer.
   */
  write(packet: Uint8Array, addr?: readonly [string, number]): void;
  /** Restricts the socket to one peer, given by IP address. */
  connect(host: string, port: number): void;
  /** The local address. */
  getHost(): IAddress;
  /** Closes the socket. */
  stopListening(): Deferred<void>;
  /** Allows or forbids sending to broadcast addresses. */
  setBroadcastAllowed(enabled: boolean): void;
  /** Whether sending to broadcast addresses is allowed (false at first). */
  getBroadcastAllowed(): boolean;
}

/**
 * A UDP socket's transport, with IP multicast.
 *
 * @see Twisted: twisted.internet.interfaces.IMulticastTransport
 * @since 0.1.0
 */
export interface IMulticastTransport extends IUDPTransport {
  /** The interface multicast datagrams are sent from (`'0.0.0.0'` at first: the system's choice). */
  getOutgoingInterface(): string;
  /** Sends multicast datagrams from the interface with this address. */
  setOutgoingInterface(addr: string): Deferred<void>;
  /** Whether this host's own multicast datagrams come back to it (true at first). */
  getLoopbackMode(): boolean;
  /** Sets whether this host's own multicast datagrams come back to it. */
  setLoopbackMode(mode: boolean): void;
  /** The time-to-live of multicast datagrams sent (1 at first). */
  getTTL(): number;
  /** Sets the time-to-live of multicast datagrams sent (0 to 255). */
  setTTL(ttl: number): void;
  /** Joins a multicast group, on `iface` (an interface's address) or the default one. */
  joinGroup(addr: string, iface?: string): Deferred<void>;
  /** Leaves a multicast group. */
  leaveGroup(addr: string, iface?: string): Deferred<void>;
}

/**
 * The handler of a UDP socket's datagrams.
 *
 * @see Twisted: twisted.internet.protocol.DatagramProtocol
 * @since 0.1.0
 */
export interface IDatagramProtocol {
  /** Attaches the transport and calls `startProtocol`. */
  makeConnection(transport: IUDPTransport): void;
  /** Called when the socket is ready. */
  startProtocol(): void;
  /** Called when the socket is closed. */
  stopProtocol(): void;
  /**
   * Called by the port when it stops using the protocol (the
   * `DatagramProtocol` base class calls `stopProtocol` from it); optional.
   */
  doStop?(): void;
  /** Called with each datagram and its sender. */
  datagramReceived(data: Uint8Array, addr: readonly [string, number]): void;
  /** Called when a datagram sent to a connected peer was refused. */
  connectionRefused(): void;
}

/** Options of {@link IReactorUDP.listenUDP}. */
export interface ListenUDPOptions {
  /**
   * The local IP address to bind: `'127.0.0.1'`, `'::'` for IPv6 (which
   * makes the port an IPv6 one), …
   *
   * @defaultValue all IPv4 interfaces
   */
  interface?: string;
  /** Larger datagrams are truncated to this many bytes. @defaultValue 8192 */
  maxPacketSize?: number;
}

/** Options of {@link IReactorMulticast.listenMulticast}. */
export interface ListenMulticastOptions extends ListenUDPOptions {
  /**
   * Let other sockets (of this process or others) bind the same port, as
   * several receivers of one group do (`SO_REUSEADDR`).
   *
   * @defaultValue false
   */
  listenMultiple?: boolean;
}

/**
 * UDP.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorUDP
 * @since 0.1.0
 */
export interface IReactorUDP {
  /** Binds a UDP socket to `port` and hands its datagrams to `protocol`. */
  listenUDP(
    port: number,
    protocol: IDatagramProtocol,
    options?: ListenUDPOptions,
  ): IListeningPort<IPAddress>;
}

/**
 * UDP with IP multicast.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorMulticast
 * @since 0.1.0
 */
export interface IReactorMulticast {
  /**
   * Binds a UDP socket to `port` for multicast and hands its datagrams to
   * `protocol`; the port is an {@link IMulticastTransport}.
   */
  listenMulticast(
    port: number,
    protocol: IDatagramProtocol,
    options?: ListenMulticastOptions,
  ): IListeningPort<IPAddress> & IMulticastTransport;
}

/**
 * A child process, as its protocol sees it.
 *
 * @remarks
 * `write` goes to the child's standard input. As a consumer, it takes a
 * producer for standard input (paused while the pipe is full); as a push
 * producer, `pauseProducing` stops reading the child's output.
 *
 * @see Twisted: twisted.internet.interfaces.IProcessTransport
 * @since 0.1.0
 */
export interface IProcessTransport extends ITransport, IConsumer, IPushProducer {
  /** The child's process id, or `undefined` once it has exited. */
  readonly pid: number | undefined;
  /** Closes the child's standard input. */
  closeStdin(): void;
  /** Closes the child's standard output. */
  closeStdout(): void;
  /** Closes the child's standard error. */
  closeStderr(): void;
  /** Closes one of the child's file descriptors. */
  closeChildFD(descriptor: number): void;
  /** Writes to one of the child's file descriptors. */
  writeToChild(childFD: number, data: Uint8Array): void;
  /** Sends a signal, such as `'TERM'` or `'KILL'`. */
  signalProcess(signal: string | number): void;
}

/**
 * The handler of a child process's events.
 *
 * @see Twisted: twisted.internet.interfaces.IProcessProtocol
 * @since 0.1.0
 */
export interface IProcessProtocol {
  /** Attaches the process transport. */
  makeConnection(process: IProcessTransport): void;
  /** Called with output on one of the child's descriptors (1 = stdout, 2 = stderr). */
  childDataReceived(childFD: number, data: Uint8Array): void;
  /** Called when one of the child's descriptors closes. */
  childConnectionLost(childFD: number): void;
  /** Called when the process has exited. */
  processExited(reason: Failure): void;
  /** Called when the process has exited and all its descriptors are closed. */
  processEnded(reason: Failure): void;
}

/** Options of {@link IReactorProcess.spawnProcess}. */
export interface SpawnProcessOptions {
  /**
   * The child's environment, exactly: nothing of this process's is added.
   * As in Twisted, the default is an empty environment; pass
   * `{ ...process.env }` to hand this process's down.
   * @defaultValue empty
   */
  env?: Readonly<Record<string, string>>;
  /** The child's working directory. @defaultValue this process's */
  path?: string;
  /** The user id to run as (POSIX). */
  uid?: number;
  /** The group id to run as (POSIX). */
  gid?: number;
  /** Run in a pseudo-terminal: not supported by `NodeReactor` (`true` throws). @defaultValue false */
  usePTY?: boolean;
  /**
   * Maps the child's descriptors: `'r'` (the parent reads what the child
   * writes there), `'w'` (the parent writes what the child reads there), or
   * a descriptor of this process, passed as it is.
   * @defaultValue `{ 0: 'w', 1: 'r', 2: 'r' }`
   */
  childFDs?: Readonly<Record<number, 'r' | 'w' | number>>;
}

/**
 * Child processes.
 *
 * @see Twisted: twisted.internet.interfaces.IReactorProcess
 * @since 0.1.0
 */
export interface IReactorProcess {
  /**
   * Starts `executable` with `args` (whose first item is the program name)
   * and connects it to `processProtocol`.
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[],
    options?: SpawnProcessOptions,
  ): IProcessTransport;
}

/**
 * Looks host names up: every address of a name, in the resolver's order of
 * preference.
 *
 * @remarks
 * A `HostnameEndpoint` asks its resolver for all the addresses of a name and
 * races connections to them; pass a fake resolver in tests. `NodeReactor`
 * implements it with the system resolver (`getaddrinfo`).
 *
 * Differences from Twisted: Twisted's `IHostnameResolver` reports to a
 * receiver object address by address; here one Deferred carries them all.
 *
 * @see Twisted: twisted.internet.interfaces.IHostnameResolver
 * @since 0.1.0
 */
export interface IHostnameResolver {
  /**
   * Looks up every address of `name`.
   *
   * @remarks
   * Cancellation: cancelling the Deferred abandons the lookup; the Deferred
   * fails with `CancelledError`.
   *
   * @param name - A host name (an IP literal resolves to itself).
   * @returns A Deferred of the addresses (their ports are 0), which may be
   *   empty, or failing with `DNSLookupError`.
   */
  resolveHostName(name: string): Deferred<IIPAddress[]>;
}

// ---------------------------------------------------------------------------
// Endpoints

/**
 * Somewhere a server can listen: `TCP4ServerEndpoint`, `UNIXServerEndpoint`, …
 *
 * @typeParam A - The type of the address its ports listen on:
 *   `IPv4Address` for a `TCP4ServerEndpoint`, `UNIXAddress` for a
 *   `UNIXServerEndpoint`.
 * @see Twisted: twisted.internet.interfaces.IStreamServerEndpoint
 * @since 0.1.0
 */
export interface IStreamServerEndpoint<A extends IAddress = IAddress> {
  /** Listens with `factory`; the Deferred fires with the listening port. */
  listen(factory: IProtocolFactory): Deferred<IListeningPort<A>>;
}

/** Options of {@link IStreamClientEndpoint.connect}. */
export interface EndpointConnectOptions {
  /**
   * Aborting it cancels the attempt, as cancelling the Deferred does (same
   * errors); one already aborted cancels it at once. The listener is
   * removed when the Deferred fires, so a long-lived signal collects none.
   */
  signal?: AbortSignal | undefined;
}

/**
 * Somewhere a client can connect to.
 *
 * @see Twisted: twisted.internet.interfaces.IStreamClientEndpoint
 * @since 0.1.0
 */
export interface IStreamClientEndpoint {
  /**
   * Connects with a protocol from `factory`; the Deferred fires with the
   * connected protocol, typed as the factory builds it. Cancelling it, or
   * aborting `options.signal`, abandons the attempt.
   */
  connect<F extends IProtocolFactory>(
    factory: F,
    options?: EndpointConnectOptions,
  ): Deferred<ProtocolOf<F>>;
}
