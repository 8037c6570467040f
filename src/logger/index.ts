// torsion/logger: structured logging in the model of twisted.logger.

export {
  type BeginLoggingOptions,
  globalLogBeginner,
  LogBeginner,
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
export { formatEvent, formatEventAsClassicLogText, formatUnformattableEvent } from './format.js';
export type { ILogObserver, LogEvent } from './interfaces.js';
export {
  eventAsJSON,
  eventFromJSON,
  eventsFromJSONLogFile,
  type JSONFileLogObserverOptions,
  jsonFileLogObserver,
} from './json.js';
export { compareLogLevels, isLogLevel, LogLevel } from './levels.js';
export { type LogFields, Logger, type LoggerOptions } from './logger.js';
export {
  globalLogPublisher,
  LogPublisher,
  type LogPublisherOptions,
  STARTUP_BUFFER_SIZE,
} from './observer.js';
