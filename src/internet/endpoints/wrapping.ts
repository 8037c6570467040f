// The factory and protocol a client endpoint hands the reactor in place of
// the user's: they attach the user's protocol and fire the endpoint's
// Deferred with it (Twisted: twisted.internet.endpoints._WrappingFactory).
// Tests: test/unit/internet/endpoints.test.ts, test/unit/internet/starttls.test.ts

import { type HalfCloseableProtocol, isHalfCloseable } from '../_half-close.js';
import { Deferred, fail } from '../defer.js';
import { ConnectingCancelledError, NoProtocol } from '../error.js';
import type { Failure } from '../failure.js';
import type {
  IAddress,
  IConnector,
  IHalfCloseableProtocol,
  IHandshakeListener,
  IProtocol,
  IProtocolFactory,
  ITransport,
} from '../interfaces.js';

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

  /** A TLS handshake begun by `startTLS` completed: told to the protocol if it listens. */
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
    return `<WrappingProtocol of ${this.logPrefix()}>`;
  }
}

/**
 * A {@link WrappingProtocol} for a half-closeable protocol: transports see
 * it as half-closeable only when the protocol it wraps is.
 */
class HalfCloseableWrappingProtocol extends WrappingProtocol implements IHalfCloseableProtocol {
  readConnectionLost(): void {
    (this.wrappedProtocol as HalfCloseableProtocol).readConnectionLost();
  }

  writeConnectionLost(): void {
    (this.wrappedProtocol as HalfCloseableProtocol).writeConnectionLost?.();
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
export function connectWrapped(
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
