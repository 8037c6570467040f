// Turning log events into text (Twisted: twisted.logger._format).
// Tests: test/unit/logger/format.test.ts

import { inspect } from 'node:util';
import type { LogEvent } from './interfaces.js';

/**
 * Fills the event's `log_format` with the event's fields.
 *
 * @remarks
 * The format follows Python's `str.format` as Twisted uses it: `{name}` is
 * the field `name`, `{name.attr}` and `{name[key]}` reach inside it,
 * `{name!r}` shows the value's representation (`util.inspect`), and `{{` /
 * `}}` are literal braces. A format spec after `:` is accepted and ignored.
 * A field or step written with `()` is called, without arguments, as
 * Twisted's `formatEvent` does: `{log_source.getPeer()}` calls `getPeer` on
 * the event's `log_source` (as its method). A call that throws, or of
 * something that is not a function, makes the event unformattable.
 * An event that carries its text already (`log_text`, as
 * `eventAsJSON` saves it) formats as that text, since objects in its
 * fields may not have survived the trip through JSON (Twisted keeps their
 * text in `log_flattened` for the same reason).
 * An event without `log_format` formats as the empty string; one whose
 * `log_format` is not a string formats as unformattable. When the format
 * cannot be applied (an unknown field, an unbalanced brace) the result says
 * so instead of throwing: formatting never loses the event.
 *
 * @param event - The event to format.
 * @returns The formatted text.
 * @see Twisted: twisted.logger.formatEvent
 * @since 0.1.0
 */
export function formatEvent(event: LogEvent): string {
  // Text formatted before the event was saved (eventAsJSON), whose fields
  // may not have survived: as Twisted's flattened fields.
  if (typeof event.log_text === 'string') return event.log_text;
  const format: unknown = event.log_format;
  if (format === undefined || format === null) return '';
  if (typeof format !== 'string') {
    return formatUnformattableEvent(
      event,
      new TypeError(`Log format must be a string, not ${safeRepr(format)}`),
    );
  }
  try {
    const flattened = event.log_flattened;
    if (typeof flattened !== 'object' || flattened === null) {
      return applyFormat(format, (spec) => renderField(spec, event));
    }
    // Read from a file Twisted wrote: its fields' text as Twisted made it.
    const keyOf = flatKeys();
    return applyFormat(format, (spec) => {
      const text = (flattened as Record<string, unknown>)[keyOf(spec)];
      return text === undefined ? renderField(spec, event) : String(text);
    });
  } catch (error) {
    return formatUnformattableEvent(event, error);
  }
}

/**
 * The text of each field of the event's format, under Twisted's keys
 * (`name!s:`, `name!r:`, `name!s:/2` for its second use): what Twisted's
 * `eventAsJSON` saves as `log_flattened`, so that Twisted's `formatEvent`
 * shows our text. `undefined` if the format cannot be applied.
 *
 * @internal For eventAsJSON, in Twisted's dialect.
 */
export function flattenFields(event: LogEvent): Record<string, string> | undefined {
  if (typeof event.log_format !== 'string') return undefined;
  const flattened: Record<string, string> = {};
  const keyOf = flatKeys();
  try {
    applyFormat(event.log_format, (spec) => {
      const text = renderField(spec, event);
      flattened[keyOf(spec)] = text;
      return text;
    });
  } catch {
    return undefined;
  }
  return flattened;
}

/** Twisted's KeyFlattener: a field's key, counting repeated uses. */
function flatKeys(): (spec: string) => string {
  const seen = new Map<string, number>();
  return (spec) => {
    const colon = spec.indexOf(':');
    const head = colon === -1 ? spec : spec.slice(0, colon);
    const formatSpec = colon === -1 ? '' : spec.slice(colon + 1);
    const bang = head.indexOf('!');
    const name = bang === -1 ? head : head.slice(0, bang);
    const conversion = bang === -1 ? 's' : head.slice(bang + 1) || 's';
    const key = `${name}!${conversion}:${formatSpec}`;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    return count > 1 ? `${key}/${count}` : key;
  };
}

/**
 * The text shown for an event whose format could not be applied:
 * `Unable to format event <the event>: <the reason>`.
 *
 * @remarks
 * If the event cannot even be shown (an object in it throws when
 * inspected), the text says `MESSAGE LOST`, then gives each field that can
 * be shown (`Recoverable data:`), then the error met while showing it, as
 * Twisted's does.
 *
 * @param event - The event whose format failed.
 * @param error - Why it failed.
 * @see Twisted: twisted.logger.formatUnformattableEvent
 * @since 0.1.0
 */
export function formatUnformattableEvent(event: LogEvent, error: unknown): string {
  try {
    return `Unable to format event ${inspect(event, INSPECT_EVENT)}: ${reasonOf(error)}`;
  } catch (showing) {
    // Something in the event cannot be shown: keep whatever can.
    const fields = Object.keys(event).map((key) => `${safeRepr(key)} = ${safeRepr(event[key])}`);
    return [
      `MESSAGE LOST: unformattable object logged: ${errorText(error, false)}`,
      `Recoverable data: ${fields.join(', ')}`,
      `Exception during formatting:\n${errorText(showing, true)}`,
    ].join('\n');
  }
}

const INSPECT_EVENT = { depth: 1, breakLength: Infinity } as const;

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An error as `Name: message` (with its stack if `stack`), anything else as {@link safeRepr}. */
function errorText(error: unknown, stack: boolean): string {
  try {
    if (error instanceof Error) {
      return stack && typeof error.stack === 'string'
        ? error.stack
        : `${error.name}: ${error.message}`;
    }
  } catch {
    // A hostile error: shown as any other value.
  }
  return safeRepr(error);
}

/** A value's representation, or a note that it has none. */
function safeRepr(value: unknown): string {
  try {
    return inspect(value, INSPECT_EVENT);
  } catch (error) {
    let reason: string;
    try {
      reason = reasonOf(error);
    } catch {
      reason = 'unknown error';
    }
    return `<unrepresentable value: ${reason}>`;
  }
}

/**
 * Formats a time (seconds since the epoch) as text.
 *
 * @param when - The time; `undefined` (or not a number) gives `defaultText`.
 * @param timeFormat - Turns the seconds into text; `null` gives
 *   `defaultText`. Default: ISO 8601 in UTC with milliseconds
 *   (`2026-11-22T10:00:00.000Z`).
 * @param defaultText - The text when there is no time or no format. Default `-`.
 * @see Twisted: twisted.logger.formatTime
 * @since 0.1.0
 */
export function formatTime(
  when: unknown,
  timeFormat: ((seconds: number) => string) | null = isoTime,
  defaultText = '-',
): string {
  if (timeFormat === null || typeof when !== 'number') return defaultText;
  return timeFormat(when);
}

function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}

/** Options of {@link eventAsText}. */
export interface EventAsTextOptions {
  /** Append the traceback of the event's `log_failure`. @defaultValue true */
  includeTraceback?: boolean | undefined;
  /** Start with the event's time. @defaultValue true */
  includeTimestamp?: boolean | undefined;
  /** Then the system: `[log_system]`, or `[namespace#level]`. @defaultValue true */
  includeSystem?: boolean | undefined;
  /** Formats the time. @defaultValue {@link formatTime} */
  formatTime?: ((when: unknown) => string) | undefined;
}

/**
 * The event as text: `time [system] text`, then the traceback of its
 * failure on the following lines.
 *
 * @remarks
 * The system is `log_system` if the event has one (`UNFORMATTABLE` if it
 * cannot be made text), else `namespace#level`, each `-` if missing. When
 * the event has no text and no failure, the result is `''`, whatever the
 * options. When it has only a failure, the traceback starts on the first
 * line (Twisted starts it on the second, after an empty message).
 *
 * @param event - The event.
 * @param options - See {@link EventAsTextOptions}.
 * @see Twisted: twisted.logger.eventAsText
 * @since 0.1.0
 */
export function eventAsText(event: LogEvent, options: EventAsTextOptions = {}): string {
  let text = formatEvent(event);
  if (options.includeTraceback !== false && event.log_failure !== undefined) {
    const traceback = formatTraceback(event.log_failure).trimEnd();
    text = text === '' ? traceback : `${text}\n${traceback}`;
  }
  if (text === '') return '';
  const time =
    options.includeTimestamp === false
      ? ''
      : `${(options.formatTime ?? formatTime)(event.log_time)} `;
  const system = options.includeSystem === false ? '' : `[${formatSystem(event)}] `;
  return `${time}${system}${text}`;
}

/** The failure's traceback, or a note saying it could not be had. */
function formatTraceback(failure: unknown): string {
  try {
    const traceback = (failure as { getTraceback(): unknown }).getTraceback();
    if (typeof traceback === 'string') return traceback;
    throw new TypeError('getTraceback() did not return text');
  } catch (error) {
    let reason: string;
    try {
      reason = reasonOf(error);
    } catch {
      reason = 'unknown error';
    }
    return `(UNABLE TO OBTAIN TRACEBACK FROM EVENT): ${reason}`;
  }
}

function formatSystem(event: LogEvent): string {
  const system: unknown = event.log_system;
  if (system === undefined || system === null) {
    return `${event.log_namespace ?? '-'}#${event.log_level ?? '-'}`;
  }
  try {
    return String(system);
  } catch {
    return 'UNFORMATTABLE';
  }
}

/**
 * One line of classic log text, plus the failure's traceback if there is one:
 * `2026-11-22T10:00:00.000Z [namespace#level] text`, the lines after the
 * first indented with a tab, ending in a newline.
 *
 * @remarks
 * A missing time, namespace or level is written `-`, as in Twisted: an event
 * without a level is not passed off as `info`. An event with nothing to show
 * (no text, no failure) gives `''`, which file observers skip (Twisted
 * returns `None`).
 *
 * @param event - The event.
 * @param formatTime - Formats the event's time. Default {@link formatTime}.
 * @see Twisted: twisted.logger.formatEventAsClassicLogText
 * @since 0.1.0
 */
export function formatEventAsClassicLogText(
  event: LogEvent,
  formatTime?: (when: unknown) => string,
): string {
  const text = eventAsText(event, { formatTime });
  if (text === '') return '';
  return `${text.replaceAll('\n', '\n\t')}\n`;
}

/**
 * Fills `format` from `fields` as {@link formatEvent} fills an event's
 * format: `{name}`, `{name.attr}`, `{name[key]}`, `{name!r}`, and `()` to
 * call a field.
 *
 * @example
 * ```ts
 * formatWithCall('Hello, {world}. {callme()}.', { world: 'earth', callme: () => 'maybe' });
 * // 'Hello, earth. maybe.'
 * ```
 *
 * @param format - The format string.
 * @param fields - The values of its fields.
 * @throws Error if the format cannot be applied (an unknown field, an
 *   unbalanced brace, a call that throws).
 * @see Twisted: twisted.logger.formatWithCall
 * @since 0.1.0
 */
export function formatWithCall(format: string, fields: Readonly<Record<string, unknown>>): string {
  return applyFormat(format, (spec) => renderField(spec, fields));
}

// A name, then `.attr` / `[key]` steps; any of them may end in `()` (a call).
const FIELD =
  /^([^.[!:()]+(?:\(\))?)((?:\.[^.[!:()]+(?:\(\))?|\[[^\]]*\](?:\(\))?)*)(?:!([rs]))?(?::.*)?$/;

function applyFormat(format: string, render: (spec: string) => string): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const open = format.indexOf('{', i);
    const close = format.indexOf('}', i);
    if (close !== -1 && (open === -1 || close < open)) {
      if (format[close + 1] !== '}') throw new Error(`single '}' at offset ${close}`);
      out += `${format.slice(i, close)}}`;
      i = close + 2;
      continue;
    }
    if (open === -1) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, open);
    if (format[open + 1] === '{') {
      out += '{';
      i = open + 2;
      continue;
    }
    const end = format.indexOf('}', open);
    if (end === -1) throw new Error(`unclosed '{' at offset ${open}`);
    out += render(format.slice(open + 1, end));
    i = end + 1;
  }
  return out;
}

function renderField(spec: string, event: Readonly<Record<string, unknown>>): string {
  const match = FIELD.exec(spec);
  if (match === null) throw new Error(`bad field {${spec}}`);
  const [, head = '', path = '', conversion] = match;
  const callsHead = head.endsWith('()');
  const name = callsHead ? head.slice(0, -2) : head;
  if (!Object.hasOwn(event, name)) throw new Error(`no field named '${name}'`);
  let value: unknown = event[name];
  if (callsHead) value = callMember(value, undefined, name);
  for (const [, attr, attrCall, key, keyCall] of path.matchAll(
    /\.([^.[()]+)(\(\))?|\[([^\]]*)\](\(\))?/g,
  )) {
    const member = attr ?? key ?? '';
    if (value === null || value === undefined)
      throw new Error(`cannot read '${member}' of ${value}`);
    const owner = value as Record<string, unknown>;
    value = owner[member];
    if (attrCall !== undefined || keyCall !== undefined) value = callMember(value, owner, member);
  }
  return conversion === 'r' ? inspect(value, { breakLength: Infinity }) : asText(value);
}

/** Calls a field written with `()`, as the method of `owner` if it has one. */
function callMember(value: unknown, owner: object | undefined, member: string): unknown {
  if (typeof value !== 'function') throw new Error(`'${member}' is not callable`);
  return Reflect.apply(value, owner, []);
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  // A class or function shows as `[class X]`, not its source (Twisted: <class 'X'>).
  if (typeof value === 'function') return inspect(value);
  if (typeof value !== 'object' || value === null) return String(value);
  const custom = (value as { toString?: unknown }).toString;
  if (typeof custom === 'function' && custom !== Object.prototype.toString) {
    return String(value);
  }
  return inspect(value, { breakLength: Infinity });
}
