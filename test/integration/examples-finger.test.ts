// Stages of the finger tutorial run as their documented commands on
// loopback (port 0), queried with the tutorial's finger client over real
// sockets. Each child is stopped by its PID with SIGTERM, which the reactor
// turns into a graceful shutdown, within a bounded time.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConnectionRefusedError } from 'torsion/protocol';
import { finger } from '../../examples/finger/finger-client.js';
import {
  type ExampleProcess,
  portsOf,
  runExample,
  stopExample,
} from '../helpers/example-process.js';
import { harness, sleep, waitFor } from '../helpers/sockets.js';

const examples = fileURLToPath(new URL('../../examples/finger/', import.meta.url));
const LOOPBACK = 'tcp:0:interface=127.0.0.1';

/** Runs `${examples}<name>.js` with `args`; the child is stopped when the test ends. */
function run(t: TestContext, name: string, args: string[]): ExampleProcess {
  return runExample(t, `${examples}${name}.js`, args);
}

const stop = stopExample;

/** Resolves with the exit code of a child that ends by itself, once all its output is read. */
async function finished(child: ExampleProcess): Promise<number | null> {
  await waitFor(child.closed, 'the client to exit', 10);
  return child.process.exitCode;
}

/** A loopback port number that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

describe('finger tutorial stages as commands', { timeout: 60_000 }, () => {
  test('stage 8 answers the finger client over loopback, and exits 0 on SIGTERM', async (t) => {
    const server = run(t, 'finger08', [LOOPBACK]);
    const [port] = await portsOf(server, ['finger server']);
    const { reactor } = harness(t);
    const found = await waitFor(finger(reactor, 'moshez', '127.0.0.1', port), 'the reply');
    assert.equal(found.toString(), 'Happy and well\r\n');
    const missing = await waitFor(finger(reactor, 'alice', '127.0.0.1', port), 'the reply');
    assert.equal(missing.toString(), 'No such user\r\n');
    assert.equal(await stop(server.process), 0);
  });

  test('stage 5 says "No such user" to the finger client', async (t) => {
    const server = run(t, 'finger05', [LOOPBACK]);
    const [port] = await portsOf(server, ['finger server']);
    const { reactor } = harness(t);
    const reply = await waitFor(finger(reactor, 'moshez', '127.0.0.1', port), 'the reply');
    assert.equal(reply.toString(), 'No such user\r\n');
    assert.equal(await stop(server.process), 0);
  });

  test('stage 13 answers with the status set on its setter port', async (t) => {
    const server = run(t, 'finger13', [LOOPBACK, LOOPBACK]);
    const [fingerPort, setterPort] = await portsOf(server, ['finger server', 'finger setter']);
    assert.ok(fingerPort !== undefined && setterPort !== undefined);
    const setter = connect(setterPort, '127.0.0.1');
    await once(setter, 'connect');
    setter.end('moshez\r\nGiving a tutorial now, sorry!\r\n');
    await once(setter, 'close');
    const { reactor } = harness(t);
    // The server sets the status when it sees the hang-up, which may come
    // after our side has closed: ask until the answer changes (bounded).
    let reply = '';
    for (let i = 0; i < 100; i++) {
      reply = (
        await waitFor(finger(reactor, 'moshez', '127.0.0.1', fingerPort), 'the reply')
      ).toString();
      if (reply !== 'Happy and well\r\n') break;
      await sleep(0.02);
    }
    assert.equal(reply, 'Giving a tutorial now, sorry!\r\n');
    assert.equal(await stop(server.process), 0);
  });

  test('stage 14 serves the users file named on its command line', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-finger-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const usersFile = join(dir, 'users');
    writeFileSync(usersFile, 'moshez: happy and well\nshawn: alive\n');
    const server = run(t, 'finger14', [LOOPBACK, usersFile]);
    const [port] = await portsOf(server, ['finger server']);
    const { reactor } = harness(t);
    const reply = await waitFor(finger(reactor, 'shawn', '127.0.0.1', port), 'the reply');
    assert.equal(reply.toString(), 'alive\r\n');
    assert.equal(await stop(server.process), 0);
  });

  test('the client command prints the reply of a stage 7 server and exits 0', async (t) => {
    const server = run(t, 'finger07', [LOOPBACK]);
    const [port] = await portsOf(server, ['finger server']);
    const client = run(t, 'finger-client', ['moshez', '127.0.0.1', String(port)]);
    assert.equal(await finished(client), 0);
    assert.equal(client.stdout(), 'Happy and well\r\n');
    assert.equal(await stop(server.process), 0);
  });

  test('the finger client fails with ConnectionRefusedError where nothing listens', async (t) => {
    const port = await closedPort();
    const { reactor } = harness(t);
    const d = finger(reactor, 'moshez', '127.0.0.1', port);
    await assert.rejects(waitFor(d, 'the failure'), ConnectionRefusedError);
  });

  test('the client command exits 1 when the connection is refused', async (t) => {
    const port = await closedPort();
    const client = run(t, 'finger-client', ['moshez', '127.0.0.1', String(port)]);
    assert.equal(await finished(client), 1);
    assert.equal(client.stdout(), '');
    assert.equal(
      client.stderr(),
      `error: Connection was refused by other side: ECONNREFUSED: 127.0.0.1:${port}.\n`,
    );
  });
});

describe('finger commands given bad arguments or a port in use', () => {
  const runSync = (name: string, args: string[]): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [`${examples}${name}.js`, ...args], {
      encoding: 'utf8',
      timeout: 10_000,
    });

  for (const stage of ['finger02', 'finger08', 'finger14']) {
    test(`${stage} says what is wrong with its endpoint and how to call it, and exits 2`, () => {
      const result = runSync(stage, ['tcp:99999']);
      assert.equal(result.status, 2);
      const [first, second, rest] = String(result.stderr).split('\n');
      assert.equal(
        first,
        "error: bad endpoint description 'tcp:99999': segment '99999': port must be an integer from 0 to 65535, got '99999'",
      );
      assert.match(
        second ?? '',
        new RegExp(`^usage: node dist/examples/finger/${stage}\\.js \\[endpoint\\]`),
      );
      assert.equal(rest, '');
      assert.equal(result.stdout, '');
    });
  }

  test('stage 13 on a port in use says so in one line and exits 2', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const { port } = busy.address() as AddressInfo;
    try {
      const result = runSync('finger13', [`tcp:${port}:interface=127.0.0.1`, LOOPBACK]);
      assert.equal(result.status, 2);
      const [first, second, rest] = String(result.stderr).split('\n');
      assert.match(first ?? '', new RegExp(`^error: .*127\\.0\\.0\\.1:${port}: EADDRINUSE`));
      assert.match(
        second ?? '',
        /^usage: node dist\/examples\/finger\/finger13\.js \[finger endpoint\] \[setter endpoint\]/,
      );
      assert.equal(rest, '');
    } finally {
      busy.close();
    }
  });

  test('the client command given a bad port says so with its usage and exits 2', () => {
    const result = runSync('finger-client', ['moshez', '127.0.0.1', 'finger']);
    assert.equal(result.status, 2);
    assert.equal(
      result.stderr,
      "error: the port must be a number from 0 to 65535, not 'finger'\n" +
        'usage: node dist/examples/finger/finger-client.js [user] [host] [port]   (defaults 127.0.0.1, 1079)\n',
    );
  });
});
