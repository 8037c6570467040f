// Internal: a clock on real time for the library's own defaults (a Site given
// no clock), driven by Node's timers without holding the process open. Not
// the reactor: code that needs a deterministic or simulated clock passes one.
// Tests: test/integration/web/site.test.ts

import { Logger } from '../../logger/logger.js';
import { TimedCallQueue } from '../_timed-calls.js';
import type { IDelayedCall, IReactorTime } from '../interfaces.js';

const log = new Logger('torsion.internet.task');
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Real time, as `IReactorTime`: calls run from unref'd Node timers, in order. */
class RealTimeClock implements IReactorTime {
  readonly #calls = new TimedCallQueue(
    () => performance.timeOrigin / 1000 + performance.now() / 1000,
    () => this.#rearm(),
  );
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = Number.POSITIVE_INFINITY;

  seconds(): number {
    return this.#calls.seconds();
  }

  callLater<A extends unknown[]>(
    delay: number,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ): IDelayedCall {
    return this.#calls.schedule(delay, f, args);
  }

  getDelayedCalls(): IDelayedCall[] {
    return this.#calls.pending();
  }

  #rearm(): void {
    const due = this.#calls.earliestTime();
    if (due === undefined) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#due = Number.POSITIVE_INFINITY;
      return;
    }
    if (due >= this.#due) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#due = due;
    const wait = Math.max(0, Math.ceil((due - this.seconds()) * 1000));
    this.#timer = setTimeout(() => this.#fire(), Math.min(wait, MAX_TIMER_MS));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#due = Number.POSITIVE_INFINITY;
    const now = this.seconds();
    const before = this.#calls.nextSequence();
    for (let call = this.#calls.takeDue(now, before); call !== undefined; ) {
      try {
        call.run();
      } catch (error) {
        log.failure('while handling timed call {call}', error, { call: String(call) });
      }
      call = this.#calls.takeDue(now, before);
    }
    this.#rearm();
  }
}

let shared: RealTimeClock | undefined;

/** The shared real-time clock. */
export function realTimeClock(): IReactorTime {
  shared ??= new RealTimeClock();
  return shared;
}
