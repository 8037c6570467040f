// deliverInChunks and CHUNK_SIZES.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Protocol } from 'torsion/protocol';
import {
  AccumulatingProtocol,
  CHUNK_SIZES,
  deliverInChunks,
  StringTransport,
} from 'torsion/testing';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

class ChunkRecorder extends Protocol {
  readonly chunks: Buffer[] = [];
  override dataReceived(data: Uint8Array): void {
    this.chunks.push(Buffer.from(data));
  }
}

describe('deliverInChunks', () => {
  test('feeds the bytes in slices of the chunk size, the last one shorter', () => {
    const protocol = new ChunkRecorder();
    const calls = deliverInChunks(protocol, bytes('abcdefg'), 3);
    assert.deepEqual(protocol.chunks, [bytes('abc'), bytes('def'), bytes('g')]);
    assert.equal(calls, 3);
  });

  test('one byte at a time makes one call per byte', () => {
    const protocol = new ChunkRecorder();
    deliverInChunks(protocol, bytes('abc'), 1);
    assert.deepEqual(protocol.chunks, [bytes('a'), bytes('b'), bytes('c')]);
  });

  test('Infinity delivers everything in one call', () => {
    const protocol = new ChunkRecorder();
    assert.equal(deliverInChunks(protocol, bytes('abcdefg'), Infinity), 1);
    assert.deepEqual(protocol.chunks, [bytes('abcdefg')]);
  });

  test('a chunk size larger than the data delivers it in one call', () => {
    const protocol = new ChunkRecorder();
    deliverInChunks(protocol, bytes('ab'), 64);
    assert.deepEqual(protocol.chunks, [bytes('ab')]);
  });

  test('empty data makes no call', () => {
    const protocol = new ChunkRecorder();
    assert.equal(deliverInChunks(protocol, new Uint8Array(0), 1), 0);
    assert.equal(deliverInChunks(protocol, new Uint8Array(0), Infinity), 0);
    assert.deepEqual(protocol.chunks, []);
  });

  test('slices are views of the data, not copies', () => {
    const data = bytes('abcd');
    const seen: Uint8Array[] = [];
    deliverInChunks({ dataReceived: (chunk) => seen.push(chunk) }, data, 2);
    assert.equal(seen[0]?.buffer, data.buffer);
  });

  for (const bad of [0, -1, 1.5, Number.NaN, -Infinity]) {
    test(`rejects a chunk size of ${bad} with a RangeError`, () => {
      assert.throws(() => deliverInChunks(new ChunkRecorder(), bytes('x'), bad), RangeError);
    });
  }

  test('rejects a string with a TypeError', () => {
    assert.throws(
      () => deliverInChunks(new ChunkRecorder(), 'text' as unknown as Uint8Array, 1),
      TypeError,
    );
  });

  test('stops at the first throw from dataReceived, which reaches the caller', () => {
    let calls = 0;
    const protocol = {
      dataReceived: () => {
        calls++;
        throw new Error('bad input');
      },
    };
    assert.throws(() => deliverInChunks(protocol, bytes('abc'), 1), /bad input/);
    assert.equal(calls, 1);
  });

  for (const size of CHUNK_SIZES) {
    test(`a receiver gets the same bytes whatever the chunking (${size}-byte chunks)`, () => {
      const protocol = new AccumulatingProtocol();
      protocol.makeConnection(new StringTransport());
      deliverInChunks(protocol, bytes('one\r\ntwo\r\nthree'), size);
      assert.deepEqual(protocol.data, bytes('one\r\ntwo\r\nthree'));
    });
  }
});

describe('CHUNK_SIZES', () => {
  test('goes from one byte at a time to everything at once', () => {
    assert.equal(CHUNK_SIZES[0], 1);
    assert.equal(CHUNK_SIZES.at(-1), Infinity);
    assert.ok(Object.isFrozen(CHUNK_SIZES));
  });
});
