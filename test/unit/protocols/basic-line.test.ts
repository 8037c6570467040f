// LineReceiver (ported from Twisted's twisted/protocols/test/test_basic.py:
// LineReceiverTests, LineReceiverLineLengthExceededTests, ProducerTests).
// Every test that feeds bytes runs at every chunk size in SIZES, except
// where what it checks depends on what is buffered at one moment (noted).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineReceiver } from 'torsion/protocols/basic';
import { Clock } from 'torsion/task';
import { deliverInChunks, StringTransport } from 'torsion/testing';
import { bytes, feed, SIZES, texts } from '../../helpers/basic.js';

/**
 * Parses what it receives and acts on some lines: '' switches to raw mode,
 * 'len N' sets how many raw bytes to read, 'pause', 'rawpause', 'stop',
 * 'produce' and 'unproduce' exercise the producer side.
 */
class LineTester extends LineReceiver {
  override delimiter = bytes('\n');
  override maxLength = 64;
  received: Buffer[] = [];
  length = 0;
  readonly #clock: Clock | undefined;

  constructor(clock?: Clock) {
    super();
    this.#clock = clock;
  }

  override connectionMade(): void {
    this.received = [];
  }

  override lineReceived(line: Buffer): void {
    this.received.push(line);
    const text = line.toString('latin1');
    if (text === '') {
      this.setRawMode();
    } else if (text === 'pause') {
      this.pauseProducing();
      this.#clock?.callLater(0, () => this.resumeProducing());
    } else if (text === 'rawpause') {
      this.pauseProducing();
      this.setRawMode();
      this.received.push(Buffer.alloc(0));
      this.#clock?.callLater(0, () => this.resumeProducing());
    } else if (text === 'stop') {
      this.stopProducing();
    } else if (text.startsWith('len ')) {
      this.length = Number(text.slice(4));
    } else if (text.startsWith('produce')) {
      this.transport.registerProducer(this, false);
    } else if (text.startsWith('unproduce')) {
      this.transport.unregisterProducer();
    }
  }

  /** Reads raw bytes until `length` of them have come, then goes back to lines. */
  override rawDataReceived(data: Buffer): void {
    const taken = data.subarray(0, this.length);
    const rest = data.subarray(this.length);
    this.length -= taken.length;
    const last = this.received.length - 1;
    this.received[last] = Buffer.concat([this.received[last] as Buffer, taken]);
    if (this.length === 0) this.setLineMode(rest);
  }

  /** Skips the first maxLength + 1 bytes of a long line and parses the rest. */
  override lineLengthExceeded(line: Buffer): void {
    if (line.length > this.maxLength + 1) this.setLineMode(line.subarray(this.maxLength + 1));
  }
}

/** Flips to raw mode after each line, and back after one raw byte. */
class FlippingLineTester extends LineReceiver {
  override delimiter = bytes('\n');
  readonly lines: Buffer[] = [];

  override lineReceived(line: Buffer): void {
    this.lines.push(line);
    this.setRawMode();
  }

  override rawDataReceived(data: Buffer): void {
    this.setLineMode(data.subarray(1));
  }
}

/** Records what goes to lineLengthExceeded, and ignores lines. */
class ExcessivelyLargeLineCatcher extends LineReceiver {
  readonly longLines: Buffer[] = [];
  /** Whether lineLengthExceeded also drops the connection, as the default does. */
  dropOnExcess = false;

  override lineReceived(_line: Buffer): void {}

  override lineLengthExceeded(data: Buffer): void {
    this.longLines.push(data);
    if (this.dropOnExcess) this.transport.loseConnection();
  }
}

/** Writes each line to its transport and pauses itself. */
class ConsumingProtocol extends LineReceiver {
  override lineReceived(line: Buffer): void {
    this.transport.write(line);
    this.pauseProducing();
  }
}

function connect<P extends LineReceiver>(proto: P): { proto: P; transport: StringTransport } {
  const transport = new StringTransport();
  proto.makeConnection(transport);
  return { proto, transport };
}

describe('LineReceiver.dataReceived', () => {
  const buffer = bytes(
    'len 10\n\n0123456789len 5\n\n1234\nlen 20\nfoo 123\n\n0123456789\n012345678len 0\nfoo 5\n\n' +
      '1234567890123456789012345678901234567890123456789012345678901234567890\nlen 1\n\na',
  );
  const output = [
    'len 10',
    '0123456789',
    'len 5',
    '1234\n',
    'len 20',
    'foo 123',
    '0123456789\n012345678',
    'len 0',
    'foo 5',
    '',
    '67890',
    'len 1',
    'a',
  ];

  for (const size of SIZES) {
    test(`delivers lines and counted raw data the same way when fed ${size}-byte chunks`, () => {
      const { proto } = connect(new LineTester());
      deliverInChunks(proto, buffer, size);
      assert.deepEqual(texts(proto.received), output);
    });
  }

  for (const size of SIZES) {
    test(`switches between line and raw mode on every byte without recursing (${size}-byte chunks)`, () => {
      const { proto } = connect(new FlippingLineTester());
      const limit = 10_000;
      deliverInChunks(proto, bytes('x\nx'.repeat(limit)), size);
      assert.equal(Buffer.concat(proto.lines).toString('latin1'), 'x'.repeat(limit));
    });
  }

  test('registers and unregisters itself as a producer from inside lineReceived', () => {
    for (const size of SIZES) {
      const { proto, transport } = connect(new LineTester());
      deliverInChunks(proto, bytes('produce\nhello world\nunproduce\ngoodbye\n'), size);
      assert.deepEqual(texts(proto.received), ['produce', 'hello world', 'unproduce', 'goodbye']);
      assert.equal(transport.producer, undefined);
    }
  });

  test('lets an error thrown by rawDataReceived reach the caller, and keeps receiving afterwards', () => {
    // Twisted's LineReceiver returns what rawDataReceived returns (test_rawDataError);
    // in TypeScript a handler reports an error by throwing it.
    const proto = new LineReceiver();
    const seen: string[] = [];
    let fail = true;
    proto.rawDataReceived = (data: Buffer): void => {
      if (fail) throw new RangeError('oops');
      seen.push(data.toString('latin1'));
    };
    connect(proto);
    proto.setRawMode();
    assert.throws(() => proto.dataReceived(bytes('data')), { name: 'RangeError', message: 'oops' });
    fail = false;
    proto.dataReceived(bytes('more'));
    assert.deepEqual(seen, ['more']);
  });
});

describe('LineReceiver.pauseProducing', () => {
  const pauseBuf = bytes('twiddle1\ntwiddle2\npause\ntwiddle3\n');
  for (const size of SIZES) {
    test(`holds lines back while paused and delivers them once resumed (${size}-byte chunks)`, () => {
      const clock = new Clock();
      const { proto, transport } = connect(new LineTester(clock));
      deliverInChunks(proto, pauseBuf, size);
      assert.deepEqual(texts(proto.received), ['twiddle1', 'twiddle2', 'pause']);
      assert.equal(transport.producerState, 'paused');
      clock.advance(0);
      assert.deepEqual(texts(proto.received), ['twiddle1', 'twiddle2', 'pause', 'twiddle3']);
      assert.equal(transport.producerState, 'producing');
    });
  }

  const rawpauseBuf = bytes('twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n');
  for (const size of SIZES) {
    test(`holds raw data back while paused in raw mode (${size}-byte chunks)`, () => {
      const clock = new Clock();
      const { proto } = connect(new LineTester(clock));
      deliverInChunks(proto, rawpauseBuf, size);
      assert.deepEqual(texts(proto.received), ['twiddle1', 'twiddle2', 'len 5', 'rawpause', '']);
      clock.advance(0);
      assert.deepEqual(texts(proto.received), [
        'twiddle1',
        'twiddle2',
        'len 5',
        'rawpause',
        '12345',
        'twiddle3',
      ]);
    });
  }

  test('delivers a waiting line on each resume and pauses again, with a transport that only produces', () => {
    const proto = new ConsumingProtocol();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    const written = (): string[] => [transport.value().toString('latin1')];

    // A partial line: no pause, nothing delivered.
    proto.dataReceived(bytes('hello, '));
    assert.deepEqual(written(), ['']);
    assert.equal(transport.producerState, 'producing');
    assert.equal(proto.paused, false);

    // The rest of the line: it is echoed and the protocol pauses.
    proto.dataReceived(bytes('world\r\n'));
    assert.deepEqual(written(), ['hello, world']);
    assert.equal(transport.producerState, 'paused');
    assert.equal(proto.paused, true);

    // Resuming with nothing buffered delivers nothing and leaves it unpaused.
    proto.resumeProducing();
    assert.deepEqual(written(), ['hello, world']);
    assert.equal(transport.producerState, 'producing');
    assert.equal(proto.paused, false);

    // Two lines at once: the first is echoed, then it pauses.
    proto.dataReceived(bytes('hello\r\nworld\r\n'));
    assert.deepEqual(written(), ['hello, worldhello']);
    assert.equal(transport.producerState, 'paused');
    assert.equal(proto.paused, true);

    // Resuming delivers the waiting line, which pauses it again.
    proto.resumeProducing();
    assert.deepEqual(written(), ['hello, worldhelloworld']);
    assert.equal(transport.producerState, 'paused');
    assert.equal(proto.paused, true);

    // A line arriving while paused waits.
    proto.dataReceived(bytes('goodbye\r\n'));
    assert.deepEqual(written(), ['hello, worldhelloworld']);
    assert.equal(proto.paused, true);

    proto.resumeProducing();
    assert.deepEqual(written(), ['hello, worldhelloworldgoodbye']);
    assert.equal(transport.producerState, 'paused');
    assert.equal(proto.paused, true);

    proto.resumeProducing();
    assert.deepEqual(written(), ['hello, worldhelloworldgoodbye']);
    assert.equal(transport.producerState, 'producing');
    assert.equal(proto.paused, false);
  });
});

describe('LineReceiver.stopProducing', () => {
  for (const size of SIZES) {
    test(`delivers nothing after a handler stops producing (${size}-byte chunks)`, () => {
      const { proto, transport } = connect(new LineTester());
      deliverInChunks(proto, bytes('twiddle1\ntwiddle2\nstop\nmore\nstuff\n'), size);
      assert.deepEqual(texts(proto.received), ['twiddle1', 'twiddle2', 'stop']);
      assert.equal(transport.producerState, 'stopped');
    });
  }
});

describe('LineReceiver.clearLineBuffer', () => {
  test('empties the buffer from inside lineReceived and returns what it held', () => {
    // One chunk on purpose: what is buffered when the first line arrives
    // depends on how the bytes were split.
    class ClearingReceiver extends LineReceiver {
      line: Buffer | undefined;
      rest: Buffer | undefined;
      override lineReceived(line: Buffer): void {
        this.line = line;
        this.rest = this.clearLineBuffer();
      }
    }
    const proto = new ClearingReceiver();
    proto.dataReceived(bytes('foo\r\nbar\r\nbaz'));
    assert.equal(proto.line?.toString('latin1'), 'foo');
    assert.equal(proto.rest?.toString('latin1'), 'bar\r\nbaz');

    // Another line shows the cleared bytes are really gone.
    proto.dataReceived(bytes('quux\r\n'));
    assert.equal(proto.line?.toString('latin1'), 'quux');
    assert.equal(proto.rest?.toString('latin1'), '');
  });
});

describe('LineReceiver.maxLength', () => {
  for (const size of SIZES) {
    test(`drops the connection on a line longer than maxLength (${size}-byte chunks)`, () => {
      const { proto, transport } = connect(new LineReceiver());
      feed(proto, transport, bytes(`${'x'.repeat(proto.maxLength + 1)}\r\nr`), size);
      assert.equal(transport.disconnecting, true);
    });
  }

  for (const size of SIZES) {
    test(`drops the connection on maxLength + len(delimiter) bytes with no delimiter (${size}-byte chunks)`, () => {
      const { proto, transport } = connect(new LineReceiver());
      feed(proto, transport, bytes('x'.repeat(proto.maxLength + proto.delimiter.length)), size);
      assert.equal(transport.disconnecting, true);
    });
  }

  test('keeps a line of exactly maxLength whose delimiter was split across packets', () => {
    const proto = new LineTester();
    proto.maxLength = 4;
    const transport = new StringTransport();
    proto.makeConnection(transport);
    const line = bytes('x'.repeat(proto.maxLength - 1));
    proto.dataReceived(line);
    proto.dataReceived(proto.delimiter.subarray(0, -1));
    proto.dataReceived(Buffer.concat([proto.delimiter.subarray(-1), line]));
    assert.equal(transport.disconnecting, false);
    assert.deepEqual(texts(proto.received), [line.toString('latin1')]);
  });

  for (const size of SIZES) {
    test(`keeps an unfinished line of maxLength bytes plus part of the delimiter (${size}-byte chunks)`, () => {
      const { proto, transport } = connect(new LineReceiver());
      proto.delimiter = bytes('\r\n');
      feed(
        proto,
        transport,
        Buffer.concat([bytes('x'.repeat(proto.maxLength)), proto.delimiter.subarray(0, 1)]),
        size,
      );
      assert.equal(transport.disconnecting, false);
    });
  }
});

describe('LineReceiver.lineLengthExceeded', () => {
  /**
   * Each case: the bytes fed, and what lineLengthExceeded receives when
   * they come in one chunk (the rest of the buffer from the long line on).
   */
  const maxLength = 6;
  const long = 'x'.repeat(maxLength * 2 + 2);
  const cases: { name: string; data: string; excess: string }[] = [
    {
      name: 'more than maxLength bytes with no delimiter',
      data: long,
      excess: long,
    },
    {
      name: 'a short line followed by too many bytes with no delimiter',
      data: `x\r\n${long}`,
      excess: long,
    },
    {
      name: 'a delimiter beyond the first maxLength bytes',
      data: `${long}\r\n${long}`,
      excess: `${long}\r\n${long}`,
    },
    {
      name: 'several delimiters beyond the first maxLength bytes',
      data: `${long}\r\n${long}\r\n`,
      excess: `${long}\r\n${long}\r\n`,
    },
  ];

  for (const { name, data, excess } of cases) {
    test(`receives the rest of the buffer after ${name}, in one chunk`, () => {
      const { proto } = connect(new ExcessivelyLargeLineCatcher());
      proto.maxLength = maxLength;
      proto.dataReceived(bytes(data));
      assert.deepEqual(texts(proto.longLines), [excess]);
    });

    for (const size of SIZES) {
      test(`receives a prefix of that buffer once, then the connection drops, after ${name} (${size}-byte chunks)`, () => {
        // What is buffered when the limit is passed depends on the split; a
        // handler that drops the connection (as the default does) sees at
        // least the first maxLength + 1 bytes of the long line.
        const { proto, transport } = connect(new ExcessivelyLargeLineCatcher());
        proto.maxLength = maxLength;
        proto.dropOnExcess = true;
        feed(proto, transport, bytes(data), size);
        assert.equal(proto.longLines.length, 1);
        const seen = (proto.longLines[0] as Buffer).toString('latin1');
        assert.ok(seen.length > maxLength, `${JSON.stringify(seen)} is longer than maxLength`);
        assert.ok(excess.startsWith(seen), `${JSON.stringify(seen)} starts the excess`);
        assert.equal(transport.disconnecting, true);
      });
    }
  }
});

describe('LineReceiver handlers not overridden', () => {
  test('rawDataReceived throws when not overridden', () => {
    assert.throws(
      () => new LineReceiver().rawDataReceived(bytes('foo')),
      /must override rawDataReceived/,
    );
  });

  test('lineReceived throws when not overridden', () => {
    assert.throws(
      () => new LineReceiver().lineReceived(bytes('foo')),
      /must override lineReceived/,
    );
  });
});
