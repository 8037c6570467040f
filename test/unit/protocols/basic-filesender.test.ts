// FileSender and openFileForSending (ported from Twisted's
// twisted/protocols/test/test_basic.py: FileSenderTests), plus cancellation,
// failing reads, a real file, and a transfer over a simulated connection.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CancelledError, type Deferred } from 'torsion/defer';
import { Protocol } from 'torsion/protocol';
import {
  FileSender,
  FileTransferStoppedError,
  openFileForSending,
  type ReadableFile,
} from 'torsion/protocols/basic';
import type { IProducer, IPullProducer } from 'torsion/reactor';
import {
  AccumulatingProtocol,
  assertNoResult,
  connectedServerAndClient,
  failureResultOf,
  StringTransport,
  successResultOf,
} from 'torsion/testing';
import { BytesFile, bytes } from '../../helpers/basic.js';

const T = 't'.charCodeAt(0);

function swapcase(chunk: Buffer): Buffer {
  const out = Buffer.from(chunk);
  for (let i = 0; i < out.length; i++) {
    const c = out[i] as number;
    if (c >= 0x41 && c <= 0x5a) out[i] = c + 0x20;
    else if (c >= 0x61 && c <= 0x7a) out[i] = c - 0x20;
  }
  return out;
}

describe('FileSender', () => {
  test('is a pull producer', () => {
    // Twisted's verifyObject(IProducer, sender), checked by tsc here.
    const sender = new FileSender();
    const producer: IProducer = sender;
    const pull: IPullProducer = sender;
    assert.equal(typeof producer.stopProducing, 'function');
    assert.equal(typeof pull.resumeProducing, 'function');
    assert.equal(sender.chunkSize, 16384);
  });
});

describe('FileSender.beginFileTransfer', () => {
  test('registers the sender with the consumer as a non-streaming producer', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    sender.beginFileTransfer(new BytesFile(bytes('Test content')), consumer);
    assert.equal(consumer.producer, sender);
    assert.equal(consumer.streaming, false);
  });

  test('writes the file and fires with the last byte sent once it reads the end', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    const d = sender.beginFileTransfer(new BytesFile(bytes('Test content')), consumer);
    sender.resumeProducing();
    assertNoResult(d);
    // Only the read that finds the end of the file finishes the transfer.
    sender.resumeProducing();
    assert.equal(consumer.producer, undefined);
    assert.equal(successResultOf(d), T);
    assert.equal(consumer.value().toString('latin1'), 'Test content');
  });

  test('reads at most chunkSize bytes each time it is resumed', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    sender.chunkSize = 4;
    const d = sender.beginFileTransfer(new BytesFile(bytes('Test content')), consumer);
    sender.resumeProducing();
    assert.equal(consumer.value().toString('latin1'), 'Test');
    sender.resumeProducing();
    assert.equal(consumer.value().toString('latin1'), 'Test con');
    sender.resumeProducing();
    assert.equal(consumer.value().toString('latin1'), 'Test content');
    assertNoResult(d);
    sender.resumeProducing();
    assert.equal(successResultOf(d), T);
    assert.equal(consumer.value().toString('latin1'), 'Test content');
  });

  test('passes each chunk through the transform before writing it', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    const d = sender.beginFileTransfer(new BytesFile(bytes('Test content')), consumer, swapcase);
    sender.resumeProducing();
    sender.resumeProducing();
    assert.equal(successResultOf(d), 'T'.charCodeAt(0));
    assert.equal(consumer.value().toString('latin1'), 'tEST CONTENT');
  });

  test('fails with FileTransferStoppedError when the consumer stops it before the end', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    const file = new BytesFile(bytes('Test content'));
    const d = sender.beginFileTransfer(file, consumer);
    sender.stopProducing();
    const failure = failureResultOf(d, FileTransferStoppedError);
    assert.match(failure.getErrorMessage(), /consumer asked the FileSender to stop producing/);
    assert.equal((failure.value as FileTransferStoppedError).code, 'ERR_FILE_TRANSFER_STOPPED');
    // Nothing more is read.
    sender.resumeProducing();
    assert.equal(file.reads, 0);
    assert.equal(consumer.value().length, 0);
  });

  test('fires with undefined for an empty file, having written nothing', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    const d = sender.beginFileTransfer(new BytesFile(Buffer.alloc(0)), consumer);
    sender.resumeProducing();
    assert.equal(successResultOf(d), undefined);
    assert.equal(consumer.producer, undefined);
    assert.equal(consumer.value().length, 0);
  });

  test('does nothing when resumed after the transfer ended', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    const file = new BytesFile(bytes('abc'));
    const d = sender.beginFileTransfer(file, consumer);
    sender.resumeProducing();
    sender.resumeProducing();
    successResultOf(d);
    sender.resumeProducing();
    assert.equal(file.reads, 2);
    assert.equal(consumer.value().toString('latin1'), 'abc');
  });

  test('stops reading and unregisters when its Deferred is cancelled', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    sender.chunkSize = 2;
    const file = new BytesFile(bytes('abcdef'));
    const d: Deferred<number | undefined> = sender.beginFileTransfer(file, consumer);
    sender.resumeProducing();
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(consumer.producer, undefined);
    sender.resumeProducing();
    assert.equal(file.reads, 1);
    assert.equal(consumer.value().toString('latin1'), 'ab');
  });

  test('fails with the error of a read that throws, and unregisters', () => {
    const consumer = new StringTransport();
    const sender = new FileSender();
    const broken: ReadableFile = {
      read(): number {
        throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      },
    };
    const d = sender.beginFileTransfer(broken, consumer);
    sender.resumeProducing();
    const failure = failureResultOf(d, Error);
    assert.equal((failure.value as NodeJS.ErrnoException).code, 'EIO');
    assert.equal(consumer.producer, undefined);
  });

  test('sends a file to the other end of a connection that pulls chunk by chunk', () => {
    const content = Buffer.alloc(100_000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 13) & 0xff;
    let done: Deferred<number | undefined> | undefined;
    class Sender extends Protocol {
      override connectionMade(): void {
        done = new FileSender().beginFileTransfer(new BytesFile(content), this.transport);
        done.addCallback((last) => {
          this.transport.loseConnection();
          return last;
        });
      }
    }
    const [client, , pump] = connectedServerAndClient(Sender, AccumulatingProtocol);
    pump.flush();
    assert.ok(done !== undefined);
    assert.equal(successResultOf(done), content[content.length - 1]);
    assert.ok(client.data.equals(content));
    assert.equal(client.closed, true);
  });
});

describe('openFileForSending', () => {
  test('reads a file from its start to its end, for FileSender', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-filesender-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'data.bin');
    const content = Buffer.alloc(40_000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 5) & 0xff;
    writeFileSync(path, content);

    const file = openFileForSending(path);
    t.after(() => file.close());
    assert.equal(typeof file.fd, 'number');
    const consumer = new StringTransport();
    const d = new FileSender().beginFileTransfer(file, consumer);
    const sender = consumer.producer as IPullProducer;
    for (let i = 0; i < 3; i++) sender.resumeProducing();
    assertNoResult(d);
    sender.resumeProducing();
    assert.equal(successResultOf(d), content[content.length - 1]);
    assert.ok(consumer.value().equals(content));
    file.close();
    file.close();
  });

  test('throws the error of a file that cannot be opened', () => {
    assert.throws(() => openFileForSending(join(tmpdir(), 'torsion-no-such-dir', 'missing')), {
      code: 'ENOENT',
    });
  });
});
