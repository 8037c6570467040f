// The transport of one connected stream socket (TCP, TLS over TCP, or a
// UNIX socket): writing, reading, closing, and the producer/consumer
// machinery. Ports and connectors make these; protocols see them as
// ITCPTransport. (Twisted: twisted.internet.abstract.FileDescriptor,
// twisted.internet.tcp.Connection; startTLS: twisted.internet._newtls)
// Tests: test/integration/starttls.test.ts, test/integration/stream-transport-contract.test.ts, test/integration/closing-tail.test.ts, test/integration/closing-linger.test.ts, test/integration/closing-address.test.ts, test/integration/tcp-write-limits.test.ts, test/integration/tcp.test.ts, test/integration/tcp-producers.test.ts, test/integration/tls.test.ts, test/integration/unix.test.ts, test/reliability/callbacks.test.ts

import { isIP, type Socket } from 'node:net';
import {
  type ConnectionOptions,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  TLSSocket,
  type TlsOptions,
  connect as tlsConnect,
} from 'node:tls';
import { Logger } from '../logger/logger.js';
import { bindOnRead, TRANSPORT_METHODS } from './_bind.js';
import { isHalfCloseable } from './_half-close.js';
import {
  DEFAULT_WRITE_HIGH,
  DEFAULT_WRITE_LOW,
  resolveWriteBufferLimits,
} from './_write-limits.js';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from './error.js';
import { Failure } from './failure.js';
import type {
  IAddress,
  IDelayedCall,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  IReactorTime,
  ISSLTransport,
  ITLSTransport,
  IWriteBufferLimits,
  StartTLSOptions,
  WriteBufferLimitOptions,
  WriteBufferLimits,
} from './interfaces.js';

const log = new Logger('torsion.internet.tcp');

/**
 * Seconds a connection closed with loseConnection, once everything written
 * has been handed to the kernel, waits for the peer to close its side before
 * it is closed anyway (see StreamTransport).
 */
const CLOSE_GRACE = 10;

/** Written behind a backlog to learn when it has been sent (see StreamTransport). */
const EMPTY = new Uint8Array(0);

/**
 * What a reactor lends its transports, ports and connectors: time, and a
 * register of open sockets so that shutdown can close them.
 *
 * @internal
 */
export interface SocketHost extends IReactorTime {
  /** Remembers something to close at shutdown. */
  track(item: Disconnectable): void;
  /** Forgets it (it closed). */
  untrack(item: Disconnectable): void;
}

/**
 * Something a reactor closes when it shuts down.
 *
 * @internal
 */
export interface Disconnectable {
  /** Closes at once with `reason`. */
  disconnectNow(reason: ConnectionLost): void;
}

/**
 * What a transport tells its owner (port or connector) when the connection ends.
 *
 * @internal
 */
export type LostListener = (reason: Failure) => void;

/**
 * The protocol `factory` builds for a new connection from `peer`, or null
 * when it refuses (returns null or undefined) or throws; a throw is logged
 * with its stack. The caller closes the connection on null, and a port
 * goes on listening.
 *
 * @internal
 */
export function buildProtocolFor(factory: IProtocolFactory, peer: IAddress): IProtocol | null {
  try {
    return factory.buildProtocol(peer) ?? null;
  } catch (error) {
    log.failure('Unhandled error in buildProtocol of {factory}; closing the connection', error, {
      factory: factory.constructor.name,
    });
    return null;
  }
}

/** An address, or how to find it when first asked (saving memory per connection). */
export type LazyAddress = IAddress | (() => IAddress);

/** The transport of a socket, kept on the socket so that listeners can be shared. */
const TRANSPORT = Symbol('torsion.transport');
type SocketWithTransport = Socket & { [TRANSPORT]: StreamTransport };

// Listeners shared by every transport (assigned in StreamTransport's static
// block, where they can reach its private methods): a closure per listener
// per connection would cost hundreds of bytes on every idle connection.
let onSocketData: (this: Socket, data: Buffer) => void;
let onSocketEnd: (this: Socket) => void;
let onSocketDrain: (this: Socket) => void;
let onSocketError: (this: Socket, error: NodeJS.ErrnoException) => void;
let onSocketClose: (this: Socket) => void;
let onSocketFinish: (this: Socket) => void;
let onSocketSecure: (this: TLSSocket) => void;

/** What a plain socket has listening, taken off when startTLS hands it to a TLSSocket. */
const PLAIN_EVENTS = ['data', 'end', 'error', 'close', 'drain', 'finish'] as const;

/** Starts TLS over a plain socket, set up and checked by startTLS before anything changes. */
interface TLSStarter {
  /** Whether this end plays the TLS server. */
  readonly server: boolean;
  /** A server that asked for a client certificate and refuses a peer without a valid one. */
  readonly verifyClient: boolean;
  /** Wraps the plain socket. */
  wrap(socket: Socket): TLSSocket;
}

/**
 * Why the client's certificate did not verify (its code, such as
 * `'UNABLE_TO_VERIFY_LEAF_SIGNATURE'`), or null if it did. A tls.Server
 * asks the TLS handle the same way (Node's onServerSocketSecure); a lone
 * server TLSSocket neither asks nor sets `authorized`. Without the handle's
 * method, the client is refused.
 */
function clientVerifyError(socket: TLSSocket): string | null {
  const handle = (socket as TLSSocket & { _handle?: { verifyError?: () => unknown } })._handle;
  if (typeof handle?.verifyError !== 'function') return 'UNVERIFIABLE';
  const error = handle.verifyError() as (Error & { code?: string }) | null | undefined;
  return error == null ? null : (error.code ?? error.message);
}

/** Whether the socket was accepted by a listening server (Node marks those). */
function acceptedSocket(socket: Socket): boolean {
  return (socket as Socket & { server?: unknown }).server != null;
}

/**
 * Checks `options` for the side asked and builds the secure context now, so
 * that unusable settings throw from startTLS rather than fail later.
 */
function tlsStarter(options: ConnectionOptions | TlsOptions, server: boolean): TLSStarter {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `startTLS() expects TLS options (an object), got ${options === null ? 'null' : typeof options}`,
    );
  }
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
    const secureContext: SecureContext = settings.secureContext ?? createSecureContext(settings);
    const requestCert = settings.requestCert === true;
    const rejectUnauthorized = settings.rejectUnauthorized !== false;
    return {
      server: true,
      verifyClient: requestCert && rejectUnauthorized,
      wrap: (socket) =>
        new TLSSocket(socket, {
          isServer: true,
          secureContext,
          requestCert,
          rejectUnauthorized,
          ...(settings.ALPNProtocols !== undefined && { ALPNProtocols: settings.ALPNProtocols }),
          ...(settings.SNICallback !== undefined && { SNICallback: settings.SNICallback }),
        }),
    };
  }
  const settings = options as ConnectionOptions;
  const name = settings.servername ?? settings.host;
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      "startTLS() as a TLS client needs the server's name to verify its certificate: give servername (or host)",
    );
  }
  const secureContext = settings.secureContext ?? createSecureContext(settings);
  // SNI carries names only; an IP address is checked against the
  // certificate through `host` instead (Node warns about an IP servername).
  const servername = settings.servername ?? (isIP(name) === 0 ? name : undefined);
  return {
    server: false,
    verifyClient: false,
    wrap: (socket) =>
      tlsConnect({
        ...settings,
        secureContext,
        socket,
        host: settings.host ?? name,
        ...(servername === undefined ? {} : { servername }),
      }),
  };
}

/** Ends a lingering close (a reactor call, given the socket: no closure per connection). */
function destroySocket(socket: Socket): void {
  socket.destroy();
}

/**
 * The transport of one stream socket: what a protocol writes to, and what
 * feeds its `dataReceived`.
 *
 * @remarks
 * Closing: `loseConnection()` stops delivering what arrives, sends what is
 * buffered (and, with a producer registered, waits for it to unregister),
 * then sends FIN (on TLS: close-notify, then FIN) and closes once the peer
 * has closed its side too, or {@link CLOSE_GRACE} seconds after everything
 * was handed to the kernel. Until then it reads on and drops what the peer
 * sends: closing a socket with unread input sends a reset, and the kernel
 * would throw away the tail of the reply that it had not sent yet;
 * data written once the socket is ending (after `loseConnection` with no
 * producer, or after `loseWriteConnection`) is dropped;
 * `abortConnection()` resets the connection at once. `connectionLost` is
 * called exactly once, with `ConnectionDone` for a clean close,
 * `ConnectionAborted` after an abort, and `ConnectionLost` otherwise.
 *
 * Flow control: a streaming producer is paused when more than the high
 * mark (64 KiB unless `setWriteBufferLimits` says otherwise) waits to be
 * sent, and resumed at the first completed write that leaves the low mark
 * (16 KiB) or less; a pull producer is asked for a chunk each time the
 * buffer empties. The transport itself is a push producer of what it reads.
 *
 * A throw from the protocol's `dataReceived` (or `connectionMade`) is logged
 * and aborts this connection; others are unaffected. So is a throw from the
 * producer's `pauseProducing` or `resumeProducing`, wherever the transport
 * calls it (a write that passes the high mark, 'drain', a completed write,
 * the wait for an empty buffer, `registerProducer`): the writer is not
 * told, and the connection is aborted with a reason whose `cause` is the
 * error. A throw from `stopProducing` is logged.
 *
 * @internal Created by ports and connectors; protocols see it as an ITCPTransport.
 */
export class StreamTransport implements ITLSTransport, IWriteBufferLimits {
  #socket: Socket;
  readonly #protocol: IProtocol;
  #host: LazyAddress;
  readonly #peer: IAddress;
  readonly #owner: SocketHost;
  readonly #onLost: LostListener | undefined;
  /** TCP sockets can be reset (RST); UNIX and TLS sockets are just closed. */
  #canReset: boolean;
  /** end() was called: nothing more can be written. */
  #ended = false;
  /** open → disconnecting (loseConnection asked for) → closed (connectionLost called). */
  #state: 'open' | 'disconnecting' | 'closed' = 'open';
  /** Why the socket is closing, when not a plain clean close. */
  #reason: Failure | undefined;
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  /** The streaming producer was paused because the buffer passed #high. */
  #producerPaused = false;
  /** Pause a streaming producer above this many buffered bytes… */
  #high = DEFAULT_WRITE_HIGH;
  /** …and resume it at this many or fewer (#low <= #high). */
  #low = DEFAULT_WRITE_LOW;
  /**
   * Passed to socket.write while a streaming producer is registered (else
   * undefined): Node calls it as each write completes, when the buffer may
   * have fallen to #low. Made once per registration, not per write.
   */
  #watch: (() => void) | undefined;
  /** A pull producer is owed a resumeProducing once the buffer empties. */
  #pullWaiting = false;
  /** Counts the waits armed for a pull producer: only the latest one's notice counts. */
  #pullWait = 0;
  #noDelay = false;
  #keepAlive = false;
  /** Whether the 'drain' listener is attached (only producers need it). */
  #drainWatched = false;
  /** #closeWhenFlushed has started the close (it may be reached twice). */
  #flushing = false;
  /** Closes a lingering socket whose peer does not close (see #flushed). */
  #lingering: IDelayedCall | undefined;
  /**
   * startTLS's progress: none asked; waiting for plain bytes written
   * before it to leave (see #tlsQueue); handshaking; done.
   */
  #tls: 'none' | 'waiting' | 'handshaking' | 'done' = 'none';
  /** While waiting to start TLS: what the protocol wrote since, to send encrypted. */
  #tlsQueue: Uint8Array[] | undefined;
  /** While waiting to start TLS: loseWriteConnection was called, to do once started. */
  #tlsHalfClose = false;
  /** The TLS settings of startTLS, while its handshake goes on. */
  #tlsStarter: TLSStarter | undefined;
  /** What the peer proved in startTLS's handshake. */
  #tlsPeerCertificate: PeerCertificate | null = null;
  #tlsNegotiated: string | null = null;
  /** pauseProducing was called (and not resumeProducing): kept across startTLS. */
  #readPaused = false;

  static {
    const transportOf = (socket: Socket): StreamTransport =>
      (socket as SocketWithTransport)[TRANSPORT];
    onSocketData = function (this: Socket, data: Buffer): void {
      transportOf(this).#dataReceived(data);
    };
    onSocketEnd = function (this: Socket): void {
      transportOf(this).#readEnded();
    };
    onSocketDrain = function (this: Socket): void {
      transportOf(this).#drained();
    };
    onSocketError = function (this: Socket, error: NodeJS.ErrnoException): void {
      const transport = transportOf(this);
      transport.#reason ??= new Failure(
        transport.#tls === 'handshaking'
          ? new ConnectionLost(
              `the TLS handshake failed: ${error.message}${error.code === undefined ? '' : ` (${error.code})`}`,
              { cause: error },
            )
          : new ConnectionLost(error.code ?? error.message, { cause: error }),
      );
    };
    onSocketClose = function (this: Socket): void {
      transportOf(this).#closed();
    };
    onSocketFinish = function (this: Socket): void {
      transportOf(this).#flushed();
    };
    onSocketSecure = function (this: TLSSocket): void {
      transportOf(this).#handshakeDone(this);
    };
  }

  /**
   * @param socket - A connected socket.
   * @param protocol - The protocol to feed.
   * @param host - This end's address, or a function giving it when first asked.
   * @param peer - The other end's address.
   * @param owner - The reactor, which closes the transport at shutdown.
   * @param onLost - Called after `connectionLost`, for the port or connector.
   * @param canReset - Whether `abortConnection` can send a TCP reset. Default true.
   */
  constructor(
    socket: Socket,
    protocol: IProtocol,
    host: LazyAddress,
    peer: IAddress,
    owner: SocketHost,
    onLost?: LostListener,
    canReset = true,
  ) {
    this.#socket = socket;
    this.#canReset = canReset;
    this.#protocol = protocol;
    this.#host = host;
    this.#peer = peer;
    this.#owner = owner;
    this.#onLost = onLost;
    (socket as SocketWithTransport)[TRANSPORT] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    owner.track(this);
  }

  /**
   * Attaches the protocol: calls its `makeConnection`. A throw is logged and
   * aborts the connection.
   */
  start(): void {
    try {
      this.#protocol.makeConnection(this);
    } catch (error) {
      this.#protocolFailed('connectionMade', error);
    }
  }

  write(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(
        `write() expects a Uint8Array, got ${data === null ? 'null' : typeof data}`,
      );
    }
    if (this.#ended) return;
    if (this.#tlsQueue !== undefined) {
      this.#tlsQueue.push(data);
      return;
    }
    const watch = this.#watch;
    if (watch === undefined) {
      this.#socket.write(data);
      return;
    }
    this.#socket.write(data, watch);
    this.#afterWrite();
  }

  writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = [...data];
    for (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError(
          `writeSequence() expects Uint8Arrays, got ${chunk === null ? 'null' : typeof chunk}`,
        );
      }
    }
    if (this.#ended) return;
    if (this.#tlsQueue !== undefined) {
      this.#tlsQueue.push(...chunks);
      return;
    }
    // Corked, the chunks leave in one system call.
    const socket = this.#socket;
    socket.cork();
    // Only the last write needs watching: it completes after the others.
    const watch = this.#watch;
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) socket.write(chunks[i]!);
    if (last >= 0) socket.write(chunks[last]!, watch);
    socket.uncork();
    if (watch !== undefined) this.#afterWrite();
  }

  /**
   * Whether the connection is closing or closed: `loseConnection` or
   * `abortConnection` was called, or the peer finished and we are finishing
   * too.
   *
   * @remarks
   * Twisted's connections have this attribute, and its framing protocols
   * (LineReceiver, the string receivers) read it to stop dispatching once a
   * handler has dropped the connection in the middle of a chunk; without it
   * they would go on delivering the rest of that chunk.
   */
  get disconnecting(): boolean {
    return this.#state !== 'open' || this.#socket.destroyed;
  }

  loseConnection(): void {
    if (this.#state !== 'open') return;
    this.#state = 'disconnecting';
    // Read on (what arrives is dropped): input left unread would turn the
    // close into a reset, and would block a peer that writes before it reads.
    // (Not while waiting to start TLS: what arrives is the TLS layer's.)
    if (this.#tlsQueue === undefined) this.#socket.resume();
    this.#closeWhenFlushed();
  }

  loseWriteConnection(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#tlsQueue !== undefined) {
      this.#tlsHalfClose = true;
      return;
    }
    this.#endWrite();
  }

  /** Sends FIN (on TLS: close-notify, then FIN) after what is buffered; tells a half-closeable protocol. */
  #endWrite(): void {
    this.#socket.end(() => {
      if (this.#state === 'closed') return;
      const protocol = this.#protocol;
      if (isHalfCloseable(protocol)) {
        try {
          protocol.writeConnectionLost?.();
        } catch (error) {
          this.#protocolFailed('writeConnectionLost', error);
        }
      }
    });
  }

  abortConnection(): void {
    if (this.#state === 'closed' || this.#socket.destroyed) return;
    this.#reason ??= new Failure(new ConnectionAborted());
    this.#reset();
  }

  getPeer(): IAddress {
    return this.#peer;
  }

  getHost(): IAddress {
    const host = this.#host;
    if (typeof host !== 'function') return host;
    const found = host();
    this.#host = found;
    return found;
  }

  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
    if (!this.#socket.destroyed) this.#socket.setNoDelay(enabled);
  }

  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  setTcpKeepAlive(enabled: boolean): void {
    this.#keepAlive = enabled;
    if (!this.#socket.destroyed) this.#socket.setKeepAlive(enabled);
  }

  setWriteBufferLimits(limits?: WriteBufferLimitOptions): void {
    const { high, low } = resolveWriteBufferLimits(limits);
    this.#high = high;
    this.#low = low;
    // asyncio does the same: the new marks apply to what is buffered now.
    this.#afterWrite();
    this.#written();
  }

  getWriteBufferLimits(): WriteBufferLimits {
    return { high: this.#high, low: this.#low };
  }

  getWriteBufferSize(): number {
    let queued = 0;
    for (const chunk of this.#tlsQueue ?? []) queued += chunk.byteLength;
    return this.#socket.writableLength + queued;
  }

  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error(
        `Cannot register producer ${String(producer)}, because producer ${String(this.#producer)} was never unregistered.`,
      );
    }
    if (this.#state === 'closed') {
      this.#tellProducerToStop(producer);
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (!this.#drainWatched) {
      this.#drainWatched = true;
      this.#socket.on('drain', onSocketDrain);
    }
    if (streaming) {
      this.#watch = () => this.#written();
      this.#afterWrite();
    } else {
      this.#askPullProducer(producer as IPullProducer);
    }
  }

  unregisterProducer(): void {
    this.#producer = null;
    this.#watch = undefined;
    this.#producerPaused = false;
    this.#pullWaiting = false;
    if (this.#state === 'disconnecting') this.#closeWhenFlushed();
  }

  /**
   * Stops reading: no `dataReceived` until `resumeProducing`. Once closing,
   * the transport reads on (and drops what arrives) until the peer closes.
   */
  pauseProducing(): void {
    if (this.#state !== 'open') return;
    this.#readPaused = true;
    // While waiting to start TLS the plain socket stays paused anyway.
    if (this.#tlsQueue === undefined) this.#socket.pause();
  }

  /** Reads again after `pauseProducing` (not once closing). */
  resumeProducing(): void {
    if (this.#state !== 'open') return;
    this.#readPaused = false;
    if (this.#tlsQueue === undefined) this.#socket.resume();
  }

  /** Stops for good: the same as `loseConnection`. */
  stopProducing(): void {
    this.loseConnection();
  }

  /**
   * Switches the connection to TLS (STARTTLS); see {@link ITLSTransport.startTLS}.
   *
   * @remarks
   * Plain bytes written before the call leave first: while some are still
   * buffered, TLS starts once they have gone, reading stops until then
   * (what arrives is kept for the TLS layer) and writes wait in a queue.
   */
  startTLS(options: ConnectionOptions | TlsOptions, how: StartTLSOptions = {}): void {
    const socket = this.#socket;
    if (this.#tls !== 'none' || (socket as Partial<TLSSocket>).encrypted === true) {
      throw new Error(`startTLS(): ${String(this)} already uses TLS`);
    }
    if (this.#state !== 'open' || this.#ended || socket.destroyed) {
      throw new Error(`startTLS(): ${String(this)} is closing or half-closed`);
    }
    const starter = tlsStarter(options, how.server ?? acceptedSocket(socket));
    const unread = how.unread;
    if (unread !== undefined && !(unread instanceof Uint8Array)) {
      throw new TypeError('startTLS(): unread must be a Uint8Array');
    }
    this.#tlsStarter = starter;
    if (unread !== undefined && unread.byteLength > 0) {
      // Handed back for the TLSSocket to read first; paused, so that the
      // plain socket does not deliver them again meanwhile.
      socket.pause();
      socket.removeListener('data', onSocketData);
      socket.unshift(Buffer.from(unread.buffer, unread.byteOffset, unread.byteLength));
    }
    if (socket.writableLength === 0) {
      this.#tls = 'handshaking';
      this.#wrapTLS();
      return;
    }
    // A TLSSocket writes straight to the handle, ahead of what the plain
    // socket still buffers: wait until that has gone. Reading stops until
    // then, and what arrives (the peer's first handshake bytes) stays in
    // the plain socket for the TLSSocket to take.
    this.#tls = 'waiting';
    this.#tlsQueue = [];
    socket.pause();
    socket.removeListener('data', onSocketData);
    socket.write(EMPTY, () => {
      if (this.#tls !== 'waiting' || this.#state === 'closed' || socket.destroyed) return;
      this.#tls = 'handshaking';
      this.#wrapTLS();
    });
  }

  /** Whether startTLS was called, or the socket was a TLS socket from the start. */
  get tlsStarted(): boolean {
    return this.#tls !== 'none' || (this.#socket as Partial<TLSSocket>).encrypted === true;
  }

  /** The certificate the peer presented in startTLS's handshake, or null. */
  getPeerCertificate(): PeerCertificate | null {
    return this.#tlsPeerCertificate;
  }

  /** The protocol agreed through ALPN in startTLS's handshake, or null. */
  get negotiatedProtocol(): string | null {
    return this.#tlsNegotiated;
  }

  /** Hands the plain socket to a TLSSocket, which this transport uses from now on. */
  #wrapTLS(): void {
    const plain = this.#socket;
    const starter = this.#tlsStarter as TLSStarter;
    const queue = this.#tlsQueue;
    this.#tlsQueue = undefined;
    for (const event of PLAIN_EVENTS) plain.removeAllListeners(event);
    let secure: TLSSocket;
    try {
      secure = starter.wrap(plain);
    } catch (error) {
      // The settings were checked already: this is not expected.
      plain.on('error', () => undefined);
      this.#reason ??= new Failure(
        new ConnectionLost(`TLS could not start: ${(error as Error).message}`, { cause: error }),
      );
      plain.destroy();
      this.#closed();
      return;
    }
    (secure as unknown as SocketWithTransport)[TRANSPORT] = this;
    this.#socket = secure;
    this.#canReset = false;
    secure.on('data', onSocketData);
    secure.on('end', onSocketEnd);
    secure.on('error', onSocketError);
    secure.on('close', onSocketClose);
    if (this.#drainWatched) secure.on('drain', onSocketDrain);
    secure.once(starter.server ? 'secure' : 'secureConnect', onSocketSecure);
    if (this.#readPaused && this.#state === 'open') secure.pause();
    if (queue !== undefined && queue.length > 0) {
      const ended = this.#ended;
      this.#ended = false;
      this.writeSequence(queue);
      this.#ended = ended;
    }
    if (this.#tlsHalfClose) {
      this.#tlsHalfClose = false;
      this.#endWrite();
    }
    if (this.#state === 'disconnecting') this.#closeWhenFlushed();
  }

  /** The handshake startTLS began has completed ('secure' or 'secureConnect'). */
  #handshakeDone(socket: TLSSocket): void {
    const starter = this.#tlsStarter;
    this.#tlsStarter = undefined;
    if (this.#state === 'closed' || socket.destroyed || starter === undefined) return;
    if (starter.verifyClient && clientVerifyError(socket) !== null) {
      // A lone TLSSocket (no tls.Server) does not refuse an unverified client itself.
      const detail = String(clientVerifyError(socket));
      socket.destroy(
        Object.assign(new Error(`the client's certificate was refused: ${detail}`), {
          code: detail,
        }),
      );
      return;
    }
    this.#tls = 'done';
    const certificate = socket.getPeerCertificate();
    this.#tlsPeerCertificate =
      certificate !== null && typeof certificate === 'object' && Object.keys(certificate).length > 0
        ? certificate
        : null;
    const alpn = socket.alpnProtocol;
    this.#tlsNegotiated = typeof alpn === 'string' ? alpn : null;
    const protocol = this.#protocol as IProtocol & { handshakeCompleted?: unknown };
    if (this.#state !== 'open' || typeof protocol.handshakeCompleted !== 'function') return;
    try {
      (protocol.handshakeCompleted as () => void).call(protocol);
    } catch (error) {
      this.#protocolFailed('handshakeCompleted', error);
    }
  }

  /** Closes at once at reactor shutdown. @internal */
  disconnectNow(reason: ConnectionLost): void {
    if (this.#state === 'closed') return;
    this.#reason ??= new Failure(reason);
    this.#ended = true;
    this.#keepHost();
    this.#socket.destroy();
    // Node reports the close on a later turn, after run() has settled;
    // Twisted's disconnectAll calls connectionLost during shutdown, so do it
    // now. The 'close' event then finds the transport closed.
    this.#closed();
  }

  /** `<StreamTransport IPv4Address(TCP, '127.0.0.1', 8080) open>` */
  toString(): string {
    return `<${this.constructor.name} ${String(this.#peer)} ${this.#state}>`;
  }

  #dataReceived(data: Buffer): void {
    if (this.#state !== 'open') return;
    try {
      this.#protocol.dataReceived(data);
    } catch (error) {
      this.#protocolFailed('dataReceived', error);
    }
  }

  /** The peer has finished sending, or reset a connection we had not read to the end. */
  #readEnded(): void {
    if (this.#state === 'closed') return;
    // The socket may close in this turn (both sides have ended).
    this.#keepHost();
    const socket = this.#socket;
    // libuv reports a reset that arrives while received data is still unread
    // as a plain EOF. A write of nothing tells them apart without sending
    // anything: it fails with ECONNRESET or EPIPE on a reset socket, and the
    // 'error' path then reports ConnectionLost. Only possible while nothing
    // else is queued (else the probe would wait behind it; a queued write
    // fails by itself on a reset socket) and on plain TCP (a TLS socket
    // would have to encrypt it).
    if (
      this.#canReset &&
      !this.#ended &&
      socket.writable &&
      socket.writableLength === 0 &&
      !(socket as Partial<TLSSocket>).encrypted
    ) {
      socket.write(EMPTY, (error) => {
        if (error == null) this.#peerFinished();
      });
      return;
    }
    this.#peerFinished();
  }

  /** The peer has finished sending (a FIN, not a reset). */
  #peerFinished(): void {
    if (this.#state === 'closed') return;
    const protocol = this.#protocol;
    if (isHalfCloseable(protocol) && this.#state === 'open') {
      try {
        protocol.readConnectionLost();
      } catch (error) {
        this.#protocolFailed('readConnectionLost', error);
      }
      return;
    }
    // Not half-closeable: finish our side too, after what is buffered. A
    // producer still registered is stopped, as Twisted's connectionLost
    // would: waiting for it to unregister would hold the connection open
    // forever, since nothing else tells it the peer has gone.
    if (this.#state === 'open') {
      this.#state = 'disconnecting';
      this.#stopProducer();
      this.#closeWhenFlushed();
    }
  }

  /** After a write with a streaming producer registered: pause it if the buffer is too full. */
  #afterWrite(): void {
    const producer = this.#producer;
    if (producer === null || !this.#streaming || this.#producerPaused) return;
    const socket = this.#socket;
    if (socket.destroyed || socket.writableLength <= this.#high) return;
    this.#producerPaused = true;
    if (!this.#callProducer(producer, 'pauseProducing')) return;
    // Resuming needs a write to complete: one queued behind the backlog
    // calls back even when what is buffered was written before the producer
    // came (without a callback) and 'drain' will not come (a backlog under
    // Node's own 16 KiB mark).
    const watch = this.#watch;
    if (this.#producerPaused && watch !== undefined && !this.#ended && !socket.writableEnded) {
      socket.write(EMPTY, watch);
    }
  }

  /** A write completed (or the limits changed): resume a paused producer at the low mark. */
  #written(): void {
    if (!this.#producerPaused || this.#state === 'closed' || this.#socket.destroyed) return;
    if (this.#socket.writableLength > this.#low) return;
    const producer = this.#producer;
    if (producer === null || !this.#streaming) return;
    this.#producerPaused = false;
    this.#callProducer(producer, 'resumeProducing');
  }

  /** The send buffer is empty ('drain'). */
  #drained(): void {
    const producer = this.#producer;
    if (producer === null || this.#state === 'closed' || this.#socket.destroyed) return;
    if (!this.#streaming) {
      this.#pullReady(this.#pullWait);
    } else if (this.#producerPaused) {
      this.#producerPaused = false;
      this.#callProducer(producer, 'resumeProducing');
    }
  }

  /** Asks the pull producer for a chunk, then waits for the buffer to empty. */
  #askPullProducer(producer: IPullProducer): void {
    this.#pullWaiting = false;
    if (!this.#callProducer(producer, 'resumeProducing')) return;
    // It may have unregistered, or closed the connection.
    if (this.#producer !== producer || this.#state === 'closed') return;
    this.#pullWaiting = true;
    this.#armPullWait();
  }

  /** Arranges for `#pullReady` to run once the buffer is empty. */
  #armPullWait(): void {
    const wait = ++this.#pullWait;
    const ready = (): void => this.#pullReady(wait);
    const socket = this.#socket;
    if (socket.writableLength === 0) {
      setImmediate(ready);
    } else if (!socket.writableNeedDrain && !socket.writableEnded) {
      // Node emits 'drain' only after a write that passed the socket's own
      // high-water mark (16 KiB): a smaller backlog never reports being sent,
      // and the producer would wait forever. An empty write queued behind
      // the backlog calls back once it has gone.
      socket.write(EMPTY, ready);
    }
  }

  #pullReady(wait: number): void {
    const producer = this.#producer;
    if (wait !== this.#pullWait || !this.#pullWaiting || producer === null) return;
    if (this.#streaming || this.#state === 'closed' || this.#socket.destroyed) return;
    // Written to since the wait was armed: wait for that too.
    if (this.#socket.writableLength > 0) this.#armPullWait();
    else this.#askPullProducer(producer as IPullProducer);
  }

  /** Closes cleanly once the buffer is sent, unless a producer is still registered. */
  #closeWhenFlushed(): void {
    // While waiting to start TLS, the close comes once it has started.
    if (this.#producer !== null || this.#flushing || this.#tlsQueue !== undefined) return;
    this.#flushing = true;
    this.#ended = true;
    this.#keepHost();
    const socket = this.#socket;
    // Not destroySoon(): it closes as soon as the kernel has the data, and a
    // close with unread input is a reset, which drops what the kernel has not
    // sent yet (on TLS, 'finish' can even come before the TLS layer has
    // passed everything to the TCP socket). end() sends FIN (and
    // close-notify) after everything; the socket closes by itself once the
    // peer has closed its side too, read until then (loseConnection resumed
    // reading; what arrives is dropped), or CLOSE_GRACE seconds after
    // 'finish' if the peer never closes.
    if (socket.writableFinished) {
      this.#flushed();
      return;
    }
    socket.once('finish', onSocketFinish);
    if (!socket.writableEnded) socket.end();
  }

  /** Everything is with the kernel and FIN is sent: wait a while for the peer's. */
  #flushed(): void {
    if (this.#state === 'closed' || this.#lingering !== undefined) return;
    this.#lingering = this.#owner.callLater(CLOSE_GRACE, destroySocket, this.#socket);
  }

  /**
   * Resolves a lazy local address while the socket can still tell it: Node
   * forgets it when the socket closes, and the lazy form would then answer
   * the listening address (0.0.0.0 for a port on every interface).
   */
  #keepHost(): void {
    if (typeof this.#host === 'function' && !this.#socket.destroyed) this.getHost();
  }

  /** Unregisters the producer, if any, and tells it to stop; a throw is logged. */
  #stopProducer(): void {
    const producer = this.#producer;
    if (producer === null) return;
    this.#producer = null;
    this.#watch = undefined;
    this.#producerPaused = false;
    this.#pullWaiting = false;
    this.#tellProducerToStop(producer);
  }

  /** Calls the producer's `stopProducing`; a throw is logged. */
  #tellProducerToStop(producer: IPushProducer | IPullProducer): void {
    try {
      producer.stopProducing();
    } catch (error) {
      log.failure('Error stopping the producer of {transport}', error, {
        transport: String(this),
      });
    }
  }

  /**
   * Calls the producer's `pauseProducing` or `resumeProducing`. A throw is
   * logged and aborts the connection (Twisted's reactor loses a connection
   * whose doWrite raised, with that error); false then.
   */
  #callProducer(
    producer: IPushProducer | IPullProducer,
    method: 'pauseProducing' | 'resumeProducing',
  ): boolean {
    try {
      if (method === 'resumeProducing') producer.resumeProducing();
      else (producer as IPushProducer).pauseProducing();
      return true;
    } catch (error) {
      log.failure(
        'Unhandled error in {callback} of the producer of {transport}; aborting the connection',
        error,
        { callback: method, transport: String(this) },
      );
      this.#abortAfterError(`the producer's ${method}`, error);
      return false;
    }
  }

  #closed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#owner.untrack(this);
    const lingering = this.#lingering;
    if (lingering?.active()) lingering.cancel();
    this.#stopProducer();
    const reason = this.#reason ?? cleanClose();
    try {
      this.#protocol.connectionLost(reason);
    } catch (error) {
      log.failure('Unhandled error in connectionLost of {protocol}', error, {
        protocol: this.#protocol.constructor.name,
      });
    }
    this.#onLost?.(reason);
  }

  #protocolFailed(callback: string, error: unknown): void {
    log.failure('Unhandled error in {callback} of {protocol}; aborting the connection', error, {
      callback,
      protocol: this.#protocol.constructor.name,
    });
    this.#abortAfterError(callback, error);
  }

  /** Aborts this connection only, after a user callback (`where`) threw `error`. */
  #abortAfterError(where: string, error: unknown): void {
    this.#reason ??= new Failure(
      new ConnectionAborted(`aborted after an error in ${where}`, { cause: error }),
    );
    this.#reset();
  }

  /** Closes at once, dropping buffered data: a TCP reset where possible. */
  #reset(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    this.#ended = true;
    this.#keepHost();
    // libuv refuses to reset a socket whose write side was shut down (end():
    // loseConnection, loseWriteConnection) with EINVAL, and Node then drops
    // the handle without closing it: the descriptor leaks and 'close' never
    // comes. Such a socket is closed instead.
    if (this.#canReset && !socket.connecting && !socket.writableEnded) socket.resetAndDestroy();
    else socket.destroy();
  }
}

// Passed around unbound (`d.addCallback(transport.write)`), so bound: on
// read rather than per instance, which cost 8 bound functions (~1.2 KB) per
// idle connection.
bindOnRead(StreamTransport.prototype, TRANSPORT_METHODS);

/**
 * The transport of a TLS connection: a {@link StreamTransport} over a
 * `TLSSocket` whose handshake has completed, which can also say what the
 * peer proved.
 *
 * @internal Created by TLS ports and connectors; protocols see it as an ISSLTransport.
 */
export class TLSStreamTransport extends StreamTransport implements ISSLTransport {
  /** Read once the handshake is done: Node forgets them when the socket closes. */
  readonly #peerCertificate: PeerCertificate | null;
  readonly #negotiatedProtocol: string | null;

  /**
   * @param socket - A TLS socket whose handshake has completed.
   * @param protocol - The protocol to feed.
   * @param host - This end's address.
   * @param peer - The other end's address.
   * @param owner - The reactor, which closes the transport at shutdown.
   * @param onLost - Called after `connectionLost`, for the connector.
   */
  constructor(
    socket: TLSSocket,
    protocol: IProtocol,
    host: LazyAddress,
    peer: IAddress,
    owner: SocketHost,
    onLost?: LostListener,
  ) {
    // A TLSSocket's handle is not a TCP handle, so Node cannot reset it:
    // abortConnection closes the socket instead.
    super(socket, protocol, host, peer, owner, onLost, false);
    const certificate = socket.getPeerCertificate();
    // Node gives an empty object when the peer sent no certificate.
    this.#peerCertificate =
      certificate !== null && typeof certificate === 'object' && Object.keys(certificate).length > 0
        ? certificate
        : null;
    const alpn = socket.alpnProtocol;
    this.#negotiatedProtocol = typeof alpn === 'string' ? alpn : null;
  }

  override getPeerCertificate(): PeerCertificate | null {
    return this.#peerCertificate;
  }

  override get negotiatedProtocol(): string | null {
    return this.#negotiatedProtocol;
  }
}

/**
 * The reason of a clean close: a fresh `ConnectionDone` without a stack trace.
 * Where a peer closed says nothing, and capturing the stack was most of the
 * cost of closing a short HTTP connection (Twisted shares one Failure).
 */
function cleanClose(): Failure {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Failure(new ConnectionDone());
  } finally {
    Error.stackTraceLimit = limit;
  }
}
