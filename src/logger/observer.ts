// The publisher that fans log events out to observers, and the global one
// (Twisted: twisted.logger._observer, _global).
// Tests: test/unit/logger/observer.test.ts

import { Failure } from '../internet/failure.js';
import { formatEventAsClassicLogText } from './format.js';
import type { ILogObserver, LogEvent } from './interfaces.js';
import { compareLogLevels } from './levels.js';

/** Options of {@link LogPublisher}. */
export interface LogPublisherOptions {
  /**
   * Receives the events published while no observer is attached, so that
   * nothing important is lost before logging is set up.
   * @defaultValue none: such events are dropped.
   */
  fallback?: ILogObserver | undefined;
  /** Observers attached from the start, in order. */
  observers?: Iterable<ILogObserver> | undefined;
}

/**
 * Fans each event out to every attached observer.
 *
 * @remarks
 * An observer that throws does not stop delivery to the others, nor the
 * emit: once the event has reached every observer, each one that threw is
 * reported to all the others as a `critical` event, as in Twisted: format
 * "Temporarily disabling observer {observer} due to exception", `observer`
 * the failing observer's function name (or `<anonymous observer>`),
 * `log_failure` a {@link Failure} of what it threw (so text observers print
 * its traceback) and `error` its message. The observer stays attached.
 *
 * An event whose `log_trace` is an array records its path: before each
 * observer is called, `[publisher, observer]` is appended to it (as
 * {@link FilteringLogObserver} does when it passes an event on), to find
 * out where events go.
 *
 * @see Twisted: twisted.logger.LogPublisher
 * @since 0.1.0
 */
export class LogPublisher {
  #observers: ILogObserver[] = [];
  readonly #fallback: ILogObserver | undefined;

  /**
   * @param options - See {@link LogPublisherOptions}.
   */
  constructor(options: LogPublisherOptions = {}) {
    this.#fallback = options.fallback;
    for (const observer of options.observers ?? []) this.addObserver(observer);
  }

  /**
   * Attaches `observer`; attaching one twice has no further effect.
   *
   * @throws TypeError if `observer` is not a function (an observer object
   *   such as a FilteringLogObserver is attached by its `observe`).
   */
  addObserver(observer: ILogObserver): void {
    if (typeof observer !== 'function') {
      throw new TypeError(
        `LogPublisher.addObserver: an observer must be a function, not ${describe(observer)}`,
      );
    }
    if (!this.#observers.includes(observer)) this.#observers = [...this.#observers, observer];
  }

  /** Detaches `observer`, if it is attached. */
  removeObserver(observer: ILogObserver): void {
    this.#observers = this.#observers.filter((o) => o !== observer);
  }

  /** The attached observers, in the order they were added. */
  get observers(): readonly ILogObserver[] {
    return this.#observers;
  }

  /**
   * Delivers `event` to every observer. Bound, so it can itself be attached
   * as an observer of another publisher.
   */
  readonly publish: ILogObserver = (event) => {
    const observers = this.#observers;
    if (observers.length === 0) {
      this.#fallback?.(event);
      return;
    }
    let broken: Array<[ILogObserver, unknown]> | undefined;
    const trace = Array.isArray(event.log_trace) ? (event.log_trace as unknown[]) : undefined;
    for (const observer of observers) {
      trace?.push([this, observer]);
      try {
        observer(event);
      } catch (error) {
        (broken ??= []).push([observer, error]);
      }
    }
    if (broken === undefined) return;
    for (const [observer, error] of broken) this.#reportBroken(observer, error, observers);
  };

  #reportBroken(observer: ILogObserver, error: unknown, observers: ILogObserver[]): void {
    const report: LogEvent = {
      log_format: 'Temporarily disabling observer {observer} due to exception',
      log_failure: error instanceof Failure ? error : new Failure(error),
      log_level: 'critical',
      log_namespace: 'torsion.logger',
      log_time: Date.now() / 1000,
      observer: observer.name || '<anonymous observer>',
      error: error instanceof Error ? error.message : String(error),
    };
    for (const other of observers) {
      if (other === observer) continue;
      try {
        other(report);
      } catch {
        // An observer that also fails to log this report is left alone.
      }
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

/** How many of the events published before logging began are kept for replay. */
export const STARTUP_BUFFER_SIZE = 256;

/** The latest events published while no observer was attached to the global publisher. */
const startupBuffer: LogEvent[] = [];

/**
 * The events published to {@link globalLogPublisher} while it had no
 * observer (the latest {@link STARTUP_BUFFER_SIZE}), handed over once: the
 * buffer is emptied and stops filling.
 *
 * @internal For the log beginner, which replays them to the first observers.
 */
export function takeStartupBuffer(): LogEvent[] {
  bufferingStartup = false;
  return startupBuffer.splice(0);
}

let bufferingStartup = true;

/**
 * Writes warnings and worse to standard error, as text; used while no other
 * observer is attached to {@link globalLogPublisher}. Until logging begins
 * every event is also kept, the latest few, for the first observers.
 */
function stderrFallback(event: LogEvent): void {
  if (bufferingStartup) {
    if (startupBuffer.length === STARTUP_BUFFER_SIZE) startupBuffer.shift();
    startupBuffer.push(event);
  }
  if (compareLogLevels(event.log_level ?? 'info', 'warn') < 0) return;
  process.stderr.write(formatEventAsClassicLogText(event));
}

/**
 * The publisher every {@link Logger} writes to unless told otherwise.
 *
 * @remarks
 * While no observer is attached, events of level `warn` and above are written
 * to standard error, so that an unhandled error is never silent. Attaching
 * any observer (a log file, a test's capture) replaces that behaviour.
 *
 * @since 0.1.0
 */
export const globalLogPublisher: LogPublisher = new LogPublisher({ fallback: stderrFallback });
