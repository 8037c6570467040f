// The HTTP/1.1 parser on its conformance cases (delivered whole and one byte
// at a time), its limits and their statuses, pipelining and pause(), EOF
// handling, and the linear bound on its work.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpParseError, HttpParser } from '../../../src/web/_parser.js';
import { invalidRequests, invalidResponses, validRequests, validResponses } from './_cases.js';
import { bytes, bytewise, run } from './_parse.js';

describe('HttpParser conformance cases', () => {
  for (const c of [...validRequests, ...invalidRequests, ...validResponses, ...invalidResponses]) {
    test(`${c.kind}: ${c.name}`, () => {
      assert.deepEqual(run(c.kind, [bytes(c.input)], c).events, c.events, 'in one chunk');
      assert.deepEqual(
        run(c.kind, bytewise(bytes(c.input)), c).events,
        c.events,
        'one byte at a time',
      );
    });
  }
});

const head = (lines: string[]) => `GET / HTTP/1.1\r\n${lines.join('')}\r\n`;

describe('HttpParser limits', () => {
  test('a request line past maxStartLineLength is 414, complete or not', () => {
    const options = { maxStartLineLength: 40 };
    const fits = `GET /${'a'.repeat(26)} HTTP/1.1\r\n\r\n`; // 40 bytes before the CRLF
    assert.deepEqual(run('request', [bytes(fits)], { options }).events.at(-1), { complete: [] });
    const long = `GET /${'a'.repeat(27)} HTTP/1.1\r\n\r\n`;
    assert.deepEqual(run('request', [bytes(long)], { options }).events, [
      { error: 414, reason: 'request line too long' },
    ]);
    const partial = run('request', [bytes(`GET /${'a'.repeat(100)}`)], { options });
    assert.deepEqual(partial.events, [{ error: 414, reason: 'request line too long' }]);
  });

  test('a status line past the limit is 400 (no 414 for responses)', () => {
    const r = run('response', [bytes(`HTTP/1.1 200 ${'x'.repeat(50)}\r\n`)], {
      options: { maxStartLineLength: 20 },
    });
    assert.deepEqual(r.events, [{ error: 400, reason: 'status line too long' }]);
  });

  test('more header fields than maxHeaderCount is 431', () => {
    const options = { maxHeaderCount: 3 };
    const three = head(['A: 1\r\n', 'B: 2\r\n', 'C: 3\r\n']);
    assert.equal(run('request', [bytes(three)], { options }).events.length, 2);
    const four = head(['A: 1\r\n', 'B: 2\r\n', 'C: 3\r\n', 'D: 4\r\n']);
    assert.deepEqual(run('request', [bytes(four)], { options }).events, [
      { error: 431, reason: 'too many header fields' },
    ]);
  });

  test('a head past maxHeaderBytes is 431, before its end arrives', () => {
    const options = { maxHeaderBytes: 64 };
    const fits = head(['X: '.padEnd(44, 'x'), '\r\n']); // 16 + 46 + 2 = 64 bytes
    assert.equal(bytes(fits).length, 64);
    assert.deepEqual(run('request', [bytes(fits)], { options }).events.at(-1), { complete: [] });
    const over = head(['X: '.padEnd(45, 'x'), '\r\n']);
    assert.deepEqual(run('request', [bytes(over)], { options }).events, [
      { error: 431, reason: 'header section too large' },
    ]);
    const endless = run('request', [bytes(`GET / HTTP/1.1\r\nX: ${'x'.repeat(100)}`)], { options });
    assert.deepEqual(endless.events, [{ error: 431, reason: 'header section too large' }]);
  });

  test('the default limits: 16 KiB of head, 500 fields', () => {
    const big = head([`X: ${'x'.repeat(16384)}\r\n`]);
    assert.deepEqual(run('request', [bytes(big)]).events, [
      { error: 431, reason: 'header section too large' },
    ]);
    const many = head(Array.from({ length: 501 }, (_, i) => `H${i}: v\r\n`));
    assert.deepEqual(run('request', [bytes(many)]).events, [
      { error: 431, reason: 'too many header fields' },
    ]);
  });

  test('a Content-Length past maxBodySize is 413 before any body is read', () => {
    const r = run('request', [bytes('POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n')], {
      options: { maxBodySize: 10 },
    });
    assert.deepEqual(r.events.slice(1), [{ error: 413, reason: 'body larger than the limit' }]);
  });

  test('a chunked body past maxBodySize is 413 when the chunk that crosses it is announced', () => {
    const input =
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n';
    const r = run('request', [bytes(input)], { options: { maxBodySize: 10 } });
    assert.deepEqual(r.events.slice(1), [
      { body: 'abcdef' },
      { error: 413, reason: 'body larger than the limit' },
    ]);
  });

  test('setBodyLimit from the head callback applies to that message only', () => {
    const one = 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello';
    let heads = 0;
    const r = run('request', [bytes(one + one)], {
      options: { maxBodySize: 100 },
      onHead: (parser) => {
        if (heads++ === 1) parser.setBodyLimit(4);
      },
    });
    assert.deepEqual(r.events.slice(1, 3), [{ body: 'hello' }, { complete: [] }]);
    assert.deepEqual(r.events.at(-1), { error: 413, reason: 'body larger than the limit' });
  });

  test('a close-delimited response body past the limit is 413', () => {
    const r = run('response', [bytes('HTTP/1.1 200 OK\r\n\r\n12345'), bytes('678')], {
      options: { maxBodySize: 6 },
    });
    assert.deepEqual(r.events.slice(1), [
      { body: '12345' },
      { error: 413, reason: 'body larger than the limit' },
    ]);
  });

  test('a chunk-size line past maxChunkLineLength is 400, extensions included', () => {
    const ext = `5;${'a'.repeat(30)}\r\nhello\r\n0\r\n\r\n`;
    const r = run(
      'request',
      [bytes(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${ext}`)],
      {
        options: { maxChunkLineLength: 16 },
      },
    );
    assert.deepEqual(r.events.slice(1), [{ error: 400, reason: 'chunk-size line too long' }]);
  });

  test('trailers past maxTrailerBytes are 431, and more than maxHeaderCount too', () => {
    const input = (trailers: string) =>
      bytes(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${trailers}\r\n`);
    const big = run('request', [input(`T: ${'x'.repeat(40)}\r\n`)], {
      options: { maxTrailerBytes: 32 },
    });
    assert.deepEqual(big.events.slice(1), [{ error: 431, reason: 'trailer section too large' }]);
    const many = run('request', [input('A: 1\r\nB: 2\r\n')], { options: { maxHeaderCount: 1 } });
    assert.deepEqual(many.events.slice(1), [{ error: 431, reason: 'too many trailer fields' }]);
  });
});

describe('HttpParser pipelining and pause()', () => {
  const two = 'GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc';

  test('pause() in onMessageComplete keeps the next request until resume()', () => {
    const events: string[] = [];
    const parser: HttpParser = new HttpParser('request', {
      onRequestHead: (h) => events.push(h.target),
      onBody: (b) => events.push(`body ${b.toString()}`),
      onMessageComplete: () => {
        events.push('done');
        parser.pause();
      },
      onError: (e) => events.push(`error ${e.message}`),
    });
    parser.feed(bytes(two));
    assert.deepEqual(events, ['/1', 'done']);
    assert.equal(parser.idle, false, 'the second request is kept');
    parser.feed(bytes('GET /3 HTTP/1.1\r\n\r\n'));
    assert.deepEqual(events, ['/1', 'done'], 'nothing is parsed while paused');
    parser.resume();
    assert.deepEqual(events, ['/1', 'done', '/2', 'body abc', 'done']);
    parser.resume();
    assert.deepEqual(events, ['/1', 'done', '/2', 'body abc', 'done', '/3', 'done']);
    assert.equal(parser.idle, true);
  });

  test('pause() during a body stops the body there, resume() goes on', () => {
    const events: string[] = [];
    const parser: HttpParser = new HttpParser('request', {
      onBody: (b) => {
        events.push(b.toString());
        parser.pause();
      },
      onMessageComplete: () => events.push('done'),
      onError: (e) => events.push(`error ${e.message}`),
    });
    parser.feed(
      bytes('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n'),
    );
    assert.deepEqual(events, ['a']);
    parser.resume();
    assert.deepEqual(events, ['a', 'b']);
    parser.resume();
    assert.deepEqual(events, ['a', 'b', 'done']);
  });

  test('finish() while paused with kept bytes waits for resume() (a paused close-delimited body)', () => {
    const events: string[] = [];
    const parser: HttpParser = new HttpParser('response', {
      onBody: (b) => {
        events.push(b.toString());
        parser.pause();
      },
      onMessageComplete: () => events.push('done'),
      onError: (e) => events.push(`error ${e.message}`),
    });
    parser.feed(bytes('HTTP/1.1 200 OK\r\n\r\nabc'));
    parser.feed(bytes('def'));
    parser.finish();
    assert.deepEqual(events, ['abc'], 'nothing more until resume()');
    parser.resume();
    assert.deepEqual(events, ['abc', 'def']);
    parser.resume();
    assert.deepEqual(events, ['abc', 'def', 'done']);
  });

  test('feed() from a callback is refused', () => {
    const parser: HttpParser = new HttpParser('request', {
      onBody: () => undefined,
      onMessageComplete: () => parser.feed(bytes('GET / HTTP/1.1\r\n\r\n')),
      onError: () => undefined,
    });
    assert.throws(() => parser.feed(bytes('GET / HTTP/1.1\r\n\r\n')), /from a handler callback/);
  });
});

describe('HttpParser at EOF and after errors', () => {
  test('finish() between messages is quiet; mid-head or mid-body is a truncated message', () => {
    assert.deepEqual(
      run('request', [bytes('GET / HTTP/1.1\r\n\r\n')], { finish: true }).events.length,
      2,
    );
    for (const input of [
      'GET / HT',
      'GET / HTTP/1.1\r\nHost: a\r\n',
      'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc',
    ]) {
      const events = run('request', [bytes(input)], { finish: true }).events;
      assert.deepEqual(
        events.at(-1),
        { error: 400, reason: 'connection closed before the message ended' },
        input,
      );
    }
    const chunked = run(
      'response',
      [bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel')],
      {
        finish: true,
      },
    );
    assert.deepEqual(chunked.events.slice(1), [
      { body: 'hel' },
      { error: 400, reason: 'connection closed before the message ended' },
    ]);
  });

  test('after an error the parser is dead: later input and finish() report nothing', () => {
    const r = run('request', [bytes('GET / HTTP/9.9\r\n\r\n'), bytes('GET / HTTP/1.1\r\n\r\n')], {
      finish: true,
    });
    assert.deepEqual(r.events, [{ error: 505, reason: 'HTTP version not supported: HTTP/9.9' }]);
    assert.equal(r.parser.done, true);
  });

  test('the error of a response carries its status and is an HttpParseError', () => {
    let caught: unknown;
    const parser = new HttpParser('response', {
      onBody: () => undefined,
      onMessageComplete: () => undefined,
      onError: (e) => {
        caught = e;
      },
    });
    parser.feed(
      bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n'),
    );
    assert.ok(caught instanceof HttpParseError);
    assert.equal(caught.name, 'HttpParseError');
    assert.equal(caught.status, 400);
  });
});

describe('HttpParser bodies', () => {
  test('body chunks are views of the chunk fed, not copies, when nothing was kept', () => {
    const data = bytes('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello');
    let body: Buffer | undefined;
    const parser = new HttpParser('request', {
      onBody: (b) => {
        body = b;
      },
      onMessageComplete: () => undefined,
      onError: () => undefined,
    });
    parser.feed(data);
    assert.equal(body?.buffer, data.buffer);
    assert.equal(body?.toString(), 'hello');
  });

  test('body bytes parsed from kept input are copies (the parser reuses its store)', () => {
    const bodies: Buffer[] = [];
    const parser = new HttpParser('request', {
      onBody: (b) => bodies.push(b),
      onMessageComplete: () => undefined,
      onError: () => undefined,
    });
    parser.feed(bytes('POST / HTTP/1.1\r\nContent-Length: 4\r\n'));
    parser.feed(bytes('\r\nabcd'));
    parser.feed(bytes('POST / HTTP/1.1\r\nContent-Length: 4\r\n'));
    parser.feed(bytes('\r\nwxyz'));
    assert.deepEqual(
      bodies.map((b) => b.toString()),
      ['abcd', 'wxyz'],
    );
  });
});

describe('HttpParser work is linear in its input', () => {
  /** The parser's work on `data` fed in pieces of `step` bytes. */
  function work(data: Buffer, step: number): number {
    const parser = new HttpParser(
      'request',
      {
        onBody: () => undefined,
        onMessageComplete: () => undefined,
        onError: (e) => assert.fail(e.message),
      },
      { maxHeaderBytes: 1 << 20, maxHeaderCount: 100_000 },
    );
    for (let i = 0; i < data.length; i += step) parser.feed(data.subarray(i, i + step));
    return parser.work;
  }

  test('a 200 KiB header block delivered byte by byte', () => {
    const many = bytes(
      head(Array.from({ length: 10_000 }, (_, i) => `X-Header-${i}: value ${i}\r\n`)),
    );
    const one = bytes(head([`X: ${'v'.repeat(200_000)}\r\n`]));
    for (const data of [many, one]) {
      const whole = work(data, data.length);
      const bytewiseWork = work(data, 1);
      assert.ok(whole <= 3 * data.length, `whole: ${whole} for ${data.length} bytes`);
      assert.ok(
        bytewiseWork <= 6 * data.length,
        `byte by byte: ${bytewiseWork} for ${data.length} bytes`,
      );
    }
  });
});

describe("HttpParser: Twisted's test_http.py parsing cases", () => {
  test('_ChunkedTransferDecoder: bytes after the terminal chunk start the next message (test_afterFinished)', () => {
    const r = run('request', [
      bytes(
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\n12345\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n',
      ),
    ]);
    assert.deepEqual(r.events.slice(1), [
      { body: 'abc12345' },
      { complete: [] },
      { request: ['GET', '/next', 'HTTP/1.1'], headers: [], framing: 'none' },
      { complete: [] },
    ]);
  });

  test('_ChunkedTransferDecoder: a connection lost mid-chunk is a truncated message (test_earlyConnectionLose)', () => {
    const r = run(
      'request',
      [bytes('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab')],
      { finish: true },
    );
    assert.deepEqual(r.events.slice(1), [
      { body: 'ab' },
      { error: 400, reason: 'connection closed before the message ended' },
    ]);
  });

  test('_IdentityTransferDecoder: exactly Content-Length bytes, the rest is the next request', () => {
    const r = run('request', [
      bytes('POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab'),
      bytes('cGET / HTTP/1.1\r\n\r\n'),
    ]);
    assert.deepEqual(
      r.events.map((e) => Object.keys(e)[0]),
      ['request', 'body', 'complete', 'request', 'complete'],
    );
    assert.deepEqual(r.events[1], { body: 'abc' });
  });

  test('test_invalidHeaderNameChars: every byte outside the token set is refused in a name', () => {
    const tokenBytes = new Set(
      Buffer.from("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    );
    for (let b = 0; b < 256; b++) {
      if (tokenBytes.has(b) || b === 0x3a || b === 0x0a) continue;
      const input = Buffer.concat([
        bytes('GET / HTTP/1.1\r\nX'),
        Buffer.of(b),
        bytes('Y: v\r\n\r\n'),
      ]);
      const events = run('request', [input]).events;
      assert.deepEqual(
        events,
        [{ error: 400, reason: 'invalid character in header name' }],
        `byte ${b}`,
      );
    }
  });

  test('test_invalidHeaderValueNUL and the other CTLs: refused in values; HTAB and obs-text kept', () => {
    for (let b = 0; b < 256; b++) {
      const input = Buffer.concat([
        bytes('GET / HTTP/1.1\r\nX: a'),
        Buffer.of(b),
        bytes('b\r\n\r\n'),
      ]);
      const events = run('request', [input]).events;
      const allowed = b === 0x09 || (b >= 0x20 && b !== 0x7f);
      if (allowed) assert.deepEqual(events.at(-1), { complete: [] }, `byte ${b}`);
      else if (b === 0x0a)
        assert.deepEqual(events, [{ error: 400, reason: 'bare LF: lines must end with CRLF' }]);
      else
        assert.deepEqual(
          events,
          [{ error: 400, reason: 'invalid character in header value' }],
          `byte ${b}`,
        );
    }
  });
});
