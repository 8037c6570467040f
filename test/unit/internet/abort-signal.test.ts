// The `{ signal }` option wherever a user waits: a client endpoint's
// connect (every kind, HostnameEndpoint included, and connectProtocol) and
// deferLater. Aborting cancels exactly as cancel() does, with the same
// errors; an already-aborted signal cancels at once; the abort listener is
// removed when the Deferred fires, so a long-lived signal does not collect
// listeners. With the doubles only: MemoryReactorClock, Clock, a fake resolver.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { CancelledError, Deferred, succeed } from 'torsion/defer';
import {
  clientFromString,
  connectProtocol,
  HostnameEndpoint,
  type IStreamClientEndpoint,
  SSL4ClientEndpoint,
  TCP4ClientEndpoint,
  TCP6ClientEndpoint,
  UNIXClientEndpoint,
} from 'torsion/endpoints';
import {
  ConnectingCancelledError,
  Factory,
  HostnameAddress,
  type IPAddress,
  IPv4Address,
  Protocol,
} from 'torsion/protocol';
import { Clock, deferLater } from 'torsion/task';
import {
  assertNoResult,
  connectableEndpoint,
  failureResultOf,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from 'torsion/testing';

function listeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

const endpoints: Array<[string, (reactor: MemoryReactorClock) => IStreamClientEndpoint]> = [
  ['TCP4ClientEndpoint', (r) => new TCP4ClientEndpoint(r, '10.0.0.2', 80)],
  ['TCP6ClientEndpoint', (r) => new TCP6ClientEndpoint(r, '::2', 80)],
  ['UNIXClientEndpoint', (r) => new UNIXClientEndpoint(r, '/tmp/x.sock')],
  ['SSL4ClientEndpoint', (r) => new SSL4ClientEndpoint(r, '10.0.0.2', 443, {})],
  ['clientFromString', (r) => clientFromString(r, 'tcp:host=10.0.0.2:port=80')],
  [
    'HostnameEndpoint',
    (r) =>
      new HostnameEndpoint(r, 'example.com', 80, {
        resolver: { resolveHostName: () => succeed([new IPv4Address('TCP', '10.0.0.2', 0)]) },
      }),
  ],
];

describe('endpoint.connect(factory, { signal })', () => {
  for (const [name, make] of endpoints) {
    test(`${name}: aborting cancels the attempt with ConnectingCancelledError and stops connecting`, () => {
      const reactor = new MemoryReactorClock();
      const controller = new AbortController();
      const d = make(reactor).connect(Factory.forProtocol(Protocol), {
        signal: controller.signal,
      });
      reactor.advance(0);
      assertNoResult(d);
      assert.equal(listeners(controller.signal), 1);
      controller.abort();
      failureResultOf(d, ConnectingCancelledError);
      assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
      assert.equal(listeners(controller.signal), 0);
    });

    test(`${name}: an already-aborted signal cancels at once`, () => {
      const reactor = new MemoryReactorClock();
      const d = make(reactor).connect(Factory.forProtocol(Protocol), {
        signal: AbortSignal.abort(),
      });
      failureResultOf(d, ConnectingCancelledError);
    });
  }

  test('the error is the one cancel() gives: it names the destination', () => {
    const reactor = new MemoryReactorClock();
    const controller = new AbortController();
    const lookup = new Deferred<IPAddress[]>();
    const endpoint = new HostnameEndpoint(reactor, 'slow.example.com', 80, {
      resolver: { resolveHostName: () => lookup },
    });
    const d = endpoint.connect(new Factory(), { signal: controller.signal });
    controller.abort();
    const error = failureResultOf(d, ConnectingCancelledError).value as ConnectingCancelledError;
    assert.ok(new HostnameAddress('slow.example.com', 80).equals(error.address));
    // The lookup was abandoned (cancelled), as by cancel().
    assert.equal(lookup.called, true);
  });

  test('a connection made removes the listener, and a later abort changes nothing', () => {
    const reactor = new MemoryReactorClock();
    const controller = new AbortController();
    const d = new TCP4ClientEndpoint(reactor, '10.0.0.2', 80).connect(
      Factory.forProtocol(Protocol),
      { signal: controller.signal },
    );
    const factory = reactor.tcpClients[0]?.[2];
    const protocol = factory?.buildProtocol(new IPv4Address('TCP', '10.0.0.2', 80));
    protocol?.makeConnection(new StringTransport());
    assert.ok(successResultOf(d) instanceof Protocol);
    assert.equal(listeners(controller.signal), 0);
    controller.abort();
    assert.equal(reactor.connectors[0]?.stoppedConnecting, false);
  });

  test('one long-lived signal over many attempts keeps no listener', () => {
    const reactor = new MemoryReactorClock();
    const controller = new AbortController();
    const endpoint = new TCP4ClientEndpoint(reactor, '10.0.0.2', 80);
    for (let i = 0; i < 20; i++) {
      const d = endpoint.connect(new Factory(), { signal: controller.signal });
      d.cancel();
      failureResultOf(d, ConnectingCancelledError);
    }
    assert.equal(listeners(controller.signal), 0);
  });

  test('connectProtocol and the connectable test endpoint take the signal too', () => {
    const reactor = new MemoryReactorClock();
    const controller = new AbortController();
    const d = connectProtocol(new TCP4ClientEndpoint(reactor, '10.0.0.2', 80), new Protocol(), {
      signal: controller.signal,
    });
    const [endpoint] = connectableEndpoint();
    const e = endpoint.connect(new Factory(), { signal: controller.signal });
    controller.abort();
    failureResultOf(d, ConnectingCancelledError);
    failureResultOf(e, CancelledError);
  });
});

describe('deferLater(clock, delay, { signal }, callable, ...args)', () => {
  test('aborting before the delay cancels the call, which never runs, with CancelledError', () => {
    const clock = new Clock();
    const controller = new AbortController();
    const calls: string[] = [];
    const d = deferLater(
      clock,
      5,
      { signal: controller.signal },
      (s: string) => calls.push(s),
      'x',
    );
    clock.advance(4);
    controller.abort();
    failureResultOf(d, CancelledError);
    assert.deepEqual(clock.getDelayedCalls(), []);
    clock.advance(10);
    assert.deepEqual(calls, []);
    assert.equal(listeners(controller.signal), 0);
  });

  test('without a callable, it fires with undefined after the delay and lets go of the signal', () => {
    const clock = new Clock();
    const controller = new AbortController();
    const d = deferLater(clock, 1, { signal: controller.signal });
    assert.equal(listeners(controller.signal), 1);
    clock.advance(1);
    assert.equal(successResultOf(d), undefined);
    assert.equal(listeners(controller.signal), 0);
  });

  test('the callable runs with its arguments when the signal is not aborted', () => {
    const clock = new Clock();
    const controller = new AbortController();
    const d = deferLater(
      clock,
      2,
      { signal: controller.signal },
      (a: number, b: number) => a + b,
      1,
      2,
    );
    clock.advance(2);
    assert.equal(successResultOf(d), 3);
    controller.abort();
    assert.equal(successResultOf(d), undefined);
  });

  test('aborting while the callable’s Deferred is pending cancels that Deferred', () => {
    const clock = new Clock();
    const controller = new AbortController();
    let innerCancelled = false;
    const inner = new Deferred<number>(() => {
      innerCancelled = true;
    });
    const d = deferLater(clock, 1, { signal: controller.signal }, () => inner);
    clock.advance(1);
    assertNoResult(d);
    controller.abort();
    assert.equal(innerCancelled, true);
    failureResultOf(d, CancelledError);
  });

  test('an already-aborted signal cancels at once, leaving no delayed call', () => {
    const clock = new Clock();
    const d = deferLater(clock, 1, { signal: AbortSignal.abort() }, () => 1);
    failureResultOf(d, CancelledError);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('options without a signal change nothing', () => {
    const clock = new Clock();
    const d = deferLater(clock, 1, {}, () => 'done');
    clock.advance(1);
    assert.equal(successResultOf(d), 'done');
  });
});
