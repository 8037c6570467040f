// CookieAgent over a recording agent: the Cookie header it adds (or leaves
// alone), the Set-Cookie headers it stores, Secure over https only. Ports
// Twisted's CookieAgentTests and CookieJarTests (test_agent.py).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deferred } from '../../../src/internet/defer.js';
import { Clock } from '../../../src/internet/task/clock.js';
import { failureResultOf, successResultOf } from '../../../src/testing/deferred-asserts.js';
import type { IAgent } from '../../../src/web/client/agent.js';
import type { IBodyProducer } from '../../../src/web/client/client-protocol.js';
import { CookieAgent } from '../../../src/web/client/cookie-agent.js';
import { CookieJar } from '../../../src/web/client/cookie-jar.js';
import { Response } from '../../../src/web/client/response.js';
import { InvalidURIError } from '../../../src/web/client/uri.js';
import { Headers } from '../../../src/web/headers.js';

interface Sent {
  method: string;
  uri: string;
  headers: Headers | undefined;
  result: Deferred<Response>;
}

class RecordingAgent implements IAgent {
  readonly requests: Sent[] = [];
  request(
    method: string,
    uri: string,
    headers?: Headers,
    _body?: IBodyProducer,
  ): Deferred<Response> {
    const result = new Deferred<Response>();
    this.requests.push({ method, uri, headers, result });
    return result;
  }
}

const noProducer = { pauseProducing() {}, resumeProducing() {}, stopProducing() {} };

function response(setCookies: string[], code = 200): Response {
  return new Response(
    'HTTP/1.1',
    code,
    'OK',
    new Headers({ 'Set-Cookie': setCookies }),
    0,
    noProducer,
  );
}

function setup(): { recorder: RecordingAgent; jar: CookieJar; agent: CookieAgent; clock: Clock } {
  const clock = new Clock();
  clock.advance(1_700_000_000);
  const recorder = new RecordingAgent();
  const jar = new CookieJar(clock);
  return { recorder, jar, clock, agent: new CookieAgent(recorder, jar) };
}

describe('CookieAgent', () => {
  test('with an empty jar no Cookie is sent, and the response cookies are stored (Twisted test_emptyCookieJarRequest)', () => {
    const { recorder, jar, agent } = setup();
    const d = agent.request('GET', 'http://example.com:1234/foo?bar');
    const sent = recorder.requests.pop() as Sent;
    assert.equal(sent.headers?.getRawHeaders('cookie'), undefined);
    const r = response(['foo=1']);
    sent.result.callback(r);
    assert.equal(successResultOf(d), r);
    const cookies = [...jar];
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]?.name, 'foo');
    assert.equal(cookies[0]?.value, '1');
  });

  test("a Cookie header given is sent as it is, without the jar's (Twisted test_leaveExistingCookieHeader)", () => {
    const { recorder, jar, agent } = setup();
    const uri = 'http://example.com:1234/foo?bar';
    jar.setCookie('foo=1', uri);
    agent.request('GET', uri, new Headers({ cookie: ['already-set'] }));
    assert.deepEqual(recorder.requests.pop()?.headers?.getRawHeaders('cookie'), ['already-set']);
  });

  test("a cookie of the jar matching the URL is sent (Twisted test_requestWithCookie); the caller's headers are not changed", () => {
    const { recorder, jar, agent } = setup();
    const uri = 'http://example.com:1234/foo?bar';
    jar.setCookie('foo=1', uri);
    const given = new Headers({ Accept: ['*/*'] });
    agent.request('GET', uri, given);
    const sent = recorder.requests.pop()?.headers as Headers;
    assert.deepEqual(sent.getRawHeaders('cookie'), ['foo=1']);
    assert.deepEqual(sent.getRawHeaders('accept'), ['*/*']);
    assert.equal(given.hasHeader('cookie'), false);
  });

  test('a Secure cookie is sent over https (Twisted test_secureCookie)', () => {
    const { recorder, jar, agent } = setup();
    const uri = 'https://example.com:1234/foo?bar';
    jar.setCookie('foo=1;secure', uri);
    agent.request('GET', uri);
    assert.deepEqual(recorder.requests.pop()?.headers?.getRawHeaders('cookie'), ['foo=1']);
  });

  test('a Secure cookie is kept but not sent over http (Twisted test_secureCookieOnInsecureConnection)', () => {
    const { recorder, jar, agent } = setup();
    const uri = 'http://example.com/foo?bar';
    jar.setCookie('foo=1;secure', uri);
    assert.equal(jar.size, 1);
    agent.request('GET', uri);
    assert.equal(recorder.requests.pop()?.headers?.getRawHeaders('cookie'), undefined);
  });

  test('the RFC 2965 Port attribute is ignored, as RFC 6265 has it (Twisted test_portCookie; its test_portCookieOnWrongPort refuses the cookie, this keeps it)', () => {
    const { recorder, jar, agent } = setup();
    jar.setCookie('foo=1;port=1234', 'http://example.com:4567/foo?bar');
    assert.equal(jar.size, 1);
    agent.request('GET', 'http://example.com:1234/foo?bar');
    assert.deepEqual(recorder.requests.pop()?.headers?.getRawHeaders('cookie'), ['foo=1']);
  });

  test('cookies with Path and unknown attributes are stored and sent back in path order (Twisted CookieJarTests)', () => {
    const { recorder, jar, agent } = setup();
    const uri = 'http://example.com:1234/foo?bar';
    const d = agent.request('GET', uri);
    recorder.requests
      .pop()
      ?.result.callback(
        response(['foo=1; cow=moo; Path=/foo; Comment=hello', 'bar=2; Comment=goodbye']),
      );
    successResultOf(d);
    const byName = new Map([...jar].map((c) => [c.name, c]));
    assert.equal(byName.get('foo')?.value, '1');
    assert.equal(byName.get('foo')?.path, '/foo');
    assert.equal(byName.get('bar')?.value, '2');
    assert.equal(byName.get('bar')?.path, '/');
    agent.request('GET', uri);
    assert.deepEqual(recorder.requests.pop()?.headers?.getRawHeaders('cookie'), ['foo=1; bar=2']);
  });

  test('cookies of any response are stored, a redirect or an error included, and sent with the next request', () => {
    const { recorder, agent } = setup();
    const first = agent.request('POST', 'http://example.com/login');
    recorder.requests
      .pop()
      ?.result.callback(response(['sid=abc; Path=/; HttpOnly', 'theme=dark'], 302));
    successResultOf(first);
    const second = agent.request('GET', 'http://example.com/account');
    recorder.requests.pop()?.result.callback(response(['theme=light', 'sid=; Max-Age=0'], 500));
    successResultOf(second);
    agent.request('GET', 'http://example.com/');
    assert.deepEqual(recorder.requests.pop()?.headers?.getRawHeaders('cookie'), ['theme=light']);
  });

  test("cookies expire on the jar's clock between requests", () => {
    const { recorder, jar, agent, clock } = setup();
    jar.setCookie('a=1; Max-Age=30', 'http://example.com/');
    clock.advance(30);
    agent.request('GET', 'http://example.com/');
    assert.equal(recorder.requests.pop()?.headers?.getRawHeaders('cookie'), undefined);
  });

  test('a failed request stores nothing and fails as it did', () => {
    const { recorder, jar, agent } = setup();
    const d = agent.request('GET', 'http://example.com/');
    recorder.requests.pop()?.result.errback(new Error('connection refused'));
    failureResultOf(d, Error);
    assert.equal(jar.size, 0);
  });

  test('a URL the jar cannot take fails with InvalidURIError, and nothing is sent', () => {
    const { recorder, agent } = setup();
    failureResultOf(agent.request('GET', 'ftp://example.com/'), InvalidURIError);
    assert.equal(recorder.requests.length, 0);
  });

  test('the jar is the one given', () => {
    const { jar, agent } = setup();
    assert.equal(agent.cookieJar, jar);
  });
});
