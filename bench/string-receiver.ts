// Benchmark: strings per second through Int32StringReceiver and
// NetstringReceiver at several chunk sizes, against minimal hand-written
// splitters (Buffer.concat of what is left and the new chunk, then
// readUInt32BE or indexOf(':'), and subarray): what a protocol written on raw
// Node would do.
// Usage: node dist/bench/string-receiver.js [int32|netstring|splitter|netstring-splitter] [chunkSize] [stringSize]
// Prints one JSON line: strings_per_s and mb_per_s.

import { Int32StringReceiver, NetstringReceiver } from 'torsion/protocols/basic';
import { StringTransport } from 'torsion/testing';

/** Bytes of payload per timed round (about 1 MB), whatever the string size. */
const BYTES_PER_ROUND = 1 << 20;

let seen = 0;
/**
 * The last string seen: every implementation stores its string here, as a
 * real consumer keeps what it is given (an ignored view could be optimized
 * away by the JIT's escape analysis and flatter the receiver).
 */
export let lastString: unknown;

class CountingInt32 extends Int32StringReceiver {
  override maxLength = 1 << 30;
  override stringReceived(string: Buffer): void {
    seen++;
    lastString = string;
  }
}

class CountingNetstring extends NetstringReceiver {
  override maxLength = 1 << 30;
  override stringReceived(string: Buffer): void {
    seen++;
    lastString = string;
  }
}

/** The simplest correct length-prefix splitter. */
class Splitter {
  #rest: Buffer | null = null;
  constructor(readonly onString: (string: Buffer) => void) {}
  feed(chunk: Buffer): void {
    const buffer = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk]);
    let at = 0;
    while (buffer.length - at >= 4) {
      const length = buffer.readUInt32BE(at);
      if (buffer.length - at - 4 < length) break;
      this.onString(buffer.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    this.#rest = at === buffer.length ? null : Buffer.from(buffer.subarray(at));
  }
}

/** The simplest netstring splitter: indexOf(':'), Number(digits), no validation. */
class NetstringSplitter {
  #rest: Buffer | null = null;
  constructor(readonly onString: (string: Buffer) => void) {}
  feed(chunk: Buffer): void {
    const buffer = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk]);
    let at = 0;
    for (;;) {
      const colon = buffer.indexOf(0x3a, at);
      if (colon === -1) break;
      const length = Number(buffer.toString('latin1', at, colon));
      if (buffer.length < colon + length + 2) break;
      this.onString(buffer.subarray(colon + 1, colon + 1 + length));
      at = colon + length + 2;
    }
    this.#rest = at === buffer.length ? null : Buffer.from(buffer.subarray(at));
  }
}

function stream(kind: string, stringSize: number, count: number): Buffer {
  const payload = Buffer.alloc(stringSize, 0x61);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (kind.startsWith('netstring'))
      parts.push(Buffer.from(`${stringSize}:`), payload, Buffer.from(','));
    else {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(stringSize);
      parts.push(prefix, payload);
    }
  }
  return Buffer.concat(parts);
}

function measure(
  kind: string,
  chunkSize: number,
  stringSize: number,
): { strings: number; seconds: number; bytes: number } {
  const perRound = Math.max(1, Math.floor(BYTES_PER_ROUND / stringSize));
  const data = stream(kind, stringSize, perRound);
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkSize)
    chunks.push(data.subarray(at, at + chunkSize));
  let feed: (chunk: Buffer) => void;
  if (kind === 'splitter' || kind === 'netstring-splitter') {
    const count = (string: Buffer): void => {
      seen++;
      lastString = string;
    };
    const splitter = kind === 'splitter' ? new Splitter(count) : new NetstringSplitter(count);
    feed = (chunk) => splitter.feed(chunk);
  } else {
    const protocol = kind === 'netstring' ? new CountingNetstring() : new CountingInt32();
    protocol.makeConnection(new StringTransport());
    feed = (chunk) => protocol.dataReceived(chunk);
  }
  const round = (): void => {
    for (const chunk of chunks) feed(chunk);
  };
  for (let i = 0; i < 20; i++) round();
  seen = 0;
  // Enough rounds for a quarter of a second or more.
  let rounds = 0;
  const t0 = process.hrtime.bigint();
  let seconds = 0;
  while (seconds < 0.25 || rounds < 5) {
    round();
    rounds++;
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  if (seen !== rounds * perRound) throw new Error(`${kind} saw ${seen} strings`);
  return { strings: seen, seconds, bytes: rounds * perRound * stringSize };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const kind = process.argv[2] ?? 'int32';
  const chunkSize = Number(process.argv[3] ?? 1024);
  const stringSize = Number(process.argv[4] ?? 50);
  const { strings, seconds, bytes } = measure(kind, chunkSize, stringSize);
  console.log(
    JSON.stringify({
      bench: 'string-receiver',
      impl: kind,
      chunk_size: chunkSize,
      string_size: stringSize,
      strings,
      seconds: +seconds.toFixed(4),
      strings_per_s: Math.round(strings / seconds),
      mb_per_s: +(bytes / seconds / 1e6).toFixed(1),
    }),
  );
}
