// STARTTLS on real loopback TCP connections (NodeReactor): a line protocol
// that upgrades on both sides, interop with Node's own TLSSocket, plain
// bytes still buffered when TLS starts, writes during the handshake,
// verification failures, closing, producers after the switch.
// (Twisted: internet/test/test_tls.py StartTLSClientTestsMixin,
// test/test_ssl.py StartTLSTests.)

import assert from 'node:assert/strict';
import { createServer as netCreateServer, type Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { Failure } from 'torsion/defer';
import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  type IPv4Address,
} from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IPushProducer, ITLSTransport, IWriteBufferLimits } from 'torsion/reactor';
import {
  CollectingFactory,
  harness,
  Recorder,
  RecordingClientFactory,
  Signal,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };
const SERVER = { key: KEY, cert: CERT };
const TRUSTING = { ca: CERT, servername: 'localhost' };

function tls(protocol: { transport: unknown }): ITLSTransport & IWriteBufferLimits {
  return protocol.transport as ITLSTransport & IWriteBufferLimits;
}

/** Both ends of one loopback TCP connection between protocols made by `server` and `client`. */
async function pair<S extends Recorder, C extends Recorder>(
  h: SocketHarness,
  server: () => S,
  client: () => C,
): Promise<{ server: S; client: C }> {
  const factory = new CollectingFactory(server);
  const listening = h.listenTCP(0, factory, { interface: LOCAL });
  const clients = new RecordingClientFactory(client);
  h.connectTCP(LOCAL, (listening.getHost() as IPv4Address).port, clients);
  const c = await waitFor(clients.nth(0), 'the client protocol');
  await waitFor(c.made, 'the client connectionMade');
  const s = await waitFor(factory.nth(0), 'the server protocol');
  await waitFor(s.made, 'the server connectionMade');
  return { server: s, client: c };
}

/** A recorder that also says when the TLS handshake completed. */
class HandshakeRecorder extends Recorder {
  readonly handshake = new Signal<void>();
  handshakes = 0;
  handshakeCompleted(): void {
    this.handshakes++;
    this.handshake.fire();
  }
}

/**
 * The server of a small line protocol: echoes each line with the state of
 * the connection ("plain:" or "secure:"), and on `STARTTLS` answers `GO`
 * and upgrades.
 */
class StartTLSServer extends LineReceiver {
  readonly made = new Signal<void>();
  readonly lost = new Signal<Failure>();
  readonly handshake = new Signal<void>();
  readonly lines: string[] = [];
  secure = false;

  override connectionMade(): void {
    this.made.fire();
  }

  override lineReceived(line: Buffer): void {
    const text = line.toString();
    this.lines.push(text);
    if (text === 'STARTTLS') {
      this.sendLine('GO');
      tls(this).startTLS(SERVER);
      this.secure = true;
      return;
    }
    this.sendLine(`${this.secure ? 'secure' : 'plain'}:${text}`);
  }

  handshakeCompleted(): void {
    this.handshake.fire();
  }

  override connectionLost(reason: Failure): void {
    this.lost.fire(reason);
  }
}

/** The client: says hello in the clear, asks for STARTTLS, then speaks over TLS. */
class StartTLSClient extends LineReceiver {
  readonly made = new Signal<void>();
  readonly lost = new Signal<Failure>();
  readonly handshake = new Signal<void>();
  readonly lines: string[] = [];
  readonly got = new Map<number, Signal<void>>();
  options: Record<string, unknown> = TRUSTING;
  handshakes = 0;

  override connectionMade(): void {
    this.made.fire();
  }

  override lineReceived(line: Buffer): void {
    const text = line.toString();
    this.lines.push(text);
    if (text === 'GO') {
      tls(this).startTLS(this.options);
      // Written while the handshake is under way: sent once it is done, encrypted.
      this.sendLine('during the handshake');
    }
    this.got.get(this.lines.length)?.fire();
  }

  handshakeCompleted(): void {
    this.handshakes++;
    this.handshake.fire();
  }

  override connectionLost(reason: Failure): void {
    this.lost.fire(reason);
  }

  /** Resolves once `n` lines have arrived. */
  lineCount(n: number): Promise<void> {
    if (this.lines.length >= n) return Promise.resolve();
    let signal = this.got.get(n);
    if (signal === undefined) {
      signal = new Signal<void>();
      this.got.set(n, signal);
    }
    return signal.promise;
  }
}

/** Connects a StartTLSClient to a StartTLSServer over loopback. */
async function lineProtocols(
  h: SocketHarness,
): Promise<{ server: StartTLSServer; client: StartTLSClient }> {
  const servers: StartTLSServer[] = [];
  const serverMade = new Signal<void>();
  const listening = h.listenTCP(
    0,
    {
      buildProtocol: () => {
        const p = new StartTLSServer();
        servers.push(p);
        serverMade.fire();
        return p;
      },
      doStart() {},
      doStop() {},
    },
    { interface: LOCAL },
  );
  const clients = new RecordingClientFactory(() => new StartTLSClient());
  h.connectTCP(LOCAL, (listening.getHost() as IPv4Address).port, clients);
  const client = await waitFor(clients.nth(0), 'the client protocol');
  await waitFor(client.made.promise, 'the client connectionMade');
  await waitFor(serverMade.promise, 'the server protocol');
  return { server: servers[0] as StartTLSServer, client };
}

/** A Node server that upgrades with its own TLSSocket after reading `STARTTLS\r\n`, then echoes. */
async function nodeStartTLSServer(t: TestContext): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = netCreateServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', (data) => {
      sockets.add(socket);
      received.push(data.toString());
      socket.write('GO\r\n');
      const secure = new TLSSocket(socket, {
        isServer: true,
        secureContext: createSecureContext(SERVER),
      });
      secure.on('error', () => undefined);
      sockets.add(secure);
      secure.on('data', (chunk) => {
        received.push(chunk.toString());
        secure.write(chunk);
      });
      secure.on('end', () => secure.end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as { port: number }).port, received };
}

/** 16 MiB of "a": more than loopback's buffers take at once, so that some stays queued. */
const PLAIN = Buffer.alloc(16 * 1024 * 1024, 0x61);

/**
 * A server that reads 16 MiB of "a" in the clear, then starts TLS: a
 * handshake record ahead of the last plain byte would show up as a byte
 * other than "a".
 */
class CountingServer extends HandshakeRecorder {
  plainBytes = 0;
  upgraded = false;
  override dataReceived(data: Uint8Array): void {
    if (this.upgraded) {
      super.dataReceived(data);
      return;
    }
    // The client starts its handshake without waiting for an answer,
    // so its first TLS bytes may come in the chunk that ends the plain ones.
    const plainHere = Math.min(data.byteLength, PLAIN.byteLength - this.plainBytes);
    const clear = Buffer.from(data.buffer, data.byteOffset, plainHere);
    assert.ok(
      clear.every((b) => b === 0x61),
      'a TLS byte came before the last plain one',
    );
    this.plainBytes += plainHere;
    if (this.plainBytes === PLAIN.byteLength) {
      this.upgraded = true;
      tls(this).startTLS(SERVER, { unread: data.subarray(plainHere) });
    }
  }
}

describe('startTLS', SUITE, () => {
  test('a line protocol upgrades on both sides: plain before, TLS after, the same protocols', async (t) => {
    const h = harness(t);
    const { server, client } = await lineProtocols(h);
    assert.equal(tls(client).tlsStarted, false);
    client.sendLine('hello');
    client.sendLine('STARTTLS');
    await waitFor(client.lineCount(2), 'plain:hello and GO');
    assert.deepEqual(client.lines, ['plain:hello', 'GO']);
    await waitFor(client.handshake.promise, 'the client handshake');
    await waitFor(server.handshake.promise, 'the server handshake');
    client.sendLine('after the handshake');
    await waitFor(client.lineCount(4), 'the two secure echoes');
    assert.deepEqual(client.lines, [
      'plain:hello',
      'GO',
      'secure:during the handshake',
      'secure:after the handshake',
    ]);
    assert.deepEqual(server.lines, [
      'hello',
      'STARTTLS',
      'during the handshake',
      'after the handshake',
    ]);
    assert.equal(client.handshakes, 1);
    assert.equal(tls(client).tlsStarted, true);
    assert.equal(tls(server).tlsStarted, true);
    // What each end learnt of the other in the handshake.
    assert.equal(tls(client).getPeerCertificate()?.subject.CN, 'localhost');
    assert.equal(tls(server).getPeerCertificate(), null);
    // A clean close over TLS is still ConnectionDone on both sides.
    client.transport.loseConnection();
    const [clientReason, serverReason] = await waitFor(
      Promise.all([client.lost.promise, server.lost.promise]),
      'both ends to close',
    );
    assert.ok(clientReason.check(ConnectionDone), String(clientReason.value));
    assert.ok(serverReason.check(ConnectionDone), String(serverReason.value));
  });

  test('is real TLS: Node upgrading its own socket reads what the client encrypted', async (t) => {
    // The Node server first, so that it is closed after the harness.
    const { port, received } = await nodeStartTLSServer(t);
    const h = harness(t);
    const clients = new RecordingClientFactory(() => new StartTLSClient());
    h.connectTCP(LOCAL, port, clients);
    const client = await waitFor(clients.nth(0), 'the client protocol');
    await waitFor(client.made.promise, 'connectionMade');
    client.sendLine('STARTTLS');
    await waitFor(client.lineCount(2), 'GO and the echo');
    assert.deepEqual(client.lines, ['GO', 'during the handshake']);
    assert.deepEqual(received, ['STARTTLS\r\n', 'during the handshake\r\n']);
  });

  test('ALPN: the protocol both ends agreed is on both transports', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    tls(server).startTLS({ ...SERVER, ALPNProtocols: ['x-test', 'http/1.1'] });
    tls(client).startTLS({ ...TRUSTING, ALPNProtocols: ['x-test'] });
    await waitFor(client.handshake.promise, 'the client handshake');
    await waitFor(server.handshake.promise, 'the server handshake');
    assert.equal(tls(client).negotiatedProtocol, 'x-test');
    assert.equal(tls(server).negotiatedProtocol, 'x-test');
  });

  test('plain bytes still buffered when TLS starts leave first, in the clear', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new CountingServer(),
      () => new HandshakeRecorder(),
    );
    client.transport.write(PLAIN);
    const buffered = tls(client).getWriteBufferSize();
    assert.ok(buffered > 0, 'the kernel took everything: the test proves nothing');
    tls(client).startTLS(TRUSTING);
    client.transport.write(Buffer.from('secret'));
    assert.equal(tls(client).getWriteBufferSize(), buffered + 6);
    await waitFor(server.bytes(6), 'the encrypted bytes', 20);
    assert.equal(server.plainBytes, PLAIN.byteLength);
    assert.equal(server.data().toString(), 'secret');
    await waitFor(client.handshake.promise, 'the client handshake');
    assert.equal(server.handshakes, 1);
  });

  test('loseConnection while plain bytes are still buffered: all sent, TLS started, then a clean close', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new CountingServer(),
      () => new HandshakeRecorder(),
    );
    client.transport.write(PLAIN);
    assert.ok(tls(client).getWriteBufferSize() > 0, 'the kernel took everything');
    tls(client).startTLS(TRUSTING);
    client.transport.write(Buffer.from('last words'));
    client.transport.loseConnection();
    const reason = await waitFor(server.lost, 'the server connectionLost', 20);
    assert.ok(reason.check(ConnectionDone), String(reason.value));
    assert.equal(server.plainBytes, PLAIN.byteLength);
    assert.equal(server.data().toString(), 'last words');
    const clientReason = await waitFor(client.lost, 'the client connectionLost');
    assert.ok(clientReason.check(ConnectionDone), String(clientReason.value));
  });

  test('a certificate for another name fails the handshake: connectionLost names the reason', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    tls(server).startTLS(SERVER);
    tls(client).startTLS({ ca: CERT, servername: 'example.com' });
    client.transport.write(Buffer.from('never sent in the clear'));
    const reason = await waitFor(client.lost, 'the client connectionLost');
    assert.ok(reason.check(ConnectionLost));
    assert.match(reason.getErrorMessage(), /TLS handshake failed: .*example\.com/);
    assert.equal(
      (reason.value as Error & { cause: { code: string } }).cause.code,
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
    assert.equal(client.handshakes, 0);
    const serverReason = await waitFor(server.lost, 'the server connectionLost');
    assert.ok(serverReason.check(ConnectionLost, ConnectionDone));
    assert.equal(server.data().length, 0);
  });

  test('an untrusted certificate fails the handshake (verification is on by default)', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    tls(server).startTLS(SERVER);
    tls(client).startTLS({ servername: 'localhost' });
    const reason = await waitFor(client.lost, 'the client connectionLost');
    assert.match(reason.getErrorMessage(), /TLS handshake failed: .*self[- ]signed/i);
    assert.equal(
      (reason.value as Error & { cause: { code: string } }).cause.code,
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    );
    await waitFor(server.lost, 'the server connectionLost');
  });

  test('a server asking for a client certificate refuses a client without one', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    tls(server).startTLS({ ...SERVER, requestCert: true, ca: CERT });
    tls(client).startTLS(TRUSTING);
    const reason = await waitFor(server.lost, 'the server connectionLost');
    assert.ok(reason.check(ConnectionLost));
    assert.match(reason.getErrorMessage(), /TLS handshake failed: .*certificate/);
    assert.equal(server.handshakes, 0);
    await waitFor(client.lost, 'the client connectionLost');
  });

  test('a client certificate the server trusts is accepted and seen by the server', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    tls(server).startTLS({ ...SERVER, requestCert: true, ca: CERT });
    tls(client).startTLS({ ...TRUSTING, key: KEY, cert: CERT });
    await waitFor(server.handshake.promise, 'the server handshake');
    assert.equal(tls(server).getPeerCertificate()?.subject.CN, 'localhost');
  });

  test('abortConnection during the handshake: ConnectionAborted here, the peer loses the connection', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    tls(server).startTLS(SERVER);
    tls(client).startTLS(TRUSTING);
    client.transport.abortConnection();
    const reason = await waitFor(client.lost, 'the client connectionLost');
    assert.ok(reason.check(ConnectionAborted));
    await waitFor(server.lost, 'the server connectionLost');
    assert.equal(client.lostCalls, 1);
  });

  test('half-close over TLS: the peer reads to the end, then answers', async (t) => {
    const h = harness(t);
    class HalfCloseEcho extends HandshakeRecorder {
      readConnectionLost(): void {
        this.transport.write(this.data());
        this.transport.loseConnection();
      }
    }
    const { server, client } = await pair(
      h,
      () => new HalfCloseEcho(),
      () => new HandshakeRecorder(),
    );
    tls(server).startTLS(SERVER);
    tls(client).startTLS(TRUSTING);
    client.transport.write(Buffer.from('ping'));
    (client.transport as ITLSTransport).loseWriteConnection();
    await waitFor(client.bytes(4), 'the echo after the half-close');
    assert.equal(client.data().toString(), 'ping');
    const reason = await waitFor(client.lost, 'the client connectionLost');
    assert.ok(reason.check(ConnectionDone), String(reason.value));
  });

  test('a streaming producer is paused and resumed over TLS; every byte arrives', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    tls(server).startTLS(SERVER);
    tls(client).startTLS(TRUSTING);
    await waitFor(client.handshake.promise, 'the handshake');
    server.transport.pauseProducing();
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const total = 64;
    let sent = 0;
    let pauses = 0;
    let paused = false;
    const transport = tls(client);
    const producer: IPushProducer = {
      pauseProducing() {
        pauses++;
        paused = true;
      },
      resumeProducing() {
        paused = false;
        while (!paused && sent < total) {
          sent++;
          transport.write(chunk);
        }
        if (sent === total) transport.unregisterProducer();
      },
      stopProducing() {},
    };
    transport.registerProducer(producer, true);
    producer.resumeProducing();
    assert.ok(pauses >= 1, 'the producer was never paused');
    assert.ok(sent < total);
    server.transport.resumeProducing();
    await waitFor(server.bytes(total * chunk.length), 'every byte', 20);
    assert.equal(server.received, total * chunk.length);
  });

  test('refuses what it cannot do, saying why', async (t) => {
    const h = harness(t);
    const { server, client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    assert.throws(() => tls(client).startTLS({ ca: CERT }), /needs the server's name/);
    assert.throws(() => tls(server).startTLS({ ca: CERT }), /needs a key and a certificate/);
    assert.throws(() => tls(server).startTLS({ key: 'not a key', cert: CERT }));
    tls(client).startTLS(TRUSTING);
    assert.throws(() => tls(client).startTLS(TRUSTING), /already uses TLS/);
    tls(server).startTLS(SERVER);
    await waitFor(client.handshake.promise, 'the handshake');
    server.transport.loseConnection();
    assert.throws(() => tls(server).startTLS(SERVER), /already uses TLS/);
    await waitFor(client.lost, 'the close');
  });

  test('startTLS on a closing connection throws', async (t) => {
    const h = harness(t);
    const { client } = await pair(
      h,
      () => new HandshakeRecorder(),
      () => new HandshakeRecorder(),
    );
    client.transport.loseConnection();
    assert.throws(() => tls(client).startTLS(TRUSTING), /closing or half-closed/);
    await waitFor(client.lost, 'the close');
  });
});
