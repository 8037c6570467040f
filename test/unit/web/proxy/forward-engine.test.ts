// The forwarding engine on scripted connections: a server channel on a
// StringTransport in front, upstream connections on StringTransports
// behind; what is sent each way, pooling, backpressure both ways, the
// 502/504 pages, a client that goes away, filters, statistics, outcomes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from '../../../../src/internet/address.js';
import { type Deferred, fail, succeed } from '../../../../src/internet/defer.js';
import {
  ConnectionLost,
  ConnectionRefusedError,
  TimeoutError,
} from '../../../../src/internet/error.js';
import { Failure } from '../../../../src/internet/failure.js';
import type {
  IProtocolFactory,
  IPushProducer,
  IStreamClientEndpoint,
} from '../../../../src/internet/interfaces.js';
import type { Clock } from '../../../../src/internet/task/clock.js';
import { captureLogs } from '../../../../src/logger/capture.js';
import { MemoryReactorClock } from '../../../../src/testing/memory-reactor.js';
import { StringTransportWithDisconnection } from '../../../../src/testing/string-transport.js';
import { HTTPConnectionPool } from '../../../../src/web/client/pool.js';
import { Headers } from '../../../../src/web/headers.js';
import {
  Forwarder,
  type ForwardOptions,
  type ForwardOutcome,
  type ForwardTarget,
} from '../../../../src/web/proxy/_forward.js';
import type {
  IProxyStats,
  ProxiedRequestInfo,
  ProxiedResponseInfo,
} from '../../../../src/web/proxy/hooks.js';
import type { Request } from '../../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../../src/web/resource.js';
import { connect } from '../_server.js';

/** An upstream whose connections complete at once (or fail as told) on transports the test answers. */
class Upstream implements IStreamClientEndpoint {
  readonly transports: StringTransportWithDisconnection[] = [];
  failWith: Error | undefined;
  /** Connections wait for `complete()` instead of completing at once. */
  hold = false;
  held: (() => void)[] = [];
  connect<F extends IProtocolFactory>(factory: F): Deferred<never> {
    if (this.failWith !== undefined) return fail(this.failWith) as Deferred<never>;
    const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 80));
    assert.ok(protocol !== null);
    const transport = new StringTransportWithDisconnection({ lenient: true, protocol });
    protocol.makeConnection(transport);
    this.transports.push(transport);
    return succeed(protocol) as Deferred<never>;
  }
  get last(): StringTransportWithDisconnection {
    const t = this.transports.at(-1);
    assert.ok(t !== undefined, 'no upstream connection');
    return t;
  }
  answer(data: string | Buffer, transport = this.last): void {
    transport.protocol?.dataReceived(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }
  sent(transport = this.last): string {
    return transport.value().toString('latin1');
  }
}

/** A resource that forwards every request to the upstream, its path kept. */
class Forwarding extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  constructor(
    readonly forwarder: Forwarder,
    readonly name = 'backend.test:8000',
  ) {
    super();
  }
  override render(request: Request): typeof NOT_DONE_YET {
    const target: ForwardTarget = {
      scheme: 'http',
      host: 'backend.test',
      port: 8000,
      path: request.uri,
      headers: request.requestHeaders,
      name: this.name,
    };
    this.forwarder.forward(request, target);
    return NOT_DONE_YET;
  }
}

interface Setup {
  readonly upstream: Upstream;
  readonly clock: Clock;
  readonly forwarder: Forwarder;
  readonly pool: HTTPConnectionPool;
  readonly outcomes: ForwardOutcome[];
  readonly conn: ReturnType<typeof connect>;
}

function setup(options: Partial<ForwardOptions> = {}): Setup {
  const reactor = new MemoryReactorClock();
  const clock = reactor as unknown as Clock;
  const upstream = new Upstream();
  const outcomes: ForwardOutcome[] = [];
  const pool = new HTTPConnectionPool(reactor, { maxPersistentPerHost: 4 });
  const forwarder = new Forwarder({
    reactor,
    pool,
    endpointFor: () => upstream,
    onOutcome: (_target, outcome) => outcomes.push(outcome),
    ...options,
  });
  const conn = connect(new Forwarding(forwarder), { clock: reactor as unknown as Clock });
  return { upstream, clock, forwarder, pool, outcomes, conn };
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello';

describe('Forwarder: what goes upstream and back', () => {
  test('a GET is sent with its path and headers, and the answer comes back', () => {
    const { upstream, conn, outcomes } = setup();
    conn.send('GET /a/b?x=1 HTTP/1.1\r\nHost: front.test\r\nAccept: */*\r\n\r\n');
    const sent = upstream.sent();
    assert.match(sent, /^GET \/a\/b\?x=1 HTTP\/1\.1\r\n/);
    assert.match(sent, /\r\nHost: front\.test\r\n/);
    assert.match(sent, /\r\nAccept: \*\/\*\r\n/);
    assert.doesNotMatch(sent, /Connection: close/i, 'the upstream connection is kept alive');
    upstream.answer(OK);
    const [reply] = conn.replies();
    assert.equal(reply?.status, 200);
    assert.equal(reply?.body, 'hello');
    assert.equal(reply?.header('content-type'), 'text/plain');
    assert.deepEqual(outcomes, ['ok']);
  });

  test('hop-by-hop headers are removed both ways; repeated headers keep their order', () => {
    const { upstream, conn } = setup();
    conn.send(
      'GET / HTTP/1.1\r\nHost: front.test\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n' +
        'Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eDp5\r\n' +
        'TE: trailers, deflate\r\nUpgrade: h2c\r\nX-Rep: 1\r\nX-Other: a\r\nX-Rep: 2\r\n\r\n',
    );
    const sent = upstream.sent();
    for (const gone of [
      'X-Hop',
      'Keep-Alive',
      'Proxy-Connection',
      'Proxy-Authorization',
      'Upgrade',
    ]) {
      assert.doesNotMatch(sent, new RegExp(`\\r\\n${gone}:`, 'i'), gone);
    }
    assert.match(sent, /\r\nTE: trailers\r\n/);
    assert.match(sent, /X-Rep: 1\r\nX-Rep: 2\r\n/);
    upstream.answer(
      'HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\n' +
        'Proxy-Authenticate: Basic\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n',
    );
    const [reply] = conn.replies();
    assert.equal(reply?.header('x-secret'), undefined);
    assert.equal(reply?.header('keep-alive'), undefined);
    assert.equal(reply?.header('proxy-authenticate'), undefined);
    assert.deepEqual(
      reply?.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v),
      ['a=1', 'b=2'],
    );
    assert.notEqual(reply?.header('connection'), 'X-Secret');
  });

  test("the upstream's Date is kept; a response without one gets the proxy's", () => {
    const { upstream, conn } = setup();
    conn.send('GET /1 HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer(
      'HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2001 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n',
    );
    conn.send('GET /2 HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    const [kept, added] = conn.replies();
    assert.equal(kept?.header('date'), 'Mon, 01 Jan 2001 00:00:00 GMT');
    assert.match(added?.header('date') ?? '', /GMT$/);
  });

  test('a Host header is added from the target when the request has none', () => {
    const { upstream, conn } = setup();
    conn.send('GET / HTTP/1.0\r\n\r\n');
    assert.match(upstream.sent(), /\r\nHost: backend\.test:8000\r\n/);
  });

  test('upstream connections are pooled and reused with keep-alive', () => {
    const { upstream, conn, pool } = setup();
    conn.send('GET /1 HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer(OK);
    assert.equal(pool.idleConnections('http://backend.test:8000'), 1);
    conn.send('GET /2 HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer(OK);
    assert.equal(upstream.transports.length, 1, 'one upstream connection for both');
    assert.equal(conn.replies().length, 2);
  });

  test('a chunked upstream body is streamed to the client as it arrives', () => {
    const { upstream, conn } = setup();
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n');
    assert.match(conn.output(), /first/, 'sent before the end');
    assert.equal(conn.replies().length, 0);
    upstream.answer('6\r\nsecond\r\n0\r\n\r\n');
    assert.equal(conn.replies()[0]?.body, 'firstsecond');
  });

  test('HEAD, 204 and 304 answers carry no body', () => {
    const { upstream, conn } = setup();
    conn.send('HEAD / HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
    conn.send('GET /a HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 204 No Content\r\n\r\n');
    conn.send('GET /b HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n');
    const replies = conn.replies(['HEAD', 'GET', 'GET']);
    assert.deepEqual(
      replies.map((r) => [r.status, r.body]),
      [
        [200, ''],
        [204, ''],
        [304, ''],
      ],
    );
    assert.equal(replies[0]?.header('content-length'), '100');
    assert.equal(upstream.transports.length, 1, 'the connection survived all three');
  });

  test('a request body is streamed upstream as it arrives', () => {
    const { upstream, conn } = setup();
    conn.send('POST /up HTTP/1.1\r\nHost: f\r\nContent-Length: 10\r\n\r\nhello');
    assert.match(upstream.sent(), /Content-Length: 10\r\n\r\nhello$/);
    conn.send('world');
    assert.match(upstream.sent(), /helloworld$/);
    upstream.answer(OK);
    assert.equal(conn.replies()[0]?.status, 200);
  });

  test('a chunked request body goes upstream chunked', () => {
    const { upstream, conn } = setup();
    conn.send(
      'POST / HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    );
    const sent = upstream.sent();
    assert.match(sent, /Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n$/);
  });
});

describe('Forwarder: an upstream that answers while the body is coming', () => {
  test('the answer streams back while the upload goes on (both ways at once)', () => {
    const { upstream, conn, outcomes } = setup();
    conn.send('POST /echo HTTP/1.1\r\nHost: f\r\nContent-Length: 6\r\n\r\nabc');
    upstream.answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    assert.match(
      conn.output(),
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n3\r\nabc\r\n$/,
      'head and first part out',
    );
    conn.send('def');
    assert.match(upstream.sent(), /abcdef$/, 'the upload went on');
    upstream.answer('3\r\ndef\r\n0\r\n\r\n');
    assert.equal(conn.replies()[0]?.body, 'abcdef');
    assert.deepEqual(outcomes, ['ok']);
  });

  test('the upstream connection lost mid-upload, after its head: the response is cut short', () => {
    const { upstream, conn, outcomes } = setup();
    conn.send('POST / HTTP/1.1\r\nHost: f\r\nContent-Length: 6\r\n\r\nabc');
    upstream.answer('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab');
    upstream.last.protocol?.connectionLost(new Failure(new ConnectionLost('reset')));
    assert.equal(conn.transport.disconnecting, true);
    assert.deepEqual(outcomes, ['failed']);
  });
});

describe('Forwarder: backpressure', () => {
  test('a slow upstream pauses reading the client, and resumes it', () => {
    const { upstream, conn } = setup();
    conn.send('POST / HTTP/1.1\r\nHost: f\r\nContent-Length: 6\r\n\r\nabc');
    const producer = upstream.last.producer as IPushProducer;
    assert.ok(producer !== undefined, 'the body is a producer on the upstream connection');
    producer.pauseProducing();
    conn.send('d'); // the channel keeps what arrives but reads no more from the client
    assert.equal(conn.transport.producerState, 'paused');
    producer.resumeProducing();
    assert.equal(conn.transport.producerState, 'producing');
    conn.send('ef');
    assert.match(upstream.sent(), /abcdef$/);
  });

  test('a slow client pauses the upstream, and resumes it', () => {
    const { upstream, conn } = setup();
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    const producer = conn.transport.producer as IPushProducer;
    assert.ok(producer !== undefined, 'the response is a producer on the client connection');
    producer.pauseProducing();
    assert.equal(upstream.last.producerState, 'paused');
    producer.resumeProducing();
    assert.equal(upstream.last.producerState, 'producing');
    upstream.answer('defghij');
    assert.equal(conn.replies()[0]?.body, 'abcdefghij');
    assert.equal(conn.transport.producer, undefined, 'unregistered at the end');
  });
});

describe('Forwarder: upstream failures', () => {
  test('a refused connection is a 502 page naming the upstream and the reason', () => {
    const { upstream, conn, outcomes } = setup();
    upstream.failWith = new ConnectionRefusedError('127.0.0.1:8000');
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    const [reply] = conn.replies();
    assert.equal(reply?.status, 502);
    assert.match(reply?.body ?? '', /backend\.test:8000/);
    assert.match(reply?.body ?? '', /refused the connection/);
    assert.equal(reply?.header('content-type'), 'text/html; charset=utf-8');
    assert.deepEqual(outcomes, ['failed']);
  });

  test('a connect timeout is a 504', () => {
    const { upstream, conn } = setup({ connectTimeout: 3 });
    upstream.failWith = new TimeoutError('127.0.0.1:8000');
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    const [reply] = conn.replies();
    assert.equal(reply?.status, 504);
    assert.match(reply?.body ?? '', /within 3 seconds/);
  });

  test('no response within responseTimeout is a 504, and the upstream connection is aborted', () => {
    const { upstream, conn, clock, pool } = setup({ responseTimeout: 5 });
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    clock.advance(4.9);
    assert.equal(conn.replies().length, 0);
    clock.advance(0.2);
    const [reply] = conn.replies();
    assert.equal(reply?.status, 504);
    assert.match(reply?.body ?? '', /did not answer within 5 seconds/);
    assert.equal(upstream.last.disconnected, true);
    assert.equal(pool.idleConnections('http://backend.test:8000'), 0);
  });

  test('the response timeout starts when the request body has been sent', () => {
    const { upstream, conn, clock } = setup({ responseTimeout: 5 });
    conn.send('POST / HTTP/1.1\r\nHost: f\r\nContent-Length: 2\r\n\r\na');
    clock.advance(10);
    assert.equal(conn.replies().length, 0, 'still uploading');
    conn.send('b');
    clock.advance(5.1);
    assert.equal(conn.replies()[0]?.status, 504);
    assert.ok(upstream.transports.length === 1);
  });

  test('a reset before the answer is a 502', () => {
    const { upstream, conn } = setup();
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.last.protocol?.connectionLost(new Failure(new ConnectionLost('reset')));
    const [reply] = conn.replies();
    assert.equal(reply?.status, 502);
    assert.match(reply?.body ?? '', /closed the connection without answering/);
  });

  test('a malformed response is a 502', () => {
    const { upstream, conn } = setup();
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 2x0 Nope\r\n\r\n');
    const [reply] = conn.replies();
    assert.equal(reply?.status, 502);
    assert.match(reply?.body ?? '', /malformed response/);
  });

  test('a body cut short mid-way cuts the client response short (no false end)', () => {
    const { upstream, conn, outcomes } = setup();
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    upstream.last.protocol?.connectionLost(new Failure(new ConnectionLost('reset')));
    assert.doesNotMatch(conn.output(), /0\r\n\r\n$/, 'no last chunk');
    assert.equal(conn.transport.disconnecting, true, 'the client connection is closed');
    assert.deepEqual(outcomes, ['failed']);
  });

  test('statistics hear of every request and every upstream error', () => {
    const calls: string[] = [];
    const stats: IProxyStats = {
      connectionOpened() {},
      connectionClosed() {},
      request: (info) => calls.push(`request ${info.method} ${info.url}`),
      blocked() {},
      imageBlocked() {},
      cookiesStripped() {},
      upstreamError: (info, reason) => calls.push(`error ${info.path} ${reason}`),
    };
    const { upstream, conn } = setup({ stats });
    upstream.failWith = new ConnectionRefusedError('x');
    conn.send('GET /p?q HTTP/1.1\r\nHost: f\r\n\r\n');
    assert.deepEqual(calls, [
      'request GET http://backend.test:8000/p?q',
      'error /p?q refused the connection',
    ]);
  });
});

describe('Forwarder: a client that goes away', () => {
  test('while waiting for the answer: the upstream request is aborted, not pooled', () => {
    const { upstream, conn, pool, outcomes } = setup();
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    conn.transport.loseConnection();
    assert.equal(upstream.last.disconnected, true);
    assert.equal(pool.idleConnections('http://backend.test:8000'), 0);
    assert.deepEqual(outcomes, ['cancelled']);
  });

  test('while the body streams back: the upstream connection is closed', () => {
    const { upstream, conn, pool, outcomes } = setup();
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    conn.transport.loseConnection();
    assert.equal(upstream.last.connected, false);
    assert.equal(pool.idleConnections('http://backend.test:8000'), 0);
    assert.deepEqual(outcomes, ['cancelled']);
  });

  test('while uploading: the upstream request is abandoned', () => {
    const { upstream, conn, outcomes } = setup();
    conn.send('POST / HTTP/1.1\r\nHost: f\r\nContent-Length: 10\r\n\r\nabc');
    conn.transport.loseConnection();
    assert.equal(upstream.last.connected, false);
    assert.deepEqual(outcomes, ['cancelled']);
  });
});

describe('Forwarder: filters', () => {
  test("a request filter's answer is sent instead, with a Content-Length", () => {
    const seen: ProxiedRequestInfo[] = [];
    const { upstream, conn } = setup({
      filter: {
        filterRequest(info) {
          seen.push(info);
          return {
            code: 403,
            headers: [['Content-Type', 'text/plain']],
            body: 'blocked',
          };
        },
      },
    });
    conn.send('GET /ads HTTP/1.1\r\nHost: f\r\n\r\n');
    const [reply] = conn.replies();
    assert.equal(reply?.status, 403);
    assert.equal(reply?.body, 'blocked');
    assert.equal(reply?.header('content-length'), '7');
    assert.equal(upstream.transports.length, 0, 'nothing sent upstream');
    assert.equal(seen[0]?.host, 'backend.test');
    assert.equal(seen[0]?.port, 8000);
    assert.equal(seen[0]?.path, '/ads');
    assert.equal(seen[0]?.clientAddress.toString(), conn.transport.getPeer().toString());
  });

  test('a request filter may edit the headers sent', () => {
    const { upstream, conn } = setup({
      filter: {
        filterRequest(info) {
          info.headers.removeHeader('cookie');
          return undefined;
        },
      },
    });
    conn.send('GET / HTTP/1.1\r\nHost: f\r\nCookie: a=1\r\n\r\n');
    assert.doesNotMatch(upstream.sent(), /Cookie/i);
  });

  test('a filter that throws is logged and answered 500', () => {
    const { conn } = setup({
      filter: {
        filterRequest() {
          throw new Error('filter bug');
        },
      },
    });
    const logs = captureLogs();
    try {
      conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    } finally {
      logs.stop();
    }
    assert.equal(conn.replies()[0]?.status, 500);
    assert.ok(logs.events.some((e) => e.log_failure?.getErrorMessage() === 'filter bug'));
  });

  test("a response filter's answer replaces the upstream's, whose connection closes", () => {
    const seen: ProxiedResponseInfo[] = [];
    const { upstream, conn } = setup({
      filter: {
        filterResponse(_info, response) {
          seen.push(response);
          return response.headers.getRawHeaders('content-type')?.[0]?.startsWith('image/')
            ? { code: 403, body: 'no images' }
            : undefined;
        },
      },
    });
    conn.send('GET /i.png HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\n');
    const [reply] = conn.replies();
    assert.equal(reply?.status, 403);
    assert.equal(reply?.body, 'no images');
    assert.equal(seen[0]?.code, 200);
    assert.equal(upstream.last.connected, false);
  });

  test('a response filter may edit the headers passed on; rewriteResponseHeaders runs first', () => {
    const { upstream, conn } = setup({
      rewriteResponseHeaders: (headers) => headers.addRawHeader('X-Proxied', 'yes'),
      filter: {
        filterResponse(_info, response) {
          assert.equal(response.headers.getRawHeaders('x-proxied')?.[0], 'yes');
          response.headers.removeHeader('set-cookie');
          return undefined;
        },
      },
    });
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    upstream.answer('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\n\r\nok');
    const [reply] = conn.replies();
    assert.equal(reply?.header('set-cookie'), undefined);
    assert.equal(reply?.header('x-proxied'), 'yes');
    assert.equal(reply?.body, 'ok');
  });
});

describe('Forwarder: options', () => {
  test('bad timeouts are refused with a clear error', () => {
    const reactor = new MemoryReactorClock();
    assert.throws(() => new Forwarder({ reactor, connectTimeout: 0 }), /connectTimeout/);
    assert.throws(() => new Forwarder({ reactor, responseTimeout: -1 }), /responseTimeout/);
  });

  test('headers given for the target are the ones sent', () => {
    const reactor = new MemoryReactorClock();
    const upstream = new Upstream();
    const forwarder = new Forwarder({ reactor, endpointFor: () => upstream });
    class Custom extends Resource {
      override isLeaf = true;
      override render(request: Request): typeof NOT_DONE_YET {
        forwarder.forward(request, {
          scheme: 'http',
          host: '::1',
          port: 9000,
          path: '/x',
          headers: new Headers({ 'X-Only': ['this'] }),
        });
        return NOT_DONE_YET;
      }
    }
    const conn = connect(new Custom(), { clock: reactor as unknown as Clock });
    conn.send('GET / HTTP/1.1\r\nHost: f\r\nX-Not: sent\r\n\r\n');
    const sent = upstream.sent();
    assert.match(sent, /^GET \/x HTTP\/1\.1\r\n/);
    assert.match(sent, /\r\nHost: \[::1\]:9000\r\n/);
    assert.match(sent, /X-Only: this/);
    assert.doesNotMatch(sent, /X-Not/);
  });
});
