// The leak-cycle runner shared by test/reliability/leaks-*.test.ts and
// `npm run soak` (scripts/soak.mjs): it opens connections to a NodeReactor
// server, ends each one in a given way, waits until both ends are gone, and
// measures this process's file descriptors and heap (after a forced GC)
// before and after. Test-only; not exported by the package.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Failure } from 'torsion/defer';
import { globalLogPublisher, type ILogObserver } from 'torsion/logger';
import { ClientFactory, Protocol } from 'torsion/protocol';
import { LimitTotalConnectionsFactory, TimeoutFactory } from 'torsion/protocols/policies';
import {
  type IAddress,
  type IConnector,
  type IListeningPort,
  type IProtocol,
  type IProtocolFactory,
  NodeReactor,
} from 'torsion/reactor';
import { gc } from '../helpers/gc.js';
import { pollUntil } from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';

/** The transports a way of ending runs over. */
export type Transport = 'tcp' | 'unix' | 'tls';

/**
 * How long a run waits, in seconds, for a close that would let it go on
 * (one connection ending, or the last ones): past it, the connections not
 * over are reported as unfinished. No close takes that long on loopback.
 */
const SETTLE_SECONDS = 5;

/** How many file descriptors this process has open now (Linux: /proc/self/fd). */
export function openFds(): number {
  // The directory handle readdir opens is counted too: a constant.
  return readdirSync('/proc/self/fd').length;
}

/** Lets one turn of Node's loop pass. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The heap in use after full garbage collections, in bytes. Several rounds,
 * each on a fresh turn, so that finalizers and weak references queued by
 * the previous round are gone too.
 */
export async function settledHeap(rounds = 4): Promise<number> {
  for (let i = 0; i < rounds; i++) {
    await nextTurn();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/** What one run of cycles measured. */
export interface CycleResult {
  way: WayOfEnding;
  transport: Transport;
  cycles: number;
  fdsBefore: number;
  fdsAfter: number;
  heapBefore: number;
  heapAfter: number;
  /** Bytes written before a clean close that the peer did not receive (FIN ways), else 0. */
  bytesLost: number;
  /** Connections whose ends did not all report their close in time. */
  unfinished: number;
  /** Attempts that failed although they should have connected (or the reverse). */
  failed: number;
  /** Log events published during the measured cycles (failed handshakes log one each). */
  logEvents: number;
  seconds: number;
}

/** The counters of one run, shared by its protocols; waiters hear of every close. */
class Tally {
  serverMade = 0;
  serverLost = 0;
  clientMade = 0;
  clientLost = 0;
  /** Connection attempts that failed (clientConnectionFailed). */
  clientFailed = 0;
  /** Client connections over: lost, or the attempt failed. */
  clientEnded = 0;
  bytesLost = 0;
  #waiters: Array<() => void> = [];

  /** Something ended: wakes the waiters. */
  bump(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Waits until `predicate` holds, checking it after each close, for at
   * most `seconds`. @returns Whether it held.
   */
  async until(predicate: () => boolean, seconds: number): Promise<boolean> {
    const deadline = performance.now() + seconds * 1000;
    while (!predicate()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return true;
  }
}

/** What a side does; every hook is optional. */
interface Script {
  /** On connectionMade. */
  made?(p: Side): void;
  /** On each dataReceived. */
  data?(p: Side): void;
  /** Bytes this side must have received by connectionLost (a clean close). */
  expect?: number;
}

/** A protocol following a {@link Script} and counting into a {@link Tally}. */
class Side extends Protocol {
  received = 0;
  readonly #tally: Tally;
  readonly #server: boolean;
  readonly #script: Script;

  constructor(tally: Tally, server: boolean, script: Script) {
    super();
    this.#tally = tally;
    this.#server = server;
    this.#script = script;
  }

  override connectionMade(): void {
    if (this.#server) this.#tally.serverMade++;
    else this.#tally.clientMade++;
    this.#script.made?.(this);
  }

  override dataReceived(data: Uint8Array): void {
    this.received += data.byteLength;
    this.#script.data?.(this);
  }

  override connectionLost(_reason: Failure): void {
    if (this.#server) this.#tally.serverLost++;
    else this.#tally.clientLost++;
    const expect = this.#script.expect;
    if (expect !== undefined) this.#tally.bytesLost += Math.max(0, expect - this.received);
    this.#tally.bump();
  }
}

/** Builds a server {@link Side} per connection. */
class ServerFactory implements IProtocolFactory {
  constructor(
    readonly tally: Tally,
    readonly script: Script,
  ) {}
  buildProtocol(_addr: IAddress): IProtocol {
    return new Side(this.tally, true, this.script);
  }
  doStart(): void {}
  doStop(): void {}
}

/** Builds client {@link Side}s and counts the connections that ended. */
class ClientSides extends ClientFactory<Side> {
  override noisy = false;

  constructor(
    readonly tally: Tally,
    readonly script: Script,
  ) {
    super();
  }

  override buildProtocol(_addr: IAddress): Side {
    return new Side(this.tally, false, this.script);
  }

  override clientConnectionFailed(): void {
    this.tally.clientFailed++;
    this.tally.clientEnded++;
    this.tally.bump();
  }

  override clientConnectionLost(): void {
    this.tally.clientEnded++;
    this.tally.bump();
  }
}

/** What a clean close carries (FIN ways), so that a lost tail shows. */
const PAYLOAD = Buffer.alloc(16 * 1024, 'p');
/** A reply larger than the socket buffers, for "destroy mid-write". */
const BIG_CHUNK = Buffer.alloc(64 * 1024, 'b');
const BIG_CHUNKS = 8;

/** A way of ending a connection, and the two sides that do it. */
interface Ending {
  /** The transports it applies to. */
  transports: readonly Transport[];
  server: Script;
  client: Script;
  /** Whether every connection builds a server protocol (false: refused before). */
  serverProtocol: boolean;
  /** Whether every connection attempt fails (clientConnectionFailed) by design. */
  attemptFails?: boolean;
  /**
   * Whether an attempt may fail: a reset that reaches the client before
   * Node has reported its connect fails the attempt instead.
   */
  attemptMayFail?: boolean;
  /** Wraps the server factory (a policy). */
  wrap?(factory: IProtocolFactory, reactor: NodeReactor): IProtocolFactory;
  /** How the client connects to a TLS port: the default trusts the certificate. */
  tlsClient?: 'untrusting' | 'plain';
}

const ALL: readonly Transport[] = ['tcp', 'unix', 'tls'];

/** Ends the connection on the first byte received, with a reset. */
const abortOnData: Script = {
  data: (p) => {
    if (!p.transport.disconnecting) p.transport.abortConnection();
  },
};

/** The ways of ending a connection that the leak cycles run. */
export const ENDINGS = {
  /** The client writes, then closes cleanly (FIN); the server must read every byte. */
  'client FIN': {
    transports: ALL,
    serverProtocol: true,
    server: { expect: PAYLOAD.length },
    client: {
      made: (p) => {
        p.transport.write(PAYLOAD);
        p.transport.loseConnection();
      },
    },
  },
  /** The server writes, then closes cleanly; the client must read every byte. */
  'server FIN': {
    transports: ALL,
    serverProtocol: true,
    server: {
      made: (p) => {
        p.transport.write(PAYLOAD);
        p.transport.loseConnection();
      },
    },
    client: { expect: PAYLOAD.length },
  },
  /** The client resets (abortConnection) once the server has greeted it. */
  'client RST': {
    transports: ALL,
    serverProtocol: true,
    server: { made: (p) => p.transport.write(Buffer.from('hello')) },
    client: abortOnData,
  },
  /** The server resets as soon as the connection is made. */
  'server RST': {
    transports: ALL,
    serverProtocol: true,
    attemptMayFail: true,
    server: { made: (p) => p.transport.abortConnection() },
    client: {},
  },
  /** The client resets while the server is writing a reply larger than the socket buffers. */
  'destroy mid-write': {
    transports: ALL,
    serverProtocol: true,
    server: {
      made: (p) => {
        for (let i = 0; i < BIG_CHUNKS; i++) p.transport.write(BIG_CHUNK);
      },
    },
    client: abortOnData,
  },
  /** The server writes, then calls loseConnection() and abortConnection() in one tick (fault #3). */
  'lose+abort': {
    transports: ALL,
    serverProtocol: true,
    server: {
      made: (p) => {
        p.transport.write(PAYLOAD);
        p.transport.loseConnection();
        p.transport.abortConnection();
      },
    },
    client: {},
  },
  /** The client calls loseWriteConnection() and abortConnection() in one tick (fault #3). */
  'loseWrite+abort': {
    transports: ALL,
    serverProtocol: true,
    server: {},
    client: {
      made: (p) => {
        p.transport.loseWriteConnection();
        p.transport.abortConnection();
      },
    },
  },
  /** The server's TimeoutFactory closes an idle connection. */
  'idle timeout': {
    transports: ALL,
    serverProtocol: true,
    server: {},
    client: {},
    wrap: (factory, reactor) =>
      new TimeoutFactory(factory, { timeoutPeriod: 0.02, clock: reactor }),
  },
  /** LimitTotalConnectionsFactory with no room refuses every connection. */
  'limit refused': {
    transports: ALL,
    serverProtocol: false,
    server: {},
    client: {},
    wrap: (factory) => new LimitTotalConnectionsFactory(factory, { connectionLimit: 0 }),
  },
  /** The client does not trust the server's certificate: the handshake fails. */
  'TLS untrusted cert': {
    transports: ['tls'],
    serverProtocol: false,
    attemptFails: true,
    server: {},
    client: {},
    tlsClient: 'untrusting',
  },
  /** A plain TCP client writes to a TLS port: the handshake fails. */
  'plain TCP to TLS': {
    transports: ['tls'],
    serverProtocol: false,
    server: {},
    client: { made: (p) => p.transport.write(Buffer.from('GET / HTTP/1.0\r\n\r\n')) },
    tlsClient: 'plain',
  },
} satisfies Record<string, Ending>;

/** The name of a way of ending. */
export type WayOfEnding = keyof typeof ENDINGS;

/** The ways of ending that apply to `transport`, in table order. */
export function waysFor(transport: Transport): WayOfEnding[] {
  return (Object.keys(ENDINGS) as WayOfEnding[]).filter((way) =>
    (ENDINGS[way] as Ending).transports.includes(transport),
  );
}

/** The TLS settings, built once: a context per connection would dominate the run. */
let contexts: { trusting: SecureContext; untrusting: SecureContext } | undefined;
function tlsContexts(): { trusting: SecureContext; untrusting: SecureContext } {
  contexts ??= {
    trusting: createSecureContext({ ca: CERT }),
    untrusting: createSecureContext({}),
  };
  return contexts;
}

/** A listening server and a way to connect one client to it. */
interface Endpoint {
  port: IListeningPort;
  connect(factory: ClientSides): IConnector;
  cleanup(): void;
}

function listen(
  reactor: NodeReactor,
  transport: Transport,
  factory: IProtocolFactory,
  ending: Ending,
): Endpoint {
  if (transport === 'unix') {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-leaks-'));
    const path = join(dir, 's');
    const port = reactor.listenUNIX(path, factory);
    return {
      port,
      connect: (client) => reactor.connectUNIX(path, client),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const port =
    transport === 'tcp'
      ? reactor.listenTCP(0, factory, { interface: '127.0.0.1' })
      : reactor.listenSSL(0, factory, { key: KEY, cert: CERT }, { interface: '127.0.0.1' });
  const number = (port.getHost() as IAddress & { port: number }).port;
  let connect: (client: ClientSides) => IConnector;
  if (transport === 'tcp' || ending.tlsClient === 'plain') {
    connect = (client) => reactor.connectTCP('127.0.0.1', number, client);
  } else {
    const { trusting, untrusting } = tlsContexts();
    const secureContext = ending.tlsClient === 'untrusting' ? untrusting : trusting;
    connect = (client) =>
      reactor.connectSSL('127.0.0.1', number, client, { secureContext, servername: 'localhost' });
  }
  return { port, connect, cleanup: () => undefined };
}

/** Options of {@link runCycles}. */
export interface CycleOptions {
  /** Connections in flight at once. @defaultValue 50 */
  concurrency?: number;
  /** Cycles run (and not measured) first, so that lazily made state exists before the baseline. @defaultValue 50 */
  warmup?: number;
}

/**
 * Opens `cycles` connections over `transport` to a fresh NodeReactor's
 * server, ends each the way `way` says, waits until every end has reported
 * its close (connectionLost on both sides, or the attempt's failure) and the
 * file descriptors are back to the baseline (or {@link SETTLE_SECONDS} have
 * passed), and measures.
 *
 * @remarks
 * The baseline is taken after a warm-up run on the same reactor, so that
 * what the first connections create once (TLS contexts, compiled code, the
 * thread pool) is not counted as a leak. Log events (the expected
 * "handshake failed" lines) are counted, not printed.
 */
export async function runCycles(
  way: WayOfEnding,
  transport: Transport,
  cycles: number,
  options: CycleOptions = {},
): Promise<CycleResult> {
  const ending: Ending = ENDINGS[way];
  if (!ending.transports.includes(transport)) {
    throw new RangeError(`${way} does not apply to ${transport}`);
  }
  const concurrency = options.concurrency ?? 50;
  const reactor = new NodeReactor();
  let logEvents = 0;
  const counting: ILogObserver = () => {
    logEvents++;
  };
  globalLogPublisher.addObserver(counting);
  try {
    const fdsAtStart = openFds();
    const warm = await cyclesOn(reactor, transport, ending, options.warmup ?? 50, concurrency);
    if (warm.unfinished > 0) {
      // Connections hang already: measuring thousands more would only wait.
      // What the warm-up left open is the figure to report.
      const heap = process.memoryUsage().heapUsed;
      return {
        way,
        transport,
        cycles: 0,
        fdsBefore: fdsAtStart,
        fdsAfter: openFds(),
        heapBefore: heap,
        heapAfter: heap,
        ...warm,
        logEvents,
        seconds: 0,
      };
    }
    const fdsBefore = openFds();
    const heapBefore = await settledHeap();
    logEvents = 0;
    const started = performance.now();
    const run = await cyclesOn(reactor, transport, ending, cycles, concurrency);
    const seconds = (performance.now() - started) / 1000;
    const measuredLogEvents = logEvents;
    await pollUntil(() => openFds() <= fdsBefore, SETTLE_SECONDS);
    const fdsAfter = openFds();
    const heapAfter = await settledHeap();
    return {
      way,
      transport,
      cycles,
      fdsBefore,
      fdsAfter,
      heapBefore,
      heapAfter,
      bytesLost: warm.bytesLost + run.bytesLost,
      unfinished: warm.unfinished + run.unfinished,
      failed: warm.failed + run.failed,
      logEvents: measuredLogEvents,
      seconds,
    };
  } finally {
    globalLogPublisher.removeObserver(counting);
  }
}

/**
 * Runs `cycles` connections on their own listening port, at most
 * `concurrency` of them not yet over on both ends, then stops the port.
 */
async function cyclesOn(
  reactor: NodeReactor,
  transport: Transport,
  ending: Ending,
  cycles: number,
  concurrency: number,
): Promise<{ bytesLost: number; unfinished: number; failed: number }> {
  const tally = new Tally();
  const plain = new ServerFactory(tally, ending.server);
  const factory = ending.wrap?.(plain, reactor) ?? plain;
  const endpoint = listen(reactor, transport, factory, ending);
  const clients = new ClientSides(tally, ending.client);
  // A connection is over once its client end is, and its server end too
  // when there is one: a client that has gone may still wait in the
  // listener's accept queue, and a full queue refuses UNIX connections.
  const over = (): number =>
    ending.serverProtocol
      ? Math.min(tally.serverLost + tally.clientFailed, tally.clientEnded)
      : tally.clientEnded;
  let started = 0;
  while (started < cycles) {
    if (!(await tally.until(() => started - over() < concurrency, SETTLE_SECONDS))) break;
    started++;
    endpoint.connect(clients);
  }
  await tally.until(() => over() >= started, SETTLE_SECONDS);
  const unfinished = cycles - over() + (tally.clientMade - tally.clientLost);
  await endpoint.port.stopListening();
  endpoint.cleanup();
  const failed = ending.attemptFails
    ? cycles - tally.clientFailed
    : ending.attemptMayFail
      ? 0
      : tally.clientFailed;
  return {
    bytesLost: tally.bytesLost,
    unfinished,
    failed,
  };
}
