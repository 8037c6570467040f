// Client endpoints: where a client connects, as objects (TCP over IPv4 and
// IPv6, UNIX sockets, TLS) (Twisted: twisted.internet.endpoints).
// Tests: test/unit/internet/endpoints.test.ts, test/unit/internet/endpoints-strings.test.ts,
// test/integration/endpoints.test.ts, test/integration/tls.test.ts,
// test/unit/internet/abort-signal.test.ts

import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { systemResolver } from '../_resolver.js';
import { HostnameAddress, IPv6Address } from '../address.js';
import { Deferred } from '../defer.js';
import { ConnectingCancelledError, DNSLookupError } from '../error.js';
import type { Failure } from '../failure.js';
import type {
  EndpointConnectOptions,
  IHostnameResolver,
  IProtocol,
  IProtocolFactory,
  IReactorSSL,
  IReactorTCP,
  IReactorUNIX,
  IStreamClientEndpoint,
  ProtocolOf,
} from '../interfaces.js';
import { describe, tlsSources } from './describe.js';
import { connectWrapped } from './wrapping.js';

/** Options of the TCP and TLS client endpoints. */
export interface TCPClientEndpointOptions {
  /** Seconds before an attempt fails with a timeout. @defaultValue 30 */
  timeout?: number | undefined;
  /** The local `[host, port]` to connect from. */
  bindAddress?: readonly [string, number] | undefined;
}

/** Describes the options shared by the TCP client endpoints. */
export function clientOptions(
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
   * @param options - `signal`: aborting it cancels the attempt, as `cancel()` does.
   * @returns A Deferred that fires with the protocol once its
   *   `connectionMade` has run, or fails with the reason the connection
   *   could not be made (`ConnectionRefusedError`, `TimeoutError`,
   *   `DNSLookupError`, `NoProtocol`, …).
   */
  connect<F extends IProtocolFactory>(
    factory: F,
    options: EndpointConnectOptions = {},
  ): Deferred<ProtocolOf<F>> {
    const d = this.#connect(factory) as Deferred<ProtocolOf<F>>;
    return options.signal === undefined ? d : d.cancelOn(options.signal);
  }

  #connect(factory: IProtocolFactory): Deferred<IProtocol> {
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
export function resolverFor(
  reactor: unknown,
  given: IHostnameResolver | undefined,
): IHostnameResolver {
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
   * @param options - `signal`: aborting it cancels the attempt, as `cancel()` does.
   * @returns A Deferred that fires with the protocol once its
   *   `connectionMade` has run, or fails with `DNSLookupError` (no IPv6
   *   address) or the reason the connection could not be made.
   */
  connect<F extends IProtocolFactory>(
    factory: F,
    options: EndpointConnectOptions = {},
  ): Deferred<ProtocolOf<F>> {
    const d = this.#connect(factory) as Deferred<ProtocolOf<F>>;
    return options.signal === undefined ? d : d.cancelOn(options.signal);
  }

  #connect(factory: IProtocolFactory): Deferred<IProtocol> {
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
  timeout?: number | undefined;
  /** Check that a live process holds the server's lock file first. @defaultValue false */
  checkPID?: boolean | undefined;
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
   * @param options - `signal`: aborting it cancels the attempt, as `cancel()` does.
   * @returns A Deferred that fires with the protocol once its
   *   `connectionMade` has run, or fails with the reason the connection
   *   could not be made (`ConnectError`, `BadFileError` with `checkPID`, …).
   */
  connect<F extends IProtocolFactory>(
    factory: F,
    options: EndpointConnectOptions = {},
  ): Deferred<ProtocolOf<F>> {
    const d = this.#connect(factory) as Deferred<ProtocolOf<F>>;
    return options.signal === undefined ? d : d.cancelOn(options.signal);
  }

  #connect(factory: IProtocolFactory): Deferred<IProtocol> {
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
   * @param options - `signal`: aborting it cancels the attempt, as `cancel()` does.
   * @returns A Deferred that fires with the protocol once its
   *   `connectionMade` has run, or fails with `SSLError` (a failed
   *   handshake) or the reason the connection could not be made.
   */
  connect<F extends IProtocolFactory>(
    factory: F,
    options: EndpointConnectOptions = {},
  ): Deferred<ProtocolOf<F>> {
    const d = this.#connect(factory) as Deferred<ProtocolOf<F>>;
    return options.signal === undefined ? d : d.cancelOn(options.signal);
  }

  #connect(factory: IProtocolFactory): Deferred<IProtocol> {
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
