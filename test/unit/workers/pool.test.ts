// WorkerPool's checks and states that start no thread: options refused, a
// module named by something other than a URL, a stopped pool, the stop
// trigger added on first use and removed by stop(); transfer()'s marker.
// The jobs themselves run in test/integration/workers.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { failureResultOf, MemoryReactorClock, successResultOf } from 'torsion/testing';
import { transfer, WorkerPool, WorkerPoolStopped } from 'torsion/workers';
import { isTransfer } from '../../../src/workers/transfer.js';

describe('WorkerPool without threads', () => {
  test('refuses bad options', () => {
    const reactor = new MemoryReactorClock();
    assert.throws(() => new WorkerPool(reactor, { size: 1.5 }), RangeError);
    assert.throws(() => new WorkerPool(reactor, { size: 0 }), /size is a whole number, 1 or more/);
    assert.throws(
      () => new WorkerPool(reactor, { stopTimeout: -1 }),
      /stopTimeout is a number of seconds/,
    );
    assert.throws(() => new WorkerPool(reactor, { idleTimeout: Number.NaN }), /idleTimeout/);
    assert.ok(new WorkerPool(reactor).size >= 1);
  });

  test('a module must be named by URL; nothing starts', () => {
    const reactor = new MemoryReactorClock();
    const pool = new WorkerPool(reactor, { size: 1 });
    const failure = failureResultOf(pool.run('jobs.js', 'f'));
    assert.match(String(failure.value), /names its module by URL/);
    assert.equal(pool.threads, 0);
    assert.equal(reactor.triggers.before?.shutdown, undefined, 'no shutdown trigger yet');
  });

  test('a stopped pool refuses jobs; stopping an idle pool fires at once', () => {
    const reactor = new MemoryReactorClock();
    const pool = new WorkerPool(reactor, { size: 1 });
    successResultOf(pool.stop());
    successResultOf(pool.stop());
    const failure = failureResultOf(pool.run(new URL('file:///nowhere.js'), 'f'));
    assert.ok(failure.value instanceof WorkerPoolStopped);
  });

  test('transfer() marks a value and its transfer list', () => {
    const bytes = new Uint8Array(4);
    const marked = transfer(bytes, [bytes.buffer]);
    assert.equal(isTransfer(marked), true);
    assert.equal(marked.value, bytes);
    assert.deepEqual(marked.transferList, [bytes.buffer]);
    assert.equal(isTransfer(bytes), false);
    assert.equal(isTransfer(null), false);
  });
});
