// Int8StringReceiver, Int16StringReceiver, Int32StringReceiver (ported from
// Twisted's twisted/protocols/test/test_basic.py: IntNTestCaseMixin,
// RecvdAttributeMixin, Int32Tests, Int16Tests, Int8Tests), at every chunk
// size in SIZES except where the test is about what one dataReceived call
// leaves buffered (the `recvd` tests, noted); plus pausing, disconnecting
// and re-entrancy, which Twisted does not test for these classes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import {
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  type IntNStringReceiver,
  StringTooLongError,
} from 'torsion/protocols/basic';
import { deliverInChunks, StringTransport } from 'torsion/testing';
import { bytes, SIZES, texts } from '../../helpers/basic.js';

/** What each tested receiver class adds: Twisted's TestMixin. */
interface Recording extends IntNStringReceiver {
  received: Buffer[];
  closed: boolean;
  /** Replaces stringReceived's recording for one test (Twisted assigns r.stringReceived). */
  onString: ((string: Buffer) => void) | undefined;
  /** Replaces lengthLimitExceeded for one test. */
  onLengthLimit: ((length: number) => void) | undefined;
}

type ReceiverClass = new () => IntNStringReceiver;

/** Twisted's TestMixin over one receiver class: records strings, maxLength 50. */
function recording(Base: ReceiverClass): new () => Recording {
  // Any concrete receiver class will do as the static type of the base.
  return class extends (Base as typeof Int32StringReceiver) implements Recording {
    override maxLength = 50;
    received: Buffer[] = [];
    closed = false;
    onString: ((string: Buffer) => void) | undefined;
    onLengthLimit: ((length: number) => void) | undefined;

    override connectionMade(): void {
      this.received = [];
    }

    override stringReceived(string: Buffer): void {
      if (this.onString !== undefined) this.onString(string);
      else this.received.push(string);
    }

    override lengthLimitExceeded(length: number): void {
      if (this.onLengthLimit !== undefined) this.onLengthLimit(length);
      else super.lengthLimitExceeded(length);
    }

    override connectionLost(_reason?: Failure): void {
      this.closed = true;
    }
  } as unknown as new () => Recording;
}

interface Family {
  name: string;
  Base: ReceiverClass;
  prefixLength: number;
  strings: string[];
  illegalStrings: string[];
  partialStrings: string[];
  /** Twisted's test_data: what sendString('foo') writes, and a received frame of 'ubar'. */
  fooFrame: string;
  ubarFrame: string;
}

const families: Family[] = [
  {
    name: 'Int32StringReceiver',
    Base: Int32StringReceiver,
    prefixLength: 4,
    strings: ['a', 'b'.repeat(16)],
    illegalStrings: ['\x10\x00\x00\x00aaaaaa'],
    partialStrings: ['\x00\x00\x00', 'hello there', ''],
    fooFrame: '\x00\x00\x00\x03foo',
    ubarFrame: '\x00\x00\x00\x04ubar',
  },
  {
    name: 'Int16StringReceiver',
    Base: Int16StringReceiver,
    prefixLength: 2,
    strings: ['a', 'b'.repeat(16)],
    illegalStrings: ['\x10\x00aaaaaa'],
    partialStrings: ['\x00', 'hello there', ''],
    fooFrame: '\x00\x03foo',
    ubarFrame: '\x00\x04ubar',
  },
  {
    name: 'Int8StringReceiver',
    Base: Int8StringReceiver,
    prefixLength: 1,
    strings: ['a', 'b'.repeat(16)],
    illegalStrings: ['\x00\x00aaaaaa'],
    partialStrings: ['\x08', 'dzadz', ''],
    fooFrame: '\x03foo',
    ubarFrame: '\x04ubar',
  },
];

for (const family of families) {
  const Tested = recording(family.Base);
  const { prefixLength } = family;

  /** A new receiver connected to a new StringTransport. */
  const getProtocol = (): { r: Recording; transport: StringTransport } => {
    const r = new Tested();
    const transport = new StringTransport();
    r.makeConnection(transport);
    return { r, transport };
  };

  /** `length` as this family's prefix. */
  const prefix = (length: number): Buffer => {
    const b = Buffer.alloc(prefixLength);
    b.writeUIntBE(length, 0, prefixLength);
    return b;
  };

  /** `data` with its length prefix. */
  const makeMessage = (data: Buffer): Buffer => Buffer.concat([prefix(data.length), data]);

  describe(`${family.name}.dataReceived`, () => {
    for (const size of SIZES) {
      test(`drops the connection on an illegal string (${size}-byte chunks)`, () => {
        for (const s of family.illegalStrings) {
          const { r, transport } = getProtocol();
          deliverInChunks(r, bytes(s), size);
          assert.equal(transport.disconnecting, true, JSON.stringify(s));
        }
      });
    }

    for (const size of SIZES) {
      test(`receives the strings that were sent (${size}-byte chunks)`, () => {
        const { r } = getProtocol();
        const stream = Buffer.concat(family.strings.map((s) => makeMessage(bytes(s))));
        deliverInChunks(r, stream, size);
        assert.deepEqual(texts(r.received), family.strings);
      });
    }

    for (const size of SIZES) {
      test(`receives nothing from a partial string (${size}-byte chunks)`, () => {
        for (const s of family.partialStrings) {
          const { r } = getProtocol();
          deliverInChunks(r, bytes(s), size);
          assert.deepEqual(r.received, [], JSON.stringify(s));
        }
      });
    }

    for (const size of SIZES) {
      test(`calls lengthLimitExceeded with a prefix above maxLength (${size}-byte chunks)`, () => {
        const { r } = getProtocol();
        const lengths: number[] = [];
        r.onLengthLimit = (length) => lengths.push(length);
        r.maxLength = 10;
        deliverInChunks(r, prefix(11), size);
        assert.deepEqual(lengths, [11]);
      });
    }

    for (const size of SIZES) {
      test(`does not deliver a string longer than maxLength that came whole (${size}-byte chunks)`, () => {
        const { r } = getProtocol();
        r.onLengthLimit = () => {};
        r.maxLength = 10;
        deliverInChunks(r, Buffer.concat([prefix(11), bytes('x'.repeat(11))]), size);
        assert.deepEqual(r.received, []);
      });
    }

    test('receives a frame given in one call', () => {
      const { r } = getProtocol();
      r.dataReceived(bytes(family.ubarFrame));
      assert.deepEqual(texts(r.received), ['ubar']);
    });

    test('delivers a string that came in one chunk as a view of that chunk', () => {
      const { r } = getProtocol();
      const chunk = makeMessage(bytes('view'));
      r.dataReceived(chunk);
      assert.equal(r.received[0]?.buffer, chunk.buffer);
    });

    for (const size of [1000, 65536]) {
      test(`receives a string of 60,000 bytes fed in ${size}-byte chunks intact`, () => {
        if (prefixLength === 1) {
          // 255 bytes at most: many strings instead.
          const { r } = getProtocol();
          r.maxLength = 255;
          const strings = Array.from({ length: 300 }, (_, i) => Buffer.alloc(200, i & 0xff));
          deliverInChunks(r, Buffer.concat(strings.map(makeMessage)), size);
          assert.deepEqual(r.received, strings);
          return;
        }
        const { r } = getProtocol();
        r.maxLength = 60_000;
        const payload = Buffer.alloc(60_000);
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
        deliverInChunks(r, makeMessage(payload), size);
        assert.equal(r.received.length, 1);
        assert.ok(payload.equals(r.received[0] as Buffer));
      });
    }

    for (const size of SIZES) {
      test(`delivers nothing more once a handler drops the connection (${size}-byte chunks)`, () => {
        const { r, transport } = getProtocol();
        r.onString = (s) => {
          r.received.push(s);
          if (s.toString('latin1') === 'quit') transport.loseConnection();
        };
        const stream = Buffer.concat(['one', 'quit', 'two'].map((s) => makeMessage(bytes(s))));
        deliverInChunks(r, stream, size);
        assert.deepEqual(texts(r.received), ['one', 'quit']);
      });
    }

    test('parses bytes given to dataReceived from inside stringReceived after the current ones', () => {
      const { r } = getProtocol();
      r.onString = (s) => {
        r.received.push(s);
        if (s.toString('latin1') === 'a') r.dataReceived(makeMessage(bytes('c')));
      };
      r.dataReceived(Buffer.concat([makeMessage(bytes('a')), makeMessage(bytes('b'))]));
      assert.deepEqual(texts(r.received), ['a', 'b', 'c']);
    });
  });

  describe(`${family.name}.pauseProducing`, () => {
    for (const size of SIZES) {
      test(`holds strings back while paused and delivers them on resume (${size}-byte chunks)`, () => {
        const { r, transport } = getProtocol();
        r.onString = (s) => {
          r.received.push(s);
          r.pauseProducing();
        };
        const stream = Buffer.concat(['one', 'two', 'three'].map((s) => makeMessage(bytes(s))));
        deliverInChunks(r, stream, size);
        assert.deepEqual(texts(r.received), ['one']);
        assert.equal(r.paused, true);
        assert.equal(transport.producerState, 'paused');
        r.resumeProducing();
        assert.deepEqual(texts(r.received), ['one', 'two']);
        r.resumeProducing();
        assert.deepEqual(texts(r.received), ['one', 'two', 'three']);
        r.resumeProducing();
        assert.equal(r.paused, false);
        assert.equal(transport.producerState, 'producing');
      });
    }

    test('delivers nothing after stopProducing', () => {
      const { r, transport } = getProtocol();
      r.onString = (s) => {
        r.received.push(s);
        r.stopProducing();
      };
      r.dataReceived(Buffer.concat(['one', 'two'].map((s) => makeMessage(bytes(s)))));
      r.dataReceived(makeMessage(bytes('three')));
      assert.deepEqual(texts(r.received), ['one']);
      assert.equal(transport.producerState, 'stopped');
    });
  });

  describe(`${family.name}.sendString`, () => {
    test('writes the length prefix and the string', () => {
      const { r, transport } = getProtocol();
      r.sendString(bytes('b'.repeat(16)));
      assert.deepEqual(transport.value(), Buffer.concat([prefix(16), bytes('b'.repeat(16))]));
    });

    test('writes a big-endian prefix of prefixLength bytes', () => {
      const { r, transport } = getProtocol();
      assert.equal(r.prefixLength, prefixLength);
      r.sendString(bytes('foo'));
      assert.equal(transport.value().toString('latin1'), family.fooFrame);
    });

    if (prefixLength < 4) {
      test('throws StringTooLongError for a string that does not fit the prefix', () => {
        const { r, transport } = getProtocol();
        const limit = 2 ** (prefixLength * 8);
        assert.throws(() => r.sendString(Buffer.alloc(limit + 1)), StringTooLongError);
        assert.throws(() => r.sendString(Buffer.alloc(limit)), {
          name: 'StringTooLongError',
          code: 'ERR_STRING_TOO_LONG',
          message: `string length (${limit}) does not fit a ${prefixLength}-byte length prefix (maximum ${limit - 1})`,
        });
        assert.equal(transport.value().length, 0);
        r.sendString(Buffer.alloc(limit - 1));
        assert.equal(transport.value().length, prefixLength + limit - 1);
      });
    }
  });

  describe(`${family.name}.recvd`, () => {
    // One dataReceived call each: `recvd` is what that call left unparsed,
    // which depends on how the bytes were split.
    test('holds, inside stringReceived, the rest of what dataReceived was given', () => {
      const { r } = getProtocol();
      const result: Buffer[] = [];
      r.onString = () => result.push(r.recvd);
      const complete = Buffer.concat([prefix(5), bytes('aaaaa')]);
      const incomplete = Buffer.concat([prefix(5), bytes('bbbb')]);
      r.dataReceived(Buffer.concat([complete, incomplete]));
      assert.deepEqual(result, [incomplete]);
    });

    test('parses from the new bytes when stringReceived replaces it', () => {
      const { r } = getProtocol();
      const result: Buffer[] = [];
      const messageC = makeMessage(bytes('ccccc'));
      r.onString = (s) => {
        if (result.length === 0) r.recvd = messageC;
        result.push(s);
      };
      r.dataReceived(Buffer.concat([makeMessage(bytes('aaaaa')), makeMessage(bytes('bbbbb'))]));
      assert.deepEqual(texts(result), ['aaaaa', 'ccccc']);
    });

    test('does not parse again what stringReceived consumed from it', () => {
      const { r } = getProtocol();
      const SWITCH = bytes('\x00\x00\x00\x00');
      const mix = family.strings.flatMap((s) => [makeMessage(bytes(s)), SWITCH]);
      const result: Buffer[] = [];
      r.onString = (s) => {
        result.push(s);
        r.recvd = r.recvd.subarray(SWITCH.length);
      };
      r.dataReceived(Buffer.concat(mix));
      // One more byte, to parse anything left behind (there should be nothing).
      r.dataReceived(bytes('\x01'));
      assert.deepEqual(texts(result), family.strings);
      assert.deepEqual(r.recvd, bytes('\x01'));
    });

    test('holds, inside lengthLimitExceeded, every byte from the offending prefix on', () => {
      const { r } = getProtocol();
      const DATA = bytes('too long');
      r.maxLength = DATA.length - 1;
      const message = makeMessage(DATA);
      const result: (number | Buffer)[] = [];
      r.onLengthLimit = (length) => {
        result.push(length, r.recvd);
      };
      r.dataReceived(message);
      assert.deepEqual(result, [DATA.length, message]);
    });
  });

  describe(`${family.name} handlers not overridden`, () => {
    test('stringReceived throws when not overridden', () => {
      const r = new family.Base();
      assert.throws(() => r.stringReceived(bytes('foo')), /must override stringReceived/);
    });
  });
}
