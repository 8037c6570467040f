// forAllChunkings and deliverSplit: every split of a short input, seeded
// random splits of a long one, and a clear failure (naming the split and the
// seed) for a protocol whose events depend on how its input is cut.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Protocol } from 'torsion/protocol';
import { deliverSplit, forAllChunkings, StringTransport } from 'torsion/testing';

/** Records the sizes of the chunks it is given, in a shared list per run. */
class SizeLogger extends Protocol {
  readonly sizes: number[] = [];
  constructor(readonly runs: number[][]) {
    super();
    runs.push(this.sizes);
  }
  override dataReceived(data: Uint8Array): void {
    this.sizes.push(data.byteLength);
  }
}

/** A correct line collector: buffers the partial line. */
class Lines extends Protocol {
  readonly lines: string[] = [];
  #buffer = '';
  override dataReceived(data: Uint8Array): void {
    this.#buffer += Buffer.from(data).toString('latin1');
    const parts = this.#buffer.split('\n');
    this.#buffer = parts.pop() ?? '';
    this.lines.push(...parts);
  }
}

/** The classic bug: treats each chunk as holding whole lines. */
class ChunkSensitiveLines extends Protocol {
  readonly lines: string[] = [];
  override dataReceived(data: Uint8Array): void {
    for (const line of Buffer.from(data).toString('latin1').split('\n')) {
      if (line !== '') this.lines.push(line);
    }
  }
}

describe('forAllChunkings', () => {
  test('feeds a short input every one of its 2^(n-1) splits, and the whole', () => {
    const runs: number[][] = [];
    const checked = forAllChunkings(
      () => new SizeLogger(runs),
      'abcde',
      (p) => p.sizes.reduce((a, b) => a + b, 0),
    );
    assert.equal(checked, 16);
    assert.deepEqual(runs[0], [5], 'the whole input first');
    const splits = new Set(runs.slice(1).map((sizes) => sizes.join(',')));
    assert.equal(splits.size, 16);
    assert.ok(splits.has('1,1,1,1,1'));
    assert.ok(splits.has('5'));
    assert.ok(splits.has('2,3'));
  });

  test('a longer input gets the fixed chunk sizes, then `count` seeded random splits', () => {
    const runs = (seed: number): number[][] => {
      const all: number[][] = [];
      const checked = forAllChunkings(
        () => new SizeLogger(all),
        Buffer.alloc(100, 1),
        (p) => p.sizes.reduce((a, b) => a + b, 0),
        { count: 30, seed },
      );
      assert.equal(checked, 6 + 30); // CHUNK_SIZES below 100: 1, 2, 3, 5, 8, 64
      return all;
    };
    const a = runs(1);
    assert.deepEqual(a, runs(1), 'the same seed, the same splits');
    assert.notDeepEqual(a, runs(2));
    assert.deepEqual(a[1], Array(100).fill(1));
    const chunkCounts = new Set(a.slice(7).map((s) => s.length));
    assert.ok(chunkCounts.size > 5, 'random splits of many shapes');
  });

  test('passes a protocol that buffers correctly', () => {
    const text = 'one\ntwo\n\nthree\nfour';
    assert.equal(
      forAllChunkings(
        () => new Lines(),
        text,
        (p) => p.lines,
      ),
      5 + 100, // chunks of 1, 2, 3, 5 and 8 bytes, then the random splits
    );
    assert.equal(
      forAllChunkings(
        () => new Lines(),
        'a\nb\nc',
        (p) => p.lines,
      ),
      16,
    );
  });

  test('detects a chunk-sensitive protocol, naming the split and the seed', () => {
    let caught: unknown;
    try {
      forAllChunkings(
        () => new ChunkSensitiveLines(),
        'ab\ncd\n',
        (p) => p.lines,
        { seed: 5 },
      );
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof assert.AssertionError, String(caught));
    const error = caught as assert.AssertionError & { split: number[]; seed: number };
    assert.match(
      error.message,
      /^forAllChunkings: split \[\d+(, \d+)*\] of 6 bytes \(split \d+ of all 32, seed 5\)/,
    );
    assert.match(error.message, /the whole input gave \[ 'ab', 'cd' \]/);
    assert.equal(error.seed, 5);
    assert.equal(
      error.split.reduce((a, b) => a + b, 0),
      6,
    );
    // The split named replays the difference.
    const replay = new ChunkSensitiveLines();
    replay.makeConnection(new StringTransport());
    deliverSplit(replay, Buffer.from('ab\ncd\n'), error.split);
    assert.notDeepEqual(replay.lines, ['ab', 'cd']);
  });

  test('detects a difference in a long input through the random splits', () => {
    assert.throws(
      () =>
        forAllChunkings(
          () => new ChunkSensitiveLines(),
          `${'x'.repeat(70)}\n${'y'.repeat(70)}\n`,
          (p) => p.lines,
          { seed: 9 },
        ),
      (error: Error & { split?: number[] }) =>
        /of 142 bytes \(chunks of 1 bytes, seed 9\)/.test(error.message) &&
        error.split?.length === 142,
    );
  });

  test('compares what delivery throws, by name and message', () => {
    class FussyAboutOne extends Protocol {
      override dataReceived(data: Uint8Array): void {
        if (data.byteLength === 1) throw new RangeError('one byte is too few');
      }
    }
    assert.throws(
      () =>
        forAllChunkings(
          () => new FussyAboutOne(),
          'abc',
          () => 'fine',
        ),
      /gave threw RangeError: one byte is too few; the whole input gave 'fine'/,
    );
    class AlwaysThrows extends Protocol {
      override dataReceived(): void {
        throw new Error('no');
      }
    }
    assert.equal(
      forAllChunkings(
        () => new AlwaysThrows(),
        'abc',
        () => 'unused',
      ),
      4,
    );
  });

  test('observes the transport too, made by makeTransport', () => {
    class Echo extends Protocol {
      override dataReceived(data: Uint8Array): void {
        this.transport.write(data);
      }
    }
    let made = 0;
    forAllChunkings(
      () => new Echo(),
      'echo me',
      (_p, transport) => transport.value().toString(),
      {
        makeTransport: () => {
          made++;
          return new StringTransport();
        },
      },
    );
    assert.equal(made, 1 + 64);
  });

  test('delivers nothing more once the protocol closes its transport, as a real transport', () => {
    class QuitsAtQ extends Protocol {
      readonly seen: string[] = [];
      late = 0;
      override dataReceived(data: Uint8Array): void {
        if (this.transport.disconnecting) this.late++;
        for (const ch of Buffer.from(data).toString('latin1')) {
          if (this.transport.disconnecting) return;
          this.seen.push(ch);
          if (ch === 'q') this.transport.loseConnection();
        }
      }
    }
    assert.equal(
      forAllChunkings(
        () => new QuitsAtQ(),
        'abqcd',
        (p) => {
          assert.equal(p.late, 0, 'a call after loseConnection');
          return p.seen.join('');
        },
      ),
      16,
    );
  });

  test('an empty input checks nothing; bad options are refused', () => {
    assert.equal(
      forAllChunkings(
        () => new Lines(),
        '',
        (p) => p.lines,
      ),
      0,
    );
    assert.throws(
      () =>
        forAllChunkings(
          () => new Lines(),
          'a',
          () => 0,
          { exhaustiveUpTo: 30 },
        ),
      /exhaustiveUpTo must be a whole number from 0 to 20, got 30/,
    );
    assert.throws(
      () =>
        forAllChunkings(
          () => new Lines(),
          'a',
          () => 0,
          { count: -1 },
        ),
      /count must be a whole number/,
    );
    assert.throws(
      () =>
        forAllChunkings(
          () => new Lines(),
          'a',
          () => 0,
          { seed: 1.5 },
        ),
      /seed must be a whole number/,
    );
  });
});

describe('deliverSplit', () => {
  test('delivers fresh copies of the given sizes, in order', () => {
    const runs: number[][] = [];
    const p = new SizeLogger(runs);
    const data = Buffer.from('abcdef');
    const seen: Uint8Array[] = [];
    p.dataReceived = (chunk) => {
      seen.push(chunk);
    };
    deliverSplit(p, data, [2, 3, 1]);
    assert.deepEqual(
      seen.map((c) => Buffer.from(c).toString()),
      ['ab', 'cde', 'f'],
    );
    data[0] = 0x7a;
    assert.equal(Buffer.from(seen[0] as Uint8Array).toString(), 'ab', 'a copy, not a view');
  });

  test('refuses bad sizes', () => {
    const p = new Lines();
    assert.throws(() => deliverSplit(p, Buffer.from('ab'), [0, 2]), /positive integers, got 0/);
    assert.throws(
      () => deliverSplit(p, Buffer.from('ab'), [2, 1]),
      /add up to 3 bytes; the data has 2/,
    );
  });
});
