// FileBodyProducer: bytes and strings written a chunk per cooperator step
// (driven by a Clock), pausing, stopping and cancelling, replaying; files
// measured at once, opened when started, errors naming the path; Readable
// streams, chunked or with a given length; and an upload through a real
// Agent to a Site in memory.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import type { Deferred } from '../../../src/internet/defer.js';
import type { IConsumer, IPullProducer, IPushProducer } from '../../../src/internet/interfaces.js';
import { Cooperator } from '../../../src/internet/task/cooperator.js';
import { assertNoResult, successResultOf } from '../../../src/testing/deferred-asserts.js';
import { FileBodyProducer, isReplayable } from '../../../src/web/client/file-body-producer.js';
import { readBody } from '../../../src/web/client/response.js';
import { leaf, MemoryWeb } from '../../helpers/memory-web.js';

/** A consumer that keeps what is written. */
class Collector implements IConsumer {
  readonly chunks: Buffer[] = [];
  registerProducer(_p: IPushProducer | IPullProducer, _s: boolean): void {}
  unregisterProducer(): void {}
  write(data: Uint8Array): void {
    this.chunks.push(Buffer.from(data));
  }
  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

/** A cooperator doing one unit of work per step, each step run by the test: one chunk per `step()`. */
function stepper(): { step: () => void; cooperator: Cooperator } {
  let pending: (() => void)[] = [];
  const cooperator = new Cooperator({
    scheduler: (run) => {
      pending.push(run);
      return {
        cancel: () => {
          pending = pending.filter((p) => p !== run);
        },
      };
    },
    terminationPredicateFactory: () => () => true,
  });
  const step = (): void => {
    const due = pending;
    pending = [];
    for (const run of due) run();
  };
  return { step, cooperator };
}

/** A cooperator on the event loop, for files (whose reads finish on later turns). */
function immediate(): Cooperator {
  return new Cooperator({
    scheduler: (step) => {
      const handle = setImmediate(step);
      return { cancel: () => clearImmediate(handle) };
    },
  });
}

const dir = mkdtempSync(join(tmpdir(), 'torsion-file-body-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Open file descriptors of this process (Linux), to see that files are closed. */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('FileBodyProducer over bytes and strings', () => {
  test('bytes: the length, then one readSize chunk per cooperator step, then the Deferred fires', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer(Buffer.from('abcdefghij'), { cooperator, readSize: 4 });
    assert.equal(producer.length, 10);
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    assert.deepEqual(consumer.chunks, [], 'nothing before the first step');
    step();
    assert.deepEqual(consumer.chunks.map(String), ['abcd']);
    step();
    step();
    assert.deepEqual(consumer.chunks.map(String), ['abcd', 'efgh', 'ij']);
    step();
    assert.equal(successResultOf(done), undefined);
  });

  test('a string is sent as UTF-8: its length is its byte count', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer('déjà vu', { cooperator });
    assert.equal(producer.length, Buffer.byteLength('déjà vu'));
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    step();
    step();
    successResultOf(done);
    assert.equal(consumer.text(), 'déjà vu');
  });

  test('any bytes, any readSize: the consumer gets the same bytes, in chunks of readSize but the last', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.integer({ min: 1, max: 700 }),
        (bytes, readSize) => {
          const { step, cooperator } = stepper();
          const producer = new FileBodyProducer(bytes, { cooperator, readSize });
          const consumer = new Collector();
          const done = producer.startProducing(consumer);
          for (let i = 0; i <= Math.ceil(bytes.length / readSize); i++) step();
          successResultOf(done);
          assert.deepEqual(new Uint8Array(Buffer.concat(consumer.chunks)), bytes);
          assert.ok(consumer.chunks.slice(0, -1).every((c) => c.length === readSize));
          assert.equal(producer.length, bytes.length);
        },
      ),
      { seed: 1313, numRuns: 200 },
    );
  });

  test('an empty body: length 0, the Deferred fires without a write', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer(new Uint8Array(0), { cooperator });
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    step();
    successResultOf(done);
    assert.equal(producer.length, 0);
    assert.deepEqual(consumer.chunks, []);
  });

  test('pauseProducing stops the writes until resumeProducing; pausing twice needs one resume', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer('aabbcc', { cooperator, readSize: 2 });
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    step();
    producer.pauseProducing();
    producer.pauseProducing();
    step();
    step();
    assert.equal(consumer.text(), 'aa');
    producer.resumeProducing();
    step();
    step();
    step();
    assert.equal(consumer.text(), 'aabbcc');
    successResultOf(done);
  });

  test('paused before it starts (the transport is full already): no write until resumed', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer('xy', { cooperator });
    producer.pauseProducing();
    const consumer = new Collector();
    producer.startProducing(consumer);
    step();
    assert.deepEqual(consumer.chunks, []);
    producer.resumeProducing();
    step();
    assert.equal(consumer.text(), 'xy');
  });

  test('stopProducing ends the writes, and the Deferred never fires (as Twisted)', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer('aabbcc', { cooperator, readSize: 2 });
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    step();
    producer.stopProducing();
    producer.stopProducing();
    step();
    step();
    assert.equal(consumer.text(), 'aa');
    assertNoResult(done);
    assert.doesNotThrow(() => {
      producer.pauseProducing();
      producer.resumeProducing();
    });
  });

  test('cancelling the Deferred stops the writes', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer('aabbcc', { cooperator, readSize: 2 });
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    step();
    done.cancel();
    done.addErrback(() => null);
    step();
    assert.equal(consumer.text(), 'aa');
  });

  test('a consumer that throws fails the Deferred with its error', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer('abc', { cooperator });
    const done = producer.startProducing({
      ...new Collector(),
      registerProducer() {},
      unregisterProducer() {},
      write() {
        throw new Error('full');
      },
    });
    step();
    let message = '';
    done.addErrback((f) => {
      message = f.getErrorMessage();
    });
    assert.equal(message, 'full');
  });

  test('replay gives an independent producer of the same bytes; a producer starts once', () => {
    const { step, cooperator } = stepper();
    const producer = new FileBodyProducer('again', { cooperator });
    assert.ok(isReplayable(producer));
    const first = new Collector();
    producer.startProducing(first);
    assert.throws(
      () => producer.startProducing(new Collector()).asPromise(),
      /started once; replay/,
    );
    const copy = producer.replay();
    assert.ok(copy !== undefined && copy !== producer);
    assert.equal(copy.length, 5);
    const second = new Collector();
    copy.startProducing(second);
    step();
    step();
    assert.equal(first.text(), 'again');
    assert.equal(second.text(), 'again');
  });

  test('a body of another type, or a readSize or length that is not a byte count, is refused', () => {
    assert.throws(() => new FileBodyProducer('x', { readSize: 0 }), TypeError);
    assert.throws(() => new FileBodyProducer('x', { readSize: 1.5 }), TypeError);
    assert.throws(() => new FileBodyProducer('x', { length: -1 }), TypeError);
    assert.throws(
      () => new FileBodyProducer(42 as unknown as string),
      /takes bytes, a string or a Readable .*not 42/,
    );
  });
});

describe('FileBodyProducer over a file', () => {
  test('measured when made, read when started, in readSize chunks; the file is closed after', async () => {
    const path = file('a.txt', 'hello, file body');
    const producer = FileBodyProducer.fromPath(path, { cooperator: immediate(), readSize: 5 });
    assert.equal(producer.length, 16);
    const before = openFds();
    const consumer = new Collector();
    await producer.startProducing(consumer);
    assert.ok(openFds() <= before, 'the file was closed before the Deferred fired');
    assert.equal(consumer.text(), 'hello, file body');
    assert.deepEqual(
      consumer.chunks.map((c) => c.length),
      [5, 5, 5, 1],
    );
  });

  test('a file: URL works as a path', async () => {
    const path = file('url.txt', 'by url');
    const producer = FileBodyProducer.fromPath(pathToFileURL(path), { cooperator: immediate() });
    const consumer = new Collector();
    await producer.startProducing(consumer);
    assert.equal(consumer.text(), 'by url');
  });

  test('a missing file, or a directory, throws when the producer is made, naming the path', () => {
    const missing = join(dir, 'missing.bin');
    assert.throws(
      () => FileBodyProducer.fromPath(missing),
      (e) => e instanceof Error && e.message.includes(missing) && /ENOENT/.test(e.message),
    );
    assert.throws(
      () => FileBodyProducer.fromPath(dir),
      (e) => e instanceof Error && e.message.includes(dir) && /directory/.test(e.message),
    );
  });

  test('a file removed before it is sent fails the Deferred, naming the path', async () => {
    const path = file('gone.txt', 'soon gone');
    const producer = FileBodyProducer.fromPath(path, { cooperator: immediate() });
    rmSync(path);
    await assert.rejects(
      producer.startProducing(new Collector()).asPromise(),
      (e) => e instanceof Error && e.message.includes(`cannot open the request body file ${path}`),
    );
  });

  test('a file that shrank after it was measured fails the Deferred, naming the path', async () => {
    const path = file('shrinks.txt', '0123456789');
    const producer = FileBodyProducer.fromPath(path, { cooperator: immediate() });
    truncateSync(path, 4);
    await assert.rejects(
      producer.startProducing(new Collector()).asPromise(),
      (e) =>
        e instanceof Error &&
        e.message.includes(path) &&
        /6 bytes short of the 10 bytes/.test(e.message),
    );
  });

  test('a file that grew sends only the length measured (the Content-Length stays true)', async () => {
    const path = file('grows.txt', '0123');
    const producer = FileBodyProducer.fromPath(path, { cooperator: immediate() });
    writeFileSync(path, '0123456789');
    const consumer = new Collector();
    await producer.startProducing(consumer);
    assert.equal(consumer.text(), '0123');
  });

  test('stopProducing closes the file; the Deferred never fires', async () => {
    const path = file('big.bin', new Uint8Array(1 << 20));
    const producer = FileBodyProducer.fromPath(path, {
      cooperator: immediate(),
      readSize: 1024,
    });
    const before = openFds();
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    while (consumer.chunks.length < 3) await new Promise((r) => setImmediate(r));
    producer.stopProducing();
    const written = consumer.chunks.length;
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.ok(consumer.chunks.length <= written + 1, 'at most the read in flight');
    assertNoResult(done);
    // The close runs on libuv's thread pool: wait for the descriptor to go
    // (checked every turn, for at most 5 s), not for a number of turns.
    const deadline = Date.now() + 5000;
    while (openFds() > before && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.ok(openFds() <= before, 'the file was closed');
  });

  test('replay measures and reads the file again', async () => {
    const path = file('replay.txt', 'first');
    const producer = FileBodyProducer.fromPath(path, { cooperator: immediate() });
    writeFileSync(path, 'second!');
    const copy = producer.replay();
    assert.equal(copy?.length, 7);
    const consumer = new Collector();
    await (copy?.startProducing(consumer) as Deferred<void>);
    assert.equal(consumer.text(), 'second!');
  });
});

describe('FileBodyProducer over a Readable', () => {
  test('length unknown (sent chunked) unless given; the chunks pass as they arrive', async () => {
    const stream = new PassThrough();
    const producer = new FileBodyProducer(stream);
    assert.equal(producer.length, undefined);
    assert.equal(new FileBodyProducer(new PassThrough(), { length: 12 }).length, 12);
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    stream.write('one ');
    stream.end('two');
    await done;
    assert.equal(consumer.text(), 'one two');
  });

  test('pauseProducing pauses the stream, resumeProducing resumes it', async () => {
    const stream = Readable.from(['a', 'b', 'c']);
    const producer = new FileBodyProducer(stream);
    const consumer = new Collector();
    const done = producer.startProducing(consumer);
    producer.pauseProducing();
    assert.equal(stream.isPaused(), true);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(consumer.text(), '');
    producer.resumeProducing();
    await done;
    assert.equal(consumer.text(), 'abc');
  });

  test('a stream error fails the Deferred with it; stopProducing destroys the stream', async () => {
    const broken = new PassThrough();
    const done = new FileBodyProducer(broken).startProducing(new Collector()).asPromise();
    broken.destroy(new Error('disk on fire'));
    await assert.rejects(done, /the request body stream failed: disk on fire/);

    const stream = new PassThrough();
    const producer = new FileBodyProducer(stream);
    producer.startProducing(new Collector());
    producer.stopProducing();
    assert.equal(stream.destroyed, true);
  });

  test('a stream cannot be replayed', () => {
    assert.equal(new FileBodyProducer(new PassThrough()).replay(), undefined);
  });
});

describe('FileBodyProducer through a real Agent', () => {
  test('300 kB of bytes are uploaded in chunks with Content-Length, and the Site receives them whole', () => {
    const web = new MemoryWeb();
    const seen: string[] = [];
    web.serve(
      'upload.test',
      80,
      leaf((request) => {
        const body = request.content.read();
        const framing =
          request.getHeader('content-length') ?? request.getHeader('transfer-encoding');
        seen.push(`${framing} ${body.length} ${body.subarray(0, 3).toString()}`);
        return 'ok';
      }),
    );
    const cooperator = new Cooperator({
      scheduler: (step) => web.reactor.callLater(0, step),
    });
    const agent = web.agent();
    const big = Buffer.alloc(300_000, 'x');
    const first = agent.request(
      'PUT',
      'http://upload.test/a',
      undefined,
      new FileBodyProducer(big, { cooperator, readSize: 8192 }),
    );
    web.flush();
    const response = successResultOf(first);
    const body = readBody(response);
    web.flush();
    assert.equal(Buffer.from(successResultOf(body)).toString(), 'ok');
    assert.deepEqual(seen, ['300000 300000 xxx']);
  });
});
