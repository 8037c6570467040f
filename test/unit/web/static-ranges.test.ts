// File and byte ranges: single ranges (206 with Content-Range), several
// (multipart/byteranges with an exact Content-Length), unsatisfiable ones
// (416), invalid headers (ignored), and If-Range. Ports Twisted's RangeTests
// and the range cases of StaticMakeProducerTests (test_static.py).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { File } from '../../../src/web/static.js';
import {
  boundaryOf,
  fetch,
  MTIME,
  MTIME_HTTP,
  makeTree,
  open,
  parseMultipart,
  pump,
  requestBytes,
} from './_static-fixture.js';

const tree = makeTree();
after(() => tree.remove());

// 64 bytes without repeats that could let a wrong offset pass (Twisted's payload idea).
const PAYLOAD = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256));
const latin1 = (b: Buffer): string => b.toString('latin1');
const slice = (start: number, end: number): string => latin1(PAYLOAD.subarray(start, end + 1));

let file: File;
before(() => {
  tree.file('payload.bin', PAYLOAD);
  tree.file('empty.bin', '');
  tree.file('text.txt', 'abcdefghijklmnopqrstuvwxyz');
  file = new File(tree.dir);
});

const get = (headers: Record<string, string>, path = '/payload.bin') => fetch(file, path, headers);

describe('File with one range', () => {
  test('a correct response to a range request is as long as the range (test_bodyLength)', () => {
    const r = get({ Range: 'bytes=0-43' });
    assert.equal(r.status, 206);
    assert.equal(r.body.length, 44);
  });

  test('an explicit range sends those bytes, both ends included (test_explicitRange)', () => {
    const r = get({ Range: 'bytes=3-43' });
    assert.equal(r.status, 206);
    assert.equal(r.body, slice(3, 43));
    assert.equal(r.header('content-range'), 'bytes 3-43/64');
    assert.equal(r.header('content-length'), '41');
    assert.equal(r.header('content-type'), 'application/octet-stream');
    assert.equal(r.header('accept-ranges'), 'bytes');
  });

  test('an end past the file is clamped to its last byte (test_explicitRangeOverlappingEnd)', () => {
    const r = get({ Range: 'bytes=40-100' });
    assert.equal(r.status, 206);
    assert.equal(r.body, slice(40, 63));
    assert.equal(r.header('content-range'), 'bytes 40-63/64');
    assert.equal(r.header('content-length'), '24');
  });

  test('an omitted end runs to the end of the file (test_implicitEnd)', () => {
    const r = get({ Range: 'bytes=23-' });
    assert.equal(r.body, slice(23, 63));
    assert.equal(r.header('content-range'), 'bytes 23-63/64');
    assert.equal(r.header('content-length'), '41');
  });

  test('a suffix range sends the last bytes (test_implicitStart)', () => {
    const r = get({ Range: 'bytes=-17' });
    assert.equal(r.body, slice(47, 63));
    assert.equal(r.header('content-range'), 'bytes 47-63/64');
    assert.equal(r.header('content-length'), '17');
    // A suffix longer than the file is the whole file, still a 206.
    const whole = get({ Range: 'bytes=-1000' });
    assert.equal(whole.status, 206);
    assert.equal(whole.body, latin1(PAYLOAD));
    assert.equal(whole.header('content-range'), 'bytes 0-63/64');
  });

  test('the text type is kept on a range of a text file', () => {
    const r = get({ Range: 'bytes=0-2' }, '/text.txt');
    assert.equal(r.body, 'abc');
    assert.equal(r.header('content-type'), 'text/plain; charset=utf-8');
  });

  test('whitespace and empty list elements are accepted (test_rangeWithSpace, test_nullRangeElements)', () => {
    assert.equal(get({ Range: 'bytes = 1 - 3' }).body, slice(1, 3));
    assert.equal(get({ Range: 'bytes=,,1-3,' }).body, slice(1, 3));
  });

  test('a range starting past the end answers 416 with Content-Range: bytes */size (test_statusCodeRequestedRangeNotSatisfiable)', () => {
    const r = get({ Range: 'bytes=64-' });
    assert.equal(r.status, 416);
    assert.equal(r.header('content-range'), 'bytes */64');
    assert.equal(r.header('content-length'), '0');
    assert.equal(r.body, '');
    assert.equal(get({ Range: 'bytes=-0' }).status, 416);
  });

  test('an empty file satisfies no range (416, bytes */0)', () => {
    const r = get({ Range: 'bytes=0-' }, '/empty.bin');
    assert.equal(r.status, 416);
    assert.equal(r.header('content-range'), 'bytes */0');
  });
});

describe('File with several ranges', () => {
  test('a request for several ranges gets a multipart/byteranges response (test_multipleRangeRequest)', () => {
    const r = get({ Range: 'bytes=0-2,20-30,40-50' });
    assert.equal(r.status, 206);
    assert.equal(r.header('content-range'), undefined);
    const parts = parseMultipart(r.body, boundaryOf(r.header('content-type')));
    assert.deepEqual(
      parts.map((p) => [p.headers['content-type'], p.headers['content-range'], p.body]),
      [
        ['application/octet-stream', 'bytes 0-2/64', slice(0, 2)],
        ['application/octet-stream', 'bytes 20-30/64', slice(20, 30)],
        ['application/octet-stream', 'bytes 40-50/64', slice(40, 50)],
      ],
    );
    assert.equal(Number(r.header('content-length')), Buffer.byteLength(r.body, 'latin1'));
  });

  test('a range past the end is clamped in its part (test_multipleRangeRequestWithRangeOverlappingEnd)', () => {
    const r = get({ Range: 'bytes=0-2,40-74' });
    const parts = parseMultipart(r.body, boundaryOf(r.header('content-type')));
    assert.deepEqual(
      parts.map((p) => [p.headers['content-range'], p.body]),
      [
        ['bytes 0-2/64', slice(0, 2)],
        ['bytes 40-63/64', slice(40, 63)],
      ],
    );
  });

  test("each part carries the file's content type", () => {
    const r = get({ Range: 'bytes=0-0,5-6' }, '/text.txt');
    const parts = parseMultipart(r.body, boundaryOf(r.header('content-type')));
    assert.deepEqual(
      parts.map((p) => [p.headers['content-type'], p.body]),
      [
        ['text/plain; charset=utf-8', 'a'],
        ['text/plain; charset=utf-8', 'fg'],
      ],
    );
  });

  test('one satisfiable range among unsatisfiable ones is enough (test_oneSatisfiableRangeIsEnough)', () => {
    const r = get({ Range: 'bytes=100-200,3-5' });
    assert.equal(r.status, 206);
    assert.equal(r.body, slice(3, 5));
    assert.equal(r.header('content-range'), 'bytes 3-5/64');
  });

  test('only unsatisfiable ranges answer 416 (test_multipleUnsatisfiableRangesSets416ReqestedRangeNotSatisfiable)', () => {
    const r = get({ Range: 'bytes=64-70,100-200' });
    assert.equal(r.status, 416);
    assert.equal(r.header('content-range'), 'bytes */64');
  });

  test('overlapping and touching ranges are merged: the same byte is never sent twice', () => {
    const merged = get({ Range: 'bytes=10-20,15-25,26-30' });
    assert.equal(merged.status, 206);
    assert.equal(merged.header('content-range'), 'bytes 10-30/64');
    assert.equal(merged.body, slice(10, 30));
    const sorted = get({ Range: 'bytes=50-55,0-1' });
    const parts = parseMultipart(sorted.body, boundaryOf(sorted.header('content-type')));
    assert.deepEqual(
      parts.map((p) => p.headers['content-range']),
      ['bytes 0-1/64', 'bytes 50-55/64'],
    );
  });

  test('each response gets its own boundary', () => {
    const a = boundaryOf(get({ Range: 'bytes=0-0,2-2' }).header('content-type'));
    const b = boundaryOf(get({ Range: 'bytes=0-0,2-2' }).header('content-type'));
    assert.notEqual(a, b);
  });

  test("Content-Length is exact for any ranges, and every part holds the file's bytes (property)", () => {
    const spec = fc.oneof(
      fc.tuple(fc.nat(80), fc.nat(80)).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.nat(80).map((a) => `${a}-`),
      fc.nat(80).map((n) => `-${n}`),
    );
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 6 }), (specs) => {
        const r = get({ Range: `bytes=${specs.join(',')}` });
        const body = Buffer.from(r.body, 'latin1');
        assert.equal(Number(r.header('content-length') ?? '0'), body.length);
        if (r.status === 416) return;
        assert.equal(r.status, 206);
        const type = r.header('content-type') ?? '';
        const parts = type.startsWith('multipart/')
          ? parseMultipart(r.body, boundaryOf(type)).map((p) => [
              p.headers['content-range'],
              p.body,
            ])
          : [[r.header('content-range'), r.body]];
        for (const [range, partBody] of parts) {
          const m = /^bytes (\d+)-(\d+)\/64$/.exec(range ?? '');
          assert.ok(m, `bad Content-Range ${range}`);
          assert.equal(partBody, slice(Number(m[1]), Number(m[2])));
        }
      }),
      { seed: 1207, numRuns: 150 },
    );
  });
});

describe('File ignoring a Range header', () => {
  test('an invalid Range is ignored: 200 with the whole file (test_invalidRangeRequest)', () => {
    for (const range of [
      'foobar=0-43',
      'bytes=',
      'bytes=abc',
      'bytes=5-2',
      'bytes=1-2-3',
      'bytes 0-1',
    ]) {
      const r = get({ Range: range });
      assert.equal(r.status, 200, range);
      assert.equal(r.body, latin1(PAYLOAD), range);
      assert.equal(r.header('content-length'), '64', range);
      assert.equal(r.header('content-range'), undefined, range);
    }
  });

  test('a unit other than bytes is ignored', () => {
    assert.equal(get({ Range: 'items=0-1' }).status, 200);
  });

  test('two Range fields are ignored rather than guessed at', () => {
    const c = open(file);
    c.send('GET /payload.bin HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n');
    pump(c);
    assert.equal(c.replies()[0]?.status, 200);
  });
});

describe('File and If-Range', () => {
  const etag = (): string => get({}).header('etag') ?? '';

  test('an If-Range with the current tag lets the range through', () => {
    const r = get({ Range: 'bytes=0-1', 'If-Range': etag() });
    assert.equal(r.status, 206);
    assert.equal(r.body, slice(0, 1));
  });

  test('an If-Range with another tag, or a weak one, sends the whole file (200)', () => {
    for (const ifRange of ['"stale"', `W/${etag()}`]) {
      const r = get({ Range: 'bytes=0-1', 'If-Range': ifRange });
      assert.equal(r.status, 200, ifRange);
      assert.equal(r.body, latin1(PAYLOAD));
    }
  });

  test('an If-Range with the Last-Modified date lets the range through; another date does not', () => {
    assert.equal(get({ Range: 'bytes=0-1', 'If-Range': MTIME_HTTP }).status, 206);
    assert.equal(
      get({ Range: 'bytes=0-1', 'If-Range': 'Fri, 07 Sep 2001 00:00:00 GMT' }).status,
      200,
    );
  });

  test('a date does not validate a file modified less than a second before the request (a weak validator)', () => {
    // The test clock starts at 1e9 s: a file modified then is as new as the request.
    tree.file('fresh.bin', PAYLOAD, 1_000_000_000);
    const r = get(
      { Range: 'bytes=0-1', 'If-Range': 'Sun, 09 Sep 2001 01:46:40 GMT' },
      '/fresh.bin',
    );
    assert.equal(r.status, 200);
    assert.equal(r.header('last-modified'), 'Sun, 09 Sep 2001 01:46:40 GMT');
    // The tag still works for it.
    const tag = get({}, '/fresh.bin').header('etag') ?? '';
    assert.equal(get({ Range: 'bytes=0-1', 'If-Range': tag }, '/fresh.bin').status, 206);
    assert.ok(MTIME < 1_000_000_000);
  });

  test('If-Range without Range changes nothing', () => {
    assert.equal(get({ 'If-Range': '"stale"' }).status, 200);
  });

  test('a failing If-None-Match answers 304 before any range is looked at', () => {
    const r = get({ Range: 'bytes=0-1', 'If-None-Match': etag() });
    assert.equal(r.status, 304);
    assert.equal(r.header('content-range'), undefined);
  });
});

test('a range request on a keep-alive connection leaves it usable for the next request', () => {
  const c = open(file);
  c.send(requestBytes('/payload.bin', { Range: 'bytes=0-1,4-5' }) + requestBytes('/text.txt'));
  pump(c);
  const [first, second] = c.replies();
  assert.equal(first?.status, 206);
  assert.equal(second?.status, 200);
  assert.equal(second?.body, 'abcdefghijklmnopqrstuvwxyz');
  assert.equal(c.transport.disconnecting, false);
});
