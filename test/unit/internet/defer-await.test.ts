// `await d` in async functions and `yield* d` in generators (ported from
// Twisted's twisted/internet/test/test_defer_await.py and
// test_defer_yieldfrom.py). Twisted's Deferred.fromCoroutine is
// ensureDeferred or Deferred.fromPromise for an async function's promise, and
// ensureDeferred or inlineCallbacks for a generator.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Deferred,
  ensureDeferred,
  Failure,
  fail,
  inlineCallbacks,
  maybeDeferred,
  NotACoroutineError,
  succeed,
} from 'torsion/defer';
import { Clock } from 'torsion/task';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class SampleError extends Error {
  override name = 'SampleError';
}

/** Lets every pending promise reaction run (microtasks only). */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

describe('await on a Deferred', () => {
  test('a Deferred is a thenable whose then() gives a native promise', async () => {
    const d = succeed('value');
    const promise = d.then((v) => v.length);
    assert.ok(promise instanceof Promise);
    assert.equal(await promise, 5);
  });

  test('ensureDeferred turns the promise of an async function that awaits Deferreds into a Deferred', async () => {
    const run2 = async (): Promise<string> => {
      const res = await succeed('foo');
      return res;
    };
    const run = async (): Promise<string> => {
      await succeed('bar');
      return await run2();
    };
    const r = run();
    assert.ok(r instanceof Promise);
    const d = ensureDeferred(r);
    assert.ok(d instanceof Deferred);
    await drainMicrotasks();
    assert.equal(successResultOf(d), 'foo');
  });

  test('Deferred.fromPromise gives the result of an async function that awaits a Deferred', async () => {
    const run = async (): Promise<string> => await succeed('foo');
    const d = Deferred.fromPromise(run());
    await drainMicrotasks();
    assert.equal(successResultOf(d), 'foo');
  });

  test('an error thrown in the async function fails the Deferred with that error', async () => {
    const thrown = new RangeError('Oh no!');
    const run = async (): Promise<never> => {
      await succeed('foo');
      throw thrown;
    };
    const d = Deferred.fromPromise(run());
    await drainMicrotasks();
    const failure = failureResultOf(d, RangeError);
    assert.equal(failure.value, thrown);
    assert.equal(failure.getErrorMessage(), 'Oh no!');
  });

  test('awaiting a Deferred that has already failed throws the original error, which still shows where it was raised', async () => {
    function raises(): never {
      throw new SampleError();
    }
    const it = maybeDeferred(raises);
    const doomed = async (): Promise<void> => await it;
    const d = Deferred.fromPromise(doomed());
    await drainMicrotasks();
    const failure = failureResultOf(d, SampleError);
    assert.match(failure.getTraceback(), /at raises /);
  });

  test('awaiting a Deferred that fails later throws the error it failed with', async () => {
    function returnsFailure(): Failure {
      try {
        throw new SampleError();
      } catch (error) {
        return new Failure(error);
      }
    }
    const it = new Deferred<void>();
    const doomed = async (): Promise<void> => await it;
    const started = Deferred.fromPromise(doomed());
    await drainMicrotasks();
    assertNoResult(started);
    const original = returnsFailure();
    it.errback(original);
    await drainMicrotasks();
    const failure = failureResultOf(started, SampleError);
    assert.equal(failure.value, original.value);
    assert.match(failure.getTraceback(), /at returnsFailure /);
  });

  test('an async function awaiting Deferreds is suspended until each one fires', async () => {
    const reactor = new Clock();
    const sections: number[] = [];
    const runone = async (): Promise<string> => {
      sections.push(2);
      const d = new Deferred<number>();
      reactor.callLater(1, () => d.callback(2));
      await d;
      sections.push(3);
      return 'Yay!';
    };
    const run = async (): Promise<string> => {
      sections.push(1);
      const result = await runone();
      sections.push(4);
      const d = new Deferred<number>();
      reactor.callLater(1, () => d.callback(1));
      await d;
      sections.push(5);
      return result;
    };
    const d = ensureDeferred(run());

    reactor.advance(0.9);
    await drainMicrotasks();
    assert.deepEqual(sections, [1, 2]);

    reactor.advance(0.1);
    await drainMicrotasks();
    assert.deepEqual(sections, [1, 2, 3, 4]);

    reactor.advance(0.9);
    await drainMicrotasks();
    assert.deepEqual(sections, [1, 2, 3, 4]);

    reactor.advance(0.1);
    await drainMicrotasks();
    assert.deepEqual(sections, [1, 2, 3, 4, 5]);
    assert.equal(successResultOf(d), 'Yay!');
  });

  test('awaiting an already failed Deferred throws its error, which can be caught', async () => {
    const test = async (): Promise<number> => {
      try {
        await fail(new RangeError('Boom'));
      } catch (error) {
        assert.ok(error instanceof RangeError);
        assert.equal(error.message, 'Boom');
        return 1;
      }
      return 0;
    };
    assert.equal(await test(), 1);
  });

  test('awaiting a Deferred paused on a chained one gives the result once that fires', async () => {
    const reactor = new Clock();
    const test = async (): Promise<string> => {
      const d = new Deferred<null>();
      const d2 = new Deferred<string>();
      const chained = d.addCallback(() => d2);
      d.callback(null);
      reactor.callLater(0, () => d2.callback('bye'));
      return await chained;
    };
    const d = ensureDeferred(test());
    reactor.advance(0.1);
    await drainMicrotasks();
    assert.equal(successResultOf(d), 'bye');
  });

  test('awaiting a Deferred that failed with a value that is not an Error throws that value', async () => {
    const reason = { code: 'E_PLAIN' };
    await assert.rejects(
      async () => await fail(reason),
      (thrown: unknown) => thrown === reason,
    );
  });

  test('after await, the Deferred holds undefined: the result was consumed', async () => {
    const d = succeed('consumed');
    assert.equal(await d, 'consumed');
    assert.equal(successResultOf(d), undefined);
  });

  test('after await of a failed Deferred, its failure is handled and it holds undefined', async () => {
    const d = fail(new SampleError('handled by await'));
    await assert.rejects(async () => await d, SampleError);
    assert.equal(successResultOf(d), undefined);
  });

  test('a rejected promise gives a Deferred that failed with the rejection reason, whatever it is', async () => {
    const d = Deferred.fromPromise(Promise.reject('just a string'));
    await drainMicrotasks();
    assert.equal(failureResultOf(d, 'String').value, 'just a string');
  });
});

describe('ensureDeferred', () => {
  test('gives back a Deferred as it is', () => {
    const d = new Deferred<number>();
    assert.equal(ensureDeferred(d), d);
  });

  test('rejects anything that is not a Deferred, a promise or a generator with NotACoroutineError', () => {
    assert.throws(
      () => ensureDeferred(42 as unknown as Deferred<number>),
      (error: unknown) => error instanceof NotACoroutineError && error instanceof TypeError,
    );
  });
});

describe('yield* on a Deferred', () => {
  test('ensureDeferred runs a generator that uses yield* d, synchronously', () => {
    function* run(): Generator<Deferred<string>, string, string> {
      const res = yield* succeed('foo');
      return res;
    }
    const r = run();
    assert.equal(Object.prototype.toString.call(r), '[object Generator]');
    const d = ensureDeferred(r);
    assert.ok(d instanceof Deferred);
    assert.equal(successResultOf(d), 'foo');
  });

  test('yield* of another generator runs it within the same one', () => {
    function* run2(): Generator<Deferred<string>, string, string> {
      return yield* succeed('foo');
    }
    function* run(): Generator<Deferred<string>, string, string> {
      yield* succeed('bar');
      return yield* run2();
    }
    assert.equal(successResultOf(ensureDeferred(run())), 'foo');
  });

  test('inlineCallbacks gives the result of a generator that uses yield* d', () => {
    const run = inlineCallbacks(function* () {
      return yield* succeed('foo');
    });
    assert.equal(successResultOf(run()), 'foo');
  });

  test('an error thrown in the generator fails the Deferred with that error', () => {
    const thrown = new RangeError('Oh no!');
    function* run(): Generator<Deferred<string>, never, string> {
      yield* succeed('foo');
      throw thrown;
    }
    const failure = failureResultOf(ensureDeferred(run()), RangeError);
    assert.equal(failure.value, thrown);
  });

  test('a generator using yield* is suspended until each Deferred fires', () => {
    const reactor = new Clock();
    const sections: number[] = [];
    function* runone(): Generator<Deferred<null>, string, null> {
      sections.push(2);
      const d = new Deferred<null>();
      reactor.callLater(1, () => d.callback(null));
      yield* d;
      sections.push(3);
      return 'Yay!';
    }
    function* run(): Generator<Deferred<null>, string, null> {
      sections.push(1);
      const result = yield* runone();
      sections.push(4);
      const d = new Deferred<null>();
      reactor.callLater(1, () => d.callback(null));
      yield* d;
      sections.push(5);
      return result;
    }
    const d = ensureDeferred(run());

    reactor.advance(0.9);
    assert.deepEqual(sections, [1, 2]);
    reactor.advance(0.1);
    assert.deepEqual(sections, [1, 2, 3, 4]);
    reactor.advance(0.9);
    assert.deepEqual(sections, [1, 2, 3, 4]);
    reactor.advance(0.1);
    assert.deepEqual(sections, [1, 2, 3, 4, 5]);
    assert.equal(successResultOf(d), 'Yay!');
  });

  test('yield* of an already failed Deferred throws its error, which can be caught', () => {
    function* test(): Generator<Deferred<never>, number, never> {
      try {
        yield* fail(new RangeError('Boom'));
      } catch (error) {
        assert.ok(error instanceof RangeError);
        assert.equal(error.message, 'Boom');
        return 1;
      }
      return 0;
    }
    assert.equal(successResultOf(ensureDeferred(test())), 1);
  });

  test('yield* of a Deferred paused on a chained one gives the result once that fires', () => {
    const reactor = new Clock();
    function* test(): Generator<Deferred<string>, string, string> {
      const d = new Deferred<null>();
      const d2 = new Deferred<string>();
      const chained = d.addCallback(() => d2);
      d.callback(null);
      reactor.callLater(0, () => d2.callback('bye'));
      const res = yield* chained;
      return res;
    }
    const d = ensureDeferred(test());
    assertNoResult(d);
    reactor.advance(0.1);
    assert.equal(successResultOf(d), 'bye');
  });
});
