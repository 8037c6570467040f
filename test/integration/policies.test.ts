// ThrottlingFactory and TimeoutFactory over loopback TCP on a real
// NodeReactor: the connection limit refuses and then admits connections,
// read throttling holds bytes back until the pause ends, a read limit holds
// against a client sending as fast as it can from the first second, and an idle
// connection is closed. Limits and periods are small so that each test takes
// at most about a second and a half. That traffic keeps a connection open is
// checked on a Clock only ("receiving resets the countdown" in
// test/unit/protocols/policies-timeout.test.ts): over real time, a byte every
// 0.1 s against a 0.5 s period raced the machine's load.
// (Twisted: test/test_policies.py, ThrottlingTests.test_limit.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionDone, IPv4Address } from 'torsion/protocol';
import { ThrottlingFactory, ThrottlingProtocol, TimeoutFactory } from 'torsion/protocols/policies';
import type { IListeningPort, IProtocol } from 'torsion/reactor';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  Recorder,
  RecordingClientFactory,
  type SocketHarness,
  until,
  waitFor,
} from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 20_000 };

function portOf(listening: IListeningPort): number {
  const address = listening.getHost();
  assert.ok(address instanceof IPv4Address);
  return address.port;
}

/** Connects a Recorder to 127.0.0.1:`port`; resolves once it is connected. */
async function connectRecorder(h: SocketHarness, port: number): Promise<Recorder> {
  const factory = new RecordingClientFactory(() => new Recorder());
  factory.noisy = false;
  h.connectTCP(LOCAL, port, factory);
  const protocol = await waitFor(factory.nth(0), 'the client protocol');
  await waitFor(protocol.made, 'the client connectionMade');
  return protocol;
}

describe('ThrottlingFactory over TCP', SUITE, () => {
  test('refuses connections beyond maxConnectionCount until one is lost', async (t) => {
    const h = harness(t);
    const echo = new CollectingFactory(() => new EchoRecorder());
    const factory = new ThrottlingFactory(echo, { maxConnectionCount: 2, clock: h.reactor });
    factory.noisy = false;
    const port = portOf(h.listenTCP(0, factory, { interface: LOCAL }));

    const c1 = await connectRecorder(h, port);
    const c2 = await connectRecorder(h, port);
    // The third is accepted by the kernel, then closed at once by the server.
    const c3 = await connectRecorder(h, port);
    await waitFor(c3.lost, 'the refused connection to close');
    assert.equal(c3.received, 0);
    assert.equal(factory.connectionCount, 2);
    assert.equal(factory.protocols.size, 2);
    assert.equal(c1.lostCalls + c2.lostCalls, 0);

    c1.transport.loseConnection();
    await waitFor(c1.lost, 'the first connection to close');
    await until(() => factory.connectionCount === 1, 'the server to count the loss');

    const c4 = await connectRecorder(h, port);
    c4.transport.write(Buffer.from('hello'));
    await waitFor(c4.bytes(5), 'the echo');
    assert.equal(c4.data().toString(), 'hello');
    assert.equal(c4.lostCalls, 0);
    assert.equal(factory.connectionCount, 2);
  });

  test('holds back what the peer sends while reads are throttled', async (t) => {
    const h = harness(t);
    const events: string[] = [];
    // The factory holds and releases each connection through its wrapper.
    class RecordingWrapper extends ThrottlingProtocol {
      override throttleReads(): void {
        events.push('throttle');
        super.throttleReads();
      }
      override unthrottleReads(): void {
        events.push('unthrottle');
        super.unthrottleReads();
      }
    }
    class Recording extends ThrottlingFactory {
      override wrapProtocol(wrapped: IProtocol): ThrottlingProtocol {
        return new RecordingWrapper(this, wrapped);
      }
    }
    class Noting extends Recorder {
      override dataReceived(data: Uint8Array): void {
        events.push(`data ${Buffer.from(data).toString()}`);
        super.dataReceived(data);
      }
    }
    const servers = new CollectingFactory(() => new Noting());
    // 30 bytes at 40 bytes per second, 4 bytes of burst: reads pause for 0.65 s.
    const factory = new Recording(servers, { readLimit: 40, clock: h.reactor });
    factory.noisy = false;
    const port = portOf(h.listenTCP(0, factory, { interface: LOCAL }));

    const client = await connectRecorder(h, port);
    client.transport.write(Buffer.alloc(30, 'a'));
    const server = await waitFor(servers.nth(0), 'the server protocol');
    await waitFor(server.bytes(30), 'the first 30 bytes');
    await until(() => events.includes('throttle'), 'reads to be throttled', 3);

    client.transport.write(Buffer.from('later'));
    await waitFor(server.bytes(35), 'the bytes sent while throttled', 5);
    const throttled = events.indexOf('throttle');
    const unthrottled = events.indexOf('unthrottle');
    const later = events.findIndex((event) => event.endsWith('later'));
    assert.ok(
      throttled < unthrottled && unthrottled < later,
      `expected throttle < unthrottle < data, got ${JSON.stringify(events)}`,
    );
    assert.equal(server.data().subarray(30).toString(), 'later');
  });

  test('a read limit holds from the first second against a client sending flat out', async (t) => {
    const h = harness(t);
    const limit = 2 * 1024 * 1024;
    const servers = new CollectingFactory(() => new Recorder());
    const factory = new ThrottlingFactory(servers, { readLimit: limit, clock: h.reactor });
    factory.noisy = false;
    const port = portOf(h.listenTCP(0, factory, { interface: LOCAL }));
    const client = await connectRecorder(h, port);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    // A push producer that writes while it is let, a few chunks a turn.
    let paused = false;
    let done = false;
    const pump = (): void => {
      for (let i = 0; i < 4 && !paused && !done; i++) client.transport.write(chunk);
      if (!paused && !done) h.reactor.callLater(0, pump);
    };
    client.transport.registerProducer(
      {
        pauseProducing: () => {
          paused = true;
        },
        resumeProducing: () => {
          paused = false;
          h.reactor.callLater(0, pump);
        },
        stopProducing: () => {
          done = true;
        },
      },
      true,
    );
    pump();
    const server = await waitFor(servers.nth(0), 'the server protocol');
    await waitFor(server.bytes(1), 'the first bytes');
    const started = h.reactor.seconds();
    const before = server.received;
    await until(() => h.reactor.seconds() - started >= 1, 'a second to pass', 5);
    const elapsed = h.reactor.seconds() - started;
    const admitted = server.received - before;
    done = true;
    t.diagnostic(
      `${admitted} bytes read in ${elapsed.toFixed(3)} s at a limit of ${limit} bytes/s`,
    );
    // A tenth of a second of burst, and a 64 KiB read of overshoot.
    const most = limit * (elapsed + 0.1) * 1.05 + 64 * 1024;
    assert.ok(
      admitted <= most,
      `${admitted} bytes read in ${elapsed.toFixed(3)} s at ${limit} bytes/s (at most ${Math.round(most)})`,
    );
    // Timers late under load only lower the rate: a loose floor.
    assert.ok(admitted >= limit * 0.4, `only ${admitted} bytes read in ${elapsed.toFixed(3)} s`);
    client.transport.unregisterProducer();
  });
});

describe('TimeoutFactory over TCP', SUITE, () => {
  test('closes a connection on which nothing happens', async (t) => {
    const h = harness(t);
    const servers = new CollectingFactory(() => new Recorder());
    const factory = new TimeoutFactory(servers, { timeoutPeriod: 0.3, clock: h.reactor });
    factory.noisy = false;
    const port = portOf(h.listenTCP(0, factory, { interface: LOCAL }));

    const started = h.reactor.seconds();
    const client = await connectRecorder(h, port);
    const reason = await waitFor(client.lost, 'the idle connection to be closed', 5);
    assert.ok(reason.check(ConnectionDone), `closed cleanly, got ${String(reason)}`);
    assert.ok(h.reactor.seconds() - started >= 0.25, 'not before the timeout');
    const server = await waitFor(servers.nth(0), 'the server protocol');
    await waitFor(server.lost, 'the server side to close');
    assert.equal(factory.protocols.size, 0);
  });
});
