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

/**
 * Thrown when a name that is not one of the level names is given where a
 * level is expected, such as a typo in a configured level.
 *
 * @see Twisted: twisted.logger.InvalidLogLevelError
 * @since 0.1.0
 */
export class InvalidLogLevelError extends Error {
  /** The name that was refused. */
  readonly level: unknown;

  /**
   * @param level - The name that was refused.
   * @param where - What was given it, for the message.
   */
  constructor(level: unknown, where = 'log level') {
    super(
      `Invalid ${where} ${JSON.stringify(level) ?? String(level)}: expected one of ${Object.keys(severity).join(', ')}`,
    );
    this.name = 'InvalidLogLevelError';
    this.level = level;
  }
}

/**
 * The level called `name`, refusing anything else with a clear error.
 *
 * @param name - A level name such as `'warn'`.
 * @param where - Names what was given the level, for the error message.
 * @throws {@link InvalidLogLevelError} if `name` is not a level name.
 * @see Twisted: twisted.logger.LogLevel.levelWithName
 * @since 0.1.0
 */
export function logLevelWithName(name: unknown, where?: string): LogLevel {
  if (isLogLevel(name)) return name;
  throw new InvalidLogLevelError(name, where);
}
