// successResultOf, failureResultOf and assertNoResult: synchronous assertions
// on Deferreds (Twisted: twisted/trial/test/test_assertions.py,
// SynchronousTestCase.successResultOf & co).

import assert, { AssertionError } from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred, Failure, fail, succeed } from 'torsion/defer';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class BadInput extends Error {
  override name = 'BadInput';
}

/** What a callback added now to `d` receives, or 'no result' if it does not run at once. */
function currentResult(d: Deferred<unknown>): unknown {
  let seen: unknown = 'no result';
  d.addBoth((result) => {
    seen = result;
    return undefined;
  });
  return seen;
}

describe('successResultOf', () => {
  test('returns the result of a Deferred that has succeeded', () => {
    assert.equal(successResultOf(succeed(42)), 42);
    const d = new Deferred<string>();
    d.callback('later');
    assert.equal(successResultOf(d), 'later');
  });

  test('returns the result after the callbacks already added', () => {
    const d = succeed(20).addCallback((n) => n + 1);
    assert.equal(successResultOf(d), 21);
  });

  test('consumes the result: a second call returns undefined', () => {
    const d = succeed({ answer: 42 });
    assert.deepEqual(successResultOf(d), { answer: 42 });
    assert.equal(successResultOf(d), undefined);
  });

  test('throws an AssertionError saying there is no result yet on an unfired Deferred', () => {
    const d = new Deferred<number>();
    assert.throws(
      () => successResultOf(d),
      (error: unknown) =>
        error instanceof AssertionError &&
        /^Success result expected on <Deferred #\d+>, found no result instead$/.test(error.message),
    );
  });

  test('finds no result on a fired Deferred that is paused or waiting on another one', () => {
    const paused = succeed(1);
    paused.pause();
    assert.throws(() => successResultOf(paused), /found no result instead/);
    paused.unpause();
    // The callback added by the failed assertion ran on unpause and took the result.
    assert.equal(successResultOf(paused), undefined);

    const inner = new Deferred<number>();
    const waiting = succeed(0).addCallback(() => inner);
    assert.throws(() => successResultOf(waiting), /found no result instead/);
  });

  test('throws an AssertionError with the failure’s traceback on a failed Deferred', () => {
    const d = fail(new BadInput('not a number'));
    assert.throws(
      () => successResultOf(d),
      (error: unknown) =>
        error instanceof AssertionError &&
        error.message.includes('Success result expected on <Deferred #') &&
        error.message.includes('found failure result instead:\nBadInput: not a number\n') &&
        error.message.includes('    at '),
    );
  });

  test('consumes the failure it reports, so it is not left unhandled', () => {
    const d = fail(new BadInput('x'));
    assert.throws(() => successResultOf(d), AssertionError);
    assert.equal(currentResult(d), undefined);
  });

  test('finds no result on a promise, which never settles synchronously', () => {
    assert.throws(() => successResultOf(Promise.resolve(1)), /found no result instead/);
  });
});

describe('failureResultOf', () => {
  test('returns the Failure of a failed Deferred', () => {
    const error = new BadInput('bad');
    const failure = failureResultOf(fail(error));
    assert.ok(failure instanceof Failure);
    assert.equal(failure.value, error);
  });

  test('accepts any failure when no types are given', () => {
    assert.equal(failureResultOf(fail('just a string')).value, 'just a string');
  });

  test('accepts a failure matching the class given, or a base class of it', () => {
    assert.ok(failureResultOf(fail(new BadInput('a')), BadInput).value instanceof BadInput);
    assert.ok(failureResultOf(fail(new BadInput('b')), Error).value instanceof BadInput);
  });

  test('accepts a failure matching a class name given as a string', () => {
    assert.ok(failureResultOf(fail(new BadInput('a')), 'BadInput').value instanceof BadInput);
    assert.ok(failureResultOf(fail(new TypeError('t')), 'Error').value instanceof TypeError);
  });

  test('accepts a failure matching any one of several types', () => {
    const failure = failureResultOf(fail(new CancelledError()), RangeError, CancelledError);
    assert.ok(failure.value instanceof CancelledError);
  });

  test('throws an AssertionError naming the types expected and found, with the traceback', () => {
    const d = fail(new BadInput('wrong kind'));
    assert.throws(
      () => failureResultOf(d, RangeError, 'CancelledError'),
      (error: unknown) =>
        error instanceof AssertionError &&
        error.message.includes(
          'Failure of type (RangeError, CancelledError) expected on <Deferred #',
        ) &&
        error.message.includes('found type BadInput instead:\nBadInput: wrong kind\n'),
    );
  });

  test('throws an AssertionError showing the value on a Deferred that succeeded', () => {
    assert.throws(
      () => failureResultOf(succeed('fine')),
      (error: unknown) =>
        error instanceof AssertionError &&
        /^Failure result expected on <Deferred #\d+[^>]*>, found success result \(fine\) instead$/.test(
          error.message,
        ),
    );
  });

  test('throws an AssertionError saying there is no result yet on an unfired Deferred', () => {
    assert.throws(
      () => failureResultOf(new Deferred()),
      (error: unknown) =>
        error instanceof AssertionError &&
        /^Failure result expected on <Deferred #\d+>, found no result instead$/.test(error.message),
    );
  });

  test('consumes the failure: the Deferred holds undefined afterwards', () => {
    const d = fail(new BadInput('once'));
    failureResultOf(d, BadInput);
    assert.equal(currentResult(d), undefined);
    assert.throws(() => failureResultOf(d), /found success result \(undefined\) instead/);
  });

  test('consumes the failure even when it is of the wrong type', () => {
    const d = fail(new BadInput('once'));
    assert.throws(() => failureResultOf(d, RangeError), AssertionError);
    assert.equal(currentResult(d), undefined);
  });
});

describe('assertNoResult', () => {
  test('passes on an unfired Deferred and leaves it working', () => {
    const d = new Deferred<number>();
    assertNoResult(d);
    const seen: number[] = [];
    d.addCallback((n) => {
      seen.push(n);
    });
    d.callback(5);
    assert.deepEqual(seen, [5]);
  });

  test('passes on a fired Deferred while it is paused', () => {
    const d = succeed(1);
    d.pause();
    assertNoResult(d);
    d.unpause();
    assert.equal(successResultOf(d), 1);
  });

  test('throws an AssertionError showing the result on a Deferred that succeeded, and keeps it', () => {
    const d = succeed('present');
    assert.throws(
      () => assertNoResult(d),
      (error: unknown) =>
        error instanceof AssertionError &&
        /^No result expected on <Deferred #\d+ current result: 'present'>, found present instead$/.test(
          error.message,
        ),
    );
    assert.equal(successResultOf(d), 'present');
  });

  test('throws an AssertionError on a failed Deferred and consumes the failure', () => {
    const d = fail(new BadInput('found it'));
    assert.throws(
      () => assertNoResult(d),
      (error: unknown) =>
        error instanceof AssertionError &&
        error.message.includes('found [Failure instance: BadInput: found it] instead'),
    );
    assert.equal(currentResult(d), undefined);
  });
});
