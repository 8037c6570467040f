// Deferreds and promises: await, asPromise, fromPromise, fromAsync and
// ensureDeferred (ported from Twisted's twisted/test/test_defer.py
// DeferredFutureAdapterTests, EnsureDeferredTests and InlineCallbackTests,
// with asyncio Futures replaced by native promises).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as defer from 'torsion/defer';
import {
  CancelledError,
  Deferred,
  ensureDeferred,
  inlineCallbacks,
  NotACoroutineError,
  succeed,
} from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';
import { collectUntil } from '../../helpers/gc.js';

/** Lets every queued microtask and promise reaction run. */
function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise with its resolve and reject functions. */
function deferredPromise<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Deferred as a promise', () => {
  test('asPromise resolves when the Deferred fires, and consumes its result', async () => {
    const d = new Deferred<number>();
    const promise = d.asPromise();
    d.callback(13);
    assert.equal(await promise, 13);
    assert.equal(successResultOf(d), undefined);
  });

  test('asPromise rejects with the original error when the Deferred fails, consuming the failure', async () => {
    const d = new Deferred<null>();
    const error = new RangeError('division by zero');
    const promise = d.asPromise();
    d.errback(error);
    await assert.rejects(promise, (reason) => reason === error);
    assert.equal(successResultOf(d), undefined);
  });

  test('asPromise of a cancelled Deferred rejects with CancelledError after calling its canceller', async () => {
    let cancellerCalls = 0;
    const d = new Deferred<null>(() => {
      cancellerCalls++;
    });
    const promise = d.asPromise();
    d.cancel();
    assert.equal(cancellerCalls, 1);
    await assert.rejects(promise, CancelledError);
    assert.equal(successResultOf(d), undefined);
  });

  test('asPromise resolves with the success a canceller gives', async () => {
    const d = new Deferred<number>((cancelled) => cancelled.callback(9));
    const promise = d.asPromise();
    d.cancel();
    assert.equal(await promise, 9);
  });

  test('await gives the result of a fired Deferred and consumes it', async () => {
    const d = succeed('foo');
    assert.equal(await d, 'foo');
    assert.equal(successResultOf(d), undefined);
  });

  test('await throws the original error of a failed Deferred', async () => {
    const error = new TypeError('bad');
    const d = new Deferred<null>();
    const awaited = (async () => await d)();
    d.errback(error);
    await assert.rejects(awaited, (reason) => reason === error);
  });
});

describe('Deferred.fromPromise', () => {
  test('fires with the value the promise resolves to, once it does', async () => {
    const { promise, resolve } = deferredPromise<number>();
    const d = Deferred.fromPromise(promise);
    assertNoResult(d);
    resolve(7);
    await promise;
    assert.equal(successResultOf(d), 7);
  });

  test('fails with the reason the promise rejects with', async () => {
    const { promise, reject } = deferredPromise<number>();
    const d = Deferred.fromPromise(promise);
    const reason = new CancelledError('the promise was abandoned');
    reject(reason);
    await settle();
    assert.equal(failureResultOf(d, CancelledError).value, reason);
  });

  test('cancelling fails it with CancelledError at once; the late settlement is ignored', async () => {
    const { promise, resolve } = deferredPromise<number>();
    const d = Deferred.fromPromise(promise);
    d.cancel();
    failureResultOf(d, CancelledError);
    resolve(7);
    await promise;
    await settle();
    assert.equal(successResultOf(d), undefined);
  });

  test('cancelling it ignores a late rejection too, without an unhandled rejection or log', async () => {
    const { promise, reject } = deferredPromise<number>();
    const d = Deferred.fromPromise(promise);
    const logs = captureLogs();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      d.cancel();
      failureResultOf(d, CancelledError);
      reject(new RangeError('too late'));
      await settle();
      await settle();
    } finally {
      process.off('unhandledRejection', onRejection);
      logs.stop();
    }
    assert.deepEqual(rejections, []);
    assert.deepEqual(logs.events, []);
  });
});

describe('Deferred.fromAsync', () => {
  test('fires with what the async function returns', async () => {
    const d = Deferred.fromAsync(async () => 'done');
    await settle();
    assert.equal(successResultOf(d), 'done');
  });

  test('fails with what the async function throws, or throws synchronously', async () => {
    const thrown = new RangeError('async');
    const d = Deferred.fromAsync(async () => {
      throw thrown;
    });
    await settle();
    assert.equal(failureResultOf(d, RangeError).value, thrown);

    const sync = Deferred.fromAsync((): number => {
      throw new TypeError('sync');
    });
    failureResultOf(sync, TypeError);
  });

  test('cancel aborts the signal with a CancelledError and fails the Deferred at once', () => {
    let signal: AbortSignal | undefined;
    const d = Deferred.fromAsync((given) => {
      signal = given;
      return new Promise<never>(() => undefined);
    });
    assert.ok(signal !== undefined);
    assert.equal(signal.aborted, false);
    d.cancel();
    assert.equal(signal.aborted, true);
    assert.ok(signal.reason instanceof CancelledError);
    failureResultOf(d, CancelledError);
  });

  test('after cancel, a late rejection is ignored and not reported as unhandled', async () => {
    const logs = captureLogs();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    let d: Deferred<string>;
    try {
      d = Deferred.fromAsync(
        (signal) =>
          new Promise<string>((_resolve, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason));
          }),
      );
      d.cancel();
      await settle();
      await settle();
    } finally {
      process.off('unhandledRejection', onRejection);
      logs.stop();
    }
    failureResultOf(d, CancelledError);
    assert.deepEqual(rejections, []);
    assert.deepEqual(logs.events, []);
  });

  test('after cancel, a late success is ignored', async () => {
    const { promise, resolve } = deferredPromise<string>();
    const d = Deferred.fromAsync(() => promise);
    d.cancel();
    resolve('late');
    await settle();
    failureResultOf(d, CancelledError);
    assert.equal(successResultOf(d), undefined);
  });
});

describe('ensureDeferred', () => {
  test('gives back a Deferred unchanged', () => {
    const d = new Deferred<null>();
    assert.equal(ensureDeferred(d), d);
  });

  test('adopts a promise, such as the one an async function returns', async () => {
    const run = async (): Promise<string> => {
      const result = await succeed('foo');
      return result;
    };
    const promise = run();
    assert.ok(promise instanceof Promise);
    const d = ensureDeferred(promise);
    assert.ok(d instanceof Deferred);
    await promise;
    assert.equal(successResultOf(d), 'foo');
  });

  test('runs a generator as inlineCallbacks does', () => {
    function* run(): Generator<Deferred<string>, string, string> {
      const result = yield* succeed('foo');
      return result;
    }
    const d = ensureDeferred(run());
    assert.ok(d instanceof Deferred);
    assert.equal(successResultOf(d), 'foo');
  });

  test('refuses anything else with NotACoroutineError, a TypeError', () => {
    const notCoroutines: unknown[] = [
      'something',
      (x: unknown) => x,
      1,
      true,
      null,
      undefined,
      {},
      function* notStarted() {
        yield 1;
      },
      defer,
    ];
    for (const thing of notCoroutines) {
      assert.throws(
        () => ensureDeferred(thing as Deferred<unknown>),
        (error: unknown) =>
          error instanceof NotACoroutineError &&
          error instanceof TypeError &&
          error.code === 'ERR_NOT_A_COROUTINE',
        `accepted a ${typeof thing}`,
      );
    }
  });
});

describe('inlineCallbacks and ensureDeferred machinery', () => {
  test('inlineCallbacks refuses a function that does not return a generator', () => {
    const notGenerator = inlineCallbacks((() => 1) as unknown as () => Generator<never, number>);
    assert.throws(() => notGenerator(), TypeError);
  });

  test('keeps no reference to a finished run, its Deferred or its result', async () => {
    let objRef: WeakRef<object> | undefined;
    let dRef: WeakRef<object> | undefined;
    (() => {
      const obj = new Set<unknown>();
      objRef = new WeakRef(obj);
      function* func(a: Set<unknown>): Generator<Deferred<Set<unknown>>, Set<unknown>, never> {
        return yield* succeed(a);
      }
      const d = ensureDeferred(func(obj));
      assert.equal(successResultOf(d), obj);
      dRef = new WeakRef(d);
    })();
    const freed = await collectUntil(
      () => objRef?.deref() === undefined && dRef?.deref() === undefined,
    );
    assert.ok(freed, 'the result or the Deferred was kept alive');
  });
});

describe('Deferred.fromCoroutine', () => {
  test("fires with what an async function's promise resolves to", async () => {
    const main = async (): Promise<number> => 6 * 7;
    const d = Deferred.fromCoroutine(main());
    assert.equal(await d, 42);
  });

  test('fails with what the async function throws', async () => {
    const main = async (): Promise<never> => {
      throw new RangeError('no');
    };
    const d = Deferred.fromCoroutine(main());
    await assert.rejects(d.asPromise(), RangeError);
  });

  test('runs a generator as inlineCallbacks does', () => {
    function* main(): Generator<unknown, number, never> {
      const x: number = yield* succeed(20);
      return x + 1;
    }
    assert.equal(successResultOf(Deferred.fromCoroutine(main())), 21);
  });

  test('refuses a Deferred and anything that is not a coroutine, with NotACoroutineError', () => {
    assert.throws(
      () => Deferred.fromCoroutine(succeed(1)),
      (error: unknown) =>
        error instanceof NotACoroutineError && /a Deferred \(use it as it is\)/.test(error.message),
    );
    assert.throws(
      () => Deferred.fromCoroutine(42 as unknown as Promise<number>),
      (error: unknown) =>
        error instanceof NotACoroutineError &&
        /fromCoroutine needs a promise or a generator, got 42/.test(error.message),
    );
  });
});
