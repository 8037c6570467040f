// torsion/logger: structured logging in the model of twisted.logger.

/**
 * Structured logging: a `Logger` emits events (a format string and its
 * fields, a level, a namespace) to `globalLogPublisher`, whose observers
 * write them as text or JSON, filter them by level, or keep them for a
 * test (`captureLogs`). `startLogging` and `globalLogBeginner` start
 * logging in a script.
 *
 * Log from library and application code with one `Logger` per module.
 * Twisted: `twisted.logger`.
 *
 * @example
 * ```ts
 * import { Logger, startLogging } from 'torsion/logger';
 *
 * startLogging(process.stdout);
 * const log = new Logger('myapp.server');
 * log.info('Listening on port {port}', { port: 8080 });
 * ```
 *
 * @module torsion/logger
 * @primaryExport
 */

export {
  type BeginLoggingOptions,
  globalLogBeginner,
  LogBeginner,
  type LogBeginnerOptions,
  MORE_THAN_ONCE_WARNING,
  type StandardStream,
  type StandardStreams,
  startLogging,
} from './beginner.js';
export { captureLogs, type LogCapture } from './capture.js';
export {
  FileLogObserver,
  type LogOutput,
  type TextFileLogObserverOptions,
  textFileLogObserver,
} from './file.js';
export {
  FilteringLogObserver,
  LogLevelFilterPredicate,
  type LogPredicate,
  type PredicateResult,
} from './filter.js';
export {
  type EventAsTextOptions,
  eventAsText,
  formatEvent,
  formatEventAsClassicLogText,
  formatTime,
  formatUnformattableEvent,
  formatWithCall,
} from './format.js';
export type { ILogObserver, LogEvent } from './interfaces.js';
export {
  type EventAsJSONOptions,
  type EventFromJSONOptions,
  type EventsFromJSONLogFileOptions,
  eventAsJSON,
  eventFromJSON,
  eventsFromJSONLogFile,
  type JSONFileLogObserverOptions,
  jsonFileLogObserver,
  type KnownErrorClass,
} from './json.js';
export {
  compareLogLevels,
  InvalidLogLevelError,
  isLogLevel,
  LogLevel,
  logLevelWithName,
} from './levels.js';
export { type LogFields, Logger, type LoggerOptions } from './logger.js';
export {
  globalLogPublisher,
  LogPublisher,
  type LogPublisherOptions,
  STARTUP_BUFFER_SIZE,
} from './observer.js';
