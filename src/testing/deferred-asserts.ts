// Synchronous assertions on Deferreds, for tests that drive time with a Clock
// (Twisted: twisted.trial._synctest successResultOf & co).
// Tests: test/unit/testing/deferred-asserts.test.ts

import { type Deferred, ensureDeferred } from '../internet/defer.js';
import { type ErrorMatcher, Failure } from '../internet/failure.js';
import { assertionError } from './_assertion-error.js';

/**
 * The result a Deferred has already fired with; fails the test if it has no
 * result yet or failed.
 *
 * @remarks
 * Like `await`, this consumes the result: the Deferred holds `undefined`
 * afterwards. A promise is accepted too, but promises never settle
 * synchronously, so pass Deferreds.
 *
 * @throws AssertionError if there is no result or the result is a failure.
 * @see Twisted: twisted.trial.unittest.SynchronousTestCase.successResultOf
 * @since 0.1.0
 */
export function successResultOf<T>(deferred: Deferred<T> | PromiseLike<T>): T {
  const d = ensureDeferred(deferred);
  const results: Array<T | Failure> = [];
  d.addBoth((result) => {
    results.push(result);
  });
  if (results.length === 0) {
    throw assertionError(`Success result expected on ${d}, found no result instead`);
  }
  const result = results[0];
  if (result instanceof Failure) {
    throw assertionError(
      `Success result expected on ${d}, found failure result instead:\n${result.getTraceback()}`,
    );
  }
  return result as T;
}

/**
 * The failure a Deferred has already failed with; fails the test if it has
 * no result, succeeded, or failed with none of `expected`.
 *
 * @remarks
 * This consumes the failure, so it is not reported as unhandled.
 *
 * @param expected - Error classes or names the failure must match (any one);
 *   none means any failure.
 * @throws AssertionError if the Deferred did not fail as expected.
 * @see Twisted: twisted.trial.unittest.SynchronousTestCase.failureResultOf
 * @since 0.1.0
 */
export function failureResultOf(
  deferred: Deferred<unknown> | PromiseLike<unknown>,
  ...expected: ErrorMatcher[]
): Failure {
  const d = ensureDeferred(deferred);
  const results: unknown[] = [];
  d.addBoth((result) => {
    results.push(result);
  });
  if (results.length === 0) {
    throw assertionError(`Failure result expected on ${d}, found no result instead`);
  }
  const result = results[0];
  if (!(result instanceof Failure)) {
    throw assertionError(
      `Failure result expected on ${d}, found success result (${String(result)}) instead`,
    );
  }
  if (expected.length > 0 && result.check(...expected) === null) {
    const names = expected.map((e) => (typeof e === 'string' ? e : e.name)).join(', ');
    throw assertionError(
      `Failure of type (${names}) expected on ${d}, found type ${result.type?.name ?? typeof result.value} instead:\n${result.getTraceback()}`,
    );
  }
  return result;
}

/**
 * Fails the test if the Deferred has a result already.
 *
 * @remarks
 * A failure found this way is consumed before the assertion error is thrown,
 * so it is not also reported as unhandled.
 *
 * @throws AssertionError if the Deferred has fired (and is not paused).
 * @see Twisted: twisted.trial.unittest.SynchronousTestCase.assertNoResult
 * @since 0.1.0
 */
export function assertNoResult(deferred: Deferred<unknown>): void {
  const results: unknown[] = [];
  deferred.addBoth((result) => {
    results.push(result);
    return result;
  });
  if (results.length > 0) {
    deferred.addErrback(() => undefined);
    throw assertionError(`No result expected on ${deferred}, found ${String(results[0])} instead`);
  }
}
