// Type tests of Twisted's bound-method habits, checked by tsc during the
// build. The methods Torsion binds (the reactors', Deferred's
// callback/errback/cancel, the transports' write/loseConnection/…, the
// framing protocols' send methods, LoopingCall's stop, a timed call's cancel)
// compile where a function is expected. A method that needs its object is
// declared with a `this` parameter, and every parameter that Torsion calls
// without an object is typed `this: void`, so passing such a method on does
// not compile: each `@ts-expect-error` marks one (if it compiled, the build
// would fail on the unused directive). The `@ts-expect-error` lines sit in
// functions that never run; the runtime assertions run the habits that
// compile.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred, maybeDeferred, succeed } from 'torsion/defer';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IDelayedCall, IReactorCore, IReactorTime } from 'torsion/reactor';
import { Clock, Cooperator, deferLater, LoopingCall } from 'torsion/task';
import { MemoryReactorClock, StringTransport, successResultOf } from 'torsion/testing';

/** A user's class whose method says that it needs its object. */
class Counter {
  count = 0;
  tick(this: Counter): void {
    this.count++;
  }
  /** A scheduler for a Cooperator, that needs its object too. */
  schedule(this: Counter, step: () => void): IDelayedCall {
    this.count++;
    return new Clock().callLater(0, step);
  }
}

describe('bound methods compile where a function is expected', () => {
  test('reactor, Deferred, transport, protocol and LoopingCall methods', () => {
    const reactor = new MemoryReactorClock();
    const d = new Deferred<number>();
    const e = new Deferred<number>();
    const f = new Deferred<number>();
    reactor.callLater(1, d.callback, 9);
    reactor.callLater(1, reactor.crash);
    e.addCallback(f.callback);
    e.addErrback(f.errback);
    reactor.callLater(2, e.cancel);
    const transport = new StringTransport();
    const proto = new LineReceiver();
    proto.makeConnection(transport);
    const loop = new LoopingCall(reactor, proto.sendLine, 'PING');
    loop.start(1, false);
    reactor.callLater(1.5, loop.stop);
    const other = new StringTransport();
    succeed(Buffer.from('!')).addCallback(other.write).addCallback(other.loseConnection);
    const call = reactor.callLater(5, () => undefined);
    succeed(null).addBoth(call.cancel);
    reactor.advance(1);
    e.callback(3);
    reactor.advance(1);
    assert.equal(successResultOf(d), 9);
    assert.equal(successResultOf(f), 3);
    assert.equal(reactor.hasCrashed, true);
    assert.equal(transport.value().toString(), 'PING\r\n');
    assert.equal(other.value().toString(), '!');
    assert.equal(other.disconnecting, true);
    assert.equal(call.active(), false);
  });

  test('a bound method of the user’s own, or an arrow function', () => {
    const clock = new Clock();
    const counter = new Counter();
    new LoopingCall(clock, counter.tick.bind(counter)).start(1);
    new LoopingCall(clock, () => counter.tick()).start(1);
    clock.advance(1);
    assert.equal(counter.count, 4);
  });
});

// Never called: these lines only have to (not) compile.
export function unboundReferencesDoNotCompile(
  clock: IReactorTime,
  core: IReactorCore,
  d: Deferred<number>,
  counter: Counter,
): void {
  // @ts-expect-error pause needs its Deferred: use () => d.pause()
  clock.callLater(1, d.pause);
  // @ts-expect-error unpause needs its Deferred: use () => d.unpause()
  clock.callLater(1, d.unpause);
  // @ts-expect-error addErrback needs its Deferred
  clock.callLater(1, d.addErrback, () => 0);
  // @ts-expect-error a method declared with `this` cannot be passed to LoopingCall
  new LoopingCall(clock, counter.tick);
  // @ts-expect-error nor to callLater
  clock.callLater(1, counter.tick);
  // @ts-expect-error nor to callWhenRunning
  core.callWhenRunning(counter.tick);
  // @ts-expect-error nor to addSystemEventTrigger
  core.addSystemEventTrigger('before', 'shutdown', counter.tick);
  // @ts-expect-error nor to deferLater
  deferLater(clock, 1, counter.tick);
  // @ts-expect-error nor as a Cooperator's scheduler
  new Cooperator({ scheduler: counter.schedule });
  new Cooperator({ scheduler: (step) => counter.schedule(step) });
  // @ts-expect-error nor to maybeDeferred
  maybeDeferred(counter.tick);
  // @ts-expect-error nor as a callback
  succeed(1).addBoth(counter.tick);
  // @ts-expect-error a function that uses `this` is not a callback either
  succeed(1).addCallback(function (this: Counter, n: number) {
    return this.count + n;
  });
}
