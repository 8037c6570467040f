// runApp as a program: test/integration/fixtures/run-app-child.ts run as a
// child process on loopback (port 0), its port read from its log, then
// stopped by its PID. Covers the start (one line per listening port), a
// port in use (status 1, the reason on one line), a maker that throws,
// SIGTERM with a request in flight, the log formats and file (with SIGUSR1
// reopening it), the PID file, and --workers: two PIDs serving, a killed
// worker restarted, all drained on SIGTERM.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, watch } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ExampleProcess, runExample, stopExample } from '../../helpers/example-process.js';
import { waitFor } from '../../helpers/sockets.js';

const child = fileURLToPath(new URL('../fixtures/run-app-child.js', import.meta.url));

function run(t: TestContext, options: object): ExampleProcess {
  return runExample(t, child, [JSON.stringify(options)]);
}

/** Resolves once `text()` matches `pattern` (checked on each chunk of output), with the match. */
function waitForOutput(
  proc: ExampleProcess,
  text: () => string,
  pattern: RegExp,
  what: string,
): Promise<RegExpExecArray> {
  const found = new Promise<RegExpExecArray>((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(text());
      if (match === null) return;
      proc.process.stdout?.off('data', check);
      proc.process.stderr?.off('data', check);
      resolve(match);
    };
    proc.process.stdout?.on('data', check);
    proc.process.stderr?.on('data', check);
    check();
    void proc.closed.then(() => {
      check();
      reject(new Error(`exited before ${what}: ${proc.stdout()}${proc.stderr()}`));
    });
  });
  return waitFor(found, what, 15);
}

async function portOf(proc: ExampleProcess): Promise<number> {
  const match = await waitForOutput(
    proc,
    proc.stdout,
    /listening on 127\.0\.0\.1:(\d+)/,
    'the listening line',
  );
  return Number(match[1]);
}

async function exitOf(proc: ExampleProcess): Promise<number | null> {
  await waitFor(proc.closed, 'the program to exit', 20);
  return proc.process.exitCode;
}

/** GET `path` on a fresh connection; the body, once complete. */
function get(
  port: number,
  path: string,
  onHead?: () => void,
): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body === '') onHead?.();
        body += chunk;
      });
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body,
          connection: response.headers.connection,
        }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-run-app-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('runApp as a program', { timeout: 90_000 }, () => {
  test('serves, says where it listens, and exits 0 on SIGTERM', async (t) => {
    const proc = run(t, { shutdownTimeout: 5 });
    const port = await portOf(proc);
    assert.match(proc.stdout(), /\[torsion\.app#info\] StreamServerEndpointService .*listening on/);
    assert.match((await get(port, '/')).body, /^pid \d+\n$/);
    assert.equal(await stopExample(proc.process), 0);
    assert.match(proc.stdout(), /Received SIGTERM, shutting down/);
  });

  test('serves, says where it listens, and exits 0 on SIGTERM with a request in flight', async (t) => {
    const proc = run(t, { shutdownTimeout: 5 });
    const port = await portOf(proc);
    assert.match(proc.stdout(), /\[torsion\.app#info\] StreamServerEndpointService .*listening on/);
    assert.match((await get(port, '/')).body, /^pid \d+\n$/);
    const slow = get(port, '/slow', () => {
      if (proc.process.pid !== undefined) process.kill(proc.process.pid, 'SIGTERM');
    });
    const response = await waitFor(slow, 'the slow response', 15);
    assert.equal(response.body, 'started\nfinished after the stop\n');
    assert.equal(await exitOf(proc), 0);
    assert.match(proc.stdout(), /Received SIGTERM, shutting down/);
  });

  test('a port in use: status 1, the reason on one line of standard error', async (t) => {
    const blocker = createServer().listen(0, '127.0.0.1');
    t.after(() => blocker.close());
    await once(blocker, 'listening');
    const { port } = blocker.address() as AddressInfo;
    const proc = run(t, { listen: `tcp:${port}:interface=127.0.0.1` });
    assert.equal(await exitOf(proc), 1);
    const lines = proc.stderr().trimEnd().split('\n');
    assert.equal(lines.length, 1, proc.stderr());
    assert.match(lines[0] ?? '', /^run-app-child: cannot start: .*EADDRINUSE/);
  });

  test('a maker that throws: status 1, its message on one line', async (t) => {
    const proc = run(t, { failMaker: true });
    assert.equal(await exitOf(proc), 1);
    assert.equal(proc.stderr(), 'run-app-child: cannot start: the maker failed\n');
  });

  test('JSON log lines', async (t) => {
    const json = run(t, { logFormat: 'json' });
    await waitForOutput(json, json.stdout, /listening on/, 'a JSON listening event');
    assert.equal(await stopExample(json.process), 0);
    const events = json
      .stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const listening = events.find((event) => event.log_namespace === 'torsion.app');
    assert.equal(listening?.log_level, 'info');
    assert.equal(listening?.log_format, '{service} listening on {address}');
    assert.match(String(listening?.address), /^127\.0\.0\.1:\d+$/);
  });

  test('a log file, reopened on SIGUSR1 after a rotation; a PID file while running', async (t) => {
    const dir = tempDir(t);
    const logFile = join(dir, 'app.log');
    const pidFile = join(dir, 'app.pid');
    const proc = run(t, { logFile, pidFile });
    const watcher = watch(dir);
    t.after(() => watcher.close());
    const changes: string[] = [];
    const changed = (name: string): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (existsSync(join(dir, name)) && /listening|Reopened/.test(read(name))) {
            watcher.off('change', check);
            resolve();
          }
        };
        watcher.on('change', (_type, file) => changes.push(String(file)));
        watcher.on('change', check);
        check();
      });
    const read = (name: string): string => {
      try {
        return readFileSync(join(dir, name), 'utf8');
      } catch {
        return '';
      }
    };
    await waitFor(changed('app.log'), 'the log file', 15);
    assert.equal(readFileSync(pidFile, 'utf8'), `${proc.process.pid}\n`);
    renameSync(logFile, join(dir, 'app.log.1'));
    process.kill(proc.process.pid as number, 'SIGUSR1');
    await waitFor(changed('app.log'), 'the reopened log file', 15);
    assert.match(read('app.log'), /Reopened the log file/);
    assert.match(read('app.log.1'), /listening on 127\.0\.0\.1:\d+/);
    assert.equal(await stopExample(proc.process), 0);
    assert.match(read('app.log'), /Received SIGTERM/);
    assert.equal(existsSync(pidFile), false);
    assert.equal(proc.stdout(), '');
  });

  test('two workers serve from two PIDs; a killed worker is restarted; SIGTERM drains both', async (t) => {
    const proc = run(t, { workers: 2, shutdownTimeout: 5 });
    const port = await portOf(proc);
    await waitForOutput(proc, proc.stdout, /All 2 workers are serving/, 'both workers');
    const pids = new Set<string>();
    for (let i = 0; i < 200 && pids.size < 2; i++) pids.add((await get(port, '/')).body);
    assert.equal(pids.size, 2, `PIDs seen: ${[...pids].join(', ')}`);
    const victim = Number(/\d+/.exec([...pids][0] ?? '')?.[0]);
    process.kill(victim, 'SIGKILL');
    await waitForOutput(
      proc,
      proc.stdout,
      new RegExp(`Worker ${victim} was killed by SIGKILL; restarting it`),
      'the restart',
    );
    await waitForOutput(
      proc,
      proc.stdout,
      /(?:Worker \d+ is serving\.[\s\S]*){3}/,
      'the replacement serving',
    );
    // The survivor and the replacement keep serving.
    for (let i = 0; i < 5; i++) assert.match((await get(port, '/')).body, /^pid \d+\n$/);
    assert.equal(await stopExample(proc.process), 0);
    assert.match(proc.stdout(), /Stopping 2 workers/);
    const exits = proc.stdout().match(/Worker \d+ exited with status 0/g) ?? [];
    assert.equal(exits.length, 2, proc.stdout());
  });
});
