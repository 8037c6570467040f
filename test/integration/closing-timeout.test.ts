// TimeoutFactory on a real socket gets rid of a client that has stopped
// reading: the timeout's loseConnection() waits for a flush that never
// comes, and the abort after `abortGrace` seconds closes the connection.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { describe, test } from 'node:test';
import { ConnectionAborted } from 'torsion/protocol';
import { TimeoutFactory } from 'torsion/protocols/policies';
import { CollectingFactory, harness, Recorder, waitFor } from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';

/** Writes far more than the kernel's buffers hold as soon as it is connected. */
class Flooder extends Recorder {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.write(Buffer.alloc(64 * 1024 * 1024));
  }
}

describe('TimeoutFactory on TCP', { timeout: 30_000 }, () => {
  test('aborts a timed-out connection whose client has stopped reading', async (t) => {
    const h = harness(t);
    const inner = new CollectingFactory(() => new Flooder());
    const factory = new TimeoutFactory(inner, {
      clock: h.reactor,
      timeoutPeriod: 0.2,
      abortGrace: 0.2,
    });
    const { port } = h.listenTCP(0, factory, { interface: LOCAL }).getHost() as { port: number };
    const client = netConnect(port, LOCAL);
    client.pause();
    client.on('error', () => undefined);
    const server = await waitFor(inner.nth(0), 'the server protocol');
    // Nothing is read or written after the first write: the timeout fires,
    // loseConnection() waits for the flush, and the abort ends it.
    const reason = await waitFor(server.lost, 'the abort of the timed-out connection', 10);
    assert.ok(reason.check(ConnectionAborted), String(reason.value));
    assert.deepEqual(h.reactor.getDelayedCalls(), []);
    const closed = once(client, 'close');
    client.destroy();
    await closed;
  });
});
