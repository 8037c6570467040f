// The `torsion` binary's life as a server, as a child process on loopback:
// SIGTERM while a large download is in flight (the download completes, the
// process exits 0), `--workers 2` serving from two PIDs and surviving the
// kill of one worker, and the finger tutorial's applications (stages 11 and
// 18) run by `torsion run` and queried over real sockets. Children are
// stopped by their PIDs; waits are for output, responses and exits.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { finger } from '../../../examples/finger/finger-client.js';
import { type ExampleProcess, runExample, stopExample } from '../../helpers/example-process.js';
import { harness, waitFor } from '../../helpers/sockets.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = `${root}bin/torsion.js`;
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const examples = fileURLToPath(new URL('../../../examples/finger/', import.meta.url));
const LOOPBACK = 'tcp:0:interface=127.0.0.1';

function torsion(t: TestContext, args: string[]): ExampleProcess {
  return runExample(t, bin, args);
}

/** Resolves with the first match of `pattern` in the child's standard output. */
function output(child: ExampleProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  const found = new Promise<RegExpExecArray>((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(child.stdout());
      if (match === null) return;
      child.process.stdout?.off('data', check);
      resolve(match);
    };
    child.process.stdout?.on('data', check);
    check();
    void child.closed.then(() =>
      reject(new Error(`exited before ${what}: ${child.stdout()}${child.stderr()}`)),
    );
  });
  return waitFor(found, what, 15);
}

async function portOf(child: ExampleProcess, service: string): Promise<number> {
  const match = await output(
    child,
    new RegExp(`"${service}" listening on 127\\.0\\.0\\.1:(\\d+)`),
    `${service} listening`,
  );
  return Number(match[1]);
}

function text(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('the torsion command as a server', { timeout: 90_000 }, () => {
  test('SIGTERM during a large download: the download completes, exit 0', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const size = 32 << 20;
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(size, 'b'));
    const child = torsion(t, ['web', '--listen', LOOPBACK, '--path', dir]);
    const port = await portOf(child, 'web');
    let received = 0;
    let signalled = false;
    const done = new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/big.bin' }, (response) => {
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (!signalled) {
            // The first bytes are here: the rest is in flight when the signal arrives.
            signalled = true;
            response.pause();
            process.kill(child.process.pid as number, 'SIGTERM');
            void output(child, /Received SIGTERM/, 'the signal').then(() => response.resume());
          }
        });
        response.on('end', () => resolve(received));
        response.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(await waitFor(done, 'the whole download', 30), size);
    await waitFor(child.closed, 'the exit', 15);
    assert.equal(child.process.exitCode, 0, child.stderr());
  });

  test('--workers 2: two PIDs serve; a killed worker is replaced; SIGTERM drains both', async (t) => {
    const child = torsion(t, [
      '--workers',
      '2',
      'run',
      `${fixtures}pid-app.js`,
      '--listen',
      LOOPBACK,
    ]);
    const port = await portOf(child, 'pid');
    await output(child, /All 2 workers are serving/, 'both workers');
    const pids = new Set<string>();
    for (let i = 0; i < 200 && pids.size < 2; i++) pids.add(await text(port, '/'));
    assert.equal(pids.size, 2, [...pids].join(', '));
    const victim = Number(/\d+/.exec([...pids][0] ?? '')?.[0]);
    process.kill(victim, 'SIGKILL');
    await output(
      child,
      new RegExp(`Worker ${victim} was killed by SIGKILL; restarting`),
      'restart',
    );
    await output(child, /(?:Worker \d+ is serving\.[\s\S]*){3}/, 'the replacement');
    const after = new Set<string>();
    for (let i = 0; i < 200 && after.size < 2; i++) after.add(await text(port, '/'));
    assert.equal(after.size, 2);
    assert.ok(!after.has(`pid ${victim}\n`));
    assert.equal(await stopExample(child.process), 0);
    assert.equal((child.stdout().match(/Worker \d+ exited with status 0/g) ?? []).length, 2);
  });

  test('finger stage 11, run by torsion run, answers the finger client', async (t) => {
    const child = torsion(t, ['run', `${examples}finger11.js`, '--endpoint', LOOPBACK]);
    const match = await output(child, /listening on 127\.0\.0\.1:(\d+)/, 'the finger port');
    const { reactor } = harness(t);
    const reply = await waitFor(finger(reactor, 'moshez', '127.0.0.1', Number(match[1])), 'reply');
    assert.equal(reply.toString(), 'Happy and well\r\n');
    assert.equal(await stopExample(child.process), 0);
  });

  test('finger stage 18, run by torsion run: finger and the web share one service', async (t) => {
    const child = torsion(t, [
      'run',
      `${examples}finger18.js`,
      '--finger',
      LOOPBACK,
      '--setter',
      LOOPBACK,
      '--web',
      LOOPBACK,
      '--users',
      `${root}examples/finger/etc.users`,
    ]);
    const fingerPort = await portOf(child, 'finger');
    const webPort = await portOf(child, 'web');
    const { reactor } = harness(t);
    // The users file's status, through both front ends of the one service.
    const reply = await waitFor(finger(reactor, 'moshez', '127.0.0.1', fingerPort), 'reply');
    assert.equal(reply.toString(), 'happy and well\r\n');
    assert.match(await text(webPort, '/moshez'), /happy and well/);
    assert.equal(await stopExample(child.process), 0);
  });
});
