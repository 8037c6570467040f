// Server endpoints: where a server listens, as objects (TCP over IPv4 and
// IPv6, UNIX sockets, TLS) (Twisted: twisted.internet.endpoints).
// Tests: test/unit/internet/endpoints.test.ts, test/unit/internet/endpoints-strings.test.ts,
// test/integration/endpoints.test.ts, test/integration/tls.test.ts, test/types/addresses.test.ts

import { isIP } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { IPAddress, IPv4Address, IPv6Address, UNIXAddress } from '../address.js';
import { type Deferred, maybeDeferred } from '../defer.js';
import { InvalidAddressError } from '../error.js';
import type {
  IAddress,
  IListeningPort,
  IProtocolFactory,
  IReactorSSL,
  IReactorTCP,
  IReactorUNIX,
  IStreamServerEndpoint,
} from '../interfaces.js';
import { describe, tlsSources } from './describe.js';

/** Listens now, turning a throw into a failed Deferred. */
function listenWith<A extends IAddress>(
  listen: () => IListeningPort<A>,
): Deferred<IListeningPort<A>> {
  return maybeDeferred(listen);
}

/** What a kind of TCP server endpoint is called, listens on by default, and takes. */
interface TCPKind {
  prefix: string;
  defaultInterface: string;
  /** The IP version its interface must be (checked at construction), if any. */
  family?: 4 | 6;
}

/** Options of {@link TCP4ServerEndpoint} and {@link TCP6ServerEndpoint}. */
export interface TCPServerEndpointOptions {
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
  /**
   * The IP address to listen on.
   * @defaultValue `''` (all IPv4 interfaces) for TCP4, `'::'` for TCP6
   */
  interface?: string | undefined;
}

/**
 * The TCP server endpoints' shared implementation: listens on a port with
 * `listenTCP`. Use {@link TCP4ServerEndpoint} or {@link TCP6ServerEndpoint}.
 *
 * @typeParam A - The address of its ports: `IPv4Address` for
 *   `TCP4ServerEndpoint`, `IPv6Address` for `TCP6ServerEndpoint`.
 * @see Twisted: twisted.internet.endpoints._TCPServerEndpoint
 * @since 0.1.0
 */
export class TCPServerEndpoint<A extends IPAddress = IPAddress>
  implements IStreamServerEndpoint<A>
{
  /** The description's type, and the interface listened on by default. @internal */
  protected static readonly kind: TCPKind = {
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
   * @param options - `backlog` (default 511) and `interface` (default: all
   *   interfaces of the endpoint's family).
   * @throws {@link torsion/protocol!InvalidAddressError | InvalidAddressError} if `interface` is an IP address of
   *   the other family (an IPv6 one for a `TCP4ServerEndpoint`).
   */
  constructor(reactor: IReactorTCP, port: number, options: TCPServerEndpointOptions = {}) {
    const kind = this.#kind();
    this.reactor = reactor;
    this.port = port;
    this.backlog = options.backlog ?? 511;
    this.interface = options.interface ?? kind.defaultInterface;
    const family = isIP(this.interface);
    if (kind.family !== undefined && family !== 0 && family !== kind.family) {
      const other = family === 6 ? 'TCP6ServerEndpoint' : 'TCP4ServerEndpoint';
      throw new InvalidAddressError(
        this.interface,
        `${this.constructor.name} listens on IPv${kind.family} only; use ${other}`,
      );
    }
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
  listen(factory: IProtocolFactory): Deferred<IListeningPort<A>> {
    return listenWith(
      () =>
        // The constructor checked that the interface is of A's family.
        this.reactor.listenTCP(this.port, factory, {
          backlog: this.backlog,
          interface: this.interface,
        }) as IListeningPort<A>,
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
        ['backlog', this.backlog === 511 ? undefined : this.backlog],
      ],
    );
  }

  #kind(): TCPKind {
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
export class TCP4ServerEndpoint extends TCPServerEndpoint<IPv4Address> {
  /** @internal */
  protected static override readonly kind: TCPKind = {
    prefix: 'tcp',
    defaultInterface: '',
    family: 4,
  };
}

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
export class TCP6ServerEndpoint extends TCPServerEndpoint<IPv6Address> {
  /** @internal */
  protected static override readonly kind: TCPKind = {
    prefix: 'tcp6',
    defaultInterface: '::',
    family: 6,
  };
}

/** Options of {@link UNIXServerEndpoint}. */
export interface UNIXServerEndpointOptions {
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
  /** The socket file's permissions. @defaultValue 0o666 */
  mode?: number | undefined;
  /** Hold a lock file (`<address>.lock`) naming this process. @defaultValue false */
  wantPID?: boolean | undefined;
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
export class UNIXServerEndpoint implements IStreamServerEndpoint<UNIXAddress> {
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
   * @param options - `backlog` (default 511), `mode` (default 0o666) and
   *   `wantPID` (default false).
   */
  constructor(reactor: IReactorUNIX, address: string, options: UNIXServerEndpointOptions = {}) {
    this.reactor = reactor;
    this.address = address;
    this.backlog = options.backlog ?? 511;
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
  listen(factory: IProtocolFactory): Deferred<IListeningPort<UNIXAddress>> {
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
        ['backlog', this.backlog === 511 ? undefined : this.backlog],
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
 * `ssl:PORT:privateKey=FILE[:certKey=FILE][:extraCertChain=FILE][:dhParameters=FILE][:sslmethod=NAME][:interface=IP][:backlog=N]`.
 * An endpoint whose TLS settings were given in code (not loaded from files by
 * `serverFromString`) cannot name files: its `toString()` is then
 * `<SSL4ServerEndpoint PORT …>`, which `serverFromString` rejects.
 *
 * @see Twisted: twisted.internet.endpoints.SSL4ServerEndpoint
 * @since 0.1.0
 */
export class SSL4ServerEndpoint implements IStreamServerEndpoint<IPAddress> {
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
   * @param options - `backlog` (default 511) and `interface` (default `''`).
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
    this.backlog = options.backlog ?? 511;
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
  listen(factory: IProtocolFactory): Deferred<IListeningPort<IPAddress>> {
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
        ['backlog', this.backlog === 511 ? undefined : this.backlog],
      ],
    );
  }
}
