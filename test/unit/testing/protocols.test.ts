// AccumulatingProtocol, NonStreamingProducer and FakeDatagramTransport
// (NonStreamingProducer tests ported from Twisted's
// twisted/internet/test/test_testing.py NonStreamingProducerTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred, Failure } from 'torsion/defer';
import { ConnectionDone, Factory, IPv4Address } from 'torsion/protocol';
import type { IConsumer, IPullProducer, IPushProducer } from 'torsion/reactor';
import {
  AccumulatingProtocol,
  FakeDatagramTransport,
  NonStreamingProducer,
  StringTransport,
  successResultOf,
} from 'torsion/testing';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A consumer that records its writes and its producer. */
class TestConsumer implements IConsumer {
  readonly writes: Buffer[] = [];
  producer: IPushProducer | IPullProducer | undefined;
  producerStreaming: boolean | undefined;

  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    this.producer = producer;
    this.producerStreaming = streaming;
  }

  unregisterProducer(): void {
    this.producer = undefined;
    this.producerStreaming = undefined;
  }

  write(data: Uint8Array): void {
    this.writes.push(Buffer.from(data));
  }
}

describe('NonStreamingProducer', () => {
  test('writes its counter ten times, unregisters itself, then refuses to produce', () => {
    const consumer = new TestConsumer();
    const producer = new NonStreamingProducer(consumer);
    consumer.registerProducer(producer, false);
    assert.equal(consumer.producer, producer);
    assert.equal(producer.consumer, consumer);
    assert.equal(consumer.producerStreaming, false);

    for (let i = 0; i < 10; i++) producer.resumeProducing();

    assert.equal(consumer.producer, undefined);
    assert.equal(consumer.producerStreaming, undefined);
    assert.equal(producer.consumer, undefined);
    assert.deepEqual(
      consumer.writes,
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'].map(bytes),
    );
    assert.equal(successResultOf(producer.result), undefined);
    assert.throws(() => producer.resumeProducing(), /resume after unregister\/stop/);
  });

  test('throws when paused, as a pull producer is never paused', () => {
    const consumer = new TestConsumer();
    const producer = new NonStreamingProducer(consumer);
    consumer.registerProducer(producer, false);
    producer.resumeProducing();
    assert.throws(() => producer.pauseProducing(), /pause should never be called/);
  });

  test('stopProducing sets stopped, fires result, and forbids producing', () => {
    const producer = new NonStreamingProducer(new TestConsumer());
    producer.stopProducing();
    assert.equal(producer.stopped, true);
    assert.equal(successResultOf(producer.result), undefined);
    assert.throws(() => producer.resumeProducing(), Error);
  });

  test('registered on a StringTransport, it writes to the transport', () => {
    const transport = new StringTransport();
    const producer = new NonStreamingProducer(transport);
    transport.registerProducer(producer, false);
    while (transport.producer !== undefined) producer.resumeProducing();
    assert.deepEqual(transport.value(), bytes('0123456789'));
  });
});

describe('AccumulatingProtocol', () => {
  test('records connectionMade and keeps every byte received', () => {
    const protocol = new AccumulatingProtocol();
    assert.equal(protocol.made, false);
    protocol.makeConnection(new StringTransport());
    assert.equal(protocol.made, true);
    protocol.dataReceived(bytes('hello, '));
    protocol.dataReceived(bytes('world'));
    assert.deepEqual(protocol.data, bytes('hello, world'));
  });

  test('data is empty before anything arrives', () => {
    assert.equal(new AccumulatingProtocol().data.byteLength, 0);
  });

  test('keeps a copy of what it receives', () => {
    const protocol = new AccumulatingProtocol();
    const buffer = bytes('abc');
    protocol.dataReceived(buffer);
    buffer.fill(0);
    assert.deepEqual(protocol.data, bytes('abc'));
  });

  test('records connectionLost and its reason, and fires closedDeferred once', () => {
    const protocol = new AccumulatingProtocol();
    const closed = new Deferred<void>();
    protocol.closedDeferred = closed;
    const reason = new Failure(new ConnectionDone());
    protocol.connectionLost(reason);
    assert.equal(protocol.closed, true);
    assert.equal(protocol.closedReason, reason);
    assert.equal(protocol.closedDeferred, undefined);
    assert.equal(successResultOf(closed), undefined);
  });

  test("fires its factory's protocolConnectionMade with itself, then clears it", () => {
    class AccumulatingFactory extends Factory<AccumulatingProtocol> {
      protocolConnectionMade: Deferred<AccumulatingProtocol> | undefined = new Deferred();
    }
    const factory = AccumulatingFactory.forProtocol(AccumulatingProtocol);
    const made = factory.protocolConnectionMade as Deferred<AccumulatingProtocol>;
    const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 1));
    assert.ok(protocol !== null);
    protocol.makeConnection(new StringTransport());
    assert.equal(successResultOf(made), protocol);
    assert.equal(factory.protocolConnectionMade, undefined);
  });
});

describe('FakeDatagramTransport', () => {
  test('records each datagram with its address', () => {
    const transport = new FakeDatagramTransport();
    transport.write(bytes('a'), ['10.0.0.1', 53]);
    transport.write(bytes('b'));
    assert.deepEqual(transport.written, [
      [new Uint8Array(bytes('a')), ['10.0.0.1', 53]],
      [new Uint8Array(bytes('b')), undefined],
    ]);
  });

  test('throws a TypeError for a string datagram', () => {
    assert.throws(() => new FakeDatagramTransport().write('a' as unknown as Uint8Array), TypeError);
  });

  test('records connect, broadcast and stopListening', () => {
    const host = new IPv4Address('UDP', '0.0.0.0', 53);
    const transport = new FakeDatagramTransport(host);
    transport.connect('10.0.0.2', 5353);
    transport.setBroadcastAllowed(true);
    assert.equal(successResultOf(transport.stopListening()), undefined);
    assert.deepEqual(transport.connectedTo, ['10.0.0.2', 5353]);
    assert.equal(transport.broadcastAllowed, true);
    assert.equal(transport.stopped, true);
    assert.equal(transport.getHost(), host);
  });
});
