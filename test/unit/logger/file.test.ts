// FileLogObserver and textFileLogObserver (Twisted: logger/test/test_file.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Failure } from 'torsion/defer';
import { FileLogObserver, type LogEvent, Logger, textFileLogObserver } from 'torsion/logger';

/** A LogOutput that keeps what is written. */
function collector(): { text: string[]; write(chunk: string): void } {
  const text: string[] = [];
  return { text, write: (chunk: string) => text.push(chunk) };
}

const event: LogEvent = {
  log_format: 'Listening on {port}',
  port: 8080,
  log_level: 'info',
  log_namespace: 'myapp.server',
  log_time: 1_800_000_000,
};

describe('FileLogObserver', () => {
  test('writes the text its format function makes of each event', () => {
    const out = collector();
    const observer = new FileLogObserver(out, (e) => `${String(e.log_format)}\n`);
    observer.observe(event);
    observer.observe({ ...event, log_format: 'second' });
    assert.deepEqual(out.text, ['Listening on {port}\n', 'second\n']);
  });

  test('skips events its format function returns null or an empty string for', () => {
    const out = collector();
    const observer = new FileLogObserver(out, (e) =>
      e.port === 1 ? null : e.port === 2 ? '' : 'kept\n',
    );
    observer.observe({ port: 1 });
    observer.observe({ port: 2 });
    observer.observe({ port: 3 });
    assert.deepEqual(out.text, ['kept\n']);
  });
});

describe('textFileLogObserver', () => {
  test('writes one classic line: ISO time, [namespace#level], the formatted text', () => {
    const out = collector();
    textFileLogObserver(out)(event);
    assert.deepEqual(out.text, [
      '2027-01-15T08:00:00.000Z [myapp.server#info] Listening on 8080\n',
    ]);
  });

  test('uses a custom time format, or none', () => {
    const custom = collector();
    textFileLogObserver(custom, { timeFormat: (s) => `t=${s}` })(event);
    assert.deepEqual(custom.text, ['t=1800000000 [myapp.server#info] Listening on 8080\n']);
    const none = collector();
    textFileLogObserver(none, { timeFormat: null })(event);
    assert.deepEqual(none.text, ['[myapp.server#info] Listening on 8080\n']);
  });

  test('appends the traceback of a failure, indented, after the text', () => {
    const out = collector();
    const failure = new Failure(new TypeError('bad input'));
    textFileLogObserver(out, { timeFormat: null })({
      ...event,
      log_format: 'Request failed',
      log_failure: failure,
    });
    const [line] = out.text;
    assert.ok(
      line?.startsWith('[myapp.server#info] Request failed\n\tTypeError: bad input\n\t    at '),
    );
    assert.ok(line?.endsWith('\n'));
  });

  test('works as the observer of a Logger', () => {
    const out = collector();
    const log = new Logger('myapp.db', {
      observer: textFileLogObserver(out, { timeFormat: null }),
    });
    log.warn('{count} slow queries', { count: 3 });
    assert.deepEqual(out.text, ['[myapp.db#warn] 3 slow queries\n']);
  });

  test('writes nothing for an event with nothing to show (Twisted: formatEventAsClassicLogText gives None)', () => {
    const out = collector();
    textFileLogObserver(out)({ id: '123' });
    textFileLogObserver(out)({ log_format: '', log_time: 1 });
    assert.deepEqual(out.text, []);
  });

  test('a failure with only a traceback starts on the first line (test_observeFailure)', () => {
    const out = collector();
    textFileLogObserver(out, { timeFormat: null })({
      log_failure: new Failure(new RangeError('r')),
    });
    assert.match(out.text[0] ?? '', /^\[-#-\] RangeError: r\n\t {4}at /);
  });

  test('notes a failure whose traceback cannot be had instead of throwing (test_observeFailureThatRaisesInGetTraceback)', () => {
    const out = collector();
    textFileLogObserver(out)({ log_failure: {} as Failure });
    assert.match(out.text[0] ?? '', /^- \[-#-\] \(UNABLE TO OBTAIN TRACEBACK FROM EVENT\): /);
  });
});
