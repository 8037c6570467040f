// Turning log events into text: formatEvent, formatUnformattableEvent and
// formatEventAsClassicLogText (Twisted: twisted/logger/test/test_format.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Failure } from 'torsion/defer';
import {
  formatEvent,
  formatEventAsClassicLogText,
  formatUnformattableEvent,
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

  test('gives the empty string when log_format is not a string', () => {
    assert.equal(formatEvent({ log_format: 42 } as unknown as LogEvent), '');
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
    assert.equal(
      formatEvent(event),
      "Unable to format event <unprintable event>: no field named 'missing'",
    );
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
