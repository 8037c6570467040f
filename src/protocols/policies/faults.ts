// FaultInjectingFactory and FaultInjectingProtocol: seeded faults on every
// connection of a wrapped factory (reads and writes split into small
// chunks, delayed deliveries, a reset, a half-close, a stall), to test code
// over real sockets the way a bad network would treat it; and FaultPlan's
// string form, for the `torsion --inject-faults SPEC` option. No Twisted
// counterpart.
// Tests: test/unit/protocols/policies/faults.test.ts, test/integration/faults.test.ts

import { hashSeed, Prng } from '../../internet/_prng.js';
import { requireClock } from '../../internet/_require-clock.js';
import { ConnectionDone, TorsionError } from '../../internet/error.js';
import type { Failure } from '../../internet/failure.js';
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

/** Bytes held in one direction's queue above which the source is paused. */
const QUEUE_HIGH = 64 * 1024;
/** Bytes below which a source paused for a full queue is resumed. */
const QUEUE_LOW = 16 * 1024;
/** Clock rounding: a delivery due this close to now is due now. */
const EPSILON = 1e-9;

/**
 * An inclusive range of numbers: chunk sizes in bytes, or delays in
 * seconds.
 *
 * @since 0.1.0
 */
export interface FaultRange {
  /** The least value. */
  readonly min: number;
  /** The greatest value (equal to `min` for a fixed value). */
  readonly max: number;
}

/**
 * Which directions a {@link FaultPlan}'s splitting and delays apply to:
 * what the connection reads, what it writes, or both.
 *
 * @since 0.1.0
 */
export type FaultDirection = 'both' | 'read' | 'write';

/**
 * The faults a {@link FaultInjectingFactory} injects into each connection;
 * every field but `seed` is optional, and a plan with none does nothing.
 *
 * @remarks
 * Byte counts are per direction: `resetAfter: 100` resets the connection
 * once 100 bytes were read or 100 bytes were written, whichever comes
 * first, and exactly that many pass in that direction. A count of 0 acts
 * as soon as the connection is made.
 *
 * The string form, for the command line, is
 * `seed=7,split=1-16,delay=0.01,reset-after=4096`: see
 * {@link parseFaultSpec}.
 *
 * @since 0.1.0
 */
export interface FaultPlan {
  /**
   * The seed: each connection's chunk sizes and delays are drawn from it
   * and the connection's number (0 for the factory's first), so the same
   * seed and the same traffic give the same faults. A 32-bit unsigned
   * integer.
   */
  readonly seed: number;
  /**
   * Cut the bytes into chunks of these sizes (whole bytes, at least 1),
   * each delivered (or written) by its own call. The cuts are at seeded
   * positions of the byte stream, whatever the sizes of the reads and
   * writes that carry it.
   */
  readonly split?: FaultRange | undefined;
  /**
   * Deliver each chunk this many seconds late (drawn per chunk from the
   * range), through the clock; order is kept, so a chunk never overtakes
   * an earlier one.
   */
  readonly delay?: FaultRange | undefined;
  /** What `split` and `delay` apply to. @defaultValue `'both'` */
  readonly direction?: FaultDirection | undefined;
  /** Abort the connection (`abortConnection`) after this many bytes read or written. */
  readonly resetAfter?: number | undefined;
  /**
   * Close the writing side (`loseWriteConnection`) after this many bytes
   * read or written; what the protocol writes later is dropped.
   */
  readonly halfCloseAfter?: number | undefined;
  /**
   * Stop delivering what is read for this many seconds (`Infinity`:
   * for good), starting after `stallAfter` bytes. Reading is paused
   * meanwhile, so the peer feels backpressure.
   */
  readonly stall?: number | undefined;
  /** When the stall starts: after this many bytes read. @defaultValue 0 */
  readonly stallAfter?: number | undefined;
}

/**
 * A fault plan's string form (or a plan) that cannot be used: an unknown
 * key, a bad number or range, a key given twice.
 *
 * @since 0.1.0
 */
export class FaultSpecError extends TorsionError {
  override name = 'FaultSpecError' as const;
  override readonly code = 'ERR_FAULT_SPEC' as const;
}

const KEYS = [
  'seed',
  'split',
  'delay',
  'direction',
  'reset-after',
  'half-close-after',
  'stall',
  'stall-after',
] as const;
type Key = (typeof KEYS)[number];

function isWholeCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * Checks a plan; returns a copy with only the fields that are set.
 *
 * @throws FaultSpecError naming the field and what is wrong.
 */
function checkPlan(plan: FaultPlan): FaultPlan {
  if (typeof plan !== 'object' || plan === null) {
    throw new FaultSpecError(`a fault plan is an object, got ${String(plan)}`);
  }
  const { seed } = plan;
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new FaultSpecError(`seed must be a whole number from 0 to 4294967295, got ${seed}`);
  }
  const out: {
    -readonly [K in keyof FaultPlan]: FaultPlan[K];
  } = { seed };
  if (plan.split !== undefined) {
    const { min, max } = plan.split;
    if (!(Number.isSafeInteger(min) && min >= 1 && Number.isSafeInteger(max))) {
      throw new FaultSpecError(
        `split sizes are whole numbers of bytes, at least 1, got ${min}-${max}`,
      );
    }
    if (min > max) {
      throw new FaultSpecError(`split range ${min}-${max}: the least size is above the greatest`);
    }
    out.split = { min, max };
  }
  if (plan.delay !== undefined) {
    const { min, max } = plan.delay;
    if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0)) {
      throw new FaultSpecError(`delays are numbers of seconds, 0 or more, got ${min}-${max}`);
    }
    if (min > max) {
      throw new FaultSpecError(`delay range ${min}-${max}: the least delay is above the greatest`);
    }
    out.delay = { min, max };
  }
  if (plan.direction !== undefined) {
    if (!['both', 'read', 'write'].includes(plan.direction)) {
      throw new FaultSpecError(
        `direction is both, read or write, got ${JSON.stringify(plan.direction)}`,
      );
    }
    out.direction = plan.direction;
  }
  for (const [field, name] of [
    ['resetAfter', 'reset-after'],
    ['halfCloseAfter', 'half-close-after'],
    ['stallAfter', 'stall-after'],
  ] as const) {
    const value = plan[field];
    if (value === undefined) continue;
    if (!isWholeCount(value)) {
      throw new FaultSpecError(`${name} is a whole number of bytes, 0 or more, got ${value}`);
    }
    out[field] = value;
  }
  if (plan.stall !== undefined) {
    if (!(plan.stall >= 0) || Number.isNaN(plan.stall)) {
      throw new FaultSpecError(
        `stall is a number of seconds, 0 or more, or forever, got ${plan.stall}`,
      );
    }
    out.stall = plan.stall;
  } else if (plan.stallAfter !== undefined) {
    throw new FaultSpecError('stall-after needs stall=SECONDS (or stall=forever) too');
  }
  return out;
}

/** `raw` as a byte count; `label` (`key=value`) names it in the error. */
function parseCount(label: string, raw: string): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!isWholeCount(value)) {
    throw new FaultSpecError(`${label}: expected a whole number of bytes, 0 or more`);
  }
  return value;
}

/** `raw` as seconds; `label` (`key=value`) names it in the error. */
function parseSeconds(label: string, raw: string): number {
  const value = /^\d+(\.\d+)?$|^\.\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) {
    throw new FaultSpecError(`${label}: expected a number of seconds, 0 or more`);
  }
  return value;
}

function parseRange(
  key: Key,
  raw: string,
  parse: (label: string, raw: string) => number,
): FaultRange {
  const label = `${key}=${raw}`;
  const dash = raw.indexOf('-');
  if (dash < 0) {
    const value = parse(label, raw);
    return { min: value, max: value };
  }
  const min = parse(label, raw.slice(0, dash));
  const max = parse(label, raw.slice(dash + 1));
  if (min > max) {
    throw new FaultSpecError(
      `${key}=${raw}: the range's minimum ${min} is above its maximum ${max}`,
    );
  }
  return { min, max };
}

/**
 * Reads a fault plan's string form: comma-separated `key=value` pairs.
 *
 * @remarks
 * The keys:
 *
 * | key | value | plan field |
 * | --- | --- | --- |
 * | `seed` | a whole number, 0 to 4294967295 (default 0) | `seed` |
 * | `split` | bytes, `N` or `MIN-MAX` (at least 1) | `split` |
 * | `delay` | seconds, `S` or `MIN-MAX` | `delay` |
 * | `direction` | `both`, `read` or `write` | `direction` |
 * | `reset-after` | bytes | `resetAfter` |
 * | `half-close-after` | bytes | `halfCloseAfter` |
 * | `stall` | seconds, or `forever` | `stall` |
 * | `stall-after` | bytes (needs `stall`) | `stallAfter` |
 *
 * Spaces around keys and values are ignored; a key may appear once.
 *
 * @example
 * ```ts
 * parseFaultSpec('seed=7,split=1-16,delay=0.01,reset-after=4096');
 * // { seed: 7, split: { min: 1, max: 16 }, delay: { min: 0.01, max: 0.01 }, resetAfter: 4096 }
 * ```
 *
 * @param spec - The string form.
 * @returns The plan.
 * @throws FaultSpecError saying what is wrong: an unknown key (listing the
 *   valid ones), a bad number or range, a repeated key, an empty spec.
 * @since 0.1.0
 */
export function parseFaultSpec(spec: string): FaultPlan {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new FaultSpecError(
      `empty fault spec; expected key=value pairs such as seed=7,split=1-16 (keys: ${KEYS.join(', ')})`,
    );
  }
  const seen = new Set<string>();
  const plan: {
    -readonly [K in keyof FaultPlan]: FaultPlan[K];
  } = { seed: 0 };
  for (const part of spec.split(',')) {
    const equals = part.indexOf('=');
    if (equals < 0) {
      throw new FaultSpecError(
        `${JSON.stringify(part.trim())} is not key=value (keys: ${KEYS.join(', ')})`,
      );
    }
    const key = part.slice(0, equals).trim();
    const raw = part.slice(equals + 1).trim();
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new FaultSpecError(
        `unknown fault key ${JSON.stringify(key)}; valid keys: ${KEYS.join(', ')}`,
      );
    }
    if (seen.has(key)) throw new FaultSpecError(`fault key ${key} is given twice`);
    seen.add(key);
    switch (key as Key) {
      case 'seed': {
        const seed = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
        if (!(Number.isSafeInteger(seed) && seed <= 0xffffffff)) {
          throw new FaultSpecError(`seed=${raw}: expected a whole number from 0 to 4294967295`);
        }
        plan.seed = seed;
        break;
      }
      case 'split':
        plan.split = parseRange('split', raw, parseCount);
        if (plan.split.min < 1) {
          throw new FaultSpecError(`split=${raw}: chunks are at least 1 byte`);
        }
        break;
      case 'delay':
        plan.delay = parseRange('delay', raw, parseSeconds);
        break;
      case 'direction':
        if (raw !== 'both' && raw !== 'read' && raw !== 'write') {
          throw new FaultSpecError(`direction=${raw}: expected both, read or write`);
        }
        plan.direction = raw;
        break;
      case 'reset-after':
        plan.resetAfter = parseCount(`reset-after=${raw}`, raw);
        break;
      case 'half-close-after':
        plan.halfCloseAfter = parseCount(`half-close-after=${raw}`, raw);
        break;
      case 'stall':
        plan.stall = raw === 'forever' ? Infinity : parseSeconds(`stall=${raw}`, raw);
        break;
      case 'stall-after':
        plan.stallAfter = parseCount(`stall-after=${raw}`, raw);
        break;
    }
  }
  return checkPlan(plan);
}

function formatRange(range: FaultRange): string {
  return range.min === range.max ? String(range.min) : `${range.min}-${range.max}`;
}

/**
 * Writes a plan in the string form {@link parseFaultSpec} reads: what a
 * test prints so that a failing run can be repeated on the command line.
 *
 * @example
 * ```ts
 * formatFaultSpec({ seed: 7, split: { min: 1, max: 16 }, stall: Infinity });
 * // 'seed=7,split=1-16,stall=forever'
 * ```
 *
 * @param plan - The plan.
 * @returns Its string form; `parseFaultSpec` of it gives an equal plan.
 * @throws FaultSpecError if the plan is not valid.
 * @since 0.1.0
 */
export function formatFaultSpec(plan: FaultPlan): string {
  const checked = checkPlan(plan);
  const parts = [`seed=${checked.seed}`];
  if (checked.split !== undefined) parts.push(`split=${formatRange(checked.split)}`);
  if (checked.delay !== undefined) parts.push(`delay=${formatRange(checked.delay)}`);
  if (checked.direction !== undefined) parts.push(`direction=${checked.direction}`);
  if (checked.resetAfter !== undefined) parts.push(`reset-after=${checked.resetAfter}`);
  if (checked.halfCloseAfter !== undefined) {
    parts.push(`half-close-after=${checked.halfCloseAfter}`);
  }
  if (checked.stall !== undefined) {
    parts.push(`stall=${checked.stall === Infinity ? 'forever' : checked.stall}`);
  }
  if (checked.stallAfter !== undefined) parts.push(`stall-after=${checked.stallAfter}`);
  return parts.join(',');
}

// ---------------------------------------------------------------------------
// The wrapper

/** The faults that act at a position of a byte stream. */
type Fault = 'reset' | 'half-close' | 'stall';

/**
 * A fault that happened on a connection, as recorded in
 * {@link FaultInjectingProtocol.injected}.
 *
 * @since 0.1.0
 */
export interface InjectedFault {
  /** What happened: `stall-end` is the end of a timed stall. */
  readonly fault: 'reset' | 'half-close' | 'stall' | 'stall-end';
  /** The direction whose byte count triggered it. */
  readonly direction: 'read' | 'write';
  /** The bytes that had passed in that direction. */
  readonly bytes: number;
  /** The clock's time. */
  readonly time: number;
}

/** One direction's cutting state: the byte count, the next seeded cut, the draws. */
class Stream {
  offset = 0;
  boundary = Infinity;
  readonly thresholds: { at: number; fault: Fault }[] = [];

  constructor(
    readonly direction: 'read' | 'write',
    readonly split: FaultRange | undefined,
    readonly sizes: Prng,
    readonly delay: FaultRange | undefined,
    readonly delays: Prng,
  ) {
    if (split !== undefined) this.boundary = sizes.int(split.min, split.max);
  }

  addThreshold(at: number | undefined, fault: Fault): void {
    if (at === undefined) return;
    this.thresholds.push({ at, fault });
    this.thresholds.sort((a, b) => a.at - b.at);
  }

  /** The next delay, in seconds. */
  nextDelay(): number {
    return this.delay === undefined ? 0 : this.delays.between(this.delay.min, this.delay.max);
  }

  /**
   * `data` cut at the seeded positions and the thresholds, with the
   * faults due in between; stops after a fault in `terminal`.
   */
  cut(data: Uint8Array, terminal: ReadonlySet<Fault>): (Uint8Array | Fault)[] {
    const out: (Uint8Array | Fault)[] = [];
    let stop = false;
    const fireDue = (): void => {
      while (this.thresholds[0] !== undefined && this.thresholds[0].at <= this.offset) {
        const { fault } = this.thresholds.shift() as { fault: Fault };
        out.push(fault);
        if (terminal.has(fault)) stop = true;
      }
    };
    fireDue();
    let pos = 0;
    while (pos < data.byteLength && !stop) {
      let end = Math.min(data.byteLength, pos + (this.boundary - this.offset));
      const next = this.thresholds[0];
      if (next !== undefined) end = Math.min(end, pos + (next.at - this.offset));
      out.push(data.subarray(pos, end));
      this.offset += end - pos;
      pos = end;
      if (this.offset >= this.boundary && this.split !== undefined) {
        this.boundary = this.offset + this.sizes.int(this.split.min, this.split.max);
      }
      fireDue();
    }
    return out;
  }
}

type ReadItem =
  | { readonly kind: 'data'; readonly data: Uint8Array; readonly due: number }
  | { readonly kind: 'fault'; readonly fault: Fault; readonly bytes: number; readonly due: number }
  | { readonly kind: 'eof'; readonly due: number }
  | { readonly kind: 'lost'; readonly reason: Failure; readonly due: number };

type WriteItem =
  | { readonly kind: 'data'; readonly data: Uint8Array; readonly due: number }
  | { readonly kind: 'fault'; readonly fault: Fault; readonly bytes: number; readonly due: number }
  | { readonly kind: 'lose-write'; readonly due: number };

/** A first-in first-out queue whose `shift` takes constant time. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  first(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): void {
    this.#head++;
    if (this.#head === this.#items.length) this.clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

/** Pauses its target while any reason holds it; resumes when the last lets go. */
class Holds {
  readonly #holds = new Set<string>();

  constructor(
    readonly pause: () => void,
    readonly resume: () => void,
  ) {}

  hold(reason: string): void {
    const first = this.#holds.size === 0;
    this.#holds.add(reason);
    if (first) this.pause();
  }

  release(reason: string): void {
    if (this.#holds.delete(reason) && this.#holds.size === 0) this.resume();
  }

  has(reason: string): boolean {
    return this.#holds.has(reason);
  }
}

const READ_TERMINAL: ReadonlySet<Fault> = new Set(['reset']);
const WRITE_TERMINAL: ReadonlySet<Fault> = new Set(['reset', 'half-close']);

/**
 * The wrapper of {@link FaultInjectingFactory}: injects its plan's faults
 * into one connection.
 *
 * @remarks
 * Reads and writes go through a queue per direction: a chunk is delivered
 * (or written) when its delay is over and every earlier chunk is; with no
 * delay and nothing waiting, at once. Nothing is lost or reordered unless
 * the plan asks for a reset or a half-close.
 *
 * The transport contract holds through the wrapper:
 * - `pauseProducing` (from the wrapped protocol or the consumer it feeds)
 *   stops deliveries, queued ones included, until `resumeProducing`
 *   (queued chunks then follow on the next turn of the clock).
 * - A producer registered through the wrapper is paused while the real
 *   transport's buffer is full or this wrapper holds more than 64 KiB of
 *   delayed writes; a pull producer is asked for more only once the
 *   delayed writes are out.
 * - Reading is paused on the real transport while a stall lasts, while
 *   the protocol has paused it, and while over 64 KiB of reads wait.
 * - `loseConnection` closes once the delayed writes are written;
 *   `abortConnection` at once, dropping them.
 * - The peer's half-close and the end of the connection are delivered
 *   after the reads before them (at once when none wait, paused or not).
 *   A clean end waits for the delayed reads (and a timed stall, and a
 *   pause); an abnormal one, or a stall for good, drops them.
 *
 * @since 0.1.0
 */
export class FaultInjectingProtocol extends ProtocolWrapper {
  declare factory: FaultInjectingFactory;
  /** The plan (checked). */
  readonly plan: FaultPlan;
  /** This connection's number in its factory, from 0. */
  readonly connectionNumber: number;
  /** This connection's seed, drawn from the plan's seed and its number. */
  readonly connectionSeed: number;
  /** The faults that happened so far, in order. */
  readonly injected: InjectedFault[] = [];
  readonly #clock: IReactorTime;
  readonly #read: Stream;
  readonly #write: Stream;
  readonly #readQueue = new Fifo<ReadItem>();
  readonly #writeQueue = new Fifo<WriteItem>();
  #readQueued = 0;
  #writeQueued = 0;
  #readLastDue = -Infinity;
  #writeLastDue = -Infinity;
  #readTimer: IDelayedCall | undefined;
  #writeTimer: IDelayedCall | undefined;
  #resumeCall: IDelayedCall | undefined;
  #stallCall: IDelayedCall | undefined;
  #pumpingReads = false;
  #pumpingWrites = false;
  #aborted = false;
  #writeClosed = false;
  #halfClosed = false;
  #closeRequested = false;
  #transportClosed = false;
  #lost = false;
  #delivered = false;
  #stalled = false;
  #consumerPaused = false;
  #reading: Holds;
  #pushGate: Holds | undefined;
  #pullDemand: (() => void) | undefined;

  /**
   * @param factory - The fault-injecting factory.
   * @param wrappedProtocol - The protocol to wrap.
   * @param connectionNumber - This connection's number in the factory.
   */
  constructor(
    factory: FaultInjectingFactory,
    wrappedProtocol: IProtocol,
    connectionNumber: number,
  ) {
    super(factory, wrappedProtocol);
    this.plan = factory.plan;
    this.#clock = factory.clock;
    this.connectionNumber = connectionNumber;
    this.connectionSeed = hashSeed(this.plan.seed, connectionNumber);
    const direction = this.plan.direction ?? 'both';
    const seed = this.connectionSeed;
    const stream = (name: 'read' | 'write', salt: number): Stream => {
      const applies = direction === 'both' || direction === name;
      return new Stream(
        name,
        applies ? this.plan.split : undefined,
        new Prng(hashSeed(seed, salt)),
        applies ? this.plan.delay : undefined,
        new Prng(hashSeed(seed, salt + 1)),
      );
    };
    this.#read = stream('read', 1);
    this.#write = stream('write', 3);
    for (const s of [this.#read, this.#write]) {
      s.addThreshold(this.plan.halfCloseAfter, 'half-close');
      s.addThreshold(this.plan.resetAfter, 'reset');
    }
    if (this.plan.stall !== undefined) this.#read.addThreshold(this.plan.stallAfter ?? 0, 'stall');
    // The peer's half-close goes through the read queue, after the reads
    // before it (ProtocolWrapper defines it when the wrapped protocol has it).
    if (this.readConnectionLost !== undefined) this.readConnectionLost = () => this.#readEnded();
    this.#reading = new Holds(
      () => {
        if (!this.#transportClosed) this.transport.pauseProducing();
      },
      () => {
        if (!this.#transportClosed) this.transport.resumeProducing();
      },
    );
  }

  /**
   * Connects as {@link ProtocolWrapper} does, then applies the faults due
   * after 0 bytes.
   */
  override makeConnection(transport: Parameters<ProtocolWrapper['makeConnection']>[0]): void {
    super.makeConnection(transport);
    this.#acceptWrite(new Uint8Array(0));
    this.#acceptRead(new Uint8Array(0));
  }

  /** Cuts, delays and passes on received bytes. */
  override dataReceived(data: Uint8Array): void {
    if (data.byteLength === 0) return;
    this.#acceptRead(data);
  }

  /** Passes the peer's half-close on after the reads before it. */
  #readEnded(): void {
    if (this.#aborted || this.#lost) return;
    this.#readQueue.push({ kind: 'eof', due: this.#readLastDue });
    this.#pumpReads();
  }

  /**
   * Passes the end of the connection on: after the queued reads when the
   * connection ended cleanly, at once otherwise.
   */
  override connectionLost(reason: Failure): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#transportClosed = true;
    this.#cancel('write');
    this.#writeQueue.clear();
    this.#writeQueued = 0;
    this.#pullDemand = undefined;
    const clean = reason.check(ConnectionDone) !== null;
    const stalledForGood = this.#stalled && this.plan.stall === Infinity;
    if (!clean || stalledForGood || this.#aborted) {
      this.#readQueue.clear();
      this.#readQueued = 0;
    }
    this.#readQueue.push({ kind: 'lost', reason, due: this.#readLastDue });
    if (!clean || stalledForGood || this.#aborted) {
      this.#cancel('read');
      this.#cancel('stall');
      this.#pumpReads(true);
    } else {
      this.#pumpReads();
    }
  }

  /** Cuts, delays and writes `data`; dropped after a reset or a half-close. */
  override write(data: Uint8Array): void {
    if (data.byteLength === 0) return;
    this.#acceptWrite(data);
  }

  /** Writes each chunk as {@link FaultInjectingProtocol.write} does. */
  override writeSequence(data: Iterable<Uint8Array>): void {
    for (const chunk of data) this.write(chunk);
  }

  /** Closes the connection once the delayed writes are written. */
  override loseConnection(): void {
    this.disconnecting = true;
    if (this.#aborted || this.#closeRequested) return;
    this.#closeRequested = true;
    this.#pumpWrites();
  }

  /** Closes the connection at once; queued writes and reads are dropped. */
  override abortConnection(): void {
    this.disconnecting = true;
    if (this.#aborted) return;
    this.#abort();
  }

  /** Half-closes the connection once the delayed writes are written. */
  override loseWriteConnection(): void {
    if (this.#aborted || this.#writeClosed) return;
    this.#writeClosed = true;
    this.#writeQueue.push({ kind: 'lose-write', due: this.#writeLastDue });
    this.#pumpWrites();
  }

  /**
   * Registers `producer` with the real transport behind a stand-in: a
   * push producer is also paused while too many delayed writes wait; a
   * pull producer is asked for more only once they are written.
   */
  override registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (streaming) {
      const push = producer as IPushProducer;
      const gate = new Holds(
        () => push.pauseProducing(),
        () => push.resumeProducing(),
      );
      this.#pushGate = gate;
      super.registerProducer(
        {
          pauseProducing: () => gate.hold('transport'),
          resumeProducing: () => gate.release('transport'),
          stopProducing: () => push.stopProducing(),
        },
        true,
      );
      if (this.#writeQueued > QUEUE_HIGH) gate.hold('queue');
      return;
    }
    this.#pushGate = undefined;
    const pull = producer as IPullProducer;
    super.registerProducer(
      {
        resumeProducing: () => {
          if (this.#writeQueue.length === 0) pull.resumeProducing();
          else this.#pullDemand = () => pull.resumeProducing();
        },
        stopProducing: () => pull.stopProducing(),
      },
      false,
    );
  }

  /** Unregisters the producer (and its stand-in). */
  override unregisterProducer(): void {
    this.#pushGate = undefined;
    this.#pullDemand = undefined;
    super.unregisterProducer();
  }

  /** Stops deliveries (queued ones too) and pauses the real transport's reading. */
  override pauseProducing(): void {
    this.#consumerPaused = true;
    this.#reading.hold('consumer');
  }

  /** Resumes deliveries on the next turn of the clock, unless stalled. */
  override resumeProducing(): void {
    this.#consumerPaused = false;
    this.#reading.release('consumer');
    this.#scheduleResume();
  }

  // Reads

  #acceptRead(data: Uint8Array): void {
    if (this.#aborted || this.#lost) return;
    const now = this.#clock.seconds();
    for (const piece of this.#read.cut(data, READ_TERMINAL)) {
      if (typeof piece === 'string') {
        this.#readQueue.push({
          kind: 'fault',
          fault: piece,
          bytes: this.#read.offset,
          due: this.#readLastDue,
        });
        continue;
      }
      const due = Math.max(this.#readLastDue, now + this.#read.nextDelay());
      this.#readLastDue = due;
      this.#readQueue.push({ kind: 'data', data: piece, due });
      this.#readQueued += piece.byteLength;
    }
    if (this.#readQueued > QUEUE_HIGH) this.#reading.hold('queue');
    this.#pumpReads();
  }

  /** Delivers what is due; `force` ignores pauses (the connection is gone). */
  #pumpReads(force = false): void {
    if (this.#pumpingReads) return;
    this.#pumpingReads = true;
    try {
      while (this.#readQueue.length > 0 && !this.#delivered) {
        const head = this.#readQueue.first() as ReadItem;
        if (!force) {
          if (this.#aborted && head.kind !== 'lost') {
            this.#readQueue.clear();
            break;
          }
          // Pauses and stalls hold bytes back; an end with no bytes before
          // it is told at once, as a paused transport would.
          if (head.kind === 'data' && (this.#consumerPaused || this.#stalled)) break;
          const wait = head.due - this.#clock.seconds();
          if (wait > EPSILON) {
            this.#schedule('read', wait);
            break;
          }
        }
        this.#readQueue.shift();
        switch (head.kind) {
          case 'data':
            this.#readQueued -= head.data.byteLength;
            this.wrappedProtocol.dataReceived(head.data);
            break;
          case 'fault':
            this.#inject(head.fault, 'read', head.bytes);
            break;
          case 'eof':
            (this.wrappedProtocol as { readConnectionLost?: () => void }).readConnectionLost?.();
            break;
          case 'lost':
            this.#delivered = true;
            this.#cancel('read');
            this.#cancel('stall');
            this.#cancel('resume');
            super.connectionLost(head.reason);
            break;
        }
      }
    } finally {
      this.#pumpingReads = false;
    }
    if (this.#readQueued <= QUEUE_LOW && this.#reading.has('queue')) {
      this.#reading.release('queue');
    }
  }

  #scheduleResume(): void {
    if (this.#readQueue.length === 0 || this.#resumeCall?.active() === true) return;
    this.#resumeCall = this.#clock.callLater(0, () => {
      this.#resumeCall = undefined;
      this.#pumpReads();
    });
  }

  // Writes

  #acceptWrite(data: Uint8Array): void {
    if (this.#aborted || this.#writeClosed || this.#lost) return;
    const now = this.#clock.seconds();
    for (const piece of this.#write.cut(data, WRITE_TERMINAL)) {
      if (typeof piece === 'string') {
        if (piece === 'half-close') this.#writeClosed = true;
        this.#writeQueue.push({
          kind: 'fault',
          fault: piece,
          bytes: this.#write.offset,
          due: this.#writeLastDue,
        });
        continue;
      }
      const due = Math.max(this.#writeLastDue, now + this.#write.nextDelay());
      this.#writeLastDue = due;
      this.#writeQueue.push({ kind: 'data', data: piece, due });
      this.#writeQueued += piece.byteLength;
    }
    if (this.#writeQueued > QUEUE_HIGH) this.#pushGate?.hold('queue');
    this.#pumpWrites();
  }

  #pumpWrites(): void {
    if (this.#pumpingWrites) return;
    this.#pumpingWrites = true;
    try {
      while (this.#writeQueue.length > 0 && !this.#aborted && !this.#transportClosed) {
        const head = this.#writeQueue.first() as WriteItem;
        const wait = head.due - this.#clock.seconds();
        if (wait > EPSILON) {
          this.#schedule('write', wait);
          break;
        }
        this.#writeQueue.shift();
        switch (head.kind) {
          case 'data':
            this.#writeQueued -= head.data.byteLength;
            this.transport.write(head.data);
            break;
          case 'fault':
            this.#inject(head.fault, 'write', head.bytes);
            break;
          case 'lose-write':
            this.#halfClosed = true;
            this.transport.loseWriteConnection();
            break;
        }
      }
    } finally {
      this.#pumpingWrites = false;
    }
    if (this.#aborted || this.#transportClosed) return;
    if (this.#writeQueued <= QUEUE_LOW) this.#pushGate?.release('queue');
    if (this.#writeQueue.length > 0) return;
    if (this.#closeRequested) {
      this.#transportClosed = true;
      this.transport.loseConnection();
      return;
    }
    const demand = this.#pullDemand;
    this.#pullDemand = undefined;
    demand?.();
  }

  // Faults

  #inject(fault: Fault, direction: 'read' | 'write', bytes: number): void {
    if (this.#aborted) return;
    const record = (kind: InjectedFault['fault']): void => {
      this.injected.push({ fault: kind, direction, bytes, time: this.#clock.seconds() });
      log.info(
        'Injected fault on {connection}: {fault} after {bytes} bytes {direction} (seed {seed}, connection {number})',
        {
          connection: this.logPrefix(),
          fault: kind,
          bytes,
          direction: direction === 'read' ? 'read' : 'written',
          seed: this.plan.seed,
          number: this.connectionNumber,
        },
      );
    };
    switch (fault) {
      case 'reset':
        record('reset');
        this.disconnecting = true;
        this.#abort();
        break;
      case 'half-close':
        if (this.#halfClosed || (direction === 'read' && this.#writeClosed)) return;
        record('half-close');
        if (direction === 'write') {
          this.#halfClosed = true;
          if (!this.#transportClosed) this.transport.loseWriteConnection();
        } else {
          this.#writeClosed = true;
          this.#writeQueue.push({ kind: 'lose-write', due: this.#writeLastDue });
          this.#pumpWrites();
        }
        break;
      case 'stall': {
        record('stall');
        this.#stalled = true;
        this.#reading.hold('stall');
        const seconds = this.plan.stall ?? Infinity;
        if (seconds !== Infinity) {
          this.#stallCall = this.#clock.callLater(seconds, () => {
            this.#stallCall = undefined;
            this.#stalled = false;
            record('stall-end');
            this.#reading.release('stall');
            this.#pumpReads();
          });
        }
        break;
      }
    }
  }

  #abort(): void {
    this.#aborted = true;
    this.#writeQueue.clear();
    this.#writeQueued = 0;
    this.#readQueue.clear();
    this.#readQueued = 0;
    this.#cancel('read');
    this.#cancel('write');
    this.#cancel('stall');
    this.#cancel('resume');
    if (this.#transportClosed) return;
    this.#transportClosed = true;
    this.transport.abortConnection();
  }

  #schedule(which: 'read' | 'write', wait: number): void {
    const timer = which === 'read' ? this.#readTimer : this.#writeTimer;
    if (timer?.active() === true) return;
    const call = this.#clock.callLater(wait, () => {
      if (which === 'read') {
        this.#readTimer = undefined;
        this.#pumpReads();
      } else {
        this.#writeTimer = undefined;
        this.#pumpWrites();
      }
    });
    if (which === 'read') this.#readTimer = call;
    else this.#writeTimer = call;
  }

  #cancel(which: 'read' | 'write' | 'stall' | 'resume'): void {
    const calls = {
      read: this.#readTimer,
      write: this.#writeTimer,
      stall: this.#stallCall,
      resume: this.#resumeCall,
    };
    const call = calls[which];
    if (call?.active() === true) call.cancel();
    if (which === 'read') this.#readTimer = undefined;
    else if (which === 'write') this.#writeTimer = undefined;
    else if (which === 'stall') this.#stallCall = undefined;
    else this.#resumeCall = undefined;
  }
}

/**
 * Injects seeded faults into every connection of the factory it wraps: a
 * server factory (wrap it before listening) or a client factory (before
 * connecting).
 *
 * @remarks
 * Each connection gets a {@link FaultInjectingProtocol} with the plan, and
 * a seed drawn from the plan's seed and the connection's number, so a run
 * with the same seed and the same traffic cuts and delays the same way.
 * For tests over loopback, and for the `torsion --inject-faults` option;
 * not for production traffic.
 *
 * @example
 * ```ts
 * const faulty = new FaultInjectingFactory(
 *   Factory.forProtocol(Echo),
 *   { seed: 7, split: { min: 1, max: 16 }, delay: { min: 0, max: 0.01 } },
 *   reactor,
 * );
 * reactor.listenTCP(0, faulty, { interface: '127.0.0.1' });
 * ```
 *
 * @since 0.1.0
 */
export class FaultInjectingFactory extends WrappingFactory<FaultInjectingProtocol> {
  /** The plan (checked). */
  readonly plan: FaultPlan;
  /** Times the delays and stalls: the reactor, or a `Clock` in tests. */
  readonly clock: IReactorTime;
  /** How many connections it has wrapped: the next connection's number. */
  connections = 0;

  /**
   * @param wrappedFactory - The factory whose connections get the faults.
   * @param plan - The faults, as a plan or its string form.
   * @param clock - Times the delays and stalls.
   * @throws FaultSpecError if the plan is not valid; TypeError without a
   *   clock.
   */
  constructor(wrappedFactory: WrappedFactory, plan: FaultPlan | string, clock: IReactorTime) {
    super(wrappedFactory);
    this.plan = typeof plan === 'string' ? parseFaultSpec(plan) : checkPlan(plan);
    this.clock = requireClock(clock, 'FaultInjectingFactory needs a clock (IReactorTime)');
  }

  /** Wraps one connection's protocol, numbering it. */
  override wrapProtocol(wrappedProtocol: IProtocol, _addr: IAddress): FaultInjectingProtocol {
    return new FaultInjectingProtocol(this, wrappedProtocol, this.connections++);
  }
}
