// HTTPClient (treq-like) against Sites in memory: each method, query
// parameters, form and JSON bodies, headers, the response's content, text
// and json read once and cached, redirects and history, the timeout until
// the head, cancellation, and failures naming the URL.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, TimeoutError } from '../../../src/internet/defer.js';
import {
  assertNoResult,
  failureResultOf,
  successResultOf,
} from '../../../src/testing/deferred-asserts.js';
import { ResponseFailed } from '../../../src/web/client/errors.js';
import { HTTPClient, type HTTPClientResponse, treq } from '../../../src/web/client/http-client.js';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET } from '../../../src/web/resource.js';
import { leaf, MemoryWeb } from '../../helpers/memory-web.js';

function setup(render: (request: Request) => string | Uint8Array | typeof NOT_DONE_YET): {
  web: MemoryWeb;
  http: HTTPClient;
} {
  const web = new MemoryWeb();
  web.serve('api.test', 80, leaf(render as (request: Request) => string));
  return { web, http: new HTTPClient(web.agent(), { reactor: web.reactor }) };
}

/** The server's view of a request, as JSON. */
function echo(request: Request): string {
  request.setHeader('Content-Type', 'application/json');
  return JSON.stringify({
    method: request.method,
    uri: request.uri,
    contentType: request.getHeader('content-type'),
    accept: request.getHeader('accept'),
    body: request.content.read().toString('utf8'),
  });
}

/** Fires `d` by flushing the web. */
function settle<T>(web: MemoryWeb, d: import('../../../src/internet/defer.js').Deferred<T>): T {
  web.flush();
  return successResultOf(d);
}

describe('HTTPClient', () => {
  for (const method of ['get', 'head', 'post', 'put', 'patch', 'delete'] as const) {
    test(`${method}() sends ${method.toUpperCase()}`, () => {
      const seen: string[] = [];
      const { web, http } = setup((request) => {
        seen.push(request.method);
        return 'ok';
      });
      const response = settle(web, http[method]('http://api.test/'));
      assert.equal(response.code, 200);
      assert.deepEqual(seen, [method.toUpperCase()]);
    });
  }

  test('request(method, …) sends any method', () => {
    const { web, http } = setup((request) => request.method);
    const response = settle(web, http.request('OPTIONS', 'http://api.test/'));
    assert.equal(settle(web, response.text()), 'OPTIONS');
  });

  test('params are added to the query already in the URL, repeated names kept', () => {
    const { web, http } = setup(echo);
    const response = settle(
      web,
      http.get('http://api.test/search?x=1', { params: { q: 'a b', tag: ['t1', 't2'], n: 3 } }),
    );
    const seen = settle(web, response.json<{ uri: string }>());
    assert.equal(seen.uri, '/search?x=1&q=a+b&tag=t1&tag=t2&n=3');
  });

  test('params as pairs or URLSearchParams', () => {
    const { web, http } = setup(echo);
    const a = settle(web, http.get('http://api.test/', { params: [['k', 'v']] }));
    assert.equal(settle(web, a.json<{ uri: string }>()).uri, '/?k=v');
    const b = settle(web, http.get('http://api.test/', { params: new URLSearchParams('z=1') }));
    assert.equal(settle(web, b.json<{ uri: string }>()).uri, '/?z=1');
  });

  test('data as a form record: URL-encoded, with its Content-Type', () => {
    const { web, http } = setup(echo);
    const response = settle(
      web,
      http.post('http://api.test/form', { data: { name: 'Ada Lovelace', x: ['1', '2'] } }),
    );
    const seen = settle(web, response.json<{ body: string; contentType: string }>());
    assert.equal(seen.body, 'name=Ada+Lovelace&x=1&x=2');
    assert.equal(seen.contentType, 'application/x-www-form-urlencoded');
  });

  test('json: serialised, with Content-Type application/json unless the caller gave one', () => {
    const { web, http } = setup(echo);
    const response = settle(web, http.put('http://api.test/item', { json: { a: [1, 'é'] } }));
    const seen = settle(web, response.json<{ body: string; contentType: string }>());
    assert.deepEqual(JSON.parse(seen.body), { a: [1, 'é'] });
    assert.equal(seen.contentType, 'application/json; charset=UTF-8');
    const own = settle(
      web,
      http.post('http://api.test/', {
        json: 1,
        headers: { 'Content-Type': 'application/vnd.x+json' },
      }),
    );
    assert.equal(
      settle(web, own.json<{ contentType: string }>()).contentType,
      'application/vnd.x+json',
    );
  });

  test('data as bytes or a string is sent as it is, with no Content-Type added', () => {
    const { web, http } = setup(echo);
    const response = settle(web, http.post('http://api.test/', { data: 'raw text' }));
    const seen = settle(web, response.json<{ body: string; contentType?: string }>());
    assert.equal(seen.body, 'raw text');
    assert.equal(seen.contentType, undefined);
  });

  test('data and json together are refused, naming the request', () => {
    const { http } = setup(echo);
    const d = http.post('http://api.test/', { data: 'a', json: 1 });
    assert.match(
      failureResultOf(d, TypeError).getErrorMessage(),
      /POST http:\/\/api\.test\/: give data or json/,
    );
  });

  test('headers as a record reach the server', () => {
    const { web, http } = setup(echo);
    const response = settle(
      web,
      http.get('http://api.test/', { headers: { Accept: 'application/json' } }),
    );
    assert.equal(settle(web, response.json<{ accept: string }>()).accept, 'application/json');
  });

  test('the response: code, phrase, headers, length; content read once and cached for text and json', () => {
    const { web, http } = setup((request) => {
      request.setResponseCode(201);
      request.setHeader('Content-Type', 'application/json');
      return '{"n": 1}';
    });
    const response = settle(web, http.post('http://api.test/'));
    assert.equal(response.code, 201);
    assert.equal(response.phrase, 'Created');
    assert.deepEqual(response.headers.getRawHeaders('content-type'), ['application/json']);
    assert.equal(response.length, 8);
    const first = response.content();
    const second = response.text();
    web.flush();
    assert.equal(Buffer.from(successResultOf(first)).toString(), '{"n": 1}');
    assert.equal(successResultOf(second), '{"n": 1}');
    assert.deepEqual(successResultOf(response.json()), { n: 1 });
    assert.equal(successResultOf(response.content()).length, 8);
  });

  test("text() decodes with the Content-Type's charset, or the encoding given", () => {
    const { web, http } = setup((request) => {
      request.setHeader('Content-Type', 'text/plain; charset=latin1');
      return Buffer.from('café', 'latin1');
    });
    const response = settle(web, http.get('http://api.test/'));
    assert.equal(settle(web, response.text()), 'café');
    assert.equal(successResultOf(response.text('utf-8')), 'caf\ufffd');
    failureResultOf(response.text('no-such-encoding'), RangeError);
  });

  test('json() of a body that is not JSON fails with a SyntaxError naming the URL', () => {
    const { web, http } = setup(() => 'not json');
    const response = settle(web, http.get('http://api.test/x'));
    const failure = failureResultOf(response.json(), SyntaxError);
    assert.match(failure.getErrorMessage(), /the body of GET http:\/\/api\.test\/x is not JSON/);
  });

  test('a 404 is a response, not a failure', () => {
    const { web, http } = setup((request) => {
      request.setResponseCode(404);
      return 'nope';
    });
    const response = settle(web, http.get('http://api.test/missing'));
    assert.equal(response.code, 404);
    assert.equal(settle(web, response.text()), 'nope');
  });

  test('redirects are followed; url is the last URL and history() the responses before', () => {
    const { web, http } = setup((request) => {
      if (request.path === '/a') request.redirect('/b');
      else if (request.path === '/b') request.redirect('/c', 301);
      return `at ${request.path}`;
    });
    const response: HTTPClientResponse = settle(web, http.get('http://api.test/a'));
    assert.equal(response.url, 'http://api.test/c');
    assert.deepEqual(
      response.history().map((r) => r.code),
      [302, 301],
    );
    assert.equal(settle(web, response.text()), 'at /c');
    const unfollowed = settle(web, http.get('http://api.test/a', { followRedirect: false }));
    assert.equal(unfollowed.code, 302);
  });

  test('timeout covers the wait for the head: past it, TimeoutError naming the URL', () => {
    const { web, http } = setup(() => NOT_DONE_YET);
    const d = http.get('http://api.test/slow', { timeout: 2 });
    web.flush();
    web.reactor.advance(1.9);
    assertNoResult(d);
    web.reactor.advance(0.1);
    web.flush();
    assert.equal(
      failureResultOf(d, TimeoutError).getErrorMessage(),
      'GET http://api.test/slow: no response within 2 seconds',
    );
  });

  test('cancelling a request fails it with CancelledError and closes the connection', () => {
    let request: Request | undefined;
    const { web, http } = setup((r) => {
      request = r;
      return NOT_DONE_YET;
    });
    const d = http.get('http://api.test/');
    web.flush();
    const gone = request?.notifyFinish();
    d.cancel();
    web.flush();
    failureResultOf(d, CancelledError);
    assert.ok(gone !== undefined);
    failureResultOf(gone, Error);
  });

  test('cancelling every caller of content() stops reading the body and closes the connection', () => {
    let request: Request | undefined;
    const { web, http } = setup((r) => {
      request = r;
      r.write(Buffer.from('first part'));
      return NOT_DONE_YET;
    });
    const response = settle(web, http.get('http://api.test/'));
    const one = response.content();
    const two = response.text();
    web.flush();
    const gone = request?.notifyFinish();
    one.cancel();
    web.flush();
    assertNoResult(two);
    two.cancel();
    web.flush();
    failureResultOf(one, CancelledError);
    failureResultOf(two, CancelledError);
    assert.ok(gone !== undefined);
    failureResultOf(gone, Error);
  });

  test('a body cut short fails content() with ResponseFailed naming the URL', () => {
    let request: Request | undefined;
    const { web, http } = setup((r) => {
      request = r;
      r.setHeader('Content-Length', '100');
      r.write(Buffer.from('only this'));
      return NOT_DONE_YET;
    });
    const response = settle(web, http.get('http://api.test/cut'));
    const body = response.content();
    web.flush();
    request?.channel?.transport?.abortConnection();
    web.flush();
    assert.match(
      failureResultOf(body, ResponseFailed).getErrorMessage(),
      /^GET http:\/\/api\.test\/cut: /,
    );
  });

  test('treq holds the same calls (on a default client of the global reactor)', () => {
    assert.deepEqual(Object.keys(treq).sort(), [
      'delete',
      'get',
      'head',
      'patch',
      'post',
      'put',
      'request',
    ]);
  });
});
