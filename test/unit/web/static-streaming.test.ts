// File streams its body through a push producer: 64 KiB per write, nothing
// written while the transport has it paused, the file closed whatever ends
// the response (its end, the client going away, a stop, a shrinking file),
// and no file descriptor left open by any kind of response. Ports Twisted's
// StaticProducerTests, NoRange/SingleRange/MultipleRangeStaticProducerTests.

import assert from 'node:assert/strict';
import { appendFileSync, closeSync, openSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IPushProducer } from '../../../src/internet/interfaces.js';
import { captureLogs } from '../../../src/logger/capture.js';
import { CHUNK_SIZE, CHUNKS_PER_TURN, StaticProducer } from '../../../src/web/_static-producer.js';
import { Resource } from '../../../src/web/resource.js';
import { File } from '../../../src/web/static.js';
import type { Connection } from './_server.js';
import { fetch, makeTree, open, openFds, pump, requestBytes } from './_static-fixture.js';

const tree = makeTree();
after(() => tree.remove());

/** `size` bytes that differ at every offset modulo a large prime, so misplaced bytes show. */
function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >>> 8) * 7 + (i >>> 16)) & 0xff;
  return b;
}

const MiB = 1024 * 1024;
let big: Buffer;
let huge: Buffer;

before(() => {
  big = pattern(3 * MiB + 12345);
  tree.file('big.bin', big);
  tree.file('small.txt', 'small');
});

/** Records the size of every write the connection's transport gets. */
function recordWrites(c: Connection): number[] {
  const sizes: number[] = [];
  const write = c.transport.write.bind(c.transport);
  c.transport.write = (data: Uint8Array) => {
    sizes.push(data.length);
    write(data);
  };
  return sizes;
}

const total = (sizes: readonly number[]): number => sizes.reduce((a, b) => a + b, 0);

/** The body of the one response in `c`'s output (after the head). */
function bodyOf(c: Connection): Buffer {
  const out = c.transport.value();
  return out.subarray(out.indexOf('\r\n\r\n') + 4);
}

function producerOf(c: Connection): IPushProducer {
  const producer = c.transport.producer;
  assert.ok(producer instanceof StaticProducer, 'a StaticProducer is registered');
  assert.equal(c.transport.streaming, true);
  return producer;
}

describe('File streaming a body', () => {
  test('a large file goes out in chunks of 64 KiB, a turn of CHUNKS_PER_TURN at a time, whole and in order', () => {
    const c = open(new File(tree.dir));
    const sizes = recordWrites(c);
    c.send(requestBytes('/big.bin'));
    // The first turn runs during render, then the producer yields to the clock.
    assert.equal(sizes.length, CHUNKS_PER_TURN);
    assert.equal(c.clock.getDelayedCalls().length, 1);
    pump(c);
    assert.ok(bodyOf(c).equals(big));
    const [first, ...rest] = sizes;
    assert.ok((first ?? 0) <= CHUNK_SIZE + 1024, `first write ${first}: the head and one chunk`);
    assert.ok(rest.every((n) => n <= CHUNK_SIZE));
    assert.equal(sizes.length, Math.ceil(big.length / CHUNK_SIZE));
    assert.equal(c.transport.producer, undefined, 'unregistered at the end');
    assert.equal(c.clock.getDelayedCalls().length, 0);
    assert.equal(c.transport.disconnecting, false);
  });

  test('a 20 MiB file costs one 64 KiB buffer per write: memory per write does not grow with the file', () => {
    huge = pattern(20 * MiB);
    tree.file('huge.bin', huge);
    const c = open(new File(tree.dir));
    const sizes = recordWrites(c);
    c.send(requestBytes('/huge.bin'));
    pump(c);
    assert.equal(total(sizes) - (sizes[0] ?? 0), huge.length - Math.min(CHUNK_SIZE, huge.length));
    assert.ok(Math.max(...sizes.slice(1)) <= CHUNK_SIZE);
    assert.ok(bodyOf(c).equals(huge));
  });

  test('after pauseProducing nothing more is written until resumeProducing', () => {
    const c = open(new File(tree.dir));
    const sizes = recordWrites(c);
    c.send(requestBytes('/big.bin'));
    const producer = producerOf(c);
    producer.pauseProducing();
    const written = total(sizes);
    assert.equal(c.clock.getDelayedCalls().length, 0, 'the pending turn is cancelled');
    for (let i = 0; i < 5; i++) c.clock.advance(1);
    assert.equal(total(sizes), written);
    producer.resumeProducing();
    assert.ok(total(sizes) > written);
    pump(c);
    assert.ok(bodyOf(c).equals(big));
  });

  test('a transport that pauses at a high-water mark gets at most one chunk past it per resume', () => {
    const c = open(new File(tree.dir));
    const high = 64 * 1024;
    let buffered = 0;
    let paused = false;
    const write = c.transport.write.bind(c.transport);
    c.transport.write = (data: Uint8Array) => {
      write(data);
      buffered += data.length;
      if (buffered > high && !paused) {
        paused = true;
        (c.transport.producer as IPushProducer | undefined)?.pauseProducing();
      }
    };
    c.send(requestBytes('/big.bin'));
    let rounds = 0;
    while (c.transport.producer !== undefined) {
      assert.ok(paused, 'the producer waits for the transport');
      assert.ok(buffered <= high + CHUNK_SIZE + 1024, `${buffered} bytes buffered`);
      assert.equal(c.clock.getDelayedCalls().length, 0);
      // The buffer drains; the transport resumes the producer.
      buffered = 0;
      paused = false;
      (c.transport.producer as IPushProducer).resumeProducing();
      rounds++;
    }
    assert.ok(rounds >= big.length / (2 * CHUNK_SIZE) - 1, `${rounds} rounds`);
    assert.ok(bodyOf(c).equals(big));
  });

  test('a transport that pauses the producer inside write stops the loop at once', () => {
    const c = open(new File(tree.dir));
    const write = c.transport.write.bind(c.transport);
    let writes = 0;
    c.transport.write = (data: Uint8Array) => {
      write(data);
      writes++;
      (c.transport.producer as IPushProducer | undefined)?.pauseProducing();
    };
    c.send(requestBytes('/big.bin'));
    assert.equal(writes, 1);
    (c.transport.producer as IPushProducer).resumeProducing();
    assert.equal(writes, 2);
  });

  test('pipelined requests for large files are answered whole and in order', () => {
    const c = open(new File(tree.dir));
    c.send(
      requestBytes('/big.bin') +
        requestBytes('/small.txt') +
        requestBytes('/big.bin', { Range: 'bytes=-5' }),
    );
    pump(c);
    const replies = c.replies();
    assert.deepEqual(
      replies.map((r) => [r.status, r.body.length]),
      [
        [200, big.length],
        [200, 5],
        [206, 5],
      ],
    );
    assert.equal(replies[0]?.body, big.toString('latin1'));
  });

  test('an HTTP/1.0 response is framed by Content-Length and the connection then closes', () => {
    const c = open(new File(tree.dir));
    c.send('GET /big.bin HTTP/1.0\r\n\r\n');
    pump(c);
    const [r] = c.replies();
    assert.equal(r?.header('content-length'), String(big.length));
    assert.equal(r?.body.length, big.length);
    assert.equal(c.transport.disconnecting, true);
  });
});

describe('File and files past 4 GiB', () => {
  test('a sparse 4 GiB file: Content-Length, a range past 2^32 and a first turn that reads only 1 MiB', () => {
    const size = 4 * 1024 ** 3 + 10;
    const path = tree.file('sparse.bin', '');
    truncateSync(path, size);
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, Buffer.from('0123456789'), 0, 10, size - 10);
    } finally {
      closeSync(fd);
    }
    const file = new File(tree.dir);
    const head = fetch(file, '/sparse.bin', {}, 'HEAD');
    assert.equal(head.header('content-length'), String(size));
    const tail = fetch(file, '/sparse.bin', { Range: `bytes=${size - 12}-` });
    assert.equal(tail.status, 206);
    assert.equal(tail.body, '\0\x000123456789');
    assert.equal(tail.header('content-range'), `bytes ${size - 12}-${size - 1}/${size}`);
    // A whole GET writes one turn, then waits for the clock; the client leaves.
    const before = openFds();
    const c = open(file);
    const sizes = recordWrites(c);
    c.send(requestBytes('/sparse.bin'));
    assert.ok(total(sizes) <= CHUNKS_PER_TURN * CHUNK_SIZE + 1024);
    c.transport.loseConnection();
    assert.equal(openFds(), before);
    assert.equal(c.clock.getDelayedCalls().length, 0);
  });
});

describe('File closing its file', () => {
  test('the file is closed when the body is done', () => {
    const before = openFds();
    const c = open(new File(tree.dir));
    c.send(requestBytes('/big.bin'));
    assert.equal(openFds(), before + 1, 'open while streaming');
    pump(c);
    assert.equal(openFds(), before);
  });

  test('the client going away mid-body stops the producer and closes the file', () => {
    const before = openFds();
    const c = open(new File(tree.dir));
    const sizes = recordWrites(c);
    c.send(requestBytes('/big.bin'));
    const producer = c.transport.producer as StaticProducer;
    c.transport.loseConnection();
    assert.equal(producer.done, true);
    assert.equal(openFds(), before);
    assert.equal(c.clock.getDelayedCalls().length, 0);
    const written = total(sizes);
    producer.resumeProducing();
    pump(c);
    assert.equal(total(sizes), written, 'nothing is written after');
  });

  test('the client going away while the producer is paused closes the file', () => {
    const before = openFds();
    const c = open(new File(tree.dir));
    c.send(requestBytes('/big.bin'));
    producerOf(c).pauseProducing();
    c.transport.abortConnection();
    assert.equal(openFds(), before);
  });

  test('stopProducing closes the file and cancels the next turn; calling it again does nothing (test_stopProducingClosesFile)', () => {
    const before = openFds();
    const c = open(new File(tree.dir));
    c.send(requestBytes('/big.bin'));
    const producer = producerOf(c);
    producer.stopProducing();
    producer.stopProducing();
    assert.equal(openFds(), before);
    assert.equal(c.clock.getDelayedCalls().length, 0);
  });

  test('a file that shrinks while being sent ends the response: error logged, connection closed, file closed', () => {
    const path = tree.file('shrinking.bin', big);
    const before = openFds();
    const logs = captureLogs();
    try {
      const c = open(new File(tree.dir));
      c.send(requestBytes('/shrinking.bin'));
      truncateSync(path, CHUNK_SIZE * (CHUNKS_PER_TURN + 2));
      pump(c);
      assert.equal(c.transport.disconnecting, true);
      assert.equal(bodyOf(c).length, CHUNK_SIZE * (CHUNKS_PER_TURN + 2));
      assert.equal(openFds(), before);
      const failures = logs.events.filter((e) => e.log_failure !== undefined);
      assert.equal(failures.length, 1);
      assert.match(String(failures[0]?.log_failure?.value), /shrank/);
    } finally {
      logs.stop();
    }
  });

  test('a file that grows while being sent is sent at the size it had: the response stays well-formed', () => {
    const path = tree.file('growing.bin', big);
    const c = open(new File(tree.dir));
    c.send(requestBytes('/growing.bin') + requestBytes('/small.txt'));
    appendFileSync(path, 'more and more');
    pump(c);
    const replies = c.replies();
    assert.equal(replies[0]?.body.length, big.length);
    assert.equal(replies[1]?.body, 'small');
  });

  test('no response leaves a file descriptor open', () => {
    tree.file('dir/index.html', 'index');
    tree.file('dir/a.txt', 'a');
    class Broken extends File {
      override openForReading(): number {
        throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      }
    }
    const root = new Resource();
    root.putChild('files', new File(tree.dir, { directoryListing: true }));
    root.putChild('broken', new Broken(join(tree.dir, 'small.txt')));
    const etag = fetch(root, '/files/small.txt').header('etag') ?? '';
    const logs = captureLogs();
    try {
      const before = openFds();
      const requests: Array<[string, Record<string, string>, string?]> = [
        ['/files/small.txt', {}],
        ['/files/small.txt', {}, 'HEAD'],
        ['/files/small.txt', { Range: 'bytes=1-2' }],
        ['/files/small.txt', { Range: 'bytes=0-0,2-3' }],
        ['/files/small.txt', { Range: 'bytes=100-' }],
        ['/files/small.txt', { 'If-None-Match': etag }],
        ['/files/small.txt', { 'If-Match': '"other"' }],
        ['/files/small.txt', {}, 'POST'],
        ['/files/missing', {}],
        ['/files/dir', {}],
        ['/files/dir/', {}],
        ['/files/', {}],
        ['/files/%2e%2e/x', {}],
        ['/broken', {}],
      ];
      for (let round = 0; round < 3; round++) {
        for (const [path, headers, method] of requests) fetch(root, path, headers, method);
      }
      assert.equal(openFds(), before);
    } finally {
      logs.stop();
    }
  });
});
