// wrapClientTLS on real loopback connections (NodeReactor): through TCP,
// UNIX and HostnameEndpoint to a TLS server; verification failures (an
// untrusted certificate, another host name) reach connectionLost naming the
// reason; client certificates end to end (a server that asks for one sees
// the client's; a client without one is refused).
// (Twisted: test_endpoints.py WrapClientTLSParserTests and
// internet/test/test_tls.py.)

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ConnectionOptions } from 'node:tls';
import type { Failure } from 'torsion/defer';
import {
  HostnameEndpoint,
  type IStreamClientEndpoint,
  TCP4ClientEndpoint,
  UNIXClientEndpoint,
  wrapClientTLS,
} from 'torsion/endpoints';
import { ConnectionLost, Factory, type IPv4Address } from 'torsion/protocol';
import type { ITLSTransport } from 'torsion/reactor';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  Recorder,
  Signal,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };
const SERVER = { key: KEY, cert: CERT };
const TRUSTING = { ca: CERT, servername: 'localhost' };

/** Writes in connectionMade (before the handshake) and says when the handshake completed. */
class Greeting extends Recorder {
  readonly handshake = new Signal<void>();
  tlsAtConnectionMade = false;
  override connectionMade(): void {
    this.tlsAtConnectionMade = (this.transport as unknown as ITLSTransport).tlsStarted;
    this.transport?.write(Buffer.from('hello over TLS'));
    super.connectionMade();
  }
  handshakeCompleted(): void {
    this.handshake.fire();
  }
}

function tls(protocol: { transport: unknown }): ITLSTransport {
  return protocol.transport as ITLSTransport;
}

/** A TLS echo server on loopback (listenSSL): its factory and port. */
function sslServer(h: SocketHarness, settings: object = SERVER) {
  const factory = new CollectingFactory(() => new EchoRecorder());
  const port = h.listenSSL(0, factory, settings, { interface: LOCAL }).getHost() as IPv4Address;
  return { factory, port: port.port };
}

/** Connects a Greeting through `endpoint`. */
async function greet(endpoint: IStreamClientEndpoint): Promise<Greeting> {
  const client = await waitFor(
    endpoint.connect(Factory.forProtocol(Greeting)),
    'the wrapped endpoint connecting',
  );
  assert.ok(client instanceof Greeting);
  return client;
}

/** The reason the client lost the connection: a ConnectionLost whose cause has `code`. */
async function lostWith(client: Greeting, code: RegExp): Promise<Failure> {
  const reason = await waitFor(client.lost, 'the client connectionLost');
  assert.ok(reason.check(ConnectionLost), String(reason));
  assert.match(reason.getErrorMessage(), /TLS handshake failed/);
  const cause = (reason.value as Error).cause as { code?: string } | undefined;
  assert.match(String(cause?.code), code);
  return reason;
}

describe('wrapClientTLS', SUITE, () => {
  test('through TCP: connectionMade at once, its writes sent encrypted, echoed back', async (t) => {
    const h = harness(t);
    const { factory, port } = sslServer(h);
    const tcp = new TCP4ClientEndpoint(h.reactor, LOCAL, port);
    const client = await greet(wrapClientTLS(TRUSTING, tcp));
    assert.equal(client.tlsAtConnectionMade, true);
    await waitFor(client.handshake.promise, 'the client handshake');
    assert.equal(tls(client).getPeerCertificate()?.subject.CN, 'localhost');
    await waitFor(client.bytes(14), 'the echo');
    assert.equal(client.data().toString(), 'hello over TLS');
    const server = await waitFor(factory.nth(0), 'the server protocol');
    assert.equal(server.data().toString(), 'hello over TLS');
  });

  test('through a UNIX socket, to a server that starts TLS at once', async (t) => {
    const h = harness(t);
    const dir = mkdtempSync(join(tmpdir(), 'torsion-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 's');
    class Upgrading extends EchoRecorder {
      override connectionMade(): void {
        tls(this).startTLS(SERVER, { server: true });
        super.connectionMade();
      }
    }
    h.listenUNIX(path, new CollectingFactory(() => new Upgrading()));
    const client = await greet(wrapClientTLS(TRUSTING, new UNIXClientEndpoint(h.reactor, path)));
    await waitFor(client.handshake.promise, 'the client handshake');
    await waitFor(client.bytes(14), 'the echo');
    assert.equal(client.data().toString(), 'hello over TLS');
    assert.equal(tls(client).getPeerCertificate()?.subject.CN, 'localhost');
  });

  test('through a HostnameEndpoint, with ALPN', async (t) => {
    const h = harness(t);
    const { port } = sslServer(h, { ...SERVER, ALPNProtocols: ['h2', 'x-echo'] });
    const endpoint = new HostnameEndpoint(h.reactor, LOCAL, port);
    const client = await greet(
      wrapClientTLS({ ca: CERT, host: LOCAL, ALPNProtocols: ['x-echo'] }, endpoint),
    );
    await waitFor(client.handshake.promise, 'the client handshake');
    assert.equal(tls(client).negotiatedProtocol, 'x-echo');
    await waitFor(client.bytes(14), 'the echo');
  });

  test('an untrusted certificate: connectionLost names the reason', async (t) => {
    const h = harness(t);
    const { port } = sslServer(h);
    const tcp = new TCP4ClientEndpoint(h.reactor, LOCAL, port);
    const client = await greet(wrapClientTLS({ servername: 'localhost' }, tcp));
    const reason = await lostWith(client, /SELF_SIGNED/);
    assert.match(reason.getErrorMessage(), /self[- ]signed/i);
    assert.equal(client.received, 0);
  });

  test('a certificate for another host name: connectionLost names the reason', async (t) => {
    const h = harness(t);
    const { port } = sslServer(h);
    const tcp = new TCP4ClientEndpoint(h.reactor, LOCAL, port);
    const client = await greet(wrapClientTLS({ ca: CERT, servername: 'example.com' }, tcp));
    const reason = await lostWith(client, /ERR_TLS_CERT_ALTNAME_INVALID/);
    assert.match(reason.getErrorMessage(), /example\.com/);
  });
});

describe('client certificates', SUITE, () => {
  const ASKING = { ...SERVER, requestCert: true, ca: CERT };
  const WITH_CERT: ConnectionOptions = { ...TRUSTING, key: KEY, cert: CERT };

  test('listenSSL asking for one: the server sees the client it verified', async (t) => {
    const h = harness(t);
    const { factory, port } = sslServer(h, ASKING);
    const tcp = new TCP4ClientEndpoint(h.reactor, LOCAL, port);
    const client = await greet(wrapClientTLS(WITH_CERT, tcp));
    await waitFor(client.bytes(14), 'the echo');
    const server = await waitFor(factory.nth(0), 'the server protocol');
    assert.equal(tls(server).getPeerCertificate()?.subject.CN, 'localhost');
  });

  test('listenSSL asking for one: a client without one is refused', async (t) => {
    const h = harness(t);
    const { factory, port } = sslServer(h, ASKING);
    const tcp = new TCP4ClientEndpoint(h.reactor, LOCAL, port);
    const client = await greet(wrapClientTLS(TRUSTING, tcp));
    const reason = await waitFor(client.lost, 'the client connectionLost');
    assert.ok(reason.check(ConnectionLost), String(reason));
    assert.equal(client.received, 0);
    // The server never had a verified connection to hand a protocol.
    assert.equal(factory.protocols.length, 0);
  });

  test('startTLS asking for one: the server names the client; without one, refused', async (t) => {
    const h = harness(t);
    const servers: Recorder[] = [];
    const handshakes = new Signal<Recorder>();
    class Asking extends EchoRecorder {
      override connectionMade(): void {
        tls(this).startTLS(ASKING, { server: true });
        servers.push(this);
        super.connectionMade();
      }
      handshakeCompleted(): void {
        handshakes.fire(this);
      }
    }
    const port = (
      h
        .listenTCP(0, new CollectingFactory(() => new Asking()), { interface: LOCAL })
        .getHost() as IPv4Address
    ).port;
    const tcp = new TCP4ClientEndpoint(h.reactor, LOCAL, port);
    const good = await greet(wrapClientTLS(WITH_CERT, tcp));
    const server = await waitFor(handshakes.promise, 'the server handshake');
    assert.equal(tls(server).getPeerCertificate()?.subject.CN, 'localhost');
    await waitFor(good.bytes(14), 'the echo');
    const bad = await greet(wrapClientTLS(TRUSTING, tcp));
    await waitFor(bad.lost, 'the refused client connectionLost');
    const refused = servers[1] as Recorder;
    const reason = await waitFor(refused.lost, 'the server connectionLost');
    assert.match(reason.getErrorMessage(), /certificate/);
  });
});
