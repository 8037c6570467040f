// Forcing garbage collection from a test, to observe what happens when
// objects (such as Deferreds holding a failure) are collected.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');

/** Runs a full garbage collection now. */
export const gc = runInNewContext('gc') as () => void;

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Collects garbage and lets pending finalization callbacks run, round after
 * round, until `predicate` holds or `rounds` rounds have passed.
 *
 * @remarks
 * `WeakRef.deref()` keeps its target alive until the current turn ends, so
 * each collection runs on a fresh turn, after the predicate's turn.
 *
 * @returns Whether `predicate` held.
 */
export async function collectUntil(predicate: () => boolean, rounds = 20): Promise<boolean> {
  for (let round = 0; round < rounds; round++) {
    if (predicate()) return true;
    await nextTurn();
    gc();
    await nextTurn();
  }
  return predicate();
}
