// Endpoints: where a server listens and where a client connects, as objects
// (TCP over IPv4 and IPv6, UNIX sockets, TLS, and host names raced over all
// their addresses), and the description strings that make them
// ('tcp:8080:interface=127.0.0.1').
// (Twisted: twisted.internet.endpoints)
// Tests: test/unit/internet/endpoints*.test.ts, test/integration/endpoints.test.ts,
// test/integration/tls.test.ts

import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { domainToASCII } from 'node:url';
import { systemResolver } from './_resolver.js';
import { HostnameAddress, IPv4Address, IPv6Address } from './address.js';
import { Deferred, fail, maybeDeferred, succeed } from './defer.js';
import {
  ConnectingCancelledError,
  DNSLookupError,
  EndpointStringError,
  InvalidAddressError,
  NoProtocol,
} from './error.js';
import type { Failure } from './failure.js';
import type {
  IAddress,
  IConnector,
  IDelayedCall,
  IHalfCloseableProtocol,
  IHostnameResolver,
  IListeningPort,
  IProtocol,
  IProtocolFactory,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUNIX,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
  ITransport,
} from './interfaces.js';
import { Factory } from './protocol.js';

export { EndpointStringError } from './error.js';
export type {
  IHostnameResolver,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
} from './interfaces.js';

// ---------------------------------------------------------------------------
// Wrapping a client's factory and protocol

function isHalfCloseable(protocol: IProtocol): protocol is IProtocol & IHalfCloseableProtocol {
  return (
    typeof (protocol as Partial<IHalfCloseableProtocol>).readConnectionLost === 'function' &&
    typeof (protocol as Partial<IHalfCloseableProtocol>).writeConnectionLost === 'function'
  );
}

/**
 * Stands between a transport and the protocol a client endpoint connects:
 * attaches the protocol, then fires the endpoint's Deferred with it.
 * (Twisted: twisted.internet.endpoints._WrappingProtocol)
 */
class WrappingProtocol implements IProtocol {
  readonly wrappedProtocol: IProtocol;
  transport: ITransport | undefined;
  readonly #connected: Deferred<IProtocol>;
  /** Events reach the wrapped protocol only once it is attached. */
  #attached = false;

  constructor(connected: Deferred<IProtocol>, wrappedProtocol: IProtocol) {
    this.#connected = connected;
    this.wrappedProtocol = wrappedProtocol;
  }

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  connectionMade(): void {
    const transport = this.transport as ITransport;
    // The attempt was cancelled (it lost a race, say) before the connection
    // completed: nobody wants this connection.
    if (this.#connected.called) {
      transport.loseConnection();
      return;
    }
    this.#attached = true;
    try {
      this.wrappedProtocol.makeConnection(transport);
    } catch (error) {
      // The transport logs the throw and aborts the connection; the caller
      // of connect() hears of it too.
      this.#connected.errback(error);
      throw error;
    }
    this.#connected.callback(this.wrappedProtocol);
  }

  dataReceived(data: Uint8Array): void {
    if (this.#attached) this.wrappedProtocol.dataReceived(data);
  }

  connectionLost(reason: Failure): void {
    if (this.#attached) this.wrappedProtocol.connectionLost(reason);
  }

  logPrefix(): string {
    const prefix = (this.wrappedProtocol as { logPrefix?: unknown }).logPrefix;
    return typeof prefix === 'function'
      ? String(prefix.call(this.wrappedProtocol))
      : this.wrappedProtocol.constructor.name;
  }

  toString(): string {
    return `<WrappingProtocol of ${this.logPrefix()}>`;
  }
}

/**
 * A {@link WrappingProtocol} for a half-closeable protocol: transports see
 * it as half-closeable only when the protocol it wraps is.
 */
class HalfCloseableWrappingProtocol extends WrappingProtocol implements IHalfCloseableProtocol {
  readConnectionLost(): void {
    (this.wrappedProtocol as IProtocol & IHalfCloseableProtocol).readConnectionLost();
  }

  writeConnectionLost(): void {
    (this.wrappedProtocol as IProtocol & IHalfCloseableProtocol).writeConnectionLost();
  }
}

/**
 * The factory a client endpoint gives the reactor: wraps each protocol of
 * the user's factory, and turns the attempt's outcome into `onConnection`.
 * (Twisted: twisted.internet.endpoints._WrappingFactory)
 */
class WrappingFactory implements IProtocolFactory {
  readonly wrappedFactory: IProtocolFactory;
  /** Fires with the connected protocol, or fails with why not. */
  readonly onConnection: Deferred<IProtocol>;
  /** The attempt's connector, from `startedConnecting` or the reactor's return. */
  connector: IConnector | undefined;

  constructor(wrappedFactory: IProtocolFactory) {
    this.wrappedFactory = wrappedFactory;
    this.onConnection = new Deferred<IProtocol>((d) => this.#cancel(d));
  }

  startedConnecting(connector: IConnector): void {
    this.connector = connector;
  }

  doStart(): void {
    this.wrappedFactory.doStart();
  }

  doStop(): void {
    this.wrappedFactory.doStop();
  }

  buildProtocol(addr: IAddress): IProtocol | null {
    // Cancelled: refuse the connection, which the connector then closes.
    if (this.onConnection.called) return null;
    let protocol: IProtocol | null;
    try {
      protocol = this.wrappedFactory.buildProtocol(addr);
    } catch (error) {
      this.onConnection.errback(error);
      return null;
    }
    if (protocol === null) {
      this.onConnection.errback(new NoProtocol());
      return null;
    }
    return isHalfCloseable(protocol)
      ? new HalfCloseableWrappingProtocol(this.onConnection, protocol)
      : new WrappingProtocol(this.onConnection, protocol);
  }

  clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    if (!this.onConnection.called) this.onConnection.errback(reason);
  }

  clientConnectionLost(_connector: IConnector, _reason: Failure): void {}

  toString(): string {
    return `<WrappingFactory of ${String(this.wrappedFactory)}>`;
  }

  #cancel(d: Deferred<IProtocol>): void {
    const connector = this.connector;
    d.errback(new ConnectingCancelledError(connector?.getDestination()));
    if (connector === undefined) return;
    try {
      connector.stopConnecting();
    } catch {
      // Not connecting any more (connected, or already failed): let go.
      connector.disconnect();
    }
  }
}

/** Starts an attempt with a wrapping factory: the Deferred of the connected protocol. */
function connectWrapped(
  factory: IProtocolFactory,
  start: (wrapper: WrappingFactory) => IConnector,
): Deferred<IProtocol> {
  const wrapper = new WrappingFactory(factory);
  try {
    const connector = start(wrapper);
    wrapper.connector ??= connector;
  } catch (error) {
    return fail(error);
  }
  return wrapper.onConnection;
}

// ---------------------------------------------------------------------------
// Describing endpoints

/**
 * Escapes `argument` for use inside an endpoint description: a backslash
 * before each `\`, `:` and `=`.
 *
 * @remarks
 * Use it when building a description from a value, such as a file name that
 * may contain colons: `` `unix:${quoteStringArgument(path)}` ``.
 *
 * Differences from Twisted: `=` is escaped too, so that a positional
 * argument containing one (a path, say) is not read as an option.
 *
 * @example
 * ```ts
 * quoteStringArgument('C:\\keys\\a.pem'); // 'C\\:\\\\keys\\\\a.pem'
 * ```
 *
 * @param argument - The text to escape.
 * @returns The escaped text.
 * @see Twisted: twisted.internet.endpoints.quoteStringArgument
 * @since 0.1.0
 */
export function quoteStringArgument(argument: string): string {
  return argument.replace(/[\\:=]/g, (c) => `\\${c}`);
}

/** Builds a description from its type, positional arguments and options (undefined ones left out). */
function describe(
  type: string,
  positional: readonly (string | number)[],
  options: ReadonlyArray<readonly [string, string | number | undefined]>,
): string {
  const parts = [type, ...positional.map((p) => quoteStringArgument(String(p)))];
  for (const [key, value] of options) {
    if (value !== undefined) parts.push(`${key}=${quoteStringArgument(String(value))}`);
  }
  return parts.join(':');
}

/**
 * The description arguments TLS settings were loaded from, by the settings
 * object the parser made: what lets an SSL endpoint describe itself.
 */
const tlsSources = new WeakMap<object, ReadonlyArray<readonly [string, string]>>();

// ---------------------------------------------------------------------------
// Server endpoints

/** Listens now, turning a throw into a failed Deferred. */
function listenWith(listen: () => IListeningPort): Deferred<IListeningPort> {
  return maybeDeferred(listen);
}

/** Options of {@link TCP4ServerEndpoint} and {@link TCP6ServerEndpoint}. */
export interface TCPServerEndpointOptions {
  /** The size of the queue of connections not yet accepted. @defaultValue 50 */
  backlog?: number;
  /**
   * The IP address to listen on.
   * @defaultValue `''` (all IPv4 interfaces) for TCP4, `'::'` for TCP6
   */
  interface?: string;
}

/**
 * The TCP server endpoints' shared implementation: listens on a port with
 * `listenTCP`. Use {@link TCP4ServerEndpoint} or {@link TCP6ServerEndpoint}.
 *
 * @see Twisted: twisted.internet.endpoints._TCPServerEndpoint
 * @since 0.1.0
 */
export class TCPServerEndpoint implements IStreamServerEndpoint {
  /** The description's type, and the interface listened on by default. @internal */
  protected static readonly kind: { prefix: string; defaultInterface: string } = {
    prefix: 'tcp',
    defaultInterface: '',
  };
  /** The reactor it listens with. */
  readonly reactor: IReactorTCP;
  /** The port number (0 picks a free port). */
  readonly port: number;
  /** The listen queue size. */
  readonly backlog: number;
  /** The address listened on. */
  readonly interface: string;

  /**
   * @param reactor - The reactor to listen with.
   * @param port - The port number; 0 picks a free one.
   * @param options - `backlog` (default 50) and `interface` (default: all
   *   interfaces of the endpoint's family).
   */
  constructor(reactor: IReactorTCP, port: number, options: TCPServerEndpointOptions = {}) {
    this.reactor = reactor;
    this.port = port;
    this.backlog = options.backlog ?? 50;
    this.interface = options.interface ?? this.#kind().defaultInterface;
  }

  /**
   * Listens with `factory`.
   *
   * @remarks
   * Cancellation: the Deferred has fired by the time it is returned, so
   * cancelling it does nothing; stop the port with `stopListening()`.
   *
   * @param factory - Builds a protocol per connection.
   * @returns A Deferred that has fired with the listening port, or failed
   *   with `CannotListenError` (or whatever else `listenTCP` threw).
   */
  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    return listenWith(() =>
      this.reactor.listenTCP(this.port, factory, {
        backlog: this.backlog,
        interface: this.interface,
      }),
    );
  }

  /** Its description, e.g. `tcp:8080:interface=127.0.0.1`; `serverFromString` reads it back. */
  toString(): string {
    const kind = this.#kind();
    return describe(
      kind.prefix,
      [this.port],
      [
        ['interface', this.interface === kind.defaultInterface ? undefined : this.interface],
        ['backlog', this.backlog === 50 ? undefined : this.backlog],
      ],
    );
  }

  #kind(): { prefix: string; defaultInterface: string } {
    return (this.constructor as typeof TCPServerEndpoint).kind;
  }
}

/**
 * A TCP server endpoint: listens on a port of the IPv4 interfaces (or one
 * interface).
 *
 * @remarks
 * Its description is `tcp:PORT[:interface=IP][:backlog=N]`.
 *
 * @example
 * ```ts
 * const port = await new TCP4ServerEndpoint(reactor, 8080).listen(Factory.forProtocol(Echo));
 * ```
 *
 * @see Twisted: twisted.internet.endpoints.TCP4ServerEndpoint
 * @since 0.1.0
 */
export class TCP4ServerEndpoint extends TCPServerEndpoint {}

/**
 * A TCP server endpoint on IPv6: listens on a port of all interfaces (`::`,
 * IPv4 too where the system maps it) or of one IPv6 address.
 *
 * @remarks
 * Its description is `tcp6:PORT[:interface=IP][:backlog=N]` (escape the
 * colons of an IPv6 address: `tcp6:80:interface=\:\:1`).
 *
 * @see Twisted: twisted.internet.endpoints.TCP6ServerEndpoint
 * @since 0.1.0
 */
export class TCP6ServerEndpoint extends TCPServerEndpoint {
  /** @internal */
  protected static override readonly kind = { prefix: 'tcp6', defaultInterface: '::' };
}

/** Options of {@link UNIXServerEndpoint}. */
export interface UNIXServerEndpointOptions {
  /** The listen queue size. @defaultValue 50 */
  backlog?: number;
  /** The socket file's permissions. @defaultValue 0o666 */
  mode?: number;
  /** Hold a lock file (`<address>.lock`) naming this process. @defaultValue false */
  wantPID?: boolean;
}

/**
 * A UNIX socket server endpoint: listens on a socket file.
 *
 * @remarks
 * Its description is `unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0|1]`.
 * In a description `lockfile` defaults to 1 (as in Twisted), while the
 * constructor's `wantPID` defaults to false, so an endpoint made here
 * describes itself with `lockfile=0`.
 *
 * @see Twisted: twisted.internet.endpoints.UNIXServerEndpoint
 * @since 0.1.0
 */
export class UNIXServerEndpoint implements IStreamServerEndpoint {
  /** The reactor it listens with. */
  readonly reactor: IReactorUNIX;
  /** The socket file's path. */
  readonly address: string;
  /** The listen queue size. */
  readonly backlog: number;
  /** The socket file's permissions. */
  readonly mode: number;
  /** Whether it holds a lock file beside the socket. */
  readonly wantPID: boolean;

  /**
   * @param reactor - The reactor to listen with.
   * @param address - The socket file's path.
   * @param options - `backlog` (default 50), `mode` (default 0o666) and
   *   `wantPID` (default false).
   */
  constructor(reactor: IReactorUNIX, address: string, options: UNIXServerEndpointOptions = {}) {
    this.reactor = reactor;
    this.address = address;
    this.backlog = options.backlog ?? 50;
    this.mode = options.mode ?? 0o666;
    this.wantPID = options.wantPID ?? false;
  }

  /**
   * Listens with `factory`.
   *
   * @remarks
   * Cancellation: the Deferred has fired by the time it is returned, so
   * cancelling it does nothing.
   *
   * @param factory - Builds a protocol per connection.
   * @returns A Deferred that has fired with the listening port, or failed
   *   with `CannotListenError`.
   */
  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    return listenWith(() =>
      this.reactor.listenUNIX(this.address, factory, {
        backlog: this.backlog,
        mode: this.mode,
        wantPID: this.wantPID,
      }),
    );
  }

  /** Its description, e.g. `unix:/run/app.sock:mode=660:lockfile=0`. */
  toString(): string {
    return describe(
      'unix',
      [this.address],
      [
        ['mode', this.mode === 0o666 ? undefined : this.mode.toString(8)],
        ['backlog', this.backlog === 50 ? undefined : this.backlog],
        ['lockfile', this.wantPID ? undefined : 0],
      ],
    );
  }
}

/**
 * A TLS server endpoint: listens on a TCP port of the IPv4 interfaces and
 * serves TLS.
 *
 * @remarks
 * Its description is
 * `ssl:PORT:privateKey=FILE[:certKey=FILE][:extraCertChain=FILE][:interface=IP][:backlog=N]`.
 * An endpoint whose TLS settings were given in code (not loaded from files by
 * `serverFromString`) cannot name files: its `toString()` is then
 * `<SSL4ServerEndpoint PORT …>`, which `serverFromString` rejects.
 *
 * @see Twisted: twisted.internet.endpoints.SSL4ServerEndpoint
 * @since 0.1.0
 */
export class SSL4ServerEndpoint implements IStreamServerEndpoint {
  /** The reactor it listens with. */
  readonly reactor: IReactorSSL;
  /** The port number (0 picks a free port). */
  readonly port: number;
  /** The TLS settings: key, certificate, and any other `tls.createServer` option. */
  readonly sslContextFactory: TlsOptions;
  /** The listen queue size. */
  readonly backlog: number;
  /** The address listened on; `''` for all IPv4 interfaces. */
  readonly interface: string;

  /**
   * @param reactor - The reactor to listen with.
   * @param port - The port number; 0 picks a free one.
   * @param sslContextFactory - The TLS settings, as `tls.createServer` takes them.
   * @param options - `backlog` (default 50) and `interface` (default `''`).
   */
  constructor(
    reactor: IReactorSSL,
    port: number,
    sslContextFactory: TlsOptions,
    options: TCPServerEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.port = port;
    this.sslContextFactory = sslContextFactory;
    this.backlog = options.backlog ?? 50;
    this.interface = options.interface ?? '';
  }

  /**
   * Listens with `factory`; each connection's protocol is built once its
   * TLS handshake has completed.
   *
   * @remarks
   * Cancellation: the Deferred has fired by the time it is returned, so
   * cancelling it does nothing.
   *
   * @param factory - Builds a protocol per connection.
   * @returns A Deferred that has fired with the listening port, or failed
   *   with `CannotListenError` (or Node's error for unusable TLS settings).
   */
  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    return listenWith(() =>
      this.reactor.listenSSL(this.port, factory, this.sslContextFactory, {
        backlog: this.backlog,
        interface: this.interface,
      }),
    );
  }

  /** Its description, e.g. `ssl:443:privateKey=key.pem:certKey=cert.pem`. */
  toString(): string {
    const sources = tlsSources.get(this.sslContextFactory);
    if (sources === undefined) {
      return `<SSL4ServerEndpoint ${this.port} with TLS settings given in code>`;
    }
    return describe(
      'ssl',
      [this.port],
      [
        ...sources,
        ['interface', this.interface === '' ? undefined : this.interface],
        ['backlog', this.backlog === 50 ? undefined : this.backlog],
      ],
    );
  }
}

// ---------------------------------------------------------------------------
// Client endpoints

/** Options of the TCP and TLS client endpoints. */
export interface TCPClientEndpointOptions {
  /** Seconds before an attempt fails with a timeout. @defaultValue 30 */
  timeout?: number;
  /** The local `[host, port]` to connect from. */
  bindAddress?: readonly [string, number] | undefined;
}

/** Describes the options shared by the TCP client endpoints. */
function clientOptions(
  timeout: number,
  bindAddress: readonly [string, number] | undefined,
): Array<readonly [string, string | number | undefined]> {
  return [
    ['timeout', timeout === 30 ? undefined : timeout],
    ['bindAddress', bindAddress?.[0]],
    ['bindPort', bindAddress === undefined || bindAddress[1] === 0 ? undefined : bindAddress[1]],
  ];
}

/**
 * A TCP client endpoint: connects to a host and port over IPv4 (a host name
 * is resolved to an IPv4 address).
 *
 * @remarks
 * Its description is `tcp:HOST:PORT[:timeout=S][:bindAddress=IP][:bindPort=N]`.
 * For a host name with IPv6 and IPv4 addresses, use {@link HostnameEndpoint}.
 *
 * @example
 * ```ts
 * const endpoint = new TCP4ClientEndpoint(reactor, 'example.com', 80, { timeout: 5 });
 * const protocol = await connectProtocol(endpoint, new HttpClient());
 * ```
 *
 * @see Twisted: twisted.internet.endpoints.TCP4ClientEndpoint
 * @since 0.1.0
 */
export class TCP4ClientEndpoint implements IStreamClientEndpoint {
  /** The reactor it connects with. */
  readonly reactor: IReactorTCP;
  /** The host name or IP address connected to. */
  readonly host: string;
  /** The port connected to. */
  readonly port: number;
  /** Seconds before an attempt fails. */
  readonly timeout: number;
  /** The local `[host, port]` connected from, if fixed. */
  readonly bindAddress: readonly [string, number] | undefined;

  /**
   * @param reactor - The reactor to connect with.
   * @param host - A host name or IPv4 address.
   * @param port - The port.
   * @param options - `timeout` in seconds (default 30) and `bindAddress`.
   */
  constructor(
    reactor: IReactorTCP,
    host: string,
    port: number,
    options: TCPClientEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.timeout = options.timeout ?? 30;
    this.bindAddress = options.bindAddress;
  }

  /**
   * Connects with a protocol from `factory`.
   *
   * @remarks
   * Cancellation: cancelling the Deferred before it fires stops the attempt
   * (`stopConnecting()`) and fails the Deferred with
   * `ConnectingCancelledError`, whose `address` is the destination.
   *
   * @param factory - Builds the protocol.
   * @returns A Deferred that fires with the protocol once its
   *   `connectionMade` has run, or fails with the reason the connection
   *   could not be made (`ConnectionRefusedError`, `TimeoutError`,
   *   `DNSLookupError`, `NoProtocol`, …).
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    return connectWrapped(factory, (wrapper) =>
      this.reactor.connectTCP(this.host, this.port, wrapper, {
        timeout: this.timeout,
        bindAddress: this.bindAddress,
      }),
    );
  }

  /** Its description, e.g. `tcp:example.com:80:timeout=5`; `clientFromString` reads it back. */
  toString(): string {
    return describe('tcp', [this.host, this.port], clientOptions(this.timeout, this.bindAddress));
  }
}

/** Options of {@link TCP6ClientEndpoint}. */
export interface TCP6ClientEndpointOptions extends TCPClientEndpointOptions {
  /**
   * Looks up a host name that is not an IPv6 address.
   * @defaultValue the reactor, if it is an `IHostnameResolver`; else the system's resolver
   */
  resolver?: IHostnameResolver | undefined;
}

/** The resolver of an endpoint: the one given, else the reactor's, else the system's. */
function resolverFor(reactor: unknown, given: IHostnameResolver | undefined): IHostnameResolver {
  if (given !== undefined) return given;
  const candidate = reactor as Partial<IHostnameResolver>;
  if (typeof candidate.resolveHostName === 'function') return candidate as IHostnameResolver;
  return systemResolver;
}

/**
 * A TCP client endpoint over IPv6: connects to an IPv6 address, or to the
 * first IPv6 address of a host name.
 *
 * @remarks
 * Its description is `tcp6:HOST:PORT[:timeout=S][:bindAddress=IP][:bindPort=N]`
 * (escape the colons of an IPv6 address: `tcp6:\:\:1:80`).
 *
 * @see Twisted: twisted.internet.endpoints.TCP6ClientEndpoint
 * @since 0.1.0
 */
export class TCP6ClientEndpoint implements IStreamClientEndpoint {
  /** The reactor it connects with. */
  readonly reactor: IReactorTCP;
  /** The IPv6 address or host name connected to. */
  readonly host: string;
  /** The port connected to. */
  readonly port: number;
  /** Seconds before an attempt fails. */
  readonly timeout: number;
  /** The local `[host, port]` connected from, if fixed. */
  readonly bindAddress: readonly [string, number] | undefined;
  readonly #resolver: IHostnameResolver | undefined;

  /**
   * @param reactor - The reactor to connect with.
   * @param host - An IPv6 address, or a host name with one.
   * @param port - The port.
   * @param options - `timeout` in seconds (default 30), `bindAddress`, and
   *   the `resolver` for host names.
   */
  constructor(
    reactor: IReactorTCP,
    host: string,
    port: number,
    options: TCP6ClientEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.timeout = options.timeout ?? 30;
    this.bindAddress = options.bindAddress;
    this.#resolver = options.resolver;
  }

  /**
   * Connects with a protocol from `factory`, after looking the host name
   * up if it is not an IPv6 address.
   *
   * @remarks
   * Cancellation: cancelling the Deferred before it fires abandons the
   * lookup or stops the attempt, and fails the Deferred with
   * `ConnectingCancelledError`, whose `address` is a `HostnameAddress`
   * during the lookup and the IPv6 address once connecting.
   *
   * @param factory - Builds the protocol.
   * @returns A Deferred that fires with the protocol once its
   *   `connectionMade` has run, or fails with `DNSLookupError` (no IPv6
   *   address) or the reason the connection could not be made.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    const attempt = (address: string): Deferred<IProtocol> =>
      connectWrapped(factory, (wrapper) =>
        this.reactor.connectTCP(address, this.port, wrapper, {
          timeout: this.timeout,
          bindAddress: this.bindAddress,
        }),
      );
    if (isIP(this.host) === 6) return attempt(this.host);
    const resolution = resolverFor(this.reactor, this.#resolver).resolveHostName(this.host);
    let connecting: Deferred<IProtocol> | undefined;
    let done = false;
    const result = new Deferred<IProtocol>(() => {
      // Connecting: the attempt's cancellation names the address it was for.
      if (connecting !== undefined) {
        connecting.cancel();
        return;
      }
      done = true;
      result.errback(new ConnectingCancelledError(new HostnameAddress(this.host, this.port)));
      resolution.cancel();
    });
    resolution.addCallbacks(
      (addresses) => {
        if (done) return;
        const address = addresses.find((a) => a instanceof IPv6Address);
        if (address === undefined) {
          done = true;
          result.errback(
            new DNSLookupError(`no IPv6 address for ${this.host}`, { hostname: this.host }),
          );
          return;
        }
        connecting = attempt(address.host);
        connecting.addCallbacks(
          (protocol) => {
            if (!done) {
              done = true;
              result.callback(protocol);
            }
          },
          (failure: Failure) => {
            if (!done) {
              done = true;
              result.errback(failure);
            }
          },
        );
      },
      (failure: Failure) => {
        if (done) return;
        done = true;
        result.errback(failure);
      },
    );
    return result;
  }

  /** Its description, e.g. `tcp6:\:\:1:80`; `clientFromString` reads it back. */
  toString(): string {
    return describe('tcp6', [this.host, this.port], clientOptions(this.timeout, this.bindAddress));
  }
}

/** Options of {@link UNIXClientEndpoint}. */
export interface UNIXClientEndpointOptions {
  /** Seconds before an attempt fails. @defaultValue 30 */
  timeout?: number;
  /** Check that a live process holds the server's lock file first. @defaultValue false */
  checkPID?: boolean;
}

/**
 * A UNIX socket client endpoint: connects to a socket file.
 *
 * @remarks
 * Its description is `unix:PATH[:timeout=S][:lockfile=0|1]` (`lockfile` is
 * `checkPID`).
 *
 * @see Twisted: twisted.internet.endpoints.UNIXClientEndpoint
 * @since 0.1.0
 */
export class UNIXClientEndpoint implements IStreamClientEndpoint {
  /** The reactor it connects with. */
  readonly reactor: IReactorUNIX;
  /** The socket file's path. */
  readonly path: string;
  /** Seconds before an attempt fails. */
  readonly timeout: number;
  /** Whether it checks the server's lock file first. */
  readonly checkPID: boolean;

  /**
   * @param reactor - The reactor to connect with.
   * @param path - The socket file's path.
   * @param options - `timeout` in seconds (default 30) and `checkPID`
   *   (default false).
   */
  constructor(reactor: IReactorUNIX, path: string, options: UNIXClientEndpointOptions = {}) {
    this.reactor = reactor;
    this.path = path;
    this.timeout = options.timeout ?? 30;
    this.checkPID = options.checkPID ?? false;
  }

  /**
   * Connects with a protocol from `factory`.
   *
   * @remarks
   * Cancellation: cancelling the Deferred before it fires stops the attempt
   * and fails the Deferred with `ConnectingCancelledError`.
   *
   * @param factory - Builds the protocol.
   * @returns A Deferred that fires with the protocol once its
   *   `connectionMade` has run, or fails with the reason the connection
   *   could not be made (`ConnectError`, `BadFileError` with `checkPID`, …).
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    return connectWrapped(factory, (wrapper) =>
      this.reactor.connectUNIX(this.path, wrapper, {
        timeout: this.timeout,
        checkPID: this.checkPID,
      }),
    );
  }

  /** Its description, e.g. `unix:/run/app.sock:timeout=5`; `clientFromString` reads it back. */
  toString(): string {
    return describe(
      'unix',
      [this.path],
      [
        ['timeout', this.timeout === 30 ? undefined : this.timeout],
        ['lockfile', this.checkPID ? 1 : undefined],
      ],
    );
  }
}

/**
 * A TLS client endpoint: connects to a host and port over IPv4, then makes a
 * TLS handshake.
 *
 * @remarks
 * Its description is
 * `ssl:HOST:PORT[:certKey=FILE][:privateKey=FILE][:caCertsDir=DIR][:hostname=NAME][:timeout=S][:bindAddress=IP]`.
 * An endpoint whose TLS settings were given in code (not loaded by
 * `clientFromString`) cannot name files: its `toString()` is then
 * `<SSL4ClientEndpoint HOST:PORT …>`, which `clientFromString` rejects.
 *
 * @see Twisted: twisted.internet.endpoints.SSL4ClientEndpoint
 * @since 0.1.0
 */
export class SSL4ClientEndpoint implements IStreamClientEndpoint {
  /** The reactor it connects with. */
  readonly reactor: IReactorSSL;
  /** The host name or IPv4 address connected to. */
  readonly host: string;
  /** The port connected to. */
  readonly port: number;
  /** The TLS settings, as `tls.connect` takes them. */
  readonly sslContextFactory: ConnectionOptions;
  /** Seconds before an attempt (handshake included) fails. */
  readonly timeout: number;
  /** The local `[host, port]` connected from, if fixed. */
  readonly bindAddress: readonly [string, number] | undefined;

  /**
   * @param reactor - The reactor to connect with.
   * @param host - A host name or IPv4 address.
   * @param port - The port.
   * @param sslContextFactory - The TLS settings (`ca`, `servername`,
   *   `rejectUnauthorized`, a client `key` and `cert`, …).
   * @param options - `timeout` in seconds (default 30) and `bindAddress`.
   */
  constructor(
    reactor: IReactorSSL,
    host: string,
    port: number,
    sslContextFactory: ConnectionOptions,
    options: TCPClientEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.sslContextFactory = sslContextFactory;
    this.timeout = options.timeout ?? 30;
    this.bindAddress = options.bindAddress;
  }

  /**
   * Connects with a protocol from `factory`, built once the TLS handshake
   * has completed.
   *
   * @remarks
   * Cancellation: cancelling the Deferred before it fires stops the attempt
   * and fails the Deferred with `ConnectingCancelledError`.
   *
   * @param factory - Builds the protocol.
   * @returns A Deferred that fires with the protocol once its
   *   `connectionMade` has run, or fails with `SSLError` (a failed
   *   handshake) or the reason the connection could not be made.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    return connectWrapped(factory, (wrapper) =>
      this.reactor.connectSSL(this.host, this.port, wrapper, this.sslContextFactory, {
        timeout: this.timeout,
        bindAddress: this.bindAddress,
      }),
    );
  }

  /** Its description, e.g. `ssl:example.com:443:hostname=example.com`. */
  toString(): string {
    const sources = tlsSources.get(this.sslContextFactory);
    if (sources === undefined) {
      return `<SSL4ClientEndpoint ${this.host}:${this.port} with TLS settings given in code>`;
    }
    return describe(
      'ssl',
      [this.host, this.port],
      [...sources, ...clientOptions(this.timeout, this.bindAddress)],
    );
  }
}

/** What a {@link HostnameEndpoint} needs of its reactor. */
export type HostnameEndpointReactor = IReactorTCP &
  IReactorTime &
  Partial<IReactorSSL> &
  Partial<IHostnameResolver>;

/** Options of {@link HostnameEndpoint}. */
export interface HostnameEndpointOptions {
  /** Seconds before each attempt fails. @defaultValue 30 */
  timeout?: number;
  /**
   * The local address to connect from: an IP address, or `[host, port]`.
   */
  bindAddress?: string | readonly [string, number] | undefined;
  /** Seconds between the starts of two attempts. @defaultValue 0.3 */
  attemptDelay?: number;
  /**
   * Looks the host name up.
   * @defaultValue the reactor, if it is an `IHostnameResolver`; else the system's resolver
   */
  resolver?: IHostnameResolver | undefined;
  /**
   * Connect with TLS: `true` verifies the server against Node's bundled
   * roots and the host name; an object gives `tls.connect` settings (its
   * `servername` defaults to the host name).
   * @defaultValue false
   */
  tls?: boolean | ConnectionOptions;
}

/** Interleaves two address families, starting with the family of the first address. */
function interleave(
  addresses: ReadonlyArray<IPv4Address | IPv6Address>,
): Array<IPv4Address | IPv6Address> {
  const seen = new Set<string>();
  const v4: IPv4Address[] = [];
  const v6: IPv6Address[] = [];
  for (const address of addresses) {
    const key = `${address instanceof IPv6Address ? 6 : 4}/${address.host}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (address instanceof IPv6Address) v6.push(address);
    else v4.push(address);
  }
  const [first, second] =
    addresses[0] instanceof IPv6Address
      ? [v6, v4]
      : ([v4, v6] as Array<IPv4Address | IPv6Address>[]);
  const ordered: Array<IPv4Address | IPv6Address> = [];
  for (let i = 0; i < Math.max(first.length, second.length); i++) {
    const a = first[i];
    const b = second[i];
    if (a !== undefined) ordered.push(a);
    if (b !== undefined) ordered.push(b);
  }
  return ordered;
}

/**
 * A client endpoint for a host name: looks up all its addresses (IPv6 and
 * IPv4) and races connections to them, keeping the first that succeeds
 * ("happy eyeballs", RFC 8305).
 *
 * @remarks
 * The attempts alternate between the address families, starting with the
 * family of the first address the resolver gave. The first attempt starts
 * at once and a new one every `attemptDelay` seconds (on the reactor's
 * clock) until one has connected or every address has had its attempt; an
 * attempt that fails brings the next one forward. The first connection made wins and every other pending
 * attempt is cancelled; a connection that completes after the winner is
 * closed. If every attempt fails, the Deferred fails with the last
 * failure; if the name has no address, with `DNSLookupError`. An IP address
 * needs no lookup. Each attempt has its own `timeout`.
 *
 * With `tls`, each attempt is a TLS connection, and an attempt counts as
 * made once its handshake has completed.
 *
 * Its description is `hostname:HOST:PORT[:timeout=S][:bindAddress=IP][:bindPort=N][:attemptDelay=S]`,
 * or `tls:HOST:PORT[…][:trustRoots=DIR][:certificate=FILE][:privateKey=FILE]`
 * with TLS. An endpoint whose TLS settings were given in code as an object
 * describes itself as `<HostnameEndpoint HOST:PORT …>`, which
 * `clientFromString` rejects.
 *
 * Differences from Twisted: an attempt that fails starts the next one at
 * once instead of waiting for the delay (as RFC 8305 and asyncio do); the
 * families are interleaved here rather than left in the resolver's order;
 * TLS is an option of this class rather than a wrapping endpoint.
 *
 * @example
 * ```ts
 * const endpoint = new HostnameEndpoint(reactor, 'example.com', 443, { tls: true });
 * const protocol = await endpoint.connect(Factory.forProtocol(Client));
 * ```
 *
 * @see Twisted: twisted.internet.endpoints.HostnameEndpoint
 * @since 0.1.0
 */
export class HostnameEndpoint implements IStreamClientEndpoint {
  /** The reactor it connects and keeps time with. */
  readonly reactor: HostnameEndpointReactor;
  /** The host name (or IP address) as given. */
  readonly host: string;
  /** The port connected to. */
  readonly port: number;
  /** Seconds before each attempt fails. */
  readonly timeout: number;
  /** The local `[host, port]` connected from, if fixed. */
  readonly bindAddress: readonly [string, number] | undefined;
  /** Seconds between the starts of two attempts. */
  readonly attemptDelay: number;
  /** The TLS settings: `false` for plain TCP. */
  readonly tls: boolean | ConnectionOptions;
  readonly #resolver: IHostnameResolver;
  /** The host in ASCII (IDNA), as looked up; `''` if it is not a valid host name. */
  readonly #asciiHost: string;

  /**
   * @param reactor - The reactor to connect and keep time with.
   * @param host - A host name (internationalized names are IDNA-encoded) or
   *   an IP address.
   * @param port - The port.
   * @param options - `timeout`, `bindAddress`, `attemptDelay` (default 0.3
   *   seconds), `resolver`, `tls`.
   * @throws RangeError if `attemptDelay` is negative or not finite.
   */
  constructor(
    reactor: HostnameEndpointReactor,
    host: string,
    port: number,
    options: HostnameEndpointOptions = {},
  ) {
    const attemptDelay = options.attemptDelay ?? 0.3;
    if (!Number.isFinite(attemptDelay) || attemptDelay < 0) {
      throw new RangeError(
        `attemptDelay must be a number of seconds, at least 0, got ${attemptDelay}`,
      );
    }
    this.reactor = reactor;
    this.host = host.normalize('NFC');
    this.port = port;
    this.timeout = options.timeout ?? 30;
    const bind = options.bindAddress;
    this.bindAddress = typeof bind === 'string' ? [bind, 0] : bind;
    this.attemptDelay = attemptDelay;
    this.tls = options.tls ?? false;
    this.#resolver = resolverFor(reactor, options.resolver);
    this.#asciiHost = isIP(this.host) !== 0 ? this.host : domainToASCII(this.host);
  }

  /**
   * Looks the host name up and races connections to its addresses.
   *
   * @remarks
   * Cancellation: cancelling the Deferred before it fires abandons the
   * lookup, stops every pending attempt and the schedule of the next, and
   * fails the Deferred with `ConnectingCancelledError`, whose `address` is a
   * `HostnameAddress` of the host and port.
   *
   * @param factory - Builds the protocol of each attempt that connects.
   * @returns A Deferred that fires with the first protocol connected (once
   *   its `connectionMade` has run), or fails with the last attempt's
   *   failure, `DNSLookupError`, or `InvalidAddressError` for a host that is
   *   not a valid host name.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    if (this.#asciiHost === '') {
      return fail(new InvalidAddressError(this.host, 'not a valid host name'));
    }
    return new HappyEyeballs(this, this.#asciiHost, this.#resolver, factory).result;
  }

  /** Its description, e.g. `hostname:example.com:80` or `tls:example.com:443`. */
  toString(): string {
    let type = 'hostname';
    let sources: ReadonlyArray<readonly [string, string]> = [];
    if (this.tls !== false) {
      type = 'tls';
      if (this.tls !== true) {
        const recorded = tlsSources.get(this.tls);
        if (recorded === undefined) {
          return `<HostnameEndpoint ${isIP(this.host) === 6 ? `[${this.host}]` : this.host}:${this.port} with TLS settings given in code>`;
        }
        sources = recorded;
      }
    }
    return describe(
      type,
      [this.host, this.port],
      [
        ...clientOptions(this.timeout, this.bindAddress),
        ['attemptDelay', this.attemptDelay === 0.3 ? undefined : this.attemptDelay],
        ...sources,
      ],
    );
  }
}

/** One `HostnameEndpoint.connect`: the lookup, the attempts, the race. */
class HappyEyeballs {
  readonly result: Deferred<IProtocol>;
  readonly #endpoint: HostnameEndpoint;
  readonly #asciiHost: string;
  readonly #factory: IProtocolFactory;
  /** The addresses not yet tried, in order. */
  #queue: Array<IPv4Address | IPv6Address> = [];
  /** The attempts started and not yet settled. */
  readonly #pending = new Set<Deferred<IProtocol>>();
  #lastFailure: Failure | undefined;
  /** The call that starts the next attempt. */
  #timer: IDelayedCall | undefined;
  #resolution: Deferred<Array<IPv4Address | IPv6Address>> | undefined;
  /** The result has fired (won, failed, cancelled): nothing more starts. */
  #done = false;

  constructor(
    endpoint: HostnameEndpoint,
    asciiHost: string,
    resolver: IHostnameResolver,
    factory: IProtocolFactory,
  ) {
    this.#endpoint = endpoint;
    this.#asciiHost = asciiHost;
    this.#factory = factory;
    this.result = new Deferred<IProtocol>(() => {
      this.#finish();
      this.result.errback(
        new ConnectingCancelledError(new HostnameAddress(asciiHost, endpoint.port)),
      );
    });
    let resolution: Deferred<Array<IPv4Address | IPv6Address>>;
    if (isIP(asciiHost) === 6)
      resolution = succeed<Array<IPv4Address | IPv6Address>>([
        new IPv6Address('TCP', asciiHost, 0),
      ]);
    else if (isIP(asciiHost) === 4)
      resolution = succeed<Array<IPv4Address | IPv6Address>>([
        new IPv4Address('TCP', asciiHost, 0),
      ]);
    else {
      try {
        resolution = resolver.resolveHostName(asciiHost);
      } catch (error) {
        resolution = fail(error);
      }
    }
    this.#resolution = resolution;
    resolution.addCallbacks(
      (addresses) => {
        this.#resolution = undefined;
        this.#resolved(addresses);
      },
      (failure: Failure) => {
        this.#resolution = undefined;
        if (this.#done) return;
        this.#done = true;
        this.result.errback(
          failure.check(DNSLookupError) !== null
            ? failure
            : new DNSLookupError(`Couldn't find the hostname '${asciiHost}'`, {
                hostname: asciiHost,
                cause: failure.value,
              }),
        );
      },
    );
  }

  #resolved(addresses: ReadonlyArray<unknown>): void {
    if (this.#done) return;
    // Anything but an IP address (a UNIX address, say) cannot be raced.
    const usable = addresses.filter(
      (a): a is IPv4Address | IPv6Address => a instanceof IPv4Address || a instanceof IPv6Address,
    );
    this.#queue = interleave(usable);
    if (this.#queue.length === 0) {
      this.#done = true;
      this.result.errback(
        new DNSLookupError(`no results for hostname lookup: ${this.#asciiHost}`, {
          hostname: this.#asciiHost,
        }),
      );
      return;
    }
    this.#startNext();
  }

  /** Starts the next attempt, and schedules the one after. */
  #startNext(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#done) return;
    const address = this.#queue.shift();
    if (address === undefined) {
      this.#checkDone();
      return;
    }
    if (this.#queue.length > 0) {
      this.#timer = this.#endpoint.reactor.callLater(this.#endpoint.attemptDelay, () => {
        this.#timer = undefined;
        this.#startNext();
      });
    }
    let attempt: Deferred<IProtocol>;
    try {
      attempt = this.#endpointFor(address).connect(this.#factory);
    } catch (error) {
      attempt = fail(error);
    }
    this.#pending.add(attempt);
    attempt.addCallbacks(
      (protocol) => {
        this.#pending.delete(attempt);
        if (this.#done) return;
        this.#finish();
        this.result.callback(protocol);
      },
      (failure: Failure) => {
        this.#pending.delete(attempt);
        if (this.#done) return;
        this.#lastFailure = failure;
        // A failure brings the next attempt forward (RFC 8305, section 5).
        if (this.#queue.length > 0) this.#startNext();
        else this.#checkDone();
      },
    );
  }

  /** An endpoint for one resolved address. */
  #endpointFor(address: IPv4Address | IPv6Address): IStreamClientEndpoint {
    const endpoint = this.#endpoint;
    const options = { timeout: endpoint.timeout, bindAddress: endpoint.bindAddress };
    if (endpoint.tls === false) {
      return address instanceof IPv6Address
        ? new TCP6ClientEndpoint(endpoint.reactor, address.host, endpoint.port, options)
        : new TCP4ClientEndpoint(endpoint.reactor, address.host, endpoint.port, options);
    }
    const reactor = endpoint.reactor;
    if (typeof reactor.connectSSL !== 'function') {
      throw new TypeError('a HostnameEndpoint with tls needs a reactor with connectSSL');
    }
    const settings: ConnectionOptions = endpoint.tls === true ? {} : endpoint.tls;
    // The certificate is checked against the name asked for, not the address.
    const context: ConnectionOptions =
      settings.servername !== undefined || isIP(this.#asciiHost) !== 0
        ? settings
        : { ...settings, servername: this.#asciiHost };
    return new SSL4ClientEndpoint(
      reactor as IReactorSSL,
      address.host,
      endpoint.port,
      context,
      options,
    );
  }

  /** Fails the result once nothing is pending and nothing is left to try. */
  #checkDone(): void {
    if (this.#done || this.#pending.size > 0 || this.#queue.length > 0) return;
    this.#done = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.result.errback(this.#lastFailure ?? new DNSLookupError('no address to connect to'));
  }

  /** Stops everything still going: the lookup, the schedule, the pending attempts. */
  #finish(): void {
    this.#done = true;
    this.#queue = [];
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#resolution?.cancel();
    this.#resolution = undefined;
    for (const attempt of [...this.#pending]) attempt.cancel();
    this.#pending.clear();
  }
}

// ---------------------------------------------------------------------------
// Connecting a protocol instance

/**
 * Connects `protocol` (an instance, not a factory) through `endpoint`.
 *
 * @remarks
 * The endpoint is given a factory that hands out `protocol`, once.
 *
 * Cancellation: as the endpoint's `connect`: cancelling the Deferred
 * abandons the attempt.
 *
 * @example
 * ```ts
 * const client = await connectProtocol(new TCP4ClientEndpoint(reactor, 'example.com', 80), new Client());
 * ```
 *
 * @param endpoint - Where to connect.
 * @param protocol - The protocol to connect.
 * @returns What the endpoint's `connect` returns: a Deferred that fires with
 *   `protocol` once connected, or fails with why not.
 * @see Twisted: twisted.internet.endpoints.connectProtocol
 * @since 0.1.0
 */
export function connectProtocol<P extends IProtocol>(
  endpoint: IStreamClientEndpoint,
  protocol: P,
): Deferred<P> {
  class OneShotFactory extends Factory<P> {
    override noisy = false;
    override buildProtocol(_addr: IAddress): P {
      return protocol;
    }
  }
  return endpoint.connect(new OneShotFactory()) as Deferred<P>;
}

// ---------------------------------------------------------------------------
// Endpoint description strings

/** One `:`-separated segment of a description. */
interface Segment {
  /** As written, escapes included (for messages). */
  readonly raw: string;
  /** The option's name, for `key=value`; undefined for a positional argument. */
  readonly key: string | undefined;
  /** The value, unescaped. */
  readonly value: string;
}

/**
 * Splits a description into segments: `:` separates them, the first `=` in
 * a segment splits its name from its value (later ones are literal), and a
 * backslash takes the next character literally.
 */
function splitDescription(description: string): Segment[] {
  const segments: Segment[] = [];
  let raw = '';
  let current = '';
  let key: string | undefined;
  for (let i = 0; i < description.length; i++) {
    const c = description[i] as string;
    if (c === '\\') {
      const next = description[i + 1];
      if (next === undefined) {
        throw new EndpointStringError(
          description,
          raw + c,
          'a backslash at the end escapes nothing (write \\\\ for a backslash)',
        );
      }
      current += next;
      raw += c + next;
      i++;
    } else if (c === ':') {
      segments.push({ raw, key, value: current });
      raw = '';
      current = '';
      key = undefined;
    } else if (c === '=' && key === undefined) {
      key = current;
      current = '';
      raw += c;
    } else {
      current += c;
      raw += c;
    }
  }
  segments.push({ raw, key, value: current });
  return segments;
}

/** The arguments of one description, by name, with what the values mean. */
class Arguments {
  readonly #description: string;
  readonly #what: string;
  readonly #values = new Map<string, { value: string; raw: string }>();
  readonly #typeSegment: string;

  constructor(
    description: string,
    what: string,
    typeSegment: string,
    values: Map<string, { value: string; raw: string }>,
  ) {
    this.#description = description;
    this.#what = what;
    this.#typeSegment = typeSegment;
    this.#values = values;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** Throws an EndpointStringError about `name`'s segment (or the type's). */
  error(name: string | undefined, reason: string, cause?: unknown): never {
    const entry = name === undefined ? undefined : this.#values.get(name);
    throw new EndpointStringError(
      this.#description,
      entry?.raw ?? this.#typeSegment,
      reason,
      cause === undefined ? undefined : { cause },
    );
  }

  string(name: string): string | undefined {
    return this.#values.get(name)?.value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') {
      this.error(name, `${this.#what} needs a ${name}`);
    }
    return value;
  }

  port(name = 'port'): number {
    const text = this.required(name);
    const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(port >= 0 && port <= 65535)) {
      this.error(name, `${name} must be an integer from 0 to 65535, got '${text}'`);
    }
    return port;
  }

  integer(name: string, min: number): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= min && Number.isSafeInteger(n))) {
      this.error(name, `${name} must be an integer of at least ${min}, got '${text}'`);
    }
    return n;
  }

  seconds(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const n = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(n)) {
      this.error(name, `${name} must be a number of seconds, at least 0, got '${text}'`);
    }
    return n;
  }

  octal(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (!/^[0-7]+$/.test(text)) this.error(name, `${name} must be an octal number, got '${text}'`);
    return Number.parseInt(text, 8);
  }

  flag(name: string): boolean | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) this.error(name, `${name} must be 0 or 1, got '${text}'`);
    return Number(text) !== 0;
  }

  bindAddress(): readonly [string, number] | undefined {
    const host = this.string('bindAddress');
    const port = this.has('bindPort') ? this.port('bindPort') : undefined;
    if (host === undefined) {
      if (port !== undefined) this.error('bindPort', 'bindPort needs a bindAddress');
      return undefined;
    }
    return [host, port ?? 0];
  }

  /** Reads a file named by option `name`, as text. */
  file(name: string, path: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      this.error(name, `cannot read ${name} file '${path}': ${(error as Error).message}`, error);
    }
  }
}

/** How one endpoint type reads its arguments. */
interface EndpointType<R> {
  /** The names positional arguments fill, in order (unless given by name). */
  readonly positional: readonly string[];
  /** Every option it takes, positional ones included. */
  readonly options: readonly string[];
  /** Builds the endpoint. */
  build(reactor: R, args: Arguments): unknown;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates in `text` (a file may hold a key too), or all of it if none is found. */
function certificatesOf(text: string): string {
  return (text.match(PEM_CERTIFICATE) ?? [text]).join('\n');
}

/** Reads the certificates of every `*.pem` file in a directory: trusted CAs. */
function certificatesIn(args: Arguments, name: string, directory: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch (error) {
    args.error(
      name,
      `cannot read ${name} directory '${directory}': ${(error as Error).message}`,
      error,
    );
  }
  const certificates: string[] = [];
  for (const entry of entries.sort()) {
    if (!entry.toLowerCase().endsWith('.pem')) continue;
    let text: string;
    try {
      text = readFileSync(join(directory, entry), 'utf8');
    } catch {
      // Unreadable (permissions, a directory named *.pem): not a CA, as in Twisted.
      continue;
    }
    certificates.push(...(text.match(PEM_CERTIFICATE) ?? []));
  }
  return certificates;
}

const SERVER_TYPES: Record<string, EndpointType<ServerReactor>> = {
  tcp: {
    positional: ['port'],
    options: ['port', 'interface', 'backlog'],
    build: (reactor, args) =>
      new TCP4ServerEndpoint(reactor, args.port(), {
        backlog: args.integer('backlog', 1),
        interface: args.string('interface'),
      }),
  },
  tcp6: {
    positional: ['port'],
    options: ['port', 'interface', 'backlog'],
    build: (reactor, args) =>
      new TCP6ServerEndpoint(reactor, args.port(), {
        backlog: args.integer('backlog', 1),
        interface: args.string('interface'),
      }),
  },
  unix: {
    positional: ['address'],
    options: ['address', 'mode', 'backlog', 'lockfile'],
    build: (reactor, args) =>
      new UNIXServerEndpoint(reactor, args.required('address'), {
        mode: args.octal('mode'),
        backlog: args.integer('backlog', 1),
        // A description holds the lock file unless told otherwise (as Twisted).
        wantPID: args.flag('lockfile') ?? true,
      }),
  },
  ssl: {
    positional: ['port'],
    options: ['port', 'privateKey', 'certKey', 'extraCertChain', 'interface', 'backlog'],
    build: (reactor, args) => {
      const port = args.port();
      const keyFile = args.string('privateKey') ?? 'server.pem';
      const certFile = args.string('certKey') ?? keyFile;
      const chainFile = args.string('extraCertChain');
      const key = args.file('privateKey', keyFile);
      // Only the certificates: certKey may be privateKey's file, key included.
      let cert = certificatesOf(
        args.file(args.has('certKey') ? 'certKey' : 'privateKey', certFile),
      );
      const sources: Array<readonly [string, string]> = [['privateKey', keyFile]];
      if (certFile !== keyFile) sources.push(['certKey', certFile]);
      if (chainFile !== undefined) {
        const chain = args.file('extraCertChain', chainFile).match(PEM_CERTIFICATE);
        if (chain === null) {
          return args.error(
            'extraCertChain',
            `the chain file '${chainFile}' holds no PEM certificate`,
          );
        }
        // Node takes the chain as the certificates after the server's own.
        cert = [cert, ...chain].join('\n');
        sources.push(['extraCertChain', chainFile]);
      }
      const settings: TlsOptions = { key, cert };
      tlsSources.set(settings, sources);
      return new SSL4ServerEndpoint(reactor, port, settings, {
        backlog: args.integer('backlog', 1),
        interface: args.string('interface'),
      });
    },
  },
};

const TCP_CLIENT_OPTIONS = ['host', 'port', 'timeout', 'bindAddress', 'bindPort'];

const CLIENT_TYPES: Record<string, EndpointType<ClientReactor>> = {
  tcp: {
    positional: ['host', 'port'],
    options: TCP_CLIENT_OPTIONS,
    build: (reactor, args) =>
      new TCP4ClientEndpoint(reactor, args.required('host'), args.port(), {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
      }),
  },
  tcp6: {
    positional: ['host', 'port'],
    options: TCP_CLIENT_OPTIONS,
    build: (reactor, args) =>
      new TCP6ClientEndpoint(reactor, args.required('host'), args.port(), {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
      }),
  },
  unix: {
    positional: ['path'],
    options: ['path', 'timeout', 'lockfile'],
    build: (reactor, args) =>
      new UNIXClientEndpoint(reactor, args.required('path'), {
        timeout: args.seconds('timeout'),
        checkPID: args.flag('lockfile'),
      }),
  },
  ssl: {
    positional: ['host', 'port'],
    options: [...TCP_CLIENT_OPTIONS, 'certKey', 'privateKey', 'caCertsDir', 'hostname'],
    build: (reactor, args) => {
      const host = args.required('host');
      const port = args.port();
      const sources: Array<readonly [string, string]> = [];
      const settings: ConnectionOptions = {};
      const certFile = args.string('certKey');
      const keyFile = args.string('privateKey');
      if (certFile !== undefined) {
        const certText = args.file('certKey', certFile);
        settings.cert = certificatesOf(certText);
        settings.key = keyFile === undefined ? certText : args.file('privateKey', keyFile);
        sources.push(['certKey', certFile]);
        if (keyFile !== undefined) sources.push(['privateKey', keyFile]);
      } else if (keyFile !== undefined) {
        return args.error(
          'privateKey',
          'privateKey needs certKey, the client certificate it goes with',
        );
      }
      const caDir = args.string('caCertsDir');
      if (caDir !== undefined) {
        settings.ca = certificatesIn(args, 'caCertsDir', caDir);
        sources.push(['caCertsDir', caDir]);
      }
      const hostname = args.string('hostname');
      if (hostname !== undefined) {
        settings.servername = hostname;
        sources.push(['hostname', hostname]);
      } else if (caDir !== undefined) {
        // Verify the chain against the given CAs, but no name (as Twisted's
        // CertificateOptions without a hostname).
        settings.checkServerIdentity = () => undefined;
      } else {
        // Neither trust nor a name to check: Twisted's non-verifying default.
        settings.rejectUnauthorized = false;
      }
      tlsSources.set(settings, sources);
      return new SSL4ClientEndpoint(reactor, host, port, settings, {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
      });
    },
  },
  tls: {
    positional: ['host', 'port'],
    options: [...TCP_CLIENT_OPTIONS, 'attemptDelay', 'trustRoots', 'certificate', 'privateKey'],
    build: (reactor, args) => {
      const host = args.required('host');
      const port = args.port();
      const sources: Array<readonly [string, string]> = [];
      const settings: ConnectionOptions = {};
      const rootsDir = args.string('trustRoots');
      if (rootsDir !== undefined) {
        settings.ca = certificatesIn(args, 'trustRoots', rootsDir);
        sources.push(['trustRoots', rootsDir]);
      }
      const certFile = args.string('certificate');
      const keyFile = args.string('privateKey');
      if (certFile !== undefined) {
        const certText = args.file('certificate', certFile);
        settings.cert = certificatesOf(certText);
        settings.key = keyFile === undefined ? certText : args.file('privateKey', keyFile);
        sources.push(['certificate', certFile]);
        if (keyFile !== undefined) sources.push(['privateKey', keyFile]);
      } else if (keyFile !== undefined) {
        return args.error(
          'privateKey',
          'privateKey needs certificate, the client certificate it goes with',
        );
      }
      if (sources.length > 0) tlsSources.set(settings, sources);
      return new HostnameEndpoint(reactor, host, port, {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
        attemptDelay: args.seconds('attemptDelay'),
        tls: sources.length > 0 ? settings : true,
      });
    },
  },
  hostname: {
    positional: ['host', 'port'],
    options: [...TCP_CLIENT_OPTIONS, 'attemptDelay'],
    build: (reactor, args) =>
      new HostnameEndpoint(reactor, args.required('host'), args.port(), {
        timeout: args.seconds('timeout'),
        bindAddress: args.bindAddress(),
        attemptDelay: args.seconds('attemptDelay'),
      }),
  },
};

/** Reads a description against the table of endpoint types. */
function parseDescription<R>(
  description: string,
  side: 'server' | 'client',
  types: Record<string, EndpointType<R>>,
  reactor: R,
): unknown {
  if (typeof description !== 'string') {
    throw new TypeError(`an endpoint description is a string, got ${typeof description}`);
  }
  const [first, ...rest] = splitDescription(description);
  const typeSegment = first as Segment;
  const known = Object.keys(types).join(', ');
  if (typeSegment.key !== undefined || typeSegment.value === '') {
    throw new EndpointStringError(
      description,
      typeSegment.raw,
      `a description starts with the endpoint type (${known})`,
    );
  }
  const typeName = typeSegment.value.toLowerCase();
  const type = Object.hasOwn(types, typeName) ? types[typeName] : undefined;
  if (type === undefined) {
    throw new EndpointStringError(
      description,
      typeSegment.raw,
      `unknown ${side} endpoint type '${typeSegment.value}' (known: ${known})`,
    );
  }
  const what = `a ${typeName} ${side} endpoint`;
  const values = new Map<string, { value: string; raw: string }>();
  const positional: Segment[] = [];
  for (const segment of rest) {
    if (segment.key === undefined) {
      positional.push(segment);
      continue;
    }
    if (!type.options.includes(segment.key)) {
      throw new EndpointStringError(
        description,
        segment.raw,
        `unknown option '${segment.key}' for ${what} (it takes ${type.options.join(', ')})`,
      );
    }
    if (values.has(segment.key)) {
      throw new EndpointStringError(
        description,
        segment.raw,
        `option '${segment.key}' given twice`,
      );
    }
    values.set(segment.key, { value: segment.value, raw: segment.raw });
  }
  const open = type.positional.filter((name) => !values.has(name));
  for (const [index, segment] of positional.entries()) {
    const name = open[index];
    if (name === undefined) {
      throw new EndpointStringError(
        description,
        segment.raw,
        `unexpected argument '${segment.value}' for ${what} (its positional arguments: ${type.positional.join(', ')})`,
      );
    }
    values.set(name, { value: segment.value, raw: segment.raw });
  }
  return type.build(reactor, new Arguments(description, what, typeSegment.raw, values));
}

/** What {@link serverFromString} needs of a reactor: whatever the description asks for. */
export type ServerReactor = IReactorTCP & IReactorUNIX & IReactorSSL;

/** What {@link clientFromString} needs of a reactor: whatever the description asks for. */
export type ClientReactor = IReactorTCP & IReactorUNIX & IReactorSSL & IReactorTime;

/**
 * Makes a server endpoint from a description string.
 *
 * @remarks
 * A description is a type, then `:`-separated arguments: positional ones,
 * and options written `name=value`. Within a segment the first `=` splits
 * the name from the value (later ones are part of the value); a backslash
 * makes the next character literal (`\:`, `\=`, `\\`; see
 * {@link quoteStringArgument}). The types:
 *
 * - `tcp:PORT[:interface=IP][:backlog=N]` (also `tcp:port=PORT`):
 *   {@link TCP4ServerEndpoint}.
 * - `tcp6:PORT[:interface=IP][:backlog=N]`: {@link TCP6ServerEndpoint}.
 * - `unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0|1]` (`lockfile`
 *   defaults to 1): {@link UNIXServerEndpoint}.
 * - `ssl:PORT:privateKey=FILE[:certKey=FILE][:extraCertChain=FILE][:interface=IP][:backlog=N]`:
 *   {@link SSL4ServerEndpoint}; `privateKey` defaults to `server.pem` and
 *   `certKey` to `privateKey` (one PEM file with key and certificate); the
 *   files are read now.
 *
 * Every endpoint's `toString()` is a description this function turns back
 * into an equal endpoint.
 *
 * @example
 * ```ts
 * const endpoint = serverFromString(reactor, 'tcp:8080:interface=127.0.0.1');
 * await endpoint.listen(Factory.forProtocol(Echo));
 * ```
 *
 * @param reactor - The reactor the endpoint listens with.
 * @param description - The description.
 * @returns The endpoint.
 * @throws {@link EndpointStringError} for a description that cannot be read
 *   (unknown type, missing or unexpected argument, bad number, unknown
 *   option, unreadable file), naming the segment at fault.
 * @see Twisted: twisted.internet.endpoints.serverFromString
 * @since 0.1.0
 */
export function serverFromString(
  reactor: ServerReactor,
  description: string,
): IStreamServerEndpoint {
  return parseDescription(description, 'server', SERVER_TYPES, reactor) as IStreamServerEndpoint;
}

/**
 * Makes a client endpoint from a description string.
 *
 * @remarks
 * The grammar is {@link serverFromString}'s. The types:
 *
 * - `tcp:HOST:PORT[:timeout=S][:bindAddress=IP][:bindPort=N]` (also
 *   `tcp:host=HOST:port=PORT`): {@link TCP4ClientEndpoint}.
 * - `tcp6:HOST:PORT[…]`: {@link TCP6ClientEndpoint}.
 * - `unix:PATH[:timeout=S][:lockfile=0|1]` (also `unix:path=PATH`):
 *   {@link UNIXClientEndpoint}.
 * - `ssl:HOST:PORT[:certKey=FILE][:privateKey=FILE][:caCertsDir=DIR][:hostname=NAME][:timeout=S][:bindAddress=IP]`:
 *   {@link SSL4ClientEndpoint}. `certKey` (and `privateKey`, defaulting to
 *   `certKey`) give a client certificate; `caCertsDir` is a directory whose
 *   `*.pem` certificates are the CAs trusted; `hostname` is the name the
 *   server's certificate must carry (verified against `caCertsDir`, or Node's
 *   bundled roots). **With neither `caCertsDir` nor `hostname`, the server's
 *   certificate is not verified at all** (as in Twisted); use `tls:` to
 *   connect securely.
 * - `tls:HOST:PORT[:timeout=S][:bindAddress=IP][:attemptDelay=S][:trustRoots=DIR][:certificate=FILE][:privateKey=FILE]`:
 *   a {@link HostnameEndpoint} with TLS, verifying the server against Node's
 *   bundled roots (or the `*.pem` certificates of `trustRoots`) and the host
 *   name.
 * - `hostname:HOST:PORT[:timeout=S][:bindAddress=IP][:attemptDelay=S]`: a
 *   {@link HostnameEndpoint} (not in Twisted; it lets a HostnameEndpoint
 *   describe itself).
 *
 * Files are read now. Every endpoint's `toString()` is a description this
 * function turns back into an equal endpoint.
 *
 * @example
 * ```ts
 * const endpoint = clientFromString(reactor, 'tls:example.com:443');
 * const protocol = await endpoint.connect(Factory.forProtocol(Client));
 * ```
 *
 * @param reactor - The reactor the endpoint connects (and keeps time) with.
 * @param description - The description.
 * @returns The endpoint.
 * @throws {@link EndpointStringError} for a description that cannot be read,
 *   naming the segment at fault.
 * @see Twisted: twisted.internet.endpoints.clientFromString
 * @since 0.1.0
 */
export function clientFromString(
  reactor: ClientReactor,
  description: string,
): IStreamClientEndpoint {
  return parseDescription(description, 'client', CLIENT_TYPES, reactor) as IStreamClientEndpoint;
}
