// Log events, observers and the publisher that fans events out to them
// (Twisted: twisted.logger._observer, _global).
// Tests: test/unit/logger/observer.test.ts

import type { Failure } from '../internet/failure.js';
import { formatEventAsClassicLogText } from './format.js';
import { compareLogLevels, type LogLevel } from './levels.js';

/**
 * A log event: a plain object.
 *
 * @remarks
 * The keys starting with `log_` are reserved and keep Twisted's spelling, so
 * that events read and serialise as in `twisted.logger`: `log_format` (the
 * format string, whose `{field}`s are filled from the event), `log_level`,
 * `log_namespace`, `log_source`, `log_time` (seconds since the epoch),
 * `log_failure`, `log_system`, `log_text`. Any other key is a field of the
 * event.
 *
 * @since 0.1.0
 */
export interface LogEvent {
  /** The format string; its `{field}`s are filled from the event. */
  log_format?: string | undefined;
  /** The severity. */
  log_level?: LogLevel | undefined;
  /** Which part of the program logged it, such as `'torsion.internet.defer'`. */
  log_namespace?: string | undefined;
  /** The object on whose behalf it was logged. */
  log_source?: unknown;
  /** When, in seconds since the epoch. */
  log_time?: number | undefined;
  /** The failure it reports, whose traceback is printed after the text. */
  log_failure?: Failure | undefined;
  /** The system it came from, shown instead of namespace and level in classic text. */
  log_system?: string | undefined;
  /** Already-formatted text, used instead of `log_format`. */
  log_text?: string | undefined;
  /** Any other field. */
  [field: string]: unknown;
}

/**
 * Something that receives log events. Observers must not throw; one that does
 * is reported to the other observers.
 *
 * @see Twisted: twisted.logger.ILogObserver
 * @since 0.1.0
 */
export type ILogObserver = (event: LogEvent) => void;

/** Options of {@link LogPublisher}. */
export interface LogPublisherOptions {
  /**
   * Receives the events published while no observer is attached, so that
   * nothing important is lost before logging is set up.
   * @defaultValue none: such events are dropped.
   */
  fallback?: ILogObserver | undefined;
}

/**
 * Fans each event out to every attached observer.
 *
 * @remarks
 * An observer that throws does not stop delivery to the others; its error is
 * logged to all the other observers ("Temporarily disabling observer …") and
 * the observer stays attached, as in Twisted.
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
  }

  /** Attaches `observer`; attaching one twice has no further effect. */
  addObserver(observer: ILogObserver): void {
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
    for (const observer of observers) {
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
      log_format: 'Temporarily disabling observer {observer} due to exception: {error}',
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

/**
 * Writes warnings and worse to standard error, as text; used while no other
 * observer is attached to {@link globalLogPublisher}.
 */
function stderrFallback(event: LogEvent): void {
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
