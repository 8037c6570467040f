// react with the default reactor, in child processes: the exit status is the
// process's, and a signal stops the reactor. Also cooperate and coiterate,
// whose module-wide cooperator loads the global reactor at its first step.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const program = fileURLToPath(new URL('./fixtures/react-main.js', import.meta.url));

function runProgram(mode: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [program, mode], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('react', { timeout: 60_000 }, () => {
  test('runs main with the default reactor, running, and exits with status 0', () => {
    const { status, stdout } = runProgram('succeed');
    assert.equal(stdout, 'NodeReactor true hello\n');
    assert.equal(status, 0);
  });

  test('logs the failure of main and exits with status 1', () => {
    const { status, stderr } = runProgram('fail');
    assert.match(stderr, /main function encountered error/);
    assert.match(stderr, /boom/);
    assert.equal(status, 1);
  });

  test('exits with the exit code of a SystemExit', () => {
    const { status, stderr } = runProgram('exit');
    assert.equal(stderr, '');
    assert.equal(status, 23);
  });

  test('runs cooperate and coiterate tasks on the default reactor', () => {
    const { status, stdout, stderr } = runProgram('cooperate');
    assert.equal(stderr, '');
    assert.equal(stdout, '0,1,2,0,1,2\n');
    assert.equal(status, 0);
  });

  test('runs a coiterate task without react, loading the default reactor at the first step', () => {
    const { status, stdout, stderr } = runProgram('coiterate-alone');
    assert.equal(stderr, '');
    assert.equal(stdout, '0,1,2\n');
    assert.equal(status, 0);
  });

  test('exits with status 130 when SIGINT stops the reactor', async () => {
    const child = spawn(process.execPath, [program, 'wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('running\n')) child.kill('SIGINT');
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
    clearTimeout(killer);
    assert.equal(signal, null);
    assert.equal(code, 130);
  });
});
