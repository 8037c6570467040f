// The TCP, UNIX and SSL endpoints on a MemoryReactor: what they ask of the
// reactor, what their Deferreds give, cancellation; the wrapping of a
// client's factory and protocol; connectProtocol.
// (Twisted: twisted/internet/test/test_endpoints.py WrappingFactoryTests,
// ClientEndpointTestCaseMixin, ServerEndpointTestCaseMixin, TCP4EndpointsTests,
// TCP6EndpointsTests, TCP6EndpointNameResolutionTests, SSL4EndpointsTests,
// UNIXEndpointsTests, ConnectProtocolTests.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred, Failure, fail, succeed } from 'torsion/defer';
import {
  connectProtocol,
  type IHostnameResolver,
  type IStreamClientEndpoint,
  type IStreamServerEndpoint,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
} from 'torsion/endpoints';
import {
  CannotListenError,
  ClientFactory,
  ConnectError,
  ConnectingCancelledError,
  DNSLookupError,
  Factory,
  HostnameAddress,
  IPv4Address,
  IPv6Address,
  NoProtocol,
  Protocol,
  UNIXAddress,
  UserError,
} from 'torsion/protocol';
import type {
  IAddress,
  IConnector,
  IHalfCloseableProtocol,
  IProtocol,
  IProtocolFactory,
} from 'torsion/reactor';
import {
  failureResultOf,
  MemoryReactor,
  RaisingMemoryReactor,
  StringTransport,
  successResultOf,
} from 'torsion/testing';

/** Records what happens to it. */
class TestProtocol extends Protocol {
  readonly data: Buffer[] = [];
  readonly lost: Failure[] = [];
  madeCalls = 0;

  override connectionMade(): void {
    this.madeCalls++;
  }

  override dataReceived(data: Uint8Array): void {
    this.data.push(Buffer.from(data));
  }

  override connectionLost(reason: Failure): void {
    this.lost.push(reason);
  }

  override logPrefix(): string {
    return 'A Test Protocol';
  }
}

/** A TestProtocol that handles the two directions closing separately. */
class TestHalfCloseableProtocol extends TestProtocol implements IHalfCloseableProtocol {
  readLost = false;
  writeLost = false;

  readConnectionLost(): void {
    this.readLost = true;
  }

  writeConnectionLost(): void {
    this.writeLost = true;
  }
}

/** A bare IProtocol, with no logPrefix. */
class PlainProtocol implements IProtocol {
  makeConnection(): void {}
  connectionMade(): void {}
  dataReceived(): void {}
  connectionLost(): void {}
}

class TestFactory extends ClientFactory<TestProtocol> {
  override noisy = false;
  override protocol = TestProtocol;
}

const ADDRESS = new IPv4Address('TCP', '127.0.0.1', 5000);

/** Connects through a TCP4ClientEndpoint on a MemoryReactor and gives the wrapping factory. */
function wrapped(factory: IProtocolFactory): {
  d: Deferred<IProtocol>;
  wrapper: IProtocolFactory & {
    clientConnectionFailed(connector: IConnector, reason: Failure): void;
  };
  reactor: MemoryReactor;
} {
  const reactor = new MemoryReactor();
  const d = new TCP4ClientEndpoint(reactor, 'localhost', 80).connect(factory);
  const wrapper = reactor.tcpClients[0]![2] as IProtocolFactory & {
    clientConnectionFailed(connector: IConnector, reason: Failure): void;
  };
  return { d, wrapper, reactor };
}

describe('the factory a client endpoint gives the reactor', () => {
  test('passes doStart and doStop through to the wrapped factory', () => {
    const factory = new ClientFactory();
    const { wrapper } = wrapped(factory);
    wrapper.doStart();
    assert.equal(factory.numPorts, 1);
    factory.numPorts = 3;
    wrapper.doStop();
    assert.equal(factory.numPorts, 2);
  });

  test("fails the connect Deferred with what the wrapped factory's buildProtocol throws", () => {
    class BogusFactory extends ClientFactory {
      override buildProtocol(): IProtocol {
        throw new RangeError('My protocol is poorly defined.');
      }
    }
    const { d, wrapper } = wrapped(new BogusFactory());
    assert.equal(wrapper.buildProtocol(ADDRESS), null);
    const failure = failureResultOf(d, RangeError);
    assert.equal((failure.value as Error).message, 'My protocol is poorly defined.');
  });

  test('refuses the connection and fails with NoProtocol when the wrapped factory builds none', () => {
    class NoneFactory extends ClientFactory {
      override buildProtocol(): null {
        return null;
      }
    }
    const { d, wrapper } = wrapped(new NoneFactory());
    assert.equal(wrapper.buildProtocol(ADDRESS), null);
    failureResultOf(d, NoProtocol);
  });

  test('fails the connect Deferred with the reason given to clientConnectionFailed', () => {
    const { d, wrapper, reactor } = wrapped(new TestFactory());
    const reason = new ConnectError('fail');
    wrapper.clientConnectionFailed(reactor.connectors[0]!, new Failure(reason));
    assert.equal(failureResultOf(d, ConnectError).value, reason);
  });

  test('ignores clientConnectionFailed once the connect Deferred has fired', () => {
    const { d, wrapper, reactor } = wrapped(new TestFactory());
    const protocol = wrapper.buildProtocol(ADDRESS) as IProtocol;
    protocol.makeConnection(new StringTransport());
    wrapper.clientConnectionFailed(reactor.connectors[0]!, new Failure(new ConnectError('late')));
    assert.ok(successResultOf(d) instanceof TestProtocol);
  });
});

describe('the protocol a client endpoint wraps around the real one', () => {
  test("passes the wrapped protocol's log prefix through", () => {
    const { wrapper } = wrapped(new TestFactory());
    const protocol = wrapper.buildProtocol(ADDRESS) as IProtocol & { logPrefix(): string };
    assert.equal(protocol.logPrefix(), 'A Test Protocol');
  });

  test("uses the wrapped protocol's class name when it has no log prefix", () => {
    const { wrapper } = wrapped(Factory.forProtocol(PlainProtocol));
    const protocol = wrapper.buildProtocol(ADDRESS) as IProtocol & { logPrefix(): string };
    assert.equal(protocol.logPrefix(), 'PlainProtocol');
  });

  test('hands the transport to the wrapped protocol and fires after its connectionMade', () => {
    const { d, wrapper } = wrapped(new TestFactory());
    const protocol = wrapper.buildProtocol(ADDRESS) as IProtocol;
    const transport = new StringTransport();
    const seen: number[] = [];
    d.addCallback((p) => {
      seen.push((p as TestProtocol).madeCalls);
      return p;
    });
    assert.deepEqual(seen, []);
    protocol.makeConnection(transport);
    const inner = successResultOf(d) as TestProtocol;
    assert.equal(inner.transport, transport);
    assert.deepEqual(seen, [1]);
  });

  test('passes dataReceived and connectionLost through to the wrapped protocol', () => {
    const { d, wrapper } = wrapped(new TestFactory());
    const protocol = wrapper.buildProtocol(ADDRESS) as IProtocol;
    protocol.makeConnection(new StringTransport());
    const inner = successResultOf(d) as TestProtocol;
    protocol.dataReceived(Buffer.from('foo'));
    protocol.dataReceived(Buffer.from('bar'));
    assert.deepEqual(inner.data, [Buffer.from('foo'), Buffer.from('bar')]);
    const reason = new Failure(new UserError('fail'));
    protocol.connectionLost(reason);
    assert.deepEqual(inner.lost, [reason]);
  });

  test('is half-closeable when the wrapped protocol is, and passes both half-closes through', () => {
    const { d, wrapper } = wrapped(Factory.forProtocol(TestHalfCloseableProtocol));
    const protocol = wrapper.buildProtocol(ADDRESS) as IProtocol & Partial<IHalfCloseableProtocol>;
    assert.equal(typeof protocol.readConnectionLost, 'function');
    assert.equal(typeof protocol.writeConnectionLost, 'function');
    protocol.makeConnection(new StringTransport());
    const inner = successResultOf(d) as TestHalfCloseableProtocol;
    protocol.readConnectionLost?.();
    assert.equal(inner.readLost, true);
    assert.equal(inner.writeLost, false);
    protocol.writeConnectionLost?.();
    assert.equal(inner.writeLost, true);
  });

  test('is not half-closeable when the wrapped protocol is not', () => {
    const { wrapper } = wrapped(new TestFactory());
    const protocol = wrapper.buildProtocol(ADDRESS) as IProtocol & Partial<IHalfCloseableProtocol>;
    assert.equal(protocol.readConnectionLost, undefined);
    assert.equal(protocol.writeConnectionLost, undefined);
  });

  test("fails the connect Deferred with what the wrapped protocol's connectionMade throws, and rethrows it", () => {
    class Exploding extends Protocol {
      override connectionMade(): void {
        throw new RangeError('boom');
      }
    }
    const { d, wrapper } = wrapped(Factory.forProtocol(Exploding));
    const protocol = wrapper.buildProtocol(ADDRESS) as IProtocol;
    assert.throws(() => protocol.makeConnection(new StringTransport()), RangeError);
    failureResultOf(d, RangeError);
  });

  test('closes a connection that completes after the attempt was cancelled, without connecting the protocol', () => {
    const { d, wrapper } = wrapped(new TestFactory());
    const built = wrapper.buildProtocol(ADDRESS) as IProtocol;
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    const transport = new StringTransport();
    built.makeConnection(transport);
    assert.equal(transport.disconnecting, true);
    built.dataReceived(Buffer.from('ignored'));
    built.connectionLost(new Failure(new UserError()));
    // And a connection that arrives later still is refused outright.
    assert.equal(wrapper.buildProtocol(ADDRESS), null);
  });
});

// ---------------------------------------------------------------------------
// The same tests over each kind of endpoint

interface ServerCase {
  readonly name: string;
  /** The endpoint, the record the reactor should hold (factory included) and the port's address. */
  make(
    reactor: MemoryReactor | RaisingMemoryReactor,
    factory: IProtocolFactory,
    nonDefault: boolean,
  ): [IStreamServerEndpoint, unknown[], IAddress];
  records(reactor: MemoryReactor): unknown[][];
}

const SERVER_CONTEXT = { key: 'server key', cert: 'server cert' };
const CLIENT_CONTEXT = { rejectUnauthorized: false };

const SERVER_CASES: ServerCase[] = [
  {
    name: 'TCP4ServerEndpoint',
    make: (reactor, factory, nonDefault) =>
      nonDefault
        ? [
            new TCP4ServerEndpoint(reactor, 0, { backlog: 100, interface: '127.0.0.1' }),
            [0, factory, 100, '127.0.0.1'],
            new IPv4Address('TCP', '127.0.0.1', 49152),
          ]
        : [
            new TCP4ServerEndpoint(reactor, 0),
            [0, factory, 511, ''],
            new IPv4Address('TCP', '0.0.0.0', 49152),
          ],
    records: (reactor) => reactor.tcpServers,
  },
  {
    name: 'TCP6ServerEndpoint',
    make: (reactor, factory, nonDefault) =>
      nonDefault
        ? [
            new TCP6ServerEndpoint(reactor, 0, { backlog: 100, interface: '::1' }),
            [0, factory, 100, '::1'],
            new IPv6Address('TCP', '::1', 49152),
          ]
        : [
            new TCP6ServerEndpoint(reactor, 0),
            [0, factory, 511, '::'],
            new IPv6Address('TCP', '::', 49152),
          ],
    records: (reactor) => reactor.tcpServers,
  },
  {
    name: 'UNIXServerEndpoint',
    make: (reactor, factory, nonDefault) =>
      nonDefault
        ? [
            new UNIXServerEndpoint(reactor, '/tmp/endpoint.sock', {
              backlog: 100,
              mode: 0o600,
              wantPID: true,
            }),
            ['/tmp/endpoint.sock', factory, 100, 0o600, true],
            new UNIXAddress('/tmp/endpoint.sock'),
          ]
        : [
            new UNIXServerEndpoint(reactor, '/tmp/endpoint.sock'),
            ['/tmp/endpoint.sock', factory, 511, 0o666, false],
            new UNIXAddress('/tmp/endpoint.sock'),
          ],
    records: (reactor) => reactor.unixServers,
  },
  {
    name: 'SSL4ServerEndpoint',
    make: (reactor, factory, nonDefault) =>
      nonDefault
        ? [
            new SSL4ServerEndpoint(reactor, 0, SERVER_CONTEXT, {
              backlog: 100,
              interface: '127.0.0.1',
            }),
            [0, factory, SERVER_CONTEXT, 100, '127.0.0.1'],
            new IPv4Address('TCP', '127.0.0.1', 49152),
          ]
        : [
            new SSL4ServerEndpoint(reactor, 0, SERVER_CONTEXT),
            [0, factory, SERVER_CONTEXT, 511, ''],
            new IPv4Address('TCP', '0.0.0.0', 49152),
          ],
    records: (reactor) => reactor.sslServers,
  },
];

for (const c of SERVER_CASES) {
  describe(`${c.name}.listen`, () => {
    test('fires with the listening port, after asking the reactor to listen with the defaults', () => {
      const reactor = new MemoryReactor();
      const factory = new Factory();
      const [endpoint, expected, host] = c.make(reactor, factory, false);
      const port = successResultOf(endpoint.listen(factory));
      assert.ok((port.getHost() as IPv4Address).equals(host));
      assert.deepEqual(c.records(reactor), [expected]);
    });

    test('passes its non-default arguments to the reactor', () => {
      const reactor = new MemoryReactor();
      const factory = new Factory();
      const [endpoint, expected, host] = c.make(reactor, factory, true);
      const port = successResultOf(endpoint.listen(factory));
      assert.ok((port.getHost() as IPv4Address).equals(host));
      assert.deepEqual(c.records(reactor), [expected]);
    });

    test('fails with the CannotListenError the reactor throws', () => {
      const exception = new CannotListenError('', 80, 'EADDRINUSE');
      const reactor = new RaisingMemoryReactor({ listenException: exception });
      const [endpoint] = c.make(reactor, new Factory(), false);
      assert.equal(
        failureResultOf(endpoint.listen(new Factory()), CannotListenError).value,
        exception,
      );
    });
  });
}

interface ClientCase {
  readonly name: string;
  /** The endpoint, the record the reactor should hold (without the factory) and the destination. */
  make(
    reactor: MemoryReactor | RaisingMemoryReactor,
    nonDefault: boolean,
  ): [IStreamClientEndpoint, unknown[], IAddress];
  /** The reactor's records, without their factories. */
  records(reactor: MemoryReactor): unknown[][];
  /** The factory of the first record. */
  factoryOf(reactor: MemoryReactor): IProtocolFactory;
}

/** A resolver that knows one name. */
function fakeResolver(
  name: string,
  addresses: Array<IPv4Address | IPv6Address>,
): IHostnameResolver {
  return {
    resolveHostName(asked: string) {
      assert.equal(asked, name);
      return succeed(addresses);
    },
  };
}

const CLIENT_CASES: ClientCase[] = [
  {
    name: 'TCP4ClientEndpoint',
    make: (reactor, nonDefault) =>
      nonDefault
        ? [
            new TCP4ClientEndpoint(reactor, 'localhost', 80, {
              timeout: 10,
              bindAddress: ['localhost', 49595],
            }),
            ['localhost', 80, 10, ['localhost', 49595]],
            new IPv4Address('TCP', 'localhost', 80),
          ]
        : [
            new TCP4ClientEndpoint(reactor, 'localhost', 80),
            ['localhost', 80, 30, undefined],
            new IPv4Address('TCP', 'localhost', 80),
          ],
    records: (reactor) => reactor.tcpClients.map(([h, p, , t, b]) => [h, p, t, b]),
    factoryOf: (reactor) => reactor.tcpClients[0]![2],
  },
  {
    name: 'TCP6ClientEndpoint',
    make: (reactor, nonDefault) =>
      nonDefault
        ? [
            new TCP6ClientEndpoint(reactor, '::1', 80, {
              timeout: 10,
              bindAddress: ['::1', 49595],
            }),
            ['::1', 80, 10, ['::1', 49595]],
            new IPv6Address('TCP', '::1', 80),
          ]
        : [
            new TCP6ClientEndpoint(reactor, '::1', 80),
            ['::1', 80, 30, undefined],
            new IPv6Address('TCP', '::1', 80),
          ],
    records: (reactor) => reactor.tcpClients.map(([h, p, , t, b]) => [h, p, t, b]),
    factoryOf: (reactor) => reactor.tcpClients[0]![2],
  },
  {
    name: 'TCP6ClientEndpoint to a host name',
    make: (reactor, nonDefault) => {
      const resolver = fakeResolver('ipv6.example.com', [
        new IPv4Address('TCP', '1.2.3.4', 0),
        new IPv6Address('TCP', '::2', 0),
        new IPv6Address('TCP', '::3', 0),
      ]);
      return nonDefault
        ? [
            new TCP6ClientEndpoint(reactor, 'ipv6.example.com', 80, {
              timeout: 10,
              bindAddress: ['::1', 49595],
              resolver,
            }),
            ['::2', 80, 10, ['::1', 49595]],
            new IPv6Address('TCP', '::2', 80),
          ]
        : [
            new TCP6ClientEndpoint(reactor, 'ipv6.example.com', 80, { resolver }),
            ['::2', 80, 30, undefined],
            new IPv6Address('TCP', '::2', 80),
          ];
    },
    records: (reactor) => reactor.tcpClients.map(([h, p, , t, b]) => [h, p, t, b]),
    factoryOf: (reactor) => reactor.tcpClients[0]![2],
  },
  {
    name: 'UNIXClientEndpoint',
    make: (reactor, nonDefault) =>
      nonDefault
        ? [
            new UNIXClientEndpoint(reactor, '/tmp/endpoint.sock', { timeout: 10, checkPID: true }),
            ['/tmp/endpoint.sock', 10, true],
            new UNIXAddress('/tmp/endpoint.sock'),
          ]
        : [
            new UNIXClientEndpoint(reactor, '/tmp/endpoint.sock'),
            ['/tmp/endpoint.sock', 30, false],
            new UNIXAddress('/tmp/endpoint.sock'),
          ],
    records: (reactor) => reactor.unixClients.map(([path, , t, check]) => [path, t, check]),
    factoryOf: (reactor) => reactor.unixClients[0]![1],
  },
  {
    name: 'SSL4ClientEndpoint',
    make: (reactor, nonDefault) =>
      nonDefault
        ? [
            new SSL4ClientEndpoint(reactor, 'localhost', 80, CLIENT_CONTEXT, {
              timeout: 10,
              bindAddress: ['localhost', 49595],
            }),
            ['localhost', 80, CLIENT_CONTEXT, 10, ['localhost', 49595]],
            new IPv4Address('TCP', 'localhost', 80),
          ]
        : [
            new SSL4ClientEndpoint(reactor, 'localhost', 80, CLIENT_CONTEXT),
            ['localhost', 80, CLIENT_CONTEXT, 30, undefined],
            new IPv4Address('TCP', 'localhost', 80),
          ],
    records: (reactor) => reactor.sslClients.map(([h, p, , ctx, t, b]) => [h, p, ctx, t, b]),
    factoryOf: (reactor) => reactor.sslClients[0]![2],
  },
];

function sameAddress(actual: unknown, expected: IAddress): boolean {
  return (expected as { equals(other: unknown): boolean }).equals(actual);
}

for (const c of CLIENT_CASES) {
  describe(`${c.name}.connect`, () => {
    test('fires with the protocol once it is connected, after asking the reactor with the defaults', () => {
      const reactor = new MemoryReactor();
      const [endpoint, expected, destination] = c.make(reactor, false);
      const d = endpoint.connect(new TestFactory());
      assert.deepEqual(c.records(reactor), [expected]);
      const wrapper = c.factoryOf(reactor).buildProtocol(destination) as IProtocol;
      wrapper.makeConnection(new StringTransport());
      const protocol = successResultOf(d) as TestProtocol;
      assert.ok(protocol instanceof TestProtocol);
      assert.equal(protocol.madeCalls, 1);
    });

    test('passes its non-default arguments to the reactor', () => {
      const reactor = new MemoryReactor();
      const [endpoint, expected] = c.make(reactor, true);
      endpoint.connect(new TestFactory());
      assert.deepEqual(c.records(reactor), [expected]);
    });

    test('fails with the error the reactor throws', () => {
      const expected = new ConnectError('Connection Failed');
      const reactor = new RaisingMemoryReactor({ connectException: expected });
      const [endpoint] = c.make(reactor, false);
      assert.equal(failureResultOf(endpoint.connect(new TestFactory())).value, expected);
    });

    test('fails with ConnectingCancelledError naming the destination when cancelled, and stops connecting', () => {
      const reactor = new MemoryReactor();
      const [endpoint, , destination] = c.make(reactor, false);
      const d = endpoint.connect(new TestFactory());
      d.cancel();
      // A real connector tells its factory that the attempt failed with UserError.
      const factory = c.factoryOf(reactor) as IProtocolFactory & {
        clientConnectionFailed(connector: IConnector, reason: Failure): void;
      };
      factory.clientConnectionFailed(reactor.connectors[0]!, new Failure(new UserError()));
      const failure = failureResultOf(d, ConnectingCancelledError);
      assert.ok(sameAddress((failure.value as ConnectingCancelledError).address, destination));
      assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
    });
  });
}

describe('TCP6ClientEndpoint to a host name', () => {
  test('fails with DNSLookupError when the name has no IPv6 address', () => {
    const reactor = new MemoryReactor();
    const endpoint = new TCP6ClientEndpoint(reactor, 'v4only.example.com', 80, {
      resolver: fakeResolver('v4only.example.com', [new IPv4Address('TCP', '1.2.3.4', 0)]),
    });
    failureResultOf(endpoint.connect(new TestFactory()), DNSLookupError);
    assert.deepEqual(reactor.tcpClients, []);
  });

  test('fails with the DNSLookupError of the lookup', () => {
    const error = new DNSLookupError('no such name', { hostname: 'nowhere.example.com' });
    const endpoint = new TCP6ClientEndpoint(new MemoryReactor(), 'nowhere.example.com', 80, {
      resolver: { resolveHostName: () => fail(error) },
    });
    assert.equal(failureResultOf(endpoint.connect(new TestFactory())).value, error);
  });

  test('abandons the lookup and fails with ConnectingCancelledError naming the host when cancelled', () => {
    const lookup = new Deferred<Array<IPv4Address | IPv6Address>>();
    const endpoint = new TCP6ClientEndpoint(new MemoryReactor(), 'slow.example.com', 80, {
      resolver: { resolveHostName: () => lookup },
    });
    const d = endpoint.connect(new TestFactory());
    d.cancel();
    const failure = failureResultOf(d, ConnectingCancelledError);
    assert.ok(
      new HostnameAddress('slow.example.com', 80).equals(
        (failure.value as ConnectingCancelledError).address,
      ),
    );
    assert.equal(lookup.called, true);
  });

  test('looks the name up with the reactor when it is a resolver', () => {
    const reactor = Object.assign(new MemoryReactor(), {
      resolveHostName: fakeResolver('six.example.com', [new IPv6Address('TCP', '::9', 0)])
        .resolveHostName,
    });
    new TCP6ClientEndpoint(reactor, 'six.example.com', 80).connect(new TestFactory());
    assert.equal(reactor.tcpClients[0]?.[0], '::9');
  });
});

describe('connectProtocol', () => {
  test('connects through the endpoint with a factory that builds the given protocol', () => {
    const reactor = new MemoryReactor();
    const endpoint = new TCP4ClientEndpoint(reactor, '127.0.0.1', 0);
    const theProtocol = new TestProtocol();
    const d = connectProtocol(endpoint, theProtocol);
    assert.equal(reactor.tcpClients.length, 1);
    const wrapper = reactor.tcpClients[0]![2].buildProtocol(ADDRESS) as IProtocol;
    wrapper.makeConnection(new StringTransport());
    assert.equal(successResultOf(d), theProtocol);
    assert.equal(theProtocol.madeCalls, 1);
  });

  test("returns what the endpoint's connect returns", () => {
    const result = new Deferred<IProtocol>();
    const endpoint = { connect: () => result } as unknown as IStreamClientEndpoint;
    assert.equal(connectProtocol(endpoint, new TestProtocol()), result);
  });
});
