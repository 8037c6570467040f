// StandardIO on a real process's stdin and stdout: a child program
// (fixtures/stdio-child.ts) is fed through a pipe and read from another.
// Each test waits for the child's output and exit, bounded by the test's
// timeout; a child still running afterwards is killed by its PID.

import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const program = fileURLToPath(new URL('./fixtures/stdio-child.js', import.meta.url));

interface Child {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout contains `text`. */
  waitFor: (text: string) => Promise<void>;
  exited: Promise<number | null>;
}

function start(t: TestContext, mode: string): Child {
  const child = spawn(process.execPath, [program, mode], { stdio: 'pipe' });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    for (const waiter of waiters.splice(0)) {
      if (out.includes(waiter.text)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  child.stderr.on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: (text) =>
      new Promise((resolve, reject) => {
        if (out.includes(text)) resolve();
        else waiters.push({ text, resolve });
        exited.then(() => reject(new Error(`exited before printing ${text}: ${out} ${err}`)));
      }),
    exited,
  };
}

describe('StandardIO on the process stdin and stdout', { timeout: 20_000 }, () => {
  test('answers each line as it comes, and at stdin EOF closes, prints with console.log and exits', async (t) => {
    const { child, stdout, stderr, waitFor, exited } = start(t, 'echo');
    child.stdin.write('hello\n');
    await waitFor('HELLO\n');
    assert.equal(stdout(), 'HELLO\n', 'the answer comes before the input ends');
    child.stdin.end('world\n');
    assert.equal(await exited, 0, stderr());
    assert.equal(
      stdout(),
      'HELLO\nWORLD\nlost ConnectionDone ERR_CONNECTION_DONE\nconsole.log still works\n',
    );
  });

  test('tells a half-closing protocol of stdin EOF, and sends what it writes then', async (t) => {
    const { child, stdout, stderr, exited } = start(t, 'halfclose');
    child.stdin.end('12345\n789\n');
    assert.equal(await exited, 0, stderr());
    assert.equal(
      stdout(),
      'read 10 bytes\nlost ConnectionDone ERR_CONNECTION_DONE\nconsole.log still works\n',
    );
  });

  test("the reactor's shutdown closes the connection, after what was written", async (t) => {
    const { stdout, stderr, exited } = start(t, 'shutdown');
    assert.equal(await exited, 0, stderr());
    assert.equal(
      stdout(),
      'stopping\nlost ConnectionDone ERR_CONNECTION_DONE\nconsole.log still works\n',
    );
  });

  test('a reader that goes away (EPIPE) is logged and ends the connection, not the process', async (t) => {
    const { child, stderr, waitFor, exited } = start(t, 'flood');
    await waitFor('line 3\n');
    child.stdout.destroy();
    assert.equal(await exited, 0, stderr());
    assert.match(stderr(), /standard output failed \(EPIPE\)/);
    assert.match(stderr(), /lost ConnectionLost ERR_CONNECTION_LOST\n/);
  });
});
