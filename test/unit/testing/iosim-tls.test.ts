// FakeTransport.startTLS, the in-memory STARTTLS double: both sides must
// start TLS for the handshake to complete; plain bytes before, the hello,
// then what was written after (held until the handshake is done); ALPN and
// peer certificates from the options; the failures a real handshake would
// have (plain bytes after this side's hello, no client certificate for a
// server asking for one, no common ALPN protocol). (Twisted:
// test/iosim.py FakeTransport.startTLS, test/test_ssl.py StartTLSTests.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { ConnectionLost, Protocol } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import { connectedServerAndClient, type FakeTransport } from 'torsion/testing';
import { CERT, KEY } from '../../helpers/tls.js';

const SERVER = { key: KEY, cert: CERT };
const CLIENT = { servername: 'localhost', ca: CERT };

/** Records lines and events; on `STARTTLS` (server) answers `GO AHEAD` and starts TLS. */
class Lines extends LineReceiver {
  readonly lines: string[] = [];
  readonly events: string[] = [];
  tls: object = SERVER;
  reason: Failure | undefined;
  override lineReceived(line: Buffer): void {
    const text = line.toString();
    this.lines.push(text);
    this.events.push(`line ${text}`);
    if (text === 'STARTTLS') {
      this.sendLine('GO AHEAD');
      this.fake().startTLS(this.tls);
    } else if (text === 'GO AHEAD') {
      this.fake().startTLS(this.tls);
      this.sendLine('written during the handshake');
    } else if (text !== 'written during the handshake' && this.fake().isServer) {
      this.sendLine(`echo ${text}`);
    }
  }
  handshakeCompleted(): void {
    this.events.push('handshake');
  }
  override connectionLost(reason: Failure): void {
    this.reason = reason;
  }
  fake(): FakeTransport {
    return this.transport as unknown as FakeTransport;
  }
}

function pair(clientTLS: object = CLIENT, serverTLS: object = SERVER) {
  const [client, server, pump] = connectedServerAndClient(
    () => Object.assign(new Lines(), { tls: serverTLS }),
    () => Object.assign(new Lines(), { tls: clientTLS }),
  );
  return { client, server, pump };
}

describe('FakeTransport.startTLS', () => {
  test('a line protocol upgrades: plain before, handshake on both sides, lines after', () => {
    const { client, server, pump } = pair();
    client.sendLine('hello');
    client.sendLine('STARTTLS');
    pump.flush();
    assert.deepEqual(server.events, [
      'line hello',
      'line STARTTLS',
      'handshake',
      'line written during the handshake',
    ]);
    assert.deepEqual(client.events, ['line echo hello', 'line GO AHEAD', 'handshake']);
    assert.ok(client.fake().tlsStarted && server.fake().tlsStarted);
    assert.equal(client.fake().tlsServer, false);
    assert.equal(server.fake().tlsServer, true);
    client.sendLine('secret');
    pump.flush();
    assert.deepEqual(client.lines.at(-1), 'echo secret');
    assert.equal(client.reason, undefined);
    assert.equal(server.reason, undefined);
  });

  test('what is written after startTLS waits until the peer starts TLS too', () => {
    const [client, server, pump] = connectedServerAndClient(Protocol, Protocol);
    const received: string[] = [];
    server.dataReceived = (data) => {
      received.push(Buffer.from(data).toString());
    };
    const io = client.transport as unknown as FakeTransport;
    io.write(Buffer.from('plain'));
    io.startTLS(CLIENT);
    io.write(Buffer.from('secret'));
    pump.flush();
    assert.deepEqual(received, ['plain']);
    assert.equal(io.getWriteBufferSize(), 6);
    (server.transport as unknown as FakeTransport).startTLS(SERVER);
    pump.flush();
    assert.deepEqual(received, ['plain', 'secret']);
    assert.equal(io.getWriteBufferSize(), 0);
  });

  test('the peer starting TLS first: the handshake completes when this side starts it', () => {
    const [client, server, pump] = connectedServerAndClient(Protocol, Protocol);
    const done: string[] = [];
    Object.assign(client, { handshakeCompleted: () => done.push('client') });
    Object.assign(server, { handshakeCompleted: () => done.push('server') });
    (client.transport as unknown as FakeTransport).startTLS(CLIENT);
    pump.flush();
    assert.deepEqual(done, []);
    (server.transport as unknown as FakeTransport).startTLS(SERVER);
    pump.flush();
    assert.deepEqual(done.sort(), ['client', 'server']);
  });

  test("getPeerCertificate: the client sees the server's cert; the server none unless it asks", () => {
    const { client, server, pump } = pair();
    client.sendLine('STARTTLS');
    pump.flush();
    assert.equal(client.fake().getPeerCertificate()?.subject.CN, 'localhost');
    assert.match(String(client.fake().getPeerCertificate()?.fingerprint256), /^[0-9A-F:]+$/);
    assert.equal(server.fake().getPeerCertificate(), null);
  });

  test('a server asking for a client certificate sees the one presented', () => {
    const { client, server, pump } = pair(
      { ...CLIENT, key: KEY, cert: CERT },
      { ...SERVER, requestCert: true },
    );
    client.sendLine('STARTTLS');
    pump.flush();
    assert.equal(server.fake().getPeerCertificate()?.subject.CN, 'localhost');
    assert.ok(server.events.includes('handshake'));
  });

  test('a server asking for a client certificate refuses a client without one', () => {
    const { client, server, pump } = pair(CLIENT, { ...SERVER, requestCert: true });
    client.sendLine('STARTTLS');
    pump.flush();
    assert.ok(server.reason?.check(ConnectionLost));
    assert.match(
      server.reason?.getErrorMessage() ?? '',
      /TLS handshake failed: the server asked for a client certificate and the client has none/,
    );
    assert.ok(client.reason?.check(ConnectionLost));
    assert.ok(!server.events.includes('handshake'));
  });

  test('negotiatedProtocol: the first of the server’s ALPN list the client offered', () => {
    const { client, server, pump } = pair(
      { ...CLIENT, ALPNProtocols: ['http/1.1', 'h2'] },
      { ...SERVER, ALPNProtocols: ['h2', 'http/1.1'] },
    );
    assert.equal(client.fake().negotiatedProtocol, null);
    client.sendLine('STARTTLS');
    pump.flush();
    assert.equal(client.fake().negotiatedProtocol, 'h2');
    assert.equal(server.fake().negotiatedProtocol, 'h2');
  });

  test('no ALPN list on one side: null; no protocol in common: the handshake fails', () => {
    const one = pair({ ...CLIENT, ALPNProtocols: ['h2'] }, SERVER);
    one.client.sendLine('STARTTLS');
    one.pump.flush();
    assert.equal(one.client.fake().negotiatedProtocol, null);
    const none = pair({ ...CLIENT, ALPNProtocols: ['h2'] }, { ...SERVER, ALPNProtocols: ['x'] });
    none.client.sendLine('STARTTLS');
    none.pump.flush();
    assert.match(
      String(none.client.reason?.getErrorMessage()),
      /TLS handshake failed: no application protocol in common/,
    );
  });

  test('one side starts TLS and the other writes in the clear: the connection fails, saying why', () => {
    const [client, server, pump] = connectedServerAndClient(Protocol, Protocol);
    const lost: { client?: Failure | undefined; server?: Failure | undefined } = {};
    client.connectionLost = (reason) => {
      lost.client = reason;
    };
    server.connectionLost = (reason) => {
      lost.server = reason;
    };
    (client.transport as unknown as FakeTransport).startTLS(CLIENT);
    pump.flush();
    server.transport?.write(Buffer.from('plain after the hello'));
    pump.flush();
    assert.ok(lost.client?.check(ConnectionLost));
    assert.match(
      String(lost.client?.getErrorMessage()),
      /TLS handshake failed: 21 plain byte\(s\) arrived after this side started TLS/,
    );
    assert.ok(lost.server?.check(ConnectionLost));
  });

  test('throws as the real transport does', () => {
    const [client, server] = connectedServerAndClient(Protocol, Protocol);
    const c = client.transport as unknown as FakeTransport;
    const s = server.transport as unknown as FakeTransport;
    assert.throws(() => c.startTLS({}), /needs the server's name/);
    assert.throws(() => s.startTLS({}), /needs a key and a certificate/);
    assert.throws(() => c.startTLS(null as unknown as object), TypeError);
    c.startTLS(CLIENT);
    assert.throws(() => c.startTLS(CLIENT), /already uses TLS/);
    s.loseConnection();
    assert.throws(() => s.startTLS(SERVER), /closing or half-closed/);
    // The other side plays the server when told to.
    const [c2] = connectedServerAndClient(Protocol, Protocol);
    const io = c2.transport as unknown as FakeTransport;
    io.startTLS(SERVER, { server: true });
    assert.equal(io.tlsServer, true);
  });
});
