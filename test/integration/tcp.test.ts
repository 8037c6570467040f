// TCP over loopback on a real NodeReactor: listening, addresses, echo at
// scale, closing (clean, abort, half-close), errors in protocol code,
// clients and connectors, reconnection, and reactor shutdown. Flow control
// (producers) is in tcp-producers.test.ts.
// (Twisted: internet/test/test_tcp.py, internet/test/connectionmixins.py,
// test/test_tcp.py.)

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, test } from 'node:test';
import { CancelledError, type Deferred, type Failure } from 'torsion/defer';
import { captureLogs, type LogEvent } from 'torsion/logger';
import {
  CannotListenError,
  ClientCreator,
  ConnectError,
  ConnectionAborted,
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  Factory,
  InvalidAddressError,
  IPv4Address,
  IPv6Address,
  NotConnectingError,
  type Protocol,
  ReconnectingClientFactory,
  UserError,
} from 'torsion/protocol';
import type { IAddress, IConnector, IListeningPort } from 'torsion/reactor';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  ipv6LoopbackWorks,
  loopTurns,
  Recorder,
  RecordingClientFactory,
  type SocketHarness,
  until,
  waitFor,
} from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };

const HAVE_IPV6 = await ipv6LoopbackWorks();

/** An IPv4 documentation address that is not assigned to this machine. */
function nonLocalAddress(): string {
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((info) => info?.address),
  );
  const candidate = ['203.0.113.7', '198.51.100.7', '192.0.2.77'].find((a) => !local.has(a));
  assert.ok(candidate !== undefined, 'every documentation address is assigned here');
  return candidate;
}

/** Whether the kernel lets a socket bind an address that is not local. */
function nonLocalBindAllowed(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_nonlocal_bind', 'utf8').trim() !== '0';
  } catch {
    return false;
  }
}

function portOf(listening: IListeningPort): number {
  const address = listening.getHost();
  assert.ok(address instanceof IPv4Address || address instanceof IPv6Address);
  return address.port;
}

/** Listens on 127.0.0.1, port 0, with a factory of `make`. */
function serve<P extends Protocol>(
  h: SocketHarness,
  make: () => P,
): { factory: CollectingFactory<P>; listening: IListeningPort; port: number } {
  const factory = new CollectingFactory(make);
  const listening = h.listenTCP(0, factory, { interface: LOCAL });
  return { factory, listening, port: portOf(listening) };
}

/** Connects to 127.0.0.1:`port` with a factory of `make`; resolves once connected. */
async function connect<P extends Recorder>(
  h: SocketHarness,
  port: number,
  make: () => P,
): Promise<{ factory: RecordingClientFactory<P>; protocol: P }> {
  const factory = new RecordingClientFactory(make);
  h.connectTCP(LOCAL, port, factory);
  const protocol = await waitFor(factory.nth(0), 'the client protocol');
  await waitFor(protocol.made, 'the client connectionMade');
  return { factory, protocol };
}

/** Bytes 0, 1, …, 255, 0, 1, … of length `n`. */
function pattern(n: number): Buffer {
  const data = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) data[i] = i & 0xff;
  return data;
}

function failureEvents(events: LogEvent[]): LogEvent[] {
  return events.filter((e) => e.log_failure !== undefined);
}

function assertReason(reason: Failure | undefined, expected: typeof ConnectionClosed): void {
  assert.ok(reason !== undefined, 'connectionLost was called');
  assert.ok(
    reason.check(expected) !== null,
    `expected ${expected.name}, got ${reason.getErrorMessage()}`,
  );
}

describe('listenTCP', SUITE, () => {
  test('binds port 0 before returning, reports the chosen port from getHost(), and starts the factory', (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    const listening = h.listenTCP(0, factory, { interface: LOCAL });
    const address = listening.getHost();
    assert.ok(address instanceof IPv4Address);
    assert.equal(address.type, 'TCP');
    assert.equal(address.host, LOCAL);
    assert.ok(address.port > 0 && address.port < 65536, `port ${address.port}`);
    assert.equal(factory.starts, 1);
  });

  test('throws CannotListenError (EADDRINUSE) for a port in use, without starting the factory', (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new Recorder());
    const second = new CollectingFactory(() => new Recorder());
    const error = assertThrows(() => h.listenTCP(port, second, { interface: LOCAL }));
    assert.ok(error instanceof CannotListenError);
    assert.equal(error.socketError, 'EADDRINUSE');
    assert.equal(error.port, port);
    assert.equal(error.interface, LOCAL);
    assert.equal(second.starts, 0);
  });

  const NONLOCAL_BIND = nonLocalBindAllowed();

  test('throws CannotListenError (EADDRNOTAVAIL) for an address that is not local, without starting the factory', {
    skip: NONLOCAL_BIND && 'net.ipv4.ip_nonlocal_bind is set: the kernel binds any address',
  }, (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    const address = nonLocalAddress();
    const error = assertThrows(() => h.listenTCP(0, factory, { interface: address }));
    assert.ok(error instanceof CannotListenError);
    assert.equal(error.socketError, 'EADDRNOTAVAIL');
    assert.equal(error.interface, address);
    assert.equal(factory.starts, 0);
  });

  test('listens synchronously on an address that is not local where net.ipv4.ip_nonlocal_bind is set', {
    skip: !NONLOCAL_BIND && 'net.ipv4.ip_nonlocal_bind is not set: such a bind fails',
  }, (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    const address = nonLocalAddress();
    const listening = h.listenTCP(0, factory, { interface: address });
    const bound = listening.getHost();
    assert.ok(bound instanceof IPv4Address);
    assert.equal(bound.host, address);
    assert.equal(factory.starts, 1);
  });

  test('throws InvalidAddressError for an interface that is not an IP address', (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    assert.throws(() => h.listenTCP(0, factory, { interface: 'localhost' }), InvalidAddressError);
    assert.throws(
      () => h.listenTCP(0, factory, { interface: 'not an address' }),
      InvalidAddressError,
    );
    assert.equal(factory.starts, 0);
  });

  test('stopListening fires its Deferred, calls doStop, and refuses new connections', async (t) => {
    const h = harness(t);
    const { factory, listening, port } = serve(h, () => new Recorder());
    const stopped = listening.stopListening();
    await waitFor(stopped, 'stopListening');
    assert.equal(factory.stops, 1);
    // A second call fires at once and does not stop the factory again.
    await waitFor(listening.stopListening(), 'the second stopListening');
    assert.equal(factory.stops, 1);
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectTCP(LOCAL, port, client);
    const reason = await waitFor(client.failed, 'the connection to fail');
    assert.ok(reason.check(ConnectionRefusedError));
  });

  test('doStart and doStop are counted per port, and startFactory/stopFactory run once', async (t) => {
    const h = harness(t);
    const events: string[] = [];
    class Counting extends Factory<Recorder> {
      override noisy = false;
      override startFactory(): void {
        events.push('startFactory');
      }
      override stopFactory(): void {
        events.push('stopFactory');
      }
    }
    const factory = Counting.forProtocol(Recorder);
    const first = h.listenTCP(0, factory, { interface: LOCAL });
    const second = h.listenTCP(0, factory, { interface: LOCAL });
    assert.equal(factory.numPorts, 2);
    await waitFor(first.stopListening(), 'the first port to stop');
    assert.equal(factory.numPorts, 1);
    assert.deepEqual(events, ['startFactory']);
    await waitFor(second.stopListening(), 'the second port to stop');
    assert.equal(factory.numPorts, 0);
    assert.deepEqual(events, ['startFactory', 'stopFactory']);
  });

  test('listens and echoes over IPv6 loopback (::1), with IPv6Address ends', {
    skip: !HAVE_IPV6 && 'no IPv6 loopback',
  }, async (t) => {
    const h = harness(t);
    const server = new CollectingFactory(() => new EchoRecorder());
    const listening = h.listenTCP(0, server, { interface: '::1' });
    const bound = listening.getHost();
    assert.ok(bound instanceof IPv6Address);
    assert.equal(bound.host, '::1');
    const client = new RecordingClientFactory(() => new Recorder());
    const connector = h.connectTCP('::1', bound.port, client);
    assert.ok(connector.getDestination() instanceof IPv6Address);
    const protocol = await waitFor(client.nth(0), 'the client protocol');
    await waitFor(protocol.made, 'connectionMade');
    protocol.transport.write(Buffer.from('over six'));
    await waitFor(protocol.bytes(8), 'the echo');
    assert.equal(protocol.data().toString(), 'over six');
    const peer = protocol.transport.getPeer();
    const host = protocol.transport.getHost();
    assert.ok(peer instanceof IPv6Address && host instanceof IPv6Address);
    assert.equal(peer.port, bound.port);
    const serverSide = server.protocols[0]!;
    const serverPeer = serverSide.transport.getPeer();
    assert.ok(serverPeer instanceof IPv6Address);
    assert.equal(serverPeer.port, host.port);
    assert.equal(serverPeer.host, '::1');
  });

  test('listenTCP on ::1 throws CannotListenError where IPv6 loopback is unavailable', {
    skip: HAVE_IPV6 && 'IPv6 loopback is available',
  }, (t) => {
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    assert.throws(() => h.listenTCP(0, factory, { interface: '::1' }), CannotListenError);
    assert.equal(factory.starts, 0);
  });
});

describe('TCP connections', SUITE, () => {
  test('echoes bytes, and both ends report IPv4Address host and peer with the right ports', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new EchoRecorder());
    const { protocol } = await connect(h, port, () => new Recorder());
    protocol.transport.write(Buffer.from('hello, '));
    protocol.transport.writeSequence([Buffer.from('wor'), Buffer.from('ld')]);
    await waitFor(protocol.bytes(12), 'the echo');
    assert.equal(protocol.data().toString(), 'hello, world');

    const clientHost = protocol.transport.getHost();
    const clientPeer = protocol.transport.getPeer();
    const serverSide = server.protocols[0]!;
    const serverHost = serverSide.transport.getHost();
    const serverPeer = serverSide.transport.getPeer();
    for (const address of [clientHost, clientPeer, serverHost, serverPeer]) {
      assert.ok(address instanceof IPv4Address, String(address));
      assert.equal(address.type, 'TCP');
      assert.equal(address.host, LOCAL);
    }
    assert.equal((clientPeer as IPv4Address).port, port);
    assert.equal((serverHost as IPv4Address).port, port);
    assert.equal((serverPeer as IPv4Address).port, (clientHost as IPv4Address).port);
    assert.notEqual((clientHost as IPv4Address).port, port);
  });

  test('serves 1,000 concurrent connections, each getting its own message echoed', async (t) => {
    const h = harness(t);
    const count = 1000;
    const server = new CollectingFactory(() => new EchoRecorder());
    // A backlog above the number of simultaneous connects: with the default
    // of 50 the kernel drops the handshakes it cannot queue, and those
    // clients wait a second or more to retry.
    const listening = h.listenTCP(0, server, { interface: LOCAL, backlog: count });
    const port = portOf(listening);
    class Greeter extends Recorder {
      constructor(readonly message: string) {
        super();
      }
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write(Buffer.from(this.message));
      }
      override dataReceived(data: Uint8Array): void {
        super.dataReceived(data);
        if (this.received >= this.message.length) this.transport.loseConnection();
      }
    }
    const clients: Array<RecordingClientFactory<Greeter>> = [];
    for (let i = 0; i < count; i++) {
      const message = `message number ${i}`;
      const client = new RecordingClientFactory(() => new Greeter(message));
      h.connectTCP(LOCAL, port, client);
      clients.push(client);
    }
    await until(() => server.protocols.length === count, `${count} accepted connections`, 20);
    await waitFor(
      Promise.all(server.protocols.map((p) => p.lost)),
      'every server connection to close',
      20,
    );
    await until(
      () => clients.every((c) => c.losses.length === 1),
      'every client connection to close',
      5,
    );
    assert.equal(server.protocols.length, count);
    for (const p of server.protocols) assertReason(p.reason, ConnectionDone);
    for (const client of clients) {
      const protocol = client.protocols[0]!;
      assert.equal(protocol.data().toString(), protocol.message);
      assertReason(protocol.reason, ConnectionDone);
      assert.equal(client.failures.length, 0);
    }
  });

  test('connectTCP to the host name "localhost" connects over IPv4', async (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new EchoRecorder());
    const client = new RecordingClientFactory(() => new Recorder());
    const connector = h.connectTCP('localhost', port, client);
    const destination = connector.getDestination();
    assert.ok(destination instanceof IPv4Address);
    assert.equal(destination.host, 'localhost');
    const protocol = await waitFor(client.nth(0), 'the client protocol');
    await waitFor(protocol.made, 'connectionMade');
    const peer = protocol.transport.getPeer();
    assert.ok(peer instanceof IPv4Address);
    assert.equal(peer.host, LOCAL);
    assert.equal(peer.port, port);
    protocol.transport.write(Buffer.from('ping'));
    await waitFor(protocol.bytes(4), 'the echo');
  });

  test('connectTCP binds the local end to bindAddress', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    // A port that was free a moment ago (no connection used it, so no TIME_WAIT).
    const probe = h.listenTCP(0, new CollectingFactory(() => new Recorder()), { interface: LOCAL });
    const localPort = portOf(probe);
    await waitFor(probe.stopListening(), 'the probe port to stop');
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectTCP(LOCAL, port, client, { bindAddress: [LOCAL, localPort] });
    const protocol = await waitFor(client.nth(0), 'the client protocol');
    await waitFor(protocol.made, 'connectionMade');
    const host = protocol.transport.getHost();
    assert.ok(host instanceof IPv4Address);
    assert.equal(host.port, localPort);
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.made, 'the server connectionMade');
    assert.equal((serverSide.transport.getPeer() as IPv4Address).port, localPort);
  });

  test('setTcpNoDelay and setTcpKeepAlive are remembered', async (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new Recorder());
    const { protocol } = await connect(h, port, () => new Recorder());
    const transport = protocol.transport;
    assert.equal(transport.getTcpNoDelay(), false);
    assert.equal(transport.getTcpKeepAlive(), false);
    transport.setTcpNoDelay(true);
    transport.setTcpKeepAlive(true);
    assert.equal(transport.getTcpNoDelay(), true);
    assert.equal(transport.getTcpKeepAlive(), true);
  });
});

describe('Closing TCP connections', SUITE, () => {
  /** Writes `data` on connectionMade, then loseConnection at once. */
  class SendAndClose extends Recorder {
    constructor(readonly payload: Buffer) {
      super();
    }
    override connectionMade(): void {
      super.connectionMade();
      this.transport.write(this.payload);
      this.transport.loseConnection();
      // Once closing, writes are dropped without an error.
      this.transport.write(Buffer.from('dropped'));
    }
  }

  test('loseConnection sends all of 1 MiB written before it; both ends get ConnectionDone once', async (t) => {
    const h = harness(t);
    const payload = pattern(1024 * 1024);
    const { factory: server, port } = serve(h, () => new Recorder());
    const { protocol: client } = await connect(h, port, () => new SendAndClose(payload));
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    await waitFor(client.lost, 'the client connectionLost');
    assert.equal(serverSide.received, payload.length);
    assert.ok(serverSide.data().equals(payload), 'the bytes arrived intact and in order');
    assertReason(serverSide.reason, ConnectionDone);
    assertReason(client.reason, ConnectionDone);
    await loopTurns();
    assert.equal(serverSide.lostCalls, 1);
    assert.equal(client.lostCalls, 1);
  });

  test('loseConnection waits for a slow reader to take 16 MiB before closing', async (t) => {
    const h = harness(t);
    const payload = pattern(16 * 1024 * 1024);
    class SlowReader extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.pauseProducing();
      }
    }
    const { factory: server, port } = serve(h, () => new SlowReader());
    const { protocol: client } = await connect(h, port, () => new SendAndClose(payload));
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    // Node polls several times meanwhile: a close that did not wait for the
    // reader would have been seen by now.
    await h.roundTrip();
    assert.equal(client.lostCalls, 0, 'the client stays open while its data waits');
    serverSide.transport.resumeProducing();
    await waitFor(serverSide.lost, 'the server connectionLost');
    await waitFor(client.lost, 'the client connectionLost');
    assert.equal(serverSide.received, payload.length);
    assert.ok(serverSide.data().equals(payload));
    assertReason(serverSide.reason, ConnectionDone);
    assertReason(client.reason, ConnectionDone);
  });

  test('writes after connectionLost are dropped silently', async (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new Recorder());
    const { protocol } = await connect(h, port, () => new Recorder());
    protocol.transport.loseConnection();
    await waitFor(protocol.lost, 'connectionLost');
    protocol.transport.write(Buffer.from('too late'));
    protocol.transport.writeSequence([Buffer.from('far '), Buffer.from('too late')]);
    protocol.transport.loseConnection();
    protocol.transport.abortConnection();
    await loopTurns();
    assert.equal(protocol.lostCalls, 1);
  });

  test('write and writeSequence throw TypeError for a string, synchronously', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    const { protocol } = await connect(h, port, () => new Recorder());
    const transport = protocol.transport;
    assert.throws(() => transport.write('text' as unknown as Uint8Array), TypeError);
    assert.throws(
      () => transport.writeSequence([Buffer.from('ok'), 'text' as unknown as Uint8Array]),
      TypeError,
    );
    // Nothing of the rejected writeSequence was sent.
    transport.write(Buffer.from('end'));
    transport.loseConnection();
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    assert.equal(serverSide.data().toString(), 'end');
  });

  test('abortConnection: ConnectionAborted here, ConnectionLost (reset) at an idle peer', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new EchoRecorder());
    const { protocol: client } = await connect(h, port, () => new Recorder());
    // One exchange first, so that the peer has read everything when the reset comes.
    client.transport.write(Buffer.from('ping'));
    await waitFor(client.bytes(4), 'the echo');
    client.transport.abortConnection();
    // Aborting again, or losing the connection after, does nothing more.
    client.transport.abortConnection();
    client.transport.loseConnection();
    await waitFor(client.lost, 'the client connectionLost');
    assertReason(client.reason, ConnectionAborted);
    const serverSide = server.protocols[0]!;
    await waitFor(serverSide.lost, 'the server connectionLost');
    assertReason(serverSide.reason, ConnectionLost);
    assert.equal(serverSide.reason?.check(ConnectionAborted), null, 'the peer did not abort');
    const error = serverSide.reason?.value as Error & { cause?: { code?: string } };
    assert.equal(error.cause?.code, 'ECONNRESET');
    await loopTurns();
    assert.equal(client.lostCalls, 1);
    assert.equal(serverSide.lostCalls, 1);
  });

  test('abortConnection drops the data still buffered', async (t) => {
    const h = harness(t);
    const payload = pattern(16 * 1024 * 1024);
    class SlowReader extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.pauseProducing();
      }
    }
    class WriteAndAbort extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write(payload);
        this.transport.abortConnection();
      }
    }
    const { factory: server, port } = serve(h, () => new SlowReader());
    const { protocol: client } = await connect(h, port, () => new WriteAndAbort());
    await waitFor(client.lost, 'the client connectionLost');
    assertReason(client.reason, ConnectionAborted);
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.made, 'the server connectionMade');
    serverSide.transport.resumeProducing();
    await waitFor(serverSide.lost, 'the server connectionLost');
    // The peer reads what reached its kernel before the reset. libuv reports
    // a reset that arrives behind unread data as end-of-file, so the peer's
    // reason may be ConnectionDone here (Twisted's own abort tests accept
    // ConnectionLost or ConnectionDone for the peer).
    assertReason(serverSide.reason, ConnectionClosed);
    assert.ok(
      serverSide.received < payload.length,
      `the peer got ${serverSide.received} of ${payload.length} bytes`,
    );
    assert.ok(serverSide.data().equals(payload.subarray(0, serverSide.received)));
  });

  /** A protocol implementing IHalfCloseableProtocol that records the order of events. */
  class HalfCloser extends Recorder {
    readonly events: string[] = [];
    override dataReceived(data: Uint8Array): void {
      super.dataReceived(data);
      this.events.push(`data ${Buffer.from(data).toString()}`);
    }
    readConnectionLost(): void {
      this.events.push('readConnectionLost');
    }
    writeConnectionLost(): void {
      this.events.push('writeConnectionLost');
    }
    override connectionLost(reason: Failure): void {
      this.events.push(`connectionLost ${reason.getErrorMessage()}`);
      super.connectionLost(reason);
    }
  }

  test('half-close: the peer gets readConnectionLost, can still reply, then both close cleanly', async (t) => {
    const h = harness(t);
    class Replier extends HalfCloser {
      override readConnectionLost(): void {
        super.readConnectionLost();
        this.transport.write(Buffer.from('reply'));
        this.transport.loseConnection();
      }
    }
    class Requester extends HalfCloser {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write(Buffer.from('request'));
        this.transport.loseWriteConnection();
        // Writes after loseWriteConnection are dropped.
        this.transport.write(Buffer.from('dropped'));
      }
    }
    const { factory: server, port } = serve(h, () => new Replier());
    const { protocol: client } = await connect(h, port, () => new Requester());
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(client.lost, 'the client connectionLost');
    await waitFor(serverSide.lost, 'the server connectionLost');
    const done = `connectionLost ${new ConnectionDone().message}`;
    assert.deepEqual(serverSide.events, ['data request', 'readConnectionLost', done]);
    assert.deepEqual(client.events, [
      'writeConnectionLost',
      'data reply',
      'readConnectionLost',
      done,
    ]);
  });

  test('half-close: a protocol without readConnectionLost is closed with ConnectionDone', async (t) => {
    const h = harness(t);
    class Requester extends HalfCloser {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write(Buffer.from('request'));
        this.transport.loseWriteConnection();
      }
    }
    const { factory: server, port } = serve(h, () => new Recorder());
    const { protocol: client } = await connect(h, port, () => new Requester());
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    await waitFor(client.lost, 'the client connectionLost');
    assert.equal(serverSide.data().toString(), 'request');
    assertReason(serverSide.reason, ConnectionDone);
    assertReason(client.reason, ConnectionDone);
    assert.deepEqual(client.events, [
      'writeConnectionLost',
      'readConnectionLost',
      `connectionLost ${new ConnectionDone().message}`,
    ]);
  });
});

describe('Errors in protocol code', SUITE, () => {
  /** Echoes, and throws in dataReceived when it sees "boom". */
  class Fragile extends EchoRecorder {
    override dataReceived(data: Uint8Array): void {
      if (Buffer.from(data).includes('boom')) throw new Error('boom in dataReceived');
      super.dataReceived(data);
    }
  }

  async function assertStillServing(h: SocketHarness, port: number): Promise<void> {
    const { protocol } = await connect(h, port, () => new Recorder());
    protocol.transport.write(Buffer.from('still there?'));
    await waitFor(protocol.bytes(12), 'an echo from the server');
    assert.equal(protocol.data().toString(), 'still there?');
  }

  test('a throw in dataReceived is logged and aborts only that connection', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    const { factory: server, port } = serve(h, () => new Fragile());
    const { protocol: client } = await connect(h, port, () => new Recorder());
    client.transport.write(Buffer.from('boom'));
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    assertReason(serverSide.reason, ConnectionAborted);
    await waitFor(client.lost, 'the client connectionLost');
    assertReason(client.reason, ConnectionLost);
    const failures = failureEvents(logs.events);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.log_failure?.getErrorMessage(), 'boom in dataReceived');
    assert.equal(failures[0]?.callback, 'dataReceived');
    await assertStillServing(h, port);
    assert.equal(serverSide.lostCalls, 1);
  });

  test('a throw in connectionMade is logged and aborts only that connection', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    let built = 0;
    class FailsFirst extends EchoRecorder {
      override connectionMade(): void {
        super.connectionMade();
        if (built++ === 0) throw new Error('boom in connectionMade');
      }
    }
    const { factory: server, port } = serve(h, () => new FailsFirst());
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectTCP(LOCAL, port, client);
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    assertReason(serverSide.reason, ConnectionAborted);
    // The reset can reach the client before its connect completes: then the
    // attempt fails instead of the connection being lost.
    const clientReason = await waitFor(
      Promise.race([client.failed, client.lostConnection]),
      'the client to hear of the reset',
    );
    assert.ok(clientReason.check(ConnectionLost, ConnectError), clientReason.getErrorMessage());
    const failures = failureEvents(logs.events);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.log_failure?.getErrorMessage(), 'boom in connectionMade');
    await assertStillServing(h, port);
  });

  test('buildProtocol returning null closes that connection at once and the server goes on', async (t) => {
    const h = harness(t);
    let calls = 0;
    const server = new CollectingFactory(() => new EchoRecorder());
    const refusing = {
      buildProtocol: (addr: IAddress) => (calls++ === 0 ? null : server.buildProtocol(addr)),
      doStart: () => undefined,
      doStop: () => undefined,
    };
    const listening = h.listenTCP(0, refusing, { interface: LOCAL });
    const port = portOf(listening);
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectTCP(LOCAL, port, client);
    const refused = await waitFor(client.nth(0), 'the client protocol');
    const reason = await waitFor(refused.lost, 'the refused connection to close', 5);
    assert.ok(reason.check(ConnectionClosed));
    assert.equal(refused.received, 0);
    await assertStillServing(h, port);
    assert.equal(calls, 2);
  });

  test('a throw in buildProtocol is logged, closes that connection, and the server goes on', async (t) => {
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    let calls = 0;
    const server = new CollectingFactory(() => new EchoRecorder());
    const failing = {
      buildProtocol: (addr: IAddress) => {
        if (calls++ === 0) throw new Error('boom in buildProtocol');
        return server.buildProtocol(addr);
      },
      doStart: () => undefined,
      doStop: () => undefined,
    };
    const port = portOf(h.listenTCP(0, failing, { interface: LOCAL }));
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectTCP(LOCAL, port, client);
    const refused = await waitFor(client.nth(0), 'the client protocol');
    await waitFor(refused.lost, 'the refused connection to close', 5);
    const failures = failureEvents(logs.events);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.log_failure?.getErrorMessage(), 'boom in buildProtocol');
    await assertStillServing(h, port);
  });
});

describe('TCP clients', SUITE, () => {
  /** A port number nothing listens on: bound a moment ago, then released. */
  async function closedPort(h: SocketHarness): Promise<number> {
    const listening = h.listenTCP(0, new CollectingFactory(() => new Recorder()), {
      interface: LOCAL,
    });
    const port = portOf(listening);
    await waitFor(listening.stopListening(), 'the port to stop');
    return port;
  }

  test('a refused connection calls clientConnectionFailed with ConnectionRefusedError, then doStop', async (t) => {
    const h = harness(t);
    const port = await closedPort(h);
    const client = new RecordingClientFactory(() => new Recorder());
    const connector = h.connectTCP(LOCAL, port, client);
    assert.equal(client.starts, 1, 'doStart is called when connecting starts');
    assert.deepEqual(client.started, [connector]);
    const reason = await waitFor(client.failed, 'clientConnectionFailed');
    const error = reason.value;
    assert.ok(error instanceof ConnectionRefusedError, reason.getErrorMessage());
    assert.equal(error.osError, 'ECONNREFUSED');
    assert.equal(client.stops, 1);
    assert.equal(client.protocols.length, 0);
    assert.throws(() => connector.stopConnecting(), NotConnectingError);
  });

  test('stopConnecting while connecting fails the attempt with UserError', async (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new Recorder());
    class Impatient extends RecordingClientFactory<Recorder> {
      override startedConnecting(connector: IConnector): void {
        super.startedConnecting(connector);
        connector.stopConnecting();
      }
    }
    const client = new Impatient(() => new Recorder());
    h.connectTCP(LOCAL, port, client);
    const reason = await waitFor(client.failed, 'clientConnectionFailed');
    assert.ok(reason.check(UserError), reason.getErrorMessage());
    assert.equal(client.stops, 1);
    await h.roundTrip();
    assert.equal(client.protocols.length, 0, 'no protocol was built');
    assert.equal(client.failures.length, 1);
  });

  test('clientConnectionLost is called with ConnectionDone when the server closes', async (t) => {
    const h = harness(t);
    class Closer extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write(Buffer.from('bye'));
        this.transport.loseConnection();
      }
    }
    const { port } = serve(h, () => new Closer());
    const client = new RecordingClientFactory(() => new Recorder());
    const connector = h.connectTCP(LOCAL, port, client);
    const reason = await waitFor(client.lostConnection, 'clientConnectionLost');
    assert.ok(reason.check(ConnectionDone), reason.getErrorMessage());
    const protocol = client.protocols[0]!;
    assert.equal(protocol.data().toString(), 'bye');
    assertReason(protocol.reason, ConnectionDone);
    assert.equal(client.starts, 1);
    assert.equal(client.stops, 1);
    assert.equal(client.failures.length, 0);
    // The connector can connect again, starting the factory again.
    connector.connect();
    await waitFor(client.nth(1), 'the second connection');
    await until(() => client.losses.length === 2, 'the second connection to close');
    assert.equal(client.starts, 2);
    assert.equal(client.stops, 2);
  });

  test('disconnect() on a connected connector closes the connection cleanly', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    const client = new RecordingClientFactory(() => new Recorder());
    const connector = h.connectTCP(LOCAL, port, client);
    const protocol = await waitFor(client.nth(0), 'the client protocol');
    await waitFor(protocol.made, 'connectionMade');
    connector.disconnect();
    const reason = await waitFor(client.lostConnection, 'clientConnectionLost');
    assert.ok(reason.check(ConnectionDone));
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    assertReason(serverSide.reason, ConnectionDone);
  });

  test('ClientCreator.connectTCP fires with the protocol after connectionMade', async (t) => {
    const h = harness(t);
    const { port } = serve(h, () => new EchoRecorder());
    const creator = new ClientCreator(h.reactor, Recorder);
    const protocol = await waitFor(creator.connectTCP(LOCAL, port), 'ClientCreator');
    assert.ok(protocol instanceof Recorder);
    assert.ok(protocol.connected, 'connectionMade has run');
    assert.equal((protocol.transport.getPeer() as IPv4Address).port, port);
    protocol.transport.write(Buffer.from('hi'));
    await waitFor(protocol.bytes(2), 'the echo');
    protocol.transport.loseConnection();
    await waitFor(protocol.lost, 'connectionLost');
  });

  test('ClientCreator.connectTCP fails with ConnectionRefusedError when nothing listens', async (t) => {
    const h = harness(t);
    const port = await closedPort(h);
    const d = new ClientCreator(h.reactor, Recorder).connectTCP(LOCAL, port);
    await assert.rejects(waitFor(d, 'ClientCreator'), ConnectionRefusedError);
  });

  test('cancelling ClientCreator while connecting stops the attempt with CancelledError', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    const made: Recorder[] = [];
    class Tracked extends Recorder {
      constructor(list: Recorder[]) {
        super();
        list.push(this);
      }
    }
    const d = new ClientCreator(h.reactor, Tracked, made).connectTCP(LOCAL, port);
    d.cancel();
    await assert.rejects(waitFor(d, 'the cancelled Deferred'), CancelledError);
    await h.roundTrip();
    assert.equal(made.length, 1);
    assert.equal(made[0]?.connected, false, 'the protocol was never connected');
    // If the server accepted the socket before it was dropped, that
    // connection is closed too.
    for (const serverSide of server.protocols) await waitFor(serverSide.lost, 'the server side');
  });

  test('cancelling ClientCreator once connected disconnects the protocol', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    let d: Deferred<Recorder> | undefined;
    class CancelsOnConnect extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        d?.cancel();
      }
    }
    d = new ClientCreator(h.reactor, CancelsOnConnect).connectTCP(LOCAL, port);
    const protocol = await waitFor(
      d.addErrback((f) => {
        f.trap(CancelledError);
        return null;
      }),
      'the cancelled Deferred',
    );
    assert.equal(protocol, null);
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    assertReason(serverSide.reason, ConnectionDone);
  });

  test('ReconnectingClientFactory reconnects after the server stops and restarts on the same port', async (t) => {
    const h = harness(t);
    const first = serve(h, () => new Recorder());
    const port = first.port;
    const attempts: string[] = [];
    class Reconnecting extends ReconnectingClientFactory<Recorder> {
      override noisy = false;
      readonly protocols: Recorder[] = [];
      override buildProtocol(_addr: IAddress): Recorder {
        this.resetDelay();
        const protocol = new Recorder();
        this.protocols.push(protocol);
        attempts.push('connected');
        return protocol;
      }
      override clientConnectionFailed(connector: IConnector, reason: Failure): void {
        attempts.push(reason.check(ConnectionRefusedError) ? 'refused' : reason.getErrorMessage());
        super.clientConnectionFailed(connector, reason);
      }
      override clientConnectionLost(connector: IConnector, reason: Failure): void {
        attempts.push('lost');
        super.clientConnectionLost(connector, reason);
      }
    }
    const client = new Reconnecting({
      clock: h.reactor,
      initialDelay: 0.02,
      maxDelay: 0.1,
      factor: 1.5,
      jitter: 0,
    });
    t.after(() => client.stopTrying());
    h.connectTCP(LOCAL, port, client);
    const serverSide = await waitFor(first.factory.nth(0), 'the first connection');
    await waitFor(serverSide.made, 'the first connectionMade');

    // The server goes away: the port closes and so does its connection.
    await waitFor(first.listening.stopListening(), 'the first port to stop');
    serverSide.transport.loseConnection();
    await until(() => attempts.includes('refused'), 'a refused reconnection attempt', 5);

    // It comes back on the same port; the client finds it.
    const second = new CollectingFactory(() => new Recorder());
    h.listenTCP(port, second, { interface: LOCAL });
    const again = await waitFor(second.nth(0), 'the reconnection', 5);
    await waitFor(again.made, 'the second server connectionMade');
    await until(() => client.protocols.length === 2, 'the client to reconnect', 5);
    await waitFor(client.protocols[1]!.made, 'the second client connectionMade');
    assert.equal(attempts[0], 'connected');
    assert.equal(attempts[1], 'lost');
    assert.equal(attempts.at(-1), 'connected');
    assert.ok(
      attempts.slice(2, -1).every((a) => a === 'refused'),
      attempts.join(', '),
    );
    assert.equal(client.retries, 0, 'connecting reset the back-off');
    client.stopTrying();
  });
});

describe('Reactor shutdown with TCP', SUITE, () => {
  test('closes listening ports and open connections with ConnectionLost before run() settles', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    const { factory: client, protocol } = await connect(h, port, () => new Recorder());
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.made, 'the server connectionMade');
    const reactor = h.reactor;
    const afterShutdown: string[] = [];
    reactor.addSystemEventTrigger('after', 'shutdown', () => {
      afterShutdown.push(`lost: ${protocol.lostCalls}, ${serverSide.lostCalls}`);
    });
    reactor.callWhenRunning(() => reactor.stop());
    await waitFor(reactor.run({ installSignalHandlers: false }), 'run() to settle', 5);
    // As in Twisted, shutdown tells every protocol before it finishes.
    assert.deepEqual(afterShutdown, ['lost: 1, 1']);
    assertReason(protocol.reason, ConnectionLost);
    assertReason(serverSide.reason, ConnectionLost);
    assert.equal(client.losses.length, 1);
    assert.ok(client.losses[0]?.check(ConnectionLost));
    assert.equal(server.stops, 1);
    await loopTurns();
    assert.equal(protocol.lostCalls, 1);
    assert.equal(serverSide.lostCalls, 1);
    // Nothing listens on the port any more.
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = netConnect(port, LOCAL);
      socket.on('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
    assert.equal(refused, 'ECONNREFUSED');
  });

  test('fails a connection attempt still in progress at shutdown', async (t) => {
    const h = harness(t);
    const { factory: server, port } = serve(h, () => new Recorder());
    const client = new RecordingClientFactory(() => new Recorder());
    const reactor = h.reactor;
    reactor.callWhenRunning(() => {
      // Both run in the same turn, before Node polls for the connect to
      // complete: the attempt is still in progress when shutdown comes.
      setImmediate(() => h.connectTCP(LOCAL, port, client));
      reactor.stop();
    });
    await waitFor(reactor.run({ installSignalHandlers: false }), 'run() to settle', 5);
    assert.equal(client.failures.length, 1, 'clientConnectionFailed was called');
    assert.ok(client.failures[0]?.check(ConnectError));
    assert.equal(client.stops, 1);
    await loopTurns();
    assert.equal(client.protocols.length, 0, 'no connection was made after shutdown');
    for (const serverSide of server.protocols) await waitFor(serverSide.lost, 'the server side');
  });
});

/** Runs `f`, which must throw, and returns what it threw. */
function assertThrows(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
}
