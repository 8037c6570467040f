// The global log publisher's fallback, seen from a child process so that
// this process's standard error is left alone.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('globalLogPublisher', { timeout: 10_000 }, () => {
  test('with no observer, writes warnings and worse to standard error and drops the rest', () => {
    const script = [
      "import { Logger } from 'torsion/logger';",
      "const log = new Logger('probe');",
      "log.debug('quiet debug');",
      "log.info('quiet info');",
      "log.warn('loud {what}', { what: 'warn' });",
      "log.error('loud error');",
      "log.critical('loud critical');",
    ].join('\n');
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, '');
    const lines = child.stderr.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => line.replace(/^\S+ /, '')),
      ['[probe#warn] loud warn', '[probe#error] loud error', '[probe#critical] loud critical'],
    );
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
  });
});
