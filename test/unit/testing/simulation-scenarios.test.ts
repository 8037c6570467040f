// Whole scenarios on the simulated network, each minutes of virtual time in
// a fraction of a second: reconnecting clients (ReconnectingClientFactory,
// ClientService) across a 30-second partition; a LineReceiver chat of 100
// users over lossy, jittery links; and the same seed giving the same trace.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffPolicy, ClientService } from 'torsion/app';
import { clientFromString } from 'torsion/endpoints';
import { Factory, Protocol, ReconnectingClientFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IAddress, IReactorTime } from 'torsion/reactor';
import { LoopingCall } from 'torsion/task';
import { type SimulatedHost, SimulatedNetwork, withSimulation } from 'torsion/testing';

/** Writes a line every second while connected: how a partition gets noticed. */
class Heartbeat extends Protocol {
  #beat: LoopingCall | undefined;
  constructor(private readonly clock: IReactorTime) {
    super();
  }
  override connectionMade(): void {
    this.#beat = new LoopingCall(this.clock, () => this.transport?.write(Buffer.from('beat\n')));
    void this.#beat.start(1, false);
  }
  override connectionLost(): void {
    if (this.#beat?.running === true) this.#beat.stop();
  }
}

/** The virtual times of a host's connection attempts, from the trace. */
function attemptsOf(network: SimulatedNetwork, host: SimulatedHost): number[] {
  return network.trace.filter((e) => e.ev === 'connect' && e.host === host.name).map((e) => e.t);
}

/** The most attempts a back-off allows within `span` seconds (each failing after `timeout`). */
function mostAttempts(span: number, timeout: number, shortestDelay: (n: number) => number): number {
  let n = 0;
  for (let t = shortestDelay(1); t <= span; t += timeout + shortestDelay(n + 1)) n++;
  return n;
}

describe('scenario: reconnecting across a 30-second partition', () => {
  test('ReconnectingClientFactory and ClientService back off, then reconnect after heal()', () =>
    withSimulation(
      async (network) => {
        const server = network.addHost('server');
        server.listenTCP(7, Factory.forProtocol(Protocol));
        const rcfHost = network.addHost('rcf');
        const serviceHost = network.addHost('service');
        const random = (): number => network.random.next();

        let rcfConnections = 0;
        const rcf = new (class extends ReconnectingClientFactory {
          override buildProtocol(_addr: IAddress): Protocol {
            this.resetDelay();
            rcfConnections++;
            return new Heartbeat(rcfHost);
          }
        })({ clock: rcfHost, initialDelay: 1, factor: 2, maxDelay: 8, jitter: 0.1, random });
        rcfHost.connectTCP('server', 7, rcf, { timeout: 5 });

        let serviceConnections = 0;
        const service = new ClientService(
          clientFromString(serviceHost, 'tcp:server:7:timeout=5'),
          Factory.forProtocol(
            class extends Heartbeat {
              constructor() {
                super(serviceHost);
                serviceConnections++;
              }
            },
          ),
          {
            clock: serviceHost,
            retryPolicy: backoffPolicy({
              initialDelay: 1,
              factor: 2,
              maxDelay: 8,
              jitter: () => random() * 0.1,
            }),
          },
        );
        service.startService();

        network.runUntil(() => rcfConnections === 1 && serviceConnections === 1);
        network.scheduleFaults([
          { at: 10, partition: [['server'], ['rcf', 'service']] },
          { at: 40, heal: true },
        ]);
        network.runUntil(() => rcfConnections === 2 && serviceConnections === 2, { timeout: 120 });
        const reconnectedBy = network.seconds();
        assert.ok(
          reconnectedBy >= 40 && reconnectedBy < 40 + 8 * 1.5 + 5,
          `reconnected at ${reconnectedBy}`,
        );

        // Heartbeats go unanswered from t=10; the sender gives up 5 s later
        // (giveUpAfter), then the client retries with growing delays, each
        // attempt timing out after 5 s while the partition lasts.
        const timeouts = network.trace.filter((e) => e.ev === 'timeout');
        assert.equal(timeouts.length, 2, 'both connections were lost to the partition');
        const lostAt = Math.min(...timeouts.map((e) => e.t));
        for (const [host, shortest] of [
          [rcfHost, (n: number) => 0.5 * Math.min(2 ** n, 8)],
          [serviceHost, (n: number) => Math.min(2 ** n, 8)],
        ] as const) {
          const during = attemptsOf(network, host).filter((t) => t > lostAt && t < 40);
          assert.ok(
            during.length >= 2,
            `${host.name}: ${during.length} attempts during the partition`,
          );
          assert.ok(
            during.length <= mostAttempts(40 - lostAt, 5, shortest),
            `${host.name}: ${during.length} attempts is more than the back-off allows`,
          );
          // Each wait is at least the back-off's: attempt k+1 starts no
          // sooner than attempt k's timeout plus the (k+1)th delay.
          for (let k = 1; k < during.length; k++) {
            const gap = (during[k] as number) - (during[k - 1] as number);
            assert.ok(gap >= 5 + shortest(k + 1), `${host.name}: gap ${gap} after attempt ${k}`);
          }
        }
        rcf.stopTrying();
        network.runUntil(service.stopService());
        assert.ok(network.seconds() < 120);
      },
      { giveUpAfter: 5, seed: 1 },
    ));
});

/** The chat server: every line from one user goes to every other user. */
class ChatServer {
  readonly users = new Set<ChatConnection>();
  readonly received = new Map<string, number>();
}

class ChatConnection extends LineReceiver {
  constructor(private readonly room: ChatServer) {
    super();
  }
  override connectionMade(): void {
    this.room.users.add(this);
  }
  override connectionLost(): void {
    this.room.users.delete(this);
  }
  override lineReceived(line: Uint8Array): void {
    const text = Buffer.from(line).toString();
    this.room.received.set(text, (this.room.received.get(text) ?? 0) + 1);
    for (const user of this.room.users) if (user !== this) user.sendLine(line);
  }
}

/** A user: sends numbered lines at given times, records what it hears. */
class ChatUser extends LineReceiver {
  readonly heard: string[] = [];
  /** The numbers of the lines it sent, in the order it sent them. */
  readonly sent: number[] = [];
  override lineReceived(line: Uint8Array): void {
    this.heard.push(Buffer.from(line).toString());
  }
}

interface Chat {
  users: ChatUser[];
  room: ChatServer;
}

/** Builds a chat of `count` users, each sending `lines` lines at random times over a minute. */
function chat(network: SimulatedNetwork, count: number, lines: number): Chat {
  const server = network.addHost('chat');
  const room = new ChatServer();
  server.listenTCP(
    6667,
    Factory.forProtocol(
      class extends ChatConnection {
        constructor() {
          super(room);
        }
      },
    ),
  );
  const users: ChatUser[] = [];
  for (let i = 0; i < count; i++) {
    const host = network.addHost(`user${i}`);
    network.link(host, server, { latency: 0.03, jitter: 0.2, loss: 0.01 });
    const user = new ChatUser();
    users.push(user);
    const factory = new Factory();
    factory.buildProtocol = () => user;
    void clientFromString(host, 'tcp:chat:6667').connect(factory);
    // Everyone is in the room by t=5; then lines go out over a minute.
    for (let n = 0; n < lines; n++) {
      const at = 5 + network.random.next() * 60;
      host.callLater(at, () => {
        user.sent.push(n);
        user.sendLine(Buffer.from(`user${i} ${n}`));
      });
    }
  }
  return { users, room };
}

describe('scenario: a LineReceiver chat of 100 users, 1% loss, 200 ms jitter', () => {
  test('every line reaches every other user once, in order per sender', () =>
    withSimulation(async (network) => {
      const started = performance.now();
      const lines = 5;
      const { users, room } = chat(network, 100, lines);
      network.runUntilIdle({ timeout: 600 });
      const realMs = performance.now() - started;
      assert.equal(room.received.size, 100 * lines);
      for (const count of room.received.values()) assert.equal(count, 1);
      // Lines are sent in random order of time; per sender, numbers must
      // arrive in the order that sender sent them.
      for (const [index, user] of users.entries()) {
        assert.equal(user.heard.length, 99 * lines, `user${index} heard ${user.heard.length}`);
        assert.equal(new Set(user.heard).size, user.heard.length, 'no line twice');
        const bySender = new Map<string, number[]>();
        for (const line of user.heard) {
          const [sender, n] = line.split(' ');
          assert.notEqual(sender, `user${index}`, 'nobody hears themselves');
          const list = bySender.get(sender as string) ?? [];
          list.push(Number(n));
          bySender.set(sender as string, list);
        }
        assert.equal(bySender.size, 99);
        // In order per sender: as that sender sent them.
        for (const [sender, numbers] of bySender) {
          const from = users[Number(sender.slice(4))] as ChatUser;
          assert.deepEqual(numbers, from.sent, `${sender} -> user${index}`);
        }
      }
      assert.ok(network.stats.lost > 0, 'the links lost segments');
      assert.ok(network.seconds() > 60, 'a minute of virtual time');
      assert.ok(realMs < 5000, `took ${realMs} ms of real time`);
    }));
});

describe('scenario: the same seed, the same run', () => {
  /** A chat of ten users with a partition and random resets: the JSON-lines trace. */
  const run = (seed: number, replay?: string): string => {
    const network = new SimulatedNetwork({ seed });
    if (replay !== undefined) network.replay(replay);
    chat(network, 10, 3);
    network.scheduleFaults([
      { at: 20, partition: [['user1', 'user2']] },
      { at: 27, heal: true },
    ]);
    network.randomFaults({ from: 30, until: 60, resets: 0.05 });
    network.runUntilIdle({ timeout: 600 });
    if (replay !== undefined) network.assertReplayed();
    return network.traceJSONLines();
  };

  test('two runs with one seed give identical traces; another seed, another trace', () => {
    const first = run(42);
    assert.ok(first.split('\n').length > 500, 'a trace of every segment');
    assert.equal(run(42), first);
    assert.notEqual(run(43), first);
    // Replaying checks as the run goes.
    run(42, first);
    assert.throws(() => run(43, first), /left the trace at event \d+/);
  });
});
