// RulesWatcher without watching (the reload path, deterministic): loading,
// reloading a changed, unchanged, invalid or missing file, the callbacks
// and what is logged. The fs.watch path is in
// test/integration/web/proxy-rules-watcher.test.ts.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Clock } from '../../../../src/internet/task/clock.js';
import { captureLogs } from '../../../../src/logger/capture.js';
import { formatEvent } from '../../../../src/logger/format.js';
import { Logger } from '../../../../src/logger/logger.js';
import { type Rules, RulesError } from '../../../../src/web/proxy/rules.js';
import { RulesWatcher } from '../../../../src/web/proxy/rules-watcher.js';

/** A temporary rules file holding `text`, removed after the test. */
function tempRules(t: { after(f: () => void): void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-rules-watcher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'proxy.rules');
  writeFileSync(path, text);
  return path;
}

/** A watcher of `path` that does not watch, with recorded callbacks. */
function unwatched(path: string, clock = new Clock()) {
  const changes: Rules[] = [];
  const errors: RulesError[] = [];
  const watcher = new RulesWatcher(path, {
    clock,
    watch: false,
    onChange: (r) => changes.push(r),
    onError: (e) => errors.push(e),
  });
  return { watcher, changes, errors, clock };
}

describe('RulesWatcher', () => {
  test('loads the file at construction, stamped with the clock', (t) => {
    const path = tempRules(t, 'block a.com\n');
    const clock = new Clock();
    clock.advance(10);
    const { watcher } = unwatched(path, clock);
    assert.equal(watcher.path, path);
    assert.equal(watcher.rules.source, path);
    assert.equal(watcher.rules.loadedAt, 10);
    assert.equal(watcher.rules.match({ host: 'a.com', port: 80, path: '/' }).blocked, true);
    watcher.stop();
  });

  test('a bad or missing file at construction throws RulesError', (t) => {
    const path = tempRules(t, 'blok a.com\n');
    assert.throws(() => unwatched(path), {
      name: 'RulesError',
      message: `${path}: 1 bad line\n  ${path}:1: unknown action "blok"`,
    });
    assert.throws(() => unwatched(`${path}.missing`), {
      name: 'RulesError',
      message: `cannot read the rules file ${path}.missing: no such file`,
    });
  });

  test('reload puts a changed good file in force and calls onChange', (t) => {
    const path = tempRules(t, 'block a.com\n');
    const { watcher, changes, errors, clock } = unwatched(path);
    const before = watcher.rules;
    writeFileSync(path, 'block b.com\n');
    clock.advance(5);
    const logs = captureLogs();
    try {
      assert.equal(watcher.reload(), true);
    } finally {
      logs.stop();
    }
    assert.notEqual(watcher.rules, before);
    assert.equal(watcher.rules.loadedAt, 5);
    assert.equal(watcher.rules.match({ host: 'b.com', port: 80, path: '/' }).blocked, true);
    assert.deepEqual(changes, [watcher.rules]);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      logs.events.map((e) => [e.log_level, formatEvent(e)]),
      [['info', `${path}: 1 rules loaded.`]],
    );
  });

  test('reload of an unchanged file keeps the rules object and calls nothing', (t) => {
    const path = tempRules(t, 'block a.com\n');
    const { watcher, changes, errors } = unwatched(path);
    const before = watcher.rules;
    const logs = captureLogs();
    try {
      assert.equal(watcher.reload(), true);
    } finally {
      logs.stop();
    }
    assert.equal(watcher.rules, before);
    assert.deepEqual([changes, errors], [[], []]);
    assert.match(formatEvent(logs.events[0] ?? {}), /is unchanged/);
  });

  test('an invalid new file leaves the old rules in force, logging every bad line', (t) => {
    const path = tempRules(t, 'block a.com\n');
    const { watcher, changes, errors } = unwatched(path);
    const before = watcher.rules;
    writeFileSync(path, 'block b.com\nblok c.com\nblock d..com\n');
    const logs = captureLogs();
    try {
      assert.equal(watcher.reload(), false);
    } finally {
      logs.stop();
    }
    assert.equal(watcher.rules, before);
    assert.deepEqual(changes, []);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof RulesError);
    assert.deepEqual(
      errors[0].problems.map((p) => p.line),
      [2, 3],
    );
    assert.equal(logs.events.length, 1);
    assert.equal(logs.events[0]?.log_level, 'warn');
    const text = formatEvent(logs.events[0] ?? {});
    assert.match(text, new RegExp(`${path}:2: unknown action "blok"`));
    assert.match(text, new RegExp(`${path}:3: bad pattern "d\\.\\.com": empty label`));
    assert.match(text, /stay in force/);
    // A later good version is taken.
    writeFileSync(path, 'block e.com\n');
    assert.equal(watcher.reload(), true);
    assert.equal(watcher.rules.match({ host: 'e.com', port: 80, path: '/' }).blocked, true);
  });

  test('a file that has gone leaves the old rules in force and reports why', (t) => {
    const path = tempRules(t, 'block a.com\n');
    const { watcher, errors } = unwatched(path);
    unlinkSync(path);
    const logs = captureLogs();
    try {
      assert.equal(watcher.reload(), false);
    } finally {
      logs.stop();
    }
    assert.equal(watcher.rules.match({ host: 'a.com', port: 80, path: '/' }).blocked, true);
    assert.equal(errors[0]?.message, `cannot read the rules file ${path}: no such file`);
    assert.match(formatEvent(logs.events[0] ?? {}), /no such file/);
  });

  test('callbacks that throw are logged, and the reload still counts', (t) => {
    const path = tempRules(t, 'block a.com\n');
    const watcher = new RulesWatcher(path, {
      clock: new Clock(),
      watch: false,
      onChange: () => {
        throw new Error('change callback broke');
      },
      onError: () => {
        throw new Error('error callback broke');
      },
    });
    const logs = captureLogs();
    try {
      writeFileSync(path, 'block b.com\n');
      assert.equal(watcher.reload(), true);
      writeFileSync(path, 'bad\n');
      assert.equal(watcher.reload(), false);
    } finally {
      logs.stop();
    }
    const failures = logs.events.filter((e) => e.log_level === 'critical' || e.log_failure);
    assert.equal(failures.length, 2);
    assert.match(formatEvent(failures[0] ?? {}), /onChange callback failed/);
    assert.match(formatEvent(failures[1] ?? {}), /onError callback failed/);
  });

  test('a logger given in the options receives the messages', (t) => {
    const path = tempRules(t, 'block a.com\n');
    const events: string[] = [];
    const logger = new Logger('test.rules', { observer: (e) => events.push(formatEvent(e)) });
    const watcher = new RulesWatcher(path, { clock: new Clock(), watch: false, logger });
    writeFileSync(path, 'block b.com\n');
    watcher.reload();
    assert.deepEqual(events, [`${path}: 1 rules loaded.`]);
  });

  test('a negative debounce is a RangeError', (t) => {
    const path = tempRules(t, '');
    assert.throws(() => new RulesWatcher(path, { clock: new Clock(), debounce: -1 }), RangeError);
  });

  test('stop can be called more than once', (t) => {
    const path = tempRules(t, '');
    const { watcher } = unwatched(path);
    watcher.stop();
    watcher.stop();
    assert.equal(watcher.rules.rules.length, 0);
  });
});
