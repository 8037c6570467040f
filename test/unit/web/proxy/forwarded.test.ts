// addForwardedHeaders: X-Forwarded-For appended to, X-Forwarded-Host and
// -Proto set, a Forwarded element (RFC 7239) added, IPv6 and odd hosts quoted.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Headers } from '../../../../src/web/headers.js';
import {
  addForwardedHeaders,
  forwardedNode,
  forwardedValue,
} from '../../../../src/web/proxy/_forwarded.js';

describe('addForwardedHeaders', () => {
  test('sets all four for a first hop', () => {
    const headers = new Headers();
    addForwardedHeaders(headers, { clientIP: '192.0.2.7', host: 'example.test', proto: 'http' });
    assert.deepEqual(headers.getRawHeaders('x-forwarded-for'), ['192.0.2.7']);
    assert.deepEqual(headers.getRawHeaders('x-forwarded-host'), ['example.test']);
    assert.deepEqual(headers.getRawHeaders('x-forwarded-proto'), ['http']);
    assert.deepEqual(headers.getRawHeaders('forwarded'), [
      'for=192.0.2.7;host=example.test;proto=http',
    ]);
  });

  test('appends to what earlier proxies said', () => {
    const headers = new Headers({
      'X-Forwarded-For': ['203.0.113.1', '203.0.113.2'],
      Forwarded: ['for=203.0.113.1'],
    });
    addForwardedHeaders(headers, { clientIP: '::1', host: 'h.test:8080', proto: 'https' });
    assert.deepEqual(headers.getRawHeaders('x-forwarded-for'), ['203.0.113.1, 203.0.113.2, ::1']);
    assert.deepEqual(headers.getRawHeaders('forwarded'), [
      'for=203.0.113.1',
      'for="[::1]";host="h.test:8080";proto=https',
    ]);
  });

  test('without an IP or a Host: unknown, and no X-Forwarded-Host', () => {
    const headers = new Headers({ 'X-Forwarded-Host': ['spoofed'] });
    addForwardedHeaders(headers, { clientIP: undefined, host: undefined, proto: 'http' });
    assert.deepEqual(headers.getRawHeaders('x-forwarded-for'), ['unknown']);
    assert.equal(headers.hasHeader('x-forwarded-host'), false);
    assert.deepEqual(headers.getRawHeaders('forwarded'), ['for=unknown;proto=http']);
  });

  test('values that are not tokens are quoted, quotes escaped', () => {
    assert.equal(forwardedValue('plain.host'), 'plain.host');
    assert.equal(forwardedValue('a"b'), '"a\\"b"');
    assert.equal(forwardedNode('2001:db8::1'), '"[2001:db8::1]"');
    assert.equal(forwardedNode('10.1.2.3'), '10.1.2.3');
  });
});
