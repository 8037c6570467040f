// ThrottlingFactory and ThrottlingProtocol: limits on the bandwidth (a token
// bucket per direction, shared fairly between the connections) and on the
// number of connections of a wrapped factory
// (Twisted: twisted.protocols.policies.ThrottlingFactory).
// Tests: test/unit/protocols/policies-throttling.test.ts, test/unit/protocols/policies-throttling-bucket.test.ts, test/integration/policies.test.ts, test/reliability/backpressure.test.ts

import { requireClock } from '../../internet/_require-clock.js';
import type {
  IAddress,
  IDelayedCall,
  IProtocol,
  IPullProducer,
  IPushProducer,
  IReactorTime,
} from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { ProtocolWrapper, type WrappedFactory, WrappingFactory } from './wrapper.js';

const log = new Logger('torsion.protocols.policies');

/** A full bucket holds this many seconds of its limit: the largest burst. */
const BURST = 0.1;
/**
 * A connection's share falls at most this many seconds of its rate below
 * empty, so that one that was greedy counts as polite again about a second
 * after it slows down.
 */
const SHARE_DEBT = 1;
/** After this many quiet seconds, a noisy factory logs that throttling stopped. */
const QUIET = 1;
/** Token rounding: a bucket this close to empty counts as refilled. */
const EPSILON = 1e-6;

/** What pauses and resumes: a producer, or a transport's reading. */
interface Pausable {
  pauseProducing(): void;
  resumeProducing(): void;
}

/**
 * Pauses `target` while at least one reason holds it, and resumes it once
 * the last reason is released: the transport's backpressure, the throttle,
 * and the wrapped protocol each hold or release their own reason, so none
 * of them resumes what another still wants paused.
 */
class PauseGate {
  readonly #holds = new Set<string>();
  #paused = false;

  constructor(readonly target: Pausable) {}

  hold(reason: string): void {
    this.#holds.add(reason);
    if (this.#paused) return;
    this.target.pauseProducing();
    this.#paused = true;
  }

  release(reason: string): void {
    if (!this.#holds.delete(reason) || this.#holds.size > 0 || !this.#paused) return;
    this.#paused = false;
    this.target.resumeProducing();
  }
}

/**
 * What a {@link ThrottlingProtocol} registers with the real transport in
 * place of a streaming producer: the transport's pause and resume become
 * one reason of the producer's gate, the throttle's another.
 */
class GatedProducer implements IPushProducer {
  readonly gate: PauseGate;

  constructor(readonly producer: IPushProducer) {
    this.gate = new PauseGate(producer);
  }

  pauseProducing(): void {
    this.gate.hold('transport');
  }

  resumeProducing(): void {
    this.gate.release('transport');
  }

  stopProducing(): void {
    this.producer.stopProducing();
  }

  toString(): string {
    return String(this.producer);
  }
}

/**
 * The wrapper of {@link ThrottlingFactory}: counts the bytes each way
 * against the factory's buckets, and holds or releases its connection's
 * reading and its streaming producer when the factory says so.
 *
 * @remarks
 * Reading and the registered push producer are each paused while any of
 * their holders wants them paused, and resumed only when none does: for
 * reading, the throttle and whoever calls this wrapper's
 * `pauseProducing` (the wrapped protocol, or a consumer it feeds); for the
 * producer, the throttle and the real transport's backpressure (the
 * wrapper registers a stand-in with the transport). So the throttle never
 * resumes a producer the transport paused because its buffer is full.
 *
 * @see Twisted: twisted.protocols.policies.ThrottlingProtocol
 * @since 0.1.0
 */
export class ThrottlingProtocol extends ProtocolWrapper {
  declare factory: ThrottlingFactory;
  /** The producer registered through this wrapper, if any. */
  producer: IPushProducer | IPullProducer | undefined = undefined;
  // The stand-in registered with the transport for a streaming producer.
  #gated: GatedProducer | undefined;
  // The throttle holds writing (applies to a producer registered later too).
  #writesHeld = false;
  #reading: PauseGate | undefined;

  /**
   * @param factory - The throttling factory that counts the bytes.
   * @param wrappedProtocol - The protocol to wrap.
   */
  constructor(factory: ThrottlingFactory, wrappedProtocol: IProtocol) {
    super(factory, wrappedProtocol);
  }

  /** Counts the bytes as written, then writes them. */
  override write(data: Uint8Array): void {
    this.factory.registerWritten(data.byteLength, this);
    super.write(data);
  }

  /** Counts the bytes as written, then writes them. */
  override writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = [...data];
    let length = 0;
    for (const chunk of chunks) length += chunk.byteLength;
    this.factory.registerWritten(length, this);
    super.writeSequence(chunks);
  }

  /** Counts the bytes as read, then passes them on. */
  override dataReceived(data: Uint8Array): void {
    this.factory.registerRead(data.byteLength, this);
    super.dataReceived(data);
  }

  /**
   * Registers `producer` with the real transport and remembers it, to
   * throttle it. A streaming producer is registered behind a stand-in that
   * keeps it paused while either the transport or the throttle holds it.
   */
  override registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (!streaming) {
      super.registerProducer(producer, false);
      this.producer = producer;
      return;
    }
    const gated = new GatedProducer(producer as IPushProducer);
    super.registerProducer(gated, true);
    this.producer = producer;
    this.#gated = gated;
    if (this.#writesHeld) gated.gate.hold('throttle');
  }

  /** Unregisters and forgets the producer. */
  override unregisterProducer(): void {
    this.producer = undefined;
    this.#gated = undefined;
    super.unregisterProducer();
  }

  /** Pauses reading for the caller (the wrapped protocol or its consumer). */
  override pauseProducing(): void {
    this.#readGate().hold('consumer');
  }

  /** Resumes reading for the caller, unless the throttle still holds it. */
  override resumeProducing(): void {
    this.#readGate().release('consumer');
  }

  /** Holds the real transport's reading until {@link ThrottlingProtocol.unthrottleReads}. */
  throttleReads(): void {
    this.#readGate().hold('throttle');
  }

  /** Releases the throttle's hold on reading; it resumes unless paused for another reason. */
  unthrottleReads(): void {
    this.#readGate().release('throttle');
  }

  /** Holds the registered push producer (and any registered later) paused. */
  throttleWrites(): void {
    this.#writesHeld = true;
    this.#gated?.gate.hold('throttle');
  }

  /** Releases the throttle's hold on the producer; it resumes unless the transport still holds it. */
  unthrottleWrites(): void {
    this.#writesHeld = false;
    this.#gated?.gate.release('throttle');
  }

  #readGate(): PauseGate {
    this.#reading ??= new PauseGate({
      pauseProducing: () => this.transport.pauseProducing(),
      resumeProducing: () => this.transport.resumeProducing(),
    });
    return this.#reading;
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
   * with a registered push producer can be held back.
   * @defaultValue no limit
   */
  writeLimit?: number | undefined;
  /**
   * Times the buckets and schedules the end of the pauses: the reactor the
   * factory listens on, or a `Clock` in tests. Required: nothing falls back
   * to real time.
   */
  clock: IReactorTime;
}

function checkLimit(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(value > 0)) {
    throw new RangeError(`ThrottlingFactory ${name} must be > 0 bytes per second, got ${value}`);
  }
  return value;
}

/** A connection's own bucket: its share of the limit. */
interface Share {
  tokens: number;
  stamp: number;
}

/** What a bucket does to its connections, and tells its factory. */
interface BucketHooks {
  hold(protocol: ThrottlingProtocol): void;
  release(protocol: ThrottlingProtocol): void;
  started(): void;
  stopped(): void;
  noisy(): boolean;
}

/**
 * One direction's token bucket: `limit` tokens a second, at most `BURST`
 * seconds' worth kept, one token a byte; it goes into debt rather than
 * refusing bytes already read or written. Each connection also has a share
 * bucket (the limit divided by the open connections) that says whether it
 * is over its share.
 */
class Bucket {
  tokens: number;
  #stamp: number;
  readonly held = new Set<ThrottlingProtocol>();
  readonly #shares = new Map<ThrottlingProtocol, Share>();
  #releaseCall: IDelayedCall | undefined;
  #quietCall: IDelayedCall | undefined;
  #throttling = false;

  constructor(
    readonly limit: number,
    readonly clock: IReactorTime,
    readonly hooks: BucketHooks,
  ) {
    this.tokens = limit * BURST;
    this.#stamp = clock.seconds();
  }

  /**
   * Takes `length` tokens, from the bucket and from `protocol`'s share;
   * holds `protocol` if the bucket is in debt and it is over its share.
   */
  consume(length: number, protocol: ThrottlingProtocol | undefined, connections: number): void {
    this.#refill();
    this.tokens -= length;
    if (protocol === undefined) return;
    const rate = this.limit / Math.max(connections, 1);
    const now = this.clock.seconds();
    let share = this.#shares.get(protocol);
    if (share === undefined) {
      share = { tokens: rate * BURST, stamp: now };
      this.#shares.set(protocol, share);
    }
    const refilled = Math.min(rate * BURST, share.tokens + (now - share.stamp) * rate);
    share.tokens = Math.max(-rate * SHARE_DEBT, refilled - length);
    share.stamp = now;
    if (this.tokens < 0 && share.tokens < 0) this.#hold(protocol);
  }

  /** Forgets a lost connection; nothing held, no release is due. */
  forget(protocol: ThrottlingProtocol): void {
    this.#shares.delete(protocol);
    this.held.delete(protocol);
    if (this.held.size === 0) this.#cancelRelease();
  }

  /** The last connection is gone: no call stays scheduled. */
  stop(): void {
    this.held.clear();
    this.#shares.clear();
    this.#cancelRelease();
    if (this.#quietCall?.active()) this.#quietCall.cancel();
    this.#quietCall = undefined;
    this.#throttling = false;
  }

  /** Releases every held connection now, with no release left scheduled. */
  releaseAll(): void {
    this.#cancelRelease();
    const held = [...this.held];
    this.held.clear();
    for (const protocol of held) this.hooks.release(protocol);
    if (held.length > 0 && this.#throttling && this.hooks.noisy()) {
      this.#quietCall = this.clock.callLater(QUIET, () => this.#quiet());
    }
  }

  #refill(): void {
    const now = this.clock.seconds();
    this.tokens = Math.min(this.limit * BURST, this.tokens + (now - this.#stamp) * this.limit);
    this.#stamp = now;
  }

  #hold(protocol: ThrottlingProtocol): void {
    if (this.#quietCall?.active()) this.#quietCall.cancel();
    this.#quietCall = undefined;
    if (!this.#throttling) {
      this.#throttling = true;
      this.hooks.started();
    }
    if (!this.held.has(protocol)) {
      this.held.add(protocol);
      this.hooks.hold(protocol);
    }
    this.#scheduleRelease();
  }

  #scheduleRelease(): void {
    if (this.#releaseCall?.active()) return;
    this.#releaseCall = this.clock.callLater(Math.max(0, -this.tokens / this.limit), () => {
      this.#releaseCall = undefined;
      this.#releaseDue();
    });
  }

  /** The debt should be paid: release the held connections, or wait for what was added since. */
  #releaseDue(): void {
    this.#refill();
    if (this.tokens < -EPSILON * this.limit) this.#scheduleRelease();
    else this.releaseAll();
  }

  #quiet(): void {
    this.#quietCall = undefined;
    if (this.held.size > 0 || !this.#throttling) return;
    this.#throttling = false;
    this.hooks.stopped();
  }

  #cancelRelease(): void {
    if (this.#releaseCall?.active()) this.#releaseCall.cancel();
    this.#releaseCall = undefined;
  }
}

/**
 * Limits the bandwidth and the number of connections of the factory it
 * wraps.
 *
 * @remarks
 * Each limit is a token bucket shared by all the factory's connections:
 * `readLimit` (or `writeLimit`) tokens a second, one a byte, at most a
 * tenth of a second's worth kept (the largest burst). Every read, and every
 * write, takes its bytes' tokens at once: bytes already read or already
 * written cannot be refused, so the bucket goes into debt. Each connection
 * also has its share: the limit divided by the connections open, kept in a
 * bucket of its own. A connection is held when, after its bytes, the shared
 * bucket is in debt AND it has used more than its share: its reading is
 * paused (`pauseProducing` on its transport), or its registered push
 * producer is paused. Held connections are released together as soon as
 * the debt is paid, which at the limit's rate takes a fraction of a second
 * for the usual chunks; a connection that is still greedy is held again by
 * its next bytes.
 *
 * So, over any second, the bytes admitted stay within about a tenth of the
 * limit, plus the one chunk each greedy connection delivers before it is
 * held; a connection that stays under its share is never held, whatever
 * the others do; a connection opened while others are held is held by the
 * same rule as soon as it goes over its share. A connection without a push
 * producer cannot be held back in writing: its bytes are counted, and the
 * others wait for the debt they make.
 *
 * Reading and the producer are paused while any of their holders wants
 * them paused (see {@link ThrottlingProtocol}), so a release never resumes
 * a producer the transport paused because its buffer is full.
 *
 * Beyond `maxConnectionCount` open connections, `buildProtocol` returns
 * `null` and the connection is refused.
 *
 * Differences from Twisted: Twisted counts the bytes of each second and,
 * once a second, pauses every connection for `bytes / limit - 1` seconds
 * when the count is over the limit, so the first second is unlimited, a
 * burst pauses every connection (polite ones too) for as long as minutes,
 * and connections opened during a pause are not paused; here the limits
 * hold at all times and only connections over their share are held. The
 * per-second counters and checks (`readThisSecond`, `checkReadBandwidth`
 * and their write twins) are therefore gone; {@link ThrottlingFactory.bytesRead}
 * and {@link ThrottlingFactory.bytesWritten} count totals instead. The clock
 * is a required option rather than an overridable `callLater` that defaults
 * to the global reactor; an error pausing or resuming one connection is
 * logged and does not stop the others.
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
  readonly readLimit: number | undefined;
  /** Most bytes per second written, or `undefined` for no limit. */
  readonly writeLimit: number | undefined;
  /** Bytes read over all connections since the factory was made. */
  bytesRead = 0;
  /** Bytes written over all connections since the factory was made. */
  bytesWritten = 0;
  /** Times the buckets and schedules the end of the pauses. */
  readonly clock: IReactorTime;
  readonly #reads: Bucket | undefined;
  readonly #writes: Bucket | undefined;

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
    this.#reads = this.#bucket(this.readLimit, 'reads', {
      hold: (p) => p.throttleReads(),
      release: (p) => p.unthrottleReads(),
    });
    this.#writes = this.#bucket(this.writeLimit, 'writes', {
      hold: (p) => p.throttleWrites(),
      release: (p) => p.unthrottleWrites(),
    });
  }

  /**
   * Counts `length` bytes written, and takes them from the write bucket; if
   * the bucket is in debt and `protocol` has written more than its share,
   * holds its producer until the debt is paid.
   *
   * @param length - The bytes written.
   * @param protocol - The connection that wrote them, if known.
   */
  registerWritten(length: number, protocol?: ThrottlingProtocol): void {
    this.bytesWritten += length;
    this.#writes?.consume(length, this.#open(protocol), this.connectionCount);
  }

  /**
   * Counts `length` bytes read, and takes them from the read bucket; if the
   * bucket is in debt and `protocol` has read more than its share, holds its
   * reading until the debt is paid.
   *
   * @param length - The bytes read.
   * @param protocol - The connection that read them, if known.
   */
  registerRead(length: number, protocol?: ThrottlingProtocol): void {
    this.bytesRead += length;
    this.#reads?.consume(length, this.#open(protocol), this.connectionCount);
  }

  /** Holds reading on every connection, until {@link ThrottlingFactory.unthrottleReads}. */
  throttleReads(): void {
    if (this.noisy) log.info('Throttling reads on {factory}', { factory: this.logPrefix() });
    this.#each('throttleReads', (p) => p.throttleReads());
  }

  /** Releases reading on every connection, including those the read bucket holds. */
  unthrottleReads(): void {
    if (this.noisy) {
      log.info('Stopped throttling reads on {factory}', { factory: this.logPrefix() });
    }
    this.#reads?.releaseAll();
    this.#each('unthrottleReads', (p) => p.unthrottleReads());
  }

  /** Holds the producer of every connection, until {@link ThrottlingFactory.unthrottleWrites}. */
  throttleWrites(): void {
    if (this.noisy) log.info('Throttling writes on {factory}', { factory: this.logPrefix() });
    this.#each('throttleWrites', (p) => p.throttleWrites());
  }

  /** Releases the producer of every connection, including those the write bucket holds. */
  unthrottleWrites(): void {
    if (this.noisy) {
      log.info('Stopped throttling writes on {factory}', { factory: this.logPrefix() });
    }
    this.#writes?.releaseAll();
    this.#each('unthrottleWrites', (p) => p.unthrottleWrites());
  }

  /**
   * Builds a throttled connection, or refuses one beyond
   * `maxConnectionCount`.
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
    return protocol;
  }

  /** Wraps in a {@link ThrottlingProtocol}. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): ThrottlingProtocol {
    return new ThrottlingProtocol(this, wrappedProtocol);
  }

  /** Forgets a lost connection; after the last one, no call stays scheduled. */
  override unregisterProtocol(protocol: ThrottlingProtocol): void {
    super.unregisterProtocol(protocol);
    this.connectionCount--;
    for (const bucket of [this.#reads, this.#writes]) {
      bucket?.forget(protocol);
      if (this.connectionCount === 0) bucket?.stop();
    }
  }

  #bucket(
    limit: number | undefined,
    what: 'reads' | 'writes',
    act: Pick<BucketHooks, 'hold' | 'release'>,
  ): Bucket | undefined {
    if (limit === undefined) return undefined;
    const guarded =
      (name: string, f: (p: ThrottlingProtocol) => void) =>
      (protocol: ThrottlingProtocol): void => {
        try {
          f(protocol);
        } catch (error) {
          log.failure('{what} failed on {protocol}', error, {
            what: name,
            protocol: protocol.logPrefix(),
          });
        }
      };
    return new Bucket(limit, this.clock, {
      hold: guarded(what === 'reads' ? 'throttleReads' : 'throttleWrites', act.hold),
      release: guarded(what === 'reads' ? 'unthrottleReads' : 'unthrottleWrites', act.release),
      started: () => {
        if (this.noisy) log.info(`Throttling ${what} on {factory}`, { factory: this.logPrefix() });
      },
      stopped: () => {
        if (this.noisy) {
          log.info(`Stopped throttling ${what} on {factory}`, { factory: this.logPrefix() });
        }
      },
      noisy: () => this.noisy,
    });
  }

  /** `protocol` if its connection is open: a lost one is counted, never held. */
  #open(protocol: ThrottlingProtocol | undefined): ThrottlingProtocol | undefined {
    return protocol !== undefined && this.protocols.has(protocol) ? protocol : undefined;
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
