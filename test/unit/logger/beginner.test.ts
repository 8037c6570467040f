// Beginning to log: the first observers get what was published before them,
// later ones are added with a warning, and startLogging is the one-line start
// (Twisted: twisted/logger/test/test_global.py).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { type ILogObserver, LogBeginner, type LogEvent, LogPublisher } from 'torsion/logger';

const event = (text: string): LogEvent => ({ log_format: text, log_level: 'info' });

function recorder(seen: LogEvent[]): ILogObserver {
  return (e) => {
    seen.push(e);
  };
}

describe('LogBeginner', () => {
  test('replays the events published before logging began to the first observers, then goes live', () => {
    const publisher = new LogPublisher();
    const buffered = [event('one'), event('two')];
    const beginner = new LogBeginner(publisher, () => buffered.splice(0));
    const a: LogEvent[] = [];
    const b: LogEvent[] = [];
    assert.equal(beginner.began, false);
    beginner.beginLoggingTo([recorder(a), recorder(b)]);
    assert.equal(beginner.began, true);
    publisher.publish(event('three'));
    assert.deepEqual(
      a.map((e) => e.log_format),
      ['one', 'two', 'three'],
    );
    assert.deepEqual(
      b.map((e) => e.log_format),
      ['one', 'two', 'three'],
    );
  });

  test('with discardBuffer, drops what came before', () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher, () => [event('early')]);
    const seen: LogEvent[] = [];
    beginner.beginLoggingTo([recorder(seen)], { discardBuffer: true });
    publisher.publish(event('late'));
    assert.deepEqual(
      seen.map((e) => e.log_format),
      ['late'],
    );
  });

  test('a second call adds its observers and warns that the log target was chosen twice', () => {
    const publisher = new LogPublisher();
    let taken = 0;
    const beginner = new LogBeginner(publisher, () => {
      taken++;
      return [event('early')];
    });
    const first: LogEvent[] = [];
    const second: LogEvent[] = [];
    beginner.beginLoggingTo([recorder(first)]);
    beginner.beginLoggingTo([recorder(second)]);
    assert.equal(taken, 1, 'the buffer is handed over once');
    assert.deepEqual(
      first.map((e) => e.log_format),
      ['early', 'Warning: primary log target selected twice'],
    );
    assert.deepEqual(
      second.map((e) => [e.log_format, e.log_level]),
      [['Warning: primary log target selected twice', 'warn']],
    );
  });

  test('an observer that throws during the replay does not stop the others', () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher, () => [event('early')]);
    const seen: LogEvent[] = [];
    beginner.beginLoggingTo([
      () => {
        throw new Error('broken');
      },
      recorder(seen),
    ]);
    assert.deepEqual(
      seen.map((e) => e.log_format),
      ['early'],
    );
  });
});

describe('the global beginner and startLogging', () => {
  test('startLogging(stream) writes what was logged before and after it, as text', () => {
    const program = `
      const { Logger, startLogging } = await import(${JSON.stringify(import.meta.resolve('torsion/logger'))});
      const log = new Logger('startup');
      log.info('before logging began {n}', { n: 1 });
      startLogging(process.stdout, { timeFormat: null });
      log.info('after {n}', { n: 2 });
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, '[startup#info] before logging began 1\n[startup#info] after 2\n');
    assert.equal(child.stderr, '', 'an info event before logging began is not written to stderr');
  });

  test('keeps only the latest events from before logging began', () => {
    const program = `
      const { Logger, globalLogBeginner, STARTUP_BUFFER_SIZE } = await import(${JSON.stringify(import.meta.resolve('torsion/logger'))});
      const log = new Logger('startup');
      for (let i = 0; i < STARTUP_BUFFER_SIZE + 10; i++) log.info('event {i}', { i });
      const seen = [];
      globalLogBeginner.beginLoggingTo([(e) => seen.push(e.i)]);
      process.stdout.write(JSON.stringify([STARTUP_BUFFER_SIZE, seen.length, seen[0]]));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const [size, count, first] = JSON.parse(child.stdout) as [number, number, number];
    assert.equal(count, size);
    assert.equal(first, 10);
  });
});
