// Compile-time interface conformance of the test doubles and the protocol
// classes (Twisted's verifyObject, checked by tsc instead). Each assignment
// below fails the build if a class stops satisfying its interface; the
// runtime assertions check that the objects are what the types claim.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HostnameEndpoint,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
} from 'torsion/endpoints';
import { DatagramProtocol, Factory, ProcessProtocol, Protocol } from 'torsion/protocol';
import { loopbackAsync } from 'torsion/protocols/loopback';
import {
  ProtocolWrapper,
  ThrottlingFactory,
  TimeoutFactory,
  WrappingFactory,
} from 'torsion/protocols/policies';
import type {
  IConnector,
  IConsumer,
  IDatagramProtocol,
  IHostnameResolver,
  IListeningPort,
  IProcessProtocol,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  IReactorCore,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUDP,
  IReactorUNIX,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
  ITCPTransport,
  ITransport,
  IUDPTransport,
} from 'torsion/reactor';
import { NodeReactor } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import {
  AccumulatingProtocol,
  connectableEndpoint,
  FakeDatagramTransport,
  FakeTransport,
  MemoryReactor,
  MemoryReactorClock,
  NonStreamingProducer,
  RaisingMemoryReactor,
  StringTransport,
  StringTransportWithDisconnection,
} from 'torsion/testing';

test('the test doubles satisfy the interfaces they claim', () => {
  const transport: ITCPTransport = new StringTransport();
  const asTransport: ITransport = transport;
  const asConsumer: IConsumer = transport;
  const asPushProducer: IPushProducer = transport;
  const withDisconnection: ITCPTransport = new StringTransportWithDisconnection();
  const fake: ITCPTransport = new FakeTransport(new Protocol(), true);
  const datagramTransport: IUDPTransport = new FakeDatagramTransport();

  const reactor = new MemoryReactor();
  const core: IReactorCore = reactor;
  const tcp: IReactorTCP = reactor;
  const unix: IReactorUNIX = reactor;
  const ssl: IReactorSSL = reactor;
  const udp: IReactorUDP = reactor;
  const clock: IReactorTime & IReactorCore & IReactorTCP = new MemoryReactorClock();
  const raising: IReactorTCP & IReactorSSL & IReactorUNIX & IReactorUDP =
    new RaisingMemoryReactor();
  const port: IListeningPort = reactor.listenTCP(0, new Factory());
  const connector: IConnector = reactor.connectTCP('example.com', 80, new Factory());
  const [endpoint]: [IStreamClientEndpoint, unknown] = connectableEndpoint();

  const protocol: IProtocol = new AccumulatingProtocol();
  const pullProducer: IPullProducer = new NonStreamingProducer(new StringTransport());

  for (const value of [
    asTransport,
    asConsumer,
    asPushProducer,
    withDisconnection,
    fake,
    datagramTransport,
    core,
    tcp,
    unix,
    ssl,
    udp,
    clock,
    raising,
    port,
    connector,
    endpoint,
    protocol,
    pullProducer,
  ]) {
    assert.equal(typeof value, 'object');
  }
  assert.equal(typeof transport.write, 'function');
  assert.equal(typeof core.callWhenRunning, 'function');
  assert.equal(typeof clock.callLater, 'function');
});

test('NodeReactor and the endpoints satisfy the interfaces they claim', () => {
  const node = new NodeReactor();
  const reactorSSL: IReactorSSL = node;
  const resolver: IHostnameResolver = node;
  const memory = new MemoryReactorClock();
  const servers: IStreamServerEndpoint[] = [
    new TCP4ServerEndpoint(memory, 0),
    new TCP6ServerEndpoint(memory, 0),
    new UNIXServerEndpoint(memory, '/tmp/x.sock'),
    new SSL4ServerEndpoint(memory, 0, {}),
  ];
  const clients: IStreamClientEndpoint[] = [
    new TCP4ClientEndpoint(memory, 'localhost', 80),
    new TCP6ClientEndpoint(memory, '::1', 80),
    new UNIXClientEndpoint(memory, '/tmp/x.sock'),
    new SSL4ClientEndpoint(memory, 'localhost', 443, {}),
    new HostnameEndpoint(memory, 'localhost', 80),
  ];
  assert.equal(typeof reactorSSL.connectSSL, 'function');
  assert.equal(typeof resolver.resolveHostName, 'function');
  assert.equal(servers.length + clients.length, 9);
});

test('the protocol classes satisfy the protocol interfaces', () => {
  const protocol: IProtocol = new Protocol();
  const factory: IProtocolFactory = Factory.forProtocol(Protocol);
  const datagram: IDatagramProtocol = new DatagramProtocol();
  const process: IProcessProtocol = new ProcessProtocol();
  const time: IReactorTime = new Clock();
  assert.ok(factory.buildProtocol({ toString: () => 'addr' }) instanceof Protocol);
  assert.equal(typeof protocol.makeConnection, 'function');
  assert.equal(typeof datagram.datagramReceived, 'function');
  assert.equal(typeof process.childDataReceived, 'function');
  assert.equal(time.seconds(), 0);
  assert.equal(typeof loopbackAsync, 'function');
});

test('the policy wrappers are protocols, transports and factories', () => {
  const wrapping = new WrappingFactory(Factory.forProtocol(Protocol));
  const asFactory: IProtocolFactory = wrapping;
  const throttling: IProtocolFactory = new ThrottlingFactory(wrapping, { clock: new Clock() });
  const timeout: IProtocolFactory = new TimeoutFactory(wrapping, { clock: new Clock() });
  const wrapper = new ProtocolWrapper(wrapping, new Protocol());
  const asProtocol: IProtocol = wrapper;
  const asTransport: ITCPTransport = wrapper;
  for (const value of [asFactory, throttling, timeout, asProtocol, asTransport]) {
    assert.equal(typeof value, 'object');
  }
});
