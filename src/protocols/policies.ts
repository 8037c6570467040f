// Resource-limiting policies: wrappers that sit between a transport and a
// protocol to count, throttle, limit, time out or log its connections, and
// TimeoutMixin, an idle timer a protocol holds (Twisted:
// twisted.protocols.policies).
// Tests: test/unit/protocols/policies-wrapping.test.ts,
// policies-throttling.test.ts, policies-timeout.test.ts,
// policies-limits.test.ts, policies-logging.test.ts;
// test/integration/policies.test.ts

import { closeSync, openSync, writeSync } from 'node:fs';
import { inspect } from 'node:util';
import type { Failure } from '../internet/failure.js';
import type {
  IAddress,
  IConnector,
  IDelayedCall,
  IHalfCloseableProtocol,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  IReactorTime,
  ITCPTransport,
} from '../internet/interfaces.js';
import { ClientFactory, type Factory, Protocol, type ProtocolClass } from '../internet/protocol.js';
import { reactor as defaultReactor } from '../internet/reactor.js';
import { LoopingCall } from '../internet/task.js';
import { Logger } from '../logger/logger.js';

const log = new Logger('torsion.protocols.policies');

// ---------------------------------------------------------------------------
// Wrapping

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
 * The wrapper is half-closeable exactly when the wrapped protocol is: it
 * has `readConnectionLost` (and `writeConnectionLost`) only if the wrapped
 * protocol has them, so the transport treats the pair as it would treat the
 * wrapped protocol alone.
 *
 * `makeConnection` registers the wrapper with its factory and then connects
 * the wrapped protocol to it; `connectionLost` unregisters it.
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
    const halfCloseable = wrappedProtocol as Partial<IHalfCloseableProtocol>;
    if (typeof halfCloseable.readConnectionLost === 'function') {
      this.readConnectionLost = () => {
        (this.wrappedProtocol as IProtocol & IHalfCloseableProtocol).readConnectionLost();
      };
    }
    if (typeof halfCloseable.writeConnectionLost === 'function') {
      this.writeConnectionLost = () => {
        (this.wrappedProtocol as IProtocol & IHalfCloseableProtocol).writeConnectionLost();
      };
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

// ---------------------------------------------------------------------------
// Throttling

/**
 * The wrapper of {@link ThrottlingFactory}: counts the bytes each way, and
 * pauses or resumes reading and the registered producer when the factory
 * says so.
 *
 * @see Twisted: twisted.protocols.policies.ThrottlingProtocol
 * @since 0.1.0
 */
export class ThrottlingProtocol extends ProtocolWrapper {
  declare factory: ThrottlingFactory;
  /** The producer registered through this wrapper, if any. */
  producer: IPushProducer | IPullProducer | undefined = undefined;
  // Whether `producer` is a push producer: only those can be paused.
  #streaming = false;

  /**
   * @param factory - The throttling factory that counts the bytes.
   * @param wrappedProtocol - The protocol to wrap.
   */
  constructor(factory: ThrottlingFactory, wrappedProtocol: IProtocol) {
    super(factory, wrappedProtocol);
  }

  /** Counts the bytes as written, then writes them. */
  override write(data: Uint8Array): void {
    this.factory.registerWritten(data.byteLength);
    super.write(data);
  }

  /** Counts the bytes as written, then writes them. */
  override writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = [...data];
    let length = 0;
    for (const chunk of chunks) length += chunk.byteLength;
    this.factory.registerWritten(length);
    super.writeSequence(chunks);
  }

  /** Counts the bytes as read, then passes them on. */
  override dataReceived(data: Uint8Array): void {
    this.factory.registerRead(data.byteLength);
    super.dataReceived(data);
  }

  /** Registers `producer` with the real transport and remembers it, to throttle it. */
  override registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    super.registerProducer(producer, streaming);
    this.producer = producer;
    this.#streaming = streaming;
  }

  /** Unregisters and forgets the producer. */
  override unregisterProducer(): void {
    this.producer = undefined;
    this.#streaming = false;
    super.unregisterProducer();
  }

  /** Pauses the real transport's reading. */
  throttleReads(): void {
    this.transport.pauseProducing();
  }

  /** Resumes the real transport's reading. */
  unthrottleReads(): void {
    this.transport.resumeProducing();
  }

  /** Pauses the registered push producer, if there is one. */
  throttleWrites(): void {
    if (this.producer !== undefined && this.#streaming) {
      (this.producer as IPushProducer).pauseProducing();
    }
  }

  /** Resumes the registered push producer, if there is one. */
  unthrottleWrites(): void {
    if (this.producer !== undefined && this.#streaming) {
      (this.producer as IPushProducer).resumeProducing();
    }
  }
}

/** Options of {@link ThrottlingFactory}. */
export interface ThrottlingFactoryOptions {
  /**
   * Most connections open at once; more are refused.
   * @defaultValue no limit
   */
  maxConnectionCount?: number | undefined;
  /**
   * Most bytes per second read over all connections.
   * @defaultValue no limit
   */
  readLimit?: number | undefined;
  /**
   * Most bytes per second written over all connections; only connections
   * with a registered push producer can be slowed down.
   * @defaultValue no limit
   */
  writeLimit?: number | undefined;
  /**
   * Checks the bandwidth every second and schedules the pauses; pass a
   * `Clock` in tests.
   * @defaultValue the default `reactor`
   */
  clock?: IReactorTime | undefined;
}

function checkLimit(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(value > 0)) {
    throw new RangeError(`ThrottlingFactory ${name} must be > 0 bytes per second, got ${value}`);
  }
  return value;
}

/**
 * Limits the bandwidth and the number of connections of the factory it
 * wraps.
 *
 * @remarks
 * Every second (on `clock`) the factory compares the bytes read and written
 * in that second, over all its connections, with `readLimit` and
 * `writeLimit`. Over the read limit, it pauses reading on every connection
 * for as long as the excess would take at the limit (`read / readLimit - 1`
 * seconds); over the write limit, it pauses the registered push producers
 * likewise. A connection without a producer is never slowed down in
 * writing. The checks run while at least one connection is open.
 *
 * Beyond `maxConnectionCount` open connections, `buildProtocol` returns
 * `null` and the connection is refused.
 *
 * Differences from Twisted: the clock is an option rather than an
 * overridable `callLater`; the checks are one {@link LoopingCall} each; a
 * new throttle cancels a pending unthrottle rather than letting it end the
 * pause early; an error pausing one transport is logged and does not stop
 * the others.
 *
 * @example
 * ```ts
 * const limited = new ThrottlingFactory(Factory.forProtocol(Upload), {
 *   maxConnectionCount: 100,
 *   readLimit: 1_000_000,
 *   clock: reactor,
 * });
 * reactor.listenTCP(8000, limited);
 * ```
 *
 * @see Twisted: twisted.protocols.policies.ThrottlingFactory
 * @since 0.1.0
 */
export class ThrottlingFactory extends WrappingFactory<ThrottlingProtocol> {
  /** Connections built and not yet lost. */
  connectionCount = 0;
  /** Most connections open at once. */
  maxConnectionCount: number;
  /** Most bytes per second read, or `undefined` for no limit. */
  readLimit: number | undefined;
  /** Most bytes per second written, or `undefined` for no limit. */
  writeLimit: number | undefined;
  /** Bytes read since the last check. */
  readThisSecond = 0;
  /** Bytes written since the last check. */
  writtenThisSecond = 0;
  /** Schedules the checks and the pauses. */
  clock: IReactorTime;
  // Both loops run exactly while connectionCount > 0 (and their limit is set).
  #readLoop: LoopingCall<[]> | undefined;
  #writeLoop: LoopingCall<[]> | undefined;
  #unthrottleReadsCall: IDelayedCall | undefined;
  #unthrottleWritesCall: IDelayedCall | undefined;

  /**
   * @param wrappedFactory - The factory whose connections are limited.
   * @param options - The limits and the clock; see {@link ThrottlingFactoryOptions}.
   * @throws RangeError if a limit is not a positive number.
   */
  constructor(wrappedFactory: WrappedFactory, options: ThrottlingFactoryOptions = {}) {
    super(wrappedFactory);
    const max = options.maxConnectionCount ?? Number.POSITIVE_INFINITY;
    if (!(max >= 0)) {
      throw new RangeError(`ThrottlingFactory maxConnectionCount must be >= 0, got ${max}`);
    }
    this.maxConnectionCount = max;
    this.readLimit = checkLimit('readLimit', options.readLimit);
    this.writeLimit = checkLimit('writeLimit', options.writeLimit);
    this.clock = options.clock ?? defaultReactor;
  }

  /** Adds `length` bytes to the bytes written this second. */
  registerWritten(length: number): void {
    this.writtenThisSecond += length;
  }

  /** Adds `length` bytes to the bytes read this second. */
  registerRead(length: number): void {
    this.readThisSecond += length;
  }

  /**
   * Throttles reads if more than `readLimit` bytes were read since the last
   * check, then starts counting again. Runs every second.
   */
  checkReadBandwidth(): void {
    const limit = this.readLimit;
    if (limit !== undefined && this.readThisSecond > limit) {
      this.throttleReads();
      const throttleTime = this.readThisSecond / limit - 1;
      this.#unthrottleReadsCall?.cancel();
      this.#unthrottleReadsCall = this.clock.callLater(throttleTime, () => this.unthrottleReads());
    }
    this.readThisSecond = 0;
  }

  /**
   * Throttles writes if more than `writeLimit` bytes were written since the
   * last check, then starts counting again. Runs every second.
   */
  checkWriteBandwidth(): void {
    const limit = this.writeLimit;
    if (limit !== undefined && this.writtenThisSecond > limit) {
      this.throttleWrites();
      const throttleTime = this.writtenThisSecond / limit - 1;
      this.#unthrottleWritesCall?.cancel();
      this.#unthrottleWritesCall = this.clock.callLater(throttleTime, () =>
        this.unthrottleWrites(),
      );
    }
    this.writtenThisSecond = 0;
  }

  /** Pauses reading on every connection. */
  throttleReads(): void {
    if (this.noisy) log.info('Throttling reads on {factory}', { factory: this.logPrefix() });
    this.#each('throttleReads', (p) => p.throttleReads());
  }

  /** Resumes reading on every connection. */
  unthrottleReads(): void {
    this.#unthrottleReadsCall = undefined;
    if (this.noisy) {
      log.info('Stopped throttling reads on {factory}', { factory: this.logPrefix() });
    }
    this.#each('unthrottleReads', (p) => p.unthrottleReads());
  }

  /** Pauses the producer of every connection that has one. */
  throttleWrites(): void {
    if (this.noisy) log.info('Throttling writes on {factory}', { factory: this.logPrefix() });
    this.#each('throttleWrites', (p) => p.throttleWrites());
  }

  /** Resumes the producer of every connection that has one. */
  unthrottleWrites(): void {
    this.#unthrottleWritesCall = undefined;
    if (this.noisy) {
      log.info('Stopped throttling writes on {factory}', { factory: this.logPrefix() });
    }
    this.#each('unthrottleWrites', (p) => p.unthrottleWrites());
  }

  /**
   * Builds a throttled connection, or refuses one beyond
   * `maxConnectionCount`; the first connection starts the checks.
   *
   * @param addr - The address of the other end.
   * @returns The wrapper, or `null` if the connection is refused.
   */
  override buildProtocol(addr: IAddress): ThrottlingProtocol | null {
    if (this.connectionCount >= this.maxConnectionCount) {
      if (this.noisy) {
        log.info('Max connection count ({max}) reached on {factory}', {
          max: this.maxConnectionCount,
          factory: this.logPrefix(),
        });
      }
      return null;
    }
    const protocol = super.buildProtocol(addr);
    if (protocol === null) return null;
    this.connectionCount++;
    if (this.connectionCount === 1) this.#startChecks();
    return protocol;
  }

  /** Wraps in a {@link ThrottlingProtocol}. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): ThrottlingProtocol {
    return new ThrottlingProtocol(this, wrappedProtocol);
  }

  /** Forgets a lost connection; the last one stops the checks and pending unthrottles. */
  override unregisterProtocol(protocol: ThrottlingProtocol): void {
    super.unregisterProtocol(protocol);
    this.connectionCount--;
    if (this.connectionCount === 0) this.#stopChecks();
  }

  #startChecks(): void {
    if (this.readLimit !== undefined) {
      this.#readLoop = this.#loop(() => this.checkReadBandwidth());
    }
    if (this.writeLimit !== undefined) {
      this.#writeLoop = this.#loop(() => this.checkWriteBandwidth());
    }
  }

  #loop(check: () => void): LoopingCall<[]> {
    const loop = new LoopingCall(this.clock, check);
    loop.start(1).addErrback((failure) => {
      log.failure('Bandwidth check of {factory} failed', failure, { factory: this.logPrefix() });
    });
    return loop;
  }

  #stopChecks(): void {
    for (const loop of [this.#readLoop, this.#writeLoop]) {
      if (loop?.running) loop.stop();
    }
    this.#readLoop = this.#writeLoop = undefined;
    for (const call of [this.#unthrottleReadsCall, this.#unthrottleWritesCall]) {
      if (call?.active()) call.cancel();
    }
    this.#unthrottleReadsCall = this.#unthrottleWritesCall = undefined;
  }

  #each(what: string, f: (protocol: ThrottlingProtocol) => void): void {
    for (const protocol of [...this.protocols]) {
      try {
        f(protocol);
      } catch (error) {
        log.failure('{what} failed on {protocol}', error, {
          what,
          protocol: protocol.logPrefix(),
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Connection limits

/** Options of {@link LimitConnectionsByPeer}. */
export interface LimitConnectionsByPeerOptions {
  /** Most connections open at once from one peer host. @defaultValue 5 */
  maxConnectionsPerPeer?: number | undefined;
}

/** The host part of an address (its `host`), or the whole address for those without one. */
function peerHostOf(addr: IAddress): string {
  const host = (addr as { host?: unknown }).host;
  return typeof host === 'string' ? host : String(addr);
}

/**
 * Limits how many connections one peer host may have open at once.
 *
 * @remarks
 * Connections are counted by the peer's host (an `IPv4Address`'s or
 * `IPv6Address`'s `host`; other addresses by their whole text). A peer
 * with `maxConnectionsPerPeer` connections open is refused more until one
 * is lost.
 *
 * Differences from Twisted: the count is kept from construction (Twisted
 * clears it in `startFactory`), is keyed by the address's `host` (Twisted's
 * code indexes a tuple), and a lost connection also leaves
 * {@link WrappingFactory.protocols}.
 *
 * @see Twisted: twisted.protocols.policies.LimitConnectionsByPeer
 * @since 0.1.0
 */
export class LimitConnectionsByPeer extends WrappingFactory {
  /** Most connections open at once from one peer host. */
  maxConnectionsPerPeer: number;
  /** Open connections per peer host; hosts with none are absent. */
  readonly peerConnections: Map<string, number> = new Map();
  // The host each counted wrapper was counted under.
  readonly #hostOf = new WeakMap<ProtocolWrapper, string>();

  /**
   * @param wrappedFactory - The factory whose connections are limited.
   * @param options - See {@link LimitConnectionsByPeerOptions}.
   */
  constructor(wrappedFactory: WrappedFactory, options: LimitConnectionsByPeerOptions = {}) {
    super(wrappedFactory);
    this.maxConnectionsPerPeer = options.maxConnectionsPerPeer ?? 5;
  }

  /**
   * Builds a connection, or refuses one from a peer host that has
   * `maxConnectionsPerPeer` open.
   *
   * @param addr - The peer's address.
   * @returns The wrapper, or `null` if the connection is refused.
   */
  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    const peerHost = peerHostOf(addr);
    const count = this.peerConnections.get(peerHost) ?? 0;
    if (count >= this.maxConnectionsPerPeer) return null;
    const protocol = super.buildProtocol(addr);
    if (protocol === null) return null;
    this.peerConnections.set(peerHost, count + 1);
    this.#hostOf.set(protocol, peerHost);
    return protocol;
  }

  /** Forgets a lost connection and takes it off its peer's count. */
  override unregisterProtocol(protocol: ProtocolWrapper): void {
    super.unregisterProtocol(protocol);
    const peerHost = this.#hostOf.get(protocol);
    if (peerHost === undefined) return;
    this.#hostOf.delete(protocol);
    const count = (this.peerConnections.get(peerHost) ?? 1) - 1;
    if (count <= 0) this.peerConnections.delete(peerHost);
    else this.peerConnections.set(peerHost, count);
  }
}

/** Options of {@link LimitTotalConnectionsFactory}. */
export interface LimitTotalConnectionsFactoryOptions {
  /** Most connections open at once. @defaultValue no limit */
  connectionLimit?: number | undefined;
  /**
   * The protocol for connections beyond the limit (to say "busy", say);
   * without one they are refused.
   * @defaultValue none
   */
  overflowProtocol?: ProtocolClass | undefined;
}

/**
 * Limits how many connections are open at once.
 *
 * @remarks
 * Below `connectionLimit`, connections get the wrapped factory's protocol.
 * Beyond it, they get a new `overflowProtocol` (whose `factory` is this
 * factory), or are refused if there is none. Overflow connections count
 * too.
 *
 * Differences from Twisted: this factory wraps a factory, as the other
 * policies do (Twisted's is a `ServerFactory` with a `protocol` attribute).
 *
 * @see Twisted: twisted.protocols.policies.LimitTotalConnectionsFactory
 * @since 0.1.0
 */
export class LimitTotalConnectionsFactory extends WrappingFactory {
  /** Connections built and not yet lost, overflow ones included. */
  connectionCount = 0;
  /** Most connections open at once, or `undefined` for no limit. */
  connectionLimit: number | undefined;
  /** The protocol for connections beyond the limit, or `undefined` to refuse them. */
  overflowProtocol: ProtocolClass | undefined;

  /**
   * @param wrappedFactory - The factory whose connections are limited.
   * @param options - See {@link LimitTotalConnectionsFactoryOptions}.
   */
  constructor(wrappedFactory: WrappedFactory, options: LimitTotalConnectionsFactoryOptions = {}) {
    super(wrappedFactory);
    this.connectionLimit = options.connectionLimit;
    this.overflowProtocol = options.overflowProtocol;
  }

  /**
   * Builds the wrapped factory's protocol below the limit, the overflow
   * protocol beyond it, or refuses the connection.
   *
   * @param addr - The address of the other end.
   * @returns The wrapper, or `null` if the connection is refused.
   */
  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    let wrapped: IProtocol | null;
    if (this.connectionLimit === undefined || this.connectionCount < this.connectionLimit) {
      wrapped = this.wrappedFactory.buildProtocol(addr);
    } else if (this.overflowProtocol === undefined) {
      return null;
    } else {
      wrapped = new this.overflowProtocol();
      (wrapped as { factory?: unknown }).factory = this;
    }
    if (wrapped === null) return null;
    this.connectionCount++;
    return this.wrapProtocol(wrapped, addr);
  }

  /** Forgets a lost connection and takes it off the count. */
  override unregisterProtocol(protocol: ProtocolWrapper): void {
    super.unregisterProtocol(protocol);
    this.connectionCount--;
  }
}

// ---------------------------------------------------------------------------
// Timeouts

/**
 * What a {@link TimeoutMixin} acts for: usually the protocol that holds it.
 *
 * @since 0.1.0
 */
export interface TimeoutOwner {
  /** Closed on timeout when neither `onTimeout` nor `timeoutConnection` is given. */
  readonly transport?:
    | {
        /** Closes the connection once what is buffered has been sent. */
        loseConnection(): void;
      }
    | undefined;
  /** Called on timeout, when present and no `onTimeout` option is given. */
  timeoutConnection?(): void;
}

/** Options of {@link TimeoutMixin}. */
export interface TimeoutMixinOptions {
  /** Schedules the timeout; pass a `Clock` in tests. @defaultValue the default `reactor` */
  clock?: IReactorTime | undefined;
  /**
   * The initial value of {@link TimeoutMixin.timeOut}; no timer starts until
   * {@link TimeoutMixin.setTimeout} is called.
   * @defaultValue null
   */
  timeOut?: number | null | undefined;
  /**
   * Called on timeout, instead of the owner's `timeoutConnection` or closing
   * its transport.
   */
  onTimeout?: (() => void) | undefined;
}

/**
 * A single idle timeout for a connection, held by the protocol it serves.
 *
 * @remarks
 * Start it with {@link TimeoutMixin.setTimeout}, push it back with
 * {@link TimeoutMixin.resetTimeout} whenever something meaningful happens
 * (typically on each `dataReceived`), and stop it with `setTimeout(null)`
 * (typically in `connectionLost`). When it expires,
 * {@link TimeoutMixin.timeoutConnection} runs: it calls the `onTimeout`
 * option if given, else the owner's own `timeoutConnection()` method if it
 * has one, else closes the owner's transport with `loseConnection()`.
 *
 * Differences from Twisted: a mixin becomes a helper object the protocol
 * holds (composition); the clock is an option rather than an overridable
 * `callLater`; "no timeout" is `null` (Twisted's `None`); `setTimeout` and
 * `resetTimeout` start a fresh timer when the previous one was cancelled
 * from elsewhere, rather than raising.
 *
 * @example
 * ```ts
 * class Idle extends Protocol {
 *   readonly timeout = new TimeoutMixin(this, { clock: reactor, timeOut: 30 });
 *   override connectionMade() { this.timeout.setTimeout(this.timeout.timeOut); }
 *   override dataReceived(data: Uint8Array) { this.timeout.resetTimeout(); }
 *   override connectionLost() { this.timeout.setTimeout(null); }
 *   timeoutConnection() { this.transport.write(Buffer.from('bye\r\n')); this.transport.loseConnection(); }
 * }
 * ```
 *
 * @see Twisted: twisted.protocols.policies.TimeoutMixin
 * @since 0.1.0
 */
export class TimeoutMixin {
  /** The timeout period in seconds, or `null` when there is no timeout. */
  timeOut: number | null;
  /** Schedules the timeout. */
  clock: IReactorTime;
  readonly #owner: TimeoutOwner | undefined;
  readonly #onTimeout: (() => void) | undefined;
  // The pending timeout; null when none is set or once it has fired.
  #timeoutCall: IDelayedCall | null = null;
  // True while the owner's timeoutConnection runs, so that one which calls
  // back into this helper gets the default instead of recursing.
  #inOwner = false;

  /**
   * @param owner - The protocol the timeout serves: its `timeoutConnection`
   *   is called on timeout, or its `transport` closed. May be omitted when
   *   `onTimeout` is given.
   * @param options - See {@link TimeoutMixinOptions}.
   */
  constructor(owner?: TimeoutOwner, options: TimeoutMixinOptions = {}) {
    this.#owner = owner;
    this.#onTimeout = options.onTimeout;
    this.clock = options.clock ?? defaultReactor;
    this.timeOut = options.timeOut ?? null;
  }

  /** The pending timeout call, or `null` when none is pending. */
  get timeoutCall(): IDelayedCall | null {
    return this.#timeoutCall;
  }

  /**
   * Restarts the countdown from now: "they're still there".
   *
   * @remarks
   * Does nothing when no timeout is set or it has already fired.
   */
  resetTimeout(): void {
    const call = this.#timeoutCall;
    if (call === null || this.timeOut === null) return;
    if (call.active()) call.reset(this.timeOut);
    else this.#timeoutCall = this.#schedule(this.timeOut);
  }

  /**
   * Changes the timeout period, restarting the countdown from now, or
   * cancels the timeout.
   *
   * @param period - Seconds (float) until the timeout, or `null` (or
   *   `undefined`, Python's `None`) to cancel it.
   * @returns The previous period, or `null` if there was none.
   * @throws RangeError if `period` is negative or NaN.
   */
  setTimeout(period: number | null | undefined): number | null {
    period ??= null;
    if (period !== null && !(period >= 0)) {
      throw new RangeError(`timeout period must be >= 0 seconds or null, got ${period}`);
    }
    const previous = this.timeOut;
    this.timeOut = period;
    const call = this.#timeoutCall;
    if (period === null) {
      // It may have been cancelled elsewhere (at reactor shutdown, say).
      if (call?.active()) call.cancel();
      this.#timeoutCall = null;
    } else if (call?.active()) {
      call.reset(period);
    } else {
      this.#timeoutCall = this.#schedule(period);
    }
    return previous;
  }

  /**
   * Called when the timeout expires: calls `onTimeout`, else the owner's
   * `timeoutConnection`, else closes the owner's transport.
   */
  timeoutConnection(): void {
    if (this.#onTimeout !== undefined) {
      this.#onTimeout();
      return;
    }
    const owner = this.#owner;
    if (owner !== undefined && typeof owner.timeoutConnection === 'function' && !this.#inOwner) {
      this.#inOwner = true;
      try {
        owner.timeoutConnection();
      } finally {
        this.#inOwner = false;
      }
      return;
    }
    owner?.transport?.loseConnection();
  }

  #schedule(period: number): IDelayedCall {
    return this.clock.callLater(period, () => {
      this.#timeoutCall = null;
      this.timeoutConnection();
    });
  }
}

/**
 * The wrapper of {@link TimeoutFactory}: closes the connection when nothing
 * has been read or written for `timeoutPeriod` seconds.
 *
 * @remarks
 * The countdown starts when the wrapper is built, is restarted by every
 * `dataReceived`, `write` and `writeSequence`, and is cancelled by
 * `connectionLost`. On timeout {@link TimeoutProtocol.timeoutFunc} runs,
 * which calls `loseConnection()`; override it to do something else.
 *
 * @see Twisted: twisted.protocols.policies.TimeoutProtocol
 * @since 0.1.0
 */
export class TimeoutProtocol extends ProtocolWrapper {
  declare factory: TimeoutFactory;
  readonly #timeout: TimeoutMixin;

  /**
   * @param factory - The timeout factory; its `clock` schedules the timeout.
   * @param wrappedProtocol - The protocol to wrap.
   * @param timeoutPeriod - Seconds of idleness before the connection is
   *   closed, or `null` for no timeout.
   */
  constructor(factory: TimeoutFactory, wrappedProtocol: IProtocol, timeoutPeriod: number | null) {
    super(factory, wrappedProtocol);
    this.#timeout = new TimeoutMixin(this, {
      clock: factory.clock,
      onTimeout: () => this.timeoutFunc(),
    });
    this.setTimeout(timeoutPeriod);
  }

  /** The timeout period in seconds, or `null` when there is no timeout. */
  get timeoutPeriod(): number | null {
    return this.#timeout.timeOut;
  }

  /** The pending timeout call, or `null` when none is pending. */
  get timeoutCall(): IDelayedCall | null {
    return this.#timeout.timeoutCall;
  }

  /**
   * Cancels any pending timeout and, given a period, starts a new one.
   *
   * @param timeoutPeriod - Seconds (float), or `null` (the default) for no timeout.
   */
  setTimeout(timeoutPeriod: number | null = null): void {
    this.cancelTimeout();
    this.#timeout.setTimeout(timeoutPeriod);
  }

  /** Cancels the pending timeout, if any; the period becomes `null`. */
  cancelTimeout(): void {
    this.#timeout.setTimeout(null);
  }

  /** Restarts the countdown, usually because something was read or written. */
  resetTimeout(): void {
    this.#timeout.resetTimeout();
  }

  /** Restarts the countdown, then writes. */
  override write(data: Uint8Array): void {
    this.resetTimeout();
    super.write(data);
  }

  /** Restarts the countdown, then writes. */
  override writeSequence(data: Iterable<Uint8Array>): void {
    this.resetTimeout();
    super.writeSequence(data);
  }

  /** Restarts the countdown, then passes the bytes on. */
  override dataReceived(data: Uint8Array): void {
    this.resetTimeout();
    super.dataReceived(data);
  }

  /** Cancels the timeout, then passes the loss on. */
  override connectionLost(reason: Failure): void {
    this.cancelTimeout();
    super.connectionLost(reason);
  }

  /** Called on timeout: closes the connection. Override to do something else. */
  timeoutFunc(): void {
    this.loseConnection();
  }
}

/** Options of {@link TimeoutFactory}. */
export interface TimeoutFactoryOptions {
  /**
   * Seconds of idleness before a connection is closed, or `null` for none.
   * @defaultValue 1800 (30 minutes)
   */
  timeoutPeriod?: number | null | undefined;
  /** Schedules the timeouts; pass a `Clock` in tests. @defaultValue the default `reactor` */
  clock?: IReactorTime | undefined;
}

/**
 * Closes the connections of the factory it wraps when they have been idle
 * (nothing read, nothing written) for `timeoutPeriod` seconds.
 *
 * @example
 * ```ts
 * reactor.listenTCP(8000, new TimeoutFactory(Factory.forProtocol(Chat), { timeoutPeriod: 300 }));
 * ```
 *
 * @see Twisted: twisted.protocols.policies.TimeoutFactory
 * @since 0.1.0
 */
export class TimeoutFactory extends WrappingFactory<TimeoutProtocol> {
  /** Seconds of idleness before a connection is closed, or `null` for none. */
  timeoutPeriod: number | null;
  /** Schedules the timeouts. */
  clock: IReactorTime;

  /**
   * @param wrappedFactory - The factory whose connections time out.
   * @param options - See {@link TimeoutFactoryOptions}.
   */
  constructor(wrappedFactory: WrappedFactory, options: TimeoutFactoryOptions = {}) {
    super(wrappedFactory);
    this.timeoutPeriod = options.timeoutPeriod === undefined ? 30 * 60 : options.timeoutPeriod;
    this.clock = options.clock ?? defaultReactor;
  }

  /** Wraps in a {@link TimeoutProtocol} with this factory's period. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): TimeoutProtocol {
    return new TimeoutProtocol(this, wrappedProtocol, this.timeoutPeriod);
  }
}

// ---------------------------------------------------------------------------
// Logging traffic

/**
 * Python's `repr` of a bytes object (`b'ab\r\n'`), so that traffic logs
 * read as Twisted's do.
 */
function reprBytes(data: Uint8Array): string {
  let single = false;
  let double = false;
  for (const byte of data) {
    if (byte === 0x27) single = true;
    else if (byte === 0x22) double = true;
  }
  const quote = single && !double ? 0x22 : 0x27;
  const parts: string[] = ['b', String.fromCharCode(quote)];
  for (const byte of data) {
    if (byte === quote || byte === 0x5c) parts.push(`\\${String.fromCharCode(byte)}`);
    else if (byte === 0x09) parts.push('\\t');
    else if (byte === 0x0a) parts.push('\\n');
    else if (byte === 0x0d) parts.push('\\r');
    else if (byte < 0x20 || byte >= 0x7f) parts.push(`\\x${byte.toString(16).padStart(2, '0')}`);
    else parts.push(String.fromCharCode(byte));
  }
  parts.push(String.fromCharCode(quote));
  return parts.join('');
}

/**
 * Where a {@link TrafficLoggingProtocol} writes its log: a file opened for
 * writing, or anything that takes text.
 *
 * @since 0.1.0
 */
export interface TrafficLogFile {
  /** Appends text (each line ends with `\n`). */
  write(text: string): void;
  /** Pushes what was written to its destination, if it buffers. */
  flush?(): void;
  /** Closes the file; called after the connection's last line. */
  close?(): void;
}

/** Opens `name` for writing, truncating it; writes are synchronous. */
function openLogFile(name: string): TrafficLogFile {
  const fd = openSync(name, 'w');
  return {
    write: (text) => {
      writeSync(fd, text);
    },
    close: () => closeSync(fd),
  };
}

/**
 * The wrapper of {@link TrafficLoggingFactory}: writes a line to its log
 * file for each event of the connection, then passes the event on.
 *
 * @remarks
 * The lines, with `N` the connection's number and bytes shown as Python's
 * `repr` shows them (`b'hi\r\n'`):
 *
 * ```
 * *                          connection made
 * C N: b'...'                bytes received from the peer ("client")
 * S N: b'...'                bytes written ("server")
 * SV N: [b'...', b'...']     chunks written with writeSequence
 * S N: *                     loseConnection called
 * C N: <Failure ...>         connection lost, with the reason
 * ```
 *
 * With `lengthLimit`, longer chunks are cut and marked `<... elided>`. The
 * file is closed after the connection-lost line.
 *
 * @see Twisted: twisted.protocols.policies.TrafficLoggingProtocol
 * @since 0.1.0
 */
export class TrafficLoggingProtocol extends ProtocolWrapper {
  /** Where the lines go. */
  readonly logfile: TrafficLogFile;
  /** Longest chunk logged whole, in bytes; `undefined` for no limit. */
  readonly lengthLimit: number | undefined;
  /** The connection's number in the log lines. */
  readonly number: number;

  /**
   * @param factory - The factory that made this wrapper.
   * @param wrappedProtocol - The protocol to wrap.
   * @param logfile - Where the lines go.
   * @param lengthLimit - Longest chunk logged whole, in bytes.
   * @param number - The connection's number in the log lines. Default 0.
   */
  constructor(
    factory: ProtocolWrapperFactory,
    wrappedProtocol: IProtocol,
    logfile: TrafficLogFile,
    lengthLimit?: number,
    number = 0,
  ) {
    super(factory, wrappedProtocol);
    this.logfile = logfile;
    this.lengthLimit = lengthLimit;
    this.number = number;
  }

  /** Logs `*`. */
  override connectionMade(): void {
    this.#log('*');
    super.connectionMade();
  }

  /** Logs `C N: bytes`, then passes the bytes on. */
  override dataReceived(data: Uint8Array): void {
    this.#log(`C ${this.number}: ${this.#munge(data)}`);
    super.dataReceived(data);
  }

  /** Logs `C N: reason`, passes the loss on, then closes the log file. */
  override connectionLost(reason: Failure): void {
    this.#log(`C ${this.number}: ${inspect(reason)}`);
    try {
      super.connectionLost(reason);
    } finally {
      this.logfile.close?.();
    }
  }

  /** Logs `S N: bytes`, then writes them. */
  override write(data: Uint8Array): void {
    this.#log(`S ${this.number}: ${this.#munge(data)}`);
    super.write(data);
  }

  /** Logs `SV N: [bytes, …]`, then writes them. */
  override writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = [...data];
    this.#log(`SV ${this.number}: [${chunks.map((chunk) => this.#munge(chunk)).join(', ')}]`);
    super.writeSequence(chunks);
  }

  /** Logs `S N: *`, then closes the connection. */
  override loseConnection(): void {
    this.#log(`S ${this.number}: *`);
    super.loseConnection();
  }

  #log(line: string): void {
    this.logfile.write(`${line}\n`);
    this.logfile.flush?.();
  }

  #munge(data: Uint8Array): string {
    const limit = this.lengthLimit;
    if (limit !== undefined && limit > 0 && data.byteLength > limit) {
      return `${reprBytes(data.subarray(0, Math.max(0, limit - 12)))}<... elided>`;
    }
    return reprBytes(data);
  }
}

/** Options of {@link TrafficLoggingFactory}. */
export interface TrafficLoggingFactoryOptions {
  /** Longest chunk logged whole, in bytes. @defaultValue no limit */
  lengthLimit?: number | undefined;
  /**
   * Opens a connection's log file, given its name; for tests, or to log
   * somewhere else.
   * @defaultValue opens the file for writing, truncating it
   */
  openFile?: ((name: string) => TrafficLogFile) | undefined;
}

/**
 * Writes each connection's traffic to its own log file, for debugging:
 * `logfilePrefix-1`, `logfilePrefix-2`, …
 *
 * @remarks
 * See {@link TrafficLoggingProtocol} for what is logged. The default files
 * are written synchronously, line by line, as Twisted's are: a tool for
 * debugging, not for production traffic.
 *
 * @example
 * ```ts
 * reactor.listenTCP(8000, new TrafficLoggingFactory(Factory.forProtocol(Echo), '/tmp/echo'));
 * ```
 *
 * @see Twisted: twisted.protocols.policies.TrafficLoggingFactory
 * @since 0.1.0
 */
export class TrafficLoggingFactory extends WrappingFactory<TrafficLoggingProtocol> {
  /** The log files are named `${logfilePrefix}-${n}`. */
  logfilePrefix: string;
  /** Longest chunk logged whole, in bytes; `undefined` for no limit. */
  lengthLimit: number | undefined;
  /** The number of the last connection; the next one gets `counter + 1`. */
  counter = 0;
  readonly #openFile: (name: string) => TrafficLogFile;

  /**
   * @param wrappedFactory - The factory whose traffic is logged.
   * @param logfilePrefix - The log files are named `${logfilePrefix}-${n}`.
   * @param options - See {@link TrafficLoggingFactoryOptions}.
   */
  constructor(
    wrappedFactory: WrappedFactory,
    logfilePrefix: string,
    options?: TrafficLoggingFactoryOptions,
  );
  /**
   * @param wrappedFactory - The factory whose traffic is logged.
   * @param options - The prefix of the log files' names, and see
   *   {@link TrafficLoggingFactoryOptions}.
   */
  constructor(
    wrappedFactory: WrappedFactory,
    options: TrafficLoggingFactoryOptions & { logfilePrefix: string },
  );
  constructor(
    wrappedFactory: WrappedFactory,
    prefixOrOptions: string | (TrafficLoggingFactoryOptions & { logfilePrefix: string }),
    options: TrafficLoggingFactoryOptions = {},
  ) {
    super(wrappedFactory);
    const opts = typeof prefixOrOptions === 'string' ? options : prefixOrOptions;
    this.logfilePrefix =
      typeof prefixOrOptions === 'string' ? prefixOrOptions : prefixOrOptions.logfilePrefix;
    this.lengthLimit = opts.lengthLimit;
    this.#openFile = opts.openFile ?? openLogFile;
  }

  /**
   * Opens a log file. Override, or pass `openFile`, to log elsewhere.
   *
   * @param name - The file's name.
   * @returns The file.
   */
  open(name: string): TrafficLogFile {
    return this.#openFile(name);
  }

  /** Numbers the connection, opens its log file and wraps it in a {@link TrafficLoggingProtocol}. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): TrafficLoggingProtocol {
    this.counter++;
    const logfile = this.open(`${this.logfilePrefix}-${this.counter}`);
    return new TrafficLoggingProtocol(
      this,
      wrappedProtocol,
      logfile,
      this.lengthLimit,
      this.counter,
    );
  }

  /** Numbers connections from 1 again. */
  resetCounter(): void {
    this.counter = 0;
  }
}

/**
 * The wrapper of {@link SpewingFactory}: logs every chunk received and
 * written (at `info`, as Python's `repr` of the bytes).
 *
 * @see Twisted: twisted.protocols.policies.SpewingProtocol
 * @since 0.1.0
 */
export class SpewingProtocol extends ProtocolWrapper {
  /** Logs `Received: bytes`, then passes them on. */
  override dataReceived(data: Uint8Array): void {
    log.info('Received: {data}', { data: reprBytes(data) });
    super.dataReceived(data);
  }

  /** Logs `Sending: bytes`, then writes them. */
  override write(data: Uint8Array): void {
    log.info('Sending: {data}', { data: reprBytes(data) });
    super.write(data);
  }
}

/**
 * Logs all the traffic of the factory it wraps, for debugging.
 *
 * @see Twisted: twisted.protocols.policies.SpewingFactory
 * @since 0.1.0
 */
export class SpewingFactory extends WrappingFactory<SpewingProtocol> {
  /** Wraps in a {@link SpewingProtocol}. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): SpewingProtocol {
    return new SpewingProtocol(this, wrappedProtocol);
  }
}
