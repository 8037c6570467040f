// loopbackAsync and its pump policies (ported from Twisted's
// twisted/test/test_loopback.py LoopbackAsyncTests and the loopbackAsync
// runs of LoopbackTestCaseMixin).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred, type Failure } from 'torsion/defer';
import { ConnectionDone, ConnectionLost, Protocol } from 'torsion/protocol';
import {
  collapsingPumpPolicy,
  identityPumpPolicy,
  LoopbackAddress,
  type LoopbackAsyncOptions,
  LoopbackQueue,
  loopbackAsync,
} from 'torsion/protocols/loopback';
import type { IConsumer, IPullProducer, IPushProducer, ITransport } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import * as testing from 'torsion/testing';
import { assertReactorClean, failureResultOf, successResultOf } from 'torsion/testing';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

type LoopbackTransport = ITransport & IConsumer;

/** Advances `clock` by 0 until nothing is scheduled. */
function settle(clock: Clock): void {
  for (let round = 0; clock.getDelayedCalls().length > 0; round++) {
    assert.ok(round < 1000, 'the loopback is still busy after 1000 turns');
    clock.advance(0);
  }
}

/** A line protocol, enough for these tests (CRLF-delimited). */
class SimpleProtocol extends Protocol<LoopbackTransport> {
  readonly conn = new Deferred<void>();
  readonly lines: string[] = [];
  readonly connLost: Failure[] = [];
  #buffer = '';

  override connectionMade(): void {
    this.conn.callback(undefined);
  }

  override dataReceived(data: Uint8Array): void {
    this.#buffer += Buffer.from(data).toString('latin1');
    for (let end = this.#buffer.indexOf('\r\n'); end !== -1; end = this.#buffer.indexOf('\r\n')) {
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      this.lineReceived(line);
    }
  }

  lineReceived(line: string): void {
    this.lines.push(line);
  }

  sendLine(line: string): void {
    this.transport.write(bytes(`${line}\r\n`));
  }

  override connectionLost(reason: Failure): void {
    this.connLost.push(reason);
  }
}

/** Answers three lines, then hangs up. */
class DoomProtocol extends SimpleProtocol {
  i = 0;

  override lineReceived(line: string): void {
    this.i++;
    if (this.i < 4) this.sendLine(`Hello ${this.i}`);
    super.lineReceived(line);
    if (this.lines.at(-1) === 'Hello 3') this.transport.loseConnection();
  }
}

describe('loopbackAsync', () => {
  test('delivers what the server sends, then tells both sides the connection is lost', () => {
    const clock = new Clock();
    const s = new SimpleProtocol();
    const c = new SimpleProtocol();
    s.conn.addCallback(() => {
      s.sendLine('THIS IS LINE ONE!');
      s.transport.loseConnection();
    });
    const d = loopbackAsync(s, c, identityPumpPolicy, { clock });
    settle(clock);
    successResultOf(d);
    assert.deepEqual(c.lines, ['THIS IS LINE ONE!']);
    assert.equal(s.connLost.length, 1);
    assert.equal(c.connLost.length, 1);
    assert.ok(s.connLost[0]?.check(ConnectionDone));
    assert.ok(c.connLost[0]?.check(ConnectionDone));
  });

  test('a conversation that ends with one side hanging up is delivered in full', () => {
    const clock = new Clock();
    const s = new DoomProtocol();
    const c = new DoomProtocol();
    s.conn.addCallback(() => s.sendLine('DOOM LINE'));
    const d = loopbackAsync(s, c, identityPumpPolicy, { clock });
    settle(clock);
    successResultOf(d);
    assert.deepEqual(s.lines, ['Hello 1', 'Hello 2', 'Hello 3']);
    assert.deepEqual(c.lines, ['DOOM LINE', 'Hello 1', 'Hello 2', 'Hello 3']);
    assert.equal(s.connLost.length, 1);
    assert.equal(c.connLost.length, 1);
  });

  test('calls makeConnection on both the server and the client', () => {
    class TestProtocol extends Protocol<LoopbackTransport> {
      given: ITransport | undefined;
      override makeConnection(transport: LoopbackTransport): void {
        this.given = transport;
      }
    }
    const clock = new Clock();
    const server = new TestProtocol();
    const client = new TestProtocol();
    const d = loopbackAsync(server, client, identityPumpPolicy, { clock });
    assert.ok(server.given !== undefined);
    assert.ok(client.given !== undefined);
    d.cancel();
    failureResultOf(d, CancelledError);
  });

  for (const side of ['server', 'client'] as const) {
    for (const method of ['getHost', 'getPeer'] as const) {
      test(`gives the ${side} a transport whose ${method} returns an address`, () => {
        const clock = new Clock();
        const server = new Protocol<LoopbackTransport>();
        const client = new Protocol<LoopbackTransport>();
        const d = loopbackAsync(server, client, identityPumpPolicy, { clock });
        const address = (side === 'server' ? server : client).transport[method]();
        assert.ok(address instanceof LoopbackAddress);
        assert.equal(String(address), 'LoopbackAddress');
        d.cancel();
        failureResultOf(d, CancelledError);
      });
    }
  }

  for (const greeter of ['server', 'client'] as const) {
    for (const write of ['write', 'writeSequence'] as const) {
      test(`the ${greeter === 'server' ? 'client' : 'server'} receives a greeting sent with ${write} by the ${greeter}`, () => {
        class Greetee extends Protocol<LoopbackTransport> {
          received = Buffer.alloc(0);
          override dataReceived(data: Uint8Array): void {
            this.received = Buffer.concat([this.received, data]);
          }
        }
        class Greeter extends Protocol<LoopbackTransport> {
          override connectionMade(): void {
            if (write === 'write') this.transport.write(bytes('bytes'));
            else this.transport.writeSequence([bytes('byt'), bytes('es')]);
          }
        }
        const clock = new Clock();
        const greetee = new Greetee();
        const d =
          greeter === 'server'
            ? loopbackAsync(new Greeter(), greetee, identityPumpPolicy, { clock })
            : loopbackAsync(greetee, new Greeter(), identityPumpPolicy, { clock });
        settle(clock);
        assert.deepEqual(greetee.received, bytes('bytes'));
        d.cancel();
        failureResultOf(d, CancelledError);
      });
    }
  }

  const toProduce = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

  class Receiving extends Protocol<LoopbackTransport> {
    received = '';
    override dataReceived(data: Uint8Array): void {
      this.received += Buffer.from(data).toString('latin1');
    }
  }

  test('a push producer registered on a loopback transport is never resumed', () => {
    const clock = new Clock();
    class PushProducer implements IPushProducer {
      resumed = false;
      readonly #pending = [...toProduce];
      #consumer: IConsumer | undefined;
      start(consumer: IConsumer): void {
        this.#consumer = consumer;
        consumer.registerProducer(this, true);
        this.#produceAndSchedule();
      }
      #produceAndSchedule(): void {
        const next = this.#pending.shift();
        if (next === undefined) {
          this.#consumer?.unregisterProducer();
          return;
        }
        this.#consumer?.write(bytes(next));
        clock.callLater(0, () => this.#produceAndSchedule());
      }
      pauseProducing(): void {}
      resumeProducing(): void {
        this.resumed = true;
      }
      stopProducing(): void {}
    }
    const producer = new PushProducer();
    class Producing extends Protocol<LoopbackTransport> {
      override connectionMade(): void {
        producer.start(this.transport);
      }
    }
    const client = new Receiving();
    const d = loopbackAsync(new Producing(), client, identityPumpPolicy, { clock });
    settle(clock);
    assert.equal(client.received, toProduce.join(''));
    assert.equal(producer.resumed, false);
    d.cancel();
    failureResultOf(d, CancelledError);
  });

  test('a pull producer is asked for more each time what it wrote is delivered', () => {
    const clock = new Clock();
    class PullProducer implements IPullProducer {
      readonly #pending = [...toProduce];
      #consumer: IConsumer | undefined;
      start(consumer: IConsumer): void {
        this.#consumer = consumer;
        consumer.registerProducer(this, false);
      }
      resumeProducing(): void {
        this.#consumer?.write(bytes(this.#pending.shift() ?? ''));
        if (this.#pending.length === 0) this.#consumer?.unregisterProducer();
      }
      stopProducing(): void {}
    }
    class Producing extends Protocol<LoopbackTransport> {
      override connectionMade(): void {
        new PullProducer().start(this.transport);
      }
    }
    const client = new Receiving();
    const d = loopbackAsync(new Producing(), client, identityPumpPolicy, { clock });
    settle(clock);
    assert.equal(client.received, toProduce.join(''));
    d.cancel();
    failureResultOf(d, CancelledError);
  });

  test("never calls dataReceived while the peer's write is on the stack", () => {
    const clock = new Clock();
    class Server extends Protocol<LoopbackTransport> {
      override dataReceived(): void {
        this.transport.write(bytes('bytes'));
      }
    }
    class Client extends Protocol<LoopbackTransport> {
      ready = false;
      wasReady: boolean | undefined;
      override connectionMade(): void {
        clock.callLater(0, () => this.go());
      }
      go(): void {
        this.transport.write(bytes('foo'));
        this.ready = true;
      }
      override dataReceived(): void {
        this.wasReady = this.ready;
        this.transport.loseConnection();
      }
    }
    const client = new Client();
    const d = loopbackAsync(client, new Server(), identityPumpPolicy, { clock });
    settle(clock);
    successResultOf(d);
    assert.equal(client.wasReady, true);
  });

  test('hands the pump policy each queue of pending chunks with its target, the server output first', () => {
    const clock = new Clock();
    const pumpCalls: Array<[Protocol<LoopbackTransport>, Array<Buffer | undefined>]> = [];
    const client = new Protocol<LoopbackTransport>();
    const server = new Protocol<LoopbackTransport>();
    const d = loopbackAsync(
      server,
      client,
      (queue, target) => {
        const items: Array<Buffer | undefined> = [];
        while (queue.length > 0) {
          const item = queue.get();
          items.push(item === undefined ? undefined : Buffer.from(item));
        }
        pumpCalls.push([target as Protocol<LoopbackTransport>, items]);
      },
      { clock },
    );
    assert.deepEqual(pumpCalls, []);
    client.transport.write(bytes('foo'));
    client.transport.write(bytes('bar'));
    server.transport.write(bytes('baz'));
    server.transport.write(bytes('quux'));
    server.transport.loseConnection();
    assert.deepEqual(pumpCalls, []);
    settle(clock);
    successResultOf(d);
    assert.deepEqual(pumpCalls, [
      [client, [bytes('baz'), bytes('quux'), undefined]],
      [server, [bytes('foo'), bytes('bar')]],
    ]);
  });

  test('finishes at once, without advancing the clock, when the protocols are done while connecting', () => {
    class Hangup extends Protocol<LoopbackTransport> {
      override connectionMade(): void {
        this.transport.loseConnection();
      }
    }
    const clock = new Clock();
    const d = loopbackAsync(new Hangup(), new Protocol(), undefined, { clock });
    assert.equal(successResultOf(d), undefined);
    assertReactorClean(clock);
  });

  test('uses the identity pump policy when given undefined for it', () => {
    const clock = new Clock();
    const server = new Protocol<LoopbackTransport>();
    const received: string[] = [];
    const client = new (class extends Protocol<LoopbackTransport> {
      override dataReceived(data: Uint8Array): void {
        received.push(Buffer.from(data).toString());
      }
    })();
    const d = loopbackAsync(server, client, undefined, { clock });
    server.transport.write(bytes('a'));
    server.transport.write(bytes('b'));
    server.transport.loseConnection();
    settle(clock);
    successResultOf(d);
    assert.deepEqual(received, ['a', 'b']);
  });

  test('throws a TypeError without a clock, rather than delivering on real time', () => {
    const noClock = {} as LoopbackAsyncOptions;
    assert.throws(
      () => loopbackAsync(new Protocol(), new Protocol(), identityPumpPolicy, noClock),
      {
        name: 'TypeError',
        message: /^loopbackAsync needs a clock option.*got undefined/,
      },
    );
  });

  test('the transports reject strings with a TypeError', () => {
    const clock = new Clock();
    const server = new Protocol<LoopbackTransport>();
    const d = loopbackAsync(server, new Protocol(), identityPumpPolicy, { clock });
    assert.throws(() => server.transport.write('text' as unknown as Uint8Array), TypeError);
    assert.throws(() => server.transport.writeSequence(['t' as unknown as Uint8Array]), TypeError);
    d.cancel();
    failureResultOf(d, CancelledError);
  });

  test('cancelling stops delivery and tells both sides, with ConnectionLost', (t) => {
    const clock = new Clock();
    t.after(() => assertReactorClean(clock));
    const server = new SimpleProtocol();
    const client = new SimpleProtocol();
    const d = loopbackAsync(server, client, identityPumpPolicy, { clock });
    server.sendLine('never delivered');
    d.cancel();
    failureResultOf(d, CancelledError);
    settle(clock);
    assert.deepEqual(client.lines, []);
    assert.equal(server.connLost.length, 1);
    assert.equal(client.connLost.length, 1);
    assert.ok(client.connLost[0]?.check(ConnectionLost));
  });

  test('is also exported from torsion/testing', () => {
    assert.equal(testing.loopbackAsync, loopbackAsync);
  });
});

describe('pump policies', () => {
  class Collector extends Protocol {
    readonly chunks: Buffer[] = [];
    override dataReceived(data: Uint8Array): void {
      this.chunks.push(Buffer.from(data));
    }
  }

  const filledQueue = (): LoopbackQueue => {
    const queue = new LoopbackQueue();
    queue.put(bytes('foo'));
    queue.put(bytes('bar'));
    queue.put(undefined);
    return queue;
  };

  test('identityPumpPolicy delivers each chunk as it was written, up to the end', () => {
    const client = new Collector();
    identityPumpPolicy(filledQueue(), client);
    assert.deepEqual(client.chunks, [bytes('foo'), bytes('bar')]);
  });

  test('collapsingPumpPolicy delivers all waiting chunks in one call', () => {
    const client = new Collector();
    collapsingPumpPolicy(filledQueue(), client);
    assert.deepEqual(client.chunks, [bytes('foobar')]);
  });

  test('collapsingPumpPolicy makes no call for an empty queue', () => {
    const client = new Collector();
    collapsingPumpPolicy(new LoopbackQueue(), client);
    assert.deepEqual(client.chunks, []);
  });

  test('a loopback with collapsingPumpPolicy joins what was written while idle', () => {
    const clock = new Clock();
    const server = new Protocol<LoopbackTransport>();
    const client = new Collector();
    const d = loopbackAsync(server, client, collapsingPumpPolicy, { clock });
    server.transport.write(bytes('a'));
    server.transport.write(bytes('b'));
    server.transport.loseConnection();
    settle(clock);
    successResultOf(d);
    assert.deepEqual(client.chunks, [bytes('ab')]);
  });

  test('LoopbackQueue.get throws when the queue is empty', () => {
    const queue = new LoopbackQueue();
    assert.equal(queue.length, 0);
    assert.throws(() => queue.get(), /empty/);
  });
});
