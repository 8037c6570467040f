// Observers that write events to a file or stream as text
// (Twisted: twisted.logger._file).
// Tests: test/unit/logger/file.test.ts

import { eventAsText, formatTime } from './format.js';
import type { ILogObserver, LogEvent } from './interfaces.js';

/**
 * Where a file observer writes: a writable stream (`process.stderr`, an
 * `fs.WriteStream`, …) or anything with a `write(text)` method.
 *
 * @since 0.1.0
 */
export interface LogOutput {
  /** Writes text; the observer never waits for it. */
  write(text: string): unknown;
}

/**
 * An observer that writes each event as the text `format` makes of it;
 * events for which `format` returns `null` or `''` are skipped.
 *
 * @see Twisted: twisted.logger.FileLogObserver
 * @since 0.1.0
 */
export class FileLogObserver {
  readonly #output: LogOutput;
  readonly #format: (event: LogEvent) => string | null;

  /**
   * @param output - Where to write.
   * @param format - Turns an event into the text to write (including its newline).
   */
  constructor(output: LogOutput, format: (event: LogEvent) => string | null) {
    this.#output = output;
    this.#format = format;
  }

  /** Writes `event`. Bound, so it can be attached directly as an observer. */
  readonly observe: ILogObserver = (event) => {
    const text = this.#format(event);
    if (text !== null && text !== '') this.#output.write(text);
  };
}

/** Options of {@link textFileLogObserver}. */
export interface TextFileLogObserverOptions {
  /**
   * Formats the event time (seconds since the epoch); `null` leaves the
   * time out.
   * @defaultValue ISO 8601 in UTC, such as `2026-11-22T10:00:00.000Z`
   */
  timeFormat?: ((seconds: number) => string) | null;
}

/**
 * An observer that writes events as classic log lines, with tracebacks:
 * `2026-11-22T10:00:00.000Z [myapp.server#info] Listening on 8080`.
 *
 * @example
 * ```ts
 * globalLogPublisher.addObserver(textFileLogObserver(process.stdout));
 * ```
 *
 * @param output - Where to write, such as `process.stdout` or an `fs.WriteStream`.
 * @see Twisted: twisted.logger.textFileLogObserver
 * @since 0.1.0
 */
export function textFileLogObserver(
  output: LogOutput,
  options: TextFileLogObserverOptions = {},
): ILogObserver {
  const timeFormat = options.timeFormat;
  const textOptions =
    timeFormat === null
      ? { includeTimestamp: false }
      : { formatTime: (when: unknown) => formatTime(when, timeFormat) };
  return new FileLogObserver(output, (event) => {
    const text = eventAsText(event, textOptions);
    return text === '' ? null : `${text.replaceAll('\n', '\n\t')}\n`;
  }).observe;
}
