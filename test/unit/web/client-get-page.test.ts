// getPage against Sites in memory (a real Agent over iosim, virtual time):
// the body of a 2xx, WebError for the rest, redirects, methods, headers and
// bodies, maxSize, the whole-operation timeout and cancellation (both close
// the connection), failures naming the URL; and a body ended by the
// connection close accepted as whole.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred, TimeoutError } from '../../../src/internet/defer.js';
import { ConnectionRefusedError } from '../../../src/internet/error.js';
import { Failure } from '../../../src/internet/failure.js';
import {
  assertNoResult,
  failureResultOf,
  successResultOf,
} from '../../../src/testing/deferred-asserts.js';
import type { IAgent } from '../../../src/web/client/agent.js';
import {
  InfiniteRedirection,
  PotentialDataLoss,
  ResponseFailed,
  WebError,
} from '../../../src/web/client/errors.js';
import { getPage } from '../../../src/web/client/get-page.js';
import { Response } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET } from '../../../src/web/resource.js';
import { leaf, MemoryWeb } from '../../helpers/memory-web.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

/** A web with one site at a.test:80 answering with `render`. */
function site(render: (request: Request) => string | Uint8Array | typeof NOT_DONE_YET): {
  web: MemoryWeb;
  options: { agent: IAgent; reactor: MemoryWeb['reactor'] };
} {
  const web = new MemoryWeb();
  const resource = leaf(render as (request: Request) => string);
  web.serve('a.test', 80, resource);
  return { web, options: { agent: web.agent(), reactor: web.reactor } };
}

describe('getPage', () => {
  test('a 200: the Deferred fires with the body', () => {
    const { web, options } = site(() => 'the page');
    const d = getPage('http://a.test/', options);
    web.flush();
    assert.equal(text(successResultOf(d)), 'the page');
  });

  test('a 404: WebError with the status, the phrase and the body; its message names method, URL and status', () => {
    const { web, options } = site((request) => {
      request.setResponseCode(404);
      return 'no such page';
    });
    const d = getPage('http://a.test/missing', options);
    web.flush();
    const error = failureResultOf(d, WebError).value as WebError;
    assert.equal(error.status, 404);
    assert.equal(error.phrase, 'Not Found');
    assert.equal(text(error.response ?? new Uint8Array()), 'no such page');
    assert.equal(error.message, 'GET http://a.test/missing: 404 Not Found');
  });

  test('a 500 after a redirect: the message names both URLs', () => {
    const { web, options } = site((request) => {
      if (request.path === '/a') {
        request.redirect('/b');
        return '';
      }
      request.setResponseCode(500);
      return 'oops';
    });
    const d = getPage('http://a.test/a', options);
    web.flush();
    assert.equal(
      failureResultOf(d, WebError).getErrorMessage(),
      'GET http://a.test/a (redirected to http://a.test/b): 500 Internal Server Error',
    );
  });

  test('redirects are followed by default; with followRedirect false a 302 is a WebError', () => {
    const { web, options } = site((request) => {
      if (request.path === '/old') {
        request.redirect('/new');
        return 'moved';
      }
      return `at ${request.path}`;
    });
    const followed = getPage('http://a.test/old', options);
    web.flush();
    assert.equal(text(successResultOf(followed)), 'at /new');
    const notFollowed = getPage('http://a.test/old', { ...options, followRedirect: false });
    web.flush();
    const error = failureResultOf(notFollowed, WebError).value as WebError;
    assert.equal(error.status, 302);
    assert.equal(text(error.response ?? new Uint8Array()), 'moved');
  });

  test('redirectLimit: one redirect too many fails with InfiniteRedirection', () => {
    const { web, options } = site((request) => {
      const n = Number(request.path.slice(1));
      request.redirect(`/${n + 1}`);
      return '';
    });
    const d = getPage('http://a.test/0', { ...options, redirectLimit: 3 });
    web.flush();
    const error = failureResultOf(d, InfiniteRedirection).value as InfiniteRedirection;
    assert.equal(error.uri, 'http://a.test/3');
  });

  test('method, headers as a record, and a string body (UTF-8) reach the server', () => {
    const { web, options } = site(
      (request) =>
        `${request.method} ${request.getHeader('x-one')} ${request.requestHeaders.getRawHeaders('x-two')?.join('+')} ` +
        `${request.getHeader('content-length')} ${request.content.read().toString('utf8')}`,
    );
    const d = getPage('http://a.test/', {
      ...options,
      method: 'POST',
      headers: { 'X-One': '1', 'X-Two': ['a', 'b'] },
      body: 'héllo',
    });
    web.flush();
    assert.equal(text(successResultOf(d)), 'POST 1 a+b 6 héllo');
  });

  test('headers as Headers, and bytes as the body', () => {
    const { web, options } = site(
      (request) => `${request.getHeader('user-agent')} ${request.content.read().length}`,
    );
    const d = getPage('http://a.test/', {
      ...options,
      method: 'PUT',
      headers: new Headers({ 'User-Agent': ['torsion-test'] }),
      body: new Uint8Array(1000),
    });
    web.flush();
    assert.equal(text(successResultOf(d)), 'torsion-test 1000');
  });

  test('maxSize: a longer body fails with a RangeError naming the URL', () => {
    const { web, options } = site(() => 'x'.repeat(100));
    const d = getPage('http://a.test/big', { ...options, maxSize: 99 });
    web.flush();
    const failure = failureResultOf(d, RangeError);
    assert.match(failure.getErrorMessage(), /^GET http:\/\/a\.test\/big: .*larger than 99 bytes/);
    const fits = getPage('http://a.test/big', { ...options, maxSize: 100 });
    web.flush();
    assert.equal(successResultOf(fits).length, 100);
  });

  test('timeout: past it the request is cancelled, its connection closed, and TimeoutError names the URL', () => {
    let pending: Request | undefined;
    const { web, options } = site((request) => {
      pending = request;
      request.write(Buffer.from('a start'));
      return NOT_DONE_YET;
    });
    const d = getPage('http://a.test/slow', { ...options, timeout: 5 });
    web.flush();
    assertNoResult(d);
    const gone = pending?.notifyFinish();
    web.reactor.advance(4.9);
    web.flush();
    assertNoResult(d);
    web.reactor.advance(0.1);
    web.flush();
    const error = failureResultOf(d, TimeoutError).value as TimeoutError;
    assert.equal(error.message, 'GET http://a.test/slow: no complete response within 5 seconds');
    assert.equal(error.timeout, 5);
    assert.ok(gone !== undefined);
    failureResultOf(gone, Error);
  });

  test('a response in time cancels the timer', () => {
    const { web, options } = site(() => 'quick');
    const d = getPage('http://a.test/', { ...options, timeout: 5 });
    web.flush();
    assert.equal(text(successResultOf(d)), 'quick');
    assert.deepEqual(web.reactor.getDelayedCalls().filter((c) => c.active()).length, 0);
  });

  test('cancelling while the body arrives closes the connection; the Deferred fails with CancelledError', () => {
    let pending: Request | undefined;
    const { web, options } = site((request) => {
      pending = request;
      request.write(Buffer.from('part'));
      return NOT_DONE_YET;
    });
    const d = getPage('http://a.test/', options);
    web.flush();
    const gone = pending?.notifyFinish();
    d.cancel();
    web.flush();
    failureResultOf(d, CancelledError);
    assert.ok(gone !== undefined);
    failureResultOf(gone, Error);
  });

  test('a refused connection fails with ConnectionRefusedError, its message naming method and URL', () => {
    const web = new MemoryWeb();
    const d = getPage('http://nowhere.test:81/x', { agent: web.agent(), reactor: web.reactor });
    web.flush();
    assert.match(
      failureResultOf(d, ConnectionRefusedError).getErrorMessage(),
      /^GET http:\/\/nowhere\.test:81\/x: /,
    );
  });

  test('an unparsable URL fails the Deferred (no throw)', () => {
    const web = new MemoryWeb();
    const d = getPage('not a url', { agent: web.agent(), reactor: web.reactor });
    assert.match(failureResultOf(d).getErrorMessage(), /not a url/);
  });

  test('a negative timeout is refused', () => {
    const web = new MemoryWeb();
    const d = getPage('http://a.test/', { agent: web.agent(), reactor: web.reactor, timeout: -1 });
    failureResultOf(d, RangeError);
  });

  test('HEAD: the Deferred fires with an empty body (Twisted test_getPageHead)', () => {
    const { web, options } = site(() => 'a body HEAD does not get');
    const d = getPage('http://a.test/', { ...options, method: 'HEAD' });
    web.flush();
    assert.equal(successResultOf(d).length, 0);
  });

  test('a body shorter than its Content-Length fails with ResponseFailed naming the URL (Twisted test_getPageBrokenDownload)', () => {
    let pending: Request | undefined;
    const { web, options } = site((request) => {
      pending = request;
      request.setHeader('Content-Length', '1000');
      request.write(Buffer.from('only some'));
      return NOT_DONE_YET;
    });
    const d = getPage('http://a.test/broken', options);
    web.flush();
    pending?.channel.transport?.loseConnection();
    web.flush();
    assert.match(
      failureResultOf(d, ResponseFailed).getErrorMessage(),
      /^GET http:\/\/a\.test\/broken: /,
    );
  });

  test('a body that ends with the connection, with no declared length, is taken as whole', () => {
    const response = new Response('HTTP/1.0', 200, 'OK', new Headers(), undefined, {
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {},
    });
    const agent: IAgent = {
      request: () => {
        const d = new Deferred<Response>();
        d.callback(response);
        return d;
      },
    };
    const d = getPage('http://a.test/', { agent, followRedirect: false });
    response._bodyDataReceived(Buffer.from('all of it'));
    response._bodyDataFinished(new Failure(new PotentialDataLoss()));
    assert.equal(text(successResultOf(d)), 'all of it');
  });
});
