// race, FirstError and the empty DeferredList (ported from Twisted's
// twisted/test/test_defer.py RaceTests, FirstErrorTests and
// DeferredListEmptyTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CancelledError,
  Deferred,
  DeferredList,
  type DeferredListEntry,
  Failure,
  FailureGroup,
  FirstError,
  race,
} from 'torsion/defer';
import { failureResultOf, successResultOf } from 'torsion/testing';

/**
 * `count` Deferreds that never fire by themselves, and how many times each
 * one's canceller has run.
 */
function racers(count: number): { cancels: number[]; deferreds: Deferred<unknown>[] } {
  const cancels = new Array<number>(count).fill(0);
  const deferreds = cancels.map(
    (_, n) =>
      new Deferred<unknown>(() => {
        cancels[n] = (cancels[n] ?? 0) + 1;
      }),
  );
  return { cancels, deferreds };
}

/** Every [before, after] pair with 0..3 Deferreds before and after the one of interest. */
const positions: Array<[number, number]> = [0, 1, 2, 3].flatMap((before) =>
  [0, 1, 2, 3].map((after): [number, number] => [before, after]),
);

describe('race', () => {
  test('fires with the index and result of the first success and cancels every other input once', () => {
    for (const [before, after] of positions) {
      const { cancels, deferreds } = racers(before + 1 + after);
      const result = race(deferreds);
      const expected = { winner: before };
      deferreds[before]?.callback(expected);

      const [index, value] = successResultOf(result);
      assert.equal(index, before);
      assert.equal(value, expected);
      assert.deepEqual(cancels, [
        ...new Array<number>(before).fill(1),
        0,
        ...new Array<number>(after).fill(1),
      ]);
    }
  });

  test('fails with a FailureGroup of every failure, in input order, when all inputs fail', () => {
    for (const [before, after] of positions) {
      const { cancels, deferreds } = racers(before + 1 + after);
      const failure = new Failure(new Error('every input fails'));
      const result = race(deferreds);
      for (const d of deferreds) d.errback(failure);

      const group = failureResultOf(result, FailureGroup).value as FailureGroup;
      assert.deepEqual(
        group.failures,
        deferreds.map(() => failure),
      );
      assert.ok(group.failures.every((f) => f === failure));
      assert.deepEqual(
        cancels,
        deferreds.map(() => 0),
      );
    }
  });

  test('reports the failures in input order even when they arrive in another order', () => {
    const { deferreds } = racers(3);
    const failures = [0, 1, 2].map((n) => new Failure(new Error(`input ${n}`)));
    const result = race(deferreds);
    for (const n of [2, 0, 1]) deferreds[n]?.errback(failures[n]);

    const group = failureResultOf(result, FailureGroup).value as FailureGroup;
    assert.equal(group.failures.length, 3);
    for (const [n, f] of group.failures.entries()) assert.equal(f, failures[n]);
  });

  test('drops the result of an input that fires after being cancelled, leaving nothing unhandled', () => {
    for (const [before, after] of positions) {
      // No cancellers: every loser fails with CancelledError, then one fires late.
      const deferreds = Array.from({ length: before + 2 + after }, () => new Deferred<null>());
      const result = race(deferreds);
      deferreds[before]?.callback(null);
      assert.doesNotThrow(() => deferreds[before + 1]?.callback(null));

      assert.deepEqual(successResultOf(result), [before, null]);
      // race consumed each loser's CancelledError: none is left to be reported.
      deferreds.forEach((d, n) => {
        if (n !== before) assert.equal(successResultOf(d), undefined);
      });
    }
  });

  test('ignores an input whose canceller fires it with a success', () => {
    const winner = new Deferred<object>();
    const loser = new Deferred<object>((d) => d.callback({ loser: true }));
    const expected = { winner: true };
    const result = race([winner, loser]);
    winner.callback(expected);

    const [index, value] = successResultOf(result);
    assert.equal(index, 0);
    assert.equal(value, expected);
  });

  test('cancelling the race cancels every input and fails with a FailureGroup of CancelledErrors', () => {
    for (const count of [1, 2, 3]) {
      const { cancels, deferreds } = racers(count);
      const result = race(deferreds);
      result.cancel();

      assert.deepEqual(
        cancels,
        deferreds.map(() => 1),
      );
      const group = failureResultOf(result, FailureGroup).value as FailureGroup;
      assert.equal(group.failures.length, count);
      assert.ok(group.failures.every((f) => f.check(CancelledError) !== null));
    }
  });
});

describe('FirstError', () => {
  test('its message holds the index and the brief form of the sub-failure', () => {
    const failure = new Failure(new RangeError('some text'));
    const error = new FirstError(failure, 3);
    assert.equal(error.message, 'FirstError[#3, RangeError: some text]');
    assert.equal(error.message, `FirstError[#3, ${failure.getBriefTraceback()}]`);
    assert.match(String(error), /FirstError\[#3, RangeError: some text\]/);
  });

  test('keeps the sub-failure, its index, and the failing value as its cause', () => {
    const value = new TypeError('bad');
    const failure = new Failure(value);
    const error = new FirstError(failure, 5);
    assert.equal(error.subFailure, failure);
    assert.equal(error.index, 5);
    assert.equal(error.cause, value);
    assert.equal(error.name, 'FirstError');
    assert.equal(error.code, 'ERR_FIRST_ERROR');
  });

  test('equals another FirstError only when both the failure and the index are the same', () => {
    const firstFailure = new Failure(new RangeError('division by zero'));
    const one = new FirstError(firstFailure, 13);
    const anotherOne = new FirstError(firstFailure, 13);
    const another = new FirstError(new Failure(new Error('bar')), 9);
    const sameFailureOtherIndex = new FirstError(firstFailure, 9);

    assert.equal(one.equals(anotherOne), true);
    assert.equal(anotherOne.equals(one), true);
    assert.equal(one.equals(another), false);
    assert.equal(one.equals(sameFailureOtherIndex), false);
    assert.equal(one.equals(10), false);
    assert.equal(one.equals(firstFailure), false);
  });
});

describe('DeferredList with no inputs', () => {
  test('fires at once with an empty list', () => {
    const seen: Array<DeferredListEntry<unknown>[]> = [];
    new DeferredList<unknown>([]).addCallback((entries) => {
      seen.push(entries);
    });
    assert.deepEqual(seen, [[]]);
  });
});
