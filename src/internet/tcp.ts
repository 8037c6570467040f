// Stream transports over node:net sockets (TCP, TLS over TCP, and UNIX
// sockets through unix.ts), listening ports and outgoing connectors. This
// module and unix.ts are the only users of node:net and node:tls: everything
// above sees the interfaces.
// (Twisted: twisted.internet.tcp, twisted.internet.ssl,
// twisted.internet.abstract.FileDescriptor)
// Tests: test/integration/tcp.test.ts, test/integration/tls.test.ts

import { createServer, isIP, connect as netConnect, type Server, type Socket } from 'node:net';
import {
  type ConnectionOptions,
  createSecureContext,
  createServer as createTLSServer,
  type PeerCertificate,
  TLSSocket,
  type TlsOptions,
  connect as tlsConnect,
} from 'node:tls';
import { Logger } from '../logger/logger.js';
import { IPv4Address, IPv6Address } from './address.js';
import { Deferred } from './defer.js';
import {
  CannotListenError,
  ConnectBindError,
  ConnectError,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  InvalidAddressError,
  NoRouteError,
  NotConnectingError,
  SSLError,
  TCPTimedOutError,
  TimeoutError,
  UserError,
} from './error.js';
import { Failure } from './failure.js';
import type {
  ConnectTCPOptions,
  IAddress,
  IConnector,
  IDelayedCall,
  IHalfCloseableProtocol,
  IListeningPort,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  IReactorTime,
  ISSLTransport,
  ITCPTransport,
  ListenTCPOptions,
} from './interfaces.js';

const log = new Logger('torsion.internet.tcp');

/**
 * A streaming producer is paused once this many bytes wait to be sent,
 * and resumed when they have all gone (Twisted's FileDescriptor.bufferSize).
 */
const WRITE_HIGH_WATER_MARK = 64 * 1024;

/**
 * Seconds a TLS connection closed with loseConnection waits for the peer to
 * close its side before it is closed anyway (see StreamTransport).
 */
const TLS_CLOSE_GRACE = 10;

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

/** What a transport tells its owner (port or connector) when the connection ends. */
type LostListener = (reason: Failure) => void;

function isHalfCloseable(protocol: IProtocol): protocol is IProtocol & IHalfCloseableProtocol {
  return typeof (protocol as Partial<IHalfCloseableProtocol>).readConnectionLost === 'function';
}

/**
 * The address of one end of a socket, as Torsion describes it.
 *
 * @internal
 */
function socketAddress(
  family: string | undefined,
  host: string | undefined,
  port: number | undefined,
): IAddress {
  if (family === 'IPv6') return new IPv6Address('TCP', host ?? '::', port ?? 0);
  return new IPv4Address('TCP', host ?? '0.0.0.0', port ?? 0);
}

/**
 * The transport of one stream socket: what a protocol writes to, and what
 * feeds its `dataReceived`.
 *
 * @remarks
 * Closing: `loseConnection()` stops reading, sends what is buffered (and,
 * with a producer registered, waits for it to unregister), then closes (on
 * TLS: sends close-notify and closes once the peer has closed its side, or
 * {@link TLS_CLOSE_GRACE} seconds later);
 * data written once the socket is ending (after `loseConnection` with no
 * producer, or after `loseWriteConnection`) is dropped;
 * `abortConnection()` resets the connection at once. `connectionLost` is
 * called exactly once, with `ConnectionDone` for a clean close,
 * `ConnectionAborted` after an abort, and `ConnectionLost` otherwise.
 *
 * Flow control: a streaming producer is paused while more than 64 KiB wait
 * to be sent and resumed once they are sent; a pull producer is asked for a
 * chunk each time the buffer empties. The transport itself is a push
 * producer of what it reads.
 *
 * A throw from the protocol's `dataReceived` (or `connectionMade`) is logged
 * and aborts this connection; others are unaffected.
 *
 * @internal Created by ports and connectors; protocols see it as an ITCPTransport.
 */
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

export class StreamTransport implements ITCPTransport {
  readonly #socket: Socket;
  readonly #protocol: IProtocol;
  #host: LazyAddress;
  readonly #peer: IAddress;
  readonly #owner: SocketHost;
  readonly #onLost: LostListener | undefined;
  /** TCP sockets can be reset (RST); UNIX sockets are just closed. */
  readonly #canReset: boolean;
  /** end() was called: nothing more can be written. */
  #ended = false;
  /** open → disconnecting (loseConnection asked for) → closed (connectionLost called). */
  #state: 'open' | 'disconnecting' | 'closed' = 'open';
  /** Why the socket is closing, when not a plain clean close. */
  #reason: Failure | undefined;
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  /** The streaming producer was paused because the buffer passed the high-water mark. */
  #producerPaused = false;
  /** A pull producer is owed a resumeProducing once the buffer empties. */
  #pullWaiting = false;
  /** Counts the waits armed for a pull producer: only the latest one's notice counts. */
  #pullWait = 0;
  #noDelay = false;
  #keepAlive = false;
  /** Whether the 'drain' listener is attached (only producers need it). */
  #drainWatched = false;

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
        new ConnectionLost(error.code ?? error.message, { cause: error }),
      );
    };
    onSocketClose = function (this: Socket): void {
      transportOf(this).#closed();
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
    this.#socket.write(data);
    if (this.#producer !== null) this.#afterWrite();
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
    // Corked, the chunks leave in one system call.
    this.#socket.cork();
    for (const chunk of chunks) this.#socket.write(chunk);
    this.#socket.uncork();
    if (this.#producer !== null) this.#afterWrite();
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
    this.#socket.pause();
    this.#closeWhenFlushed();
  }

  loseWriteConnection(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket.end(() => {
      if (this.#state === 'closed') return;
      const protocol = this.#protocol;
      if (isHalfCloseable(protocol)) {
        try {
          protocol.writeConnectionLost();
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

  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error(
        `Cannot register producer ${String(producer)}, because producer ${String(this.#producer)} was never unregistered.`,
      );
    }
    if (this.#state === 'closed') {
      producer.stopProducing();
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (!this.#drainWatched) {
      this.#drainWatched = true;
      this.#socket.on('drain', onSocketDrain);
    }
    if (streaming) this.#afterWrite();
    else this.#askPullProducer(producer as IPullProducer);
  }

  unregisterProducer(): void {
    this.#producer = null;
    this.#producerPaused = false;
    this.#pullWaiting = false;
    if (this.#state === 'disconnecting') this.#closeWhenFlushed();
  }

  /** Stops reading: no `dataReceived` until `resumeProducing`. */
  pauseProducing(): void {
    this.#socket.pause();
  }

  /** Reads again after `pauseProducing` (not once closing). */
  resumeProducing(): void {
    if (this.#state === 'open') this.#socket.resume();
  }

  /** Stops for good: the same as `loseConnection`. */
  stopProducing(): void {
    this.loseConnection();
  }

  /** Closes at once at reactor shutdown. @internal */
  disconnectNow(reason: ConnectionLost): void {
    if (this.#state === 'closed') return;
    this.#reason ??= new Failure(reason);
    this.#ended = true;
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

  /** The peer has finished sending. */
  #readEnded(): void {
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
    // Not half-closeable: finish our side too, after what is buffered.
    if (this.#state === 'open') {
      this.#state = 'disconnecting';
      this.#closeWhenFlushed();
    }
  }

  /** After a write with a streaming producer registered: pause it if the buffer is too full. */
  #afterWrite(): void {
    const producer = this.#producer;
    if (producer === null || !this.#streaming) return;
    if (!this.#producerPaused && this.#socket.writableLength > WRITE_HIGH_WATER_MARK) {
      this.#producerPaused = true;
      (producer as IPushProducer).pauseProducing();
    }
  }

  /** The send buffer is empty ('drain'). */
  #drained(): void {
    const producer = this.#producer;
    if (producer === null || this.#state === 'closed') return;
    if (!this.#streaming) {
      this.#pullReady(this.#pullWait);
    } else if (this.#producerPaused) {
      this.#producerPaused = false;
      (producer as IPushProducer).resumeProducing();
    }
  }

  /** Asks the pull producer for a chunk, then waits for the buffer to empty. */
  #askPullProducer(producer: IPullProducer): void {
    this.#pullWaiting = false;
    producer.resumeProducing();
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
    if (this.#streaming || this.#state === 'closed') return;
    // Written to since the wait was armed: wait for that too.
    if (this.#socket.writableLength > 0) this.#armPullWait();
    else this.#askPullProducer(producer as IPullProducer);
  }

  /** Closes cleanly once the buffer is sent, unless a producer is still registered. */
  #closeWhenFlushed(): void {
    if (this.#producer !== null) return;
    this.#ended = true;
    const socket = this.#socket;
    if (!(socket instanceof TLSSocket)) {
      // Sends FIN after the buffered data, then closes the socket.
      socket.destroySoon();
      return;
    }
    // On TLS, destroySoon loses data: 'finish' comes once the TLS layer has
    // taken the bytes, possibly before they have all reached the TCP socket,
    // and destroying then drops the rest. end() sends close-notify and FIN
    // after everything; the socket closes by itself once the peer closes its
    // side too (read on to see that: what arrives is dropped), or is
    // destroyed after a grace period if the peer never does.
    if (!socket.writableEnded) socket.end();
    socket.resume();
    const grace = this.#owner.callLater(TLS_CLOSE_GRACE, () => socket.destroy());
    socket.once('close', () => {
      if (grace.active()) grace.cancel();
    });
  }

  #closed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#owner.untrack(this);
    const producer = this.#producer;
    this.#producer = null;
    if (producer !== null) {
      try {
        producer.stopProducing();
      } catch (error) {
        log.failure('Error stopping the producer of {transport}', error, {
          transport: String(this),
        });
      }
    }
    const reason = this.#reason ?? new Failure(new ConnectionDone());
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
    this.#reason ??= new Failure(
      new ConnectionAborted(`aborted after an error in ${callback}`, { cause: error }),
    );
    this.#reset();
  }

  /** Closes at once, dropping buffered data: a TCP reset where possible. */
  #reset(): void {
    if (this.#socket.destroyed) return;
    this.#ended = true;
    if (this.#canReset && !this.#socket.connecting) this.#socket.resetAndDestroy();
    else this.#socket.destroy();
  }
}

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

  getPeerCertificate(): PeerCertificate | null {
    return this.#peerCertificate;
  }

  get negotiatedProtocol(): string | null {
    return this.#negotiatedProtocol;
  }
}

// ---------------------------------------------------------------------------
// Listening

type ListenArgs =
  | { kind: 'tcp'; host: string; port: number; family: 4 | 6 }
  | { kind: 'path'; path: string };

/**
 * Binds and listens at once, as Twisted does, so that the bound port is
 * known when this returns; throws the system error instead of emitting it.
 *
 * Node's `listen({ host })` resolves the host first and binds a tick later;
 * `_listen2` is the synchronous step `listen` calls after that lookup (its
 * legacy public alias). Node reports a bind error on the next tick; the
 * error is taken out of that call instead, to be thrown here.
 *
 * @internal
 */
export function listenNow(server: Server, args: ListenArgs, backlog: number): void {
  let failure: Error | undefined;
  const nextTick = process.nextTick;
  process.nextTick = function capture(callback: (...a: never[]) => void, ...rest: unknown[]): void {
    if (rest[0] === server && rest[1] instanceof Error) {
      failure = rest[1];
      return;
    }
    Reflect.apply(nextTick, process, [callback, ...rest]);
  } as typeof process.nextTick;
  try {
    if (args.kind === 'path') {
      server.listen({ path: args.path, backlog });
    } else {
      const listen2 = (server as unknown as { _listen2?: (...a: unknown[]) => void })._listen2;
      if (typeof listen2 !== 'function') {
        throw new Error(
          'this Node.js has no synchronous listen; Torsion needs Node.js 20 or newer',
        );
      }
      listen2.call(server, args.host, args.port, args.family, backlog);
    }
  } finally {
    process.nextTick = nextTick;
  }
  if (failure !== undefined) throw failure;
  if (!server.listening) throw new Error('the socket did not start listening');
}

/**
 * Options of a {@link TCPPort}: those of `listenTCP`, and the TLS settings of
 * a `listenSSL` port.
 *
 * @internal
 */
export interface TCPPortOptions extends ListenTCPOptions {
  /** Serve TLS with these settings (key, certificate, …). */
  tls?: TlsOptions | undefined;
}

/**
 * What TCP and UNIX ports share: the life of their listening server (its
 * errors logged, the port tracked for shutdown, the factory started and
 * stopped) and building the protocol for an accepted socket.
 *
 * @internal
 */
export class ListeningServer {
  readonly #host: SocketHost;
  readonly #factory: IProtocolFactory;
  readonly #port: Disconnectable;
  #server: Server | undefined;
  #stopped: Deferred<void> | undefined;

  /**
   * @param host - The reactor.
   * @param factory - The port's factory.
   * @param port - The port, tracked by the reactor while listening.
   */
  constructor(host: SocketHost, factory: IProtocolFactory, port: Disconnectable) {
    this.#host = host;
    this.#factory = factory;
    this.#port = port;
  }

  /** Whether a server was started and not stopped yet. */
  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** Takes a bound server: logs its errors, tracks the port, starts the factory. */
  started(server: Server): void {
    this.#server = server;
    server.on('error', (error) =>
      log.failure('Error on {port}', error, { port: String(this.#port) }),
    );
    this.#host.track(this.#port);
    this.#factory.doStart();
  }

  /**
   * Closes the listening socket (existing connections stay); the factory
   * stops on the next turn, as in Twisted, or at once if `now` (at reactor
   * shutdown, which must be over by the time run() settles).
   *
   * @param closed - Runs right after the socket is closed.
   * @returns A Deferred that fires once the factory has stopped; every call
   *   gets its own.
   */
  stop(now: boolean, closed?: () => void): Deferred<void> {
    const d = new Deferred<void>();
    if (this.#stopped === undefined) {
      const stopped = new Deferred<void>();
      this.#stopped = stopped;
      const server = this.#server;
      this.#server = undefined;
      this.#host.untrack(this.#port);
      if (server === undefined) {
        stopped.callback(undefined);
      } else {
        server.close();
        closed?.();
        const finish = (): void => {
          try {
            this.#factory.doStop();
          } finally {
            stopped.callback(undefined);
          }
        };
        if (now) finish();
        else this.#host.callLater(0, finish);
      }
    }
    this.#stopped.addBoth((result) => {
      d.callback(undefined);
      return result;
    });
    return d;
  }

  /**
   * The protocol for a socket accepted from `peer`, or null: the factory
   * refused it (or threw, which is logged), and the socket is closed.
   */
  protocolFor(socket: Socket, peer: IAddress): IProtocol | null {
    let protocol: IProtocol | null;
    try {
      protocol = this.#factory.buildProtocol(peer);
    } catch (error) {
      log.failure('Unhandled error in buildProtocol of {factory}; closing the connection', error, {
        factory: this.#factory.constructor.name,
      });
      protocol = null;
    }
    if (protocol === null) socket.destroy();
    return protocol;
  }
}

/**
 * A TCP port that serves each connection with a protocol from its factory;
 * with TLS settings, each connection once its TLS handshake has completed.
 *
 * @internal Created by `listenTCP` and `listenSSL`; callers see an IListeningPort.
 */
export class TCPPort implements IListeningPort {
  readonly #host: SocketHost;
  readonly #port: number;
  readonly #interface: string;
  readonly #backlog: number;
  readonly #tls: TlsOptions | undefined;
  readonly #listening: ListeningServer;
  #address: IAddress | undefined;

  constructor(
    host: SocketHost,
    port: number,
    factory: IProtocolFactory,
    options: TCPPortOptions = {},
  ) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);
    }
    const iface = options.interface ?? '';
    if (iface !== '' && isIP(iface) === 0) {
      throw new InvalidAddressError(
        iface,
        `${options.tls === undefined ? 'listenTCP' : 'listenSSL'} needs an IP address as its interface`,
      );
    }
    this.#host = host;
    this.#port = port;
    this.#interface = iface;
    this.#backlog = options.backlog ?? 50;
    this.#tls = options.tls;
    this.#listening = new ListeningServer(host, factory, this);
  }

  /**
   * Binds and listens; the factory is started.
   *
   * @throws {@link CannotListenError} if the address cannot be bound; for a
   *   TLS port, Node's error if the TLS settings are unusable (a bad key or
   *   certificate).
   */
  startListening(): void {
    if (this.#listening.listening) return;
    const tls = this.#tls;
    // tls.createServer checks the key and certificate now, and throws. It
    // gets no allowHalfOpen: a client that hangs up during the handshake
    // would then never be noticed (the socket waits for our end).
    const server =
      tls === undefined
        ? createServer({ allowHalfOpen: true })
        : createTLSServer({ ...tls, allowHalfOpen: false });
    const host = this.#interface === '' ? '0.0.0.0' : this.#interface;
    try {
      listenNow(
        server,
        { kind: 'tcp', host, port: this.#port, family: isIP(host) === 6 ? 6 : 4 },
        this.#backlog,
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new CannotListenError(this.#interface, this.#port, code, { cause: error });
    }
    const bound = server.address();
    this.#address =
      typeof bound === 'object' && bound !== null
        ? socketAddress(bound.family, bound.address, bound.port)
        : socketAddress(undefined, host, this.#port);
    if (tls === undefined) {
      server.on('connection', (socket: Socket) => this.#accept(socket));
    } else {
      // The protocol is built once the handshake has completed.
      server.on('secureConnection', (socket: TLSSocket) => {
        // Half-open from here on, as every stream transport: a half-closing
        // protocol needs it, and the transport closes the rest itself.
        socket.allowHalfOpen = true;
        this.#accept(socket);
      });
      server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
        log.failure('TLS handshake with a client of {port} failed; dropping it', error, {
          port: String(this),
          level: 'info',
        });
        socket.destroy();
      });
    }
    this.#listening.started(server);
  }

  stopListening(): Deferred<void> {
    return this.#listening.stop(false);
  }

  getHost(): IAddress {
    if (this.#address === undefined) throw new Error('the port is not listening yet');
    return this.#address;
  }

  /** Stops listening at reactor shutdown. @internal */
  disconnectNow(): void {
    this.#listening.stop(true);
  }

  /** `<TCPPort IPv4Address(TCP, '127.0.0.1', 8080)>`, or `<SSLPort …>` for TLS. */
  toString(): string {
    return `<${this.#tls === undefined ? 'TCPPort' : 'SSLPort'} ${this.#address === undefined ? `${this.#interface}:${this.#port}` : String(this.#address)}>`;
  }

  #accept(socket: Socket): void {
    const peer = socketAddress(socket.remoteFamily, socket.remoteAddress, socket.remotePort);
    const protocol = this.#listening.protocolFor(socket, peer);
    if (protocol === null) return;
    // Found only if asked for: most servers never ask, and it costs memory.
    const listening = this.#address;
    const host = (): IAddress =>
      socket.localPort === undefined && listening !== undefined
        ? listening
        : socketAddress(socket.localFamily, socket.localAddress, socket.localPort);
    if (this.#tls === undefined)
      new StreamTransport(socket, protocol, host, peer, this.#host).start();
    else new TLSStreamTransport(socket as TLSSocket, protocol, host, peer, this.#host).start();
  }
}

// ---------------------------------------------------------------------------
// Connecting

/** The connection-failure error for a system error code. */
function connectErrorFor(error: NodeJS.ErrnoException, destination: string): Error {
  const code = error.code ?? '';
  const options = { osError: code || undefined, cause: error };
  switch (code) {
    case 'ECONNREFUSED':
      return new ConnectionRefusedError(destination, options);
    case 'ETIMEDOUT':
      return new TCPTimedOutError(destination, options);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new NoRouteError(destination, options);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new DNSLookupError(`DNS lookup of ${destination} failed: ${code}`, { cause: error });
    case 'EADDRINUSE':
    case 'EADDRNOTAVAIL':
      return new ConnectBindError(destination, options);
    default:
      return new ConnectError(destination, options);
  }
}

/** The methods a ClientFactory may have; plain IProtocolFactory objects lack them. */
interface ClientFactoryHooks {
  startedConnecting?(connector: IConnector): void;
  clientConnectionFailed?(connector: IConnector, reason: Failure): void;
  clientConnectionLost?(connector: IConnector, reason: Failure): void;
}

/**
 * How a connector opens its socket: TCP to a host and port, or UNIX to a path.
 *
 * @internal
 */
export interface ConnectTarget {
  /** Opens the socket (connecting). */
  open(): Socket;
  /** The destination, for `getDestination()` and messages. */
  destination: IAddress;
  /** Describes the destination in error messages. */
  describe: string;
  /** This end's and the peer's addresses once connected. */
  addresses(socket: Socket): { host: IAddress; peer: IAddress };
  /** Whether the socket can be reset (TCP); default true. */
  canReset?: boolean;
  /**
   * Whether `open()` makes a TLSSocket: the connection is made once the
   * handshake has completed ('secureConnect'), and an error after the TCP
   * connection but before that fails the attempt with `SSLError`.
   */
  tls?: boolean;
}

/**
 * An outgoing connection attempt and the connection it makes, reporting to a
 * ClientFactory.
 *
 * @internal Created by `connectTCP`/`connectUNIX`; callers see an IConnector.
 */
export class Connector implements IConnector, Disconnectable {
  readonly #host: SocketHost;
  readonly #target: ConnectTarget;
  readonly #factory: IProtocolFactory & ClientFactoryHooks;
  readonly #timeout: number;
  #state: 'disconnected' | 'connecting' | 'connected' = 'disconnected';
  #factoryStarted = false;
  #socket: Socket | undefined;
  #transport: StreamTransport | undefined;
  #timeoutCall: IDelayedCall | undefined;

  constructor(host: SocketHost, target: ConnectTarget, factory: IProtocolFactory, timeout = 30) {
    this.#host = host;
    this.#target = target;
    this.#factory = factory as IProtocolFactory & ClientFactoryHooks;
    this.#timeout = timeout;
  }

  /** Where it connects: `'disconnected'`, `'connecting'` or `'connected'`. */
  get state(): 'disconnected' | 'connecting' | 'connected' {
    return this.#state;
  }

  connect(): void {
    if (this.#state !== 'disconnected')
      throw new Error(`can't connect in this state (${this.#state})`);
    this.#state = 'connecting';
    if (!this.#factoryStarted) {
      this.#factory.doStart();
      this.#factoryStarted = true;
    }
    const socket = this.#target.open();
    this.#socket = socket;
    // Tracked while connecting, so that shutdown can fail the attempt; once
    // connected, the transport is tracked instead.
    this.#host.track(this);
    // For TLS, the TCP connection is only the first step: the attempt
    // succeeds once the handshake has, and fails with SSLError if it fails.
    const tls = this.#target.tls === true;
    let tcpConnected = false;
    const onError = (error: NodeJS.ErrnoException): void => {
      if (this.#socket !== socket) return;
      this.#failIfNotConnected(
        tls && tcpConnected
          ? new SSLError(`${this.#target.describe} (${error.message})`, {
              osError: error.code,
              cause: error,
            })
          : connectErrorFor(error, this.#target.describe),
      );
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      tcpConnected = true;
      if (tls) return;
      socket.removeListener('error', onError);
      if (this.#socket === socket) this.#connected(socket);
    });
    if (tls) {
      socket.once('secureConnect', () => {
        socket.removeListener('error', onError);
        if (this.#socket === socket) this.#connected(socket);
      });
    }
    if (this.#timeout > 0 && Number.isFinite(this.#timeout)) {
      this.#timeoutCall = this.#host.callLater(this.#timeout, () => {
        this.#timeoutCall = undefined;
        this.#failIfNotConnected(new TimeoutError(this.#target.describe));
      });
    }
    this.#factory.startedConnecting?.(this);
  }

  stopConnecting(): void {
    if (this.#state !== 'connecting') throw new NotConnectingError();
    this.#failIfNotConnected(new UserError(this.#target.describe));
  }

  disconnect(): void {
    if (this.#state === 'connecting') this.stopConnecting();
    else if (this.#state === 'connected') this.#transport?.loseConnection();
  }

  getDestination(): IAddress {
    return this.#target.destination;
  }

  /** Fails an attempt in progress at reactor shutdown. @internal */
  disconnectNow(reason: ConnectionLost): void {
    this.#failIfNotConnected(new ConnectError(this.#target.describe, { cause: reason }));
  }

  /** `<Connector to IPv4Address(TCP, 'example.com', 80) connecting>` */
  toString(): string {
    return `<Connector to ${String(this.#target.destination)} ${this.#state}>`;
  }

  #failIfNotConnected(error: Error): void {
    if (this.#state !== 'connecting') return;
    this.#host.untrack(this);
    this.#timeoutCall?.cancel();
    this.#timeoutCall = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) {
      socket.on('error', () => undefined);
      socket.destroy();
    }
    this.#state = 'disconnected';
    this.#factory.clientConnectionFailed?.(this, new Failure(error));
    this.#stopFactoryIfIdle();
  }

  #connected(socket: Socket): void {
    this.#host.untrack(this);
    this.#timeoutCall?.cancel();
    this.#timeoutCall = undefined;
    this.#state = 'connected';
    const { host, peer } = this.#target.addresses(socket);
    let protocol: IProtocol | null;
    try {
      protocol = this.#factory.buildProtocol(peer);
    } catch (error) {
      log.failure('Unhandled error in buildProtocol of {factory}; closing the connection', error, {
        factory: this.#factory.constructor.name,
      });
      protocol = null;
    }
    // A refused connection still gets a transport, so that the factory hears
    // of it through clientConnectionLost, as in Twisted.
    const onLost = (reason: Failure): void => this.#connectionLost(reason);
    const transport =
      this.#target.tls === true
        ? new TLSStreamTransport(
            socket as TLSSocket,
            protocol ?? new NullProtocol(),
            host,
            peer,
            this.#host,
            onLost,
          )
        : new StreamTransport(
            socket,
            protocol ?? new NullProtocol(),
            host,
            peer,
            this.#host,
            onLost,
            this.#target.canReset ?? true,
          );
    this.#transport = transport;
    transport.start();
    if (protocol === null) transport.loseConnection();
  }

  #connectionLost(reason: Failure): void {
    this.#transport = undefined;
    this.#socket = undefined;
    this.#state = 'disconnected';
    this.#factory.clientConnectionLost?.(this, reason);
    this.#stopFactoryIfIdle();
  }

  #stopFactoryIfIdle(): void {
    if (this.#state === 'disconnected' && this.#factoryStarted) {
      this.#factoryStarted = false;
      this.#factory.doStop();
    }
  }
}

/** Stands in for the protocol a factory refused to build. */
class NullProtocol implements IProtocol {
  makeConnection(): void {}
  connectionMade(): void {}
  dataReceived(): void {}
  connectionLost(): void {}
}

/**
 * Where `connectTCP` connects: IPv4 for host names (as Twisted's connectTCP),
 * IPv6 when the host is an IPv6 literal.
 *
 * @internal
 */
export function tcpTarget(
  host: string,
  port: number,
  options: ConnectTCPOptions = {},
): ConnectTarget {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  const v6 = isIP(host) === 6;
  const bind = options.bindAddress;
  return {
    destination: v6 ? new IPv6Address('TCP', host, port) : new IPv4Address('TCP', host, port),
    describe: `${v6 ? `[${host}]` : host}:${port}`,
    open: () =>
      netConnect({
        host,
        port,
        family: v6 ? 6 : 4,
        allowHalfOpen: true,
        ...(bind === undefined ? {} : { localAddress: bind[0], localPort: bind[1] }),
      }),
    addresses: (socket) => ({
      host: socketAddress(socket.localFamily, socket.localAddress, socket.localPort),
      peer: socketAddress(socket.remoteFamily, socket.remoteAddress, socket.remotePort),
    }),
  };
}

/**
 * Where `connectSSL` connects: as {@link tcpTarget}, then a TLS handshake
 * with the settings of `contextFactory`.
 *
 * @remarks
 * The secure context (keys, certificates, trusted CAs) is built here, once,
 * so that unusable settings throw before anything starts and every
 * reconnection reuses it. Unless `contextFactory` names a `servername`, Node
 * sends and checks the host name given (not when it is an IP address).
 *
 * @throws Node's error if the TLS settings are unusable.
 * @internal
 */
export function tlsTarget(
  host: string,
  port: number,
  contextFactory: ConnectionOptions,
  options: ConnectTCPOptions = {},
): ConnectTarget {
  const tcp = tcpTarget(host, port, options);
  const secureContext = contextFactory.secureContext ?? createSecureContext(contextFactory);
  const v6 = isIP(host) === 6;
  const bind = options.bindAddress;
  return {
    ...tcp,
    tls: true,
    canReset: false,
    open: () => {
      // tls.connect hands `family` and `allowHalfOpen` on to the socket; @types/node
      // and `allowHalfOpen` leaves them out of ConnectionOptions.
      const connectOptions: ConnectionOptions & { family: 4 | 6; allowHalfOpen: boolean } = {
        ...contextFactory,
        secureContext,
        host,
        port,
        family: v6 ? 6 : 4,
        allowHalfOpen: true,
        ...(bind === undefined ? {} : { localAddress: bind[0], localPort: bind[1] }),
      };
      return tlsConnect(connectOptions);
    },
  };
}
