// Twisted's web/test/test_proxy.py ProxyClientTests, ProxyClientFactoryTests
// and ProxyRequestTests, ported to Torsion's forward Proxy on a
// MemoryReactorClock. Twisted tests its classes one by one (ProxyClient,
// ProxyClientFactory, ProxyRequest over a DummyChannel); Torsion has one
// forwarding path, so each test drives a whole request through the proxy
// and asserts the same behaviour where it can be seen: what reaches the
// upstream, what reaches the client. Where Torsion's design differs on
// purpose (HTTP/1.1 and keep-alive upstream instead of HTTP/1.0 and
// `Connection: close`, 502 instead of 501), the test says so.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listenRecorder, proxyKit, type Recorder } from './_proxy-kit.js';

/** The request line, headers (name → values, lower-case names) and body a recorder received. */
function parseRequest(recorder: Recorder): {
  line: string;
  headers: Map<string, string[]>;
  body: string;
} {
  const text = recorder.text();
  const end = text.indexOf('\r\n\r\n');
  const [line = '', ...fields] = text.slice(0, end).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const field of fields) {
    const colon = field.indexOf(':');
    const name = field.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), field.slice(colon + 1).trim()]);
  }
  return { line, headers, body: text.slice(end + 4) };
}

/** An HTTP/1.0 response as Twisted's makeResponseBytes writes it (no length: the body ends with the connection). */
function responseBytes(
  code: number,
  message: string,
  headers: ReadonlyArray<readonly [string, readonly string[]]>,
  body: string,
  version = 'HTTP/1.0',
): string {
  const lines = [`${version} ${code} ${message}`];
  for (const [name, values] of headers) for (const value of values) lines.push(`${name}: ${value}`);
  lines.push('', body);
  return lines.join('\r\n');
}

/**
 * Twisted's _testDataForward: a request for /foo forwarded, `response`
 * answered upstream, and what the client got checked against it.
 */
function testDataForward(
  code: number,
  message: string,
  headers: ReadonlyArray<readonly [string, readonly string[]]>,
  body: string,
  method = 'GET',
  requestBody = '',
  loseConnection = true,
): void {
  const kit = proxyKit();
  const upstream = listenRecorder(kit.reactor, 8081);
  const client = kit.client();
  const length = requestBody === '' ? '' : `Content-Length: ${requestBody.length}\r\n`;
  client.send(
    `${method} http://127.0.0.1:8081/foo HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nAccept: text/html\r\n${length}\r\n${requestBody}`,
  );
  const pump = kit.connectUpstream();
  const server = upstream.accepted[0] as Recorder;
  const sent = parseRequest(server);
  // Twisted sends `<method> /foo HTTP/1.0` with `connection: close`; Torsion
  // speaks HTTP/1.1 upstream and keeps the connection alive (no Connection field).
  assert.equal(sent.line, `${method} /foo HTTP/1.1`);
  assert.deepEqual(sent.headers.get('accept'), ['text/html']);
  assert.equal(sent.headers.has('connection'), false);
  assert.equal(sent.body, requestBody);
  // Twisted's upstream answers HTTP/1.0; a kept-alive connection needs HTTP/1.1.
  const version = loseConnection ? 'HTTP/1.0' : 'HTTP/1.1';
  server.transport.write(
    Buffer.from(responseBytes(code, message, headers, body, version), 'latin1'),
  );
  pump.flush();
  const hasLength = headers.some(([name]) => name.toLowerCase() === 'content-length');
  if (loseConnection || !hasLength) {
    // An HTTP/1.0 response without a length ends when the upstream closes.
    server.transport.loseConnection();
    pump.flush();
  }
  const replies = client.replies([method]);
  assert.equal(replies.length, 1, 'the response is finished once');
  const [reply] = replies;
  assert.equal(reply?.status, code);
  assert.equal(reply?.reason, message);
  for (const [name, values] of headers) {
    assert.deepEqual(
      reply?.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v),
      values,
      name,
    );
  }
  assert.equal(reply?.body, body);
  if (!loseConnection) {
    // Twisted closes the upstream connection once a Content-Length body is
    // in; Torsion returns it to the pool for the next request instead.
    assert.equal(server.lost, false);
    assert.equal(kit.proxy.pool.idleConnections('http://127.0.0.1:8081'), 1);
  }
}

describe('Twisted ProxyClientTests, through the forward Proxy', () => {
  // test_forward
  it('forwards the request with its headers cleaned up, and the response back to the client', () => {
    testDataForward(200, 'OK', [['Foo', ['bar', 'baz']]], 'Some data\r\n');
  });

  // test_postData
  it('forwards the body of a POST', () => {
    testDataForward(200, 'OK', [['Foo', ['bar']]], 'Some data\r\n', 'POST', 'Some content');
  });

  // test_statusWithMessage
  it('passes on the status code with its reason phrase', () => {
    testDataForward(404, 'Not Found', [], '');
  });

  // test_contentLength
  it('finishes the client response once when the upstream response has a Content-Length', () => {
    const data = 'foo bar baz';
    testDataForward(200, 'OK', [['Content-Length', [`${data.length}`]]], data);
  });

  // test_losesConnection
  it('is done with the upstream connection when a Content-Length body has arrived (pooled, not closed)', () => {
    const data = 'foo bar baz';
    testDataForward(200, 'OK', [['Content-Length', [`${data.length}`]]], data, 'GET', '', false);
  });

  // test_headersCleanups
  it('removes Proxy-Connection from what it forwards', () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    kit
      .client()
      .send(
        'GET http://127.0.0.1:8081/foo HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nAccept: text/html\r\nProxy-Connection: foo\r\n\r\n',
      );
    kit.connectUpstream();
    const sent = parseRequest(upstream.accepted[0] as Recorder);
    assert.deepEqual([...sent.headers.keys()].sort(), ['accept', 'host', 'via']);
    // Twisted adds `connection: close`; Torsion keeps the upstream connection alive.
    assert.equal(sent.headers.has('connection'), false);
  });

  // test_keepaliveNotForwarded
  it("does not forward the client's Keep-Alive and Connection: keep-alive", () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    kit
      .client()
      .send(
        'GET http://127.0.0.1:8081/foo HTTP/1.0\r\nAccept: text/html\r\nKeep-Alive: 300\r\nConnection: keep-alive\r\n\r\n',
      );
    kit.connectUpstream();
    const sent = parseRequest(upstream.accepted[0] as Recorder);
    assert.equal(sent.line, 'GET /foo HTTP/1.1');
    assert.deepEqual(sent.headers.get('accept'), ['text/html']);
    assert.equal(sent.headers.has('keep-alive'), false);
    assert.equal(sent.headers.has('connection'), false);
  });

  // test_defaultHeadersOverridden
  it("replaces the proxy's own Server, Date and Content-Type with the upstream's", () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send(
      'GET http://127.0.0.1:8081/foo HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nAccept: text/html\r\n\r\n',
    );
    const pump = kit.connectUpstream();
    const server = upstream.accepted[0] as Recorder;
    server.transport.write(
      Buffer.from(
        responseBytes(
          200,
          'OK',
          [
            ['Server', ['bar']],
            ['Date', ['2010-01-01']],
            ['Content-Type', ['application/x-baz']],
          ],
          '',
        ),
        'latin1',
      ),
    );
    server.transport.loseConnection();
    pump.flush();
    const [reply] = client.replies();
    const values = (name: string) =>
      reply?.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
    assert.deepEqual(values('server'), ['bar']);
    assert.deepEqual(values('date'), ['2010-01-01']);
    assert.deepEqual(values('content-type'), ['application/x-baz']);
  });
});

describe('Twisted ProxyClientFactoryTests, through the forward Proxy', () => {
  // test_connectionFailed
  it('answers the client with an error page when the upstream cannot be reached (502, not 501)', () => {
    const kit = proxyKit();
    const client = kit.client();
    client.send('GET http://127.0.0.1:8081/foo HTTP/1.0\r\nAccept: text/html\r\n\r\n');
    kit.reactor.advance(0);
    kit.completer.failOnce();
    kit.reactor.advance(0);
    const [reply] = client.replies();
    // Twisted answers 501 "Gateway error" with <H1>Could not connect</H1>;
    // a gateway that cannot reach its upstream answers 502 (RFC 9110 §15.6.3),
    // with a page naming the upstream and the reason.
    assert.equal(reply?.status, 502);
    assert.equal(reply?.header('content-type'), 'text/html; charset=utf-8');
    assert.match(reply?.body ?? '', /127\.0\.0\.1:8081/);
    assert.match(reply?.body ?? '', /refused/);
  });

  // test_buildProtocol
  it('sends upstream the method, path, body and headers of the request (connection fields aside)', () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    kit
      .client()
      .send(
        'GET http://127.0.0.1:8081/foo HTTP/1.0\r\nAccept: text/html\r\nContent-Length: 9\r\n\r\nSome data',
      );
    kit.connectUpstream();
    const sent = parseRequest(upstream.accepted[0] as Recorder);
    assert.equal(sent.line, 'GET /foo HTTP/1.1');
    assert.equal(sent.body, 'Some data');
    assert.deepEqual(sent.headers.get('accept'), ['text/html']);
    assert.equal(sent.headers.has('connection'), false);
  });
});

describe('Twisted ProxyRequestTests, through the forward Proxy', () => {
  /** Twisted's _testProcess: a request for http://example.com<uri> goes to example.com:80 as <expectedURI>. */
  function testProcess(uri: string, expectedURI: string, method = 'GET', data = ''): void {
    const kit = proxyKit();
    kit.reactor.hosts.set('example.com', '203.0.113.5');
    const upstream = listenRecorder(kit.reactor, 80);
    const length = data === '' ? '' : `Content-Length: ${data.length}\r\n`;
    kit.client().send(`${method} http://example.com${uri} HTTP/1.0\r\n${length}\r\n${data}`);
    kit.reactor.advance(0);
    assert.equal(kit.reactor.tcpClients.length, 1);
    assert.equal(kit.reactor.tcpClients[0]?.[0], '203.0.113.5', 'example.com, looked up');
    assert.equal(kit.reactor.tcpClients[0]?.[1], 80);
    kit.connectUpstream();
    const sent = parseRequest(upstream.accepted[0] as Recorder);
    // Twisted forwards the client's version (HTTP/1.0); Torsion's upstream side speaks HTTP/1.1.
    assert.equal(sent.line, `${method} ${expectedURI} HTTP/1.1`);
    assert.deepEqual(sent.headers.get('host'), ['example.com']);
    assert.equal(sent.body, data);
  }

  // test_process
  it('connects to the host of the URL and sends the request for its path', () => {
    testProcess('/foo/bar', '/foo/bar');
  });

  // test_processWithoutTrailingSlash
  it('asks for / when the URL has no path', () => {
    testProcess('', '/');
  });

  // test_processWithData
  it('forwards the body of the request', () => {
    testProcess('/foo/bar', '/foo/bar', 'POST', 'Some content');
  });

  // test_processWithPort
  it('connects to the port of the URL', () => {
    const kit = proxyKit();
    kit.reactor.hosts.set('example.com', '203.0.113.5');
    kit.client().send('GET http://example.com:1234/foo/bar HTTP/1.0\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(kit.reactor.tcpClients.length, 1);
    assert.equal(kit.reactor.tcpClients[0]?.[0], '203.0.113.5');
    assert.equal(kit.reactor.tcpClients[0]?.[1], 1234);
  });
});
