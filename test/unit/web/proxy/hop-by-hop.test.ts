// stripHopByHop: which fields a proxy removes before forwarding, in both
// directions (RFC 9110 §7.6.1), and what it keeps.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Headers } from '../../../../src/web/headers.js';
import { stripHopByHop } from '../../../../src/web/proxy/_hop-by-hop.js';

function names(headers: Headers): string[] {
  return [...headers].map(([name]) => name);
}

describe('stripHopByHop', () => {
  test('removes the fixed hop-by-hop fields and keeps the rest in order', () => {
    const headers = new Headers([
      ['Host', ['a.test']],
      ['Connection', ['keep-alive']],
      ['Keep-Alive', ['timeout=5']],
      ['Proxy-Connection', ['keep-alive']],
      ['Trailer', ['Expires']],
      ['Transfer-Encoding', ['chunked']],
      ['Upgrade', ['websocket']],
      ['Proxy-Authorization', ['Basic eDp5']],
      ['Proxy-Authenticate', ['Basic']],
      ['Accept', ['*/*']],
    ]);
    const tokens = stripHopByHop(headers);
    assert.deepEqual(names(headers), ['Host', 'Accept']);
    assert.deepEqual(tokens, ['keep-alive']);
  });

  test('removes every field Connection names, across repeated Connection fields', () => {
    const headers = new Headers([
      ['Connection', ['X-A, x-b', 'X-C']],
      ['X-A', ['1']],
      ['X-B', ['2']],
      ['X-C', ['3']],
      ['X-D', ['4']],
    ]);
    const tokens = stripHopByHop(headers);
    assert.deepEqual(names(headers), ['X-D']);
    assert.deepEqual(tokens, ['x-a', 'x-b', 'x-c']);
  });

  test('keeps repeated values of an end-to-end field, in order', () => {
    const headers = new Headers([
      ['Set-Cookie', ['a=1', 'b=2']],
      ['Connection', ['close']],
    ]);
    stripHopByHop(headers);
    assert.deepEqual(headers.getRawHeaders('set-cookie'), ['a=1', 'b=2']);
  });

  test('TE is kept as "trailers" when it asks for them, removed otherwise', () => {
    const withTrailers = new Headers([['TE', ['deflate;q=0.5, trailers']]]);
    stripHopByHop(withTrailers);
    assert.deepEqual(withTrailers.getRawHeaders('te'), ['trailers']);
    const without = new Headers([['TE', ['gzip, deflate']]]);
    stripHopByHop(without);
    assert.equal(without.hasHeader('te'), false);
  });

  test('TE named by Connection follows the same rule', () => {
    const headers = new Headers([
      ['Connection', ['TE']],
      ['TE', ['trailers']],
    ]);
    stripHopByHop(headers);
    assert.deepEqual(headers.getRawHeaders('te'), ['trailers']);
  });

  test('keepUpgrade keeps Upgrade (a deliberate passthrough) and reports the upgrade token', () => {
    const headers = new Headers([
      ['Connection', ['Upgrade']],
      ['Upgrade', ['websocket']],
      ['Sec-WebSocket-Key', ['k']],
    ]);
    const tokens = stripHopByHop(headers, { keepUpgrade: true });
    assert.deepEqual(headers.getRawHeaders('upgrade'), ['websocket']);
    assert.equal(headers.hasHeader('connection'), false);
    assert.deepEqual(tokens, ['upgrade']);
  });

  test('empty tokens and whitespace in Connection are ignored', () => {
    const headers = new Headers([
      ['Connection', [' , X-A ,,']],
      ['X-A', ['1']],
      ['X-B', ['2']],
    ]);
    assert.deepEqual(stripHopByHop(headers), ['x-a']);
    assert.deepEqual(names(headers), ['X-B']);
  });
});
