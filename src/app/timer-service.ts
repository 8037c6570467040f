// TimerService: a service that calls a function every few seconds while it
// runs (Twisted: twisted.application.internet.TimerService).
// Tests: test/unit/app/timer-service.test.ts

import type { Deferred } from '../internet/defer.js';
import type { Failure } from '../internet/failure.js';
import type { IReactorTime } from '../internet/interfaces.js';
import { LoopingCall } from '../internet/task/looping-call.js';
import { Logger } from '../logger/logger.js';
import { Service } from './service.js';

const log = new Logger('torsion.app');

/**
 * Calls `f(...args)` at once when started, then every `step` seconds on
 * `clock`, until stopped. A call that throws (or whose Deferred fails) ends
 * the loop; the failure is logged and the service stays "running" until
 * stopped.
 *
 * @example
 * ```ts
 * import { TimerService } from 'torsion/app';
 * import { Clock } from 'torsion/task';
 *
 * const clock = new Clock();
 * const timer = new TimerService(clock, 60, () => console.log('a minute'));
 * timer.startService(); // prints at once
 * clock.advance(60); // and again
 * await timer.stopService();
 * ```
 *
 * @see Twisted: twisted.application.internet.TimerService
 * @since 0.1.0
 */
export class TimerService<A extends unknown[] = unknown[]> extends Service {
  /** Where the time comes from. */
  readonly clock: IReactorTime;
  /** Seconds between calls. */
  readonly step: number;
  readonly #f: (this: void, ...args: A) => unknown;
  readonly #args: A;
  #loop: LoopingCall<A> | null = null;
  #finished: Deferred<unknown> | null = null;

  /**
   * @param clock - The reactor or `Clock` that schedules the calls.
   * @param step - Seconds between calls (at least 0).
   * @param f - The function to call; its result may be a Deferred or promise
   *   the loop waits for.
   * @param args - Arguments for `f`.
   * @throws RangeError if `step` is negative or NaN.
   */
  constructor(
    clock: IReactorTime,
    step: number,
    f: (this: void, ...args: A) => unknown,
    ...args: A
  ) {
    super();
    if (!(step >= 0)) throw new RangeError(`TimerService step must be >= 0 seconds, got ${step}`);
    this.clock = clock;
    this.step = step;
    this.#f = f;
    this.#args = args;
  }

  /** Starts the calls: one now, then one every `step` seconds. */
  override startService(): void {
    super.startService();
    // A new LoopingCall per start: a stopped loop's Deferred has fired.
    const loop = new LoopingCall<A>(this.clock, this.#f, ...this.#args);
    this.#loop = loop;
    this.#finished = loop.start(this.step, true).addErrback((failure: Failure) => {
      log.failure('{service} stopped calling its function, which failed', failure, {
        service: String(this),
      });
    });
  }

  /**
   * Stops the calls.
   *
   * @returns A Deferred that fires once the current call (if its Deferred
   *   is pending) has finished.
   */
  override stopService(): Deferred<void> | undefined {
    const loop = this.#loop;
    const finished = this.#finished;
    if (loop === null || finished === null) {
      super.stopService();
      return undefined;
    }
    if (loop.running) loop.stop();
    this.#loop = null;
    this.#finished = null;
    return finished.addCallback(() => {
      super.stopService();
    });
  }
}
