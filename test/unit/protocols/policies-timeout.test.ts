// TimeoutMixin, TimeoutProtocol and TimeoutFactory (ported from Twisted's
// twisted/test/test_policies.py: TimeoutProtocolTests, TimeoutFactoryTests,
// TimeoutMixinTests; plus the composition forms of TimeoutMixin).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { IPv4Address, Protocol, ServerFactory } from 'torsion/protocol';
import {
  TimeoutFactory,
  type TimeoutFactoryOptions,
  TimeoutMixin,
  type TimeoutMixinOptions,
  type TimeoutOwner,
  type TimeoutProtocol,
} from 'torsion/protocols/policies';
import type { IProtocol } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import {
  AccumulatingProtocol,
  assertReactorClean,
  CHUNK_SIZES,
  connectedServerAndClient,
  deliverInChunks,
  MemoryReactorClock,
  StringTransport,
  StringTransportWithDisconnection,
} from 'torsion/testing';

const addr = new IPv4Address('TCP', '127.0.0.1', 12345);

/** A protocol that records whether it was connected and disconnected. */
class SimpleProtocol extends Protocol {
  made = false;
  disconnected = false;
  buffer = Buffer.alloc(0);

  override connectionMade(): void {
    this.made = true;
  }

  override connectionLost(_reason: Failure): void {
    this.disconnected = true;
  }

  override dataReceived(data: Uint8Array): void {
    this.buffer = Buffer.concat([this.buffer, data]);
  }
}

class SimpleFactory extends ServerFactory {
  override protocol = SimpleProtocol;
  override noisy = false;
}

/** A TimeoutFactory connection over a StringTransportWithDisconnection. */
function connectTimeout(
  clock: Clock,
  timeoutPeriod: number | null,
): {
  proto: TimeoutProtocol;
  wrapped: SimpleProtocol;
  transport: StringTransportWithDisconnection;
} {
  const factory = new TimeoutFactory(new SimpleFactory(), { timeoutPeriod, clock });
  factory.noisy = false;
  const proto = factory.buildProtocol(addr);
  assert.ok(proto !== null);
  const transport = new StringTransportWithDisconnection({ protocol: proto });
  proto.makeConnection(transport);
  return { proto, wrapped: proto.wrappedProtocol as SimpleProtocol, transport };
}

describe('TimeoutProtocol.cancelTimeout', () => {
  test('cancels the pending timeout', () => {
    const clock = new Clock();
    const { proto: sut } = connectTimeout(clock, null);
    sut.setTimeout(3);
    assert.notEqual(sut.timeoutCall, null);
    assert.equal((sut.wrappedProtocol as SimpleProtocol).disconnected, false);

    clock.advance(1);
    sut.cancelTimeout();
    assert.equal(sut.timeoutCall, null);
    assert.equal(sut.timeoutPeriod, null);

    // Past the time the timeout would have fired: still connected.
    clock.advance(3);
    assert.equal((sut.wrappedProtocol as SimpleProtocol).disconnected, false);
  });

  test('does nothing when no timeout is set', () => {
    const clock = new Clock();
    const { proto: sut, wrapped } = connectTimeout(clock, null);
    assert.equal(sut.timeoutCall, null);
    sut.cancelTimeout();
    assert.equal(wrapped.disconnected, false);
  });

  test('does nothing when the timeout has already fired', () => {
    const clock = new Clock();
    const { proto: sut, wrapped } = connectTimeout(clock, null);
    sut.setTimeout(3);
    clock.advance(3);
    assert.equal(wrapped.disconnected, true);
    assert.doesNotThrow(() => sut.cancelTimeout());
  });

  test('does nothing when the timeout was cancelled from elsewhere', () => {
    const clock = new Clock();
    const { proto: sut, wrapped } = connectTimeout(clock, null);
    sut.setTimeout(3);
    sut.timeoutCall?.cancel();
    assert.doesNotThrow(() => sut.cancelTimeout());
    assert.equal(wrapped.disconnected, false);
  });
});

describe('TimeoutProtocol.setTimeout', () => {
  test('replaces the pending timeout with one for the new period', () => {
    const clock = new Clock();
    const { proto, wrapped } = connectTimeout(clock, 3);
    clock.advance(2);
    proto.setTimeout(5);
    assert.equal(proto.timeoutPeriod, 5);
    clock.advance(4.9);
    assert.equal(wrapped.disconnected, false);
    clock.advance(0.1);
    assert.equal(wrapped.disconnected, true);
  });

  test('with no period cancels the timeout', () => {
    const clock = new Clock();
    const { proto, wrapped } = connectTimeout(clock, 3);
    proto.setTimeout();
    assert.equal(proto.timeoutPeriod, null);
    clock.advance(10);
    assert.equal(wrapped.disconnected, false);
    assertReactorClean(clock);
  });

  test('timeoutFunc can be overridden to do something else on timeout', () => {
    const clock = new Clock();
    const timedOut: string[] = [];
    class Polite extends TimeoutFactory {
      override wrapProtocol(wrapped: IProtocol): TimeoutProtocol {
        const proto = super.wrapProtocol(wrapped, addr);
        proto.timeoutFunc = () => {
          proto.write(Buffer.from('bye'));
          timedOut.push('bye');
        };
        return proto;
      }
    }
    const factory = new Polite(new SimpleFactory(), { timeoutPeriod: 1, clock });
    const proto = factory.buildProtocol(addr);
    assert.ok(proto !== null);
    const transport = new StringTransport();
    proto.makeConnection(transport);
    clock.advance(1);
    assert.deepEqual(timedOut, ['bye']);
    assert.equal(transport.value().toString(), 'bye');
    assert.equal(transport.disconnecting, false);
  });
});

describe('TimeoutFactory', () => {
  test('times out a connection on which nothing is read or written', () => {
    const clock = new Clock();
    const { wrapped } = connectTimeout(clock, 3);
    // Almost 3 seconds.
    clock.pump([0.0, 0.5, 1.0, 1.0, 0.4]);
    assert.equal(wrapped.disconnected, false);
    // Now past them.
    clock.pump([0.0, 0.2]);
    assert.equal(wrapped.disconnected, true);
  });

  test('writing resets the countdown', () => {
    const clock = new Clock();
    const { proto, wrapped } = connectTimeout(clock, 3);
    clock.pump([0.0, 0.5, 1.0]);
    assert.equal(wrapped.disconnected, false);

    // proto is the real protocol's transport: this is the write it makes.
    proto.write(Buffer.from('bytes bytes bytes'));
    clock.pump([0.0, 1.0, 1.0]);
    assert.equal(wrapped.disconnected, false);

    proto.writeSequence(Array.from({ length: 3 }, () => Buffer.from('bytes')));
    clock.pump([0.0, 1.0, 1.0]);
    assert.equal(wrapped.disconnected, false);

    clock.pump([0.0, 2.0]);
    assert.equal(wrapped.disconnected, true);
  });

  test('receiving resets the countdown', () => {
    const clock = new Clock();
    const { proto, wrapped } = connectTimeout(clock, 3);
    clock.pump([0.0, 1.0, 0.5]);
    assert.equal(wrapped.disconnected, false);

    proto.dataReceived(Buffer.from('bytes bytes bytes'));
    clock.pump([0.0, 1.0, 1.0]);
    assert.equal(wrapped.disconnected, false);

    clock.pump([0.0, 1.0, 1.0]);
    assert.equal(wrapped.disconnected, true);
  });

  for (const size of CHUNK_SIZES) {
    test(`passes every byte on and resets on each chunk when fed ${size}-byte chunks`, () => {
      const clock = new Clock();
      const { proto, wrapped, transport } = connectTimeout(clock, 3);
      const payload = Buffer.from('a few bytes, slowly');
      clock.advance(2.5);
      deliverInChunks(proto, payload, size);
      assert.deepEqual(wrapped.buffer, payload);
      clock.advance(2.9);
      assert.equal(wrapped.disconnected, false);
      transport.loseConnection();
      assertReactorClean(clock);
    });
  }

  test('cancels the timeout when the connection is lost', () => {
    const clock = new Clock();
    const { transport, wrapped } = connectTimeout(clock, 3);
    transport.loseConnection();
    assert.equal(wrapped.disconnected, true);
    assertReactorClean(clock);
  });

  test('throws a TypeError without a clock, rather than timing out on real time', () => {
    const noClock = { timeoutPeriod: 5 } as TimeoutFactoryOptions;
    assert.throws(() => new TimeoutFactory(new SimpleFactory(), noClock), {
      name: 'TypeError',
      message: /^TimeoutFactory needs a clock option.*got undefined/,
    });
  });

  test('times out by 30 minutes by default', () => {
    const clock = new Clock();
    const factory = new TimeoutFactory(new SimpleFactory(), { clock });
    assert.equal(factory.timeoutPeriod, 1800);
    const proto = factory.buildProtocol(addr);
    assert.ok(proto !== null);
    proto.makeConnection(new StringTransportWithDisconnection({ protocol: proto }));
    clock.advance(1799.9);
    assert.equal((proto.wrappedProtocol as SimpleProtocol).disconnected, false);
    clock.advance(0.1);
    assert.equal((proto.wrappedProtocol as SimpleProtocol).disconnected, true);
  });

  test('closes an idle connection in a simulated network, after what it wrote is sent', () => {
    const clock = new MemoryReactorClock();
    const factory = new TimeoutFactory(new SimpleFactory(), { timeoutPeriod: 5, clock });
    factory.noisy = false;
    const [client, server, pump] = connectedServerAndClient(factory, AccumulatingProtocol, {
      clock,
    });
    client.transport.write(Buffer.from('hi'));
    pump.flush();
    clock.advance(4);
    (server as TimeoutProtocol).write(Buffer.from('pong'));
    pump.flush();
    clock.advance(4.9);
    pump.flush();
    assert.equal(client.closed, false);
    clock.advance(0.1);
    pump.flush();
    assert.equal(client.closed, true);
    assert.equal(client.data.toString(), 'pong');
    assertReactorClean(clock);
  });
});

/** A protocol with an idle timeout, by composition, that records timing out. */
class TimeoutTester extends Protocol {
  readonly timeout: TimeoutMixin;
  timedOut = false;

  constructor(clock: Clock) {
    super();
    this.timeout = new TimeoutMixin(this, { clock, timeOut: 3 });
  }

  override connectionMade(): void {
    this.timeout.setTimeout(this.timeout.timeOut);
  }

  override dataReceived(_data: Uint8Array): void {
    this.timeout.resetTimeout();
  }

  override connectionLost(_reason: Failure): void {
    this.timeout.setTimeout(null);
  }

  timeoutConnection(): void {
    this.timedOut = true;
  }
}

describe('TimeoutMixin', () => {
  test('schedules its timeout on the clock it is given', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.timeout.setTimeout(10);
    assert.equal(clock.getDelayedCalls().length, 1);
    proto.timeout.setTimeout(null);
  });

  test('throws a TypeError without a clock, rather than timing out on real time', () => {
    const noClock = { onTimeout: () => {} } as TimeoutMixinOptions;
    assert.throws(() => new TimeoutMixin(undefined, noClock), {
      name: 'TypeError',
      message: /^TimeoutMixin needs a clock option.*got undefined/,
    });
    const noOptions = TimeoutMixin as unknown as new (owner?: TimeoutOwner) => TimeoutMixin;
    assert.throws(() => new noOptions(), TypeError);
  });

  test('times out after the period in timeOut', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.makeConnection(new StringTransport());
    clock.pump([0, 0.5, 1.0, 1.0]);
    assert.equal(proto.timedOut, false);
    clock.pump([0, 1.0]);
    assert.equal(proto.timedOut, true);
  });

  test('receiving data delays the timeout', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.makeConnection(new StringTransport());
    clock.pump([0, 0.5, 1.0, 1.0]);
    assert.equal(proto.timedOut, false);
    proto.dataReceived(Buffer.from('hello there'));
    clock.pump([0, 1.0, 1.0, 0.5]);
    assert.equal(proto.timedOut, false);
    clock.pump([0, 1.0]);
    assert.equal(proto.timedOut, true);
  });

  test('setting a new period replaces the previous one', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.timeout.timeOut = null;
    proto.makeConnection(new StringTransport());

    proto.timeout.setTimeout(1);
    assert.equal(proto.timeout.timeOut, 1);
    clock.pump([0, 0.9]);
    assert.equal(proto.timedOut, false);
    clock.pump([0, 0.2]);
    assert.equal(proto.timedOut, true);
  });

  test('setTimeout(null) cancels the timeout', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.timeout.timeOut = 5;
    proto.makeConnection(new StringTransport());
    proto.timeout.setTimeout(null);
    assert.equal(proto.timeout.timeOut, null);
    clock.pump([0, 5, 5, 5]);
    assert.equal(proto.timedOut, false);
    assertReactorClean(clock);
  });

  test("setTimeout(undefined), Python's None, cancels the timeout as null does", () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.timeout.timeOut = 5;
    proto.makeConnection(new StringTransport());
    assert.equal(proto.timeout.setTimeout(undefined), 5);
    assert.equal(proto.timeout.timeOut, null);
    clock.pump([0, 5, 5, 5]);
    assert.equal(proto.timedOut, false);
    assertReactorClean(clock);
  });

  test('setTimeout returns the previous period', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.timeout.timeOut = 5;
    assert.equal(proto.timeout.setTimeout(10), 5);
    assert.equal(proto.timeout.setTimeout(null), 10);
    assert.equal(proto.timeout.setTimeout(1), null);
    assert.equal(proto.timeout.timeOut, 1);
    proto.timeout.setTimeout(null);
    assertReactorClean(clock);
  });

  test('setTimeout(null) cleans up a timeout cancelled from elsewhere', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.timeout.setTimeout(3);
    // Cancelled from outside, as at reactor shutdown.
    clock.getDelayedCalls()[0]?.cancel();
    assert.notEqual(proto.timeout.timeOut, null);
    proto.timeout.setTimeout(null);
    assert.equal(proto.timeout.timeOut, null);
    assert.equal(proto.timeout.timeoutCall, null);
  });

  test('a new period after an outside cancellation starts a new timeout', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.timeout.setTimeout(3);
    proto.timeout.timeoutCall?.cancel();
    proto.timeout.setTimeout(2);
    clock.advance(2);
    assert.equal(proto.timedOut, true);
  });

  test('resetTimeout does nothing without a timeout, or once it has fired', () => {
    const clock = new Clock();
    const proto = new TimeoutTester(clock);
    proto.timeout.resetTimeout();
    assert.equal(clock.getDelayedCalls().length, 0);
    proto.timeout.setTimeout(1);
    clock.advance(1);
    assert.equal(proto.timedOut, true);
    proto.timeout.resetTimeout();
    assertReactorClean(clock);
  });

  test('rejects a negative or NaN period', () => {
    const mixin = new TimeoutMixin(undefined, { clock: new Clock(), onTimeout: () => {} });
    assert.throws(() => mixin.setTimeout(-1), RangeError);
    assert.throws(() => mixin.setTimeout(Number.NaN), RangeError);
    assert.equal(mixin.timeOut, null);
  });

  test("closes the owner's transport by default", () => {
    const clock = new Clock();
    class Plain extends Protocol {
      readonly timeout = new TimeoutMixin(this, { clock });
      override connectionMade(): void {
        this.timeout.setTimeout(2);
      }
    }
    const proto = new Plain();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    clock.advance(2);
    assert.equal(transport.disconnecting, true);
  });

  test('calls the onTimeout option instead of anything else', () => {
    const clock = new Clock();
    const calls: string[] = [];
    class WithCallback extends Protocol {
      readonly timeout = new TimeoutMixin(this, { clock, onTimeout: () => calls.push('option') });
      timeoutConnection(): void {
        calls.push('method');
      }
    }
    const proto = new WithCallback();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    proto.timeout.setTimeout(1);
    clock.advance(1);
    assert.deepEqual(calls, ['option']);
    assert.equal(transport.disconnecting, false);
  });

  test('works with no owner when given onTimeout', () => {
    const clock = new Clock();
    let fired = 0;
    const mixin = new TimeoutMixin(undefined, { clock, onTimeout: () => fired++ });
    mixin.setTimeout(0.5);
    clock.advance(0.5);
    assert.equal(fired, 1);
    assert.equal(mixin.timeoutCall, null);
  });

  test("an owner's timeoutConnection that calls back into the mixin gets the default", () => {
    const clock = new Clock();
    const calls: string[] = [];
    class Delegating extends Protocol {
      readonly timeout = new TimeoutMixin(this, { clock });
      timeoutConnection(): void {
        calls.push('owner');
        this.timeout.timeoutConnection();
      }
    }
    const proto = new Delegating();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    proto.timeout.setTimeout(1);
    clock.advance(1);
    assert.deepEqual(calls, ['owner']);
    assert.equal(transport.disconnecting, true);
  });

  test('can be subclassed with its own timeoutConnection', () => {
    const clock = new Clock();
    class Counting extends TimeoutMixin {
      count = 0;
      override timeoutConnection(): void {
        this.count++;
      }
    }
    const mixin = new Counting(undefined, { clock });
    mixin.setTimeout(1);
    clock.advance(1);
    assert.equal(mixin.count, 1);
  });
});
