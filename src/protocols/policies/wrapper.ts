// ProtocolWrapper and WrappingFactory: a protocol that sits between a
// transport and the protocol it wraps, and the factory that makes them; the
// base of every policy (Twisted: twisted.protocols.policies).
// Tests: test/unit/protocols/policies-wrapping.test.ts

import { type HalfCloseableProtocol, isHalfCloseable } from '../../internet/_half-close.js';
import type { Failure } from '../../internet/failure.js';
import type {
  IAddress,
  IConnector,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
} from '../../internet/interfaces.js';
import { ClientFactory, type Factory, Protocol } from '../../internet/protocol.js';

/**
 * The factory a {@link WrappingFactory} wraps (a protocol factory); the
 * client-side notifications are passed on when it has them.
 *
 * @since 0.1.0
 */
export interface WrappedFactory extends IProtocolFactory {
  /** Told when a connection attempt starts. */
  startedConnecting?(connector: IConnector): void;
  /** Told when a connection attempt fails. */
  clientConnectionFailed?(connector: IConnector, reason: Failure): void;
  /** Told when an established connection is lost. */
  clientConnectionLost?(connector: IConnector, reason: Failure): void;
  /** Its name in log messages; the class name is used when it has none. */
  logPrefix?(): string;
}

/**
 * What a {@link ProtocolWrapper} tells its factory: that it is connected,
 * and that it has gone.
 *
 * @since 0.1.0
 */
export interface ProtocolWrapperRegistry {
  /** Called by the wrapper once its connection is made. */
  registerProtocol(protocol: ProtocolWrapper): void;
  /** Called by the wrapper when its connection is lost. */
  unregisterProtocol(protocol: ProtocolWrapper): void;
}

/**
 * The factory of a {@link ProtocolWrapper}: a factory that keeps track of
 * its wrappers.
 *
 * @since 0.1.0
 */
export type ProtocolWrapperFactory = Factory & ProtocolWrapperRegistry;

/** `"Inner (Wrapper)"`: the wrapped object's log prefix, then the wrapper's class. */
function wrappedLogPrefix(wrapper: object, wrapped: unknown): string {
  const named = wrapped as { logPrefix?: () => string } | null | undefined;
  const prefix =
    typeof named?.logPrefix === 'function'
      ? named.logPrefix()
      : ((wrapped as object | null | undefined)?.constructor?.name ?? String(wrapped));
  return `${prefix} (${wrapper.constructor.name})`;
}

/**
 * A protocol that sits between a transport and another protocol: the
 * transport sees the wrapper as its protocol, and the wrapped protocol sees
 * the wrapper as its transport.
 *
 * @remarks
 * ```
 * transport ──dataReceived──▶ ProtocolWrapper ──dataReceived──▶ wrappedProtocol
 * transport ◀──write──────── ProtocolWrapper ◀──write──────── wrappedProtocol
 * ```
 *
 * Everything is passed through unchanged: `dataReceived` and
 * `connectionLost` to the wrapped protocol; `write`, `writeSequence`,
 * `loseConnection`, `abortConnection`, `loseWriteConnection`, `getPeer`,
 * `getHost`, the producer and consumer methods and the TCP options to the
 * real transport. Subclasses override some of these methods to add a
 * policy, calling `super` to pass the event on.
 *
 * The wrapper is half-closeable exactly when the wrapped protocol is (it has
 * `readConnectionLost`): the wrapper then has `readConnectionLost`, and
 * `writeConnectionLost` if the wrapped protocol has it too, so the
 * transport treats the pair as it would treat the wrapped protocol alone.
 *
 * `makeConnection` registers the wrapper with its factory and then connects
 * the wrapped protocol to it; `connectionLost` unregisters it.
 *
 * A producer registered through the wrapper is registered as is with the
 * real transport, which pauses and resumes it for its buffer. A subclass
 * that also pauses it (or pauses reading) must not resume what the
 * transport (or the wrapped protocol) still holds paused: it registers a
 * stand-in that tracks each holder, as `ThrottlingProtocol` does.
 *
 * Differences from Twisted: the wrapper forwards the members of
 * `ITCPTransport` (and `stopConsuming`) rather than every attribute of the
 * transport; it does not copy the transport's interfaces (TypeScript has no
 * runtime interfaces); `wrappedProtocol` stays set after `connectionLost`
 * (JavaScript's collector frees reference cycles).
 *
 * @see Twisted: twisted.protocols.policies.ProtocolWrapper
 * @since 0.1.0
 */
export class ProtocolWrapper extends Protocol<ITCPTransport> implements ITCPTransport {
  /** The factory that made this wrapper; told when it connects and disconnects. */
  declare factory: ProtocolWrapperFactory;
  /** The protocol this wrapper passes events to, and whose transport it is. */
  wrappedProtocol: IProtocol;
  /** True once `loseConnection` or `abortConnection` was called through the wrapper. */
  disconnecting = false;
  /**
   * Present only when the wrapped protocol has it: passes the peer's
   * half-close on.
   */
  declare readConnectionLost?: () => void;
  /**
   * Present only when the wrapped protocol has it: passes the end of this
   * side's writing on.
   */
  declare writeConnectionLost?: () => void;

  /**
   * @param factory - The wrapping factory, told when the wrapper connects
   *   and disconnects.
   * @param wrappedProtocol - The protocol to wrap.
   */
  constructor(factory: ProtocolWrapperFactory, wrappedProtocol: IProtocol) {
    super();
    this.factory = factory;
    this.wrappedProtocol = wrappedProtocol;
    // Own properties, not methods: a transport calls readConnectionLost only
    // on protocols that have it, and closes the whole connection otherwise.
    if (isHalfCloseable(wrappedProtocol)) {
      this.readConnectionLost = () => {
        (this.wrappedProtocol as HalfCloseableProtocol).readConnectionLost();
      };
      if (typeof wrappedProtocol.writeConnectionLost === 'function') {
        this.writeConnectionLost = () => {
          (this.wrappedProtocol as HalfCloseableProtocol).writeConnectionLost?.();
        };
      }
    }
  }

  /** `"Wrapped (Wrapper)"`: the wrapped protocol's prefix, then this class's name. */
  override logPrefix(): string {
    return wrappedLogPrefix(this, this.wrappedProtocol);
  }

  /**
   * Attaches the real transport (calling this wrapper's `connectionMade`),
   * registers with the factory, then connects the wrapped protocol to this
   * wrapper.
   *
   * @param transport - The real transport.
   */
  override makeConnection(transport: ITCPTransport): void {
    super.makeConnection(transport);
    this.factory.registerProtocol(this);
    this.wrappedProtocol.makeConnection(this);
  }

  // Protocol relaying

  /** Passes received bytes to the wrapped protocol. */
  override dataReceived(data: Uint8Array): void {
    this.wrappedProtocol.dataReceived(data);
  }

  /** Unregisters from the factory, then tells the wrapped protocol. */
  override connectionLost(reason: Failure): void {
    this.factory.unregisterProtocol(this);
    this.wrappedProtocol.connectionLost(reason);
  }

  // Transport relaying

  /** Writes to the real transport. */
  write(data: Uint8Array): void {
    this.transport.write(data);
  }

  /** Writes the chunks to the real transport. */
  writeSequence(data: Iterable<Uint8Array>): void {
    this.transport.writeSequence(data);
  }

  /** Sets `disconnecting` and closes the real transport once it has flushed. */
  loseConnection(): void {
    this.disconnecting = true;
    this.transport.loseConnection();
  }

  /** Sets `disconnecting` and closes the real transport at once. */
  abortConnection(): void {
    this.disconnecting = true;
    this.transport.abortConnection();
  }

  /** Half-closes the real transport. */
  loseWriteConnection(): void {
    this.transport.loseWriteConnection();
  }

  /** The real transport's peer address. */
  getPeer(): IAddress {
    return this.transport.getPeer();
  }

  /** The real transport's host address. */
  getHost(): IAddress {
    return this.transport.getHost();
  }

  /** Registers `producer` with the real transport. */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    this.transport.registerProducer(producer, streaming);
  }

  /** Unregisters the producer from the real transport. */
  unregisterProducer(): void {
    this.transport.unregisterProducer();
  }

  /**
   * Calls the real transport's `stopConsuming`.
   *
   * @throws TypeError if the real transport has no `stopConsuming`.
   */
  stopConsuming(): void {
    const transport = this.transport as ITCPTransport & { stopConsuming?: () => void };
    if (typeof transport.stopConsuming !== 'function') {
      throw new TypeError(`${String(transport)} has no stopConsuming`);
    }
    transport.stopConsuming();
  }

  /** Pauses the real transport's reading. */
  pauseProducing(): void {
    this.transport.pauseProducing();
  }

  /** Resumes the real transport's reading. */
  resumeProducing(): void {
    this.transport.resumeProducing();
  }

  /** Stops the real transport's reading for good. */
  stopProducing(): void {
    this.transport.stopProducing();
  }

  /** The real transport's setting. */
  getTcpNoDelay(): boolean {
    return this.transport.getTcpNoDelay();
  }

  /** Changes the real transport's setting. */
  setTcpNoDelay(enabled: boolean): void {
    this.transport.setTcpNoDelay(enabled);
  }

  /** The real transport's setting. */
  getTcpKeepAlive(): boolean {
    return this.transport.getTcpKeepAlive();
  }

  /** Changes the real transport's setting. */
  setTcpKeepAlive(enabled: boolean): void {
    this.transport.setTcpKeepAlive(enabled);
  }
}

/**
 * A factory that wraps another factory: each protocol the wrapped factory
 * builds is wrapped in a {@link ProtocolWrapper}, and the live wrappers are
 * kept in {@link WrappingFactory.protocols}.
 *
 * @remarks
 * `doStart`, `doStop`, `startedConnecting`, `clientConnectionFailed` and
 * `clientConnectionLost` are passed to the wrapped factory (the last three
 * when it has them), so a WrappingFactory can stand in for a server or a
 * client factory. When the wrapped factory refuses a connection (its
 * `buildProtocol` returns `null`), so does the WrappingFactory.
 *
 * To wrap in a subclass of ProtocolWrapper, override
 * {@link WrappingFactory.wrapProtocol} (Twisted sets the `protocol` class
 * attribute instead; here `protocol` keeps its meaning of a no-argument
 * protocol class).
 *
 * @example
 * ```ts
 * class Counting extends WrappingFactory {
 *   override wrapProtocol(wrapped: IProtocol) { return new CountingWrapper(this, wrapped); }
 * }
 * reactor.listenTCP(8000, new Counting(Factory.forProtocol(Echo)));
 * ```
 *
 * @typeParam W - The wrappers this factory makes.
 * @see Twisted: twisted.protocols.policies.WrappingFactory
 * @since 0.1.0
 */
export class WrappingFactory<W extends ProtocolWrapper = ProtocolWrapper>
  extends ClientFactory<W>
  implements ProtocolWrapperRegistry
{
  /** The factory whose protocols are wrapped. */
  readonly wrappedFactory: WrappedFactory;
  /** The wrappers whose connections are open: added on connect, removed on loss. */
  readonly protocols: Set<W> = new Set();

  /**
   * @param wrappedFactory - The factory whose protocols are wrapped.
   */
  constructor(wrappedFactory: WrappedFactory) {
    super();
    this.wrappedFactory = wrappedFactory;
  }

  /** `"Wrapped (WrappingFactory)"`: the wrapped factory's prefix, then this class's name. */
  override logPrefix(): string {
    return wrappedLogPrefix(this, this.wrappedFactory);
  }

  /** Starts the wrapped factory, then this one. */
  override doStart(): void {
    this.wrappedFactory.doStart();
    super.doStart();
  }

  /** Stops the wrapped factory, then this one. */
  override doStop(): void {
    this.wrappedFactory.doStop();
    super.doStop();
  }

  /** Passes the notice to the wrapped factory, if it takes it. */
  override startedConnecting(connector: IConnector): void {
    this.wrappedFactory.startedConnecting?.(connector);
  }

  /** Passes the notice to the wrapped factory, if it takes it. */
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.wrappedFactory.clientConnectionFailed?.(connector, reason);
  }

  /** Passes the notice to the wrapped factory, if it takes it. */
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    this.wrappedFactory.clientConnectionLost?.(connector, reason);
  }

  /**
   * Builds the wrapped factory's protocol for `addr` and wraps it.
   *
   * @param addr - The address of the other end.
   * @returns The wrapper, or `null` if the wrapped factory refused.
   */
  override buildProtocol(addr: IAddress): W | null {
    const wrapped = this.wrappedFactory.buildProtocol(addr);
    return wrapped === null ? null : this.wrapProtocol(wrapped, addr);
  }

  /**
   * Wraps one protocol built by the wrapped factory. Override to wrap in a
   * subclass of {@link ProtocolWrapper}; a factory whose `W` is a subclass
   * must.
   *
   * @param wrappedProtocol - The protocol the wrapped factory built.
   * @param _addr - The address of the other end.
   * @returns A new wrapper around `wrappedProtocol`.
   */
  wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): W {
    return new ProtocolWrapper(this, wrappedProtocol) as W;
  }

  /** Adds a connected wrapper to {@link WrappingFactory.protocols}. */
  registerProtocol(protocol: W): void {
    this.protocols.add(protocol);
  }

  /** Removes a wrapper whose connection is lost from {@link WrappingFactory.protocols}. */
  unregisterProtocol(protocol: W): void {
    this.protocols.delete(protocol);
  }
}
