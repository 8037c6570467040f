// examples/udp-echo.ts as its documented command: it says where it
// listens, echoes a datagram from a plain node:dgram socket, stops with
// status 0 on SIGTERM (by its PID), and turns a bad port or a port in use
// into one line and the usage, with status 2.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../examples/udp-echo.js', import.meta.url));
const USAGE = 'usage: node dist/examples/udp-echo.js [port]   (default 8000)';

async function start(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [script, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout?.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`udp-echo did not start: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      const match = /^UDP echo server on IPv4Address\(UDP, '0\.0\.0\.0', (\d+)\)$/m.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`udp-echo exited with ${code}: ${output}`));
    });
  });
  return { child, port };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('examples/udp-echo', { timeout: 30_000 }, () => {
  test('echoes a datagram and stops cleanly on SIGTERM', async (t) => {
    const { child, port } = await start();
    t.after(() => stop(child));
    const socket = createSocket('udp4');
    t.after(() => socket.close());
    const reply = once(socket, 'message');
    socket.send('hello, udp', port, '127.0.0.1');
    const [message] = (await reply) as [Buffer];
    assert.equal(message.toString(), 'hello, udp');
    assert.equal(await stop(child), 0);
  });

  test('a bad port: the reason and the usage, status 2', () => {
    const result = spawnSync(process.execPath, [script, 'dns'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 2);
    assert.equal(
      result.stderr,
      `error: the port must be a number from 0 to 65535, not 'dns'\n${USAGE}\n`,
    );
    assert.equal(result.stdout, '');
  });

  test('a port in use: the reason in one line, status 2', async () => {
    const busy = createSocket('udp4');
    busy.bind(0, '0.0.0.0');
    await once(busy, 'listening');
    try {
      const result = spawnSync(process.execPath, [script, String(busy.address().port)], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      assert.equal(result.status, 2);
      assert.equal(
        result.stderr,
        `error: Couldn't listen on any:${busy.address().port}: EADDRINUSE.\n${USAGE}\n`,
      );
    } finally {
      busy.close();
    }
  });
});
