// Type tests of ClientService's protocol parameter, checked by tsc during the
// build: the protocol type is inferred from the factory, whenConnected gives
// it and prepareConnection receives it; a plain IProtocolFactory gives
// IProtocol; the clock is required; the strports service() returns a
// StreamServerEndpointService. The runtime assertions check that the values
// are what the types claim.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  backoffPolicy,
  ClientService,
  type RetryPolicy,
  StreamServerEndpointService,
  service,
} from 'torsion/app';
import type { Deferred } from 'torsion/defer';
import { TCP4ClientEndpoint } from 'torsion/endpoints';
import { Factory, IPv4Address, Protocol } from 'torsion/protocol';
import type { IProtocol, IProtocolFactory } from 'torsion/reactor';
import { MemoryReactorClock, StringTransport, successResultOf } from 'torsion/testing';
import { expectType } from './expect-type.js';

class Greeter extends Protocol {
  readonly greeting = 'hello';
}

test('ClientService infers the protocol from the factory', () => {
  const reactor = new MemoryReactorClock();
  const endpoint = new TCP4ClientEndpoint(reactor, '10.0.0.2', 7000);
  const prepared: Greeter[] = [];
  const client = new ClientService(endpoint, Factory.forProtocol(Greeter), {
    clock: reactor,
    prepareConnection: (protocol) => {
      expectType<Greeter>()(protocol);
      prepared.push(protocol);
    },
  });
  expectType<ClientService<Greeter>>()(client);
  client.startService();
  const protocol = reactor.tcpClients[0]?.[2].buildProtocol(
    new IPv4Address('TCP', '10.0.0.2', 7000),
  );
  protocol?.makeConnection(new StringTransport());
  const connected = client.whenConnected({ failAfterFailures: 3 });
  expectType<Deferred<Greeter>>()(connected);
  assert.equal(successResultOf(connected).greeting, 'hello');
  assert.equal(prepared.length, 1);
});

test('a factory typed only as IProtocolFactory gives IProtocol', () => {
  const reactor = new MemoryReactorClock();
  const factory: IProtocolFactory = Factory.forProtocol(Protocol);
  const client = new ClientService(new TCP4ClientEndpoint(reactor, '10.0.0.2', 7000), factory, {
    clock: reactor,
  });
  expectType<Deferred<IProtocol>>()(client.whenConnected());
  assert.ok(client instanceof ClientService);
});

test('leaving out the clock does not compile (and throws for a JavaScript caller)', () => {
  const reactor = new MemoryReactorClock();
  const endpoint = new TCP4ClientEndpoint(reactor, '10.0.0.2', 7000);
  assert.throws(
    // @ts-expect-error: the options, with their clock, are required.
    () => new ClientService(endpoint, Factory.forProtocol(Greeter)),
    TypeError,
  );
  assert.throws(
    // @ts-expect-error: the clock is required.
    () => new ClientService(endpoint, Factory.forProtocol(Greeter), {}),
    TypeError,
  );
});

test('backoffPolicy returns a RetryPolicy; service() a StreamServerEndpointService', () => {
  const policy = backoffPolicy({ jitter: () => 0 });
  expectType<RetryPolicy>()(policy);
  expectType<number>()(policy(1));
  const listening = service('tcp:0', Factory.forProtocol(Greeter), new MemoryReactorClock());
  expectType<StreamServerEndpointService>()(listening);
  assert.ok(listening instanceof StreamServerEndpointService);
});
