// The framing protocols of torsion/protocols/basic over real loopback TCP:
// a handler that drops the connection stops the rest of its chunk, strings
// of a megabyte cross intact, and FileSender feeds a transport that pulls.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Deferred, Failure } from 'torsion/defer';
import type { IPv4Address } from 'torsion/protocol';
import { ClientFactory } from 'torsion/protocol';
import {
  FileSender,
  Int32StringReceiver,
  LineReceiver,
  openFileForSending,
} from 'torsion/protocols/basic';
import { CollectingFactory, harness, Recorder, Signal, waitFor } from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };

/** A client factory that builds one given protocol. */
function clientFor<P extends Recorder | Int32StringReceiver>(protocol: P): ClientFactory<P> {
  const factory = new ClientFactory<P>();
  factory.noisy = false;
  factory.buildProtocol = () => protocol;
  return factory;
}

describe('LineReceiver over TCP', SUITE, () => {
  test('delivers no line after the one whose handler drops the connection, from the same chunk', async (t) => {
    const h = harness(t);
    const lost = new Signal<Failure>();
    class Quitter extends LineReceiver {
      readonly lines: string[] = [];
      override lineReceived(line: Buffer): void {
        this.lines.push(line.toString('latin1'));
        if (line.toString('latin1') === 'quit') this.transport.loseConnection();
      }
      override connectionLost(reason: Failure): void {
        lost.fire(reason);
      }
    }
    const servers = new CollectingFactory(() => new Quitter());
    const port = h.listenTCP(0, servers, { interface: LOCAL });
    const client = new Recorder();
    h.connectTCP(LOCAL, (port.getHost() as IPv4Address).port, clientFor(client));
    await waitFor(client.made, 'the client to connect');
    client.transport.write(Buffer.from('one\r\nquit\r\ntwo\r\nthree\r\n'));
    await waitFor(lost.promise, 'the server to drop the connection');
    assert.deepEqual(servers.protocols[0]?.lines, ['one', 'quit']);
  });
});

describe('Int32StringReceiver over TCP', SUITE, () => {
  test('echoes strings up to a megabyte intact', async (t) => {
    const h = harness(t);
    class Echo extends Int32StringReceiver {
      override maxLength = 2 << 20;
      override stringReceived(string: Buffer): void {
        this.sendString(string);
      }
    }
    const strings = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(1 << 20), Buffer.from('z')];
    for (let i = 0; i < (strings[2] as Buffer).length; i++) (strings[2] as Buffer)[i] = i & 0xff;
    const all = new Signal<void>();
    class Client extends Int32StringReceiver {
      override maxLength = 2 << 20;
      readonly received: Buffer[] = [];
      override connectionMade(): void {
        for (const s of strings) this.sendString(s);
      }
      override stringReceived(string: Buffer): void {
        this.received.push(Buffer.from(string));
        if (this.received.length === strings.length) all.fire();
      }
    }
    const port = h.listenTCP(0, new CollectingFactory(() => new Echo()), { interface: LOCAL });
    const client = new Client();
    h.connectTCP(LOCAL, (port.getHost() as IPv4Address).port, clientFor(client));
    await waitFor(all.promise, 'every string to come back');
    assert.deepEqual(client.received, strings);
  });
});

describe('FileSender over TCP', SUITE, () => {
  test('sends a whole file through a transport that pulls each chunk', async (t) => {
    const h = harness(t);
    const dir = mkdtempSync(join(tmpdir(), 'torsion-filesender-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'data.bin');
    const content = Buffer.alloc(300_000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 11) & 0xff;
    writeFileSync(path, content);

    let transfer: Deferred<number | undefined> | undefined;
    class Sender extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        const file = openFileForSending(path);
        transfer = new FileSender().beginFileTransfer(file, this.transport);
        transfer.addBoth((result) => {
          file.close();
          this.transport.loseConnection();
          return result;
        });
      }
    }
    const port = h.listenTCP(0, new CollectingFactory(() => new Sender()), { interface: LOCAL });
    const client = new Recorder();
    h.connectTCP(LOCAL, (port.getHost() as IPv4Address).port, clientFor(client));
    await waitFor(client.lost, 'the file to arrive and the connection to close');
    assert.ok(client.data().equals(content));
    assert.ok(transfer !== undefined);
    assert.equal(await transfer, content[content.length - 1]);
  });
});
