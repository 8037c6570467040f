// LimitTotalConnectionsFactory and LimitConnectionsByPeer (ported from
// Twisted's twisted/test/test_policies.py, LimitTotalConnectionsFactoryTests;
// LimitConnectionsByPeer has no Twisted tests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  connectionDone,
  Factory,
  IPv4Address,
  IPv6Address,
  Protocol,
  UNIXAddress,
} from 'torsion/protocol';
import {
  LimitConnectionsByPeer,
  LimitTotalConnectionsFactory,
  type ProtocolWrapper,
} from 'torsion/protocols/policies';
import type { IAddress } from 'torsion/reactor';
import {
  AccumulatingProtocol,
  connectedServerAndClient,
  StringTransport,
  StringTransportWithDisconnection,
} from 'torsion/testing';

const addr = new IPv4Address('TCP', '127.0.0.1', 1234);

function protocolFactory(): Factory {
  const factory = Factory.forProtocol(Protocol);
  factory.noisy = false;
  return factory;
}

describe('LimitTotalConnectionsFactory', () => {
  test('counts connections as they are built and lost', () => {
    const factory = new LimitTotalConnectionsFactory(protocolFactory());
    assert.equal(factory.connectionCount, 0);

    const p1 = factory.buildProtocol(addr);
    assert.equal(factory.connectionCount, 1);
    const p2 = factory.buildProtocol(addr);
    assert.equal(factory.connectionCount, 2);

    p1?.connectionLost(connectionDone);
    assert.equal(factory.connectionCount, 1);
    p2?.connectionLost(connectionDone);
    assert.equal(factory.connectionCount, 0);
  });

  test('refuses connections beyond the limit, or gives them the overflow protocol', () => {
    const factory = new LimitTotalConnectionsFactory(protocolFactory(), { connectionLimit: 1 });

    const p = factory.buildProtocol(addr);
    assert.notEqual(p, null);
    assert.equal(factory.connectionCount, 1);

    // Beyond the limit, with no overflow protocol: refused.
    assert.equal(factory.buildProtocol(addr), null);
    assert.equal(factory.connectionCount, 1);

    let overflowed = false;
    class OverflowProtocol extends Protocol {
      override connectionMade(): void {
        overflowed = true;
      }
    }
    factory.overflowProtocol = OverflowProtocol;

    // Beyond the limit again, now with an overflow protocol, which counts too.
    const op = factory.buildProtocol(addr);
    assert.ok(op !== null);
    op.makeConnection(new StringTransport());
    assert.equal(overflowed, true);
    assert.ok(op.wrappedProtocol instanceof OverflowProtocol);
    assert.equal((op.wrappedProtocol as OverflowProtocol).factory, factory);
    assert.equal(factory.connectionCount, 2);

    p?.connectionLost(connectionDone);
    assert.equal(factory.connectionCount, 1);
    op.connectionLost(connectionDone);
    assert.equal(factory.connectionCount, 0);
  });

  test('takes connectionLimit and overflowProtocol as options', () => {
    class Busy extends Protocol {
      override connectionMade(): void {
        this.transport.write(Buffer.from('busy\r\n'));
        this.transport.loseConnection();
      }
    }
    const factory = new LimitTotalConnectionsFactory(protocolFactory(), {
      connectionLimit: 1,
      overflowProtocol: Busy,
    });
    const [first] = connectedServerAndClient(factory, AccumulatingProtocol);
    const [second, , pump] = connectedServerAndClient(factory, AccumulatingProtocol);
    pump.flush();
    assert.equal(second.data.toString(), 'busy\r\n');
    assert.equal(second.closed, true);
    assert.equal(first.closed, false);
    assert.equal(factory.connectionCount, 1);
  });

  test('refuses nothing without a limit', () => {
    const factory = new LimitTotalConnectionsFactory(protocolFactory());
    for (let i = 0; i < 50; i++) assert.notEqual(factory.buildProtocol(addr), null);
    assert.equal(factory.connectionCount, 50);
  });

  test('does not count a connection the wrapped factory refuses', () => {
    const factory = new LimitTotalConnectionsFactory(
      { buildProtocol: () => null, doStart: () => {}, doStop: () => {} },
      { connectionLimit: 1 },
    );
    assert.equal(factory.buildProtocol(addr), null);
    assert.equal(factory.connectionCount, 0);
  });
});

/** Builds and connects one protocol for a peer at `peer`. */
function connectFrom(factory: LimitConnectionsByPeer, peer: IAddress): ProtocolWrapper | null {
  const protocol = factory.buildProtocol(peer);
  if (protocol !== null) {
    protocol.makeConnection(new StringTransportWithDisconnection({ protocol, peerAddress: peer }));
  }
  return protocol;
}

describe('LimitConnectionsByPeer', () => {
  test('allows five connections per peer host by default', () => {
    const factory = new LimitConnectionsByPeer(protocolFactory());
    assert.equal(factory.maxConnectionsPerPeer, 5);
    for (let port = 1; port <= 5; port++) {
      assert.notEqual(connectFrom(factory, new IPv4Address('TCP', '10.0.0.1', port)), null);
    }
    assert.equal(connectFrom(factory, new IPv4Address('TCP', '10.0.0.1', 6)), null);
    assert.equal(factory.peerConnections.get('10.0.0.1'), 5);
  });

  test('counts each peer host separately, whatever the port', () => {
    const factory = new LimitConnectionsByPeer(protocolFactory(), { maxConnectionsPerPeer: 1 });
    assert.notEqual(connectFrom(factory, new IPv4Address('TCP', '10.0.0.1', 1)), null);
    assert.equal(connectFrom(factory, new IPv4Address('TCP', '10.0.0.1', 2)), null);
    assert.notEqual(connectFrom(factory, new IPv4Address('TCP', '10.0.0.2', 1)), null);
    assert.notEqual(connectFrom(factory, new IPv6Address('TCP', '::1', 1)), null);
    assert.equal(connectFrom(factory, new IPv6Address('TCP', '::1', 2)), null);
    assert.deepEqual(
      [...factory.peerConnections],
      [
        ['10.0.0.1', 1],
        ['10.0.0.2', 1],
        ['::1', 1],
      ],
    );
  });

  test('allows a peer a new connection once one of its connections is lost', () => {
    const factory = new LimitConnectionsByPeer(protocolFactory(), { maxConnectionsPerPeer: 2 });
    const peer = new IPv4Address('TCP', '10.0.0.1', 1);
    const first = connectFrom(factory, peer);
    connectFrom(factory, peer);
    assert.equal(connectFrom(factory, peer), null);
    first?.loseConnection();
    assert.equal(factory.peerConnections.get('10.0.0.1'), 1);
    assert.equal(factory.protocols.size, 1);
    assert.notEqual(connectFrom(factory, peer), null);
  });

  test('forgets a peer host with no connection left', () => {
    const factory = new LimitConnectionsByPeer(protocolFactory());
    const only = connectFrom(factory, new IPv4Address('TCP', '10.0.0.1', 1));
    only?.loseConnection();
    assert.equal(factory.peerConnections.size, 0);
    assert.equal(factory.protocols.size, 0);
  });

  test('counts addresses without a host by their whole text', () => {
    const factory = new LimitConnectionsByPeer(protocolFactory(), { maxConnectionsPerPeer: 1 });
    assert.notEqual(connectFrom(factory, new UNIXAddress('/tmp/a')), null);
    assert.equal(connectFrom(factory, new UNIXAddress('/tmp/a')), null);
    assert.notEqual(connectFrom(factory, new UNIXAddress('/tmp/b')), null);
  });

  test('does not count a connection the wrapped factory refuses', () => {
    const factory = new LimitConnectionsByPeer({
      buildProtocol: () => null,
      doStart: () => {},
      doStop: () => {},
    });
    assert.equal(factory.buildProtocol(addr), null);
    assert.equal(factory.peerConnections.size, 0);
  });
});
