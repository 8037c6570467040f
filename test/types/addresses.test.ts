// Type tests of addresses typed by transport, checked by tsc during the
// build: a TCP or TLS port, connector or transport gives an IPAddress
// (IPv4Address | IPv6Address, with .host and .port), a UNIX one a
// UNIXAddress, through the reactor interfaces, NodeReactor, the endpoints,
// serverFromString and the test doubles; code written against plain
// IAddress keeps compiling. The runtime assertions check, on the doubles,
// that the values are what the types claim.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deferred } from 'torsion/defer';
import {
  serverFromString,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXServerEndpoint,
} from 'torsion/endpoints';
import {
  Factory,
  type IAddress,
  InvalidAddressError,
  type IPAddress,
  IPv4Address,
  type IPv6Address,
  Protocol,
  UNIXAddress,
} from 'torsion/protocol';
import type {
  IConnector,
  IListeningPort,
  IReactorSSL,
  IReactorTCP,
  IReactorUNIX,
  ITCPTransport,
  ITransport,
  NodeReactor,
} from 'torsion/reactor';
import { MemoryReactorClock, StringTransport } from 'torsion/testing';
import { expectType } from './expect-type.js';

test('the reactor interfaces and NodeReactor type ports and connectors by transport', () => {
  expectType<IListeningPort<IPAddress>>()(null as unknown as ReturnType<IReactorTCP['listenTCP']>);
  expectType<IConnector<IPAddress>>()(null as unknown as ReturnType<IReactorTCP['connectTCP']>);
  expectType<IListeningPort<IPAddress>>()(null as unknown as ReturnType<IReactorSSL['listenSSL']>);
  expectType<IConnector<IPAddress>>()(null as unknown as ReturnType<IReactorSSL['connectSSL']>);
  expectType<IListeningPort<UNIXAddress>>()(
    null as unknown as ReturnType<IReactorUNIX['listenUNIX']>,
  );
  expectType<IConnector<UNIXAddress>>()(null as unknown as ReturnType<IReactorUNIX['connectUNIX']>);
  type Listened = ReturnType<NodeReactor['listenTCP']>;
  expectType<number>()(0 as ReturnType<Listened['getHost']>['port']);
  expectType<string>()(
    '' as ReturnType<ReturnType<NodeReactor['connectTCP']>['getDestination']>['host'],
  );
  expectType<string | null>()(
    null as ReturnType<ReturnType<NodeReactor['listenUNIX']>['getHost']>['name'],
  );
  assert.ok(true);
});

test("MemoryReactor's ports and connectors have the address of their transport", () => {
  const reactor = new MemoryReactorClock();
  const port = reactor.listenTCP(0, new Factory());
  expectType<IPAddress>()(port.getHost());
  assert.equal(port.getHost().port, 49152);
  const ssl = reactor.listenSSL(443, new Factory(), {});
  assert.equal(ssl.getHost().port, 443);
  const unix = reactor.listenUNIX('/tmp/x.sock', new Factory());
  expectType<UNIXAddress>()(unix.getHost());
  assert.equal(unix.getHost().name, '/tmp/x.sock');
  // @ts-expect-error a UNIX address has no port
  unix.getHost().port;
  const connector = reactor.connectTCP('example.com', 80, new Factory());
  expectType<IPAddress>()(connector.getDestination());
  assert.equal(connector.getDestination().host, 'example.com');
  const unixConnector = reactor.connectUNIX('/tmp/x.sock', new Factory());
  expectType<UNIXAddress>()(unixConnector.getDestination());
  // Narrowing the union tells the families apart.
  const host = port.getHost();
  if (host instanceof IPv4Address) expectType<IPv4Address>()(host);
  else expectType<IPv6Address>()(host);
  assert.ok(host instanceof IPv4Address);
});

test('server endpoints type the ports they listen with', () => {
  const reactor = new MemoryReactorClock();
  const factory = new Factory();
  const v4 = new TCP4ServerEndpoint(reactor, 0).listen(factory);
  expectType<Deferred<IListeningPort<IPv4Address>>>()(v4);
  const v6 = new TCP6ServerEndpoint(reactor, 0).listen(factory);
  expectType<Deferred<IListeningPort<IPv6Address>>>()(v6);
  const unix = new UNIXServerEndpoint(reactor, '/tmp/y.sock').listen(factory);
  expectType<Deferred<IListeningPort<UNIXAddress>>>()(unix);
  const parsed = serverFromString(reactor, 'tcp:8080').listen(factory);
  expectType<Deferred<IListeningPort<IPAddress | UNIXAddress>>>()(parsed);
  const ports: number[] = [];
  v4.addCallback((port) => {
    ports.push(port.getHost().port);
  });
  v6.addCallback((port) => {
    ports.push(port.getHost().port);
  });
  assert.deepEqual(ports, [49152, 49153]);
  assert.ok(reactor.ports[1]?.getHost() instanceof Object);
});

test('a TCP4 or TCP6 server endpoint refuses an interface of the other family', () => {
  const reactor = new MemoryReactorClock();
  assert.throws(
    () => new TCP4ServerEndpoint(reactor, 0, { interface: '::1' }),
    (error: unknown) =>
      error instanceof InvalidAddressError && /use TCP6ServerEndpoint/.test(error.message),
  );
  assert.throws(
    () => new TCP6ServerEndpoint(reactor, 0, { interface: '127.0.0.1' }),
    (error: unknown) =>
      error instanceof InvalidAddressError && /use TCP4ServerEndpoint/.test(error.message),
  );
  assert.equal(new TCP6ServerEndpoint(reactor, 0, { interface: '::1' }).interface, '::1');
});

test('a protocol that declares its transport as TCP reads its peer port', () => {
  class Greeter extends Protocol<ITCPTransport<IPAddress>> {
    peerPort = 0;
    override connectionMade(): void {
      this.peerPort = this.transport.getPeer().port;
    }
  }
  class Declared extends Protocol {
    declare transport: ITCPTransport<IPAddress>;
    hostPort = 0;
    override connectionMade(): void {
      this.hostPort = this.transport.getHost().port;
    }
  }
  const greeter = new Greeter();
  const declared = new Declared();
  const transport = new StringTransport();
  expectType<IPAddress>()(transport.getPeer());
  greeter.makeConnection(transport);
  declared.makeConnection(transport);
  assert.equal(greeter.peerPort, 54321);
  assert.equal(declared.hostPort, 12345);
  // @ts-expect-error a plain Protocol's transport has IAddress addresses, without a port
  new Protocol().transport?.getPeer().port;
  // StringTransport takes its address type from the addresses given.
  const unix = new StringTransport({
    hostAddress: new UNIXAddress('/tmp/s'),
    peerAddress: new UNIXAddress(null),
  });
  expectType<UNIXAddress>()(unix.getHost());
  // Code typed with plain IAddress, the default, keeps compiling.
  const plain: ITransport = unix;
  expectType<IAddress>()(plain.getHost());
  assert.equal(unix.getHost().name, '/tmp/s');
});
