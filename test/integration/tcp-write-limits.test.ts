// Write-buffer limits on a real TCP transport: a streaming producer is
// paused when the bytes waiting to be sent go over the high mark, and
// resumed at the first completed write that leaves the low mark or less,
// not only once everything has been sent.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, createServer as netCreateServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { IPushProducer, ITCPTransport, IWriteBufferLimits } from 'torsion/reactor';
import {
  CollectingFactory,
  harness,
  Recorder,
  RecordingClientFactory,
  Signal,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 60_000 };
const MiB = 1024 * 1024;

type LimitedTransport = ITCPTransport & IWriteBufferLimits;

/**
 * How many bytes the kernel takes on a loopback connection whose reader has
 * stopped reading, before Node has to buffer.
 */
async function kernelCapacity(): Promise<number> {
  const accepted: Socket[] = [];
  const server = netCreateServer((socket) => {
    socket.pause();
    accepted.push(socket);
  });
  server.listen(0, LOCAL);
  await once(server, 'listening');
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  const client = netConnect(address.port, LOCAL);
  try {
    await once(client, 'connect');
    const chunk = Buffer.alloc(64 * 1024);
    let written = 0;
    while (client.writableLength === 0 && written < 256 * MiB) {
      client.write(chunk);
      written += chunk.length;
    }
    return written;
  } finally {
    const closed = [client, ...accepted].map((socket) => once(socket, 'close'));
    client.destroy();
    for (const socket of accepted) socket.destroy();
    server.close();
    await Promise.all([...closed, once(server, 'close')]);
  }
}

/** A reader that stops reading as soon as it is connected. */
class StalledReader extends Recorder {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.pauseProducing();
  }
}

/** A streaming producer that writes nothing itself and records the buffer size at each call. */
class SizeRecorder implements IPushProducer {
  readonly events: Array<['pause' | 'resume', number]> = [];
  readonly resumed = new Signal<number>();
  readonly #transport: LimitedTransport;

  constructor(transport: LimitedTransport) {
    this.#transport = transport;
  }

  pauseProducing(): void {
    this.events.push(['pause', this.#transport.getWriteBufferSize()]);
  }

  resumeProducing(): void {
    const size = this.#transport.getWriteBufferSize();
    this.events.push(['resume', size]);
    if (!this.resumed.fired) this.resumed.fire(size);
  }

  stopProducing(): void {}
}

async function connectPair(
  h: SocketHarness,
): Promise<{ server: StalledReader; transport: LimitedTransport }> {
  const factory = new CollectingFactory(() => new StalledReader());
  const listening = h.listenTCP(0, factory, { interface: LOCAL });
  const port = (listening.getHost() as unknown as { port: number }).port;
  const clients = new RecordingClientFactory(() => new Recorder());
  h.connectTCP(LOCAL, port, clients);
  const client = await waitFor(clients.nth(0), 'the client protocol');
  await waitFor(client.made, 'the client connectionMade');
  const server = await waitFor(factory.nth(0), 'the server protocol');
  await waitFor(server.made, 'the server connectionMade');
  const transport = client.transport as LimitedTransport;
  assert.equal(typeof transport.setWriteBufferLimits, 'function');
  return { server, transport };
}

/**
 * The size of the second write in the tests below: larger than anything the
 * kernel takes while the reader is stalled, so that once the first write
 * has gone, the second still waits in Node's buffer.
 */
async function tailSize(): Promise<number> {
  const capacity = await kernelCapacity();
  return Math.max(8 * MiB, 2 * capacity);
}

describe('Write-buffer limits on TCP', SUITE, () => {
  test('a real transport starts at 64 KiB and 16 KiB, and checks new marks', async (t) => {
    const h = harness(t);
    const { transport } = await connectPair(h);
    assert.deepEqual(transport.getWriteBufferLimits(), { high: 65536, low: 16384 });
    transport.setWriteBufferLimits({ high: 4096 });
    assert.deepEqual(transport.getWriteBufferLimits(), { high: 4096, low: 1024 });
    assert.throws(() => transport.setWriteBufferLimits({ high: 1, low: 2 }), RangeError);
    assert.equal(transport.getWriteBufferSize(), 0);
  });

  test('resumes a streaming producer at the low mark, while bytes are still buffered', async (t) => {
    const tail = await tailSize();
    const first = 3 * tail;
    const high = 2 * tail;
    const low = tail + tail / 2;
    const h = harness(t);
    const { server, transport } = await connectPair(h);
    transport.setWriteBufferLimits({ high, low });
    const producer = new SizeRecorder(transport);
    transport.registerProducer(producer, true);

    transport.write(Buffer.alloc(first));
    assert.deepEqual(producer.events, [['pause', first]], 'paused once over the high mark');
    transport.write(Buffer.alloc(tail));
    assert.equal(transport.getWriteBufferSize(), first + tail);
    assert.equal(producer.events.length, 1, 'still paused');

    server.transport.resumeProducing();
    const sizeAtResume = await waitFor(producer.resumed.promise, 'the producer to be resumed');
    assert.ok(sizeAtResume <= low, `resumed with ${sizeAtResume} bytes buffered; low is ${low}`);
    // Resumed when the first write completed, with the second one still
    // waiting: at the low mark, not when everything had been sent.
    assert.equal(sizeAtResume, tail);
    transport.unregisterProducer();
    await waitFor(server.bytes(first + tail), 'everything to arrive');
  });

  test('does not resume a streaming producer while more than the low mark is buffered', async (t) => {
    const tail = await tailSize();
    const first = 3 * tail;
    const high = 2 * tail;
    const low = tail / 2;
    const h = harness(t);
    const { server, transport } = await connectPair(h);
    transport.setWriteBufferLimits({ high, low });
    const producer = new SizeRecorder(transport);
    transport.registerProducer(producer, true);

    transport.write(Buffer.alloc(first));
    transport.write(Buffer.alloc(tail));
    server.transport.resumeProducing();
    const sizeAtResume = await waitFor(producer.resumed.promise, 'the producer to be resumed');
    assert.ok(sizeAtResume <= low, `resumed with ${sizeAtResume} bytes buffered; low is ${low}`);
    assert.deepEqual(
      producer.events.map(([event]) => event),
      ['pause', 'resume'],
    );
    transport.unregisterProducer();
    await waitFor(server.bytes(first + tail), 'everything to arrive');
  });
});
