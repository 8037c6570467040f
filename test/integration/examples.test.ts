// The example servers run as their documented commands, on loopback, driven
// by plain sockets; each child is stopped by its PID with SIGTERM, which the
// reactor turns into a graceful shutdown.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Starts `examples/<name>.js` with port 0 and resolves with the port it reports. */
async function startExample(name: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [`${examples}${name}.js`, '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      const match = /, (\d+)\)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
  });
  return { child, port };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

/** A socket to 127.0.0.1:port that collects what it receives. */
async function client(
  port: number,
): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  return { socket, received: () => data, closed };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

describe('example servers', { timeout: 30_000 }, () => {
  test('the time server sends the time and closes the connection', async (t) => {
    const { child, port } = await startExample('time-server');
    t.after(() => stop(child));
    const { received, closed } = await client(port);
    await closed;
    const match = /^Hello\. The time is (\d+(\.\d+)?)\r\n$/.exec(received());
    assert.ok(match, received());
    assert.ok(Math.abs(Number(match[1]) - Date.now() / 1000) < 60);
    assert.equal(await stop(child), 0);
  });

  test('the echo server writes back what it receives', async (t) => {
    const { child, port } = await startExample('echo-server');
    t.after(() => stop(child));
    const { socket, received } = await client(port);
    socket.write('hello, echo');
    await until(() => received() === 'hello, echo', 'the echo');
    socket.end();
    assert.equal(await stop(child), 0);
  });

  test('the chat server relays a line from one user to another', async (t) => {
    const { child, port } = await startExample('chat-server');
    t.after(() => stop(child));
    const alice = await client(port);
    const bob = await client(port);
    await until(
      () => alice.received().includes('name') && bob.received().includes('name'),
      'the prompts',
    );
    alice.socket.write('alice\r\n');
    bob.socket.write('bob\r\n');
    await until(() => bob.received().includes('Welcome, bob!'), 'the welcome');
    bob.socket.write('hi alice\r\n');
    await until(() => alice.received().includes('<bob> hi alice\r\n'), 'the relayed line');
    alice.socket.end();
    bob.socket.end();
    assert.equal(await stop(child), 0);
  });
});

describe('the example servers given a bad port or a port in use', () => {
  const run = (name: string, arg: string): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [`${examples}${name}.js`, arg], {
      encoding: 'utf8',
      timeout: 10_000,
    });

  for (const name of ['echo-server', 'chat-server', 'time-server']) {
    test(`${name} says what is wrong and how to call it, in two lines, and exits 2`, () => {
      const result = run(name, 'http');
      assert.equal(result.status, 2);
      assert.equal(
        result.stderr,
        `error: the port must be a number from 0 to 65535, not 'http'\nusage: node dist/examples/${name}.js [port]   (default ${
          { 'echo-server': 8000, 'chat-server': 8123, 'time-server': 1100 }[name]
        })\n`,
      );
      assert.equal(result.stdout, '');
    });
  }

  test('echo-server on a port in use says so in one line', async () => {
    const busy = createServer();
    busy.listen(0, '0.0.0.0');
    await once(busy, 'listening');
    const { port } = busy.address() as AddressInfo;
    try {
      const result = run('echo-server', String(port));
      assert.equal(result.status, 2);
      const [first, second, rest] = String(result.stderr).split('\n');
      assert.equal(first, `error: Couldn't listen on any:${port}: EADDRINUSE.`);
      assert.match(second ?? '', /^usage: node dist\/examples\/echo-server\.js \[port\]/);
      assert.equal(rest, '');
    } finally {
      busy.close();
    }
  });
});
