// DeferredList, gatherResults, maybeDeferred and ensureDeferred (ported from
// Twisted's twisted/test/test_defer.py DeferredTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CancelledError,
  Deferred,
  DeferredList,
  type DeferredListEntry,
  ensureDeferred,
  Failure,
  FirstError,
  fail,
  gatherResults,
  maybeDeferred,
  NotACoroutineError,
  succeed,
} from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class GenericError extends Error {
  override name = 'GenericError';
}

/** A canceller that fires the cancelled Deferred with "Callback Result". */
function fakeCallbackCanceller(d: Deferred<string>): void {
  d.callback('Callback Result');
}

/** The Failure of a `[false, failure]` entry; fails the test for a success entry. */
function failureOf<T>(entry: DeferredListEntry<T> | undefined): Failure {
  assert.ok(entry !== undefined);
  const [ok, value] = entry;
  assert.equal(ok, false);
  assert.ok(value instanceof Failure);
  return value;
}

describe('DeferredList', () => {
  test('fires, once every input has fired, with a [success, result] entry per input, in input order', () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const d3 = new Deferred<string>();
    const dl = new DeferredList([d1, d2, d3]);
    const results: Array<DeferredListEntry<string>[] | Failure> = [];
    dl.addCallbacks(
      (entries) => {
        results.push(entries);
      },
      (failure) => {
        results.push(failure);
      },
    );
    d1.callback('1');
    d2.addErrback(() => undefined);
    d2.errback(new GenericError('2'));
    assert.deepEqual(results, []);
    d3.callback('3');
    assert.equal(results.length, 1);
    // Re-typed: the deepEqual above narrowed `results` to an empty array.
    const [entries] = results as Array<DeferredListEntry<string>[] | Failure>;
    assert.ok(Array.isArray(entries));
    assert.equal(entries.length, 3);
    assert.deepEqual(entries[0], [true, '1']);
    assert.equal(failureOf(entries[1]).getErrorMessage(), '2');
    assert.ok(failureOf(entries[1]).value instanceof GenericError);
    assert.deepEqual(entries[2], [true, '3']);
  });

  test('keeps input order whatever order the inputs fire in', () => {
    const ds = [new Deferred<number>(), new Deferred<number>(), new Deferred<number>()];
    const dl = new DeferredList(ds);
    ds[2]!.callback(3);
    ds[0]!.callback(1);
    ds[1]!.callback(2);
    assert.deepEqual(successResultOf(dl), [
      [true, 1],
      [true, 2],
      [true, 3],
    ]);
  });

  test('of no Deferreds fires at once with an empty list', () => {
    const results: unknown[] = [];
    new DeferredList<void>([]).addCallbacks((entries) => {
      results.push(entries);
    });
    assert.deepEqual(results, [[]]);
  });

  test('shows itself as a DeferredList', () => {
    assert.match(String(new DeferredList([])), /^<DeferredList #\d+ current result: \[\]>$/);
    assert.equal(DeferredList.name, 'DeferredList');
  });

  test('of no Deferreds with fireOnOneCallback never fires', () => {
    assertNoResult(new DeferredList<void>([], { fireOnOneCallback: true }));
  });

  test('with fireOnOneErrback fails with a FirstError holding the first failure and its index', () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const d3 = new Deferred<string>();
    const dl = new DeferredList([d1, d2, d3], { fireOnOneErrback: true });
    const failures: Failure[] = [];
    dl.addErrback((f) => {
      failures.push(f);
    });
    d2.addErrback(() => undefined);
    d1.callback('1');
    assert.equal(failures.length, 0);
    d2.errback(new GenericError('from def2'));
    assert.equal(failures.length, 1);
    const firstError = failures[0]!.value;
    assert.ok(firstError instanceof FirstError);
    assert.equal(firstError.subFailure.type, GenericError);
    assert.equal(firstError.subFailure.getErrorMessage(), 'from def2');
    assert.equal(firstError.index, 1);
  });

  test('without consumeErrors leaves each failure in its input for the errbacks added after the list', () => {
    const d1 = new Deferred<void>();
    const dl = new DeferredList([d1]);
    const errorTrap: Failure[] = [];
    d1.addErrback((f) => {
      errorTrap.push(f);
    });
    const resultLists: DeferredListEntry<void>[][] = [];
    dl.addCallback((entries) => {
      resultLists.push(entries);
    });
    d1.errback(new GenericError('Bang'));
    assert.equal(errorTrap.length, 1);
    assert.equal(errorTrap[0]!.getErrorMessage(), 'Bang');
    assert.equal(resultLists.length, 1);
    assert.equal(failureOf(resultLists[0]![0]).getErrorMessage(), 'Bang');
  });

  test('with consumeErrors turns each failure into undefined in its input, but keeps it in the list', () => {
    const d1 = new Deferred<void>();
    const dl = new DeferredList([d1], { consumeErrors: true });
    const errorTrap: Failure[] = [];
    d1.addErrback((f) => {
      errorTrap.push(f);
    });
    const resultLists: DeferredListEntry<void>[][] = [];
    dl.addCallback((entries) => {
      resultLists.push(entries);
    });
    d1.errback(new GenericError('Bang'));
    assert.deepEqual(errorTrap, []);
    assert.equal(successResultOf(d1), undefined);
    assert.equal(resultLists.length, 1);
    assert.equal(failureOf(resultLists[0]![0]).getErrorMessage(), 'Bang');
  });

  test('with fireOnOneErrback fails at once when an input has already failed', () => {
    const d1 = new Deferred<void>();
    const d2 = new Deferred<void>();
    d1.errback(new GenericError('Bang'));
    const dl = new DeferredList([d1, d2], { fireOnOneErrback: true });
    const failures: Failure[] = [];
    dl.addErrback((f) => {
      failures.push(f);
    });
    assert.equal(failures.length, 1);
    assert.ok(failures[0]!.check(FirstError));
    failureResultOf(d1, GenericError);
  });

  test('fires at once when every input has already fired', () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    d1.errback(new GenericError('Bang'));
    d2.callback(2);
    const dl = new DeferredList([d1, d2]);
    const results: DeferredListEntry<number>[][] = [];
    dl.addCallback((entries) => {
      results.push(entries);
    });
    assert.equal(results.length, 1);
    assert.ok(failureOf(results[0]![0]).check(GenericError));
    assert.deepEqual(results[0]![1], [true, 2]);
    failureResultOf(d1, GenericError);
  });

  test('with fireOnOneCallback fires with [result, index] of the first input to succeed', () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const dl = new DeferredList([d1, d2], { fireOnOneCallback: true });
    d2.callback('second');
    d1.callback('first');
    assert.deepEqual(successResultOf(dl), ['second', 1]);
    assert.equal(successResultOf(d1), 'first');
  });

  test('with fireOnOneCallback fires with the full list when every input fails', () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const dl = new DeferredList([d1, d2], { fireOnOneCallback: true, consumeErrors: true });
    d1.errback(new GenericError('one'));
    assertNoResult(dl);
    d2.errback(new GenericError('two'));
    const entries = successResultOf(dl) as DeferredListEntry<string>[];
    assert.equal(failureOf(entries[0]).getErrorMessage(), 'one');
    assert.equal(failureOf(entries[1]).getErrorMessage(), 'two');
  });

  test('sees an input’s result after the callbacks added to that input before the list', () => {
    const d1 = new Deferred<number>();
    d1.addCallback((n) => n * 10);
    const dl = new DeferredList([d1]);
    d1.callback(4);
    assert.deepEqual(successResultOf(dl), [[true, 40]]);
  });
});

describe('DeferredList.cancel', () => {
  test('cancels every input of a list that has not fired', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two]);
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    const entries = successResultOf(dl);
    assert.ok(failureOf(entries[0]).check(CancelledError));
    assert.ok(failureOf(entries[1]).check(CancelledError));
  });

  test('fires the list with the entries, including results that cancellers called back with', () => {
    const one = new Deferred<string>(fakeCallbackCanceller);
    const two = new Deferred<string>();
    const dl = new DeferredList([one, two]);
    dl.cancel();
    failureResultOf(two, CancelledError);
    const entries = successResultOf(dl);
    assert.deepEqual(entries[0], [true, 'Callback Result']);
    assert.ok(failureOf(entries[1]).check(CancelledError));
  });

  test('with fireOnOneCallback cancels every input', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
  });

  test('with fireOnOneCallback fires with [result, index] when a canceller calls back', () => {
    const one = new Deferred<string>(fakeCallbackCanceller);
    const two = new Deferred<string>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    dl.cancel();
    failureResultOf(two, CancelledError);
    assert.deepEqual(successResultOf(dl), ['Callback Result', 0]);
  });

  test('with fireOnOneErrback cancels every input and fails with a FirstError of a CancelledError', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    const firstError = failureResultOf(dl, FirstError).value as FirstError;
    assert.ok(firstError.subFailure.check(CancelledError));
    assert.equal(firstError.index, 0);
  });

  test('with fireOnOneErrback fires with the entries when every canceller calls back', () => {
    const one = new Deferred<string>(fakeCallbackCanceller);
    const two = new Deferred<string>(fakeCallbackCanceller);
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    dl.cancel();
    assert.deepEqual(successResultOf(dl), [
      [true, 'Callback Result'],
      [true, 'Callback Result'],
    ]);
  });

  test('cancels the inputs given, not Deferreds added later to the array passed in', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const inputs = [one, two];
    const dl = new DeferredList(inputs);
    const three = new Deferred<void>();
    inputs.push(three);
    dl.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    assertNoResult(three);
  });

  test('logs an error thrown by a canceller and still cancels the other inputs', () => {
    class CancellerError extends Error {}
    const one = new Deferred<void>(() => {
      throw new CancellerError('test');
    });
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two]);
    const logs = captureLogs();
    try {
      dl.cancel();
    } finally {
      logs.stop();
    }
    failureResultOf(two, CancelledError);
    assertNoResult(one);
    const logged = logs.events.filter((event) => event.log_failure?.check(CancellerError));
    assert.equal(logged.length, 1);
  });

  test('does nothing once the list has fired because an input succeeded (fireOnOneCallback)', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two], { fireOnOneCallback: true });
    one.callback();
    dl.cancel();
    assertNoResult(two);
    assert.deepEqual(successResultOf(dl), [undefined, 0]);
  });

  test('does nothing once the list has fired because an input failed (fireOnOneErrback)', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const dl = new DeferredList([one, two], { fireOnOneErrback: true });
    one.errback(new GenericError('test'));
    dl.cancel();
    assertNoResult(two);
    failureResultOf(one, GenericError);
    failureResultOf(dl, FirstError);
  });
});

describe('gatherResults', () => {
  test('fires with the results of the inputs, in order', () => {
    const results: number[][] = [];
    gatherResults([succeed(1), succeed(2)]).addCallback((values) => {
      results.push(values);
    });
    assert.deepEqual(results, [[1, 2]]);
  });

  test('of no Deferreds fires at once with an empty list', () => {
    assert.deepEqual(successResultOf(gatherResults<number>([])), []);
  });

  test('fails with a FirstError as soon as one input fails', () => {
    const errors: Failure[] = [];
    const inputs = [succeed(1), fail<number>(new RangeError('bad value'))];
    gatherResults(inputs).addErrback((f) => {
      errors.push(f);
    });
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof Failure);
    const firstError = errors[0].value;
    assert.ok(firstError instanceof FirstError);
    assert.equal(firstError.index, 1);
    assert.ok(firstError.subFailure.check(RangeError));
    failureResultOf(inputs[1]!, RangeError);
  });

  test('with consumeErrors turns the input’s failure into undefined, and still fails', () => {
    const good = succeed(1);
    const bad = fail<number>(new RangeError('oh noes'));
    const d = gatherResults([good, bad], { consumeErrors: true });
    const unconsumed: Failure[] = [];
    bad.addErrback((f) => {
      unconsumed.push(f);
    });
    const gathered: Failure[] = [];
    d.addErrback((f) => {
      gathered.push(f);
    });
    assert.equal(unconsumed.length, 0);
    assert.equal(gathered.length, 1);
    const firstError = gathered[0]!.value;
    assert.ok(firstError instanceof FirstError);
    assert.ok(firstError.subFailure.value instanceof RangeError);
  });

  test('cancelled, cancels every input and fails with a FirstError of a CancelledError', () => {
    const one = new Deferred<void>();
    const two = new Deferred<void>();
    const result = gatherResults([one, two]);
    result.cancel();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    const firstError = failureResultOf(result, FirstError).value as FirstError;
    assert.ok(firstError.subFailure.check(CancelledError));
  });

  test('cancelled, fires with the results when every canceller calls back', () => {
    const one = new Deferred<string>(fakeCallbackCanceller);
    const two = new Deferred<string>(fakeCallbackCanceller);
    const result = gatherResults([one, two]);
    result.cancel();
    assert.deepEqual(successResultOf(result), ['Callback Result', 'Callback Result']);
  });
});

describe('maybeDeferred', () => {
  test('gives a fired Deferred of the value a synchronous function returns', () => {
    const value = { token: 'result' };
    const results: object[] = [];
    const errors: Failure[] = [];
    maybeDeferred(() => value).addCallbacks(
      (r) => {
        results.push(r);
      },
      (f) => {
        errors.push(f);
      },
    );
    assert.deepEqual(errors, []);
    assert.equal(results.length, 1);
    assert.equal(results[0], value);
  });

  test('passes its extra arguments to the function', () => {
    const plusFive = (x: number): number => x + 5;
    const d: Deferred<number> = maybeDeferred(plusFive, 10);
    assert.equal(successResultOf(d), 15);
  });

  test('gives a failed Deferred of the error a synchronous function throws', () => {
    const expected = new RangeError('that value is unacceptable');
    const d = maybeDeferred((): number => {
      throw expected;
    });
    assert.equal(failureResultOf(d, RangeError).value, expected);
  });

  test('gives a failed Deferred of the very Failure a function returns', () => {
    const expected = new Failure(new TypeError('cannot add a string to a number'));
    const errors: Failure[] = [];
    maybeDeferred(() => expected).addErrback((f) => {
      errors.push(f);
    });
    assert.equal(errors.length, 1);
    assert.equal(errors[0], expected);
  });

  test('gives back the very Deferred a function returns', () => {
    const d1 = new Deferred<string>();
    const d2 = maybeDeferred(() => d1);
    assert.equal(d2, d1);
    d1.callback('Success');
    assert.equal(successResultOf(d2), 'Success');
  });

  test('gives back a returned Deferred that fails later with its failure', () => {
    const d1 = new Deferred<void>();
    const d2 = maybeDeferred(() => d1);
    d1.errback(new Failure(new RangeError('later')));
    failureResultOf(d2, RangeError);
  });

  test('adopts the promise an async function returns: waiting at first, then its value', async () => {
    const d = maybeDeferred(async () => 7);
    assertNoResult(d);
    assert.equal(await d, 7);
  });

  test('adopts a promise returned by a plain function, with its type, for further callbacks', async () => {
    const f = async (): Promise<number> => 7;
    const g = (): Promise<number> => f();
    const d: Deferred<number> = maybeDeferred(g).addCallback((n) => n + 1);
    assert.equal(await d, 8);
  });

  test('fails with the error an async function throws', async () => {
    class SomeError extends Error {}
    const f = async (): Promise<void> => {
      throw new SomeError();
    };
    const d = maybeDeferred(() => f());
    await assert.rejects(d.asPromise(), SomeError);
  });
});

describe('ensureDeferred', () => {
  test('runs a generator to completion, synchronously, and fires with what it returns', () => {
    function* returnsOne(): Generator<unknown, number, never> {
      const one = yield* succeed(1);
      return one;
    }
    assert.equal(successResultOf(ensureDeferred(returnsOne())), 1);
  });

  test('gives back a Deferred as it is', () => {
    const d = new Deferred<number>();
    assert.equal(ensureDeferred(d), d);
  });

  test('adopts a promise, waiting until it settles', async () => {
    const d = ensureDeferred((async () => 1)());
    assertNoResult(d);
    assert.equal(await d, 1);
  });

  test('throws NotACoroutineError, a TypeError, for anything that is not a Deferred, a promise or a generator', () => {
    function aFunction(): void {}
    const notCoroutines: unknown[] = [
      (x: unknown) => x,
      1,
      true,
      aFunction,
      null,
      undefined,
      { succeed, fail },
    ];
    for (const thing of notCoroutines) {
      assert.throws(
        () => ensureDeferred(thing as Deferred<unknown>),
        (error) => error instanceof NotACoroutineError && error instanceof TypeError,
        `accepted ${String(thing)}`,
      );
    }
  });
});
