// Small protocols, producers and transports for tests
// (Twisted: twisted.internet.testing.AccumulatingProtocol & co); the
// datagram transport is in fake-datagram.ts.
// Tests: test/unit/testing/protocols.test.ts

import { Deferred } from '../internet/defer.js';
import type { Failure } from '../internet/failure.js';
import type { IConsumer, IPullProducer } from '../internet/interfaces.js';
import { Protocol } from '../internet/protocol.js';

/**
 * What {@link AccumulatingProtocol} looks for on its factory: a Deferred to
 * fire with the protocol when it connects.
 *
 * @since 0.1.0
 */
export interface AccumulatingProtocolFactory {
  /** Fired (once, then cleared) with the first protocol that connects. */
  protocolConnectionMade: Deferred<AccumulatingProtocol> | undefined;
}

function isAccumulatingFactory(factory: unknown): factory is AccumulatingProtocolFactory {
  return (
    typeof factory === 'object' &&
    factory !== null &&
    (factory as { protocolConnectionMade?: unknown }).protocolConnectionMade instanceof Deferred
  );
}

/**
 * A protocol that keeps everything it receives and records when it
 * connects and disconnects.
 *
 * @remarks
 * If its factory has a `protocolConnectionMade` Deferred (see
 * {@link AccumulatingProtocolFactory}), `connectionMade` fires it with this
 * protocol and clears it. If `closedDeferred` is set, `connectionLost` fires
 * it (once) with `undefined`.
 *
 * @see Twisted: twisted.internet.testing.AccumulatingProtocol
 * @since 0.1.0
 */
export class AccumulatingProtocol extends Protocol {
  /** Whether `connectionMade` has been called. */
  made = false;
  /** Whether `connectionLost` has been called. */
  closed = false;
  /** The reason given to `connectionLost`. */
  closedReason: Failure | undefined;
  /** Fired with `undefined` when the connection is lost, then cleared. */
  closedDeferred: Deferred<void> | undefined;
  // The chunks received, in order; joined lazily by `data`.
  #chunks: Uint8Array[] = [];

  /** Everything received so far, as one Buffer. */
  get data(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks)];
    const only = this.#chunks[0] as Uint8Array;
    return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
  }

  /** Sets `made`, and fires the factory's `protocolConnectionMade` if it has one. */
  override connectionMade(): void {
    this.made = true;
    const factory: unknown = this.factory;
    if (isAccumulatingFactory(factory)) {
      const d = factory.protocolConnectionMade as Deferred<AccumulatingProtocol>;
      factory.protocolConnectionMade = undefined;
      d.callback(this);
    }
  }

  /** Keeps a copy of `data`. */
  override dataReceived(data: Uint8Array): void {
    this.#chunks.push(new Uint8Array(data));
  }

  /** Sets `closed` and `closedReason`, and fires `closedDeferred` if it is set. */
  override connectionLost(reason: Failure): void {
    this.closed = true;
    this.closedReason = reason;
    const d = this.closedDeferred;
    if (d !== undefined) {
      this.closedDeferred = undefined;
      d.callback(undefined);
    }
  }
}

/**
 * A pull producer that writes `0`, `1`, … `9` to its consumer, one per
 * `resumeProducing`, then unregisters itself.
 *
 * @remarks
 * It checks that it is used as a pull producer should be: a
 * `resumeProducing` after the tenth, or after `stopProducing`, throws, and
 * so does any `pauseProducing`. {@link NonStreamingProducer.result} fires
 * when it is done or stopped.
 *
 * @see Twisted: twisted.internet.testing.NonStreamingProducer
 * @since 0.1.0
 */
export class NonStreamingProducer implements IPullProducer {
  /** How many values it has written. */
  counter = 0;
  /** Whether `stopProducing` has been called. */
  stopped = false;
  /** The consumer, until the producer is done or stopped. */
  consumer: IConsumer | undefined;
  /**
   * Fires with `undefined` when the producer has written its tenth value
   * or was stopped.
   *
   * Cancellation: cancelling it fails it with `CancelledError`; the
   * producer goes on.
   */
  readonly result: Deferred<void> = new Deferred<void>();

  /**
   * @param consumer - Where to write; register the producer on it yourself.
   */
  constructor(consumer: IConsumer) {
    this.consumer = consumer;
  }

  /**
   * Writes the next value; after the tenth, unregisters itself from the
   * consumer and fires `result`.
   *
   * @throws Error if it is done or stopped.
   */
  resumeProducing(): void {
    const consumer = this.consumer;
    if (consumer === undefined || this.counter >= 10) {
      throw new Error('BUG: resume after unregister/stop.');
    }
    consumer.write(Buffer.from(String(this.counter)));
    this.counter++;
    if (this.counter === 10) {
      consumer.unregisterProducer();
      this.#done();
    }
  }

  /**
   * Never valid for a pull producer.
   *
   * @throws Error always.
   */
  pauseProducing(): void {
    throw new Error('BUG: pause should never be called.');
  }

  /** Sets `stopped` and fires `result`. */
  stopProducing(): void {
    this.stopped = true;
    this.#done();
  }

  #done(): void {
    this.consumer = undefined;
    if (!this.result.called) this.result.callback(undefined);
  }
}
