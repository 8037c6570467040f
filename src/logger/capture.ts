// Capturing the events published while a test runs.
// Tests: test/unit/logger/capture.test.ts

import type { LogEvent } from './interfaces.js';
import { globalLogPublisher, type LogPublisher } from './observer.js';

/**
 * The events captured by {@link captureLogs}; `stop()` ends the capture.
 *
 * @since 0.1.0
 */
export interface LogCapture {
  /** The events seen so far, in order. */
  readonly events: LogEvent[];
  /** Detaches the capture from its publisher. Calling it again does nothing. */
  stop(): void;
}

/**
 * Starts capturing every event published on `publisher`.
 *
 * @remarks
 * While the capture is attached, the global publisher's standard-error
 * fallback is silent, so expected errors in tests do not clutter the output.
 *
 * @example
 * ```ts
 * const logs = captureLogs();
 * try { runCodeThatLogs(); } finally { logs.stop(); }
 * assert.equal(logs.events[0]?.log_level, 'critical');
 * ```
 *
 * @param publisher - Default {@link globalLogPublisher}.
 * @see Twisted: twisted.logger.capturedLogs
 * @since 0.1.0
 */
export function captureLogs(publisher: LogPublisher = globalLogPublisher): LogCapture {
  const events: LogEvent[] = [];
  const observer = (event: LogEvent): void => {
    events.push(event);
  };
  publisher.addObserver(observer);
  return {
    events,
    stop: () => publisher.removeObserver(observer),
  };
}
