// A child process for test/reliability/callbacks.test.ts, the most literal
// check that "the process lives": with no uncaughtException handler of its
// own, it makes a push and a pull producer throw from the transport's
// callbacks and a client factory throw from clientConnectionFailed and
// clientConnectionLost, then proves it still serves (an echo round trip),
// prints ALIVE and exits 0. Its log goes to standard error (the global
// publisher's fallback). Test-only; not exported.

import { ClientFactory, Factory, Protocol } from 'torsion/protocol';
import type { IAddress, IPullProducer, IPushProducer, ITCPTransport } from 'torsion/reactor';
import { NodeReactor } from 'torsion/reactor';

const LOCAL = '127.0.0.1';

class Boom extends Error {
  override name = 'Boom';
}

/** Echoes, and resolves `lost` when the connection ends. */
class Echo extends Protocol {
  lost: Promise<void>;
  #resolve!: () => void;
  constructor() {
    super();
    this.lost = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
  override connectionLost(): void {
    this.#resolve();
  }
}

/** Registers a push producer whose resumeProducing throws, and fills the buffer. */
class PushVictim extends Echo {
  override connectionMade(): void {
    const transport: ITCPTransport = this.transport;
    let paused = false;
    const producer: IPushProducer = {
      pauseProducing: () => {
        paused = true;
      },
      resumeProducing: () => {
        throw new Boom('push resumeProducing');
      },
      stopProducing: () => {},
    };
    transport.registerProducer(producer, true);
    const chunk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < 400 && !paused; i++) transport.write(chunk);
  }
}

/** Registers a pull producer that writes once, then throws. */
class PullVictim extends Echo {
  override connectionMade(): void {
    let calls = 0;
    const producer: IPullProducer = {
      resumeProducing: () => {
        if (++calls > 1) throw new Boom('pull resumeProducing');
        this.transport.write(Buffer.alloc(256 * 1024));
      },
      stopProducing: () => {},
    };
    this.transport.registerProducer(producer, false);
  }
}

/** Builds the next queued protocol, or an Echo. */
class Server extends Factory<Echo> {
  override noisy = false;
  readonly queue: Array<() => Echo> = [];
  override buildProtocol(_addr: IAddress): Echo {
    return (this.queue.shift() ?? (() => new Echo()))();
  }
}

/** A client factory that throws from both of its connection hooks. */
class Throwing extends ClientFactory<Echo> {
  override noisy = false;
  readonly done: Promise<void>;
  #resolve!: () => void;
  built: Echo | undefined;
  constructor() {
    super();
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
  override buildProtocol(): Echo {
    this.built = new Echo();
    return this.built;
  }
  override clientConnectionFailed(): void {
    this.#resolve();
    throw new Boom('clientConnectionFailed');
  }
  override clientConnectionLost(): void {
    this.#resolve();
    throw new Boom('clientConnectionLost');
  }
}

async function main(reactor: NodeReactor): Promise<void> {
  const server = new Server();
  const port = reactor.listenTCP(0, server, { interface: LOCAL });
  const portNumber = (port.getHost() as IAddress & { port: number }).port;

  // A client whose loss goes unthrown waits for each victim to be aborted.
  const quiet = (): Promise<void> => {
    const factory = new (class extends ClientFactory<Echo> {
      override noisy = false;
      lost!: () => void;
      readonly done = new Promise<void>((resolve) => {
        this.lost = resolve;
      });
      override buildProtocol(): Echo {
        return new (class extends Echo {
          override dataReceived(): void {}
        })();
      }
      override clientConnectionLost(): void {
        this.lost();
      }
    })();
    reactor.connectTCP(LOCAL, portNumber, factory);
    return factory.done;
  };
  server.queue.push(() => new PushVictim());
  await quiet();
  server.queue.push(() => new PullVictim());
  await quiet();

  // clientConnectionFailed: a port just closed.
  const closed = reactor.listenTCP(0, new Server(), { interface: LOCAL });
  const closedNumber = (closed.getHost() as IAddress & { port: number }).port;
  await closed.stopListening();
  const failing = new Throwing();
  reactor.connectTCP(LOCAL, closedNumber, failing);
  await failing.done;

  // clientConnectionLost: connected, then closed by this side.
  const losing = new Throwing();
  reactor.connectTCP(LOCAL, portNumber, losing);
  await new Promise<void>((resolve) => {
    const wait = (): void => {
      if (losing.built?.connected === true) resolve();
      else setImmediate(wait);
    };
    wait();
  });
  losing.built?.transport.loseConnection();
  await losing.done;

  // Still serving: an echo round trip.
  const echoed = await new Promise<string>((resolve) => {
    const factory = new (class extends ClientFactory<Echo> {
      override noisy = false;
      override buildProtocol(): Echo {
        return new (class extends Echo {
          override connectionMade(): void {
            this.transport.write(Buffer.from('ping'));
          }
          override dataReceived(data: Uint8Array): void {
            resolve(Buffer.from(data).toString());
            this.transport.loseConnection();
          }
        })();
      }
    })();
    reactor.connectTCP(LOCAL, portNumber, factory);
  });
  await port.stopListening();
  if (echoed === 'ping') process.stdout.write('ALIVE\n');
}

const reactor = new NodeReactor();
reactor.callWhenRunning(() => {
  main(reactor).then(
    () => reactor.stop(),
    (error: unknown) => {
      process.stderr.write(`main failed: ${String(error)}\n`);
      process.exitCode = 2;
      reactor.stop();
    },
  );
});
await reactor.run({ installSignalHandlers: false });
