// Benchmark: lines per second through LineReceiver and LineOnlyReceiver at
// several chunk sizes (the shape of Twisted's benchmarks/test_linereceiver.py:
// 50-byte lines ending in CRLF), against node:readline over a stream and a
// minimal hand-written Buffer.indexOf splitter.
// Usage: node dist/bench/line-receiver.js [lineonly|line|readline|splitter] [chunkSize]
// Prints one JSON line: lines_per_s.

import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { LineOnlyReceiver, LineReceiver } from 'torsion/protocols/basic';
import { StringTransport } from 'torsion/testing';

const LINES_PER_ROUND = 1000;
/**
 * Rounds of 1,000 lines timed: a quarter of a second or more for each
 * implementation (large chunks go through more lines in that time).
 */
function roundsFor(chunkSize: number): number {
  return chunkSize >= 1024 ? 10_000 : 3000;
}
const data = Buffer.from(`${'abcde'.repeat(10)}\r\n`.repeat(LINES_PER_ROUND));

function chunksOf(size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  return chunks;
}

let seen = 0;
/**
 * The last line seen. Every implementation stores its line here, as a real
 * consumer keeps what it is given: a line nobody looks at could otherwise be
 * optimized away by the JIT (escape analysis) and make a receiver look
 * faster than any program using it would find it.
 */
export let lastLine: unknown;

class CountingLineReceiver extends LineReceiver {
  override lineReceived(line: Buffer): void {
    seen++;
    lastLine = line;
  }
}

class CountingLineOnlyReceiver extends LineOnlyReceiver {
  override lineReceived(line: Buffer): void {
    seen++;
    lastLine = line;
  }
}

/** The simplest correct splitter: what a hand-written protocol would do. */
class Splitter {
  #rest: Buffer | null = null;
  constructor(readonly onLine: (line: Buffer) => void) {}
  feed(chunk: Buffer): void {
    const buffer = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk]);
    let start = 0;
    for (let at = buffer.indexOf('\r\n', start); at !== -1; at = buffer.indexOf('\r\n', start)) {
      this.onLine(buffer.subarray(start, at));
      start = at + 2;
    }
    this.#rest = start === buffer.length ? null : Buffer.from(buffer.subarray(start));
  }
}

function timeSync(rounds: number, round: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) round();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function measure(
  kind: string,
  chunkSize: number,
): Promise<{ lines: number; seconds: number }> {
  const chunks = chunksOf(chunkSize);
  const rounds = roundsFor(chunkSize);
  seen = 0;
  if (kind === 'readline') {
    const run = async (n: number): Promise<number> => {
      const input = new PassThrough();
      const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      rl.on('line', (line) => {
        seen++;
        lastLine = line;
      });
      const closed = new Promise<void>((resolve) => rl.once('close', () => resolve()));
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) for (const chunk of chunks) input.write(chunk);
      input.end();
      await closed;
      return Number(process.hrtime.bigint() - t0) / 1e9;
    };
    await run(300);
    seen = 0;
    return { seconds: await run(rounds), lines: seen };
  }
  let feed: (chunk: Buffer) => void;
  if (kind === 'splitter') {
    const splitter = new Splitter((line) => {
      seen++;
      lastLine = line;
    });
    feed = (chunk) => splitter.feed(chunk);
  } else {
    const protocol = kind === 'line' ? new CountingLineReceiver() : new CountingLineOnlyReceiver();
    protocol.makeConnection(new StringTransport());
    feed = (chunk) => protocol.dataReceived(chunk);
  }
  const round = (): void => {
    for (const chunk of chunks) feed(chunk);
  };
  timeSync(300, round);
  seen = 0;
  const seconds = timeSync(rounds, round);
  return { seconds, lines: seen };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const kind = process.argv[2] ?? 'line';
  const chunkSize = Number(process.argv[3] ?? 1024);
  const { seconds, lines } = await measure(kind, chunkSize);
  if (lines !== roundsFor(chunkSize) * LINES_PER_ROUND)
    throw new Error(`${kind} saw ${lines} lines`);
  console.log(
    JSON.stringify({
      bench: 'line-receiver',
      impl: kind,
      chunk_size: chunkSize,
      lines,
      seconds: +seconds.toFixed(4),
      lines_per_s: Math.round(lines / seconds),
    }),
  );
}
