// MemoryReactor, MemoryReactorClock and RaisingMemoryReactor (ported from
// Twisted's twisted/internet/test/test_testing.py ReactorTests, plus the
// records, the life cycle and the system events).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred, succeed } from 'torsion/defer';
import {
  CannotListenError,
  ClientFactory,
  ConnectionRefusedError,
  DatagramProtocol,
  DNSLookupError,
  Factory,
  IPv4Address,
  IPv6Address,
  UNIXAddress,
} from 'torsion/protocol';
import { type IConnector, ReactorAlreadyRunning } from 'torsion/reactor';
import {
  FakeConnector,
  FakePort,
  failureResultOf,
  MemoryReactor,
  MemoryReactorClock,
  RaisingMemoryReactor,
  successResultOf,
} from 'torsion/testing';

class RecordingClientFactory extends ClientFactory {
  readonly started: IConnector[] = [];
  override startedConnecting(connector: IConnector): void {
    this.started.push(connector);
  }
}

describe('MemoryReactor connect methods', () => {
  test('connectTCP and connectSSL return connectors whose destination is the host and port', () => {
    const reactor = new MemoryReactor();
    for (const connector of [
      reactor.connectTCP('test.example.com', 8321, new ClientFactory()),
      reactor.connectSSL('test.example.com', 8321, new ClientFactory(), {}),
    ]) {
      const address = connector.getDestination();
      assert.ok(address instanceof IPv4Address);
      assert.equal(address.host, 'test.example.com');
      assert.equal(address.port, 8321);
    }
  });

  test('connectUNIX returns a connector whose destination is the path', () => {
    const connector = new MemoryReactor().connectUNIX('/fake/path', new ClientFactory());
    const address = connector.getDestination();
    assert.ok(address instanceof UNIXAddress);
    assert.equal(address.name, '/fake/path');
  });

  test('an IPv6 host gives an IPv6Address destination', () => {
    const connector = new MemoryReactor().connectTCP('::1', 80, new ClientFactory());
    assert.ok(connector.getDestination() instanceof IPv6Address);
  });

  test('connectTCP records host, port, factory, timeout and bindAddress, with defaults', () => {
    const reactor = new MemoryReactor();
    const factory = new ClientFactory();
    reactor.connectTCP('example.com', 1234, factory, {
      timeout: 4321,
      bindAddress: ['1.2.3.4', 9876],
    });
    reactor.connectTCP('example.com', 80, factory);
    assert.deepEqual(reactor.tcpClients, [
      ['example.com', 1234, factory, 4321, ['1.2.3.4', 9876]],
      ['example.com', 80, factory, 30, undefined],
    ]);
  });

  test('connectSSL and connectUNIX record their arguments, with defaults', () => {
    const reactor = new MemoryReactor();
    const factory = new ClientFactory();
    const context = { servername: 'example.com' };
    reactor.connectSSL('example.com', 443, factory, context, { timeout: 5 });
    reactor.connectUNIX('/run/sock', factory, { timeout: 123, checkPID: true });
    reactor.connectUNIX('/run/other', factory);
    assert.deepEqual(reactor.sslClients, [['example.com', 443, factory, context, 5, undefined]]);
    assert.deepEqual(reactor.unixClients, [
      ['/run/sock', factory, 123, true],
      ['/run/other', factory, 30, false],
    ]);
  });

  test("each connect calls the factory's startedConnecting with the connector, kept in connectors", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    const tcp = reactor.connectTCP('example.com', 1, factory);
    const ssl = reactor.connectSSL('example.com', 2, factory, {});
    const unix = reactor.connectUNIX('/s', factory);
    assert.deepEqual(factory.started, [tcp, ssl, unix]);
    assert.deepEqual(reactor.connectors, [tcp, ssl, unix]);
  });

  test('a factory without startedConnecting is accepted', () => {
    const reactor = new MemoryReactor();
    const connector = reactor.connectTCP('example.com', 1, new Factory());
    assert.ok(connector instanceof FakeConnector);
  });
});

describe('FakeConnector', () => {
  test('records stopConnecting, disconnect and connect', () => {
    const connector = new MemoryReactor().connectTCP('example.com', 1, new ClientFactory());
    assert.equal(connector.state, 'connecting');
    assert.equal(connector.stoppedConnecting, false);
    assert.equal(connector.disconnected, false);
    connector.stopConnecting();
    assert.equal(connector.stoppedConnecting, true);
    assert.equal(connector.state, 'stopped');
    connector.disconnect();
    assert.equal(connector.disconnected, true);
    assert.equal(connector.state, 'disconnected');
    connector.connect();
    assert.equal(connector.connectCalls, 1);
    assert.equal(connector.state, 'connecting');
  });

  test('keeps the factory it was given', () => {
    const factory = new ClientFactory();
    assert.equal(new MemoryReactor().connectTCP('h', 1, factory).factory, factory);
  });
});

describe('MemoryReactor listen methods', () => {
  test("listenTCP and listenSSL listen on '0.0.0.0' and the port given by default", () => {
    const reactor = new MemoryReactor();
    for (const port of [
      reactor.listenTCP(8242, new Factory()),
      reactor.listenSSL(8242, new Factory(), {}),
    ]) {
      const address = port.getHost();
      assert.ok(address instanceof IPv4Address);
      assert.equal(address.host, '0.0.0.0');
      assert.equal(address.port, 8242);
    }
  });

  test('listenUNIX listens on the path given', () => {
    const address = new MemoryReactor().listenUNIX('/path/to/socket', new Factory()).getHost();
    assert.ok(address instanceof UNIXAddress);
    assert.equal(address.name, '/path/to/socket');
  });

  test('the interface asked for is the host of the address, IPv6 included', () => {
    const reactor = new MemoryReactor();
    const v4 = reactor.listenTCP(80, new Factory(), { interface: '127.0.0.1' }).getHost();
    const v6 = reactor.listenTCP(80, new Factory(), { interface: '::1' }).getHost();
    assert.ok(v4 instanceof IPv4Address && v4.host === '127.0.0.1');
    assert.ok(v6 instanceof IPv6Address && v6.host === '::1');
  });

  test('port 0 gets a nonzero port from 49152 up, while the record keeps 0', () => {
    const reactor = new MemoryReactor();
    const first = reactor.listenTCP(0, new Factory()).getHost() as IPv4Address;
    const second = reactor.listenSSL(0, new Factory(), {}).getHost() as IPv4Address;
    assert.equal(first.port, 49152);
    assert.equal(second.port, 49153);
    assert.equal(reactor.tcpServers[0]?.[0], 0);
    assert.equal(reactor.sslServers[0]?.[0], 0);
  });

  test('each listen call is recorded with its defaults filled in', () => {
    const reactor = new MemoryReactor();
    const factory = new Factory();
    const context = { key: 'k' };
    const protocol = new DatagramProtocol();
    reactor.listenTCP(80, factory);
    reactor.listenTCP(81, factory, { backlog: 5, interface: '127.0.0.1' });
    reactor.listenSSL(443, factory, context);
    reactor.listenUNIX('/s', factory, { mode: 0o600, wantPID: true });
    reactor.listenUDP(53, protocol, { maxPacketSize: 512 });
    assert.deepEqual(reactor.tcpServers, [
      [80, factory, 511, ''],
      [81, factory, 5, '127.0.0.1'],
    ]);
    assert.deepEqual(reactor.sslServers, [[443, factory, context, 511, '']]);
    assert.deepEqual(reactor.unixServers, [['/s', factory, 511, 0o600, true]]);
    assert.deepEqual(reactor.udpServers, [[53, protocol, '', 512]]);
  });

  test('listenUDP returns a UDP port and does not start the protocol', () => {
    const protocol = new DatagramProtocol();
    const port = new MemoryReactor().listenUDP(53, protocol);
    const address = port.getHost();
    assert.ok(address instanceof IPv4Address);
    assert.equal(address.type, 'UDP');
    assert.equal(protocol.numPorts, 0);
  });

  test('the ports handed out are kept in ports, listening, with their factory', () => {
    const reactor = new MemoryReactor();
    const factory = new Factory();
    const port = reactor.listenTCP(80, factory);
    assert.deepEqual(reactor.ports, [port]);
    assert.ok(port instanceof FakePort);
    assert.equal(port.kind, 'TCP');
    assert.equal(port.factory, factory);
    assert.equal(port.listening, true);
  });

  test('stopListening records that the port stopped, and its Deferred has fired', () => {
    const port = new MemoryReactor().listenTCP(80, new Factory());
    const d = port.stopListening();
    assert.equal(successResultOf(d), undefined);
    assert.equal(port.listening, false);
    assert.equal(port.stoppedListening, true);
    port.startListening();
    assert.equal(port.listening, true);
  });
});

describe('MemoryReactor life cycle', () => {
  test('starts not running, not run, not stopped, not crashed', () => {
    const reactor = new MemoryReactor();
    assert.deepEqual(
      [reactor.running, reactor.hasRun, reactor.hasStopped, reactor.hasCrashed],
      [false, false, false, false],
    );
  });

  test('run calls the callWhenRunning functions in order while running, then stops', async () => {
    const reactor = new MemoryReactor();
    const seen: Array<[string, boolean]> = [];
    reactor.callWhenRunning((name: string) => seen.push([name, reactor.running]), 'first');
    reactor.callWhenRunning((name: string) => seen.push([name, reactor.running]), 'second');
    const result = reactor.run();
    assert.deepEqual(seen, [
      ['first', true],
      ['second', true],
    ]);
    assert.equal(reactor.hasRun, true);
    assert.equal(reactor.running, false);
    assert.equal(reactor.hasStopped, true);
    assert.equal(await result, undefined);
  });

  test('callWhenRunning records the function and its arguments', () => {
    const reactor = new MemoryReactor();
    const f = (_a: number): void => undefined;
    const id = reactor.callWhenRunning(f, 1);
    assert.equal(reactor.whenRunningHooks.length, 1);
    assert.equal(reactor.whenRunningHooks[0], id);
    assert.equal(reactor.whenRunningHooks[0]?.f, f);
    assert.deepEqual(reactor.whenRunningHooks[0]?.args, [1]);
  });

  test('a callWhenRunning function removed with removeSystemEventTrigger is not called', async () => {
    const reactor = new MemoryReactor();
    const seen: string[] = [];
    const id = reactor.callWhenRunning(() => seen.push('removed'));
    reactor.removeSystemEventTrigger(id);
    await reactor.run();
    assert.deepEqual(seen, []);
  });

  test('run throws ReactorAlreadyRunning when called from a running hook', async () => {
    const reactor = new MemoryReactor();
    const errors: unknown[] = [];
    reactor.callWhenRunning(() => {
      try {
        void reactor.run();
      } catch (error) {
        errors.push(error);
      }
    });
    await reactor.run();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ReactorAlreadyRunning);
  });

  test('stop clears running and sets hasStopped, even when not running', () => {
    const reactor = new MemoryReactor();
    reactor.stop();
    assert.equal(reactor.running, false);
    assert.equal(reactor.hasStopped, true);
  });

  test('crash clears running and sets hasCrashed', () => {
    const reactor = new MemoryReactor();
    reactor.running = true;
    reactor.crash();
    assert.equal(reactor.running, false);
    assert.equal(reactor.hasCrashed, true);
  });
});

describe('MemoryReactor system events', () => {
  test('addSystemEventTrigger records triggers by phase and event type', () => {
    const reactor = new MemoryReactor();
    const f = (..._args: string[]): void => undefined;
    reactor.addSystemEventTrigger('before', 'shutdown', f);
    reactor.addSystemEventTrigger('before', 'shutdown', f, 'x');
    reactor.addSystemEventTrigger('after', 'startup', f);
    assert.equal(reactor.triggers.before?.shutdown?.length, 2);
    assert.deepEqual(reactor.triggers.before?.shutdown?.[1]?.args, ['x']);
    assert.equal(reactor.triggers.after?.startup?.[0]?.f, f);
    assert.equal(reactor.triggers.during, undefined);
  });

  test('rejects an unknown phase with a RangeError', () => {
    const reactor = new MemoryReactor();
    assert.throws(
      () => reactor.addSystemEventTrigger('whenever' as 'before', 'shutdown', () => undefined),
      RangeError,
    );
  });

  test('fireSystemEvent runs before, during and after triggers in order, once', () => {
    const reactor = new MemoryReactor();
    const seen: string[] = [];
    reactor.addSystemEventTrigger('after', 'shutdown', () => seen.push('after'));
    reactor.addSystemEventTrigger('during', 'shutdown', () => seen.push('during'));
    reactor.addSystemEventTrigger('before', 'shutdown', () => seen.push('before'));
    reactor.addSystemEventTrigger('before', 'startup', () => seen.push('other event'));
    reactor.fireSystemEvent('shutdown');
    reactor.fireSystemEvent('shutdown');
    assert.deepEqual(seen, ['before', 'during', 'after']);
    assert.equal(reactor.triggers.before?.startup?.length, 1);
  });

  test("fireSystemEvent waits for Deferreds returned by 'before' triggers", () => {
    const reactor = new MemoryReactor();
    const seen: string[] = [];
    const gate = new Deferred<void>();
    reactor.addSystemEventTrigger('before', 'shutdown', () => gate);
    reactor.addSystemEventTrigger('before', 'shutdown', () => succeed(undefined));
    reactor.addSystemEventTrigger('during', 'shutdown', () => seen.push('during'));
    reactor.fireSystemEvent('shutdown');
    assert.deepEqual(seen, []);
    gate.callback(undefined);
    assert.deepEqual(seen, ['during']);
  });

  test('removeSystemEventTrigger removes a trigger, and throws for one already removed', () => {
    const reactor = new MemoryReactor();
    const seen: string[] = [];
    const id = reactor.addSystemEventTrigger('during', 'shutdown', () => seen.push('removed'));
    reactor.removeSystemEventTrigger(id);
    reactor.fireSystemEvent('shutdown');
    assert.deepEqual(seen, []);
    assert.throws(() => reactor.removeSystemEventTrigger(id), /no such during-shutdown trigger/);
  });
});

describe('MemoryReactor.resolve', () => {
  test('resolves an IP address to itself', () => {
    const reactor = new MemoryReactor();
    assert.equal(successResultOf(reactor.resolve('10.1.2.3')), '10.1.2.3');
    assert.equal(successResultOf(reactor.resolve('::1')), '::1');
  });

  test('resolves a name listed in hosts', () => {
    const reactor = new MemoryReactor();
    reactor.hosts.set('example.com', '93.184.216.34');
    assert.equal(successResultOf(reactor.resolve('example.com')), '93.184.216.34');
  });

  test('fails with DNSLookupError for any other name', () => {
    const failure = failureResultOf(new MemoryReactor().resolve('nowhere.invalid'), DNSLookupError);
    assert.equal((failure.value as DNSLookupError).hostname, 'nowhere.invalid');
  });
});

describe('MemoryReactorClock', () => {
  test('is a MemoryReactor whose time moves only when advanced', () => {
    const reactor = new MemoryReactorClock();
    assert.ok(reactor instanceof MemoryReactor);
    const seen: number[] = [];
    reactor.callLater(2, (n: number) => seen.push(n), 7);
    assert.equal(reactor.getDelayedCalls().length, 1);
    reactor.advance(1);
    assert.deepEqual(seen, []);
    reactor.pump([0.5, 0.5]);
    assert.deepEqual(seen, [7]);
    assert.equal(reactor.seconds(), 2);
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test('starts at the time given', () => {
    assert.equal(new MemoryReactorClock(100).seconds(), 100);
  });

  test('still records listen and connect calls', () => {
    const reactor = new MemoryReactorClock();
    reactor.listenTCP(80, new Factory());
    reactor.connectTCP('h', 80, new ClientFactory());
    assert.equal(reactor.tcpServers.length, 1);
    assert.equal(reactor.tcpClients.length, 1);
  });
});

describe('RaisingMemoryReactor', () => {
  test('every listen method throws the listen exception given', () => {
    const error = new Error('no listening today');
    const reactor = new RaisingMemoryReactor({ listenException: error });
    assert.throws(
      () => reactor.listenTCP(80, new Factory()),
      (e) => e === error,
    );
    assert.throws(
      () => reactor.listenSSL(443, new Factory(), {}),
      (e) => e === error,
    );
    assert.throws(
      () => reactor.listenUNIX('/s', new Factory()),
      (e) => e === error,
    );
    assert.throws(
      () => reactor.listenUDP(53, new DatagramProtocol()),
      (e) => e === error,
    );
  });

  test('every connect method throws the connect exception given', () => {
    const error = new Error('no connecting today');
    const reactor = new RaisingMemoryReactor({ connectException: error });
    assert.throws(
      () => reactor.connectTCP('h', 80, new ClientFactory()),
      (e) => e === error,
    );
    assert.throws(
      () => reactor.connectSSL('h', 443, new ClientFactory(), {}),
      (e) => e === error,
    );
    assert.throws(
      () => reactor.connectUNIX('/s', new ClientFactory()),
      (e) => e === error,
    );
  });

  test('throws CannotListenError and ConnectionRefusedError when given nothing', () => {
    const reactor = new RaisingMemoryReactor();
    assert.throws(() => reactor.listenTCP(80, new Factory()), CannotListenError);
    assert.throws(() => reactor.connectTCP('h', 80, new ClientFactory()), ConnectionRefusedError);
  });

  test('a failed connect does not reach the factory', () => {
    const factory = new RecordingClientFactory();
    assert.throws(() => new RaisingMemoryReactor().connectTCP('h', 1, factory));
    assert.deepEqual(factory.started, []);
  });
});
