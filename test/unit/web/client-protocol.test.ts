// HTTP11ClientProtocol on a StringTransport: what it writes for a request,
// how it reads a response and its body, the failures it reports, and the
// whole client against Torsion's own server over an in-memory connection.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred } from '../../../src/internet/defer.js';
import { ConnectionAborted } from '../../../src/internet/error.js';
import type { Failure } from '../../../src/internet/failure.js';
import type { IConsumer } from '../../../src/internet/interfaces.js';
import { Clock } from '../../../src/internet/task/clock.js';
import { failureResultOf, successResultOf } from '../../../src/testing/deferred-asserts.js';
import { connectedServerAndClient } from '../../../src/testing/iosim.js';
import { StringTransportWithDisconnection } from '../../../src/testing/string-transport.js';
import {
  HTTP11ClientProtocol,
  type IBodyProducer,
} from '../../../src/web/client/client-protocol.js';
import {
  PartialDownloadError,
  PotentialDataLoss,
  RequestGenerationFailed,
  RequestNotSent,
  RequestTransmissionFailed,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  WrongBodyLength,
} from '../../../src/web/client/errors.js';
import { type Response, readBody } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';
import type { Request } from '../../../src/web/request.js';
import { Resource } from '../../../src/web/resource.js';
import { Site } from '../../../src/web/site.js';

function setup(quiescent?: (p: HTTP11ClientProtocol) => void): {
  protocol: HTTP11ClientProtocol;
  transport: StringTransportWithDisconnection;
  written(): string;
  reply(data: string): void;
} {
  const protocol = new HTTP11ClientProtocol(quiescent);
  const transport = new StringTransportWithDisconnection({ lenient: true });
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  return {
    protocol,
    transport,
    written: () => transport.value().toString('latin1'),
    reply: (data) => protocol.dataReceived(Buffer.from(data, 'latin1')),
  };
}

const headers = (host = 'example.com'): Headers => new Headers({ Host: [host] });

/** A producer that writes its chunks when told to, and finishes on `end()`. */
class ManualProducer implements IBodyProducer {
  consumer: IConsumer | undefined;
  readonly done = new Deferred<void>();
  events: string[] = [];
  constructor(readonly length: number | undefined) {}
  startProducing(consumer: IConsumer): PromiseLike<void> {
    this.consumer = consumer;
    return this.done;
  }
  pauseProducing(): void {
    this.events.push('pause');
  }
  resumeProducing(): void {
    this.events.push('resume');
  }
  stopProducing(): void {
    this.events.push('stop');
  }
}

/** Reads the body of `response` through readBody, synchronously. */
function body(response: Response): string {
  return Buffer.from(successResultOf(readBody(response))).toString('latin1');
}

describe('HTTP11ClientProtocol', () => {
  test('a GET: the request line, Host, Connection: close; the response and its body; then the close', () => {
    const c = setup();
    const d = c.protocol.request({ method: 'GET', target: '/a?b=1', headers: headers() });
    assert.equal(
      c.written(),
      'GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n',
    );
    c.reply('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhe');
    const response = successResultOf(d);
    assert.equal(response.code, 200);
    assert.equal(response.phrase, 'OK');
    assert.equal(response.version, 'HTTP/1.1');
    assert.equal(response.length, 5);
    assert.deepEqual(response.headers.getRawHeaders('x-a'), ['1']);
    assert.equal(c.transport.producerState, 'paused', 'no reading until someone takes the body');
    const all = readBody(response);
    assert.equal(c.transport.producerState, 'producing');
    c.reply('llo');
    assert.equal(Buffer.from(successResultOf(all)).toString(), 'hello');
    assert.equal(c.transport.disconnecting, true);
  });

  test('a persistent request: quiescent after the response, the callback called, a second request goes', () => {
    const quiet: HTTP11ClientProtocol[] = [];
    const c = setup((p) => quiet.push(p));
    const first = c.protocol.request({
      method: 'GET',
      target: '/',
      headers: headers(),
      persistent: true,
    });
    assert.ok(!c.written().includes('Connection'));
    c.reply('HTTP/1.1 204 No Content\r\n\r\n');
    assert.equal(successResultOf(first).code, 204);
    assert.equal(c.protocol.state, 'quiescent');
    assert.deepEqual(quiet, [c.protocol]);
    assert.equal(c.transport.disconnecting, false);
    c.transport.clear();
    const second = c.protocol.request({
      method: 'HEAD',
      target: '/h',
      headers: headers(),
      persistent: true,
    });
    c.reply('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
    const response = successResultOf(second);
    assert.equal(response.length, 0);
    assert.equal(body(response), '');
    assert.equal(quiet.length, 2);
  });

  test('a response with Connection: close, or HTTP/1.0 without keep-alive, is not reused', () => {
    for (const head of ['HTTP/1.1 200 OK\r\nConnection: close\r\n', 'HTTP/1.0 200 OK\r\n']) {
      const quiet: HTTP11ClientProtocol[] = [];
      const c = setup((p) => quiet.push(p));
      const d = c.protocol.request({
        method: 'GET',
        target: '/',
        headers: headers(),
        persistent: true,
      });
      c.reply(`${head}Content-Length: 1\r\n\r\nx`);
      assert.equal(body(successResultOf(d)), 'x');
      assert.deepEqual(quiet, []);
      assert.equal(c.transport.disconnecting, true, head);
    }
  });

  test('a second request while one is in progress is refused with RequestNotSent, nothing written', () => {
    const c = setup();
    c.protocol.request({ method: 'GET', target: '/', headers: headers() });
    const before = c.written();
    failureResultOf(
      c.protocol.request({ method: 'GET', target: '/2', headers: headers() }),
      RequestNotSent,
    );
    assert.equal(c.written(), before);
  });

  test('a bad method or target is refused before anything is written', () => {
    const c = setup();
    for (const [method, target] of [
      ['GE T', '/'],
      ['GET', '/a b'],
      ['GET', '/a\r\nX: y'],
      ['GET', ''],
    ] as const) {
      const f = failureResultOf(
        c.protocol.request({ method, target, headers: headers() }),
        RequestGenerationFailed,
      );
      assert.match(f.getErrorMessage(), /not an HTTP method|not a request-target/);
    }
    assert.equal(c.written(), '');
    assert.equal(c.protocol.state, 'quiescent');
  });

  test('POST without a body sends Content-Length: 0; with a known length, the body after it', () => {
    const a = setup();
    a.protocol.request({ method: 'POST', target: '/', headers: headers() });
    assert.match(a.written(), /\r\nContent-Length: 0\r\n/);

    const b = setup();
    const producer = new ManualProducer(5);
    const d = b.protocol.request({
      method: 'PUT',
      target: '/x',
      headers: headers(),
      bodyProducer: producer,
    });
    assert.match(b.written(), /\r\nContent-Length: 5\r\n/);
    assert.equal(b.transport.producer, producer, 'registered with the transport for backpressure');
    producer.consumer?.write(Buffer.from('ab'));
    producer.consumer?.write(Buffer.from('cde'));
    producer.done.callback(undefined);
    assert.ok(b.written().endsWith('\r\n\r\nabcde'));
    assert.equal(b.transport.producer, undefined);
    b.reply('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
    assert.equal(successResultOf(d).code, 201);
  });

  test('a body of unknown length is sent chunked', () => {
    const c = setup();
    const producer = new ManualProducer(undefined);
    c.protocol.request({ method: 'POST', target: '/', headers: headers(), bodyProducer: producer });
    producer.consumer?.write(Buffer.from('hello'));
    producer.consumer?.write(Buffer.alloc(0));
    producer.consumer?.write(Buffer.from('!'));
    producer.done.callback(undefined);
    assert.match(c.written(), /\r\nTransfer-Encoding: chunked\r\n/);
    assert.ok(c.written().endsWith('\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n'));
  });

  test('a body producer that writes the wrong length, or fails, fails the request and aborts', () => {
    const over = setup();
    const p1 = new ManualProducer(2);
    const d1 = over.protocol.request({
      method: 'PUT',
      target: '/',
      headers: headers(),
      bodyProducer: p1,
    });
    p1.consumer?.write(Buffer.from('abc'));
    const tooLong = failureResultOf(d1, RequestGenerationFailed);
    assert.ok((tooLong.value as RequestGenerationFailed).reasons[0]?.check(WrongBodyLength));
    assert.equal(over.transport.disconnecting, true);
    p1.done.callback(undefined);

    const under = setup();
    const p2 = new ManualProducer(3);
    const d2 = under.protocol.request({
      method: 'PUT',
      target: '/',
      headers: headers(),
      bodyProducer: p2,
    });
    p2.consumer?.write(Buffer.from('a'));
    p2.done.callback(undefined);
    const f = failureResultOf(d2, RequestGenerationFailed);
    assert.match(f.getErrorMessage(), /wrote 1 bytes, not its declared 3/);
    assert.deepEqual(p2.events, ['stop']);
  });

  test('a response before the body is all sent: the response fires, the body stops, the connection closes', () => {
    const c = setup();
    const producer = new ManualProducer(1000);
    const d = c.protocol.request({
      method: 'PUT',
      target: '/',
      headers: headers(),
      bodyProducer: producer,
      persistent: true,
    });
    producer.consumer?.write(Buffer.alloc(10));
    c.reply('HTTP/1.1 413 Content Too Large\r\nContent-Length: 3\r\n\r\n');
    assert.equal(d.called, false, 'the response waits for its end or the body');
    c.reply('big');
    const response = successResultOf(d);
    assert.equal(response.code, 413);
    assert.equal(body(response), 'big');
    assert.deepEqual(producer.events, ['stop']);
    assert.equal(c.transport.disconnecting, true);
  });

  test('interim 1xx responses are skipped', () => {
    const c = setup();
    const d = c.protocol.request({ method: 'GET', target: '/', headers: headers() });
    c.reply(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    assert.equal(body(successResultOf(d)), 'ok');
  });

  test('a body ending with the connection: PotentialDataLoss to the protocol, PartialDownloadError from readBody', () => {
    const c = setup();
    const d = c.protocol.request({ method: 'GET', target: '/', headers: headers() });
    c.reply('HTTP/1.0 200 OK\r\n\r\nsome');
    const response = successResultOf(d);
    assert.equal(response.length, undefined);
    const all = readBody(response);
    c.reply(' more');
    c.transport.loseConnection();
    const f = failureResultOf(all, PartialDownloadError);
    assert.equal(Buffer.from((f.value as PartialDownloadError).response).toString(), 'some more');

    const d2 = setup();
    const r2 = d2.protocol.request({ method: 'GET', target: '/', headers: headers() });
    d2.reply('HTTP/1.1 200 OK\r\n\r\nx');
    let reason: Failure | undefined;
    successResultOf(r2).deliverBody({
      makeConnection() {},
      dataReceived() {},
      connectionLost(r) {
        reason = r;
      },
    });
    d2.transport.loseConnection();
    assert.equal(reason?.check(PotentialDataLoss), PotentialDataLoss);
  });

  test('the connection lost: before the response (ResponseNeverReceived), mid-body (ResponseFailed), while sending', () => {
    const a = setup();
    const da = a.protocol.request({ method: 'GET', target: '/', headers: headers() });
    a.transport.loseConnection();
    failureResultOf(da, ResponseNeverReceived);

    const b = setup();
    const db = b.protocol.request({ method: 'GET', target: '/', headers: headers() });
    b.reply('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    const all = readBody(successResultOf(db));
    b.transport.loseConnection();
    failureResultOf(all, ResponseFailed);

    const c = setup();
    const producer = new ManualProducer(10);
    const dc = c.protocol.request({
      method: 'PUT',
      target: '/',
      headers: headers(),
      bodyProducer: producer,
    });
    c.transport.loseConnection();
    failureResultOf(dc, RequestTransmissionFailed);
    assert.deepEqual(producer.events, ['stop']);
  });

  test('a malformed response fails with ResponseFailed carrying the parser reason, and closes', () => {
    const c = setup();
    const d = c.protocol.request({ method: 'GET', target: '/', headers: headers() });
    c.reply('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
    const f = failureResultOf(d, ResponseFailed);
    assert.match(f.getErrorMessage(), /Content-Length/);
    assert.equal(c.transport.disconnecting, true);
  });

  test('cancelling the request closes the connection; abort() fails a body in progress with ConnectionAborted', () => {
    const a = setup();
    const d = a.protocol.request({ method: 'GET', target: '/', headers: headers() });
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(a.transport.disconnecting, true);

    const b = setup();
    const db = b.protocol.request({ method: 'GET', target: '/', headers: headers() });
    b.reply('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    const all = readBody(successResultOf(db));
    const closed = b.protocol.abort();
    successResultOf(closed);
    failureResultOf(all, ConnectionAborted);
  });

  test('readBody over maxSize fails with RangeError and closes the connection', () => {
    const c = setup();
    const d = c.protocol.request({ method: 'GET', target: '/', headers: headers() });
    c.reply('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789');
    failureResultOf(readBody(successResultOf(d), { maxSize: 4 }), RangeError);
    assert.equal(c.transport.disconnecting, true);
  });

  test('a body protocol can pause and resume the connection', () => {
    const c = setup();
    const d = c.protocol.request({ method: 'GET', target: '/', headers: headers() });
    c.reply('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const seen: string[] = [];
    let ended: Failure | undefined;
    successResultOf(d).deliverBody({
      makeConnection(producer) {
        producer.pauseProducing();
      },
      dataReceived(data) {
        seen.push(Buffer.from(data).toString());
      },
      connectionLost(reason) {
        ended = reason;
      },
    });
    assert.equal(c.transport.producerState, 'paused');
    c.reply('3\r\nabc\r\n0\r\n\r\n');
    assert.deepEqual(seen, ['abc']);
    assert.equal(ended?.check(ResponseDone), ResponseDone);
  });
});

describe('HTTP11ClientProtocol against Site (in memory)', () => {
  test('requests and bodies both ways over one persistent connection', () => {
    class Echo extends Resource {
      override isLeaf = true;
      render_GET(request: Request): string {
        return `hello ${request.path}`;
      }
      render_POST(request: Request): Uint8Array {
        return request.content.read();
      }
    }
    const site = new Site(new Echo(), { clock: new Clock() });
    site.noisy = false;
    const quiet: HTTP11ClientProtocol[] = [];
    const [client, , pump] = connectedServerAndClient(
      site,
      () => new HTTP11ClientProtocol((p) => quiet.push(p)),
    );
    const first = client.request({
      method: 'GET',
      target: '/one',
      headers: headers(),
      persistent: true,
    });
    pump.flush();
    const r1 = successResultOf(first);
    const b1 = readBody(r1);
    pump.flush();
    assert.equal(Buffer.from(successResultOf(b1)).toString(), 'hello /one');
    assert.equal(quiet.length, 1);

    const producer = new ManualProducer(undefined);
    const second = client.request({
      method: 'POST',
      target: '/echo',
      headers: headers(),
      bodyProducer: producer,
      persistent: true,
    });
    producer.consumer?.write(Buffer.from('chunked '));
    producer.consumer?.write(Buffer.from('upload'));
    producer.done.callback(undefined);
    pump.flush();
    const b2 = readBody(successResultOf(second));
    pump.flush();
    assert.equal(Buffer.from(successResultOf(b2)).toString(), 'chunked upload');
    assert.equal(quiet.length, 2);
  });
});
