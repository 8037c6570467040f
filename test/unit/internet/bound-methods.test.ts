// Twisted's bound-method habits, run with the doubles: a method passed on
// without its object (`clock.callLater(1, d.callback, 9)`,
// `new LoopingCall(clock, this.sendLine, 'PING')`) does what it does when
// called on the object. Each test would fail with a TypeError ("Cannot read
// private member") if the method were not bound.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import {
  CancelledError,
  Deferred,
  DeferredLock,
  DeferredQueue,
  DeferredSemaphore,
  type Failure,
  FirstError,
  gatherResults,
  succeed,
} from 'torsion/defer';
import { ClientFactory, Factory, Protocol } from 'torsion/protocol';
import {
  Int32StringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringReceiver,
} from 'torsion/protocols/basic';
import { NodeReactor, ReactorNotRunning } from 'torsion/reactor';
import { Clock, LoopingCall } from 'torsion/task';
import {
  failureResultOf,
  MemoryReactor,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from 'torsion/testing';

describe('Deferred: callback, errback and cancel passed on', () => {
  test('clock.callLater(1, d.callback, 9) fires d with 9 a second later', () => {
    const clock = new Clock();
    const d = new Deferred<number>();
    clock.callLater(1, d.callback, 9);
    clock.advance(1);
    assert.equal(successResultOf(d), 9);
  });

  test('e.addCallback(f.callback) hands e’s result to f', () => {
    const e = new Deferred<string>();
    const f = new Deferred<string>();
    e.addCallback(f.callback);
    e.callback('chained');
    assert.equal(successResultOf(f), 'chained');
  });

  test('e.addErrback(f.errback) hands e’s failure to f', () => {
    const e = new Deferred<string>();
    const f = new Deferred<string>();
    e.addErrback(f.errback);
    e.errback(new RangeError('boom'));
    assert.ok(failureResultOf(f, RangeError).value instanceof RangeError);
  });

  test('clock.callLater(5, d.cancel) cancels d', () => {
    const clock = new Clock();
    const d = new Deferred<number>();
    clock.callLater(5, d.cancel);
    clock.advance(5);
    failureResultOf(d, CancelledError);
  });

  test('DeferredList and gatherResults: cancel passed on (their own cancel, bound too)', () => {
    const clock = new Clock();
    const inputs = [new Deferred<number>(), new Deferred<number>()];
    const gathered = gatherResults(inputs);
    clock.callLater(1, gathered.cancel);
    clock.advance(1);
    for (const input of inputs) failureResultOf(input, CancelledError);
    failureResultOf(gathered, FirstError);
  });

  test('a bound callback read from one Deferred fires that one, not another', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const fireA = a.callback;
    const fireB = b.callback;
    fireB(2);
    fireA(1);
    assert.deepEqual([successResultOf(a), successResultOf(b)], [1, 2]);
  });

  test('stays a Deferred to instanceof, toString and inspect, with no own callback property', () => {
    const d = new Deferred<number>();
    d.callback(3);
    assert.ok(d instanceof Deferred);
    assert.match(String(d), /^<Deferred #\d+ current result: 3>$/);
    assert.equal(inspect(d), String(d));
    assert.equal(Object.hasOwn(d, 'callback'), false);
    assert.equal(typeof Deferred.prototype.callback, 'function');
  });

  test('assigning d.callback gives that Deferred its own function, as for a plain method', () => {
    const d = new Deferred<number>();
    const seen: number[] = [];
    d.callback = (n) => {
      seen.push(n as number);
    };
    d.callback(4);
    assert.deepEqual(seen, [4]);
    assert.equal(d.called, false);
    assert.equal(new Deferred<number>().callback === d.callback, false);
  });
});

describe('DeferredLock, DeferredSemaphore, DeferredQueue: their methods passed on', () => {
  test('d.addBoth(lock.release) releases the lock; acquire and run work unbound', () => {
    const lock = new DeferredLock();
    const { acquire, run } = lock;
    successResultOf(acquire());
    const d = new Deferred<void>();
    d.addBoth(lock.release);
    d.callback();
    assert.equal(lock.locked, false);
    assert.equal(successResultOf(run((n: number) => n + 1, 1)), 2);
  });

  test('semaphore.release and semaphore.run unbound', () => {
    const semaphore = new DeferredSemaphore(1);
    const { acquire, release, run } = semaphore;
    successResultOf(acquire());
    release();
    assert.equal(semaphore.tokens, 1);
    assert.equal(successResultOf(run(() => 'ran')), 'ran');
  });

  test('d.addCallback(queue.put) puts the result; queue.get unbound', () => {
    const queue = new DeferredQueue<string>();
    const { get } = queue;
    const next = get();
    succeed('item').addCallback(queue.put);
    assert.equal(successResultOf(next), 'item');
  });
});

describe('reactors: every method passed on', () => {
  test('clock.callLater(…) works unbound, and so do seconds and advance', () => {
    const clock = new Clock();
    const { callLater, advance, seconds } = clock;
    const seen: number[] = [];
    callLater(2, (n: number) => seen.push(n), 7);
    advance(2);
    assert.deepEqual(seen, [7]);
    assert.equal(seconds(), 2);
  });

  test('call.cancel passed on cancels the timed call', () => {
    const clock = new Clock();
    const call = clock.callLater(3, () => assert.fail('cancelled call ran'));
    const d = new Deferred<void>();
    d.addCallback(call.cancel);
    d.callback();
    assert.equal(call.active(), false);
    clock.advance(3);
  });

  test('MemoryReactor: callWhenRunning(reactor.crash) crashes it when it runs', async () => {
    const reactor = new MemoryReactor();
    reactor.callWhenRunning(reactor.crash);
    assert.equal(reactor.hasCrashed, false);
    await reactor.run();
    assert.equal(reactor.hasCrashed, true);
  });

  test('MemoryReactorClock: callLater(4, reactor.crash) and an unbound advance', () => {
    const reactor = new MemoryReactorClock();
    reactor.callLater(4, reactor.crash);
    const { advance } = reactor;
    advance(3);
    assert.equal(reactor.hasCrashed, false);
    advance(1);
    assert.equal(reactor.hasCrashed, true);
  });

  test('NodeReactor: an unbound stop runs on its reactor (not running, so it refuses)', () => {
    const reactor = new NodeReactor();
    const { stop, seconds } = reactor;
    assert.throws(stop, ReactorNotRunning);
    assert.equal(typeof seconds(), 'number');
  });

  test('MemoryReactorClock: port.stopListening and connector.disconnect through callLater', () => {
    const reactor = new MemoryReactorClock();
    const port = reactor.listenTCP(8080, Factory.forProtocol(Protocol));
    const connector = reactor.connectTCP('example.com', 80, new ClientFactory());
    reactor.callLater(1, port.stopListening);
    reactor.callLater(1, connector.disconnect);
    reactor.advance(1);
    assert.equal(port.stoppedListening, true);
    assert.equal(
      connector.getDestination() !== undefined && reactor.connectors[0]?.disconnected,
      true,
    );
  });

  test('reactors keep their inspect output free of the bound copies', () => {
    assert.doesNotMatch(inspect(new MemoryReactor()), /bound|callWhenRunning/);
    assert.doesNotMatch(inspect(new Clock()), /bound|callLater/);
  });
});

describe('transports: write, writeSequence, loseConnection, abortConnection passed on', () => {
  test('d.addCallback(transport.write) writes the result', () => {
    const transport = new StringTransport();
    const d = new Deferred<Uint8Array>();
    d.addCallback(transport.write);
    d.callback(Buffer.from('hello'));
    assert.equal(transport.value().toString(), 'hello');
  });

  test('writeSequence and loseConnection through callLater', () => {
    const clock = new Clock();
    const transport = new StringTransport();
    clock.callLater(1, transport.writeSequence, [Buffer.from('a'), Buffer.from('b')]);
    clock.callLater(2, transport.loseConnection);
    clock.advance(1);
    assert.equal(transport.value().toString(), 'ab');
    assert.equal(transport.disconnecting, false);
    clock.advance(1);
    assert.equal(transport.disconnecting, true);
  });

  test('abortConnection through addBoth', () => {
    const transport = new StringTransport();
    const d = new Deferred<void>();
    d.addBoth(transport.abortConnection);
    d.callback();
    assert.equal(transport.disconnecting, true);
  });
});

describe('framing protocols: the send methods passed on', () => {
  test('new LoopingCall(clock, this.sendLine, "PING") sends PING each interval', () => {
    class Heartbeat extends LineReceiver {
      loop: LoopingCall<[string]> | undefined;
      override connectionMade(): void {
        const loop = new LoopingCall(this.clock, this.sendLine, 'PING');
        loop.start(10);
        this.loop = loop;
      }
      constructor(readonly clock: Clock) {
        super();
      }
    }
    const clock = new Clock();
    const proto = new Heartbeat(clock);
    const transport = new StringTransport();
    proto.makeConnection(transport);
    clock.advance(10);
    assert.equal(transport.value().toString(), 'PING\r\nPING\r\n');
    proto.loop?.stop();
  });

  test('a subclass that overrides sendLine has its override bound', () => {
    class Shouting extends LineOnlyReceiver {
      override sendLine(line: string): void {
        super.sendLine(line.toUpperCase());
      }
    }
    const proto = new Shouting();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    const d = new Deferred<string>();
    d.addCallback(proto.sendLine);
    d.callback('quiet');
    assert.equal(transport.value().toString(), 'QUIET\r\n');
    assert.ok(proto instanceof LineOnlyReceiver);
    assert.doesNotMatch(inspect(proto), /sendLine/);
  });

  test('sendString of NetstringReceiver and Int32StringReceiver through callLater', () => {
    const clock = new Clock();
    const netstring = new NetstringReceiver();
    const int32 = new Int32StringReceiver();
    const t1 = new StringTransport();
    const t2 = new StringTransport();
    netstring.makeConnection(t1);
    int32.makeConnection(t2);
    clock.callLater(1, netstring.sendString, 'abc');
    clock.callLater(1, int32.sendString, 'abc');
    clock.advance(1);
    assert.equal(t1.value().toString(), '3:abc,');
    assert.deepEqual([...t2.value()], [0, 0, 0, 3, 97, 98, 99]);
  });
});

describe('LoopingCall: stop passed on', () => {
  test('clock.callLater(10, loop.stop) ends the loop and fires its Deferred', () => {
    const clock = new Clock();
    let count = 0;
    const loop = new LoopingCall(clock, () => {
      count++;
    });
    const done = loop.start(1);
    clock.callLater(3.5, loop.stop);
    clock.pump([1, 1, 1, 1, 1]);
    assert.equal(count, 4);
    assert.equal(successResultOf(done), loop);
  });

  test('a failure passed to an unbound errback still reaches the chain', () => {
    const d = new Deferred<number>();
    const seen: Failure[] = [];
    d.addErrback((f) => {
      seen.push(f);
    });
    const { errback } = d;
    errback(new Error('late'));
    assert.equal(seen.length, 1);
  });
});
