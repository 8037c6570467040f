// Failing a test that leaves its reactor dirty: calls still scheduled,
// ports still listening, connection attempts still in progress
// (Twisted: trial's DirtyReactorAggregateError).
// Tests: test/unit/testing/dirty-reactor.test.ts

import type { IReactorTime } from '../internet/interfaces.js';
import { whereScheduled } from '../internet/task/clock.js';
import { assertionError } from './_assertion-error.js';
import { MemoryReactor } from './memory-reactor.js';

/**
 * What {@link assertReactorClean} checks: a clock (`Clock`, any
 * `IReactorTime`), a {@link MemoryReactor}, or both (`MemoryReactorClock`).
 *
 * @since 0.1.0
 */
export type CheckableReactor = IReactorTime | MemoryReactor;

function hasDelayedCalls(reactor: CheckableReactor): reactor is IReactorTime {
  return typeof (reactor as Partial<IReactorTime>).getDelayedCalls === 'function';
}

/**
 * Lists what a test left behind on `reactor`, one line each: delayed calls
 * not yet run or cancelled, ports of a MemoryReactor still listening, and
 * its connection attempts neither stopped nor disconnected.
 *
 * @param reactor - The clock or reactor the test used.
 * @returns The leftovers; empty when the reactor is clean.
 * @since 0.1.0
 */
export function describeDirtyReactor(reactor: CheckableReactor): string[] {
  const leftovers: string[] = [];
  if (hasDelayedCalls(reactor)) {
    for (const call of reactor.getDelayedCalls()) {
      const where = whereScheduled(call);
      leftovers.push(
        `pending delayed call: ${String(call)}${where === undefined ? '' : `, scheduled by ${where}`}`,
      );
    }
  }
  if (reactor instanceof MemoryReactor) {
    for (const port of reactor.ports) {
      if (port.listening) leftovers.push(`listening port: ${String(port)}`);
    }
    for (const connector of reactor.connectors) {
      if (connector.state === 'connecting') {
        leftovers.push(`connection attempt in progress: ${String(connector)}`);
      }
    }
  }
  return leftovers;
}

/**
 * Cancels the delayed calls still scheduled on `reactor`, stops its
 * listening ports and its connection attempts.
 *
 * @param reactor - The clock or reactor to clean.
 * @since 0.1.0
 */
export function cleanReactor(reactor: CheckableReactor): void {
  if (hasDelayedCalls(reactor)) {
    for (const call of reactor.getDelayedCalls()) call.cancel();
  }
  if (reactor instanceof MemoryReactor) {
    for (const port of reactor.ports) {
      if (port.listening) port.stopListening();
    }
    for (const connector of reactor.connectors) {
      if (connector.state === 'connecting') connector.stopConnecting();
    }
  }
}

/** Options of {@link assertReactorClean}. */
export interface AssertReactorCleanOptions {
  /**
   * Clean the reactor (see {@link cleanReactor}) before throwing, so that
   * what one test left does not trouble the next.
   * @defaultValue true
   */
  clean?: boolean | undefined;
}

/**
 * Fails the test if it left `reactor` dirty: delayed calls still scheduled,
 * ports still listening, connection attempts still in progress.
 *
 * @remarks
 * Call it from `t.after()` (or `afterEach`) with the clock or reactor the
 * test used. The error lists every leftover, one per line.
 *
 * @example
 * ```ts
 * test('retries after a second', (t) => {
 *   const reactor = new MemoryReactorClock();
 *   t.after(() => assertReactorClean(reactor));
 *   // …
 * });
 * ```
 *
 * @param reactor - The clock or reactor the test used.
 * @param options - See {@link AssertReactorCleanOptions}.
 * @throws AssertionError listing the leftovers, if there are any.
 * @see Twisted: twisted.trial.util.DirtyReactorAggregateError
 * @since 0.1.0
 */
export function assertReactorClean(
  reactor: CheckableReactor,
  options: AssertReactorCleanOptions = {},
): void {
  const leftovers = describeDirtyReactor(reactor);
  if (leftovers.length === 0) return;
  if (options.clean ?? true) cleanReactor(reactor);
  throw assertionError(
    `Reactor was unclean after the test (${leftovers.length} left):\n  ${leftovers.join('\n  ')}`,
  );
}
