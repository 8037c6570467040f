// ProxyAgent on StringTransports behind a fake proxy endpoint: absolute-form
// requests for http, CONNECT then startTLS for https, the pool keys, the
// Proxy-Authorization rules, the failures and cancellation at each stage.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, Deferred } from '../../../src/internet/defer.js';
import {
  ConnectError,
  ConnectionLost,
  SSLError,
  TimeoutError,
} from '../../../src/internet/error.js';
import { Failure } from '../../../src/internet/failure.js';
import type {
  IProtocol,
  IProtocolFactory,
  IStreamClientEndpoint,
} from '../../../src/internet/interfaces.js';
import { Clock } from '../../../src/internet/task/clock.js';
import { failureResultOf, successResultOf } from '../../../src/testing/deferred-asserts.js';
import { StringTransportWithDisconnection } from '../../../src/testing/string-transport.js';
import { ProxyConnectError, ResponseNeverReceived } from '../../../src/web/client/errors.js';
import { HTTPConnectionPool } from '../../../src/web/client/pool.js';
import { ProxyAgent } from '../../../src/web/client/proxy-agent.js';
import { type Response, readBody } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';

/** One connection attempt to the fake proxy. */
interface Attempt {
  readonly factory: IProtocolFactory;
  readonly deferred: Deferred<IProtocol>;
  cancelled: boolean;
  protocol?: IProtocol;
  transport?: StringTransportWithDisconnection;
}

/** A proxy endpoint whose connection attempts the test completes by hand. */
class FakeProxy implements IStreamClientEndpoint {
  readonly attempts: Attempt[] = [];

  connect<F extends IProtocolFactory>(factory: F): Deferred<never> {
    const attempt: Attempt = {
      factory,
      deferred: new Deferred<IProtocol>(() => {
        attempt.cancelled = true;
      }),
      cancelled: false,
    };
    this.attempts.push(attempt);
    return attempt.deferred as Deferred<never>;
  }

  /** Completes attempt `i`: a StringTransport connected to the factory's protocol. */
  accept(i = this.attempts.length - 1): Attempt {
    const attempt = this.attempts[i] as Attempt;
    const protocol = attempt.factory.buildProtocol({ type: 'TCP' } as never) as IProtocol;
    const transport = new StringTransportWithDisconnection({ lenient: true, protocol });
    attempt.protocol = protocol;
    attempt.transport = transport;
    protocol.makeConnection(transport);
    attempt.deferred.callback(protocol);
    return attempt;
  }

  toString(): string {
    return 'tcp:proxy.test:3128';
  }
}

const written = (attempt: Attempt): string =>
  (attempt.transport as StringTransportWithDisconnection).value().toString('latin1');
const reply = (attempt: Attempt, data: string): void =>
  (attempt.protocol as IProtocol).dataReceived(Buffer.from(data, 'latin1'));

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';

function agent(
  options: ConstructorParameters<typeof ProxyAgent>[2] = {},
  proxy = new FakeProxy(),
): { proxy: FakeProxy; agent: ProxyAgent; clock: Clock } {
  const clock = new Clock();
  return { proxy, agent: new ProxyAgent(proxy, clock, options), clock };
}

/** Answers CONNECT with 200 and plays a successful handshake. */
function openTunnel(attempt: Attempt): void {
  reply(attempt, 'HTTP/1.1 200 Connection established\r\n\r\n');
  const transport = attempt.transport as StringTransportWithDisconnection;
  assert.equal(transport.tlsStarted, true);
  transport.clear();
  (attempt.protocol as IProtocol & { handshakeCompleted(): void }).handshakeCompleted();
}

describe('ProxyAgent, http: URLs', () => {
  test('sends the absolute URL as the request-target, with Host and Proxy-Authorization', () => {
    const { proxy, agent: a } = agent({ proxyAuthorization: 'Basic dXNlcjpwYXNz' });
    const d = a.request('GET', 'http://example.com:8080/a/b?c=d');
    const attempt = proxy.accept();
    const head = written(attempt);
    assert.match(head, /^GET http:\/\/example\.com:8080\/a\/b\?c=d HTTP\/1\.1\r\n/);
    assert.match(head, /\r\nHost: example\.com:8080\r\n/);
    assert.match(head, /\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n/);
    reply(attempt, OK);
    const response = successResultOf(d);
    assert.equal(response.code, 200);
    assert.equal(response.request?.absoluteURI, 'http://example.com:8080/a/b?c=d');
    assert.equal(Buffer.from(successResultOf(readBody(response))).toString(), 'hi');
  });

  test("keeps the request's own Proxy-Authorization for the proxy", () => {
    const { proxy, agent: a } = agent({ proxyAuthorization: 'Basic b3B0aW9u' });
    a.request('GET', 'http://example.com/', new Headers({ 'Proxy-Authorization': ['Bearer own'] }));
    const head = written(proxy.accept());
    assert.match(head, /\r\nProxy-Authorization: Bearer own\r\n/);
    assert.doesNotMatch(head, /b3B0aW9u/);
  });

  test('one pooled connection to the proxy serves every origin', () => {
    const proxy = new FakeProxy();
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock);
    const a = new ProxyAgent(proxy, clock, { pool });
    const first = a.request('GET', 'http://one.example/');
    const attempt = proxy.accept();
    reply(attempt, OK);
    successResultOf(readBody(successResultOf(first)));
    attempt.transport?.clear();
    const second = a.request('GET', 'http://two.example/x');
    assert.equal(proxy.attempts.length, 1, 'a second connection was opened');
    assert.match(written(attempt), /^GET http:\/\/two\.example\/x HTTP\/1\.1\r\n/);
    reply(attempt, OK);
    assert.equal(successResultOf(second).code, 200);
  });

  test('agents with different proxies sharing a pool do not share connections', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock);
    const proxyA = new FakeProxy();
    const proxyB = new FakeProxy();
    const a = new ProxyAgent(proxyA, clock, { pool });
    const b = new ProxyAgent(proxyB, clock, { pool });
    const first = a.request('GET', 'http://example.com/');
    const attempt = proxyA.accept();
    reply(attempt, OK);
    successResultOf(readBody(successResultOf(first)));
    b.request('GET', 'http://example.com/');
    assert.equal(proxyB.attempts.length, 1);
    assert.equal(proxyA.attempts.length, 1);
  });

  test('a proxyAuthorization with CR or LF is refused', () => {
    assert.throws(
      () => new ProxyAgent(new FakeProxy(), new Clock(), { proxyAuthorization: 'a\r\nX: y' }),
      TypeError,
    );
  });

  test('a bad URL fails the Deferred', () => {
    const { agent: a } = agent();
    failureResultOf(a.request('GET', 'ftp://example.com/'));
  });
});

describe('ProxyAgent, https: URLs through CONNECT', () => {
  test('CONNECT host:port, then TLS to the origin, then the request inside', () => {
    const { proxy, agent: a } = agent({
      proxyAuthorization: 'Basic dXNlcjpwYXNz',
      tls: { ca: 'CA' },
    });
    const d = a.request(
      'POST',
      'https://example.com/path?q=1',
      new Headers({ 'Proxy-Authorization': ['Bearer never-inside'], 'X-Other': ['1'] }),
    );
    const attempt = proxy.accept();
    assert.equal(
      written(attempt),
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n',
    );
    const transport = attempt.transport as StringTransportWithDisconnection;
    assert.equal(transport.tlsStarted, false);
    reply(attempt, 'HTTP/1.1 200 Connection established\r\n\r\n');
    assert.equal(transport.tlsStarted, true);
    assert.equal(transport.tlsServer, false);
    assert.deepEqual(transport.tlsOptions, {
      ca: 'CA',
      host: 'example.com',
      servername: 'example.com',
    });
    // Nothing is sent to the origin before the handshake has succeeded.
    transport.clear();
    assert.equal(d.called, false);
    assert.equal(written(attempt), '');
    (attempt.protocol as IProtocol & { handshakeCompleted(): void }).handshakeCompleted();
    const head = written(attempt);
    assert.match(head, /^POST \/path\?q=1 HTTP\/1\.1\r\n/);
    assert.match(head, /\r\nHost: example\.com\r\n/);
    assert.match(head, /\r\nX-Other: 1\r\n/);
    assert.doesNotMatch(head, /Proxy-Authorization/i);
    reply(attempt, OK);
    const response: Response = successResultOf(d);
    assert.equal(response.code, 200);
    assert.equal(response.request?.absoluteURI, 'https://example.com/path?q=1');
  });

  test('an IP address origin is verified through host, without SNI', () => {
    const { proxy, agent: a } = agent();
    a.request('GET', 'https://[::1]:8443/');
    const attempt = proxy.accept();
    assert.match(written(attempt), /^CONNECT \[::1\]:8443 HTTP\/1\.1\r\nHost: \[::1\]:8443\r\n/);
    reply(attempt, 'HTTP/1.1 200 OK\r\n\r\n');
    assert.deepEqual(attempt.transport?.tlsOptions, { host: '::1' });
  });

  test('a non-2xx answer fails with ProxyConnectError naming the proxy, the target and the status', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'https://example.com/');
    const attempt = proxy.accept();
    reply(
      attempt,
      'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n',
    );
    const failure = failureResultOf(d, ProxyConnectError);
    const error = failure.value as ProxyConnectError;
    assert.equal(error.status, 407);
    assert.equal(error.target, 'example.com:443');
    assert.equal(error.proxy, 'the proxy tcp:proxy.test:3128');
    assert.ok(error instanceof ConnectError);
    assert.match(
      error.message,
      /^GET https:\/\/example\.com\/: The proxy refused to open a tunnel: the proxy tcp:proxy\.test:3128 answered CONNECT example\.com:443 with 407 Proxy Authentication Required\.$/,
    );
    assert.equal(attempt.transport?.disconnected, true);
    assert.equal(attempt.transport?.tlsStarted, false);
  });

  test('a failed handshake fails with SSLError naming the target, the proxy and the reason', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'https://example.com/');
    const attempt = proxy.accept();
    reply(attempt, 'HTTP/1.1 200 OK\r\n\r\n');
    const cause = new ConnectionLost(
      "the TLS handshake failed: Hostname/IP does not match certificate's altnames",
    );
    attempt.protocol?.connectionLost(new Failure(cause));
    const failure = failureResultOf(d, SSLError);
    assert.match(
      failure.getErrorMessage(),
      /example\.com:443 through the proxy tcp:proxy\.test:3128/,
    );
    assert.match(failure.getErrorMessage(), /altnames/);
    assert.equal((failure.value as Error).cause, cause);
  });

  test('a proxy that closes before answering fails with ConnectError', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'https://example.com/');
    const attempt = proxy.accept();
    attempt.protocol?.connectionLost(new Failure(new ConnectionLost()));
    const failure = failureResultOf(d, ConnectError);
    assert.match(failure.getErrorMessage(), /closed the connection before answering CONNECT/);
  });

  test('a malformed answer fails with the parser reason', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'https://example.com/');
    const attempt = proxy.accept();
    reply(attempt, 'SSH-2.0-OpenSSH\r\n\r\n');
    const failure = failureResultOf(d, ConnectError);
    assert.match(failure.getErrorMessage(), /malformed response/);
    assert.equal(attempt.transport?.disconnected, true);
  });

  test('a tunnel is pooled for its origin only', () => {
    const proxy = new FakeProxy();
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock);
    const a = new ProxyAgent(proxy, clock, { pool });
    const first = a.request('GET', 'https://one.example/');
    const attempt = proxy.accept();
    openTunnel(attempt);
    reply(attempt, OK);
    successResultOf(readBody(successResultOf(first)));
    a.request('GET', 'https://two.example/');
    assert.equal(proxy.attempts.length, 2, 'the tunnel to one.example served two.example');
    attempt.transport?.clear();
    a.request('GET', 'https://one.example/again');
    assert.equal(proxy.attempts.length, 2);
    assert.match(written(attempt), /^GET \/again HTTP\/1\.1\r\n/);
  });

  test('tunnels with different proxy credentials are not shared', () => {
    const proxy = new FakeProxy();
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock);
    const a = new ProxyAgent(proxy, clock, { pool, proxyAuthorization: 'Basic YQ==' });
    const b = new ProxyAgent(proxy, clock, { pool, proxyAuthorization: 'Basic Yg==' });
    const first = a.request('GET', 'https://one.example/');
    const attempt = proxy.accept();
    openTunnel(attempt);
    reply(attempt, OK);
    successResultOf(readBody(successResultOf(first)));
    b.request('GET', 'https://one.example/');
    assert.equal(proxy.attempts.length, 2);
  });
});

describe('ProxyAgent, cancellation', () => {
  test('while connecting to the proxy: the attempt is abandoned', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'https://example.com/');
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(proxy.attempts[0]?.cancelled, true);
  });

  test('while waiting for the answer to CONNECT: the connection is closed', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'https://example.com/');
    const attempt = proxy.accept();
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(attempt.transport?.disconnected, true);
    // The close that follows changes nothing.
    attempt.protocol?.connectionLost(new Failure(new ConnectionLost()));
  });

  test('during the handshake: the connection is closed, the late handshake ignored', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'https://example.com/');
    const attempt = proxy.accept();
    reply(attempt, 'HTTP/1.1 200 OK\r\n\r\n');
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(attempt.transport?.disconnected, true);
    attempt.transport?.clear();
    (attempt.protocol as IProtocol & { handshakeCompleted(): void }).handshakeCompleted();
    assert.equal(written(attempt), '');
  });

  test('waiting for the response inside the tunnel: the connection is closed', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'https://example.com/');
    const attempt = proxy.accept();
    openTunnel(attempt);
    d.cancel();
    const failure = failureResultOf(d);
    assert.ok(failure.check(CancelledError, ResponseNeverReceived), String(failure.value));
    assert.equal(attempt.transport?.disconnected, true);
  });

  test('waiting for the response from the proxy (http): the connection is closed', () => {
    const { proxy, agent: a } = agent();
    const d = a.request('GET', 'http://example.com/');
    const attempt = proxy.accept();
    d.cancel();
    failureResultOf(d);
    assert.equal(attempt.transport?.disconnected, true);
  });
});

describe('ProxyAgent, tunnelTimeout', () => {
  test('a proxy that never answers CONNECT: TimeoutError after tunnelTimeout, the connection closed', () => {
    const { proxy, agent: a, clock } = agent({ tunnelTimeout: 5 });
    const d = a.request('GET', 'https://example.com/');
    const attempt = proxy.accept();
    clock.advance(4.9);
    assert.equal(d.called, false);
    clock.advance(0.1);
    const failure = failureResultOf(d, TimeoutError);
    assert.match(
      failure.getErrorMessage(),
      /example\.com:443 through the proxy tcp:proxy\.test:3128: no tunnel after 5 seconds/,
    );
    assert.equal(attempt.transport?.disconnected, true);
  });

  test('still connecting to the proxy: the attempt is abandoned', () => {
    const { proxy, agent: a, clock } = agent({ tunnelTimeout: 5 });
    const d = a.request('GET', 'https://example.com/');
    clock.advance(5);
    failureResultOf(d, TimeoutError);
    assert.equal(proxy.attempts[0]?.cancelled, true);
  });

  test('the timer is gone once the tunnel is up, or the request cancelled', () => {
    const { proxy, agent: a, clock } = agent();
    a.request('GET', 'https://example.com/');
    assert.equal(clock.getDelayedCalls().length, 1);
    openTunnel(proxy.accept());
    assert.equal(clock.getDelayedCalls().length, 0);
    const d = a.request('GET', 'https://example.com/');
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('must be a positive number of seconds', () => {
    assert.throws(
      () => new ProxyAgent(new FakeProxy(), new Clock(), { tunnelTimeout: 0 }),
      RangeError,
    );
    assert.throws(
      () => new ProxyAgent(new FakeProxy(), new Clock(), { tunnelTimeout: Number.NaN }),
      RangeError,
    );
  });
});
