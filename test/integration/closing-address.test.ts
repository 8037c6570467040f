// getHost() on a server connection first asked once the connection has
// closed (in connectionLost, or later) answers the connection's own local
// address, not the listening one: on a port bound to every interface
// (0.0.0.0 or ::) the two differ. Node forgets the address when the socket
// closes (before any event when the peer resets), so a wildcard port reads
// it at accept; a port on one address finds it only when asked.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { IPv4Address, IPv6Address } from 'torsion/protocol';
import type { IAddress } from 'torsion/reactor';
import {
  CollectingFactory,
  harness,
  ipv6LoopbackWorks,
  Recorder,
  RecordingClientFactory,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';

const SUITE = { timeout: 30_000 };

const HAVE_IPV6 = await ipv6LoopbackWorks();

/** Asks getHost() for the first time in connectionLost. */
class LateAsker extends Recorder {
  hostWhenLost: IAddress | undefined;

  override connectionLost(reason: Failure): void {
    this.hostWhenLost = this.transport.getHost();
    super.connectionLost(reason);
  }
}

/** How the connection ends, done from the server's protocol, the client's, or the harness. */
type Ending = (server: LateAsker, client: Recorder, h: SocketHarness) => void | Promise<void>;

const ENDINGS: Array<[string, Ending]> = [
  ['the client closes (FIN)', (_server, client) => client.transport.loseConnection()],
  ['the client resets (RST)', (_server, client) => client.transport.abortConnection()],
  ['the server calls loseConnection()', (server) => server.transport.loseConnection()],
  ['the server calls abortConnection()', (server) => server.transport.abortConnection()],
  [
    'the server calls loseWriteConnection(), then the client closes',
    (server, client) => {
      (server.transport as unknown as { loseWriteConnection(): void }).loseWriteConnection();
      client.transport.loseConnection();
    },
  ],
  [
    'the reactor shuts down',
    async (_server, _client, h) => {
      h.reactor.callWhenRunning(() => h.reactor.stop());
      await waitFor(h.reactor.run({ installSignalHandlers: false }), 'the reactor to shut down');
    },
  ],
];

/**
 * Listens on `wildcard`, connects to `loopback`, ends the connection as
 * `ending` says, and checks what the server's getHost() answers afterwards.
 */
async function checkHostAfterClose(
  h: SocketHarness,
  wildcard: string,
  loopback: string,
  ending: Ending,
): Promise<void> {
  const server = new CollectingFactory(() => new LateAsker());
  const listening = h.listenTCP(0, server, { interface: wildcard });
  const { port } = listening.getHost() as IPv4Address | IPv6Address;
  const client = new RecordingClientFactory(() => new Recorder());
  h.connectTCP(loopback, port, client);
  const clientSide = await waitFor(client.nth(0), 'the client protocol');
  await waitFor(clientSide.made, 'the client connectionMade');
  const serverSide = await waitFor(server.nth(0), 'the server protocol');
  await waitFor(serverSide.made, 'the server connectionMade');
  await ending(serverSide, clientSide, h);
  await waitFor(serverSide.lost, 'the server connectionLost');
  const expected =
    wildcard === '::'
      ? new IPv6Address('TCP', loopback, port)
      : new IPv4Address('TCP', loopback, port);
  assert.deepEqual(serverSide.hostWhenLost, expected, 'getHost() in connectionLost');
  assert.deepEqual(serverSide.transport.getHost(), expected, 'getHost() after connectionLost');
}

describe('getHost() first asked after the connection closed', SUITE, () => {
  for (const [name, ending] of ENDINGS) {
    test(`answers the connection's address on 0.0.0.0 when ${name}`, async (t) => {
      await checkHostAfterClose(harness(t), '0.0.0.0', '127.0.0.1', ending);
    });
  }

  test("answers the listening address on 127.0.0.1, the connection's own, when the client resets (RST)", async (t) => {
    await checkHostAfterClose(harness(t), '127.0.0.1', '127.0.0.1', (_server, client) =>
      client.transport.abortConnection(),
    );
  });

  test("answers the connection's address on :: when the server calls loseConnection()", {
    skip: !HAVE_IPV6 && 'no IPv6 loopback',
  }, async (t) => {
    await checkHostAfterClose(harness(t), '::', '::1', (server) =>
      server.transport.loseConnection(),
    );
  });
});
