// Data guarantees over loopback TCP, UNIX and TLS on a real NodeReactor:
// loseConnection() after large writes delivers every byte (checked by length
// and SHA-256) whether the peer reads at full speed, reads slowly or is still
// sending; abortConnection() closes at once; reactor shutdown with
// connections open calls every connectionLost once, closes the ports and
// leaves no file descriptor.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  Protocol,
} from 'torsion/protocol';
import { type IAddress, type IProtocol, type IPullProducer, NodeReactor } from 'torsion/reactor';
import {
  CollectingFactory,
  harness,
  openSocketHandles,
  pollUntil,
  RecordingClientFactory,
  Signal,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';
import { openFds } from './_harness.js';

type Transport = 'tcp' | 'unix' | 'tls';
const TRANSPORTS: readonly Transport[] = ['tcp', 'unix', 'tls'];
const SUITE = { timeout: 60_000 };

const SLICE = 64 * 1024;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes `reply` in slices as soon as it is connected, then loseConnection(); discards what it reads. */
class Replier extends Protocol {
  readonly lost = new Signal<Failure>();
  received = 0;

  constructor(readonly reply: Buffer) {
    super();
  }

  override connectionMade(): void {
    for (let at = 0; at < this.reply.length; at += SLICE) {
      this.transport.write(this.reply.subarray(at, at + SLICE));
    }
    this.transport.loseConnection();
  }

  override dataReceived(data: Uint8Array): void {
    this.received += data.byteLength;
  }

  override connectionLost(reason: Failure): void {
    this.lost.fire(reason);
  }
}

/** How the client behaves while the reply comes. */
type Peer = 'reading' | 'slow' | 'sending';

/**
 * Hashes what it receives. `slow` pauses reading after each chunk and
 * resumes 2 ms later; `sending` writes as fast as its transport takes it
 * (a pull producer) until the connection is lost.
 */
class Checker extends Protocol implements IPullProducer {
  readonly made = new Signal<void>();
  readonly lost = new Signal<Failure>();
  readonly #hash = createHash('sha256');
  received = 0;
  sent = 0;
  lostCalls = 0;
  digest = '';

  constructor(
    readonly peer: Peer,
    readonly reactor: NodeReactor,
  ) {
    super();
  }

  override connectionMade(): void {
    if (this.peer === 'sending') this.transport.registerProducer(this, false);
    this.made.fire();
  }

  override dataReceived(data: Uint8Array): void {
    this.#hash.update(data);
    this.received += data.byteLength;
    if (this.peer === 'slow') {
      this.transport.pauseProducing();
      this.reactor.callLater(0.002, () => this.transport.resumeProducing());
    }
  }

  override connectionLost(reason: Failure): void {
    this.lostCalls++;
    this.digest = this.#hash.digest('hex');
    this.lost.fire(reason);
  }

  resumeProducing(): void {
    this.transport.write(SENT_CHUNK);
    this.sent += SENT_CHUNK.length;
  }

  stopProducing(): void {}
}

const SENT_CHUNK = Buffer.alloc(SLICE, 's');

/** Serves `make` and connects `client` over `transport` on the harness's reactor. */
function connectPair<S extends IProtocol, C extends IProtocol>(
  t: TestContext,
  h: SocketHarness,
  transport: Transport,
  make: () => S,
  client: () => C,
): { servers: CollectingFactory<S>; clients: RecordingClientFactory<C> } {
  const servers = new CollectingFactory(make);
  const clients = new RecordingClientFactory(client);
  if (transport === 'unix') {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-data-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 's');
    h.listenUNIX(path, servers);
    h.connectUNIX(path, clients);
  } else if (transport === 'tcp') {
    const port = h.listenTCP(0, servers, { interface: '127.0.0.1' });
    h.connectTCP('127.0.0.1', (port.getHost() as IAddress & { port: number }).port, clients);
  } else {
    const settings = { key: KEY, cert: CERT };
    const port = h.listenSSL(0, servers, settings, { interface: '127.0.0.1' });
    const number = (port.getHost() as IAddress & { port: number }).port;
    h.connectSSL('127.0.0.1', number, clients, { ca: CERT, servername: 'localhost' });
  }
  return { servers, clients };
}

/**
 * The server writes `size` random bytes and calls loseConnection(); the
 * client behaves as `peer` says. Asserts the client got every byte, then a
 * clean close, and the server's connection ended.
 */
async function replyThenLose(
  t: TestContext,
  transport: Transport,
  peer: Peer,
  size: number,
): Promise<void> {
  const handles = openSocketHandles();
  const h = harness(t);
  const reply = randomBytes(size);
  const { servers, clients } = connectPair(
    t,
    h,
    transport,
    () => new Replier(reply),
    () => new Checker(peer, h.reactor),
  );
  const client = await waitFor(clients.nth(0), 'the client protocol');
  const reason = await waitFor(client.lost.promise, 'the client connectionLost', 30);
  const server = await waitFor(servers.nth(0), 'the server protocol');
  await waitFor(server.lost.promise, 'the server connectionLost', 10);
  // Both ends have reported their close: the sockets must be gone too. If
  // they linger, wait for the transport's own grace period (10 s on TLS)
  // before failing, so that the harness does not stop the reactor that
  // would close them (a stopped reactor holds its timed calls).
  // (The listening port, one more handle, is still open.)
  const closed = await pollUntil(() => openSocketHandles() <= handles + 1, 2);
  if (!closed) await pollUntil(() => openSocketHandles() <= handles + 1, 15);
  assert.ok(closed, 'the sockets closed within 2 s of both connectionLost calls');
  assert.equal(client.received, size, `the client received ${client.received} of ${size} bytes`);
  assert.equal(client.digest, sha256(reply), 'the bytes received are the bytes written');
  assert.ok(reason.check(ConnectionDone), `a clean close, not ${reason.getErrorMessage()}`);
  if (peer === 'sending') assert.ok(client.sent > 0, 'the client was sending');
}

for (const transport of TRANSPORTS) {
  describe(
    `loseConnection() after large writes over ${transport} delivers every byte`,
    SUITE,
    () => {
      test('to a peer reading at full speed (8 MiB)', async (t) => {
        await replyThenLose(t, transport, 'reading', 8 * 2 ** 20);
      });

      test('to a peer reading slowly (2 MiB, 2 ms pause per chunk)', async (t) => {
        await replyThenLose(t, transport, 'slow', 2 * 2 ** 20);
      });

      test('to a peer still sending (16 MiB, three times)', async (t) => {
        // Each run in a subtest of its own: a harness checks, when its test
        // ends, that the sockets opened since it began are closed.
        for (let run = 1; run <= 3; run++) {
          await t.test(`run ${run}`, (st) => replyThenLose(st, transport, 'sending', 16 * 2 ** 20));
        }
      });
    },
  );
}

/**
 * Once the client has spoken (so that its connection attempt is over),
 * writes `size` bytes, then abortConnection() in the same tick.
 */
class Aborter extends Protocol {
  readonly lost = new Signal<Failure>();
  constructor(readonly size: number) {
    super();
  }
  override dataReceived(): void {
    if (this.transport.disconnecting) return;
    const slice = Buffer.alloc(SLICE, 'a');
    for (let at = 0; at < this.size; at += SLICE) this.transport.write(slice);
    this.transport.abortConnection();
  }
  override connectionLost(reason: Failure): void {
    this.lost.fire(reason);
  }
}

for (const transport of TRANSPORTS) {
  describe(`abortConnection() over ${transport}`, SUITE, () => {
    test('closes at once, dropping what was buffered: ConnectionAborted here, the peer told at once', async (t) => {
      const h = harness(t);
      const size = 16 * 2 ** 20;
      const { servers, clients } = connectPair(
        t,
        h,
        transport,
        () => new Aborter(size),
        () => new Greeting('reading', h.reactor),
      );
      const server = await waitFor(servers.nth(0), 'the server protocol');
      const here = await waitFor(server.lost.promise, 'the aborting side connectionLost', 2);
      assert.ok(here.check(ConnectionAborted), `ConnectionAborted, not ${here.getErrorMessage()}`);
      const client = await waitFor(clients.nth(0), 'the client protocol');
      const there = await waitFor(client.lost.promise, 'the peer connectionLost', 2);
      // A reset on TCP, even when it arrives before the peer has read what
      // it received (libuv calls that an EOF); UNIX sockets have none, and
      // a TLS abort sends no close-notify but, with no reset either, the
      // peer may see an EOF.
      if (transport === 'tcp') {
        assert.ok(there.check(ConnectionLost), `ConnectionLost, not ${there.getErrorMessage()}`);
      }
      assert.ok(
        client.received < size,
        `the buffered bytes were dropped (${client.received} arrived)`,
      );
    });

    test('closes at once even when the peer reads nothing', async (t) => {
      const h = harness(t);
      const { servers, clients } = connectPair(
        t,
        h,
        transport,
        () => new Aborter(16 * 2 ** 20),
        () => new NotReading(),
      );
      const server = await waitFor(servers.nth(0), 'the server protocol');
      const here = await waitFor(server.lost.promise, 'the aborting side connectionLost', 2);
      assert.ok(here.check(ConnectionAborted), `ConnectionAborted, not ${here.getErrorMessage()}`);
      await waitFor(clients.nth(0), 'the client protocol');
    });
  });
}

/** Says hello, then stops reading. */
class NotReading extends Protocol {
  override connectionMade(): void {
    this.transport.write(Buffer.from('hello'));
    this.transport.pauseProducing();
  }
}

/** Says hello, then reads and counts. */
class Greeting extends Checker {
  override connectionMade(): void {
    this.transport.write(Buffer.from('hello'));
    super.connectionMade();
  }
}

/** Records its connectionLost calls. */
class Counted extends Protocol {
  readonly made = new Signal<void>();
  lostCalls = 0;
  reason: Failure | undefined;

  constructor(readonly flood: boolean) {
    super();
  }

  override connectionMade(): void {
    // A server with megabytes waiting for a peer that reads nothing.
    if (this.flood) this.transport.write(Buffer.alloc(4 * 2 ** 20, 'f'));
    else this.transport.pauseProducing();
    this.made.fire();
  }

  override connectionLost(reason: Failure): void {
    this.lostCalls++;
    this.reason = reason;
  }
}

describe('reactor shutdown with connections open', SUITE, () => {
  test('calls connectionLost once on every connection, closes the ports, leaves no fd', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-shutdown-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const fdsBefore = openFds();
    const reactor = new NodeReactor();
    const servers = new CollectingFactory(() => new Counted(true));
    const clients = new RecordingClientFactory(() => new Counted(false));
    const tcp = reactor.listenTCP(0, servers, { interface: '127.0.0.1' });
    const tcpPort = (tcp.getHost() as IAddress & { port: number }).port;
    const tls = reactor.listenSSL(0, servers, { key: KEY, cert: CERT }, { interface: '127.0.0.1' });
    const tlsPort = (tls.getHost() as IAddress & { port: number }).port;
    const path = join(dir, 's');
    reactor.listenUNIX(path, servers);
    const perTransport = 3;
    for (let i = 0; i < perTransport; i++) {
      reactor.connectTCP('127.0.0.1', tcpPort, clients);
      reactor.connectUNIX(path, clients);
      reactor.connectSSL('127.0.0.1', tlsPort, clients, { ca: CERT, servername: 'localhost' });
    }
    const count = 3 * perTransport;
    for (let i = 0; i < count; i++) {
      await waitFor((await waitFor(clients.nth(i), 'a client')).made.promise, 'connectionMade');
      await waitFor((await waitFor(servers.nth(i), 'a server')).made.promise, 'connectionMade');
    }

    const running = reactor.run({ installSignalHandlers: false });
    reactor.stop();
    await waitFor(running, 'run() to settle', 5);

    // By the time run() has settled: every connectionLost, once.
    const all = [...servers.protocols, ...clients.protocols];
    assert.equal(all.length, 2 * count);
    for (const protocol of all) {
      assert.equal(protocol.lostCalls, 1, 'connectionLost once, during shutdown');
      assert.ok(protocol.reason?.check(ConnectionLost), 'ConnectionLost: the reactor shut down');
    }
    // No descriptor left (the sockets close on the next turns of the loop)...
    assert.ok(
      await pollUntil(() => openFds() <= fdsBefore, 5),
      `file descriptors: ${openFds()} open, ${fdsBefore} before`,
    );
    for (const protocol of all) assert.equal(protocol.lostCalls, 1, 'and never again');
    // ...and the port refuses connections.
    const probe = new NodeReactor();
    const refused = new RecordingClientFactory(() => new Protocol());
    probe.connectTCP('127.0.0.1', tcpPort, refused);
    const failure = await waitFor(refused.failed, 'the refused connection');
    assert.ok(failure.check(ConnectionRefusedError), failure.getErrorMessage());
  });
});
