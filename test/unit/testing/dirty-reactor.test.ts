// assertReactorClean, describeDirtyReactor and cleanReactor: failing a test
// that leaves delayed calls, listening ports or connection attempts behind
// (after trial's DirtyReactorAggregateError).

import assert, { AssertionError } from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientFactory, Factory } from 'torsion/protocol';
import { TimeoutMixin } from 'torsion/protocols/policies';
import { Clock } from 'torsion/task';
import {
  assertReactorClean,
  cleanReactor,
  describeDirtyReactor,
  MemoryReactor,
  MemoryReactorClock,
} from 'torsion/testing';

describe('assertReactorClean', () => {
  test('passes for a fresh clock and a fresh reactor', () => {
    assert.doesNotThrow(() => assertReactorClean(new Clock()));
    assert.doesNotThrow(() => assertReactorClean(new MemoryReactorClock()));
  });

  test('passes once delayed calls have run or been cancelled', () => {
    const clock = new Clock();
    clock.callLater(1, () => undefined);
    clock.callLater(5, () => undefined).cancel();
    clock.advance(1);
    assert.doesNotThrow(() => assertReactorClean(clock));
  });

  test('fails with an AssertionError naming each pending delayed call', () => {
    const clock = new Clock();
    clock.callLater(1, function reconnect() {});
    clock.callLater(2, function timeout() {});
    assert.throws(
      () => assertReactorClean(clock),
      (error: unknown) =>
        error instanceof AssertionError &&
        /2 left/.test(error.message) &&
        /pending delayed call: <DelayedCall reconnect at 1s/.test(error.message) &&
        /pending delayed call: <DelayedCall timeout at 2s/.test(error.message),
    );
  });

  test('names what scheduled each leftover call, through a Clock or a MemoryReactorClock', () => {
    const reactor = new MemoryReactorClock();
    const timeout = new TimeoutMixin({ timeoutConnection: () => undefined }, { clock: reactor });
    timeout.setTimeout(5);
    function scheduleReconnect(): void {
      reactor.callLater(2, function reconnect() {});
    }
    scheduleReconnect();
    const [first, second] = describeDirtyReactor(reactor);
    assert.match(first ?? '', /<DelayedCall reconnect at 2s>, scheduled by scheduleReconnect \(/);
    assert.match(
      second ?? '',
      /<DelayedCall .* at 5s>, scheduled by .*TimeoutMixin\.setTimeout \(/,
    );
    cleanReactor(reactor);
  });

  test('fails for a port still listening, and passes once it stopped', () => {
    const reactor = new MemoryReactor();
    const port = reactor.listenTCP(8080, new Factory());
    assert.throws(
      () => assertReactorClean(reactor, { clean: false }),
      /listening port: <FakePort TCP/,
    );
    port.stopListening();
    assert.doesNotThrow(() => assertReactorClean(reactor));
  });

  test('fails for a connection attempt neither stopped nor disconnected', () => {
    const reactor = new MemoryReactor();
    const connector = reactor.connectTCP('example.com', 80, new ClientFactory());
    assert.throws(
      () => assertReactorClean(reactor, { clean: false }),
      /connection attempt in progress: <FakeConnector/,
    );
    connector.disconnect();
    assert.doesNotThrow(() => assertReactorClean(reactor));
  });

  test('cleans the reactor before throwing, unless told not to', () => {
    const reactor = new MemoryReactorClock();
    reactor.callLater(1, () => undefined);
    const port = reactor.listenUNIX('/tmp/s', new Factory());
    const connector = reactor.connectUNIX('/tmp/s', new ClientFactory());
    assert.throws(() => assertReactorClean(reactor, { clean: false }), AssertionError);
    assert.equal(describeDirtyReactor(reactor).length, 3);
    assert.throws(() => assertReactorClean(reactor), AssertionError);
    assert.deepEqual(describeDirtyReactor(reactor), []);
    assert.equal(port.listening, false);
    assert.equal(connector.stoppedConnecting, true);
  });

  test('works from t.after on a reactor the test cleaned up', (t) => {
    const reactor = new MemoryReactorClock();
    t.after(() => assertReactorClean(reactor));
    const call = reactor.callLater(10, () => undefined);
    const port = reactor.listenTCP(0, new Factory());
    call.cancel();
    port.stopListening();
    assert.equal(reactor.getDelayedCalls().length, 0);
  });
});

describe('describeDirtyReactor', () => {
  test('lists nothing for a clean reactor', () => {
    assert.deepEqual(describeDirtyReactor(new MemoryReactor()), []);
  });

  test('lists delayed calls, listening ports and connection attempts, one line each', () => {
    const reactor = new MemoryReactorClock();
    reactor.callLater(3, () => undefined);
    reactor.listenTCP(80, new Factory());
    reactor.connectTCP('example.com', 80, new ClientFactory());
    const lines = describeDirtyReactor(reactor);
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^pending delayed call: /);
    assert.match(lines[1] ?? '', /^listening port: /);
    assert.match(lines[2] ?? '', /^connection attempt in progress: /);
  });
});

describe('cleanReactor', () => {
  test('cancels delayed calls, stops ports and stops connection attempts', () => {
    const reactor = new MemoryReactorClock();
    const ran: boolean[] = [];
    reactor.callLater(1, () => ran.push(true));
    const port = reactor.listenTCP(80, new Factory());
    const connector = reactor.connectTCP('example.com', 80, new ClientFactory());
    cleanReactor(reactor);
    reactor.advance(5);
    assert.deepEqual(ran, []);
    assert.equal(port.stoppedListening, true);
    assert.equal(connector.state, 'stopped');
  });
});
