// Outgoing connections over stream sockets (TCP, TLS, UNIX): a Connector
// opens a socket to a ConnectTarget and reports to a ClientFactory.
// (Twisted: twisted.internet.tcp.Connector, twisted.internet.base.BaseConnector)
// Tests: test/integration/stream-transport-contract.test.ts, test/integration/tcp.test.ts, test/integration/tls.test.ts, test/integration/unix.test.ts, test/reliability/callbacks.test.ts

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Logger } from '../logger/logger.js';
import { bindMethods } from './_bind.js';
import {
  buildProtocolFor,
  type Disconnectable,
  type SocketHost,
  StreamTransport,
  TLSStreamTransport,
} from './_stream-transport.js';
import {
  ConnectBindError,
  ConnectError,
  type ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  NoRouteError,
  NotConnectingError,
  SSLError,
  TCPTimedOutError,
  TimeoutError,
  UserError,
} from './error.js';
import { Failure } from './failure.js';
import type {
  IAddress,
  IConnector,
  IDelayedCall,
  IProtocol,
  IProtocolFactory,
} from './interfaces.js';

const log = new Logger('torsion.internet.tcp');

/** Seconds before the first and (at most) any later try at a busy UNIX listener. */
const FIRST_BUSY_DELAY = 0.005;
const LAST_BUSY_DELAY = 0.1;

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
export interface ConnectTarget<A extends IAddress = IAddress> {
  /** Opens the socket (connecting). */
  open(): Socket;
  /** The destination, for `getDestination()` and messages. */
  destination: A;
  /** Describes the destination in error messages. */
  describe: string;
  /** This end's and the peer's addresses once connected. */
  addresses(socket: Socket): { host: IAddress; peer: IAddress };
  /** Whether the socket can be reset (TCP); default true. */
  canReset?: boolean;
  /** Whether EAGAIN means a full listen queue, to wait for (UNIX); default false. */
  retryWhenBusy?: boolean;
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
 * @remarks
 * The factory's hooks are called from socket events and timers, where a
 * throw would reach the process: a throw from `startedConnecting`,
 * `clientConnectionFailed`, `clientConnectionLost` or `doStop` is logged
 * with its stack and the connector goes on as if the hook had returned
 * (Twisted lets the first propagate out of `connect`, while the attempt goes
 * on regardless, and its reactor logs the others). A throw from `doStart`
 * propagates out of `connect()` before anything is opened: a factory that
 * cannot start does not connect.
 *
 * @internal Created by `connectTCP`/`connectUNIX`; callers see an IConnector.
 */
export class Connector<A extends IAddress = IAddress> implements IConnector<A>, Disconnectable {
  readonly #host: SocketHost;
  readonly #target: ConnectTarget<A>;
  readonly #factory: IProtocolFactory & ClientFactoryHooks;
  readonly #timeout: number;
  #state: 'disconnected' | 'connecting' | 'connected' = 'disconnected';
  #factoryStarted = false;
  #socket: Socket | undefined;
  #transport: StreamTransport | undefined;
  #timeoutCall: IDelayedCall | undefined;
  /** The next try after a busy UNIX listener, and the delay before the one after it. */
  #busyRetry: IDelayedCall | undefined;
  #busyDelay = FIRST_BUSY_DELAY;

  constructor(host: SocketHost, target: ConnectTarget<A>, factory: IProtocolFactory, timeout = 30) {
    this.#host = host;
    this.#target = target;
    this.#factory = factory as IProtocolFactory & ClientFactoryHooks;
    this.#timeout = timeout;
    // `reactor.callLater(5, connector.disconnect)`, as in Twisted.
    bindMethods(this, ['connect', 'stopConnecting', 'disconnect']);
  }

  /** Where it connects: `'disconnected'`, `'connecting'` or `'connected'`. */
  get state(): 'disconnected' | 'connecting' | 'connected' {
    return this.#state;
  }

  connect(): void {
    if (this.#state !== 'disconnected')
      throw new Error(`can't connect in this state (${this.#state})`);
    if (!this.#factoryStarted) {
      // Before anything changes: a throw leaves the connector as it was.
      this.#factory.doStart();
      this.#factoryStarted = true;
    }
    this.#state = 'connecting';
    // Tracked while connecting, so that shutdown can fail the attempt; once
    // connected, the transport is tracked instead.
    this.#host.track(this);
    this.#busyDelay = FIRST_BUSY_DELAY;
    this.#open();
    if (this.#timeout > 0 && Number.isFinite(this.#timeout)) {
      this.#timeoutCall = this.#host.callLater(this.#timeout, () => {
        this.#timeoutCall = undefined;
        this.#failIfNotConnected(new TimeoutError(this.#target.describe));
      });
    }
    this.#callFactory('startedConnecting', () => this.#factory.startedConnecting?.(this));
  }

  /** Opens the socket of this attempt (again, after a busy UNIX listener). */
  #open(): void {
    const socket = this.#target.open();
    this.#socket = socket;
    // For TLS, the TCP connection is only the first step: the attempt
    // succeeds once the handshake has, and fails with SSLError if it fails.
    const tls = this.#target.tls === true;
    let tcpConnected = false;
    const onError = (error: NodeJS.ErrnoException): void => {
      if (this.#socket !== socket) return;
      if (error.code === 'EAGAIN' && this.#target.retryWhenBusy === true) {
        this.#retryWhenBusy(socket);
        return;
      }
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
  }

  /**
   * A UNIX listener whose queue of unaccepted connections is full refuses a
   * connection at once with EAGAIN, where a TCP one lets the client wait:
   * wait here too, trying again with a growing delay, until the attempt's
   * timeout (or stopConnecting, or shutdown) ends it.
   */
  #retryWhenBusy(socket: Socket): void {
    socket.on('error', () => undefined);
    socket.destroy();
    this.#socket = undefined;
    const delay = this.#busyDelay;
    this.#busyDelay = Math.min(delay * 2, LAST_BUSY_DELAY);
    this.#busyRetry = this.#host.callLater(delay, () => {
      this.#busyRetry = undefined;
      if (this.#state === 'connecting') this.#open();
    });
  }

  stopConnecting(): void {
    if (this.#state !== 'connecting') throw new NotConnectingError();
    this.#failIfNotConnected(new UserError(this.#target.describe));
  }

  disconnect(): void {
    if (this.#state === 'connecting') this.stopConnecting();
    else if (this.#state === 'connected') this.#transport?.loseConnection();
  }

  getDestination(): A {
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
    this.#busyRetry?.cancel();
    this.#busyRetry = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) {
      socket.on('error', () => undefined);
      socket.destroy();
    }
    this.#state = 'disconnected';
    const reason = new Failure(error);
    this.#callFactory('clientConnectionFailed', () =>
      this.#factory.clientConnectionFailed?.(this, reason),
    );
    this.#stopFactoryIfIdle();
  }

  #connected(socket: Socket): void {
    this.#host.untrack(this);
    this.#timeoutCall?.cancel();
    this.#timeoutCall = undefined;
    this.#state = 'connected';
    const { host, peer } = this.#target.addresses(socket);
    const protocol = buildProtocolFor(this.#factory, peer);
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
    this.#callFactory('clientConnectionLost', () =>
      this.#factory.clientConnectionLost?.(this, reason),
    );
    this.#stopFactoryIfIdle();
  }

  #stopFactoryIfIdle(): void {
    if (this.#state === 'disconnected' && this.#factoryStarted) {
      this.#factoryStarted = false;
      this.#callFactory('doStop', () => this.#factory.doStop());
    }
  }

  /** Calls a hook of the factory; a throw is logged with its stack. */
  #callFactory(hook: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      log.failure('Unhandled error in {hook} of {factory} for {connector}', error, {
        hook,
        factory: this.#factory.constructor.name,
        connector: String(this),
      });
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
