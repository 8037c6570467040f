// TLS over loopback on a real NodeReactor (listenSSL/connectSSL), with the
// test-only certificate for localhost in test/fixtures/tls: echo, what the
// transport says of the peer, ALPN, client certificates, failed handshakes on
// either side, timeouts, closing. (Twisted: internet/test/test_tls.py,
// test/test_ssl.py.)

import assert from 'node:assert/strict';
import { connect as netConnect, createServer as netCreateServer, type Server } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { captureLogs } from 'torsion/logger';
import {
  CannotListenError,
  ClientCreator,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  IPv4Address,
  SSLError,
  TimeoutError,
} from 'torsion/protocol';
import type { ISSLTransport } from 'torsion/reactor';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  loopTurns,
  Recorder,
  RecordingClientFactory,
  type SocketHarness,
  until,
  waitFor,
} from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };
const SERVER = { key: KEY, cert: CERT };
const TRUSTING = { ca: CERT };

/** Serves TLS with `make` on a free loopback port. */
function serve<P extends Recorder>(
  h: SocketHarness,
  make: () => P,
  settings: typeof SERVER & Record<string, unknown> = SERVER,
): { factory: CollectingFactory<P>; port: number } {
  const factory = new CollectingFactory(make);
  const listening = h.listenSSL(0, factory, settings, { interface: LOCAL });
  return { factory, port: (listening.getHost() as IPv4Address).port };
}

/** Connects with TLS to `port` (as localhost); resolves once connectionMade has run. */
async function connect(
  h: SocketHarness,
  port: number,
  settings: Record<string, unknown> = TRUSTING,
): Promise<Recorder> {
  const factory = new RecordingClientFactory(() => new Recorder());
  h.connectSSL('localhost', port, factory, settings);
  const protocol = await waitFor(factory.nth(0), 'the client protocol');
  await waitFor(protocol.made, 'the client connectionMade');
  return protocol;
}

/** Connects with TLS and waits for the attempt to fail. */
async function connectFails(
  h: SocketHarness,
  host: string,
  port: number,
  settings: Record<string, unknown>,
  timeout?: number,
): Promise<RecordingClientFactory<Recorder>> {
  const factory = new RecordingClientFactory(() => new Recorder());
  h.connectSSL(host, port, factory, settings, timeout === undefined ? {} : { timeout });
  await waitFor(factory.failed, 'clientConnectionFailed');
  assert.deepEqual(factory.protocols, []);
  return factory;
}

function ssl(protocol: Recorder): ISSLTransport {
  return protocol.transport as unknown as ISSLTransport;
}

/** A plain TCP server on loopback that accepts and then says nothing. */
async function silentServer(t: TestContext): Promise<number> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = netCreateServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as { port: number }).port;
}

describe('listenSSL', SUITE, () => {
  test('binds before returning, so getHost() gives the port chosen for port 0', (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    const listening = h.listenSSL(0, factory, SERVER, { interface: LOCAL });
    const host = listening.getHost();
    assert.ok(host instanceof IPv4Address);
    assert.equal(host.host, LOCAL);
    assert.ok(host.port > 0);
    assert.equal(factory.starts, 1);
    assert.match(String(listening), /^<SSLPort /);
  });

  test('throws CannotListenError for a port in use', (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new Recorder());
    assert.throws(
      () =>
        h.reactor.listenSSL(port, new CollectingFactory(() => new Recorder()), SERVER, {
          interface: LOCAL,
        }),
      CannotListenError,
    );
  });

  test('throws at once for a key that is not a key', (t) => {
    const h = harness(t);
    assert.throws(() =>
      h.reactor.listenSSL(0, new CollectingFactory(() => new Recorder()), {
        key: 'not a key',
        cert: CERT,
      }),
    );
  });
});

describe('TLS connections', SUITE, () => {
  test('echo once both handshakes are done, verified against the certificate and host name', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new EchoRecorder());
    const client = await connect(h, port);
    client.transport.write(Buffer.from('over TLS'));
    await waitFor(client.bytes(8), 'the echo');
    assert.equal(client.data().toString(), 'over TLS');
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    assert.equal(serverSide.data().toString(), 'over TLS');
    assert.ok(client.transport.getPeer() instanceof IPv4Address);
    assert.equal((client.transport.getPeer() as IPv4Address).port, port);
  });

  test('the client’s transport gives the server’s certificate; the server’s gives none when none was asked for', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new EchoRecorder());
    const client = await connect(h, port);
    assert.equal(ssl(client).getPeerCertificate()?.subject.CN, 'localhost');
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.made, 'the server connectionMade');
    assert.equal(ssl(serverSide).getPeerCertificate(), null);
    assert.equal(ssl(client).negotiatedProtocol, null);
  });

  test('the server sees the client’s certificate when it asks for one', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new EchoRecorder(), {
      ...SERVER,
      requestCert: true,
      ca: CERT,
    });
    await connect(h, port, { ...TRUSTING, key: KEY, cert: CERT });
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.made, 'the server connectionMade');
    assert.equal(ssl(serverSide).getPeerCertificate()?.subject.CN, 'localhost');
  });

  test('both transports give the protocol agreed through ALPN', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new EchoRecorder(), {
      ...SERVER,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    const client = await connect(h, port, { ...TRUSTING, ALPNProtocols: ['http/1.1'] });
    assert.equal(ssl(client).negotiatedProtocol, 'http/1.1');
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.made, 'the server connectionMade');
    assert.equal(ssl(serverSide).negotiatedProtocol, 'http/1.1');
  });

  test('loseConnection sends what was written, then both sides see ConnectionDone', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    const client = await connect(h, port);
    const big = Buffer.alloc(256 * 1024, 7);
    client.transport.write(big);
    client.transport.loseConnection();
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    assert.equal(serverSide.received, big.length);
    assert.ok(serverSide.reason?.check(ConnectionDone));
    await waitFor(client.lost, 'the client connectionLost');
    assert.ok(client.reason?.check(ConnectionDone));
  });

  test('abortConnection closes at once: ConnectionAborted here, a lost connection there', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    const client = await connect(h, port);
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.made, 'the server connectionMade');
    client.transport.abortConnection();
    await waitFor(client.lost, 'the client connectionLost');
    assert.ok(client.reason?.check(ConnectionAborted));
    await waitFor(serverSide.lost, 'the server connectionLost');
    assert.ok(serverSide.reason?.check(ConnectionLost, ConnectionDone));
  });

  test('ClientCreator.connectSSL connects a protocol instance', async (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new EchoRecorder());
    const creator = new ClientCreator(h.reactor, Recorder);
    const client = await waitFor(
      creator.connectSSL('localhost', port, TRUSTING),
      'the ClientCreator connection',
    );
    client.transport.write(Buffer.from('hi'));
    await waitFor(client.bytes(2), 'the echo');
    client.transport.loseConnection();
    await waitFor(client.lost, 'the client connectionLost');
  });
});

describe('failed TLS connections', SUITE, () => {
  test('fail with SSLError when the server’s certificate is not trusted', async (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new Recorder());
    const client = await connectFails(h, 'localhost', port, {});
    const reason = client.failures[0]!;
    assert.ok(reason.check(SSLError));
    assert.equal((reason.value as SSLError).code, 'ERR_TLS');
    assert.equal((reason.value as SSLError).osError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(client.stops, 1);
  });

  test('fail with SSLError when the certificate is not for the host name', async (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new Recorder());
    const client = await connectFails(h, LOCAL, port, { ...TRUSTING, servername: 'example.com' });
    const reason = client.failures[0]!;
    assert.ok(reason.check(SSLError));
    assert.equal((reason.value as SSLError).osError, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('fail with ConnectionRefusedError, not SSLError, when nothing listens', async (t) => {
    const h = harness(t);
    const closed = h.reactor.listenTCP(0, new CollectingFactory(() => new Recorder()), {
      interface: LOCAL,
    });
    const port = (closed.getHost() as IPv4Address).port;
    await closed.stopListening();
    const client = await connectFails(h, LOCAL, port, TRUSTING);
    assert.ok(client.failures[0]!.check(ConnectionRefusedError));
  });

  test('fail with TimeoutError when the handshake does not finish in time', async (t) => {
    // The plain server first: its sockets close before the harness counts them.
    const port = await silentServer(t);
    const h = harness(t);
    const started = performance.now();
    const client = await connectFails(h, LOCAL, port, TRUSTING, 0.3);
    assert.ok(client.failures[0]!.check(TimeoutError));
    assert.ok(performance.now() - started >= 250);
  });

  test('fail with SSLError when the server hangs up during the handshake', async (t) => {
    const server = netCreateServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const h = harness(t);
    const client = await connectFails(
      h,
      LOCAL,
      (server.address() as { port: number }).port,
      TRUSTING,
    );
    assert.ok(client.failures[0]!.check(SSLError));
  });

  test('a client that hangs up during the handshake is logged and dropped by the server', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    const { factory: server, port } = serve(h, () => new Recorder());
    const socket = netConnect(port, LOCAL);
    await waitFor(
      new Promise<void>((resolve) => socket.on('connect', () => resolve())),
      'the plain connection',
    );
    socket.destroy();
    await until(
      () => logs.events.some((e) => e.log_format?.includes('TLS handshake') === true),
      'the server to log the failed handshake',
    );
    const event = logs.events.find((e) => e.log_format?.includes('TLS handshake') === true);
    assert.equal(event?.log_level, 'info');
    assert.deepEqual(server.protocols, []);
  });

  test('a client that does not speak TLS is logged and dropped by the server, which builds no protocol', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    const { factory: server, port } = serve(h, () => new Recorder());
    const socket = netConnect(port, LOCAL);
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.0\r\n\r\n');
    await waitFor(
      new Promise<void>((resolve) => socket.on('close', () => resolve())),
      'the server to drop the plain client',
    );
    await loopTurns();
    assert.deepEqual(server.protocols, []);
    assert.ok(logs.events.some((e) => e.log_failure !== undefined && e.log_level === 'info'));
  });
});
