// Existing code runs unchanged on simulated hosts, because it takes its
// reactor (or clock) as a parameter: the HTTP server (Site) and client
// (Agent, its pool) over a lossy, jittery link, a LineReceiver protocol with
// a LoopingCall heartbeat, and idle timeouts (TimeoutFactory) that fire in
// virtual time.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Factory, Protocol } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import { TimeoutFactory } from 'torsion/protocols/policies';
import { LoopingCall } from 'torsion/task';
import { SimulatedNetwork } from 'torsion/testing';
import { Agent, HTTPConnectionPool, type Request, Resource, readBody, Site } from 'torsion/web';

/** Answers `GET /n` with n KiB of a pattern. */
class Sized extends Resource {
  override isLeaf = true;
  override render(request: Request): Uint8Array {
    const kib = Number(request.path.toString().slice(1)) || 1;
    return Buffer.alloc(kib * 1024, 'abcdefghijklmnopqrstuvwxyz');
  }
}

describe('existing code on simulated hosts', () => {
  test('Site and Agent: HTTP over a lossy, jittery link in virtual time', () => {
    const network = new SimulatedNetwork({ seed: 21 });
    const server = network.addHost('web');
    const client = network.addHost('browser');
    network.link(client, server, { latency: 0.04, jitter: 0.02, loss: 0.02 });
    const site = new Site(new Sized(), { clock: server });
    server.listenTCP(80, site);
    const pool = new HTTPConnectionPool(client, { persistent: true });
    const agent = new Agent(client, { pool });
    const bodies: number[] = [];
    for (const kib of [1, 64, 300]) {
      const response = network.runUntil(agent.request('GET', `http://web/${kib}`));
      assert.equal(response.code, 200);
      const body = network.runUntil(readBody(response));
      assert.equal(body.byteLength, kib * 1024);
      assert.equal(Buffer.from(body).subarray(0, 3).toString(), 'abc');
      bodies.push(body.byteLength);
    }
    assert.deepEqual(bodies, [1024, 65536, 307200]);
    // One persistent connection carried the three requests.
    assert.equal(network.trace.filter((e) => e.ev === 'accept').length, 1);
    assert.ok(network.stats.lost > 0);
    // The Date header comes from the host's virtual clock (the epoch).
    const response = network.runUntil(agent.request('GET', 'http://web/1'));
    assert.match(response.headers.getRawHeaders('date')?.[0] ?? '', /1970/);
    network.runUntil(readBody(response));
    network.runUntil(pool.closeCachedConnections());
    network.runUntilIdle();
    assert.deepEqual(network.connections, []);
  });

  test('a crashed web server: the request fails, and succeeds once it is back', () => {
    const network = new SimulatedNetwork({ seed: 2 });
    const server = network.addHost('web', {
      boot: (host) => host.listenTCP(80, new Site(new Sized(), { clock: host })),
    });
    const client = network.addHost('browser');
    const agent = new Agent(client, { connectTimeout: 3 });
    server.crash();
    assert.throws(() => network.runUntil(agent.request('GET', 'http://web/1')), /timeout/i);
    server.restart();
    const response = network.runUntil(agent.request('GET', 'http://web/2'));
    assert.equal(network.runUntil(readBody(response)).byteLength, 2048);
  });

  test('LineReceiver with a LoopingCall heartbeat and an idle timeout', () => {
    const network = new SimulatedNetwork({ seed: 3 });
    const server = network.addHost('server');
    const client = network.addHost('client');
    network.link(client, server, { latency: 0.1, jitter: 0.05 });
    const received: string[] = [];
    const lost: string[] = [];
    class Log extends LineReceiver {
      override lineReceived(line: Uint8Array): void {
        received.push(`${Buffer.from(line).toString()}@${server.seconds().toFixed(1)}`);
      }
      override connectionLost(): void {
        lost.push(`server@${server.seconds().toFixed(1)}`);
      }
    }
    // The server drops a connection idle for 5 seconds.
    server.listenTCP(
      9,
      new TimeoutFactory(Factory.forProtocol(Log), { timeoutPeriod: 5, clock: server }),
    );
    let beats = 0;
    class Beater extends LineReceiver {
      readonly heartbeat = new LoopingCall(client, () => {
        beats++;
        this.sendLine(Buffer.from(`beat ${beats}`));
        if (beats === 3) this.heartbeat.stop();
      });
      override connectionMade(): void {
        this.heartbeat.start(2, false);
      }
      override connectionLost(): void {
        lost.push(`client@${client.seconds().toFixed(1)}`);
      }
    }
    client.connectTCP('server', 9, Factory.forProtocol(Beater));
    network.runUntilIdle();
    assert.deepEqual(
      received.map((r) => r.split('@')[0]),
      ['beat 1', 'beat 2', 'beat 3'],
    );
    // Beats at about 2, 4 and 6 s (plus the connection and the link); the
    // timeout fires 5 s after the last one, and the FINs cross.
    const serverLost = Number(lost.find((l) => l.startsWith('server'))?.split('@')[1]);
    assert.ok(serverLost > 11 && serverLost < 12, `server lost at ${serverLost}`);
    assert.equal(lost.length, 2);
  });

  test('a Protocol on a stopped host: shutdown closes it cleanly', () => {
    const network = new SimulatedNetwork();
    const server = network.addHost('server');
    const client = network.addHost('client');
    server.listenTCP(1, Factory.forProtocol(Protocol));
    let closed = false;
    class C extends Protocol {
      override connectionLost(): void {
        closed = true;
      }
    }
    client.connectTCP('server', 1, Factory.forProtocol(C));
    network.advance(1);
    server.stop();
    network.runUntil(() => closed);
    assert.equal(closed, true);
  });
});
