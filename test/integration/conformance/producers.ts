// Behaviour 7 of the conformance suite: producers registered on a
// transport (a streaming producer paused past the high-water mark and
// resumed when the buffer drains, a pull producer asked again and again,
// registering and unregistering, producers stopped when the connection goes)
// and the transport itself as a push producer of what it reads.
// Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import assert from 'node:assert/strict';
import type { IPullProducer, IPushProducer, ITCPTransport } from 'torsion/reactor';
import { type Behaviour, connectPair } from './builder.js';
import { Probe, pattern } from './probe.js';

/** Counts what the transport asks of it. */
class CountingProducer implements IPushProducer {
  pauses = 0;
  resumes = 0;
  stops = 0;

  pauseProducing(): void {
    this.pauses++;
  }

  resumeProducing(): void {
    this.resumes++;
  }

  stopProducing(): void {
    this.stops++;
  }
}

const CHUNK = 16 * 1024;
/** More than any kernel buffers on a loopback connection plus the high-water mark. */
const BURST_LIMIT = 256 * 1024 * 1024;
/** Written after the first resume, before finishing. */
const TAIL = 256 * 1024;

/**
 * A streaming producer that writes 16 KiB chunks, one burst per turn of the
 * event loop, for as long as it is not paused; told to finish, it writes
 * TAIL more bytes, unregisters and loses the connection.
 */
class BurstProducer extends CountingProducer {
  written = 0;
  paused = false;
  finished = false;
  #target = BURST_LIMIT;
  #scheduled = false;
  readonly #transport: ITCPTransport;
  readonly #chunk = pattern(CHUNK);

  constructor(transport: ITCPTransport) {
    super();
    this.#transport = transport;
  }

  start(): void {
    this.#transport.registerProducer(this, true);
    this.#schedule();
  }

  override pauseProducing(): void {
    super.pauseProducing();
    this.paused = true;
  }

  override resumeProducing(): void {
    super.resumeProducing();
    this.paused = false;
    this.#schedule();
  }

  /** Writes TAIL more bytes (when not paused), then unregisters and loses the connection. */
  finish(): void {
    this.#target = this.written + TAIL;
    this.#schedule();
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
    // The transport may pause this producer inside write().
    while (!this.paused && this.stops === 0 && this.written < this.#target) {
      this.#transport.write(this.#chunk);
      this.written += CHUNK;
    }
    if (this.written >= this.#target && !this.finished && this.stops === 0) {
      this.finished = true;
      this.#transport.unregisterProducer();
      this.#transport.loseConnection();
    }
  }
}

const PULLS = 10;

/** A pull producer that writes one numbered 1 KiB chunk per resumeProducing, then finishes. */
class PullProducer implements IPullProducer {
  resumes = 0;
  stops = 0;
  readonly #transport: ITCPTransport;

  constructor(transport: ITCPTransport) {
    this.#transport = transport;
  }

  resumeProducing(): void {
    this.#transport.write(pattern(1024, this.resumes));
    this.resumes++;
    if (this.resumes === PULLS) {
      this.#transport.unregisterProducer();
      this.#transport.loseConnection();
    }
  }

  stopProducing(): void {
    this.stops++;
  }
}

const ONE_SIDED_CLOSE = 'one-sided: StringTransport never loses a connection by itself';

export const producers: Behaviour = {
  name: 'producers',
  cases: [
    {
      name: 'a streaming producer is paused past the high-water mark while the reader is paused, and resumed once it drains',
      skip: (b) =>
        b.capabilities.highWater
          ? undefined
          : 'the in-memory buffer has no high-water mark: streaming producers are never paused',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe({ made: (p) => p.transport.pauseProducing() }),
          () => new Probe(),
        );
        const producer = new BurstProducer(c.client.transport);
        producer.start();
        await c.until(
          () => producer.pauses > 0 || producer.written >= BURST_LIMIT,
          'the producer to be paused',
        );
        assert.ok(producer.pauses > 0, `paused before ${BURST_LIMIT} bytes`);
        // Buffers below the transport (TLS) may drain a little more; once they
        // are full too, the producer stays paused while the reader is paused.
        let resumesWhilePaused = -1;
        for (let round = 0; round < 100 && resumesWhilePaused < 0; round++) {
          await c.until(() => producer.paused, 'the producer to be paused again');
          const { written, resumes } = producer;
          await c.settle();
          if (producer.paused && producer.written === written && producer.resumes === resumes) {
            resumesWhilePaused = resumes;
          }
        }
        assert.ok(resumesWhilePaused >= 0, 'the producer stays paused while the reader is paused');

        c.server.transport.resumeProducing();
        await c.until(
          () => producer.resumes > resumesWhilePaused,
          'the producer to be resumed once the reader reads',
        );
        producer.finish();
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        assert.equal(c.server.received, producer.written, 'every byte arrived');
        assert.ok(
          c.server
            .data()
            .equals(Buffer.concat(Array(producer.written / CHUNK).fill(pattern(CHUNK)))),
        );
        assert.equal(producer.stops, 0, 'unregistered before the close: not stopped');
      },
      singleSkip: 'one-sided: StringTransport has no buffer to fill',
    },
    {
      name: 'a pull producer gets resumeProducing again and again until it unregisters',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () => new Probe(),
        );
        const producer = new PullProducer(c.client.transport);
        c.client.transport.registerProducer(producer, false);
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        assert.equal(producer.resumes, PULLS);
        assert.equal(producer.stops, 0, 'unregistered before the close: not stopped');
        const expected = Buffer.concat(Array.from({ length: PULLS }, (_, i) => pattern(1024, i)));
        assert.ok(c.server.data().equals(expected), 'the chunks arrived in order');
      },
      singleSkip: 'one-sided: StringTransport records a pull producer and never asks it for data',
    },
    {
      name: 'registering a second producer throws; after unregisterProducer another may register',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () => new Probe(),
        );
        const transport = c.client.transport;
        const first = new CountingProducer();
        transport.registerProducer(first, true);
        assert.throws(() => transport.registerProducer(new CountingProducer(), true));
        transport.unregisterProducer();
        const second = new CountingProducer();
        transport.registerProducer(second, true);
        transport.unregisterProducer();
        transport.loseConnection();
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        assert.equal(first.stops + second.stops, 0, 'unregistered producers are not stopped');
      },
      single(b) {
        const transport = b.attach(new Probe());
        const first = new CountingProducer();
        transport.registerProducer(first, true);
        assert.equal(transport.producer, first);
        assert.equal(transport.streaming, true);
        assert.throws(() => transport.registerProducer(new CountingProducer(), false));
        transport.unregisterProducer();
        assert.equal(transport.producer, undefined);
        const second = new CountingProducer();
        transport.registerProducer(second, false);
        assert.equal(transport.producer, second);
        assert.equal(transport.streaming, false);
      },
    },
    {
      name: 'a producer still registered when the peer closes is stopped',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () => new Probe(),
        );
        const producer = new CountingProducer();
        c.client.transport.registerProducer(producer, true);
        c.server.transport.loseConnection();
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        assert.equal(producer.stops, 1, 'the producer was stopped');
      },
      singleSkip: ONE_SIDED_CLOSE,
    },
    {
      name: 'a producer registered on a disconnecting transport is stopped once the connection closes',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () => new Probe(),
        );
        c.client.transport.loseConnection();
        const producer = new CountingProducer();
        c.client.transport.registerProducer(producer, true);
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        assert.equal(producer.stops, 1, 'the producer was stopped');
      },
      singleSkip: ONE_SIDED_CLOSE,
    },
    {
      name: 'a producer registered after the connection is lost is stopped at once',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () => new Probe(),
        );
        c.client.transport.loseConnection();
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        const producer = new CountingProducer();
        c.client.transport.registerProducer(producer, true);
        assert.equal(producer.stops, 1, 'the producer was stopped');
      },
      singleSkip: ONE_SIDED_CLOSE,
    },
    {
      name: 'the transport as push producer: pauseProducing stops dataReceived, resumeProducing restarts it',
      skip: (b) =>
        b.capabilities.readPause
          ? undefined
          : 'the transport is not a push producer of what it reads',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () => new Probe(),
        );
        c.server.transport.pauseProducing();
        c.client.transport.write(Buffer.from('held'));
        await c.settle();
        assert.equal(c.server.received, 0, 'nothing delivered while paused');
        c.server.transport.resumeProducing();
        await c.until(() => c.server.received >= 4, 'the held bytes after resumeProducing');
        assert.equal(c.server.data().toString(), 'held');
        c.server.transport.pauseProducing();
        c.client.transport.write(Buffer.from('again'));
        await c.settle();
        assert.equal(c.server.received, 4, 'paused a second time');
        c.server.transport.resumeProducing();
        await c.until(() => c.server.received >= 9, 'the bytes after the second resume');
        assert.equal(c.server.data().toString(), 'heldagain');
      },
      single(b) {
        const transport = b.attach(new Probe());
        transport.pauseProducing();
        assert.equal(transport.producerState, 'paused');
        transport.resumeProducing();
        assert.equal(transport.producerState, 'producing');
      },
    },
  ],
};
