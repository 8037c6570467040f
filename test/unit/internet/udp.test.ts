// Datagram protocols without sockets: FakeDatagramTransport's records
// (multicast settings and groups included) and MemoryDatagramNetwork, which
// carries datagrams between protocols in memory, drops what finds nobody
// and reports refusals to connected senders. Plus the MemoryReactor's UDP
// and multicast records. (Twisted: test_udp.py behaviours that need no socket.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captureLogs } from 'torsion/logger';
import { DatagramProtocol, InvalidAddressError, IPv4Address, IPv6Address } from 'torsion/protocol';
import {
  FakeDatagramTransport,
  MemoryDatagramNetwork,
  MemoryReactor,
  RaisingMemoryReactor,
  successResultOf,
} from 'torsion/testing';

class Recording extends DatagramProtocol {
  started = 0;
  stopped = 0;
  refused = 0;
  readonly packets: Array<[string, readonly [string, number]]> = [];

  constructor() {
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
    this.packets.push([Buffer.from(data).toString(), addr]);
  }

  override connectionRefused(): void {
    this.refused++;
  }
}

class Echo extends Recording {
  override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
    super.datagramReceived(data, addr);
    this.transport?.write(data, addr);
  }
}

describe('FakeDatagramTransport', () => {
  test('a protocol under test writes to it: each datagram is recorded with its address', () => {
    const protocol = new Echo();
    const transport = new FakeDatagramTransport();
    protocol.makeConnection(transport);
    protocol.datagramReceived(Buffer.from('ping'), ['10.0.0.1', 5000]);
    assert.deepEqual(transport.written, [
      [new Uint8Array(Buffer.from('ping')), ['10.0.0.1', 5000]],
    ]);
    assert.equal(protocol.started, 1);
  });

  test('records the multicast settings and the groups joined and left', () => {
    const transport = new FakeDatagramTransport();
    assert.equal(transport.getTTL(), 1);
    assert.equal(transport.getLoopbackMode(), true);
    assert.equal(transport.getOutgoingInterface(), '0.0.0.0');
    assert.equal(transport.getBroadcastAllowed(), false);
    transport.setTTL(5);
    transport.setLoopbackMode(false);
    assert.equal(successResultOf(transport.setOutgoingInterface('10.0.0.3')), undefined);
    transport.setBroadcastAllowed(true);
    assert.equal(successResultOf(transport.joinGroup('239.1.2.3')), undefined);
    successResultOf(transport.joinGroup('239.1.2.4', '10.0.0.3'));
    successResultOf(transport.leaveGroup('239.1.2.3'));
    assert.equal(transport.getTTL(), 5);
    assert.equal(transport.getLoopbackMode(), false);
    assert.equal(transport.getOutgoingInterface(), '10.0.0.3');
    assert.equal(transport.getBroadcastAllowed(), true);
    assert.deepEqual(transport.groups, [['239.1.2.4', '10.0.0.3']]);
  });
});

describe('MemoryDatagramNetwork', () => {
  test('carries datagrams between two protocols when flushed, with the sender address', () => {
    const network = new MemoryDatagramNetwork();
    const server = new Echo();
    const client = new Recording();
    const serverTransport = network.bind(server, ['10.0.0.1', 53]);
    const clientTransport = network.bind(client);
    assert.equal(server.started, 1);
    assert.deepEqual(serverTransport.getHost(), new IPv4Address('UDP', '10.0.0.1', 53));
    const clientHost = clientTransport.getHost() as IPv4Address;
    clientTransport.write(Buffer.from('query'), ['10.0.0.1', 53]);
    assert.deepEqual(server.packets, [], 'nothing moves until flush');
    assert.equal(network.flush(), 2);
    assert.deepEqual(server.packets, [['query', [clientHost.host, clientHost.port]]]);
    assert.deepEqual(client.packets, [['query', ['10.0.0.1', 53]]]);
    assert.equal(network.delivered.length, 2);
  });

  test('a datagram to nobody is dropped; a connected sender gets connectionRefused', () => {
    const network = new MemoryDatagramNetwork();
    const loose = new Recording();
    const connected = new Recording();
    const looseTransport = network.bind(loose);
    const connectedTransport = network.bind(connected);
    looseTransport.write(Buffer.from('a'), ['10.9.9.9', 1]);
    connectedTransport.connect('10.9.9.9', 1);
    connectedTransport.write(Buffer.from('b'));
    assert.equal(network.flush(), 0);
    assert.equal(network.dropped.length, 2);
    assert.equal(loose.refused, 0);
    assert.equal(connected.refused, 1);
  });

  test('a connected protocol receives from its peer only', () => {
    const network = new MemoryDatagramNetwork();
    const a = new Recording();
    const b = new Recording();
    const c = new Recording();
    const ta = network.bind(a, ['10.0.0.1', 1000]);
    const tb = network.bind(b, ['10.0.0.2', 1000]);
    network.bind(c, ['10.0.0.3', 1000]).write(Buffer.from('stranger'), ['10.0.0.1', 1000]);
    ta.connect('10.0.0.2', 1000);
    tb.write(Buffer.from('peer'), ['10.0.0.1', 1000]);
    network.flush();
    assert.deepEqual(a.packets, [['peer', ['10.0.0.2', 1000]]]);
  });

  test('an address in use is refused; IPv6 addresses work', () => {
    const network = new MemoryDatagramNetwork();
    network.bind(new Recording(), ['::1', 53]);
    assert.throws(() => network.bind(new Recording(), ['::1', 53]), InvalidAddressError);
    const t6 = network.bind(new Recording(), ['::1', 0]);
    assert.ok(t6.getHost() instanceof IPv6Address);
  });

  test('stopListening stops the protocol and later datagrams are dropped', () => {
    const network = new MemoryDatagramNetwork();
    const server = new Recording();
    const client = network.bind(new Recording());
    const transport = network.bind(server, ['10.0.0.1', 7]);
    successResultOf(transport.stopListening());
    assert.equal(server.stopped, 1);
    assert.equal(server.transport, undefined);
    client.write(Buffer.from('late'), ['10.0.0.1', 7]);
    network.flush();
    assert.deepEqual(server.packets, []);
    assert.equal(network.dropped.length, 1);
    assert.throws(() => transport.write(Buffer.from('x'), ['10.0.0.2', 7]), InvalidAddressError);
  });

  test('a callback that throws is logged and delivery goes on', (t) => {
    const logs = captureLogs();
    t.after(() => logs.stop());
    class Bad extends Recording {
      override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
        super.datagramReceived(data, addr);
        throw new Error('bad');
      }
    }
    const network = new MemoryDatagramNetwork();
    const bad = new Bad();
    network.bind(bad, ['10.0.0.1', 7]);
    const client = network.bind(new Recording());
    client.write(Buffer.from('1'), ['10.0.0.1', 7]);
    client.write(Buffer.from('2'), ['10.0.0.1', 7]);
    assert.equal(network.flush(), 2);
    assert.equal(bad.packets.length, 2);
    assert.equal(logs.events.filter((e) => e.log_level === 'critical' || e.log_failure).length, 2);
  });

  test('two protocols that answer each other forever stop at the limit', () => {
    const network = new MemoryDatagramNetwork();
    const a = network.bind(new Echo(), ['10.0.0.1', 1]);
    network.bind(new Echo(), ['10.0.0.2', 1]);
    a.write(Buffer.from('ping'), ['10.0.0.2', 1]);
    assert.equal(network.flush(50), 50);
    assert.equal(network.queued.length, 1);
  });
});

describe('MemoryReactor.listenUDP', () => {
  test('records the call and hands out a UDP port', () => {
    const reactor = new MemoryReactor();
    const protocol = new Recording();
    const port = reactor.listenUDP(0, protocol, { interface: '127.0.0.1', maxPacketSize: 512 });
    assert.deepEqual(reactor.udpServers, [[0, protocol, '127.0.0.1', 512]]);
    assert.equal(port.getHost().type, 'UDP');
    assert.equal(port.getHost().host, '127.0.0.1');
  });
});

describe('MemoryReactor.listenMulticast', () => {
  test('records the call and hands out a port that records the multicast calls', () => {
    const reactor = new MemoryReactor();
    const protocol = new Recording();
    const port = reactor.listenMulticast(0, protocol, { listenMultiple: true });
    assert.deepEqual(reactor.multicastServers, [[0, protocol, '', 8192, true]]);
    assert.equal(port.getHost().type, 'UDP');
    assert.equal(port.getHost().host, '0.0.0.0');
    assert.ok(port.getHost().port > 0);
    assert.equal(protocol.started, 0, 'the protocol is not started');
    successResultOf(port.joinGroup('225.0.0.250'));
    port.setTTL(4);
    assert.deepEqual(port.groups, [['225.0.0.250', '']]);
    assert.equal(port.getTTL(), 4);
    successResultOf(port.stopListening());
    assert.equal(port.stopped, true);
    port.startListening();
    assert.equal(port.stopped, false);
  });

  test('RaisingMemoryReactor throws from listenMulticast', () => {
    assert.throws(() => new RaisingMemoryReactor().listenMulticast(5353, new Recording()));
  });
});
