// Beginning to log: the first observers of a publisher, with the events
// published before them replayed, a warning naming both calls when it is
// done twice, the standard streams optionally sent into the log, and a
// one-line start for scripts
// (Twisted: twisted.logger.LogBeginner, globalLogBeginner, twisted.python.log.startLogging).
// Tests: test/unit/logger/beginner.test.ts

import { fileURLToPath } from 'node:url';
import { type LogOutput, type TextFileLogObserverOptions, textFileLogObserver } from './file.js';
import { eventAsText } from './format.js';
import type { ILogObserver, LogEvent } from './interfaces.js';
import type { LogLevel } from './levels.js';
import {
  globalLogPublisher,
  type LogPublisher,
  STARTUP_BUFFER_SIZE,
  takeStartupBuffer,
} from './observer.js';

/**
 * The format of the warning logged when logging begins a second time; its
 * fields `fileNow`, `lineNow`, `fileThen`, `lineThen` say where each call was.
 *
 * @see Twisted: twisted.logger._global.MORE_THAN_ONCE_WARNING
 * @since 0.1.0
 */
export const MORE_THAN_ONCE_WARNING =
  'Warning: primary log target selected twice at <{fileNow}:{lineNow}> - ' +
  'previously selected at <{fileThen}:{lineThen}>.  Remove one of the calls ' +
  'to beginLoggingTo.';

/** The standard streams, as {@link LogBeginnerOptions.stdio} names them. */
export interface StandardStreams {
  /** Standard output: its lines become `info` events of namespace `stdout`. */
  stdout: StandardStream;
  /** Standard error: its lines become `error` events of namespace `stderr`. */
  stderr: StandardStream;
}

/** A standard stream as the beginner redirects it: anything with a `write`. */
export interface StandardStream {
  /** Writes a chunk; replaced while the stream is redirected into the log. */
  write(chunk: string | Uint8Array, ...rest: unknown[]): unknown;
}

/** Options of the {@link LogBeginner} constructor. */
export interface LogBeginnerOptions {
  /**
   * Until logging begins, `critical` events are written here as text, so
   * that a fatal error before logging is set up is not silent.
   * @defaultValue none
   */
  errorStream?: LogOutput | undefined;
  /**
   * How many of the latest events published before logging began are kept
   * for the first observers.
   * @defaultValue {@link STARTUP_BUFFER_SIZE}
   */
  initialBufferSize?: number | undefined;
  /**
   * The standard streams that `redirectStandardIO` sends into the log.
   * @defaultValue `process`
   */
  stdio?: StandardStreams | undefined;
}

/** Options of {@link LogBeginner.beginLoggingTo}. */
export interface BeginLoggingOptions {
  /**
   * Drop the events published before logging began instead of replaying them.
   * @defaultValue false
   */
  discardBuffer?: boolean | undefined;
  /**
   * Send what is written to standard output and standard error into the log,
   * one event per line (`log_io`, namespace `stdout` at `info`, `stderr` at
   * `error`). Observers that write to those streams themselves still reach
   * them: a write made while an event is being delivered goes straight
   * through.
   * @defaultValue false (Twisted redirects by default; Node programs and
   *   their tools expect `console.log` to reach the terminal)
   */
  redirectStandardIO?: boolean | undefined;
}

/** Set while the global beginner is made: it adopts the global publisher's buffer. */
let adoptingGlobalBuffer = false;

/**
 * Starts logging on a publisher: attaches the program's observers and
 * replays to them what was published before.
 *
 * @remarks
 * Until logging begins, a beginner keeps the latest events published (up to
 * `initialBufferSize`) and writes `critical` ones to its `errorStream`; the
 * first `beginLoggingTo` replays those to the publisher's observers, so that
 * nothing logged while the program started is lost. A later call adds its
 * observers too and logs a warning ({@link MORE_THAN_ONCE_WARNING}) naming
 * the file and line of both calls, as Twisted does.
 *
 * {@link globalLogBeginner} differs in one way: until logging begins, the
 * global publisher writes warnings and worse to standard error, and keeps
 * events only while no observer is attached (see {@link globalLogPublisher}).
 *
 * @example
 * ```ts
 * const publisher = new LogPublisher();
 * const beginner = new LogBeginner(publisher, { errorStream: process.stderr });
 * new Logger('app', { observer: publisher.publish }).info('early');
 * beginner.beginLoggingTo([textFileLogObserver(process.stdout)]); // shows "early"
 * ```
 *
 * @see Twisted: twisted.logger.LogBeginner
 * @since 0.1.0
 */
export class LogBeginner {
  readonly #publisher: LogPublisher;
  readonly #takeBuffer: () => LogEvent[];
  readonly #stdio: StandardStreams;
  #previousBegin: [file: string, line: number] | undefined;

  /**
   * @param publisher - The publisher to begin logging on.
   * @param options - See {@link LogBeginnerOptions}.
   * @throws RangeError if `initialBufferSize` is not a positive integer.
   */
  constructor(publisher: LogPublisher, options: LogBeginnerOptions = {}) {
    this.#publisher = publisher;
    this.#stdio = options.stdio ?? process;
    if (adoptingGlobalBuffer) {
      this.#takeBuffer = takeStartupBuffer;
      return;
    }
    const size = options.initialBufferSize ?? STARTUP_BUFFER_SIZE;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(
        `LogBeginner: initialBufferSize must be a positive integer, not ${size}`,
      );
    }
    const errorStream = options.errorStream;
    const buffer: LogEvent[] = [];
    const temporary: ILogObserver = (event) => {
      if (buffer.length === size) buffer.shift();
      buffer.push(event);
      if (errorStream !== undefined && event.log_level === 'critical') {
        const text = eventAsText(event, { includeTimestamp: false, includeSystem: false });
        if (text !== '') errorStream.write(`${text}\n`);
      }
    };
    publisher.addObserver(temporary);
    this.#takeBuffer = () => {
      publisher.removeObserver(temporary);
      return buffer.splice(0);
    };
  }

  /** Whether {@link LogBeginner.beginLoggingTo} has been called. */
  get began(): boolean {
    return this.#previousBegin !== undefined;
  }

  /**
   * Attaches `observers` to the publisher; the first time, also replays the
   * events published before logging began to the publisher's observers and
   * stops writing critical events to the error stream. A second time, logs
   * a warning naming where both calls were.
   *
   * @param observers - Where the program's log events go.
   * @param options - See {@link BeginLoggingOptions}.
   * @see Twisted: twisted.logger.LogBeginner.beginLoggingTo
   */
  beginLoggingTo(observers: Iterable<ILogObserver>, options: BeginLoggingOptions = {}): void {
    const here = callerLocation();
    for (const observer of observers) this.#publisher.addObserver(observer);
    const previous = this.#previousBegin;
    this.#previousBegin = here;
    if (previous === undefined) {
      const buffered = this.#takeBuffer();
      if (options.discardBuffer !== true) {
        for (const event of buffered) this.#publisher.publish(event);
      }
    } else {
      this.#publisher.publish({
        log_format: MORE_THAN_ONCE_WARNING,
        log_level: 'warn',
        log_namespace: 'torsion.logger',
        log_time: Date.now() / 1000,
        fileNow: here[0],
        lineNow: here[1],
        fileThen: previous[0],
        lineThen: previous[1],
      });
    }
    if (options.redirectStandardIO === true) {
      redirect(this.#stdio.stdout, 'stdout', 'info', this.#publisher);
      redirect(this.#stdio.stderr, 'stderr', 'error', this.#publisher);
    }
  }
}

const THIS_FILE = import.meta.url;

/** The file and line that called into this module (beginLoggingTo or startLogging). */
function callerLocation(): [file: string, line: number] {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, callerLocation);
  for (const frame of (holder.stack ?? '').split('\n').slice(1)) {
    const match = /\(?([^\s()]+):(\d+):\d+\)?$/.exec(frame.trim());
    if (match === null) continue;
    const [, file = '', line = '0'] = match;
    if (file === THIS_FILE) continue;
    return [file.startsWith('file:') ? fileURLToPath(file) : file, Number(line)];
  }
  return ['<unknown>', 0];
}

/** Streams already redirected, so that a second beginLoggingTo does not stack them. */
const redirected = new WeakSet<StandardStream>();

/**
 * Replaces `stream.write` by one that logs each complete line as an event
 * (Twisted: twisted.logger.LoggingFile). A write made while such an event is
 * delivered (an observer writing to this very stream) goes to the original.
 */
function redirect(
  stream: StandardStream,
  namespace: string,
  level: LogLevel,
  publisher: LogPublisher,
): void {
  if (redirected.has(stream)) return;
  redirected.add(stream);
  const original = stream.write.bind(stream);
  let partial = '';
  let delivering = false;
  const decoder = new TextDecoder();
  stream.write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    if (delivering) return original(chunk, ...rest) !== false;
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    delivering = true;
    try {
      for (const line of lines) {
        publisher.publish({
          log_format: '{log_io}',
          log_io: line,
          log_level: level,
          log_namespace: namespace,
          log_time: Date.now() / 1000,
        });
      }
    } finally {
      delivering = false;
    }
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback !== undefined) queueMicrotask(callback);
    return true;
  };
}

adoptingGlobalBuffer = true;
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
export const globalLogBeginner: LogBeginner = new LogBeginner(globalLogPublisher);
adoptingGlobalBuffer = false;

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
