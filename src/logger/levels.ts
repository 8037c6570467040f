// Log levels, ordered by severity (Twisted: twisted.logger._levels).
// Tests: test/unit/logger/logger.test.ts

/**
 * The severity of a log event, from least to most severe: `debug`, `info`,
 * `warn`, `error`, `critical`.
 *
 * @remarks
 * Documented with the constant of the same name, as one enumeration.
 *
 * @hidden
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'critical';

/**
 * The severity of a log event, from least to most severe: `debug`, `info`,
 * `warn`, `error`, `critical`. As a type, one of these strings; as a value,
 * the levels by name, so that `LogLevel.error` reads as in Twisted.
 *
 * @see Twisted: twisted.logger.LogLevel
 * @since 0.1.0
 * @enum
 */
export const LogLevel = {
  /** Detail for debugging. */
  debug: 'debug',
  /** Normal operation worth recording. */
  info: 'info',
  /** Something unexpected that did not stop the work. */
  warn: 'warn',
  /** A failure of one operation. */
  error: 'error',
  /** A failure that endangers the program, such as an unhandled error. */
  critical: 'critical',
} as const satisfies Record<LogLevel, LogLevel>;

const severity: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, critical: 4 };

/**
 * Compares two levels by severity.
 *
 * @returns A negative number if `a` is less severe than `b`, 0 if equal, positive otherwise.
 * @since 0.1.0
 */
export function compareLogLevels(a: LogLevel, b: LogLevel): number {
  return severity[a] - severity[b];
}

/**
 * Whether `name` is one of the level names.
 *
 * @since 0.1.0
 */
export function isLogLevel(name: unknown): name is LogLevel {
  return typeof name === 'string' && Object.hasOwn(severity, name);
}
