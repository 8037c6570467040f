// Property tests of the framing receivers of torsion/protocols/basic
// (LineReceiver, LineOnlyReceiver, NetstringReceiver, Int8/16/32StringReceiver):
// random splits of random streams give the same events as one chunk; random
// garbage never throws out of dataReceived, it yields strings or drops the
// connection; what sendString/sendLine writes comes back out. Seeded, with a
// fixed number of runs; fast-check prints the seed and the shrunk case on failure.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { captureLogs } from 'torsion/logger';
import {
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringReceiver,
} from 'torsion/protocols/basic';
import { StringTransport } from 'torsion/testing';

const MAX = 40;
const RUNS = 300;

/** What a receiver did: each string or line (hex), then 'dropped' if it dropped the connection. */
type Events = string[];

interface Receiver {
  dataReceived(data: Uint8Array): void;
  makeConnection(transport: StringTransport): void;
  /** Frames one string (or line) for this receiver. */
  send(data: Uint8Array): void;
  readonly events: Events;
}

/** Each receiver under test, recording what it delivers. */
const kinds: { name: string; make: () => Receiver; valid: fc.Arbitrary<Uint8Array> }[] = [];

class Lines extends LineReceiver implements Receiver {
  override maxLength = MAX;
  readonly events: Events = [];
  override lineReceived(line: Buffer): void {
    this.events.push(line.toString('hex'));
  }
  send(data: Uint8Array): void {
    this.sendLine(data);
  }
}

class OnlyLines extends LineOnlyReceiver implements Receiver {
  override maxLength = MAX;
  readonly events: Events = [];
  override lineReceived(line: Buffer): void {
    this.events.push(line.toString('hex'));
  }
  send(data: Uint8Array): void {
    this.sendLine(data);
  }
}

class Netstrings extends NetstringReceiver implements Receiver {
  override maxLength = MAX;
  readonly events: Events = [];
  override stringReceived(string: Buffer): void {
    this.events.push(string.toString('hex'));
  }
  send(data: Uint8Array): void {
    this.sendString(data);
  }
}

class Int8s extends Int8StringReceiver implements Receiver {
  override maxLength = MAX;
  readonly events: Events = [];
  override stringReceived(string: Buffer): void {
    this.events.push(string.toString('hex'));
  }
  send(data: Uint8Array): void {
    this.sendString(data);
  }
}

class Int16s extends Int16StringReceiver implements Receiver {
  override maxLength = MAX;
  readonly events: Events = [];
  override stringReceived(string: Buffer): void {
    this.events.push(string.toString('hex'));
  }
  send(data: Uint8Array): void {
    this.sendString(data);
  }
}

class Int32s extends Int32StringReceiver implements Receiver {
  override maxLength = MAX;
  readonly events: Events = [];
  override stringReceived(string: Buffer): void {
    this.events.push(string.toString('hex'));
  }
  send(data: Uint8Array): void {
    this.sendString(data);
  }
}

/** Bytes from a small alphabet rich in delimiter bytes, so lines end and split in awkward places. */
const lineByte = fc.constantFrom(0x61, 0x62, 0x0d, 0x0a, 0x00, 0xff);
/** A length up to MAX, often MAX or just under, where the limits bite. */
const length = fc.oneof(fc.integer({ min: 0, max: MAX }), fc.constantFrom(MAX - 1, MAX));
/** A line that may be sent with a CRLF delimiter: no CRLF inside, at most MAX bytes. */
const validLine = length
  .chain((n) => fc.array(lineByte, { minLength: n, maxLength: n }))
  .map((a) => Uint8Array.from(a))
  .filter((a) => Buffer.from(a).indexOf('\r\n') === -1);
const validString = length.chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));

kinds.push(
  { name: 'LineReceiver', make: () => new Lines(), valid: validLine },
  { name: 'LineOnlyReceiver', make: () => new OnlyLines(), valid: validLine },
  { name: 'NetstringReceiver', make: () => new Netstrings(), valid: validString },
  { name: 'Int8StringReceiver', make: () => new Int8s(), valid: validString },
  { name: 'Int16StringReceiver', make: () => new Int16s(), valid: validString },
  { name: 'Int32StringReceiver', make: () => new Int32s(), valid: validString },
);

/** Where to split a stream: random cut points, or before every byte. */
const cutsArb: fc.Arbitrary<number[] | 'each'> = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.nat()) },
  { weight: 1, arbitrary: fc.constant('each' as const) },
);

/** Splits `data` at the given cut points (any integers; taken modulo its length), or into single bytes. */
function split(data: Uint8Array, cuts: number[] | 'each'): Uint8Array[] {
  if (data.length === 0) return [];
  if (cuts === 'each') return Array.from(data, (_, i) => data.subarray(i, i + 1));
  const at = [...new Set(cuts.map((c) => c % data.length).filter((c) => c > 0))].sort(
    (a, b) => a - b,
  );
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...at, data.length]) {
    chunks.push(data.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/**
 * Feeds the chunks to a new receiver of `kind` (each one copied into a
 * buffer that is then overwritten, as a reused read buffer would be), until
 * it drops the connection; returns its events.
 */
function run(make: () => Receiver, chunks: Uint8Array[]): Events {
  const receiver = make();
  const transport = new StringTransport();
  receiver.makeConnection(transport);
  for (const chunk of chunks) {
    if (transport.disconnecting) break;
    const scratch = Buffer.from(chunk);
    receiver.dataReceived(scratch);
    scratch.fill(0xee);
  }
  return transport.disconnecting ? [...receiver.events, 'dropped'] : [...receiver.events];
}

/** The framed form of `strings` for a receiver of this kind. */
function frame(make: () => Receiver, strings: Uint8Array[]): Buffer {
  const sender = make();
  const wire = new StringTransport();
  sender.makeConnection(wire);
  for (const s of strings) sender.send(s);
  return wire.value();
}

const hex = (strings: Uint8Array[]): string[] => strings.map((s) => Buffer.from(s).toString('hex'));

for (const { name, make, valid } of kinds) {
  describe(name, () => {
    test('delivers what sendString (or sendLine) framed, whatever the split', () => {
      fc.assert(
        fc.property(fc.array(valid, { maxLength: 12 }), cutsArb, (strings, cuts) => {
          const wire = frame(make, strings);
          assert.deepEqual(run(make, split(wire, cuts)), hex(strings));
        }),
        { seed: 0x7e57_0001, numRuns: RUNS },
      );
    });

    test('gives the same events for any split of a stream of valid and oversized strings as for one chunk', () => {
      const item = fc.oneof(
        { weight: 4, arbitrary: valid },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: MAX + 1, maxLength: MAX + 8 }) },
      );
      fc.assert(
        fc.property(fc.array(item, { maxLength: 8 }), cutsArb, (strings, cuts) => {
          const logs = captureLogs();
          try {
            // Framed by a sender that does not enforce maxLength.
            const wire = frame(make, strings);
            assert.deepEqual(run(make, split(wire, cuts)), run(make, [wire]));
          } finally {
            logs.stop();
          }
        }),
        { seed: 0x7e57_0002, numRuns: RUNS },
      );
    });

    test('never throws on random bytes: it yields strings, or drops the connection, the same for any split', () => {
      const garbage = fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(lineByte, { maxLength: 200 }).map((a) => Uint8Array.from(a)),
        fc
          .array(fc.constantFrom(...Buffer.from('0123456789:,\x00\x01ab')), { maxLength: 200 })
          .map((a) => Uint8Array.from(a)),
      );
      fc.assert(
        fc.property(garbage, cutsArb, (data, cuts) => {
          const logs = captureLogs();
          try {
            const whole = run(make, [data]);
            const dropped = whole.indexOf('dropped');
            assert.ok(dropped === -1 || dropped === whole.length - 1, 'nothing after the drop');
            assert.deepEqual(run(make, split(data, cuts)), whole);
          } finally {
            logs.stop();
          }
        }),
        { seed: 0x7e57_0003, numRuns: RUNS },
      );
    });
  });
}
