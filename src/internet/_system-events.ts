// Internal: system event triggers, each event run in three phases
// (Twisted: twisted.internet.base._ThreePhaseEvent).
// Tests: test/unit/internet/system-events.test.ts

import { Logger } from '../logger/logger.js';
import { Deferred, DeferredList } from './defer.js';
import type { SystemEventPhase, SystemEventTriggerID, SystemEventType } from './interfaces.js';

const log = new Logger('torsion.internet.base');

interface Trigger extends SystemEventTriggerID {
  readonly f: (...args: never[]) => unknown;
  readonly args: unknown[];
}

const phases: readonly SystemEventPhase[] = ['before', 'during', 'after'];

/**
 * The triggers of one system event, in three phases. `'before'` triggers may
 * return a Deferred (or a promise); `'during'` and `'after'` triggers run once
 * all of those have fired. Triggers are removed as they run, so each runs
 * once per firing of its event.
 */
class ThreePhaseEvent {
  readonly triggers: Record<SystemEventPhase, Trigger[]> = { before: [], during: [], after: [] };
  firingBefore = false;

  fire(): void {
    this.firingBefore = true;
    const waits: Deferred<unknown>[] = [];
    for (let trigger = this.triggers.before.shift(); trigger !== undefined; ) {
      const result = callTrigger(trigger);
      let pending: Deferred<unknown> | undefined;
      if (result instanceof Deferred) pending = result;
      else if (result instanceof Promise) pending = Deferred.fromPromise(result);
      if (pending !== undefined) {
        const failed = trigger;
        waits.push(
          pending.addErrback((failure) => {
            log.failure('A before-{eventType} trigger {trigger} failed', failure, {
              eventType: failed.eventType,
              trigger: failed.f.name || 'anonymous',
            });
          }),
        );
      }
      trigger = this.triggers.before.shift();
    }
    new DeferredList(waits).addCallback(() => {
      this.firingBefore = false;
      for (const phase of ['during', 'after'] as const) {
        for (let trigger = this.triggers[phase].shift(); trigger !== undefined; ) {
          callTrigger(trigger);
          trigger = this.triggers[phase].shift();
        }
      }
    });
  }
}

function callTrigger(trigger: Trigger): unknown {
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
 * All system events of one reactor.
 *
 * @internal
 */
export class SystemEvents {
  readonly #events = new Map<string, ThreePhaseEvent>();

  add<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    f: (...args: A) => unknown,
    args: A,
  ): SystemEventTriggerID {
    if (!phases.includes(phase)) {
      throw new RangeError(
        `invalid system event phase '${String(phase)}': use before, during or after`,
      );
    }
    if (typeof f !== 'function')
      throw new TypeError(`a system event trigger must be a function, got ${typeof f}`);
    let event = this.#events.get(eventType);
    if (event === undefined) {
      event = new ThreePhaseEvent();
      this.#events.set(eventType, event);
    }
    const trigger: Trigger = { phase, eventType, f, args };
    event.triggers[phase].push(trigger);
    return trigger;
  }

  remove(id: SystemEventTriggerID): void {
    const list = this.#events.get(id.eventType)?.triggers[id.phase];
    const index = list === undefined ? -1 : list.indexOf(id as Trigger);
    if (list === undefined || index === -1) {
      throw new Error(`no such ${id.phase}-${id.eventType} trigger: it ran already or was removed`);
    }
    list.splice(index, 1);
  }

  fire(eventType: SystemEventType): void {
    this.#events.get(eventType)?.fire();
  }
}
