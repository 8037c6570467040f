// Write-buffer limits (asyncio's set_write_buffer_limits) on the test
// doubles: the defaults and checks every transport shares, and the
// in-memory FakeTransport pausing a streaming producer strictly above the
// high mark and resuming it at the low mark. The real transports are
// checked in test/integration/tcp-write-limits.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Protocol } from 'torsion/protocol';
import type { IPushProducer, IWriteBufferLimits } from 'torsion/reactor';
import { connect, FakeTransport, StringTransport } from 'torsion/testing';

/** A streaming producer that records the calls made to it. */
class RecordingProducer implements IPushProducer {
  readonly events: string[] = [];
  pauseProducing(): void {
    this.events.push('pause');
  }
  resumeProducing(): void {
    this.events.push('resume');
  }
  stopProducing(): void {
    this.events.push('stop');
  }
}

const doubles: ReadonlyArray<[string, () => IWriteBufferLimits]> = [
  ['StringTransport', () => new StringTransport()],
  ['FakeTransport', () => new FakeTransport(new Protocol(), false)],
];

describe('setWriteBufferLimits and getWriteBufferLimits', () => {
  for (const [name, make] of doubles) {
    test(`${name} starts at 64 KiB and 16 KiB`, () => {
      assert.deepEqual(make().getWriteBufferLimits(), { high: 65536, low: 16384 });
    });

    test(`${name} takes both marks as given`, () => {
      const transport = make();
      transport.setWriteBufferLimits({ high: 1000, low: 10 });
      assert.deepEqual(transport.getWriteBufferLimits(), { high: 1000, low: 10 });
    });

    test(`${name} makes low a quarter of high, rounded down, when only high is given`, () => {
      const transport = make();
      transport.setWriteBufferLimits({ high: 1001 });
      assert.deepEqual(transport.getWriteBufferLimits(), { high: 1001, low: 250 });
    });

    test(`${name} makes high four times low when only low is given`, () => {
      const transport = make();
      transport.setWriteBufferLimits({ low: 100 });
      assert.deepEqual(transport.getWriteBufferLimits(), { high: 400, low: 100 });
    });

    test(`${name} goes back to the defaults when called with nothing`, () => {
      const transport = make();
      transport.setWriteBufferLimits({ high: 10, low: 0 });
      transport.setWriteBufferLimits();
      assert.deepEqual(transport.getWriteBufferLimits(), { high: 65536, low: 16384 });
    });

    test(`${name} accepts zero for both marks`, () => {
      const transport = make();
      transport.setWriteBufferLimits({ high: 0, low: 0 });
      assert.deepEqual(transport.getWriteBufferLimits(), { high: 0, low: 0 });
    });

    test(`${name} throws RangeError for a negative or fractional mark, or low above high, and keeps the old marks`, () => {
      const transport = make();
      transport.setWriteBufferLimits({ high: 800, low: 200 });
      assert.throws(() => transport.setWriteBufferLimits({ high: -1 }), RangeError);
      assert.throws(() => transport.setWriteBufferLimits({ low: -1 }), RangeError);
      assert.throws(() => transport.setWriteBufferLimits({ high: 1.5 }), RangeError);
      assert.throws(() => transport.setWriteBufferLimits({ high: Number.NaN }), RangeError);
      assert.throws(
        () => transport.setWriteBufferLimits({ high: 10, low: 11 }),
        /low \(11\) must not be above high \(10\)/,
      );
      assert.deepEqual(transport.getWriteBufferLimits(), { high: 800, low: 200 });
    });
  }

  test('StringTransport never buffers: its write buffer size is 0 after writes', () => {
    const transport = new StringTransport();
    transport.write(Buffer.alloc(100_000));
    assert.equal(transport.getWriteBufferSize(), 0);
  });
});

describe('FakeTransport flow control', () => {
  function pair(): { clientIO: FakeTransport; pump: ReturnType<typeof connect> } {
    const server = new Protocol();
    const client = new Protocol();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    return { clientIO, pump: connect(server, serverIO, client, clientIO) };
  }

  test('pauses a streaming producer only once the buffer is strictly over the high mark', () => {
    const { clientIO } = pair();
    clientIO.setWriteBufferLimits({ high: 10, low: 4 });
    const producer = new RecordingProducer();
    clientIO.registerProducer(producer, true);
    clientIO.write(Buffer.alloc(10));
    assert.equal(clientIO.getWriteBufferSize(), 10);
    assert.deepEqual(producer.events, []);
    clientIO.write(Buffer.alloc(1));
    assert.deepEqual(producer.events, ['pause']);
    clientIO.write(Buffer.alloc(1));
    assert.deepEqual(producer.events, ['pause'], 'paused once');
  });

  test('resumes it once the pump has carried the buffer across', () => {
    const { clientIO, pump } = pair();
    const producer = new RecordingProducer();
    clientIO.registerProducer(producer, true);
    clientIO.write(Buffer.alloc(65537));
    assert.deepEqual(producer.events, ['pause']);
    pump.pump();
    assert.equal(clientIO.getWriteBufferSize(), 0);
    assert.deepEqual(producer.events, ['pause', 'resume']);
  });

  test('pauses at registration when the buffer is already over the high mark', () => {
    const { clientIO } = pair();
    clientIO.write(Buffer.alloc(65537));
    const producer = new RecordingProducer();
    clientIO.registerProducer(producer, true);
    assert.deepEqual(producer.events, ['pause']);
  });

  test('new marks apply to what is buffered now: a lower high pauses, a higher low resumes', () => {
    const { clientIO } = pair();
    const producer = new RecordingProducer();
    clientIO.registerProducer(producer, true);
    clientIO.write(Buffer.alloc(100));
    assert.deepEqual(producer.events, []);
    clientIO.setWriteBufferLimits({ high: 99, low: 50 });
    assert.deepEqual(producer.events, ['pause']);
    clientIO.setWriteBufferLimits({ high: 200, low: 100 });
    assert.deepEqual(producer.events, ['pause', 'resume']);
  });

  test('leaves a pull producer alone', () => {
    const { clientIO } = pair();
    clientIO.setWriteBufferLimits({ high: 0 });
    const calls: string[] = [];
    clientIO.registerProducer(
      {
        resumeProducing: () => calls.push('resume'),
        stopProducing: () => calls.push('stop'),
      },
      false,
    );
    clientIO.write(Buffer.alloc(10));
    assert.deepEqual(calls, ['resume']);
  });
});
