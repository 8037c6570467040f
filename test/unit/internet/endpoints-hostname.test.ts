// HostnameEndpoint on a MemoryReactorClock with a fake resolver: the lookup,
// the order and timing of the attempts (happy eyeballs), the race, failures
// and cancellation.
// (Twisted: twisted/internet/test/test_endpoints.py HostnameEndpointsOneIPv4Tests,
// HostnameEndpointsOneIPv6Tests, HostnameEndpointIDNATests,
// HostnameEndpointsGAIFailureTests, HostnameEndpointsFasterConnectionTests,
// HostnameEndpointBindAddressTypes.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred, Failure, fail, succeed } from 'torsion/defer';
import { HostnameEndpoint, type IHostnameResolver } from 'torsion/endpoints';
import {
  ConnectError,
  ConnectingCancelledError,
  ConnectionRefusedError,
  DNSLookupError,
  Factory,
  HostnameAddress,
  InvalidAddressError,
  IPv4Address,
  IPv6Address,
  Protocol,
  TimeoutError,
  UNIXAddress,
} from 'torsion/protocol';
import type { IConnector, IIPAddress, IProtocol, IProtocolFactory } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import {
  AccumulatingProtocol,
  assertNoResult,
  ConnectionCompleter,
  failureResultOf,
  MemoryReactorClock,
  RaisingMemoryReactor,
  StringTransport,
  successResultOf,
} from 'torsion/testing';

type Address = IPv4Address | IPv6Address;

/** An address for a literal, IPv4 or IPv6 by its form. */
function ip(host: string): Address {
  return host.includes(':') ? new IPv6Address('TCP', host, 0) : new IPv4Address('TCP', host, 0);
}

/** A resolver that answers every name with `hosts` (all of them), recording the names asked. */
class FakeResolver implements IHostnameResolver {
  readonly asked: string[] = [];
  readonly #answer: () => Deferred<Address[]>;

  constructor(answer: readonly (string | Address)[] | (() => Deferred<Address[]>)) {
    this.#answer =
      typeof answer === 'function'
        ? answer
        : () => succeed(answer.map((a) => (typeof a === 'string' ? ip(a) : a)));
  }

  resolveHostName(name: string): Deferred<Address[]> {
    this.asked.push(name);
    return this.#answer();
  }
}

type FailingFactory = IProtocolFactory & {
  clientConnectionFailed(connector: IConnector, reason: Failure): void;
};

/** The factory of the nth TCP attempt. */
function attemptFactory(reactor: MemoryReactorClock, n: number): FailingFactory {
  return reactor.tcpClients[n]![2] as FailingFactory;
}

/** Completes the nth TCP attempt with a StringTransport. */
function complete(reactor: MemoryReactorClock, n: number): StringTransport {
  const [host, port, factory] = reactor.tcpClients[n]!;
  const transport = new StringTransport();
  const destination = host.includes(':')
    ? new IPv6Address('TCP', host, port)
    : new IPv4Address('TCP', host, port);
  const protocol = factory.buildProtocol(destination);
  assert.ok(protocol !== null, `attempt ${n} was refused`);
  protocol.makeConnection(transport);
  return transport;
}

/** Fails the nth TCP attempt. */
function refuse(
  reactor: MemoryReactorClock,
  n: number,
  error: Error = new ConnectionRefusedError(),
): void {
  attemptFactory(reactor, n).clientConnectionFailed(reactor.connectors[n]!, new Failure(error));
}

/** A RaisingMemoryReactor with a clock. */
function raisingReactorWithClock(
  connectException: unknown,
): RaisingMemoryReactor & Pick<Clock, 'seconds' | 'callLater' | 'getDelayedCalls' | 'advance'> {
  const clock = new Clock();
  return Object.assign(new RaisingMemoryReactor({ connectException }), {
    seconds: () => clock.seconds(),
    callLater: clock.callLater.bind(clock) as Clock['callLater'],
    getDelayedCalls: () => clock.getDelayedCalls(),
    advance: (amount: number) => clock.advance(amount),
  });
}

const factory = (): IProtocolFactory => Factory.forProtocol(Protocol);

for (const [family, literal] of [
  ['IPv4', '1.2.3.4'],
  ['IPv6', '1:2::3:4'],
] as const) {
  describe(`HostnameEndpoint when the name has one ${family} address`, () => {
    const make = (
      reactor: MemoryReactorClock,
      options: { timeout?: number; bindAddress?: readonly [string, number] } = {},
    ): HostnameEndpoint =>
      new HostnameEndpoint(reactor, 'example.com', 80, {
        ...options,
        resolver: new FakeResolver([literal]),
      });

    test('connects to the address and fires with the protocol once connected', () => {
      const reactor = new MemoryReactorClock();
      const d = make(reactor).connect(Factory.forProtocol(AccumulatingProtocol));
      assert.deepEqual(
        reactor.tcpClients.map(([h, p, , t, b]) => [h, p, t, b]),
        [[literal, 80, 30, undefined]],
      );
      assertNoResult(d);
      complete(reactor, 0);
      assert.ok(successResultOf(d) instanceof AccumulatingProtocol);
      assert.deepEqual(reactor.getDelayedCalls(), []);
    });

    test('passes its timeout and bindAddress to each attempt', () => {
      const reactor = new MemoryReactorClock();
      make(reactor, { timeout: 10, bindAddress: ['localhost', 49595] }).connect(factory());
      assert.deepEqual(
        reactor.tcpClients.map(([h, p, , t, b]) => [h, p, t, b]),
        [[literal, 80, 10, ['localhost', 49595]]],
      );
    });

    test('fails with the error the reactor throws, leaving no delayed call', () => {
      const expected = new ConnectError('Connection Failed');
      const reactor = raisingReactorWithClock(expected);
      const d = new HostnameEndpoint(reactor, 'example.com', 80, {
        resolver: new FakeResolver([literal]),
      }).connect(factory());
      reactor.advance(0.3);
      assert.equal(failureResultOf(d).value, expected);
      assert.deepEqual(reactor.getDelayedCalls(), []);
    });

    for (const advance of [0, 0.45]) {
      test(`fails with ConnectingCancelledError naming the host when cancelled after ${advance}s, and stops the attempt`, () => {
        const reactor = new MemoryReactorClock();
        const d = make(reactor).connect(factory());
        reactor.advance(advance);
        d.cancel();
        refuse(reactor, 0);
        const failure = failureResultOf(d, ConnectingCancelledError);
        assert.ok(
          new HostnameAddress('example.com', 80).equals(
            (failure.value as ConnectingCancelledError).address,
          ),
        );
        assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
        assert.deepEqual(reactor.getDelayedCalls(), []);
      });
    }

    test('fails with the attempt’s failure when it fails after the delay', () => {
      const reactor = new MemoryReactorClock();
      const d = make(reactor).connect(factory());
      reactor.advance(0.3);
      const expected = new ConnectError('Connection Failed');
      refuse(reactor, 0, expected);
      assert.equal(failureResultOf(d).value, expected);
      assert.deepEqual(reactor.getDelayedCalls(), []);
    });

    test('fires when the attempt succeeds after the delay, leaving no delayed call', () => {
      const reactor = new MemoryReactorClock();
      const d = make(reactor).connect(factory());
      reactor.advance(0.3);
      complete(reactor, 0);
      successResultOf(d);
      assert.equal(reactor.tcpClients.length, 1);
      assert.deepEqual(reactor.getDelayedCalls(), []);
    });
  });
}

describe('HostnameEndpoint when the name has an IPv4 and an IPv6 address', () => {
  const setup = (
    addresses: readonly (string | Address)[] = ['1.2.3.4', '1:2::3:4'],
  ): [MemoryReactorClock, Deferred<IProtocol>, IProtocolFactory] => {
    const reactor = new MemoryReactorClock();
    const clientFactory = Factory.forProtocol(Protocol);
    const d = new HostnameEndpoint(reactor, 'www.example.com', 80, {
      resolver: new FakeResolver(addresses),
    }).connect(clientFactory);
    return [reactor, d, clientFactory];
  };

  test('tries the IPv4 address first when the resolver gave it first, and takes it if it connects', () => {
    const [reactor, d, clientFactory] = setup();
    assert.equal(reactor.tcpClients.length, 1);
    assert.deepEqual(reactor.tcpClients[0]?.slice(0, 2), ['1.2.3.4', 80]);
    complete(reactor, 0);
    const protocol = successResultOf(d) as Protocol;
    assert.equal(protocol.factory, clientFactory);
    assert.deepEqual(reactor.getDelayedCalls(), []);
    assert.equal(reactor.tcpClients.length, 1);
  });

  test('starts the IPv6 attempt after the delay and takes it if it connects first', () => {
    const [reactor, d, clientFactory] = setup();
    reactor.advance(0.3);
    assert.deepEqual(reactor.tcpClients[1]?.slice(0, 2), ['1:2::3:4', 80]);
    assertNoResult(d);
    complete(reactor, 1);
    assert.equal((successResultOf(d) as Protocol).factory, clientFactory);
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test('cancels the other pending attempts once one connects', () => {
    const [reactor, d] = setup();
    reactor.advance(0.3);
    complete(reactor, 1);
    successResultOf(d);
    assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
    assert.equal(reactor.connectors[1]?.stoppedConnecting, false);
  });

  test('closes a losing attempt that completes anyway, without building its protocol', () => {
    const [reactor, d] = setup();
    reactor.advance(0.3);
    const loser = reactor.tcpClients[0]![2].buildProtocol(new IPv4Address('TCP', '1.2.3.4', 80));
    complete(reactor, 1);
    const winner = successResultOf(d);
    // Built before the race was won, connected after: closed at once.
    const transport = new StringTransport();
    loser?.makeConnection(transport);
    assert.equal(transport.disconnecting, true);
    // Arriving after the race was won: refused.
    assert.equal(
      reactor.tcpClients[0]![2].buildProtocol(new IPv4Address('TCP', '1.2.3.4', 80)),
      null,
    );
    assert.ok(winner instanceof Protocol);
  });

  test('takes plain IIPAddress objects from a resolver, telling the families apart by the address', () => {
    const reactor = new MemoryReactorClock();
    const plain = (host: string): IIPAddress => ({ type: 'TCP', host, port: 0 });
    const resolver: IHostnameResolver = {
      resolveHostName: () => succeed([plain('1:2::3:4'), plain('1:2::3:4'), plain('1.2.3.4')]),
    };
    new HostnameEndpoint(reactor, 'www.example.com', 80, { resolver }).connect(factory());
    reactor.advance(0.3);
    // The duplicate went; the IPv6 address came first, so IPv6 is tried first.
    assert.deepEqual(
      reactor.tcpClients.map(([host, port]) => [host, port]),
      [
        ['1:2::3:4', 80],
        ['1.2.3.4', 80],
      ],
    );
    assert.equal(reactor.connectors.length, 2);
  });

  test('ignores addresses that are neither IPv4 nor IPv6', () => {
    const reactor = new MemoryReactorClock();
    const resolver = new FakeResolver(() =>
      succeed([ip('1.2.3.4'), new UNIXAddress('/nowhere') as unknown as Address, ip('1:2::3:4')]),
    );
    new HostnameEndpoint(reactor, 'www.example.com', 80, { resolver }).connect(factory());
    reactor.advance(0.3);
    assert.equal(reactor.tcpClients.length, 2);
    assert.deepEqual(reactor.tcpClients[1]?.slice(0, 2), ['1:2::3:4', 80]);
    refuse(reactor, 0);
    refuse(reactor, 1);
  });
});

describe('HostnameEndpoint happy eyeballs', () => {
  test('alternates the families, starting with the family of the first address', () => {
    for (const [given, expected] of [
      [
        ['10.0.0.1', '10.0.0.2', '::1', '::2', '::3'],
        ['10.0.0.1', '::1', '10.0.0.2', '::2', '::3'],
      ],
      [
        ['::1', '::2', '10.0.0.1', '10.0.0.2', '10.0.0.3'],
        ['::1', '10.0.0.1', '::2', '10.0.0.2', '10.0.0.3'],
      ],
    ] as const) {
      const reactor = new MemoryReactorClock();
      const d = new HostnameEndpoint(reactor, 'multi.example.com', 80, {
        resolver: new FakeResolver(given),
      }).connect(factory());
      reactor.pump([0.3, 0.3, 0.3, 0.3]);
      assert.deepEqual(
        reactor.tcpClients.map(([host]) => host),
        expected,
      );
      d.cancel();
      failureResultOf(d, ConnectingCancelledError);
    }
  });

  test('starts one attempt every attemptDelay seconds on the reactor’s clock', () => {
    const reactor = new MemoryReactorClock();
    const d = new HostnameEndpoint(reactor, 'multi.example.com', 80, {
      attemptDelay: 0.25,
      resolver: new FakeResolver(['10.0.0.1', '::1', '10.0.0.2']),
    }).connect(factory());
    const started: Array<[number, number]> = [];
    for (const step of [0, 0.2, 0.05, 0.2, 0.05, 1]) {
      reactor.advance(step);
      started.push([Math.round(reactor.seconds() * 100) / 100, reactor.tcpClients.length]);
    }
    assert.deepEqual(started, [
      [0, 1],
      [0.2, 1],
      [0.25, 2],
      [0.45, 2],
      [0.5, 3],
      [1.5, 3],
    ]);
    assert.deepEqual(reactor.getDelayedCalls(), []);
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    assert.deepEqual(
      reactor.connectors.map((c) => c.stoppedConnecting),
      [true, true, true],
    );
  });

  test('starts the next attempt at once when one fails, and then keeps the delay from there', () => {
    const reactor = new MemoryReactorClock();
    const d = new HostnameEndpoint(reactor, 'multi.example.com', 80, {
      resolver: new FakeResolver(['10.0.0.1', '::1', '10.0.0.2']),
    }).connect(factory());
    reactor.advance(0.1);
    refuse(reactor, 0);
    assert.equal(reactor.tcpClients.length, 2);
    reactor.advance(0.29);
    assert.equal(reactor.tcpClients.length, 2);
    reactor.advance(0.01);
    assert.equal(reactor.tcpClients.length, 3);
    assertNoResult(d);
    complete(reactor, 2);
    successResultOf(d);
    assert.equal(reactor.connectors[1]?.stoppedConnecting, true);
  });

  test('fails with the last failure once every attempt has failed', () => {
    const reactor = new MemoryReactorClock();
    const d = new HostnameEndpoint(reactor, 'multi.example.com', 80, {
      resolver: new FakeResolver(['10.0.0.1', '::1']),
    }).connect(factory());
    reactor.advance(0.3);
    refuse(reactor, 1, new TimeoutError('::1:80'));
    assertNoResult(d);
    refuse(reactor, 0, new ConnectionRefusedError('10.0.0.1:80'));
    // The failures came in the other order: the last to arrive is reported.
    assert.ok(failureResultOf(d, ConnectionRefusedError));
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test('tries each address once, however often the resolver lists it', () => {
    const reactor = new MemoryReactorClock();
    new HostnameEndpoint(reactor, 'dup.example.com', 80, {
      resolver: new FakeResolver(['10.0.0.1', '10.0.0.1', '::1', '::1']),
    }).connect(factory());
    reactor.pump([0.3, 0.3, 0.3]);
    assert.deepEqual(
      reactor.tcpClients.map(([host]) => host),
      ['10.0.0.1', '::1'],
    );
    refuse(reactor, 0);
    refuse(reactor, 1);
  });

  test('connects to an IP address without a lookup', () => {
    for (const literal of ['192.0.2.1', '2001:db8::1']) {
      const reactor = new MemoryReactorClock();
      const resolver = new FakeResolver(() => fail(new Error('no lookup expected')));
      new HostnameEndpoint(reactor, literal, 80, { resolver }).connect(factory());
      assert.deepEqual(resolver.asked, []);
      assert.deepEqual(reactor.tcpClients[0]?.slice(0, 2), [literal, 80]);
      refuse(reactor, 0);
    }
  });

  test('abandons the lookup when cancelled during it', () => {
    const reactor = new MemoryReactorClock();
    const lookup = new Deferred<Address[]>();
    const d = new HostnameEndpoint(reactor, 'slow.example.com', 80, {
      resolver: new FakeResolver(() => lookup),
    }).connect(factory());
    d.cancel();
    const failure = failureResultOf(d, ConnectingCancelledError);
    assert.ok(
      new HostnameAddress('slow.example.com', 80).equals(
        (failure.value as ConnectingCancelledError).address,
      ),
    );
    assert.equal(lookup.called, true);
    assert.deepEqual(reactor.tcpClients, []);
  });

  test('races real connections made by a ConnectionCompleter', () => {
    const reactor = new MemoryReactorClock();
    reactor.listenTCP(80, Factory.forProtocol(AccumulatingProtocol));
    const completer = new ConnectionCompleter(reactor);
    const d = new HostnameEndpoint(reactor, 'www.example.com', 80, {
      resolver: new FakeResolver(['::1', '127.0.0.1']),
    }).connect(Factory.forProtocol(AccumulatingProtocol));
    reactor.advance(0.3);
    // The first attempt (IPv6) is refused; the second connects.
    completer.failOnce();
    const pump = completer.succeedOnce();
    assert.ok(pump !== undefined);
    const client = successResultOf(d) as AccumulatingProtocol;
    client.transport.write(Buffer.from('hello'));
    pump.flush();
    const server = pump.server as AccumulatingProtocol;
    assert.deepEqual(server.data, Buffer.from('hello'));
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });
});

describe('HostnameEndpoint lookups', () => {
  test('fails with DNSLookupError naming the host when the name has no address', () => {
    const endpoint = new HostnameEndpoint(new MemoryReactorClock(), 'example.com', 80, {
      resolver: new FakeResolver([]),
    });
    const failure = failureResultOf(endpoint.connect(factory()), DNSLookupError);
    assert.match((failure.value as Error).message, /example\.com/);
  });

  test('passes a DNSLookupError of the resolver through', () => {
    const error = new DNSLookupError('NXDOMAIN', { hostname: 'example.com' });
    const endpoint = new HostnameEndpoint(new MemoryReactorClock(), 'example.com', 80, {
      resolver: new FakeResolver(() => fail(error)),
    });
    assert.equal(failureResultOf(endpoint.connect(factory())).value, error);
  });

  test('turns any other failure of the resolver into a DNSLookupError naming the host', () => {
    const endpoint = new HostnameEndpoint(new MemoryReactorClock(), 'example.com', 80, {
      resolver: new FakeResolver(() => fail(new RangeError('resolver broke'))),
    });
    const failure = failureResultOf(endpoint.connect(factory()), DNSLookupError);
    assert.match((failure.value as Error).message, /example\.com/);
    assert.ok((failure.value as Error).cause instanceof RangeError);
  });

  test('looks the name up with the reactor when it is a resolver and no resolver is given', () => {
    const resolver = new FakeResolver(['10.0.0.9']);
    const reactor = Object.assign(new MemoryReactorClock(), {
      resolveHostName: (name: string) => resolver.resolveHostName(name),
    });
    new HostnameEndpoint(reactor, 'example.com', 80).connect(factory());
    assert.deepEqual(resolver.asked, ['example.com']);
    assert.equal(reactor.tcpClients[0]?.[0], '10.0.0.9');
    refuse(reactor, 0);
  });

  test('looks an internationalized name up in its IDNA form, NFC-normalized first', () => {
    for (const host of ['b\u00fccher.ch', 'bu\u0308cher.ch']) {
      const resolver = new FakeResolver(['127.0.0.1']);
      const endpoint = new HostnameEndpoint(new MemoryReactorClock(), host, 80, { resolver });
      assert.equal(endpoint.host, 'b\u00fccher.ch');
      const d = endpoint.connect(factory());
      assert.deepEqual(resolver.asked, ['xn--bcher-kva.ch']);
      d.cancel();
      const failure = failureResultOf(d, ConnectingCancelledError);
      assert.ok(
        new HostnameAddress('xn--bcher-kva.ch', 80).equals(
          (failure.value as ConnectingCancelledError).address,
        ),
      );
    }
  });

  test('fails connect, not the constructor, with InvalidAddressError for a host that is not a valid name', () => {
    const endpoint = new HostnameEndpoint(new MemoryReactorClock(), '\u2ff0-garbage-\u2ff0', 80, {
      resolver: new FakeResolver(['127.0.0.1']),
    });
    const failure = failureResultOf(endpoint.connect(factory()), InvalidAddressError);
    assert.match((failure.value as Error).message, /\u2ff0-garbage-\u2ff0/);
  });
});

describe('HostnameEndpoint options', () => {
  const reactor = new MemoryReactorClock();
  const resolver = new FakeResolver(['127.0.0.1']);

  test('takes a bind address as an IP address (port 0) or a [host, port] pair', () => {
    assert.deepEqual(
      new HostnameEndpoint(reactor, 'example.com', 80, { bindAddress: '1.2.3.4', resolver })
        .bindAddress,
      ['1.2.3.4', 0],
    );
    assert.deepEqual(
      new HostnameEndpoint(reactor, 'example.com', 80, {
        bindAddress: ['1.2.3.4', 1234],
        resolver,
      }).bindAddress,
      ['1.2.3.4', 1234],
    );
    assert.equal(
      new HostnameEndpoint(reactor, 'example.com', 80, { resolver }).bindAddress,
      undefined,
    );
  });

  test('defaults to a 30 second timeout and a 0.3 second delay between attempts', () => {
    const endpoint = new HostnameEndpoint(reactor, 'example.com', 80, { resolver });
    assert.equal(endpoint.timeout, 30);
    assert.equal(endpoint.attemptDelay, 0.3);
  });

  test('rejects a negative or non-finite attemptDelay', () => {
    for (const attemptDelay of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => new HostnameEndpoint(reactor, 'example.com', 80, { attemptDelay, resolver }),
        RangeError,
      );
    }
  });

  test('with tls, connects with TLS to each address, checking the certificate against the host name', () => {
    const memory = new MemoryReactorClock();
    const d = new HostnameEndpoint(memory, 'secure.example.com', 443, {
      tls: { ca: 'PEM' },
      resolver: new FakeResolver(['10.0.0.1', '::1']),
    }).connect(factory());
    memory.advance(0.3);
    assert.deepEqual(memory.tcpClients, []);
    assert.deepEqual(
      memory.sslClients.map(([host, port, , context]) => [host, port, context]),
      [
        ['10.0.0.1', 443, { ca: 'PEM', servername: 'secure.example.com' }],
        ['::1', 443, { ca: 'PEM', servername: 'secure.example.com' }],
      ],
    );
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
  });

  test('with tls: true and an IP address, checks the certificate against the address', () => {
    const memory = new MemoryReactorClock();
    const d = new HostnameEndpoint(memory, '10.0.0.1', 443, { tls: true }).connect(factory());
    assert.deepEqual(
      memory.sslClients.map(([host, port, , context]) => [host, port, context]),
      [['10.0.0.1', 443, {}]],
    );
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
  });
});
