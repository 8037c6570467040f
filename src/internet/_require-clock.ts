// Internal: the run-time check that an API which keeps time was given its
// clock. The types already require it; this catches a JavaScript caller (or
// a cast) that omits it, at the call that forgot it rather than later, deep
// in a timer, as "cannot read properties of undefined (reading 'callLater')".
// Tests: test/unit/internet/reactor-parameter.test.ts

import type { IReactorTime } from './interfaces.js';

function describe(value: unknown): string {
  if (typeof value === 'function')
    return `the function ${value.name === '' ? '(anonymous)' : value.name}`;
  return value === null ? 'null' : typeof value;
}

/**
 * Returns `clock` if it can schedule calls (it has `callLater` and `seconds`).
 *
 * @param clock - What the caller passed.
 * @param what - Who needs it, the start of the message, such as
 *   `LoopingCall needs a clock (IReactorTime) as its first argument`.
 * @throws TypeError if `clock` is not an IReactorTime.
 */
export function requireClock(clock: unknown, what: string): IReactorTime {
  const candidate = clock as Partial<IReactorTime> | null | undefined;
  if (
    (typeof candidate === 'object' || typeof candidate === 'function') &&
    candidate !== null &&
    typeof candidate.callLater === 'function' &&
    typeof candidate.seconds === 'function'
  ) {
    return candidate as IReactorTime;
  }
  throw new TypeError(
    `${what}: pass the reactor, or a Clock in tests (nothing falls back to real time); got ${describe(clock)}`,
  );
}
