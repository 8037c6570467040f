// Running out of file descriptors while listening: connections that arrive
// then are accepted and closed at once by libuv, and Node says nothing; the
// listening port logs a warning once for the whole shortage (not once per
// connection), a line when descriptors are free again, and serves again.
// The server is a child process under `ulimit -n 64` (test/integration/
// fixtures/listen-emfile-child.ts); the clients are here, on loopback.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/sockets.js';

const CHILD = fileURLToPath(new URL('./fixtures/listen-emfile-child.js', import.meta.url));
const SUITE = { timeout: 60_000, skip: process.platform === 'win32' && 'needs ulimit' };

/** What a client connecting to `port` receives before its connection closes. */
async function receive(port: number): Promise<string> {
  const socket = netConnect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  // A refused connection may end with a reset.
  socket.on('error', () => {});
  await waitFor(once(socket, 'close'), 'a client connection to close');
  return Buffer.concat(chunks).toString();
}

describe('a listening port out of file descriptors', SUITE, () => {
  test('logs one warning for the shortage, one line when it ends, and serves again', async (t) => {
    const child = spawn('bash', ['-c', 'ulimit -n 64 && exec "$0" "$@"', process.execPath, CHILD], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await waitFor(exited, 'the server process to exit');
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const lines: string[] = [];
    const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      for (const w of waiting.splice(0)) {
        if (w.pattern.test(line)) w.resolve(line);
        else waiting.push(w);
      }
    });
    /** The first line (already printed or to come) matching `pattern`. */
    const line = (pattern: RegExp, what: string): Promise<string> => {
      const seen = lines.find((l) => pattern.test(l));
      const next =
        seen === undefined
          ? new Promise<string>((resolve) => waiting.push({ pattern, resolve }))
          : Promise.resolve(seen);
      return waitFor(next, `${what} (stderr: ${stderr || 'empty'})`);
    };

    const port = Number((await line(/^PORT \d+$/, 'the port')).slice(5));
    assert.equal(await receive(port), 'hello', 'served before the shortage');
    await line(/^LOST$/, 'the server to close its side of that connection');

    child.stdin.write('fill\n');
    await line(/^FILLED \d+$/, 'the descriptors to run out');
    const burst = async (): Promise<void> => {
      const received = await Promise.all(Array.from({ length: 10 }, () => receive(port)));
      assert.deepEqual(received, Array(10).fill(''), 'refused connections are closed unserved');
    };
    await burst();
    const warning = await line(/^LOG warn Out of file descriptors/, 'the warning');
    assert.match(
      warning,
      /\(EMFILE\): connections to <TCPPort IPv4Address\(TCP, '127\.0\.0\.1', \d+\)>/,
    );
    await burst();

    child.stdin.write('free\n');
    await line(/^FREED$/, 'the descriptors to be freed');
    await line(
      /^LOG info File descriptors available again after about [\d.]+s/,
      'the end of the shortage',
    );
    assert.equal(await receive(port), 'hello', 'served after the shortage');

    const warnings = lines.filter((l) => l.startsWith('LOG warn'));
    assert.equal(warnings.length, 1, `one warning for the whole shortage:\n${lines.join('\n')}`);
    child.stdin.write('exit\n');
    const [code] = await waitFor(exited, 'the server process to exit');
    assert.equal(code, 0, stderr);
  });
});
