// Log events as JSON: writing them to a file, one per line, and reading them
// back (Twisted: twisted.logger._json).
// Tests: test/unit/logger/json.test.ts

import { Failure } from '../internet/failure.js';
import { FileLogObserver, type LogOutput } from './file.js';
import { flattenFields, formatEvent } from './format.js';
import type { ILogObserver, LogEvent } from './interfaces.js';
import { isLogLevel } from './levels.js';
import { Logger } from './logger.js';

/** Reports the records {@link eventsFromJSONLogFile} cannot read. */
const log = new Logger('torsion.logger.json');

/** The RFC 7464 record separator, which ends a record as a newline does. */
const RS = '\u001e';

/** Marks a serialised Failure in JSON. */
const FAILURE_KEY = '__failure__';

/** Marks serialised bytes in JSON: `{"__bytes__": base64}`. */
const BYTES_KEY = '__bytes__';

/** Marks an object Twisted serialised by class: a level or a Failure. */
const CLASS_UUID_KEY = '__class_uuid__';

/** Twisted's mark of a serialised `LogLevel` constant: `{"name": "warn", …}`. */
const TWISTED_LEVEL_UUID = '02e59486-f24d-46ad-8224-3acdf2a5732a';

/** Twisted's mark of a serialised Failure. */
const TWISTED_FAILURE_UUID = 'e76887e2-20ed-49bf-a8f8-ba25cc586f2d';

/** A Failure as JSON: enough to show it and to `check`/`trap` it by name. */
interface FailureJSON {
  type: string;
  message: string;
  traceback: string;
  parents: string[];
}

/** Options of {@link eventAsJSON}. */
export interface EventAsJSONOptions {
  /**
   * How levels and Failures are written. `'torsion'`: `log_level` is the
   * level's name (`"warn"`), a Failure is `{"__failure__": …}`.
   * `'twisted'`: as Twisted's `eventAsJSON` writes them, so that Twisted's
   * `eventFromJSON` restores a `LogLevel` (`{"name": "warn",
   * "__class_uuid__": "02e59486-…"}`) and a Failure whose traceback shows
   * our stack frames and whose type is `js.<name>`. {@link eventFromJSON}
   * reads both.
   * @defaultValue `'torsion'`
   */
  dialect?: 'torsion' | 'twisted' | undefined;
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
 * become `{"unpersistable": true}`. With `dialect: 'twisted'`, levels and
 * Failures are written as Twisted writes them, so that Twisted's readers and
 * formatters understand them, and the text of each field of the format is
 * saved as Twisted's `log_flattened`, which its `formatEvent` shows.
 *
 * @param event - The event to encode.
 * @param options - See {@link EventAsJSONOptions}.
 * @see Twisted: twisted.logger.eventAsJSON
 * @since 0.1.0
 */
export function eventAsJSON(event: LogEvent, options: EventAsJSONOptions = {}): string {
  const twisted = options.dialect === 'twisted';
  let withText: LogEvent =
    event.log_text === undefined && event.log_format !== undefined
      ? { ...event, log_text: formatEvent(event) }
      : event;
  if (twisted && withText.log_flattened === undefined) {
    // Twisted's formatEvent reads the fields' text from here, not log_text.
    const flattened = flattenFields(event);
    if (flattened !== undefined) withText = { ...withText, log_flattened: flattened };
  }
  const seen = new WeakSet<object>();
  return JSON.stringify(withText, function replacer(this: unknown, key, value: unknown) {
    if (key === 'log_logger') return undefined;
    if (twisted && key === 'log_level' && this === withText && isLogLevel(value)) {
      return { name: value, [CLASS_UUID_KEY]: TWISTED_LEVEL_UUID };
    }
    if (twisted && value instanceof Failure) return failureAsTwistedJSON(value);
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

/**
 * A Failure as Twisted's `failureAsJSON` writes one (its pickled state), so
 * that Twisted's `failureFromJSON` rebuilds it: the type and its ancestors
 * under the module name `js`, the message as the value, and the stack's
 * frames, outermost first, as Python's.
 */
function failureAsTwistedJSON(failure: Failure): Record<string, unknown> {
  const type = failure.type?.name ?? typeof failure.value;
  const frames = failure
    .getTraceback()
    .split('\n')
    .map((line) => /^ {4}at (?:(.*) \()?(.+?):(\d+)(?::\d+)?\)?$/.exec(line))
    .filter((match) => match !== null)
    .map(([, name, file, line]) => [name ?? '<anonymous>', file, Number(line), [], []])
    .reverse();
  return {
    count: 0,
    type: { __module__: 'js', __name__: type },
    value: failure.getErrorMessage(),
    captureVars: false,
    frames,
    stack: [],
    tb: null,
    parents: failure.parents.filter((n) => n !== 'Object').map((n) => `js.${n}`),
    pickled: 1,
    [CLASS_UUID_KEY]: TWISTED_FAILURE_UUID,
  };
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
    if (typeof value === 'object' && value !== null && CLASS_UUID_KEY in value) {
      return fromTwistedClass(value as Record<string, unknown>, known);
    }
    return value;
  }) as LogEvent;
}

/**
 * An object Twisted serialised with its class's UUID: a `LogLevel` becomes
 * its name (an unknown name, from a later Twisted, none at all, as Twisted
 * reads it), a Failure becomes a Failure whose error checks by the recorded
 * class names. Anything else is left as it is.
 */
function fromTwistedClass(
  value: Record<string, unknown>,
  known: ReadonlyMap<string, KnownErrorClass>,
): unknown {
  const uuid = String(value[CLASS_UUID_KEY]).toLowerCase();
  if (uuid === TWISTED_LEVEL_UUID) return isLogLevel(value.name) ? value.name : undefined;
  if (uuid !== TWISTED_FAILURE_UUID) return value;
  const type = value.type as { __name__?: unknown } | undefined;
  const typeName = typeof type?.__name__ === 'string' ? type.__name__ : 'Error';
  // Python's qualified names (`builtins.ZeroDivisionError`), most derived first.
  const parents = (Array.isArray(value.parents) ? value.parents : [])
    .filter((n): n is string => typeof n === 'string')
    .map((n) => n.slice(n.lastIndexOf('.') + 1))
    .filter((n) => n !== 'object');
  const message = typeof value.value === 'string' ? value.value : '';
  // Python's frames, outermost first, as the `at` lines of a stack.
  const frames = (Array.isArray(value.frames) ? value.frames : []).map((frame: unknown) => {
    const [name, file, line] = Array.isArray(frame) ? frame : [];
    return `    at ${String(name)} (${String(file)}:${String(line)})`;
  });
  const traceback = [`${typeName}: ${message}`, ...frames.reverse()];
  return new Failure(
    rebuildError(
      { type: typeName, message, traceback: traceback.join('\n'), parents: [typeName, ...parents] },
      known,
    ),
  );
}

/** Options of {@link jsonFileLogObserver}. */
export interface JSONFileLogObserverOptions {
  /**
   * Written before each record. `'\x1e'` gives RFC 7464 JSON text sequences,
   * as Twisted writes by default.
   * @defaultValue `''`: JSON Lines, one event per line
   */
  recordSeparator?: string | undefined;
  /**
   * How levels and Failures are written; see
   * {@link EventAsJSONOptions.dialect}.
   * @defaultValue `'twisted'` with a record separator (that format is there
   *   for Twisted's tools), `'torsion'` without
   */
  dialect?: 'torsion' | 'twisted' | undefined;
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
  const json: EventAsJSONOptions = {
    dialect: options.dialect ?? (separator === '' ? 'torsion' : 'twisted'),
  };
  return new FileLogObserver(output, (event) => `${separator}${eventAsJSON(event, json)}\n`)
    .observe;
}

/** Options of {@link eventsFromJSONLogFile}. */
export interface EventsFromJSONLogFileOptions extends EventFromJSONOptions {
  /**
   * What starts each record. `'\x1e'` reads RFC 7464 JSON text sequences,
   * as Twisted writes them: records are split on it, and one that does not
   * end in a newline (cut short) is skipped. `''` reads JSON Lines.
   * @defaultValue detected from the first byte, as Twisted does: `'\x1e'`
   *   if the file starts with it, JSON Lines otherwise
   */
  recordSeparator?: string | undefined;
}

/**
 * Reads back the events of a file written by {@link jsonFileLogObserver}
 * (or by Twisted's), JSON Lines or record-separated.
 *
 * @remarks
 * A record that cannot be read (not UTF-8, not JSON, not an object, or cut
 * short in a record-separated file) is skipped and reported as an `error`
 * event of namespace `torsion.logger.json` carrying the `record` (its text,
 * or its bytes if they are not UTF-8), with Twisted's formats: `Unable to
 * read JSON record: {record!r}`, `Unable to read truncated JSON record:
 * {record!r}`, `Unable to decode UTF-8 for JSON record: {record!r}`. In JSON
 * Lines, blank lines are skipped silently and a record separator before a
 * record is tolerated.
 *
 * @example
 * ```ts
 * for await (const event of eventsFromJSONLogFile(createReadStream('app.log'))) {
 *   process.stdout.write(formatEventAsClassicLogText(event) ?? '');
 * }
 * ```
 *
 * @throws TypeError (when first iterated) if `options.knownErrors` holds
 *   something that is not a named class.
 * @param input - Chunks of the file: a readable stream (`fs.createReadStream`),
 *   or an iterable of strings or bytes.
 * @param options - See {@link EventsFromJSONLogFileOptions}; `knownErrors`
 *   as for {@link eventFromJSON}.
 * @see Twisted: twisted.logger.eventsFromJSONLogFile
 * @since 0.1.0
 */
export async function* eventsFromJSONLogFile(
  input: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: EventsFromJSONLogFileOptions = {},
): AsyncGenerator<LogEvent> {
  // A bad knownErrors list is the caller's mistake, not a bad record: refuse
  // it here rather than skip every record.
  knownErrorsByName(options);
  let separator: Buffer | undefined =
    options.recordSeparator === undefined ? undefined : Buffer.from(options.recordSeparator);
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
    if (pending.length === 0) continue;
    separator ??= pending[0] === RS_BYTE ? Buffer.from(RS) : Buffer.alloc(0);
    // Work on bytes: a chunk may end inside a character.
    const splitOn = separator.length === 0 ? NEWLINE : separator;
    let start = 0;
    for (
      let end = pending.indexOf(splitOn, start);
      end !== -1;
      end = pending.indexOf(splitOn, start)
    ) {
      const event = readRecord(pending.subarray(start, end), separator.length > 0, options);
      if (event !== undefined) yield event;
      start = end + splitOn.length;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0) {
    const event = readRecord(pending, (separator?.length ?? 0) > 0, options);
    if (event !== undefined) yield event;
  }
}

const RS_BYTE = 0x1e;
const NEWLINE = Buffer.from('\n');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One record's event, or `undefined` (reported) if it cannot be read. */
function readRecord(
  record: Buffer,
  separated: boolean,
  options: EventFromJSONOptions,
): LogEvent | undefined {
  if (record.length === 0) return undefined;
  if (separated && record[record.length - 1] !== NEWLINE[0]) {
    log.error('Unable to read truncated JSON record: {record!r}', { record: textOf(record) });
    return undefined;
  }
  let text: string;
  try {
    text = utf8.decode(record);
  } catch {
    log.error('Unable to decode UTF-8 for JSON record: {record!r}', {
      record: Buffer.from(record),
    });
    return undefined;
  }
  // JSON Lines: blank lines, a stray \r or record separator are not records.
  if (!separated && text.replaceAll(RS, '').trim() === '') return undefined;
  try {
    const event = eventFromJSON(separated ? text : text.replaceAll(RS, ''), options);
    if (typeof event === 'object' && event !== null && !Array.isArray(event)) return event;
  } catch {
    // Reported below, as a record that is not JSON.
  }
  log.error('Unable to read JSON record: {record!r}', { record: text });
  return undefined;
}

/** A record's text for a report, or its bytes if it is not UTF-8. */
function textOf(record: Buffer): string | Buffer {
  try {
    return utf8.decode(record);
  } catch {
    return Buffer.from(record);
  }
}
