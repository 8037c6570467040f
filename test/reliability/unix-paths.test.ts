// UNIX socket path safety: listenUNIX never takes over a live socket,
// however the path is spelled (`//`, `/./`, `../`, relative, through a
// linked directory, bound relative by its owner), never removes a file that
// is not a socket (a regular file, a directory), still replaces a stale
// socket, and refuses a path longer than the system takes (107 bytes on
// Linux) before creating anything; connectUNIX refuses such a path instead
// of connecting to it truncated. The live sockets belong to child processes.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { CannotListenError, ConnectError } from 'torsion/protocol';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  Recorder,
  RecordingClientFactory,
  waitFor,
} from '../helpers/sockets.js';

const SUITE = { timeout: 60_000, skip: process.platform !== 'linux' && 'Linux paths and limits' };

/** The longest socket path Linux takes, in bytes (sun_path less its NUL). */
const LIMIT = 107;

/** A fresh, short directory under /tmp (long path tests need room), removed after the test. */
function tempDir(t: TestContext): string {
  const base = existsSync('/tmp') ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'tsn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A child process listening on `path` (resolved against `cwd`) with an echo
 * server: someone else's live socket. Killed after the test.
 */
async function liveSocket(t: TestContext, path: string, cwd?: string): Promise<ChildProcess> {
  const script = `require('node:net').createServer((c) => c.pipe(c)).listen(${JSON.stringify(path)}, () => process.stdout.write('listening\\n'));`;
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(cwd === undefined ? {} : { cwd }),
  });
  const closed = once(child, 'close');
  t.after(async () => {
    child.kill('SIGKILL');
    await waitFor(closed, 'the socket owner to exit');
  });
  let output = '';
  child.stdout?.setEncoding('utf8');
  await waitFor(
    new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('listening')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the socket owner exited early (${code})`)));
    }),
    'the socket owner to listen',
  );
  // Its output pipe is a socket handle of this process: the harness counts them.
  child.stdout?.destroy();
  return child;
}

/** Leaves a stale socket file at `path`: its owner is killed with SIGKILL. */
async function staleSocket(t: TestContext, path: string): Promise<void> {
  const child = await liveSocket(t, path);
  const closed = once(child, 'close');
  child.kill('SIGKILL');
  await waitFor(closed, 'the socket owner to die');
}

/** Whatever listens on `path` echoes a probe: it still owns the path. */
async function assertEchoes(path: string): Promise<void> {
  const socket = netConnect(path);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await waitFor(once(socket, 'connect'), `a connection to ${path}`);
  socket.write('still mine?');
  await waitFor(
    new Promise<void>((resolve) => {
      socket.on('data', () => {
        if (Buffer.concat(received).length >= 11) resolve();
      });
    }),
    'the echo',
  );
  socket.destroy();
  assert.equal(Buffer.concat(received).toString(), 'still mine?');
}

/** The CannotListenError that listening on `path` throws. */
function listenError(
  listen: () => unknown,
  factory: CollectingFactory<EchoRecorder>,
): CannotListenError {
  let error: unknown;
  try {
    listen();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof CannotListenError, `expected CannotListenError, got ${error}`);
  assert.equal(factory.starts, 0, 'the factory was not started');
  return error;
}

/** A path of exactly `bytes` bytes in `dir`. */
function pathOfLength(dir: string, bytes: number, fill = 'x'): string {
  const path = `${dir}/${fill.repeat(bytes - dir.length - 1)}`;
  assert.equal(Buffer.byteLength(path), bytes);
  return path;
}

describe('listenUNIX on a live socket, under any spelling of its path', SUITE, () => {
  const spellings: [string, (dir: string) => string][] = [
    ['a doubled slash', (dir) => `${dir}//live.sock`],
    ['a /./ segment', (dir) => `${dir}/./live.sock`],
    ['a ../ segment', (dir) => `${dir}/sub/../live.sock`],
    [
      'a doubled slash inside the directory',
      (dir) => `${dir.replace('/tsn-', '//tsn-')}/live.sock`,
    ],
    ['a linked directory', (dir) => `${dir}/link/live.sock`],
  ];
  for (const [name, spell] of spellings) {
    test(`${name}: CannotListenError (EADDRINUSE), the owner keeps its socket`, async (t) => {
      const h = harness(t);
      const dir = tempDir(t);
      mkdirSync(join(dir, 'sub'));
      symlinkSync(dir, join(dir, 'link'));
      const path = join(dir, 'live.sock');
      await liveSocket(t, path);
      const inode = lstatSync(path).ino;
      const factory = new CollectingFactory(() => new EchoRecorder());
      const error = listenError(() => h.listenUNIX(spell(dir), factory), factory);
      assert.equal(error.socketError, 'EADDRINUSE');
      assert.equal(lstatSync(path).ino, inode, 'the socket file was not replaced');
      await assertEchoes(path);
    });
  }

  test('a path relative to the working directory: CannotListenError (EADDRINUSE)', async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    const path = join(dir, 'live.sock');
    await liveSocket(t, path);
    const factory = new CollectingFactory(() => new EchoRecorder());
    const cwd = process.cwd();
    for (const relative of ['live.sock', './live.sock']) {
      process.chdir(dir);
      try {
        const error = listenError(() => h.listenUNIX(relative, factory), factory);
        assert.equal(error.socketError, 'EADDRINUSE');
      } finally {
        process.chdir(cwd);
      }
    }
    await assertEchoes(path);
  });

  test('a socket its owner bound under a relative path: CannotListenError (EADDRINUSE)', async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    await liveSocket(t, 'live.sock', dir);
    const path = join(dir, 'live.sock');
    const factory = new CollectingFactory(() => new EchoRecorder());
    const error = listenError(() => h.listenUNIX(path, factory), factory);
    assert.equal(error.socketError, 'EADDRINUSE');
    await assertEchoes(path);
  });

  test('wantPID with a stale lock does not take over a live socket held without a lock', async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    const path = join(dir, 'live.sock');
    await liveSocket(t, path);
    // A lock left by a process that has exited.
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await waitFor(once(dead, 'close'), 'a short-lived process to exit');
    symlinkSync(String(dead.pid), `${path}.lock`);
    const factory = new CollectingFactory(() => new EchoRecorder());
    const error = listenError(
      () => h.listenUNIX(`${dir}//live.sock`, factory, { wantPID: true }),
      factory,
    );
    assert.equal(error.socketError, 'EADDRINUSE');
    await assertEchoes(path);
  });
});

describe('listenUNIX on a path held by something that is not a socket', SUITE, () => {
  test('a regular file: CannotListenError saying so, and the file is left alone', (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'data.txt');
    writeFileSync(path, 'precious');
    const factory = new CollectingFactory(() => new EchoRecorder());
    const error = listenError(() => h.listenUNIX(path, factory), factory);
    assert.match(error.socketError, /^EADDRINUSE: a regular file, not a socket/);
    assert.match(error.message, /a regular file, not a socket/);
    assert.equal(readFileSync(path, 'utf8'), 'precious');
  });

  test('a directory: CannotListenError saying so, and the directory is left alone', (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'dir.sock');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), '');
    const factory = new CollectingFactory(() => new EchoRecorder());
    const error = listenError(() => h.listenUNIX(path, factory), factory);
    assert.match(error.socketError, /^EADDRINUSE: a directory, not a socket/);
    assert.deepEqual(readdirSync(path), ['inside']);
  });

  test('wantPID: a factory whose doStart throws leaves no socket and no lock behind', async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    const path = join(dir, 'locked.sock');
    const broken = new CollectingFactory(() => new EchoRecorder());
    broken.doStart = () => {
      throw new Error('cannot start');
    };
    assert.throws(() => h.listenUNIX(path, broken, { wantPID: true }), /cannot start/);
    assert.deepEqual(readdirSync(dir), [], 'the socket is closed and the lock released');
    const factory = new CollectingFactory(() => new EchoRecorder());
    h.listenUNIX(path, factory, { wantPID: true });
    assert.equal(factory.starts, 1);
    await assertEchoes(path);
  });

  test('a stale socket is replaced, even under another spelling', async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    const path = join(dir, 'stale.sock');
    await staleSocket(t, path);
    assert.ok(lstatSync(path).isSocket(), 'the dead owner left its socket file');
    const factory = new CollectingFactory(() => new EchoRecorder());
    h.listenUNIX(`${dir}/./stale.sock`, factory);
    assert.equal(factory.starts, 1);
    await assertEchoes(path);
  });
});

describe('socket paths longer than the system takes', SUITE, () => {
  test(`a path of ${LIMIT} bytes listens, serves and is removed on stop`, async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    const path = pathOfLength(dir, LIMIT);
    const factory = new CollectingFactory(() => new EchoRecorder());
    const listening = h.listenUNIX(path, factory);
    assert.ok(lstatSync(path).isSocket());
    await assertEchoes(path);
    await waitFor(listening.stopListening(), 'stopListening');
    assert.deepEqual(readdirSync(dir), []);
  });

  for (const [name, make] of [
    [`${LIMIT + 1} bytes`, (dir: string) => pathOfLength(dir, LIMIT + 1)],
    ['200 bytes', (dir: string) => pathOfLength(dir, 200)],
    [
      `${LIMIT + 1} bytes of fewer characters (UTF-8)`,
      (dir: string) => pathOfLength(dir, 40) + 'é'.repeat(34),
    ],
  ] as const) {
    test(`a path of ${name}: "path too long" CannotListenError, nothing created`, (t) => {
      const h = harness(t);
      const dir = tempDir(t);
      const path = make(dir);
      const length = Buffer.byteLength(path);
      assert.ok(length > LIMIT && path.length <= 200);
      const factory = new CollectingFactory(() => new EchoRecorder());
      const error = listenError(() => h.listenUNIX(path, factory, { wantPID: true }), factory);
      assert.equal(error.port, path);
      assert.match(
        error.message,
        new RegExp(`ENAMETOOLONG: path too long \\(${length} bytes; the limit is ${LIMIT}\\)`),
      );
      assert.deepEqual(readdirSync(dir), [], 'no socket, truncated socket or lock file');
    });
  }

  test('connectUNIX to a path too long fails the attempt instead of connecting truncated', async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    // A live socket at the first 108 bytes of the path asked for: where a
    // truncated connect would land.
    const truncated = pathOfLength(dir, LIMIT + 1);
    await liveSocket(t, truncated);
    const path = `${truncated}yyyy`;
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectUNIX(path, client);
    const reason = await waitFor(client.failed, 'clientConnectionFailed');
    assert.ok(reason.value instanceof ConnectError, String(reason.value));
    assert.equal(reason.value.osError, 'ENAMETOOLONG');
    assert.match(reason.getErrorMessage(), /path too long \(112 bytes; the limit is 107\)/);
    assert.equal(client.protocols.length, 0, 'no connection was made');
  });
});
