// A reactor for tests of code that runs a reactor (react, runMain): its time
// is a Clock, and run() jumps from one delayed call to the next (Twisted's
// _FakeReactor in twisted/test/test_task.py). Test-only; not exported.

import {
  type IDelayedCall,
  type IReactorCore,
  type IReactorTime,
  ReactorAlreadyRunning,
  ReactorNotRunning,
  type SystemEventPhase,
  type SystemEventTriggerID,
  type SystemEventType,
} from 'torsion';
import { type Deferred, fail } from 'torsion/defer';
import { Clock } from 'torsion/task';

interface Trigger extends SystemEventTriggerID {
  readonly f: (...args: never[]) => unknown;
  readonly args: unknown[];
}

/** Lets the promise jobs already queued run: one turn of Node's loop; no time passes on the clock. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

/**
 * An IReactorCore and IReactorTime on a Clock.
 *
 * `run()` runs the `callWhenRunning` functions, then, while the reactor
 * runs, lets pending promise jobs settle and advances the clock to the next
 * delayed call; it fails if there is none left while the reactor still runs
 * (the code under test would hang). Once stopped, it runs the shutdown
 * triggers, `'before'` then `'during'` then `'after'`. `stop()` calls are
 * counted.
 */
export class FakeReactor implements IReactorCore, IReactorTime {
  readonly clock = new Clock();
  /** How many times stop() was called successfully. */
  stopCalls = 0;
  /** Set to simulate a reactor stopped by a signal, as NodeReactor.exitSignal. */
  exitSignal: NodeJS.Signals | undefined = undefined;
  #running = false;
  #ran = false;
  #whenRunning: Array<() => void> | null = [];
  #triggers: Trigger[] = [];

  get running(): boolean {
    return this.#running;
  }

  seconds(): number {
    return this.clock.seconds();
  }

  callLater<A extends unknown[]>(
    delay: number,
    f: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall {
    return this.clock.callLater(delay, f, ...args);
  }

  getDelayedCalls(): IDelayedCall[] {
    return this.clock.getDelayedCalls();
  }

  resolve(name: string): Deferred<string> {
    return fail(new Error(`FakeReactor cannot resolve ${name}`));
  }

  callWhenRunning<A extends unknown[]>(
    f: (...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID | undefined {
    if (this.#whenRunning === null) {
      f(...args);
    } else {
      this.#whenRunning.push(() => f(...args));
    }
    return undefined;
  }

  addSystemEventTrigger<A extends unknown[]>(
    phase: SystemEventPhase,
    eventType: SystemEventType,
    f: (...args: A) => unknown,
    ...args: A
  ): SystemEventTriggerID {
    const trigger: Trigger = { phase, eventType, f, args };
    this.#triggers.push(trigger);
    return trigger;
  }

  removeSystemEventTrigger(triggerID: SystemEventTriggerID): void {
    this.#triggers = this.#triggers.filter((trigger) => trigger !== triggerID);
  }

  fireSystemEvent(eventType: SystemEventType): void {
    const firing = this.#triggers.filter((trigger) => trigger.eventType === eventType);
    this.#triggers = this.#triggers.filter((trigger) => trigger.eventType !== eventType);
    for (const phase of ['before', 'during', 'after'] as const) {
      for (const trigger of firing) {
        if (trigger.phase === phase) Reflect.apply(trigger.f, undefined, trigger.args);
      }
    }
  }

  async run(): Promise<void> {
    if (this.#ran) throw new ReactorAlreadyRunning();
    this.#ran = true;
    this.#running = true;
    const whenRunning = this.#whenRunning ?? [];
    this.#whenRunning = null;
    for (const f of whenRunning) f();
    for (;;) {
      await nextTurn();
      if (!this.#running) break;
      const calls = this.getDelayedCalls();
      const next = calls[0];
      if (next === undefined) throw new Error('No DelayedCalls left and the reactor still runs');
      this.clock.advance(next.getTime() - this.seconds());
    }
    this.fireSystemEvent('shutdown');
  }

  stop(): void {
    if (!this.#running) throw new ReactorNotRunning();
    this.#running = false;
    this.stopCalls++;
  }

  crash(): void {
    this.#running = false;
  }
}
