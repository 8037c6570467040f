// ThrottlingFactory and ThrottlingProtocol (ported from Twisted's
// twisted/test/test_policies.py, ThrottlingTests; test_limit runs over
// simulated connections here, and over loopback TCP in
// test/integration/policies.test.ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captureLogs } from 'torsion/logger';
import { IPv4Address, Protocol, ServerFactory } from 'torsion/protocol';
import {
  ThrottlingFactory,
  type ThrottlingFactoryOptions,
  type ThrottlingProtocol,
} from 'torsion/protocols/policies';
import type { IPullProducer, IPushProducer } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import {
  AccumulatingProtocol,
  assertReactorClean,
  CHUNK_SIZES,
  connectedServerAndClient,
  deliverInChunks,
  MemoryReactorClock,
  StringTransportWithDisconnection,
} from 'torsion/testing';

const addr = new IPv4Address('TCP', '127.0.0.1', 0);

class EchoProtocol extends Protocol implements IPushProducer {
  paused = false;

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
  }

  stopProducing(): void {}

  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

class Server extends ServerFactory {
  override protocol = EchoProtocol;
  override noisy = false;
}

/** A quiet ThrottlingFactory of echo servers on `clock`. */
function throttling(
  clock: Clock | MemoryReactorClock,
  options: { maxConnectionCount?: number; readLimit?: number; writeLimit?: number } = {},
): ThrottlingFactory {
  const factory = new ThrottlingFactory(new Server(), { ...options, clock });
  factory.noisy = false;
  return factory;
}

/** A connection of `factory` over a StringTransportWithDisconnection. */
function connectOne(factory: ThrottlingFactory): {
  protocol: ThrottlingProtocol;
  transport: StringTransportWithDisconnection;
  echo: EchoProtocol;
} {
  const protocol = factory.buildProtocol(addr);
  assert.ok(protocol !== null);
  const transport = new StringTransportWithDisconnection({ protocol });
  protocol.makeConnection(transport);
  return { protocol, transport, echo: protocol.wrappedProtocol as EchoProtocol };
}

describe('ThrottlingFactory connection limit', () => {
  test('refuses connections beyond maxConnectionCount until one is lost', () => {
    const clock = new MemoryReactorClock();
    const factory = throttling(clock, { maxConnectionCount: 2 });
    const [c1, , pump1] = connectedServerAndClient(factory, AccumulatingProtocol, { clock });
    const [c2, , pump2] = connectedServerAndClient(factory, AccumulatingProtocol, { clock });
    assert.equal(factory.connectionCount, 2);
    assert.equal(factory.protocols.size, 2);
    assert.equal(factory.buildProtocol(addr), null);

    c1.transport.loseConnection();
    pump1.flush();
    assert.equal(c1.closed, true);
    assert.equal(factory.connectionCount, 1);

    const [c4, , pump4] = connectedServerAndClient(factory, AccumulatingProtocol, { clock });
    assert.equal(c4.made, true);
    assert.equal(c4.closed, false);
    c4.transport.write(Buffer.from('still echoing'));
    pump4.flush();
    assert.equal(c4.data.toString(), 'still echoing');

    for (const [client, pump] of [
      [c2, pump2],
      [c4, pump4],
    ] as const) {
      client.transport.loseConnection();
      pump.flush();
    }
    assert.equal(factory.connectionCount, 0);
    assertReactorClean(clock);
  });

  test('does not count a connection the wrapped factory refuses', () => {
    const factory = new ThrottlingFactory(
      { buildProtocol: () => null, doStart: () => {}, doStop: () => {} },
      { maxConnectionCount: 1, readLimit: 10, clock: new Clock() },
    );
    assert.equal(factory.buildProtocol(addr), null);
    assert.equal(factory.connectionCount, 0);
    assert.equal(factory.clock.getDelayedCalls().length, 0);
  });

  test('has no connection limit by default', () => {
    const factory = throttling(new Clock());
    assert.equal(factory.maxConnectionCount, Number.POSITIVE_INFINITY);
    for (let i = 0; i < 100; i++) assert.ok(factory.buildProtocol(addr) !== null);
  });

  test('rejects limits that are not positive numbers', () => {
    const clock = new Clock();
    assert.throws(() => new ThrottlingFactory(new Server(), { readLimit: 0, clock }), RangeError);
    assert.throws(() => new ThrottlingFactory(new Server(), { writeLimit: -1, clock }), RangeError);
    assert.throws(
      () => new ThrottlingFactory(new Server(), { readLimit: Number.NaN, clock }),
      RangeError,
    );
    assert.throws(
      () => new ThrottlingFactory(new Server(), { maxConnectionCount: -1, clock }),
      RangeError,
    );
  });

  test('throws a TypeError without a clock, rather than checking on real time', () => {
    const noClock = { readLimit: 10 } as ThrottlingFactoryOptions;
    assert.throws(() => new ThrottlingFactory(new Server(), noClock), {
      name: 'TypeError',
      message: /^ThrottlingFactory needs a clock option.*got undefined/,
    });
  });
});

describe('ThrottlingProtocol counting', () => {
  test('writeSequence writes the chunks and counts their bytes as written', () => {
    const factory = throttling(new Clock());
    const { protocol, transport } = connectOne(factory);
    protocol.writeSequence(Array.from({ length: 4 }, () => Buffer.from('bytes')));
    assert.equal(transport.value().toString(), 'bytesbytesbytesbytes');
    assert.equal(factory.writtenThisSecond, 20);
  });

  for (const size of CHUNK_SIZES) {
    test(`counts every byte read, and echoes it, when fed ${size}-byte chunks`, () => {
      const factory = throttling(new Clock());
      const { protocol, transport } = connectOne(factory);
      const payload = Buffer.from('0123456789abcdefghij');
      deliverInChunks(protocol, payload, size);
      assert.equal(factory.readThisSecond, 20);
      assert.equal(factory.writtenThisSecond, 20);
      assert.deepEqual(transport.value(), payload);
    });
  }
});

describe('ThrottlingFactory write limit', () => {
  test('pauses the registered producer for a second after writing twice the limit', () => {
    const clock = new Clock();
    const factory = throttling(clock, { writeLimit: 10 });
    const { protocol, transport, echo } = connectOne(factory);
    protocol.registerProducer(echo, true);

    protocol.dataReceived(Buffer.from('0123456789'));
    protocol.dataReceived(Buffer.from('abcdefghij'));
    assert.equal(transport.value().toString(), '0123456789abcdefghij');
    assert.equal(factory.writtenThisSecond, 20);
    assert.equal(echo.paused, false);

    // 10 bytes over the limit: writing pauses at the next check, one second
    // from now, and resumes a second after that.
    clock.advance(1.05);
    assert.equal(factory.writtenThisSecond, 0);
    assert.equal(echo.paused, true);

    clock.advance(1.05);
    assert.equal(factory.writtenThisSecond, 0);
    assert.equal(echo.paused, false);

    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('leaves a pull producer alone', () => {
    const clock = new Clock();
    const factory = throttling(clock, { writeLimit: 10 });
    const { protocol, transport } = connectOne(factory);
    const calls: string[] = [];
    const pull: IPullProducer = {
      resumeProducing: () => calls.push('resume'),
      stopProducing: () => calls.push('stop'),
    };
    protocol.registerProducer(pull, false);
    protocol.write(Buffer.alloc(50));
    clock.advance(1);
    clock.advance(4);
    assert.deepEqual(calls, []);
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('no longer throttles a producer once it is unregistered', () => {
    const clock = new Clock();
    const factory = throttling(clock, { writeLimit: 10 });
    const { protocol, transport, echo } = connectOne(factory);
    protocol.registerProducer(echo, true);
    protocol.unregisterProducer();
    assert.equal(protocol.producer, undefined);
    assert.equal(transport.producer, undefined);
    protocol.write(Buffer.alloc(50));
    clock.advance(1);
    assert.equal(echo.paused, false);
    transport.loseConnection();
    assertReactorClean(clock);
  });
});

describe('ThrottlingFactory read limit', () => {
  test('pauses reading for a second after reading twice the limit, every time', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport } = connectOne(factory);

    for (let round = 0; round < 2; round++) {
      transport.clear();
      protocol.dataReceived(Buffer.from('0123456789'));
      protocol.dataReceived(Buffer.from('abcdefghij'));
      assert.equal(transport.value().toString(), '0123456789abcdefghij');
      assert.equal(factory.readThisSecond, 20);

      clock.advance(1.05);
      assert.equal(factory.readThisSecond, 0);
      assert.equal(transport.producerState, 'paused');

      clock.advance(1.05);
      assert.equal(factory.readThisSecond, 0);
      assert.equal(transport.producerState, 'producing');
    }

    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('pauses for as long as the excess takes to read at the limit', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport } = connectOne(factory);
    protocol.dataReceived(Buffer.alloc(45));
    clock.advance(1);
    assert.equal(transport.producerState, 'paused');
    clock.advance(3.4);
    assert.equal(transport.producerState, 'paused');
    clock.advance(0.1);
    assert.equal(transport.producerState, 'producing');
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('pauses and resumes reading on every connection', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const a = connectOne(factory);
    const b = connectOne(factory);
    a.protocol.dataReceived(Buffer.alloc(8));
    b.protocol.dataReceived(Buffer.alloc(8));
    clock.advance(1);
    assert.deepEqual([a.transport.producerState, b.transport.producerState], ['paused', 'paused']);
    clock.advance(1);
    assert.deepEqual(
      [a.transport.producerState, b.transport.producerState],
      ['producing', 'producing'],
    );
    a.transport.loseConnection();
    b.transport.loseConnection();
    assertReactorClean(clock);
  });

  test('holds back what the peer sends while reads are throttled', () => {
    const clock = new MemoryReactorClock();
    const factory = throttling(clock, { readLimit: 10 });
    const [client, , pump] = connectedServerAndClient(factory, AccumulatingProtocol, { clock });
    client.transport.write(Buffer.alloc(20, 0x61));
    pump.flush();
    assert.equal(client.data.length, 20);

    clock.advance(1);
    client.transport.write(Buffer.from('later'));
    pump.flush();
    assert.equal(client.data.length, 20, 'nothing is read while throttled');

    clock.advance(1);
    pump.flush();
    assert.equal(client.data.subarray(20).toString(), 'later');

    client.transport.loseConnection();
    pump.flush();
    assertReactorClean(clock);
  });

  test('a bigger excess found while throttled extends the pause', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport } = connectOne(factory);
    protocol.dataReceived(Buffer.alloc(40));
    clock.advance(1); // paused until t = 4
    // A transport that ignores the pause delivers more in the meantime.
    protocol.dataReceived(Buffer.alloc(60));
    clock.advance(1); // t = 2: paused again, until t = 7
    clock.advance(2.5);
    assert.equal(transport.producerState, 'paused');
    clock.advance(2.5);
    assert.equal(transport.producerState, 'producing');
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('logs an error pausing one connection and still pauses the others', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const closing = connectOne(factory);
    const open = connectOne(factory);
    // A StringTransport refuses to pause once loseConnection was called.
    closing.transport.disconnecting = true;
    closing.protocol.dataReceived(Buffer.alloc(30));
    const logs = captureLogs();
    try {
      clock.advance(1);
    } finally {
      logs.stop();
    }
    assert.equal(open.transport.producerState, 'paused');
    assert.ok(logs.events.some((event) => event.log_failure !== undefined));
    closing.transport.loseConnection();
    open.transport.loseConnection();
    assertReactorClean(clock);
  });
});

describe('ThrottlingFactory checks', () => {
  test('run only while a connection is open', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10, writeLimit: 10 });
    assert.equal(clock.getDelayedCalls().length, 0);
    const first = connectOne(factory);
    assert.equal(clock.getDelayedCalls().length, 2);
    const second = connectOne(factory);
    assert.equal(clock.getDelayedCalls().length, 2);
    first.transport.loseConnection();
    assert.equal(clock.getDelayedCalls().length, 2);
    second.transport.loseConnection();
    assertReactorClean(clock);
  });

  test('a pending unthrottle is cancelled when the last connection is lost', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport } = connectOne(factory);
    protocol.dataReceived(Buffer.alloc(100));
    clock.advance(1);
    assert.equal(transport.producerState, 'paused');
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('start again, with the limits, for the next connection', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    connectOne(factory).transport.loseConnection();
    const { protocol, transport } = connectOne(factory);
    protocol.dataReceived(Buffer.alloc(20));
    clock.advance(1);
    assert.equal(transport.producerState, 'paused');
    clock.advance(1);
    assert.equal(transport.producerState, 'producing');
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('log throttling at info while the factory is noisy', () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(new Server(), { readLimit: 10, clock });
    const { protocol, transport } = connectOne(factory);
    protocol.dataReceived(Buffer.alloc(20));
    const logs = captureLogs();
    try {
      clock.advance(1);
      clock.advance(1);
    } finally {
      logs.stop();
    }
    const texts = logs.events.map((event) => event.log_format);
    assert.ok(texts.includes('Throttling reads on {factory}'));
    assert.ok(texts.includes('Stopped throttling reads on {factory}'));
    transport.loseConnection();
    assertReactorClean(clock);
  });
});
