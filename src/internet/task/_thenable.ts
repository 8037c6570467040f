// Whether a value is a promise-like (has a callable `then`): what react and
// the Cooperator accept besides a Deferred.
// Tests: test/unit/internet/task-react.test.ts, test/unit/internet/task-cooperator.test.ts

/** True when `value` has a callable `then`, as `await` would treat it. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
