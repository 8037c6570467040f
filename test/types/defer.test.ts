// Type tests of torsion/defer, checked by tsc during the build: the result
// type a Deferred chain infers through addCallback, addErrback, addBoth and
// addCallbacks; what yield* and a plain yield give inside inlineCallbacks; the result types
// of DeferredList (by its options), gatherResults and race. Each
// `@ts-expect-error` marks a call that must not compile: if it compiled, the
// build would fail on the unused directive. The runtime assertions check
// that the values are what the types claim.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Deferred,
  DeferredList,
  type DeferredListEntry,
  Failure,
  fail,
  gatherResults,
  inlineCallbacks,
  maybeDeferred,
  race,
  succeed,
} from 'torsion/defer';
import { successResultOf } from 'torsion/testing';
import { expectType } from './expect-type.js';

describe('addCallback', () => {
  test('infers the result type through a chain of sync values, Deferreds and promises', async () => {
    const d = succeed(2)
      .addCallback((n) => expectType<number>()(n) * 10)
      .addCallback((n) => String(n))
      .addCallback((s) => succeed(expectType<string>()(s).length))
      .addCallback(async (n) => expectType<number>()(n) > 1);
    expectType<Deferred<boolean>>()(d);
    assert.equal(await d, true);
  });

  test('unwraps each member of a union of a Deferred and a value', () => {
    const d = succeed(1).addCallback((n) => (n > 0 ? succeed('many') : n));
    expectType<Deferred<string | number>>()(d);
    assert.equal(successResultOf(d), 'many');
  });

  test('a returned Failure continues on the error path and adds nothing to the result type', () => {
    const d = succeed(1).addCallback((n) => (n > 0 ? new Failure(new RangeError('too big')) : n));
    expectType<Deferred<number>>()(d);
    const always = succeed(1).addCallback(() => new Failure(new Error('no')));
    expectType<Deferred<never>>()(always);
    always.addErrback(() => undefined);
    d.addErrback(() => undefined);
  });

  test('types the extra arguments after the result', () => {
    const d = succeed(1).addCallback(
      (n, suffix: string, times: number) => `${n}${suffix}`.repeat(times),
      '!',
      2,
    );
    expectType<Deferred<string>>()(d);
    assert.equal(successResultOf(d), '1!1!');
    // @ts-expect-error the extra argument must be a string
    succeed(1).addCallback((n, suffix: string) => `${n}${suffix}`, 42);
    // @ts-expect-error the callback takes a number, not a string
    succeed(1).addCallback((s: string) => s.length);
  });
});

describe('addErrback, addBoth and addCallbacks', () => {
  test("addErrback widens the result type to the Deferred's and the errback's", () => {
    const d = succeed(1).addErrback((failure) => expectType<Failure>()(failure).getErrorMessage());
    expectType<Deferred<number | string>>()(d);
    const viaDeferred = fail<number>(new Error('x')).addErrback(() => succeed(false));
    expectType<Deferred<number | boolean>>()(viaDeferred);
    assert.equal(successResultOf(viaDeferred), false);
    assert.equal(successResultOf(d), 1);
  });

  test('an errback that only rethrows keeps the result type', () => {
    const d = succeed(1).addErrback((failure): never => {
      throw failure.value;
    });
    expectType<Deferred<number>>()(d);
    assert.equal(successResultOf(d), 1);
  });

  test('addBoth sees the result or a Failure and types the chain with what it returns', () => {
    const d = succeed('text').addBoth((result) => {
      expectType<string | Failure>()(result);
      return result instanceof Failure ? 0 : result.length;
    });
    expectType<Deferred<number>>()(d);
    assert.equal(successResultOf(d), 4);
  });

  test('addCallbacks types the chain with both functions’ results', () => {
    const d = succeed(1).addCallbacks(
      (n) => n.toFixed(1),
      () => succeed(true),
    );
    expectType<Deferred<string | boolean>>()(d);
    assert.equal(successResultOf(d), '1.0');
  });

  test('maybeDeferred unwraps what the function returns', () => {
    expectType<Deferred<number>>()(maybeDeferred(() => 1));
    expectType<Deferred<string>>()(maybeDeferred(() => succeed('a')));
    const fromPromise = maybeDeferred(async (x: number) => x * 2, 4);
    expectType<Deferred<number>>()(fromPromise);
    // @ts-expect-error the argument must be a number
    maybeDeferred(async (x: number) => x * 2, 'four');
  });
});

describe('inlineCallbacks', () => {
  test('yield* gives the typed result of a Deferred and of a nested generator', () => {
    const d = new Deferred<number>();
    function* inner(): Generator<Deferred<number>, string, number> {
      const n = yield* d;
      return expectType<number>()(n).toFixed(2);
    }
    const outer = inlineCallbacks(function* (prefix: string) {
      const s = yield* inner();
      expectType<string>()(s);
      return `${prefix}${s}`;
    });
    expectType<(prefix: string) => Deferred<string>>()(outer);
    const result = outer('=');
    d.callback(1);
    assert.equal(successResultOf(result), '=1.00');
    // @ts-expect-error the generator function takes a string
    outer(1);
  });

  test('a plain yield gives unknown, not never, and the result type still comes from return', () => {
    const d = new Deferred<number>();
    const f = inlineCallbacks(function* () {
      const v = yield d;
      expectType<unknown>()(v);
      // @ts-expect-error unknown must be narrowed (or use yield*) before use as a number
      const wrong: number = yield succeed(8);
      return [v, wrong] as const;
    });
    // Before, a plain yield made the whole result Deferred<never>.
    expectType<() => Deferred<readonly [unknown, number]>>()(f);
    const result = f();
    d.callback(7);
    assert.deepEqual(successResultOf(result), [7, 8]);
    const narrowed = inlineCallbacks(function* () {
      const n = (yield Promise.resolve(3)) as number;
      return n + 1;
    });
    expectType<() => Deferred<number>>()(narrowed);
  });

  test('a returned Deferred or promise is unwrapped in the result type', () => {
    const viaDeferred = inlineCallbacks(function* () {
      yield* succeed(0);
      return succeed([1, 2]);
    });
    expectType<() => Deferred<number[]>>()(viaDeferred);
    const viaPromise = inlineCallbacks(function* () {
      yield* succeed(0);
      return Promise.resolve(true);
    });
    expectType<() => Deferred<boolean>>()(viaPromise);
    assert.deepEqual(successResultOf(viaDeferred()), [1, 2]);
  });

  test('await on a Deferred gives its result type', async () => {
    const value = await succeed({ answer: 42 });
    expectType<{ answer: number }>()(value);
    assert.equal(value.answer, 42);
  });
});

describe('DeferredList, gatherResults and race', () => {
  test('a DeferredList fires with entries, whatever consumeErrors and fireOnOneErrback say', () => {
    const inputs = (): Deferred<number>[] => [succeed(1), succeed(2)];
    const plain = new DeferredList(inputs());
    const consuming = new DeferredList(inputs(), { consumeErrors: true });
    const failFast = new DeferredList(inputs(), {
      fireOnOneErrback: true,
      fireOnOneCallback: false,
    });
    expectType<DeferredList<number, DeferredListEntry<number>[]>>()(plain);
    expectType<DeferredList<number, DeferredListEntry<number>[]>>()(consuming);
    expectType<DeferredList<number, DeferredListEntry<number>[]>>()(failFast);
    const entries = successResultOf(plain);
    for (const entry of entries) {
      if (entry[0]) expectType<number>()(entry[1]);
      else expectType<Failure>()(entry[1]);
    }
    assert.deepEqual(entries, [
      [true, 1],
      [true, 2],
    ]);
    successResultOf(consuming);
    successResultOf(failFast);
  });

  test('with fireOnOneCallback the result is [value, index], or the entries if none succeeds', () => {
    const first = new DeferredList([succeed('a'), new Deferred<string>()], {
      fireOnOneCallback: true,
    });
    expectType<DeferredList<string, [string, number] | DeferredListEntry<string>[]>>()(first);
    assert.deepEqual(successResultOf(first), ['a', 0]);
  });

  test('with fireOnOneCallback known only at run time, the result is either shape', () => {
    const flag: boolean = [true][0] ?? false;
    const list = new DeferredList([succeed(1)], { fireOnOneCallback: flag });
    expectType<DeferredList<number, [number, number] | DeferredListEntry<number>[]>>()(list);
    assert.deepEqual(successResultOf(list), [1, 0]);
  });

  test('gatherResults types each element of an array literal, as Promise.all does', () => {
    const same = gatherResults([succeed(1), succeed(2)], { consumeErrors: true });
    expectType<Deferred<[number, number]>>()(same);
    const mixed = gatherResults([succeed(1), succeed('two'), succeed({ three: true })]);
    expectType<Deferred<[number, string, { three: boolean }]>>()(mixed);
    const spelled = gatherResults<number | string>([succeed(1), succeed('two')]);
    expectType<Deferred<(number | string)[]>>()(spelled);
    const array: Deferred<number>[] = [succeed(1)];
    expectType<Deferred<number[]>>()(gatherResults(array));
    const fromSet = gatherResults(new Set([succeed(1)]));
    expectType<Deferred<number[]>>()(fromSet);
    // @ts-expect-error the second element is a string, not a number
    const wrong: Deferred<[number, number]> = gatherResults([succeed(1), succeed('two')]);
    assert.deepEqual(successResultOf(same), [1, 2]);
    assert.deepEqual(successResultOf(mixed), [1, 'two', { three: true }]);
    assert.deepEqual(successResultOf(spelled), [1, 'two']);
    assert.deepEqual(successResultOf(fromSet), [1]);
    successResultOf(wrong);
  });

  test('a DeferredList over an array literal types each entry', () => {
    const list = new DeferredList([succeed(1), succeed('two')]);
    expectType<
      DeferredList<number | string, [DeferredListEntry<number>, DeferredListEntry<string>]>
    >()(list);
    const [first, second] = successResultOf(list);
    if (first[0]) expectType<number>()(first[1]);
    if (second[0]) expectType<string>()(second[1]);
    assert.deepEqual(
      [first, second],
      [
        [true, 1],
        [true, 'two'],
      ],
    );
  });

  test('race gives the index and the value of the first to succeed', () => {
    const d = race([new Deferred<string>(), succeed('b')]);
    expectType<Deferred<[number, string]>>()(d);
    assert.deepEqual(successResultOf(d), [1, 'b']);
    const mixed = race([new Deferred<number>(), succeed('b')]);
    expectType<Deferred<[number, number | string]>>()(mixed);
    assert.deepEqual(successResultOf(mixed), [1, 'b']);
  });
});
