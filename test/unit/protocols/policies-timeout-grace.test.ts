// The abort after a timeout's loseConnection: TimeoutFactory and
// TimeoutMixin close a timed-out connection with loseConnection(), which
// waits for everything buffered to be sent (forever, when the peer has
// stopped reading); `abortGrace` seconds later a connection still open is
// aborted. Deterministic: a Clock and StringTransports.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Failure } from 'torsion/defer';
import { ConnectionDone, IPv4Address, Protocol, ServerFactory } from 'torsion/protocol';
import {
  TimeoutFactory,
  type TimeoutFactoryOptions,
  TimeoutMixin,
  type TimeoutMixinOptions,
  TimeoutProtocol,
} from 'torsion/protocols/policies';
import { Clock } from 'torsion/task';
import {
  assertReactorClean,
  StringTransport,
  StringTransportWithDisconnection,
} from 'torsion/testing';

const addr = new IPv4Address('TCP', '127.0.0.1', 12345);

/** Records connectionLost. */
class Lossy extends Protocol {
  lost = 0;
  override connectionLost(_reason: Failure): void {
    this.lost++;
  }
}

class LossyFactory extends ServerFactory {
  override protocol = Lossy;
  override noisy = false;
}

/**
 * A TimeoutFactory connection over a StringTransport, which records
 * loseConnection (`disconnecting`) and abortConnection (`disconnected`)
 * and never closes by itself: a peer that has stopped reading.
 */
function stalled(
  clock: Clock,
  options: Partial<TimeoutFactoryOptions> = {},
): { proto: TimeoutProtocol; transport: StringTransport; wrapped: Lossy } {
  const factory = new TimeoutFactory(new LossyFactory(), { timeoutPeriod: 10, clock, ...options });
  const proto = factory.buildProtocol(addr);
  assert.ok(proto instanceof TimeoutProtocol);
  const transport = new StringTransport();
  proto.makeConnection(transport);
  return { proto, transport, wrapped: proto.wrappedProtocol as Lossy };
}

describe('TimeoutFactory abortGrace', () => {
  test('defaults to 5 seconds', () => {
    const factory = new TimeoutFactory(new LossyFactory(), { clock: new Clock() });
    assert.equal(factory.abortGrace, 5);
  });

  test('timeout: loseConnection; still connected after the grace: abortConnection; nothing left scheduled', () => {
    const clock = new Clock();
    const { transport } = stalled(clock);
    clock.advance(10);
    assert.equal(transport.disconnecting, true, 'loseConnection on timeout');
    assert.equal(transport.disconnected, false, 'not aborted yet');
    clock.advance(4.9);
    assert.equal(transport.disconnected, false, 'not aborted within the grace');
    clock.advance(0.1);
    assert.equal(transport.disconnected, true, 'aborted after the grace');
    assertReactorClean(clock);
  });

  test('a connection that closes within the grace is not aborted', () => {
    const clock = new Clock();
    const { proto, transport, wrapped } = stalled(clock);
    clock.advance(10);
    assert.equal(transport.disconnecting, true);
    clock.advance(3);
    // The buffer finally drained and the transport closed.
    proto.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(wrapped.lost, 1);
    assertReactorClean(clock);
    clock.advance(10);
    assert.equal(transport.disconnected, false, 'never aborted');
  });

  test('a transport that closes within loseConnection leaves nothing scheduled', () => {
    const clock = new Clock();
    const factory = new TimeoutFactory(new LossyFactory(), { timeoutPeriod: 10, clock });
    const proto = factory.buildProtocol(addr);
    assert.ok(proto !== null);
    const transport = new StringTransportWithDisconnection({ protocol: proto });
    proto.makeConnection(transport);
    clock.advance(10);
    assert.equal((proto.wrappedProtocol as Lossy).lost, 1);
    assert.equal(transport.disconnected, false, 'closed, not aborted');
    assertReactorClean(clock);
  });

  test('takes its value from the option', () => {
    const clock = new Clock();
    const { transport } = stalled(clock, { abortGrace: 0.5 });
    clock.advance(10);
    clock.advance(0.25);
    assert.equal(transport.disconnected, false);
    clock.advance(0.25);
    assert.equal(transport.disconnected, true);
    assertReactorClean(clock);
  });

  test('0 aborts on the next clock step after the timeout', () => {
    const clock = new Clock();
    const { transport } = stalled(clock, { abortGrace: 0 });
    clock.advance(10);
    assert.equal(transport.disconnecting, true);
    clock.advance(0);
    assert.equal(transport.disconnected, true);
    assertReactorClean(clock);
  });

  test('null never aborts (Twisted) and schedules nothing', () => {
    const clock = new Clock();
    const { transport } = stalled(clock, { abortGrace: null });
    clock.advance(10);
    assert.equal(transport.disconnecting, true);
    assertReactorClean(clock);
    assert.equal(transport.disconnected, false);
  });

  test('cancelTimeout during the grace cancels the abort', () => {
    const clock = new Clock();
    const { proto, transport } = stalled(clock);
    clock.advance(10);
    proto.cancelTimeout();
    assertReactorClean(clock);
    clock.advance(10);
    assert.equal(transport.disconnected, false);
  });

  test('a timeoutFunc overridden to do something else schedules no abort', () => {
    const clock = new Clock();
    class Warn extends TimeoutProtocol {
      warned = 0;
      override timeoutFunc(): void {
        this.warned++;
      }
    }
    class WarnFactory extends TimeoutFactory {
      override wrapProtocol(wrapped: Lossy): TimeoutProtocol {
        return new Warn(this, wrapped, this.timeoutPeriod);
      }
    }
    const factory = new WarnFactory(new LossyFactory(), { timeoutPeriod: 10, clock });
    const proto = factory.buildProtocol(addr) as Warn;
    const transport = new StringTransport();
    proto.makeConnection(transport);
    clock.advance(10);
    assert.equal(proto.warned, 1);
    assertReactorClean(clock);
    assert.equal(transport.disconnecting, false);
  });

  test('rejects a negative or NaN grace', () => {
    for (const abortGrace of [-1, Number.NaN]) {
      assert.throws(
        () => new TimeoutFactory(new LossyFactory(), { clock: new Clock(), abortGrace }),
        RangeError,
      );
    }
  });
});

/** A protocol that holds a TimeoutMixin the documented way. */
class Holder extends Protocol {
  readonly timeout: TimeoutMixin;

  constructor(options: Omit<TimeoutMixinOptions, 'clock'> & { clock: Clock }) {
    super();
    this.timeout = new TimeoutMixin(this, options);
  }

  override connectionMade(): void {
    this.timeout.setTimeout(this.timeout.timeOut);
  }

  override connectionLost(_reason: Failure): void {
    this.timeout.setTimeout(null);
  }
}

describe('TimeoutMixin abortGrace', () => {
  test('defaults to 5 seconds', () => {
    assert.equal(new TimeoutMixin(undefined, { clock: new Clock() }).abortGrace, 5);
  });

  test('default action: loseConnection; still connected after the grace: abortConnection; nothing left scheduled', () => {
    const clock = new Clock();
    const proto = new Holder({ clock, timeOut: 10 });
    const transport = new StringTransport();
    proto.makeConnection(transport);
    clock.advance(10);
    assert.equal(transport.disconnecting, true);
    clock.advance(4.9);
    assert.equal(transport.disconnected, false);
    clock.advance(0.1);
    assert.equal(transport.disconnected, true);
    assertReactorClean(clock);
  });

  test('a connection that closes within the grace (connectionLost calls setTimeout(null)) is not aborted', () => {
    const clock = new Clock();
    const proto = new Holder({ clock, timeOut: 10 });
    const transport = new StringTransport();
    proto.makeConnection(transport);
    clock.advance(12);
    proto.connectionLost(new Failure(new ConnectionDone()));
    assertReactorClean(clock);
    clock.advance(10);
    assert.equal(transport.disconnected, false);
  });

  test('a transport that closes within loseConnection leaves nothing scheduled', () => {
    const clock = new Clock();
    const proto = new Holder({ clock, timeOut: 10 });
    const transport = new StringTransportWithDisconnection({ protocol: proto });
    proto.makeConnection(transport);
    clock.advance(10);
    assert.equal(transport.connected, false);
    assert.equal(transport.disconnected, false);
    assertReactorClean(clock);
  });

  test('null never aborts and schedules nothing', () => {
    const clock = new Clock();
    const proto = new Holder({ clock, timeOut: 10, abortGrace: null });
    const transport = new StringTransport();
    proto.makeConnection(transport);
    clock.advance(10);
    assert.equal(transport.disconnecting, true);
    assertReactorClean(clock);
  });

  test('an onTimeout option, or the owner’s timeoutConnection, replaces the default action: no abort', () => {
    const clock = new Clock();
    let called = 0;
    const proto = new Holder({ clock, timeOut: 10, onTimeout: () => called++ });
    const transport = new StringTransport();
    proto.makeConnection(transport);
    clock.advance(10);
    assert.equal(called, 1);
    assertReactorClean(clock);

    const owner = {
      transport: new StringTransport(),
      timeouts: 0,
      timeoutConnection(): void {
        this.timeouts++;
      },
    };
    const mixin = new TimeoutMixin(owner, { clock, timeOut: 3 });
    mixin.setTimeout(3);
    clock.advance(3);
    assert.equal(owner.timeouts, 1);
    assert.equal(owner.transport.disconnecting, false);
    assertReactorClean(clock);
  });

  test('a transport with no abortConnection is closed and nothing is scheduled', () => {
    const clock = new Clock();
    let closed = 0;
    const mixin = new TimeoutMixin({ transport: { loseConnection: () => closed++ } }, { clock });
    mixin.setTimeout(1);
    clock.advance(1);
    assert.equal(closed, 1);
    assertReactorClean(clock);
  });

  test('rejects a negative or NaN grace', () => {
    for (const abortGrace of [-0.1, Number.NaN]) {
      assert.throws(
        () => new TimeoutMixin(undefined, { clock: new Clock(), abortGrace }),
        RangeError,
      );
    }
  });
});
