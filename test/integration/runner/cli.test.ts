// The `torsion` binary as a child process (`node bin/torsion.js …`): its
// help, version and usage errors, and its plugins serving on loopback (port
// 0, learned from the "listening on" log line), stopped by SIGTERM. Every
// child is stopped by its PID when its test ends; waits are for output and
// exits, bounded.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../helpers/sockets.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = `${root}bin/torsion.js`;
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string })
  .version;

/** Runs the binary to its exit (bounded), with `cwd` the repository unless given. */
async function torsion(args: string[], cwd = root) {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  try {
    const [code] = (await waitFor(once(child, 'close'), `torsion ${args.join(' ')}`, 20)) as [
      number | null,
    ];
    return { code, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe('the torsion command: help, version, usage errors', { timeout: 60_000 }, () => {
  test('--help prints the usage with the global options and the plugins, exit 0', async () => {
    const result = await torsion(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^Usage: torsion \[global options\] <plugin> \[plugin options\]/);
    for (const option of [
      '--log-level',
      '--log-format',
      '--log-file',
      '--workers',
      '--pid-file',
      '--shutdown-timeout',
    ]) {
      assert.ok(result.stdout.includes(option), option);
    }
    for (const plugin of ['echo', 'finger', 'run', 'time', 'web']) {
      assert.match(result.stdout, new RegExp(`^  ${plugin} `, 'm'));
    }
  });

  test('web --help prints the web plugin’s options, exit 0', async () => {
    const result = await torsion(['web', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--listen ENDPOINT/);
    assert.match(result.stdout, /--\[no-\]listing/);
  });

  test('--version prints the package version, exit 0', async () => {
    const result = await torsion(['--version']);
    assert.deepEqual(result, { code: 0, stdout: `torsion ${version}\n`, stderr: '' });
  });

  test('an unknown option: exit 2, one line on standard error with the valid options', async () => {
    const result = await torsion(['--frobnicate', 'web']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'torsion: unknown option --frobnicate; valid options: --log-level, --log-format, --log-file, ' +
        '--workers, --pid-file, --shutdown-timeout, --help, --version (see torsion --help)\n',
    );
  });

  test('an unknown plugin: exit 2, one line', async () => {
    const result = await torsion(['gopher']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^torsion: unknown plugin gopher; available: echo, finger, run, time, web \(see torsion --help\)\n$/,
    );
  });
});
