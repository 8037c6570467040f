// ThrottlingFactory and ThrottlingProtocol: limits on the bandwidth and
// the number of connections of a wrapped factory
// (Twisted: twisted.protocols.policies.ThrottlingFactory).
// Tests: test/unit/protocols/policies-throttling.test.ts, test/integration/policies.test.ts

import { requireClock } from '../../internet/_require-clock.js';
import type {
  IAddress,
  IDelayedCall,
  IProtocol,
  IPullProducer,
  IPushProducer,
  IReactorTime,
} from '../../internet/interfaces.js';
import { LoopingCall } from '../../internet/task/index.js';
import { Logger } from '../../logger/logger.js';
import { ProtocolWrapper, type WrappedFactory, WrappingFactory } from './wrapper.js';

const log = new Logger('torsion.protocols.policies');

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
   * Checks the bandwidth every second and schedules the pauses: the reactor
   * the factory listens on, or a `Clock` in tests. Required: nothing falls
   * back to real time.
   */
  clock: IReactorTime;
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
 * Differences from Twisted: the clock is a required option rather than an
 * overridable `callLater` that defaults to the global reactor; the checks
 * are one {@link LoopingCall} each; a new throttle cancels a pending
 * unthrottle rather than letting it end the pause early; an error pausing
 * one transport is logged and does not stop the others.
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
   * @throws TypeError if `options.clock` is not an `IReactorTime`.
   */
  constructor(wrappedFactory: WrappedFactory, options: ThrottlingFactoryOptions) {
    super(wrappedFactory);
    this.clock = requireClock(
      (options as Partial<ThrottlingFactoryOptions> | undefined)?.clock,
      'ThrottlingFactory needs a clock option (IReactorTime)',
    );
    const max = options.maxConnectionCount ?? Number.POSITIVE_INFINITY;
    if (!(max >= 0)) {
      throw new RangeError(`ThrottlingFactory maxConnectionCount must be >= 0, got ${max}`);
    }
    this.maxConnectionCount = max;
    this.readLimit = checkLimit('readLimit', options.readLimit);
    this.writeLimit = checkLimit('writeLimit', options.writeLimit);
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
