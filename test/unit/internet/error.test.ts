// The reactor layer's errors (src/internet/error.ts): every class has
// Twisted's name, a stable code of its own and keeps a cause; the hierarchy
// is Twisted's, so `failure.trap(ConnectionClosed)` ports unchanged; the
// messages read as Twisted's do.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as errors from '../../../src/internet/error.js';

type ErrorClass = new (...args: never[]) => errors.TorsionError;

/** The arguments each class takes before its options, where it needs some. */
const LEADING_ARGS: Record<string, unknown[]> = {
  CannotListenError: ['127.0.0.1', 8080, 'EADDRINUSE'],
  ConnectingCancelledError: ['127.0.0.1:80'],
  InvalidAddressError: ['nowhere', 'not an IP address'],
  MulticastJoinError: ['225.0.0.250', '', 'join EINVAL'],
  EndpointStringError: ['tcp:x', 'x', 'not a port'],
  ProcessTerminated: [1, undefined],
};

/** Every error class the module exports. */
const classes = Object.entries(errors as Record<string, unknown>).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === 'function' &&
    (entry[1] === errors.TorsionError ||
      (entry[1] as ErrorClass).prototype instanceof errors.TorsionError),
);

/** An instance of `cls` with `cause` as its cause. */
function make(name: string, cls: ErrorClass, cause: unknown): errors.TorsionError {
  const leading = LEADING_ARGS[name] ?? [undefined];
  return Reflect.construct(cls, [...leading, { cause }]) as errors.TorsionError;
}

describe('the reactor errors', () => {
  test('the module exports the error classes', () => {
    assert.ok(classes.length >= 25, `found ${classes.length} error classes`);
  });

  for (const [name, cls] of classes) {
    test(`${name} has its class name, an ERR_ code, and keeps its cause`, () => {
      const cause = new Error('underneath');
      const error = make(name, cls, cause);
      assert.ok(error instanceof Error);
      assert.ok(error instanceof errors.TorsionError);
      assert.equal(error.name, name);
      assert.match(error.code, /^ERR_[A-Z0-9_]+$/);
      assert.equal(error.cause, cause);
    });
  }

  test('no two classes share a code', () => {
    const byCode = new Map<string, string[]>();
    for (const [name, cls] of classes) {
      const code = make(name, cls, undefined).code;
      byCode.set(code, [...(byCode.get(code) ?? []), name]);
    }
    const shared = [...byCode].filter(([, names]) => names.length > 1);
    assert.deepEqual(shared, []);
  });

  test("the connection errors have Twisted's hierarchy", () => {
    const subclassOf = (child: ErrorClass, parent: ErrorClass): boolean =>
      child.prototype instanceof parent;
    assert.ok(subclassOf(errors.ConnectionLost, errors.ConnectionClosed));
    assert.ok(subclassOf(errors.ConnectionAborted, errors.ConnectionLost));
    assert.ok(subclassOf(errors.ConnectionDone, errors.ConnectionClosed));
    assert.ok(!subclassOf(errors.ConnectionDone, errors.ConnectionLost));
    for (const cls of [
      errors.ConnectBindError,
      errors.UnknownHostError,
      errors.NoRouteError,
      errors.ConnectionRefusedError,
      errors.TCPTimedOutError,
      errors.BadFileError,
      errors.ServiceNameUnknownError,
      errors.UserError,
      errors.SSLError,
    ]) {
      assert.ok(subclassOf(cls, errors.ConnectError), cls.name);
    }
    assert.ok(subclassOf(errors.TimeoutError, errors.UserError));
    assert.ok(subclassOf(errors.CannotListenError, errors.BindError));
  });

  test("messages read as Twisted's: the kind of failure, then the system error and the detail", () => {
    assert.equal(
      new errors.ConnectionRefusedError('127.0.0.1:9', { osError: 'ECONNREFUSED' }).message,
      'Connection was refused by other side: ECONNREFUSED: 127.0.0.1:9.',
    );
    assert.equal(new errors.ConnectionDone().message, 'Connection was closed cleanly.');
    assert.equal(
      new errors.ConnectionLost('reset').message,
      'Connection to the other side was lost in a non-clean fashion: reset.',
    );
    const listen = new errors.CannotListenError('', 80, 'EACCES');
    assert.equal(listen.message, "Couldn't listen on any:80: EACCES.");
    assert.deepEqual([listen.interface, listen.port, listen.socketError], ['', 80, 'EACCES']);
  });
});
