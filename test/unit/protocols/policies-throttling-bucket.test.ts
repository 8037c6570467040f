// ThrottlingFactory's token buckets over simulated time (issue 10, fault 7):
// connections deliver chunks every 10 ms of a Clock while their transport
// is not paused, and the bytes admitted are counted per simulated second.
// The limits hold within ±20% in every second, the first one included, for
// one and for ten connections, reading and writing; a polite connection is
// never held while a greedy one is; a connection opened mid-throttle is
// held by the same rule; holds last fractions of a second. Twisted's
// algorithm (and ours before the buckets) admitted everything in the first
// second, then paused every connection for `read / limit - 1` seconds.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address, Protocol } from 'torsion/protocol';
import { ThrottlingFactory, type ThrottlingProtocol } from 'torsion/protocols/policies';
import type { IAddress, IProtocol, IProtocolFactory, IPushProducer } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import { assertReactorClean, StringTransportWithDisconnection } from 'torsion/testing';

const addr = new IPv4Address('TCP', '127.0.0.1', 0);
const TICK = 0.01;
const TICKS_PER_SECOND = 100;

/** Counts what it receives; as a push producer, writes `chunk` bytes a tick while let. */
class Counter extends Protocol implements IPushProducer {
  received = 0;
  paused = false;

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
  }

  stopProducing(): void {}

  override dataReceived(data: Uint8Array): void {
    this.received += data.byteLength;
  }
}

const counters: IProtocolFactory = {
  buildProtocol: (_addr: IAddress): IProtocol => new Counter(),
  doStart: () => {},
  doStop: () => {},
};

/** One simulated peer: how much it sends, how often, and what happened to it. */
class Peer {
  readonly protocol: ThrottlingProtocol;
  readonly transport: StringTransportWithDisconnection;
  readonly counter: Counter;
  admitted = 0;
  holds = 0;
  longestHold = 0;
  #heldSince: number | undefined;

  constructor(
    factory: ThrottlingFactory,
    readonly chunk: number,
    readonly direction: 'read' | 'write',
    readonly everyTicks = 1,
  ) {
    const protocol = factory.buildProtocol(addr);
    assert.ok(protocol !== null);
    this.protocol = protocol;
    this.transport = new StringTransportWithDisconnection({ protocol });
    protocol.makeConnection(this.transport);
    this.counter = protocol.wrappedProtocol as Counter;
    if (direction === 'write') protocol.registerProducer(this.counter, true);
  }

  held(): boolean {
    return this.direction === 'read'
      ? this.transport.producerState === 'paused'
      : this.counter.paused;
  }

  /** Sends (or writes) a chunk if it is its tick and it is not held; notes holds. */
  tick(n: number, now: number): number {
    this.#note(now);
    if (n % this.everyTicks !== 0 || this.held()) return 0;
    if (this.direction === 'read') this.protocol.dataReceived(Buffer.alloc(this.chunk));
    else this.counter.transport.write(Buffer.alloc(this.chunk));
    this.admitted += this.chunk;
    this.#note(now);
    return this.chunk;
  }

  #note(now: number): void {
    if (this.held() && this.#heldSince === undefined) {
      this.#heldSince = now;
      this.holds++;
    } else if (!this.held() && this.#heldSince !== undefined) {
      this.longestHold = Math.max(this.longestHold, now - this.#heldSince);
      this.#heldSince = undefined;
    }
  }
}

/**
 * Runs `peers` for `seconds` simulated seconds, a tick every 10 ms; `at`
 * runs before the tick it names. Returns the bytes admitted in each second.
 */
function simulate(
  clock: Clock,
  peers: Peer[],
  seconds: number,
  at: Map<number, () => void> = new Map(),
): number[] {
  const perSecond = Array.from({ length: seconds }, () => 0);
  for (let n = 0; n < seconds * TICKS_PER_SECOND; n++) {
    at.get(n)?.();
    const second = Math.floor(n / TICKS_PER_SECOND);
    for (const peer of peers) {
      perSecond[second] = (perSecond[second] ?? 0) + peer.tick(n, clock.seconds());
    }
    clock.advance(TICK);
  }
  return perSecond;
}

function assertWithin(perSecond: number[], limit: number, tolerance = 0.2): void {
  for (const [second, bytes] of perSecond.entries()) {
    assert.ok(
      Math.abs(bytes - limit) <= tolerance * limit,
      `second ${second}: ${bytes} bytes admitted, limit ${limit} (all: ${perSecond.join(', ')})`,
    );
  }
}

function quiet(clock: Clock, options: { readLimit?: number; writeLimit?: number }) {
  const factory = new ThrottlingFactory(counters, { ...options, clock });
  factory.noisy = false;
  return factory;
}

function closeAll(clock: Clock, peers: Peer[]): void {
  for (const peer of peers) peer.transport.loseConnection();
  assertReactorClean(clock);
}

for (const direction of ['read', 'write'] as const) {
  const limitOption = direction === 'read' ? 'readLimit' : 'writeLimit';

  describe(`ThrottlingFactory ${limitOption} over simulated seconds`, () => {
    for (const count of [1, 10]) {
      test(`${count} greedy connection(s): every second within ±20%, the first one too`, () => {
        const clock = new Clock();
        const limit = 10_000;
        const factory = quiet(clock, { [limitOption]: limit });
        // Each could send 10 times the limit alone.
        const chunk = count === 1 ? 1_000 : 100;
        const peers = Array.from({ length: count }, () => new Peer(factory, chunk, direction));
        const perSecond = simulate(clock, peers, 12);
        assertWithin(perSecond, limit);
        // Shared fairly: each connection within ±20% of its share overall.
        const share = (limit * 12) / count;
        for (const peer of peers) {
          assert.ok(Math.abs(peer.admitted - share) <= 0.2 * share, `${peer.admitted} vs ${share}`);
        }
        closeAll(clock, peers);
      });
    }

    test('holds last fractions of a second, not read / limit seconds', () => {
      const clock = new Clock();
      const factory = quiet(clock, { [limitOption]: 10_000 });
      const peers = Array.from({ length: 4 }, () => new Peer(factory, 250, direction));
      simulate(clock, peers, 10);
      for (const peer of peers) {
        assert.ok(peer.holds > 10, `held ${peer.holds} times`);
        assert.ok(peer.longestHold <= 0.25, `longest hold ${peer.longestHold} s`);
      }
      closeAll(clock, peers);
    });

    test('a polite connection under its share is never held while a greedy one is', () => {
      const clock = new Clock();
      const limit = 10_000;
      const factory = quiet(clock, { [limitOption]: limit });
      const greedy = new Peer(factory, 500, direction);
      // 2,000 bytes a second, in 40-byte chunks: under its share of 5,000.
      const polite = new Peer(factory, 40, direction, 2);
      const perSecond = simulate(clock, [greedy, polite], 10);
      assert.equal(polite.holds, 0);
      assert.equal(polite.admitted, 2_000 * 10);
      assert.ok(greedy.holds > 10, `the greedy one was held ${greedy.holds} times`);
      assertWithin(perSecond, limit);
      closeAll(clock, [greedy, polite]);
    });

    test('a connection opened while the others are held is held by the same rule', () => {
      const clock = new Clock();
      const limit = 10_000;
      const factory = quiet(clock, { [limitOption]: limit });
      const first = new Peer(factory, 200, direction);
      const peers = [first];
      let late: Peer | undefined;
      const at = new Map([
        [
          500,
          () => {
            assert.ok(first.holds > 10, 'the first connection is being throttled');
            late = new Peer(factory, 200, direction);
            peers.push(late);
          },
        ],
      ]);
      const perSecond = simulate(clock, peers, 12, at);
      assert.ok(late !== undefined);
      assert.ok(late.holds > 10, `the late connection was held ${late.holds} times`);
      assertWithin(perSecond, limit);
      // From second 6 on, the two share the limit about evenly.
      const lateShare = late.admitted / (limit * 7);
      assert.ok(lateShare > 0.35 && lateShare < 0.65, `the late one had ${lateShare} of it`);
      closeAll(clock, peers);
    });
  });
}

describe('ThrottlingFactory buckets, edges', () => {
  test('a limit on one direction leaves the other alone', () => {
    const clock = new Clock();
    const factory = quiet(clock, { readLimit: 10_000 });
    const writer = new Peer(factory, 1_000, 'write');
    const perSecond = simulate(clock, [writer], 3);
    assert.deepEqual(perSecond, [100_000, 100_000, 100_000]);
    assert.equal(writer.holds, 0);
    closeAll(clock, [writer]);
  });

  test('bytes counted without a connection are taken from the bucket', () => {
    const clock = new Clock();
    const factory = quiet(clock, { readLimit: 1_000 });
    const peer = new Peer(factory, 10, 'read');
    factory.registerRead(2_000);
    peer.tick(0, clock.seconds());
    assert.equal(peer.held(), false, 'within its share: not held, although in debt');
    peer.tick(1, clock.seconds());
    peer.tick(2, clock.seconds());
    assert.equal(factory.bytesRead, 2_030);
    closeAll(clock, [peer]);
  });
});
