// ProtocolWrapper and WrappingFactory (ported from Twisted's
// twisted/test/test_policies.py, WrapperTests; plus half-close, producer and
// transport forwarding, and a wrapped pair talking through iosim).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import {
  ClientFactory,
  ConnectionDone,
  connectionDone,
  Factory,
  IPv4Address,
  Protocol,
  ServerFactory,
} from 'torsion/protocol';
import { ProtocolWrapper, WrappingFactory } from 'torsion/protocols/policies';
import type {
  IAddress,
  IConnector,
  IHalfCloseableProtocol,
  IProtocol,
  IPushProducer,
} from 'torsion/reactor';
import {
  AccumulatingProtocol,
  CHUNK_SIZES,
  connectedServerAndClient,
  deliverInChunks,
  FakeConnector,
  StringTransport,
  StringTransportWithDisconnection,
} from 'torsion/testing';

const addr = new IPv4Address('TCP', '127.0.0.1', 35);

class EchoProtocol extends Protocol implements IPushProducer {
  paused = false;

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
  }

  stopProducing(): void {}

  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/** A server factory of EchoProtocol. */
class Server extends ServerFactory {
  override protocol = EchoProtocol;
  override noisy = false;
}

/** A protocol that records every event, half-closes included. */
class HalfCloseRecorder extends Protocol implements IHalfCloseableProtocol {
  readonly events: string[] = [];

  readConnectionLost(): void {
    this.events.push('readConnectionLost');
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }
}

/** A protocol with no logPrefix (not a Protocol subclass). */
class NoLogPrefixProtocol implements IProtocol {
  makeConnection(): void {}
  connectionMade(): void {}
  dataReceived(): void {}
  connectionLost(): void {}
}

/** A protocol wrapper connected to a StringTransport. */
function getWrapper(): ProtocolWrapper & { transport: StringTransport } {
  const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), new Protocol());
  const transport = new StringTransport();
  wrapper.makeConnection(transport);
  return wrapper as ProtocolWrapper & { transport: StringTransport };
}

/** A factory with nothing but buildProtocol, doStart and doStop. */
function bareFactory(): { buildProtocol(a: IAddress): IProtocol; doStart(): void; doStop(): void } {
  return { buildProtocol: () => new Protocol(), doStart: () => {}, doStop: () => {} };
}

describe('WrappingFactory.buildProtocol', () => {
  test('leaves the wrapped protocol with the wrapped factory as its factory', () => {
    const f = new Server();
    const wf = new WrappingFactory(f);
    const p = wf.buildProtocol(addr);
    assert.ok(p instanceof ProtocolWrapper);
    assert.equal((p.wrappedProtocol as Protocol).factory, f);
    assert.equal(p.factory, wf);
  });

  test('refuses the connection when the wrapped factory refuses it', () => {
    const wf = new WrappingFactory({ ...bareFactory(), buildProtocol: () => null });
    assert.equal(wf.buildProtocol(addr), null);
  });

  test('passes the peer address to the wrapped factory', () => {
    const seen: IAddress[] = [];
    const wf = new WrappingFactory({
      ...bareFactory(),
      buildProtocol: (a: IAddress) => {
        seen.push(a);
        return new Protocol();
      },
    });
    wf.buildProtocol(addr);
    assert.deepEqual(seen, [addr]);
  });

  test('wraps in what wrapProtocol returns, when a subclass overrides it', () => {
    class Tagged extends ProtocolWrapper {}
    class TaggingFactory extends WrappingFactory<Tagged> {
      override wrapProtocol(wrapped: IProtocol): Tagged {
        return new Tagged(this, wrapped);
      }
    }
    assert.ok(new TaggingFactory(new Server()).buildProtocol(addr) instanceof Tagged);
  });
});

describe('WrappingFactory.logPrefix', () => {
  test('mentions both the wrapped factory and the wrapping factory', () => {
    assert.equal(new WrappingFactory(new Server()).logPrefix(), 'Server (WrappingFactory)');
  });

  test("falls back to the wrapped factory's class name when it has no logPrefix", () => {
    class NoFactory {
      buildProtocol(): IProtocol | null {
        return null;
      }
      doStart(): void {}
      doStop(): void {}
    }
    assert.equal(new WrappingFactory(new NoFactory()).logPrefix(), 'NoFactory (WrappingFactory)');
  });
});

describe('ProtocolWrapper.logPrefix', () => {
  test('mentions both the wrapped protocol and the wrapper', () => {
    const protocol = new WrappingFactory(new Server()).buildProtocol(addr);
    assert.equal(protocol?.logPrefix(), 'EchoProtocol (ProtocolWrapper)');
  });

  test("falls back to the wrapped protocol's class name when it has no logPrefix", () => {
    const server = new Server();
    server.protocol = NoLogPrefixProtocol as unknown as typeof EchoProtocol;
    const protocol = new WrappingFactory(server).buildProtocol(addr);
    assert.equal(protocol?.logPrefix(), 'NoLogPrefixProtocol (ProtocolWrapper)');
  });
});

describe('ProtocolWrapper as a transport', () => {
  test('getHost calls getHost on the underlying transport', () => {
    const host = new IPv4Address('TCP', '10.9.8.7', 4321);
    const transport = new StringTransport({ hostAddress: host });
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), new Protocol());
    wrapper.makeConnection(transport);
    assert.equal(wrapper.getHost(), host);
  });

  test('getPeer calls getPeer on the underlying transport', () => {
    const peer = new IPv4Address('TCP', '10.1.2.3', 999);
    const transport = new StringTransport({ peerAddress: peer });
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), new Protocol());
    wrapper.makeConnection(transport);
    assert.equal(wrapper.getPeer(), peer);
  });

  test('registerProducer registers the producer on the underlying transport', () => {
    const wrapper = getWrapper();
    const producer = new EchoProtocol();
    wrapper.registerProducer(producer, true);
    assert.equal(wrapper.transport.producer, producer);
    assert.equal(wrapper.transport.streaming, true);
  });

  test('unregisterProducer unregisters the producer from the underlying transport', () => {
    const wrapper = getWrapper();
    wrapper.registerProducer(new EchoProtocol(), true);
    wrapper.unregisterProducer();
    assert.equal(wrapper.transport.producer, undefined);
    assert.equal(wrapper.transport.streaming, undefined);
  });

  test('stopConsuming calls stopConsuming on the underlying transport', () => {
    const wrapper = getWrapper();
    const result: boolean[] = [];
    Object.assign(wrapper.transport, { stopConsuming: () => result.push(true) });
    wrapper.stopConsuming();
    assert.deepEqual(result, [true]);
  });

  test('stopConsuming throws a TypeError when the underlying transport has none', () => {
    assert.throws(() => getWrapper().stopConsuming(), TypeError);
  });

  test('write and writeSequence reach the underlying transport', () => {
    const wrapper = getWrapper();
    wrapper.write(Buffer.from('ab'));
    wrapper.writeSequence([Buffer.from('cd'), Buffer.from('ef')]);
    assert.equal(wrapper.transport.value().toString(), 'abcdef');
  });

  test('loseConnection sets disconnecting and closes the underlying transport', () => {
    const wrapper = getWrapper();
    assert.equal(wrapper.disconnecting, false);
    wrapper.loseConnection();
    assert.equal(wrapper.disconnecting, true);
    assert.equal(wrapper.transport.disconnecting, true);
    assert.equal(wrapper.transport.disconnected, false);
  });

  test('abortConnection sets disconnecting and aborts the underlying transport', () => {
    const wrapper = getWrapper();
    wrapper.abortConnection();
    assert.equal(wrapper.disconnecting, true);
    assert.equal(wrapper.transport.disconnected, true);
  });

  test('loseWriteConnection half-closes the underlying transport', () => {
    const wrapper = getWrapper();
    wrapper.loseWriteConnection();
    assert.equal(wrapper.transport.writeDisconnecting, true);
  });

  test('pauseProducing, resumeProducing and stopProducing reach the underlying transport', () => {
    const wrapper = getWrapper();
    wrapper.pauseProducing();
    assert.equal(wrapper.transport.producerState, 'paused');
    wrapper.resumeProducing();
    assert.equal(wrapper.transport.producerState, 'producing');
    wrapper.stopProducing();
    assert.equal(wrapper.transport.producerState, 'stopped');
  });

  test('the TCP options are read and set on the underlying transport', () => {
    const wrapper = getWrapper();
    wrapper.setTcpNoDelay(true);
    wrapper.setTcpKeepAlive(true);
    assert.equal(wrapper.transport.getTcpNoDelay(), true);
    assert.equal(wrapper.transport.getTcpKeepAlive(), true);
    assert.equal(wrapper.getTcpNoDelay(), true);
    assert.equal(wrapper.getTcpKeepAlive(), true);
  });

  test('the wrapped protocol gets the wrapper as its transport', () => {
    const wrapped = new Protocol();
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), wrapped);
    wrapper.makeConnection(new StringTransport());
    assert.equal(wrapped.transport, wrapper);
    assert.equal(wrapped.connected, true);
  });
});

describe('ProtocolWrapper as a protocol', () => {
  for (const size of CHUNK_SIZES) {
    test(`passes every byte to the wrapped protocol when fed ${size}-byte chunks`, () => {
      const wrapped = new AccumulatingProtocol();
      const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), wrapped);
      wrapper.makeConnection(new StringTransport());
      const payload = Buffer.from('here are some bytes, and then some more bytes');
      deliverInChunks(wrapper, payload, size);
      assert.deepEqual(wrapped.data, payload);
    });
  }

  test('registers with its factory on makeConnection and unregisters on connectionLost', () => {
    const factory = new WrappingFactory(new Server());
    const wrapper = factory.buildProtocol(addr);
    assert.ok(wrapper !== null);
    assert.equal(factory.protocols.size, 0);
    const transport = new StringTransportWithDisconnection({ protocol: wrapper });
    wrapper.makeConnection(transport);
    assert.deepEqual([...factory.protocols], [wrapper]);
    transport.loseConnection();
    assert.equal(factory.protocols.size, 0);
  });

  test('passes connectionLost and its reason to the wrapped protocol', () => {
    const wrapped = new AccumulatingProtocol();
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), wrapped);
    const transport = new StringTransportWithDisconnection({ protocol: wrapper });
    wrapper.makeConnection(transport);
    transport.loseConnection();
    assert.equal(wrapped.closed, true);
    assert.ok(wrapped.closedReason?.check(ConnectionDone));
  });

  test('calls its own connectionMade before the wrapped protocol connects', () => {
    const order: string[] = [];
    class Wrapped extends Protocol {
      override connectionMade(): void {
        order.push('wrapped');
      }
    }
    class Noting extends ProtocolWrapper {
      override connectionMade(): void {
        order.push('wrapper');
      }
    }
    new Noting(new WrappingFactory(new Server()), new Wrapped()).makeConnection(
      new StringTransport(),
    );
    assert.deepEqual(order, ['wrapper', 'wrapped']);
  });

  test('is half-closeable when the wrapped protocol is, and passes half-closes on', () => {
    const wrapped = new HalfCloseRecorder();
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), wrapped);
    assert.equal(typeof wrapper.readConnectionLost, 'function');
    assert.equal(typeof wrapper.writeConnectionLost, 'function');
    wrapper.readConnectionLost?.();
    wrapper.writeConnectionLost?.();
    assert.deepEqual(wrapped.events, ['readConnectionLost', 'writeConnectionLost']);
  });

  test('is not half-closeable when the wrapped protocol is not', () => {
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), new Protocol());
    assert.equal(wrapper.readConnectionLost, undefined);
    assert.equal(wrapper.writeConnectionLost, undefined);
  });

  test('carries a half-close between two wrapped protocols in a simulated connection', () => {
    const serverWrapped = new HalfCloseRecorder();
    const factory = new WrappingFactory({ ...bareFactory(), buildProtocol: () => serverWrapped });
    const [client, , pump] = connectedServerAndClient(factory, AccumulatingProtocol);
    client.transport.loseWriteConnection();
    pump.flush();
    assert.deepEqual(serverWrapped.events, ['readConnectionLost']);
  });

  test('a wrapped echo server echoes through a simulated connection', () => {
    const factory = new WrappingFactory(new Server());
    const [client, server, pump] = connectedServerAndClient(factory, AccumulatingProtocol);
    client.transport.write(Buffer.from('hello'));
    pump.flush();
    assert.equal(client.data.toString(), 'hello');
    assert.ok(server instanceof ProtocolWrapper);
    client.transport.loseConnection();
    pump.flush();
    assert.equal(factory.protocols.size, 0);
    assert.equal(client.closed, true);
  });

  test('passes the wrapped protocol a Failure of ConnectionDone when told directly', () => {
    const wrapped = new AccumulatingProtocol();
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), wrapped);
    wrapper.makeConnection(new StringTransport());
    wrapper.connectionLost(connectionDone);
    assert.equal(wrapped.closedReason, connectionDone);
  });
});

describe('WrappingFactory notifications', () => {
  test('startedConnecting calls startedConnecting on the wrapped factory', () => {
    const result: IConnector[] = [];
    class Wrapped extends ClientFactory {
      override startedConnecting(connector: IConnector): void {
        result.push(connector);
      }
    }
    const connector = new FakeConnector(addr, new ClientFactory());
    new WrappingFactory(new Wrapped()).startedConnecting(connector);
    assert.deepEqual(result, [connector]);
  });

  test('clientConnectionLost calls clientConnectionLost on the wrapped factory', () => {
    const result: Array<[IConnector, Failure]> = [];
    class Wrapped extends ClientFactory {
      override clientConnectionLost(connector: IConnector, reason: Failure): void {
        result.push([connector, reason]);
      }
    }
    const connector = new FakeConnector(addr, new ClientFactory());
    new WrappingFactory(new Wrapped()).clientConnectionLost(connector, connectionDone);
    assert.deepEqual(result, [[connector, connectionDone]]);
  });

  test('clientConnectionFailed calls clientConnectionFailed on the wrapped factory', () => {
    const result: Array<[IConnector, Failure]> = [];
    class Wrapped extends ClientFactory {
      override clientConnectionFailed(connector: IConnector, reason: Failure): void {
        result.push([connector, reason]);
      }
    }
    const connector = new FakeConnector(addr, new ClientFactory());
    new WrappingFactory(new Wrapped()).clientConnectionFailed(connector, connectionDone);
    assert.deepEqual(result, [[connector, connectionDone]]);
  });

  test('the client notifications do nothing when the wrapped factory lacks them', () => {
    const wf = new WrappingFactory(bareFactory());
    const connector = new FakeConnector(addr, new ClientFactory());
    assert.doesNotThrow(() => {
      wf.startedConnecting(connector);
      wf.clientConnectionFailed(connector, connectionDone);
      wf.clientConnectionLost(connector, connectionDone);
    });
  });

  test('doStart and doStop start and stop the wrapped factory and then this one', () => {
    const order: string[] = [];
    class Wrapped extends Factory {
      override noisy = false;
      override startFactory(): void {
        order.push('wrapped start');
      }
      override stopFactory(): void {
        order.push('wrapped stop');
      }
    }
    class Wrapping extends WrappingFactory {
      override noisy = false;
      override startFactory(): void {
        order.push('wrapping start');
      }
      override stopFactory(): void {
        order.push('wrapping stop');
      }
    }
    const factory = new Wrapping(new Wrapped());
    factory.doStart();
    assert.deepEqual(order, ['wrapped start', 'wrapping start']);
    factory.doStop();
    assert.deepEqual(order, ['wrapped start', 'wrapping start', 'wrapped stop', 'wrapping stop']);
  });
});
