// SimulatedNetwork's UDP: listenUDP on simulated hosts, datagrams over the
// links (latency, jitter, loss, MTU, partitions), connected ports and
// connectionRefused, ports in use and port 0, stopListening, crashes, the
// trace and determinism from the seed; and the UDP echo example, unchanged.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CannotListenError,
  DatagramProtocol,
  Factory,
  InvalidAddressError,
  MessageLengthError,
  NotListeningError,
  Protocol,
} from 'torsion/protocol';
import { type SimulatedHost, SimulatedNetwork, SimulatedUDPPort } from 'torsion/testing';
import { main as udpEchoMain } from '../../../examples/udp-echo.js';

/** Records what it receives and its life cycle. */
class Recorder extends DatagramProtocol {
  received: [string, string, number, number][] = [];
  started = 0;
  stopped = 0;
  refused = 0;
  constructor(private readonly clock: { seconds(): number }) {
    super();
    this.noisy = false;
  }
  override startProtocol(): void {
    this.started++;
  }
  override stopProtocol(): void {
    this.stopped++;
  }
  override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
    this.received.push([
      Buffer.from(data).toString('latin1'),
      addr[0],
      addr[1],
      this.clock.seconds(),
    ]);
  }
  override connectionRefused(): void {
    this.refused++;
  }
  get texts(): string[] {
    return this.received.map((r) => r[0]);
  }
}

class Echo extends DatagramProtocol {
  constructor() {
    super();
    this.noisy = false;
  }
  override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
    this.transport?.write(data, addr);
  }
}

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));

function pair(seed = 1): {
  network: SimulatedNetwork;
  a: SimulatedHost;
  b: SimulatedHost;
} {
  const network = new SimulatedNetwork({ seed });
  const a = network.addHost('a', { addresses: ['10.0.0.1'] });
  const b = network.addHost('b', { addresses: ['10.0.0.2'] });
  return { network, a, b };
}

/** Sends `count` numbered datagrams from a to b over a lossy link; what arrived. */
function lossyRun(seed: number, loss: number, count: number): { got: string[]; trace: string } {
  const { network, a, b } = pair(seed);
  network.link(a, b, { latency: 0.01, loss });
  const sink = new Recorder(network);
  b.listenUDP(9000, sink);
  const port = a.listenUDP(0, new Recorder(network));
  for (let i = 0; i < count; i++) port.write(bytes(`m${i}`), ['10.0.0.2', 9000]);
  network.runUntilIdle();
  return { got: sink.texts, trace: network.traceJSONLines() };
}

describe('SimulatedHost.listenUDP', () => {
  test('echo over a link: latency, sender address, protocol started', () => {
    const { network, a, b } = pair();
    network.link(a, b, { latency: 0.05 });
    b.listenUDP(7, new Echo());
    const client = new Recorder(network);
    const port = a.listenUDP(5000, client);
    assert.equal(client.started, 1);
    assert.equal(port.getHost().type, 'UDP');
    assert.equal(port.getHost().host, '0.0.0.0');
    assert.equal(port.getHost().port, 5000);
    port.write(bytes('ping'), ['10.0.0.2', 7]);
    network.runUntilIdle();
    assert.deepEqual(client.received, [['ping', '10.0.0.2', 7, 0.1]]);
  });

  test('the echo example runs unchanged on a simulated host', () => {
    const { network, a, b } = pair();
    const server = udpEchoMain(b, 8000);
    assert.equal(server.getHost().port, 8000);
    const client = new Recorder(network);
    a.listenUDP(0, client).write(bytes('hello'), ['10.0.0.2', 8000]);
    network.runUntilIdle();
    assert.deepEqual(client.texts, ['hello']);
  });

  test('loss drops datagrams, never resends them, deterministically from the seed', () => {
    const first = lossyRun(42, 0.3, 200);
    const second = lossyRun(42, 0.3, 200);
    assert.deepEqual(first.got, second.got);
    assert.equal(first.trace, second.trace);
    assert.ok(first.got.length < 200 - 20, `only ${200 - first.got.length} of 200 dropped`);
    assert.ok(first.got.length > 200 - 100, `${200 - first.got.length} of 200 dropped`);
    assert.equal(new Set(first.got).size, first.got.length, 'no datagram arrives twice');
    const lost = first.trace.split('\n').filter((line) => line.includes('"udp-lost"')).length;
    assert.equal(lost, 200 - first.got.length);
    const other = lossyRun(43, 0.3, 200);
    assert.notEqual(other.trace, first.trace);
  });

  test('a partition drops datagrams; heal restores delivery', () => {
    const { network, a, b } = pair();
    const sink = new Recorder(network);
    b.listenUDP(9000, sink);
    const port = a.listenUDP(0, new Recorder(network));
    network.partition([a], [b]);
    port.write(bytes('lost'), ['10.0.0.2', 9000]);
    network.runUntilIdle();
    assert.deepEqual(sink.texts, []);
    assert.equal(network.stats.dropped, 1);
    network.heal();
    port.write(bytes('through'), ['10.0.0.2', 9000]);
    network.runUntilIdle();
    assert.deepEqual(sink.texts, ['through']);
    assert.ok(network.trace.some((e) => e.ev === 'udp-drop' && e.reason === 'partition'));
  });

  test('jitter may reorder datagrams (UDP keeps no order)', () => {
    const { network, a, b } = pair(3);
    network.link(a, b, { latency: 0.01, jitter: 0.2 });
    const sink = new Recorder(network);
    b.listenUDP(9000, sink);
    const port = a.listenUDP(0, new Recorder(network));
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      sent.push(`m${i}`);
      port.write(bytes(`m${i}`), ['10.0.0.2', 9000]);
    }
    network.runUntilIdle();
    assert.deepEqual([...sink.texts].sort(), [...sent].sort());
    assert.notDeepEqual(sink.texts, sent);
  });

  test('a datagram larger than the MTU less 28 bytes is dropped', () => {
    const { network, a, b } = pair();
    network.link(a, b, { mtu: 576 });
    const sink = new Recorder(network);
    b.listenUDP(9000, sink);
    const port = a.listenUDP(0, new Recorder(network));
    port.write(new Uint8Array(548), ['10.0.0.2', 9000]);
    port.write(new Uint8Array(549), ['10.0.0.2', 9000]);
    network.runUntilIdle();
    assert.deepEqual(
      sink.received.map((r) => r[0].length),
      [548],
    );
    assert.ok(network.trace.some((e) => e.ev === 'udp-drop' && e.reason === 'mtu'));
    assert.throws(() => port.write(new Uint8Array(65508), ['10.0.0.2', 9000]), MessageLengthError);
  });

  test('bandwidth spaces datagrams out (payload plus 28 bytes of headers)', () => {
    const { network, a, b } = pair();
    network.link(a, b, { latency: 0.01, bandwidth: 1000 });
    const sink = new Recorder(network);
    b.listenUDP(9000, sink);
    const port = a.listenUDP(0, new Recorder(network));
    port.write(new Uint8Array(472), ['10.0.0.2', 9000]);
    port.write(new Uint8Array(472), ['10.0.0.2', 9000]);
    network.runUntilIdle();
    assert.deepEqual(
      sink.received.map((r) => r[3]),
      [0.51, 1.01],
    );
    assert.deepEqual(network.stats.sent, 2);
    assert.deepEqual(network.stats.delivered, 2);
  });

  test('a run with datagrams replays against its trace', () => {
    const run = (network: SimulatedNetwork): void => {
      const a = network.addHost('a', { addresses: ['10.0.0.1'] });
      const b = network.addHost('b', { addresses: ['10.0.0.2'] });
      network.link(a, b, { latency: 0.01, jitter: 0.03, loss: 0.25 });
      b.listenUDP(7, new Echo());
      const port = a.listenUDP(0, new Recorder(network));
      for (let i = 0; i < 30; i++) port.write(bytes(`r${i}`), ['10.0.0.2', 7]);
      network.runUntilIdle();
    };
    const first = new SimulatedNetwork({ seed: 5 });
    run(first);
    const again = new SimulatedNetwork({ seed: 5 });
    again.replay(first.traceJSONLines());
    run(again);
    again.assertReplayed();
    const other = new SimulatedNetwork({ seed: 6 });
    other.replay(first.trace);
    run(other);
    assert.throws(() => other.assertReplayed(), /left the trace/);
  });

  test('maxPacketSize truncates what is received', () => {
    const { network, a, b } = pair();
    const sink = new Recorder(network);
    b.listenUDP(9000, sink, { maxPacketSize: 4 });
    a.listenUDP(0, new Recorder(network)).write(bytes('abcdefgh'), ['10.0.0.2', 9000]);
    network.runUntilIdle();
    assert.deepEqual(sink.texts, ['abcd']);
  });

  test('connected: write without an address, only the peer is heard, connectionRefused on port unreachable', () => {
    const { network, a, b } = pair();
    network.link(a, b, { latency: 0.02 });
    const c = network.addHost('c', { addresses: ['10.0.0.3'] });
    b.listenUDP(7, new Echo());
    const client = new Recorder(network);
    const port = a.listenUDP(6000, client);
    port.connect('10.0.0.2', 7);
    assert.deepEqual(port.connectedTo, ['10.0.0.2', 7]);
    port.write(bytes('one'));
    assert.throws(() => port.write(bytes('x'), ['10.0.0.3', 7]), InvalidAddressError);
    assert.throws(() => port.connect('10.0.0.3', 7), /already connected/);
    c.listenUDP(0, new Recorder(network)).write(bytes('stranger'), ['10.0.0.1', 6000]);
    network.runUntilIdle();
    assert.deepEqual(client.texts, ['one']);
    assert.ok(network.trace.some((e) => e.ev === 'udp-drop' && e.reason === 'not-peer'));
    assert.equal(client.refused, 0);

    const lonely = new Recorder(network);
    const other = a.listenUDP(0, lonely);
    other.connect('10.0.0.2', 4444);
    other.write(bytes('anyone?'));
    network.runUntilIdle();
    assert.equal(lonely.refused, 1);
    assert.ok(network.trace.some((e) => e.ev === 'udp-unreachable' && e.port === 4444));
    assert.ok(network.trace.some((e) => e.ev === 'icmp-recv' && e.refused === true));
    // An unconnected port is not told (as the real one).
    const quiet = new Recorder(network);
    a.listenUDP(0, quiet).write(bytes('anyone?'), ['10.0.0.2', 4444]);
    network.runUntilIdle();
    assert.equal(quiet.refused, 0);
  });

  test('addresses: host names and bad ports are refused; loopback reaches the same host', () => {
    const { network, a } = pair();
    const port = a.listenUDP(0, new Recorder(network));
    assert.throws(() => port.write(bytes('x'), ['b', 9000]), InvalidAddressError);
    assert.throws(() => port.write(bytes('x'), ['10.0.0.2', 0]), InvalidAddressError);
    assert.throws(() => port.write(bytes('x')), InvalidAddressError);
    assert.throws(() => port.write('x' as unknown as Uint8Array, ['10.0.0.2', 1]), TypeError);
    assert.throws(
      () => a.listenUDP(1, new Recorder(network), { interface: '::1' }),
      InvalidAddressError,
    );
    assert.throws(
      () => a.listenUDP(1, new Recorder(network), { interface: '10.9.9.9' }),
      CannotListenError,
    );
    const self = new Recorder(network);
    a.listenUDP(7000, self, { interface: '127.0.0.1' });
    port.write(bytes('me'), ['127.0.0.1', 7000]);
    network.runUntilIdle();
    assert.deepEqual(
      self.received.map((r) => [r[0], r[1], r[2]]),
      [['me', '127.0.0.1', port.port]],
    );
  });

  test('broadcast needs setBroadcastAllowed, then reaches every host listening on the port', () => {
    const { network, a, b } = pair();
    const c = network.addHost('c', { addresses: ['10.0.0.3'] });
    const sinkB = new Recorder(network);
    const sinkC = new Recorder(network);
    b.listenUDP(9000, sinkB);
    c.listenUDP(9000, sinkC);
    const port = a.listenUDP(0, new Recorder(network));
    assert.equal(port.getBroadcastAllowed(), false);
    port.write(bytes('no'), ['<broadcast>', 9000]);
    network.runUntilIdle();
    assert.deepEqual([sinkB.texts, sinkC.texts], [[], []]);
    assert.ok(network.trace.some((e) => e.reason === 'broadcast-not-allowed'));
    port.setBroadcastAllowed(true);
    assert.equal(port.getBroadcastAllowed(), true);
    port.write(bytes('all'), ['<broadcast>', 9000]);
    network.runUntilIdle();
    assert.deepEqual([sinkB.texts, sinkC.texts], [['all'], ['all']]);
  });

  test('a port in use throws CannotListenError; UDP and TCP ports are apart', () => {
    const { network, a } = pair();
    a.listenUDP(53, new Recorder(network));
    assert.throws(() => a.listenUDP(53, new Recorder(network)), CannotListenError);
    assert.equal(a.listenTCP(53, Factory.forProtocol(Protocol)).getHost().port, 53);
    assert.throws(() => a.listenUDP(70000, new Recorder(network)), InvalidAddressError);
    assert.throws(() => a.listenUDP(54, new Recorder(network), { maxPacketSize: 0 }), RangeError);
    assert.throws(() => a.listenMulticast(), /not simulated/);
  });

  test('port 0 picks distinct free ports', () => {
    const { network, a } = pair();
    const ports = [0, 0, 0].map(() => a.listenUDP(0, new Recorder(network)).getHost().port);
    assert.equal(new Set(ports).size, 3);
    for (const port of ports) assert.ok(port >= 49152 && port <= 65535, String(port));
  });

  test('stopListening: a Deferred, stopProtocol later in the instant, the port is free again', () => {
    const { network, a, b } = pair();
    const sink = new Recorder(network);
    const port = b.listenUDP(9000, sink);
    assert.ok(port instanceof SimulatedUDPPort);
    let fired = false;
    port.stopListening().addCallback(() => {
      fired = true;
    });
    assert.equal(sink.stopped, 0, 'not from within stopListening');
    assert.equal(fired, false);
    assert.throws(() => port.write(bytes('x'), ['10.0.0.1', 1]), NotListeningError);
    network.runUntilIdle();
    assert.equal(sink.stopped, 1);
    assert.equal(fired, true);
    assert.equal(sink.transport, undefined);
    const sender = new Recorder(network);
    const out = a.listenUDP(0, sender);
    out.connect('10.0.0.2', 9000);
    out.write(bytes('closed'));
    network.runUntilIdle();
    assert.deepEqual(sink.texts, []);
    assert.equal(sender.refused, 1);
    const again = new Recorder(network);
    b.listenUDP(9000, again);
    out.write(bytes('open'));
    network.runUntilIdle();
    assert.deepEqual(again.texts, ['open']);
  });

  test('a stopped host closes its UDP ports', () => {
    const { network, a } = pair();
    const sink = new Recorder(network);
    a.listenUDP(9000, sink);
    a.stop();
    network.runUntilIdle();
    assert.equal(sink.stopped, 1);
  });

  test('a crash closes UDP ports with no callback; datagrams to it drop; restart starts clean', () => {
    const { network, a, b } = pair();
    network.link(a, b, { latency: 0.1 });
    const sink = new Recorder(network);
    const old = b.listenUDP(9000, sink);
    const port = a.listenUDP(0, new Recorder(network));
    port.write(bytes('in flight'), ['10.0.0.2', 9000]);
    network.advance(0.05);
    b.crash();
    network.runUntilIdle();
    assert.deepEqual(sink.texts, []);
    assert.equal(sink.stopped, 0);
    assert.equal(old.listening, false);
    assert.ok(network.trace.some((e) => e.ev === 'udp-drop' && e.reason === 'down'));
    b.restart();
    const fresh = new Recorder(network);
    b.listenUDP(9000, fresh);
    port.write(bytes('after'), ['10.0.0.2', 9000]);
    network.runUntilIdle();
    assert.deepEqual(fresh.texts, ['after']);
    assert.deepEqual(sink.texts, []);
  });

  test('the trace has every send, delivery and drop with its time; same seed, same trace', () => {
    const run = (seed: number): string => {
      const { network, a, b } = pair(seed);
      network.link(a, b, { latency: 0.01, jitter: 0.05, loss: 0.2 });
      b.listenUDP(7, new Echo());
      const port = a.listenUDP(0, new Recorder(network));
      for (let i = 0; i < 20; i++) {
        network.at(i * 0.01, () => port.write(bytes(`n${i}`), ['10.0.0.2', 7]));
      }
      network.runUntilIdle();
      const events = network.trace.filter((e) => e.ev.startsWith('udp-'));
      const sends = events.filter((e) => e.ev === 'udp-send');
      const ends = events.filter((e) => e.ev === 'udp-recv' || e.ev === 'udp-lost');
      assert.ok(sends.length >= 20);
      assert.equal(ends.length, sends.length, 'each datagram is received or lost');
      const first = events.find((e) => e.ev === 'udp-send');
      assert.deepEqual(Object.keys(first ?? {}).sort(), [
        'd',
        'ev',
        'from',
        'len',
        'sum',
        't',
        'to',
      ]);
      const recv = events.find((e) => e.ev === 'udp-recv');
      assert.ok(recv !== undefined && recv.t >= 0.01);
      return network.traceJSONLines();
    };
    assert.equal(run(9), run(9));
    assert.notEqual(run(9), run(10));
  });
});
