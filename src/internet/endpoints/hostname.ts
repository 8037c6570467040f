// HostnameEndpoint: a client endpoint for a host name, racing connections to
// all its addresses ("happy eyeballs", RFC 8305)
// (Twisted: twisted.internet.endpoints.HostnameEndpoint).
// Tests: test/unit/internet/endpoints-hostname.test.ts, test/unit/internet/endpoints-strings.test.ts,
// test/integration/endpoints.test.ts, test/integration/tls.test.ts

import type { ConnectionOptions } from 'node:tls';
import { domainToASCII } from 'node:url';
import { ipFamily } from '../_ip.js';
import { HostnameAddress, IPv4Address, IPv6Address } from '../address.js';
import { Deferred, fail, succeed } from '../defer.js';
import { ConnectingCancelledError, DNSLookupError, InvalidAddressError } from '../error.js';
import type { Failure } from '../failure.js';
import type {
  EndpointConnectOptions,
  IDelayedCall,
  IHostnameResolver,
  IIPAddress,
  IProtocol,
  IProtocolFactory,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IStreamClientEndpoint,
  ProtocolOf,
} from '../interfaces.js';
import {
  clientOptions,
  resolverFor,
  SSL4ClientEndpoint,
  TCP4ClientEndpoint,
  TCP6ClientEndpoint,
} from './client.js';
import { describe, tlsSources } from './describe.js';

/** What a {@link HostnameEndpoint} needs of its reactor. */
export type HostnameEndpointReactor = IReactorTCP &
  IReactorTime &
  Partial<IReactorSSL> &
  Partial<IHostnameResolver>;

/** Options of {@link HostnameEndpoint}. */
export interface HostnameEndpointOptions {
  /** Seconds before each attempt fails. @defaultValue 30 */
  timeout?: number | undefined;
  /**
   * The local address to connect from: an IP address, or `[host, port]`.
   */
  bindAddress?: string | readonly [string, number] | undefined;
  /** Seconds between the starts of two attempts. @defaultValue 0.3 */
  attemptDelay?: number | undefined;
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
  tls?: boolean | ConnectionOptions | undefined;
}

/** Interleaves two address families, starting with the family of the first address. */
function interleave(addresses: ReadonlyArray<IIPAddress>): IIPAddress[] {
  const seen = new Set<string>();
  const v4: IIPAddress[] = [];
  const v6: IIPAddress[] = [];
  for (const address of addresses) {
    const family = ipFamily(address.host);
    const key = `${family}/${address.host}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (family === 6) v6.push(address);
    else v4.push(address);
  }
  const [first, second] =
    addresses[0] !== undefined && ipFamily(addresses[0].host) === 6 ? [v6, v4] : [v4, v6];
  const ordered: IIPAddress[] = [];
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
    this.#asciiHost = ipFamily(this.host) !== 0 ? this.host : domainToASCII(this.host);
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
   * @param options - `signal`: aborting it cancels the attempt, as `cancel()` does.
   * @returns A Deferred that fires with the first protocol connected (once
   *   its `connectionMade` has run), or fails with the last attempt's
   *   failure, `DNSLookupError`, or `InvalidAddressError` for a host that is
   *   not a valid host name.
   */
  connect<F extends IProtocolFactory>(
    factory: F,
    options: EndpointConnectOptions = {},
  ): Deferred<ProtocolOf<F>> {
    const d = this.#connect(factory) as Deferred<ProtocolOf<F>>;
    return options.signal === undefined ? d : d.cancelOn(options.signal);
  }

  #connect(factory: IProtocolFactory): Deferred<IProtocol> {
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
          return `<HostnameEndpoint ${ipFamily(this.host) === 6 ? `[${this.host}]` : this.host}:${this.port} with TLS settings given in code>`;
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
  #queue: IIPAddress[] = [];
  /** The attempts started and not yet settled. */
  readonly #pending = new Set<Deferred<IProtocol>>();
  #lastFailure: Failure | undefined;
  /** The call that starts the next attempt. */
  #timer: IDelayedCall | undefined;
  #resolution: Deferred<IIPAddress[]> | undefined;
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
    let resolution: Deferred<IIPAddress[]>;
    if (ipFamily(asciiHost) === 6)
      resolution = succeed<IIPAddress[]>([new IPv6Address('TCP', asciiHost, 0)]);
    else if (ipFamily(asciiHost) === 4)
      resolution = succeed<IIPAddress[]>([new IPv4Address('TCP', asciiHost, 0)]);
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
      (a): a is IIPAddress =>
        typeof a === 'object' &&
        a !== null &&
        typeof (a as Partial<IIPAddress>).host === 'string' &&
        ipFamily((a as IIPAddress).host) !== 0,
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
  #endpointFor(address: IIPAddress): IStreamClientEndpoint {
    const endpoint = this.#endpoint;
    const options = { timeout: endpoint.timeout, bindAddress: endpoint.bindAddress };
    if (endpoint.tls === false) {
      return ipFamily(address.host) === 6
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
      settings.servername !== undefined || ipFamily(this.#asciiHost) !== 0
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
