// Deferred: adding callbacks, firing, errors in callbacks, pausing, re-entrancy,
// printing and the canceller once fired (ported from Twisted's
// twisted/test/test_defer.py DeferredTests; chaining is in
// defer-chaining.test.ts, DeferredList & co in defer-list.test.ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AlreadyCalledError,
  CancelledError,
  Deferred,
  Failure,
  fail,
  succeed,
} from 'torsion/defer';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class GenericError extends Error {
  override name = 'GenericError';
}

/** A pass-through callback that records the arguments of every call. */
function recorder<T>(): { calls: unknown[][]; fn: (result: T, ...extra: unknown[]) => T } {
  const calls: unknown[][] = [];
  return {
    calls,
    fn: (result: T, ...extra: unknown[]): T => {
      calls.push([result, ...extra]);
      return result;
    },
  };
}

/** An errback that records the arguments of every call and recovers with undefined. */
function errorRecorder(): {
  calls: unknown[][];
  fn: (failure: Failure, ...extra: unknown[]) => void;
} {
  const calls: unknown[][] = [];
  return {
    calls,
    fn: (failure: Failure, ...extra: unknown[]): void => {
      calls.push([failure, ...extra]);
    },
  };
}

describe('Deferred.addCallback', () => {
  test('calls the callback with the result alone when no extra arguments are given', () => {
    const d = new Deferred<string>();
    const callback = recorder<string>();
    const errback = errorRecorder();
    d.addCallback(callback.fn).addErrback(errback.fn);
    d.callback('hello');
    assert.deepEqual(callback.calls, [['hello']]);
    assert.deepEqual(errback.calls, []);
  });

  test('passes an extra argument after the result', () => {
    const d = new Deferred<string>();
    const callback = recorder<string>();
    d.addCallback(callback.fn, 'world');
    d.callback('hello');
    assert.deepEqual(callback.calls, [['hello', 'world']]);
  });

  test('passes several extra arguments after the result, in order (Twisted passes them as keywords)', () => {
    const d = new Deferred<string>();
    const callback = recorder<string>();
    d.addCallback(callback.fn, 'world', 42, { flag: true });
    d.callback('hello');
    assert.deepEqual(callback.calls, [['hello', 'world', 42, { flag: true }]]);
  });

  test('gives each callback the return value of the callback before it', () => {
    const d = new Deferred<string>();
    const first = recorder<string>();
    const second = recorder<string>();
    d.addCallback(first.fn)
      .addCallback(second.fn)
      .addCallback((s) => `${s}!`)
      .addCallback((s) => s.length);
    d.callback('hello');
    assert.deepEqual(first.calls, [['hello']]);
    assert.deepEqual(second.calls, [['hello']]);
    assert.equal(successResultOf(d), 6);
  });

  test('runs a callback added after firing at once with the current result', () => {
    const d = new Deferred<number>();
    d.callback(21);
    const seen: number[] = [];
    d.addCallback((n) => {
      seen.push(n);
      return n * 2;
    });
    assert.deepEqual(seen, [21]);
    assert.equal(successResultOf(d), 42);
  });

  test('is skipped while the result is a failure', () => {
    const d = new Deferred<string>();
    const callback = recorder<string>();
    d.addCallback(callback.fn);
    d.errback(new GenericError('no'));
    assert.deepEqual(callback.calls, []);
    failureResultOf(d, GenericError);
  });

  test('returns the same Deferred, so that calls chain', () => {
    const d = new Deferred<number>();
    assert.equal(
      d.addCallback((n) => n),
      d,
    );
  });
});

describe('Deferred.addCallbacks', () => {
  test('passes a failure on untouched when the errback is null', () => {
    const error = new GenericError('oopsie');
    const d = new Deferred<string>();
    const callback = recorder<string>();
    const errback = errorRecorder();
    d.addCallbacks(callback.fn, null);
    d.errback(error);
    d.addErrback(errback.fn);
    assert.deepEqual(callback.calls, []);
    assert.equal(errback.calls.length, 1);
    const [failure, ...extra] = errback.calls[0]!;
    assert.ok(failure instanceof Failure);
    assert.equal(failure.value, error);
    assert.deepEqual(extra, []);
  });

  test('calls the callback with the result alone when callbackArgs is null', () => {
    const d = new Deferred<string>();
    const callback = recorder<string>();
    const errback = errorRecorder();
    d.addCallbacks(callback.fn, errback.fn, null, []);
    d.callback('hello');
    assert.deepEqual(callback.calls, [['hello']]);
    assert.deepEqual(errback.calls, []);
  });

  test('calls the errback with the failure alone when errbackArgs is null', () => {
    const error = new GenericError('oopsie');
    const d = new Deferred<string>();
    const callback = recorder<string>();
    const errback = errorRecorder();
    d.addCallbacks(callback.fn, errback.fn, [], null);
    d.errback(error);
    assert.deepEqual(callback.calls, []);
    assert.equal(errback.calls.length, 1);
    const [failure, ...extra] = errback.calls[0]!;
    assert.ok(failure instanceof Failure);
    assert.equal(failure.value, error);
    assert.deepEqual(extra, []);
  });

  test('gives callbackArgs to the callback and errbackArgs to the errback', () => {
    const ok = new Deferred<string>();
    const bad = new Deferred<string>();
    const callback = recorder<string>();
    const errback = errorRecorder();
    ok.addCallbacks(callback.fn, errback.fn, ['for callback'], ['for errback']);
    bad.addCallbacks(callback.fn, errback.fn, ['for callback'], ['for errback']);
    ok.callback('hello');
    bad.errback(new GenericError('bad'));
    assert.deepEqual(callback.calls, [['hello', 'for callback']]);
    assert.equal(errback.calls.length, 1);
    assert.equal(errback.calls[0]![1], 'for errback');
  });

  test('runs exactly one of the two functions of a step', () => {
    const events: string[] = [];
    const d = new Deferred<string>();
    d.addCallbacks(
      () => {
        events.push('callback');
        throw new GenericError('from the callback');
      },
      () => {
        events.push('errback of the same step');
      },
    );
    d.callback('go');
    assert.deepEqual(events, ['callback']);
    failureResultOf(d, GenericError);
  });
});

describe('Deferred.addErrback and Deferred.addBoth', () => {
  test('addErrback passes extra arguments after the failure', () => {
    const d = new Deferred<string>();
    const errback = errorRecorder();
    d.addErrback(errback.fn, 'extra', 2);
    d.errback(new GenericError('bad'));
    assert.equal(errback.calls.length, 1);
    assert.deepEqual(errback.calls[0]!.slice(1), ['extra', 2]);
  });

  test('addBoth runs on success and on failure, with the extra arguments either way', () => {
    const seen: unknown[][] = [];
    const both = (result: unknown, tag: string): void => {
      seen.push([result instanceof Failure ? 'failure' : result, tag]);
    };
    const ok = new Deferred<string>();
    const bad = new Deferred<string>();
    ok.addBoth(both, 'ok');
    bad.addBoth(both, 'bad');
    ok.callback('value');
    bad.errback(new GenericError('error'));
    assert.deepEqual(seen, [
      ['value', 'ok'],
      ['failure', 'bad'],
    ]);
  });
});

describe('Deferred.callback', () => {
  test('runs the callbacks already added, in order, before it returns', () => {
    const events: string[] = [];
    const d = new Deferred<string>();
    d.addCallback(() => events.push('first'));
    d.addCallback(() => events.push('second'));
    d.callback('go');
    events.push('returned');
    assert.deepEqual(events, ['first', 'second', 'returned']);
  });

  test('sets called from false to true', () => {
    const d = new Deferred<string>();
    assert.equal(d.called, false);
    d.callback('x');
    assert.equal(d.called, true);
  });

  test('throws AlreadyCalledError when the Deferred has already fired', () => {
    const d = new Deferred<string>();
    d.callback('once');
    assert.throws(() => d.callback('twice'), AlreadyCalledError);
    assert.throws(() => d.errback(new GenericError('late')), AlreadyCalledError);
    assert.equal(successResultOf(d), 'once');
  });

  test('throws TypeError when given a Deferred (return it from a callback to chain it)', () => {
    const d = new Deferred<unknown>();
    assert.throws(() => d.callback(new Deferred<string>()), TypeError);
    assert.equal(d.called, false);
    assertNoResult(d);
  });

  test('takes the error path when given a Failure', () => {
    const d = new Deferred<string>();
    const failure = new Failure(new GenericError('as a result'));
    d.callback(failure);
    assert.equal(failureResultOf(d, GenericError), failure);
  });
});

describe('Deferred.errback', () => {
  test('wraps a plain value in a Failure', () => {
    const d = new Deferred<string>();
    d.errback('just a string');
    const failure = failureResultOf(d);
    assert.ok(failure instanceof Failure);
    assert.equal(failure.value, 'just a string');
  });

  test('wraps an Error in a Failure whose value is that very Error', () => {
    const error = new GenericError('Bang');
    const d = new Deferred<string>();
    d.errback(error);
    assert.equal(failureResultOf(d, GenericError).value, error);
  });

  test('passes a Failure it is given on as it is', () => {
    const failure = new Failure(new GenericError('Bang'));
    const d = new Deferred<string>();
    d.errback(failure);
    assert.equal(failureResultOf(d), failure);
  });

  test('skips callbacks and runs the next errback', () => {
    const events: string[] = [];
    const d = new Deferred<string>();
    d.addCallback(() => events.push('callback'));
    d.addErrback((f) => events.push(`errback: ${f.getErrorMessage()}`));
    d.errback(new GenericError('Bang'));
    assert.deepEqual(events, ['errback: Bang']);
  });
});

describe('succeed', () => {
  test('gives a Deferred that runs a callback at once with the value', () => {
    const seen: string[] = [];
    succeed('success').addCallback((s) => seen.push(s));
    assert.deepEqual(seen, ['success']);
  });

  test('gives a Deferred in the same state as one created and fired by hand', () => {
    const byHand = new Deferred<string>();
    byHand.callback('success');
    const made = succeed('success');
    const withoutId = (d: Deferred<string>): string => d.toString().replace(/#\d+/, '#N');
    assert.equal(made.called, byHand.called);
    assert.equal(made.paused, byHand.paused);
    assert.equal(withoutId(made), withoutId(byHand));
    assert.equal(successResultOf(made), successResultOf(byHand));
    // Both results are consumed now, and both show it the same way.
    assert.equal(withoutId(made), withoutId(byHand));
    assert.match(withoutId(made), /current result: undefined/);
  });
});

describe('fail', () => {
  test('gives a Deferred that runs an errback at once with the error', () => {
    const failures: Failure[] = [];
    fail(new GenericError('fail')).addErrback((f) => {
      failures.push(f);
    });
    assert.equal(failures.length, 1);
    assert.ok(failures[0]!.value instanceof GenericError);
    assert.equal(failures[0]!.getErrorMessage(), 'fail');
  });

  test('wraps a plain value in a Failure and keeps a Failure as it is', () => {
    assert.equal(failureResultOf(fail(404)).value, 404);
    const failure = new Failure(new GenericError('kept'));
    assert.equal(failureResultOf(fail(failure)), failure);
  });
});

describe('Errors in callbacks', () => {
  test('a callback that throws sends the thrown error to the next errback', () => {
    const failures: Failure[] = [];
    const d = new Deferred<number>();
    d.addCallback(() => {
      throw new RangeError('division by zero');
    }).addErrback((f) => {
      failures.push(f);
    });
    d.callback(1);
    assert.equal(failures.length, 1);
    assert.ok(failures[0]!.value instanceof RangeError);
  });

  test('a callback that returns a Failure sends it to the next errback', () => {
    const failures: Failure[] = [];
    const d = new Deferred<number>();
    d.addCallback(() => new Failure(new RangeError('division by zero'))).addErrback((f) => {
      failures.push(f);
    });
    d.callback(1);
    assert.equal(failures.length, 1);
    assert.ok(failures[0]!.value instanceof RangeError);
  });

  test('a callback may return either a value or a Failure; the failure carries the same error', () => {
    const error = new RangeError('bad');
    let shouldFail = false;
    const maybeFail = (n: number): number | Failure => (shouldFail ? new Failure(error) : n + 1);

    const good = new Deferred<number>();
    good.callback(6);
    assert.equal(successResultOf(good.addCallback(maybeFail)), 7);

    shouldFail = true;
    const bad = new Deferred<number>();
    bad.callback(6);
    const failure = failureResultOf(bad.addCallback(maybeFail).addCallback(maybeFail), RangeError);
    assert.equal(failure.value, error);
  });

  test('a thrown non-Error value is wrapped as it is', () => {
    const d = new Deferred<number>();
    d.addCallback(() => {
      throw 'a string';
    });
    d.callback(1);
    assert.equal(failureResultOf(d).value, 'a string');
  });

  test('an errback that returns a value puts the chain back on the success path', () => {
    const d = new Deferred<number>();
    d.addErrback(() => 0).addCallback((n) => n + 1);
    d.errback(new GenericError('recovered'));
    assert.equal(successResultOf(d), 1);
  });

  test('an errback that throws keeps the chain on the error path with the new error', () => {
    const d = new Deferred<number>();
    d.addErrback(() => {
      throw new RangeError('worse');
    });
    d.errback(new GenericError('bad'));
    failureResultOf(d, RangeError);
  });
});

describe('Deferred.pause and Deferred.unpause', () => {
  test('a paused failed Deferred holds its failure back from errbacks until unpaused', () => {
    const failures: Failure[] = [];
    const d = fail(new GenericError('fail'));
    d.pause();
    d.addErrback((f) => {
      failures.push(f);
    });
    assert.equal(failures.length, 0);
    d.unpause();
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.getErrorMessage(), 'fail');
  });

  test('pausing and unpausing before firing changes nothing: callbacks run when it fires', () => {
    const d = new Deferred<string>();
    const callback = recorder<string>();
    d.pause();
    d.addCallback(callback.fn);
    d.unpause();
    assert.deepEqual(callback.calls, []);
    assert.equal(d.paused, 0);
    d.callback('fired');
    assert.deepEqual(callback.calls, [['fired']]);
  });

  test('a Deferred fired while paused runs its callbacks only when unpaused', () => {
    const d = new Deferred<string>();
    const callback = recorder<string>();
    d.addCallback(callback.fn);
    d.pause();
    d.callback('held');
    assert.equal(d.called, true);
    assert.deepEqual(callback.calls, []);
    d.unpause();
    assert.deepEqual(callback.calls, [['held']]);
  });

  test('counts nested pauses, and runs callbacks only once every pause is undone', () => {
    const d = succeed('value');
    d.pause();
    d.pause();
    assert.equal(d.paused, 2);
    const callback = recorder<string>();
    d.addCallback(callback.fn);
    d.unpause();
    assert.equal(d.paused, 1);
    assert.deepEqual(callback.calls, []);
    d.unpause();
    assert.equal(d.paused, 0);
    assert.deepEqual(callback.calls, [['value']]);
  });

  test('unpause on a Deferred that is not paused does nothing', () => {
    const d = new Deferred<string>();
    d.unpause();
    assert.equal(d.paused, 0);
    d.pause();
    assert.equal(d.paused, 1);
    const fired = succeed('x');
    fired.unpause();
    assert.equal(fired.paused, 0);
    assert.equal(successResultOf(fired), 'x');
  });

  test('assertNoResult sees no result on a paused fired Deferred', () => {
    const d = succeed('hidden');
    d.pause();
    assertNoResult(d);
    d.unpause();
    assert.equal(successResultOf(d), 'hidden');
  });
});

describe('Callbacks added while the chain runs', () => {
  test('go to the end of the chain', () => {
    const d = new Deferred<void>();
    const called: number[] = [];
    d.addCallback(() => {
      called.push(1);
      d.addCallback(() => {
        called.push(3);
      });
    });
    d.addCallback(() => {
      called.push(2);
    });
    d.callback();
    assert.deepEqual(called, [1, 2, 3]);
  });

  test('do not run until the running callback has returned', () => {
    const d = new Deferred<void>();
    const called: number[] = [];
    let seenInside: number[] = [];
    d.addCallback(() => {
      called.push(1);
      d.addCallback(() => {
        called.push(2);
      });
      seenInside = [...called];
    });
    d.callback();
    assert.deepEqual(seenInside, [1]);
    assert.deepEqual(called, [1, 2]);
  });

  test('that throw send their error to the first errback after them', () => {
    const d = new Deferred<void>();
    d.addCallback(() => {
      d.addCallback(() => {
        throw new GenericError('callback raised exception');
      });
    });
    d.callback();
    const failure = failureResultOf(d, GenericError);
    assert.equal(failure.getErrorMessage(), 'callback raised exception');
  });
});

describe('Deferred.toString', () => {
  test('shows the class name and an id for a Deferred that has not fired', () => {
    assert.match(new Deferred<void>().toString(), /^<Deferred #\d+>$/);
  });

  test('gives each Deferred its own id, and the same one every time', () => {
    const a = new Deferred<void>();
    const b = new Deferred<void>();
    assert.notEqual(a.toString(), b.toString());
    assert.equal(a.toString(), a.toString());
  });

  test('shows the current result of a fired Deferred', () => {
    const d = new Deferred<string>();
    d.callback('orange');
    assert.match(d.toString(), /^<Deferred #\d+ current result: 'orange'>$/);
    assert.match(succeed(42).toString(), /^<Deferred #\d+ current result: 42>$/);
  });

  test('keeps the id once fired', () => {
    const d = new Deferred<number>();
    const id = /#(\d+)/.exec(d.toString())![1];
    d.callback(42);
    assert.equal(d.toString(), `<Deferred #${id} current result: 42>`);
  });
});

describe('Deferred canceller', () => {
  test('is not called by cancel() after the Deferred succeeded', () => {
    const cancelled: Array<Deferred<string>> = [];
    const d = new Deferred<string>((self) => cancelled.push(self));
    d.callback('done');
    d.cancel();
    assert.deepEqual(cancelled, []);
    assert.equal(successResultOf(d), 'done');
  });

  test('is not called by cancel() after the Deferred failed', () => {
    const cancelled: Array<Deferred<string>> = [];
    const d = new Deferred<string>((self) => cancelled.push(self));
    const failure = new Failure(new GenericError('The test demands failures.'));
    d.errback(failure);
    d.cancel();
    assert.deepEqual(cancelled, []);
    assert.equal(failureResultOf(d), failure);
  });

  test('is not called when the fired Deferred waits on one returned by a callback: that one is cancelled', () => {
    const cancelled: Array<Deferred<void>> = [];
    const inner = new Deferred<void>();
    const d = new Deferred<void>((self) => cancelled.push(self));
    d.addCallback(() => inner);
    d.callback();
    d.cancel();
    assert.deepEqual(cancelled, []);
    failureResultOf(d, CancelledError);
    assert.equal(inner.called, true);
  });

  test('is called once, with the Deferred, by cancel() before it fires', () => {
    const cancelled: Array<Deferred<string>> = [];
    const d = new Deferred<string>((self) => cancelled.push(self));
    d.cancel();
    d.cancel();
    assert.deepEqual(cancelled, [d]);
    failureResultOf(d, CancelledError);
  });
});
