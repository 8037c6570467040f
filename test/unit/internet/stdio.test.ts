// StandardIO over in-memory streams (PassThrough and hand-driven Writables)
// and a MemoryReactorClock: reading, writing, closing each way, half-close,
// producers and backpressure, errors, and the reactor's shutdown. No
// sockets, no real time: tests wait for stream events and event-loop turns.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { succeed } from '../../../src/internet/defer.js';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from '../../../src/internet/error.js';
import type { Failure } from '../../../src/internet/failure.js';
import type { IPullProducer, IPushProducer } from '../../../src/internet/interfaces.js';
import { Protocol } from '../../../src/internet/protocol.js';
import { PipeAddress, StandardIO } from '../../../src/internet/stdio.js';
import { captureLogs } from '../../../src/logger/capture.js';
import { MemoryReactorClock } from '../../../src/testing/memory-reactor.js';

/** One turn of the event loop: stream events queued so far have run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Records every call it gets, and can be told to throw from one of them. */
class Recorder extends Protocol<StandardIO> {
  readonly events: string[] = [];
  readonly received: Buffer[] = [];
  reasons: Failure[] = [];
  throwFrom: string | undefined;

  override connectionMade(): void {
    this.events.push('connectionMade');
    if (this.throwFrom === 'connectionMade') throw new Error('boom in connectionMade');
  }

  override dataReceived(data: Uint8Array): void {
    this.events.push('dataReceived');
    this.received.push(Buffer.from(data));
    if (this.throwFrom === 'dataReceived') throw new Error('boom in dataReceived');
  }

  override connectionLost(reason: Failure): void {
    this.events.push('connectionLost');
    this.reasons.push(reason);
  }
}

/** A Recorder that half-closes. */
class HalfCloser extends Recorder {
  readConnectionLost(): void {
    this.events.push('readConnectionLost');
    if (this.throwFrom === 'readConnectionLost') throw new Error('boom in readConnectionLost');
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }
}

/** stdin and stdout as PassThroughs; what reaches stdout is collected. */
function streams(): { stdin: PassThrough; stdout: PassThrough; output: () => string } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stdin, stdout, output: () => Buffer.concat(chunks).toString('utf8') };
}

/** A stdout that holds each write until `release()`: a reader that is slow to read. */
class SlowWriter extends Writable {
  readonly pending: Array<() => void> = [];
  readonly written: Buffer[] = [];

  constructor(highWaterMark: number) {
    super({ highWaterMark });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(chunk);
    this.pending.push(callback);
  }

  /** Completes every write held so far (and those Node then passes on). */
  async release(): Promise<void> {
    while (this.pending.length > 0) {
      for (const callback of this.pending.splice(0)) callback();
      await turn();
    }
  }
}

/** A stdout whose every write fails as a pipe with no reader does. */
class BrokenPipe extends Writable {
  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: (e: Error) => void): void {
    const error: NodeJS.ErrnoException = new Error('write EPIPE');
    error.code = 'EPIPE';
    callback(error);
  }
}

function lostWith(protocol: Recorder, type: new (...args: never[]) => Error): Failure {
  assert.equal(protocol.reasons.length, 1, 'connectionLost is called exactly once');
  const reason = protocol.reasons[0]!;
  assert.ok(reason.value instanceof type, `connectionLost got ${String(reason.value)}`);
  assert.equal((reason.value as Error).constructor, type);
  return reason;
}

describe('StandardIO: connecting, reading and writing', () => {
  test('calls connectionMade at construction, with pipe addresses at both ends', () => {
    const { stdin, stdout } = streams();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    assert.deepEqual(protocol.events, ['connectionMade']);
    assert.equal(protocol.transport, transport);
    assert.ok(transport.getHost() instanceof PipeAddress);
    assert.ok(transport.getPeer().equals(new PipeAddress()));
    assert.equal(String(transport.getPeer()), 'PipeAddress()');
    assert.equal(transport.disconnecting, false);
    transport.abortConnection();
  });

  test('delivers what arrives on stdin to dataReceived, as bytes', async () => {
    const { stdin, stdout } = streams();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    stdin.write('hello ');
    stdin.write(Buffer.from('world'));
    await turn();
    assert.equal(Buffer.concat(protocol.received).toString(), 'hello world');
    assert.ok(protocol.received.every((chunk) => chunk instanceof Uint8Array));
    transport.abortConnection();
  });

  test('writes to stdout in order; writeSequence writes every chunk; strings are refused', async () => {
    const { stdin, stdout, output } = streams();
    const transport = new StandardIO(new Recorder(), new MemoryReactorClock(), { stdin, stdout });
    transport.write(Buffer.from('one '));
    transport.writeSequence([Buffer.from('two '), new Uint8Array([116, 104, 114, 101, 101])]);
    assert.throws(() => transport.write('four' as never), TypeError);
    assert.throws(() => transport.writeSequence([Buffer.from('x'), 'y' as never]), TypeError);
    await turn();
    assert.equal(output(), 'one two three');
    transport.abortConnection();
  });

  test('write and loseConnection work unbound, as Twisted code passes them', async () => {
    const { stdin, stdout, output } = streams();
    const reactor = new MemoryReactorClock();
    const protocol = new Recorder();
    const { write, loseConnection } = new StandardIO(protocol, reactor, { stdin, stdout });
    succeed(Buffer.from('passed on')).addCallback(write);
    reactor.callLater(1, loseConnection);
    reactor.advance(1);
    await once(stdout, 'finish');
    await turn();
    assert.equal(output(), 'passed on');
    lostWith(protocol, ConnectionDone);
  });

  test('pauseProducing holds stdin back until resumeProducing', async () => {
    const { stdin, stdout } = streams();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    transport.pauseProducing();
    stdin.write('held');
    await turn();
    assert.deepEqual(protocol.received, []);
    transport.resumeProducing();
    await turn();
    assert.equal(Buffer.concat(protocol.received).toString(), 'held');
    transport.abortConnection();
  });
});

describe('StandardIO: closing', () => {
  test('loseConnection sends what is written, ends stdout, stops reading, and calls connectionLost once', async () => {
    const { stdin, stdout, output } = streams();
    const reactor = new MemoryReactorClock();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, reactor, { stdin, stdout });
    transport.write(Buffer.from('bye'));
    transport.loseConnection();
    assert.equal(transport.disconnecting, true);
    transport.loseConnection();
    stdin.write('too late');
    await once(stdout, 'finish');
    await turn();
    assert.equal(output(), 'bye');
    lostWith(protocol, ConnectionDone);
    assert.deepEqual(protocol.received, [], 'nothing is delivered once closing');
    assert.equal(stdin.listenerCount('data'), 0);
    assert.equal(stdin.isPaused(), true);
    assert.equal(stdin.destroyed, false, 'stdin is paused, not closed');
    assert.deepEqual(reactor.triggers.before?.shutdown ?? [], [], 'the shutdown trigger is gone');
    assert.deepEqual(reactor.getDelayedCalls(), []);
    transport.write(Buffer.from('ignored'));
    transport.abortConnection();
    await turn();
    assert.equal(protocol.reasons.length, 1);
  });

  test('stdin EOF closes a protocol that does not half-close, after what it wrote', async () => {
    const { stdin, stdout, output } = streams();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    protocol.dataReceived = (data) => transport.write(Buffer.from(`got ${data}`));
    stdin.end('it');
    await once(stdout, 'finish');
    await turn();
    assert.equal(output(), 'got it');
    lostWith(protocol, ConnectionDone);
  });

  test('stdin EOF tells a half-closing protocol, which goes on writing until it closes', async () => {
    const { stdin, stdout, output } = streams();
    const protocol = new HalfCloser();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    stdin.end();
    await turn();
    assert.deepEqual(protocol.events, ['connectionMade', 'readConnectionLost']);
    assert.equal(transport.disconnecting, false);
    transport.write(Buffer.from('still here'));
    transport.loseConnection();
    await once(stdout, 'finish');
    await turn();
    assert.equal(output(), 'still here');
    assert.deepEqual(protocol.events, ['connectionMade', 'readConnectionLost', 'connectionLost']);
    lostWith(protocol, ConnectionDone);
  });

  test('loseWriteConnection ends stdout, reads on, and the connection is lost at stdin EOF', async () => {
    const { stdin, stdout, output } = streams();
    const protocol = new HalfCloser();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    transport.write(Buffer.from('all I have'));
    transport.loseWriteConnection();
    transport.write(Buffer.from(' and more'));
    await once(stdout, 'finish');
    await turn();
    assert.equal(output(), 'all I have');
    assert.deepEqual(protocol.events, ['connectionMade', 'writeConnectionLost']);
    stdin.write('still reading');
    await turn();
    assert.equal(Buffer.concat(protocol.received).toString(), 'still reading');
    stdin.end();
    await turn();
    assert.deepEqual(protocol.events.slice(-2), ['readConnectionLost', 'connectionLost']);
    lostWith(protocol, ConnectionDone);
  });

  test('abortConnection destroys stdout and calls connectionLost on the next reactor turn', async () => {
    const { stdin, stdout } = streams();
    const reactor = new MemoryReactorClock();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, reactor, { stdin, stdout });
    transport.abortConnection();
    assert.equal(transport.disconnecting, true);
    assert.equal(stdout.destroyed, true);
    assert.equal(protocol.reasons.length, 0, 'not from inside the call');
    reactor.advance(0);
    lostWith(protocol, ConnectionAborted);
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });
});

describe('StandardIO: errors end the connection, never the process', () => {
  for (const callback of ['connectionMade', 'dataReceived'] as const) {
    test(`a throw from ${callback} is logged and aborts the connection`, async () => {
      const { stdin, stdout } = streams();
      const reactor = new MemoryReactorClock();
      const protocol = new Recorder();
      protocol.throwFrom = callback;
      const logs = captureLogs();
      try {
        new StandardIO(protocol, reactor, { stdin, stdout });
        stdin.write('x');
        await turn();
        reactor.advance(0);
      } finally {
        logs.stop();
      }
      const reason = lostWith(protocol, ConnectionAborted);
      assert.match(String((reason.value as Error).message), new RegExp(callback));
      assert.equal(((reason.value as Error).cause as Error).message, `boom in ${callback}`);
      assert.ok(
        logs.events.some((event) => event.callback === callback && event.log_failure),
        'the error is logged with its failure',
      );
    });
  }

  test('a throw from readConnectionLost is logged and aborts the connection', async () => {
    const { stdin, stdout } = streams();
    const reactor = new MemoryReactorClock();
    const protocol = new HalfCloser();
    protocol.throwFrom = 'readConnectionLost';
    const logs = captureLogs();
    try {
      new StandardIO(protocol, reactor, { stdin, stdout });
      stdin.end();
      await turn();
      reactor.advance(0);
    } finally {
      logs.stop();
    }
    lostWith(protocol, ConnectionAborted);
    assert.equal(logs.events.filter((event) => event.log_failure).length, 1);
  });

  test('EPIPE on stdout is logged and loses the connection with ConnectionLost', async () => {
    const stdin = new PassThrough();
    const stdout = new BrokenPipe();
    const reactor = new MemoryReactorClock();
    const protocol = new Recorder();
    const logs = captureLogs();
    try {
      const transport = new StandardIO(protocol, reactor, { stdin, stdout });
      transport.write(Buffer.from('nobody reads this'));
      await turn();
      await turn();
      transport.write(Buffer.from('ignored'));
    } finally {
      logs.stop();
    }
    const reason = lostWith(protocol, ConnectionLost);
    assert.match((reason.value as Error).message, /EPIPE/);
    assert.ok(logs.events.some((event) => event.error === 'EPIPE'));
    assert.equal(stdin.listenerCount('data'), 0, 'stdin is no longer read');
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test('an error on stdin is logged and loses the connection with ConnectionLost', async () => {
    const { stdin, stdout } = streams();
    const protocol = new Recorder();
    const logs = captureLogs();
    try {
      new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
      stdin.destroy(Object.assign(new Error('read EIO'), { code: 'EIO' }));
      await turn();
    } finally {
      logs.stop();
    }
    lostWith(protocol, ConnectionLost);
    assert.ok(logs.events.some((event) => event.error === 'EIO'));
  });

  test('stdin closed before its end (the writer went away) loses the connection', async () => {
    const { stdin, stdout } = streams();
    const reactor = new MemoryReactorClock();
    const protocol = new Recorder();
    new StandardIO(protocol, reactor, { stdin, stdout });
    stdin.destroy();
    await once(stdin, 'close');
    reactor.advance(0);
    const reason = lostWith(protocol, ConnectionLost);
    assert.match((reason.value as Error).message, /standard input was closed/);
  });
});

/** A push producer that records the calls it gets. */
class PushProducer implements IPushProducer {
  readonly calls: string[] = [];
  pauseProducing(): void {
    this.calls.push('pause');
  }
  resumeProducing(): void {
    this.calls.push('resume');
  }
  stopProducing(): void {
    this.calls.push('stop');
  }
}

describe('StandardIO: producers and consumers', () => {
  test('a streaming producer is paused when stdout is full and resumed at its drain', async () => {
    const stdin = new PassThrough();
    const stdout = new SlowWriter(8);
    const transport = new StandardIO(new Recorder(), new MemoryReactorClock(), { stdin, stdout });
    const producer = new PushProducer();
    transport.registerProducer(producer, true);
    transport.write(Buffer.from('1234'));
    assert.deepEqual(producer.calls, []);
    transport.write(Buffer.from('56789'));
    assert.deepEqual(producer.calls, ['pause']);
    transport.write(Buffer.from('more'));
    assert.deepEqual(producer.calls, ['pause'], 'paused once');
    await stdout.release();
    assert.deepEqual(producer.calls, ['pause', 'resume']);
    assert.equal(Buffer.concat(stdout.written).toString(), '123456789more');
    transport.unregisterProducer();
    transport.abortConnection();
  });

  test('a streaming producer registered while stdout is full is paused at once', () => {
    const stdout = new SlowWriter(4);
    const transport = new StandardIO(new Recorder(), new MemoryReactorClock(), {
      stdin: new PassThrough(),
      stdout,
    });
    transport.write(Buffer.from('12345'));
    const producer = new PushProducer();
    transport.registerProducer(producer, true);
    assert.deepEqual(producer.calls, ['pause']);
    assert.throws(() => transport.registerProducer(new PushProducer(), true), /never unregistered/);
    transport.abortConnection();
  });

  test('a pull producer is asked for a chunk each time stdout has taken everything', async () => {
    const stdout = new SlowWriter(1024);
    const transport = new StandardIO(new Recorder(), new MemoryReactorClock(), {
      stdin: new PassThrough(),
      stdout,
    });
    const chunks = ['a', 'b', 'c'];
    let asked = 0;
    const producer: IPullProducer = {
      resumeProducing(): void {
        asked++;
        const chunk = chunks.shift();
        if (chunk === undefined) transport.unregisterProducer();
        else transport.write(Buffer.from(chunk));
      },
      stopProducing(): void {
        assert.fail('not stopped');
      },
    };
    transport.registerProducer(producer, false);
    await turn();
    await turn();
    assert.equal(asked, 1, 'not asked again while stdout holds the chunk');
    for (let i = 0; i < 10 && asked < 4; i++) await stdout.release();
    assert.equal(Buffer.concat(stdout.written).toString(), 'abc');
    assert.equal(asked, 4, 'asked once more after the last chunk, and it unregistered');
    await stdout.release();
    assert.equal(asked, 4);
    transport.abortConnection();
  });

  test('loseConnection waits for the producer to unregister, and writes what it wrote', async () => {
    const { stdin, stdout, output } = streams();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    const producer = new PushProducer();
    transport.registerProducer(producer, true);
    transport.loseConnection();
    await turn();
    assert.equal(stdout.writableEnded, false);
    transport.write(Buffer.from('last words'));
    transport.unregisterProducer();
    await once(stdout, 'finish');
    await turn();
    assert.equal(output(), 'last words');
    lostWith(protocol, ConnectionDone);
    assert.deepEqual(producer.calls, [], 'it unregistered itself: not stopped');
  });

  test('stdin EOF stops the producer of a protocol that does not half-close; a late one is stopped at once', async () => {
    const { stdin, stdout } = streams();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    const producer = new PushProducer();
    transport.registerProducer(producer, true);
    stdin.end();
    await once(stdout, 'finish');
    await turn();
    assert.deepEqual(producer.calls, ['stop']);
    lostWith(protocol, ConnectionDone);
    const late = new PushProducer();
    transport.registerProducer(late, true);
    assert.deepEqual(late.calls, ['stop']);
  });

  test('a throw from the producer is logged and aborts the connection', async () => {
    const stdout = new SlowWriter(1);
    const reactor = new MemoryReactorClock();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, reactor, { stdin: new PassThrough(), stdout });
    const producer = new PushProducer();
    producer.pauseProducing = () => {
      throw new Error('cannot pause');
    };
    transport.registerProducer(producer, true);
    const logs = captureLogs();
    try {
      transport.write(Buffer.from('full'));
      reactor.advance(0);
    } finally {
      logs.stop();
    }
    const reason = lostWith(protocol, ConnectionAborted);
    assert.equal(((reason.value as Error).cause as Error).message, 'cannot pause');
    assert.equal(logs.events.filter((event) => event.log_failure).length, 1);
  });

  test('stopProducing loses the connection', async () => {
    const { stdin, stdout } = streams();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, new MemoryReactorClock(), { stdin, stdout });
    transport.stopProducing();
    await once(stdout, 'finish');
    await turn();
    lostWith(protocol, ConnectionDone);
  });
});

describe("StandardIO and the reactor's shutdown", () => {
  test('shutdown stops the producer, flushes and closes, and waits for connectionLost', async () => {
    const stdout = new SlowWriter(1024);
    const reactor = new MemoryReactorClock();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, reactor, { stdin: new PassThrough(), stdout });
    const producer = new PushProducer();
    transport.registerProducer(producer, true);
    transport.write(Buffer.from('unsent'));
    let after = false;
    reactor.addSystemEventTrigger('after', 'shutdown', () => {
      after = true;
    });
    reactor.fireSystemEvent('shutdown');
    assert.deepEqual(producer.calls, ['stop']);
    assert.equal(after, false, 'the shutdown waits for stdout');
    await stdout.release();
    await turn();
    assert.equal(Buffer.concat(stdout.written).toString(), 'unsent');
    lostWith(protocol, ConnectionDone);
    assert.equal(after, true);
    assert.deepEqual(reactor.getDelayedCalls(), [], 'the grace timer is cancelled');
  });

  test('shutdown waits 5 seconds at most for a stdout that takes nothing', () => {
    const stdout = new SlowWriter(1024);
    const reactor = new MemoryReactorClock();
    const protocol = new Recorder();
    const transport = new StandardIO(protocol, reactor, { stdin: new PassThrough(), stdout });
    transport.write(Buffer.from('stuck'));
    let after = false;
    reactor.addSystemEventTrigger('after', 'shutdown', () => {
      after = true;
    });
    reactor.fireSystemEvent('shutdown');
    reactor.advance(4.9);
    assert.equal(after, false);
    reactor.advance(0.1);
    assert.equal(after, true);
    const reason = lostWith(protocol, ConnectionLost);
    assert.match((reason.value as Error).message, /before shutdown/);
    assert.equal(stdout.destroyed, true);
  });

  test('a connection closed before the shutdown leaves no trigger behind', async () => {
    const { stdin, stdout } = streams();
    const reactor = new MemoryReactorClock();
    const transport = new StandardIO(new Recorder(), reactor, { stdin, stdout });
    assert.equal(reactor.triggers.before?.shutdown?.length, 1);
    transport.abortConnection();
    reactor.advance(0);
    assert.equal(reactor.triggers.before?.shutdown?.length, 0);
  });
});
