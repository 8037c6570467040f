// ThrottlingFactory and ThrottlingProtocol (ported from Twisted's
// twisted/test/test_policies.py, ThrottlingTests; test_limit runs over
// simulated connections here, and over loopback TCP in
// test/integration/policies.test.ts). Twisted's once-a-second checks are
// replaced by token buckets (issue 10): the tests of the write and read
// limits say when a connection is held and released under the new contract,
// and the pause reasons of a connection are checked here; the rates over
// time are in policies-throttling-bucket.test.ts.

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
    assert.equal(factory.bytesWritten, 20);
  });

  for (const size of CHUNK_SIZES) {
    test(`counts every byte read, and echoes it, when fed ${size}-byte chunks`, () => {
      const factory = throttling(new Clock());
      const { protocol, transport } = connectOne(factory);
      const payload = Buffer.from('0123456789abcdefghij');
      deliverInChunks(protocol, payload, size);
      assert.equal(factory.bytesRead, 20);
      assert.equal(factory.bytesWritten, 20);
      assert.deepEqual(transport.value(), payload);
    });
  }
});

describe('ThrottlingFactory write limit', () => {
  test('holds the producer as soon as the writes put the bucket in debt, until it is paid', () => {
    const clock = new Clock();
    // 10 bytes a second, one byte of burst.
    const factory = throttling(clock, { writeLimit: 10 });
    const { protocol, transport, echo } = connectOne(factory);
    protocol.registerProducer(echo, true);

    protocol.dataReceived(Buffer.from('0123456789'));
    assert.equal(transport.value().toString(), '0123456789');
    assert.equal(factory.bytesWritten, 10);
    // 9 bytes of debt at 10 bytes a second: held for 0.9 s, not Twisted's
    // "next check, then a second".
    assert.equal(echo.paused, true);
    clock.advance(0.85);
    assert.equal(echo.paused, true);
    clock.advance(0.1);
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
    assert.equal(transport.producer, pull);
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

  test('holds a producer registered while the connection is held', () => {
    const clock = new Clock();
    const factory = throttling(clock, { writeLimit: 10 });
    const { protocol, transport, echo } = connectOne(factory);
    protocol.write(Buffer.alloc(20));
    protocol.registerProducer(echo, true);
    assert.equal(echo.paused, true);
    clock.advance(1.9);
    assert.equal(echo.paused, false);
    transport.loseConnection();
    assertReactorClean(clock);
  });
});

describe('ThrottlingProtocol pause reasons', () => {
  test('a release by the throttle leaves paused a producer the transport paused', () => {
    const clock = new Clock();
    const factory = throttling(clock, { writeLimit: 1_000_000 });
    const { protocol, transport, echo } = connectOne(factory);
    protocol.registerProducer(echo, true);
    const registered = transport.producer as IPushProducer;

    // The transport's buffer passed its high-water mark.
    registered.pauseProducing();
    assert.equal(echo.paused, true);
    factory.throttleWrites();
    factory.unthrottleWrites();
    assert.equal(echo.paused, true, 'the transport still holds it');
    // Its buffer drained.
    registered.resumeProducing();
    assert.equal(echo.paused, false);

    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('a resume by the transport leaves paused a producer the throttle holds', () => {
    const clock = new Clock();
    const factory = throttling(clock, { writeLimit: 10 });
    const { protocol, transport, echo } = connectOne(factory);
    protocol.registerProducer(echo, true);
    const registered = transport.producer as IPushProducer;
    protocol.write(Buffer.alloc(20)); // held until t = 1.9
    registered.pauseProducing();
    registered.resumeProducing();
    assert.equal(echo.paused, true, 'the throttle still holds it');
    clock.advance(1.9);
    assert.equal(echo.paused, false);
    registered.stopProducing();
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('pauses and resumes the producer once per change, not per reason', () => {
    const clock = new Clock();
    const factory = throttling(clock, { writeLimit: 10 });
    const { protocol, transport } = connectOne(factory);
    const calls: string[] = [];
    const producer: IPushProducer = {
      pauseProducing: () => calls.push('pause'),
      resumeProducing: () => calls.push('resume'),
      stopProducing: () => calls.push('stop'),
    };
    protocol.registerProducer(producer, true);
    const registered = transport.producer as IPushProducer;
    registered.pauseProducing();
    protocol.throttleWrites();
    registered.resumeProducing();
    protocol.unthrottleWrites();
    registered.stopProducing();
    assert.deepEqual(calls, ['pause', 'resume', 'stop']);
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('a release by the throttle leaves paused the reading the wrapped protocol paused', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport, echo } = connectOne(factory);
    echo.transport.pauseProducing();
    protocol.dataReceived(Buffer.alloc(20)); // held until t = 1.9
    clock.advance(2);
    assert.equal(transport.producerState, 'paused', 'the wrapped protocol still holds it');
    echo.transport.resumeProducing();
    assert.equal(transport.producerState, 'producing');

    // And the other way round: the protocol's resume leaves the throttle's hold.
    protocol.dataReceived(Buffer.alloc(20)); // held until t = 3.9
    echo.transport.pauseProducing();
    echo.transport.resumeProducing();
    assert.equal(transport.producerState, 'paused', 'the throttle still holds it');
    clock.advance(2);
    assert.equal(transport.producerState, 'producing');
    transport.loseConnection();
    assertReactorClean(clock);
  });
});

describe('ThrottlingFactory read limit', () => {
  test('holds reading as soon as the reads put the bucket in debt, every time', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport } = connectOne(factory);

    for (let round = 0; round < 2; round++) {
      transport.clear();
      protocol.dataReceived(Buffer.from('0123456789'));
      assert.equal(transport.value().toString(), '0123456789');
      assert.equal(factory.bytesRead, 10 * (round + 1));
      assert.equal(transport.producerState, 'paused');
      clock.advance(0.85);
      assert.equal(transport.producerState, 'paused');
      clock.advance(0.1);
      assert.equal(transport.producerState, 'producing');
    }

    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('holds for as long as the debt takes to pay at the limit', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport } = connectOne(factory);
    // One byte of burst, 45 read: 44 bytes of debt, 4.4 s.
    protocol.dataReceived(Buffer.alloc(45));
    assert.equal(transport.producerState, 'paused');
    clock.advance(4.35);
    assert.equal(transport.producerState, 'paused');
    clock.advance(0.1);
    assert.equal(transport.producerState, 'producing');
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('holds each connection over its share, and releases them together', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const a = connectOne(factory);
    const b = connectOne(factory);
    a.protocol.dataReceived(Buffer.alloc(8));
    assert.equal(a.transport.producerState, 'paused');
    assert.equal(b.transport.producerState, 'producing', 'b has read nothing');
    b.protocol.dataReceived(Buffer.alloc(8));
    assert.deepEqual([a.transport.producerState, b.transport.producerState], ['paused', 'paused']);
    // 15 bytes of debt: 1.5 s.
    clock.advance(1.45);
    assert.deepEqual([a.transport.producerState, b.transport.producerState], ['paused', 'paused']);
    clock.advance(0.1);
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

    client.transport.write(Buffer.from('later'));
    pump.flush();
    assert.equal(client.data.length, 20, 'nothing is read while throttled');

    // 19 bytes of debt: 1.9 s.
    clock.advance(1.9);
    pump.flush();
    assert.equal(client.data.subarray(20).toString(), 'later');

    client.transport.loseConnection();
    pump.flush();
    assertReactorClean(clock);
  });

  test('more debt made while held extends the hold', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport } = connectOne(factory);
    protocol.dataReceived(Buffer.alloc(40)); // 39 bytes of debt: until t = 3.9
    clock.advance(1);
    // A transport that ignores the pause delivers more in the meantime:
    // 89 bytes of debt at t = 1, paid at t = 9.9.
    protocol.dataReceived(Buffer.alloc(60));
    clock.advance(3);
    assert.equal(transport.producerState, 'paused');
    clock.advance(5.85);
    assert.equal(transport.producerState, 'paused');
    clock.advance(0.1);
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
    const logs = captureLogs();
    try {
      closing.protocol.dataReceived(Buffer.alloc(30));
      open.protocol.dataReceived(Buffer.alloc(30));
    } finally {
      logs.stop();
    }
    assert.equal(closing.transport.value().length, 30, 'the bytes are still passed on');
    assert.equal(open.transport.producerState, 'paused');
    assert.equal(logs.events.filter((event) => event.log_failure !== undefined).length, 1);
    closing.transport.loseConnection();
    open.transport.loseConnection();
    assertReactorClean(clock);
  });
});

describe('ThrottlingFactory checks', () => {
  test('schedule nothing until a connection is held, and nothing once the last is lost', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10, writeLimit: 10 });
    assert.equal(clock.getDelayedCalls().length, 0);
    const first = connectOne(factory);
    const second = connectOne(factory);
    assert.equal(clock.getDelayedCalls().length, 0);
    first.protocol.dataReceived(Buffer.alloc(20));
    assert.equal(clock.getDelayedCalls().length, 2, 'one release each way');
    first.transport.loseConnection();
    assert.equal(clock.getDelayedCalls().length, 0, 'nothing is held any more');
    second.transport.loseConnection();
    assertReactorClean(clock);
  });

  test('count the bytes of a lost connection, and hold nothing for them', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const open = connectOne(factory);
    const lost = connectOne(factory);
    lost.transport.loseConnection();
    lost.protocol.dataReceived(Buffer.alloc(20));
    assert.equal(factory.bytesRead, 20);
    assert.equal(clock.getDelayedCalls().length, 0);
    open.transport.loseConnection();
    assertReactorClean(clock);
  });

  test('a pending release is cancelled when the last connection is lost', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    const { protocol, transport } = connectOne(factory);
    protocol.dataReceived(Buffer.alloc(100));
    clock.advance(1);
    assert.equal(transport.producerState, 'paused');
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('hold the next connection by the same limits', () => {
    const clock = new Clock();
    const factory = throttling(clock, { readLimit: 10 });
    connectOne(factory).transport.loseConnection();
    const { protocol, transport } = connectOne(factory);
    protocol.dataReceived(Buffer.alloc(20));
    assert.equal(transport.producerState, 'paused');
    clock.advance(1.9);
    assert.equal(transport.producerState, 'producing');
    transport.loseConnection();
    assertReactorClean(clock);
  });

  test('log throttling at info, once for a run of holds, while the factory is noisy', () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(new Server(), { readLimit: 10, clock });
    const { protocol, transport } = connectOne(factory);
    const logs = captureLogs();
    try {
      protocol.dataReceived(Buffer.alloc(20));
      clock.advance(1.9); // released
      protocol.dataReceived(Buffer.alloc(20)); // held again within the quiet second
      clock.advance(2); // 20 bytes of debt: released
      clock.advance(1); // a quiet second
    } finally {
      logs.stop();
    }
    const texts = logs.events.map((event) => event.log_format);
    assert.deepEqual(texts, [
      'Throttling reads on {factory}',
      'Stopped throttling reads on {factory}',
    ]);
    transport.loseConnection();
    assertReactorClean(clock);
  });
});
