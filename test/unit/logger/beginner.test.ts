// Beginning to log: the first observers get what was published before them,
// later ones are added with a warning, and startLogging is the one-line start
// (Twisted: twisted/logger/test/test_global.py).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Failure } from 'torsion/defer';
import {
  formatEvent,
  type ILogObserver,
  LogBeginner,
  type LogEvent,
  Logger,
  LogPublisher,
  MORE_THAN_ONCE_WARNING,
  STARTUP_BUFFER_SIZE,
  type StandardStream,
  textFileLogObserver,
} from 'torsion/logger';

const event = (text: string): LogEvent => ({ log_format: text, log_level: 'info' });

function recorder(seen: LogEvent[]): ILogObserver {
  return (e) => {
    seen.push(e);
  };
}

/** The file and line of the line after the caller's, as the stack shows them (Twisted: nextLine). */
function nextLine(): [string, number] {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, nextLine);
  const match = /\(?([^\s()]+):(\d+):\d+\)?$/.exec(holder.stack?.split('\n')[1]?.trim() ?? '');
  assert.ok(match !== null);
  return [fileURLToPath(match[1] ?? ''), Number(match[2]) + 1];
}

/** A LogOutput that keeps what is written. */
function textOutput(): { text: () => string; write(chunk: string): void } {
  const chunks: string[] = [];
  return { text: () => chunks.join(''), write: (chunk: string) => chunks.push(chunk) };
}

/** A stand-in for process's standard streams, recording what reaches them. */
function fakeStdio(): {
  stdio: { stdout: StandardStream; stderr: StandardStream };
  written: string[];
} {
  const written: string[] = [];
  const stream = (name: string): StandardStream => ({
    write: (chunk) => written.push(`${name}:${String(chunk)}`),
  });
  return { stdio: { stdout: stream('stdout'), stderr: stream('stderr') }, written };
}

/** Keeps only the keys of `expected` in each event, to compare (Twisted: compareEvents). */
function pick(events: LogEvent[], keys: string[]): Array<Record<string, unknown>> {
  return events.map((e) => Object.fromEntries(keys.filter((k) => k in e).map((k) => [k, e[k]])));
}

describe("LogBeginner (Twisted's test_global.py)", () => {
  test('adds the observers (test_beginLoggingToAddObservers)', () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher);
    const a: LogEvent[] = [];
    const b: LogEvent[] = [];
    assert.equal(beginner.began, false);
    beginner.beginLoggingTo([recorder(a), recorder(b)]);
    assert.equal(beginner.began, true);
    const e = event('one');
    publisher.publish(e);
    assert.deepEqual(a, [e]);
    assert.deepEqual(b, [e]);
  });

  test('replays what was published before to the first observers (test_beginLoggingToBufferedEvents)', () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher);
    const early = event('early');
    publisher.publish(early);
    const a: LogEvent[] = [];
    const b: LogEvent[] = [];
    beginner.beginLoggingTo([recorder(a), recorder(b)]);
    publisher.publish(event('late'));
    assert.deepEqual(
      a.map((e) => e.log_format),
      ['early', 'late'],
    );
    assert.equal(a[0], early);
    assert.deepEqual(b, a);
  });

  for (const [name, limit] of [
    ['STARTUP_BUFFER_SIZE by default (test_defaultBufferLimit)', undefined],
    ['initialBufferSize when given (test_overrideBufferLimit)', 3],
  ] as const) {
    test(`keeps the latest ${name}`, () => {
      const publisher = new LogPublisher();
      const beginner = new LogBeginner(publisher, { initialBufferSize: limit });
      const size = limit ?? STARTUP_BUFFER_SIZE;
      for (let count = 0; count <= size; count++) publisher.publish({ count });
      const seen: LogEvent[] = [];
      beginner.beginLoggingTo([recorder(seen)]);
      assert.deepEqual(
        seen.map((e) => e.count),
        Array.from({ length: size }, (_, i) => i + 1),
      );
    });
  }

  test('refuses a buffer size that is not a positive integer', () => {
    for (const initialBufferSize of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new LogBeginner(new LogPublisher(), { initialBufferSize }),
        /initialBufferSize must be a positive integer/,
      );
    }
  });

  test('with discardBuffer, drops what came before', () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher);
    publisher.publish(event('early'));
    const seen: LogEvent[] = [];
    beginner.beginLoggingTo([recorder(seen)], { discardBuffer: true });
    publisher.publish(event('late'));
    assert.deepEqual(
      seen.map((e) => e.log_format),
      ['late'],
    );
  });

  test('a second call adds its observers and warns, naming where both calls were (test_beginLoggingToTwice)', () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher);
    const first: LogEvent[] = [];
    const second: LogEvent[] = [];
    const text = textOutput();
    const textObserver = textFileLogObserver(text);
    publisher.publish({ event: 'prebuffer' });
    const [firstFile, firstLine] = nextLine();
    beginner.beginLoggingTo([recorder(first), textObserver]);
    publisher.publish({ event: 'postbuffer' });
    const [secondFile, secondLine] = nextLine();
    beginner.beginLoggingTo([recorder(second), textObserver]);
    publisher.publish({ event: 'postwarn' });

    const warning = {
      log_format: MORE_THAN_ONCE_WARNING,
      log_level: 'warn',
      fileNow: secondFile,
      lineNow: secondLine,
      fileThen: firstFile,
      lineThen: firstLine,
    };
    const keys = ['event', ...Object.keys(warning)];
    assert.deepEqual(pick(first, keys), [
      { event: 'prebuffer' },
      { event: 'postbuffer' },
      warning,
      { event: 'postwarn' },
    ]);
    assert.deepEqual(pick(second, keys), [warning, { event: 'postwarn' }]);
    assert.ok(text.text().includes(`<${firstFile}:${firstLine}>`), text.text());
    assert.ok(text.text().includes(`<${secondFile}:${secondLine}>`), text.text());
  });

  test('writes critical events, and only those, as bare text to the error stream (test_criticalLogging)', () => {
    const publisher = new LogPublisher();
    const errorStream = textOutput();
    new LogBeginner(publisher, { errorStream });
    const log = new Logger('app', { observer: publisher.publish });
    log.info('ignore this');
    log.error('and this');
    log.critical('a critical {message}', { message: 'message' });
    assert.equal(errorStream.text(), 'a critical message\n');
  });

  test('stops writing to the error stream once logging has begun (test_criticalLoggingStops)', () => {
    const publisher = new LogPublisher();
    const errorStream = textOutput();
    new LogBeginner(publisher, { errorStream }).beginLoggingTo([]);
    new Logger('app', { observer: publisher.publish }).critical('another critical message');
    assert.equal(errorStream.text(), '');
  });

  test('a failure written to the error stream carries its traceback (test_failuresAppendTracebacks)', () => {
    const publisher = new LogPublisher();
    const errorStream = textOutput();
    new LogBeginner(publisher, { errorStream });
    const failure = new Failure(new Error('this is not the behavior you are looking for'));
    new Logger('app', { observer: publisher.publish }).failure('a failure', failure);
    assert.match(
      errorStream.text(),
      /^a failure\nError: this is not the behavior you are looking for\n {4}at /,
    );
  });

  test('with redirectStandardIO, lines written to stdout and stderr become events (test_beginLoggingToRedirectStandardIO)', () => {
    const publisher = new LogPublisher();
    const { stdio, written } = fakeStdio();
    const beginner = new LogBeginner(publisher, { stdio });
    const seen: LogEvent[] = [];
    beginner.beginLoggingTo([recorder(seen)], { redirectStandardIO: true });
    stdio.stdout.write('Hello, ');
    stdio.stdout.write('world.\nand more\n');
    stdio.stderr.write(Buffer.from('Error, world.\n'));
    assert.deepEqual(pick(seen, ['log_namespace', 'log_io', 'log_level']), [
      { log_namespace: 'stdout', log_io: 'Hello, world.', log_level: 'info' },
      { log_namespace: 'stdout', log_io: 'and more', log_level: 'info' },
      { log_namespace: 'stderr', log_io: 'Error, world.', log_level: 'error' },
    ]);
    assert.equal(formatEvent(seen[0] as LogEvent), 'Hello, world.');
    assert.deepEqual(written, []);
  });

  test('a redirected stream still takes what an observer writes to it, without looping', () => {
    const publisher = new LogPublisher();
    const { stdio, written } = fakeStdio();
    const beginner = new LogBeginner(publisher, { stdio });
    beginner.beginLoggingTo([textFileLogObserver(stdio.stdout, { timeFormat: null })], {
      redirectStandardIO: true,
    });
    stdio.stdout.write('printed\n');
    assert.deepEqual(written, ['stdout:[stdout#info] printed\n']);
  });

  test('without redirectStandardIO (the default), the streams are left alone (test_beginLoggingToDontRedirect)', () => {
    const { stdio } = fakeStdio();
    const { stdout, stderr } = stdio;
    const write = stdout.write;
    new LogBeginner(new LogPublisher(), { stdio }).beginLoggingTo([]);
    assert.equal(stdio.stdout, stdout);
    assert.equal(stdio.stderr, stderr);
    assert.equal(stdout.write, write);
  });

  test('an observer that throws during the replay does not stop the others', () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher);
    publisher.publish(event('early'));
    const seen: LogEvent[] = [];
    beginner.beginLoggingTo([
      () => {
        throw new Error('broken');
      },
      recorder(seen),
    ]);
    assert.deepEqual(
      seen.map((e) => e.log_format),
      ['early', 'Temporarily disabling observer {observer} due to exception'],
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

  test('startLogging twice warns with the lines of the program’s two calls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-beginner-'));
    try {
      const program = join(dir, 'twice.mjs');
      writeFileSync(
        program,
        [
          `import { globalLogBeginner, startLogging } from ${JSON.stringify(import.meta.resolve('torsion/logger'))};`,
          'startLogging(process.stdout, { timeFormat: null });',
          'globalLogBeginner.beginLoggingTo([]);',
        ].join('\n'),
      );
      const child = spawnSync(process.execPath, [program], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(child.status, 0, child.stderr);
      assert.equal(
        child.stdout,
        `[torsion.logger#warn] Warning: primary log target selected twice at <${program}:3> - previously selected at <${program}:2>.  Remove one of the calls to beginLoggingTo.\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
