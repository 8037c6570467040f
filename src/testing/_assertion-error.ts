// Internal: node:assert's AssertionError, loaded only when an assertion of
// torsion/testing fails. Importing node:assert loads node:net (through its
// terminal-colour support when stderr is a pipe), and importing
// torsion/testing must load no socket module.
// Tests: test/unit/testing/deferred-asserts.test.ts, test/unit/internet/reactor-parameter.test.ts

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A new `AssertionError` of node:assert (which test runners report as a
 * failed assertion), with `message`.
 *
 * @param message - What failed.
 * @returns The error, to throw.
 */
export function assertionError(message: string): Error {
  const { AssertionError } = require('node:assert') as typeof import('node:assert');
  return new AssertionError({ message });
}
