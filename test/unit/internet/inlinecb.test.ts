// inlineCallbacks: generators that yield Deferreds (ported from Twisted's
// twisted/internet/test/test_inlinecb.py: BasicTests, StopIterationReturn,
// StackedInlineCallbacks and ForwardTraceBack, plus Torsion's own rules for
// promises, generators, `yield*`, returned Deferreds and `this`).
// Cancellation is in inlinecb-cancel.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred, Failure, fail, inlineCallbacks, succeed } from 'torsion/defer';
import { Clock } from 'torsion/task';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class TerminalError extends Error {
  override name = 'TerminalError';
}

class MyError extends Error {
  override name = 'MyError';
}

/** A Deferred that fires with `value` on the clock's next advance. */
function getValueViaDeferred<T>(clock: Clock, value: T): Deferred<T> {
  const d = new Deferred<T>();
  clock.callLater(0, () => d.callback(value));
  return d;
}

/** A Failure of a RangeError with `message`. */
function getDivisionFailure(message: string): Failure {
  try {
    throw new RangeError(message);
  } catch (error) {
    return new Failure(error);
  }
}

/** Lets every pending promise reaction run (microtasks only). */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

/** Fires each Deferred with its value, or fails it if the value is an Error. */
function runCallbacksOnDeferreds(deferreds: Array<[Deferred<number>, number | Error]>): void {
  for (const [d, x] of deferreds) {
    if (x instanceof Error) d.errback(x);
    else d.callback(x);
  }
}

describe('inlineCallbacks basics', () => {
  test('waits for a Deferred that fires later, catches a failed one at the yield, and returns a value', () => {
    const clock = new Clock();
    const caught: unknown[] = [];
    const genBasics = inlineCallbacks(function* () {
      const x: string = yield* getValueViaDeferred(clock, 'hi');
      assert.equal(x, 'hi');
      try {
        yield fail(new RangeError('OMG'));
      } catch (error) {
        caught.push(error);
      }
      return 'WOOSH';
    });
    const d = genBasics();
    assertNoResult(d);
    clock.advance(0);
    assert.equal(successResultOf(d), 'WOOSH');
    assert.equal(caught.length, 1);
    assert.ok(caught[0] instanceof RangeError);
    assert.equal(caught[0].message, 'OMG');
  });

  test('yielding a Failure throws its value back in at the yield', () => {
    const failure = getDivisionFailure('OMG');
    const seen: unknown[] = [];
    const gen = inlineCallbacks(function* () {
      try {
        yield failure;
      } catch (error) {
        seen.push(error);
        return 'caught';
      }
      return 'not caught';
    });
    assert.equal(successResultOf(gen()), 'caught');
    assert.deepEqual(seen, [failure.value]);
  });

  test('yielding a promise waits for it, and a rejected one throws at the yield', async () => {
    const clock = new Clock();
    const getValueViaPromise = async (value: string): Promise<string> =>
      await getValueViaDeferred(clock, value);
    const getRejection = async (message: string): Promise<never> => {
      await getValueViaDeferred(clock, 'value');
      throw new RangeError(message);
    };
    const caught: unknown[] = [];
    const genBasics = inlineCallbacks(function* () {
      const x: string = (yield getValueViaPromise('hi')) as string;
      assert.equal(x, 'hi');
      try {
        yield getRejection('OMG');
      } catch (error) {
        caught.push(error);
        return 'WOOSH';
      }
      return 'not caught';
    });
    const d = genBasics();
    clock.advance(0);
    await drainMicrotasks();
    clock.advance(0);
    assert.equal(await d, 'WOOSH');
    assert.ok(caught[0] instanceof RangeError);
    assert.equal(caught[0].message, 'OMG');
  });

  test('an error thrown by the generator fails the returned Deferred with that error', () => {
    const clock = new Clock();
    const thrown = new RangeError('produced');
    const genProduceException = inlineCallbacks(function* () {
      yield getValueViaDeferred(clock, 'hi');
      throw thrown;
    });
    const d = genProduceException();
    clock.advance(0);
    assert.equal(failureResultOf(d, RangeError).value, thrown);
  });

  test('a generator that never yields fires with undefined at once', () => {
    const genNothing = inlineCallbacks(function* () {
      // biome-ignore lint/correctness/noConstantCondition: never yields, but is still a generator
      if (false) yield 1;
    });
    assert.equal(successResultOf(genNothing()), undefined);
  });

  test('a failed Deferred handled at the yield does not fail the returned Deferred', () => {
    const terminal = new TerminalError('Handled Terminal Failure');
    const caught: unknown[] = [];
    const genHandledTerminalFailure = inlineCallbacks(function* () {
      try {
        yield fail(terminal);
      } catch (error) {
        if (!(error instanceof TerminalError)) throw error;
        caught.push(error);
      }
    });
    assert.equal(successResultOf(genHandledTerminalFailure()), undefined);
    assert.deepEqual(caught, [terminal]);
  });

  test('a Deferred that fails later, handled at the yield, does not fail the returned Deferred', () => {
    const terminal = new TerminalError('Handled Terminal Failure');
    const caught: unknown[] = [];
    const genHandledTerminalAsyncFailure = inlineCallbacks(function* (d: Deferred<never>) {
      try {
        yield d;
      } catch (error) {
        if (!(error instanceof TerminalError)) throw error;
        caught.push(error);
      }
    });
    const d = new Deferred<never>();
    const result = genHandledTerminalAsyncFailure(d);
    assertNoResult(result);
    assert.deepEqual(caught, []);
    d.errback(terminal);
    assert.equal(successResultOf(result), undefined);
    assert.deepEqual(caught, [terminal]);
  });

  test('a promise rejected later, handled at the yield, does not fail the returned Deferred', async () => {
    const terminal = new TerminalError('Handled Terminal Failure');
    const caught: unknown[] = [];
    const d = new Deferred<never>();
    const coro = async (): Promise<never> => await d;
    const fn = inlineCallbacks(function* () {
      try {
        yield coro();
      } catch (error) {
        if (!(error instanceof TerminalError)) throw error;
        caught.push(error);
      }
    });
    const result = fn();
    d.errback(terminal);
    assert.equal(await result, undefined);
    assert.deepEqual(caught, [terminal]);
  });

  test('yielding 100,000 Deferreds that have already fired does not grow the stack', () => {
    const genStackUsage = inlineCallbacks(function* () {
      let total = 0;
      for (let i = 0; i < 100_000; i++) {
        const one: number = yield* succeed(1);
        total += one;
      }
      return total;
    });
    assert.equal(successResultOf(genStackUsage()), 100_000);
  });

  test('yielding 100,000 plain values does not grow the stack', () => {
    const genStackUsage2 = inlineCallbacks(function* () {
      for (let i = 0; i < 100_000; i++) yield 1;
      return 0;
    });
    assert.equal(successResultOf(genStackUsage2()), 0);
  });

  test('yielding a value that is not a Deferred sends it straight back', () => {
    const gen = inlineCallbacks(function* () {
      const five: number = (yield 5) as number;
      const obj: { a: number } = (yield { a: 1 }) as { a: number };
      const nothing: undefined = (yield undefined) as undefined;
      return [five, obj, nothing];
    });
    assert.deepEqual(successResultOf(gen()), [5, { a: 1 }, undefined]);
  });

  test('a bare return fires with undefined', () => {
    const noReturn = inlineCallbacks(function* () {
      yield 5;
      return;
    });
    assert.equal(successResultOf(noReturn()), undefined);
  });

  test('the value of a return after waiting on a Deferred is the result', () => {
    const f = inlineCallbacks(function* (d: Deferred<null>) {
      yield d;
      return 14;
    });
    const d1 = new Deferred<null>();
    const d2 = f(d1);
    assertNoResult(d2);
    d1.callback(null);
    assert.equal(successResultOf(d2), 14);
  });

  test('calling a decorated function that is not a generator function throws a TypeError naming inlineCallbacks', () => {
    const noYield = inlineCallbacks((() => 5) as unknown as () => Generator<never, number, never>);
    assert.throws(
      () => noYield(),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /inlineCallbacks/);
        return true;
      },
    );
  });

  test('an async function is not a generator function: calling it decorated throws a TypeError', () => {
    const notGen = inlineCallbacks(
      (async () => 5) as unknown as () => Generator<never, number, never>,
    );
    assert.throws(() => notGen(), TypeError);
  });

  test('an error thrown after an inner inlineCallbacks function returned is caught as itself', () => {
    const clock = new Clock();
    const returns = inlineCallbacks(function* () {
      yield getValueViaDeferred(clock, 'ignored');
      return 6;
    });
    const raises = inlineCallbacks(function* () {
      try {
        yield returns();
        throw new TerminalError('boom normal return');
      } catch (error) {
        return error;
      }
    });
    const d = raises();
    clock.advance(0);
    const caught = successResultOf(d);
    assert.ok(caught instanceof TerminalError);
    assert.equal(caught.message, 'boom normal return');
    assert.equal(caught.cause, undefined);
  });
});

describe('inlineCallbacks: how the generator runs', () => {
  test('the generator starts at once, synchronously, with the arguments given', () => {
    const events: string[] = [];
    const gen = inlineCallbacks(function* (a: number, b: string) {
      events.push(`started with ${a} and ${b}`);
      yield new Deferred<void>();
    });
    gen(1, 'two');
    assert.deepEqual(events, ['started with 1 and two']);
  });

  test('each call runs a new generator', () => {
    let started = 0;
    const gen = inlineCallbacks(function* (n: number) {
      started++;
      const doubled: number = (yield n * 2) as number;
      return doubled;
    });
    assert.equal(successResultOf(gen(1)), 2);
    assert.equal(successResultOf(gen(2)), 4);
    assert.equal(started, 2);
  });

  test('resumes synchronously inside the callback() that fires the awaited Deferred', () => {
    const events: string[] = [];
    const d = new Deferred<string>();
    const gen = inlineCallbacks(function* () {
      const value: string = yield* d;
      events.push(`resumed with ${value}`);
    });
    gen();
    assert.deepEqual(events, []);
    d.callback('it');
    assert.deepEqual(events, ['resumed with it']);
  });

  test('yield* d gives the result of d, typed', () => {
    const d = new Deferred<number>();
    const gen = inlineCallbacks(function* () {
      const n = yield* d;
      return n.toFixed(1);
    });
    const result = gen();
    d.callback(3);
    assert.equal(successResultOf(result), '3.0');
  });

  test('yield* of a failed Deferred throws its error at the yield', () => {
    const error = new MyError('typed failure');
    const gen = inlineCallbacks(function* () {
      try {
        yield* fail<number>(error);
      } catch (caught) {
        return caught;
      }
      return 'not caught';
    });
    assert.equal(successResultOf(gen()), error);
  });

  test('yielding a generator runs it as nested inlineCallbacks and gives its return value', () => {
    const d = new Deferred<number>();
    function* inner(): Generator<unknown, number, never> {
      const n: number = yield d;
      return n + 1;
    }
    const outer = inlineCallbacks(function* () {
      const n: number = (yield inner()) as number;
      return n * 10;
    });
    const result = outer();
    assertNoResult(result);
    d.callback(1);
    assert.equal(successResultOf(result), 20);
  });

  test('an error thrown by a yielded generator is thrown at the yield', () => {
    function* inner(): Generator<unknown, never, never> {
      yield succeed(1);
      throw new MyError('from inner');
    }
    const outer = inlineCallbacks(function* () {
      try {
        yield inner();
      } catch (error) {
        return error instanceof MyError ? error.message : 'wrong error';
      }
      return 'not caught';
    });
    assert.equal(successResultOf(outer()), 'from inner');
  });

  test('yield* of a generator delegates to it and gives its typed return value', () => {
    const d = new Deferred<string>();
    function* inner(): Generator<Deferred<string>, string, string> {
      const s = yield* d;
      return s.toUpperCase();
    }
    const outer = inlineCallbacks(function* () {
      const s = yield* inner();
      return `${s}!`;
    });
    const result = outer();
    d.callback('hey');
    assert.equal(successResultOf(result), 'HEY!');
  });

  test('returning a Deferred waits for it and fires with its result', () => {
    const later = new Deferred<string>();
    const gen = inlineCallbacks(function* () {
      yield 1;
      return later;
    });
    const d = gen();
    assertNoResult(d);
    later.callback('waited');
    assert.equal(successResultOf(d), 'waited');
  });

  test('returning a failed Deferred fails with its error', () => {
    const error = new MyError('returned failure');
    const gen = inlineCallbacks(function* () {
      yield 1;
      return fail<string>(error);
    });
    assert.equal(failureResultOf(gen(), MyError).value, error);
  });

  test('returning a promise waits for it', async () => {
    const gen = inlineCallbacks(function* () {
      yield 1;
      return Promise.resolve('promised');
    });
    assert.equal(await gen(), 'promised');
  });

  test('a decorated method keeps this', () => {
    class Counter {
      count = 10;
      readonly bump = inlineCallbacks(function* (this: Counter, by: number) {
        const step: number = yield* succeed(by);
        this.count += step;
        return this.count;
      });
    }
    const counter = new Counter();
    assert.equal(successResultOf(counter.bump(5)), 15);
    assert.equal(counter.count, 15);
  });

  test('a decorated method on a prototype keeps this', () => {
    class Greeter {
      declare greet: (this: Greeter, greeting: string) => Deferred<string>;
      constructor(readonly name: string) {}
    }
    Greeter.prototype.greet = inlineCallbacks(function* (this: Greeter, greeting: string) {
      const g: string = yield* succeed(greeting);
      return `${g}, ${this.name}`;
    });
    assert.equal(successResultOf(new Greeter('Ada').greet('Hello')), 'Hello, Ada');
  });

  test('the decorated function has the name of the generator function', () => {
    const fetchThing = inlineCallbacks(function* fetchThing() {
      yield 1;
    });
    assert.equal(fetchThing.name, 'fetchThing');
  });
});

describe('stacked inlineCallbacks', () => {
  test('a chain of inlineCallbacks functions blocked on one Deferred runs in order when it fires', () => {
    const expectations: Array<[string, number]> = [];
    const deferredList: Array<[Deferred<number>, number]> = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, x]);
      x = yield* d;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = inlineCallbacks(function* (x: number) {
      expectations.push(['f2 enter', x]);
      x = yield* f1(x);
      x += 2;
      expectations.push(['f2 exit', x]);
      return x;
    });
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      x = yield* f2(x);
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    runCallbacksOnDeferreds(deferredList);
    assert.equal(successResultOf(res), 8);
    assert.deepEqual(expectations, [
      ['f3 enter', 1],
      ['f2 enter', 1],
      ['f1 enter', 1],
      ['f1 exit', 2],
      ['f2 exit', 4],
      ['f3 exit', 8],
    ]);
  });

  test('the same with an async function in the middle of the chain', async () => {
    const expectations: Array<[string, number]> = [];
    const deferredList: Array<[Deferred<number>, number]> = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, x]);
      x = yield* d;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = async (x: number): Promise<number> => {
      expectations.push(['f2 enter', x]);
      x = await f1(x);
      x += 2;
      expectations.push(['f2 exit', x]);
      return x;
    };
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      x = (yield f2(x)) as number;
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    runCallbacksOnDeferreds(deferredList);
    assert.equal(await res, 8);
    assert.deepEqual(expectations, [
      ['f3 enter', 1],
      ['f2 enter', 1],
      ['f1 enter', 1],
      ['f1 exit', 2],
      ['f2 exit', 4],
      ['f3 exit', 8],
    ]);
  });

  /** What f3(1) logs when f3 yields f2 three times and f2 yields f1 three times. */
  const multipleYieldsExpectations: Array<[string, number]> = [
    ['f3 enter', 1],
    ['f2 enter', 1],
    ['f1 enter', 1],
    ['f1 exit', 2],
    ['f1 enter', 2],
    ['f1 exit', 3],
    ['f1 enter', 3],
    ['f1 exit', 4],
    ['f2 exit', 6],
    ['f2 enter', 6],
    ['f1 enter', 6],
    ['f1 exit', 7],
    ['f1 enter', 7],
    ['f1 exit', 8],
    ['f1 enter', 8],
    ['f1 exit', 9],
    ['f2 exit', 11],
    ['f2 enter', 11],
    ['f1 enter', 11],
    ['f1 exit', 12],
    ['f1 enter', 12],
    ['f1 exit', 13],
    ['f1 enter', 13],
    ['f1 exit', 14],
    ['f2 exit', 16],
    ['f3 exit', 20],
  ];

  test('a chain that yields the same inlineCallbacks functions several times runs in order', () => {
    const expectations: Array<[string, number]> = [];
    const deferredList: Array<[Deferred<number>, number]> = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, x]);
      x = yield* d;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = inlineCallbacks(function* (x: number) {
      expectations.push(['f2 enter', x]);
      x = yield* f1(x);
      x = yield* f1(x);
      x = yield* f1(x);
      x += 2;
      expectations.push(['f2 exit', x]);
      return x;
    });
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      x = yield* f2(x);
      x = yield* f2(x);
      x = yield* f2(x);
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    // Each callback makes the next f1 push its Deferred: the loop sees it.
    for (const [d, x] of deferredList) d.callback(x);
    assert.equal(successResultOf(res), 20);
    assert.deepEqual(expectations, multipleYieldsExpectations);
  });

  test('the same with async functions in the middle of the chain', async () => {
    const expectations: Array<[string, number]> = [];
    const deferredList: Array<[Deferred<number>, number]> = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, x]);
      x = yield* d;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = async (x: number): Promise<number> => {
      expectations.push(['f2 enter', x]);
      x = await f1(x);
      x = await f1(x);
      x = await f1(x);
      x += 2;
      expectations.push(['f2 exit', x]);
      return x;
    };
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      x = (yield f2(x)) as number;
      x = (yield f2(x)) as number;
      x = (yield f2(x)) as number;
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    // The async functions call the next f1 a few microtasks later.
    for (let i = 0; i < 9; i++) {
      await drainMicrotasks();
      const entry = deferredList[i];
      assert.ok(entry !== undefined, `Deferred #${i} was created`);
      entry[0].callback(entry[1]);
    }
    assert.equal(await res, 20);
    assert.deepEqual(expectations, multipleYieldsExpectations);
  });

  test('a Deferred from inlineCallbacks with a callback added, already fired, is yielded with that callback applied', () => {
    const expectations: Array<[string, number]> = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      x = (yield x) as number;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = (x: number): number => {
      expectations.push(['f2 enter', x]);
      x += 2;
      expectations.push(['f2 exit', x]);
      return x;
    };
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      const d = f1(x).addCallback(f2);
      x = yield* d;
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    assert.equal(successResultOf(f3(1)), 8);
    assert.deepEqual(expectations, [
      ['f3 enter', 1],
      ['f1 enter', 1],
      ['f1 exit', 2],
      ['f2 enter', 2],
      ['f2 exit', 4],
      ['f3 exit', 8],
    ]);
  });

  test('the same when the inner function is still waiting at the first yield', () => {
    const expectations: Array<[string, number]> = [];
    const deferredList: Array<[Deferred<number>, number]> = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, x]);
      x = yield* d;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = (x: number): number => {
      expectations.push(['f2 enter', x]);
      x += 2;
      expectations.push(['f2 exit', x]);
      return x;
    };
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      const d = f1(x).addCallback(f2);
      x = yield* d;
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    runCallbacksOnDeferreds(deferredList);
    assert.equal(successResultOf(res), 8);
    assert.deepEqual(expectations, [
      ['f3 enter', 1],
      ['f1 enter', 1],
      ['f1 exit', 2],
      ['f2 enter', 2],
      ['f2 exit', 4],
      ['f3 exit', 8],
    ]);
  });

  test('the same when the callback is added at the second yield', () => {
    const expectations: Array<[string, number]> = [];
    const deferredList: Array<[Deferred<number>, number]> = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, x]);
      x = yield* d;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = (x: number): number => {
      expectations.push(['f2 enter', x]);
      x += 2;
      expectations.push(['f2 exit', x]);
      return x;
    };
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      x = yield* f1(x);
      const d = f1(x).addCallback(f2);
      x = yield* d;
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    runCallbacksOnDeferreds(deferredList);
    assert.equal(successResultOf(res), 9);
    assert.deepEqual(expectations, [
      ['f3 enter', 1],
      ['f1 enter', 1],
      ['f1 exit', 2],
      ['f1 enter', 2],
      ['f1 exit', 3],
      ['f2 enter', 3],
      ['f2 exit', 5],
      ['f3 exit', 9],
    ]);
  });

  test('a failure from a nested function waiting at its first yield is thrown at the outer yield', () => {
    const expectations: Array<[string, number]> = [];
    const deferredList: Array<[Deferred<number>, number | Error]> = [];
    const f2 = inlineCallbacks(function* (x: number) {
      expectations.push(['f2 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, new MyError()]);
      x = yield* d;
      expectations.push(['f2 exit', x]);
      return x;
    });
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      let raised = false;
      try {
        x = yield* f2(x);
      } catch (error) {
        raised = error instanceof MyError;
      }
      assert.ok(raised, 'MyError was thrown at the yield');
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    runCallbacksOnDeferreds(deferredList);
    assert.equal(successResultOf(res), 5);
    assert.deepEqual(expectations, [
      ['f3 enter', 1],
      ['f2 enter', 1],
      ['f3 exit', 5],
    ]);
  });

  test('a failure from a nested function yielded after another one finished is thrown at the outer yield', () => {
    const expectations: Array<[string, number]> = [];
    const deferredList: Array<[Deferred<number>, number | Error]> = [];
    const f1 = inlineCallbacks(function* (x: number) {
      expectations.push(['f1 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, x]);
      x = yield* d;
      x += 1;
      expectations.push(['f1 exit', x]);
      return x;
    });
    const f2 = inlineCallbacks(function* (x: number) {
      expectations.push(['f2 enter', x]);
      const d = new Deferred<number>();
      deferredList.push([d, new MyError()]);
      x = yield* d;
      expectations.push(['f2 exit', x]);
      return x;
    });
    const f3 = inlineCallbacks(function* (x: number) {
      expectations.push(['f3 enter', x]);
      x = yield* f1(x);
      let raised = false;
      try {
        x = yield* f2(x);
      } catch (error) {
        raised = error instanceof MyError;
      }
      assert.ok(raised, 'MyError was thrown at the yield');
      x += 4;
      expectations.push(['f3 exit', x]);
      return x;
    });
    const res = f3(1);
    runCallbacksOnDeferreds(deferredList);
    assert.equal(successResultOf(res), 6);
    assert.deepEqual(expectations, [
      ['f3 enter', 1],
      ['f1 enter', 1],
      ['f1 exit', 2],
      ['f2 enter', 2],
      ['f3 exit', 6],
    ]);
  });
});

describe('inlineCallbacks tracebacks', () => {
  test('the traceback of an error from a nested generator shows both generators', () => {
    const erroring = inlineCallbacks(function* erroring() {
      yield 'forcing generator';
      throw new Error('Error Marker');
    });
    const calling = inlineCallbacks(function* calling() {
      yield erroring();
    });
    const tb = failureResultOf(calling()).getTraceback();
    assert.match(tb, /at erroring /);
    assert.match(tb, /at calling /);
    assert.match(tb, /Error Marker/);
  });

  test('the traceback through four nested generators shows every one of them', () => {
    const erroring = inlineCallbacks(function* erroring() {
      yield 'forcing generator';
      throw new Error('Error Marker');
    });
    const calling3 = inlineCallbacks(function* calling3() {
      yield erroring();
    });
    const calling2 = inlineCallbacks(function* calling2() {
      yield calling3();
    });
    const calling = inlineCallbacks(function* calling() {
      yield calling2();
    });
    // Each level takes five frames: more than V8 keeps by default.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 50;
    let f: Failure;
    try {
      f = failureResultOf(calling());
    } finally {
      Error.stackTraceLimit = limit;
    }
    const tb = f.getTraceback();
    for (const name of ['erroring', 'calling3', 'calling2', 'calling']) {
      assert.match(tb, new RegExp(`at ${name} `), `${name} is in the traceback`);
    }
    assert.match(tb, /Error Marker/);
  });

  test('an already failed Deferred passed through unhandled keeps its value and traceback', () => {
    const f = getDivisionFailure('msg');
    const d = new Deferred<never>();
    d.errback(f);
    const ic = inlineCallbacks(function* (waitOn: Deferred<never>) {
      yield waitOn;
    });
    const newFailure = failureResultOf(ic(d), RangeError);
    assert.equal(newFailure.value, f.value);
    assert.equal(newFailure.getTraceback(), f.getTraceback());
    assert.match(newFailure.getTraceback(), /at getDivisionFailure /);
  });
});
