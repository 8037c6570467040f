// The client's agents stacked as their docs say
// (ContentDecoderAgent ⟶ RedirectAgent ⟶ CookieAgent ⟶ Agent), against
// Sites in memory: a login that sets a cookie and redirects, a page that
// needs the cookie and answers gzip, a redirect to another host that must
// not get the cookie, all through one persistent pool.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { successResultOf } from '../../../src/testing/deferred-asserts.js';
import { ContentDecoderAgent } from '../../../src/web/client/content-decoder.js';
import { CookieAgent } from '../../../src/web/client/cookie-agent.js';
import { CookieJar } from '../../../src/web/client/cookie-jar.js';
import { RedirectAgent } from '../../../src/web/client/redirect-agent.js';
import { readBody } from '../../../src/web/client/response.js';
import type { Request } from '../../../src/web/request.js';
import { Resource } from '../../../src/web/resource.js';
import { leaf, MemoryWeb } from '../../helpers/memory-web.js';

function site(web: MemoryWeb, seen: string[]): void {
  const root = new Resource();
  root.putChild(
    'login',
    leaf((request: Request) => {
      request.addCookie('session', 's3cret', { path: '/' });
      request.setResponseCode(303);
      request.setHeader('Location', '/home');
      return '';
    }),
  );
  root.putChild(
    'home',
    leaf((request: Request) => {
      seen.push(`home cookie=${request.getCookie('session') ?? '-'}`);
      if (request.getCookie('session') !== 's3cret') {
        request.setResponseCode(403);
        return 'who are you?';
      }
      const accepts = request.getHeader('accept-encoding') ?? '';
      if (!accepts.includes('gzip')) return 'welcome (plain)';
      request.setHeader('Content-Encoding', 'gzip');
      return gzipSync('welcome (gzip)');
    }),
  );
  root.putChild(
    'away',
    leaf((request: Request) => {
      request.setResponseCode(302);
      request.setHeader('Location', 'http://other.test/landing');
      return '';
    }),
  );
  web.serve('app.test', 80, root);
  web.serve(
    'other.test',
    80,
    leaf((request: Request) => {
      seen.push(`other cookie=${request.getHeader('cookie') ?? '-'}`);
      return 'landed';
    }),
  );
}

describe('agents stacked: decoder over redirects over cookies over Agent', () => {
  test('the cookie set on a redirect is sent on the redirected request; the page is decoded', async () => {
    const web = new MemoryWeb();
    const seen: string[] = [];
    site(web, seen);
    const jar = new CookieJar(web.reactor);
    const agent = new ContentDecoderAgent(new RedirectAgent(new CookieAgent(web.agent(true), jar)));
    const d = agent.request('GET', 'http://app.test/login');
    web.flush();
    const response = successResultOf(d);
    assert.equal(response.code, 200);
    assert.equal(response.previousResponse?.code, 303);
    // node:zlib decodes on its thread pool: the body arrives on later turns.
    let decoded: Uint8Array | undefined;
    readBody(response).addCallback((bytes) => {
      decoded = bytes;
    });
    for (let turn = 0; turn < 100 && decoded === undefined; turn++) {
      web.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(Buffer.from(decoded ?? []).toString(), 'welcome (gzip)');
    assert.deepEqual(seen, ['home cookie=s3cret']);
    assert.equal(jar.getCookieHeader('http://app.test/'), 'session=s3cret');
    assert.deepEqual(web.connects, ['app.test:80'], 'one pooled connection for both hops');
  });

  test("a redirect to another host does not carry the first host's cookie", () => {
    const web = new MemoryWeb();
    const seen: string[] = [];
    site(web, seen);
    const jar = new CookieJar(web.reactor);
    jar.setCookie('session=s3cret; Path=/', 'http://app.test/');
    const agent = new RedirectAgent(new CookieAgent(web.agent(), jar));
    const d = agent.request('GET', 'http://app.test/away').addCallback(readBody);
    web.flush();
    assert.equal(Buffer.from(successResultOf(d)).toString(), 'landed');
    assert.deepEqual(seen, ['other cookie=-']);
  });
});
