// FaultInjectingFactory over loopback TCP on a real NodeReactor: an echo
// server wrapped with splits and delays still echoes every byte, in order;
// a reset after N bytes reaches the client with at most N bytes echoed; a
// client factory can be wrapped as well. Small payloads and delays keep
// each test well under a second.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionDone, IPv4Address } from 'torsion/protocol';
import { FaultInjectingFactory } from 'torsion/protocols/policies';
import type { IListeningPort } from 'torsion/reactor';
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
const SUITE = { timeout: 20_000 };

function portOf(listening: IListeningPort): number {
  const address = listening.getHost();
  assert.ok(address instanceof IPv4Address);
  return address.port;
}

function payload(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) % 256));
}

async function connectRecorder(h: SocketHarness, port: number, plan?: string): Promise<Recorder> {
  const recorders = new RecordingClientFactory(() => new Recorder());
  recorders.noisy = false;
  const factory =
    plan === undefined ? recorders : new FaultInjectingFactory(recorders, plan, h.reactor);
  h.connectTCP(LOCAL, port, factory);
  const protocol = await waitFor(recorders.nth(0), 'the client protocol');
  await waitFor(protocol.made, 'the client connectionMade');
  return protocol;
}

describe('FaultInjectingFactory over TCP', SUITE, () => {
  test('an echo server with split and delayed reads and writes echoes everything in order', async (t) => {
    const h = harness(t);
    const echo = new CollectingFactory(() => new EchoRecorder());
    const faulty = new FaultInjectingFactory(echo, 'seed=3,split=1-64,delay=0-0.005', h.reactor);
    const port = portOf(h.listenTCP(0, faulty, { interface: LOCAL }));
    const client = await connectRecorder(h, port);
    const data = payload(20_000);
    for (let at = 0; at < data.byteLength; at += 4096) {
      client.transport.write(data.subarray(at, at + 4096));
    }
    await waitFor(client.bytes(data.byteLength), 'the whole echo');
    assert.deepEqual(client.data(), data);
    const server = echo.protocols[0] as EchoRecorder;
    assert.ok(server.chunks.every((c) => c.byteLength <= 64));
    assert.ok(server.chunks.length >= data.byteLength / 64);
    client.transport.loseConnection();
    await waitFor(client.lost, 'the client to close');
    await waitFor(server.lost, 'the server to see the close');
    assert.ok(server.reason?.check(ConnectionDone));
  });

  test('reset-after N: the client sees the connection reset with at most N bytes echoed', async (t) => {
    const h = harness(t);
    const echo = new CollectingFactory(() => new EchoRecorder());
    const faulty = new FaultInjectingFactory(
      echo,
      'seed=1,split=1-100,reset-after=1000',
      h.reactor,
    );
    const port = portOf(h.listenTCP(0, faulty, { interface: LOCAL }));
    const client = await connectRecorder(h, port);
    client.transport.write(payload(5000));
    const reason = await waitFor(client.lost, 'the reset');
    assert.ok(client.received <= 1000, `${client.received} bytes echoed`);
    assert.deepEqual(client.data(), payload(5000).subarray(0, client.received));
    assert.ok(reason !== undefined);
    const server = echo.protocols[0] as EchoRecorder;
    await waitFor(server.lost, 'the server side to end');
    assert.equal(server.received, 1000);
    assert.equal(faulty.protocols.size, 0, 'the wrapper unregistered');
  });

  test('a client factory wrapped with faults receives split, delayed reads, complete', async (t) => {
    const h = harness(t);
    const echo = new CollectingFactory(() => new EchoRecorder());
    const port = portOf(h.listenTCP(0, echo, { interface: LOCAL }));
    const client = await connectRecorder(h, port, 'seed=9,split=1-3,delay=0.001');
    const data = payload(3000);
    client.transport.write(data);
    await waitFor(client.bytes(data.byteLength), 'the whole echo');
    assert.deepEqual(client.data(), data);
    assert.ok(client.chunks.every((c) => c.byteLength <= 3));
  });
});
