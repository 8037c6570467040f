// The chat client example (examples/chat-client.ts) run as its documented
// command against the chat server example, both child processes on
// loopback: lines typed on its stdin reach another user, lines from the
// server are printed, and /quit, the end of input or the server hanging up
// end it. Each test waits for output and exits, bounded by the timeout;
// children still running afterwards are killed by their PIDs.

import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const USAGE =
  'usage: node dist/examples/chat-client.js [host] [port]   (defaults 127.0.0.1 and 8123)\n';

/** Text that arrives on a stream, and a way to wait for some of it. */
class Collected {
  text = '';
  readonly #waiters: Array<{ expected: string; resolve: () => void }> = [];

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.text += chunk;
      for (const waiter of this.#waiters.splice(0)) {
        if (this.text.includes(waiter.expected)) waiter.resolve();
        else this.#waiters.push(waiter);
      }
    });
  }

  /** Resolves once `expected` has arrived (the test's timeout bounds the wait). */
  waitFor(expected: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.text.includes(expected)) resolve();
      else this.#waiters.push({ expected, resolve });
    });
  }
}

interface Program {
  child: ChildProcessWithoutNullStreams;
  stdout: Collected;
  stderr: Collected;
  exited: Promise<number | null>;
}

function run(t: TestContext, name: string, args: string[]): Program {
  const child = spawn(process.execPath, [`${examples}${name}.js`, ...args], { stdio: 'pipe' });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    stdout: new Collected(child.stdout),
    stderr: new Collected(child.stderr),
    exited: once(child, 'exit').then(([code]) => code as number | null),
  };
}

/** Starts the chat server on a free loopback port and gives the port. */
async function startServer(t: TestContext): Promise<{ server: Program; port: number }> {
  const server = run(t, 'chat-server', ['0']);
  await server.stdout.waitFor(')\n');
  const match = /, (\d+)\)/.exec(server.stdout.text);
  assert.ok(match, server.stdout.text);
  return { server, port: Number(match[1]) };
}

/** A raw connection to the chat server, as another user. */
async function user(port: number): Promise<{ socket: Socket; received: Collected }> {
  const socket = connect(port, '127.0.0.1');
  const received = new Collected(socket);
  await once(socket, 'connect');
  return { socket, received };
}

describe('the chat client example', { timeout: 30_000 }, () => {
  test('sends what is typed, prints what others say, and /quit ends it', async (t) => {
    const { server, port } = await startServer(t);
    const alice = run(t, 'chat-client', ['127.0.0.1', String(port)]);
    await alice.stdout.waitFor("What's your name?\n");
    alice.child.stdin.write('alice\n');
    await alice.stdout.waitFor('Welcome, alice!\n');

    const bob = await user(port);
    await bob.received.waitFor("What's your name?\r\n");
    bob.socket.write('bob\r\n');
    await bob.received.waitFor('Welcome, bob!\r\n');
    bob.socket.write('hi alice\r\n');
    await alice.stdout.waitFor('<bob> hi alice\n');
    alice.child.stdin.write('hello bob\n');
    await bob.received.waitFor('<alice> hello bob\r\n');

    alice.child.stdin.write('/quit\n');
    assert.equal(await alice.exited, 0, alice.stderr.text);
    assert.equal(
      alice.stdout.text,
      "What's your name?\nWelcome, alice!\n<bob> hi alice\n",
      'server lines are printed with LF, nothing else',
    );
    assert.equal(alice.stderr.text, '');
    assert.ok(!bob.received.text.includes('/quit'), '/quit is not sent');
    bob.socket.end();
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });

  test('the end of its input hangs up and exits', async (t) => {
    const { server, port } = await startServer(t);
    const client = run(t, 'chat-client', ['127.0.0.1', String(port)]);
    await client.stdout.waitFor("What's your name?\n");
    client.child.stdin.end();
    assert.equal(await client.exited, 0, client.stderr.text);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });

  test('the server hanging up ends it', async (t) => {
    const { server, port } = await startServer(t);
    const client = run(t, 'chat-client', ['127.0.0.1', String(port)]);
    await client.stdout.waitFor("What's your name?\n");
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.equal(await client.exited, 0, client.stderr.text);
  });

  test('a refused connection is one line of error and the usage, with status 1', async (t) => {
    // A port that was free a moment ago: nothing listens there now.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, 'close');
    const client = run(t, 'chat-client', ['127.0.0.1', String(port)]);
    client.child.stdin.end();
    assert.equal(await client.exited, 1);
    assert.match(client.stderr.text, /^error: Connection was refused[^\n]*\n/);
    assert.ok(client.stderr.text.endsWith(USAGE), client.stderr.text);
    assert.equal(client.stderr.text.split('\n').length, 3, 'two lines');
  });

  for (const args of [
    ['127.0.0.1', 'http'],
    ['127.0.0.1', '8123', 'extra'],
  ]) {
    test(`bad arguments (${args.join(' ')}) say what is wrong and how to call it, with status 2`, () => {
      const result = spawnSync(process.execPath, [`${examples}chat-client.js`, ...args], {
        encoding: 'utf8',
        timeout: 10_000,
        input: '',
      });
      assert.equal(result.status, 2);
      const problem =
        args[1] === 'http'
          ? "the port must be a number from 0 to 65535, not 'http'"
          : "unexpected argument 'extra'";
      assert.equal(result.stderr, `error: ${problem}\n${USAGE}`);
      assert.equal(result.stdout, '');
    });
  }
});
