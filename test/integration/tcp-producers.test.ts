// Flow control on TCP over loopback: streaming and pull producers registered
// on a transport, loseConnection with a producer, and the transport as a
// push producer of what it reads.
// (Twisted: internet/test/test_tcp.py producer tests, test/test_tcp.py.)

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, createServer as netCreateServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ConnectionAborted, ConnectionDone, type Protocol } from 'torsion/protocol';
import type { IListeningPort, IPullProducer, IPushProducer, ITCPTransport } from 'torsion/reactor';
import {
  CollectingFactory,
  harness,
  Recorder,
  RecordingClientFactory,
  Signal,
  type SocketHarness,
  until,
  waitFor,
} from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };
/** The transport's high-water mark (Twisted's bufferSize). */
const HIGH_WATER_MARK = 64 * 1024;

/**
 * How many bytes the kernel takes on a loopback connection whose reader has
 * stopped reading, before Node has to buffer: written through raw node:net
 * sockets until the first write stays in Node's buffer.
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
    const chunk = Buffer.alloc(16 * 1024);
    let written = 0;
    while (client.writableLength === 0 && written < 256 * 1024 * 1024) {
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

/** A client protocol that hands its transport to the test once connected. */
class Idle extends Recorder {}

function portOf(listening: IListeningPort): number {
  return (listening.getHost() as unknown as { port: number }).port;
}

async function connectPair<S extends Recorder>(
  h: SocketHarness,
  makeServer: () => S,
): Promise<{ server: S; client: Idle }> {
  const factory = new CollectingFactory(makeServer);
  const port = portOf(h.listenTCP(0, factory, { interface: LOCAL }));
  const clients = new RecordingClientFactory(() => new Idle());
  h.connectTCP(LOCAL, port, clients);
  const client = await waitFor(clients.nth(0), 'the client protocol');
  await waitFor(client.made, 'the client connectionMade');
  const server = await waitFor(factory.nth(0), 'the server protocol');
  await waitFor(server.made, 'the server connectionMade');
  return { server, client };
}

/** Bytes 0, 1, …, 255, 0, 1, … of length `n`. */
function pattern(n: number): Buffer {
  const data = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) data[i] = i & 0xff;
  return data;
}

/**
 * A streaming producer that writes its data in bursts, one turn of the loop
 * at a time, as fast as it is let, and records how the transport drives it.
 */
class BurstProducer implements IPushProducer {
  written = 0;
  pauses = 0;
  resumes = 0;
  stops = 0;
  paused = false;
  /** Bytes written but not yet received by the reader, at each pause. */
  readonly inFlightAtPause: number[] = [];
  /** Events in order: 'pause', 'resume'. */
  readonly events: string[] = [];
  readonly firstPause = new Signal<void>();
  readonly finished = new Signal<void>();
  #scheduled = false;
  readonly #transport: ITCPTransport;
  readonly #data: Buffer;
  readonly #chunk: number;
  readonly #received: () => number;

  constructor(transport: ITCPTransport, data: Buffer, chunk: number, received: () => number) {
    this.#transport = transport;
    this.#data = data;
    this.#chunk = chunk;
    this.#received = received;
  }

  start(): void {
    this.#transport.registerProducer(this, true);
    this.#schedule();
  }

  pauseProducing(): void {
    this.events.push('pause');
    this.paused = true;
    this.pauses++;
    this.inFlightAtPause.push(this.written - this.#received());
    if (!this.firstPause.fired) this.firstPause.fire();
  }

  resumeProducing(): void {
    this.events.push('resume');
    this.paused = false;
    this.resumes++;
    this.#schedule();
  }

  stopProducing(): void {
    this.stops++;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#burst();
    });
  }

  #burst(): void {
    const total = this.#data.length;
    while (!this.paused && this.stops === 0 && this.written < total) {
      const end = Math.min(this.written + this.#chunk, total);
      // The transport may pause this producer inside write().
      this.#transport.write(this.#data.subarray(this.written, end));
      this.written = end;
    }
    if (this.written === total && !this.finished.fired) {
      this.#transport.unregisterProducer();
      this.#transport.loseConnection();
      this.finished.fire();
    }
  }
}

describe('Producers on TCP transports', SUITE, () => {
  test('a streaming producer is paused while a slow reader lets data pile up, and resumed after', async (t) => {
    const capacity = await kernelCapacity();
    const chunk = 16 * 1024;
    // Anything past what the kernel holds is Node's buffer: the transport
    // must keep that near its high-water mark.
    const bound = 2 * capacity + HIGH_WATER_MARK + chunk;
    const data = pattern(Math.max(32 * 1024 * 1024, 4 * bound));
    const h = harness(t);
    const { server, client } = await connectPair(h, () => new StalledReader());
    const producer = new BurstProducer(client.transport, data, chunk, () => server.received);
    producer.start();

    await waitFor(producer.firstPause.promise, 'the producer to be paused');
    const writtenAtPause = producer.written;
    assert.ok(writtenAtPause < data.length, 'paused before writing everything');
    // While the reader is stalled, the producer stays paused.
    await h.roundTrip();
    assert.equal(producer.paused, true);
    assert.equal(producer.written, writtenAtPause, 'nothing was written while paused');
    assert.equal(producer.resumes, 0);

    server.transport.resumeProducing();
    await waitFor(producer.finished.promise, 'the producer to finish', 20);
    await waitFor(server.lost, 'the reader connectionLost', 20);
    assert.equal(server.received, data.length);
    assert.ok(server.data().equals(data), 'the bytes arrived intact and in order');
    assert.ok(server.reason?.check(ConnectionDone));
    assert.ok(producer.resumes >= 1, 'the producer was resumed');
    // Pauses and resumes alternate, starting with a pause.
    producer.events.forEach((event, i) => {
      assert.equal(event, i % 2 === 0 ? 'pause' : 'resume', producer.events.join(', '));
    });
    for (const inFlight of producer.inFlightAtPause) {
      assert.ok(
        inFlight <= bound,
        `${inFlight} bytes in flight at a pause; the kernel holds about ${capacity}`,
      );
    }
    assert.equal(producer.stops, 0, 'unregistered before the close: not stopped');
  });

  for (const size of [1000, 64 * 1024]) {
    test(`a pull producer of ${size}-byte chunks is asked for one each time the buffer empties`, async (t) => {
      const capacity = await kernelCapacity();
      const chunks = Math.ceil((4 * capacity + 1024 * 1024) / size);
      const h = harness(t);
      const { server, client } = await connectPair(h, () => new StalledReader());
      const transport = client.transport;
      const producer = new (class implements IPullProducer {
        asks = 0;
        reentered = false;
        stops = 0;
        #inside = false;
        resumeProducing(): void {
          if (this.#inside) this.reentered = true;
          this.#inside = true;
          this.asks++;
          if (this.asks <= chunks) {
            transport.write(Buffer.alloc(size, this.asks & 0xff));
          } else {
            transport.unregisterProducer();
            transport.loseConnection();
          }
          this.#inside = false;
        }
        stopProducing(): void {
          this.stops++;
        }
      })();
      transport.registerProducer(producer, false);
      assert.equal(producer.asks, 1, 'asked for a first chunk at once');

      // The reader is stalled: once the kernel is full the buffer stops
      // emptying and the producer stops being asked.
      await until(() => producer.asks > capacity / size / 2, 'the producer to fill the kernel');
      let asks = producer.asks;
      for (let settled = false; !settled; ) {
        await h.roundTrip();
        settled = producer.asks === asks;
        asks = producer.asks;
      }
      assert.ok(
        asks <= chunks,
        `asked ${asks} times for ${chunks} chunks while the reader is stalled`,
      );

      server.transport.resumeProducing();
      await waitFor(server.lost, 'the reader connectionLost', 20);
      assert.equal(server.received, chunks * size);
      assert.equal(producer.asks, chunks + 1, 'one ask per chunk, and one to learn it is done');
      assert.equal(producer.reentered, false);
      assert.equal(producer.stops, 0);
      assert.ok(server.reason?.check(ConnectionDone));
    });
  }

  test('loseConnection with a producer registered waits for unregisterProducer', async (t) => {
    const h = harness(t);
    const { server, client } = await connectPair(h, () => new Recorder());
    const transport = client.transport;
    const events: string[] = [];
    let ticks = 0;
    const producer: IPushProducer = {
      pauseProducing: () => events.push('pause'),
      resumeProducing: () => events.push('resume'),
      stopProducing: () => events.push('stop'),
    };
    transport.registerProducer(producer, true);
    transport.loseConnection();
    const timer = setInterval(() => {
      ticks++;
      transport.write(Buffer.from(`tick ${ticks};`));
      if (ticks === 10) {
        clearInterval(timer);
        events.push('unregister');
        transport.unregisterProducer();
      }
    }, 5);
    t.after(() => clearInterval(timer));
    await waitFor(client.lost, 'the client connectionLost');
    events.push('lost');
    await waitFor(server.lost, 'the server connectionLost');
    const expected = Array.from({ length: 10 }, (_, i) => `tick ${i + 1};`).join('');
    assert.equal(server.data().toString(), expected);
    assert.deepEqual(events, ['unregister', 'lost']);
    assert.ok(client.reason?.check(ConnectionDone));
    assert.ok(server.reason?.check(ConnectionDone));
  });

  test('registering a second producer throws; after unregistering, another may register', async (t) => {
    const h = harness(t);
    const { client } = await connectPair(h, () => new Recorder());
    const transport = client.transport;
    const noop = (): IPushProducer => ({
      pauseProducing: () => undefined,
      resumeProducing: () => undefined,
      stopProducing: () => undefined,
    });
    transport.registerProducer(noop(), true);
    assert.throws(() => transport.registerProducer(noop(), true), /never unregistered/);
    transport.unregisterProducer();
    transport.registerProducer(noop(), true);
    transport.unregisterProducer();
  });

  test('a registered producer is stopped when the connection is lost', async (t) => {
    const h = harness(t);
    const { server, client } = await connectPair(h, () => new Recorder());
    const events: string[] = [];
    client.transport.registerProducer(
      {
        pauseProducing: () => events.push('pause'),
        resumeProducing: () => events.push('resume'),
        stopProducing: () => events.push('stop'),
      },
      true,
    );
    server.transport.abortConnection();
    await waitFor(client.lost, 'the client connectionLost');
    assert.deepEqual(events, ['stop']);
    assert.ok(server.reason?.check(ConnectionAborted));
  });

  test('the transport as a push producer: pauseProducing stops dataReceived until resumeProducing', async (t) => {
    const h = harness(t);
    const { server, client } = await connectPair(h, () => new Recorder());
    server.transport.pauseProducing();
    client.transport.write(Buffer.from('first'));
    // The bytes are in the server's kernel buffer: after the probe's round
    // trip, a reading socket would have delivered them.
    await h.roundTrip();
    assert.equal(server.received, 0, 'nothing delivered while paused');
    server.transport.resumeProducing();
    await waitFor(server.bytes(5), 'the data after resuming');
    assert.equal(server.data().toString(), 'first');

    // Pausing from inside dataReceived holds back what follows.
    const pausing = server as Protocol & Recorder;
    const original = pausing.dataReceived.bind(pausing);
    pausing.dataReceived = (data: Uint8Array): void => {
      original(data);
      pausing.transport.pauseProducing();
    };
    client.transport.write(Buffer.from('second'));
    await waitFor(server.bytes(11), 'the second write');
    client.transport.write(Buffer.from('third'));
    await h.roundTrip();
    assert.equal(server.data().toString(), 'firstsecond');
    server.transport.resumeProducing();
    await waitFor(server.bytes(16), 'the third write');
    assert.equal(server.data().toString(), 'firstsecondthird');
  });
});
