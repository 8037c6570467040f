// Filtering events before they reach an observer, by level and namespace
// (Twisted: twisted.logger._filter).
// Tests: test/unit/logger/filter.test.ts

import type { ILogObserver, LogEvent } from './interfaces.js';
import { compareLogLevels, type LogLevel, logLevelWithName } from './levels.js';

/**
 * What a filter predicate says about an event: `'yes'` lets it through at
 * once, `'no'` drops it at once, `'maybe'` leaves the decision to the next
 * predicate (an event all predicates are unsure of goes through).
 *
 * @see Twisted: twisted.logger.PredicateResult
 * @since 0.1.0
 */
export type PredicateResult = 'yes' | 'no' | 'maybe';

/** Decides whether an event goes through a {@link FilteringLogObserver}. */
export type LogPredicate = (event: LogEvent) => PredicateResult;

/**
 * Passes the events its predicates let through to `observer`, and the others
 * to `negativeObserver` (if given).
 *
 * @remarks
 * A predicate that returns anything but `'yes'`, `'no'` or `'maybe'` is a
 * bug: the filter throws a TypeError (which the publisher reports). An event
 * let through whose `log_trace` is an array gets `[filter, observer]`
 * appended to it.
 *
 * @see Twisted: twisted.logger.FilteringLogObserver
 * @since 0.1.0
 */
export class FilteringLogObserver {
  readonly #observer: ILogObserver;
  readonly #predicates: readonly LogPredicate[];
  readonly #negativeObserver: ILogObserver | undefined;

  /**
   * @param observer - Receives the events let through.
   * @param predicates - Asked in order.
   * @param negativeObserver - Receives the events dropped.
   */
  constructor(
    observer: ILogObserver,
    predicates: Iterable<LogPredicate>,
    negativeObserver?: ILogObserver,
  ) {
    this.#observer = observer;
    this.#predicates = [...predicates];
    this.#negativeObserver = negativeObserver;
  }

  /** Filters `event`. Bound, so it can be attached directly as an observer. */
  readonly observe: ILogObserver = (event) => {
    if (this.#shouldLog(event)) {
      if (Array.isArray(event.log_trace)) event.log_trace.push([this, this.#observer]);
      this.#observer(event);
    } else {
      this.#negativeObserver?.(event);
    }
  };

  #shouldLog(event: LogEvent): boolean {
    for (const predicate of this.#predicates) {
      const result: unknown = predicate(event);
      if (result === 'yes') return true;
      if (result === 'no') return false;
      if (result !== 'maybe') {
        throw new TypeError(
          `FilteringLogObserver: a predicate returned ${String(result)}, not 'yes', 'no' or 'maybe'`,
        );
      }
    }
    return true;
  }
}

/**
 * A predicate that lets through events at or above a minimum level, set per
 * namespace: the level of `a.b.c` is that of the longest of `a.b.c`, `a.b`,
 * `a` that has one, else the default.
 *
 * @example
 * ```ts
 * const levels = new LogLevelFilterPredicate('warn');
 * levels.setLogLevelForNamespace('myapp.http', 'debug');
 * globalLogPublisher.addObserver(
 *   new FilteringLogObserver(textFileLogObserver(process.stderr), [levels.predicate]).observe,
 * );
 * ```
 *
 * @see Twisted: twisted.logger.LogLevelFilterPredicate
 * @since 0.1.0
 */
export class LogLevelFilterPredicate {
  #defaultLogLevel: LogLevel;
  readonly #levels = new Map<string, LogLevel>();

  /**
   * @param defaultLogLevel - Default `'info'`.
   * @throws {@link InvalidLogLevelError} if it is not a level name.
   */
  constructor(defaultLogLevel: LogLevel = 'info') {
    this.#defaultLogLevel = logLevelWithName(defaultLogLevel, 'default log level');
  }

  /**
   * The level every namespace is at when no level has been set for it or
   * for `''`, and again after {@link LogLevelFilterPredicate.clearLogLevels}.
   */
  get defaultLogLevel(): LogLevel {
    return this.#defaultLogLevel;
  }

  /**
   * Sets the default level, and the level of namespaces that have none of
   * their own; an unknown name throws {@link InvalidLogLevelError}.
   */
  set defaultLogLevel(level: LogLevel) {
    this.#defaultLogLevel = logLevelWithName(level, 'default log level');
    this.#levels.delete('');
  }

  /**
   * The minimum level for `namespace`, inherited from its parents; the level
   * set for `''` (else the default) for a namespace with none, or for no
   * namespace.
   */
  logLevelForNamespace(namespace: string | undefined): LogLevel {
    for (let ns = namespace ?? ''; ns !== ''; ns = ns.slice(0, Math.max(0, ns.lastIndexOf('.')))) {
      const level = this.#levels.get(ns);
      if (level !== undefined) return level;
    }
    return this.#levels.get('') ?? this.#defaultLogLevel;
  }

  /**
   * Sets the minimum level of `namespace` and of the namespaces under it;
   * `''` (or no namespace) sets the level of every namespace that has none
   * of its own, until {@link LogLevelFilterPredicate.clearLogLevels}.
   *
   * @throws {@link InvalidLogLevelError} if `level` is not a level name (a
   *   configuration typo fails loudly instead of filtering nothing).
   */
  setLogLevelForNamespace(namespace: string | undefined, level: LogLevel): void {
    const valid = logLevelWithName(level, `log level for namespace '${namespace ?? ''}'`);
    this.#levels.set(namespace ?? '', valid);
  }

  /**
   * Forgets every level set by namespace, including the one set for `''`:
   * every namespace is at {@link LogLevelFilterPredicate.defaultLogLevel}
   * again.
   */
  clearLogLevels(): void {
    this.#levels.clear();
  }

  /**
   * The predicate: `'no'` below the namespace's level, and for an event
   * without a level or a namespace (as Twisted's); `'maybe'` otherwise.
   */
  readonly predicate: LogPredicate = (event) => {
    const level = event.log_level;
    if (level === undefined || level === null) return 'no';
    if (typeof event.log_namespace !== 'string' || event.log_namespace === '') return 'no';
    return compareLogLevels(level, this.logLevelForNamespace(event.log_namespace)) < 0
      ? 'no'
      : 'maybe';
  };
}
