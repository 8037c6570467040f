// Twisted's web/test/test_proxy.py ReverseProxyResourceTests and
// ReverseProxyRequestTests, ported: one test per Twisted test, its name in
// a comment. Where Twisted reads the ProxyClientFactory's fields, these read
// what the proxy writes on the connection it makes (the reactor's
// `tcpClients` record it, as in Twisted).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from '../../../../src/internet/address.js';
import { fail, succeed } from '../../../../src/internet/defer.js';
import type { Clock } from '../../../../src/internet/task/clock.js';
import { MemoryReactorClock } from '../../../../src/testing/memory-reactor.js';
import { StringTransportWithDisconnection } from '../../../../src/testing/string-transport.js';
import { ReverseProxyResource } from '../../../../src/web/proxy/reverse.js';
import { Resource } from '../../../../src/web/resource.js';
import { connect } from '../_server.js';

/** Completes the `index`th recorded connection on a StringTransport; returns what was written on it. */
function completeConnection(
  reactor: MemoryReactorClock,
  index = 0,
): StringTransportWithDisconnection {
  const record = reactor.tcpClients[index];
  assert.ok(record !== undefined, 'a connection was made');
  const protocol = record[2].buildProtocol(new IPv4Address('TCP', record[0], record[1]));
  assert.ok(protocol !== null);
  const transport = new StringTransportWithDisconnection({ lenient: true, protocol });
  protocol.makeConnection(transport);
  return transport;
}

function requestLine(transport: StringTransportWithDisconnection): string {
  return transport.value().toString('latin1').split('\r\n')[0] as string;
}

function header(transport: StringTransportWithDisconnection, name: string): string[] {
  const lines = transport.value().toString('latin1').split('\r\n\r\n')[0]?.split('\r\n') ?? [];
  return lines
    .slice(1)
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim());
}

describe('ReverseProxyResourceTests', () => {
  /**
   * Twisted's `_testRender`: a request for `uri` makes one connection, to
   * the right host and port, asking for `expected`, with `Host` rewritten.
   * (Twisted sends its HTTP/1.1 request without `Host`; ours carries one,
   * which HTTP/1.1 requires and the server checks.)
   */
  function testRender(uri: string, expected: string): void {
    const root = new Resource();
    const reactor = new MemoryReactorClock();
    const resource = new ReverseProxyResource('127.0.0.1', 1234, '/path', { reactor });
    root.putChild('index', resource);
    const conn = connect(root, { clock: reactor as unknown as Clock });
    conn.send(`GET ${uri} HTTP/1.1\r\nHost: front.test\r\nAccept: text/html\r\n\r\n`);
    assert.equal(reactor.tcpClients.length, 1);
    const [host, port] = reactor.tcpClients[0] ?? [];
    assert.equal(host, '127.0.0.1');
    assert.equal(port, 1234);
    const upstream = completeConnection(reactor);
    assert.equal(requestLine(upstream), `GET ${expected} HTTP/1.1`);
    assert.deepEqual(header(upstream, 'host'), ['127.0.0.1:1234']);
    assert.deepEqual(header(upstream, 'accept'), ['text/html']);
  }

  // test_render
  test('test_render: a request for the mount goes to the upstream path', () => {
    testRender('/index', '/path');
  });

  // test_render_subpage
  test('test_render_subpage: a sub-page goes to the upstream sub-path', () => {
    testRender('/index/page1', '/path/page1');
  });

  // test_renderWithQuery
  test('test_renderWithQuery: the query is passed on', () => {
    testRender('/index?foo=bar', '/path?foo=bar');
  });

  // test_getChild
  test('test_getChild: a child keeps the class, host, port and reactor; its path grows', () => {
    const reactor = new MemoryReactorClock();
    const resource = new ReverseProxyResource('127.0.0.1', 1234, '/path', { reactor });
    const child = resource.getChild('foo', undefined);
    assert.ok(child instanceof ReverseProxyResource);
    assert.equal(child.path, '/path/foo');
    assert.equal(child.port, 1234);
    assert.equal(child.host, '127.0.0.1');
    assert.equal(child.reactor, resource.reactor);
  });

  // test_getChildWithSpecial
  test('test_getChildWithSpecial: the segment is percent-encoded, "/" included', () => {
    const resource = new ReverseProxyResource('127.0.0.1', 1234, '/path', {
      reactor: new MemoryReactorClock(),
    });
    const child = resource.getChild(' /%', undefined);
    assert.equal(child.path, '/path/%20%2F%25');
  });
});

describe('ReverseProxyRequestTests', () => {
  // test_process
  test('test_process: the request goes to the upstream host and port with Host set to it', () => {
    // Twisted's ReverseProxyRequest relays a whole channel; here a
    // ReverseProxyResource at a site's root does the same job.
    // A reactor that resolves example.com (the default resolver is the system's).
    const reactor = Object.assign(new MemoryReactorClock(), {
      resolveHostName: (name: string) =>
        name === 'example.com'
          ? succeed([new IPv4Address('TCP', '192.0.2.80', 0)])
          : fail(new Error(`unknown host ${name}`)),
    });
    const conn = connect(
      new ReverseProxyResource('example.com', 1234, '', { reactor, xForwarded: false }),
      { clock: reactor as unknown as Clock },
    );
    conn.send('GET /foo/bar HTTP/1.0\r\n\r\n');
    assert.equal(reactor.tcpClients.length, 1);
    assert.equal(reactor.tcpClients[0]?.[0], '192.0.2.80', 'example.com, resolved');
    assert.equal(reactor.tcpClients[0]?.[1], 1234);
    const upstream = completeConnection(reactor);
    assert.equal(requestLine(upstream), 'GET /foo/bar HTTP/1.1');
    // Twisted sends `host: example.com`; the port is required when not 80 (RFC 9110 §7.2).
    assert.deepEqual(header(upstream, 'host'), ['example.com:1234']);
    assert.equal(
      upstream.value().toString('latin1').split('\r\n').length - 3,
      1,
      'Host is the only header',
    );
  });
});
