// Deferred chaining: callbacks that return Deferreds (or promises), explicit
// chainDeferred, circular chains and bounded stack depth (ported from
// Twisted's twisted/test/test_defer.py DeferredTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred, Failure, fail, gatherResults, succeed } from 'torsion/defer';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class GenericError extends Error {
  override name = 'GenericError';
}

/** The id that toString() shows for `d`. */
function idOf(d: Deferred<unknown>): string {
  const match = /^<\w+ #(\d+)/.exec(d.toString());
  assert.ok(match !== null, `no id in ${d.toString()}`);
  return match[1]!;
}

describe('A callback that returns a Deferred', () => {
  test('holds back the next callback until that Deferred fires and is unpaused', () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    const seen: number[] = [];
    d2.pause();
    d1.addCallback(() => d2);
    d1.addCallback((n) => {
      seen.push(n);
    });
    d1.callback(1);
    assert.deepEqual(seen, []);
    d2.callback(2);
    assert.deepEqual(seen, []);
    d2.unpause();
    assert.deepEqual(seen, [2]);
  });

  test('from an errback holds back the chain in the same way', () => {
    const d = new Deferred<number>();
    const d2 = new Deferred<string>();
    const seen: Array<number | string> = [];
    d.addErrback(() => d2).addCallback((result) => {
      seen.push(result);
    });
    d.errback(new GenericError('bad'));
    assertNoResult(d);
    assert.deepEqual(seen, []);
    d2.callback('result');
    assert.deepEqual(seen, ['result']);
  });

  test('that is paused with a result makes the chain wait until it is unpaused', () => {
    const expected = { token: 'expected' };
    const paused = new Deferred<object>();
    paused.callback(expected);
    paused.pause();
    const chained = new Deferred<void>();
    chained.addCallback(() => paused);
    chained.callback();
    const seen: unknown[] = [];
    chained.addCallback((r) => {
      seen.push(r);
    });
    assert.deepEqual(seen, []);
    paused.unpause();
    assert.equal(seen.length, 1);
    assert.equal(seen[0], expected);
  });

  test('firing it runs its own callbacks even though the Deferred waiting on it is paused', () => {
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    first.addCallback(() => second);
    first.callback();
    first.pause();
    second.callback();
    const seen: unknown[] = [];
    second.addCallback((r) => {
      seen.push(r);
    });
    assert.deepEqual(seen, [undefined]);
    assertNoResult(first);
  });

  test('that already has a result gives it to the chain at once, and is left holding undefined', () => {
    const result = { token: 'result' };
    const first = succeed(result);
    const second = new Deferred<void>();
    second.addCallback(() => first);
    second.callback();
    const seen: unknown[] = [];
    first.addCallback((r) => {
      seen.push(r);
    });
    assert.deepEqual(seen, [undefined]);
    assert.equal(successResultOf(second), result);
  });

  test('that has no result yet gives it to the chain once it fires, and is left holding undefined', () => {
    const first = new Deferred<object>();
    const second = new Deferred<void>();
    second.addCallback(() => first);
    second.callback();
    const firstResults: unknown[] = [];
    const secondResults: unknown[] = [];
    first.addCallback((r) => {
      firstResults.push(r);
    });
    second.addCallback((r) => {
      secondResults.push(r);
    });
    assert.deepEqual(firstResults, []);
    assert.deepEqual(secondResults, []);
    const result = { token: 'result' };
    first.callback(result);
    assert.deepEqual(firstResults, [undefined]);
    assert.equal(secondResults.length, 1);
    assert.equal(secondResults[0], result);
  });

  test('that has already failed passes its failure to the chain and is left holding undefined', () => {
    const first = fail<void>(new RangeError("First Deferred's Failure"));
    const second = new Deferred<void>();
    second.addCallback(() => first);
    second.callback();
    const firstResults: unknown[] = [];
    first.addCallback((r) => {
      firstResults.push(r);
    });
    assert.deepEqual(firstResults, [undefined]);
    failureResultOf(second, RangeError);
  });

  test('that fails later passes its failure to the chain and is left holding undefined', () => {
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    second.addCallback(() => first);
    second.callback();
    const secondErrors: Failure[] = [];
    second.addErrback((f) => {
      secondErrors.push(f);
    });
    const firstResults: unknown[] = [];
    first.addCallback((r) => {
      firstResults.push(r);
    });
    const secondResults: unknown[] = [];
    second.addCallback((r) => {
      secondResults.push(r);
    });
    assert.deepEqual(firstResults, []);
    assert.deepEqual(secondResults, []);
    first.errback(new RangeError("First Deferred's Failure"));
    assert.equal(secondErrors.length, 1);
    assert.ok(secondErrors[0]!.check(RangeError));
    assert.deepEqual(firstResults, [undefined]);
    assert.equal(secondResults.length, 1);
  });

  test('chains transitively: when C fires, B (waiting on C) and then A (waiting on B) go on', () => {
    const first = new Deferred<object>();
    const second = new Deferred<void>();
    second.addCallback(() => first);
    const third = new Deferred<void>();
    third.addCallback(() => second);
    const thirdResults: unknown[] = [];
    third.addCallback((r) => {
      thirdResults.push(r);
    });
    second.callback();
    third.callback();
    assert.deepEqual(thirdResults, []);
    const result = { token: 'result' };
    first.callback(result);
    assert.equal(thirdResults.length, 1);
    assert.equal(thirdResults[0], result);
  });

  test('gives its callbacks added after the chain was made the result, once the last Deferred fires', () => {
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    const third = new Deferred<void>();
    first.addCallback(() => second);
    second.addCallback(() => third);
    second.callback();
    first.callback();
    third.callback();
    const seen: unknown[] = [];
    second.addCallback((r) => {
      seen.push(r);
    });
    assert.deepEqual(seen, [undefined]);
  });

  test('resumes the outer chain when a nested Deferred fires later, out of order', () => {
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const inner = new Deferred<string>();
    const cb = (result: string): Deferred<string> => {
      results.push(['start-of-cb', result]);
      const d = succeed('inner');
      d.addCallback(() => {
        results.push(['firstCallback', 'inner']);
        return inner;
      }).addCallback((r) => {
        results.push(['secondCallback', r]);
        return r.repeat(2);
      });
      d.addErrback((f) => {
        failures.push(f);
      });
      return d as Deferred<string>;
    };
    const outer = succeed('outer')
      .addCallback(cb)
      .addCallback((r) => {
        results.push(r);
      });
    assert.deepEqual(results, [
      ['start-of-cb', 'outer'],
      ['firstCallback', 'inner'],
    ]);
    inner.callback('orange');
    inner.addErrback((f) => {
      failures.push(f);
    });
    outer.addErrback((f) => {
      failures.push(f);
    });
    assert.deepEqual(failures, []);
    assert.deepEqual(results, [
      ['start-of-cb', 'outer'],
      ['firstCallback', 'inner'],
      ['secondCallback', 'orange'],
      'orangeorange',
    ]);
  });

  test('runs the callbacks of a middle Deferred after the innermost fires and before the outer sees a result', () => {
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const inner = new Deferred<string>();
    const cb = (result: string): Deferred<string> => {
      results.push(['start-of-cb', result]);
      const d = succeed('inner');
      d.addCallback(() => {
        results.push(['firstCallback', 'inner']);
        return inner;
      }).addCallback((r) => {
        results.push(['secondCallback', r]);
        return r.repeat(2);
      });
      d.addErrback((f) => {
        failures.push(f);
      });
      return d as Deferred<string>;
    };
    const outer = succeed('outer');
    outer.addCallback(cb);
    inner.callback('orange');
    outer.addCallback((r) => {
      results.push(r);
    });
    inner.addErrback((f) => {
      failures.push(f);
    });
    outer.addErrback((f) => {
      failures.push(f);
    });
    assert.deepEqual(failures, []);
    assert.deepEqual(results, [
      ['start-of-cb', 'outer'],
      ['firstCallback', 'inner'],
      ['secondCallback', 'orange'],
      'orangeorange',
    ]);
  });

  test('that has callbacks of its own runs them before its result reaches the outer chain', () => {
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const inner = new Deferred<string>();
    const cb = (result: string): Deferred<string[] | undefined> => {
      results.push(['start-of-cb', result]);
      return succeed('inner')
        .addCallback((r) => {
          results.push(['firstCallback', r]);
          return inner.addCallback((s) => [s]);
        })
        .addCallback((list) => {
          results.push(['secondCallback', list]);
          return [...list, ...list];
        })
        .addErrback((f) => {
          failures.push(f);
          return undefined;
        });
    };
    const outer = succeed('outer');
    outer.addCallback(cb).addCallback((r) => {
      results.push(r);
    });
    assert.deepEqual(results, [
      ['start-of-cb', 'outer'],
      ['firstCallback', 'inner'],
    ]);
    inner.callback('withers');
    outer.addErrback((f) => {
      failures.push(f);
    });
    inner.addErrback((f) => {
      failures.push(f);
    });
    assert.deepEqual(failures, []);
    assert.deepEqual(results, [
      ['start-of-cb', 'outer'],
      ['firstCallback', 'inner'],
      ['secondCallback', ['withers']],
      ['withers', 'withers'],
    ]);
  });

  test('resumes the chain even when the step waiting on it is not the first of its callbacks', () => {
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const a = new Deferred<string>();
    const cb = (result: string): Deferred<void> => {
      results.push(['cb', result]);
      const d = new Deferred<void>();
      const returner = d
        .addCallback(() => {
          results.push(['firstCallback', undefined]);
          return gatherResults([a]);
        })
        .addCallback((list) => {
          results.push(['secondCallback', list]);
        })
        .addErrback((f) => {
          failures.push(f);
        });
      d.callback();
      return returner;
    };
    succeed('outer')
      .addCallback(cb)
      .addErrback((f) => {
        failures.push(f);
      });
    assert.deepEqual(results, [
      ['cb', 'outer'],
      ['firstCallback', undefined],
    ]);
    a.callback('withers');
    assert.deepEqual(failures, []);
    assert.deepEqual(results, [
      ['cb', 'outer'],
      ['firstCallback', undefined],
      ['secondCallback', ['withers']],
    ]);
  });

  test('keeps the order: a callback added after it runs after the callbacks of the Deferred it returned', () => {
    const results: unknown[] = [];
    const failures: Failure[] = [];
    const a = new Deferred<string>();
    const cb = (result: string): Deferred<void> => {
      results.push(['cb', result]);
      const d = new Deferred<void>();
      const returner = d
        .addCallback(() => {
          results.push(['firstCallback', undefined]);
          return gatherResults([a]);
        })
        .addCallback((list) => {
          results.push(['secondCallback', list]);
        })
        .addErrback((f) => {
          failures.push(f);
        });
      d.callback();
      return returner;
    };
    const outer = new Deferred<string>();
    outer.addCallback(cb);
    outer.addCallback(() => {
      results.push(['final', undefined]);
    });
    outer.addErrback((f) => {
      failures.push(f);
    });
    outer.callback('outer');
    assert.deepEqual(results, [
      ['cb', 'outer'],
      ['firstCallback', undefined],
    ]);
    a.callback('withers');
    assert.deepEqual(failures, []);
    assert.deepEqual(results, [
      ['cb', 'outer'],
      ['firstCallback', undefined],
      ['secondCallback', ['withers']],
      ['final', undefined],
    ]);
  });

  test('is cancelled when the Deferred waiting on it is cancelled', () => {
    const cancelled: Array<Deferred<string>> = [];
    const inner = new Deferred<string>((d) => cancelled.push(d));
    const outer = new Deferred<void>();
    outer.addCallback(() => inner);
    outer.callback();
    outer.cancel();
    assert.deepEqual(cancelled, [inner]);
    failureResultOf(outer, CancelledError);
  });
});

describe('A callback that returns its own Deferred', () => {
  test('fails the chain with a TypeError (Twisted warns and hangs instead)', () => {
    const d = new Deferred<string>();
    d.addCallback(() => d);
    d.callback('foo');
    failureResultOf(d, TypeError);
  });

  test('sends that TypeError down the error path at once, skipping later callbacks', () => {
    const events: string[] = [];
    const d = new Deferred<string>();
    d.addCallback(() => d)
      .addCallback(() => {
        events.push('callback');
      })
      .addErrback((f) => {
        events.push(`errback: ${f.type?.name}`);
      });
    d.callback('foo');
    assert.deepEqual(events, ['errback: TypeError']);
    assert.doesNotMatch(d.toString(), /waiting on/);
  });
});

describe('A callback that returns a promise', () => {
  test('makes the Deferred wait, synchronously, as a returned Deferred does', () => {
    const d = new Deferred<number>();
    d.addCallback(() => new Promise<number>(() => undefined));
    d.callback(1);
    assertNoResult(d);
    assert.match(d.toString(), /^<Deferred #\d+ waiting on Deferred #\d+>$/);
  });

  test('continues the chain with the value the promise resolves to', async () => {
    const d = new Deferred<number>();
    d.addCallback((n) => Promise.resolve(n + 1)).addCallback((n) => n * 10);
    d.callback(1);
    assertNoResult(d);
    assert.equal(await d, 20);
  });

  test('continues on the error path with the reason the promise rejects with', async () => {
    const d = new Deferred<number>();
    const error = new GenericError('rejected');
    d.addCallback(() => Promise.reject(error));
    d.callback(1);
    assertNoResult(d);
    await assert.rejects(d.asPromise(), (reason) => reason === error);
  });
});

describe('Deferred.chainDeferred', () => {
  test('fires the other Deferred with this one’s result', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    b.chainDeferred(a);
    b.callback('value');
    assert.equal(successResultOf(a), 'value');
  });

  test('fires the other Deferred with this one’s failure', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const failure = new Failure(new GenericError('chained'));
    b.chainDeferred(a);
    b.errback(failure);
    assert.equal(failureResultOf(a), failure);
  });

  test('leaves this Deferred holding undefined once it has handed the result on', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    b.chainDeferred(a);
    b.callback('value');
    assert.equal(successResultOf(b), undefined);
  });

  test('records the chain: the other Deferred shows it is waiting on this one', () => {
    const a = new Deferred<void>();
    const b = new Deferred<void>();
    b.chainDeferred(a);
    assert.equal(a.toString(), `<Deferred #${idOf(a)} waiting on Deferred #${idOf(b)}>`);
  });

  test('forgets the chain once this Deferred has fired', () => {
    const a = new Deferred<void>();
    const b = new Deferred<void>();
    b.chainDeferred(a);
    b.callback();
    assert.doesNotMatch(a.toString(), /waiting on/);
    assert.equal(a.toString(), `<Deferred #${idOf(a)} current result: undefined>`);
  });
});

describe('Deferred.toString of a chained Deferred', () => {
  test('shows the Deferred that a callback returned as the one it is waiting on', () => {
    const a = new Deferred<void>();
    const b = new Deferred<void>();
    a.addCallback(() => b);
    a.callback();
    assert.equal(a.toString(), `<Deferred #${idOf(a)} waiting on Deferred #${idOf(b)}>`);
  });

  test('stops showing it once that Deferred has fired', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    a.addCallback(() => b);
    a.callback('ignored');
    b.callback('orange');
    assert.equal(a.toString(), `<Deferred #${idOf(a)} current result: 'orange'>`);
  });
});

/** The number of frames on the stack where this is called. */
function stackDepth(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Number.POSITIVE_INFINITY;
  try {
    return (new Error().stack ?? '').split('\n').length;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Chains `howMany` Deferreds between a top one and a last one, each waiting
 * on the next through a callback, fires them all but the last, then fires
 * the last: returns the stack depth at which the top's next callback ran.
 */
function chainDeferreds(howMany: number): number {
  const depths: number[] = [];
  const top = new Deferred<void>();
  const inners = Array.from({ length: howMany }, () => new Deferred<void>());
  const originals = [...inners];
  const last = new Deferred<void>();
  let inner = inners.pop()!;
  const firstInner = inner;
  top.addCallback(() => firstInner);
  top.addCallback(() => {
    depths.push(stackDepth());
  });
  while (inners.length > 0) {
    const next = inners.pop()!;
    inner.addCallback(() => next);
    inner = next;
  }
  inner.addCallback(() => last);
  top.callback();
  for (const d of originals) d.callback();
  assert.deepEqual(depths, []);
  last.callback();
  assert.equal(depths.length, 1);
  return depths[0]!;
}

describe('Stack depth of chained Deferreds', () => {
  test('does not grow with the number of Deferreds chained together', () => {
    const one = chainDeferreds(1);
    assert.equal(chainDeferreds(2), one);
    assert.equal(chainDeferreds(1000), one);
  });

  test('stays bounded for a chain of 100,000 nested Deferreds', () => {
    assert.equal(chainDeferreds(100_000), chainDeferreds(1));
  });

  test('delivers the innermost result through 100,000 Deferreds fired outermost first', () => {
    const count = 100_000;
    const ds = Array.from({ length: count }, () => new Deferred<string>());
    for (let i = 0; i < count - 1; i++) {
      const next = ds[i + 1]!;
      ds[i]!.addCallback(() => next);
    }
    for (let i = 0; i < count - 1; i++) ds[i]!.callback('ignored');
    assertNoResult(ds[0]!);
    ds[count - 1]!.callback('innermost');
    assert.equal(successResultOf(ds[0]!), 'innermost');
  });

  test('delivers a failure through 100,000 nested Deferreds without overflow', () => {
    const count = 100_000;
    const ds = Array.from({ length: count }, () => new Deferred<string>());
    for (let i = 0; i < count - 1; i++) {
      const next = ds[i + 1]!;
      ds[i]!.addCallback(() => next);
    }
    for (let i = 0; i < count - 1; i++) ds[i]!.callback('ignored');
    ds[count - 1]!.errback(new GenericError('deep'));
    assert.equal(failureResultOf(ds[0]!, GenericError).getErrorMessage(), 'deep');
  });
});
