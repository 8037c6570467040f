// URI: what the HTTP client takes from a URL (Twisted: web/test/test_agent.py
// URITests), and the URLs it refuses.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidURIError, URI } from '../../../src/web/client/uri.js';

describe('URI.fromString', () => {
  test('splits an http URL into scheme, host, port, path and query', () => {
    const uri = URI.fromString('http://Example.COM:8080/a/b?x=1&y=2#frag');
    assert.equal(uri.scheme, 'http');
    assert.equal(uri.host, 'example.com');
    assert.equal(uri.port, 8080);
    assert.equal(uri.path, '/a/b');
    assert.equal(uri.query, '?x=1&y=2');
    assert.equal(uri.originForm, '/a/b?x=1&y=2');
    assert.equal(uri.hostHeader, 'example.com:8080');
    assert.equal(uri.origin, 'http://example.com:8080');
    assert.equal(uri.toString(), 'http://example.com:8080/a/b?x=1&y=2');
  });

  test("the scheme's default port is filled in and left out of Host", () => {
    const http = URI.fromString('http://example.com');
    assert.equal(http.port, 80);
    assert.equal(http.hostHeader, 'example.com');
    assert.equal(http.originForm, '/');
    const https = URI.fromString('https://example.com/');
    assert.equal(https.port, 443);
    assert.equal(https.hostHeader, 'example.com');
    assert.equal(URI.fromString('https://example.com:80/').hostHeader, 'example.com:80');
  });

  test('IPv6 literals lose their brackets in host and keep them in Host', () => {
    const uri = URI.fromString('http://[::1]:8080/x');
    assert.equal(uri.host, '::1');
    assert.equal(uri.hostHeader, '[::1]:8080');
    assert.equal(uri.toString(), 'http://[::1]:8080/x');
  });

  test('characters a request-target cannot carry are percent-encoded', () => {
    assert.equal(URI.fromString('http://h/a b?q=é').originForm, '/a%20b?q=%C3%A9');
  });

  test('refuses what the client cannot fetch, naming the URL and the reason', () => {
    const cases: [string, RegExp][] = [
      ['not a url', /cannot fetch "not a url": not an absolute URL/],
      ['/relative', /not an absolute URL/],
      ['ftp://example.com/', /the scheme ftp: is not supported/],
      ['http://user:pw@example.com/', /credentials in a URL are not sent/],
    ];
    for (const [given, message] of cases) {
      assert.throws(
        () => URI.fromString(given),
        (error: unknown) =>
          error instanceof InvalidURIError && message.test(error.message) && error.uri === given,
        given,
      );
    }
  });
});

describe('URI.resolve', () => {
  const base = URI.fromString('http://example.com/a/b?q');

  test('resolves relative and absolute references', () => {
    assert.equal(base.resolve('c').toString(), 'http://example.com/a/c');
    assert.equal(base.resolve('/d?e').toString(), 'http://example.com/d?e');
    assert.equal(base.resolve('//other.org/f').toString(), 'http://other.org/f');
    assert.equal(base.resolve('https://x.org:8443/').toString(), 'https://x.org:8443/');
  });

  test('refuses a reference to another scheme', () => {
    assert.throws(() => base.resolve('mailto:a@b'), InvalidURIError);
  });
});
