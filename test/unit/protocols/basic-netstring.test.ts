// NetstringReceiver (ported from Twisted's twisted/protocols/test/test_basic.py:
// NetstringReceiverTests), at every chunk size in SIZES; tests of Twisted's
// private parsing steps (_consumeLength, _payloadComplete) are restated
// through what the receiver delivers.

import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { captureLogs, type LogEvent } from 'torsion/logger';
import { NetstringParseError, NetstringReceiver } from 'torsion/protocols/basic';
import { deliverInChunks, StringTransport } from 'torsion/testing';
import { bytes, feed, SIZES, texts } from '../../helpers/basic.js';

/** Records (and echoes) each string; strings of at most 50 bytes, as Twisted's TestMixin. */
class TestNetstring extends NetstringReceiver {
  override maxLength = 50;
  received: Buffer[] = [];
  closed = false;

  override connectionMade(): void {
    this.received = [];
  }

  override stringReceived(string: Buffer): void {
    this.received.push(string);
    this.transport.write(string);
  }

  override connectionLost(_reason?: Failure): void {
    this.closed = true;
  }
}

function connect(maxLength?: number): { proto: TestNetstring; transport: StringTransport } {
  const proto = new TestNetstring();
  if (maxLength !== undefined) proto.maxLength = maxLength;
  const transport = new StringTransport();
  proto.makeConnection(transport);
  return { proto, transport };
}

/** Captures log events for the rest of the test; returns a reader of this module's. */
function captureBasicLogs(t: TestContext): () => LogEvent[] {
  const capture = captureLogs();
  t.after(() => capture.stop());
  return () => capture.events.filter((e) => e.log_namespace === 'torsion.protocols.basic');
}

describe('NetstringReceiver.dataReceived', () => {
  const strings = ['hello', 'world', 'how', 'are', 'you123', ':today', 'a'.repeat(515)];

  for (const size of SIZES) {
    test(`receives what sendString sent (${size}-byte chunks)`, () => {
      const { proto, transport } = connect(699);
      for (const s of strings) proto.sendString(bytes(s));
      const out = transport.value();
      transport.clear();
      deliverInChunks(proto, out, size);
      assert.deepEqual(texts(proto.received), strings);
    });
  }

  const valid: { name: string; data: string; received: string[] }[] = [
    { name: 'an empty netstring', data: '0:,', received: [''] },
    { name: 'a one-character netstring', data: '1:a,', received: ['a'] },
    { name: 'a two-character netstring', data: '2:ab,', received: ['ab'] },
    {
      name: "a netstring whose data holds ':' and ','",
      data: '4:1:a,,',
      received: ['1:a,'],
    },
    { name: 'a length of maxLength', data: `50:${'z'.repeat(50)},`, received: ['z'.repeat(50)] },
    {
      name: 'a two-digit length',
      data: '12:abcdefghijkl,1:x,',
      received: ['abcdefghijkl', 'x'],
    },
  ];
  for (const { name, data, received } of valid) {
    for (const size of SIZES) {
      test(`receives ${name} (${size}-byte chunks)`, () => {
        const { proto, transport } = connect();
        deliverInChunks(proto, bytes(data), size);
        assert.deepEqual(texts(proto.received), received);
        assert.equal(transport.disconnecting, false);
        assert.equal(proto.brokenPeer, false);
      });
    }
  }

  test('receives a netstring in two portions, then the next one', () => {
    const { proto } = connect();
    proto.dataReceived(bytes('4:aa'));
    proto.dataReceived(bytes('aa,'));
    assert.deepEqual(texts(proto.received), ['aaaa']);
    // Nothing of the first is left pending: the next parses from scratch.
    proto.dataReceived(bytes('1:b,'));
    assert.deepEqual(texts(proto.received), ['aaaa', 'b']);
  });

  test('receives a netstring whose length is split across portions', () => {
    const { proto } = connect();
    for (const part of ['1', '0:01234', '56789', ',']) proto.dataReceived(bytes(part));
    assert.deepEqual(texts(proto.received), ['0123456789']);
  });

  test('receives a netstring one character at a time', () => {
    const { proto } = connect();
    for (const part of ['2', ':', 'a', 'b', ',']) proto.dataReceived(bytes(part));
    assert.deepEqual(texts(proto.received), ['ab']);
  });

  test('receives a whole netstring and the start of the next, then the rest', () => {
    const { proto } = connect();
    proto.dataReceived(bytes('1:a,1'));
    assert.deepEqual(texts(proto.received), ['a']);
    proto.dataReceived(bytes(':b,'));
    assert.deepEqual(texts(proto.received), ['a', 'b']);
  });

  test('delivers a netstring that came in one chunk as a view of that chunk', () => {
    const { proto } = connect();
    const chunk = bytes('5:hello,');
    proto.dataReceived(chunk);
    const [string] = proto.received;
    assert.equal(string?.buffer, chunk.buffer);
    assert.equal(string?.byteOffset, chunk.byteOffset + 2);
  });

  for (const size of [1000, 65536]) {
    test(`receives a 3 MB netstring fed in ${size}-byte chunks intact`, () => {
      const { proto } = connect(4_000_000);
      const payload = Buffer.alloc(3_000_000);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
      const framed = Buffer.concat([bytes(`${payload.length}:`), payload, bytes(',')]);
      deliverInChunks(proto, framed, size);
      assert.equal(proto.received.length, 1);
      assert.ok(payload.equals(proto.received[0] as Buffer));
    });
  }

  for (const size of SIZES) {
    test(`delivers nothing more once a handler drops the connection (${size}-byte chunks)`, () => {
      class Quitter extends TestNetstring {
        override stringReceived(string: Buffer): void {
          super.stringReceived(string);
          if (string.toString('latin1') === 'quit') this.transport.loseConnection();
        }
      }
      const proto = new Quitter();
      proto.makeConnection(new StringTransport());
      deliverInChunks(proto, bytes('3:one,4:quit,3:two,'), size);
      assert.deepEqual(texts(proto.received), ['one', 'quit']);
    });
  }

  test('parses bytes given to dataReceived from inside stringReceived after the current ones', () => {
    class Injector extends TestNetstring {
      override stringReceived(string: Buffer): void {
        super.stringReceived(string);
        if (string.toString('latin1') === 'a') this.dataReceived(bytes('1:c,'));
      }
    }
    const proto = new Injector();
    proto.makeConnection(new StringTransport());
    proto.dataReceived(bytes('1:a,1:b,'));
    assert.deepEqual(texts(proto.received), ['a', 'b', 'c']);
  });
});

describe('NetstringReceiver refusing a broken peer', () => {
  const illegal: { name: string; data: string; reason: RegExp }[] = [
    {
      name: 'a length too long to be a number',
      data: '9999999999999999999999',
      reason: /^netstring length 99\d*…? exceeds maxLength \(50\)$/,
    },
    {
      name: 'no length at all',
      data: 'abc',
      reason: /^netstring does not start with a length: got 0x61 \('a'\) at "a/,
    },
    {
      name: 'more data than the length says',
      data: '4:abcde',
      reason: /^netstring of length 4 is not terminated by ',': got 0x65 \('e'\) at "e"$/,
    },
    {
      name: 'a length above maxLength',
      data: `51:${'a'.repeat(50)}b,`,
      reason: /^netstring length 51…? exceeds maxLength \(50\)$/,
    },
    {
      name: 'one byte more than the length says',
      data: '2:aaa,',
      reason: /^netstring of length 2 is not terminated by ',': got 0x61 \('a'\)/,
    },
    {
      name: 'data in a netstring of length 0',
      data: '0:a,',
      reason: /^netstring of length 0 is not terminated by ',': got 0x61 \('a'\)/,
    },
    {
      name: 'a colon with no length before it',
      data: ':aaa,',
      reason: /^netstring has no length before ':': got ":/,
    },
    {
      name: 'a length with no colon',
      data: '3aaa,',
      reason: /^netstring length 3 is followed by 0x61 \('a'\), not ':'$/,
    },
    {
      name: 'neither a length nor a colon',
      data: 'aaa,',
      reason: /^netstring does not start with a length: got 0x61 \('a'\)/,
    },
    {
      name: 'only data',
      data: 'aaa',
      reason: /^netstring does not start with a length: got 0x61 \('a'\)/,
    },
    {
      name: 'a length with a leading zero',
      data: '01:a,',
      reason: /^netstring length has a leading zero: '01'$/,
    },
    {
      name: 'a length above maxLength by one, before its payload',
      data: '51:',
      reason: /^netstring length 51…? exceeds maxLength \(50\)$/,
    },
  ];

  for (const { name, data, reason } of illegal) {
    for (const size of SIZES) {
      test(`drops the connection and logs why on ${name} (${size}-byte chunks)`, (t) => {
        const logs = captureBasicLogs(t);
        const { proto, transport } = connect();
        deliverInChunks(proto, bytes(data), size);
        assert.equal(transport.disconnecting, true);
        assert.equal(proto.brokenPeer, true);
        assert.deepEqual(proto.received, []);
        assert.equal(logs().length, 1);
        const event = logs()[0] as LogEvent;
        assert.equal(event.log_level, 'warn');
        assert.equal(event.protocol, 'TestNetstring');
        assert.match(String(event.reason), reason);
        assert.ok(event.error instanceof NetstringParseError);
        assert.equal(event.error.code, 'ERR_NETSTRING_PARSE');
        assert.equal(event.error.message, event.reason);
      });
    }
  }

  test('ignores what arrives once the peer is broken', (t) => {
    const logs = captureBasicLogs(t);
    const { proto, transport } = connect();
    proto.dataReceived(bytes('x'));
    proto.dataReceived(bytes('1:a,'));
    assert.deepEqual(proto.received, []);
    assert.equal(transport.disconnecting, true);
    assert.equal(logs().length, 1);
  });

  for (const size of SIZES) {
    test(`accepts a length equal to maxLength (${size}-byte chunks)`, () => {
      const { proto, transport } = connect(12);
      deliverInChunks(proto, bytes(`12:${'y'.repeat(12)},`), size);
      assert.deepEqual(texts(proto.received), ['y'.repeat(12)]);
      assert.equal(transport.disconnecting, false);
    });
  }

  for (const size of SIZES) {
    test(`refuses a length of maxLength + 1 as soon as its digits are in (${size}-byte chunks)`, (t) => {
      const logs = captureBasicLogs(t);
      const { proto, transport } = connect(11);
      // No payload follows: the length alone is enough to refuse it.
      feed(proto, transport, bytes('12:'), size);
      assert.equal(transport.disconnecting, true);
      assert.match(String(logs()[0]?.reason), /^netstring length 12…? exceeds maxLength \(11\)$/);
    });
  }

  for (const size of SIZES) {
    test(`refuses a length far above maxLength (${size}-byte chunks)`, (t) => {
      const logs = captureBasicLogs(t);
      const { proto, transport } = connect(11);
      feed(proto, transport, bytes('1000:'), size);
      assert.equal(transport.disconnecting, true);
      assert.match(
        String(logs()[0]?.reason),
        /^netstring length 100\d*…? exceeds maxLength \(11\)$/,
      );
    });
  }

  test('names the whole length when its colon has arrived', (t) => {
    const logs = captureBasicLogs(t);
    const { proto } = connect(11);
    proto.dataReceived(bytes('1000:'));
    assert.equal(logs()[0]?.reason, 'netstring length 1000 exceeds maxLength (11)');
  });
});

describe('NetstringReceiver.sendString', () => {
  test('frames bytes as <length>:<bytes>,', () => {
    const { proto, transport } = connect();
    proto.sendString(bytes('foo'));
    proto.sendString(bytes(''));
    assert.equal(transport.value().toString('latin1'), '3:foo,0:,');
  });

  test('encodes a string as UTF-8 and counts its bytes', () => {
    const { proto, transport } = connect();
    proto.sendString('é');
    assert.deepEqual(transport.value(), Buffer.concat([bytes('2:'), Buffer.from('é'), bytes(',')]));
  });
});

describe('NetstringReceiver handlers not overridden', () => {
  test('stringReceived throws when not overridden', () => {
    assert.throws(
      () => new NetstringReceiver().stringReceived(bytes('foo')),
      /must override stringReceived/,
    );
  });
});
