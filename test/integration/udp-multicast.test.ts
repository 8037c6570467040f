// IP multicast on a real NodeReactor: the TTL, loopback and outgoing
// interface settings, joining and leaving groups (and failing to), datagrams
// to a group, and several sockets on one port. The datagrams go out of the
// default route's interface and come back through multicast loopback; on a
// machine where that does not work (no multicast route, a sandbox), the
// delivery tests are skipped, with the reason. (Twisted: test/test_udp.py
// MulticastTests.)

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, test } from 'node:test';
import type { IPAddress } from 'torsion/protocol';
import { DatagramProtocol, MulticastJoinError, NotListeningError } from 'torsion/protocol';
import type { IListeningPort, IMulticastTransport } from 'torsion/reactor';
import { harness, Signal, type SocketHarness, waitFor } from '../helpers/sockets.js';

const SUITE = { timeout: 30_000 };
const GROUP = '225.0.0.250';

type MulticastPort = IListeningPort<IPAddress> & IMulticastTransport;

class Recording extends DatagramProtocol {
  readonly packets: Array<[string, readonly [string, number]]> = [];
  readonly #waiting: Array<[(text: string) => boolean, Signal<void>]> = [];

  constructor() {
    super();
    this.noisy = false;
  }

  override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
    const text = Buffer.from(data).toString();
    this.packets.push([text, addr]);
    for (const [match, signal] of this.#waiting) if (match(text)) signal.fire();
  }

  /** Resolves once a datagram reading `text` has arrived. */
  received(text: string): Promise<void> {
    const signal = new Signal<void>();
    if (this.packets.some(([t]) => t === text)) signal.fire();
    else this.#waiting.push([(t) => t === text, signal]);
    return waitFor(signal.promise, `the datagram "${text}"`);
  }
}

function listen(
  h: SocketHarness,
  protocol: DatagramProtocol,
  port = 0,
  listenMultiple = false,
): MulticastPort {
  const listening = h.reactor.listenMulticast(port, protocol, { listenMultiple });
  h.adopt(listening);
  return listening;
}

/**
 * Whether a datagram sent to a multicast group comes back to a socket of
 * this process that joined it (raw node:dgram). The probe is followed by a
 * unicast marker from the same socket to the same port: looped-back
 * multicast is queued during the send, so the probe arrives first when the
 * host loops multicast back, and the marker alone when it does not.
 */
async function multicastLoopbackWorks(): Promise<boolean> {
  const receiver = createSocket({ type: 'udp4', reuseAddr: true });
  const sender = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      receiver.once('error', reject);
      receiver.bind(0, resolve);
    });
    receiver.addMembership('225.0.0.251');
    const arrived = new Promise<boolean>((resolve) => {
      receiver.on('message', (message) => resolve(message.toString() === 'probe'));
    });
    const port = receiver.address().port;
    await new Promise<void>((resolve, reject) =>
      sender.send('probe', port, '225.0.0.251', (error) => (error ? reject(error) : resolve())),
    );
    sender.send('marker', port, '127.0.0.1');
    return await waitFor(arrived, 'the multicast probe or its marker');
  } catch {
    return false;
  } finally {
    sender.close();
    receiver.close();
  }
}

const loopback = multicastLoopbackWorks();
const NO_MULTICAST =
  'multicast datagrams do not come back to this host (no multicast route or a sandboxed network)';

describe('listenMulticast', SUITE, () => {
  test('TTL: 1 at first, then what was set; out of range is a RangeError', (t) => {
    const h = harness(t);
    const port = listen(h, new Recording());
    assert.equal(port.getTTL(), 1);
    port.setTTL(2);
    assert.equal(port.getTTL(), 2);
    assert.throws(() => port.setTTL(256), RangeError);
    assert.equal(port.getTTL(), 2);
  });

  test('outgoing interface: 0.0.0.0 at first, then the one set', async (t) => {
    const h = harness(t);
    const port = listen(h, new Recording());
    assert.equal(port.getOutgoingInterface(), '0.0.0.0');
    await waitFor(port.setOutgoingInterface('127.0.0.1'), 'setOutgoingInterface');
    assert.equal(port.getOutgoingInterface(), '127.0.0.1');
  });

  test('a group can be joined and left, by each of two ports', async (t) => {
    const h = harness(t);
    const client = listen(h, new Recording());
    const server = listen(h, new Recording());
    await waitFor(client.joinGroup(GROUP), 'the client to join');
    await waitFor(client.leaveGroup(GROUP), 'the client to leave');
    await waitFor(server.joinGroup(GROUP), 'the server to join');
    await waitFor(server.leaveGroup(GROUP), 'the server to leave');
  });

  test('joining an address that is not a multicast group fails with MulticastJoinError', async (t) => {
    const h = harness(t);
    const port = listen(h, new Recording());
    await assert.rejects(
      Promise.resolve(port.joinGroup('127.0.0.1')),
      (e: unknown) => e instanceof MulticastJoinError && e.group === '127.0.0.1',
    );
    await assert.rejects(Promise.resolve(port.leaveGroup(GROUP)), MulticastJoinError);
  });

  test('settings on a stopped port: NotListeningError', async (t) => {
    const h = harness(t);
    const port = listen(h, new Recording());
    await waitFor(port.stopListening(), 'stopListening');
    assert.throws(() => port.setTTL(3), NotListeningError);
    await assert.rejects(Promise.resolve(port.joinGroup(GROUP)), MulticastJoinError);
  });

  test('a datagram to the group reaches the port that joined it', async (t) => {
    if (!(await loopback)) {
      t.skip(NO_MULTICAST);
      return;
    }
    const h = harness(t);
    const server = new Recording();
    const serverPort = listen(h, server);
    const client = listen(h, new Recording());
    await waitFor(serverPort.joinGroup(GROUP), 'joinGroup');
    client.write(Buffer.from('hello world'), [GROUP, serverPort.getHost().port]);
    await server.received('hello world');
  });

  test('loopback mode: on at first, the sender gets its own datagram; off, it does not', async (t) => {
    if (!(await loopback)) {
      t.skip(NO_MULTICAST);
      return;
    }
    const h = harness(t);
    const server = new Recording();
    const port = listen(h, server);
    const other = listen(h, new Recording());
    assert.equal(port.getLoopbackMode(), true);
    await waitFor(port.joinGroup(GROUP), 'joinGroup');
    const to: [string, number] = [GROUP, port.getHost().port];
    port.write(Buffer.from('first'), to);
    await server.received('first');
    port.setLoopbackMode(false);
    assert.equal(port.getLoopbackMode(), false);
    port.write(Buffer.from('not looped'), to);
    // A datagram sent after it by another socket (loopback on): once it
    // is here, the first would have been too.
    other.write(Buffer.from('marker'), to);
    await server.received('marker');
    assert.deepEqual(
      server.packets.map(([text]) => text),
      ['first', 'marker'],
    );
  });

  test('listenMultiple: two ports on one port number both get the group datagrams', async (t) => {
    if (!(await loopback)) {
      t.skip(NO_MULTICAST);
      return;
    }
    const h = harness(t);
    const first = new Recording();
    const second = new Recording();
    const firstPort = listen(h, first, 0, true);
    const portno = firstPort.getHost().port;
    const secondPort = listen(h, second, portno, true);
    assert.equal(secondPort.getHost().port, portno);
    await waitFor(firstPort.joinGroup(GROUP), 'the first to join');
    await waitFor(secondPort.joinGroup(GROUP), 'the second to join');
    firstPort.write(Buffer.from('hello world'), [GROUP, portno]);
    await first.received('hello world');
    await second.received('hello world');
  });
});
