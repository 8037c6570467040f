// wrapClientTLS without sockets: the wrapped endpoint's transport (a
// StringTransport) is asked to start TLS as the client before the
// protocol's connectionMade; events pass through; a transport that cannot
// start TLS fails the attempt; bad settings throw at once.
// (Twisted: test_endpoints.py WrapClientTLSTests.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Failure } from 'torsion/defer';
import { TCP4ClientEndpoint, UNIXClientEndpoint, wrapClientTLS } from 'torsion/endpoints';
import { ConnectionDone, Factory, IPv4Address, Protocol, UNIXAddress } from 'torsion/protocol';
import type { IProtocol, IProtocolFactory } from 'torsion/reactor';
import {
  assertNoResult,
  failureResultOf,
  MemoryReactor,
  StringTransport,
  successResultOf,
} from 'torsion/testing';
import { CERT } from '../../helpers/tls.js';

const OPTIONS = { servername: 'example.com' };

/** Records what it sees, and whether TLS had started when its connectionMade ran. */
class Seeing extends Protocol {
  tlsAtConnectionMade: boolean | undefined;
  handshakes = 0;
  readonly received: string[] = [];
  lost: Failure | undefined;
  override connectionMade(): void {
    this.tlsAtConnectionMade = (this.transport as StringTransport).tlsStarted;
    this.transport?.write(Buffer.from('hello'));
  }
  override dataReceived(data: Uint8Array): void {
    this.received.push(Buffer.from(data).toString());
  }
  override connectionLost(reason: Failure): void {
    this.lost = reason;
  }
  handshakeCompleted(): void {
    this.handshakes++;
  }
}

/** Connects through a TCP endpoint of a MemoryReactor: the protocol the reactor would attach. */
function attempt(factory: IProtocolFactory = Factory.forProtocol(Seeing)) {
  const reactor = new MemoryReactor();
  const endpoint = wrapClientTLS(OPTIONS, new TCP4ClientEndpoint(reactor, 'example.com', 443));
  const d = endpoint.connect(factory);
  const reactorFactory = reactor.tcpClients[0]?.[2] as IProtocolFactory;
  const outer = reactorFactory.buildProtocol(new IPv4Address('TCP', '10.0.0.2', 443)) as IProtocol;
  return { reactor, endpoint, d, outer };
}

describe('wrapClientTLS', () => {
  test('starts TLS as the client before connectionMade; writes follow the switch', () => {
    const { d, outer } = attempt();
    const transport = new StringTransport();
    outer.makeConnection(transport);
    const protocol = successResultOf(d) as Seeing;
    assert.ok(protocol instanceof Seeing);
    assert.equal(protocol.tlsAtConnectionMade, true);
    assert.equal(transport.tlsServer, false);
    assert.equal((transport.tlsOptions as { servername?: string }).servername, 'example.com');
    assert.ok(
      (transport.tlsOptions as { secureContext?: unknown }).secureContext,
      'the secure context is built once, by the endpoint',
    );
    assert.equal(transport.value().toString(), 'hello');
    assert.equal(protocol.transport, transport);
  });

  test('data, handshakeCompleted and connectionLost reach the protocol', () => {
    const { d, outer } = attempt();
    const transport = new StringTransport();
    outer.makeConnection(transport);
    const protocol = successResultOf(d) as Seeing;
    (outer as unknown as { handshakeCompleted(): void }).handshakeCompleted();
    assert.equal(protocol.handshakes, 1);
    outer.dataReceived(Buffer.from('world'));
    assert.deepEqual(protocol.received, ['world']);
    outer.connectionLost(new Failure(new ConnectionDone()));
    assert.ok(protocol.lost?.check(ConnectionDone));
  });

  test('a half-closeable protocol stays half-closeable through the wrapper', () => {
    let readLost = 0;
    class Half extends Protocol {
      readConnectionLost(): void {
        readLost++;
      }
    }
    const { outer } = attempt(Factory.forProtocol(Half));
    outer.makeConnection(new StringTransport());
    (outer as unknown as { readConnectionLost(): void }).readConnectionLost();
    assert.equal(readLost, 1);
    const { outer: plain } = attempt();
    assert.equal(
      typeof (plain as { readConnectionLost?: unknown }).readConnectionLost,
      'undefined',
    );
  });

  test('works through a UNIX endpoint too', () => {
    const reactor = new MemoryReactor();
    const d = wrapClientTLS(OPTIONS, new UNIXClientEndpoint(reactor, '/tmp/s')).connect(
      Factory.forProtocol(Seeing),
    );
    const reactorFactory = reactor.unixClients[0]?.[1] as IProtocolFactory;
    const outer = reactorFactory.buildProtocol(new UNIXAddress('/tmp/s')) as IProtocol;
    const transport = new StringTransport();
    outer.makeConnection(transport);
    assert.equal(transport.tlsStarted, true);
    assert.ok(successResultOf(d) instanceof Seeing);
  });

  test('a transport that cannot start TLS fails the attempt with a TypeError naming it', () => {
    const { d, outer } = attempt();
    const transport = new StringTransport();
    Object.defineProperty(transport, 'startTLS', { value: undefined });
    assert.throws(() => outer.makeConnection(transport), /cannot start TLS/);
    const failure = failureResultOf(d, TypeError);
    assert.match(failure.getErrorMessage(), /wrapClientTLS: .*StringTransport.*no startTLS/);
  });

  test('a factory that refuses (null) refuses the connection', () => {
    const { d, outer } = attempt({ buildProtocol: () => null, doStart() {}, doStop() {} });
    assert.equal(outer, null);
    assert.ok(failureResultOf(d));
  });

  test('cancelling the Deferred cancels the wrapped attempt', () => {
    const reactor = new MemoryReactor();
    const d = wrapClientTLS(OPTIONS, new TCP4ClientEndpoint(reactor, 'example.com', 443)).connect(
      Factory.forProtocol(Seeing),
    );
    assertNoResult(d);
    d.cancel();
    assert.match(failureResultOf(d).getErrorMessage(), /cancel/i);
  });

  test('settings: a server name is required; a bad key throws at once; a good one is kept', () => {
    const tcp = new TCP4ClientEndpoint(new MemoryReactor(), 'example.com', 443);
    assert.throws(() => wrapClientTLS({}, tcp), /servername \(or host\)/);
    assert.throws(() => wrapClientTLS({ servername: '' }, tcp), TypeError);
    assert.throws(
      () => wrapClientTLS(null as unknown as object, tcp),
      /options must be TLS client settings/,
    );
    assert.throws(
      () => wrapClientTLS(OPTIONS, {} as unknown as typeof tcp),
      /must be a client endpoint/,
    );
    assert.throws(() => wrapClientTLS({ ...OPTIONS, key: 'not a key', cert: CERT }, tcp));
    const endpoint = wrapClientTLS({ host: '127.0.0.1', ca: CERT }, tcp);
    assert.equal(endpoint.wrappedEndpoint, tcp);
    assert.match(String(endpoint), /^<TLS to 127\.0\.0\.1 over tcp:example\.com:443/);
  });
});
