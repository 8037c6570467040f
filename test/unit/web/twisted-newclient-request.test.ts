// Twisted's twisted/web/test/test_newclient.py, part 2: request writing
// (RequestTests, LengthEnforcingConsumerTests, RequestBodyConsumerTests),
// the body's producer (TransportProxyProducerTests) and ResponseTests; and
// from test_agent.py the client-protocol parts: ReadBodyTests and the method
// and URI injection tests (Request*InjectionTests). Ported onto
// HTTP11ClientProtocol on a StringTransport (Twisted's Request.writeTo is
// part of the protocol's request() here) and onto Response itself. Part 1 is
// twisted-newclient.test.ts. Each test names its Twisted original.
//
// Deliberate differences, checked as ours and said so at each test:
// - The head lists the given headers in order, then the framing headers, then
//   `Connection: close` (Twisted writes Connection first).
// - A header value with CR or LF cannot be put in Headers at all (refused
//   with a TypeError), rather than sanitised to a space when written.
// - A body producer that writes after its request stopped (failed, cancelled,
//   the connection lost) has the write dropped, not an ExcessWrite thrown at
//   it: the write may come from a stream's event, where a throw would crash
//   the process. After the body ended normally, or after too many bytes, a
//   write still throws (and stops the producer), as Twisted's.
// - Response's internal _bodyDataReceived/_bodyDataFinished ignore calls out
//   of order rather than raising RuntimeError (only the protocol calls them).
// - readBody's PartialDownloadError has `status` (a number) and `response`
//   (the bytes); no `message` (the phrase).
//
// Not ported, and why:
// - test_sendRequestBodyErrorWithConsumerError: a whitebox test of a Deferred
//   inside Twisted's Request that has no counterpart.
// - RequestBodyConsumerTests.test_interface, ResponseTests.test_verifyInterface,
//   TransportProxyProducerTests.test_interface: zope interface checks (the
//   TypeScript types are checked when compiling).
// - TransportProxyProducerTests.test_loseConnection*: the body's producer has
//   no loseConnection; stopProducing is the way to close (ported).
// - ReadBodyTests.test_deprecatedTransport*: a deprecation path for
//   transports without abortConnection; nothing like it here.
// - The host parts of the URI injection tests (test_hostWith*): the host is
//   the Agent's and URI's (test/unit/web/client-uri*.test.ts); the protocol
//   takes a request-target, whose checks are ported.
// - FileBodyProducerTests (test_agent.py): FileBodyProducer's own tests
//   (client-file-body*.test.ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError } from '../../../src/internet/defer.js';
import { ConnectionLost } from '../../../src/internet/error.js';
import { Failure } from '../../../src/internet/failure.js';
import type { IPushProducer } from '../../../src/internet/interfaces.js';
import { captureLogs } from '../../../src/logger/capture.js';
import { failureResultOf, successResultOf } from '../../../src/testing/deferred-asserts.js';
import { StringTransport } from '../../../src/testing/string-transport.js';
import {
  PartialDownloadError,
  PotentialDataLoss,
  RequestGenerationFailed,
  ResponseDone,
  ResponseFailed,
  WrongBodyLength,
} from '../../../src/web/client/errors.js';
import { Response, readBody } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';
import {
  Accumulating,
  ArbitraryError,
  assertWrapped,
  boringHeaders,
  type Connected,
  connected,
  get,
  StringProducer,
} from './_twisted-client.js';

/** Sends `method /bar` with `producer` as its body; the head is cleared from the transport. */
function post(
  c: Connected,
  producer: StringProducer,
  method = 'POST',
): ReturnType<Connected['protocol']['request']> {
  const d = c.protocol.request({
    method,
    target: '/bar',
    headers: boringHeaders(),
    bodyProducer: producer,
  });
  return d;
}

/** The events that carry a failure. */
function loggedFailures(events: readonly Record<string, unknown>[]): Failure[] {
  return events.flatMap((e) => (e.log_failure instanceof Failure ? [e.log_failure] : []));
}

describe('Twisted RequestTests (through the client protocol)', () => {
  test('test_sendSimplestRequest: the request line, Host, Connection: close', () => {
    const c = connected();
    get(c.protocol);
    assert.equal(c.written(), 'GET / HTTP/1.1\r\nhost: example.com\r\nConnection: close\r\n\r\n');
  });

  test('test_sendSimplestPersistentRequest: no Connection: close', () => {
    const c = connected();
    get(c.protocol, { persistent: true });
    assert.equal(c.written(), 'GET / HTTP/1.1\r\nhost: example.com\r\n\r\n');
  });

  test('test_sendRequestHeaders: every value of every header, one line each', () => {
    const c = connected();
    c.protocol.request({
      method: 'GET',
      target: '/foo',
      headers: new Headers({ 'x-foo': ['bar', 'baz'], host: ['example.com'] }),
    });
    const lines = c.written().split('\r\n');
    assert.equal(lines[0], 'GET /foo HTTP/1.1');
    assert.deepEqual(lines.slice(-2), ['', '']);
    assert.deepEqual(lines.slice(1, -2).sort(), [
      'Connection: close',
      'host: example.com',
      'x-foo: bar',
      'x-foo: baz',
    ]);
  });

  test('test_sanitizeLinearWhitespaceInRequestHeaders: CR and LF cannot get into a header value (deliberate: refused, not sanitised)', () => {
    for (const value of ['Foo\rbar', 'Foo\nbar', 'Foo\r\nbar']) {
      assert.throws(() => new Headers({ 'x-foo': [value] }), TypeError);
      assert.throws(() => boringHeaders().addRawHeader('x-foo', value), TypeError);
    }
  });

  test('test_sendChunkedRequestBody: chunked; the producer registered (streaming) while it writes, unregistered after', () => {
    const c = connected();
    const producer = new StringProducer(undefined);
    post(c, producer);
    assert.notEqual(producer.consumer, undefined);
    assert.equal(c.transport.producer, producer);
    assert.equal(c.transport.streaming, true);
    assert.equal(
      c.written(),
      'POST /bar HTTP/1.1\r\nhost: example.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
    );
    c.transport.clear();
    producer.write('x'.repeat(3));
    producer.write('y'.repeat(15));
    producer.finished?.callback(undefined);
    assert.equal(c.transport.producer, undefined);
    assert.equal(c.written(), `3\r\nxxx\r\nf\r\n${'y'.repeat(15)}\r\n0\r\n\r\n`);
  });

  test('test_sendChunkedRequestBodyWithError: no last chunk; the producer unregistered; the request fails', () => {
    const c = connected();
    const producer = new StringProducer(undefined);
    const d = post(c, producer);
    c.transport.clear();
    producer.finished?.errback(new ArbitraryError());
    assert.equal(c.written(), '');
    assert.equal(c.transport.producer, undefined);
    assertWrapped(d, RequestGenerationFailed, [ArbitraryError]);
  });

  test('test_sendRequestBodyWithLength: Content-Length, not chunked', () => {
    const c = connected();
    const producer = new StringProducer(3);
    post(c, producer);
    assert.equal(c.transport.producer, producer);
    assert.equal(c.transport.streaming, true);
    assert.equal(
      c.written(),
      'POST /bar HTTP/1.1\r\nhost: example.com\r\nContent-Length: 3\r\nConnection: close\r\n\r\n',
    );
    c.transport.clear();
    producer.write('abc');
    producer.finished?.callback(undefined);
    assert.equal(c.transport.producer, undefined);
    assert.equal(c.written(), 'abc');
  });

  for (const method of ['PUT', 'POST']) {
    test(`test_send${method}RequestEmptyBody: Content-Length: 0 without a body`, () => {
      const c = connected();
      c.protocol.request({ method, target: '/foo', headers: boringHeaders() });
      assert.equal(
        c.written(),
        `${method} /foo HTTP/1.1\r\nhost: example.com\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
    });
  }

  test('test_sendRequestBodyWithTooFewBytes: WrongBodyLength; the producer unregistered', () => {
    const c = connected();
    const producer = new StringProducer(3);
    const d = post(c, producer);
    producer.write('ab');
    producer.finished?.callback(undefined);
    assert.equal(c.transport.producer, undefined);
    assertWrapped(d, RequestGenerationFailed, [WrongBodyLength]);
  });

  for (const [name, finish] of [
    ['test_sendRequestBodyWithTooManyBytes', 'callback'],
    ['test_sendRequestBodyErrorWithTooManyBytes', 'errback'],
  ] as const) {
    test(`${name}: the excess not written, the producer stopped and unregistered, the request failed at once; later writes throw; the producer's ${finish} ${finish === 'errback' ? 'logged' : 'ignored'}`, () => {
      const c = connected();
      const producer = new StringProducer(3);
      const d = post(c, producer);
      const head = c.written();
      producer.write('ab');
      assert.equal(producer.stopped, false);
      producer.write('cd');
      assert.equal(producer.stopped, true);
      assert.equal(c.transport.producer, undefined);
      assertWrapped(d, RequestGenerationFailed, [WrongBodyLength]);
      assert.equal(c.written(), `${head}ab`);
      c.transport.clear();
      assert.throws(() => producer.write('ef'), /written after it ended/);
      const logs = captureLogs();
      try {
        if (finish === 'callback') producer.finished?.callback(undefined);
        else producer.finished?.errback(new ArbitraryError());
      } finally {
        logs.stop();
      }
      const failures = loggedFailures(logs.events);
      assert.equal(failures.length, finish === 'errback' ? 1 : 0);
      if (finish === 'errback') assert.ok(failures[0]?.check(ArbitraryError));
      assert.equal(c.written(), '');
    });
  }

  test('test_sendRequestBodyFinishedEarlyThenTooManyBytes: WrongBodyLength; a write after the end throws, nothing written', () => {
    const c = connected();
    const producer = new StringProducer(3);
    const d = post(c, producer);
    producer.write('ab');
    producer.finished?.callback(undefined);
    assert.equal(c.transport.producer, undefined);
    c.transport.clear();
    assert.throws(() => producer.write('cd'), /written after it ended/);
    assert.equal(c.written(), '');
    assertWrapped(d, RequestGenerationFailed, [WrongBodyLength]);
  });

  test('test_sendRequestBodyErroredEarlyThenTooManyBytes: the producer failure; a later write dropped (deliberate: not thrown)', () => {
    const c = connected();
    const producer = new StringProducer(3);
    const d = post(c, producer);
    producer.write('ab');
    producer.finished?.errback(new ArbitraryError());
    assert.equal(c.transport.producer, undefined);
    c.transport.clear();
    producer.write('cd');
    assert.equal(c.written(), '');
    assertWrapped(d, RequestGenerationFailed, [ArbitraryError]);
  });

  test('test_sendChunkedRequestBodyFinishedThenWriteMore: a write after the end throws, nothing written', () => {
    const c = connected();
    const producer = new StringProducer(undefined);
    post(c, producer);
    producer.finished?.callback(undefined);
    c.transport.clear();
    assert.throws(() => producer.write('foo'), /written after it ended/);
    assert.equal(c.written(), '');
  });

  test('test_sendChunkedRequestBodyFinishedWithErrorThenWriteMore: the failure; a later write dropped (deliberate)', () => {
    const c = connected();
    const producer = new StringProducer(undefined);
    const d = post(c, producer);
    producer.finished?.errback(new ArbitraryError());
    c.transport.clear();
    producer.write('foo');
    assert.equal(c.written(), '');
    assertWrapped(d, RequestGenerationFailed, [ArbitraryError]);
  });

  test('test_sendRequestBodyWithError: the producer failure fails the request; the producer unregistered; the connection aborted', () => {
    const c = connected();
    const producer = new StringProducer(5);
    const d = post(c, producer);
    assert.equal(c.transport.producer, producer);
    assert.equal(c.transport.streaming, true);
    producer.write('ab');
    assert.equal(
      c.written(),
      'POST /bar HTTP/1.1\r\nhost: example.com\r\nContent-Length: 5\r\nConnection: close\r\n\r\nab',
    );
    assert.equal(c.transport.disconnecting, false);
    producer.finished?.errback(new ArbitraryError());
    // Twisted's Request leaves the transport to the protocol, which aborts it.
    assert.equal(c.transport.disconnected, true);
    assert.equal(c.transport.producer, undefined);
    assertWrapped(d, RequestGenerationFailed, [ArbitraryError]);
  });

  test('test_hostHeaderRequired: no Host, or two, is refused and nothing written', () => {
    for (const headers of [new Headers(), new Headers({ Host: ['example.com', 'example.org'] })]) {
      const c = connected();
      const d = c.protocol.request({ method: 'GET', target: '/', headers });
      const f = failureResultOf(d, RequestGenerationFailed);
      assert.match(f.getErrorMessage(), /exactly one Host header/);
      assert.equal(c.written(), '');
      assert.equal(c.protocol.state, 'quiescent');
    }
  });

  test('test_stopWriting: the connection lost while the body is written stops the producer', () => {
    const c = connected();
    const producer = new StringProducer(3);
    post(c, producer, 'GET');
    assert.equal(producer.stopped, false);
    c.protocol.connectionLost(new Failure(new ConnectionLost()));
    assert.equal(producer.stopped, true);
  });

  test('test_brokenStopProducing: a producer that throws from stopProducing is logged, not raised', () => {
    const c = connected();
    const producer = new StringProducer(3);
    producer.stopProducing = () => {
      throw new ArbitraryError('stopProducing is busted');
    };
    post(c, producer, 'GET');
    const logs = captureLogs();
    try {
      c.protocol.connectionLost(new Failure(new ConnectionLost()));
    } finally {
      logs.stop();
    }
    const failures = loggedFailures(logs.events);
    assert.equal(failures.length, 1);
    assert.ok(failures[0]?.check(ArbitraryError));
  });
});

describe('Twisted LengthEnforcingConsumerTests (through the client protocol)', () => {
  function ten(): { c: Connected; producer: StringProducer; d: ReturnType<typeof post> } {
    const c = connected();
    const producer = new StringProducer(10);
    const d = post(c, producer);
    c.transport.clear();
    return { c, producer, d };
  }

  test('test_write: writes pass through while within the length', () => {
    const { c, producer } = ten();
    producer.write('abc');
    assert.equal(c.written(), 'abc');
    c.transport.clear();
    producer.write('def');
    assert.equal(c.written(), 'def');
  });

  test('test_finishedEarly: WrongBodyLength when the producer ends short', () => {
    const { producer, d } = ten();
    producer.write('x'.repeat(9));
    producer.finished?.callback(undefined);
    assertWrapped(d, RequestGenerationFailed, [WrongBodyLength]);
  });

  test('test_writeTooMany, test_finishedLate: one byte too many stops the producer and fails the request; finishing later adds nothing', () => {
    const { producer, d } = ten();
    producer.write('x'.repeat(10));
    assert.equal(producer.stopped, false);
    producer.write('x');
    assert.equal(producer.stopped, true);
    producer.finished?.callback(undefined);
    assertWrapped(d, RequestGenerationFailed, [WrongBodyLength]);
  });

  test('test_writeAfterNoMoreExpected: a write after the end stops the producer and throws', () => {
    const { producer } = ten();
    producer.write('x'.repeat(10));
    producer.finished?.callback(undefined);
    assert.equal(producer.stopped, false);
    assert.throws(() => producer.write('x'));
    assert.equal(producer.stopped, true);
  });

  test('test_finished: the exact length is fine', () => {
    const { c, producer, d } = ten();
    producer.write('x'.repeat(10));
    producer.finished?.callback(undefined);
    c.feed('HTTP/1.1 204 No Content\r\n\r\n');
    assert.equal(successResultOf(d).code, 204);
  });

  test('test_stopProducingRaises: stopProducing throwing is logged; the request still fails with WrongBodyLength', () => {
    const { producer, d } = ten();
    producer.stopProducing = () => {
      producer.stopped = true;
      throw new ArbitraryError('stopProducing is busted');
    };
    producer.write('x'.repeat(10));
    const logs = captureLogs();
    try {
      producer.write('x');
    } finally {
      logs.stop();
    }
    assert.equal(producer.stopped, true);
    assert.equal(loggedFailures(logs.events).length, 1);
    assertWrapped(d, RequestGenerationFailed, [WrongBodyLength]);
  });
});

describe('Twisted RequestBodyConsumerTests: the chunked encoder (through the client protocol)', () => {
  test('test_write: each write is one chunk, its size in hex', () => {
    const c = connected();
    const producer = new StringProducer(undefined);
    post(c, producer);
    c.transport.clear();
    producer.write('foo');
    assert.equal(c.written(), '3\r\nfoo\r\n');
    c.transport.clear();
    producer.write('x'.repeat(16));
    assert.equal(c.written(), `10\r\n${'x'.repeat(16)}\r\n`);
  });

  test('test_producerRegistration: the producer registered streaming; at the end the last chunk and unregistered', () => {
    const c = connected();
    const producer = new StringProducer(undefined);
    post(c, producer);
    assert.equal(c.transport.producer, producer);
    assert.equal(c.transport.streaming, true);
    c.transport.clear();
    producer.finished?.callback(undefined);
    assert.equal(c.transport.producer, undefined);
    assert.equal(c.written(), '0\r\n\r\n');
  });
});

describe("Twisted TransportProxyProducerTests: the body's producer", () => {
  /** A response whose body is still arriving, and the producer its reader got. */
  function arriving(): { c: Connected; producer: IPushProducer; body: Accumulating } {
    const c = connected({ lenient: true, quiescent: () => {} });
    const d = get(c.protocol, { persistent: true });
    c.feed('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n');
    const body = new Accumulating();
    successResultOf(d).deliverBody(body);
    return { c, producer: body.producer as IPushProducer, body };
  }

  test('test_resumeProducing, test_pauseProducing: they reach the transport while the body arrives, not after (stopProxying)', () => {
    const { c, producer } = arriving();
    producer.pauseProducing();
    assert.equal(c.transport.producerState, 'paused');
    producer.resumeProducing();
    assert.equal(c.transport.producerState, 'producing');
    c.feed('abc');
    producer.pauseProducing();
    assert.equal(c.transport.producerState, 'producing');
    c.transport.pauseProducing();
    producer.resumeProducing();
    assert.equal(c.transport.producerState, 'paused');
  });

  test('test_stopProducing: stopping while the body arrives closes the connection and fails the body; after, nothing', () => {
    const a = arriving();
    a.producer.stopProducing();
    assert.equal(a.c.transport.disconnecting, true);
    assert.ok(a.body.reason?.check(ResponseFailed));

    const b = arriving();
    b.c.feed('abc');
    b.producer.stopProducing();
    assert.equal(b.c.transport.disconnecting, false);
    assert.ok(b.body.reason?.check(ResponseDone));
  });
});

describe('Twisted ResponseTests', () => {
  /** Twisted's justTransportResponse: a Response whose producer is `transport`. */
  function justTransportResponse(transport: StringTransport): Response {
    return new Response('HTTP/1.1', 200, 'OK', boringHeaders(), undefined, transport);
  }
  const done = (): Failure => new Failure(new ResponseDone());

  test('test_makeConnection: the body protocol gets a producer that pauses and resumes the transport', () => {
    const transport = new StringTransport();
    const producers: IPushProducer[] = [];
    const response = justTransportResponse(transport);
    response.deliverBody({
      makeConnection: (p) => producers.push(p),
      dataReceived() {},
      connectionLost() {},
    });
    assert.equal(producers.length, 1);
    producers[0]?.pauseProducing();
    assert.equal(transport.producerState, 'paused');
    producers[0]?.resumeProducing();
    assert.equal(transport.producerState, 'producing');
  });

  test('test_dataReceived', () => {
    const response = justTransportResponse(new StringTransport());
    const body = new Accumulating();
    response.deliverBody(body);
    response._bodyDataReceived(Buffer.from('foo'));
    assert.equal(body.data, 'foo');
  });

  test('test_connectionLost: ResponseDone, once', () => {
    const response = justTransportResponse(new StringTransport());
    let count = 0;
    const body = new Accumulating();
    body.onClose = () => count++;
    response.deliverBody(body);
    response._bodyDataFinished(done());
    assert.ok(body.reason?.check(ResponseDone));
    assert.equal(count, 1);
  });

  test('test_bufferEarlyData: data before deliverBody is kept and delivered first', () => {
    const response = justTransportResponse(new StringTransport());
    const pieces: string[] = [];
    response._bodyDataReceived(Buffer.from('foo'));
    response._bodyDataReceived(Buffer.from('bar'));
    response.deliverBody({
      makeConnection() {},
      dataReceived: (d) => pieces.push(Buffer.from(d).toString()),
      connectionLost() {},
    });
    response._bodyDataReceived(Buffer.from('baz'));
    assert.deepEqual(pieces, ['foo', 'bar', 'baz']);
  });

  test('test_multipleStartProducingFails: a second deliverBody throws', () => {
    const response = justTransportResponse(new StringTransport());
    response.deliverBody(new Accumulating());
    assert.throws(() => response.deliverBody(new Accumulating()), /already has a protocol/);
  });

  test('test_startProducingAfterFinishedFails: deliverBody after the body ended with a protocol throws', () => {
    const response = justTransportResponse(new StringTransport());
    response.deliverBody(new Accumulating());
    response._bodyDataFinished(done());
    assert.throws(() => response.deliverBody(new Accumulating()), /already has a protocol/);
  });

  test('test_bodyDataReceivedAfterFinishedFails, test_bodyDataReceivedAfterDeliveryFails, test_bodyDataFinishedAfter*: out-of-order calls are ignored (deliberate: no RuntimeError)', () => {
    const response = justTransportResponse(new StringTransport());
    response._bodyDataReceived(Buffer.from('a'));
    response._bodyDataFinished(done());
    response._bodyDataReceived(Buffer.from('late'));
    response._bodyDataFinished(new Failure(new ArbitraryError()));
    const body = new Accumulating();
    let count = 0;
    body.onClose = () => count++;
    response.deliverBody(body);
    response._bodyDataReceived(Buffer.from('later'));
    response._bodyDataFinished(done());
    assert.equal(body.data, 'a');
    assert.ok(body.reason?.check(ResponseDone));
    assert.equal(count, 1);
  });

  test('test_transportResumed: deliverBody resumes the transport after makeConnection', () => {
    const transport = new StringTransport();
    transport.pauseProducing();
    const states: string[] = [];
    const response = justTransportResponse(transport);
    response.deliverBody({
      makeConnection: () => states.push(transport.producerState),
      dataReceived() {},
      connectionLost() {},
    });
    assert.deepEqual(states, ['paused']);
    assert.equal(transport.producerState, 'producing');
  });

  test('test_bodyDataFinishedBeforeStartProducing: the whole body and its end given at once', () => {
    const response = justTransportResponse(new StringTransport());
    response._bodyDataReceived(Buffer.from('foo'));
    response._bodyDataReceived(Buffer.from('bar'));
    response._bodyDataFinished(done());
    const body = new Accumulating();
    response.deliverBody(body);
    assert.equal(body.data, 'foobar');
    assert.ok(body.reason?.check(ResponseDone));
  });

  test('test_finishedWithErrorWhenConnected, test_finishedWithErrorWhenInitial: the failure reaches the protocol', () => {
    const connectedResponse = justTransportResponse(new StringTransport());
    const a = new Accumulating();
    connectedResponse.deliverBody(a);
    connectedResponse._bodyDataFinished(new Failure(new ArbitraryError()));
    assert.ok(a.reason?.check(ArbitraryError));

    const initial = justTransportResponse(new StringTransport());
    initial._bodyDataFinished(new Failure(new ArbitraryError()));
    const b = new Accumulating();
    initial.deliverBody(b);
    assert.ok(b.reason?.check(ArbitraryError));
  });
});

describe('Twisted test_agent.py ReadBodyTests', () => {
  /** Twisted's DummyResponse: the body protocol readBody gives, to drive by hand. */
  function dummy(): { response: Response; transport: StringTransport; reader(): Accumulating } {
    const transport = new StringTransport();
    const response = new Response('HTTP/1.1', 200, 'OK', new Headers(), undefined, transport);
    let reader: Accumulating | undefined;
    const deliver = response.deliverBody.bind(response);
    response.deliverBody = (protocol) => {
      reader = protocol as Accumulating;
      deliver(protocol);
    };
    return { response, transport, reader: () => reader as Accumulating };
  }

  test('test_success: the whole body', () => {
    const { response, reader } = dummy();
    const d = readBody(response);
    reader().dataReceived(Buffer.from('first'));
    reader().dataReceived(Buffer.from('second'));
    reader().connectionLost(new Failure(new ResponseDone()));
    assert.equal(Buffer.from(successResultOf(d)).toString(), 'firstsecond');
  });

  test('test_cancel: cancelling stops the body, which closes the connection', () => {
    const c = connected();
    const requested = get(c.protocol);
    c.feed('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    const d = readBody(successResultOf(requested));
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(c.transport.disconnecting, true);
  });

  test('test_withPotentialDataLoss: PartialDownloadError with the status and what arrived', () => {
    const { response, reader } = dummy();
    const d = readBody(response);
    reader().dataReceived(Buffer.from('first'));
    reader().dataReceived(Buffer.from('second'));
    reader().connectionLost(new Failure(new PotentialDataLoss()));
    const error = failureResultOf(d, PartialDownloadError).value as PartialDownloadError;
    assert.equal(error.status, 200);
    assert.equal(Buffer.from(error.response).toString(), 'firstsecond');
  });

  test('test_otherErrors: any other reason is the failure', () => {
    const { response, reader } = dummy();
    const d = readBody(response);
    reader().dataReceived(Buffer.from('first'));
    reader().connectionLost(new Failure(new ConnectionLost('mystery problem')));
    const f = failureResultOf(d, ConnectionLost);
    assert.match(f.getErrorMessage(), /mystery problem/);
  });
});

describe('Twisted test_agent.py Request(WriteTo)MethodInjectionTests and Request(WriteTo)URIInjectionTests (CVE-2019-12387)', () => {
  const printable = new Set(
    [...'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].concat([
      ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\x0b\x0c',
    ]),
  );
  const unprintableAscii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).filter(
    (c) => !printable.has(c),
  );
  const nonAscii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(128 + i));

  /** Sends the request; it must be refused with `pattern` and nothing written. */
  function refused(method: string, target: string, pattern: RegExp): void {
    const c = connected();
    const d = c.protocol.request({ method, target, headers: boringHeaders() });
    const f = failureResultOf(d, RequestGenerationFailed);
    assert.match(f.getErrorMessage(), pattern, JSON.stringify([method, target]));
    assert.equal(c.written(), '');
  }

  test('test_methodWithCLRFRejected', () => {
    refused('GET\r\nX-Injected-Header: value', '/', /not an HTTP method/);
  });

  test('test_methodWithUnprintableASCIIRejected, test_methodWithNonASCIIRejected (and whitespace)', () => {
    for (const c of [...unprintableAscii, ...nonAscii, ' ', '\t', '\n', '\r']) {
      refused(`GET${c}`, '/', /not an HTTP method/);
    }
  });

  test('test_pathWithCRLFRejected', () => {
    refused('GET', '/\r\npath', /not a request-target/);
  });

  test('test_pathWithWithUnprintableASCIIRejected, test_pathWithNonASCIIRejected (and whitespace)', () => {
    for (const c of [...unprintableAscii, ...nonAscii, ' ', '\t']) {
      refused('GET', `/OK${c}`, /not a request-target/);
    }
  });
});
