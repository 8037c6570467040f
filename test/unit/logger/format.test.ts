// Turning log events into text: formatEvent, formatUnformattableEvent,
// formatWithCall, formatTime, eventAsText and formatEventAsClassicLogText
// (Twisted: twisted/logger/test/test_format.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Failure } from 'torsion/defer';
import {
  eventAsText,
  formatEvent,
  formatEventAsClassicLogText,
  formatTime,
  formatUnformattableEvent,
  formatWithCall,
  type LogEvent,
} from 'torsion/logger';

describe('formatEvent fields', () => {
  test('fills {name} with the field of that name', () => {
    assert.equal(formatEvent({ log_format: 'Hello, {who}!', who: 'world' }), 'Hello, world!');
  });

  test('fills the same field twice and several fields in order', () => {
    const event: LogEvent = { log_format: '{a}-{b}-{a}', a: 1, b: 'two' };
    assert.equal(formatEvent(event), '1-two-1');
  });

  test('shows numbers, booleans, null and undefined as text', () => {
    const event: LogEvent = {
      log_format: '{n} {t} {z} {u}',
      n: 2.5,
      t: true,
      z: null,
      u: undefined,
    };
    assert.equal(formatEvent(event), '2.5 true null undefined');
  });

  test('uses a value’s own toString, and inspects plain objects', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      toString(): string {
        return `(${this.x}, ${this.y})`;
      }
    }
    const event: LogEvent = { log_format: '{p} {o}', p: new Point(1, 2), o: { k: 'v' } };
    assert.equal(formatEvent(event), `(1, 2) ${inspect({ k: 'v' })}`);
  });

  test('reaches attributes with {a.b} and {a.b.c}', () => {
    const event: LogEvent = {
      log_format: '{user.name} in {user.home.city}',
      user: { name: 'ada', home: { city: 'London' } },
    };
    assert.equal(formatEvent(event), 'ada in London');
  });

  test('reaches keys and indices with {a[key]} and {a[0]}, the key taken literally', () => {
    const event: LogEvent = {
      log_format: '{headers[content-type]} {items[1]} {m[x.y]}',
      headers: { 'content-type': 'text/plain' },
      items: ['zero', 'one'],
      m: { 'x.y': 'dotted' },
    };
    assert.equal(formatEvent(event), 'text/plain one dotted');
  });

  test('mixes attribute and key access', () => {
    const event: LogEvent = { log_format: '{req.headers[host]}', req: { headers: { host: 'h' } } };
    assert.equal(formatEvent(event), 'h');
  });

  test('{x!r} shows the representation, {x!s} the text', () => {
    const event: LogEvent = { log_format: '{s!r} {s!s} {n!r}', s: 'hi', n: 3 };
    assert.equal(formatEvent(event), "'hi' hi 3");
  });

  test('{{ and }} are literal braces', () => {
    assert.equal(formatEvent({ log_format: '{{x}} is {x}', x: 1 }), '{x} is 1');
    assert.equal(formatEvent({ log_format: '}}{{' }), '}{');
  });

  test('ignores a format spec after the colon', () => {
    const event: LogEvent = { log_format: '[{n:>10}] [{s!r:^5}]', n: 42, s: 'a' };
    assert.equal(formatEvent(event), "[42] ['a']");
  });

  test('leaves text without fields as it is', () => {
    assert.equal(formatEvent({ log_format: 'plain text' }), 'plain text');
  });
});

describe('formatEvent without a usable format', () => {
  test('gives the empty string when there is no log_format', () => {
    assert.equal(formatEvent({ x: 1 }), '');
    assert.equal(formatEvent({ log_format: undefined }), '');
  });

  test('reports a log_format that is not a string, with the event (test_formatEventWeirdFormat)', () => {
    const event = { log_format: 42, foo: 1 } as unknown as LogEvent;
    const text = formatEvent(event);
    assert.match(text, /Log format must be a string, not 42/);
    assert.ok(text.includes(inspect(event, { depth: 1, breakLength: Infinity })));
    assert.equal(formatEvent({ log_format: null } as unknown as LogEvent), '');
  });

  test('reports a missing field instead of throwing', () => {
    const text = formatEvent({ log_format: 'value: {missing}', present: 1 });
    assert.match(text, /^Unable to format event /);
    assert.match(text, /no field named 'missing'/);
    assert.match(text, /value: \{missing\}/);
  });

  test('reports an unclosed {, a single } and an empty {} instead of throwing', () => {
    for (const format of ['oops {x', 'oops } here', 'empty {}']) {
      const text = formatEvent({ log_format: format, x: 1 });
      assert.match(text, /^Unable to format event /, format);
    }
    assert.match(formatEvent({ log_format: 'oops {x', x: 1 }), /unclosed '\{'/);
    assert.match(formatEvent({ log_format: 'oops } here' }), /single '\}'/);
  });

  test('reports reaching into undefined or null instead of throwing', () => {
    const text = formatEvent({ log_format: '{a.b.c}', a: {} });
    assert.match(text, /^Unable to format event /);
    assert.match(text, /cannot read 'c' of undefined/);
  });

  test('reports a value whose toString throws instead of throwing', () => {
    const hostile = {
      toString(): string {
        throw new Error('no text for you');
      },
    };
    const text = formatEvent({ log_format: '{h}', h: hostile });
    assert.match(text, /^Unable to format event .*: no text for you$/);
  });
});

describe('formatEvent calls', () => {
  // Twisted: FormattingTests.test_formatWithCall / test_formatEvent (callables).
  test('calls a field written with (), without arguments', () => {
    const event: LogEvent = {
      log_format: 'Hello, {world}. {callme()}.',
      world: 'earth',
      callme: () => 'maybe',
    };
    assert.equal(formatEvent(event), 'Hello, earth. maybe.');
  });

  test('calls a method reached through attributes, with its object as this', () => {
    class Transport {
      readonly #peer = '10.0.0.1:80';
      getPeer(): string {
        return this.#peer;
      }
    }
    const event: LogEvent = {
      log_format: 'connection from {log_source.transport.getPeer()} ({log_source.kind})',
      log_source: { transport: new Transport(), kind: 'tcp' },
    };
    assert.equal(formatEvent(event), 'connection from 10.0.0.1:80 (tcp)');
  });

  test('calls a key step and then reaches into the result, with !r', () => {
    const event: LogEvent = {
      log_format: '{m[f]().n!r}',
      m: { f: () => ({ n: 'x' }) },
    };
    assert.equal(formatEvent(event), "'x'");
  });

  test('a field without () is shown, not called', () => {
    const event: LogEvent = { log_format: '{f}', f: () => 'called' };
    assert.notEqual(formatEvent(event), 'called');
  });

  test('a call that throws makes the event unformattable, without throwing', () => {
    const event: LogEvent = {
      log_format: 'peer {broken()}',
      broken: () => {
        throw new Error('no peer');
      },
    };
    const text = formatEvent(event);
    assert.match(text, /^Unable to format event .*: no peer$/);
    assert.match(formatEventAsClassicLogText(event), /Unable to format event .*: no peer\n$/);
  });

  test('calling something that is not a function makes the event unformattable', () => {
    const text = formatEvent({ log_format: '{n()}', n: 3 });
    assert.match(text, /^Unable to format event .*'n' is not callable$/);
  });
});

describe('formatUnformattableEvent', () => {
  test('shows the event and the reason', () => {
    const event: LogEvent = { log_format: '{x}', y: 2 };
    assert.equal(
      formatUnformattableEvent(event, new Error('bad')),
      `Unable to format event ${inspect(event, { depth: 1, breakLength: Infinity })}: bad`,
    );
  });

  test('accepts a reason that is not an Error', () => {
    assert.match(formatUnformattableEvent({}, 'plain reason'), /: plain reason$/);
  });

  test('still gives text when the event itself cannot be shown', () => {
    const unshowable = {
      [inspect.custom](): string {
        throw new Error('cannot inspect');
      },
    };
    const event: LogEvent = { log_format: '{missing}', thing: unshowable };
    const text = formatEvent(event);
    assert.match(
      text,
      /^MESSAGE LOST: unformattable object logged: Error: no field named 'missing'\n/,
    );
    assert.match(
      text,
      /\nRecoverable data: 'log_format' = '\{missing\}', 'thing' = <unrepresentable value: cannot inspect>\n/,
    );
    assert.match(text, /\nException during formatting:\nError: cannot inspect\n {4}at /);
  });
});

describe('formatEventAsClassicLogText', () => {
  test('writes the ISO timestamp, [namespace#level] and the text, ending in a newline', () => {
    const event: LogEvent = {
      log_time: 1.5,
      log_namespace: 'app.web',
      log_level: 'warn',
      log_format: 'slow request to {path}',
      path: '/x',
    };
    assert.equal(
      formatEventAsClassicLogText(event),
      '1970-01-01T00:00:01.500Z [app.web#warn] slow request to /x\n',
    );
  });

  test('writes - for a missing time and namespace, and a missing level, as Twisted does (not info)', () => {
    assert.equal(formatEventAsClassicLogText({ log_format: 'hi' }), '- [-#-] hi\n');
  });

  test('writes the namespace with - when only the level is missing', () => {
    const event: LogEvent = { log_namespace: 'app', log_format: 'hi' };
    assert.equal(formatEventAsClassicLogText(event), '- [app#-] hi\n');
  });

  test('prefers log_system to namespace and level', () => {
    const event: LogEvent = { log_system: 'tcp,7', log_namespace: 'n', log_format: 'x' };
    assert.equal(formatEventAsClassicLogText(event), '- [tcp,7] x\n');
  });

  test('prefers log_text to log_format', () => {
    const event: LogEvent = { log_text: 'already text', log_format: '{missing}' };
    assert.equal(formatEventAsClassicLogText(event), '- [-#-] already text\n');
  });

  test('indents the lines after the first with a tab', () => {
    const event: LogEvent = { log_format: 'one\ntwo\nthree' };
    assert.equal(formatEventAsClassicLogText(event), '- [-#-] one\n\ttwo\n\tthree\n');
  });

  test('appends the failure’s traceback, indented, after the text', () => {
    const failure = new Failure(new RangeError('out of range'));
    const event: LogEvent = { log_format: 'it broke', log_failure: failure };
    const text = formatEventAsClassicLogText(event);
    const traceback = failure.getTraceback().trimEnd().replaceAll('\n', '\n\t');
    assert.equal(text, `- [-#-] it broke\n\t${traceback}\n`);
    assert.match(text, /\n\tRangeError: out of range\n\t {4}at /);
  });

  test('shows only the traceback when the text is empty', () => {
    const failure = new Failure('thrown string');
    const text = formatEventAsClassicLogText({ log_failure: failure });
    assert.match(text, /^- \[-#-\] String: thrown string\n/);
  });

  test('shows an unformattable event instead of throwing', () => {
    const text = formatEventAsClassicLogText({ log_format: '{nope}' });
    assert.match(text, /^- \[-#-\] Unable to format event /);
  });
});

/** An object that throws when shown, as Twisted's Unformattable does from __repr__. */
const unformattable = {
  [inspect.custom](): string {
    throw new ZeroDivisionError('division by zero');
  },
  toString(): string {
    throw new ZeroDivisionError('division by zero');
  },
};

class ZeroDivisionError extends Error {
  override name = 'ZeroDivisionError';
}

class CapturedError extends Error {
  override name = 'CapturedError';
}

const evil = (): never => {
  throw new ZeroDivisionError('division by zero');
};

describe("Twisted's test_format.py: FormattingTests", () => {
  test('plain text, fields and calls (test_formatEvent)', () => {
    assert.equal(formatEvent({ log_format: '' }), '');
    assert.equal(formatEvent({ log_format: '{x}', x: 'abc' }), 'abc');
    assert.equal(
      formatEvent({
        log_format: '{not_called}, {called()}.',
        not_called: 'no',
        called: () => 'yes',
      }),
      'no, yes.',
    );
    assert.equal(formatEvent({ log_format: 'S\u00e1nchez' }), 'S\u00e1nchez');
  });

  test('a method reached with . and called (test_formatMethod)', () => {
    class World {
      where(): string {
        return 'world';
      }
    }
    assert.equal(
      formatEvent({ log_format: 'hello {what.where()}', what: new World() }),
      'hello world',
    );
  });

  test('a key of an attribute (test_formatAttributeSubscript)', () => {
    const example = { config: { foo: 'bar', baz: 'qux' } };
    assert.equal(
      formatEvent({ log_format: '{example.config[foo]} {example.config[baz]}', example }),
      'bar qux',
    );
  });

  test('a call that throws: unformattable, showing the event (test_formatUnformattableEvent)', () => {
    const event: LogEvent = { log_format: '{evil()}', evil };
    const text = formatEvent(event);
    assert.match(text, /^Unable to format event /);
    assert.ok(text.includes(inspect(event, { depth: 1, breakLength: Infinity })));
  });

  test('an unformattable event with a value that cannot be shown (test_formatUnformattableEventWithUnformattableValue, …Key)', () => {
    const text = formatEvent({ log_format: '{evil()}', evil, gurk: unformattable });
    assert.match(text, /MESSAGE LOST: unformattable object logged:/);
    assert.match(text, /Recoverable data:/);
    assert.match(text, /Exception during formatting:/);
  });

  test('an error that itself cannot be shown still leaves the recoverable fields (test_formatUnformattableEventWithUnformattableErrorOMGWillItStop)', () => {
    const text = formatUnformattableEvent(
      { log_format: '{evil()}', evil, recoverable: 'okay' },
      unformattable,
    );
    assert.match(text, /MESSAGE LOST: unformattable object logged:/);
    assert.ok(text.includes("'recoverable' = 'okay'"), text);
  });
});

describe("Twisted's test_format.py: TimeFormattingTests", () => {
  test('the default is ISO 8601 in UTC (test_formatTimeWithDefaultFormat)', () => {
    assert.equal(formatTime(Date.UTC(2007, 0, 31) / 1000), '2007-01-31T00:00:00.000Z');
  });

  test('no time gives the default text (test_formatTimeWithNoTime)', () => {
    assert.equal(formatTime(undefined), '-');
    assert.equal(formatTime(undefined, undefined, '!'), '!');
  });

  test('no format gives the default text (test_formatTimeWithNoFormat)', () => {
    assert.equal(formatTime(1_380_000_000, null), '-');
    assert.equal(formatTime(1_380_000_000, null, '!'), '!');
  });

  test('another format is a function of the seconds (test_formatTimeWithAlternateTimeFormat, test_formatTimePercentF)', () => {
    const micros = (s: number) => String(Math.round((s % 1) * 1e6)).padStart(6, '0');
    assert.equal(formatTime(1_000_000.23456, micros), '234560');
  });
});

describe("Twisted's test_format.py: ClassicLogFormattingTests", () => {
  const event = (fields: Record<string, unknown>): LogEvent => ({ log_format: 'XYZZY', ...fields });

  test('time first, by default ISO 8601, or by a given function (test_formatTimeDefault, test_formatTimeCustom)', () => {
    const t = Date.UTC(2013, 8, 24, 11, 40, 47) / 1000;
    assert.equal(
      formatEventAsClassicLogText(event({ log_time: t })),
      '2013-09-24T11:40:47.000Z [-#-] XYZZY\n',
    );
    assert.equal(
      formatEventAsClassicLogText(event({ log_time: 12345 }), (when) => `__${String(when)}__`),
      '__12345__ [-#-] XYZZY\n',
    );
  });

  test('namespace, level, system; the system wins (test_formatNamespace … test_formatSystemRulz)', () => {
    assert.equal(
      formatEventAsClassicLogText(event({ log_namespace: 'my.namespace' })),
      '- [my.namespace#-] XYZZY\n',
    );
    assert.equal(formatEventAsClassicLogText(event({ log_level: 'warn' })), '- [-#warn] XYZZY\n');
    assert.equal(
      formatEventAsClassicLogText(event({ log_system: 'S.Y.S.T.E.M.' })),
      '- [S.Y.S.T.E.M.] XYZZY\n',
    );
    assert.equal(
      formatEventAsClassicLogText(
        event({ log_namespace: 'my.namespace', log_level: 'warn', log_system: 'S.Y.S.T.E.M.' }),
      ),
      '- [S.Y.S.T.E.M.] XYZZY\n',
    );
  });

  test('a system that cannot be made text is UNFORMATTABLE (test_formatSystemUnformattable)', () => {
    assert.equal(
      formatEventAsClassicLogText(event({ log_system: unformattable })),
      '- [UNFORMATTABLE] XYZZY\n',
    );
  });

  test('the formatted text last (test_formatFormat)', () => {
    assert.equal(
      formatEventAsClassicLogText({ log_format: 'id:{id}', id: '123' }),
      '- [-#-] id:123\n',
    );
  });

  test('nothing to show: no format or an empty one gives nothing (test_formatNoFormat, test_formatEmptyFormat)', () => {
    assert.equal(formatEventAsClassicLogText({ id: '123' }), '');
    assert.equal(formatEventAsClassicLogText({ log_format: '', id: '123' }), '');
  });

  test('lines after the first are indented (test_formatFormatMultiLine)', () => {
    assert.equal(
      formatEventAsClassicLogText({ log_format: 'XYZZY\nA hollow voice says:\n"Plugh"' }),
      '- [-#-] XYZZY\n\tA hollow voice says:\n\t"Plugh"\n',
    );
  });
});

describe("Twisted's test_format.py: FormatFieldTests", () => {
  test('formatWithCall calls the fields written with () (test_formatWithCall)', () => {
    assert.equal(
      formatWithCall('Hello, {world}. {callme()}.', { world: 'earth', callme: () => 'maybe' }),
      'Hello, earth. maybe.',
    );
    assert.equal(formatWithCall('Hello, {repr()!r}.', { repr: () => 'repr' }), "Hello, 'repr'.");
  });

  test('formatWithCall throws when the format cannot be applied', () => {
    assert.throws(() => formatWithCall('{missing}', {}), /no field named 'missing'/);
  });
});

describe("Twisted's test_format.py: EventAsTextTests", () => {
  const failure = new Failure(new CapturedError('This is a fake error'));
  const traceback = failure.getTraceback().trimEnd();
  const t = Date.UTC(2013, 8, 24, 11, 40, 47) / 1000;

  test('a failure’s traceback is appended (test_eventWithTraceback)', () => {
    const text = eventAsText({ log_format: 'This is a test log message', log_failure: failure });
    assert.ok(text.includes(traceback));
    assert.ok(text.includes('This is a test log message'));
  });

  test('with an empty format, the traceback alone (test_formatEmptyEventWithTraceback)', () => {
    const text = eventAsText({ log_format: '', log_failure: failure }, { includeSystem: false });
    assert.equal(text, `- ${traceback}`);
    assert.ok(text.includes('This is a fake error'));
  });

  test('an unformattable event still gets its traceback (test_formatUnformattableWithTraceback, …ErrorWithTraceback)', () => {
    const text = eventAsText({ log_format: '{evil()}', evil, log_failure: failure });
    assert.match(text, /Unable to format event/);
    assert.ok(text.includes(traceback));
    const lost = eventAsText({
      log_format: '{evil()}',
      evil,
      gurk: unformattable,
      log_failure: failure,
    });
    assert.match(lost, /MESSAGE LOST/);
    assert.ok(lost.includes(traceback));
  });

  test('a failure whose traceback cannot be had is noted (test_formatEventUnformattableTraceback)', () => {
    const text = eventAsText({ log_format: '', log_failure: {} as Failure });
    assert.match(text, /\(UNABLE TO OBTAIN TRACEBACK FROM EVENT\)/);
  });

  test('no failure, no traceback (test_formatEventNonCritical)', () => {
    assert.equal(
      eventAsText({ log_format: 'This is a test log message' }, { includeTimestamp: false }),
      '[-#-] This is a test log message',
    );
  });

  test('a message with multibyte characters (test_formatTracebackMultibyte)', () => {
    const text = eventAsText({
      log_format: 'x',
      log_failure: new Failure(new CapturedError('\u20ac')),
    });
    assert.ok(text.includes('CapturedError: \u20ac'));
  });

  test('the system alone, the time alone (test_eventAsTextSystemOnly, test_eventAsTextTimestampOnly)', () => {
    const event: LogEvent = {
      log_format: 'ABCD',
      log_system: 'fake_system',
      log_time: t,
      log_failure: failure,
    };
    assert.equal(
      eventAsText(event, { includeTimestamp: false, includeTraceback: false }),
      '[fake_system] ABCD',
    );
    assert.equal(
      eventAsText(event, { includeSystem: false, includeTraceback: false }),
      '2013-09-24T11:40:47.000Z ABCD',
    );
  });

  test('a missing system is namespace#level, each - if missing (test_eventAsTextSystemMissing…)', () => {
    const only = { includeTimestamp: false, includeTraceback: false };
    const event: LogEvent = { log_format: 'ABCD', log_time: t, log_failure: failure };
    assert.equal(eventAsText(event, only), '[-#-] ABCD');
    assert.equal(
      eventAsText({ ...event, log_level: 'info', log_namespace: 'test' }, only),
      '[test#info] ABCD',
    );
    assert.equal(eventAsText({ ...event, log_level: 'info' }, only), '[-#info] ABCD');
  });

  test('classes as fields show as classes, and their names as text (test_eventAsTextTypeAsInput)', () => {
    const text = (format: string, fields: Record<string, unknown>) =>
      eventAsText(
        { log_format: format, ...fields },
        { includeTimestamp: false, includeTraceback: false, includeSystem: false },
      );
    assert.equal(text('{c}', { c: Number }), '[Function: Number]');
    assert.equal(text('{c}', { c: RangeError }), '[Function: RangeError]');
    assert.equal(text('{c}', { c: CapturedError }), '[class CapturedError extends Error]');
    assert.equal(text('{c.name}', { c: String }), 'String');
  });
});
