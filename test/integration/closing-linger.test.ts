// After loseConnection() has sent everything and its FIN, the stream
// transport lingers: it reads on and drops what the peer sends, until the
// peer closes its side or a grace period has passed. Here the transport
// runs on a real socket, but its owner's time is a Clock, so the grace
// period passes when the test says so.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ConnectionAborted, ConnectionDone, ConnectionLost, IPv4Address } from 'torsion/protocol';
import { Clock } from 'torsion/task';
import {
  type Disconnectable,
  type SocketHost,
  StreamTransport,
} from '../../src/internet/_stream-transport.js';
import { loopTurns, Recorder, Signal, until, waitFor } from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };
/** The grace period of a lingering close, in seconds (CLOSE_GRACE). */
const GRACE = 10;

/** A Clock that lends itself as a transport's owner. */
class ClockHost extends Clock implements SocketHost {
  readonly tracked = new Set<Disconnectable>();
  track(item: Disconnectable): void {
    this.tracked.add(item);
  }
  untrack(item: Disconnectable): void {
    this.tracked.delete(item);
  }
}

/** A server protocol that counts dataReceived calls after it asked to close. */
class Closer extends Recorder {
  lateData = 0;
  closing = false;

  override dataReceived(data: Uint8Array): void {
    if (this.closing) this.lateData++;
    super.dataReceived(data);
  }

  /** Writes `reply`, then loseConnection(). */
  replyAndClose(reply: Uint8Array): void {
    this.transport.write(reply);
    this.closing = true;
    this.transport.loseConnection();
  }
}

interface Pair {
  host: ClockHost;
  server: Closer;
  transport: StreamTransport;
  /** The peer: a node:net socket that keeps its side open when the server closes its own. */
  client: Socket;
}

/**
 * A loopback connection whose server side is a StreamTransport owned by a
 * Clock, and whose client is a plain half-open node:net socket.
 */
async function connectPair(t: { after(f: () => unknown): void }): Promise<Pair> {
  const host = new ClockHost();
  const server = new Closer();
  const accepted = new Signal<StreamTransport>();
  const listener: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const address = new IPv4Address('TCP', LOCAL, socket.localPort ?? 0);
    const peer = new IPv4Address('TCP', LOCAL, socket.remotePort ?? 0);
    const transport = new StreamTransport(socket, server, address, peer, host);
    transport.start();
    accepted.fire(transport);
  });
  listener.listen(0, LOCAL);
  await once(listener, 'listening');
  const { port } = listener.address() as { port: number };
  const client = netConnect({ port, host: LOCAL, allowHalfOpen: true });
  client.on('error', () => undefined);
  t.after(async () => {
    const closed = client.destroyed ? Promise.resolve() : once(client, 'close');
    client.destroy();
    for (const item of host.tracked) item.disconnectNow(new ConnectionLost('test over'));
    listener.close();
    await Promise.all([closed, once(listener, 'close')]);
  });
  const transport = await waitFor(accepted.promise, 'the server connection');
  await waitFor(server.made, 'connectionMade');
  return { host, server, transport, client };
}

/** Resolves once `client` has read the server's FIN, with what it read. */
async function readToEnd(client: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  client.on('data', (chunk: Buffer) => chunks.push(chunk));
  await waitFor(once(client, 'end'), "the server's FIN");
  return Buffer.concat(chunks);
}

/** Waits until the transport has armed its grace period (after 'finish'). */
function lingering(host: ClockHost): Promise<void> {
  return until(() => host.getDelayedCalls().length === 1, 'the grace period to start');
}

describe('A lingering close (loseConnection, then the peer keeps its side open)', SUITE, () => {
  test('closes GRACE seconds after everything is sent, with ConnectionDone, leaving nothing scheduled', async (t) => {
    const { host, server, client } = await connectPair(t);
    server.replyAndClose(Buffer.from('bye'));
    assert.equal((await readToEnd(client)).toString(), 'bye');
    await lingering(host);
    host.advance(GRACE - 0.5);
    assert.equal(server.lostCalls, 0, 'still waiting for the peer');
    host.advance(0.5);
    const reason = await waitFor(server.lost, 'connectionLost after the grace period');
    assert.ok(reason.check(ConnectionDone), String(reason.value));
    assert.deepEqual(host.getDelayedCalls(), []);
    assert.equal(host.tracked.size, 0);
  });

  test('closes as soon as the peer closes its side, cancelling the grace period', async (t) => {
    const { host, server, client } = await connectPair(t);
    server.replyAndClose(Buffer.from('bye'));
    await readToEnd(client);
    await lingering(host);
    client.end();
    const reason = await waitFor(server.lost, 'connectionLost after the peer closed');
    assert.ok(reason.check(ConnectionDone), String(reason.value));
    assert.deepEqual(host.getDelayedCalls(), []);
  });

  test('reads and drops what the peer sends meanwhile, even when reading was paused', async (t) => {
    const { host, server, transport, client } = await connectPair(t);
    // Paused before and after loseConnection: closing reads on regardless.
    transport.pauseProducing();
    server.replyAndClose(Buffer.from('bye'));
    transport.pauseProducing();
    await readToEnd(client);
    await lingering(host);
    // Far more than the kernel's buffers hold: the write completes only if
    // the server reads it.
    const sent = new Signal<void>();
    client.write(Buffer.alloc(32 * 1024 * 1024), () => sent.fire());
    await waitFor(sent.promise, 'the peer to send 32 MiB into the lingering close', 20);
    assert.equal(server.lateData, 0, 'no dataReceived after loseConnection');
    assert.equal(server.received, 0);
    client.end();
    const reason = await waitFor(server.lost, 'connectionLost');
    assert.ok(reason.check(ConnectionDone), String(reason.value));
  });

  test('abortConnection closes at once with ConnectionAborted, cancelling the grace period', async (t) => {
    const { host, server, transport, client } = await connectPair(t);
    server.replyAndClose(Buffer.from('bye'));
    await readToEnd(client);
    await lingering(host);
    transport.abortConnection();
    const reason = await waitFor(server.lost, 'connectionLost after the abort');
    assert.ok(reason.check(ConnectionAborted), String(reason.value));
    assert.equal(server.lostCalls, 1);
    assert.deepEqual(host.getDelayedCalls(), []);
  });

  test('shutdown (disconnectNow) closes at once, cancelling the grace period', async (t) => {
    const { host, server, transport, client } = await connectPair(t);
    server.replyAndClose(Buffer.from('bye'));
    await readToEnd(client);
    await lingering(host);
    transport.disconnectNow(new ConnectionLost('shutting down'));
    assert.equal(server.lostCalls, 1, 'connectionLost during the shutdown');
    assert.ok(server.reason?.check(ConnectionLost));
    assert.deepEqual(host.getDelayedCalls(), []);
    await loopTurns(4);
    assert.equal(server.lostCalls, 1, "the socket's own close event changes nothing");
  });
});
