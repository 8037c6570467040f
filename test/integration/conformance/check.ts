// Assertions the conformance behaviours share: the order of a probe's
// callbacks and the class of a connectionLost reason. Test-only.
// Tests: test/integration/conformance/transports.test.ts

import assert from 'node:assert/strict';
import type { Failure } from 'torsion/defer';
import type { ConnectionClosed } from 'torsion/protocol';
import type { Probe } from './probe.js';

/** Checks that `reason` wraps an `expected` (or a subclass). */
export function assertReason(
  reason: Failure | undefined,
  expected: typeof ConnectionClosed,
  side: string,
): void {
  assert.ok(reason !== undefined, `${side}: connectionLost was called`);
  assert.ok(
    reason.check(expected) !== null,
    `${side}: expected ${expected.name}, got ${String(reason.type?.name)}: ${reason.getErrorMessage()}`,
  );
}

/**
 * Checks a probe's whole life: makeConnection → connectionMade (with
 * `connected` set and the transport attached) → the middle events allowed →
 * connectionLost exactly once, and nothing after it.
 */
export function assertLifecycle(
  p: Probe,
  side: string,
  middle: readonly string[] = ['dataReceived'],
): void {
  assert.deepEqual(p.events.slice(0, 2), ['makeConnection', 'connectionMade'], `${side}: start`);
  assert.equal(p.connectedAtMade, true, `${side}: connected when connectionMade runs`);
  assert.equal(p.transportAtMade, true, `${side}: transport attached before connectionMade`);
  assert.equal(p.lostCalls, 1, `${side}: connectionLost exactly once`);
  assert.equal(p.events.at(-1), 'connectionLost', `${side}: connectionLost comes last`);
  assert.deepEqual(p.late, [], `${side}: no callback after connectionLost`);
  for (const event of p.events.slice(2, -1)) {
    assert.ok(middle.includes(event), `${side}: unexpected ${event} in ${p.events.join(' → ')}`);
  }
}
