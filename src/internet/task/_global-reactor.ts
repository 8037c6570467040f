// Internal: the global reactor, for the entry points only (react, runMain,
// and the module-wide cooperate and coiterate). It is the one library module
// that reaches src/internet/reactor.ts, and it does so lazily, at the first
// call: importing torsion/task or torsion/testing loads no socket module
// and constructs no NodeReactor.
// Tests: test/unit/internet/reactor-parameter.test.ts, test/integration/task-react.test.ts

import type { IDelayedCall } from '../interfaces.js';
import type { NodeReactor } from '../node-reactor.js';

/** The global reactor, once loaded. */
let loaded: NodeReactor | undefined;

/**
 * Loads the global reactor (constructing it on first use).
 *
 * @returns A promise of the default `reactor` of torsion/reactor.
 */
export async function globalReactor(): Promise<NodeReactor> {
  if (loaded === undefined) ({ reactor: loaded } = await import('../reactor.js'));
  return loaded;
}

/**
 * The scheduler of the module-wide Cooperator: runs `step` on a later turn of
 * the global reactor (`callLater(0, step)`).
 *
 * @remarks
 * The first call loads the reactor asynchronously, so its step waits for
 * that too; either way the step runs on a later turn, never at once.
 *
 * @param step - The Cooperator's step.
 * @returns Something that cancels the step if it has not run.
 */
export function globalScheduler(step: () => void): Pick<IDelayedCall, 'cancel'> {
  if (loaded !== undefined) return loaded.callLater(0, step);
  let cancelled = false;
  let call: IDelayedCall | undefined;
  void globalReactor().then((reactor) => {
    if (!cancelled) call = reactor.callLater(0, step);
  });
  return {
    cancel(): void {
      cancelled = true;
      call?.cancel();
    },
  };
}
