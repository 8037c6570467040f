// Cancelling the Deferred of an inlineCallbacks generator (ported from
// Twisted's twisted/internet/test/test_inlinecb.py CancellationTests).
//
// In each test: G is a generator function decorated with inlineCallbacks,
// D the Deferred that calling G returns, and C the Deferred that G waits on
// with `yield`. Twisted stacks G over a coroutine; the cancellable
// equivalent here is a generator, yielded to run as nested inlineCallbacks
// (an async function's promise cannot be cancelled: see the last tests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred, type Failure, inlineCallbacks } from 'torsion/defer';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class UntranslatedError extends Error {
  override name = 'UntranslatedError';
}

class TranslatedError extends Error {
  override name = 'TranslatedError';
}

/** Caught by G, which turns it into a success: `actualValue - 2 + 1`. */
class DontFail extends Error {
  override name = 'DontFail';
  constructor(readonly actualValue: number) {
    super();
  }
}

/** Lets every pending promise reaction run (microtasks only). */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

type StackType = 'not stacked' | 'stacked inlineCallbacks' | 'stacked generator';

interface Scenario {
  /** How G reaches C. */
  stackType: StackType;
  /** Whether G first waits on another Deferred, fired before the cancel. */
  onSecondYield: boolean;
}

const SCENARIOS: Scenario[] = [
  { stackType: 'not stacked', onSecondYield: false },
  { stackType: 'stacked inlineCallbacks', onSecondYield: false },
  { stackType: 'stacked inlineCallbacks', onSecondYield: true },
  { stackType: 'stacked generator', onSecondYield: false },
  { stackType: 'stacked generator', onSecondYield: true },
];

function describeScenario({ stackType, onSecondYield }: Scenario): string {
  return onSecondYield ? `${stackType}, on the second yield` : stackType;
}

/** Waits on C from an inlineCallbacks function of its own. */
const stackedInlineCB = inlineCallbacks(function* (getChildDeferred: () => Deferred<number>) {
  const x: number = yield* getChildDeferred();
  return x;
});

/** Waits on C from a plain generator, which G yields. */
function* stackedGenerator(
  getChildDeferred: () => Deferred<number>,
): Generator<unknown, number, never> {
  const x: number = yield getChildDeferred();
  return x;
}

/**
 * G: waits on C (directly or through a stacked function), translates
 * UntranslatedError into TranslatedError and DontFail into a success, and
 * returns C's result plus one.
 */
const sampleInlineCB = inlineCallbacks(function* (
  scenario: Scenario,
  getChildDeferred: () => Deferred<number>,
  firstDeferred: Deferred<number> | null,
) {
  let x: number;
  try {
    if (scenario.stackType === 'not stacked') {
      x = yield* getChildDeferred();
    } else {
      if (firstDeferred !== null) yield firstDeferred;
      if (scenario.stackType === 'stacked inlineCallbacks') {
        x = yield* stackedInlineCB(getChildDeferred);
      } else {
        x = (yield stackedGenerator(getChildDeferred)) as number;
      }
    }
  } catch (error) {
    if (error instanceof UntranslatedError) throw new TranslatedError();
    if (error instanceof DontFail) x = error.actualValue - 2;
    else throw error;
  }
  return x + 1;
});

/** Calls G for the scenario and, when it is on the second yield, gets G past the first. */
function startG(scenario: Scenario, getChildDeferred: () => Deferred<number>): Deferred<number> {
  const firstDeferred = scenario.onSecondYield ? new Deferred<number>() : null;
  const d = sampleInlineCB(scenario, getChildDeferred, firstDeferred);
  firstDeferred?.callback(1);
  return d;
}

for (const scenario of SCENARIOS) {
  describe(`cancelling an inlineCallbacks Deferred (${describeScenario(scenario)})`, () => {
    test('cancels the Deferred the generator waits on', () => {
      const childResult: unknown[] = [];
      const getChildDeferred = (): Deferred<number> => {
        const c = new Deferred<number>();
        c.addErrback((failure: Failure) => {
          childResult.push(failure.check(CancelledError));
          return failure;
        });
        return c;
      };
      const d = startG(scenario, getChildDeferred);
      d.addErrback(() => undefined);
      assert.deepEqual(childResult, []);
      d.cancel();
      assert.deepEqual(childResult, [CancelledError], 'no cascade cancelling occurred');
    });

    test('fails with the CancelledError of the awaited Deferred', () => {
      const c = new Deferred<number>();
      const d = startG(scenario, () => c);
      assertNoResult(d);
      d.cancel();
      const failure = failureResultOf(d, CancelledError);
      assert.throws(() => failure.raiseException(), CancelledError);
    });

    test('lets the generator catch the error of the cancelled Deferred and throw another', () => {
      const c = new Deferred<number>((it) => it.errback(new UntranslatedError()));
      const d = startG(scenario, () => c);
      d.cancel();
      const failure = failureResultOf(d, TranslatedError);
      assert.throws(() => failure.raiseException(), TranslatedError);
    });

    test('lets the generator catch the error of the cancelled Deferred and succeed', () => {
      const c = new Deferred<number>((it) => it.errback(new DontFail(4321)));
      const d = startG(scenario, () => c);
      const results: number[] = [];
      d.addCallback((result) => {
        results.push(result);
      });
      d.cancel();
      assert.deepEqual(results, [4320]);
    });

    test('has no result until the cancelled Deferred reaches the point where the generator waits', () => {
      const moreDeferred = new Deferred<number>();
      const deferMe = (): Deferred<number> => {
        const c = new Deferred<number>();
        c.addErrback((failure: Failure) => {
          failure.trap(CancelledError);
          return moreDeferred;
        });
        return c;
      };
      const d = startG(scenario, deferMe);
      d.cancel();
      assertNoResult(d);
      moreDeferred.callback(6543);
      assert.equal(successResultOf(d), 6544);
    });
  });
}

describe('cancelling an inlineCallbacks Deferred: more cases', () => {
  test('throws the CancelledError into the generator at the yield where it waits', () => {
    const c = new Deferred<number>();
    const seen: unknown[] = [];
    const gen = inlineCallbacks(function* () {
      try {
        yield c;
      } catch (error) {
        seen.push(error);
      }
      return 'after the yield';
    });
    const d = gen();
    assert.equal(seen.length, 0);
    d.cancel();
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof CancelledError);
    assert.equal(successResultOf(d), 'after the yield');
  });

  test('a generator that catches the CancelledError carries on; cancelling again cancels what it waits on next', () => {
    const canceller1Calls: Deferred<number>[] = [];
    const canceller2Calls: Deferred<number>[] = [];
    const d1 = new Deferred<number>((d) => canceller1Calls.push(d));
    const d2 = new Deferred<number>((d) => canceller2Calls.push(d));
    const testFunc = inlineCallbacks(function* () {
      try {
        yield d1;
      } catch {
        // Carry on.
      }
      yield d2;
    });

    const funcD = testFunc();
    assertNoResult(d1);
    assertNoResult(d2);
    assertNoResult(funcD);
    assert.deepEqual(canceller1Calls, []);
    assert.deepEqual(canceller2Calls, []);

    funcD.cancel();
    assert.deepEqual(canceller1Calls, [d1]);
    assert.deepEqual(canceller2Calls, []);
    assertNoResult(funcD);

    funcD.cancel();
    const failure = failureResultOf(funcD);
    assert.equal(failure.type, CancelledError);
    assert.deepEqual(canceller2Calls, [d2]);
  });

  test('when the canceller of the awaited Deferred fires it with a value, the generator gets that value', () => {
    const c = new Deferred<number>((it) => it.callback(41));
    const gen = inlineCallbacks(function* () {
      const x: number = yield* c;
      return x + 1;
    });
    const d = gen();
    d.cancel();
    assert.equal(successResultOf(d), 42);
  });

  test('a generator that catches the CancelledError can wait on more Deferreds and then return', () => {
    const c = new Deferred<number>();
    const cleanup = new Deferred<string>();
    const gen = inlineCallbacks(function* () {
      try {
        yield c;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        const done: string = yield* cleanup;
        return `cancelled, then ${done}`;
      }
      return 'not cancelled';
    });
    const d = gen();
    d.cancel();
    assertNoResult(d);
    cleanup.callback('cleaned up');
    assert.equal(successResultOf(d), 'cancelled, then cleaned up');
  });

  test('cancelling after the generator has finished does nothing', () => {
    let cancellerCalls = 0;
    const c = new Deferred<number>(() => {
      cancellerCalls++;
    });
    const gen = inlineCallbacks(function* () {
      const x: number = yield* c;
      return x + 7;
    });
    const d = gen();
    c.callback(1);
    d.cancel();
    assert.equal(cancellerCalls, 0);
    assert.equal(successResultOf(d), 8);
  });

  test('cancelling while waiting via yield* cancels the awaited Deferred', () => {
    let cancelled = 0;
    const c = new Deferred<number>(() => {
      cancelled++;
    });
    const gen = inlineCallbacks(function* () {
      const x = yield* c;
      return x;
    });
    const d = gen();
    d.cancel();
    assert.equal(cancelled, 1);
    failureResultOf(d, CancelledError);
  });

  test('cancelling while waiting on a returned Deferred cancels it', () => {
    let cancelled = 0;
    const returned = new Deferred<string>(() => {
      cancelled++;
    });
    const gen = inlineCallbacks(function* () {
      yield 1;
      return returned;
    });
    const d = gen();
    assertNoResult(d);
    d.cancel();
    assert.equal(cancelled, 1);
    failureResultOf(d, CancelledError);
  });

  test('cancelling while waiting on a promise throws CancelledError at the yield at once', async () => {
    let settle: (value: number) => void = () => undefined;
    const promise = new Promise<number>((resolve) => {
      settle = resolve;
    });
    const seen: unknown[] = [];
    const gen = inlineCallbacks(function* () {
      try {
        const x: number = (yield promise) as number;
        return x;
      } catch (error) {
        seen.push(error);
        throw error;
      }
    });
    const d = gen();
    d.cancel();
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof CancelledError);
    failureResultOf(d, CancelledError);
    settle(5);
    await promise;
    assert.equal(seen.length, 1, 'the late value is ignored');
  });

  test('an async function between G and C is not cancelled: G fails at once, C is left alone', async () => {
    let cancelled = 0;
    const c = new Deferred<number>(() => {
      cancelled++;
    });
    const stackedAsync = async (): Promise<number> => await c;
    const gen = inlineCallbacks(function* () {
      const x: number = (yield stackedAsync()) as number;
      return x;
    });
    const d = gen();
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(cancelled, 0);
    c.callback(1);
    await drainMicrotasks();
    assert.equal(cancelled, 0);
  });
});
