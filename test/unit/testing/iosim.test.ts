// FakeTransport, IOPump, connect, connectedServerAndClient,
// ConnectionCompleter and connectableEndpoint (ported from Twisted's
// twisted/test/test_iosim.py, plus disconnection, half-close, pausing,
// producers and completing a MemoryReactor's connections).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Failure } from 'torsion/defer';
import {
  ClientCreator,
  ClientFactory,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  Factory,
  IPv4Address,
  NoProtocol,
  Protocol,
} from 'torsion/protocol';
import type { IAddress, IConnector, IProtocol, IPushProducer } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import {
  AccumulatingProtocol,
  assertNoResult,
  ConnectionCompleter,
  connect,
  connectableEndpoint,
  connectedServerAndClient,
  FakeAddress,
  FakeTransport,
  failureResultOf,
  IOPump,
  MemoryReactor,
  MemoryReactorClock,
  NonStreamingProducer,
  successResultOf,
} from 'torsion/testing';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const joined = (chunks: Uint8Array[]): Buffer => Buffer.concat(chunks);

/** Records what happens to it. */
class Recorder extends Protocol<FakeTransport> {
  readonly received: Buffer[] = [];
  readonly lost: Failure[] = [];
  made = false;
  override connectionMade(): void {
    this.made = true;
  }
  override dataReceived(data: Uint8Array): void {
    this.received.push(Buffer.from(data));
  }
  override connectionLost(reason: Failure): void {
    this.lost.push(reason);
  }
  get data(): Buffer {
    return Buffer.concat(this.received);
  }
}

/** A Recorder that can half-close. */
class HalfCloser extends Recorder {
  readLost = 0;
  writeLost = 0;
  readConnectionLost(): void {
    this.readLost++;
  }
  writeConnectionLost(): void {
    this.writeLost++;
  }
}

/** Sends back whatever it receives. */
class Echo extends Protocol<FakeTransport> {
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/** Greets the peer when connected. */
class Greeter extends Recorder {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.write(bytes('hello'));
  }
}

/**
 * A push producer that produces nothing but enforces the order of the calls
 * made to it (Twisted's StrictPushProducer).
 */
class StrictPushProducer implements IPushProducer {
  state: 'running' | 'paused' | 'stopped' = 'running';

  stopProducing(): void {
    if (this.state === 'stopped') throw new RangeError('Cannot stop already-stopped IPushProducer');
    this.state = 'stopped';
  }

  pauseProducing(): void {
    if (this.state !== 'running') throw new RangeError(`Cannot pause ${this.state} IPushProducer`);
    this.state = 'paused';
  }

  resumeProducing(): void {
    if (this.state !== 'paused') throw new RangeError(`Cannot resume ${this.state} IPushProducer`);
    this.state = 'running';
  }
}

describe('FakeTransport', () => {
  test('each transport gets a distinct integer serial number', () => {
    const a = new FakeTransport(new Protocol(), true);
    const b = new FakeTransport(new Protocol(), false);
    assert.ok(Number.isInteger(a.serial));
    assert.ok(Number.isInteger(b.serial));
    assert.notEqual(a.serial, b.serial);
  });

  test('writeSequence buffers the chunks after what write buffered', () => {
    const a = new FakeTransport(new Protocol(), false);
    a.write(bytes('a'));
    a.writeSequence([bytes('b'), bytes('c'), bytes('d')]);
    assert.deepEqual(joined(a.stream), bytes('abcd'));
  });

  test('accepts writes after loseConnection but drops them', () => {
    const a = new FakeTransport(new Protocol(), false);
    a.write(bytes('before'));
    a.loseConnection();
    a.write(bytes('after'));
    assert.deepEqual(joined(a.stream), bytes('before'));
  });

  test('throws a TypeError synchronously for a string', () => {
    const a = new FakeTransport(new Protocol(), false);
    assert.throws(() => a.write('text' as unknown as Uint8Array), TypeError);
    assert.throws(() => a.writeSequence(['text' as unknown as Uint8Array]), TypeError);
    assert.deepEqual(a.stream, []);
  });

  test('getOutBuffer takes the buffered bytes, joined, once', () => {
    const a = new FakeTransport(new Protocol(), false);
    assert.equal(a.getOutBuffer(), undefined);
    a.write(bytes('x'));
    a.write(bytes('y'));
    assert.deepEqual(a.getOutBuffer(), bytes('xy'));
    assert.equal(a.getOutBuffer(), undefined);
  });

  test('abortConnection drops what is buffered', () => {
    const a = new FakeTransport(new Protocol(), false);
    a.write(bytes('doomed'));
    a.abortConnection();
    assert.deepEqual(a.stream, []);
    assert.equal(a.aborted, true);
    assert.equal(a.disconnecting, true);
    assert.ok(a.disconnectReason instanceof ConnectionAborted);
  });

  test('has FakeAddress host and peer by default, or the addresses given', () => {
    const plain = new FakeTransport(new Protocol(), true);
    assert.ok(plain.getHost() instanceof FakeAddress);
    assert.ok(plain.getPeer() instanceof FakeAddress);
    const host = new IPv4Address('TCP', '127.0.0.1', 1);
    const peer = new IPv4Address('TCP', '127.0.0.1', 2);
    const given = new FakeTransport(new Protocol(), true, { hostAddress: host, peerAddress: peer });
    assert.equal(given.getHost(), host);
    assert.equal(given.getPeer(), peer);
  });

  test('describes itself by side, serial and protocol class', () => {
    const a = new FakeTransport(new Echo(), true);
    assert.equal(String(a), `FakeTransport<S,${a.serial},Echo>`);
    assert.equal(a.logPrefix(), 'iosim');
  });

  test('registering a second producer throws', () => {
    const a = new FakeTransport(new Protocol(), false);
    a.registerProducer(new StrictPushProducer(), true);
    assert.throws(() => a.registerProducer(new StrictPushProducer(), true), /already registered/);
  });

  test('a pull producer is asked for data as soon as it is registered', () => {
    const a = new FakeTransport(new Protocol(), false);
    const producer = new NonStreamingProducer(a);
    a.registerProducer(producer, false);
    assert.equal(producer.counter, 1);
    assert.deepEqual(joined(a.stream), bytes('0'));
  });

  test('a producer registered after the connection is lost is stopped at once', () => {
    const a = new FakeTransport(new Recorder(), false);
    a.reportDisconnect();
    const producer = new StrictPushProducer();
    a.registerProducer(producer, true);
    assert.equal(producer.state, 'stopped');
    assert.equal(a.producer, undefined);
  });

  test('stopConsuming unregisters the producer and loses the connection', () => {
    const a = new FakeTransport(new Protocol(), false);
    a.registerProducer(new StrictPushProducer(), true);
    a.stopConsuming();
    assert.equal(a.producer, undefined);
    assert.equal(a.disconnecting, true);
  });

  test('records TCP options', () => {
    const a = new FakeTransport(new Protocol(), false);
    a.setTcpNoDelay(true);
    a.setTcpKeepAlive(true);
    assert.equal(a.getTcpNoDelay(), true);
    assert.equal(a.getTcpKeepAlive(), true);
  });
});

describe('StrictPushProducer (the helper the pump tests use)', () => {
  const initial = (): StrictPushProducer => new StrictPushProducer();
  const stopped = (): StrictPushProducer => {
    const p = new StrictPushProducer();
    p.stopProducing();
    return p;
  };
  const paused = (): StrictPushProducer => {
    const p = new StrictPushProducer();
    p.pauseProducing();
    return p;
  };
  const resumed = (): StrictPushProducer => {
    const p = paused();
    p.resumeProducing();
    return p;
  };

  test('stopping a stopped producer throws', () => {
    assert.throws(() => stopped().stopProducing(), RangeError);
  });

  test('pausing a stopped producer throws', () => {
    assert.throws(() => stopped().pauseProducing(), RangeError);
  });

  test('resuming a stopped producer throws', () => {
    assert.throws(() => stopped().resumeProducing(), RangeError);
  });

  test('stopping a paused producer stops it', () => {
    const p = paused();
    p.stopProducing();
    assert.equal(p.state, 'stopped');
  });

  test('pausing a paused producer throws', () => {
    assert.throws(() => paused().pauseProducing(), RangeError);
  });

  test('resuming a paused producer makes it run', () => {
    const p = paused();
    p.resumeProducing();
    assert.equal(p.state, 'running');
  });

  test('stopping a resumed producer stops it', () => {
    const p = resumed();
    p.stopProducing();
    assert.equal(p.state, 'stopped');
  });

  test('pausing a resumed producer pauses it', () => {
    const p = resumed();
    p.pauseProducing();
    assert.equal(p.state, 'paused');
  });

  test('resuming a resumed producer throws', () => {
    assert.throws(() => resumed().resumeProducing(), RangeError);
  });

  test('stopping a new producer stops it', () => {
    const p = initial();
    p.stopProducing();
    assert.equal(p.state, 'stopped');
  });

  test('pausing a new producer pauses it', () => {
    const p = initial();
    p.pauseProducing();
    assert.equal(p.state, 'paused');
  });

  test('resuming a new producer throws', () => {
    assert.throws(() => initial().resumeProducing(), RangeError);
  });
});

/** Two Recorders connected without greeting, with their transports. */
function recorders(options: { clock?: Clock } = {}): {
  client: Recorder;
  server: Recorder;
  clientIO: FakeTransport;
  serverIO: FakeTransport;
  pump: IOPump;
} {
  const server = new Recorder();
  const client = new Recorder();
  const serverIO = new FakeTransport(server, true);
  const clientIO = new FakeTransport(client, false);
  const pump = connect(server, serverIO, client, clientIO, { greet: false, clock: options.clock });
  return { client, server, clientIO, serverIO, pump };
}

describe('IOPump.pump', () => {
  for (const mode of ['server', 'client'] as const) {
    test(`does not resume a streaming producer registered on the ${mode} transport`, () => {
      const { clientIO, serverIO, pump } = recorders();
      const producer = new StrictPushProducer();
      (mode === 'server' ? serverIO : clientIO).registerProducer(producer, true);
      pump.pump();
      assert.equal(producer.state, 'running');
    });
  }

  test('advances the clock it was given, running calls due now', () => {
    const clock = new Clock();
    const [, , pump] = connectedServerAndClient(Protocol, Protocol, { clock });
    const timePassed: boolean[] = [];
    clock.callLater(0, () => timePassed.push(true));
    assert.deepEqual(timePassed, []);
    pump.pump();
    assert.deepEqual(timePassed, [true]);
  });

  test('does not advance the clock when told not to', () => {
    const clock = new Clock();
    const { pump } = recorders({ clock });
    const ran: boolean[] = [];
    clock.callLater(0, () => ran.push(true));
    pump.pump({ advanceClock: false });
    assert.deepEqual(ran, []);
  });

  test('defaults to a MemoryReactorClock', () => {
    assert.ok(recorders().pump.clock instanceof MemoryReactorClock);
  });

  test('moves the bytes buffered on each side to the other side, in one call each', () => {
    const { client, server, clientIO, serverIO, pump } = recorders();
    clientIO.write(bytes('from '));
    clientIO.write(bytes('client'));
    serverIO.write(bytes('from server'));
    assert.equal(pump.pump(), true);
    assert.deepEqual(server.received, [bytes('from client')]);
    assert.deepEqual(client.received, [bytes('from server')]);
    assert.equal(pump.pump(), false);
  });

  test('one pump is one exchange: a reply waits for the next pump', () => {
    const server = new Echo();
    const client = new Recorder();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = connect(server, serverIO, client, clientIO, { greet: false });
    clientIO.write(bytes('ping'));
    pump.pump();
    assert.deepEqual(client.received, []);
    pump.pump();
    assert.deepEqual(client.received, [bytes('ping')]);
  });

  test('asks a registered pull producer for more on every pump', () => {
    const { server, clientIO, pump } = recorders();
    const producer = new NonStreamingProducer(clientIO);
    clientIO.registerProducer(producer, false);
    pump.flush();
    assert.deepEqual(server.data, bytes('0123456789'));
    assert.equal(clientIO.producer, undefined);
  });

  test('prints the traffic when debugging', () => {
    const lines: string[] = [];
    const server = new Recorder();
    const client = new Recorder();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = new IOPump(client, server, clientIO, serverIO, {
      debug: true,
      output: (line) => lines.push(line),
    });
    clientIO.write(bytes('hi'));
    serverIO.write(bytes('yo'));
    pump.pump();
    assert.deepEqual(lines, ['-- GLUG --', '.', 'C: "hi"', 'S: "yo"']);
  });

  test('prints one pump only when asked for that pump', () => {
    const lines: string[] = [];
    const server = new Recorder();
    const client = new Recorder();
    const pump = new IOPump(
      client,
      server,
      new FakeTransport(client, false),
      new FakeTransport(server, true),
      { output: (line) => lines.push(line) },
    );
    pump.pump();
    assert.deepEqual(lines, []);
    pump.pump({ debug: true });
    assert.deepEqual(lines, ['-- GLUG --', '.']);
  });
});

describe('IOPump.flush', () => {
  test('returns false when nothing moves, true when something did', () => {
    const { clientIO, pump } = recorders();
    assert.equal(pump.flush(), false);
    clientIO.write(bytes('x'));
    assert.equal(pump.flush(), true);
  });

  test('pumps until both sides are quiet', () => {
    const [client, , pump] = connectedServerAndClient(Echo, Recorder, { greet: false });
    client.transport.write(bytes('one'));
    client.transport.write(bytes('two'));
    pump.flush();
    assert.deepEqual(client.data, bytes('onetwo'));
  });

  test('throws when the protocols are still talking after 1000 pumps', () => {
    const [client, , pump] = connectedServerAndClient(Echo, Echo, { greet: false });
    client.transport.write(bytes('forever'));
    assert.throws(() => pump.flush(), /after 1000 pumps/);
  });
});

describe('IOPump disconnection', () => {
  test('loseConnection delivers buffered bytes, then tells the peer, then this side', () => {
    const { client, server, serverIO, pump } = recorders();
    serverIO.write(bytes('bye'));
    serverIO.loseConnection();
    pump.pump();
    assert.deepEqual(client.data, bytes('bye'));
    assert.equal(client.lost.length, 0);
    pump.pump();
    assert.equal(client.lost.length, 1);
    assert.equal(server.lost.length, 0);
    pump.pump();
    assert.equal(server.lost.length, 1);
    assert.ok(client.lost[0]?.check(ConnectionDone));
    assert.ok(server.lost[0]?.check(ConnectionDone));
    assert.equal(pump.flush(), false);
    assert.equal(client.lost.length, 1);
    assert.equal(server.lost.length, 1);
  });

  test('a client loseConnection reaches both sides once each', () => {
    const { client, server, clientIO, pump } = recorders();
    clientIO.loseConnection();
    pump.flush();
    assert.equal(server.lost.length, 1);
    assert.equal(client.lost.length, 1);
    assert.equal(clientIO.disconnected, true);
    assert.equal(clientIO.connectionLostReported, true);
  });

  test('both sides closing at once still reports once each', () => {
    const { client, server, clientIO, serverIO, pump } = recorders();
    clientIO.loseConnection();
    serverIO.loseConnection();
    pump.flush();
    assert.equal(server.lost.length, 1);
    assert.equal(client.lost.length, 1);
  });

  test('abortConnection drops buffered bytes; this side gets ConnectionAborted, the peer ConnectionLost', () => {
    const { client, server, clientIO, pump } = recorders();
    clientIO.write(bytes('never sent'));
    clientIO.abortConnection();
    pump.flush();
    assert.deepEqual(server.received, []);
    assert.equal(server.lost.length, 1);
    assert.equal(client.lost.length, 1);
    assert.ok(client.lost[0]?.check(ConnectionAborted));
    const peerError = server.lost[0]?.value;
    assert.ok(peerError instanceof ConnectionLost);
    assert.ok(!(peerError instanceof ConnectionAborted));
  });

  test('bytes sent to a side that aborted are dropped', () => {
    const { client, clientIO, serverIO, pump } = recorders();
    serverIO.write(bytes('too late'));
    clientIO.abortConnection();
    pump.flush();
    assert.deepEqual(client.received, []);
  });

  test('a producer still registered when the connection is lost is stopped', () => {
    const { serverIO, clientIO, pump } = recorders();
    const producer = new StrictPushProducer();
    serverIO.registerProducer(producer, true);
    clientIO.loseConnection();
    pump.flush();
    assert.equal(producer.state, 'stopped');
    assert.equal(serverIO.producer, undefined);
  });

  test('stopProducing on a transport loses the connection', () => {
    const { client, server, clientIO, pump } = recorders();
    clientIO.stopProducing();
    pump.flush();
    assert.equal(client.lost.length, 1);
    assert.equal(server.lost.length, 1);
  });
});

describe('IOPump half-close', () => {
  test('a half-closeable peer gets readConnectionLost and the closing side writeConnectionLost', () => {
    const server = new HalfCloser();
    const client = new HalfCloser();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = connect(server, serverIO, client, clientIO, { greet: false });
    clientIO.write(bytes('request'));
    clientIO.loseWriteConnection();
    clientIO.write(bytes('dropped'));
    pump.flush();
    assert.deepEqual(server.data, bytes('request'));
    assert.equal(server.readLost, 1);
    assert.equal(client.writeLost, 1);
    assert.equal(server.lost.length + client.lost.length, 0);
    // The other direction still works.
    serverIO.write(bytes('response'));
    pump.flush();
    assert.deepEqual(client.data, bytes('response'));
  });

  test('once both directions are shut, the connection is closed', () => {
    const server = new HalfCloser();
    const client = new HalfCloser();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = connect(server, serverIO, client, clientIO, { greet: false });
    clientIO.loseWriteConnection();
    pump.flush();
    serverIO.loseWriteConnection();
    pump.flush();
    assert.equal(server.lost.length, 1);
    assert.equal(client.lost.length, 1);
    assert.ok(server.lost[0]?.check(ConnectionDone));
  });

  test('a peer that cannot half-close loses the whole connection', () => {
    const server = new Recorder();
    const client = new HalfCloser();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = connect(server, serverIO, client, clientIO, { greet: false });
    clientIO.write(bytes('last words'));
    clientIO.loseWriteConnection();
    pump.flush();
    assert.deepEqual(server.data, bytes('last words'));
    assert.equal(server.lost.length, 1);
    assert.equal(client.lost.length, 1);
    assert.equal(client.writeLost, 0);
  });
});

describe('FakeTransport pausing', () => {
  test('pauseProducing holds incoming bytes in the peer buffer until resumeProducing', () => {
    const { server, clientIO, serverIO, pump } = recorders();
    serverIO.pauseProducing();
    clientIO.write(bytes('held'));
    assert.equal(pump.flush(), false);
    assert.deepEqual(server.received, []);
    serverIO.resumeProducing();
    pump.flush();
    assert.deepEqual(server.data, bytes('held'));
  });

  test('a disconnection waits until the held bytes are delivered', () => {
    const { server, clientIO, serverIO, pump } = recorders();
    serverIO.pauseProducing();
    clientIO.write(bytes('held'));
    clientIO.loseConnection();
    pump.flush();
    assert.equal(server.lost.length, 0);
    serverIO.resumeProducing();
    pump.flush();
    assert.deepEqual(server.data, bytes('held'));
    assert.equal(server.lost.length, 1);
  });

  test("records the reading side's producer state", () => {
    const transport = new FakeTransport(new Protocol(), false);
    assert.equal(transport.producerState, 'producing');
    transport.pauseProducing();
    assert.equal(transport.producerState, 'paused');
    transport.stopProducing();
    transport.resumeProducing();
    assert.equal(transport.producerState, 'stopped');
  });
});

describe('connect', () => {
  test('connects the server first, then the client, and greets by default', () => {
    const order: string[] = [];
    class Server extends Greeter {
      override connectionMade(): void {
        order.push('server');
        super.connectionMade();
      }
    }
    class Client extends Recorder {
      override connectionMade(): void {
        order.push('client');
        super.connectionMade();
      }
    }
    const server = new Server();
    const client = new Client();
    connect(server, new FakeTransport(server, true), client, new FakeTransport(client, false));
    assert.deepEqual(order, ['server', 'client']);
    assert.deepEqual(client.data, bytes('hello'));
  });

  test('without greet, nothing moves until the test pumps', () => {
    const server = new Greeter();
    const client = new Recorder();
    const pump = connect(
      server,
      new FakeTransport(server, true),
      client,
      new FakeTransport(client, false),
      { greet: false },
    );
    assert.deepEqual(client.received, []);
    pump.flush();
    assert.deepEqual(client.data, bytes('hello'));
  });
});

describe('connectedServerAndClient', () => {
  test('returns [client, server, pump], connected through fake transports', () => {
    const [client, server, pump] = connectedServerAndClient(Greeter, AccumulatingProtocol);
    assert.ok(client instanceof AccumulatingProtocol);
    assert.ok(server instanceof Greeter);
    assert.equal(pump.client, client);
    assert.equal(pump.server, server);
    assert.equal(pump.serverIO.isServer, true);
    assert.equal(pump.clientIO.isServer, false);
    assert.equal(server.transport, pump.serverIO);
    assert.deepEqual(client.data, bytes('hello'));
  });

  test('accepts functions and factories as well as protocol classes', () => {
    const seen: IAddress[] = [];
    class EchoFactory extends Factory<Echo> {
      override buildProtocol(addr: IAddress): Echo {
        seen.push(addr);
        return new Echo();
      }
    }
    const [client, server, pump] = connectedServerAndClient(
      new EchoFactory(),
      () => new AccumulatingProtocol(),
    );
    assert.ok(server instanceof Echo);
    assert.equal(seen.length, 1);
    client.transport.write(bytes('ping'));
    pump.flush();
    assert.deepEqual(client.data, bytes('ping'));
  });

  test('throws when a factory refuses to build a protocol', () => {
    class Refusing extends Factory {
      override buildProtocol(): null {
        return null;
      }
    }
    assert.throws(() => connectedServerAndClient(new Refusing(), Protocol), /refused/);
  });

  test('uses the transport factories given', () => {
    const made: FakeTransport[] = [];
    const host = new IPv4Address('TCP', '10.0.0.1', 80);
    const [client] = connectedServerAndClient(Protocol, Recorder, {
      clientTransportFactory: (protocol: IProtocol) => {
        const transport = new FakeTransport(protocol, false, { hostAddress: host });
        made.push(transport);
        return transport;
      },
    });
    assert.equal(made.length, 1);
    assert.equal(client.transport.getHost(), host);
  });
});

/** A client factory that records how its attempts went. */
class TrackingClientFactory extends ClientFactory<Recorder> {
  override protocol = Recorder;
  readonly failures: Failure[] = [];
  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    this.failures.push(reason);
  }
}

describe('ConnectionCompleter', () => {
  test('connects a connectTCP attempt to the listenTCP port with the same number', () => {
    const reactor = new MemoryReactorClock();
    reactor.listenTCP(8080, Factory.forProtocol(Echo));
    const factory = new TrackingClientFactory();
    reactor.connectTCP('example.com', 8080, factory);
    const pump = new ConnectionCompleter(reactor).succeedOnce();
    assert.ok(pump !== undefined);
    assert.deepEqual(reactor.tcpClients, []);
    assert.deepEqual(reactor.connectors, []);
    const client = pump.client as Recorder;
    client.transport.write(bytes('ping'));
    pump.flush();
    assert.deepEqual(client.data, bytes('ping'));
    const peer = client.transport.getPeer();
    assert.ok(peer instanceof IPv4Address && peer.host === 'example.com' && peer.port === 8080);
  });

  test('matches a port-0 listener by the number its getHost reports', () => {
    const reactor = new MemoryReactor();
    const port = reactor.listenTCP(0, Factory.forProtocol(Echo));
    const portNumber = (port.getHost() as IPv4Address).port;
    reactor.connectTCP('127.0.0.1', portNumber, new TrackingClientFactory());
    assert.ok(new ConnectionCompleter(reactor).succeedOnce() !== undefined);
  });

  test('returns undefined when no attempt has a listener, and leaves the attempt pending', () => {
    const reactor = new MemoryReactor();
    reactor.listenTCP(1, Factory.forProtocol(Echo));
    reactor.connectTCP('127.0.0.1', 2, new TrackingClientFactory());
    assert.equal(new ConnectionCompleter(reactor).succeedOnce(), undefined);
    assert.equal(reactor.tcpClients.length, 1);
  });

  test('skips attempts whose connector was stopped, and ports that stopped listening', () => {
    const reactor = new MemoryReactor();
    const port = reactor.listenTCP(1, Factory.forProtocol(Echo));
    reactor.connectTCP('127.0.0.1', 1, new TrackingClientFactory()).stopConnecting();
    const completer = new ConnectionCompleter(reactor);
    assert.equal(completer.succeedOnce(), undefined);
    port.stopListening();
    reactor.connectTCP('127.0.0.1', 1, new TrackingClientFactory());
    assert.equal(completer.succeedOnce(), undefined);
  });

  test('completes a ClientCreator connection, firing its Deferred with the protocol', () => {
    const reactor = new MemoryReactorClock();
    reactor.listenTCP(6667, Factory.forProtocol(Greeter));
    const d = new ClientCreator(reactor, Recorder).connectTCP('irc.example', 6667);
    assertNoResult(d);
    new ConnectionCompleter(reactor).succeedOnce();
    const client = successResultOf(d);
    assert.ok(client instanceof Recorder);
    assert.deepEqual(client.data, bytes('hello'));
  });

  test('a client factory that refuses gets clientConnectionFailed with NoProtocol', () => {
    const reactor = new MemoryReactor();
    reactor.listenTCP(1, Factory.forProtocol(Echo));
    class Refusing extends TrackingClientFactory {
      override buildProtocol(): null {
        return null;
      }
    }
    const factory = new Refusing();
    reactor.connectTCP('127.0.0.1', 1, factory);
    assert.equal(new ConnectionCompleter(reactor).succeedOnce(), undefined);
    assert.equal(factory.failures.length, 1);
    assert.ok(factory.failures[0]?.check(NoProtocol));
  });

  test('when the server factory refuses, the client connects and is disconnected at once', () => {
    const reactor = new MemoryReactor();
    class Refusing extends Factory {
      override buildProtocol(): null {
        return null;
      }
    }
    reactor.listenTCP(1, new Refusing());
    reactor.connectTCP('127.0.0.1', 1, new TrackingClientFactory());
    const pump = new ConnectionCompleter(reactor).succeedOnce();
    const client = pump?.client as Recorder;
    assert.equal(client.made, true);
    assert.equal(client.lost.length, 1);
    assert.ok(client.lost[0]?.check(ConnectionDone));
  });

  test('failOnce fails the first attempt with ConnectionRefusedError by default', () => {
    const reactor = new MemoryReactor();
    const factory = new TrackingClientFactory();
    reactor.connectTCP('127.0.0.1', 1, factory);
    new ConnectionCompleter(reactor).failOnce();
    assert.equal(factory.failures.length, 1);
    assert.ok(factory.failures[0]?.check(ConnectionRefusedError));
    assert.deepEqual(reactor.tcpClients, []);
    assert.deepEqual(reactor.connectors, []);
  });

  test('failOnce passes on the reason given', () => {
    const reactor = new MemoryReactor();
    const factory = new TrackingClientFactory();
    reactor.connectTCP('127.0.0.1', 1, factory);
    const reason = new Failure(new Error('simulated'));
    new ConnectionCompleter(reactor).failOnce(reason);
    assert.equal(factory.failures[0], reason);
  });

  test('failOnce throws when no attempt is pending', () => {
    assert.throws(() => new ConnectionCompleter(new MemoryReactor()).failOnce(), /no pending/);
  });
});

describe('connectableEndpoint', () => {
  test("connect's Deferred fires with the protocol once the completer connects it", () => {
    const [endpoint, completer] = connectableEndpoint();
    const d = endpoint.connect(Factory.forProtocol(Recorder));
    assertNoResult(d);
    const pump = completer.succeedOnce();
    const protocol = successResultOf(d);
    assert.ok(protocol instanceof Recorder);
    assert.equal(pump?.client, protocol);
    assert.equal(protocol.made, true);
  });

  test("connect's Deferred fails with the reason given to failOnce", () => {
    const [endpoint, completer] = connectableEndpoint();
    const d = endpoint.connect(Factory.forProtocol(Recorder));
    completer.failOnce();
    failureResultOf(d, ConnectionRefusedError);
  });

  test('cancelling the Deferred stops the attempt: it fails with CancelledError and is never completed', () => {
    const [endpoint, completer] = connectableEndpoint();
    const d = endpoint.connect(Factory.forProtocol(Recorder));
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(completer.succeedOnce(), undefined);
  });
});
