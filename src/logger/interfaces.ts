// What a log event is and what receives one: types only, so that every
// logger module (the formatter as well as the publisher) can name them
// without importing another's code (Twisted: twisted.logger._interfaces).
// Tests: test/unit/logger/observer.test.ts, test/unit/logger/format.test.ts

import type { Failure } from '../internet/failure.js';
import type { LogLevel } from './levels.js';

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
