// SimulatedNetwork: many hosts in one virtual time, joined by links with
// latency, jitter, loss, bandwidth and an MTU, with partitions, resets,
// crashes and a fault schedule, all drawn from one seed; every segment,
// connection and fault is traced, and a run can be replayed against a trace.
// Tests: test/unit/testing/simulation-core.test.ts, test/unit/testing/simulation-scenarios.test.ts,
// test/unit/testing/simulation-existing-code.test.ts, test/unit/testing/simulation-udp.test.ts

import { IPv4Address } from '../../internet/address.js';
import { Deferred } from '../../internet/defer.js';
import { Failure } from '../../internet/failure.js';
import type { IProtocol, IProtocolFactory } from '../../internet/interfaces.js';
import { assertionError } from '../_assertion-error.js';
import { EventQueue, Task } from './_events.js';
import {
  type ConnectAttempt,
  type HostNetwork,
  SimulatedHost,
  type SimulatedHostOptions,
} from './host.js';
import { SeededRandom } from './random.js';
import {
  buildProtocolFor,
  KIND_NAMES,
  type LinkState,
  NullProtocol,
  RST,
  Segment,
  type SegmentHandler,
  SimulatedConnection,
  SimulatedTransport,
  SYN,
  type Wire,
} from './transport.js';
import { Datagram, type DatagramHandler, type SimulatedUDPPort, UDP_HEADERS } from './udp.js';

/**
 * The conditions of a link, one direction or both.
 *
 * @since 0.1.0
 */
export interface LinkOptions {
  /** One-way delay in seconds. @defaultValue 0.001 */
  latency?: number | undefined;
  /** Extra delay, uniform in [0, jitter) seconds, drawn per segment. @defaultValue 0 */
  jitter?: number | undefined;
  /** The probability that a transmission is lost (then sent again after a timeout). @defaultValue 0 */
  loss?: number | undefined;
  /** Bytes per second; `Infinity` for no limit. @defaultValue Infinity */
  bandwidth?: number | undefined;
  /**
   * The largest packet; TCP segments carry at most `mtu - 40` bytes, and a
   * UDP datagram longer than `mtu - 28` bytes is dropped (not fragmented).
   * @defaultValue 1500
   */
  mtu?: number | undefined;
}

/**
 * Options of {@link SimulatedNetwork}.
 *
 * @since 0.1.0
 */
export interface SimulatedNetworkOptions {
  /** The seed of every random choice. @defaultValue 1 */
  seed?: number | undefined;
  /** The conditions of every link not configured with `link()`. */
  link?: LinkOptions | undefined;
  /** The first retransmission timeout, in seconds (doubling on each retry, at most 60). @defaultValue 0.2 */
  rto?: number | undefined;
  /** Seconds after which a sender gives up on an unacknowledged segment and loses the connection. @defaultValue 100 */
  giveUpAfter?: number | undefined;
  /** Bytes in flight a transport does not count as buffered (the kernel's socket buffer). @defaultValue 65536 */
  socketBuffer?: number | undefined;
  /** Record the trace. @defaultValue true */
  trace?: boolean | undefined;
}

/**
 * One line of a simulation's trace: what happened (`ev`) at virtual time
 * `t`, with its details.
 *
 * @remarks
 * Events: `host`, `listen`, `unlisten`, `connect`, `accept`, `refused`,
 * `connect-failed`, `send` (a transmission: `kind` syn/synack/data/fin/rst,
 * `conn`, `from`, `i` the segment's index, `len` and `sum` a checksum of
 * the bytes, `try` the transmission number), `lost` (random loss), `drop`
 * (a partition or a host down), `recv`, `timeout` (a sender gave up),
 * `closed`, `partition`, `heal`, `reset`, `link`, `crash`, `restart`,
 * `stop`, `mark` (from {@link SimulatedNetwork.mark}).
 *
 * UDP: `udp-listen`, `udp-unlisten`, `udp-send` (`d` the datagram's
 * number, `from` host:port, `to` address:port, `len`, `sum`), `udp-lost`
 * (random loss: never sent again), `udp-drop` (`reason`: `mtu`,
 * `partition`, `down`, `no-host`, `not-peer` for a connected port's
 * stranger, `broadcast-not-allowed`), `udp-recv`, `udp-unreachable` (no
 * port: an ICMP port unreachable goes back), and for that answer
 * `icmp-send`, `icmp-lost`, `icmp-drop`, `icmp-recv` (`refused`: whether a
 * connected port's `connectionRefused` was called).
 *
 * @since 0.1.0
 */
export interface TraceEvent {
  /** Virtual time, seconds. */
  readonly t: number;
  /** What happened. */
  readonly ev: string;
  /** Details. */
  readonly [field: string]: string | number | boolean | undefined;
}

/**
 * A fault at a virtual time, for {@link SimulatedNetwork.scheduleFaults}.
 *
 * @since 0.1.0
 */
export type FaultSpec =
  | {
      /** When, in virtual seconds. */
      readonly at: number;
      /** What to do. */
      readonly run: () => void;
    }
  | {
      /** When, in virtual seconds. */
      readonly at: number;
      /** The groups to cut apart (the second defaults to every other host). */
      readonly partition: readonly [HostSet, HostSet?];
    }
  | {
      /** When, in virtual seconds. */
      readonly at: number;
      /** End every partition. */
      readonly heal: true;
    }
  | {
      /** When, in virtual seconds. */
      readonly at: number;
      /** The host to crash. */
      readonly crash: HostRef;
    }
  | {
      /** When, in virtual seconds. */
      readonly at: number;
      /** The host to restart. */
      readonly restart: HostRef;
    }
  | {
      /** When, in virtual seconds. */
      readonly at: number;
      /** Two hosts and their link's new conditions (both directions). */
      readonly link: readonly [HostRef, HostRef, LinkOptions];
    };

/**
 * A host, by object or name.
 *
 * @since 0.1.0
 */
export type HostRef = SimulatedHost | string;

/**
 * Hosts, by object or name.
 *
 * @since 0.1.0
 */
export type HostSet = readonly HostRef[] | HostRef;

/**
 * Rates of the faults {@link SimulatedNetwork.randomFaults} draws, each
 * in events per virtual second.
 *
 * @since 0.1.0
 */
export interface RandomFaultOptions {
  /** Start drawing at this virtual time. @defaultValue now */
  from?: number | undefined;
  /** Stop drawing at this virtual time (required: a bound on the faults). */
  until: number;
  /** Resets of a random open connection. @defaultValue 0 */
  resets?: number | undefined;
  /** Partitions of one random host from the others. @defaultValue 0 */
  partitions?: number | undefined;
  /** How long a partition lasts, seconds. @defaultValue 5 */
  partitionDuration?: number | undefined;
  /** Crashes of a random host (restarted after `downtime`). @defaultValue 0 */
  crashes?: number | undefined;
  /** How long a crashed host stays down, seconds. @defaultValue 5 */
  downtime?: number | undefined;
  /** The hosts faults may strike. @defaultValue every host */
  hosts?: readonly HostRef[] | undefined;
}

/**
 * Options of {@link SimulatedNetwork.runUntil} and `runUntilIdle`.
 *
 * @since 0.1.0
 */
export interface SimulationRunOptions {
  /** Virtual seconds before giving up with {@link SimulationTimeout}. @defaultValue 600 */
  timeout?: number | undefined;
  /** What is awaited, for the error message. */
  what?: string | undefined;
}

/**
 * The simulation did not reach what `runUntil` waited for: it ran out of
 * events or virtual time. The message names the seed.
 *
 * @since 0.1.0
 */
export class SimulationTimeout extends Error {
  /** `'SimulationTimeout'`. */
  override name = 'SimulationTimeout';
  /** The seed of the network. */
  readonly seed: number;
  /**
   * @param message - What was not reached.
   * @param seed - The network's seed.
   */
  constructor(message: string, seed: number) {
    super(`${message} (seed ${seed}; reproduce with SIMULATION_SEED=${seed})`);
    this.seed = seed;
  }
}

/**
 * Counters of a network's activity (UDP datagrams and their ICMP answers
 * included).
 */
export interface SimulationStats {
  /** Transmissions, retransmissions included. */
  readonly sent: number;
  /** Segments that arrived. */
  readonly delivered: number;
  /** Transmissions lost at random. */
  readonly lost: number;
  /** Transmissions dropped by a partition or a host that was down (and datagrams over the MTU). */
  readonly dropped: number;
  /** Events run (segments, timers, tasks). */
  readonly events: number;
}

/** A link's conditions, every field set. */
interface LinkValues {
  latency: number;
  jitter: number;
  loss: number;
  bandwidth: number;
  mtu: number;
}

const ADDRESS_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * A deterministic network of simulated hosts in one virtual time.
 *
 * @remarks
 * Each host ({@link SimulatedNetwork.addHost}) is a reactor for the code
 * running on it. Links carry TCP segments with the configured latency,
 * jitter, loss, bandwidth and MTU per direction; a lost segment is sent
 * again after a retransmission timeout, so the byte stream stays reliable
 * and ordered and loss shows up as delay. Partitions, resets, crashes and
 * restarts can be applied at once, scheduled (`at`, `scheduleFaults`) or
 * drawn from the seed (`randomFaults`).
 *
 * Nothing happens between calls: `advance`, `runUntil` and `runUntilIdle`
 * run the events in virtual-time order (simultaneous events in the order
 * they were scheduled), on one thread, with one seeded generator: the same
 * seed and code give the same events, byte for byte, which the trace
 * ({@link SimulatedNetwork.trace}) records.
 *
 * @example
 * ```ts
 * const network = new SimulatedNetwork({ seed: 7 });
 * const server = network.addHost('server');
 * const client = network.addHost('client');
 * network.link(client, server, { latency: 0.05, loss: 0.01 });
 * server.listenTCP(80, Factory.forProtocol(Echo));
 * const d = clientFromString(client, 'tcp:server:80').connect(factory);
 * const protocol = network.runUntil(d);
 * ```
 *
 * @since 0.1.0
 */
export class SimulatedNetwork {
  /** The seed. */
  readonly seed: number;
  /** The network's one random generator (code under test may draw from it too). */
  readonly random: SeededRandom;
  /** @internal */
  readonly queue = new EventQueue();
  /** @internal */
  readonly socketBuffer: number;
  /** Errors thrown by callbacks (logged, as a reactor logs them), in order. */
  readonly errors: unknown[] = [];
  readonly #defaults: LinkValues;
  readonly #rto: number;
  readonly #giveUp: number;
  readonly #tracing: boolean;
  readonly #trace: TraceEvent[] = [];
  readonly #hosts = new Map<string, SimulatedHost>();
  readonly #byAddress = new Map<string, SimulatedHost>();
  readonly #links = new Map<SimulatedHost, Map<SimulatedHost | undefined, LinkState>>();
  readonly #open = new Set<SimulatedConnection>();
  #now = 0;
  #nextHost = 1;
  #nextConnection = 1;
  #nextDatagram = 1;
  #sent = 0;
  #delivered = 0;
  #lost = 0;
  #dropped = 0;
  #events = 0;
  #expected: TraceEvent[] | undefined;
  #divergence: string | undefined;

  /**
   * @param options - See {@link SimulatedNetworkOptions}.
   * @throws TypeError or RangeError for bad options.
   */
  constructor(options: SimulatedNetworkOptions = {}) {
    this.seed = options.seed ?? 1;
    this.random = new SeededRandom(this.seed);
    this.#defaults = resolveLink(options.link ?? {}, {
      latency: 0.001,
      jitter: 0,
      loss: 0,
      bandwidth: Number.POSITIVE_INFINITY,
      mtu: 1500,
    });
    this.#rto = positive(options.rto ?? 0.2, 'rto');
    this.#giveUp = positive(options.giveUpAfter ?? 100, 'giveUpAfter');
    this.socketBuffer = options.socketBuffer ?? 65536;
    if (!(this.socketBuffer >= 0)) throw new RangeError('socketBuffer must be at least 0');
    this.#tracing = options.trace ?? true;
    this.segmentFired = this.segmentFired.bind(this);
    this.datagramFired = this.datagramFired.bind(this);
  }

  // -- Hosts and links -------------------------------------------------------

  /**
   * Adds a host.
   *
   * @param name - Unique; also resolves to the host's address inside the
   *   simulation.
   * @param options - Its addresses and boot function.
   * @returns The host, a reactor for the code running on it.
   * @throws Error if the name or an address is taken, or an address is not
   *   dotted-quad IPv4.
   */
  addHost(name: string, options: SimulatedHostOptions = {}): SimulatedHost {
    if (typeof name !== 'string' || name === '') throw new TypeError('a host needs a name');
    if (this.#hosts.has(name)) throw new Error(`a host is called ${name} already`);
    let addresses = options.addresses;
    if (addresses === undefined) {
      let address: string;
      do {
        const n = this.#nextHost++;
        address = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      } while (this.#byAddress.has(address));
      addresses = [address];
    }
    if (addresses.length === 0) throw new Error(`host ${name} needs at least one address`);
    for (const address of addresses) {
      if (!ADDRESS_RE.test(address) || !isIPv4(address)) {
        throw new Error(`${address} is not an IPv4 address (host ${name})`);
      }
      if (this.#byAddress.has(address)) {
        throw new Error(`address ${address} belongs to ${String(this.#byAddress.get(address))}`);
      }
    }
    const host = new SimulatedHost(internals(this), name, [...addresses]);
    this.#hosts.set(name, host);
    for (const address of addresses) this.#byAddress.set(address, host);
    this.record('host', { host: name, addresses: addresses.join(',') });
    if (options.boot !== undefined) host.onBoot(options.boot);
    return host;
  }

  /**
   * The host called `name`.
   *
   * @throws Error if there is none.
   */
  host(name: string): SimulatedHost {
    const host = this.#hosts.get(name);
    if (host === undefined) throw new Error(`no simulated host is called ${name}`);
    return host;
  }

  /** Every host, in the order they were added. */
  get hosts(): SimulatedHost[] {
    return [...this.#hosts.values()];
  }

  /**
   * Sets the conditions between two hosts, both directions (or only from
   * `a` to `b` with `oneWay`). Unset fields keep the network's defaults.
   *
   * @throws RangeError for a negative latency, a loss outside [0, 1), an MTU under 41.
   */
  link(a: HostRef, b: HostRef, options: LinkOptions, how: { oneWay?: boolean } = {}): void {
    const from = this.#ref(a);
    const to = this.#ref(b);
    const resolved = resolveLink(options, this.#defaults);
    const apply = (x: SimulatedHost, y: SimulatedHost): void => {
      const state = this.link_(x, y);
      state.latency = resolved.latency;
      state.jitter = resolved.jitter;
      state.loss = resolved.loss;
      state.bandwidth = resolved.bandwidth;
      state.mtu = resolved.mtu;
    };
    apply(from, to);
    if (how.oneWay !== true) apply(to, from);
    this.record('link', {
      a: from.name,
      b: to.name,
      oneWay: how.oneWay === true,
      ...resolved,
    });
  }

  /**
   * Cuts every link between `groupA` and `groupB` (both directions; by
   * default `groupB` is every other host). Segments that meet the cut are
   * dropped and retransmitted until `heal()` or their sender gives up.
   */
  partition(groupA: HostSet, groupB?: HostSet): void {
    const a = this.#refs(groupA);
    const b = groupB === undefined ? this.hosts.filter((h) => !a.includes(h)) : this.#refs(groupB);
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        this.link_(x, y).partitioned = true;
        this.link_(y, x).partitioned = true;
      }
    }
    this.record('partition', {
      a: a.map((h) => h.name).join(','),
      b: b.map((h) => h.name).join(','),
    });
  }

  /** Ends every partition. */
  heal(): void {
    for (const targets of this.#links.values()) {
      for (const state of targets.values()) state.partitioned = false;
    }
    this.record('heal', {});
  }

  /**
   * Resets a connection: both ends lose it at once with `ConnectionLost`
   * ("Connection reset by peer"), as after an RST from a middlebox.
   *
   * @param target - The connection, one of its transports, or a protocol
   *   connected by one.
   * @throws TypeError if `target` is none of these.
   */
  reset(target: SimulatedConnection | SimulatedTransport | IProtocol): void {
    const connection = connectionOf(target);
    this.record('reset', { conn: connection.id });
    connection.client.resetNow();
    connection.server.resetNow();
  }

  /** The connections not yet closed at both ends, oldest first. */
  get connections(): SimulatedConnection[] {
    return [...this.#open];
  }

  // -- Time and running ------------------------------------------------------

  /** The virtual time, in seconds. */
  seconds(): number {
    return this.#now;
  }

  /** The number of pending events (segments, timers, tasks). */
  get pending(): number {
    return this.queue.size;
  }

  /** Counters of what the network did. */
  get stats(): SimulationStats {
    return {
      sent: this.#sent,
      delivered: this.#delivered,
      lost: this.#lost,
      dropped: this.#dropped,
      events: this.#events,
    };
  }

  /**
   * Runs `fn` at virtual time `t` (or now, if `t` has passed).
   *
   * @throws RangeError if `t` is not a number.
   */
  at(t: number, fn: () => void): void {
    if (typeof t !== 'number' || Number.isNaN(t)) throw new RangeError(`bad time ${String(t)}`);
    this.queue.push(new Task(() => this.#guard(fn)), Math.max(t, this.#now));
  }

  /** Runs `fn` `delay` virtual seconds from now. */
  after(delay: number, fn: () => void): void {
    this.at(this.#now + delay, fn);
  }

  /** Schedules each fault at its time. */
  scheduleFaults(faults: readonly FaultSpec[]): void {
    for (const fault of faults) {
      if ('run' in fault) this.at(fault.at, fault.run);
      else if ('partition' in fault) {
        const [a, b] = fault.partition;
        this.at(fault.at, () => this.partition(a, b));
      } else if ('heal' in fault) this.at(fault.at, () => this.heal());
      else if ('crash' in fault) this.at(fault.at, () => this.#ref(fault.crash).crash());
      else if ('restart' in fault) this.at(fault.at, () => this.#ref(fault.restart).restart());
      else if ('link' in fault) {
        const [a, b, options] = fault.link;
        this.at(fault.at, () => this.link(a, b, options));
      } else throw new TypeError(`unknown fault ${JSON.stringify(fault)}`);
    }
  }

  /**
   * Draws faults from the seed (a Poisson process per kind of fault) and
   * schedules them between `from` and `until`.
   *
   * @returns The number of faults scheduled.
   * @throws RangeError if `until` is missing or a rate is negative.
   */
  randomFaults(options: RandomFaultOptions): number {
    const from = options.from ?? this.#now;
    const until = options.until;
    if (typeof until !== 'number' || !(until >= from)) {
      throw new RangeError('randomFaults needs `until`, a time after `from`');
    }
    const pool = (): SimulatedHost[] =>
      options.hosts === undefined ? this.hosts : options.hosts.map((h) => this.#ref(h));
    let count = 0;
    const draw = (rate: number | undefined, name: string, strike: () => void): void => {
      if (rate === undefined || rate === 0) return;
      if (!(rate > 0)) throw new RangeError(`the rate of ${name} must be positive`);
      for (let t = from + this.random.exponential(rate); t < until; ) {
        this.at(t, strike);
        count++;
        t += this.random.exponential(rate);
      }
    };
    draw(options.resets, 'resets', () => {
      const open = this.connections;
      if (open.length > 0) this.reset(open[this.random.below(open.length)] as SimulatedConnection);
    });
    const partitionFor = options.partitionDuration ?? 5;
    draw(options.partitions, 'partitions', () => {
      const hosts = pool();
      if (hosts.length === 0) return;
      const victim = hosts[this.random.below(hosts.length)] as SimulatedHost;
      this.partition([victim]);
      this.after(partitionFor, () => this.heal());
    });
    const downtime = options.downtime ?? 5;
    draw(options.crashes, 'crashes', () => {
      const hosts = pool().filter((h) => h.up);
      if (hosts.length === 0) return;
      const victim = hosts[this.random.below(hosts.length)] as SimulatedHost;
      victim.crash();
      this.after(downtime, () => {
        if (!victim.up) victim.restart();
      });
    });
    return count;
  }

  /**
   * Runs every event due within the next `seconds` of virtual time, then
   * sets the clock to the end of that span.
   *
   * @throws RangeError if `seconds` is negative or NaN.
   */
  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new RangeError(`cannot advance by ${seconds} seconds`);
    const end = this.#now + seconds;
    const queue = this.queue;
    for (let next = queue.peek(); next !== undefined && next.time <= end; next = queue.peek()) {
      this.#step();
    }
    this.#now = end;
  }

  /**
   * Runs events until `until` holds: a predicate, or a Deferred that has
   * fired (its result is returned, its failure thrown).
   *
   * @throws SimulationTimeout if the events run out or `timeout` virtual
   *   seconds pass first (the message names the seed).
   */
  runUntil<T>(until: Deferred<T>, options?: SimulationRunOptions): T;
  runUntil(until: () => boolean, options?: SimulationRunOptions): void;
  runUntil<T>(
    until: Deferred<T> | (() => boolean),
    options: SimulationRunOptions = {},
  ): T | undefined {
    const deadline = this.#now + (options.timeout ?? 600);
    let done: () => boolean;
    let outcome: { value: unknown } | undefined;
    if (until instanceof Deferred) {
      until.addBoth((result: unknown) => {
        outcome = { value: result };
        return result;
      });
      done = () => outcome !== undefined;
    } else if (typeof until === 'function') {
      done = until;
    } else {
      throw new TypeError('runUntil needs a predicate or a Deferred');
    }
    const what =
      options.what ?? (until instanceof Deferred ? 'the Deferred to fire' : String(until));
    const queue = this.queue;
    while (!done()) {
      const next = queue.peek();
      if (next === undefined) {
        throw new SimulationTimeout(
          `runUntil: nothing left to happen at t=${this.#now}s, and still waiting for ${what}`,
          this.seed,
        );
      }
      if (next.time > deadline) {
        this.#now = deadline;
        throw new SimulationTimeout(
          `runUntil: ${options.timeout ?? 600} virtual seconds passed (t=${this.#now}s) waiting for ${what}`,
          this.seed,
        );
      }
      this.#step();
    }
    if (outcome === undefined) return undefined;
    if (outcome.value instanceof Failure) throw outcome.value.value;
    return outcome.value as T;
  }

  /**
   * Runs events until none is left.
   *
   * @throws SimulationTimeout if events remain after `timeout` virtual
   *   seconds (a looping call never lets the network go idle).
   */
  runUntilIdle(options: SimulationRunOptions = {}): void {
    const timeout = options.timeout ?? 600;
    const deadline = this.#now + timeout;
    const queue = this.queue;
    for (let next = queue.peek(); next !== undefined; next = queue.peek()) {
      if (next.time > deadline) {
        this.#now = deadline;
        throw new SimulationTimeout(
          `runUntilIdle: still busy after ${timeout} virtual seconds (t=${this.#now}s, ${queue.size} events pending)`,
          this.seed,
        );
      }
      this.#step();
    }
  }

  // -- Trace and replay ------------------------------------------------------

  /** The trace so far (empty if the network was made with `trace: false`). */
  get trace(): readonly TraceEvent[] {
    return this.#trace;
  }

  /** The trace as JSON lines, one event a line. */
  traceJSONLines(): string {
    let out = '';
    for (const event of this.#trace) out += `${JSON.stringify(event)}\n`;
    return out;
  }

  /** Adds a line of the caller's to the trace. */
  mark(label: string, fields: Record<string, string | number | boolean> = {}): void {
    this.record('mark', { label, ...fields });
  }

  /**
   * Compares this run, as it goes, with an earlier one's trace (events or
   * JSON lines): {@link SimulatedNetwork.assertReplayed} then reports the
   * first difference. Build the same hosts and run the same code with the
   * same seed.
   */
  replay(trace: readonly TraceEvent[] | string): void {
    this.#expected =
      typeof trace === 'string'
        ? trace
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => JSON.parse(line) as TraceEvent)
        : [...trace];
    this.#divergence = undefined;
    for (let i = 0; i < this.#trace.length; i++) this.#compare(i);
  }

  /**
   * Throws an AssertionError naming the first event where this run left the
   * replayed trace, or the first missing event.
   *
   * @throws Error if `replay()` was not called.
   */
  assertReplayed(): void {
    const expected = this.#expected;
    if (expected === undefined) throw new Error('assertReplayed: call replay(trace) first');
    if (this.#divergence !== undefined) throw assertionError(this.#divergence);
    if (this.#trace.length < expected.length) {
      throw assertionError(
        `the run ended after ${this.#trace.length} of ${expected.length} traced events; the next expected was ${JSON.stringify(expected[this.#trace.length])} (seed ${this.seed})`,
      );
    }
  }

  // -- Internal: HostNetwork, Wire, SegmentHandler -----------------------------

  /** @internal */
  now(): number {
    return this.#now;
  }

  /** @internal */
  record(ev: string, fields: Record<string, string | number | boolean>): void {
    if (!this.#tracing) return;
    this.#push({ t: this.#now, ev, ...fields } as TraceEvent);
  }

  #push(event: TraceEvent): void {
    this.#trace.push(event);
    if (this.#expected !== undefined && this.#divergence === undefined) {
      this.#compare(this.#trace.length - 1);
    }
  }

  /** @internal */
  callbackFailed(error: unknown): void {
    this.errors.push(error);
  }

  /** @internal */
  soon(host: SimulatedHost, fn: () => void): Task {
    return this.later(host, 0, fn);
  }

  /** @internal */
  later(host: SimulatedHost, delay: number, fn: () => void): Task {
    const incarnation = host.incarnation;
    const task = new Task(() => {
      if (host.incarnation === incarnation) this.#guard(fn);
    });
    this.queue.push(task, this.#now + delay);
    return task;
  }

  /** @internal */
  addressOf(name: string): string | undefined {
    if (isIPv4(name)) return name;
    if (name === 'localhost') return '127.0.0.1';
    return this.#hosts.get(name)?.address;
  }

  /** @internal */
  linkBetween(from: SimulatedHost, to: SimulatedHost | undefined): LinkState {
    return this.link_(from, to);
  }

  /** @internal */
  link_(from: SimulatedHost, to: SimulatedHost | undefined): LinkState {
    let targets = this.#links.get(from);
    if (targets === undefined) {
      targets = new Map();
      this.#links.set(from, targets);
    }
    let state: LinkState | undefined = targets.get(to);
    if (state === undefined) {
      const d = this.#defaults;
      state = {
        latency: d.latency,
        jitter: d.jitter,
        loss: d.loss,
        bandwidth: d.bandwidth,
        mtu: d.mtu,
        busyUntil: 0,
        partitioned: false,
      };
      targets.set(to, state);
    }
    return state;
  }

  /** @internal */
  sendSyn(attempt: ConnectAttempt): void {
    const src = attempt.host;
    const dst = this.#hostFor(src, attempt.address);
    this.send(
      new Segment(
        this,
        SYN,
        src,
        dst,
        this.link_(src, dst),
        undefined,
        undefined,
        -1,
        undefined,
        attempt,
      ),
    );
  }

  /** @internal */
  refuse(attempt: ConnectAttempt, from: SimulatedHost): void {
    this.record('refused', { host: from.name, port: attempt.port });
    const to = attempt.host;
    this.send(
      new Segment(
        this,
        RST,
        from,
        to,
        this.link_(from, to),
        undefined,
        undefined,
        -1,
        undefined,
        attempt,
      ),
    );
  }

  /** @internal */
  accept(attempt: ConnectAttempt, server: SimulatedHost, factory: IProtocolFactory): void {
    const clientHost = attempt.host;
    const serverAddress = new IPv4Address('TCP', attempt.address, attempt.port);
    const clientAddress = new IPv4Address('TCP', attempt.localAddress, attempt.localPort);
    const serverSide = new SimulatedTransport(
      internals(this),
      server,
      true,
      serverAddress,
      clientAddress,
    );
    const clientSide = new SimulatedTransport(
      internals(this),
      clientHost,
      false,
      clientAddress,
      serverAddress,
    );
    const connection = new SimulatedConnection(this.#nextConnection++, clientSide, serverSide);
    for (const [side, peer] of [
      [serverSide, clientSide],
      [clientSide, serverSide],
    ] as const) {
      side.connection = connection;
      side.peerTransport = peer;
    }
    const connector = attempt.connector;
    clientSide.onSynAck = (transport) => connector.synAck(attempt, transport);
    server.transports.add(serverSide);
    clientHost.transports.add(clientSide);
    const forget = (host: SimulatedHost, side: SimulatedTransport): void => {
      const previous = side.onLost;
      side.onLost = (reason) => {
        host.transports.delete(side);
        previous?.(reason);
      };
    };
    this.record('accept', { conn: connection.id, from: clientSide.label, to: serverSide.label });
    serverSide.sendSynAck();
    const protocol = buildProtocolFor(factory, clientAddress);
    forget(server, serverSide);
    serverSide.attach(protocol ?? new NullProtocol());
    if (protocol === null) serverSide.loseConnection();
    const previousSynAck = clientSide.onSynAck;
    clientSide.onSynAck = (transport) => {
      const ok = previousSynAck(transport);
      if (ok) forget(clientHost, clientSide);
      return ok;
    };
  }

  /** @internal */
  connectionOpened(connection: SimulatedConnection): void {
    this.#open.add(connection);
  }

  /** @internal */
  connectionClosed(connection: SimulatedConnection): void {
    if (this.#open.delete(connection)) this.record('closed', { conn: connection.id });
  }

  /** @internal Transmits a segment (first time or again). */
  send(segment: Segment): void {
    const now = this.#now;
    if (segment.attempts === 1) segment.firstSent = now;
    segment.sentAt = now;
    this.#sent++;
    const link = segment.link;
    if (this.#tracing) this.#traceSegment('send', segment);
    if (link.loss > 0 && segment.kind !== RST && this.random.next() < link.loss) {
      this.#lost++;
      if (this.#tracing) this.#traceSegment('lost', segment);
      segment.retransmitting = true;
      this.queue.push(segment, now + this.#rtoFor(segment));
      return;
    }
    let depart = now;
    if (link.bandwidth !== Number.POSITIVE_INFINITY) {
      const size = (segment.data?.byteLength ?? 0) + 40;
      depart = Math.max(now, link.busyUntil) + size / link.bandwidth;
      link.busyUntil = depart;
    }
    let arrive = depart + link.latency;
    if (link.jitter > 0) arrive += this.random.next() * link.jitter;
    const sender = segment.sender;
    if (sender !== undefined && segment.attempts === 1) {
      if (arrive < sender.lastArrival) arrive = sender.lastArrival;
      sender.lastArrival = arrive;
    }
    this.queue.push(segment, arrive);
  }

  /** @internal A segment arrives, or is due to be sent again. */
  segmentFired(segment: Segment): void {
    if (segment.retransmitting) {
      segment.retransmitting = false;
      const src = segment.src;
      if (!src.up || src.incarnation !== segment.srcIncarnation) return;
      const sender = segment.sender;
      if (segment.kind === SYN) {
        if (!(segment.attempt as ConnectAttempt).alive) return;
      } else if (sender !== undefined) {
        if (sender.abandoned) return;
        if (this.#now - segment.firstSent > this.#giveUp) {
          if (!sender.connectionLostReported) {
            this.record('timeout', { conn: sender.connection.id, from: sender.label });
            sender.timedOut();
          }
          return;
        }
      }
      segment.attempts++;
      this.send(segment);
      return;
    }
    const dst = segment.dst;
    if (segment.link.partitioned || dst === undefined || !dst.up) {
      this.#dropped++;
      if (this.#tracing) this.#traceSegment('drop', segment);
      if (segment.kind === RST) return;
      segment.retransmitting = true;
      this.queue.push(segment, Math.max(this.#now, segment.sentAt + this.#rtoFor(segment)));
      return;
    }
    this.#delivered++;
    if (this.#tracing) this.#traceSegment('recv', segment);
    const receiver = segment.receiver;
    if (receiver !== undefined) {
      receiver.receive(segment);
      return;
    }
    const attempt = segment.attempt as ConnectAttempt;
    if (segment.kind === SYN) {
      if (dst.incarnation !== undefined) {
        const listener = dst.listenerFor(attempt.address, attempt.port);
        if (listener === undefined) this.refuse(attempt, dst);
        else this.accept(attempt, dst, listener.factory);
      }
      return;
    }
    // A reset answering a SYN.
    attempt.connector.refused(attempt);
  }

  /** @internal Sends a datagram from `port` (to every host, for 255.255.255.255). */
  sendDatagram(port: SimulatedUDPPort, data: Uint8Array, address: string, dstPort: number): void {
    const src = port.host;
    const copy = data.slice();
    if (address === '255.255.255.255') {
      for (const dst of this.#hosts.values()) {
        this.#sendDatagram(port, copy, src.address, address, dstPort, dst);
      }
      return;
    }
    const dst = this.#hostFor(src, address);
    let srcAddress = src.address;
    if (address === '127.0.0.1') srcAddress = '127.0.0.1';
    else if (port.iface !== '0.0.0.0' && port.iface !== '127.0.0.1') srcAddress = port.iface;
    this.#sendDatagram(port, copy, srcAddress, address, dstPort, dst);
  }

  #sendDatagram(
    port: SimulatedUDPPort,
    data: Uint8Array,
    srcAddress: string,
    address: string,
    dstPort: number,
    dst: SimulatedHost | undefined,
  ): void {
    const src = port.host;
    const link = this.link_(src, dst);
    const datagram = new Datagram(
      internals(this),
      this.#nextDatagram++,
      false,
      src,
      dst,
      link,
      port,
      srcAddress,
      port.port,
      address,
      dstPort,
      data,
    );
    if (this.#tracing) {
      this.#push({
        t: this.#now,
        ev: 'udp-send',
        d: datagram.id,
        from: `${src.name}:${port.port}`,
        to: `${address}:${dstPort}`,
        len: data.byteLength,
        sum: checksum(data),
      });
    }
    if (data.byteLength > link.mtu - UDP_HEADERS) {
      this.#sent++;
      this.#dropped++;
      this.record('udp-drop', { d: datagram.id, reason: 'mtu', mtu: link.mtu });
      return;
    }
    this.#transmit(datagram, 'udp');
  }

  /** Loss, bandwidth, latency and jitter for a datagram or an ICMP answer; no retransmission. */
  #transmit(datagram: Datagram, what: 'udp' | 'icmp'): void {
    const now = this.#now;
    const link = datagram.link;
    this.#sent++;
    if (link.loss > 0 && this.random.next() < link.loss) {
      this.#lost++;
      this.record(`${what}-lost`, { d: datagram.id });
      return;
    }
    let depart = now;
    if (link.bandwidth !== Number.POSITIVE_INFINITY) {
      const size = (datagram.icmp ? 28 : datagram.data.byteLength) + UDP_HEADERS;
      depart = Math.max(now, link.busyUntil) + size / link.bandwidth;
      link.busyUntil = depart;
    }
    let arrive = depart + link.latency;
    if (link.jitter > 0) arrive += this.random.next() * link.jitter;
    this.queue.push(datagram, arrive);
  }

  /** @internal A datagram (or an ICMP answer) arrives. */
  datagramFired(datagram: Datagram): void {
    const what = datagram.icmp ? 'icmp' : 'udp';
    const dst = datagram.dst;
    if (datagram.link.partitioned || dst === undefined || !dst.up) {
      this.#dropped++;
      const reason = datagram.link.partitioned
        ? 'partition'
        : dst === undefined
          ? 'no-host'
          : 'down';
      this.record(`${what}-drop`, { d: datagram.id, reason });
      return;
    }
    this.#delivered++;
    if (datagram.icmp) {
      const refused =
        datagram.port.host === dst &&
        datagram.port.unreachable(datagram.srcAddress, datagram.srcPort);
      this.record('icmp-recv', { d: datagram.id, refused });
      return;
    }
    const udp = dst.udpPortFor(datagram.dstAddress, datagram.dstPort);
    if (udp === undefined) {
      this.record('udp-unreachable', { d: datagram.id, host: dst.name, port: datagram.dstPort });
      if (datagram.dstAddress === '255.255.255.255') return;
      const src = datagram.src;
      const answer = new Datagram(
        internals(this),
        datagram.id,
        true,
        dst,
        src,
        this.link_(dst, src),
        datagram.port,
        datagram.dstAddress,
        datagram.dstPort,
        datagram.srcAddress,
        datagram.srcPort,
        datagram.data,
      );
      this.record('icmp-send', { d: datagram.id, from: dst.name, to: src.name });
      this.#transmit(answer, 'icmp');
      return;
    }
    if (!udp.accepts(datagram.srcAddress, datagram.srcPort)) {
      this.#delivered--;
      this.#dropped++;
      this.record('udp-drop', { d: datagram.id, reason: 'not-peer' });
      return;
    }
    this.record('udp-recv', { d: datagram.id, to: `${dst.name}:${udp.port}` });
    udp.deliver(datagram.data, datagram.srcAddress, datagram.srcPort);
  }

  #rtoFor(segment: Segment): number {
    const base = segment.kind === SYN ? 1 : this.#rto;
    return Math.min(60, base * 2 ** (segment.attempts - 1));
  }

  #traceSegment(ev: string, segment: Segment): void {
    const t = this.#now;
    const kind = KIND_NAMES[segment.kind] as string;
    const sender = segment.sender;
    let event: TraceEvent;
    if (sender === undefined) {
      const attempt = segment.attempt as ConnectAttempt;
      const from =
        segment.kind === SYN ? `${attempt.host.name}:${attempt.localPort}` : segment.src.name;
      event = { t, ev, kind, from, to: `${attempt.address}:${attempt.port}` };
    } else if (ev === 'send') {
      const data = segment.data;
      event = {
        t,
        ev,
        kind,
        conn: sender.connection.id,
        from: sender.label,
        i: segment.index,
        len: data === undefined ? undefined : data.byteLength,
        sum: data === undefined ? undefined : checksum(data),
        try: segment.attempts > 1 ? segment.attempts : undefined,
      };
    } else {
      event = { t, ev, kind, conn: sender.connection.id, from: sender.label, i: segment.index };
    }
    this.#push(event);
  }

  #hostFor(_from: SimulatedHost, address: string): SimulatedHost | undefined {
    if (address === '127.0.0.1') return _from;
    return this.#byAddress.get(address);
  }

  #step(): void {
    const event = this.queue.pop();
    if (event === undefined) return;
    if (event.time > this.#now) this.#now = event.time;
    this.#events++;
    event.fire();
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.errors.push(error);
    }
  }

  #compare(index: number): void {
    const expected = this.#expected;
    if (expected === undefined || this.#divergence !== undefined) return;
    const actual = this.#trace[index];
    const wanted = expected[index];
    const a = JSON.stringify(actual);
    const w = wanted === undefined ? undefined : JSON.stringify(wanted);
    if (a !== w) {
      this.#divergence =
        w === undefined
          ? `the run went on past the ${expected.length} traced events: event ${index} is ${a} (seed ${this.seed})`
          : `the run left the trace at event ${index}: expected ${w}, got ${a} (seed ${this.seed})`;
    }
  }

  #ref(ref: HostRef): SimulatedHost {
    if (ref instanceof SimulatedHost) return ref;
    return this.host(ref);
  }

  #refs(set: HostSet): SimulatedHost[] {
    return (Array.isArray(set) ? (set as readonly HostRef[]) : [set as HostRef]).map((h) =>
      this.#ref(h),
    );
  }
}

/** The network as its hosts and transports see it (checks that it is all of that). */
function internals(
  network: SimulatedNetwork,
): Wire & SegmentHandler & DatagramHandler & HostNetwork {
  return network;
}

function connectionOf(
  target: SimulatedConnection | SimulatedTransport | IProtocol,
): SimulatedConnection {
  if (target instanceof SimulatedConnection) return target;
  if (target instanceof SimulatedTransport) return target.connection;
  const transport = (target as { transport?: unknown }).transport;
  if (transport instanceof SimulatedTransport) return transport.connection;
  throw new TypeError('reset() needs a simulated connection, transport, or connected protocol');
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new RangeError(`${name} must be a positive number of seconds, got ${String(value)}`);
  }
  return value;
}

function resolveLink(options: LinkOptions, defaults: LinkValues): LinkValues {
  const resolved = {
    latency: options.latency ?? defaults.latency,
    jitter: options.jitter ?? defaults.jitter,
    loss: options.loss ?? defaults.loss,
    bandwidth: options.bandwidth ?? defaults.bandwidth,
    mtu: options.mtu ?? defaults.mtu,
  };
  if (!(resolved.latency >= 0))
    throw new RangeError(`latency must be at least 0, got ${resolved.latency}`);
  if (!(resolved.jitter >= 0))
    throw new RangeError(`jitter must be at least 0, got ${resolved.jitter}`);
  if (!(resolved.loss >= 0 && resolved.loss < 1)) {
    throw new RangeError(`loss must be in [0, 1), got ${resolved.loss}`);
  }
  if (!(resolved.bandwidth > 0))
    throw new RangeError(`bandwidth must be positive, got ${resolved.bandwidth}`);
  if (!(Number.isInteger(resolved.mtu) && resolved.mtu > 40)) {
    throw new RangeError(`mtu must be a whole number above 40, got ${resolved.mtu}`);
  }
  return resolved;
}

/** FNV-1a of the bytes, for the trace. */
function checksum(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Whether `text` is a dotted-quad IPv4 address (what `node:net`'s `isIP`
 * answers 4 for), checked here so that `torsion/testing` loads no socket
 * module.
 */
function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return (
    parts.length === 4 &&
    parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)
  );
}
