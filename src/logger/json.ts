// Log events as JSON: writing them to a file, one per line, and reading them
// back (Twisted: twisted.logger._json).
// Tests: test/unit/logger/json.test.ts

import { Failure } from '../internet/failure.js';
import { FileLogObserver, type LogOutput } from './file.js';
import { formatEvent } from './format.js';
import type { ILogObserver, LogEvent } from './interfaces.js';

/** The RFC 7464 record separator, which ends a record as a newline does. */
const RS = '\u001e';

/** Marks a serialised Failure in JSON. */
const FAILURE_KEY = '__failure__';

/** Marks serialised bytes in JSON: `{"__bytes__": base64}`. */
const BYTES_KEY = '__bytes__';

/** A Failure as JSON: enough to show it and to `check`/`trap` it by name. */
interface FailureJSON {
  type: string;
  message: string;
  traceback: string;
  parents: string[];
}

/**
 * Encodes an event as one line of JSON.
 *
 * @remarks
 * The formatted text is stored as `log_text`, so the message survives even
 * where its fields do not. A Failure becomes `{"__failure__": {type, message,
 * traceback, parents}}`. Bytes become `{"__bytes__": "<base64>"}` (with
 * `"class": "Uint8Array"` for a Uint8Array that is not a Buffer) and come
 * back from {@link eventFromJSON} as the same bytes, a Buffer or a
 * Uint8Array as they went in (Twisted writes bytes as text and does not
 * restore them; we keep them exact). Other values JSON cannot hold (functions, symbols, cycles, the `log_logger`)
 * become `{"unpersistable": true}`.
 *
 * @see Twisted: twisted.logger.eventAsJSON
 * @since 0.1.0
 */
export function eventAsJSON(event: LogEvent): string {
  const withText: LogEvent =
    event.log_text === undefined && event.log_format !== undefined
      ? { ...event, log_text: formatEvent(event) }
      : event;
  const seen = new WeakSet<object>();
  return JSON.stringify(withText, function replacer(this: unknown, key, value: unknown) {
    if (key === 'log_logger') return undefined;
    // The holder's own value: JSON.stringify has already applied Buffer's toJSON.
    const raw: unknown = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) return bytesAsJSON(raw);
    if (value instanceof Failure) return { [FAILURE_KEY]: failureAsJSON(value) };
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return { unpersistable: true };
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return { unpersistable: true };
      seen.add(value);
      if (value instanceof Error) return { name: value.name, message: value.message };
    }
    return value;
  });
}

function bytesAsJSON(bytes: Uint8Array): Record<string, string> {
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return Buffer.isBuffer(bytes)
    ? { [BYTES_KEY]: base64 }
    : { [BYTES_KEY]: base64, class: 'Uint8Array' };
}

function bytesFromJSON(value: Record<string, unknown>): Buffer | Uint8Array | undefined {
  const base64 = value[BYTES_KEY];
  if (typeof base64 !== 'string') return undefined;
  const keys = Object.keys(value);
  if (keys.some((k) => k !== BYTES_KEY && k !== 'class')) return undefined;
  const buffer = Buffer.from(base64, 'base64');
  return value.class === 'Uint8Array' ? new Uint8Array(buffer) : buffer;
}

function failureAsJSON(failure: Failure): FailureJSON {
  return {
    type: failure.type?.name ?? typeof failure.value,
    message: failure.getErrorMessage(),
    traceback: failure.getTraceback(),
    parents: failure.parents,
  };
}

type ErrorClass = new (message?: string) => Error;

/** A class of errors that {@link eventFromJSON} may restore by name. */
export type KnownErrorClass = abstract new (...args: never[]) => Error;

/** Options of {@link eventFromJSON} and {@link eventsFromJSONLogFile}. */
export interface EventFromJSONOptions {
  /**
   * Error classes a serialised Failure is restored as, matched by class
   * `name` against the Failure's recorded class chain, most derived first.
   * JavaScript's own errors (`Error`, `TypeError`, `RangeError`, …) are
   * always known.
   * @defaultValue none beyond JavaScript's own errors
   */
  knownErrors?: Iterable<KnownErrorClass> | undefined;
}

/** JavaScript's own error classes, known to every reader. */
const BUILTIN_ERRORS: readonly KnownErrorClass[] = [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
];

/**
 * The error a Failure read back from JSON wraps, so that `Failure.check`
 * answers as it did on the original. The recorded class chain (`parents`,
 * most derived first) is walked for the first name in `known`: the error is
 * made an instance of that class (its prototype, without calling its
 * constructor), so `check(ThatClass)` and checks against its ancestors hold.
 * The more derived names above it, unknown here, become stand-in classes of
 * those names extending it, so checks by name hold too. The original message
 * and stack are kept.
 */
function rebuildError(data: FailureJSON, known: ReadonlyMap<string, KnownErrorClass>): Error {
  const chain = Array.isArray(data.parents)
    ? data.parents.filter((n) => typeof n === 'string')
    : [];
  let knownAt = chain.findIndex((n) => known.has(n));
  if (knownAt === -1) knownAt = chain.length;
  const names = chain
    .slice(0, knownAt)
    .filter((n) => n !== 'Object')
    .reverse();
  let base = (known.get(chain[knownAt] ?? 'Error') ?? Error) as unknown as ErrorClass;
  for (const name of names) {
    const parent = base;
    base = { [name]: class extends (Error as ErrorClass) {} }[name] as ErrorClass;
    Object.setPrototypeOf(base.prototype, parent.prototype);
  }
  const error = new Error(String(data.message));
  Object.setPrototypeOf(error, base.prototype);
  Object.defineProperty(error, 'name', {
    value: String(data.type),
    configurable: true,
    writable: true,
  });
  error.stack = String(data.traceback).trimEnd();
  return error;
}

function knownErrorsByName(options: EventFromJSONOptions): Map<string, KnownErrorClass> {
  const known = new Map<string, KnownErrorClass>();
  for (const cls of BUILTIN_ERRORS) known.set(cls.name, cls);
  for (const cls of options.knownErrors ?? []) {
    if (typeof cls !== 'function' || cls.name === '') {
      throw new TypeError(`eventFromJSON: knownErrors holds ${String(cls)}, not a named class`);
    }
    known.set(cls.name, cls);
  }
  return known;
}

/**
 * Decodes an event encoded by {@link eventAsJSON}. A serialised Failure comes
 * back as a Failure whose value has the original name, message and stack;
 * serialised bytes come back as a Buffer (or Uint8Array) of the same bytes.
 *
 * @remarks
 * Twisted restores a Failure-like object that answers `check` by class
 * name. Ours does too, and goes further when the class is known: the
 * Failure's value is made an instance of the most derived class of its
 * recorded chain found by name among JavaScript's own errors and
 * `options.knownErrors`, so `check(CancelledError)` holds for a
 * CancelledError if `CancelledError` is passed in `knownErrors`. Matching is
 * by name only: pass the classes of the program that wrote the log.
 *
 * @example
 * ```ts
 * const event = eventFromJSON(line, { knownErrors: [CancelledError, TimeoutError] });
 * event.log_failure?.check(CancelledError);
 * ```
 *
 * @throws SyntaxError if the text is not JSON.
 * @see Twisted: twisted.logger.eventFromJSON
 * @since 0.1.0
 */
export function eventFromJSON(text: string, options: EventFromJSONOptions = {}): LogEvent {
  const known = knownErrorsByName(options);
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && FAILURE_KEY in value) {
      const data = (value as Record<string, FailureJSON>)[FAILURE_KEY] as FailureJSON;
      return new Failure(rebuildError(data, known));
    }
    if (typeof value === 'object' && value !== null && BYTES_KEY in value) {
      return bytesFromJSON(value as Record<string, unknown>) ?? value;
    }
    return value;
  }) as LogEvent;
}

/** Options of {@link jsonFileLogObserver}. */
export interface JSONFileLogObserverOptions {
  /**
   * Written before each record. `'\x1e'` gives RFC 7464 JSON text sequences,
   * as Twisted writes by default.
   * @defaultValue `''`: JSON Lines, one event per line
   */
  recordSeparator?: string;
}

/**
 * An observer that writes each event as one line of JSON.
 *
 * @example
 * ```ts
 * globalLogPublisher.addObserver(jsonFileLogObserver(createWriteStream('app.log.jsonl')));
 * ```
 *
 * @see Twisted: twisted.logger.jsonFileLogObserver
 * @since 0.1.0
 */
export function jsonFileLogObserver(
  output: LogOutput,
  options: JSONFileLogObserverOptions = {},
): ILogObserver {
  const separator = options.recordSeparator ?? '';
  return new FileLogObserver(output, (event) => `${separator}${eventAsJSON(event)}\n`).observe;
}

/**
 * Reads back the events of a file written by {@link jsonFileLogObserver},
 * with or without record separators. Records that are truncated or not JSON
 * are skipped.
 *
 * @throws TypeError (when first iterated) if `options.knownErrors` holds
 *   something that is not a named class.
 * @param input - Chunks of the file: a readable stream (`fs.createReadStream`),
 *   or an iterable of strings or bytes.
 * @param options - As for {@link eventFromJSON}.
 * @see Twisted: twisted.logger.eventsFromJSONLogFile
 * @since 0.1.0
 */
export async function* eventsFromJSONLogFile(
  input: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: EventFromJSONOptions = {},
): AsyncGenerator<LogEvent> {
  // A bad knownErrors list is the caller's mistake, not a bad record: refuse
  // it here rather than skip every record.
  knownErrorsByName(options);
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const records = pending.replaceAll(RS, '\n').split('\n');
    pending = records.pop() ?? '';
    for (const record of records) {
      const event = parseRecord(record, options);
      if (event !== undefined) yield event;
    }
  }
  const event = parseRecord(pending + decoder.decode(), options);
  if (event !== undefined) yield event;
}

function parseRecord(record: string, options: EventFromJSONOptions): LogEvent | undefined {
  const text = record.trim();
  if (text === '') return undefined;
  try {
    const event = eventFromJSON(text, options);
    return typeof event === 'object' && event !== null && !Array.isArray(event) ? event : undefined;
  } catch {
    return undefined;
  }
}
