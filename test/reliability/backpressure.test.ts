// Backpressure under every policy wrapper, over loopback TCP, TLS and a
// UNIX socket: a streaming producer writes as fast as it is let to a peer
// that never reads, and the bytes queued in the writer's transport stay
// bounded (the high-water mark plus a chunk), as does the process's RSS,
// with the producer paused and staying paused across several round trips. Without the pause-reason gate in ThrottlingProtocol, a
// writeLimit throttle resumed the producer the transport had paused and the
// queue grew without bound (issue 10, fault 4).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Protocol } from 'torsion/protocol';
import {
  LimitConnectionsByPeer,
  LimitTotalConnectionsFactory,
  ProtocolWrapper,
  ThrottlingFactory,
  TimeoutFactory,
  TrafficLoggingFactory,
  WrappingFactory,
} from 'torsion/protocols/policies';
import type { IProtocolFactory, IPushProducer, IReactorTime, ITCPTransport } from 'torsion/reactor';
import {
  CollectingFactory,
  harness,
  Recorder,
  RecordingClientFactory,
  until,
  waitFor,
} from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };
const CHUNK = 64 * 1024;
/**
 * The transport's low mark: past it, with a peer that never reads, the
 * transport has paused the producer and never resumes it.
 */
const LOW = 16 * 1024;
/** Queued in the writer beyond this, backpressure has failed. */
const BOUND = 4 * 1024 * 1024;
/** The flood stops by itself here, so a failing run cannot eat the machine. */
const CAP = 64 * 1024 * 1024;

/** A reader that stops reading as soon as it is connected. */
class StalledReader extends Recorder {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.pauseProducing();
  }
}

/** The transport under any number of policy wrappers. */
function realTransport(transport: ITCPTransport): ITCPTransport & {
  getWriteBufferSize(): number;
} {
  let t: ITCPTransport = transport;
  while (t instanceof ProtocolWrapper) t = t.transport;
  return t as ITCPTransport & { getWriteBufferSize(): number };
}

/**
 * A server protocol that registers itself as a streaming producer and
 * writes 64 KiB chunks, a few per turn of the loop, for as long as it is not
 * paused; it records the largest queue it saw in the real transport.
 */
class Flood extends Protocol implements IPushProducer {
  paused = false;
  pauses = 0;
  resumes = 0;
  written = 0;
  maxQueued = 0;
  stopped = false;
  #scheduled = false;
  readonly #chunk = Buffer.alloc(CHUNK, 0x61);

  constructor(private readonly clock: IReactorTime) {
    super();
  }

  override connectionMade(): void {
    this.transport.registerProducer(this, true);
    this.#schedule();
  }

  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
  }

  resumeProducing(): void {
    this.paused = false;
    this.resumes++;
    this.#schedule();
  }

  stopProducing(): void {
    this.stopped = true;
  }

  queued(): number {
    return realTransport(this.transport).getWriteBufferSize();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.clock.callLater(0, () => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    for (let i = 0; i < 8 && !this.paused && !this.stopped; i++) {
      if (this.written >= CAP) return;
      this.transport.write(this.#chunk);
      this.written += CHUNK;
      this.maxQueued = Math.max(this.maxQueued, this.queued());
    }
    if (!this.paused && !this.stopped && this.written < CAP) this.#schedule();
  }
}

type Wrap = (servers: IProtocolFactory, clock: IReactorTime) => IProtocolFactory;

/**
 * The throttle, made to hold and release every producer once the transport
 * has paused the flood: a release must leave it paused.
 */
class Nudged extends ThrottlingFactory {
  nudge(): void {
    this.throttleWrites();
    this.unthrottleWrites();
  }
}

const quiet = <F extends { noisy: boolean }>(factory: F): F => {
  factory.noisy = false;
  return factory;
};

const POLICIES: Array<[string, Wrap]> = [
  ['no wrapper', (servers) => servers],
  ['WrappingFactory', (servers) => quiet(new WrappingFactory(servers))],
  // A limit the flood passes at once: the throttle holds and releases the
  // producer many times while the transport has it paused.
  [
    'ThrottlingFactory with writeLimit',
    (servers, clock) => quiet(new Nudged(servers, { writeLimit: 8 * 1024 * 1024, clock })),
  ],
  [
    'ThrottlingFactory with readLimit',
    (servers, clock) => quiet(new ThrottlingFactory(servers, { readLimit: 1024, clock })),
  ],
  [
    'TimeoutFactory',
    (servers, clock) => quiet(new TimeoutFactory(servers, { timeoutPeriod: 60, clock })),
  ],
  [
    'LimitTotalConnectionsFactory',
    (servers) => quiet(new LimitTotalConnectionsFactory(servers, { connectionLimit: 4 })),
  ],
  ['LimitConnectionsByPeer', (servers) => quiet(new LimitConnectionsByPeer(servers))],
  [
    'TrafficLoggingFactory',
    (servers) =>
      quiet(
        new TrafficLoggingFactory(servers, 'flood', {
          lengthLimit: 16,
          openFile: () => ({ write: () => {} }),
        }),
      ),
  ],
];

/** Where the flood listens and how the reader connects: loopback TCP, TLS or a UNIX socket. */
const TRANSPORTS = ['TCP', 'TLS', 'UNIX'] as const;

/**
 * How much the process's RSS may grow while the flood runs: the flood's cap
 * (64 MiB) is what a failed backpressure queues, and a bounded queue (a few
 * MiB, plus TLS buffers and heap growth) stays well under half of it.
 */
const RSS_BOUND = 32 * 1024 * 1024;

describe('backpressure under each policy wrapper, peer never reading', SUITE, () => {
  for (const kind of TRANSPORTS) {
    for (const [name, wrap] of POLICIES) {
      test(`${kind}, ${name}: the writer's queue stays bounded`, async (t) => {
        const h = harness(t);
        const servers = new CollectingFactory(() => new Flood(h.reactor));
        const factory = wrap(servers, h.reactor);
        const clients = new RecordingClientFactory(() => new StalledReader());
        const rssBefore = process.memoryUsage.rss();
        if (kind === 'TCP') {
          const listening = h.listenTCP(0, factory, { interface: LOCAL });
          h.connectTCP(LOCAL, listening.getHost().port, clients);
        } else if (kind === 'TLS') {
          const listening = h.listenSSL(0, factory, { key: KEY, cert: CERT }, { interface: LOCAL });
          h.connectSSL('localhost', listening.getHost().port, clients, { ca: CERT });
        } else {
          const dir = mkdtempSync(join(tmpdir(), 'torsion-backpressure-'));
          t.after(() => rmSync(dir, { recursive: true, force: true }));
          const path = join(dir, 'flood.sock');
          h.listenUNIX(path, factory);
          h.connectUNIX(path, clients);
        }
        const client = await waitFor(clients.nth(0), 'the client protocol');
        await waitFor(client.made, 'the client connectionMade');
        const flood = await waitFor(servers.nth(0), 'the server protocol');
        // The kernel's buffers fill, then the transport pauses the producer.
        await until(
          () => (flood.paused && flood.queued() > LOW) || flood.written >= CAP,
          'the transport to pause the producer',
          15,
        );
        if (factory instanceof Nudged) factory.nudge();
        // Round trips on fresh connections: by the end of each, every timer
        // and write completion due before it has run, so the throttle has
        // had its chances to resume the producer.
        for (let i = 0; i < 5; i++) {
          await h.roundTrip();
          assert.ok(flood.queued() <= BOUND, `${flood.queued()} bytes queued`);
        }
        const queued = flood.queued();
        t.diagnostic(
          `queued at most ${flood.maxQueued} bytes, wrote ${flood.written} in all, RSS +${((process.memoryUsage.rss() - rssBefore) / 2 ** 20).toFixed(1)} MiB`,
        );
        assert.ok(
          flood.maxQueued <= BOUND && queued <= BOUND,
          `queued at most ${flood.maxQueued} bytes (${queued} now), bound ${BOUND}; wrote ${flood.written}`,
        );
        assert.ok(flood.written < CAP, `the flood ran to its cap (${flood.written} bytes)`);
        const grown = process.memoryUsage.rss() - rssBefore;
        assert.ok(grown < RSS_BOUND, `RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
        // The peer's kernel may still take a little more (TCP receive-window
        // autotuning; TLS drains through two buffers), so the producer may be
        // caught between a legitimate resume and its next pause: it must end paused.
        await until(() => flood.paused, 'the producer to be paused again', 10);
        assert.ok(flood.written < CAP, `the flood ran to its cap (${flood.written} bytes)`);
        assert.equal(client.received, 0);
        client.transport.abortConnection();
        await waitFor(client.lost, 'the client to close');
      });
    }
  }
});
