// Our JSON logs and Twisted's, each read by the other's reader: a
// record-separated file written by jsonFileLogObserver is read by Twisted's
// own eventsFromJSONLogFile (run by /usr/bin/python3, when Twisted is
// installed there), and files written by Twisted's jsonFileLogObserver (made
// now when Twisted is installed, and the committed one of Twisted 22.4) are
// read by ours.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Failure } from 'torsion/defer';
import {
  captureLogs,
  eventsFromJSONLogFile,
  formatEventAsClassicLogText,
  jsonFileLogObserver,
  type LogEvent,
  Logger,
} from 'torsion/logger';

const PYTHON = '/usr/bin/python3';
const FIXTURE = fileURLToPath(
  new URL('../../../test/integration/fixtures/twisted-22.4-log.json-seq', import.meta.url),
);

/** Runs a Python program isolated from the environment (-I: no cwd on the path). */
function python(program: string, args: string[] = []): ReturnType<typeof spawnSync> {
  return spawnSync(PYTHON, ['-I', '-c', program, ...args], { encoding: 'utf8', timeout: 30_000 });
}

const twistedVersion = (() => {
  const probe = python('import twisted; print(twisted.__version__)');
  return probe.status === 0 ? String(probe.stdout).trim() : undefined;
})();
const NO_TWISTED =
  twistedVersion === undefined &&
  `Twisted is not importable by ${PYTHON} (apt-get install python3-twisted)`;

const dir = mkdtempSync(join(tmpdir(), 'torsion-logger-twisted-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function readOurs(path: string): Promise<{ events: LogEvent[]; errors: LogEvent[] }> {
  const logs = captureLogs();
  try {
    const events: LogEvent[] = [];
    for await (const event of eventsFromJSONLogFile([readFileSync(path)])) events.push(event);
    return { events, errors: logs.events.filter((e) => e.log_level === 'error') };
  } finally {
    logs.stop();
  }
}

/** What our reader must make of the events gen.py below logs. */
function assertTwistedEvents(events: LogEvent[]): void {
  assert.deepEqual(
    events.map((e) => [
      e.log_level,
      e.log_namespace,
      formatEventAsClassicLogText({ ...e, log_time: undefined })?.split('\n')[0],
    ]),
    [
      ['info', 'twisted.fixture', '- [twisted.fixture#info] hello world'],
      ['warn', 'twisted.fixture', '- [twisted.fixture#warn] 3 slow queries'],
      ['critical', 'twisted.fixture', '- [twisted.fixture#critical] division went wrong'],
      ['debug', 'twisted.fixture', '- [twisted.fixture#debug] no fields'],
    ],
  );
  const failure = events[2]?.log_failure;
  assert.ok(failure instanceof Failure);
  assert.equal(failure.check('ZeroDivisionError'), 'ZeroDivisionError');
  assert.equal(failure.check('ArithmeticError'), 'ArithmeticError');
  assert.match(failure.getTraceback(), /^ZeroDivisionError: \n {4}at <module> \(.*gen\.py:9\)/);
  assert.equal(typeof events[0]?.log_time, 'number');
}

// Logs the events assertTwistedEvents expects, with Twisted's jsonFileLogObserver.
const GEN = `
# Writes a record-separated JSON log with Twisted's own jsonFileLogObserver.
import sys
from twisted.logger import jsonFileLogObserver, Logger
with open(sys.argv[1], "w") as out:
    log = Logger(namespace="twisted.fixture", observer=jsonFileLogObserver(out))
    log.info("hello {who}", who="world")
    log.warn("{count} slow queries", count=3)
    try:
        1 / 0
    except ZeroDivisionError:
        log.failure("division went wrong")
    log.debug("no fields")
`.replace(/^\n/, '');

describe('JSON logs shared with Twisted', { timeout: 60_000 }, () => {
  test('a file Twisted 22.4 wrote (committed) is read by eventsFromJSONLogFile', async () => {
    const { events, errors } = await readOurs(FIXTURE);
    assert.deepEqual(errors, []);
    assertTwistedEvents(events);
  });

  test('a file the installed Twisted writes now is read by eventsFromJSONLogFile', {
    skip: NO_TWISTED,
  }, async () => {
    const path = join(dir, 'from-twisted.json-seq');
    // gen.py's line numbers: the program is run as -c, so its file is "<string>".
    const child = python(GEN, [path]);
    assert.equal(child.status, 0, String(child.stderr));
    const { events, errors } = await readOurs(path);
    assert.deepEqual(errors, []);
    const failure = events[2]?.log_failure;
    assert.match(failure?.getTraceback() ?? '', /at <module> \(<string>:9\)/);
    assertTwistedEvents(
      events.map((e, i) =>
        i === 2 ? { ...e, log_failure: rename(failure as Failure, 'gen.py') } : e,
      ),
    );
  });

  test('a file we write with recordSeparator \\x1e is read by Twisted’s eventsFromJSONLogFile', {
    skip: NO_TWISTED,
  }, () => {
    const path = join(dir, 'from-torsion.json-seq');
    const written: string[] = [];
    const log = new Logger('torsion.fixture', {
      observer: jsonFileLogObserver(
        { write: (t: string) => written.push(t) },
        { recordSeparator: '\x1e' },
      ),
    });
    log.info('hello {who}', { who: 'world' });
    log.warn('{count} slow queries', { count: 3 });
    log.failure('parsing went wrong', new RangeError('out of range'), { level: 'error' });
    log.debug('bytes {b!r}', { b: Buffer.from([0, 255]) });
    writeFileSync(path, written.join(''));
    const reader = `
import json, sys
from twisted.logger import (
    LogLevel, eventsFromJSONLogFile, formatEventAsClassicLogText, globalLogPublisher)
from twisted.python.failure import Failure
errors = []
globalLogPublisher.addObserver(lambda e: errors.append(e.get("log_format")))
out = []
with open(sys.argv[1]) as f:
    for e in eventsFromJSONLogFile(f):
        failure = e.get("log_failure")
        out.append({
            "level_is_constant": e["log_level"] is getattr(LogLevel, e["log_level"].name),
            "text": formatEventAsClassicLogText(e, formatTime=lambda t: "-"),
            "failure": isinstance(failure, Failure) and failure.getTraceback(),
        })
print(json.dumps({"events": out, "errors": errors}))
`;
    const child = python(reader, [path]);
    assert.equal(child.status, 0, String(child.stderr));
    const { events, errors } = JSON.parse(String(child.stdout)) as {
      events: Array<{ level_is_constant: boolean; text: string; failure: string | false }>;
      errors: string[];
    };
    assert.deepEqual(errors, []);
    assert.deepEqual(
      events.map((e) => [e.level_is_constant, e.text.split('\n')[0]]),
      [
        [true, '- [torsion.fixture#info] hello world'],
        [true, '- [torsion.fixture#warn] 3 slow queries'],
        [true, '- [torsion.fixture#error] parsing went wrong'],
        [true, '- [torsion.fixture#debug] bytes <Buffer 00 ff>'],
      ],
    );
    // Twisted rebuilds the Failure: its traceback names our type, message and frames.
    const traceback = events[2]?.failure;
    assert.equal(typeof traceback, 'string');
    assert.match(traceback as string, /js\.RangeError: out of range/);
    assert.match(traceback as string, /logger-twisted\.test\.js/);
    assert.match(events[2]?.text ?? '', /\tTraceback/);
  });
});

/** The failure with the file name of its frames replaced, to compare with the committed fixture. */
function rename(failure: Failure, file: string): Failure {
  const error = failure.value as Error;
  error.stack = (error.stack ?? '').replaceAll('<string>', file);
  return failure;
}
