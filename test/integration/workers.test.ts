// WorkerPool and deferToWorker on real worker threads, running the jobs of
// test/integration/fixtures/worker-jobs.ts. The pool's timers (idle
// retirement, the stop's grace) run on a MemoryReactorClock, advanced by
// the tests; the threads are real, so the tests wait for their results.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { CancelledError } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { MemoryReactorClock } from 'torsion/testing';
import {
  deferToWorker,
  transfer,
  WorkerCrashed,
  WorkerPool,
  type WorkerPoolOptions,
  WorkerPoolStopped,
} from 'torsion/workers';
import { waitFor } from '../helpers/sockets.js';

const jobs = new URL('./fixtures/worker-jobs.js', import.meta.url);

function pool(t: TestContext, options: WorkerPoolOptions = {}): [WorkerPool, MemoryReactorClock] {
  const reactor = new MemoryReactorClock();
  const made = new WorkerPool(reactor, { size: 2, ...options });
  t.after(() => made.stop());
  return [made, reactor];
}

function settled<T>(promise: PromiseLike<T>, what = 'the job'): Promise<T> {
  return waitFor(Promise.resolve(promise), what, 20);
}

describe('WorkerPool', { timeout: 60_000 }, () => {
  test('runs an exported function with its arguments; a promise is waited for', async (t) => {
    const [workers] = pool(t);
    assert.equal(await settled(workers.run<number>(jobs, 'add', [2, 3])), 5);
    assert.equal(await settled(workers.run<string>(jobs, 'later', ['soon'])), 'soon');
    assert.equal(workers.threads, 1);
  });

  test('threads start on demand up to size; more jobs wait their turn', async (t) => {
    const [workers] = pool(t, { size: 2 });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const first = workers.run(jobs, 'blockUntil', [flag]);
    const second = workers.run(jobs, 'blockUntil', [flag]);
    const third = workers.run<number>(jobs, 'add', [1, 1]);
    assert.equal(workers.threads, 2);
    assert.equal(workers.waiting, 1);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    assert.deepEqual(await settled(Promise.all([first, second, third])), [
      'released',
      'released',
      2,
    ]);
    assert.equal(workers.threads, 2);
  });

  test('the reactor keeps running while a job blocks its thread', async (t) => {
    const [workers] = pool(t);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const blocked = workers.run<string>(jobs, 'blockUntil', [flag]);
    // The main thread is free: a second job on the other thread finishes first.
    assert.equal(await settled(workers.run<number>(jobs, 'add', [20, 22])), 42);
    assert.equal(blocked.called, false);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    assert.equal(await settled(blocked), 'released');
  });

  test("a thrown error arrives with its name, message, code and the worker's stack", async (t) => {
    const [workers] = pool(t);
    await assert.rejects(settled(workers.run(jobs, 'fails', ['no luck'])), (error: Error) => {
      assert.equal(error.name, 'JobError');
      assert.equal(error.message, 'no luck');
      assert.equal((error as Error & { code?: string }).code, 'E_JOB');
      assert.match(error.stack ?? '', /at fails .*worker-jobs\.js/);
      return true;
    });
    // The thread survives a job's error.
    assert.equal(await settled(workers.run<number>(jobs, 'add', [1, 2])), 3);
  });

  test('a missing export or a bad module URL is a clear error', async (t) => {
    const [workers] = pool(t);
    await assert.rejects(
      settled(workers.run(jobs, 'notAFunction')),
      /has no exported function named notAFunction \(found number\)/,
    );
    await assert.rejects(settled(workers.run(jobs, 'nothing')), /found undefined/);
    await assert.rejects(
      settled(workers.run('./jobs.js', 'add')),
      /names its module by URL .*got \.\/jobs\.js/,
    );
  });

  test('a closure cannot cross: the argument error says what to do instead', async (t) => {
    const [workers] = pool(t);
    await assert.rejects(settled(workers.run(jobs, 'add', [() => 1, 2])), (error: Error) => {
      assert.equal(error.name, 'DataCloneError');
      assert.match(error.message, /add: an argument cannot be sent to a worker/);
      assert.match(error.message, /not closures/);
      return true;
    });
    await assert.rejects(
      settled(workers.run(jobs, 'returnsFunction')),
      /the result of returnsFunction could not be sent back from the worker/,
    );
    assert.equal(await settled(workers.run<number>(jobs, 'add', [1, 2])), 3);
  });

  test('transfer() moves buffers both ways instead of copying them', async (t) => {
    const [workers] = pool(t);
    const bytes = new Uint8Array(1 << 20);
    const length = workers.run<number>(jobs, 'byteLength', [transfer(bytes, [bytes.buffer])]);
    assert.equal(bytes.byteLength, 0, 'detached on the sending side');
    assert.equal(await settled(length), 1 << 20);
    const made = await settled(workers.run<Uint8Array>(jobs, 'makeBuffer', [16]));
    assert.deepEqual([...made], new Array(16).fill(7));
  });

  test('a crashed thread fails its job and is replaced', async (t) => {
    const [workers] = pool(t, { size: 1 });
    const logs = captureLogs();
    t.after(() => logs.stop());
    const first = await settled(workers.run<number>(jobs, 'thread'));
    await assert.rejects(settled(workers.run(jobs, 'exits', [3])), (error: Error) => {
      assert.ok(error instanceof WorkerCrashed);
      assert.match(error.message, /exited with status 3/);
      return true;
    });
    await assert.rejects(settled(workers.run(jobs, 'throwsLater')), (error: Error) => {
      assert.ok(error instanceof WorkerCrashed);
      assert.match(error.message, /crashed: thrown outside the job/);
      return true;
    });
    const replacement = await settled(workers.run<number>(jobs, 'thread'));
    assert.notEqual(replacement, first);
  });

  test('cancelling a waiting job withdraws it; a running one replaces its thread', async (t) => {
    const [workers] = pool(t, { size: 1 });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const first = await settled(workers.run<number>(jobs, 'thread'));
    const running = workers.run(jobs, 'blockUntil', [flag]);
    const waiting = workers.run(jobs, 'add', [1, 2]);
    waiting.cancel();
    assert.equal(workers.waiting, 0);
    await assert.rejects(settled(waiting), CancelledError);
    running.cancel();
    await assert.rejects(settled(running), CancelledError);
    assert.equal(workers.threads, 0);
    const next = await settled(workers.run<number>(jobs, 'thread'));
    assert.notEqual(next, first, 'a new thread');
  });

  test('idle threads retire after idleTimeout and start again when needed', async (t) => {
    const [workers, reactor] = pool(t, { idleTimeout: 30 });
    const first = await settled(workers.run<number>(jobs, 'thread'));
    reactor.advance(29);
    assert.equal(workers.threads, 1);
    reactor.advance(1);
    assert.equal(workers.threads, 0);
    const second = await settled(workers.run<number>(jobs, 'thread'));
    assert.notEqual(second, first);
  });

  test('reactor shutdown stops the pool: waiting jobs fail, running ones finish', async (t) => {
    const [workers, reactor] = pool(t, { size: 1, stopTimeout: 5 });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const running = workers.run<string>(jobs, 'blockUntil', [flag]);
    const waiting = workers.run(jobs, 'add', [1, 2]);
    reactor.fireSystemEvent('shutdown');
    await assert.rejects(settled(waiting), WorkerPoolStopped);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    assert.equal(await settled(running), 'released');
    await assert.rejects(settled(workers.run(jobs, 'add', [1, 2])), /has been stopped/);
    assert.equal(reactor.triggers.during?.shutdown, undefined);
  });

  test('a job that outlasts stopTimeout is ended with the pool', async (t) => {
    const [workers, reactor] = pool(t, { size: 1, stopTimeout: 5 });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const running = workers.run(jobs, 'blockUntil', [flag]);
    const stopped = workers.stop();
    reactor.advance(5);
    await assert.rejects(settled(running), WorkerPoolStopped);
    await settled(stopped, 'the stop');
    assert.equal(workers.threads, 0);
  });

  test('options are checked', () => {
    const reactor = new MemoryReactorClock();
    assert.throws(
      () => new WorkerPool(reactor, { size: 0 }),
      /size is a whole number, 1 or more, got 0/,
    );
    assert.throws(() => new WorkerPool(reactor, { idleTimeout: -1 }), /idleTimeout/);
  });
});

describe('deferToWorker', { timeout: 60_000 }, () => {
  test("hashes a large file off the reactor's thread, on the global reactor's pool", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-workers-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'big.bin');
    const content = Buffer.alloc(8 << 20, 'z');
    writeFileSync(path, content);
    const digest = await settled(deferToWorker<string>(jobs, 'sha256File', path));
    assert.equal(digest, createHash('sha256').update(content).digest('hex'));
    const { reactor } = await import('torsion/reactor');
    // The module-wide pool stops with the global reactor; it never ran here, so stop it by hand.
    reactor.fireSystemEvent('shutdown');
  });
});
