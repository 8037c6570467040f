// UDP on a real NodeReactor over loopback (127.0.0.1 and ::1): binding at
// once, start and stop, sending and receiving, connected UDP and refusals,
// bad addresses, oversized datagrams, callbacks that throw, broadcast, and
// shutdown. (Twisted: test/test_udp.py UDPTests, ReactorShutdownInteractionTests;
// internet/test/test_udp.py UDPPortTestsMixin, DatagramTransportTestsMixin.)

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, test } from 'node:test';
import { captureLogs } from 'torsion/logger';
import type { IPAddress } from 'torsion/protocol';
import {
  CannotListenError,
  DatagramProtocol,
  InvalidAddressError,
  IPv4Address,
  IPv6Address,
  MessageLengthError,
  NotListeningError,
} from 'torsion/protocol';
import type { IListeningPort, IUDPTransport } from 'torsion/reactor';
import {
  harness,
  ipv6LoopbackWorks,
  Signal,
  type SocketHarness,
  until,
  waitFor,
} from '../helpers/sockets.js';

const SUITE = { timeout: 30_000 };

type UDPPort = IListeningPort<IPAddress> & IUDPTransport;

/** A datagram protocol that records what happens to it. */
class Recording extends DatagramProtocol {
  started = 0;
  stopped = 0;
  refused = 0;
  readonly packets: Array<[Buffer, readonly [string, number]]> = [];
  readonly #waiting: Array<[number, Signal<void>]> = [];
  readonly refusedSignal = new Signal<void>();
  readonly stoppedSignal = new Signal<void>();

  constructor() {
    super();
    this.noisy = false;
  }

  override startProtocol(): void {
    this.started++;
  }

  override stopProtocol(): void {
    this.stopped++;
    this.stoppedSignal.fire();
  }

  override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
    this.packets.push([Buffer.from(data), addr]);
    for (const [n, signal] of this.#waiting) if (this.packets.length >= n) signal.fire();
  }

  override connectionRefused(): void {
    this.refused++;
    this.refusedSignal.fire();
  }

  /** Resolves once `n` datagrams have arrived. */
  count(n: number): Promise<void> {
    const signal = new Signal<void>();
    if (this.packets.length >= n) signal.fire();
    else this.#waiting.push([n, signal]);
    return waitFor(signal.promise, `${n} datagrams`);
  }
}

function listen(
  h: SocketHarness,
  protocol: DatagramProtocol,
  iface = '127.0.0.1',
  port = 0,
): UDPPort {
  const listening = h.reactor.listenUDP(port, protocol, { interface: iface });
  h.adopt(listening);
  return listening;
}

function peer(port: UDPPort): [string, number] {
  const host = port.getHost();
  return [host.host, host.port];
}

/** A port number nobody listens on: bound once, then closed. */
async function closedPort(family: 'udp4' | 'udp6' = 'udp4'): Promise<number> {
  const socket = createSocket(family);
  await new Promise<void>((resolve) =>
    socket.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', resolve),
  );
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

describe('listenUDP', SUITE, () => {
  test('binds before it returns: getHost is a UDP address with the port chosen, and the protocol has started', (t) => {
    const h = harness(t);
    const protocol = new Recording();
    const port = listen(h, protocol);
    const host = port.getHost();
    assert.ok(host instanceof IPv4Address);
    assert.equal(host.type, 'UDP');
    assert.equal(host.host, '127.0.0.1');
    assert.ok(host.port > 0);
    assert.equal(protocol.started, 1);
    assert.equal(protocol.transport, port);
    assert.deepEqual(protocol.transport?.getHost(), host);
  });

  test('startProtocol runs on listen and stopProtocol once stopListening has closed the socket', async (t) => {
    const h = harness(t);
    const protocol = new Recording();
    const port = listen(h, protocol);
    const stopped = port.stopListening();
    assert.equal(protocol.stopped, 0, 'stopProtocol is not called from within stopListening');
    await waitFor(stopped, 'stopListening');
    assert.equal(protocol.stopped, 1);
    assert.equal(protocol.transport, undefined);
    assert.throws(() => port.write(Buffer.from('x'), ['127.0.0.1', 9]), NotListeningError);
    await waitFor(port.stopListening(), 'a second stopListening');
  });

  test('stopListening from startProtocol: stopProtocol runs later, not re-entrantly', async (t) => {
    const h = harness(t);
    class Disconnecting extends Recording {
      inStart = false;
      stoppedInStart = false;
      override startProtocol(): void {
        super.startProtocol();
        this.inStart = true;
        void this.transport?.stopListening();
        this.inStart = false;
      }
      override stopProtocol(): void {
        this.stoppedInStart = this.inStart;
        super.stopProtocol();
      }
    }
    const protocol = new Disconnecting();
    listen(h, protocol);
    await waitFor(protocol.stoppedSignal.promise, 'stopProtocol');
    assert.equal(protocol.started, 1);
    assert.equal(protocol.stoppedInStart, false);
  });

  test('listening again with the same protocol starts it again', async (t) => {
    const h = harness(t);
    const protocol = new Recording();
    const first = listen(h, protocol);
    await waitFor(first.stopListening(), 'the first port to stop');
    listen(h, protocol);
    assert.equal(protocol.started, 2);
    assert.equal(protocol.stopped, 1);
  });

  test('a port in use: CannotListenError naming EADDRINUSE, thrown at once', (t) => {
    const h = harness(t);
    const port = listen(h, new Recording());
    const error = assert.throws(
      () => h.reactor.listenUDP(port.getHost().port, new Recording(), { interface: '127.0.0.1' }),
      (e: unknown) => e instanceof CannotListenError && e.socketError === 'EADDRINUSE',
    );
    void error;
  });

  test('an interface that is not an IP address, or a bad port number: InvalidAddressError', (t) => {
    const h = harness(t);
    assert.throws(
      () => h.reactor.listenUDP(0, new Recording(), { interface: 'localhost' }),
      InvalidAddressError,
    );
    assert.throws(() => h.reactor.listenUDP(70000, new Recording()), InvalidAddressError);
    assert.throws(() => h.reactor.listenUDP(0, new Recording(), { maxPacketSize: 0 }), RangeError);
  });

  test('an interface that is not local: CannotListenError', (t) => {
    const h = harness(t);
    assert.throws(
      () => h.reactor.listenUDP(0, new Recording(), { interface: '192.0.2.254' }),
      (e: unknown) => e instanceof CannotListenError && e.socketError === 'EADDRNOTAVAIL',
    );
  });

  test("reads as Twisted's repr: <Protocol on port>, then <Protocol not connected>", async (t) => {
    const h = harness(t);
    class Named extends Recording {}
    const port = listen(h, new Named());
    assert.equal(String(port), `<Named on ${port.getHost().port}>`);
    await waitFor(port.stopListening(), 'stopListening');
    assert.equal(String(port), '<Named not connected>');
  });

  test('logs "<protocol> starting on <port>" and "(UDP Port <port> Closed)"', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    class Crazy extends DatagramProtocol {}
    const port = h.reactor.listenUDP(0, new Crazy(), { interface: '127.0.0.1' });
    const n = port.getHost().port;
    await waitFor(port.stopListening(), 'stopListening');
    const texts = logs.events.map((e) => [e.log_format, e.port]);
    assert.ok(texts.some(([f, p]) => f === '{protocol} starting on {port}' && p === n));
    assert.ok(texts.some(([f, p]) => f === '(UDP Port {port} Closed)' && p === n));
  });
});

describe('sending and receiving', SUITE, () => {
  test('datagrams go both ways; a connected client writes with no address, its own peer, or the same address', async (t) => {
    const h = harness(t);
    const server = new Recording();
    const client = new Recording();
    const serverPort = listen(h, server);
    const clientPort = listen(h, client);
    const [sHost, sPort] = peer(serverPort);
    clientPort.connect(sHost, sPort);
    serverPort.write(Buffer.from('hello'), peer(clientPort));
    clientPort.write(Buffer.from('a'));
    clientPort.write(Buffer.from('b'), undefined);
    clientPort.write(Buffer.from('c'), [sHost, sPort]);
    await server.count(3);
    await client.count(1);
    assert.deepEqual(client.packets, [[Buffer.from('hello'), [sHost, sPort]]]);
    const clientAddr = peer(clientPort);
    assert.deepEqual(server.packets, [
      [Buffer.from('a'), clientAddr],
      [Buffer.from('b'), clientAddr],
      [Buffer.from('c'), clientAddr],
    ]);
  });

  test('a connected port refuses to write elsewhere, and refuses a second connect', (t) => {
    const h = harness(t);
    const port = listen(h, new Recording());
    assert.throws(() => port.connect('localhost', 80), InvalidAddressError);
    port.connect('127.0.0.1', 80);
    assert.throws(() => port.connect('127.0.0.1', 80), /already connected/);
    assert.throws(() => port.write(Buffer.from('x'), ['127.0.0.1', 81]), InvalidAddressError);
  });

  test('connected UDP: a refusal by the peer (ICMP port unreachable) calls connectionRefused', async (t) => {
    const h = harness(t);
    const client = new Recording();
    const port = listen(h, client);
    port.connect('127.0.0.1', await closedPort());
    // Each write may be the one on which the pending error is reported.
    for (let i = 0; i < 10; i++) port.write(Buffer.from(String(i)));
    await waitFor(client.refusedSignal.promise, 'connectionRefused');
    assert.ok(client.refused >= 1);
  });

  test('an unconnected port ignores a refusal and goes on receiving', async (t) => {
    const h = harness(t);
    const server = new Recording();
    const client = new Recording();
    const serverPort = listen(h, server);
    const clientPort = listen(h, client);
    serverPort.write(Buffer.from('to nobody'), ['127.0.0.1', await closedPort()]);
    clientPort.write(Buffer.from('test packet'), peer(serverPort));
    await server.count(1);
    serverPort.write(Buffer.from('to nobody again'), ['127.0.0.1', await closedPort()]);
    clientPort.write(Buffer.from('second'), peer(serverPort));
    await server.count(2);
    assert.deepEqual(
      server.packets.map(([data]) => data.toString()),
      ['test packet', 'second'],
    );
    assert.equal(server.refused, 0);
  });

  test('a write to a host name, a bad port, or with no address: InvalidAddressError, thrown at once', (t) => {
    const h = harness(t);
    const port = listen(h, new Recording());
    assert.throws(
      () => port.write(Buffer.from('x'), ['example.invalid', 53]),
      (e: unknown) => e instanceof InvalidAddressError && /not hostnames/.test(e.message),
    );
    assert.throws(() => port.write(Buffer.from('x'), ['', 9]), InvalidAddressError);
    assert.throws(() => port.write(Buffer.from('x'), ['127.0.0.1', 0]), InvalidAddressError);
    assert.throws(() => port.write(Buffer.from('x')), InvalidAddressError);
    assert.throws(() => port.write('x' as unknown as Uint8Array, ['127.0.0.1', 9]), TypeError);
  });

  test('the largest IPv4 datagram (65507 bytes) arrives whole; one byte more is MessageLengthError', async (t) => {
    const h = harness(t);
    const server = new Recording();
    const serverPort = h.reactor.listenUDP(0, server, {
      interface: '127.0.0.1',
      maxPacketSize: 65507,
    });
    h.adopt(serverPort);
    const client = listen(h, new Recording());
    assert.throws(() => client.write(Buffer.alloc(65508), peer(serverPort)), MessageLengthError);
    client.write(Buffer.alloc(65507, 7), peer(serverPort));
    await server.count(1);
    assert.equal(server.packets[0]?.[0].length, 65507);
  });

  test('a datagram longer than maxPacketSize is truncated to it, as Twisted reads', async (t) => {
    const h = harness(t);
    const server = new Recording();
    const serverPort = h.reactor.listenUDP(0, server, { interface: '127.0.0.1', maxPacketSize: 4 });
    h.adopt(serverPort);
    const client = listen(h, new Recording());
    client.write(Buffer.from('abcdefgh'), peer(serverPort));
    client.write(Buffer.from('xy'), peer(serverPort));
    await server.count(2);
    assert.deepEqual(
      server.packets.map(([data]) => data.toString()),
      ['abcd', 'xy'],
    );
  });

  test('datagramReceived that throws is logged and the port goes on', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    class Bad extends Recording {
      override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
        super.datagramReceived(data, addr);
        if (this.packets.length <= 2) throw new Error(`bad datagram ${this.packets.length}`);
      }
    }
    const server = new Bad();
    const serverPort = listen(h, server);
    const client = listen(h, new Recording());
    for (const text of ['1', '2', '3']) client.write(Buffer.from(text), peer(serverPort));
    await server.count(3);
    const failures = logs.events.filter((e) => /datagramReceived/.test(String(e.log_format)));
    assert.equal(failures.length, 2);
  });

  test('a send error the system reports later is logged with its cause, not thrown', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    const port = listen(h, new Recording(), '0.0.0.0');
    // Broadcast is not allowed: the system refuses with EACCES.
    assert.equal(port.getBroadcastAllowed(), false);
    port.write(Buffer.from('x'), ['255.255.255.255', 9]);
    await until(
      () => logs.events.some((e) => /EACCES/.test(String(e.message))),
      'the EACCES log line',
    );
  });

  test('broadcast is opt-in: setBroadcastAllowed, getBroadcastAllowed', (t) => {
    const h = harness(t);
    const port = listen(h, new Recording());
    assert.equal(port.getBroadcastAllowed(), false);
    port.setBroadcastAllowed(true);
    assert.equal(port.getBroadcastAllowed(), true);
    port.setBroadcastAllowed(false);
    assert.equal(port.getBroadcastAllowed(), false);
  });
});

describe('IPv6', SUITE, () => {
  test('on ::1: getHost is an IPv6Address, and datagrams go both ways', async (t) => {
    if (!(await ipv6LoopbackWorks())) {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    const h = harness(t);
    const server = new Recording();
    const client = new Recording();
    const serverPort = listen(h, server, '::1');
    const clientPort = listen(h, client, '::1');
    const host = serverPort.getHost();
    assert.ok(host instanceof IPv6Address);
    assert.equal(host.host, '::1');
    assert.equal(host.type, 'UDP');
    clientPort.write(Buffer.from('spam'), peer(serverPort));
    await server.count(1);
    assert.deepEqual(server.packets[0], [Buffer.from('spam'), ['::1', clientPort.getHost().port]]);
    clientPort.connect('::1', serverPort.getHost().port);
    clientPort.write(Buffer.from('eggs'));
    await server.count(2);
    serverPort.write(Buffer.from('ham'), peer(clientPort));
    await client.count(1);
  });

  test('an IPv4 address on an IPv6 port, and an IPv6 one on an IPv4 port: InvalidAddressError', async (t) => {
    if (!(await ipv6LoopbackWorks())) {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    const h = harness(t);
    const v6 = listen(h, new Recording(), '::1');
    const v4 = listen(h, new Recording());
    assert.throws(() => v6.write(Buffer.from('x'), ['127.0.0.1', 9]), InvalidAddressError);
    assert.throws(() => v4.write(Buffer.from('x'), ['::1', 9]), InvalidAddressError);
    assert.throws(() => v6.connect('127.0.0.1', 9), InvalidAddressError);
  });

  test("'::' makes an IPv6 port on all interfaces", (t) => {
    const h = harness(t);
    const port = listen(h, new Recording(), '::');
    const host = port.getHost();
    assert.ok(host instanceof IPv6Address);
    assert.equal(host.host, '::');
  });
});

describe('reactor shutdown', SUITE, () => {
  test('closes UDP ports and stops their protocols, even from datagramReceived', async (t) => {
    const h = harness(t);
    const reactor = h.reactor;
    class Stopping extends Recording {
      override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
        super.datagramReceived(data, addr);
        reactor.stop();
      }
    }
    const server = new Stopping();
    const other = new Recording();
    const serverPort = reactor.listenUDP(0, server, { interface: '127.0.0.1' });
    reactor.listenUDP(0, other, { interface: '127.0.0.1' });
    const ran = reactor.run({ installSignalHandlers: false });
    const client = createSocket('udp4');
    t.after(() => client.close());
    client.send('stop', serverPort.getHost().port, '127.0.0.1');
    await waitFor(ran, 'the reactor to stop');
    assert.equal(server.stopped, 1);
    assert.equal(other.stopped, 1);
  });
});
