// Type tests of the HTTP client, checked by tsc during the build: every
// agent is an IAgent whose request gives a Deferred<Response>, readBody and
// getPage give bytes, the treq-like client's readers give what they say,
// wrappers accept any IAgent, and what is not a header collection, a body
// producer or a reactor is refused. The runtime assertions check on a
// MemoryReactorClock that the values are what the types claim.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deferred } from 'torsion/defer';
import { MemoryReactorClock } from 'torsion/testing';
import {
  Agent,
  ContentDecoderAgent,
  CookieAgent,
  CookieJar,
  FileBodyProducer,
  getPage,
  Headers,
  HTTPClient,
  type HTTPClientResponse,
  HTTPConnectionPool,
  type IAgent,
  type IBodyProducer,
  RedirectAgent,
  type Response,
  readBody,
} from 'torsion/web';
import { expectType } from './expect-type.js';

test('the HTTP client: agents, bodies and readers are typed as they promise', () => {
  const reactor = new MemoryReactorClock();
  const pool = new HTTPConnectionPool(reactor, { maxPersistentPerHost: 4 });
  const agent = new Agent(reactor, { pool, connectTimeout: 5 });
  const stacked: IAgent = new ContentDecoderAgent(
    new RedirectAgent(new CookieAgent(agent, new CookieJar(reactor))),
  );

  const d = expectType<Deferred<Response>>()(
    stacked.request('GET', 'http://127.0.0.1/', new Headers({ Accept: ['*/*'] })),
  );
  const producer: IBodyProducer = new FileBodyProducer('a body');
  expectType<Deferred<Response>>()(agent.request('POST', 'http://127.0.0.1/', undefined, producer));
  d.addCallback((response) => {
    expectType<number>()(response.code);
    expectType<number | undefined>()(response.length);
    expectType<Deferred<Uint8Array>>()(readBody(response, { maxSize: 1024 }));
  });
  const page = expectType<Deferred<Uint8Array>>()(getPage('http://127.0.0.1/', { agent }));
  page.cancel();
  page.addErrback(() => undefined);

  const client = new HTTPClient(agent);
  client.get('http://127.0.0.1/', { params: { q: 'x' } }).addCallback((response) => {
    expectType<HTTPClientResponse>()(response);
    expectType<Deferred<string>>()(response.text());
    expectType<Deferred<Uint8Array>>()(response.content());
    expectType<Deferred<{ ok: boolean }>>()(response.json<{ ok: boolean }>());
  });

  // Refused at compile time (never called: only tsc looks at these).
  const refused = (): void => {
    // @ts-expect-error: headers are a Headers collection, not a plain record, for an agent
    agent.request('GET', 'http://127.0.0.1/', { Accept: ['*/*'] });
    // @ts-expect-error: a body is an IBodyProducer (wrap bytes in a FileBodyProducer)
    agent.request('POST', 'http://127.0.0.1/', undefined, new Uint8Array(1));
    // @ts-expect-error: an agent needs a reactor that connects, not only a clock
    new Agent({ seconds: () => 0 });
  };
  assert.equal(typeof refused, 'function');

  // What the types claim, at run time: the requests went to the reactor.
  assert.equal(reactor.tcpClients.length, 4);
  assert.equal(reactor.tcpClients[0]?.[3], 5);
});
