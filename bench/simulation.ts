// Benchmark: the simulated network. (1) Segment deliveries per second for
// 1,000 connections each ping-ponging 64-byte messages between two hosts
// (echo server), with the trace off and on; (2) the virtual-to-real time
// ratio of two scenarios: a LineReceiver chat of 100 users over links with
// 1% loss and 200 ms jitter, each user sending 5 lines over a minute; and
// ten clients downloading 256 KiB ten times each through the reverse proxy
// from three upstreams over lossy links, one upstream partitioned for 10 s.
// Usage: node dist/bench/simulation.js [reps]
// Prints one JSON line per measurement (medians over reps; cpu_s is the
// process's CPU time, steadier than wall time on a loaded machine).

import { Factory, Protocol } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import { SimulatedNetwork } from 'torsion/testing';
import { Agent, Resource, ReverseProxyResource, readBody, Site } from 'torsion/web';
import { format, median } from './_stats.js';

const CONNECTIONS = 1000;
const MESSAGE = Buffer.alloc(64, 'x');

const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const cpu = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport?.write(data);
  }
}

class Pinger extends Protocol {
  override connectionMade(): void {
    this.transport?.write(MESSAGE);
  }
  override dataReceived(): void {
    this.transport?.write(MESSAGE);
  }
}

interface Measure {
  wall: number;
  cpu: number;
  count: number;
  virtual: number;
}

/** Delivers `target` segments over 1,000 ping-pong connections; times the deliveries only. */
function pingPong(target: number, trace: boolean): Measure {
  const network = new SimulatedNetwork({
    seed: 1,
    trace,
    link: { latency: 0.001, jitter: 0.0005 },
  });
  const server = network.addHost('server');
  const client = network.addHost('client');
  server.listenTCP(7, Factory.forProtocol(Echo));
  const pinger = Factory.forProtocol(Pinger);
  for (let i = 0; i < CONNECTIONS; i++) client.connectTCP('server', 7, pinger);
  // Connected and first messages on their way.
  network.advance(0.0025);
  const start = network.stats.delivered;
  const t0 = now();
  const c0 = cpu();
  // In slices of virtual time: no predicate to test after every event.
  while (network.stats.delivered - start < target) network.advance(0.05);
  return {
    wall: now() - t0,
    cpu: cpu() - c0,
    count: network.stats.delivered - start,
    virtual: network.seconds(),
  };
}

/** The chat scenario: 100 users, 1% loss, 200 ms jitter, 5 lines each over a minute. */
function chat(trace: boolean): Measure {
  const t0 = now();
  const c0 = cpu();
  const network = new SimulatedNetwork({ seed: 1, trace });
  const server = network.addHost('chat');
  const users = new Set<LineReceiver>();
  class Room extends LineReceiver {
    override connectionMade(): void {
      users.add(this);
    }
    override lineReceived(line: Uint8Array): void {
      for (const user of users) if (user !== this) user.sendLine(line);
    }
  }
  server.listenTCP(6667, Factory.forProtocol(Room));
  let heard = 0;
  for (let i = 0; i < 100; i++) {
    const host = network.addHost(`user${i}`);
    network.link(host, server, { latency: 0.03, jitter: 0.2, loss: 0.01 });
    class User extends LineReceiver {
      override connectionMade(): void {
        for (let n = 0; n < 5; n++) {
          host.callLater(5 + network.random.next() * 60, () =>
            this.sendLine(Buffer.from(`user${i} ${n}`)),
          );
        }
      }
      override lineReceived(): void {
        heard++;
      }
    }
    host.connectTCP('chat', 6667, Factory.forProtocol(User));
  }
  network.runUntilIdle();
  if (heard !== 100 * 99 * 5) throw new Error(`the chat lost lines: ${heard}`);
  return { wall: now() - t0, cpu: cpu() - c0, count: heard, virtual: network.seconds() };
}

/** A 256 KiB download. */
class Download extends Resource {
  override isLeaf = true;
  override render(): Uint8Array {
    return Buffer.alloc(256 * 1024, 'x');
  }
}

/** The proxy scenario (the test in test/unit/testing/simulation-proxy.test.ts, without its checks). */
function proxy(trace: boolean): Measure {
  const t0 = now();
  const c0 = cpu();
  const network = new SimulatedNetwork({ seed: 1, trace });
  for (const name of ['up1', 'up2', 'up3']) {
    network.addHost(name).listenTCP(80, new Site(new Download(), { clock: network.host(name) }));
  }
  const host = network.addHost('proxy');
  const resource = new ReverseProxyResource('up1', 80, '', {
    reactor: host,
    upstreams: [
      { host: 'up2', port: 80 },
      { host: 'up3', port: 80 },
    ],
    connectTimeout: 3,
    responseTimeout: 5,
  });
  host.listenTCP(80, new Site(resource, { clock: host }));
  for (const name of ['up1', 'up2', 'up3']) {
    network.link(host, name, { latency: 0.005, jitter: 0.005, loss: 0.01 });
  }
  let done = 0;
  for (let i = 0; i < 10; i++) {
    const client = network.addHost(`client${i}`);
    network.link(client, host, { latency: 0.02, jitter: 0.02, loss: 0.01, bandwidth: 2e6 });
    for (let wave = 0; wave < 10; wave++) {
      client.callLater(wave + i * 0.01, () => {
        new Agent(client)
          .request('GET', 'http://proxy/file')
          .addCallback((response) => readBody(response))
          .addBoth(() => {
            done++;
          });
      });
    }
  }
  network.scheduleFaults([
    { at: 2.5, partition: [['proxy'], ['up2']] },
    { at: 12.5, heal: true },
  ]);
  network.runUntil(() => done === 100, { timeout: 300 });
  return { wall: now() - t0, cpu: cpu() - c0, count: done, virtual: network.seconds() };
}

function report(name: string, runs: Measure[], extra: Record<string, number>): void {
  console.log(
    JSON.stringify({
      bench: 'simulation',
      case: name,
      node: process.version,
      reps: runs.length,
      wall_s: +median(runs.map((r) => r.wall)).toFixed(4),
      cpu_s: +median(runs.map((r) => r.cpu)).toFixed(4),
      ...extra,
    }),
  );
}

const reps = Number(process.argv[2] ?? 5);
const TARGET = 2_000_000;

// Warm up the JIT once, untimed.
pingPong(200_000, false);
chat(false);
proxy(false);

for (const trace of [false, true]) {
  const target = trace ? TARGET / 4 : TARGET;
  const runs = Array.from({ length: reps }, () => pingPong(target, trace));
  const perWall = median(runs.map((r) => r.count / r.wall));
  const perCpu = median(runs.map((r) => r.count / r.cpu));
  report(trace ? 'ping-pong 1000 conns, trace on' : 'ping-pong 1000 conns, trace off', runs, {
    segments: runs[0]?.count ?? 0,
    segments_per_s: Math.round(perWall),
    segments_per_cpu_s: Math.round(perCpu),
  });
  process.stderr.write(
    `ping-pong (trace ${trace ? 'on' : 'off'}): ${format(perWall)} segments/s (${format(perCpu)} per CPU second)\n`,
  );
}

for (const trace of [false, true]) {
  const runs = Array.from({ length: reps }, () => chat(trace));
  const ratio = median(runs.map((r) => r.virtual / r.wall));
  report(trace ? 'chat 100 users, trace on' : 'chat 100 users, trace off', runs, {
    virtual_s: +(runs[0]?.virtual ?? 0).toFixed(2),
    virtual_per_real: +ratio.toFixed(1),
    virtual_per_cpu: +median(runs.map((r) => r.virtual / r.cpu)).toFixed(1),
  });
  process.stderr.write(
    `chat (trace ${trace ? 'on' : 'off'}): ${format(runs[0]?.virtual ?? 0)} virtual s at ${format(ratio)}× real time\n`,
  );
}

for (const trace of [false, true]) {
  const runs = Array.from({ length: reps }, () => proxy(trace));
  const ratio = median(runs.map((r) => r.virtual / r.wall));
  report(trace ? 'reverse proxy, trace on' : 'reverse proxy, trace off', runs, {
    virtual_s: +(runs[0]?.virtual ?? 0).toFixed(2),
    virtual_per_real: +ratio.toFixed(1),
    virtual_per_cpu: +median(runs.map((r) => r.virtual / r.cpu)).toFixed(1),
  });
  process.stderr.write(
    `reverse proxy (trace ${trace ? 'on' : 'off'}): ${format(runs[0]?.virtual ?? 0)} virtual s at ${format(ratio)}× real time\n`,
  );
}
