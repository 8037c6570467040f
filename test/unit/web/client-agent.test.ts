// Agent on a MemoryReactorClock: the endpoint it makes for a URL (TCP or
// TLS, timeout, bind address, resolver), the request it writes, the
// failures it reports (naming the URL), cancellation at each stage, and a
// whole Agent against Torsion's own Site in memory
// (Twisted: web/test/test_agent.py AgentTests, AgentHTTPSTests).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from '../../../src/internet/address.js';
import { CancelledError, succeed } from '../../../src/internet/defer.js';
import {
  ConnectingCancelledError,
  ConnectionRefusedError,
  DNSLookupError,
  TimeoutError,
} from '../../../src/internet/error.js';
import { Failure } from '../../../src/internet/failure.js';
import type { IHostnameResolver, IProtocolFactory } from '../../../src/internet/interfaces.js';
import {
  assertNoResult,
  failureResultOf,
  successResultOf,
} from '../../../src/testing/deferred-asserts.js';
import { MemoryReactorClock } from '../../../src/testing/memory-reactor.js';
import { StringTransportWithDisconnection } from '../../../src/testing/string-transport.js';
import { Agent } from '../../../src/web/client/agent.js';
import { ResponseNeverReceived } from '../../../src/web/client/errors.js';
import { HTTPConnectionPool } from '../../../src/web/client/pool.js';
import { readBody } from '../../../src/web/client/response.js';
import { InvalidURIError } from '../../../src/web/client/uri.js';
import { Headers } from '../../../src/web/headers.js';
import type { Request } from '../../../src/web/request.js';
import { Resource } from '../../../src/web/resource.js';
import { MemoryWeb } from '../../helpers/memory-web.js';

/** Completes the reactor's `n`th TCP (or TLS) attempt on a StringTransport. */
function complete(
  reactor: MemoryReactorClock,
  n = 0,
  kind: 'tcp' | 'ssl' = 'tcp',
): StringTransportWithDisconnection {
  const record = kind === 'tcp' ? reactor.tcpClients[n] : reactor.sslClients[n];
  assert.ok(record !== undefined, `no ${kind} attempt ${n}`);
  const [host, port, factory] = record;
  const transport = new StringTransportWithDisconnection({ lenient: true });
  const protocol = factory.buildProtocol(new IPv4Address('TCP', host, port));
  assert.ok(protocol !== null);
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  // The endpoint fires its Deferred once the protocol is connected.
  reactor.advance(0);
  return transport;
}

/** Feeds `data` to the protocol on `transport`, as if the server sent it. */
function reply(transport: StringTransportWithDisconnection, data: string): void {
  const protocol = transport.protocol;
  assert.ok(protocol !== undefined, 'the transport has no protocol');
  protocol.dataReceived(Buffer.from(data, 'latin1'));
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('Agent: the endpoint for a URL', () => {
  test('connects to the host and port of an http URL, with the default timeout', () => {
    const reactor = new MemoryReactorClock();
    new Agent(reactor).request('GET', 'http://127.0.0.1:8080/a?b=c');
    assert.equal(reactor.tcpClients.length, 1);
    const [host, port, , timeout, bindAddress] = reactor.tcpClients[0]!;
    assert.deepEqual([host, port, timeout, bindAddress], ['127.0.0.1', 8080, 30, undefined]);
  });

  test('passes connectTimeout and bindAddress on', () => {
    const reactor = new MemoryReactorClock();
    new Agent(reactor, { connectTimeout: 5, bindAddress: '127.0.0.2' }).request(
      'GET',
      'http://127.0.0.1/',
    );
    const [, port, , timeout, bindAddress] = reactor.tcpClients[0]!;
    assert.deepEqual([port, timeout, bindAddress], [80, 5, ['127.0.0.2', 0]]);
  });

  test('connects with TLS for https, verifying against the name in the URL', () => {
    const reactor = new MemoryReactorClock();
    const resolver: IHostnameResolver = {
      resolveHostName: () => succeed([new IPv4Address('TCP', '10.0.0.1', 0)]),
    };
    new Agent(reactor, { resolver }).request('GET', 'https://example.com/');
    assert.equal(reactor.tcpClients.length, 0);
    const [host, port, , context] = reactor.sslClients[0]!;
    assert.deepEqual([host, port], ['10.0.0.1', 443]);
    assert.equal(context.servername, 'example.com');
    assert.notEqual(context.rejectUnauthorized, false);
  });

  test('the tls option reaches the TLS connection', () => {
    const reactor = new MemoryReactorClock();
    new Agent(reactor, { tls: { ca: 'PEM', servername: 'other.test' } }).request(
      'GET',
      'https://127.0.0.1:8443/',
    );
    const [, port, , context] = reactor.sslClients[0]!;
    assert.equal(port, 8443);
    assert.equal(context.ca, 'PEM');
    assert.equal(context.servername, 'other.test');
  });
});

describe('Agent: the request it writes', () => {
  test('the origin-form target, Host from the URL, and Connection: close without a pool', () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request('GET', 'http://127.0.0.1:8080/a%20b?q=1#frag');
    const transport = complete(reactor);
    assert.equal(
      text(transport.value()),
      'GET /a%20b?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n',
    );
    assertNoResult(d);
    reply(transport, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
    const response = successResultOf(d);
    assert.equal(response.code, 200);
    assert.equal(response.request?.method, 'GET');
    assert.equal(response.request?.absoluteURI, 'http://127.0.0.1:8080/a%20b?q=1');
    assert.deepEqual(response.request?.headers.getRawHeaders('host'), ['127.0.0.1:8080']);
    assert.equal(text(successResultOf(readBody(response))), 'hi');
    assert.equal(transport.disconnecting, true, 'a non-persistent connection is closed');
  });

  test("keeps a Host the caller gave and does not modify the caller's headers", () => {
    const reactor = new MemoryReactorClock();
    const headers = new Headers({ Host: ['virtual.test'], Accept: ['*/*'] });
    new Agent(reactor).request('GET', 'http://127.0.0.1/', headers);
    const transport = complete(reactor);
    assert.match(
      text(transport.value()),
      /^GET \/ HTTP\/1\.1\r\nHost: virtual\.test\r\nAccept: \*\/\*\r\n/,
    );
    assert.deepEqual(
      [...headers],
      [
        ['Host', ['virtual.test']],
        ['Accept', ['*/*']],
      ],
    );
  });

  test('IPv6 literals are connected to without brackets and sent with them', () => {
    const reactor = new MemoryReactorClock();
    new Agent(reactor).request('GET', 'http://[::1]:8080/');
    const [host] = reactor.tcpClients[0]!;
    assert.equal(host, '::1');
    const transport = complete(reactor);
    assert.match(text(transport.value()), /\r\nHost: \[::1\]:8080\r\n/);
  });
});

describe('Agent: failures', () => {
  test('a URL it cannot fetch fails at once with InvalidURIError, connecting nowhere', () => {
    const reactor = new MemoryReactorClock();
    const agent = new Agent(reactor);
    for (const url of ['ftp://x/', 'nonsense', 'http://u:p@h/']) {
      const failure = failureResultOf(agent.request('GET', url), InvalidURIError);
      assert.match(failure.getErrorMessage(), /cannot fetch/);
    }
    assert.equal(reactor.tcpClients.length + reactor.sslClients.length, 0);
  });

  test('a refused connection keeps its type and names the method and URL', () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request('POST', 'http://127.0.0.1:1/x');
    const factory = reactor.tcpClients[0]![2] as IProtocolFactory & {
      clientConnectionFailed(c: unknown, f: Failure): void;
    };
    factory.clientConnectionFailed(
      reactor.connectors[0],
      new Failure(new ConnectionRefusedError()),
    );
    const failure = failureResultOf(d, ConnectionRefusedError);
    assert.match(failure.getErrorMessage(), /^POST http:\/\/127\.0\.0\.1:1\/x: /);
  });

  test('a name that does not resolve fails with DNSLookupError naming the URL', () => {
    const reactor = new MemoryReactorClock();
    const resolver: IHostnameResolver = {
      resolveHostName: () => succeed([]),
    };
    const d = new Agent(reactor, { resolver }).request('GET', 'http://nowhere.invalid/');
    const failure = failureResultOf(d, DNSLookupError);
    assert.match(failure.getErrorMessage(), /^GET http:\/\/nowhere\.invalid\/: /);
  });

  test('a connection that times out fails with TimeoutError', () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor, { connectTimeout: 3 }).request('GET', 'http://127.0.0.1/');
    const factory = reactor.tcpClients[0]![2] as IProtocolFactory & {
      clientConnectionFailed(c: unknown, f: Failure): void;
    };
    factory.clientConnectionFailed(reactor.connectors[0], new Failure(new TimeoutError()));
    failureResultOf(d, TimeoutError);
  });

  test('a connection lost before the response fails with ResponseNeverReceived', () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request('GET', 'http://127.0.0.1/');
    const transport = complete(reactor);
    transport.protocol?.connectionLost(new Failure(new ConnectionRefusedError()));
    const failure = failureResultOf(d, ResponseNeverReceived);
    assert.match(
      failure.getErrorMessage(),
      /^GET http:\/\/127\.0\.0\.1\/: no response was received/,
    );
  });
});

describe('Agent: cancellation', () => {
  test('while connecting: the attempt is stopped (ConnectingCancelledError, as Twisted)', () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request('GET', 'http://127.0.0.1/');
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
  });

  test('while waiting for the response: the connection is aborted', () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request('GET', 'http://127.0.0.1/');
    const transport = complete(reactor);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(transport.disconnecting, true);
  });
});

class Echo extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `${request.method} ${request.uri} ${request.getHeader('host')}`;
  }
}

describe('Agent against a Site in memory', () => {
  test('requests on a persistent pool reuse one connection', () => {
    const web = new MemoryWeb();
    web.serve('torsion.test', 80, new Echo());
    const pool = new HTTPConnectionPool(web.reactor);
    const agent = Agent.usingEndpointFactory(web.reactor, web, { pool });
    for (const path of ['/one', '/two', '/three']) {
      const d = agent.request('GET', `http://torsion.test${path}`).addCallback(readBody);
      web.flush();
      assert.equal(text(successResultOf(d)), `GET ${path} torsion.test`);
    }
    assert.deepEqual(web.connects, ['torsion.test:80']);
    assert.equal(pool.idleConnections('http://torsion.test'), 1);
    const closed = pool.closeCachedConnections();
    web.flush();
    successResultOf(closed);
    assert.equal(pool.idleConnections('http://torsion.test'), 0);
  });

  test('without a pool each request has its own connection, closed after it', () => {
    const web = new MemoryWeb();
    web.serve('torsion.test', 80, new Echo());
    const agent = Agent.usingEndpointFactory(web.reactor, web);
    for (const path of ['/one', '/two']) {
      const d = agent.request('GET', `http://torsion.test${path}`).addCallback(readBody);
      web.flush();
      assert.equal(text(successResultOf(d)), `GET ${path} torsion.test`);
    }
    assert.deepEqual(web.connects, ['torsion.test:80', 'torsion.test:80']);
  });
});
