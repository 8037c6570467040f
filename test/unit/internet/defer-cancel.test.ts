// Cancelling Deferreds, with and without a canceller (ported from Twisted's
// twisted/test/test_defer.py DeferredCancellerTests).

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AlreadyCalledError, CancelledError, Deferred, type Failure } from 'torsion/defer';

class GenericError extends Error {
  override name = 'GenericError';
}

/** What the callbacks of one test saw, and how often a canceller ran. */
interface Observed {
  callbackResult: unknown;
  errbackResult: Failure | undefined;
  cancellerCalls: number;
}

let seen: Observed;

function observe<T>(d: Deferred<T>): void {
  d.addCallbacks(
    (data: T) => {
      seen.callbackResult = data;
      return data;
    },
    (failure: Failure) => {
      seen.errbackResult = failure;
    },
  );
}

/** A canceller that only counts its calls. */
function countingCanceller(): void {
  seen.cancellerCalls++;
}

function errbackResult(): Failure {
  assert.ok(seen.errbackResult !== undefined, 'the errback did not run');
  return seen.errbackResult;
}

describe('Deferred.cancel', () => {
  beforeEach(() => {
    seen = { callbackResult: undefined, errbackResult: undefined, cancellerCalls: 0 };
  });

  afterEach(() => {
    // Whatever happened, no canceller ran more than once.
    assert.ok(seen.cancellerCalls === 0 || seen.cancellerCalls === 1);
  });

  test('without a canceller, fails the Deferred with CancelledError and never calls back', () => {
    const d = new Deferred<string>();
    observe(d);
    d.cancel();
    assert.equal(errbackResult().type, CancelledError);
    assert.equal(seen.callbackResult, undefined);
  });

  test('without a canceller, swallows one later callback, then throws AlreadyCalledError', () => {
    const d = new Deferred<null>();
    observe(d);
    d.cancel();
    assert.doesNotThrow(() => d.callback(null));
    assert.throws(() => d.callback(null), AlreadyCalledError);
    assert.throws(() => d.errback(new Error('late')), AlreadyCalledError);
  });

  test('without a canceller, swallows one later errback, then throws AlreadyCalledError', () => {
    const d = new Deferred<null>();
    observe(d);
    d.cancel();
    assert.doesNotThrow(() => d.errback(new Error('late')));
    assert.throws(() => d.callback(null), AlreadyCalledError);
    assert.throws(() => d.errback(new Error('later')), AlreadyCalledError);
  });

  test('without a canceller, cancelling again after the swallowed callback changes nothing', () => {
    const d = new Deferred<null>();
    observe(d);
    d.cancel();
    const failure = seen.errbackResult;
    d.callback(null);
    d.cancel();
    assert.equal(seen.errbackResult, failure);
    assert.equal(seen.callbackResult, undefined);
  });

  test('without a canceller, cancelling again after the swallowed errback changes nothing', () => {
    const d = new Deferred<null>();
    observe(d);
    d.cancel();
    const failure = errbackResult();
    assert.equal(failure.type, CancelledError);
    d.errback(new GenericError());
    assert.equal(errbackResult().type, CancelledError);
    d.cancel();
    assert.equal(seen.errbackResult, failure);
  });

  test('without a canceller, cancelling twice fails once and the second cancel does nothing', () => {
    const d = new Deferred<null>();
    observe(d);
    d.cancel();
    const failure = errbackResult();
    assert.equal(failure.type, CancelledError);
    assert.doesNotThrow(() => d.cancel());
    assert.equal(seen.errbackResult, failure);
  });

  test('with a canceller that does not fire, cancelling twice calls it once and fails once', () => {
    const d = new Deferred<null>(countingCanceller);
    observe(d);
    d.cancel();
    const failure = errbackResult();
    assert.equal(failure.type, CancelledError);
    d.cancel();
    assert.equal(seen.errbackResult, failure);
    assert.equal(seen.cancellerCalls, 1);
  });

  test('calls the canceller, fails with CancelledError, and does not swallow a later fire', () => {
    const d = new Deferred<null>(countingCanceller);
    observe(d);
    d.cancel();
    assert.equal(seen.cancellerCalls, 1);
    assert.equal(errbackResult().type, CancelledError);
    assert.throws(() => d.callback(null), AlreadyCalledError);
    assert.throws(() => d.errback(new Error('late')), AlreadyCalledError);
  });

  test('passes the Deferred being cancelled to the canceller', () => {
    const given: Deferred<null>[] = [];
    const d = new Deferred<null>((cancelled) => {
      given.push(cancelled);
    });
    observe(d);
    d.cancel();
    assert.equal(given.length, 1);
    assert.equal(given[0], d);
  });

  test('after a callback, does not call the canceller and leaves the result alone', () => {
    const d = new Deferred<string>((cancelled) => {
      seen.cancellerCalls++;
      cancelled.errback(new GenericError());
    });
    observe(d);
    d.callback('biff!');
    d.cancel();
    assert.equal(seen.cancellerCalls, 0);
    assert.equal(seen.errbackResult, undefined);
    assert.equal(seen.callbackResult, 'biff!');
  });

  test('after an errback, does not call the canceller and keeps the original failure', () => {
    const d = new Deferred<null>((cancelled) => {
      seen.cancellerCalls++;
      cancelled.errback(new GenericError());
    });
    observe(d);
    d.errback(new GenericError());
    d.cancel();
    assert.equal(seen.cancellerCalls, 0);
    assert.equal(errbackResult().type, GenericError);
    assert.equal(seen.callbackResult, undefined);
  });

  test('a canceller that errbacks decides the failure: no CancelledError is added', () => {
    const d = new Deferred<null>((cancelled) => {
      seen.cancellerCalls++;
      cancelled.errback(new GenericError());
    });
    observe(d);
    d.cancel();
    assert.equal(seen.cancellerCalls, 1);
    assert.equal(errbackResult().type, GenericError);
  });

  test('a canceller that calls back turns the cancellation into a success', () => {
    const d = new Deferred<string>((cancelled) => {
      seen.cancellerCalls++;
      cancelled.callback('hello!');
    });
    observe(d);
    d.cancel();
    assert.equal(seen.cancellerCalls, 1);
    assert.equal(seen.callbackResult, 'hello!');
    assert.equal(seen.errbackResult, undefined);
  });

  test('on a Deferred waiting on one returned by its callback, cancels that inner one instead', () => {
    const inner = new Deferred<null>(countingCanceller);
    const outer = new Deferred<null>(() => {
      assert.fail('the outer canceller must not run: the outer Deferred has fired');
    });
    outer.callback(null);
    outer.addCallback(() => inner);
    outer.cancel();
    observe(outer);
    assert.equal(seen.cancellerCalls, 1);
    // The inner canceller did not fire it, so it failed with CancelledError,
    // which the outer chain then received.
    assert.equal(errbackResult().type, CancelledError);
  });
});
