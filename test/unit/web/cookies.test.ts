// Cookies: reading Cookie headers (Twisted: twisted/web/test/test_http.py's
// parseCookies tests, with our documented differences) and writing Set-Cookie
// values with their attributes, refusing what RFC 6265 does not allow
// (Twisted: the addCookie tests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseCookieHeader, serializeSetCookie } from '../../../src/web/_cookies.js';

const entries = (m: Map<string, string>): [string, string][] => [...m];

describe('parseCookieHeader', () => {
  test('reads the pairs of one header, unwrapping quoted values (test_parseCookies)', () => {
    assert.deepEqual(entries(parseCookieHeader(['test="lemur"; test2="panda"'])), [
      ['test', 'lemur'],
      ['test2', 'panda'],
    ]);
  });

  test('reads several Cookie headers in order (test_parseCookiesMultipleHeaders)', () => {
    assert.deepEqual(entries(parseCookieHeader(['test="lemur"', 'test2="panda"'])), [
      ['test', 'lemur'],
      ['test2', 'panda'],
    ]);
  });

  test('gives an empty map for no header or an empty one', () => {
    assert.equal(parseCookieHeader(undefined).size, 0);
    assert.equal(parseCookieHeader([]).size, 0);
    assert.equal(parseCookieHeader(['']).size, 0);
  });

  test('skips pairs without "=" or with an empty name, and goes on after them', () => {
    assert.equal(parseCookieHeader(['foo; bar; baz;']).size, 0);
    assert.deepEqual(
      entries(parseCookieHeader(['12345; test="lemur"; 12345; test2="panda"; 12345'])),
      [
        ['test', 'lemur'],
        ['test2', 'panda'],
      ],
    );
    assert.deepEqual(entries(parseCookieHeader(['=x; =; a=1'])), [['a', '1']]);
  });

  test('keeps empty values and trims spaces and tabs around names and values', () => {
    assert.deepEqual(entries(parseCookieHeader(['foo='])), [['foo', '']]);
    assert.deepEqual(entries(parseCookieHeader([' foo=bar '])), [['foo', 'bar']]);
    assert.deepEqual(entries(parseCookieHeader(['\ta = b c \t;d=""'])), [
      ['a', 'b c'],
      ['d', ''],
    ]);
  });

  test('splits each pair at its first "=", so values may hold "="', () => {
    assert.deepEqual(entries(parseCookieHeader(['token=abc==; q=a=b'])), [
      ['token', 'abc=='],
      ['q', 'a=b'],
    ]);
  });

  test('keeps the first value of a repeated name, the most specific one', () => {
    assert.deepEqual(entries(parseCookieHeader(['sid=path-specific; sid=root', 'sid=other'])), [
      ['sid', 'path-specific'],
    ]);
  });

  test('unwraps only a value both starting and ending with a double quote', () => {
    assert.deepEqual(entries(parseCookieHeader(['a="x; b=y"; c="; d=""z"'])), [
      ['a', '"x'],
      ['b', 'y"'],
      ['c', '"'],
      ['d', '"z'],
    ]);
  });

  test('never throws, and what it gives has non-empty trimmed names', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 4 }), (values) => {
        for (const [name] of parseCookieHeader(values)) {
          assert.notEqual(name, '');
          assert.ok(!/^[ \t]|[ \t]$/.test(name) && !name.includes(';') && !name.includes('='));
        }
      }),
      { seed: 0x7e57_c001, numRuns: 500 },
    );
  });
});

describe('serializeSetCookie', () => {
  test('writes name=value alone when given no options (test_addCookieWithMinimumArguments)', () => {
    assert.equal(serializeSetCookie('foo', 'bar'), 'foo=bar');
    assert.equal(serializeSetCookie('foo', ''), 'foo=');
    assert.equal(serializeSetCookie('foo', '"quoted"'), 'foo="quoted"');
  });

  test('writes every attribute in a fixed order (test_addCookieWithAllArguments)', () => {
    assert.equal(
      serializeSetCookie('foo', 'bar', {
        expires: 'Fri, 31 Dec 9999 23:59:59 GMT',
        domain: '.example.com',
        path: '/',
        maxAge: 31536000,
        secure: true,
        httpOnly: true,
        sameSite: 'None',
        partitioned: true,
      }),
      'foo=bar; Expires=Fri, 31 Dec 9999 23:59:59 GMT; Domain=.example.com; Path=/; ' +
        'Max-Age=31536000; Secure; HttpOnly; SameSite=None; Partitioned',
    );
  });

  test('writes expires as an IMF-fixdate whether given as a Date, seconds or an HTTP-date', () => {
    const expected = 'a=b; Expires=Sun, 06 Nov 1994 08:49:37 GMT';
    assert.equal(serializeSetCookie('a', 'b', { expires: new Date(784111777000) }), expected);
    assert.equal(serializeSetCookie('a', 'b', { expires: 784111777.5 }), expected);
    assert.equal(serializeSetCookie('a', 'b', { expires: 'Sun Nov  6 08:49:37 1994' }), expected);
  });

  test('leaves out false flags, and takes each SameSite value (test_addCookieSameSite)', () => {
    assert.equal(
      serializeSetCookie('a', 'b', { secure: false, httpOnly: false, partitioned: false }),
      'a=b',
    );
    assert.equal(serializeSetCookie('a', 'b', { sameSite: 'Lax' }), 'a=b; SameSite=Lax');
    assert.equal(serializeSetCookie('a', 'b', { sameSite: 'Strict' }), 'a=b; SameSite=Strict');
    assert.equal(serializeSetCookie('a', 'b', { maxAge: 0 }), 'a=b; Max-Age=0');
  });

  const refuses = (f: () => unknown, pattern: RegExp): void => {
    assert.throws(f, (e: unknown) => e instanceof TypeError && pattern.test(e.message));
  };

  test('refuses a name that is not a token', () => {
    for (const name of ['', 'a b', 'a;b', 'a=b', 'a,b', 'a\r\nb', '"a"', 'caf\u00e9']) {
      refuses(() => serializeSetCookie(name, 'v'), /name .* is not a token/);
    }
  });

  test('refuses a value outside cookie-octet, rather than rewriting it as Twisted does', () => {
    for (const value of [
      'a b',
      'a;b',
      'a,b',
      'a\\b',
      'a"b',
      '"ab',
      'a\tb',
      'a\r\nb',
      'caf\u00e9',
      '"a b"',
    ]) {
      refuses(() => serializeSetCookie('n', value), /value of n .*cookie-octet/);
    }
  });

  test('refuses a domain or path with ";", a control or a non-ASCII character', () => {
    for (const bad of ['a;b', 'a\rb', 'a\nb', 'a\0b', 'a\x7fb', '/caf\u00e9']) {
      refuses(() => serializeSetCookie('n', 'v', { domain: bad }), /domain of n/);
      refuses(() => serializeSetCookie('n', 'v', { path: bad }), /path of n/);
    }
    assert.equal(serializeSetCookie('n', 'v', { path: '/a b' }), 'n=v; Path=/a b');
  });

  test('refuses a maxAge that is not an integer', () => {
    for (const maxAge of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e21]) {
      refuses(() => serializeSetCookie('n', 'v', { maxAge }), /maxAge of n is not an integer/);
    }
  });

  test('refuses an expires that is not a valid date', () => {
    for (const expires of [
      new Date(Number.NaN),
      Number.NaN,
      'tomorrow',
      'Sun, 06 Nov 1994',
      1e13,
    ]) {
      refuses(() => serializeSetCookie('n', 'v', { expires }), /expires is not a valid date/);
    }
  });

  test('refuses sameSite None or partitioned without secure, and unknown sameSite values', () => {
    refuses(
      () => serializeSetCookie('n', 'v', { sameSite: 'None' }),
      /'None' on n requires secure/,
    );
    refuses(
      () => serializeSetCookie('n', 'v', { partitioned: true }),
      /partitioned on n requires secure/,
    );
    const lax = 'lax' as unknown as 'Lax';
    refuses(() => serializeSetCookie('n', 'v', { sameSite: lax }), /sameSite of n must be/);
  });

  test('what it writes, parseCookieHeader reads back (name and value)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
    const octets = fc.stringMatching(/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{0,16}$/);
    fc.assert(
      fc.property(token, octets, (name, value) => {
        const header = serializeSetCookie(name, value, { path: '/' });
        const pair = header.slice(0, header.indexOf(';'));
        assert.equal(parseCookieHeader([pair]).get(name), value);
      }),
      { seed: 0x7e57_c002, numRuns: 500 },
    );
  });
});
