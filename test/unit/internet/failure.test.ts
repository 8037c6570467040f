// Failure: a captured thrown value (ported from Twisted's
// twisted/test/test_failure.py, where the behaviour maps to JavaScript,
// plus the JavaScript-only cases: any value can be thrown, class names
// work across realms, and errors carry a `cause`).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { runInNewContext } from 'node:vm';
import { Failure, type TracebackDetail } from 'torsion/defer';

class ParentError extends Error {
  override name = 'ParentError';
}

class ChildError extends ParentError {
  override name = 'ChildError';
}

/** An Error subclass that, like most in the wild, does not set `name`. */
class UnnamedError extends Error {}

function raiseDivisionError(): never {
  throw new RangeError('division by zero');
}

/** A Failure of the RangeError thrown by raiseDivisionError. */
function getDivisionFailure(): Failure {
  try {
    raiseDivisionError();
  } catch (error) {
    return new Failure(error);
  }
}

/** The value `fn` throws; fails the test if it returns. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
}

const DETAILS: TracebackDetail[] = ['brief', 'default', 'verbose'];

describe('Failure construction', () => {
  test('keeps the thrown value itself as value', () => {
    const error = new TypeError('bad type');
    const f = new Failure(error);
    assert.equal(f.value, error);
    assert.equal(f.type, TypeError);
  });

  test('a Failure of a Failure copies it: same value, same type', () => {
    const error = new RangeError('out of range');
    const f1 = new Failure(error);
    const f2 = new Failure(f1);
    assert.notEqual(f2, f1);
    assert.equal(f2.value, error);
    assert.equal(f2.type, RangeError);
    assert.equal(f2.getTraceback(), f1.getTraceback());
  });

  test('a Failure of what trap re-threw has the original value', () => {
    const error = new RangeError('original');
    const f1 = new Failure(error);
    const f2 = new Failure(thrownBy(() => f1.trap(SyntaxError)));
    assert.equal(f2.value, error);
  });

  test('wraps a string, with String as its type', () => {
    const f = new Failure('just text');
    assert.equal(f.value, 'just text');
    assert.equal(f.type, String);
    assert.equal(f.getErrorMessage(), 'just text');
  });

  test('wraps a number, with Number as its type', () => {
    const f = new Failure(42);
    assert.equal(f.value, 42);
    assert.equal(f.type, Number);
    assert.equal(f.getErrorMessage(), '42');
  });

  test('wraps null and undefined, which have no type and no parents', () => {
    for (const value of [null, undefined]) {
      const f = new Failure(value);
      assert.equal(f.value, value);
      assert.equal(f.type, undefined);
      assert.deepEqual(f.parents, []);
      assert.equal(f.getErrorMessage(), String(value));
      assert.equal(f.getBriefTraceback(), `${String(value)}: ${String(value)}`);
    }
  });

  test('wraps a plain object, shown by its contents', () => {
    const value = { code: 'E_PLAIN', retry: false };
    const f = new Failure(value);
    assert.equal(f.value, value);
    assert.equal(f.type, Object);
    assert.equal(f.getErrorMessage(), "{ code: 'E_PLAIN', retry: false }");
    assert.equal(f.getBriefTraceback(), "Object: { code: 'E_PLAIN', retry: false }");
  });

  test('wraps an object without a prototype', () => {
    const value: Record<string, unknown> = Object.create(null);
    value.reason = 'bare';
    const f = new Failure(value);
    assert.equal(f.type, undefined);
    assert.deepEqual(f.parents, []);
    assert.match(f.getErrorMessage(), /reason: 'bare'/);
    assert.equal(typeof f.getTraceback(), 'string');
  });
});

describe('Failure.parents', () => {
  test('lists the class names of the value, most derived first', () => {
    assert.deepEqual(new Failure(new ChildError('x')).parents, [
      'ChildError',
      'ParentError',
      'Error',
      'Object',
    ]);
  });

  test('lists the wrapper classes of a primitive', () => {
    assert.deepEqual(new Failure('text').parents, ['String', 'Object']);
  });
});

describe('Failure.check', () => {
  test('returns the class that matched, as it was passed', () => {
    const f = new Failure(new TypeError('x'));
    assert.equal(f.check(RangeError, TypeError), TypeError);
  });

  test('matches a base class of the value', () => {
    const f = new Failure(new ChildError('x'));
    assert.equal(f.check(ParentError), ParentError);
    assert.equal(f.check(Error), Error);
  });

  test('does not match a subclass of the value', () => {
    assert.equal(new Failure(new ParentError('x')).check(ChildError), null);
  });

  test('returns the first matcher that matches, in the order given', () => {
    const f = new Failure(new ChildError('x'));
    assert.equal(f.check(SyntaxError, ParentError, ChildError), ParentError);
  });

  test('returns null when nothing matches, or nothing is given', () => {
    const f = new Failure(new TypeError('x'));
    assert.equal(f.check(RangeError, SyntaxError), null);
    assert.equal(f.check(), null);
  });

  test('matches by class name, including base class names', () => {
    const f = new Failure(new ChildError('x'));
    assert.equal(f.check('SyntaxError', 'ParentError'), 'ParentError');
    assert.equal(f.check('ChildError'), 'ChildError');
    assert.equal(f.check('Error'), 'Error');
    assert.equal(f.check('NoSuchError'), null);
  });

  test('matches classes and names mixed in one call', () => {
    const f = new Failure(new TypeError('x'));
    assert.equal(f.check(RangeError, 'TypeError'), 'TypeError');
  });

  test('matches a primitive by its wrapper class and name', () => {
    const f = new Failure('text');
    assert.equal(f.check(Number, String), String);
    assert.equal(f.check('String'), 'String');
    assert.equal(f.check(Error), null);
  });

  test('matches nothing for null or undefined', () => {
    for (const value of [null, undefined]) {
      const f = new Failure(value);
      assert.equal(f.check(Object, 'Object', Error), null);
    }
  });

  test('matches an Error from another realm by name but not by class', () => {
    const foreign: unknown = runInNewContext('new TypeError("far away")');
    const f = new Failure(foreign);
    assert.equal(f.check(TypeError), null);
    assert.equal(f.check('TypeError'), 'TypeError');
  });
});

describe('Failure.trap', () => {
  test('returns the matching class when the value is a subclass of it, and keeps the type', () => {
    const f = new Failure(new ChildError('x'));
    assert.equal(f.trap(SyntaxError, ParentError), ParentError);
    assert.equal(f.type, ChildError);
  });

  test('leaves the value untouched when it matches', () => {
    const error = new TypeError('x');
    const f = new Failure(error);
    f.trap(TypeError);
    assert.equal(f.value, error);
  });

  test('re-throws the original value, not the Failure, when nothing matches', () => {
    const error = new TypeError('untrapped');
    const f = new Failure(error);
    assert.equal(
      thrownBy(() => f.trap(RangeError, 'SyntaxError')),
      error,
    );
  });

  test('re-throws a non-Error value as it is', () => {
    const value = { code: 'E_PLAIN' };
    assert.equal(
      thrownBy(() => new Failure(value).trap(Error)),
      value,
    );
    assert.equal(
      thrownBy(() => new Failure('text').trap(Number)),
      'text',
    );
  });

  test('matches by class name', () => {
    assert.equal(new Failure(new ChildError('x')).trap('ParentError'), 'ParentError');
  });
});

describe('Failure.raiseException', () => {
  test('throws the wrapped value itself, whose stack still shows where it was raised', () => {
    const f = getDivisionFailure();
    const thrown = thrownBy(() => f.raiseException());
    assert.equal(thrown, f.value);
    assert.ok(thrown instanceof RangeError);
    const firstFrame = thrown.stack?.split('\n').find((line) => line.startsWith('    at '));
    assert.match(firstFrame ?? '', /at raiseDivisionError /);
  });

  test('throws a non-Error value as it is', () => {
    assert.equal(
      thrownBy(() => new Failure(7).raiseException()),
      7,
    );
  });
});

describe('Failure.throwExceptionIntoGenerator', () => {
  test('throws the value in at the yield, where the generator can catch it', () => {
    const caught: unknown[] = [];
    function* generator(): Generator<void, string, void> {
      try {
        yield;
      } catch (error) {
        caught.push(error);
      }
      return 'finished';
    }
    const g = generator();
    g.next();
    const f = getDivisionFailure();
    const step = f.throwExceptionIntoGenerator(g);
    assert.deepEqual(step, { done: true, value: 'finished' });
    assert.equal(caught.length, 1);
    assert.equal(caught[0], f.value);
    assert.match((caught[0] as Error).stack ?? '', /at raiseDivisionError /);
  });

  test('returns what the generator yields next after catching', () => {
    function* generator(): Generator<string, void, void> {
      try {
        yield 'first';
      } catch {
        yield 'recovered';
      }
    }
    const g = generator();
    g.next();
    assert.deepEqual(new Failure(new Error('x')).throwExceptionIntoGenerator(g), {
      done: false,
      value: 'recovered',
    });
  });

  test('a Failure made from what the generator caught is new, and leaves the original alone', () => {
    const f = getDivisionFailure();
    const originalTraceback = f.getTraceback();
    const made: Failure[] = [];
    function* generator(): Generator<void, void, void> {
      try {
        yield;
      } catch (error) {
        made.push(new Failure(error));
      }
    }
    const g = generator();
    g.next();
    f.throwExceptionIntoGenerator(g);
    assert.equal(made.length, 1);
    assert.notEqual(made[0], f);
    assert.equal(made[0]?.value, f.value);
    assert.equal(f.getTraceback(), originalTraceback);
  });

  test('lets a different error thrown by the generator come out instead', () => {
    const inner: unknown[] = [];
    function* generator(): Generator<void, void, void> {
      try {
        try {
          yield;
        } catch {
          throw new SyntaxError('raised while handling');
        }
      } catch (error) {
        inner.push(new Failure(error).value);
        throw error;
      }
    }
    const g = generator();
    g.next();
    const outer = thrownBy(() => getDivisionFailure().throwExceptionIntoGenerator(g));
    assert.ok(outer instanceof SyntaxError);
    assert.ok(inner[0] instanceof SyntaxError);
    assert.equal(new Failure(outer).check(RangeError), null);
  });
});

describe('Failure.getErrorMessage', () => {
  test('is the message of an Error', () => {
    assert.equal(new Failure(new TypeError('bad type')).getErrorMessage(), 'bad type');
  });

  test('is the empty string for an Error without a message', () => {
    assert.equal(new Failure(new Error()).getErrorMessage(), '');
  });

  test('is the message of the inner value for a Failure of a Failure', () => {
    const f = new Failure(new Failure(new RangeError('deep')));
    assert.equal(f.getErrorMessage(), 'deep');
  });

  test('is the text of a non-Error value', () => {
    assert.equal(new Failure('plain text').getErrorMessage(), 'plain text');
    assert.equal(new Failure(3.5).getErrorMessage(), '3.5');
    assert.equal(new Failure(false).getErrorMessage(), 'false');
    assert.equal(new Failure(10n).getErrorMessage(), '10');
    assert.equal(new Failure(Symbol('sym')).getErrorMessage(), 'Symbol(sym)');
    assert.equal(new Failure([1, 2]).getErrorMessage(), '[ 1, 2 ]');
  });

  test('is the message of an Error from another realm', () => {
    const foreign: unknown = runInNewContext('new RangeError("from elsewhere")');
    assert.equal(new Failure(foreign).getErrorMessage(), 'from elsewhere');
  });
});

describe('Failure.getTraceback', () => {
  test('brief is one line: the type and the message', () => {
    const f = getDivisionFailure();
    assert.equal(f.getTraceback({ detail: 'brief' }), 'RangeError: division by zero');
    assert.equal(f.getBriefTraceback(), 'RangeError: division by zero');
  });

  test('default starts with the type and message, then shows the function that raised it', () => {
    const f = getDivisionFailure();
    const tb = f.getTraceback();
    const lines = tb.split('\n');
    assert.equal(lines[0], 'RangeError: division by zero');
    assert.match(lines[1] ?? '', /^ {4}at raiseDivisionError /);
    assert.ok(
      lines.slice(1, -1).every((line) => line.startsWith('    at ')),
      'every line after the header is a stack frame',
    );
    assert.ok(tb.endsWith('\n'));
    assert.equal(f.getTraceback({ detail: 'default' }), tb);
  });

  test('shows where an Error was created, not where the Failure was made', () => {
    function createTheError(): Error {
      return new Error('made here');
    }
    function wrapItLater(error: Error): Failure {
      return new Failure(error);
    }
    const tb = wrapItLater(createTheError()).getTraceback();
    assert.match(tb, /at createTheError /);
    assert.doesNotMatch(tb, /wrapItLater/);
  });

  test('shows where a non-Error value was caught', () => {
    function catchTheString(): Failure {
      try {
        throw 'thrown text';
      } catch (value) {
        return new Failure(value);
      }
    }
    const tb = catchTheString().getTraceback();
    assert.match(tb, /^String: thrown text\n/);
    assert.match(tb, /at catchTheString /);
  });

  test('names the class of an Error subclass that does not set name', () => {
    const f = new Failure(new UnnamedError('nameless'));
    assert.equal(f.getBriefTraceback(), 'UnnamedError: nameless');
    assert.match(f.getTraceback(), /^UnnamedError: nameless\n/);
  });

  test('uses the name an Error sets for itself', () => {
    assert.equal(new Failure(new ChildError('named')).getBriefTraceback(), 'ChildError: named');
  });

  test('verbose adds the properties of the value to the default traceback', () => {
    const error = Object.assign(new Error('with extras'), { code: 'E_EXTRA', attempt: 3 });
    const f = new Failure(error);
    const normal = f.getTraceback();
    const verbose = f.getTraceback({ detail: 'verbose' });
    assert.ok(verbose.startsWith(normal), 'verbose starts with the default traceback');
    assert.match(verbose, /code: 'E_EXTRA'/);
    assert.match(verbose, /attempt: 3/);
    assert.doesNotMatch(normal, /E_EXTRA/);
  });

  test('appends each cause in the chain as "Caused by:"', () => {
    function lowLevel(): Error {
      return new TypeError('socket closed');
    }
    const root = lowLevel();
    const middle = new Error('request failed', { cause: root });
    const top = new ChildError('page failed', { cause: middle });
    const tb = new Failure(top).getTraceback();
    const headers = tb.split('\n').filter((line) => !line.startsWith('    at '));
    assert.deepEqual(headers, [
      'ChildError: page failed',
      'Caused by: Error: request failed',
      'Caused by: TypeError: socket closed',
      '',
    ]);
    assert.match(tb, /Caused by: TypeError: socket closed\n {4}at lowLevel /);
  });

  test('shows a cause that is not an Error', () => {
    const tb = new Failure(new Error('outer', { cause: 'a plain reason' })).getTraceback();
    assert.match(tb, /Caused by: String: a plain reason/);
  });

  test('stops following a chain of causes that loops', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    const tb = new Failure(a).getTraceback();
    assert.ok(tb.split('\n').filter((line) => line.startsWith('Caused by:')).length < 20);
  });

  test('the brief traceback leaves out the causes and the stack', () => {
    const f = new Failure(new Error('outer', { cause: new Error('inner') }));
    assert.equal(f.getBriefTraceback(), 'Error: outer');
  });

  test('rejects an unknown detail level with a RangeError', () => {
    const f = getDivisionFailure();
    assert.throws(() => f.getTraceback({ detail: 'noisy' as TracebackDetail }), RangeError);
  });
});

describe('Failure.getTraceback of values that cannot be shown', () => {
  /** An Error whose message cannot be read. */
  function brokenMessageError(): Error {
    const error = new Error();
    Object.defineProperty(error, 'message', {
      get(): string {
        throw new Error('you cannot read my message');
      },
    });
    return error;
  }

  /** An Error whose name (its type, as shown) cannot be read. */
  function brokenNameError(): Error {
    const error = new Error('named badly');
    Object.defineProperty(error, 'name', {
      get(): string {
        throw new Error('you cannot read my name');
      },
    });
    return error;
  }

  /** An object that throws when inspected. */
  const brokenInspect = {
    [inspect.custom](): string {
      throw new Error('you cannot inspect me');
    },
  };

  for (const detail of DETAILS) {
    test(`gives a string at ${detail} detail for an Error whose message throws`, () => {
      assert.equal(typeof new Failure(brokenMessageError()).getTraceback({ detail }), 'string');
    });

    test(`gives a string at ${detail} detail for an Error whose name throws`, () => {
      assert.equal(typeof new Failure(brokenNameError()).getTraceback({ detail }), 'string');
    });

    test(`gives a string at ${detail} detail for an object that throws when inspected`, () => {
      assert.equal(typeof new Failure(brokenInspect).getTraceback({ detail }), 'string');
    });
  }

  test('toString and getErrorMessage do not throw either', () => {
    for (const value of [brokenMessageError(), brokenNameError(), brokenInspect]) {
      const f = new Failure(value);
      assert.equal(typeof f.toString(), 'string');
      assert.equal(typeof f.getErrorMessage(), 'string');
    }
  });
});

describe('Failure as text', () => {
  test('toString is [Failure instance: Type: message]', () => {
    assert.equal(String(getDivisionFailure()), '[Failure instance: RangeError: division by zero]');
    assert.equal(`${new Failure('text')}`, '[Failure instance: String: text]');
  });

  test('util.inspect shows <Failure Type: message>', () => {
    assert.equal(inspect(getDivisionFailure()), '<Failure RangeError: division by zero>');
  });
});

describe('Failure.printTraceback and its brief and detailed forms', () => {
  const output = (): { text: string; write(text: string): void } => ({
    text: '',
    write(text: string) {
      this.text += text;
    },
  });

  test('printTraceback writes getTraceback, with the detail asked for', () => {
    const failure = new Failure(new RangeError('out of range'));
    const out = output();
    failure.printTraceback(out);
    assert.equal(out.text, failure.getTraceback());
    assert.match(out.text, /^RangeError: out of range\n {4}at /);
    const brief = output();
    failure.printTraceback(brief, { detail: 'brief' });
    assert.equal(brief.text, 'RangeError: out of range');
  });

  test('printBriefTraceback writes one line; printDetailedTraceback adds the value', () => {
    const failure = new Failure(Object.assign(new Error('bad'), { code: 'E_BAD' }));
    const brief = output();
    failure.printBriefTraceback(brief);
    assert.equal(brief.text, 'Error: bad\n');
    const detailed = output();
    failure.printDetailedTraceback(detailed);
    assert.equal(detailed.text, failure.getTraceback({ detail: 'verbose' }));
    assert.match(detailed.text, /E_BAD/);
  });

  test('writes to standard error by default', () => {
    const written: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((text: string) => {
      written.push(text);
      return true;
    }) as typeof process.stderr.write;
    try {
      new Failure(new Error('to stderr')).printTraceback();
    } finally {
      process.stderr.write = original;
    }
    assert.equal(written.length, 1);
    assert.match(written[0] ?? '', /^Error: to stderr\n/);
  });
});
