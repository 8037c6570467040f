// eventAsJSON, eventFromJSON, jsonFileLogObserver and eventsFromJSONLogFile
// (Twisted: logger/test/test_json.py).

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CancelledError, Failure } from 'torsion/defer';
import {
  eventAsJSON,
  eventFromJSON,
  eventsFromJSONLogFile,
  formatEvent,
  formatEventAsClassicLogText,
  jsonFileLogObserver,
  type LogEvent,
  Logger,
} from 'torsion/logger';

async function collect(events: AsyncIterable<LogEvent>): Promise<LogEvent[]> {
  const all: LogEvent[] = [];
  for await (const e of events) all.push(e);
  return all;
}

describe('eventAsJSON', () => {
  test('is one line of JSON that eventFromJSON reads back, with the formatted text added', () => {
    const event: LogEvent = { log_format: 'hello {who}', who: 'world', log_level: 'info', n: 1.5 };
    const text = eventAsJSON(event);
    assert.equal(text.includes('\n'), false);
    assert.deepEqual(eventFromJSON(text), { ...event, log_text: 'hello world' });
  });

  test('keeps a failure readable: type, message and traceback come back as a Failure', () => {
    const failure = new Failure(new RangeError('too big'));
    const loaded = eventFromJSON(eventAsJSON({ log_format: 'oops', log_failure: failure }));
    const back = loaded.log_failure;
    assert.ok(back instanceof Failure);
    assert.equal(back.getErrorMessage(), 'too big');
    assert.match(back.getTraceback(), /^RangeError: too big\n {4}at /);
    assert.equal(back.check('RangeError', 'SyntaxError'), 'RangeError');
  });

  test('keeps the class hierarchy of a failure for checks by name', () => {
    const failure = new Failure(new CancelledError('stopped'));
    const back = eventFromJSON(eventAsJSON({ log_failure: failure })).log_failure as Failure;
    assert.equal(back.check('TorsionError'), 'TorsionError');
    assert.equal(back.check('CancelledError'), 'CancelledError');
    assert.equal(back.check('TypeError'), null);
    assert.equal(back.type?.name, 'CancelledError');
    assert.equal(back.check(CancelledError), null, 'CancelledError was not named as known');
    assert.equal(back.check(Error), Error);
  });

  test('restores a built-in error class: check and trap against the class itself', () => {
    const failure = new Failure(new RangeError('too big'));
    const back = eventFromJSON(eventAsJSON({ log_failure: failure })).log_failure as Failure;
    assert.equal(back.check(TypeError, RangeError), RangeError);
    assert.equal(back.trap(RangeError), RangeError);
    assert.ok(back.value instanceof RangeError);
    assert.equal(back.type, RangeError);
    assert.equal(back.getErrorMessage(), 'too big');
  });

  test('restores a class passed in knownErrors, and its ancestors, without calling its constructor', () => {
    const failure = new Failure(new CancelledError('stopped'));
    const text = eventAsJSON({ log_failure: failure });
    const back = eventFromJSON(text, { knownErrors: [CancelledError] }).log_failure as Failure;
    assert.equal(back.check(CancelledError), CancelledError);
    assert.equal(back.check(Error), Error);
    assert.equal(back.check('TorsionError'), 'TorsionError');
    assert.equal(back.type, CancelledError);
    assert.equal(back.getErrorMessage(), 'stopped');
    assert.match(back.getTraceback(), /CancelledError: stopped/);
  });

  test('a known ancestor with an unknown subclass: check by the ancestor, by name for the rest', () => {
    class AppError extends Error {}
    class DiskError extends AppError {
      override name = 'DiskError';
    }
    const text = eventAsJSON({ log_failure: new Failure(new DiskError('full')) });
    const back = eventFromJSON(text, { knownErrors: [AppError] }).log_failure as Failure;
    assert.equal(back.check(AppError), AppError);
    assert.equal(back.check('DiskError'), 'DiskError');
    assert.equal(back.check(DiskError), null, 'DiskError itself was not known');
    assert.equal(back.type?.name, 'DiskError');
  });

  test('eventsFromJSONLogFile passes knownErrors on', async () => {
    const line = `${eventAsJSON({ log_failure: new Failure(new CancelledError('x')) })}\n`;
    const events: LogEvent[] = [];
    for await (const e of eventsFromJSONLogFile([line], { knownErrors: [CancelledError] })) {
      events.push(e);
    }
    assert.equal(events[0]?.log_failure?.check(CancelledError), CancelledError);
  });

  test('refuses a knownErrors entry that is not a named class', () => {
    assert.throws(
      () => eventFromJSON('{}', { knownErrors: [(() => {}) as unknown as typeof Error] }),
      /knownErrors holds .*not a named class/,
    );
  });

  test('eventsFromJSONLogFile refuses such an entry too, instead of skipping every record', async () => {
    const bad = { knownErrors: [(() => {}) as unknown as typeof Error] };
    await assert.rejects(async () => {
      for await (const _ of eventsFromJSONLogFile(['{}\n'], bad)) {
        // never reached
      }
    }, /knownErrors holds .*not a named class/);
  });

  test('keeps an event without a level without one, and writes it as text with #-', () => {
    const back = eventFromJSON(eventAsJSON({ log_namespace: 'app', log_format: 'no level' }));
    assert.equal(Object.hasOwn(back, 'log_level'), false);
    assert.equal(formatEventAsClassicLogText(back), '- [app#-] no level\n');
  });

  test('round-trips a Buffer as a Buffer of the same bytes, not {"type":"Buffer"}', () => {
    const data = Buffer.from([104, 105, 0, 255]);
    const text = eventAsJSON({ data, nested: { list: [Buffer.from('ab')] } });
    assert.doesNotMatch(text, /"type":"Buffer"/);
    const loaded = eventFromJSON(text);
    assert.ok(Buffer.isBuffer(loaded.data));
    assert.deepEqual(loaded.data, data);
    assert.deepEqual(loaded.nested, { list: [Buffer.from('ab')] });
  });

  test('round-trips a Uint8Array as a Uint8Array, only its own view of the memory', () => {
    const whole = new Uint8Array([1, 2, 3, 4, 5, 250]);
    const view = whole.subarray(2, 5);
    const loaded = eventFromJSON(eventAsJSON({ view, empty: new Uint8Array(0) }));
    assert.equal(Buffer.isBuffer(loaded.view), false);
    assert.deepEqual(loaded.view, new Uint8Array([3, 4, 5]));
    assert.deepEqual(loaded.empty, new Uint8Array(0));
  });

  test('round-trips any bytes (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, asBuffer) => {
        const data = asBuffer ? Buffer.from(bytes) : bytes;
        const loaded = eventFromJSON(eventAsJSON({ data, log_format: '{data!r}' }));
        assert.deepEqual(loaded.data, data);
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  test('leaves an object that merely has a __bytes__ key with other fields alone', () => {
    const odd = { __bytes__: 'aGk=', other: 1 };
    assert.deepEqual(eventFromJSON(JSON.stringify({ odd })).odd, odd);
  });

  test('marks values JSON cannot hold as unpersistable, and drops the logger', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const log = new Logger('x');
    const loaded = eventFromJSON(
      eventAsJSON({ f: () => 1, s: Symbol('s'), cyclic, log_logger: log, big: 10n }),
    );
    assert.deepEqual(loaded.f, { unpersistable: true });
    assert.deepEqual(loaded.s, { unpersistable: true });
    assert.deepEqual(loaded.cyclic, { name: 'loop', self: { unpersistable: true } });
    assert.equal('log_logger' in loaded, false);
    assert.equal(loaded.big, '10');
  });

  test('keeps the text of an event whose fields cannot be serialised', () => {
    const event: LogEvent = { log_format: 'value {v}', v: { toString: () => 'custom' } };
    const loaded = eventFromJSON(eventAsJSON(event));
    assert.equal(loaded.log_text, formatEvent(event));
  });
});

describe('jsonFileLogObserver', () => {
  test('writes JSON Lines by default', () => {
    const written: string[] = [];
    jsonFileLogObserver({ write: (t: string) => written.push(t) })({ log_format: 'x', a: 1 });
    assert.deepEqual(written, ['{"log_format":"x","a":1,"log_text":"x"}\n']);
  });

  test('writes RFC 7464 records with a record separator when asked', () => {
    const written: string[] = [];
    jsonFileLogObserver(
      { write: (t: string) => written.push(t) },
      { recordSeparator: '\u001e' },
    )({ a: 1 });
    assert.deepEqual(written, ['\u001e{"a":1}\n']);
  });
});

describe('eventsFromJSONLogFile', () => {
  test('reads back what jsonFileLogObserver wrote, in order', async () => {
    const written: string[] = [];
    const observer = jsonFileLogObserver({ write: (t: string) => written.push(t) });
    for (let i = 0; i < 3; i++) observer({ i });
    assert.deepEqual(await collect(eventsFromJSONLogFile(written)), [{ i: 0 }, { i: 1 }, { i: 2 }]);
  });

  test('reads records split across chunks of any size, as bytes or text', async () => {
    const file = '{"a":1}\n\u001e{"b":"\u00e9"}\n{"c":3}\n';
    const bytes = Buffer.from(file);
    for (const size of [1, 2, 3, 5, 8, 64]) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      assert.deepEqual(
        await collect(eventsFromJSONLogFile(chunks)),
        [{ a: 1 }, { b: '\u00e9' }, { c: 3 }],
        `chunk size ${size}`,
      );
    }
  });

  test('skips truncated, non-JSON and non-object records', async () => {
    const file = '{"a":1}\n{"trunc\nnot json\n[1,2]\n42\n{"b":2}';
    assert.deepEqual(await collect(eventsFromJSONLogFile([file])), [{ a: 1 }, { b: 2 }]);
  });

  test('reads from a readable stream', async () => {
    const stream = Readable.from([Buffer.from('{"a":1}\n{"b"'), Buffer.from(':2}\n')]);
    assert.deepEqual(await collect(eventsFromJSONLogFile(stream)), [{ a: 1 }, { b: 2 }]);
  });
});
