// loseConnection() after a large reply delivers every byte of it, whatever
// the peer does meanwhile: idle, reading slowly, or still sending. Closing
// a socket whose unread input is not empty turns the close into a reset,
// and the kernel then throws away what it had not sent yet: the transport
// must read (and drop) the peer's input until the peer has closed too.
// The peers here are plain node:net (and node:tls) sockets, so that only
// the server's transport is under test. The TCP cases with a peer that
// keeps sending lost megabytes before the fix; the UNIX and TLS cases (TLS
// already lingered) guard the shared closing path.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { Failure } from 'torsion/defer';
import { ConnectionDone } from 'torsion/protocol';
import { CollectingFactory, harness, Recorder, waitFor } from '../helpers/sockets.js';
import { CERT, KEY } from '../helpers/tls.js';

const LOCAL = '127.0.0.1';
const MiB = 1024 * 1024;
/** The reply: large enough that the kernel cannot take it all at once. */
const REPLY_SIZE = 16 * MiB;
/** Connections per case: the loss is a race, so each case tries several times. */
const RUNS = 4;
const SUITE = { timeout: 120_000 };

/** A reply with a pattern that a lost or reordered block would change. */
const REPLY = (() => {
  const reply = Buffer.alloc(REPLY_SIZE);
  for (let i = 0; i < REPLY_SIZE; i += 4) reply.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
  return reply;
})();
const REPLY_HASH = createHash('sha256').update(REPLY).digest('hex');

/** Writes the whole reply as soon as it is connected, then loseConnection(). */
class TailSender extends Recorder {
  /** dataReceived calls after loseConnection (there must be none). */
  lateData = 0;
  #closing = false;

  override connectionMade(): void {
    super.connectionMade();
    for (let offset = 0; offset < REPLY_SIZE; offset += MiB) {
      this.transport.write(REPLY.subarray(offset, offset + MiB));
    }
    this.transport.loseConnection();
    this.#closing = true;
  }

  override dataReceived(data: Uint8Array): void {
    if (this.#closing) this.lateData++;
    super.dataReceived(data);
  }
}

/** What the peer does while the reply arrives. */
interface PeerBehaviour {
  /** It sends all the time, until the reply has ended. */
  sends: boolean;
  /** It reads a little, then waits a moment before reading on. */
  slow: boolean;
}

/** What a peer saw of the reply. */
interface Received {
  bytes: number;
  hash: string;
  /** The error code, when the connection ended in an error (a reset). */
  error: string | undefined;
}

/** Connects a node:net peer that behaves as `behaviour` says, and reports what it read. */
function peer(socket: Socket, behaviour: PeerBehaviour): Promise<Received> {
  const hash = createHash('sha256');
  let bytes = 0;
  let error: string | undefined;
  let ended = false;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  // Keeps at most a chunk or two queued in Node: the rest waits in the
  // kernel's buffers, which is what makes the server's input pile up.
  const send = (): void => {
    while (!ended && !socket.destroyed && socket.writableLength < 2 * chunk.length) {
      socket.write(chunk);
    }
  };
  let sincePause = 0;
  socket.on('data', (data: Buffer) => {
    bytes += data.length;
    hash.update(data);
    sincePause += data.length;
    // Slowly: about 128 KiB per millisecond or two, a fraction of what
    // loopback carries, so the server's kernel buffers stay full.
    if (behaviour.slow && sincePause >= 128 * 1024) {
      sincePause = 0;
      socket.pause();
      setTimeout(() => socket.resume(), 1);
    }
  });
  socket.on('end', () => {
    ended = true;
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  if (behaviour.sends) {
    socket.on('connect', send);
    socket.on('drain', send);
  }
  return new Promise((resolve) => {
    socket.on('close', () => resolve({ bytes, hash: hash.digest('hex'), error }));
  });
}

/** Runs `RUNS` connections one after another and checks that each peer got the whole reply. */
async function checkTail(
  behaviour: PeerBehaviour,
  connect: () => Socket,
  server: CollectingFactory<TailSender>,
): Promise<void> {
  const failures: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    const received = await waitFor(peer(connect(), behaviour), `peer ${run} to close`, 60);
    const sender = await waitFor(server.nth(run), `server protocol ${run}`);
    const reason: Failure = await waitFor(sender.lost, `server connectionLost ${run}`, 30);
    assert.ok(
      reason.check(ConnectionDone),
      `run ${run}: connectionLost with ${String(reason.value)}`,
    );
    assert.equal(sender.lateData, 0, `run ${run}: dataReceived after loseConnection`);
    assert.equal(sender.lostCalls, 1);
    if (received.bytes !== REPLY_SIZE || received.hash !== REPLY_HASH) {
      failures.push(
        `run ${run}: ${received.bytes} of ${REPLY_SIZE} bytes (${REPLY_SIZE - received.bytes} lost)` +
          `${received.error === undefined ? ', clean end' : `, ${received.error}`}`,
      );
    }
  }
  assert.deepEqual(failures, [], 'every byte written before loseConnection arrives');
}

const CASES: Array<[string, PeerBehaviour]> = [
  ['the peer keeps sending', { sends: true, slow: false }],
  ['the peer keeps sending and reads slowly', { sends: true, slow: true }],
  ['the peer is idle', { sends: false, slow: false }],
  ['the peer reads slowly', { sends: false, slow: true }],
];

describe('loseConnection after a large reply (TCP)', SUITE, () => {
  for (const [name, behaviour] of CASES) {
    test(`every byte arrives when ${name}`, async (t) => {
      const h = harness(t);
      const server = new CollectingFactory(() => new TailSender());
      const { port } = h.listenTCP(0, server, { interface: LOCAL }).getHost() as { port: number };
      await checkTail(behaviour, () => netConnect(port, LOCAL), server);
    });
  }
});

describe('loseConnection after a large reply (UNIX)', SUITE, () => {
  test('every byte arrives when the peer keeps sending', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-tail-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const h = harness(t);
    const server = new CollectingFactory(() => new TailSender());
    const path = join(dir, 's');
    h.listenUNIX(path, server);
    await checkTail({ sends: true, slow: false }, () => netConnect(path), server);
  });
});

describe('loseConnection after a large reply (TLS)', SUITE, () => {
  for (const [name, behaviour] of CASES.slice(0, 2)) {
    test(`every byte arrives when ${name}`, async (t) => {
      const h = harness(t);
      const server = new CollectingFactory(() => new TailSender());
      const settings = { key: KEY, cert: CERT };
      const { port } = h.listenSSL(0, server, settings, { interface: LOCAL }).getHost() as {
        port: number;
      };
      await checkTail(
        behaviour,
        () => tlsConnect({ port, host: LOCAL, rejectUnauthorized: false }),
        server,
      );
    });
  }
});
