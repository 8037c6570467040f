// Protocols and factories (ported from Twisted's
// twisted/internet/test/test_protocol.py and, for ReconnectingClientFactory,
// twisted/test/test_factories.py; plus DatagramProtocol and ProcessProtocol).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Failure } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import {
  ClientCreator,
  ClientFactory,
  ConnectionDone,
  ConnectionRefusedError,
  connectionDone,
  DatagramProtocol,
  Factory,
  IPv4Address,
  NoProtocol,
  NotConnectingError,
  ProcessProtocol,
  Protocol,
  ReconnectingClientFactory,
  type ReconnectingClientFactoryOptions,
  ServerFactory,
} from 'torsion/protocol';
import type { IConnector, IProcessTransport, IProtocol } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import {
  assertReactorClean,
  ConnectionCompleter,
  FakeConnector,
  FakeDatagramTransport,
  failureResultOf,
  MemoryReactor,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from 'torsion/testing';

const anyAddress = new IPv4Address('TCP', '127.0.0.1', 12345);

describe('ClientCreator', () => {
  class SomeProtocol extends Protocol {}

  /** Runs `check`, which connects and returns the factory handed to the reactor. */
  function basicConnectTest(
    check: (reactor: MemoryReactorClock, cc: ClientCreator<SomeProtocol>) => IProtocolFactoryLike,
  ): void {
    const reactor = new MemoryReactorClock();
    const cc = new ClientCreator(reactor, SomeProtocol);
    const factory = check(reactor, cc);
    assert.ok(factory.buildProtocol(anyAddress) instanceof SomeProtocol);
  }
  type IProtocolFactoryLike = { buildProtocol(addr: IPv4Address): IProtocol | null };

  test('connectTCP passes host, port, timeout and bindAddress to the reactor', () => {
    basicConnectTest((reactor, cc) => {
      cc.connectTCP('example.com', 1234, { timeout: 4321, bindAddress: ['1.2.3.4', 9876] });
      const [host, port, factory, timeout, bindAddress] = reactor.tcpClients.pop() ?? assert.fail();
      assert.equal(host, 'example.com');
      assert.equal(port, 1234);
      assert.equal(timeout, 4321);
      assert.deepEqual(bindAddress, ['1.2.3.4', 9876]);
      return factory;
    });
  });

  test('connectUNIX passes the path, timeout and checkPID to the reactor', () => {
    basicConnectTest((reactor, cc) => {
      cc.connectUNIX('/foo/bar', { timeout: 123, checkPID: true });
      const [address, factory, timeout, checkPID] = reactor.unixClients.pop() ?? assert.fail();
      assert.equal(address, '/foo/bar');
      assert.equal(timeout, 123);
      assert.equal(checkPID, true);
      return factory;
    });
  });

  test('connectSSL passes host, port, context, timeout and bindAddress to the reactor', () => {
    basicConnectTest((reactor, cc) => {
      const expectedContext = { servername: 'example.com' };
      cc.connectSSL('example.com', 1234, expectedContext, {
        timeout: 4321,
        bindAddress: ['4.3.2.1', 5678],
      });
      const [host, port, factory, context, timeout, bindAddress] =
        reactor.sslClients.pop() ?? assert.fail();
      assert.equal(host, 'example.com');
      assert.equal(port, 1234);
      assert.equal(context, expectedContext);
      assert.equal(timeout, 4321);
      assert.deepEqual(bindAddress, ['4.3.2.1', 5678]);
      return factory;
    });
  });

  type Connect = (cc: ClientCreator<Protocol>) => ReturnType<ClientCreator<Protocol>['connectTCP']>;
  const connects: Record<'TCP' | 'UNIX' | 'SSL', Connect> = {
    TCP: (cc) => cc.connectTCP('example.com', 1234),
    UNIX: (cc) => cc.connectUNIX('/foo/bar'),
    SSL: (cc) => cc.connectSSL('example.com', 1234, {}),
  };

  /** The factory of the attempt `kind` just recorded on `reactor`. */
  function lastFactory(reactor: MemoryReactor, kind: 'TCP' | 'UNIX' | 'SSL'): ClientFactory {
    const record =
      kind === 'TCP'
        ? reactor.tcpClients.pop()?.[2]
        : kind === 'UNIX'
          ? reactor.unixClients.pop()?.[1]
          : reactor.sslClients.pop()?.[2];
    assert.ok(record instanceof ClientFactory);
    return record;
  }

  for (const kind of ['TCP', 'UNIX', 'SSL'] as const) {
    test(`cancelling connect${kind} before it connects disconnects the connector`, () => {
      const reactor = new MemoryReactorClock();
      const d = connects[kind](new ClientCreator(reactor, Protocol));
      const connector = reactor.connectors.pop() ?? assert.fail();
      assert.equal(connector.disconnected, false);
      d.cancel();
      assert.equal(connector.disconnected, true);
      failureResultOf(d, CancelledError);
    });

    test(`cancelling connect${kind} once connected, before it fires, cancels the pending call`, () => {
      const reactor = new MemoryReactorClock();
      const d = connects[kind](new ClientCreator(reactor, Protocol));
      const protocol = lastFactory(reactor, kind).buildProtocol(anyAddress);
      protocol?.makeConnection(new StringTransport());
      const connector = reactor.connectors.pop() ?? assert.fail();
      assert.equal(reactor.getDelayedCalls().length, 1);
      d.cancel();
      assert.deepEqual(reactor.getDelayedCalls(), []);
      assert.equal(connector.disconnected, true);
      failureResultOf(d, CancelledError);
    });

    test(`cancelling connect${kind} after it failed, before it fires, cancels the pending call`, () => {
      const reactor = new MemoryReactorClock();
      const d = connects[kind](new ClientCreator(reactor, Protocol));
      const factory = lastFactory(reactor, kind);
      const connector = reactor.connectors.pop() ?? assert.fail();
      factory.clientConnectionFailed(connector, new Failure(new Error('Simulated failure')));
      assert.equal(reactor.getDelayedCalls().length, 1);
      d.cancel();
      assert.deepEqual(reactor.getDelayedCalls(), []);
      failureResultOf(d, CancelledError);
    });
  }

  test('fires with the connected protocol on the next turn, after connectionMade', (t) => {
    const reactor = new MemoryReactorClock();
    t.after(() => assertReactorClean(reactor));
    class Greeter extends Protocol {
      greeted = false;
      override connectionMade(): void {
        this.greeted = true;
      }
    }
    const d = new ClientCreator(reactor, Greeter).connectTCP('example.com', 80);
    const connector = reactor.connectors[0] ?? assert.fail();
    const protocol = lastFactory(reactor, 'TCP').buildProtocol(anyAddress);
    protocol?.makeConnection(new StringTransport());
    reactor.advance(0);
    const result = successResultOf(d);
    assert.equal(result, protocol);
    assert.equal(result.greeted, true);
    connector.disconnect();
  });

  test('fails with the reason the connection failed', () => {
    const reactor = new MemoryReactorClock();
    const d = new ClientCreator(reactor, Protocol).connectTCP('example.com', 80);
    new ConnectionCompleter(reactor).failOnce();
    reactor.advance(0);
    failureResultOf(d, ConnectionRefusedError);
  });

  test('passes the extra constructor arguments to the protocol', () => {
    class Named extends Protocol {
      constructor(readonly name: string) {
        super();
      }
    }
    const reactor = new MemoryReactorClock();
    new ClientCreator(reactor, Named, 'alice').connectTCP('example.com', 80);
    const protocol = lastFactory(reactor, 'TCP').buildProtocol(anyAddress);
    assert.ok(protocol instanceof Named);
    assert.equal(protocol.name, 'alice');
  });

  test('throws a TypeError when the reactor cannot make that kind of connection', () => {
    assert.throws(() => new ClientCreator(new Clock(), Protocol).connectUNIX('/s'), TypeError);
  });
});

describe('Protocol', () => {
  test('logPrefix is the class name', () => {
    class SomeThing extends Protocol {}
    assert.equal(new SomeThing().logPrefix(), 'SomeThing');
  });

  test('makeConnection sets the transport, then calls connectionMade', () => {
    const seen: unknown[] = [];
    class SomeProtocol extends Protocol<StringTransport> {
      override connectionMade(): void {
        seen.push(this.transport);
      }
    }
    const transport = new StringTransport();
    const protocol = new SomeProtocol();
    assert.equal(protocol.connected, false);
    protocol.makeConnection(transport);
    assert.deepEqual(seen, [transport]);
    assert.equal(protocol.connected, true);
  });

  test('by default ignores data and the loss of the connection, and has no factory', () => {
    const protocol = new Protocol();
    protocol.makeConnection(new StringTransport());
    protocol.dataReceived(Buffer.from('ignored'));
    protocol.connectionLost(new Failure(new ConnectionDone()));
    protocol.connectionLost();
    assert.equal(protocol.factory, undefined);
    assert.ok(connectionDone.check(ConnectionDone));
  });
});

describe('Factory', () => {
  test('logPrefix is the class name', () => {
    class SomeKindOfFactory extends Factory {}
    assert.equal(new SomeKindOfFactory().logPrefix(), 'SomeKindOfFactory');
  });

  test('buildProtocol instantiates protocol and attaches the factory to it', () => {
    class SomeProtocol extends Protocol {}
    const f = new Factory<SomeProtocol>();
    f.protocol = SomeProtocol;
    const protocol = f.buildProtocol(anyAddress);
    assert.ok(protocol instanceof SomeProtocol);
    assert.equal(protocol.factory, f);
  });

  test('buildProtocol throws when no protocol is set', () => {
    assert.throws(() => new Factory().buildProtocol(anyAddress), /has no protocol/);
  });

  test('forProtocol makes a factory of the class, passing on the extra arguments', () => {
    class ArgTakingFactory extends Factory<Protocol> {
      readonly args: unknown[];
      constructor(...args: unknown[]) {
        super();
        this.args = args;
      }
    }
    const factory = ArgTakingFactory.forProtocol(Protocol, 1, 2, { foo: 12 });
    assert.ok(factory instanceof ArgTakingFactory);
    assert.equal(factory.protocol, Protocol);
    assert.deepEqual(factory.args, [1, 2, { foo: 12 }]);
  });

  test('a ServerFactory is a Factory', () => {
    assert.ok(ServerFactory.forProtocol(Protocol) instanceof Factory);
  });

  test('a factory may refuse a connection by returning null: the client gets NoProtocol', () => {
    class Refusing extends ClientFactory {
      readonly failures: Failure[] = [];
      override buildProtocol(): null {
        return null;
      }
      override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
        this.failures.push(reason);
      }
    }
    const reactor = new MemoryReactor();
    reactor.listenTCP(80, Factory.forProtocol(Protocol));
    const factory = new Refusing();
    reactor.connectTCP('127.0.0.1', 80, factory);
    assert.equal(new ConnectionCompleter(reactor).succeedOnce(), undefined);
    assert.ok(factory.failures[0]?.check(NoProtocol));
  });
});

describe('Factory.doStart and doStop', () => {
  class Counting extends Factory {
    starts = 0;
    stops = 0;
    override noisy = false;
    override startFactory(): void {
      this.starts++;
    }
    override stopFactory(): void {
      this.stops++;
    }
  }

  test('startFactory runs when the first port starts, stopFactory when the last stops', () => {
    const f = new Counting();
    f.doStart();
    f.doStart();
    assert.deepEqual([f.numPorts, f.starts, f.stops], [2, 1, 0]);
    f.doStop();
    assert.deepEqual([f.numPorts, f.starts, f.stops], [1, 1, 0]);
    f.doStop();
    assert.deepEqual([f.numPorts, f.starts, f.stops], [0, 1, 1]);
  });

  test('doStop with no port using the factory does nothing', () => {
    const f = new Counting();
    f.doStop();
    assert.deepEqual([f.numPorts, f.stops], [0, 0]);
  });

  test('doStart logs that it starts the factory, at info', () => {
    const logs = captureLogs();
    try {
      new Factory().doStart();
    } finally {
      logs.stop();
    }
    const event = logs.events[0];
    assert.equal(event?.log_level, 'info');
    assert.equal(event?.log_format, 'Starting factory {factory}');
    assert.equal(event?.factory, 'Factory');
  });

  test('doStop logs that it stops the factory, at info', () => {
    class MyFactory extends Factory {
      override numPorts = 1;
    }
    const logs = captureLogs();
    try {
      new MyFactory().doStop();
    } finally {
      logs.stop();
    }
    const event = logs.events[0];
    assert.equal(event?.log_level, 'info');
    assert.equal(event?.log_format, 'Stopping factory {factory}');
    assert.equal(event?.factory, 'MyFactory');
  });

  test('a factory that is not noisy logs nothing', () => {
    const logs = captureLogs();
    try {
      const f = new Counting();
      f.doStart();
      f.doStop();
    } finally {
      logs.stop();
    }
    assert.deepEqual(logs.events, []);
  });
});

/** A seeded uniform random number generator (a 32-bit LCG), for reproducible jitter. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The delays a factory schedules for `failures` failures in a row. */
function delaysOf(factory: ReconnectingClientFactory, clock: Clock, failures: number): number[] {
  const connector = new MemoryReactor().connectTCP('example.com', 80, factory);
  const delays: number[] = [];
  for (let i = 0; i < failures; i++) {
    factory.clientConnectionFailed(connector, new Failure(new ConnectionRefusedError()));
    const calls = clock.getDelayedCalls();
    if (calls.length === 0) break;
    const call = calls[0] ?? assert.fail();
    delays.push(call.getTime() - clock.seconds());
    clock.advance(call.getTime() - clock.seconds());
  }
  return delays;
}

describe('ReconnectingClientFactory', () => {
  test('retries after delays growing by factor, capped at maxDelay', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({
      clock,
      initialDelay: 1,
      factor: 2,
      maxDelay: 10,
      jitter: 0,
    });
    factory.noisy = false;
    assert.deepEqual(delaysOf(factory, clock, 5), [2, 4, 8, 10, 10]);
  });

  test('each retry calls connect on the connector', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({ clock, jitter: 0 });
    factory.noisy = false;
    const connector = new MemoryReactor().connectTCP('example.com', 80, factory);
    factory.clientConnectionLost(connector, new Failure(new ConnectionDone()));
    assert.equal(connector.connectCalls, 0);
    clock.advance(factory.delay);
    assert.equal(connector.connectCalls, 1);
    assert.equal(factory.connector, connector);
  });

  test('jitter varies the delays, reproducibly with a seeded random', () => {
    const run = (): number[] => {
      const clock = new Clock();
      const factory = new ReconnectingClientFactory({
        clock,
        initialDelay: 1,
        factor: 2,
        maxDelay: 1000,
        jitter: 0.1,
        random: seeded(42),
      });
      factory.noisy = false;
      return delaysOf(factory, clock, 6);
    };
    const first = run();
    assert.deepEqual(run(), first);
    const plain = [2, 4, 8, 16, 32, 64];
    assert.ok(first.some((delay, i) => delay !== plain[i]));
    // Each jittered delay stays near the one before it times the factor.
    let expected = 1;
    for (const delay of first) {
      expected *= 2;
      assert.ok(
        Math.abs(delay - expected) < expected * 0.1 * 6,
        `${delay} is far from ${expected}`,
      );
      expected = delay;
    }
  });

  test('gives up after maxRetries failures in a row', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({ clock, maxRetries: 3, jitter: 0 });
    factory.noisy = false;
    assert.equal(delaysOf(factory, clock, 10).length, 3);
    assert.equal(factory.retries, 4);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('uses the clock it is given for retries', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({ clock });
    factory.noisy = false;
    factory.clientConnectionLost(
      new FakeConnector(anyAddress, factory),
      new Failure(new ConnectionDone()),
    );
    assert.equal(clock.getDelayedCalls().length, 1);
    factory.stopTrying();
  });

  test('retries on a clock that replaced the first one, as Twisted callers set it', () => {
    const first = new Clock();
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({ clock: first });
    factory.noisy = false;
    factory.clock = clock;
    factory.clientConnectionLost(
      new FakeConnector(anyAddress, factory),
      new Failure(new ConnectionDone()),
    );
    assert.equal(clock.getDelayedCalls().length, 1);
    assert.deepEqual(first.getDelayedCalls(), []);
    factory.stopTrying();
  });

  test('throws a TypeError without a clock, rather than retrying on real time', () => {
    const noOptions = ReconnectingClientFactory as unknown as new () => ReconnectingClientFactory;
    assert.throws(() => new noOptions(), {
      name: 'TypeError',
      message: /^ReconnectingClientFactory needs a clock option.*got undefined/,
    });
    assert.throws(
      () => new ReconnectingClientFactory({ maxRetries: 3 } as ReconnectingClientFactoryOptions),
      TypeError,
    );
  });

  test('stopTrying while connected means a lost connection is not retried', () => {
    class NoConnectConnector extends FakeConnector {
      override stopConnecting(): void {
        throw new Error("Shouldn't be called, we're connected.");
      }
      override connect(): void {
        throw new Error("Shouldn't be reconnecting.");
      }
    }
    const factory = new ReconnectingClientFactory({ clock: new Clock() });
    factory.noisy = false;
    factory.protocol = Protocol;
    factory.buildProtocol(anyAddress);
    factory.stopTrying();
    factory.clientConnectionLost(
      new NoConnectConnector(anyAddress, factory),
      new Failure(new ConnectionDone()),
    );
    assert.equal(factory.continueTrying, false);
  });

  test('stopTrying stops the attempt in progress without scheduling a retry', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({ clock });
    factory.noisy = false;
    class FactoryAwareConnector extends FakeConnector {
      attemptedRetry = false;
      override stopConnecting(): void {
        super.stopConnecting();
        factory.clientConnectionFailed(this, new Failure(new Error('stopped')));
      }
      override connect(): void {
        this.attemptedRetry = true;
      }
    }
    const connector = new FactoryAwareConnector(anyAddress, factory);
    factory.connector = connector;
    factory.stopTrying();
    assert.equal(connector.attemptedRetry, false);
    assert.equal(connector.stoppedConnecting, true);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('stopTrying cancels a scheduled retry, and tolerates a connector that is not connecting', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({ clock });
    factory.noisy = false;
    class IdleConnector extends FakeConnector {
      override stopConnecting(): void {
        throw new NotConnectingError();
      }
    }
    const connector = new IdleConnector(anyAddress, factory);
    factory.clientConnectionFailed(connector, new Failure(new ConnectionRefusedError()));
    assert.equal(clock.getDelayedCalls().length, 1);
    factory.stopTrying();
    assert.deepEqual(clock.getDelayedCalls(), []);
    assert.equal(factory.continueTrying, false);
    factory.clientConnectionFailed(connector, new Failure(new ConnectionRefusedError()));
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('resetDelay restores the initial delay and the failure count', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({ clock, initialDelay: 2, factor: 3, jitter: 0 });
    factory.noisy = false;
    delaysOf(factory, clock, 3);
    assert.equal(factory.retries, 3);
    assert.equal(factory.delay, 54);
    factory.resetDelay();
    assert.equal(factory.retries, 0);
    assert.equal(factory.delay, 2);
    assert.equal(factory.continueTrying, true);
  });

  test('retry with no connector known throws', () => {
    const factory = new ReconnectingClientFactory({ clock: new Clock() });
    factory.noisy = false;
    assert.throws(() => factory.retry(), /no connector/);
  });
});

describe('DatagramProtocol', () => {
  class Counting extends DatagramProtocol {
    starts = 0;
    stops = 0;
    override noisy = false;
    override startProtocol(): void {
      this.starts++;
    }
    override stopProtocol(): void {
      this.stops++;
    }
  }

  test('makeConnection sets the transport and starts the protocol', () => {
    const protocol = new Counting();
    const transport = new FakeDatagramTransport();
    protocol.makeConnection(transport);
    assert.equal(protocol.transport, transport);
    assert.deepEqual([protocol.numPorts, protocol.starts], [1, 1]);
  });

  test('startProtocol runs for the first port, stopProtocol when the last one stops', () => {
    const protocol = new Counting();
    protocol.doStart();
    protocol.doStart();
    assert.deepEqual([protocol.numPorts, protocol.starts], [2, 1]);
    protocol.doStop();
    assert.equal(protocol.stops, 0);
    protocol.doStop();
    assert.deepEqual([protocol.numPorts, protocol.stops], [0, 1]);
    protocol.doStop();
    assert.equal(protocol.stops, 1);
  });

  test('doStop forgets the transport', () => {
    const protocol = new Counting();
    protocol.makeConnection(new FakeDatagramTransport());
    protocol.doStop();
    assert.equal(protocol.transport, undefined);
  });

  test('datagrams and refusals are ignored by default, and a protocol can answer', () => {
    class Echo extends DatagramProtocol {
      override noisy = false;
      override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
        this.transport?.write(data, addr);
      }
    }
    const base = new DatagramProtocol();
    base.datagramReceived(Buffer.from('x'), ['10.0.0.1', 1]);
    base.connectionRefused();
    const echo = new Echo();
    const transport = new FakeDatagramTransport();
    echo.makeConnection(transport);
    echo.datagramReceived(Buffer.from('ping'), ['10.0.0.1', 53]);
    assert.deepEqual(transport.written, [[new Uint8Array(Buffer.from('ping')), ['10.0.0.1', 53]]]);
  });
});

describe('ProcessProtocol', () => {
  class Recording extends ProcessProtocol {
    readonly events: string[] = [];
    override connectionMade(): void {
      this.events.push('made');
    }
    override outReceived(data: Uint8Array): void {
      this.events.push(`out:${Buffer.from(data).toString()}`);
    }
    override errReceived(data: Uint8Array): void {
      this.events.push(`err:${Buffer.from(data).toString()}`);
    }
    override inConnectionLost(): void {
      this.events.push('in lost');
    }
    override outConnectionLost(): void {
      this.events.push('out lost');
    }
    override errConnectionLost(): void {
      this.events.push('err lost');
    }
  }

  test('makeConnection sets the transport, then calls connectionMade', () => {
    const protocol = new Recording();
    const transport = {} as IProcessTransport;
    protocol.makeConnection(transport);
    assert.equal(protocol.transport, transport);
    assert.equal(protocol.connected, true);
    assert.deepEqual(protocol.events, ['made']);
  });

  test('childDataReceived sends descriptor 1 to outReceived and 2 to errReceived, others nowhere', () => {
    const protocol = new Recording();
    protocol.childDataReceived(1, Buffer.from('a'));
    protocol.childDataReceived(2, Buffer.from('b'));
    protocol.childDataReceived(3, Buffer.from('c'));
    assert.deepEqual(protocol.events, ['out:a', 'err:b']);
  });

  test('childConnectionLost sends descriptors 0, 1 and 2 to their methods, others nowhere', () => {
    const protocol = new Recording();
    for (const fd of [0, 1, 2, 3]) protocol.childConnectionLost(fd);
    assert.deepEqual(protocol.events, ['in lost', 'out lost', 'err lost']);
  });

  test('the default handlers accept every event', () => {
    const protocol = new ProcessProtocol();
    protocol.childDataReceived(1, Buffer.from('x'));
    protocol.childConnectionLost(0);
    protocol.processExited(new Failure(new Error('exited')));
    protocol.processEnded(new Failure(new Error('ended')));
    assert.equal(protocol.connected, false);
  });
});
