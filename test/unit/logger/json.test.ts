// eventAsJSON, eventFromJSON, jsonFileLogObserver and eventsFromJSONLogFile
// (Twisted: logger/test/test_json.py).

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CancelledError, Failure } from 'torsion/defer';
import {
  captureLogs,
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

  test('skips truncated, non-JSON and non-object records, reporting each', async () => {
    const file = '{"a":1}\n{"trunc\nnot json\n[1,2]\n42\n{"b":2}';
    const { events, errors } = await readLogFile([file]);
    assert.deepEqual(events, [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(
      errors.map((e) => e.record),
      ['{"trunc', 'not json', '[1,2]', '42'],
    );
  });

  test('reads from a readable stream', async () => {
    const stream = Readable.from([Buffer.from('{"a":1}\n{"b"'), Buffer.from(':2}\n')]);
    assert.deepEqual(await collect(eventsFromJSONLogFile(stream)), [{ a: 1 }, { b: 2 }]);
  });
});

/** Reads `input` as eventsFromJSONLogFile does, also collecting what it reports. */
async function readLogFile(
  input: Iterable<string | Uint8Array>,
  options: Parameters<typeof eventsFromJSONLogFile>[1] = {},
): Promise<{ events: LogEvent[]; errors: LogEvent[] }> {
  const logs = captureLogs();
  try {
    const events = await collect(eventsFromJSONLogFile(input, options));
    const errors = logs.events.filter((e) => e.log_namespace === 'torsion.logger.json');
    return { events, errors };
  } finally {
    logs.stop();
  }
}

/** Splits `bytes` into chunks of `size`, as a reader with that buffer would see them. */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

describe("Twisted's test_json.py: saving and loading", () => {
  test('an empty event saves as one line and loads back empty (test_simpleSaveLoad)', () => {
    const json = eventAsJSON({});
    assert.equal(json.includes('\n'), false);
    assert.deepEqual(eventFromJSON(json), {});
  });

  test('simple values and non-ASCII keys and values load back the same (test_saveLoad, test_saveNonASCII)', () => {
    const json = eventAsJSON({ 1: 2, '3': '4', '\u1234': '\u4321' });
    assert.equal(json.includes('\n'), false);
    assert.deepEqual(eventFromJSON(json), { 1: 2, '3': '4', '\u1234': '\u4321' });
  });

  test('a value JSON cannot hold loads as a placeholder (test_saveUnPersistable)', () => {
    assert.deepEqual(eventFromJSON(eventAsJSON({ '1': 2, '3': Symbol('x') })), {
      '1': 2,
      '3': { unpersistable: true },
    });
  });

  test('an object that does not survive JSON still formats as it did (test_saveUnPersistableThenFormat)', () => {
    class Reprable {
      constructor(readonly value: number) {}
      toString(): string {
        return 'reprable';
      }
    }
    const loaded = eventFromJSON(
      eventAsJSON({ log_format: '{object} {object.value}', object: new Reprable(7) }),
    );
    assert.equal(formatEvent(loaded), 'reprable 7');
    // Its plain fields keep their types (test_extractingFieldsPostLoad).
    assert.equal((loaded.object as { value: unknown }).value, 7);
  });

  test('a level loads back as the same level, in either spelling (test_saveLoadLevel)', () => {
    const plain = eventAsJSON({ log_level: 'warn' });
    const twisted = eventAsJSON({ log_level: 'warn' }, { dialect: 'twisted' });
    assert.equal(plain, '{"log_level":"warn"}');
    assert.equal(
      twisted,
      '{"log_level":{"name":"warn","__class_uuid__":"02e59486-f24d-46ad-8224-3acdf2a5732a"}}',
    );
    assert.deepEqual(eventFromJSON(plain), { log_level: 'warn' });
    assert.deepEqual(eventFromJSON(twisted), { log_level: 'warn' });
  });

  test('a level of a name we do not know loads as no level (test_saveLoadUnknownLevel)', () => {
    const loaded = eventFromJSON(
      '{"log_level": {"name": "other", "__class_uuid__": "02E59486-F24D-46AD-8224-3ACDF2A5732A"}}',
    );
    assert.equal(loaded.log_level, undefined);
  });

  test('a Failure written by Twisted loads as a Failure that checks by its class names', () => {
    const loaded = eventFromJSON(
      JSON.stringify({
        log_failure: {
          type: { __module__: 'builtins', __name__: 'ZeroDivisionError' },
          value: { unpersistable: true },
          frames: [['<module>', 'app.py', 7, [], []]],
          parents: ['builtins.ZeroDivisionError', 'builtins.ArithmeticError', 'builtins.object'],
          __class_uuid__: 'e76887e2-20ed-49bf-a8f8-ba25cc586f2d',
        },
      }),
    );
    const failure = loaded.log_failure;
    assert.ok(failure instanceof Failure);
    assert.equal(failure.check('ZeroDivisionError'), 'ZeroDivisionError');
    assert.equal(failure.check('ArithmeticError'), 'ArithmeticError');
    assert.ok(failure.value instanceof Error);
    assert.match(failure.getTraceback(), /^ZeroDivisionError: \n {4}at <module> \(app\.py:7\)/);
  });
});

describe("Twisted's test_json.py: jsonFileLogObserver", () => {
  test('with a record separator, writes RS, the JSON and a newline, with Twisted’s levels', () => {
    const written: string[] = [];
    const observer = jsonFileLogObserver(
      { write: (t: string) => written.push(t) },
      { recordSeparator: '\x1e' },
    );
    observer({ x: 1 });
    observer({ x: 2, log_level: 'info' });
    assert.deepEqual(written, [
      '\x1e{"x":1}\n',
      '\x1e{"x":2,"log_level":{"name":"info","__class_uuid__":"02e59486-f24d-46ad-8224-3acdf2a5732a"}}\n',
    ]);
  });

  test('dialect overrides how the level is written, either way', () => {
    const written: string[] = [];
    const write = (t: string) => written.push(t);
    jsonFileLogObserver(
      { write },
      { recordSeparator: '\x1e', dialect: 'torsion' },
    )({
      log_level: 'info',
    });
    jsonFileLogObserver({ write }, { dialect: 'twisted' })({ log_level: 'info' });
    assert.deepEqual(written, [
      '\x1e{"log_level":"info"}\n',
      '{"log_level":{"name":"info","__class_uuid__":"02e59486-f24d-46ad-8224-3acdf2a5732a"}}\n',
    ]);
  });

  test('a failure written to the file reads back as a Failure with its traceback (test_failureFormatting)', async () => {
    for (const recordSeparator of ['', '\x1e']) {
      const written: string[] = [];
      const log = new Logger('json.test', {
        observer: jsonFileLogObserver(
          { write: (t: string) => written.push(t) },
          { recordSeparator },
        ),
      });
      log.failure('failed as expected', new RangeError('out of range'));
      const [event, ...rest] = (await readLogFile(written)).events;
      assert.equal(rest.length, 0);
      assert.ok(event?.log_failure instanceof Failure);
      assert.equal(event.log_failure.check(RangeError), RangeError);
      assert.equal(event.log_level, 'critical');
      assert.match(event.log_failure.getTraceback(), /json\.test\.js/);
    }
  });
});

describe("Twisted's test_json.py: eventsFromJSONLogFile", () => {
  const twoEvents = [{ x: 1 }, { y: 2 }];

  test('detects the record separator from the first byte (test_readEventsAutoWithRecordSeparator)', async () => {
    assert.deepEqual(await readLogFile(['\x1e{"x": 1}\n\x1e{"y": 2}\n']), {
      events: twoEvents,
      errors: [],
    });
  });

  test('reads JSON Lines when the file does not start with one (test_readEventsAutoEmptyRecordSeparator)', async () => {
    assert.deepEqual(await readLogFile(['{"x": 1}\n{"y": 2}\n']), {
      events: twoEvents,
      errors: [],
    });
  });

  test('reads with the separator it is told (test_readEventsExplicitRecordSeparator)', async () => {
    assert.deepEqual(
      await readLogFile(['\x08{"x": 1}\n\x08{"y": 2}\n'], { recordSeparator: '\x08' }),
      { events: twoEvents, errors: [] },
    );
  });

  test('reads records that arrive one byte at a time (test_readEventsPartialBuffer)', async () => {
    const bytes = Buffer.from('\x1e{"x": 1}\n\x1e{"y": 2}\n');
    assert.deepEqual(await readLogFile(chunked(bytes, 1)), { events: twoEvents, errors: [] });
  });

  test('skips a truncated record and reports it (test_readTruncated)', async () => {
    const { events, errors } = await readLogFile(['\x1e{"x": 1\x1e{"y": 2}\n']);
    assert.deepEqual(events, [{ y: 2 }]);
    assert.deepEqual(
      errors.map((e) => [e.log_level, e.log_format, e.record]),
      [['error', 'Unable to read truncated JSON record: {record!r}', '{"x": 1']],
    );
  });

  test('skips the last record when the file ends without its newline', async () => {
    const { events, errors } = await readLogFile(['\x1e{"x": 1}\n\x1e{"y": 2}']);
    assert.deepEqual(events, [{ x: 1 }]);
    assert.equal(errors.length, 1);
  });

  test('reads text and UTF-8 bytes, even cut inside a character (test_readUnicode, test_readUTF8Bytes, test_readTruncatedUTF8Bytes)', async () => {
    const expected = { events: [{ currency: '\u20ac' }], errors: [] };
    assert.deepEqual(await readLogFile(['\x1e{"currency": "\u20ac"}\n']), expected);
    const bytes = Buffer.from('\x1e{"currency": "\u20ac"}\n');
    assert.deepEqual(await readLogFile([bytes]), expected);
    for (const size of [1, 2, 8, 15, 16, 17]) {
      assert.deepEqual(await readLogFile(chunked(bytes, size)), expected, `chunks of ${size}`);
    }
  });

  test('skips a record that is not UTF-8 and reports its bytes (test_readInvalidUTF8Bytes)', async () => {
    const bad = Buffer.from([...Buffer.from('{"x": "'), 0xe2, 0xac, ...Buffer.from('"}\n')]);
    const file = Buffer.concat([Buffer.from('\x1e'), bad, Buffer.from('\x1e{"y": 2}\n')]);
    const { events, errors } = await readLogFile([file]);
    assert.deepEqual(events, [{ y: 2 }]);
    assert.deepEqual(
      errors.map((e) => [e.log_format, e.record]),
      [['Unable to decode UTF-8 for JSON record: {record!r}', bad]],
    );
  });

  test('skips a record that is not JSON and reports it (test_readInvalidJSON)', async () => {
    const { events, errors } = await readLogFile(['\x1e{"x": }\n\x1e{"y": 2}\n']);
    assert.deepEqual(events, [{ y: 2 }]);
    assert.deepEqual(
      errors.map((e) => [e.log_format, e.record]),
      [['Unable to read JSON record: {record!r}', '{"x": }\n']],
    );
  });

  test('in a record-separated file, lines without a separator are not records (test_readUnseparated)', async () => {
    const { events, errors } = await readLogFile(['\x1e{"x": 1}\n{"y": 2}\n']);
    assert.deepEqual(events, []);
    assert.deepEqual(
      errors.map((e) => e.record),
      ['{"x": 1}\n{"y": 2}\n'],
    );
  });

  test('in JSON Lines, reports a line that is not an object and reads on', async () => {
    const { events, errors } = await readLogFile(['{"x": 1}\n\n[1]\n{"y": 2}\n']);
    assert.deepEqual(events, twoEvents);
    assert.deepEqual(
      errors.map((e) => e.record),
      ['[1]'],
    );
  });

  test('reads back what jsonFileLogObserver wrote, in either format (test_roundTrip)', async () => {
    for (const recordSeparator of ['', '\x1e']) {
      const written: string[] = [];
      jsonFileLogObserver({ write: (t: string) => written.push(t) }, { recordSeparator })({ x: 1 });
      assert.deepEqual(await readLogFile(written), { events: [{ x: 1 }], errors: [] });
    }
  });
});

describe('log_flattened, the text of the fields as Twisted saves it', () => {
  test('an event read from Twisted formats with the text Twisted saved for each field', () => {
    const event = eventFromJSON(
      '{"log_format": "{b!r} and {b} and {b}", "b": "\\u0000", "log_flattened": {"b!r:": "b\'\\\\x00\'", "b!s:": "first", "b!s:/2": "second"}}',
    );
    assert.equal(formatEvent(event), "b'\\x00' and first and second");
  });

  test('a field Twisted did not flatten is formatted from the event', () => {
    assert.equal(
      formatEvent({ log_format: '{a} {c}', a: 1, c: 2, log_flattened: { 'a!s:': 'one' } }),
      'one 2',
    );
  });

  test('in the twisted dialect, eventAsJSON saves each field’s text under Twisted’s keys', () => {
    const saved = JSON.parse(
      eventAsJSON(
        { log_format: '{a} {a} {a!r} {o.k:>3}', a: 'x', o: { k: 1 } },
        { dialect: 'twisted' },
      ),
    ) as LogEvent;
    assert.deepEqual(saved.log_flattened, {
      'a!s:': 'x',
      'a!s:/2': 'x',
      'a!r:': "'x'",
      'o.k!s:>3': '1',
    });
    assert.equal(JSON.parse(eventAsJSON({ log_format: '{a}', a: 1 })).log_flattened, undefined);
  });
});
