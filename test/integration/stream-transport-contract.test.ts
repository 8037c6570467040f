// What every stream transport promises, over real TCP and UNIX sockets:
// `disconnecting` read through ITransport, and a factory whose
// buildProtocol throws (on a port or a connector) logged once with its
// stack, its connection closed, and the port still serving.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { captureLogs, type LogEvent } from 'torsion/logger';
import { IPv4Address, UNIXAddress } from 'torsion/protocol';
import type { IAddress, IListeningPort, IProtocolFactory, ITransport } from 'torsion/reactor';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  Recorder,
  RecordingClientFactory,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };

/** A stream socket family: how to listen and connect in a test. */
interface Kind {
  name: string;
  listen(h: SocketHarness, t: TestContext, factory: IProtocolFactory): IListeningPort;
  connect(
    h: SocketHarness,
    listening: IListeningPort,
    factory: RecordingClientFactory<Recorder>,
  ): void;
}

const KINDS: Kind[] = [
  {
    name: 'TCP',
    listen: (h, _t, factory) => h.listenTCP(0, factory, { interface: LOCAL }),
    connect: (h, listening, factory) => {
      const address = listening.getHost();
      assert.ok(address instanceof IPv4Address);
      h.connectTCP(LOCAL, address.port, factory);
    },
  },
  {
    name: 'UNIX',
    listen: (h, t, factory) => {
      const dir = mkdtempSync(join(tmpdir(), 'torsion-contract-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      return h.listenUNIX(join(dir, 'socket'), factory);
    },
    connect: (h, listening, factory) => {
      const address = listening.getHost();
      assert.ok(address instanceof UNIXAddress && address.name !== null);
      h.connectUNIX(address.name, factory);
    },
  },
];

function failures(events: LogEvent[]): LogEvent[] {
  return events.filter((e) => e.log_failure !== undefined);
}

/** Connects a recording client; resolves with it once connected. */
async function connectClient(
  kind: Kind,
  h: SocketHarness,
  listening: IListeningPort,
): Promise<Recorder> {
  const factory = new RecordingClientFactory(() => new Recorder());
  kind.connect(h, listening, factory);
  const protocol = await waitFor(factory.nth(0), 'the client protocol');
  await waitFor(protocol.made, 'the client connectionMade');
  return protocol;
}

/** Records `disconnecting` as seen through ITransport at each step. */
class DisconnectingProbe extends Recorder {
  readonly seen: Array<[string, boolean]> = [];
  override connectionMade(): void {
    const transport: ITransport = this.transport;
    this.seen.push(['connectionMade', transport.disconnecting]);
    super.connectionMade();
  }
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    const transport: ITransport = this.transport;
    transport.loseConnection();
    this.seen.push(['after loseConnection', transport.disconnecting]);
  }
  override connectionLost(reason: Failure): void {
    const transport: ITransport = this.transport;
    this.seen.push(['connectionLost', transport.disconnecting]);
    super.connectionLost(reason);
  }
}

for (const kind of KINDS) {
  describe(`${kind.name} stream transports`, SUITE, () => {
    test('disconnecting is false while open and true from loseConnection on', async (t) => {
      const h = harness(t);
      const server = new CollectingFactory(() => new DisconnectingProbe());
      const listening = kind.listen(h, t, server);
      const client = await connectClient(kind, h, listening);
      client.transport.write(Buffer.from('close, please'));
      const serverSide = await waitFor(server.nth(0), 'the server protocol');
      await waitFor(serverSide.lost, 'the server connectionLost');
      await waitFor(client.lost, 'the client connectionLost');
      assert.deepEqual(serverSide.seen, [
        ['connectionMade', false],
        ['after loseConnection', true],
        ['connectionLost', true],
      ]);
    });

    test('a throw in a port factory buildProtocol is logged once with its stack, closes that connection, and the port goes on serving', async (t) => {
      const h = harness(t);
      const logs = captureLogs();
      t.after(() => logs.stop());
      let calls = 0;
      const echo = new CollectingFactory(() => new EchoRecorder());
      const failing: IProtocolFactory = {
        buildProtocol: (addr) => {
          if (calls++ === 0) throw new Error('boom in buildProtocol');
          return echo.buildProtocol(addr);
        },
        doStart: () => undefined,
        doStop: () => undefined,
      };
      const listening = kind.listen(h, t, failing);
      const refused = await connectClient(kind, h, listening);
      await waitFor(refused.lost, 'the refused connection to close');
      const logged = failures(logs.events);
      assert.equal(logged.length, 1);
      const error = logged[0]?.log_failure?.value;
      assert.ok(error instanceof Error);
      assert.equal(error.message, 'boom in buildProtocol');
      assert.match(String(error.stack), /boom in buildProtocol\n\s+at /);
      const served = await connectClient(kind, h, listening);
      served.transport.write(Buffer.from('still there?'));
      await waitFor(served.bytes(12), 'an echo from the port');
      assert.equal(served.data().toString(), 'still there?');
      assert.equal(failures(logs.events).length, 1);
    });

    test('a throw in a client factory buildProtocol is logged once and reported as clientConnectionLost', async (t) => {
      const h = harness(t);
      const logs = captureLogs();
      t.after(() => logs.stop());
      const listening = kind.listen(h, t, new CollectingFactory(() => new Recorder()));
      class Throwing extends RecordingClientFactory<Recorder> {
        override buildProtocol(_addr: IAddress): Recorder {
          throw new Error('boom in client buildProtocol');
        }
      }
      const client = new Throwing(() => new Recorder());
      kind.connect(h, listening, client);
      await waitFor(client.lostConnection, 'clientConnectionLost');
      const logged = failures(logs.events);
      assert.equal(logged.length, 1);
      assert.equal(logged[0]?.log_failure?.getErrorMessage(), 'boom in client buildProtocol');
    });
  });
}
