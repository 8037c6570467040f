// Type tests of torsion/web, checked by tsc during the build: what render
// functions may return, the request's shapes (strings for metadata, bytes
// for bodies), Site options, and what must not compile. The runtime
// assertions check the same values.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deferred } from 'torsion/defer';
import type { IAddress } from 'torsion/protocol';
import { Clock } from 'torsion/task';
import {
  CACHED,
  type Headers,
  NOT_DONE_YET,
  type RenderResult,
  type Request,
  Resource,
  Site,
} from 'torsion/web';
import { expectType } from './expect-type.js';

class Typed extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    expectType<string>()(request.method);
    expectType<string>()(request.uri);
    expectType<Map<string, string[]>>()(request.args);
    expectType<string[]>()(request.postpath);
    expectType<Headers>()(request.requestHeaders);
    expectType<string | undefined>()(request.getHeader('x'));
    expectType<Buffer>()(request.content.read());
    expectType<Deferred<Buffer>>()(request.content.bytes());
    expectType<Deferred<void>>()(request.notifyFinish());
    expectType<IAddress>()(request.getClientAddress());
    expectType<typeof CACHED | null>()(request.setETag('"x"'));
    return 'text';
  }
  render_POST(): Uint8Array {
    return new Uint8Array([1]);
  }
  render_PUT(): typeof NOT_DONE_YET {
    return NOT_DONE_YET;
  }
  async render_DELETE(): Promise<string> {
    return 'later';
  }
}

test('render results and Site options type-check as documented', () => {
  const results: RenderResult[] = ['s', new Uint8Array(), NOT_DONE_YET, Promise.resolve('p')];
  // @ts-expect-error a number is not a body
  const wrong: RenderResult = 42;
  // @ts-expect-error a promise of a number is not a body either
  const wrongLater: RenderResult = Promise.resolve(42);
  const site = new Site(new Typed(), { clock: new Clock(), timeout: null, accessLog: true });
  // @ts-expect-error timeouts are numbers of seconds or null
  assert.throws(() => new Site(new Typed(), { timeout: '60' }), RangeError);
  // @ts-expect-error a Site needs a resource
  assert.throws(() => new Site(), TypeError);
  assert.equal(results.length, 4);
  assert.equal(typeof wrong, 'number');
  assert.ok(wrongLater instanceof Promise);
  assert.equal(site.timeout, null);
  assert.equal(typeof NOT_DONE_YET, 'symbol');
  assert.equal(typeof CACHED, 'symbol');
});
