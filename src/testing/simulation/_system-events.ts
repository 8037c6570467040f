// Internal: a simulated host's system event triggers, each event run in
// three phases as a reactor runs them ('before' triggers may return a
// Deferred or a promise; 'during' and 'after' run once those have fired).
// Tests: test/unit/testing/simulation-core.test.ts

import { Deferred, DeferredList } from '../../internet/defer.js';
import type {
  SystemEventPhase,
  SystemEventTriggerID,
  SystemEventType,
} from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';

const log = new Logger('torsion.testing.simulation');

interface Trigger extends SystemEventTriggerID {
  readonly f: (...args: never[]) => unknown;
  readonly args: unknown[];
}

const PHASES: readonly SystemEventPhase[] = ['before', 'during', 'after'];

function call(trigger: Trigger): unknown {
  try {
    return Reflect.apply(trigger.f, undefined, trigger.args);
  } catch (error) {
    log.failure('While handling a {phase} {eventType} trigger', error, {
      phase: trigger.phase,
      eventType: trigger.eventType,
    });
    return undefined;
  }
}

/**
 * The system event triggers of one simulated host.
 *
 * @internal
 */
export class SystemEvents {
  readonly #triggers = new Map<string, Record<SystemEventPhase, Trigger[]>>();

  add<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    f: (...args: A) => unknown,
    args: A,
  ): SystemEventTriggerID {
    if (!PHASES.includes(phase)) {
      throw new RangeError(
        `invalid system event phase '${String(phase)}': use before, during or after`,
      );
    }
    if (typeof f !== 'function') {
      throw new TypeError(`a system event trigger must be a function, got ${typeof f}`);
    }
    let lists = this.#triggers.get(eventType);
    if (lists === undefined) {
      lists = { before: [], during: [], after: [] };
      this.#triggers.set(eventType, lists);
    }
    const trigger: Trigger = { phase, eventType, f, args };
    lists[phase].push(trigger);
    return trigger;
  }

  remove(id: SystemEventTriggerID): void {
    const list = this.#triggers.get(id.eventType)?.[id.phase];
    const index = list === undefined ? -1 : list.indexOf(id as Trigger);
    if (list === undefined || index === -1) {
      throw new Error(`no such ${id.phase}-${id.eventType} trigger: it ran already or was removed`);
    }
    list.splice(index, 1);
  }

  fire(eventType: SystemEventType): void {
    const lists = this.#triggers.get(eventType);
    if (lists === undefined) return;
    const waits: Deferred<unknown>[] = [];
    for (
      let trigger = lists.before.shift();
      trigger !== undefined;
      trigger = lists.before.shift()
    ) {
      const result = call(trigger);
      if (result instanceof Deferred) waits.push(result.addErrback(() => undefined));
      else if (result instanceof Promise) {
        waits.push(Deferred.fromPromise(result).addErrback(() => undefined));
      }
    }
    new DeferredList(waits).addCallback(() => {
      for (const phase of ['during', 'after'] as const) {
        for (let t = lists[phase].shift(); t !== undefined; t = lists[phase].shift()) call(t);
      }
    });
  }
}
