// The fence around Node's internals in listenNow: the probe of
// net.Server.prototype._listen2 (this test fails loudly if a Node upgrade
// removes it), the capture of a synchronous bind error, a capture that
// misses (no uncaught exception, the server closed), and the forced
// fallback without _listen2 (a TCP port bound on a later turn).

import assert from 'node:assert/strict';
import { createServer, Server } from 'node:net';
import { describe, test } from 'node:test';
import { captureLogs } from 'torsion/logger';
import { CannotListenError, IPv4Address } from 'torsion/protocol';
import {
  findListen2,
  type Listen2,
  listenNow,
  nodeInternals,
} from '../../src/internet/_listening.js';
import {
  CollectingFactory,
  EchoRecorder,
  harness,
  Recorder,
  RecordingClientFactory,
  until,
  waitFor,
} from '../helpers/sockets.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 30_000 };

/** A plain Node server listening on 127.0.0.1, to make a port busy. */
async function busyPort(t: { after(f: () => unknown): void }): Promise<number> {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, LOCAL, resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const address = blocker.address();
  assert.ok(typeof address === 'object' && address !== null);
  return address.port;
}

/** Resolves when `server` emits 'close'. */
function closed(server: Server): Promise<void> {
  return new Promise((resolve) => server.once('close', () => resolve()));
}

describe('The probe of Node internals', SUITE, () => {
  test('finds net.Server.prototype._listen2 on this Node, the synchronous bind listenTCP relies on', () => {
    const found = findListen2();
    assert.ok(
      found !== null,
      `Node ${process.version} has no usable net.Server.prototype._listen2 (private): ` +
        'listenTCP now binds through the public server.listen on a later turn, and stops ' +
        'throwing CannotListenError synchronously. See listenNow in src/internet/_listening.ts.',
    );
    assert.equal(found, (Server.prototype as unknown as { _listen2: unknown })._listen2);
    assert.equal(nodeInternals.listen2, found);
  });

  test('rejects what is not a function of at least four parameters', () => {
    assert.equal(findListen2(null), null);
    assert.equal(findListen2('setupListenHandle'), null);
    assert.equal(
      findListen2(() => undefined),
      null,
    );
    const shaped = (_a: unknown, _b: unknown, _c: unknown, _d: unknown): void => undefined;
    assert.equal(findListen2(shaped), shaped);
  });
});

describe('listenNow', SUITE, () => {
  test('throws the bind error of a busy port synchronously, closes the server, and restores process.nextTick', async (t) => {
    const port = await busyPort(t);
    const server = createServer();
    const nextTick = process.nextTick;
    const isClosed = closed(server);
    assert.throws(
      () => listenNow(server, { kind: 'tcp', host: LOCAL, port, family: 4 }, 50),
      (error: NodeJS.ErrnoException) => error.code === 'EADDRINUSE',
    );
    assert.equal(process.nextTick, nextTick);
    assert.equal(server.listening, false);
    // An 'error' listener stays, for an error Node might still emit.
    assert.ok(server.listenerCount('error') >= 1);
    await waitFor(isClosed, "the failed server's close event");
  });

  test('when the capture misses, throws at once, closes the server and swallows the late error', async () => {
    // Stands in for a Node that reports the bind error some other way: on
    // a later turn, not through process.nextTick(emit, server, error).
    const lateError = Object.assign(new Error('listen EADDRINUSE (late)'), { code: 'EADDRINUSE' });
    let emitted!: () => void;
    const wasEmitted = new Promise<void>((resolve) => {
      emitted = resolve;
    });
    const reportsLate: Listen2 = function (this: Server, _a, _b, _c, _d): void {
      setImmediate(() => {
        // With no 'error' listener this throws: an uncaught exception that
        // fails the run, and `emitted` is never called.
        this.emit('error', lateError);
        emitted();
      });
    };
    const server = createServer();
    const isClosed = closed(server);
    assert.throws(
      () => listenNow(server, { kind: 'tcp', host: LOCAL, port: 0, family: 4 }, 50, reportsLate),
      /did not start listening/,
    );
    await waitFor(wasEmitted, 'the late error to be emitted and swallowed');
    await waitFor(isClosed, "the failed server's close event");
  });

  test('without _listen2, binds a TCP server on a later turn and returns false', async (t) => {
    const server = createServer();
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const listening = new Promise<void>((resolve) => server.once('listening', resolve));
    assert.equal(
      listenNow(server, { kind: 'tcp', host: LOCAL, port: 0, family: 4 }, 50, null),
      false,
    );
    assert.equal(server.listening, false);
    await waitFor(listening, 'the fallback bind');
    assert.equal(server.listening, true);
  });
});

describe('listenTCP without _listen2 (the fallback, forced)', SUITE, () => {
  function forceFallback(t: { after(f: () => unknown): void }): void {
    const saved = nodeInternals.listen2;
    nodeInternals.listen2 = null;
    t.after(() => {
      nodeInternals.listen2 = saved;
    });
  }

  test('returns a port that is bound on a later turn, then serves connections', async (t) => {
    forceFallback(t);
    const h = harness(t);
    const factory = new CollectingFactory(() => new EchoRecorder());
    const listening = h.listenTCP(0, factory, { interface: LOCAL });
    assert.throws(() => listening.getHost(), /not listening yet/);
    let address: unknown;
    await until(() => {
      try {
        address = listening.getHost();
        return true;
      } catch {
        return false;
      }
    }, 'the port to be bound');
    assert.ok(address instanceof IPv4Address);
    assert.ok(address.port > 0);
    const client = new RecordingClientFactory(() => new Recorder());
    h.connectTCP(LOCAL, address.port, client);
    const protocol = await waitFor(client.nth(0), 'the client protocol');
    await waitFor(protocol.made, 'the client connectionMade');
    protocol.transport.write(Buffer.from('echo?'));
    await waitFor(protocol.bytes(5), 'the echo');
    assert.equal(protocol.data().toString(), 'echo?');
  });

  test('logs a bind failure instead of throwing it, and stops the port and its factory', async (t) => {
    forceFallback(t);
    const port = await busyPort(t);
    const h = harness(t);
    const logs = captureLogs();
    t.after(() => logs.stop());
    const factory = new CollectingFactory(() => new Recorder());
    h.listenTCP(port, factory, { interface: LOCAL });
    assert.equal(factory.starts, 1);
    await until(() => factory.stops === 1, 'the factory to stop');
    const failures = logs.events.filter((e) => e.log_failure !== undefined);
    assert.equal(failures.length, 1);
    const error = failures[0]?.log_failure?.value;
    assert.ok(error instanceof Error);
    assert.equal((error as NodeJS.ErrnoException).code, 'EADDRINUSE');
  });

  test('with _listen2 (the default), the same busy port throws CannotListenError at once', async (t) => {
    const port = await busyPort(t);
    const h = harness(t);
    const factory = new CollectingFactory(() => new Recorder());
    assert.throws(
      () => h.listenTCP(port, factory, { interface: LOCAL }),
      (error: unknown) => error instanceof CannotListenError,
    );
    assert.equal(factory.starts, 0);
  });
});
