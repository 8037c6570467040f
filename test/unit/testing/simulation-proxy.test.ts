// Scenario: ten clients download through the reverse proxy from three
// upstreams over lossy links while one upstream is cut off mid-run: each
// client gets its whole body or a clean 502/504, and once the partition
// heals the proxy holds no dead upstream connections and serves everyone.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Deferred } from 'torsion/defer';
import { type SimulatedConnection, type SimulatedHost, withSimulation } from 'torsion/testing';
import { Agent, type Request, Resource, ReverseProxyResource, readBody, Site } from 'torsion/web';

const SIZE = 256 * 1024;

/** A download: SIZE bytes naming the upstream that served them. */
class Download extends Resource {
  override isLeaf = true;
  constructor(private readonly name: string) {
    super();
  }
  override render(_request: Request): Uint8Array {
    return Buffer.alloc(SIZE, this.name);
  }
}

interface Outcome {
  code: number;
  length: number;
  from: string;
}

function download(agent: Agent, url: string): Deferred<Outcome> {
  return agent.request('GET', url).addCallback((response) =>
    readBody(response).addCallback((body) => ({
      code: response.code,
      length: body.byteLength,
      from: Buffer.from(body.subarray(0, 3)).toString(),
    })),
  );
}

/** Connections between `a` and `b` with one end closed and the other not: dead, but held. */
function halfDead(connections: SimulatedConnection[], a: SimulatedHost): SimulatedConnection[] {
  return connections.filter(
    (c) =>
      (c.client.host === a || c.server.host === a) &&
      c.client.connectionLostReported !== c.server.connectionLostReported,
  );
}

describe('scenario: downloads through the reverse proxy, one upstream partitioned', () => {
  test('every client gets its full body or a clean 502/504; no dead pooled connections after heal()', () =>
    withSimulation(async (network) => {
      const upstreams = ['up1', 'up2', 'up3'].map((name) =>
        network.addHost(name, {
          boot: (host) => host.listenTCP(80, new Site(new Download(name), { clock: host })),
        }),
      );
      const proxy = network.addHost('proxy');
      const resource = new ReverseProxyResource('up1', 80, '', {
        reactor: proxy,
        upstreams: [
          { host: 'up2', port: 80 },
          { host: 'up3', port: 80 },
        ],
        connectTimeout: 3,
        responseTimeout: 5,
      });
      proxy.listenTCP(80, new Site(resource, { clock: proxy }));
      for (const upstream of upstreams) {
        network.link(proxy, upstream, { latency: 0.005, jitter: 0.005, loss: 0.01 });
      }
      const outcomes: (Outcome | Error)[] = [];
      const clients = Array.from({ length: 10 }, (_, i) => {
        const host = network.addHost(`client${i}`);
        network.link(host, proxy, { latency: 0.02, jitter: 0.02, loss: 0.01, bandwidth: 2e6 });
        return host;
      });
      // A wave of downloads every second for ten seconds; up2 is cut off from
      // t=2.5 to t=12.5.
      for (let wave = 0; wave < 10; wave++) {
        for (const [i, host] of clients.entries()) {
          host.callLater(wave + i * 0.01, () => {
            download(new Agent(host), 'http://proxy/file').addCallbacks(
              (outcome) => {
                outcomes.push(outcome);
              },
              (failure) => {
                outcomes.push(failure.value as Error);
              },
            );
          });
        }
      }
      network.scheduleFaults([
        { at: 2.5, partition: [['proxy'], ['up2']] },
        { at: 12.5, heal: true },
      ]);
      network.runUntil(() => outcomes.length === 100, { timeout: 300 });

      const errors = outcomes.filter((o) => o instanceof Error);
      assert.deepEqual(errors, [], 'no client saw a broken response');
      const results = outcomes as Outcome[];
      for (const r of results) {
        if (r.code === 200) {
          assert.equal(r.length, SIZE, 'a 200 carries the whole body');
          assert.match(r.from, /^up[123]$/);
        } else {
          assert.ok(r.code === 502 || r.code === 504, `status ${r.code}`);
        }
      }
      const served = new Set(results.filter((r) => r.code === 200).map((r) => r.from));
      assert.deepEqual([...served].sort(), ['up1', 'up2', 'up3']);
      assert.ok(
        results.some((r) => r.code !== 200),
        'the partition cost some requests a 502/504',
      );
      assert.ok(network.trace.some((e) => e.ev === 'drop'));

      // After heal(): nothing half-dead, and a new wave is served in full.
      network.advance(30);
      assert.deepEqual(halfDead(network.connections, proxy).map(String), []);
      const after: Outcome[] = [];
      for (const host of clients) {
        download(new Agent(host), 'http://proxy/file').addCallback((o) => {
          after.push(o);
        });
      }
      network.runUntil(() => after.length === 10, { timeout: 120 });
      assert.ok(after.every((r) => r.code === 200 && r.length === SIZE));
      network.runUntil(resource.closeCachedConnections());
      network.advance(30);
      assert.deepEqual(halfDead(network.connections, proxy).map(String), []);
      assert.ok(network.seconds() < 300);
    }));
});
