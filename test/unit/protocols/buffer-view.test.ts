// The Buffer views the receivers hand out: genuine Buffers over the received
// memory, made by Node's own Buffer constructor or, failing that, by
// Buffer.from.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Int32StringReceiver, LineOnlyReceiver, LineReceiver } from 'torsion/protocols/basic';
import { StringTransport } from 'torsion/testing';
import {
  BufferView,
  findBufferViewConstructor,
} from '../../../src/protocols/basic/_buffer-view.js';

function assertViewOf(view: Buffer, memory: Buffer, offset: number, length: number): void {
  assert.ok(Buffer.isBuffer(view));
  assert.equal(Object.getPrototypeOf(view), Buffer.prototype);
  assert.equal(view.buffer, memory.buffer);
  assert.equal(view.byteOffset, memory.byteOffset + offset);
  assert.equal(view.length, length);
}

describe('findBufferViewConstructor', () => {
  const memory = Buffer.from('0123456789');

  test("uses Node's own Buffer constructor, found through Symbol.species", () => {
    assert.equal(findBufferViewConstructor(), BufferView);
    assert.notEqual(BufferView, Buffer);
    const view = new BufferView(memory.buffer, memory.byteOffset + 2, 3);
    assertViewOf(view, memory, 2, 3);
    assert.equal(view.toString(), '234');
    // What Buffer methods derive from a view is a Buffer too.
    assert.ok(Buffer.isBuffer(view.subarray(1)));
  });

  for (const [name, candidate] of [
    ['nothing', undefined],
    ['Buffer itself', Buffer],
    ['a constructor of plain Uint8Arrays', Uint8Array],
    [
      'a function that throws',
      () => {
        throw new Error('no');
      },
    ],
  ] as const) {
    test(`falls back to Buffer.from when given ${name}`, () => {
      const Fallback = findBufferViewConstructor(candidate);
      assert.notEqual(Fallback, candidate);
      const view = new Fallback(memory.buffer, memory.byteOffset + 4, 5);
      assertViewOf(view, memory, 4, 5);
      assert.equal(view.toString(), '45678');
    });
  }

  test('the fallback rejects a view outside the memory, as Buffer.from does', () => {
    const Fallback = findBufferViewConstructor(undefined);
    assert.throws(() => new Fallback(new ArrayBuffer(4), 2, 8), RangeError);
    assert.throws(() => new BufferView(new ArrayBuffer(4), 2, 8), RangeError);
  });
});

describe('what receivers deliver', () => {
  test('lines and strings are Buffers viewing the chunk they arrived in, not copies', () => {
    const lines: Buffer[] = [];
    const strings: Buffer[] = [];
    const onlyLines: Buffer[] = [];
    const line = new (class extends LineReceiver {
      override lineReceived(received: Buffer): void {
        lines.push(received);
      }
    })();
    const lineOnly = new (class extends LineOnlyReceiver {
      override lineReceived(received: Buffer): void {
        onlyLines.push(received);
      }
    })();
    const int32 = new (class extends Int32StringReceiver {
      override stringReceived(received: Buffer): void {
        strings.push(received);
      }
    })();
    for (const protocol of [line, lineOnly, int32]) protocol.makeConnection(new StringTransport());

    const text = Buffer.from('one\r\ntwo\r\n');
    line.dataReceived(text);
    lineOnly.dataReceived(text);
    const framed = Buffer.from([0, 0, 0, 3, 0x61, 0x62, 0x63]);
    int32.dataReceived(framed);

    for (const received of [lines, onlyLines]) {
      assert.deepEqual(
        received.map((b) => b.toString()),
        ['one', 'two'],
      );
      assertViewOf(received[0] as Buffer, text, 0, 3);
      assertViewOf(received[1] as Buffer, text, 5, 3);
    }
    assertViewOf(strings[0] as Buffer, framed, 4, 3);
  });

  test('a line completed across chunks is a Buffer of its own, whole', () => {
    const lines: Buffer[] = [];
    const protocol = new (class extends LineOnlyReceiver {
      override lineReceived(received: Buffer): void {
        lines.push(received);
      }
    })();
    protocol.makeConnection(new StringTransport());
    const first = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    protocol.dataReceived(first);
    first.fill(0); // The caller may reuse its chunk once dataReceived returns.
    protocol.dataReceived(Buffer.from('!\r\n'));
    assert.equal(lines.length, 1);
    assert.ok(Buffer.isBuffer(lines[0]));
    assert.equal(Object.getPrototypeOf(lines[0]), Buffer.prototype);
    assert.equal(lines[0]?.toString(), 'abcdefghijklmnopqrstuvwxyz!');
  });
});
