// Type tests of Protocol.factory typed by a type parameter, checked by tsc
// during the build: `class P extends LineReceiver<MyFactory>` (and the same
// on Protocol, the other framing receivers and StatefulStringProtocol)
// types `this.factory` without `declare factory`, the `declare factory`
// form keeps compiling, and a protocol without the parameter keeps
// `Factory | undefined`. The runtime assertions check that buildProtocol
// sets the factory the types claim.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Factory, type IPAddress, IPv4Address, Protocol, ServerFactory } from 'torsion/protocol';
import {
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringReceiver,
  StatefulStringProtocol,
} from 'torsion/protocols/basic';
import type { ITCPTransport } from 'torsion/reactor';
import { StringTransport } from 'torsion/testing';
import { expectType } from './expect-type.js';

const peer = new IPv4Address('TCP', '127.0.0.1', 1);

class Finger extends LineReceiver<FingerFactory> {
  override lineReceived(user: Buffer): void {
    this.sendLine(this.factory.getUser(user.toString('utf8')));
  }
}

class FingerFactory extends ServerFactory<Finger> {
  override protocol = Finger;
  getUser(user: string): string {
    return `${user}: no plan`;
  }
}

test('LineReceiver<MyFactory> types this.factory as MyFactory, with no declare', () => {
  const protocol = new FingerFactory().buildProtocol(peer);
  assert.ok(protocol !== null);
  expectType<FingerFactory>()(protocol.factory);
  const transport = new StringTransport();
  protocol.makeConnection(transport);
  protocol.dataReceived(Buffer.from('moshez\r\n'));
  assert.equal(transport.value().toString(), 'moshez: no plan\r\n');
  // Factory.forProtocol builds the same, typed by the factory class it is called on.
  const f = FingerFactory.forProtocol(Finger);
  expectType<FingerFactory>()(f);
  assert.equal(f.buildProtocol(peer)?.factory, f);
});

class Counter extends Factory<Counted> {
  count = 0;
}
class Counted extends Protocol<ITCPTransport<IPAddress>, Counter> {
  override connectionMade(): void {
    this.factory.count++;
    expectType<number>()(this.transport.getPeer().port);
  }
}

test('Protocol<T, MyFactory> types both the transport and the factory', () => {
  const factory = Counter.forProtocol(Counted);
  const protocol = factory.buildProtocol(peer);
  assert.ok(protocol !== null);
  expectType<Counter>()(protocol.factory);
  protocol.makeConnection(new StringTransport());
  assert.equal(factory.count, 1);
});

test('every framing receiver takes the factory type first', () => {
  class Labelled extends Factory {
    readonly label = 'f';
  }
  class A extends LineOnlyReceiver<Labelled> {}
  class B extends NetstringReceiver<Labelled> {}
  class C extends Int32StringReceiver<Labelled> {}
  class D extends Int16StringReceiver<Labelled> {}
  class E extends Int8StringReceiver<Labelled> {}
  class G extends StatefulStringProtocol<Labelled> {}
  const factory = new Labelled();
  for (const P of [A, B, C, D, E, G]) {
    factory.protocol = P;
    const protocol = factory.buildProtocol(peer) as InstanceType<typeof P>;
    expectType<Labelled>()(protocol.factory);
    assert.equal(protocol.factory.label, 'f');
  }
});

test('the declare factory form keeps working, and the default stays Factory | undefined', () => {
  class Declared extends LineReceiver {
    declare factory: FingerFactory;
  }
  expectType<FingerFactory>()(new Declared().factory);
  expectType<Factory | undefined>()(new LineReceiver().factory);
  expectType<Factory | undefined>()(new Protocol().factory);
  // Not called: checked by the compiler only.
  // @ts-expect-error the default factory may be undefined
  void (() => new LineReceiver().factory.numPorts);
  // @ts-expect-error string is not an IProtocolFactory
  void class extends LineReceiver<string> {};
  assert.equal(new Protocol().factory, undefined);
});
