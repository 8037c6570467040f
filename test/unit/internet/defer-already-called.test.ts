// Firing a Deferred twice, with and without debugging (ported from Twisted's
// twisted/test/test_defer.py AlreadyCalledTests).

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AlreadyCalledError, Deferred, Failure, getDebugging, setDebugging } from 'torsion/defer';

// The functions below are module-level declarations so that their names show
// up as-is in the stack frames recorded while debugging.

function createDeferred(): Deferred<string> {
  const d = new Deferred<string>();
  d.addCallbacks(
    () => undefined,
    () => undefined,
  );
  return d;
}

function callFirst(d: Deferred<string>): void {
  d.callback('hello');
}

function callSecond(d: Deferred<string>): void {
  d.callback('twice');
}

function errFirst(d: Deferred<string>): void {
  d.errback(new Failure(new RangeError('first')));
}

function errSecond(d: Deferred<string>): void {
  d.errback(new Failure(new RangeError('second')));
}

type Fire = (d: Deferred<string>) => void;

/** The AlreadyCalledError that `fire(d)` throws; fails the test if it throws nothing else. */
function alreadyCalled(d: Deferred<string>, fire: Fire): AlreadyCalledError {
  try {
    fire(d);
  } catch (error) {
    assert.ok(error instanceof AlreadyCalledError, `expected AlreadyCalledError, got ${error}`);
    return error;
  }
  assert.fail('the second fire did not throw AlreadyCalledError');
}

/** How many lines start with ` ${kind}:` and show a frame of the function `name`. */
function countFrames(message: string, kind: 'C' | 'I', name: string): number {
  return message
    .split('\n')
    .filter((line) => line.startsWith(` ${kind}:`) && line.includes(` at ${name} (`)).length;
}

/**
 * Checks that the message of `error` shows where the Deferred was created
 * (in createDeferred, and nowhere else) and where it first fired (in
 * `firstInvoker`, not in `secondInvoker`).
 */
function checkDebugMessage(error: AlreadyCalledError, firstInvoker: Fire, secondInvoker: Fire) {
  const message = error.message;
  assert.match(message, /^ C: Deferred was created:$/m);
  assert.match(message, /^ I: First Invoker was:$/m);
  assert.equal(countFrames(message, 'C', 'createDeferred'), 1);
  for (const invoker of [callFirst, callSecond, errFirst, errSecond]) {
    assert.equal(countFrames(message, 'C', invoker.name), 0, `${invoker.name} in C: lines`);
  }
  assert.equal(countFrames(message, 'I', firstInvoker.name), 1);
  assert.equal(countFrames(message, 'I', secondInvoker.name), 0);
}

const pairs: Array<[string, Fire, Fire]> = [
  ['callback then callback', callFirst, callSecond],
  ['callback then errback', callFirst, errSecond],
  ['errback then errback', errFirst, errSecond],
  ['errback then callback', errFirst, callSecond],
];

describe('AlreadyCalledError without debugging', () => {
  beforeEach(() => setDebugging(false));
  afterEach(() => setDebugging(false));

  for (const [name, first, second] of pairs) {
    test(`${name} throws AlreadyCalledError on the second call`, () => {
      const d = createDeferred();
      first(d);
      const error = alreadyCalled(d, second);
      assert.equal(error.code, 'ERR_ALREADY_CALLED_DEFERRED');
      assert.equal(error.name, 'AlreadyCalledError');
    });
  }

  test('the message is the plain default, with no creator or invoker lines', () => {
    assert.equal(getDebugging(), false);
    const d = createDeferred();
    callFirst(d);
    const error = alreadyCalled(d, callSecond);
    assert.equal(error.message, 'the Deferred has already fired');
    assert.doesNotMatch(error.message, /^ [CI]:/m);
  });
});

describe('AlreadyCalledError with debugging on', () => {
  beforeEach(() => setDebugging(true));
  afterEach(() => setDebugging(false));

  for (const [name, first, second] of pairs) {
    test(`${name}: the message shows where the Deferred was created and first fired`, () => {
      assert.equal(getDebugging(), true);
      const d = createDeferred();
      first(d);
      checkDebugMessage(alreadyCalled(d, second), first, second);
    });
  }
});

describe('switching debugging at runtime', () => {
  afterEach(() => setDebugging(false));

  test('a Deferred created with debugging off can be fired with it on, and the reverse', () => {
    setDebugging(false);
    const first = new Deferred<null>();
    const seen: unknown[] = [];
    first.addBoth((result) => {
      seen.push(result);
    });
    setDebugging(true);
    first.callback(null);

    setDebugging(false);
    const second = new Deferred<null>();
    second.callback(null);
    setDebugging(true);
    second.addBoth((result) => {
      seen.push(result);
    });
    assert.deepEqual(seen, [null, null]);
  });

  test('a Deferred created with debugging off and fired with it on reports only the invoker', () => {
    setDebugging(false);
    const d = createDeferred();
    setDebugging(true);
    callFirst(d);
    const message = alreadyCalled(d, callSecond).message;
    assert.doesNotMatch(message, /^ C:/m);
    assert.equal(countFrames(message, 'I', 'callFirst'), 1);
    assert.equal(countFrames(message, 'I', 'callSecond'), 0);
  });

  test('once debugging is off again, a second fire gives the plain message', () => {
    setDebugging(true);
    const d = createDeferred();
    callFirst(d);
    setDebugging(false);
    assert.equal(alreadyCalled(d, callSecond).message, 'the Deferred has already fired');
  });
});
