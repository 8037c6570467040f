// StringTransport's record of startTLS, so that protocols that upgrade can
// be unit-tested without sockets; the real transports are tested in
// test/integration/starttls.test.ts; a client endpoint's wrapper passes
// handshakeCompleted on.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TCP4ClientEndpoint } from 'torsion/endpoints';
import { Factory, IPv4Address, Protocol } from 'torsion/protocol';
import type { IProtocol, IProtocolFactory, ITLSTransport } from 'torsion/reactor';
import { MemoryReactor, StringTransport, successResultOf } from 'torsion/testing';

describe('StringTransport.startTLS', () => {
  test('records the options, the side and the unread bytes', () => {
    const transport = new StringTransport();
    assert.equal(transport.tlsStarted, false);
    const asTLS: ITLSTransport = transport;
    const unread = new Uint8Array([22, 3, 1]);
    asTLS.startTLS({ servername: 'example.com' }, { server: false, unread });
    assert.equal(transport.tlsStarted, true);
    assert.deepEqual(transport.tlsOptions, { servername: 'example.com' });
    assert.equal(transport.tlsServer, false);
    assert.equal(transport.tlsUnread, unread);
  });

  test('the default side is left undefined (the transport decides)', () => {
    const transport = new StringTransport();
    transport.startTLS({ key: 'k', cert: 'c' });
    assert.equal(transport.tlsServer, undefined);
  });

  test('throws as a real transport does: twice, closing, half-closed, not an object', () => {
    const twice = new StringTransport();
    twice.startTLS({ servername: 'a' });
    assert.throws(() => twice.startTLS({ servername: 'a' }), /already uses TLS/);
    const closing = new StringTransport();
    closing.loseConnection();
    assert.throws(() => closing.startTLS({ servername: 'a' }), /closing or half-closed/);
    const half = new StringTransport();
    half.loseWriteConnection();
    assert.throws(() => half.startTLS({ servername: 'a' }), /closing or half-closed/);
    assert.throws(
      () => new StringTransport().startTLS(null as unknown as { servername: string }),
      TypeError,
    );
  });

  test('the handshake outcome is what the test sets', () => {
    const transport = new StringTransport();
    assert.equal(transport.getPeerCertificate(), null);
    assert.equal(transport.negotiatedProtocol, null);
    transport.negotiatedProtocol = 'http/1.1';
    assert.equal(transport.negotiatedProtocol, 'http/1.1');
  });

  test('writes go on being recorded in the clear after the switch', () => {
    const transport = new StringTransport();
    transport.write(Buffer.from('STARTTLS\r\n'));
    transport.startTLS({ servername: 'a' });
    transport.write(Buffer.from('x'));
    assert.equal(transport.value().toString(), 'STARTTLS\r\nx');
  });
});

describe('a client endpoint and startTLS', () => {
  test("the endpoint's wrapper tells the protocol that the handshake completed", () => {
    const reactor = new MemoryReactor();
    let told = 0;
    class Listening extends Protocol {
      handshakeCompleted(): void {
        told++;
      }
    }
    const d = new TCP4ClientEndpoint(reactor, 'example.com', 25).connect(
      Factory.forProtocol(Listening),
    );
    const factory = reactor.tcpClients[0]?.[2] as IProtocolFactory;
    const wrapper = factory.buildProtocol(new IPv4Address('TCP', '10.0.0.2', 25)) as IProtocol & {
      handshakeCompleted(): void;
    };
    wrapper.makeConnection(new StringTransport());
    assert.ok(successResultOf(d) instanceof Listening);
    wrapper.handshakeCompleted();
    assert.equal(told, 1);
  });

  test('a protocol that does not listen is not bothered', () => {
    const reactor = new MemoryReactor();
    new TCP4ClientEndpoint(reactor, 'example.com', 25).connect(Factory.forProtocol(Protocol));
    const factory = reactor.tcpClients[0]?.[2] as IProtocolFactory;
    const wrapper = factory.buildProtocol(new IPv4Address('TCP', '10.0.0.2', 25)) as IProtocol & {
      handshakeCompleted(): void;
    };
    wrapper.makeConnection(new StringTransport());
    wrapper.handshakeCompleted();
  });
});
