// ClientService on a NodeReactor over real loopback TCP: it connects, keeps
// retrying (refused) while the server is gone, connects again once the
// server listens on the same port, and its stop closes the connection.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientService } from 'torsion/app';
import { TCP4ClientEndpoint } from 'torsion/endpoints';
import { captureLogs } from 'torsion/logger';
import { ConnectionRefusedError, Factory, type IPv4Address } from 'torsion/protocol';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  Recorder,
  Signal,
  waitFor,
} from '../../helpers/sockets.js';

const LOCAL = '127.0.0.1';

describe('ClientService over TCP', { timeout: 30_000 }, () => {
  test('reconnects to a server that went away and came back on the same port', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    const servers = new CollectingFactory(() => new EchoRecorder());
    const first = h.listenTCP(0, servers, { interface: LOCAL });
    const port = (first.getHost() as IPv4Address).port;

    // Retries come fast; the policy tells the test when two attempts in a
    // row have been refused (the count starts at 1 with the lost connection).
    const refusedTwice = new Signal<void>();
    const service = new ClientService(
      new TCP4ClientEndpoint(h.reactor, LOCAL, port),
      Factory.forProtocol(Recorder),
      {
        clock: h.reactor,
        retryPolicy: (failedAttempts) => {
          if (failedAttempts >= 3) refusedTwice.fire();
          return 0.02;
        },
      },
    );
    service.startService();
    const client = await waitFor(service.whenConnected(), 'the first connection');
    client.transport.write(Buffer.from('one'));
    await waitFor(client.bytes(3), 'the first echo');

    // The server goes away: its port closes, then its connection.
    await waitFor(first.stopListening(), 'the port to close');
    const serverSide = await waitFor(servers.nth(0), 'the server protocol');
    serverSide.transport.loseConnection();
    await waitFor(client.lost, 'the client to see the loss');
    await waitFor(refusedTwice.promise, 'two refused attempts');
    const refused = logs.events.filter(
      (event) => event.log_namespace === 'torsion.app' && event.log_level === 'warn',
    );
    assert.ok(refused.length >= 2, `${refused.length} failed attempts logged`);
    assert.match(String(refused[0]?.reason), new RegExp(ConnectionRefusedError.description));

    // It comes back on the same port: the service connects again by itself.
    h.listenTCP(port, servers, { interface: LOCAL });
    const next = await waitFor(service.whenConnected(), 'the second connection');
    assert.notEqual(next, client);
    next.transport.write(Buffer.from('two'));
    await waitFor(next.bytes(3), 'the second echo');

    // Stopping closes the connection, and fires once it is closed.
    await waitFor(service.stopService(), 'the stop');
    await waitFor(next.lost, 'the second connection to close');
    assert.equal(next.transport.disconnecting, true);
  });
});
