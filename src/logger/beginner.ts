// Beginning to log: the first observers of the global publisher, with the
// events published before them replayed, and a one-line start for scripts
// (Twisted: twisted.logger.globalLogBeginner, twisted.python.log.startLogging).
// Tests: test/unit/logger/beginner.test.ts

import { type LogOutput, type TextFileLogObserverOptions, textFileLogObserver } from './file.js';
import type { ILogObserver } from './interfaces.js';
import { globalLogPublisher, type LogPublisher, takeStartupBuffer } from './observer.js';

/** Options of {@link LogBeginner.beginLoggingTo}. */
export interface BeginLoggingOptions {
  /**
   * Drop the events published before logging began instead of replaying them.
   * @defaultValue false
   */
  discardBuffer?: boolean | undefined;
}

/**
 * Starts logging on a publisher: attaches the program's observers and
 * replays to them what was published before.
 *
 * @remarks
 * Until logging begins, {@link globalLogPublisher} writes warnings and worse
 * to standard error and keeps the latest events (up to 256); the first
 * `beginLoggingTo` hands those to its observers, so that nothing logged
 * while the program started is lost. A later call adds its observers too and
 * logs a warning, as Twisted does when the primary log target is chosen
 * twice.
 *
 * Differences from Twisted: 256 buffered events rather than 65,536; the
 * standard streams are not redirected into the log.
 *
 * @see Twisted: twisted.logger.LogBeginner
 * @since 0.1.0
 */
export class LogBeginner {
  readonly #publisher: LogPublisher;
  readonly #takeBuffer: () => ReturnType<typeof takeStartupBuffer>;
  #began = false;

  /**
   * @param publisher - The publisher to begin logging on.
   * @param takeBuffer - Gives the events published before logging began
   *   (once). Default: none.
   */
  constructor(
    publisher: LogPublisher,
    takeBuffer: () => ReturnType<typeof takeStartupBuffer> = () => [],
  ) {
    this.#publisher = publisher;
    this.#takeBuffer = takeBuffer;
  }

  /** Whether {@link LogBeginner.beginLoggingTo} has been called. */
  get began(): boolean {
    return this.#began;
  }

  /**
   * Attaches `observers` to the publisher; the first time, also replays the
   * events published before logging began to them.
   *
   * @param observers - Where the program's log events go.
   * @param options - See {@link BeginLoggingOptions}.
   * @see Twisted: twisted.logger.LogBeginner.beginLoggingTo
   */
  beginLoggingTo(observers: Iterable<ILogObserver>, options: BeginLoggingOptions = {}): void {
    const added = [...observers];
    const first = !this.#began;
    this.#began = true;
    const buffered = first ? this.#takeBuffer() : [];
    for (const observer of added) this.#publisher.addObserver(observer);
    if (!first) {
      this.#publisher.publish({
        log_format: 'Warning: primary log target selected twice',
        log_level: 'warn',
        log_namespace: 'torsion.logger',
        log_time: Date.now() / 1000,
      });
      return;
    }
    if (options.discardBuffer === true) return;
    for (const event of buffered) {
      for (const observer of added) {
        try {
          observer(event);
        } catch {
          // A broken observer is reported by the publisher on its next event.
        }
      }
    }
  }
}

/**
 * The beginner of {@link globalLogPublisher}.
 *
 * @example
 * ```ts
 * globalLogBeginner.beginLoggingTo([textFileLogObserver(process.stdout)]);
 * ```
 *
 * @see Twisted: twisted.logger.globalLogBeginner
 * @since 0.1.0
 */
export const globalLogBeginner: LogBeginner = new LogBeginner(
  globalLogPublisher,
  takeStartupBuffer,
);

/**
 * Logs every event of the global publisher as text to `output`: the
 * one-line start of a script, as Twisted's `log.startLogging(sys.stdout)`.
 *
 * @example
 * ```ts
 * startLogging(process.stdout);
 * ```
 *
 * @param output - Where to write. Default `process.stdout`.
 * @param options - How to write times; see {@link TextFileLogObserverOptions}.
 * @returns The observer, to detach with `globalLogPublisher.removeObserver`.
 * @see Twisted: twisted.python.log.startLogging
 * @since 0.1.0
 */
export function startLogging(
  output: LogOutput = process.stdout,
  options: TextFileLogObserverOptions = {},
): ILogObserver {
  const observer = textFileLogObserver(output, options);
  globalLogBeginner.beginLoggingTo([observer]);
  return observer;
}
