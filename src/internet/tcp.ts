// TCP and TLS over TCP: listening ports and where connectTCP/connectSSL
// connect. The socket transport is in _stream-transport.ts, the listening
// server in _listening.ts, connectors in _connector.ts; these and unix.ts
// are the only users of node:net and node:tls: everything above sees the
// interfaces. (Twisted: twisted.internet.tcp, twisted.internet.ssl)
// Tests: test/integration/tcp.test.ts, test/integration/tls.test.ts, test/integration/listen-fence.test.ts, test/integration/tcp-write-limits.test.ts, test/integration/listen-backlog.test.ts

import { createServer, isIP, connect as netConnect, type Server, type Socket } from 'node:net';
import {
  type ConnectionOptions,
  createSecureContext,
  createServer as createTLSServer,
  type TLSSocket,
  type TlsOptions,
  connect as tlsConnect,
} from 'node:tls';
import { Logger } from '../logger/logger.js';
import { bindMethods } from './_bind.js';
import type { ConnectTarget } from './_connector.js';
import { ListeningServer, listenNow } from './_listening.js';
import { type SocketHost, StreamTransport, TLSStreamTransport } from './_stream-transport.js';
import { type IPAddress, IPv4Address, IPv6Address } from './address.js';
import { Deferred, fail, succeed } from './defer.js';
import { CannotListenError, InvalidAddressError } from './error.js';
import type {
  ConnectTCPOptions,
  IListeningPort,
  IProtocolFactory,
  ListenTCPOptions,
} from './interfaces.js';

const log = new Logger('torsion.internet.tcp');

/**
 * The address of one end of a socket, as Torsion describes it.
 *
 * @internal
 */
function socketAddress(
  family: string | undefined,
  host: string | undefined,
  port: number | undefined,
): IPAddress {
  if (family === 'IPv6') return new IPv6Address('TCP', host ?? '::', port ?? 0);
  return new IPv4Address('TCP', host ?? '0.0.0.0', port ?? 0);
}

/** The address `server` is bound to (`host` and `port` as asked if Node cannot say). */
function boundAddress(server: Server, host: string, port: number): IPAddress {
  const bound = server.address();
  return typeof bound === 'object' && bound !== null
    ? socketAddress(bound.family, bound.address, bound.port)
    : socketAddress(undefined, host, port);
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
 * A TCP port that serves each connection with a protocol from its factory;
 * with TLS settings, each connection once its TLS handshake has completed.
 *
 * @internal Created by `listenTCP` and `listenSSL`; callers see an IListeningPort.
 */
export class TCPPort implements IListeningPort<IPAddress> {
  readonly #host: SocketHost;
  readonly #port: number;
  readonly #interface: string;
  readonly #backlog: number;
  readonly #tls: TlsOptions | undefined;
  readonly #listening: ListeningServer;
  #address: IPAddress | undefined;
  #bound: { ok: true } | { ok: false; error: CannotListenError } | null = null;
  #boundWaiters: Deferred<void>[] = [];

  constructor(
    host: SocketHost,
    port: number,
    factory: IProtocolFactory,
    options: TCPPortOptions = {},
  ) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidAddressError(port, 'a port must be an integer from 0 to 65535');
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
    this.#backlog = options.backlog ?? 511;
    this.#tls = options.tls;
    this.#listening = new ListeningServer(host, factory, this);
    bindMethods(this, ['stopListening']);
  }

  /**
   * Binds and listens; the factory is started.
   *
   * @remarks
   * Binding is synchronous through a Node internal (see `listenNow`). On a
   * Node without it, the bind finishes on a later turn: a failure is then
   * logged and the port stopped instead of thrown, and `getHost()` throws
   * until the port is bound.
   *
   * @throws {@link CannotListenError} if the address cannot be bound; for a
   *   TLS port, Node's error if the TLS settings are unusable (a bad key or
   *   certificate).
   */
  startListening(): void {
    if (this.#listening.listening) return;
    this.#bound = null;
    const tls = this.#tls;
    // tls.createServer checks the key and certificate now, and throws. It
    // gets no allowHalfOpen: a client that hangs up during the handshake
    // would then never be noticed (the socket waits for our end).
    const server =
      tls === undefined
        ? createServer({ allowHalfOpen: true })
        : createTLSServer({ ...tls, allowHalfOpen: false });
    const host = this.#interface === '' ? '0.0.0.0' : this.#interface;
    let bound: boolean;
    try {
      bound = listenNow(
        server,
        { kind: 'tcp', host, port: this.#port, family: isIP(host) === 6 ? 6 : 4 },
        this.#backlog,
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new CannotListenError(this.#interface, this.#port, code, { cause: error });
    }
    if (bound) {
      this.#address = boundAddress(server, host, this.#port);
      this.#bound = { ok: true };
    } else {
      // The fallback without Node's synchronous bind (see listenNow), and a
      // node:cluster worker's way: the address is known, or the failure
      // logged and the port stopped, later.
      server.once('listening', () => {
        this.#address = boundAddress(server, host, this.#port);
        this.#settleBound({ ok: true });
      });
      server.once('error', (error: NodeJS.ErrnoException) => {
        // Logged by the listening server's own 'error' listener.
        if (server.listening) return;
        this.#listening.stop(false);
        const reason = error.code ?? error.message;
        this.#settleBound({
          ok: false,
          error: new CannotListenError(this.#interface, this.#port, reason, { cause: error }),
        });
      });
    }
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

  /**
   * A Deferred that fires once the socket is bound.
   *
   * @remarks
   * Binding is done by the time `startListening` returns, so this has
   * fired already, except in a node:cluster worker, where the primary hands
   * the shared socket over on a later turn (and `getHost()` throws until
   * then). The runner waits on it before it says the service is up.
   *
   * @returns A Deferred of nothing, failing with {@link CannotListenError}.
   */
  whenBound(): Deferred<void> {
    const bound = this.#bound;
    if (bound !== null) return bound.ok ? succeed(undefined) : fail(bound.error);
    const waiter = new Deferred<void>();
    this.#boundWaiters.push(waiter);
    return waiter;
  }

  #settleBound(outcome: { ok: true } | { ok: false; error: CannotListenError }): void {
    this.#bound = outcome;
    const waiters = this.#boundWaiters;
    this.#boundWaiters = [];
    for (const waiter of waiters) {
      if (outcome.ok) waiter.callback(undefined);
      else waiter.errback(outcome.error);
    }
  }

  getHost(): IPAddress {
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
    // On a specific address the connection's local address is the listening
    // one, so it is found only if asked for: most servers never ask, and it
    // costs memory. On a wildcard (0.0.0.0, ::) it is whichever address the
    // client dialled, and Node forgets it when the socket closes, before any
    // event when the peer resets: so it is read now (one getsockname).
    const listening = this.#address;
    const lookUp = (): IPAddress =>
      socket.localPort === undefined && listening !== undefined
        ? listening
        : socketAddress(socket.localFamily, socket.localAddress, socket.localPort);
    const wildcard =
      listening === undefined || listening.host === '0.0.0.0' || listening.host === '::';
    const host = wildcard ? lookUp() : lookUp;
    if (this.#tls === undefined)
      new StreamTransport(socket, protocol, host, peer, this.#host).start();
    else new TLSStreamTransport(socket as TLSSocket, protocol, host, peer, this.#host).start();
  }
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
): ConnectTarget<IPAddress> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidAddressError(port, 'a port must be an integer from 0 to 65535');
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
): ConnectTarget<IPAddress> {
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
