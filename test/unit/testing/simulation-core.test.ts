// SimulatedNetwork's core: hosts as reactors, connecting and refusing,
// links (latency, loss, MTU, bandwidth), partitions, resets, crashes and
// restarts, running (advance, runUntil, runUntilIdle), the trace and its
// replay, the seed helpers and the seeded generator.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { Deferred } from 'torsion/defer';
import { clientFromString, serverFromString } from 'torsion/endpoints';
import {
  ClientFactory,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  Factory,
  Protocol,
  TimeoutError,
} from 'torsion/protocol';
import type { IConnector } from 'torsion/reactor';
import {
  SeededRandom,
  SimulatedNetwork,
  SimulatedTransport,
  SimulationTimeout,
  simulationSeed,
  withSimulation,
} from 'torsion/testing';

/** Records what it receives and how it ended. */
class Recorder extends Protocol {
  chunks: Uint8Array[] = [];
  made = -1;
  lost: Failure | undefined;
  lostAt = -1;
  constructor(private readonly clock: { seconds(): number }) {
    super();
  }
  override connectionMade(): void {
    this.made = this.clock.seconds();
  }
  override dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
  }
  override connectionLost(reason: Failure): void {
    this.lost = reason;
    this.lostAt = this.clock.seconds();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport?.write(data);
  }
}

/** A client factory that records its protocol and the failure, if any. */
class Client extends ClientFactory {
  built: Recorder | undefined;
  failed: Failure | undefined;
  lostConnection: Failure | undefined;
  constructor(private readonly clock: { seconds(): number }) {
    super();
  }
  override buildProtocol(): Recorder {
    this.built = new Recorder(this.clock);
    return this.built;
  }
  override clientConnectionFailed(_c: IConnector, reason: Failure): void {
    this.failed = reason;
  }
  override clientConnectionLost(_c: IConnector, reason: Failure): void {
    this.lostConnection = reason;
  }
}

/** Equal but for floating-point rounding. */
function near(actual: number | undefined, expected: number): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 1e-9,
    `${String(actual)} is not ${expected}`,
  );
}

/** A factory whose protocols `make` builds. */
function factoryOf<P extends Protocol>(make: () => P): Factory & { buildProtocol(): P } {
  const factory = new Factory();
  return Object.assign(factory, { buildProtocol: make });
}

function twoHosts(seed = 1, options: ConstructorParameters<typeof SimulatedNetwork>[0] = {}) {
  const network = new SimulatedNetwork({ seed, ...options });
  const server = network.addHost('server');
  const client = network.addHost('client');
  return { network, server, client };
}

describe('SimulatedNetwork: connecting', () => {
  test('a connection takes a round trip; bytes take the latency', () => {
    const { network, server, client } = twoHosts();
    network.link(client, server, { latency: 0.05 });
    const servers: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        servers.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    const connector = client.connectTCP('server', 80, factory);
    assert.equal(connector.state, 'connecting');
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    assert.equal(servers[0]?.made, 0.05);
    assert.equal(factory.built?.made, 0.1);
    assert.equal(connector.state, 'connected');
    factory.built?.transport?.write(Buffer.from('hello'));
    network.runUntil(() => servers[0]?.text === 'hello');
    near(network.seconds(), 0.15);
    assert.equal(
      String(servers[0]?.transport?.getPeer()),
      `IPv4Address(TCP, '${client.address}', 49152)`,
    );
    assert.equal(
      String(factory.built?.transport?.getPeer()),
      `IPv4Address(TCP, 'server', 80)`.replace('server', server.address),
    );
  });

  test('nothing listening: the connection is refused after a round trip', () => {
    const { network, client } = twoHosts();
    const factory = new Client(client);
    client.connectTCP('server', 81, factory);
    network.runUntil(() => factory.failed !== undefined);
    assert.ok(factory.failed?.check(ConnectionRefusedError));
    assert.equal(network.seconds(), 0.002);
  });

  test('a partitioned, crashed or unknown peer: the attempt times out', () => {
    const { network, server, client } = twoHosts();
    server.listenTCP(80, Factory.forProtocol(Protocol));
    network.addHost('down').crash();
    network.partition([server], [client]);
    const results: Client[] = [];
    for (const target of ['server', 'down', '10.9.9.9']) {
      const factory = new Client(client);
      results.push(factory);
      client.connectTCP(target, 80, factory, { timeout: 5 });
    }
    network.runUntil(() => results.every((f) => f.failed !== undefined));
    for (const f of results) assert.ok(f.failed?.check(TimeoutError));
    assert.equal(network.seconds(), 5);
  });

  test('an unknown host name fails the attempt with DNSLookupError', () => {
    const { network, client } = twoHosts();
    const factory = new Client(client);
    client.connectTCP('nowhere', 80, factory);
    network.runUntil(() => factory.failed !== undefined);
    assert.ok(factory.failed?.check(DNSLookupError));
  });

  test('a SYN lost to a brief partition is sent again once healed', () => {
    const { network, server, client } = twoHosts();
    server.listenTCP(80, Factory.forProtocol(Protocol));
    network.partition('client');
    network.at(2.5, () => network.heal());
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built?.made !== undefined && factory.built.made >= 0);
    // SYN at 0, then retries at 1 and 3 (1 s, then 2 s): the third gets through.
    assert.equal(factory.built?.made, 3.002);
  });

  test('endpoints from strings resolve inside the simulation', () => {
    const { network, server, client } = twoHosts();
    const listening = serverFromString(server, 'tcp:8080').listen(Factory.forProtocol(Echo));
    network.runUntil(listening);
    const d = clientFromString(client, 'tcp:server:8080').connect(
      factoryOf(() => new Recorder(client)),
    );
    const protocol = network.runUntil(d);
    protocol.transport?.write(Buffer.from('ping'));
    network.runUntil(() => protocol.text === 'ping');
    const hostname = clientFromString(client, 'tcp:host=server:port=8080').connect(
      factoryOf(() => new Recorder(client)),
    );
    assert.ok(network.runUntil(hostname) instanceof Recorder);
  });

  test('stopConnecting fails the attempt and a late SYN-ACK is reset', () => {
    const { network, server, client } = twoHosts();
    const accepted: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        accepted.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    const connector = client.connectTCP('server', 80, factory);
    network.advance(0.0015);
    connector.stopConnecting();
    network.runUntilIdle();
    assert.equal(factory.failed?.type?.name, 'UserError');
    assert.ok(accepted[0]?.lost?.check(ConnectionLost));
    assert.equal(factory.built, undefined);
  });
});

describe('SimulatedNetwork: the byte stream', () => {
  test('large writes are cut to the MTU and arrive whole and in order over loss and jitter', () => {
    const { network, server, client } = twoHosts(3);
    network.link(client, server, { latency: 0.02, jitter: 0.05, loss: 0.2, mtu: 576 });
    const received: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        received.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built?.transport !== undefined && factory.built.made >= 0);
    const payload = Buffer.alloc(100_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 255;
    factory.built?.transport?.write(payload);
    network.runUntil(
      () =>
        (received[0]?.chunks.length ?? 0) > 0 &&
        Buffer.concat(received[0]?.chunks ?? []).length === payload.length,
    );
    assert.deepEqual(Buffer.concat(received[0]?.chunks ?? []), payload);
    assert.ok(received[0]?.chunks.every((c) => c.byteLength <= 536));
    assert.ok(network.stats.lost > 0, 'some segments were lost and sent again');
  });

  test('bandwidth spaces segments out', () => {
    const { network, server, client } = twoHosts();
    network.link(client, server, { latency: 0, bandwidth: 1500 });
    const received: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        received.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    const start = network.seconds();
    factory.built?.transport?.write(Buffer.alloc(2920));
    network.runUntil(() => Buffer.concat(received[0]?.chunks ?? []).length === 2920);
    // Two full segments of 1460 + 40 bytes at 1500 bytes/s.
    assert.equal(network.seconds() - start, 2);
  });

  test('loseConnection: both sides see ConnectionDone once the FINs have crossed', () => {
    const { network, server, client } = twoHosts();
    network.link(client, server, { latency: 0.1 });
    const accepted: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        accepted.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    factory.built?.transport?.write(Buffer.from('bye'));
    factory.built?.transport?.loseConnection();
    assert.equal(factory.built?.transport?.disconnecting, true);
    network.runUntilIdle();
    assert.equal(accepted[0]?.text, 'bye');
    assert.ok(accepted[0]?.lost?.check(ConnectionDone));
    assert.ok(factory.built?.lost?.check(ConnectionDone));
    near(accepted[0]?.lostAt, 0.3);
    near(factory.built?.lostAt, 0.4);
    assert.ok(factory.lostConnection?.check(ConnectionDone));
    assert.deepEqual(network.connections, []);
  });

  test('abortConnection: this side ConnectionAborted, the peer a reset', () => {
    const { network, server, client } = twoHosts();
    const accepted: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        accepted.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    factory.built?.transport?.abortConnection();
    network.runUntilIdle();
    assert.ok(factory.built?.lost?.check(ConnectionAborted));
    assert.match(String(accepted[0]?.lost?.value), /reset by peer/);
  });

  test('reset(connection) reaches both ends at once', () => {
    const { network, server, client } = twoHosts();
    const accepted: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        accepted.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    assert.equal(network.connections.length, 1);
    network.reset(factory.built as Recorder);
    assert.ok(factory.built?.lost?.check(ConnectionLost));
    assert.ok(accepted[0]?.lost?.check(ConnectionLost));
    assert.match(String(accepted[0]?.lost?.value), /reset by peer/);
    assert.throws(() => network.reset(new Protocol()), TypeError);
  });

  test('a callback that throws aborts its connection and is recorded', () => {
    const { network, server, client } = twoHosts();
    class Bad extends Protocol {
      override dataReceived(): void {
        throw new Error('boom');
      }
    }
    server.listenTCP(80, Factory.forProtocol(Bad));
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    factory.built?.transport?.write(Buffer.from('x'));
    network.runUntilIdle();
    assert.equal((network.errors[0] as Error).message, 'boom');
    assert.match(String(factory.built?.lost?.value), /reset by peer/);
  });
});

describe('SimulatedNetwork: faults', () => {
  test('a partition delays a stream; heal() lets it through', () => {
    const { network, server, client } = twoHosts();
    const accepted: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        accepted.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    network.partition(['client'], ['server']);
    factory.built?.transport?.write(Buffer.from('held'));
    network.advance(10);
    assert.equal(accepted[0]?.text, '');
    network.heal();
    network.runUntil(() => accepted[0]?.text === 'held');
    assert.ok(network.trace.some((e) => e.ev === 'drop'));
  });

  test('a FIN cut off by a partition is still sent after the closing side has closed', () => {
    const { network, server, client } = twoHosts();
    const accepted: Recorder[] = [];
    server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        accepted.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    network.partition('server');
    factory.built?.transport?.loseConnection();
    // The closing side gives up waiting for the peer's FIN after 10 s ...
    network.advance(15);
    assert.ok(factory.built?.lost?.check(ConnectionDone));
    assert.equal(accepted[0]?.lost, undefined);
    // ... but its kernel still retransmits the FIN: no half-dead connection.
    network.heal();
    network.runUntil(() => accepted[0]?.lost !== undefined);
    assert.ok((accepted[0] as Recorder).lost?.check(ConnectionDone));
    assert.deepEqual(network.connections, []);
  });

  test('a sender gives up after giveUpAfter: ConnectionLost, timed out', () => {
    const { network, server, client } = twoHosts(1, { giveUpAfter: 20 });
    server.listenTCP(80, Factory.forProtocol(Protocol));
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    network.partition('server');
    factory.built?.transport?.write(Buffer.from('lost'));
    network.runUntil(() => factory.built?.lost !== undefined);
    assert.match(String(factory.built?.lost?.value), /timed out/);
    assert.ok(network.seconds() > 20 && network.seconds() < 60);
  });

  test('crash: peers see nothing until they write; after restart they get a reset', () => {
    const { network, server, client } = twoHosts();
    const accepted: Recorder[] = [];
    const timer = { fired: false };
    server.onBoot((host) => {
      host.listenTCP(
        80,
        factoryOf(() => {
          const p = new Recorder(server);
          accepted.push(p);
          return p;
        }),
      );
    });
    server.callLater(5, () => {
      timer.fired = true;
    });
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    server.crash();
    assert.equal(server.up, false);
    assert.deepEqual(server.getDelayedCalls(), []);
    assert.throws(() => server.listenTCP(81, Factory.forProtocol(Protocol)), /crashed/);
    network.advance(10);
    assert.equal(timer.fired, false);
    assert.equal(factory.built?.lost, undefined, 'nothing seen without writing');
    assert.equal(accepted[0]?.lost, undefined, 'no callback runs on a crashed host');
    server.restart();
    factory.built?.transport?.write(Buffer.from('anyone?'));
    network.runUntil(() => factory.built?.lost !== undefined);
    assert.match(String((factory.built as Recorder).lost?.value), /reset by peer/);
    // The boot function listened again: a new connection works.
    const again = new Client(client);
    client.connectTCP('server', 80, again);
    network.runUntil(() => again.built !== undefined && again.built.made >= 0);
    assert.equal(accepted.length, 2);
  });

  test('scheduleFaults and at() run at their virtual times', () => {
    const { network, server } = twoHosts();
    const seen: string[] = [];
    network.scheduleFaults([
      { at: 1, partition: [['server'], ['client']] },
      { at: 2, heal: true },
      { at: 3, crash: 'server' },
      { at: 4, restart: server },
      { at: 5, link: ['server', 'client', { latency: 1 }] },
      { at: 6, run: () => seen.push(`run ${network.seconds()}`) },
    ]);
    network.runUntilIdle();
    assert.deepEqual(seen, ['run 6']);
    assert.deepEqual(
      network.trace.filter((e) => e.t > 0).map((e) => `${e.t} ${e.ev}`),
      ['1 partition', '2 heal', '3 crash', '4 restart', '5 link'],
    );
  });

  test('randomFaults draws from the seed: the same seed, the same faults', () => {
    const run = (seed: number): string => {
      const network = new SimulatedNetwork({ seed });
      for (const name of ['a', 'b', 'c']) network.addHost(name);
      const count = network.randomFaults({
        until: 100,
        partitions: 0.05,
        crashes: 0.05,
        downtime: 3,
      });
      assert.ok(count > 0);
      network.runUntilIdle();
      return network.traceJSONLines();
    };
    assert.equal(run(5), run(5));
    assert.notEqual(run(5), run(6));
    assert.throws(() => new SimulatedNetwork().randomFaults({ until: -1 }), RangeError);
  });
});

describe('SimulatedNetwork: hosts as reactors', () => {
  test('callLater shares one virtual clock; a throw is logged and recorded', () => {
    const network = new SimulatedNetwork();
    const a = network.addHost('a');
    const b = network.addHost('b');
    const order: string[] = [];
    a.callLater(2, () => order.push(`a@${a.seconds()}`));
    b.callLater(1, () => order.push(`b@${b.seconds()}`));
    const call = a.callLater(1, () => order.push('cancelled'));
    b.callLater(1.5, () => {
      throw new Error('timer');
    });
    assert.equal(a.getDelayedCalls().length, 2);
    call.cancel();
    assert.equal(a.getDelayedCalls().length, 1);
    network.advance(3);
    assert.deepEqual(order, ['b@1', 'a@2']);
    assert.equal((network.errors[0] as Error).message, 'timer');
    assert.equal(network.seconds(), 3);
    assert.throws(() => a.callLater(-1, () => undefined), RangeError);
  });

  test('stop fires the shutdown triggers, closes listeners and connections', () => {
    const { network, server, client } = twoHosts();
    const accepted: Recorder[] = [];
    const port = server.listenTCP(
      80,
      factoryOf(() => {
        const p = new Recorder(server);
        accepted.push(p);
        return p;
      }),
    );
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    const events: string[] = [];
    server.addSystemEventTrigger('before', 'shutdown', () => {
      events.push('before');
    });
    let ran = false;
    void server.run().then(() => {
      ran = true;
    });
    server.stop();
    assert.deepEqual(events, ['before']);
    assert.equal(server.running, false);
    assert.equal(port.listening, false);
    network.runUntilIdle();
    assert.ok(factory.built?.lost?.check(ConnectionDone));
    assert.ok(accepted[0]?.lost?.check(ConnectionDone));
    assert.throws(() => server.stop(), /isn't running/);
    return Promise.resolve().then(() => assert.equal(ran, true));
  });

  test('listenTCP refuses a taken port and picks free ones for 0', () => {
    const { server } = twoHosts();
    const factory = Factory.forProtocol(Protocol);
    server.listenTCP(80, factory);
    assert.throws(() => server.listenTCP(80, factory), /in use/);
    const a = server.listenTCP(0, factory);
    const b = server.listenTCP(0, factory);
    assert.notEqual(a.getHost().port, b.getHost().port);
    assert.throws(() => server.listenTCP(81, factory, { interface: '1.2.3.4' }), /not an address/);
    assert.throws(() => server.listenUNIX(), /not simulated/);
  });

  test('addHost checks names and addresses', () => {
    const network = new SimulatedNetwork();
    const h = network.addHost('web', { addresses: ['192.168.1.10', '192.168.1.11'] });
    assert.equal(h.address, '192.168.1.10');
    assert.throws(() => network.addHost('web'), /already/);
    assert.throws(() => network.addHost('x', { addresses: ['192.168.1.11'] }), /belongs/);
    assert.throws(() => network.addHost('y', { addresses: ['not-an-ip'] }), /IPv4/);
    assert.throws(() => network.link('web', 'nobody', {}), /no simulated host/);
    assert.throws(() => network.link('web', 'web', { loss: 1 }), RangeError);
  });
});

describe('SimulatedNetwork: running, tracing, replaying', () => {
  test('runUntil fails with the seed when the events run out or time passes', () => {
    const network = new SimulatedNetwork({ seed: 99 });
    assert.throws(
      () => network.runUntil(() => false),
      (e: unknown) =>
        e instanceof SimulationTimeout &&
        /nothing left to happen/.test(e.message) &&
        /SIMULATION_SEED=99/.test(e.message),
    );
    const host = network.addHost('h');
    const tick = (): void => {
      host.callLater(1, tick);
    };
    tick();
    assert.throws(() => network.runUntil(() => false, { timeout: 10 }), /10 virtual seconds/);
    assert.equal(network.seconds(), 10);
    assert.throws(() => network.runUntilIdle({ timeout: 5 }), /still busy/);
  });

  test('runUntil(deferred) returns its result or throws its failure', () => {
    const network = new SimulatedNetwork();
    const host = network.addHost('h');
    const ok = new Deferred<number>();
    host.callLater(1, () => ok.callback(42));
    assert.equal(network.runUntil(ok), 42);
    const bad = new Deferred<number>();
    host.callLater(1, () => bad.errback(new Error('nope')));
    assert.throws(() => network.runUntil(bad), /nope/);
    bad.addErrback(() => undefined);
  });

  test('the trace is JSON lines; replay reports the first divergence', () => {
    const scenario = (seed: number, extra = false): SimulatedNetwork => {
      const network = new SimulatedNetwork({ seed });
      const server = network.addHost('server');
      const client = network.addHost('client');
      network.link(client, server, { latency: 0.01, jitter: 0.02, loss: 0.1 });
      server.listenTCP(7, Factory.forProtocol(Echo));
      const factory = new Client(client);
      client.connectTCP('server', 7, factory);
      network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
      for (let i = 0; i < 20; i++) factory.built?.transport?.write(Buffer.from(`m${i};`));
      if (extra) factory.built?.transport?.write(Buffer.from('extra'));
      network.runUntilIdle();
      return network;
    };
    const first = scenario(11);
    const lines = first.traceJSONLines();
    assert.ok(lines.split('\n').length > 40);
    for (const line of lines.trim().split('\n')) assert.equal(typeof JSON.parse(line).t, 'number');
    const again = new SimulatedNetwork({ seed: 11 });
    again.replay(lines);
    // Same code, same seed: the replayed run matches.
    const rerun = scenario(11);
    assert.equal(rerun.traceJSONLines(), lines);
    rerun.replay(lines);
    rerun.assertReplayed();
    const diverged = scenario(11, true);
    diverged.replay(first.trace);
    assert.throws(() => diverged.assertReplayed(), /left the trace at event \d+/);
    assert.throws(() => again.assertReplayed(), /ended after 0 of/);
    assert.throws(() => new SimulatedNetwork().assertReplayed(), /replay\(trace\) first/);
  });

  test('trace: false records nothing', () => {
    const network = new SimulatedNetwork({ trace: false });
    network.addHost('a');
    network.mark('x');
    assert.equal(network.trace.length, 0);
  });
});

describe('seeds', () => {
  test('SeededRandom: deterministic, uniform enough, checks its seed', () => {
    const a = new SeededRandom(1);
    const b = new SeededRandom(1);
    const xs = Array.from({ length: 1000 }, () => a.next());
    assert.deepEqual(
      xs,
      Array.from({ length: 1000 }, () => b.next()),
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05);
    assert.notDeepEqual(
      xs.slice(0, 5),
      Array.from({ length: 5 }, new SeededRandom(2).next.bind(new SeededRandom(2))),
    );
    assert.throws(() => new SeededRandom(Number.NaN), TypeError);
    assert.ok(new SeededRandom(3).below(10) < 10);
  });

  test('simulationSeed reads SIMULATION_SEED', () => {
    const saved = process.env.SIMULATION_SEED;
    try {
      delete process.env.SIMULATION_SEED;
      assert.equal(simulationSeed(), 1);
      assert.equal(simulationSeed(7), 7);
      process.env.SIMULATION_SEED = '1234';
      assert.equal(simulationSeed(), 1234);
      process.env.SIMULATION_SEED = 'x';
      assert.throws(() => simulationSeed(), RangeError);
    } finally {
      if (saved === undefined) delete process.env.SIMULATION_SEED;
      else process.env.SIMULATION_SEED = saved;
    }
  });

  test('withSimulation prints the seed when the run fails', async () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      await assert.rejects(
        withSimulation(4321, (network) => {
          network.addHost('a');
          throw new Error('scenario broke');
        }),
        /scenario broke[\s\S]*SIMULATION_SEED=4321/,
      );
    } finally {
      process.stderr.write = write;
    }
    assert.match(written.join(''), /seed 4321.*SIMULATION_SEED=4321 node/);
    assert.equal(await withSimulation(5, (network) => network.seed), 5);
    assert.equal(await withSimulation((network) => network.seed >= 0), true);
  });

  test('transports are SimulatedTransports with the TCP contract methods', () => {
    const { network, server, client } = twoHosts();
    server.listenTCP(80, Factory.forProtocol(Protocol));
    const factory = new Client(client);
    client.connectTCP('server', 80, factory);
    network.runUntil(() => factory.built !== undefined && factory.built.made >= 0);
    const transport = factory.built?.transport as SimulatedTransport;
    assert.ok(transport instanceof SimulatedTransport);
    transport.setTcpNoDelay(true);
    assert.equal(transport.getTcpNoDelay(), true);
    assert.deepEqual(transport.getWriteBufferLimits(), { high: 65536, low: 16384 });
    assert.throws(() => transport.write('x' as unknown as Uint8Array), TypeError);
    assert.match(String(transport.connection), /^sim#1 client:/);
  });
});
