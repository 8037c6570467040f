// UNIX-domain stream sockets on a real NodeReactor, each test in a fresh
// temporary directory: echo and addresses, file mode, paths in use and
// stale socket files, PID lock files, failed connections, closing, and
// shutdown. (Twisted: internet/test/test_unix.py, test/test_unix.py.)

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { captureLogs } from 'torsion/logger';
import {
  BadFileError,
  CannotListenError,
  ClientCreator,
  ConnectError,
  ConnectionDone,
  ConnectionLost,
  TimeoutError,
  UNIXAddress,
  UserError,
} from 'torsion/protocol';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  loopTurns,
  Recorder,
  RecordingClientFactory,
  type SocketHarness,
  waitFor,
} from '../helpers/sockets.js';

const SUITE = { timeout: 30_000 };

/** A fresh directory under the system's temporary directory, removed after the test. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Connects to `path`; resolves with the client protocol once connected. */
async function connect(h: SocketHarness, path: string): Promise<Recorder> {
  const factory = new RecordingClientFactory(() => new Recorder());
  h.connectUNIX(path, factory);
  const protocol = await waitFor(factory.nth(0), 'the client protocol');
  await waitFor(protocol.made, 'the client connectionMade');
  return protocol;
}

/** Checks that the server at `path` answers: sends bytes and waits for the echo. */
async function assertEchoes(h: SocketHarness, path: string): Promise<void> {
  const client = await connect(h, path);
  client.transport.write(Buffer.from('anyone there?'));
  await waitFor(client.bytes(13), 'the echo');
  assert.equal(client.data().toString(), 'anyone there?');
  client.transport.loseConnection();
  await waitFor(client.lost, 'the client connectionLost');
}

/**
 * A child process listening on `path` (with `backlog`, if given), once it
 * says so; `closed` settles when it has exited. Killed by the caller.
 */
async function listeningChild(
  path: string,
  backlog?: number,
): Promise<{ child: ChildProcess; closed: Promise<unknown> }> {
  const where = JSON.stringify(backlog === undefined ? path : { path, backlog });
  const script = `require('node:net').createServer().listen(${where}, () => process.stdout.write('listening\\n'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = once(child, 'close');
  let output = '';
  child.stdout.setEncoding('utf8');
  try {
    await waitFor(
      new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          output += chunk;
          if (output.includes('listening')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`the child exited early (${code})`)));
      }),
      'the child to listen',
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, closed };
}

/**
 * Leaves a stale socket file at `path`: a child process listens on it and is
 * killed with SIGKILL, so nothing unlinks the file.
 */
async function staleSocket(path: string): Promise<void> {
  const { child, closed } = await listeningChild(path);
  child.kill('SIGKILL');
  await waitFor(closed, 'the child to exit');
}

/**
 * A listener on `path` in a child process that is then stopped (SIGSTOP), so
 * it accepts nothing, with its queue of unaccepted connections filled: a
 * further connection is refused at once with EAGAIN. Killed after the test.
 */
async function fullListener(t: TestContext, path: string): Promise<void> {
  const { child, closed } = await listeningChild(path, 1);
  const fillers: Socket[] = [];
  t.after(async () => {
    for (const socket of fillers) socket.destroy();
    child.kill('SIGKILL');
    await waitFor(closed, 'the child to exit');
  });
  assert.ok(child.pid !== undefined);
  process.kill(child.pid, 'SIGSTOP');
  for (let i = 0; i < 16; i++) {
    const socket = netConnect({ path });
    fillers.push(socket);
    const error = await waitFor(
      new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        socket.once('connect', () => resolve(undefined));
        socket.once('error', resolve);
      }),
      'a filler connection',
    );
    if (error !== undefined) {
      assert.equal(error.code, 'EAGAIN');
      return;
    }
  }
  assert.fail('the stopped listener never refused a connection with EAGAIN');
}

/** The id of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await waitFor(once(child, 'close'), 'the child to exit');
  assert.ok(child.pid !== undefined);
  return child.pid;
}

describe('listenUNIX and connectUNIX', SUITE, () => {
  test('echoes bytes over a socket path, with UNIXAddress ends', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'echo.sock');
    const server = new CollectingFactory(() => new EchoRecorder());
    const listening = h.listenUNIX(path, server);
    assert.equal(server.starts, 1);
    const host = listening.getHost();
    assert.ok(host instanceof UNIXAddress);
    assert.equal(host.name, path);
    assert.ok(lstatSync(path).isSocket());

    const client = await connect(h, path);
    client.transport.writeSequence([Buffer.from('hello '), Buffer.from('unix')]);
    await waitFor(client.bytes(10), 'the echo');
    assert.equal(client.data().toString(), 'hello unix');
    const clientPeer = client.transport.getPeer();
    assert.ok(clientPeer instanceof UNIXAddress);
    assert.equal(clientPeer.name, path);
    const serverSide = server.protocols[0]!;
    const serverHost = serverSide.transport.getHost();
    assert.ok(serverHost instanceof UNIXAddress);
    assert.equal(serverHost.name, path);
    assert.ok(serverSide.transport.getPeer() instanceof UNIXAddress);
  });

  test('applies the mode option to the socket file (default 0o666)', async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    const factory = new CollectingFactory(() => new Recorder());
    const defaultPath = join(dir, 'default.sock');
    h.listenUNIX(defaultPath, factory);
    assert.equal(lstatSync(defaultPath).mode & 0o777, 0o666);
    const privatePath = join(dir, 'private.sock');
    h.listenUNIX(privatePath, factory, { mode: 0o600 });
    assert.equal(lstatSync(privatePath).mode & 0o777, 0o600);
  });

  test('listening on the path of a live socket throws CannotListenError (EADDRINUSE) and leaves it alone', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'live.sock');
    h.listenUNIX(path, new CollectingFactory(() => new EchoRecorder()));
    const second = new CollectingFactory(() => new EchoRecorder());
    let error: unknown;
    try {
      h.listenUNIX(path, second);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof CannotListenError, String(error));
    assert.equal(error.socketError, 'EADDRINUSE');
    assert.equal(error.port, path);
    assert.equal(second.starts, 0);
    // The first server still owns the path.
    await assertEchoes(h, path);
  });

  test('replaces a stale socket file left by a process that was killed', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'stale.sock');
    await staleSocket(path);
    assert.ok(lstatSync(path).isSocket(), 'the dead process left its socket file');
    const logs = captureLogs();
    t.after(() => logs.stop());
    const factory = new CollectingFactory(() => new EchoRecorder());
    h.listenUNIX(path, factory);
    assert.equal(factory.starts, 1);
    assert.ok(logs.events.some((e) => e.log_format?.includes('stale socket file')));
    await assertEchoes(h, path);
  });

  test('wantPID holds <path>.lock, and a second listener with wantPID cannot acquire it', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'locked.sock');
    const lock = `${path}.lock`;
    const listening = h.listenUNIX(path, new CollectingFactory(() => new EchoRecorder()), {
      wantPID: true,
    });
    assert.equal(readlinkSync(lock), String(process.pid));
    const second = new CollectingFactory(() => new EchoRecorder());
    let error: unknown;
    try {
      h.listenUNIX(path, second, { wantPID: true });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof CannotListenError, String(error));
    assert.equal(error.socketError, 'Cannot acquire lock');
    assert.equal(second.starts, 0);
    assert.equal(readlinkSync(lock), String(process.pid), 'the lock is still held');
    // checkPID connects while a live process holds the lock.
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectUNIX(path, client, { checkPID: true });
    await waitFor(client.nth(0), 'the checkPID connection');
    await waitFor(listening.stopListening(), 'stopListening');
    assert.equal(existsSync(lock), false, 'stopListening releases the lock');
    assert.equal(existsSync(path), false, 'stopListening removes the socket file');
  });

  test('wantPID breaks a lock left by a dead process and replaces its socket file', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'orphan.sock');
    await staleSocket(path);
    symlinkSync(String(await deadPid()), `${path}.lock`);
    const factory = new CollectingFactory(() => new EchoRecorder());
    h.listenUNIX(path, factory, { wantPID: true });
    assert.equal(readlinkSync(`${path}.lock`), String(process.pid));
    await assertEchoes(h, path);
  });

  test('connectUNIX with checkPID throws BadFileError when no live process holds the lock', async (t) => {
    const h = harness(t);
    const dir = tempDir(t);
    const path = join(dir, 'unlocked.sock');
    // A live server, but no lock file.
    h.listenUNIX(path, new CollectingFactory(() => new Recorder()));
    const factory = new RecordingClientFactory(() => new Recorder());
    assert.throws(() => h.connectUNIX(path, factory, { checkPID: true }), BadFileError);
    // A lock file naming a dead process.
    symlinkSync(String(await deadPid()), `${path}.lock`);
    assert.throws(() => h.connectUNIX(path, factory, { checkPID: true }), BadFileError);
    assert.equal(factory.starts, 0);
  });

  test('connectUNIX to a missing path fails the connection with ConnectError (ENOENT)', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'nobody-here.sock');
    const factory = new RecordingClientFactory(() => new Recorder());
    h.connectUNIX(path, factory);
    const reason = await waitFor(factory.failed, 'clientConnectionFailed');
    const error = reason.value;
    assert.ok(error instanceof ConnectError, reason.getErrorMessage());
    assert.equal(error.osError, 'ENOENT');
    assert.equal(factory.protocols.length, 0);
    assert.equal(factory.stops, 1);
  });

  test('connectUNIX to a listener whose queue is full waits for it, as TCP does, instead of failing with EAGAIN', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'busy.sock');
    h.listenUNIX(path, new CollectingFactory(() => new EchoRecorder()), { backlog: 1 });
    const clients = Array.from({ length: 20 }, () => {
      const factory = new RecordingClientFactory(() => new Recorder());
      h.connectUNIX(path, factory);
      return factory;
    });
    for (const [i, factory] of clients.entries()) {
      const failed = factory.failed.then((reason) => {
        throw new Error(`client ${i} failed: ${reason.getErrorMessage()}`);
      });
      const protocol = await waitFor(Promise.race([factory.nth(0), failed]), `client ${i}`);
      await waitFor(protocol.made, `client ${i} connectionMade`);
    }
  });

  test('a connectUNIX waiting for a full listener ends with TimeoutError at its timeout, or UserError on stopConnecting', async (t) => {
    const path = join(tempDir(t), 'stopped.sock');
    // First, so that its clean-up runs before the harness checks for open sockets.
    await fullListener(t, path);
    const h = harness(t);
    const timed = new RecordingClientFactory(() => new Recorder());
    h.connectUNIX(path, timed, { timeout: 0.2 });
    const stopped = new RecordingClientFactory(() => new Recorder());
    const connector = h.connectUNIX(path, stopped);
    const late = await waitFor(timed.failed, 'clientConnectionFailed at the timeout');
    assert.ok(late.value instanceof TimeoutError, late.getErrorMessage());
    connector.stopConnecting();
    const cancelled = await waitFor(stopped.failed, 'clientConnectionFailed on stopConnecting');
    assert.ok(cancelled.value instanceof UserError, cancelled.getErrorMessage());
    assert.equal(timed.protocols.length + stopped.protocols.length, 0);
  });

  test('stopListening removes the socket file, calls doStop and refuses new connections', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'stopping.sock');
    const factory = new CollectingFactory(() => new Recorder());
    const listening = h.listenUNIX(path, factory);
    await waitFor(listening.stopListening(), 'stopListening');
    assert.equal(existsSync(path), false);
    assert.equal(factory.stops, 1);
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectUNIX(path, client);
    const reason = await waitFor(client.failed, 'clientConnectionFailed');
    assert.ok(reason.check(ConnectError));
  });

  test('loseConnection sends all of 1 MiB before closing; both ends get ConnectionDone', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'bulk.sock');
    const payload = Buffer.alloc(1024 * 1024, 'u');
    const server = new CollectingFactory(() => new Recorder());
    h.listenUNIX(path, server);
    const client = await connect(h, path);
    client.transport.write(payload);
    client.transport.loseConnection();
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.lost, 'the server connectionLost');
    await waitFor(client.lost, 'the client connectionLost');
    assert.equal(serverSide.received, payload.length);
    assert.ok(serverSide.reason?.check(ConnectionDone));
    assert.ok(client.reason?.check(ConnectionDone));
    await loopTurns();
    assert.equal(serverSide.lostCalls, 1);
    assert.equal(client.lostCalls, 1);
  });

  test('ClientCreator.connectUNIX fires with the connected protocol', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'creator.sock');
    h.listenUNIX(path, new CollectingFactory(() => new EchoRecorder()));
    const protocol = await waitFor(
      new ClientCreator(h.reactor, Recorder).connectUNIX(path),
      'ClientCreator',
    );
    assert.ok(protocol.connected);
    protocol.transport.write(Buffer.from('hi'));
    await waitFor(protocol.bytes(2), 'the echo');
  });

  test('reactor shutdown closes UNIX ports and connections with ConnectionLost', async (t) => {
    const h = harness(t);
    const path = join(tempDir(t), 'shutdown.sock');
    const server = new CollectingFactory(() => new Recorder());
    h.listenUNIX(path, server);
    const client = await connect(h, path);
    const serverSide = await waitFor(server.nth(0), 'the server protocol');
    await waitFor(serverSide.made, 'the server connectionMade');
    const reactor = h.reactor;
    reactor.callWhenRunning(() => reactor.stop());
    await waitFor(reactor.run({ installSignalHandlers: false }), 'run() to settle', 5);
    assert.ok(client.reason?.check(ConnectionLost));
    assert.ok(serverSide.reason?.check(ConnectionLost));
    assert.equal(server.stops, 1);
    assert.equal(existsSync(path), false, 'the socket file is gone');
  });
});
