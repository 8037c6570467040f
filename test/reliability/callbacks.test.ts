// The reliability suite's part on user callbacks that throw: every callback
// a user can write (protocol, server and client factory, push and pull
// producer, timed call, Deferred callback, log observer) made to throw, on
// TCP, UNIX and TLS where the callback belongs to a transport. Each case
// checks that nothing escapes to the process (an uncaught exception fails
// the case), that the error is logged once with the stack of the throw,
// and that only the owning connection closes: a bystander connection on
// the same port echoes before and after.
// (Twisted: the reactor logs a failing callback and loses that connection,
// twisted.internet.posixbase._PollLikeMixin._doReadOrWrite.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Deferred } from 'torsion/defer';
import { captureLogs, globalLogPublisher, type LogEvent } from 'torsion/logger';
import {
  ClientFactory,
  ConnectionAborted,
  Factory,
  ReconnectingClientFactory,
} from 'torsion/protocol';
import type {
  IConnector,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
  IWriteBufferLimits,
} from 'torsion/reactor';
import { collectUntil } from '../helpers/gc.js';
import {
  EchoRecorder,
  harness,
  openSocketHandles,
  Recorder,
  RecordingClientFactory,
  until,
  waitFor,
} from '../helpers/sockets.js';
import {
  assertLoggedOnce,
  Boom,
  failuresOf,
  KITS,
  Scene,
  watchUncaught,
} from './_callbacks-kit.js';

const SUITE = { timeout: 60_000 };

/** Asserts that `reason` is an abort whose cause is `error`. */
function assertAbortedBy(reason: unknown, error: Error): void {
  const value = (reason as { value?: unknown } | undefined)?.value;
  assert.ok(value instanceof ConnectionAborted, `not an abort: ${String(value)}`);
  assert.equal(value.cause, error, 'the abort names the error');
}

/** A client that reads nothing until told to: what the server writes piles up. */
class NonReader extends Recorder {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.pauseProducing();
  }
}

/**
 * Writes to `transport` until its producer has been paused (the kernel's
 * buffers full, then the transport's high mark passed), or it closes.
 */
function writeUntilPaused(transport: Recorder['transport'], producer: PushProducer): void {
  const chunk = Buffer.alloc(256 * 1024);
  for (let i = 0; i < 400 && producer.pauses === 0 && !transport.disconnecting; i++) {
    transport.write(chunk);
  }
}

/** A push producer whose `method` throws `error`; counts the calls. */
class PushProducer implements IPushProducer {
  pauses = 0;
  resumes = 0;
  stops = 0;
  constructor(
    readonly method: 'pauseProducing' | 'resumeProducing' | 'stopProducing' | 'none',
    readonly error: Error,
  ) {}
  pauseProducing(): void {
    this.pauses++;
    if (this.method === 'pauseProducing') throw this.error;
  }
  resumeProducing(): void {
    this.resumes++;
    if (this.method === 'resumeProducing') throw this.error;
  }
  stopProducing(): void {
    this.stops++;
    if (this.method === 'stopProducing') throw this.error;
  }
}

for (const kit of KITS) {
  describe(`${kit.name}: a protocol callback that throws`, SUITE, () => {
    test('connectionMade', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('connectionMade');
      const victim = new (class extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          throw boom;
        }
      })();
      scene.misbehave(() => victim);
      scene.dial(() => new Recorder());
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await scene.done(boom);
    });

    test('dataReceived', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('dataReceived');
      const victim = new (class extends Recorder {
        override dataReceived(): void {
          throw boom;
        }
      })();
      scene.misbehave(() => victim);
      const client = await scene.connect(() => new Recorder());
      client.transport.write(Buffer.from('x'));
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await waitFor(client.lost, 'the client to see the close');
      await scene.done(boom);
    });

    test('connectionLost', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('connectionLost');
      const victim = new (class extends Recorder {
        override connectionLost(reason: Parameters<Recorder['connectionLost']>[0]): void {
          super.connectionLost(reason);
          throw boom;
        }
      })();
      scene.misbehave(() => victim);
      const client = await scene.connect(() => new Recorder());
      client.transport.loseConnection();
      await waitFor(victim.lost, 'the victim to close');
      await scene.done(boom);
      assert.equal(victim.lostCalls, 1);
    });

    test('readConnectionLost', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('readConnectionLost');
      const victim = new (class extends Recorder {
        readConnectionLost(): void {
          throw boom;
        }
      })();
      scene.misbehave(() => victim);
      const client = await scene.connect(() => new Recorder());
      client.transport.loseWriteConnection();
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await scene.done(boom);
    });

    test('writeConnectionLost', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('writeConnectionLost');
      const victim = new (class extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.loseWriteConnection();
        }
        readConnectionLost(): void {}
        writeConnectionLost(): void {
          throw boom;
        }
      })();
      scene.misbehave(() => victim);
      scene.dial(() => new Recorder());
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await scene.done(boom);
    });
  });

  describe(`${kit.name}: a server factory callback that throws`, SUITE, () => {
    test('buildProtocol: that connection is closed, the port serves on', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('buildProtocol');
      scene.misbehave(() => {
        throw boom;
      });
      const client = scene.dial(() => new Recorder());
      await waitFor(Promise.race([client.failed, client.lostConnection]), 'the client to close');
      await scene.done(boom);
    });

    test('stopFactory (doStop) when the port stops', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('stopFactory');
      const factory = Factory.forProtocol(EchoRecorder);
      factory.noisy = false;
      factory.stopFactory = () => {
        throw boom;
      };
      const port = kit.listen(scene.h, t, factory);
      await waitFor(port.stopListening(), 'the port to stop');
      await until(() => failuresOf(scene.logs, boom).length > 0, 'the error to be logged');
      await scene.done(boom);
    });

    test('stopFactory (doStop) when the reactor shuts down', async (t) => {
      const h = harness(t);
      const uncaught = watchUncaught(t);
      const logs = captureLogs();
      t.after(() => logs.stop());
      const boom = new Boom('stopFactory at shutdown');
      const factory = Factory.forProtocol(EchoRecorder);
      factory.noisy = false;
      factory.stopFactory = () => {
        throw boom;
      };
      kit.listen(h, t, factory);
      h.reactor.callWhenRunning(() => h.reactor.stop());
      await waitFor(h.reactor.run({ installSignalHandlers: false }), 'the reactor to stop');
      assertLoggedOnce(logs, uncaught, boom);
    });

    test('startFactory (doStart): the listen call throws and nothing is left listening', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('startFactory');
      const factory = Factory.forProtocol(EchoRecorder);
      factory.noisy = false;
      factory.startFactory = () => {
        throw boom;
      };
      const before = openSocketHandles();
      assert.throws(() => kit.listen(scene.h, t, factory), boom);
      await until(() => openSocketHandles() <= before, 'the listening socket to close', 1);
      await scene.bystanderEchoes();
      assert.deepEqual(scene.uncaught, []);
    });
  });

  describe(`${kit.name}: a client factory callback that throws`, SUITE, () => {
    test('startedConnecting: logged, the attempt goes on', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('startedConnecting');
      const client = new (class extends RecordingClientFactory<Recorder> {
        override startedConnecting(): void {
          throw boom;
        }
      })(() => new Recorder());
      kit.connect(scene.h, scene.port, client);
      const protocol = await waitFor(client.nth(0), 'the connection');
      await waitFor(protocol.made, 'connectionMade');
      await scene.done(boom);
    });

    test('buildProtocol: logged, the connection closed, clientConnectionLost told', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('client buildProtocol');
      const client = new (class extends RecordingClientFactory<Recorder> {
        override buildProtocol(): Recorder {
          throw boom;
        }
      })(() => new Recorder());
      kit.connect(scene.h, scene.port, client);
      await waitFor(client.lostConnection, 'clientConnectionLost');
      await scene.done(boom);
    });

    test('clientConnectionFailed', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('clientConnectionFailed');
      let failed = 0;
      const client = new (class extends RecordingClientFactory<Recorder> {
        override clientConnectionFailed(): void {
          failed++;
          throw boom;
        }
      })(() => new Recorder());
      kit.connectNowhere(scene.h, t, client);
      await until(() => failed > 0, 'clientConnectionFailed');
      await until(() => client.stops > 0, 'the client factory to stop');
      await scene.done(boom);
    });

    test('clientConnectionLost', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('clientConnectionLost');
      let lost = 0;
      const client = new (class extends RecordingClientFactory<Recorder> {
        override clientConnectionLost(): void {
          lost++;
          throw boom;
        }
      })(() => new Recorder());
      kit.connect(scene.h, scene.port, client);
      const protocol = await waitFor(client.nth(0), 'the connection');
      await waitFor(protocol.made, 'connectionMade');
      protocol.transport.loseConnection();
      await until(() => lost > 0, 'clientConnectionLost');
      await until(() => client.stops > 0, 'the client factory to stop');
      await scene.done(boom);
    });

    test('stopFactory (doStop) after a failed attempt', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('client stopFactory');
      const client = new (class extends RecordingClientFactory<Recorder> {
        override stopFactory(): void {
          throw boom;
        }
      })(() => new Recorder());
      kit.connectNowhere(scene.h, t, client);
      await waitFor(client.failed, 'clientConnectionFailed');
      await until(() => failuresOf(scene.logs, boom).length > 0, 'the error to be logged');
      await scene.done(boom);
    });

    test('stopFactory (doStop) after a lost connection', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('client stopFactory');
      const client = new (class extends RecordingClientFactory<Recorder> {
        override stopFactory(): void {
          throw boom;
        }
      })(() => new Recorder());
      kit.connect(scene.h, scene.port, client);
      const protocol = await waitFor(client.nth(0), 'the connection');
      await waitFor(protocol.made, 'connectionMade');
      protocol.transport.loseConnection();
      await waitFor(client.lostConnection, 'clientConnectionLost');
      await until(() => failuresOf(scene.logs, boom).length > 0, 'the error to be logged');
      await scene.done(boom);
    });

    test('startFactory (doStart): the connect call throws and opens nothing', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('client startFactory');
      const client = new (class extends ClientFactory<Recorder> {
        override noisy = false;
        override startFactory(): void {
          throw boom;
        }
      })();
      client.protocol = Recorder;
      const before = openSocketHandles();
      assert.throws(() => kit.connect(scene.h, scene.port, client), boom);
      assert.equal(client.numPorts, 0);
      await until(() => openSocketHandles() <= before, 'no socket left open', 2);
      await scene.bystanderEchoes();
      assert.deepEqual(scene.uncaught, []);
    });
  });

  describe(`${kit.name}: a producer callback that throws`, SUITE, () => {
    test('push pauseProducing, from a write outside any callback of the transport', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('pauseProducing');
      const producer = new PushProducer('pauseProducing', boom);
      const victim = new (class extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.registerProducer(producer, true);
          // From a plain Node callback: nothing of ours is on the stack.
          setImmediate(() => writeUntilPaused(this.transport, producer));
        }
      })();
      scene.misbehave(() => victim);
      scene.dial(() => new NonReader());
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await scene.done(boom);
      assert.equal(producer.pauses, 1);
      assert.equal(producer.resumes, 0, 'a producer whose pause failed is not resumed');
    });

    test('push resumeProducing, once the buffer drains', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('resumeProducing');
      const producer = new PushProducer('resumeProducing', boom);
      const victim = new (class extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.registerProducer(producer, true);
          writeUntilPaused(this.transport, producer);
        }
      })();
      scene.misbehave(() => victim);
      const client = await scene.connect(() => new NonReader());
      await until(() => producer.pauses > 0, 'the producer to be paused');
      client.transport.resumeProducing();
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await scene.done(boom);
      assert.equal(producer.pauses, 1);
      assert.equal(producer.resumes, 1);
    });

    test('push resumeProducing, at the low mark set by setWriteBufferLimits', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('resumeProducing at the new low mark');
      const producer = new PushProducer('resumeProducing', boom);
      const victim = new (class extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.registerProducer(producer, true);
          writeUntilPaused(this.transport, producer);
        }
      })();
      scene.misbehave(() => victim);
      await scene.connect(() => new NonReader());
      await until(() => producer.pauses > 0, 'the producer to be paused');
      // Marks above what is buffered resume the producer at once, from a
      // plain Node callback: nothing of ours is on the stack.
      const huge = 1024 * 1024 * 1024;
      const transport = victim.transport as ITCPTransport & IWriteBufferLimits;
      setImmediate(() => transport.setWriteBufferLimits({ high: huge, low: huge }));
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await scene.done(boom);
      assert.equal(producer.resumes, 1);
    });

    test('stopProducing, of a producer registered once the connection has closed', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('stopProducing after the close');
      const producer = new PushProducer('stopProducing', boom);
      const victim = new (class extends Recorder {
        override connectionLost(reason: Parameters<Recorder['connectionLost']>[0]): void {
          super.connectionLost(reason);
          // Too late: the transport stops it at once.
          setImmediate(() => this.transport.registerProducer(producer, true));
        }
      })();
      scene.misbehave(() => victim);
      const client = await scene.connect(() => new Recorder());
      client.transport.loseConnection();
      await waitFor(victim.lost, 'the victim to close');
      await until(() => producer.stops > 0, 'the producer to be stopped');
      await scene.done(boom);
    });

    test('push stopProducing, when the peer closes', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('stopProducing');
      const producer = new PushProducer('stopProducing', boom);
      const victim = new (class extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.registerProducer(producer, true);
        }
      })();
      scene.misbehave(() => victim);
      const client = await scene.connect(() => new Recorder());
      client.transport.loseConnection();
      await waitFor(victim.lost, 'the victim to close');
      await scene.done(boom);
      assert.equal(producer.stops, 1);
    });

    test('pull resumeProducing, asked again once the buffer empties', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('pull resumeProducing');
      let calls = 0;
      const victim = new (class extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          const producer: IPullProducer = {
            resumeProducing: () => {
              calls++;
              if (calls > 1) throw boom;
              this.transport.write(Buffer.alloc(256 * 1024));
            },
            stopProducing: () => {},
          };
          this.transport.registerProducer(producer, false);
        }
      })();
      scene.misbehave(() => victim);
      scene.dial(() => new Recorder());
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await scene.done(boom);
      assert.equal(calls, 2);
    });

    test('pull resumeProducing, registered outside any callback of the transport', async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('pull resumeProducing at registration');
      const victim = new (class extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          const producer: IPullProducer = {
            resumeProducing: () => {
              throw boom;
            },
            stopProducing: () => {},
          };
          setImmediate(() => this.transport.registerProducer(producer, false));
        }
      })();
      scene.misbehave(() => victim);
      scene.dial(() => new Recorder());
      assertAbortedBy(await waitFor(victim.lost, 'the victim to close'), boom);
      await scene.done(boom);
    });
  });
}

describe('a callback outside any connection that throws', SUITE, () => {
  const kit = KITS[0]!;

  test('a timed call (reactor.callLater)', async (t) => {
    const scene = await Scene.open(t, kit);
    const boom = new Boom('timed call');
    scene.h.reactor.callLater(0, () => {
      throw boom;
    });
    await until(() => failuresOf(scene.logs, boom).length > 0, 'the error to be logged');
    await scene.done(boom);
  });

  test('the last callback of a Deferred: logged as unhandled once collected', async (t) => {
    const scene = await Scene.open(t, kit);
    const boom = new Boom('Deferred callback');
    (() => {
      const d = new Deferred<number>();
      d.addErrback(() => {
        throw boom;
      });
      d.errback(new Error('the first failure, handled'));
    })();
    assert.ok(
      await collectUntil(() => failuresOf(scene.logs, boom).length > 0),
      'the unhandled error was logged',
    );
    const event = await scene.done(boom);
    assert.ok(
      scene.logs.events.some((e) => /Unhandled error in Deferred/.test(String(e.log_format))),
      'reported as an unhandled error in a Deferred',
    );
    assert.equal(event.log_level, 'critical');
  });

  test('a log observer: the publisher reports it, the others go on', async (t) => {
    const scene = await Scene.open(t, kit);
    const boom = new Boom('observer');
    // Something that logs: a protocol failing in dataReceived.
    const failing = new Boom('dataReceived');
    const observer = (event: LogEvent): void => {
      if (failuresOf({ events: [event], stop: () => {} }, failing).length > 0) throw boom;
    };
    globalLogPublisher.addObserver(observer);
    t.after(() => globalLogPublisher.removeObserver(observer));
    const victim = new (class extends Recorder {
      override dataReceived(): void {
        throw failing;
      }
    })();
    scene.misbehave(() => victim);
    const client = await scene.connect(() => new Recorder());
    client.transport.write(Buffer.from('x'));
    await waitFor(victim.lost, 'the victim to close');
    await scene.done(failing);
    const reports = scene.logs.events.filter((e) =>
      /Temporarily disabling observer/.test(String(e.log_format)),
    );
    assert.ok(reports.length >= 1, 'the broken observer is reported');
    assert.equal(reports[0]?.error, boom.message);
  });
});

describe('ReconnectingClientFactory: a retry that throws', SUITE, () => {
  for (const kit of KITS) {
    test(`${kit.name}: the reactor logs it once; the process lives`, async (t) => {
      const scene = await Scene.open(t, kit);
      const boom = new Boom('startFactory on a retry');
      let starts = 0;
      const factory = new (class extends ReconnectingClientFactory<Recorder> {
        override noisy = false;
        override startFactory(): void {
          starts++;
          // The first attempt starts; the retry (a timed call) throws.
          if (starts > 1) throw boom;
        }
      })({ clock: scene.h.reactor, initialDelay: 0, jitter: 0, factor: 1 });
      factory.protocol = Recorder;
      const connector = kit.connectNowhere(scene.h, t, factory);
      await until(() => failuresOf(scene.logs, boom).length > 0, 'the error to be logged');
      await scene.done(boom);
      assert.equal(starts, 2);
      assert.equal(factory.retries, 1);
      assert.equal((connector as IConnector & { state: string }).state, 'disconnected');
    });
  }
});

describe('in a process of its own, with no handler for uncaught exceptions', SUITE, () => {
  test('producers and client factory hooks that throw: the process lives and serves', async () => {
    const child = fileURLToPath(new URL('./_callbacks-child.js', import.meta.url));
    const run = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
    });
    run.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    const [code] = (await waitFor(once(run, 'exit'), 'the child to exit', 30)) as [number | null];
    assert.equal(code, 0, `the child failed: ${stderr}`);
    assert.equal(stdout, 'ALIVE\n');
    for (const message of [
      'push resumeProducing',
      'pull resumeProducing',
      'clientConnectionFailed',
      'clientConnectionLost',
    ]) {
      const count = stderr.split(`Boom: ${message}\n`).length - 1;
      assert.equal(count, 1, `"${message}" logged ${count} times: ${stderr}`);
    }
    assert.match(stderr, /_callbacks-child\.js/, 'with the stack');
  });
});
