// Type tests of the endpoint string parsers (torsion/endpoints), checked by
// tsc during the build: what serverFromString and clientFromString return,
// what listening and connecting through the result give, and which reactors
// they accept. The runtime assertions check that the parsed endpoints work
// on a MemoryReactorClock.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deferred } from 'torsion/defer';
import {
  type ClientReactor,
  clientFromString,
  connectProtocol,
  type ServerReactor,
  serverFromString,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
} from 'torsion/endpoints';
import { Factory, type IPAddress, Protocol, type UNIXAddress } from 'torsion/protocol';
import type {
  IListeningPort,
  IProtocol,
  IProtocolFactory,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
} from 'torsion/reactor';
import { Clock } from 'torsion/task';
import { MemoryReactor, MemoryReactorClock } from 'torsion/testing';
import { expectType } from './expect-type.js';

class Greeter extends Protocol {
  readonly greeting = 'hello';
}

test('serverFromString returns a server endpoint whose listen gives a listening port', () => {
  const reactor = new MemoryReactorClock();
  const endpoint = serverFromString(reactor, 'tcp:0:interface=127.0.0.1');
  expectType<IStreamServerEndpoint<IPAddress | UNIXAddress>>()(endpoint);
  const listening = endpoint.listen(Factory.forProtocol(Greeter));
  expectType<Deferred<IListeningPort<IPAddress | UNIXAddress>>>()(listening);
  assert.ok(endpoint instanceof TCP4ServerEndpoint);
  assert.equal(reactor.tcpServers.length, 1);
});

test("clientFromString returns a client endpoint whose connect gives the factory's protocol", () => {
  const reactor = new MemoryReactorClock();
  const endpoint = clientFromString(reactor, 'tcp:host=127.0.0.1:port=8080');
  expectType<IStreamClientEndpoint>()(endpoint);
  const connected = endpoint.connect(Factory.forProtocol(Greeter));
  expectType<Deferred<Greeter>>()(connected);
  // A factory typed only as IProtocolFactory gives an IProtocol.
  const plain: IProtocolFactory = Factory.forProtocol(Greeter);
  const untyped = endpoint.connect(plain);
  expectType<Deferred<IProtocol>>()(untyped);
  untyped.cancel();
  untyped.addErrback(() => undefined);
  // connectProtocol keeps the protocol's own type.
  const greeter = connectProtocol(endpoint, new Greeter());
  expectType<Deferred<Greeter>>()(greeter);
  assert.ok(endpoint instanceof TCP4ClientEndpoint);
  assert.equal(reactor.tcpClients.length, 3);
  connected.cancel();
  greeter.cancel();
  connected.addErrback(() => undefined);
  greeter.addErrback(() => undefined);
});

test('the parsers accept only reactors that can do what a description may ask for', () => {
  const server: ServerReactor = new MemoryReactor();
  const client: ClientReactor = new MemoryReactorClock();
  // @ts-expect-error a Clock cannot listen
  serverFromString(new Clock(), 'tcp:0');
  // @ts-expect-error a client needs time for its timeout, which MemoryReactor lacks
  clientFromString(new MemoryReactor(), 'tcp:host=localhost:port=80');
  assert.equal(typeof server.listenTCP, 'function');
  assert.equal(typeof client.callLater, 'function');
});
