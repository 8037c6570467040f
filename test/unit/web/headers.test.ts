// Headers: case-insensitive names, order and duplicates kept, copies out,
// and refusal (TypeError, nothing stored) of names that are not tokens and
// values with CR, LF or NUL (Twisted: twisted/web/test/test_http_headers.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Headers } from '../../../src/web/headers.js';

describe('Headers', () => {
  test('names are case-insensitive; values keep their order and duplicates', () => {
    const h = new Headers();
    h.addRawHeader('Set-Cookie', 'a=1');
    h.addRawHeader('set-cookie', 'b=2');
    h.addRawHeader('SET-COOKIE', 'a=1');
    assert.deepEqual(h.getRawHeaders('Set-cookie'), ['a=1', 'b=2', 'a=1']);
    assert.equal(h.hasHeader('SET-cookie'), true);
    assert.equal(h.getRawHeaders('Cookie'), undefined);
    assert.equal(h.hasHeader('Cookie'), false);
  });

  test('setRawHeaders replaces; removeHeader removes; an empty list is kept as Twisted does', () => {
    const h = new Headers({ Accept: ['a', 'b'] });
    h.setRawHeaders('ACCEPT', ['c']);
    assert.deepEqual(h.getRawHeaders('accept'), ['c']);
    h.removeHeader('Accept');
    assert.equal(h.hasHeader('accept'), false);
    h.removeHeader('absent');
    h.setRawHeaders('X-Empty', []);
    assert.deepEqual(h.getRawHeaders('x-empty'), []);
  });

  test('iteration gives each name as first given with its values, in order of first addition', () => {
    const h = new Headers([
      ['Host', ['example.com']],
      ['Accept', ['*/*']],
    ]);
    h.addRawHeader('host', 'other');
    h.addRawHeader('X-B', '1');
    assert.deepEqual(
      [...h],
      [
        ['Host', ['example.com', 'other']],
        ['Accept', ['*/*']],
        ['X-B', ['1']],
      ],
    );
  });

  test('what goes in and out are copies', () => {
    const values = ['a'];
    const h = new Headers();
    h.setRawHeaders('X', values);
    values.push('b');
    h.getRawHeaders('X')?.push('c');
    for (const [, v] of h) v.push('d');
    assert.deepEqual(h.getRawHeaders('x'), ['a']);
  });

  test('latin1 values survive', () => {
    const h = new Headers();
    h.addRawHeader('X', 'caf\xe9 \xff\t');
    assert.deepEqual(h.getRawHeaders('x'), ['caf\xe9 \xff\t']);
  });

  test('a value with CR, LF or NUL is refused with a TypeError naming the header, never stored', () => {
    for (const bad of ['a\r\nInjected: 1', 'a\rb', 'a\nb', 'a\0b']) {
      const h = new Headers();
      assert.throws(
        () => h.addRawHeader('X-Bad', bad),
        (e) => e instanceof TypeError && /X-Bad/.test(e.message),
      );
      assert.throws(() => h.setRawHeaders('X-Bad', ['fine', bad]), TypeError);
      assert.throws(() => new Headers({ 'X-Bad': [bad] }), TypeError);
      assert.equal(h.hasHeader('X-Bad'), false, 'nothing stored, not even the valid value');
    }
    const kept = new Headers({ X: ['old'] });
    assert.throws(() => kept.setRawHeaders('X', ['new', 'bad\n']), TypeError);
    assert.deepEqual(kept.getRawHeaders('X'), ['old']);
  });

  test('a name that is not a token is refused', () => {
    for (const bad of ['', 'Bad Name', 'Bad:Name', 'Bad\r\nName', 'Na\xefve', '(x)', 'a\u0100']) {
      assert.throws(
        () => new Headers().addRawHeader(bad, 'v'),
        (e) => e instanceof TypeError && e.message.includes(JSON.stringify(bad)),
      );
    }
    new Headers().addRawHeader("!#$%&'*+-.^_`|~09azAZ", 'token characters are all fine');
  });
});
