// Resource trees: static and dynamic children, leaves, the trailing-slash
// child, render dispatch and allowed methods, the error pages.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Request } from '../../../src/web/request.js';
import {
  ErrorPage,
  ForbiddenResource,
  type IResource,
  NoResource,
  Resource,
  UnsupportedMethod,
} from '../../../src/web/resource.js';
import { connect, describeSplits } from './_server.js';

class Named extends Resource {
  constructor(readonly name: string) {
    super();
  }
  render_GET(request: Request): string {
    return `${this.name} pre=${request.prepath.join('/')} post=${request.postpath.join('/')}`;
  }
}

class Dynamic extends Resource {
  override getChild(segment: string): IResource {
    return segment.startsWith('n')
      ? new Named(`dyn:${segment}`)
      : super.getChild(segment, undefined as never);
  }
}

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;

describeSplits('Resource', () => {
  test('traversal: static children first, then getChild; a leaf takes the rest of the path', () => {
    const root = new Named('root');
    const a = new Named('a');
    root.putChild('a', a);
    root.putChild('', new Named('index'));
    const leaf = new Named('leaf');
    leaf.isLeaf = true;
    a.putChild('leaf', leaf);
    const dyn = new Dynamic();
    root.putChild('dyn', dyn);
    dyn.putChild('nstatic', new Named('static-wins'));
    const c = connect(root);
    c.send(
      GET('/') +
        GET('/a') +
        GET('/a/leaf/x/y') +
        GET('/dyn/n1') +
        GET('/dyn/nstatic') +
        GET('/dyn/zzz'),
    );
    assert.deepEqual(
      c.replies().map((r) => [r.status, r.body.startsWith('<') ? 'page' : r.body]),
      [
        [200, 'index pre= post='],
        [200, 'a pre=a post='],
        [200, 'leaf pre=a/leaf post=x/y'],
        [200, 'dyn:n1 pre=dyn/n1 post='],
        [200, 'static-wins pre=dyn/nstatic post='],
        [404, 'page'],
      ],
    );
  });

  test('putChild refuses a segment with a slash or that is not a string', () => {
    const r = new Resource();
    assert.throws(() => r.putChild('a/b', new Resource()), TypeError);
    assert.throws(() => r.putChild(1 as unknown as string, new Resource()), TypeError);
  });

  test('allowedMethods lists the render_ functions, HEAD with GET; render throws UnsupportedMethod', () => {
    class Both extends Resource {
      render_GET(): string {
        return '';
      }
      render_PUT(): string {
        return '';
      }
    }
    const both = new Both();
    assert.deepEqual(both.allowedMethods(), ['GET', 'HEAD', 'PUT']);
    assert.throws(
      () => both.render({ method: 'POST' } as Request),
      (error: unknown) =>
        error instanceof UnsupportedMethod && error.allowedMethods.join() === 'GET,HEAD,PUT',
    );
    assert.deepEqual(new Resource().allowedMethods(), []);
  });

  test('an explicit render_HEAD is used for HEAD', () => {
    class Heady extends Resource {
      override isLeaf = true;
      render_GET(): string {
        return 'get body';
      }
      render_HEAD(request: Request): string {
        request.setHeader('X-Head', 'yes');
        return '';
      }
    }
    const c = connect(new Heady());
    c.send('HEAD / HTTP/1.1\r\nHost: h\r\n\r\n');
    const [reply] = c.replies(['HEAD']);
    assert.equal(reply?.header('x-head'), 'yes');
    assert.equal(reply?.header('content-length'), '0');
  });

  test('error pages: status, escaped text, the same page for every method and below', () => {
    const root = new Resource();
    root.putChild('e', new ErrorPage(418, 'Tea <time>', 'Short & stout'));
    root.putChild('nf', new NoResource());
    root.putChild('no', new ForbiddenResource('not <you>'));
    const c = connect(root);
    c.send(
      `${GET('/e')}POST /e/deeper HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n${GET('/nf')}${GET('/no')}`,
    );
    const [e, deeper, nf, no] = c.replies();
    assert.equal(e?.status, 418);
    assert.ok(e?.body.includes('<h1>418 Tea &lt;time&gt;</h1>'));
    assert.ok(e?.body.includes('Short &amp; stout'));
    assert.equal(deeper?.status, 418);
    assert.equal(nf?.status, 404);
    assert.equal(no?.status, 403);
    assert.ok(no?.body.includes('not &lt;you&gt;'));
  });
});
