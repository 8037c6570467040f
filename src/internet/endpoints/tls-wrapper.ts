// wrapClientTLS: a client endpoint that connects through any other client
// endpoint and starts TLS as the client at once (Twisted:
// twisted.internet.endpoints.wrapClientTLS and _WrapperEndpoint).
// Tests: test/unit/internet/tls-wrapper.test.ts, test/integration/tls-wrapper.test.ts

import { type ConnectionOptions, createSecureContext } from 'node:tls';
import { type HalfCloseableProtocol, isHalfCloseable } from '../_half-close.js';
import type { Deferred } from '../defer.js';
import type { Failure } from '../failure.js';
import type {
  EndpointConnectOptions,
  IAddress,
  IHalfCloseableProtocol,
  IHandshakeListener,
  IProtocol,
  IProtocolFactory,
  IStreamClientEndpoint,
  ITLSTransport,
  ITransport,
  ProtocolOf,
} from '../interfaces.js';

/** A transport's own description, or its class's name. */
function nameOf(transport: ITransport): string {
  const text = String(transport);
  return text === '[object Object]' ? transport.constructor.name : text;
}

/**
 * Stands between the wrapped endpoint's transport and the user's protocol:
 * starts TLS on the transport, then attaches the protocol to it and passes
 * every event on.
 */
class TLSStartingProtocol implements IProtocol, IHandshakeListener {
  readonly wrappedProtocol: IProtocol;
  readonly #options: ConnectionOptions;
  #attached = false;

  constructor(options: ConnectionOptions, wrappedProtocol: IProtocol) {
    this.#options = options;
    this.wrappedProtocol = wrappedProtocol;
  }

  makeConnection(transport: ITransport): void {
    const tls = transport as Partial<ITLSTransport>;
    if (typeof tls.startTLS !== 'function') {
      // The endpoint's Deferred fails with this (and the transport closes).
      throw new TypeError(
        `wrapClientTLS: the wrapped endpoint's transport ${nameOf(transport)} cannot start TLS (it has no startTLS)`,
      );
    }
    // Before the protocol's connectionMade, so that what it writes there is
    // encrypted (queued until the handshake has completed).
    tls.startTLS(this.#options, { server: false });
    this.#attached = true;
    this.wrappedProtocol.makeConnection(transport);
  }

  connectionMade(): void {}

  dataReceived(data: Uint8Array): void {
    if (this.#attached) this.wrappedProtocol.dataReceived(data);
  }

  connectionLost(reason: Failure): void {
    if (this.#attached) this.wrappedProtocol.connectionLost(reason);
  }

  handshakeCompleted(): void {
    const listener = this.wrappedProtocol as Partial<IHandshakeListener>;
    if (this.#attached && typeof listener.handshakeCompleted === 'function') {
      listener.handshakeCompleted();
    }
  }

  logPrefix(): string {
    const prefix = (this.wrappedProtocol as { logPrefix?: unknown }).logPrefix;
    return typeof prefix === 'function'
      ? String(prefix.call(this.wrappedProtocol))
      : this.wrappedProtocol.constructor.name;
  }

  toString(): string {
    return `<TLS of ${this.logPrefix()}>`;
  }
}

/** Half-closeable only when the protocol it wraps is (the transport asks). */
class HalfCloseableTLSStartingProtocol
  extends TLSStartingProtocol
  implements IHalfCloseableProtocol
{
  readConnectionLost(): void {
    (this.wrappedProtocol as HalfCloseableProtocol).readConnectionLost();
  }

  writeConnectionLost(): void {
    (this.wrappedProtocol as HalfCloseableProtocol).writeConnectionLost?.();
  }
}

/** The factory given to the wrapped endpoint: wraps each protocol of the user's. */
class TLSStartingFactory implements IProtocolFactory {
  readonly #options: ConnectionOptions;
  readonly #factory: IProtocolFactory;

  constructor(options: ConnectionOptions, factory: IProtocolFactory) {
    this.#options = options;
    this.#factory = factory;
  }

  buildProtocol(addr: IAddress): IProtocol | null {
    const protocol = this.#factory.buildProtocol(addr);
    if (protocol === null) return null;
    return isHalfCloseable(protocol)
      ? new HalfCloseableTLSStartingProtocol(this.#options, protocol)
      : new TLSStartingProtocol(this.#options, protocol);
  }

  doStart(): void {
    this.#factory.doStart();
  }

  doStop(): void {
    this.#factory.doStop();
  }

  toString(): string {
    return `<TLS factory of ${String(this.#factory)}>`;
  }
}

/**
 * The endpoint {@link wrapClientTLS} returns.
 *
 * @see Twisted: twisted.internet.endpoints._WrapperEndpoint
 * @since 0.1.0
 */
export class TLSWrapperClientEndpoint implements IStreamClientEndpoint {
  /** The endpoint connected through. */
  readonly wrappedEndpoint: IStreamClientEndpoint;
  /** The TLS client settings, as `tls.connect` takes them, with the secure context built. */
  readonly options: ConnectionOptions;

  /**
   * @param options - The TLS client settings (see {@link wrapClientTLS}).
   * @param wrappedEndpoint - The endpoint to connect through.
   * @throws TypeError as {@link wrapClientTLS} does.
   */
  constructor(options: ConnectionOptions, wrappedEndpoint: IStreamClientEndpoint) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `wrapClientTLS: options must be TLS client settings (an object), got ${options === null ? 'null' : typeof options}`,
      );
    }
    const name = options.servername ?? options.host;
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(
        "wrapClientTLS: the options need the server's name to verify its certificate: give servername (or host)",
      );
    }
    if (
      wrappedEndpoint === null ||
      typeof (wrappedEndpoint as Partial<IStreamClientEndpoint>).connect !== 'function'
    ) {
      throw new TypeError(
        `wrapClientTLS: the wrapped endpoint must be a client endpoint (with connect()), got ${String(wrappedEndpoint)}`,
      );
    }
    // Built once here (a bad key or CA throws now), shared by every connection.
    this.options = {
      ...options,
      secureContext: options.secureContext ?? createSecureContext(options),
    };
    this.wrappedEndpoint = wrappedEndpoint;
  }

  /**
   * Connects through the wrapped endpoint and starts TLS at once.
   *
   * @remarks
   * The Deferred fires as soon as the wrapped endpoint has connected, before
   * the handshake (as in Twisted): the protocol's `connectionMade` has run,
   * what it wrote is queued and is sent encrypted once the handshake has
   * completed; a protocol with `handshakeCompleted()` is told then. A failed
   * handshake (an untrusted certificate, another host name) reaches the
   * protocol's `connectionLost` as a `ConnectionLost` naming the reason.
   *
   * @param factory - Builds the protocol.
   * @param options - `signal`: aborting it cancels the attempt.
   * @returns A Deferred of the protocol, or failing with why the wrapped
   *   endpoint could not connect, or a TypeError if its transport cannot
   *   start TLS.
   */
  connect<F extends IProtocolFactory>(
    factory: F,
    options: EndpointConnectOptions = {},
  ): Deferred<ProtocolOf<F>> {
    const d = this.wrappedEndpoint.connect(new TLSStartingFactory(this.options, factory), options);
    return d.addCallback(
      (protocol: unknown) => (protocol as TLSStartingProtocol).wrappedProtocol,
    ) as unknown as Deferred<ProtocolOf<F>>;
  }

  /** `<TLS over …>`, naming the wrapped endpoint. */
  toString(): string {
    return `<TLS to ${String(this.options.servername ?? this.options.host)} over ${String(this.wrappedEndpoint)}>`;
  }
}

/**
 * Wraps a client endpoint so that each connection it makes starts TLS as
 * the client at once.
 *
 * @remarks
 * Any endpoint whose transports can start TLS works: TCP
 * ({@link TCP4ClientEndpoint}, {@link TCP6ClientEndpoint}),
 * {@link HostnameEndpoint}, UNIX sockets ({@link UNIXClientEndpoint}), and
 * the wrappers and doubles whose transports have `startTLS`. With one whose
 * transport cannot, `connect` fails with a TypeError naming the transport.
 *
 * The server's certificate is verified against Node's bundled roots (or
 * `ca`) and must carry `servername` (or `host`, which may be an IP
 * address): one of them is required. `ALPNProtocols` asks for ALPN; the
 * transport's `negotiatedProtocol` and `getPeerCertificate()` tell the
 * outcome after `handshakeCompleted`.
 *
 * Differences from Twisted: the options are Node's `tls.connect` settings
 * rather than a connection creator (`optionsForClientTLS`).
 *
 * @example
 * ```ts
 * const tcp = new TCP4ClientEndpoint(reactor, 'example.com', 443);
 * const endpoint = wrapClientTLS({ servername: 'example.com' }, tcp);
 * const protocol = await connectProtocol(endpoint, new MyProtocol());
 * ```
 *
 * @param options - The TLS client settings, as `tls.connect` takes them
 *   (`servername` or `host` required; `ca`, a client `key` and `cert`,
 *   `ALPNProtocols`, …). Their secure context is built now.
 * @param wrappedEndpoint - The endpoint to connect through.
 * @returns The TLS endpoint.
 * @throws TypeError if `servername` and `host` are both missing or the
 *   endpoint has no `connect`; Node's error for an unusable key,
 *   certificate or CA.
 * @see Twisted: twisted.internet.endpoints.wrapClientTLS
 * @since 0.1.0
 */
export function wrapClientTLS(
  options: ConnectionOptions,
  wrappedEndpoint: IStreamClientEndpoint,
): TLSWrapperClientEndpoint {
  return new TLSWrapperClientEndpoint(options, wrappedEndpoint);
}
