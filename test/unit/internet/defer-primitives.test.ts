// DeferredLock, DeferredSemaphore and DeferredQueue (ported from Twisted's
// twisted/test/test_defer.py OtherPrimitivesTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CancelledError,
  Deferred,
  DeferredLock,
  DeferredQueue,
  DeferredSemaphore,
  type ErrorClass,
  Failure,
  QueueOverflow,
  QueueUnderflow,
  succeed,
} from 'torsion/defer';
import { failureResultOf, successResultOf } from 'torsion/testing';

/** Checks that `d` has already failed with `expected`, consuming the failure. */
function assertImmediateFailure(d: Deferred<unknown>, expected: ErrorClass): void {
  const failures: Failure[] = [];
  d.addErrback((failure) => {
    failures.push(failure);
  });
  assert.equal(failures.length, 1);
  assert.ok(failures[0]?.check(expected), `expected ${expected.name}, got ${failures[0]}`);
}

/** An errback that fails the test: the Deferred must not fail. */
function mustNotFail(failure: Failure): never {
  assert.fail(`unexpected errback with ${failure}`);
}

describe('DeferredLock', () => {
  test('acquire fires at once when free and queues while held; release hands it on', () => {
    const lock = new DeferredLock();
    let acquired = 0;
    const count = (): void => {
      acquired++;
    };

    lock.acquire().addCallback(count);
    assert.equal(lock.locked, true);
    assert.equal(acquired, 1);

    lock.acquire().addCallback(count);
    assert.equal(lock.locked, true);
    assert.equal(acquired, 1);

    lock.release();
    assert.equal(lock.locked, true);
    assert.equal(acquired, 2);

    lock.release();
    assert.equal(lock.locked, false);
    assert.equal(acquired, 2);
  });

  test('acquire fires with the lock itself', () => {
    const lock = new DeferredLock();
    assert.equal(successResultOf(lock.acquire()), lock);
  });

  test('releasing a lock that is not held throws', () => {
    assert.throws(() => new DeferredLock().release(), /unlocked lock/);
  });

  test('run holds the lock until the Deferred returned by the function fires', () => {
    const lock = new DeferredLock();
    const firstUnique = { first: true };
    const secondUnique = { second: true };
    const control = new Deferred<object>();
    let seen: unknown;
    const helper = (value: unknown, returned?: unknown): unknown => {
      seen = value;
      return returned;
    };

    const result = lock.run(helper, firstUnique, control);
    assert.equal(lock.locked, true);
    assert.equal(seen, firstUnique);
    result.addCallback((value) => helper(value));

    let acquired = 0;
    lock.acquire().addCallback(() => {
      acquired++;
    });
    assert.equal(lock.locked, true);
    assert.equal(acquired, 0);

    control.callback(secondUnique);
    assert.equal(seen, secondUnique);
    // The lock went straight to the waiting acquire.
    assert.equal(lock.locked, true);
    assert.equal(acquired, 1);

    lock.release();
    assert.equal(lock.locked, false);
  });

  test('run releases the lock when the function throws, and fails with its error', () => {
    const lock = new DeferredLock();
    const d = lock.run(() => {
      throw new RangeError('nope');
    });
    failureResultOf(d, RangeError);
    assert.equal(lock.locked, false);
  });

  test('run with something that is not a function fails with TypeError and frees the lock', () => {
    const lock = new DeferredLock();
    const d = lock.run(undefined as unknown as () => void);
    failureResultOf(d, TypeError);
    assert.equal(lock.locked, false);
  });

  test('run gives the result of a function returning a fired Deferred or a value', () => {
    const lock = new DeferredLock();
    assert.equal(successResultOf(lock.run(() => succeed(2))), 2);
    assert.equal(successResultOf(lock.run((n: number) => n + 1, 1)), 2);
    assert.equal(lock.locked, false);
  });

  test('cancelling a waiting acquire fails it with CancelledError', () => {
    const lock = new DeferredLock();
    lock.acquire();
    const seen: unknown[] = [];
    const d = lock.acquire().addBoth((result) => {
      seen.push(result);
    });
    d.cancel();
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof Failure);
    assert.equal(seen[0].type, CancelledError);
    lock.release();
    assert.equal(lock.locked, false);
  });

  test('cancelling an acquire that already holds the lock does nothing', () => {
    const lock = new DeferredLock();
    const d = lock.acquire();
    d.addErrback(mustNotFail);
    d.cancel();
    assert.equal(lock.locked, true);
    assert.equal(successResultOf(d), lock);
  });

  test('cancelling an acquire before it holds the lock fails it with CancelledError', () => {
    const lock = new DeferredLock();
    lock.acquire();
    const d = lock.acquire();
    d.cancel();
    assertImmediateFailure(d, CancelledError);
    assert.deepEqual(lock.waiting, []);
  });
});

describe('DeferredSemaphore', () => {
  test('run holds a token until the Deferred returned by the function fires', () => {
    const sem = new DeferredSemaphore(13);
    const control = new Deferred<null>();
    let helperArg: unknown;
    const unique = { unique: true };
    const results: unknown[] = [];
    let counter = 0;

    const result = sem.run((arg: unknown) => {
      helperArg = arg;
      return control;
    }, unique);
    result.addCallback((value) => {
      results.push(value);
    });
    result.addCallback(() => {
      counter++;
    });
    assert.deepEqual(results, []);
    assert.equal(helperArg, unique);
    assert.equal(sem.tokens, 12);

    control.callback(null);
    assert.deepEqual(results, [null]);
    assert.equal(counter, 1);
    assert.equal(sem.tokens, 13);
  });

  test('gives out up to its token count at once, queues the rest, and hands tokens on', () => {
    const n = 13;
    const sem = new DeferredSemaphore(n);
    let counter = 0;
    const count = (): void => {
      counter++;
    };
    for (let i = 1; i <= n; i++) {
      sem.acquire().addCallback(count);
      assert.equal(counter, i);
    }
    assert.equal(sem.tokens, 0);

    const outcome: string[] = [];
    const cancelled = sem.acquire().addCallbacks(
      () => {
        outcome.push('acquired');
      },
      () => {
        outcome.push('failed');
      },
    );
    cancelled.cancel();
    assert.deepEqual(outcome, ['failed']);

    sem.acquire().addCallback(count);
    assert.equal(counter, n);

    sem.release();
    assert.equal(counter, n + 1);

    for (let i = 1; i <= n; i++) {
      sem.release();
      assert.equal(counter, n + 1);
    }
    assert.equal(sem.tokens, n);
    assert.throws(() => sem.release(), /too many/);
  });

  test('rejects a token count below one with a RangeError', () => {
    assert.throws(() => new DeferredSemaphore(0), RangeError);
    assert.throws(() => new DeferredSemaphore(-1), RangeError);
    assert.throws(() => new DeferredSemaphore(Number.NaN), RangeError);
  });

  test('cancelling an acquire that already holds a token does nothing', () => {
    const sem = new DeferredSemaphore(1);
    const d = sem.acquire();
    d.addErrback(mustNotFail);
    d.cancel();
    assert.equal(sem.tokens, 0);
    assert.equal(successResultOf(d), sem);
  });

  test('cancelling an acquire before it holds a token fails it with CancelledError', () => {
    const sem = new DeferredSemaphore(1);
    sem.acquire();
    const d = sem.acquire();
    d.cancel();
    assertImmediateFailure(d, CancelledError);
    assert.deepEqual(sem.waiting, []);
  });
});

describe('DeferredQueue', () => {
  test('gets wait for puts, puts wait for gets, within the size and backlog limits', () => {
    const size = 2;
    const backlog = 2;
    const queue = new DeferredQueue<number | null>(size, backlog);
    let gotten: Array<number | null> = [];
    const collect = (value: number | null): void => {
      gotten.push(value);
    };

    for (let i = 0; i < backlog; i++) queue.get().addCallback(collect);
    assert.throws(() => queue.get(), QueueUnderflow);

    for (let i = 0; i < backlog; i++) {
      queue.put(i);
      assert.deepEqual(
        gotten,
        Array.from({ length: i + 1 }, (_, k) => k),
      );
    }
    for (let i = 0; i < size; i++) {
      queue.put(size + i);
      assert.deepEqual(gotten, [0, 1]);
    }
    assert.throws(() => queue.put(null), QueueOverflow);

    gotten = [];
    for (let i = 0; i < size; i++) {
      queue.get().addCallback(collect);
      assert.deepEqual(
        gotten,
        Array.from({ length: i + 1 }, (_, k) => size + k),
      );
    }
  });

  test('without limits, gets made before the puts receive them in order', () => {
    const queue = new DeferredQueue<number>();
    const gotten: number[] = [];
    for (let i = 0; i < 2; i++) {
      queue.get().addCallback((value) => {
        gotten.push(value);
      });
    }
    for (let i = 0; i < 2; i++) queue.put(i);
    assert.deepEqual(gotten, [0, 1]);
  });

  test('a size of zero refuses every put and a backlog of zero refuses every waiting get', () => {
    assert.throws(() => new DeferredQueue<null>({ size: 0 }).put(null), QueueOverflow);
    assert.throws(() => new DeferredQueue<null>({ backlog: 0 }).get(), QueueUnderflow);
    assert.equal(new QueueOverflow().code, 'ERR_QUEUE_OVERFLOW');
    assert.equal(new QueueUnderflow().code, 'ERR_QUEUE_UNDERFLOW');
  });

  test('cancelling a get that already has its object does nothing', () => {
    const queue = new DeferredQueue<null>();
    const d = queue.get();
    d.addErrback(mustNotFail);
    queue.put(null);
    d.cancel();
    assert.equal(successResultOf(d), null);
  });

  test('cancelling a waiting get fails it with CancelledError, and later puts skip it', () => {
    const queue = new DeferredQueue<null>();
    const d = queue.get();
    d.cancel();
    assertImmediateFailure(d, CancelledError);

    const done: unknown[] = [];
    d.addCallback(() => {
      // Were the cancelled get still waiting, this put would fire it again
      // and throw AlreadyCalledError.
      queue.put(null);
      return queue.get().addCallback((value) => {
        assert.equal(value, null);
      });
    });
    d.addCallback((value) => {
      done.push(value);
    });
    assert.equal(done.length, 1);
    assert.deepEqual(queue.pending, []);
    assert.deepEqual(queue.waiting, []);
  });
});
