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
 * An event without `log_format` formats as the empty string. When the format
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
  const format = event.log_format;
  if (typeof format !== 'string') return '';
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
 * The text shown for an event whose format could not be applied.
 *
 * @since 0.1.0
 */
export function formatUnformattableEvent(event: LogEvent, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  let shown: string;
  try {
    shown = inspect(event, { depth: 1, breakLength: Infinity });
  } catch {
    shown = '<unprintable event>';
  }
  return `Unable to format event ${shown}: ${reason}`;
}

/**
 * One line of classic log text, plus the failure's traceback if there is one:
 * `2026-11-22T10:00:00.000Z [namespace#level] text`.
 *
 * @remarks
 * A missing time, namespace or level is written `-`, as in Twisted: an event
 * without a level is not passed off as `info`.
 *
 * @since 0.1.0
 */
export function formatEventAsClassicLogText(event: LogEvent): string {
  const time =
    typeof event.log_time === 'number' ? new Date(event.log_time * 1000).toISOString() : '-';
  const system = event.log_system ?? `${event.log_namespace ?? '-'}#${event.log_level ?? '-'}`;
  let text = typeof event.log_text === 'string' ? event.log_text : formatEvent(event);
  if (event.log_failure !== undefined) {
    const traceback = event.log_failure.getTraceback();
    text = text === '' ? traceback.trimEnd() : `${text}\n${traceback.trimEnd()}`;
  }
  return `${time} [${system}] ${text.replaceAll('\n', '\n\t')}\n`;
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

function renderField(spec: string, event: LogEvent): string {
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
  if (typeof value !== 'object' || value === null) return String(value);
  const custom = (value as { toString?: unknown }).toString;
  if (typeof custom === 'function' && custom !== Object.prototype.toString) {
    return String(value);
  }
  return inspect(value, { breakLength: Infinity });
}
