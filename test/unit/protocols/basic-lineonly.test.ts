// LineOnlyReceiver (ported from Twisted's twisted/protocols/test/test_basic.py:
// LineOnlyReceiverTests), at every chunk size in SIZES.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineOnlyReceiver } from 'torsion/protocols/basic';
import { deliverInChunks, StringTransport } from 'torsion/testing';
import { bytes, feed, SIZES, texts } from '../../helpers/basic.js';

/** Records each line; `\n`-delimited, lines of at most 64 bytes. */
class LineOnlyTester extends LineOnlyReceiver {
  override delimiter = bytes('\n');
  override maxLength = 64;
  readonly received: Buffer[] = [];

  override lineReceived(line: Buffer): void {
    this.received.push(line);
  }
}

/** Records each line and drops the connection on 'quit'. */
class Quitter extends LineOnlyTester {
  override lineReceived(line: Buffer): void {
    super.lineReceived(line);
    if (line.toString('latin1') === 'quit') this.transport.loseConnection();
  }
}

describe('LineOnlyReceiver.dataReceived', () => {
  const buffer = 'foo\n    bleakness\n    desolation\n    plastic forks\n    ';

  for (const size of SIZES) {
    test(`delivers every complete line and keeps the incomplete one (${size}-byte chunks)`, () => {
      const proto = new LineOnlyTester();
      proto.makeConnection(new StringTransport());
      deliverInChunks(proto, bytes(buffer), size);
      assert.deepEqual(texts(proto.received), buffer.split('\n').slice(0, -1));
    });
  }

  for (const size of SIZES) {
    test(`delivers nothing after a line that drops the connection (${size}-byte chunks)`, () => {
      const proto = new Quitter();
      const transport = new StringTransport();
      proto.makeConnection(transport);
      deliverInChunks(proto, bytes('one\nquit\ntwo\nthree\n'), size);
      assert.deepEqual(texts(proto.received), ['one', 'quit']);
    });
  }

  test('sends a line and its delimiter', () => {
    const proto = new LineOnlyTester();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    proto.sendLine('héllo');
    assert.deepEqual(transport.value(), Buffer.from('héllo\n', 'utf8'));
  });
});

describe('LineOnlyReceiver.maxLength', () => {
  for (const size of SIZES) {
    test(`drops the connection on a line longer than maxLength + len(delimiter) (${size}-byte chunks)`, () => {
      const proto = new LineOnlyTester();
      const transport = new StringTransport();
      proto.makeConnection(transport);
      feed(
        proto,
        transport,
        bytes(`${'x'.repeat(proto.maxLength + proto.delimiter.length + 1)}\r\nr`),
        size,
      );
      assert.equal(transport.disconnecting, true);
      assert.deepEqual(proto.received, []);
    });
  }
});

describe('LineOnlyReceiver.maxLength with a split delimiter', () => {
  for (const size of SIZES) {
    test(`keeps a line of exactly maxLength whatever the split of its delimiter (${size}-byte chunks)`, () => {
      // Twisted drops it when the split falls inside the delimiter.
      const proto = new LineOnlyTester();
      proto.delimiter = bytes('\r\n');
      const transport = new StringTransport();
      proto.makeConnection(transport);
      const line = 'x'.repeat(proto.maxLength);
      deliverInChunks(proto, bytes(`${line}\r\n${line}\r`), size);
      assert.deepEqual(texts(proto.received), [line]);
      assert.equal(transport.disconnecting, false);
      proto.dataReceived(bytes('\n'));
      assert.deepEqual(texts(proto.received), [line, line]);
    });
  }
});

describe('LineOnlyReceiver handlers not overridden', () => {
  test('lineReceived throws when not overridden', () => {
    assert.throws(
      () => new LineOnlyReceiver().lineReceived(bytes('foo')),
      /must override lineReceived/,
    );
  });
});
