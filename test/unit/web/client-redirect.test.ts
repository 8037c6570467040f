// RedirectAgent on a fake agent that records each request and is answered
// by hand (Twisted's RedirectAgentTests and BrowserLikeRedirectAgentTests,
// web/test/test_agent.py, ported), then on a real Agent against Sites in
// memory: the redirect's body drained so its connection carries the next
// request, credentials dropped across origins, bodies resent on 307/308.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CancelledError, Deferred } from '../../../src/internet/defer.js';
import { Failure } from '../../../src/internet/failure.js';
import type { IPushProducer } from '../../../src/internet/interfaces.js';
import { Cooperator } from '../../../src/internet/task/cooperator.js';
import {
  assertNoResult,
  failureResultOf,
  successResultOf,
} from '../../../src/testing/deferred-asserts.js';
import type { IAgent } from '../../../src/web/client/agent.js';
import type { IBodyProducer } from '../../../src/web/client/client-protocol.js';
import {
  InfiniteRedirection,
  PageRedirect,
  RedirectWithNoLocation,
  ResponseDone,
} from '../../../src/web/client/errors.js';
import { FileBodyProducer } from '../../../src/web/client/file-body-producer.js';
import { RedirectAgent } from '../../../src/web/client/redirect-agent.js';
import { Response, readBody } from '../../../src/web/client/response.js';
import { InvalidURIError } from '../../../src/web/client/uri.js';
import { Headers } from '../../../src/web/headers.js';
import type { Request } from '../../../src/web/request.js';
import { leaf, MemoryWeb } from '../../helpers/memory-web.js';

/** One request the fake agent was asked to make. */
interface Recorded {
  readonly method: string;
  readonly uri: string;
  readonly headers: Headers | undefined;
  readonly bodyProducer: IBodyProducer | undefined;
  readonly result: Deferred<Response>;
}

/** An IAgent that records requests; the test answers each one. */
class FakeAgent implements IAgent {
  readonly requests: Recorded[] = [];
  request(
    method: string,
    uri: string,
    headers?: Headers,
    bodyProducer?: IBodyProducer,
  ): Deferred<Response> {
    const result = new Deferred<Response>();
    this.requests.push({ method, uri, headers, bodyProducer, result });
    return result;
  }
  /** The one request waiting, taken off the list. */
  take(): Recorded {
    assert.equal(this.requests.length, 1, 'one request waiting');
    return this.requests.pop() as Recorded;
  }
}

/** A producer that only records what is done to it. */
const noProducer: IPushProducer = {
  pauseProducing() {},
  resumeProducing() {},
  stopProducing() {},
};

/** A response whose body (`body`) has already arrived in full. */
function response(code: number, headers: Record<string, string[]> = {}, body = ''): Response {
  const r = new Response('HTTP/1.1', code, 'Phrase', new Headers(headers), body.length, noProducer);
  if (body !== '') r._bodyDataReceived(Buffer.from(body));
  r._bodyDataFinished(new Failure(new ResponseDone()));
  return r;
}

function setup(options: ConstructorParameters<typeof RedirectAgent>[1] = {}): {
  fake: FakeAgent;
  agent: RedirectAgent;
} {
  const fake = new FakeAgent();
  return { fake, agent: new RedirectAgent(fake, options) };
}

const location = (url: string): Record<string, string[]> => ({ Location: [url] });

describe('RedirectAgent (Twisted RedirectAgentTests, BrowserLikeRedirectAgentTests)', () => {
  test('no redirect: the response is given back as it is, with no previous response', () => {
    const { fake, agent } = setup();
    const d = agent.request('GET', 'http://example.com/foo');
    const first = fake.take();
    const r = response(200);
    first.result.callback(r);
    assert.equal(fake.requests.length, 0);
    assert.equal(successResultOf(d), r);
    assert.equal(r.previousResponse, undefined);
  });

  for (const code of [301, 302, 303, 307, 308]) {
    test(`a GET follows a ${code} to the Location, as a GET`, () => {
      const { fake, agent } = setup();
      const d = agent.request('GET', 'http://example.com/foo');
      fake.take().result.callback(response(code, location('http://example.com/bar')));
      const second = fake.take();
      assert.equal(second.method, 'GET');
      assert.equal(second.uri, 'http://example.com/bar');
      second.result.callback(response(200));
      assert.equal(successResultOf(d).code, 200);
    });
  }

  test('a cross-scheme redirect is followed (http to https)', () => {
    const { fake, agent } = setup();
    agent.request('GET', 'http://example.com/foo');
    fake.take().result.callback(response(301, location('https://example.com/bar')));
    assert.equal(fake.take().uri, 'https://example.com/bar');
  });

  const sensitive = {
    authorization: ['sensitive-authnz'],
    cookie: ['sensitive-cookie-data'],
    cookie2: ['sensitive-cookie2-data'],
    'proxy-authorization': ['sensitive-proxy-auth'],
    'wWw-auThentiCate': ['sensitive-authn'],
    'x-custom-sensitive': ['sensitive-custom'],
  };
  const other = { 'x-random-header': ['x-random-value'] };
  const names = (headers: Headers | undefined): Record<string, string[]> =>
    Object.fromEntries([...(headers ?? new Headers())].map(([k, v]) => [k.toLowerCase(), v]));

  for (const [what, target] of [
    ['domain', 'http://example.net/bar'],
    ['port', 'http://example.com:8443/bar'],
    ['scheme', 'https://example.com/bar'],
  ] as const) {
    test(`sensitive headers are kept on a same-origin redirect, dropped on a cross-${what} one`, () => {
      const { fake, agent } = setup({ sensitiveHeaderNames: ['X-Custom-sensitive'] });
      const all = new Headers({ ...sensitive, ...other });
      agent.request('GET', 'http://example.com/foo', all);
      fake.take().result.callback(response(301, location('http://example.com/bar')));
      const same = fake.take();
      assert.deepEqual(names(same.headers), names(all));
      same.result.callback(response(301, location(target)));
      const elsewhere = fake.take();
      assert.equal(elsewhere.uri, target);
      assert.deepEqual(names(elsewhere.headers), other);
      assert.deepEqual(names(all), names(new Headers({ ...sensitive, ...other })), 'not modified');
    });
  }

  test('a Host header given by the caller is dropped on a cross-origin redirect only', () => {
    const { fake, agent } = setup();
    agent.request('GET', 'http://example.com/foo', new Headers({ Host: ['virtual.example'] }));
    fake.take().result.callback(response(302, location('/same')));
    const same = fake.take();
    assert.deepEqual(same.headers?.getRawHeaders('host'), ['virtual.example']);
    same.result.callback(response(302, location('http://example.org/')));
    assert.equal(fake.take().headers?.hasHeader('host'), false);
  });

  test('a 303 turns a POST into a GET without its body or the headers describing it', () => {
    const { fake, agent } = setup();
    const body = new FileBodyProducer('a=1');
    agent.request(
      'POST',
      'http://example.com/foo',
      new Headers({ 'Content-Type': ['application/x-www-form-urlencoded'], 'X-Keep': ['1'] }),
      body,
    );
    fake.take().result.callback(response(303, location('http://example.com/bar')));
    const second = fake.take();
    assert.equal(second.method, 'GET');
    assert.equal(second.uri, 'http://example.com/bar');
    assert.equal(second.bodyProducer, undefined);
    assert.deepEqual(names(second.headers), { 'x-keep': ['1'] });
  });

  test('a 303 keeps a HEAD a HEAD; a PUT becomes a GET', () => {
    for (const [method, expected] of [
      ['HEAD', 'HEAD'],
      ['PUT', 'GET'],
      ['DELETE', 'GET'],
    ] as const) {
      const { fake, agent } = setup();
      agent.request(method, 'http://example.com/foo');
      fake.take().result.callback(response(303, location('/bar')));
      assert.equal(fake.take().method, expected, method);
    }
  });

  for (const code of [301, 302]) {
    test(`a ${code} on a POST is followed as a GET, as browsers do (BrowserLikeRedirectAgent)`, () => {
      const { fake, agent } = setup();
      agent.request('POST', 'http://example.com/foo', undefined, new FileBodyProducer('x'));
      fake.take().result.callback(response(code, location('http://example.com/bar')));
      const second = fake.take();
      assert.equal(second.method, 'GET');
      assert.equal(second.bodyProducer, undefined);
    });

    test(`a ${code} on a PUT keeps the method and sends a fresh copy of the body`, () => {
      const { fake, agent } = setup();
      const body = new FileBodyProducer('payload');
      agent.request('PUT', 'http://example.com/foo', undefined, body);
      fake.take().result.callback(response(code, location('/bar')));
      const second = fake.take();
      assert.equal(second.method, 'PUT');
      assert.ok(second.bodyProducer instanceof FileBodyProducer);
      assert.notEqual(second.bodyProducer, body, 'a replay, not the producer already used');
      assert.equal(second.bodyProducer.length, 7);
    });
  }

  for (const code of [307, 308]) {
    test(`a ${code} on a POST keeps the method and resends the body`, () => {
      const { fake, agent } = setup();
      const headers = new Headers({ 'Content-Type': ['text/plain'] });
      agent.request('POST', 'http://example.com/foo', headers, new FileBodyProducer('hello'));
      fake.take().result.callback(response(code, location('http://example.com/bar')));
      const second = fake.take();
      assert.equal(second.method, 'POST');
      assert.equal(second.bodyProducer?.length, 5);
      assert.deepEqual(second.headers?.getRawHeaders('content-type'), ['text/plain']);
    });

    test(`a ${code} on a POST whose body cannot be replayed fails with PageRedirect`, () => {
      const { fake, agent } = setup();
      const stream: IBodyProducer = {
        length: undefined,
        startProducing: () => new Deferred<void>(),
        ...noProducer,
      };
      const d = agent.request('POST', 'http://example.com/foo', undefined, stream);
      fake.take().result.callback(response(code, location('/bar')));
      assert.equal(fake.requests.length, 0);
      const error = failureResultOf(d, PageRedirect).value as PageRedirect;
      assert.equal(error.status, code);
      assert.equal(error.uri, 'http://example.com/foo');
      assert.equal(error.location, 'http://example.com/bar');
      assert.match(error.message, /POST http:\/\/example\.com\/foo: .*cannot replay/);
    });
  }

  test('a 308 on a PUT of a file resends the file, measured again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-redirect-'));
    try {
      const path = join(dir, 'upload.txt');
      writeFileSync(path, 'file body');
      const { fake, agent } = setup();
      agent.request('PUT', 'http://example.com/a', undefined, FileBodyProducer.fromPath(path));
      writeFileSync(path, 'file body, longer now');
      fake.take().result.callback(response(308, location('/b')));
      const second = fake.take();
      assert.equal(second.method, 'PUT');
      assert.equal(second.bodyProducer?.length, 21);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('strict (Twisted RedirectAgent): 301, 302, 307 and 308 on a POST fail with PageRedirect', () => {
    for (const code of [301, 302, 307, 308]) {
      const { fake, agent } = setup({ strict: true });
      const d = agent.request('POST', 'http://example.com/foo');
      fake.take().result.callback(response(code, location('http://example.com/bar')));
      assert.equal(fake.requests.length, 0);
      const error = failureResultOf(d, PageRedirect).value as PageRedirect;
      assert.equal(error.status, code);
      assert.equal(error.uri, 'http://example.com/foo');
      assert.equal(error.location, 'http://example.com/bar');
    }
  });

  test('strict: a 303 on a POST still becomes a GET, and GET follows everything', () => {
    const { fake, agent } = setup({ strict: true });
    agent.request('POST', 'http://example.com/foo');
    fake.take().result.callback(response(303, location('/a')));
    const second = fake.take();
    assert.equal(second.method, 'GET');
    second.result.callback(response(307, location('/b')));
    assert.equal(fake.take().uri, 'http://example.com/b');
  });

  test('a redirect without Location fails with RedirectWithNoLocation naming the URL', () => {
    const { fake, agent } = setup();
    const d = agent.request('GET', 'http://example.com/foo');
    fake.take().result.callback(response(301));
    const error = failureResultOf(d, RedirectWithNoLocation).value as RedirectWithNoLocation;
    assert.equal(error.uri, 'http://example.com/foo');
    assert.equal(error.status, 301);
    assert.match(error.message, /GET http:\/\/example\.com\/foo: 301 .*no Location/);
  });

  test('past the limit: InfiniteRedirection, with the URL that redirected last', () => {
    const { fake, agent } = setup({ redirectLimit: 1 });
    const d = agent.request('GET', 'http://example.com/foo');
    fake.take().result.callback(response(302, location('http://example.com/bar')));
    fake.take().result.callback(response(302, location('http://example.com/bar')));
    const error = failureResultOf(d, InfiniteRedirection).value as InfiniteRedirection;
    assert.equal(error.status, 302);
    assert.equal(error.uri, 'http://example.com/bar');
    assert.equal(error.location, 'http://example.com/bar');
    assert.match(error.message, /limit of 1 redirects/);
  });

  test('the default limit is 20 redirects, as Twisted', () => {
    const { fake, agent } = setup();
    const d = agent.request('GET', 'http://example.com/0');
    for (let i = 0; i < 20; i++) {
      fake.take().result.callback(response(302, location(`/${i + 1}`)));
    }
    assertNoResult(d);
    fake.take().result.callback(response(302, location('/21')));
    failureResultOf(d, InfiniteRedirection);
  });

  test('relative Locations are resolved against the URL that answered, keeping the query', () => {
    for (const [uri, loc, final] of [
      ['http://example.com/foo/bar', 'baz', 'http://example.com/foo/baz'],
      ['http://example.com/foo/bar', '/baz', 'http://example.com/baz'],
      ['http://example.com/foo/bar', '/baz?a', 'http://example.com/baz?a'],
      ['http://example.com/foo/bar', '//foo.com/baz', 'http://foo.com/baz'],
      ['http://example.com/foo/bar', '//foo.com:81/baz', 'http://foo.com:81/baz'],
    ] as const) {
      const { fake, agent } = setup();
      agent.request('GET', uri);
      fake.take().result.callback(response(302, location(loc)));
      assert.equal(fake.take().uri, final);
    }
  });

  test('a Location that is not an http(s) URL fails with InvalidURIError', () => {
    const { fake, agent } = setup();
    const d = agent.request('GET', 'http://example.com/foo');
    fake.take().result.callback(response(302, location('ftp://example.com/file')));
    assert.match(failureResultOf(d, InvalidURIError).getErrorMessage(), /ftp:/);
  });

  test('the responses are chained through previousResponse, back to the first', () => {
    const { fake, agent } = setup();
    const d = agent.request('GET', 'http://example.com/foo');
    const first = response(302, location('/bar'));
    fake.take().result.callback(first);
    const second = response(301, location('/baz'));
    fake.take().result.callback(second);
    const last = response(200);
    fake.take().result.callback(last);
    assert.equal(successResultOf(d), last);
    assert.equal(last.previousResponse, second);
    assert.equal(second.previousResponse, first);
    assert.equal(first.previousResponse, undefined);
  });

  test("the next request waits until the redirect's body has been read and thrown away", () => {
    const { fake, agent } = setup();
    agent.request('GET', 'http://example.com/foo');
    const redirect = new Response(
      'HTTP/1.1',
      302,
      'Found',
      new Headers(location('/bar')),
      undefined,
      noProducer,
    );
    fake.take().result.callback(redirect);
    assert.equal(fake.requests.length, 0, 'the body is still arriving');
    redirect._bodyDataReceived(Buffer.from('moved'));
    assert.equal(fake.requests.length, 0);
    redirect._bodyDataFinished(new Failure(new ResponseDone()));
    assert.equal(fake.take().uri, 'http://example.com/bar');
  });

  test('a redirect body over 1 MiB is stopped (its connection closed) and the redirect followed', () => {
    const { fake, agent } = setup();
    agent.request('GET', 'http://example.com/foo');
    let stopped = 0;
    const producer: IPushProducer = { ...noProducer, stopProducing: () => void stopped++ };
    const redirect = new Response(
      'HTTP/1.1',
      302,
      'Found',
      new Headers(location('/bar')),
      undefined,
      producer,
    );
    fake.take().result.callback(redirect);
    redirect._bodyDataReceived(new Uint8Array(2 ** 20));
    assert.equal(stopped, 0);
    redirect._bodyDataReceived(new Uint8Array(1));
    assert.equal(stopped, 1);
    redirect._bodyDataFinished(new Failure(new Error('stopped')));
    assert.equal(fake.take().uri, 'http://example.com/bar');
  });

  test('cancelling while a redirect body is read stops it and makes no further request', () => {
    const { fake, agent } = setup();
    const d = agent.request('GET', 'http://example.com/foo');
    let stopped = 0;
    const producer: IPushProducer = { ...noProducer, stopProducing: () => void stopped++ };
    const redirect = new Response(
      'HTTP/1.1',
      302,
      'Found',
      new Headers(location('/bar')),
      10,
      producer,
    );
    fake.take().result.callback(redirect);
    d.cancel();
    assert.equal(stopped, 1);
    redirect._bodyDataFinished(new Failure(new Error('stopped')));
    failureResultOf(d, CancelledError);
    assert.equal(fake.requests.length, 0);
  });

  test('cancelling while the redirected request waits cancels that request', () => {
    const { fake, agent } = setup();
    const d = agent.request('GET', 'http://example.com/foo');
    fake.take().result.callback(response(302, location('/bar')));
    const second = fake.take();
    d.cancel();
    assert.equal(second.result.called, true, 'the request in progress was cancelled');
    failureResultOf(d, CancelledError);
  });

  test('a redirectLimit that is not a whole number from 0 is refused', () => {
    assert.throws(() => new RedirectAgent(new FakeAgent(), { redirectLimit: -1 }), RangeError);
    assert.throws(() => new RedirectAgent(new FakeAgent(), { redirectLimit: 1.5 }), RangeError);
  });
});

describe('RedirectAgent on a real Agent against Sites in memory', () => {
  function bodyOf(d: Deferred<Response>, web: MemoryWeb): string {
    web.flush();
    const r = successResultOf(d);
    const body = readBody(r);
    web.flush();
    return Buffer.from(successResultOf(body)).toString();
  }

  test('a same-origin redirect drains its body, so a persistent connection carries the next request', () => {
    const web = new MemoryWeb();
    web.serve(
      'a.test',
      80,
      leaf((request: Request) => {
        if (request.path === '/old') {
          request.setResponseCode(301);
          request.setHeader('Location', '/new');
          return 'moved to /new';
        }
        return `here: ${request.path}`;
      }),
    );
    const agent = new RedirectAgent(web.agent(true));
    const d = agent.request('GET', 'http://a.test/old');
    assert.equal(bodyOf(d, web), 'here: /new');
    assert.deepEqual(web.connects, ['a.test:80'], 'one connection for both requests');
  });

  test('across hosts: Authorization and Cookie do not reach the other host; other headers do', () => {
    const web = new MemoryWeb();
    const seen: Record<string, string | undefined>[] = [];
    const record = (request: Request): void => {
      seen.push({
        host: request.getHeader('host') ?? undefined,
        authorization: request.getHeader('authorization') ?? undefined,
        cookie: request.getHeader('cookie') ?? undefined,
        accept: request.getHeader('accept') ?? undefined,
      });
    };
    web.serve(
      'a.test',
      80,
      leaf((request) => {
        record(request);
        request.redirect('http://b.test:8080/landing');
        return '';
      }),
    );
    web.serve(
      'b.test',
      8080,
      leaf((request) => {
        record(request);
        return 'landed';
      }),
    );
    const agent = new RedirectAgent(web.agent());
    const d = agent.request(
      'GET',
      'http://a.test/',
      new Headers({ Authorization: ['Bearer x'], Cookie: ['s=1'], Accept: ['text/plain'] }),
    );
    assert.equal(bodyOf(d, web), 'landed');
    assert.deepEqual(seen, [
      { host: 'a.test', authorization: 'Bearer x', cookie: 's=1', accept: 'text/plain' },
      { host: 'b.test:8080', authorization: undefined, cookie: undefined, accept: 'text/plain' },
    ]);
  });

  test('a 307 on a POST resends the same body to the new URL', () => {
    const web = new MemoryWeb();
    const received: string[] = [];
    web.serve(
      'a.test',
      80,
      leaf((request) => {
        const body = Buffer.from(request.content.read()).toString();
        received.push(`${request.method} ${request.path} ${body}`);
        if (request.path === '/submit') {
          request.setResponseCode(307);
          request.setHeader('Location', '/submit2');
          return '';
        }
        return 'ok';
      }),
    );
    const clock = web.reactor;
    const cooperator = new Cooperator({ scheduler: (step) => clock.callLater(0, step) });
    const agent = new RedirectAgent(web.agent());
    const d = agent.request(
      'POST',
      'http://a.test/submit',
      new Headers({ 'Content-Type': ['text/plain'] }),
      new FileBodyProducer('the payload', { cooperator }),
    );
    assert.equal(bodyOf(d, web), 'ok');
    assert.deepEqual(received, ['POST /submit the payload', 'POST /submit2 the payload']);
  });

  test('a 302 on a POST is followed as a GET, without the body', () => {
    const web = new MemoryWeb();
    const received: string[] = [];
    web.serve(
      'a.test',
      80,
      leaf((request) => {
        received.push(
          `${request.method} ${request.path} ${request.getHeader('content-type') ?? '-'}`,
        );
        if (request.method === 'POST') {
          request.redirect('/done');
          return '';
        }
        return 'done';
      }),
    );
    const agent = new RedirectAgent(web.agent());
    const d = agent.request(
      'POST',
      'http://a.test/form',
      new Headers({ 'Content-Type': ['application/x-www-form-urlencoded'] }),
      new FileBodyProducer('a=1', {
        cooperator: new Cooperator({ scheduler: (step) => web.reactor.callLater(0, step) }),
      }),
    );
    assert.equal(bodyOf(d, web), 'done');
    assert.deepEqual(received, ['POST /form application/x-www-form-urlencoded', 'GET /done -']);
  });
});
