// Logger: emits structured events on behalf of one part of a program
// (Twisted: twisted.logger._logger).
// Tests: test/unit/logger/logger.test.ts

import { Failure } from '../internet/failure.js';
import type { ILogObserver, LogEvent } from './interfaces.js';
import type { LogLevel } from './levels.js';
import { globalLogPublisher } from './observer.js';

/** Fields added to a log event, besides its format. */
export type LogFields = Record<string, unknown>;

/** Options of {@link Logger}. */
export interface LoggerOptions {
  /** The object on whose behalf events are logged; becomes `log_source`. */
  source?: unknown;
  /**
   * Where the events go.
   * @defaultValue {@link globalLogPublisher}
   */
  observer?: ILogObserver | undefined;
}

/**
 * Emits log events: plain objects with a format string and fields.
 *
 * @example
 * ```ts
 * const log = new Logger('myapp.server');
 * log.info('Listening on port {port}', { port: 8080 });
 * log.failure('Request from {peer} failed', failure, { peer });
 * ```
 *
 * @see Twisted: twisted.logger.Logger
 * @since 0.1.0
 */
export class Logger {
  /** The namespace of the events: usually the module or class that logs. */
  readonly namespace: string;
  /** The `log_source` of the events. */
  readonly source: unknown;
  readonly #observer: ILogObserver | undefined;

  /**
   * @param namespace - The events' `log_namespace`. Default `'torsion'`.
   * @param options - See {@link LoggerOptions}.
   */
  constructor(namespace = 'torsion', options: LoggerOptions = {}) {
    this.namespace = namespace;
    this.source = options.source;
    this.#observer = options.observer;
  }

  /**
   * Emits an event at `level`.
   *
   * @param level - The severity.
   * @param format - The `log_format`, whose `{field}`s come from `fields`.
   * @param fields - Extra fields of the event.
   */
  emit(level: LogLevel, format?: string, fields?: LogFields): void {
    const event: LogEvent = {
      ...fields,
      log_logger: this,
      log_level: level,
      log_namespace: this.namespace,
      log_source: this.source,
      log_format: format,
      log_time: Date.now() / 1000,
    };
    if (this.#observer !== undefined) this.#observer(event);
    else globalLogPublisher.publish(event);
  }

  /** Emits a `debug` event. */
  debug(format?: string, fields?: LogFields): void {
    this.emit('debug', format, fields);
  }

  /** Emits an `info` event. */
  info(format?: string, fields?: LogFields): void {
    this.emit('info', format, fields);
  }

  /** Emits a `warn` event. */
  warn(format?: string, fields?: LogFields): void {
    this.emit('warn', format, fields);
  }

  /** Emits an `error` event. */
  error(format?: string, fields?: LogFields): void {
    this.emit('error', format, fields);
  }

  /** Emits a `critical` event. */
  critical(format?: string, fields?: LogFields): void {
    this.emit('critical', format, fields);
  }

  /**
   * Emits an event carrying a failure (`log_failure`), whose traceback
   * observers print after the text.
   *
   * @param format - The `log_format`.
   * @param failure - The failure, or any thrown value (it is wrapped).
   * @param fields - Extra fields; `level` sets the severity (default `critical`).
   */
  failure(format: string, failure: unknown, fields: LogFields & { level?: LogLevel } = {}): void {
    const { level = 'critical', ...rest } = fields;
    const wrapped = failure instanceof Failure ? failure : new Failure(failure);
    this.emit(level, format, { ...rest, log_failure: wrapped });
  }
}
