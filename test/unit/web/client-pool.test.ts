// HTTPConnectionPool with scripted connections: which connections are
// cached and for how long, which are closed, the one retry of an
// idempotent request on a dead cached connection, and that a cancelled or
// failed request never puts its connection back
// (Twisted: web/test/test_agent.py HTTPConnectionPoolTests,
// HTTPConnectionPoolRetryTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from '../../../src/internet/address.js';
import { CancelledError, type Deferred, succeed } from '../../../src/internet/defer.js';
import { ConnectionDone, ConnectionLost } from '../../../src/internet/error.js';
import { Failure } from '../../../src/internet/failure.js';
import type { IProtocolFactory, IStreamClientEndpoint } from '../../../src/internet/interfaces.js';
import { Clock } from '../../../src/internet/task/clock.js';
import {
  assertNoResult,
  failureResultOf,
  successResultOf,
} from '../../../src/testing/deferred-asserts.js';
import { StringTransportWithDisconnection } from '../../../src/testing/string-transport.js';
import type {
  ClientRequest,
  HTTP11ClientProtocol,
  IBodyProducer,
} from '../../../src/web/client/client-protocol.js';
import { RequestNotSent, ResponseNeverReceived } from '../../../src/web/client/errors.js';
import { HTTPConnectionPool } from '../../../src/web/client/pool.js';
import { readBody } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';

/** An endpoint whose connections complete at once on transports the test reads and answers. */
class ScriptedEndpoint implements IStreamClientEndpoint {
  readonly transports: StringTransportWithDisconnection[] = [];
  connect<F extends IProtocolFactory>(factory: F): Deferred<never> {
    const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 80));
    assert.ok(protocol !== null);
    const transport = new StringTransportWithDisconnection({ lenient: true, protocol });
    protocol.makeConnection(transport);
    this.transports.push(transport);
    return succeed(protocol) as Deferred<never>;
  }
}

const KEY = 'http://example.test';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

function get(method = 'GET', bodyProducer?: IBodyProducer): ClientRequest {
  return {
    method,
    target: '/',
    headers: new Headers({ Host: ['example.test'] }),
    bodyProducer,
    persistent: true,
  };
}

function answer(transport: StringTransportWithDisconnection, data = OK): void {
  transport.protocol?.dataReceived(Buffer.from(data, 'latin1'));
}

/** Sends a request on a connection from the pool, answers it, and reads the body. */
function roundTrip(
  pool: HTTPConnectionPool,
  endpoint: ScriptedEndpoint,
  reply = OK,
): StringTransportWithDisconnection {
  const d = pool.getConnection(KEY, endpoint).addCallback((c) => c.request(get()));
  const transport = endpoint.transports.at(-1) as StringTransportWithDisconnection;
  answer(transport, reply);
  successResultOf(readBody(successResultOf(d)));
  return transport;
}

describe('HTTPConnectionPool: caching', () => {
  test('a connection is cached after its response and handed out again', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock);
    const endpoint = new ScriptedEndpoint();
    const first = roundTrip(pool, endpoint);
    assert.equal(pool.idleConnections(KEY), 1);
    assert.equal(first.disconnecting, false);
    first.clear();
    const second = roundTrip(pool, endpoint);
    assert.equal(second, first, 'the same connection');
    assert.equal(endpoint.transports.length, 1);
    assert.match(Buffer.from(first.value()).toString(), /^GET \/ HTTP\/1\.1\r\n/);
  });

  test('keys are kept apart', () => {
    const pool = new HTTPConnectionPool(new Clock());
    const endpoint = new ScriptedEndpoint();
    roundTrip(pool, endpoint);
    successResultOf(pool.getConnection('http://other.test', endpoint));
    assert.equal(endpoint.transports.length, 2);
    assert.equal(pool.idleConnections(KEY), 1);
  });

  test('at most maxPersistentPerHost idle connections; the oldest is closed to make room', () => {
    const pool = new HTTPConnectionPool(new Clock(), { maxPersistentPerHost: 2 });
    const endpoint = new ScriptedEndpoint();
    const requests = [0, 1, 2].map(() =>
      pool.getConnection(KEY, endpoint).addCallback((c) => c.request(get())),
    );
    assert.equal(endpoint.transports.length, 3, 'connections in use are not limited');
    for (const [i, transport] of endpoint.transports.entries()) {
      answer(transport);
      successResultOf(readBody(successResultOf(requests[i] as Deferred<never>)));
    }
    assert.equal(pool.idleConnections(KEY), 2);
    assert.deepEqual(
      endpoint.transports.map((t) => t.disconnecting),
      [true, false, false],
    );
  });

  test('an idle connection is closed after cachedConnectionTimeout', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock, { cachedConnectionTimeout: 10 });
    const endpoint = new ScriptedEndpoint();
    const transport = roundTrip(pool, endpoint);
    clock.advance(9.9);
    assert.equal(transport.disconnecting, false);
    clock.advance(0.1);
    assert.equal(transport.disconnecting, true);
    assert.equal(pool.idleConnections(KEY), 0);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('a cached connection the server closes is forgotten, with its timer', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock);
    const endpoint = new ScriptedEndpoint();
    const transport = roundTrip(pool, endpoint);
    transport.protocol?.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(pool.idleConnections(KEY), 0);
    assert.equal(clock.getDelayedCalls().length, 0);
    successResultOf(pool.getConnection(KEY, endpoint));
    assert.equal(endpoint.transports.length, 2);
  });

  test('a response that closes the connection does not come back', () => {
    const pool = new HTTPConnectionPool(new Clock());
    const endpoint = new ScriptedEndpoint();
    const transport = roundTrip(
      pool,
      endpoint,
      'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
    );
    assert.equal(transport.disconnecting, true);
    assert.equal(pool.idleConnections(KEY), 0);
  });

  test('a pool that is not persistent asks for Connection: close and keeps nothing', () => {
    const pool = new HTTPConnectionPool(new Clock(), { persistent: false });
    const endpoint = new ScriptedEndpoint();
    const d = pool
      .getConnection(KEY, endpoint)
      .addCallback((c) => c.request({ ...get(), persistent: pool.persistent }));
    const transport = endpoint.transports[0] as StringTransportWithDisconnection;
    assert.match(Buffer.from(transport.value()).toString(), /\r\nConnection: close\r\n/);
    answer(transport, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    successResultOf(readBody(successResultOf(d)));
    assert.equal(transport.disconnecting, true);
    assert.equal(pool.idleConnections(KEY), 0);
  });

  test('closeCachedConnections closes every idle connection and fires when they are closed', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock);
    const endpoint = new ScriptedEndpoint();
    const a = roundTrip(pool, endpoint);
    const d = pool.getConnection('http://b.test', endpoint).addCallback((c) => c.request(get()));
    const b = endpoint.transports[1] as StringTransportWithDisconnection;
    answer(b);
    successResultOf(readBody(successResultOf(d)));
    successResultOf(pool.closeCachedConnections());
    assert.deepEqual([a.disconnecting, b.disconnecting], [true, true]);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('refuses settings that make no sense', () => {
    assert.throws(
      () => new HTTPConnectionPool(new Clock(), { maxPersistentPerHost: -1 }),
      RangeError,
    );
    assert.throws(
      () => new HTTPConnectionPool(new Clock(), { maxPersistentPerHost: 1.5 }),
      RangeError,
    );
    assert.throws(
      () => new HTTPConnectionPool(new Clock(), { cachedConnectionTimeout: Number.NaN }),
      RangeError,
    );
  });
});

describe('HTTPConnectionPool: a request that fails or is abandoned', () => {
  test('cancelled while waiting for the response: the connection is closed, not cached', () => {
    const pool = new HTTPConnectionPool(new Clock());
    const endpoint = new ScriptedEndpoint();
    const d = pool.getConnection(KEY, endpoint).addCallback((c) => c.request(get()));
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal((endpoint.transports[0] as StringTransportWithDisconnection).disconnecting, true);
    assert.equal(pool.idleConnections(KEY), 0);
  });

  test('cancelled while reading the body: the connection is closed, not cached', () => {
    const pool = new HTTPConnectionPool(new Clock());
    const endpoint = new ScriptedEndpoint();
    const d = pool.getConnection(KEY, endpoint).addCallback((c) => c.request(get()));
    const transport = endpoint.transports[0] as StringTransportWithDisconnection;
    answer(transport, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf');
    const body = readBody(successResultOf(d));
    body.cancel();
    failureResultOf(body, CancelledError);
    assert.equal(transport.disconnecting, true);
    assert.equal(pool.idleConnections(KEY), 0);
  });
});

describe('HTTPConnectionPool: the retry on a dead cached connection', () => {
  /** A pool with one cached connection, and what the next request does on it. */
  function cached(options: { retryAutomatically?: boolean } = {}): {
    pool: HTTPConnectionPool;
    endpoint: ScriptedEndpoint;
    stale: StringTransportWithDisconnection;
  } {
    const pool = new HTTPConnectionPool(new Clock(), options);
    const endpoint = new ScriptedEndpoint();
    const stale = roundTrip(pool, endpoint);
    stale.clear();
    return { pool, endpoint, stale };
  }

  test('an idempotent request whose cached connection was lost is sent again on a new one', () => {
    const { pool, endpoint, stale } = cached();
    const d = pool.getConnection(KEY, endpoint).addCallback((c) => c.request(get()));
    stale.protocol?.connectionLost(new Failure(new ConnectionLost()));
    assert.equal(endpoint.transports.length, 2);
    const fresh = endpoint.transports[1] as StringTransportWithDisconnection;
    assert.match(Buffer.from(fresh.value()).toString(), /^GET \/ HTTP\/1\.1\r\n/);
    answer(fresh);
    assert.equal(successResultOf(d).code, 200);
  });

  test('only once: a second failure is reported', () => {
    const { pool, endpoint, stale } = cached();
    const d = pool.getConnection(KEY, endpoint).addCallback((c) => c.request(get()));
    stale.protocol?.connectionLost(new Failure(new ConnectionLost()));
    (endpoint.transports[1] as StringTransportWithDisconnection).protocol?.connectionLost(
      new Failure(new ConnectionLost()),
    );
    failureResultOf(d, ResponseNeverReceived);
    assert.equal(endpoint.transports.length, 2);
  });

  test('a POST is not sent again', () => {
    const { pool, endpoint, stale } = cached();
    const d = pool.getConnection(KEY, endpoint).addCallback((c) => c.request(get('POST')));
    stale.protocol?.connectionLost(new Failure(new ConnectionLost()));
    failureResultOf(d, ResponseNeverReceived);
    assert.equal(endpoint.transports.length, 1);
  });

  test('a request with a body is not sent again', () => {
    const { pool, endpoint, stale } = cached();
    const producer: IBodyProducer = {
      length: 1,
      startProducing: (consumer) => {
        consumer.write(Buffer.from('x'));
        return succeed(undefined);
      },
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {},
    };
    const d = pool
      .getConnection(KEY, endpoint)
      .addCallback((c) => c.request(get('DELETE', producer)));
    stale.protocol?.connectionLost(new Failure(new ConnectionLost()));
    failureResultOf(d, ResponseNeverReceived);
    assert.equal(endpoint.transports.length, 1);
  });

  test('not with retryAutomatically: false', () => {
    const { pool, endpoint, stale } = cached({ retryAutomatically: false });
    const d = pool.getConnection(KEY, endpoint).addCallback((c) => c.request(get()));
    stale.protocol?.connectionLost(new Failure(new ConnectionLost()));
    failureResultOf(d, ResponseNeverReceived);
    assert.equal(endpoint.transports.length, 1);
  });

  test('a connection waiting for a response refuses a second request (RequestNotSent)', () => {
    const { pool, endpoint, stale } = cached();
    // The connection goes back to quiescent only after a response; a second
    // request on it while the first waits is refused by the protocol.
    const connection = successResultOf(pool.getConnection(KEY, endpoint));
    assertNoResult(connection.request(get()));
    const second = (stale.protocol as HTTP11ClientProtocol).request(get());
    failureResultOf(second, RequestNotSent);
  });
});
