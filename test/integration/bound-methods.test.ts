// Twisted's bound-method habits on the real reactor and a loopback TCP
// connection: `reactor.callLater(0, reactor.stop)` ends the program, and a
// LineReceiver's `this.sendLine` and its transport's `write` and
// `loseConnection`, passed to `callLater` and `LoopingCall`, reach the peer.
// Unbound, each would log a TypeError and leave the reactor running.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Deferred, gatherResults, succeed } from 'torsion/defer';
import { Factory, type IListeningPort, Protocol } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import { NodeReactor } from 'torsion/reactor';
import { LoopingCall } from 'torsion/task';
import { harness, waitFor } from '../helpers/sockets.js';

describe('bound methods on the real reactor', () => {
  test('reactor.callLater(0, reactor.stop) stops the reactor', async () => {
    const reactor = new NodeReactor();
    reactor.callLater(0, reactor.stop);
    await waitFor(reactor.run({ installSignalHandlers: false }), 'the reactor to stop', 5);
    assert.equal(reactor.running, false);
  });

  test('sendLine through LoopingCall, then write and loseConnection through callLater, over TCP', async (t) => {
    const h = harness(t);
    const reactor = h.reactor;
    const received = new Deferred<string[]>();

    class Pinger extends LineReceiver {
      override connectionMade(): void {
        const loop = new LoopingCall(reactor, this.sendLine, 'PING');
        loop.start(0.001);
        reactor.callLater(0.02, loop.stop);
        reactor.callLater(0.02, this.transport.write, Buffer.from('BYE\r\n'));
        reactor.callLater(0.02, this.transport.loseConnection);
      }
      override lineReceived(): void {}
    }

    class Collector extends LineReceiver {
      readonly lines: string[] = [];
      override lineReceived(line: Buffer): void {
        this.lines.push(line.toString());
      }
      override connectionLost(): void {
        received.callback(this.lines);
      }
    }

    const port: IListeningPort = h.listenTCP(0, Factory.forProtocol(Pinger), {
      interface: '127.0.0.1',
    });
    const address = port.getHost() as { port: number };
    h.connectTCP('127.0.0.1', address.port, Factory.forProtocol(Collector));
    const lines = await waitFor(received, 'the server to say BYE and close', 5);
    assert.ok(lines.length >= 2, `got ${lines.join(',')}`);
    assert.ok(lines.slice(0, -1).every((line) => line === 'PING'));
    assert.equal(lines.at(-1), 'BYE');
  });

  test('port.stopListening through addCallback stops a TCP port and a UNIX port', async (t) => {
    const h = harness(t);
    const tcp = h.listenTCP(0, Factory.forProtocol(Protocol), { interface: '127.0.0.1' });
    const dir = mkdtempSync(join(tmpdir(), 'torsion-bound-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const unix = h.listenUNIX(join(dir, 's.sock'), Factory.forProtocol(Protocol));
    const stopped = [tcp, unix].map((port) => succeed(undefined).addCallback(port.stopListening));
    await waitFor(gatherResults(stopped), 'both ports to stop listening', 5);
    assert.equal(existsSync(join(dir, 's.sock')), false, 'the UNIX socket file is gone');
  });
});
