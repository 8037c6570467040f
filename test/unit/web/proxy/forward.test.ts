// The forward proxy on a MemoryReactorClock: absolute URIs parsed and
// forwarded, Via added both ways and loops refused (508), requests for the
// proxy itself served locally, the filter's answers, the statistics,
// X-Forwarded-For by option, and the 400 pages.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeoutError } from '../../../../src/internet/error.js';
import { Failure } from '../../../../src/internet/failure.js';
import type {
  IProxyFilter,
  IProxyStats,
  ProxiedRequestInfo,
} from '../../../../src/web/proxy/hooks.js';
import { Proxy as ForwardProxy, ProxyRequest } from '../../../../src/web/proxy/proxy.js';
import type { Request } from '../../../../src/web/request.js';
import { Resource } from '../../../../src/web/resource.js';
import { listenRecorder, proxyKit, type Recorder } from './_proxy-kit.js';

/** Answers the first request a recorder received with `response`. */
function answer(recorder: Recorder, response: string): void {
  recorder.transport.write(Buffer.from(response, 'latin1'));
}

/** The head lines of what a recorder received (request line first). */
function headLines(recorder: Recorder): string[] {
  const text = recorder.text();
  return text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
}

class Local extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `local ${request.path}`;
  }
}

class CountingStats implements IProxyStats {
  readonly calls: string[] = [];
  readonly requests: ProxiedRequestInfo[] = [];
  connectionOpened(): void {
    this.calls.push('opened');
  }
  connectionClosed(): void {
    this.calls.push('closed');
  }
  request(request: ProxiedRequestInfo): void {
    this.calls.push(`request ${request.method} ${request.url}`);
    this.requests.push(request);
  }
  blocked(): void {
    this.calls.push('blocked');
  }
  imageBlocked(): void {
    this.calls.push('imageBlocked');
  }
  cookiesStripped(): void {
    this.calls.push('cookiesStripped');
  }
  upstreamError(request: ProxiedRequestInfo, reason: string): void {
    this.calls.push(`upstreamError ${request.url} ${reason}`);
  }
}

describe('ProxyRequest.parseTarget', () => {
  it('reads scheme, host, port and path of an absolute URL', () => {
    assert.deepEqual(ProxyRequest.parseTarget('http://Example.COM:8080/a/b?c=d'), {
      scheme: 'http',
      host: 'example.com',
      port: 8080,
      path: '/a/b?c=d',
    });
    assert.deepEqual(ProxyRequest.parseTarget('https://example.com'), {
      scheme: 'https',
      host: 'example.com',
      port: 443,
      path: '/',
    });
    assert.deepEqual(ProxyRequest.parseTarget('http://[::1]:81?x'), {
      scheme: 'http',
      host: '::1',
      port: 81,
      path: '/?x',
    });
  });

  it('keeps the path exactly as sent (no normalisation)', () => {
    const target = ProxyRequest.parseTarget('http://example.com/a/../b/%2e/c');
    assert.equal(typeof target === 'string' ? target : target.path, '/a/../b/%2e/c');
  });

  it('reads CONNECT targets as host:port, which needs the port', () => {
    assert.deepEqual(ProxyRequest.parseTarget('example.com:443', true), {
      scheme: 'https',
      host: 'example.com',
      port: 443,
      path: '',
    });
    assert.match(ProxyRequest.parseTarget('example.com', true) as string, /host:port/);
  });

  it('says why a target cannot be used', () => {
    assert.match(ProxyRequest.parseTarget('ftp://example.com/') as string, /scheme "ftp"/);
    assert.match(ProxyRequest.parseTarget('http://user:pw@example.com/') as string, /credentials/);
    assert.match(ProxyRequest.parseTarget('http://example.com:99999/') as string, /not a port/);
    assert.match(
      ProxyRequest.parseTarget('http://exa mple.com/') as string,
      /not an absolute URL|host name/,
    );
    assert.match(ProxyRequest.parseTarget('http:///x') as string, /no host|host name/);
    assert.match(ProxyRequest.parseTarget('http://[zz]/') as string, /IPv6/);
  });

  it('has the default ports of Twisted plus https', () => {
    assert.deepEqual({ ...ProxyRequest.ports }, { http: 80, https: 443 });
  });
});

describe('Proxy: forwarding', () => {
  it('forwards an absolute-form request in origin form with Via, and the response back with Via', () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send(
      'GET http://127.0.0.1:8081/a/b?c HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nAccept: text/html\r\nProxy-Connection: keep-alive\r\n\r\n',
    );
    const pump = kit.connectUpstream();
    const server = upstream.accepted[0] as Recorder;
    const lines = headLines(server);
    assert.equal(lines[0], 'GET /a/b?c HTTP/1.1');
    assert.ok(lines.includes('Via: 1.1 test-proxy'), lines.join('\n'));
    assert.ok(lines.includes('Accept: text/html'));
    assert.ok(!lines.some((l) => /^proxy-connection:/i.test(l)));
    assert.ok(!lines.some((l) => /^x-forwarded-for:/i.test(l)), 'no X-Forwarded-For by default');
    answer(server, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Up: 1\r\n\r\nhello');
    pump.flush();
    const [reply] = client.replies();
    assert.equal(reply?.status, 200);
    assert.equal(reply?.body, 'hello');
    assert.equal(reply?.header('x-up'), '1');
    assert.equal(reply?.header('via'), '1.1 test-proxy');
  });

  it('adds X-Forwarded-For with the client address when asked', () => {
    const kit = proxyKit({ xForwardedFor: true });
    const upstream = listenRecorder(kit.reactor, 8081);
    kit.client().send('GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    kit.connectUpstream();
    assert.ok(headLines(upstream.accepted[0] as Recorder).includes('X-Forwarded-For: 192.0.2.7'));
  });

  it('refuses a request that has passed through it already (508 Loop Detected)', () => {
    const kit = proxyKit();
    listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send(
      'GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nVia: 1.0 other, 1.1 test-proxy\r\n\r\n',
    );
    kit.reactor.advance(0);
    assert.equal(kit.reactor.tcpClients.length, 0, 'nothing is forwarded');
    const [reply] = client.replies();
    assert.equal(reply?.status, 508);
    assert.match(reply?.body ?? '', /loop/);
  });

  it('forwards a request whose Via names other proxies only', () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    kit
      .client()
      .send(
        'GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nVia: 1.1 test-proxy-2\r\n\r\n',
      );
    kit.connectUpstream();
    const lines = headLines(upstream.accepted[0] as Recorder);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('Via:')),
      ['Via: 1.1 test-proxy-2', 'Via: 1.1 test-proxy'],
    );
  });

  it('serves origin-form requests from the local resource', () => {
    const kit = proxyKit({ localResource: new Local() });
    const client = kit.client();
    client.send('GET /_torsion/ HTTP/1.1\r\nHost: 192.0.2.1:8080\r\n\r\n');
    const [reply] = client.replies();
    assert.equal(reply?.status, 200);
    assert.equal(reply?.body, 'local /_torsion/');
  });

  it('answers origin-form requests with a 400 page saying it is a proxy, without a local resource', () => {
    const kit = proxyKit();
    const client = kit.client();
    client.send('GET /index.html HTTP/1.1\r\nHost: 192.0.2.1:8080\r\n\r\n');
    const [reply] = client.replies();
    assert.equal(reply?.status, 400);
    assert.match(reply?.body ?? '', /This is a proxy/);
  });

  it('serves absolute-form requests for its own address locally instead of forwarding them to itself', () => {
    const kit = proxyKit({ localResource: new Local() });
    const client = kit.client();
    client.send('GET http://192.0.2.1:8080/_torsion/x HTTP/1.1\r\nHost: 192.0.2.1:8080\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(kit.reactor.tcpClients.length, 0);
    const [reply] = client.replies();
    assert.equal(reply?.body, 'local /_torsion/x');
  });

  it('answers 400 naming the reason for a target it cannot forward', () => {
    const kit = proxyKit();
    const client = kit.client();
    client.send('GET https://user@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n');
    const [reply] = client.replies();
    assert.equal(reply?.status, 400);
    assert.match(reply?.body ?? '', /credentials/);
  });

  it("sends the filter's answer instead of forwarding, and forwards the filter's header edits", () => {
    const seen: ProxiedRequestInfo[] = [];
    const filter: IProxyFilter = {
      filterRequest(info) {
        seen.push(info);
        if (info.host === 'blocked.example') {
          return { code: 403, headers: [['Content-Type', 'text/plain']], body: 'no' };
        }
        info.headers.removeHeader('cookie');
        return undefined;
      },
    };
    const kit = proxyKit({ filter });
    kit.reactor.hosts.set('blocked.example', '10.0.0.9');
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send('GET http://blocked.example/x HTTP/1.1\r\nHost: blocked.example\r\n\r\n');
    const [blocked] = client.replies();
    assert.equal(blocked?.status, 403);
    assert.equal(blocked?.body, 'no');
    kit.reactor.advance(0);
    assert.equal(kit.reactor.tcpClients.length, 0);
    const other = kit.client();
    other.send(
      'GET http://127.0.0.1:8081/y HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nCookie: a=b\r\n\r\n',
    );
    kit.connectUpstream();
    assert.ok(!headLines(upstream.accepted[0] as Recorder).some((l) => /^cookie:/i.test(l)));
    assert.deepEqual(
      seen.map((i) => [i.method, i.url, i.scheme, i.host, i.port, i.path]),
      [
        ['GET', 'http://blocked.example/x', 'http', 'blocked.example', 80, '/x'],
        ['GET', 'http://127.0.0.1:8081/y', 'http', '127.0.0.1', 8081, '/y'],
      ],
    );
  });

  it('never forwards a header value holding CR or LF: a filter that tries gets the request a 500', () => {
    const filter: IProxyFilter = {
      filterRequest(info) {
        info.headers.setRawHeaders('X-Note', ['a\r\nInjected: 1']);
        return undefined;
      },
    };
    const kit = proxyKit({ filter });
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send('GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(client.replies()[0]?.status, 500);
    assert.equal(upstream.accepted.length, 0);
    assert.equal(kit.reactor.tcpClients.length, 0, 'nothing was sent upstream');
  });

  it('reports connections and requests to the statistics, and upstream errors', () => {
    const stats = new CountingStats();
    const kit = proxyKit({ stats });
    const client = kit.client();
    client.send('GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n');
    kit.reactor.advance(0);
    kit.completer.failOnce();
    kit.reactor.advance(0);
    const [reply] = client.replies();
    assert.equal(reply?.status, 502);
    assert.match(reply?.body ?? '', /127\.0\.0\.1:9/);
    client.transport.loseConnection();
    assert.deepEqual(stats.calls.slice(0, 2), ['opened', 'request GET http://127.0.0.1:9/']);
    assert.match(stats.calls[2] ?? '', /^upstreamError http:\/\/127\.0\.0\.1:9\/ /);
    assert.equal(stats.calls.at(-1), 'closed');
  });

  it('answers 504 when the upstream does not accept in connectTimeout', () => {
    const kit = proxyKit({ connectTimeout: 5 });
    const client = kit.client();
    client.send('GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    kit.reactor.advance(0);
    // The connector's timeout (the memory reactor records it and leaves the failing to the test).
    assert.equal(kit.reactor.tcpClients[0]?.[3], 5);
    kit.completer.failOnce(new Failure(new TimeoutError('connection timed out')));
    kit.reactor.advance(0);
    const [reply] = client.replies();
    assert.equal(reply?.status, 504);
    assert.match(reply?.body ?? '', /5 seconds/);
  });

  it('answers 504 when the upstream does not answer within responseTimeout', () => {
    const kit = proxyKit({ responseTimeout: 7 });
    listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send('GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    const pump = kit.connectUpstream();
    kit.reactor.advance(6.9);
    assert.equal(client.replies().length, 0);
    kit.reactor.advance(0.1);
    pump.flush();
    const [reply] = client.replies();
    assert.equal(reply?.status, 504);
    assert.match(reply?.body ?? '', /7 seconds/);
  });

  it('cancels the upstream request when the client goes away', () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send('GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    const pump = kit.connectUpstream();
    const server = upstream.accepted[0] as Recorder;
    assert.equal(server.lost, false);
    client.transport.loseConnection();
    pump.flush();
    assert.equal(server.lost, true, 'the upstream connection is closed, not pooled');
  });

  it('takes a client that finishes sending while its request is in flight as gone', () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send('GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    const pump = kit.connectUpstream();
    client.channel.readConnectionLost();
    pump.flush();
    assert.equal(client.transport.disconnected, true, 'the client connection is aborted');
    assert.equal(
      (upstream.accepted[0] as Recorder).lost,
      true,
      'the upstream request is cancelled',
    );
  });

  it('keeps the upstream connection alive for the next request to the same origin', () => {
    const kit = proxyKit();
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client();
    client.send('GET http://127.0.0.1:8081/1 HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    const pump = kit.connectUpstream();
    const server = upstream.accepted[0] as Recorder;
    answer(server, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na');
    pump.flush();
    server.received = Buffer.alloc(0);
    client.send('GET http://127.0.0.1:8081/2 HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    kit.reactor.advance(0);
    pump.flush();
    assert.equal(kit.reactor.tcpClients.length, 0, 'no new connection');
    assert.equal(headLines(server)[0], 'GET /2 HTTP/1.1');
    answer(server, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb');
    pump.flush();
    assert.deepEqual(
      client.replies().map((r) => r.body),
      ['a', 'b'],
    );
  });
});

describe('Proxy: options', () => {
  it('checks its options', () => {
    const reactor = proxyKit().reactor;
    assert.throws(() => new ForwardProxy({} as never), /reactor/);
    assert.throws(() => new ForwardProxy({ reactor, via: 'two words' }), /via must be a token/);
    assert.throws(() => new ForwardProxy({ reactor, connectPorts: [0] }), /connectPorts/);
    assert.throws(() => new ForwardProxy({ reactor, connectTimeout: -1 }), /connectTimeout/);
    assert.throws(
      () => new ForwardProxy({ reactor, upstreamProxy: 'socks://x:1' }),
      /upstreamProxy/,
    );
  });

  it('names itself torsion-<8 hex> in Via by default, differently per instance', () => {
    const reactor = proxyKit().reactor;
    const a = new ForwardProxy({ reactor });
    const b = new ForwardProxy({ reactor });
    assert.match(a.via, /^torsion-[0-9a-f]{8}$/);
    assert.notEqual(a.via, b.via);
  });

  it('sends absolute-form requests to the upstream proxy, as they are', () => {
    const kit = proxyKit({ upstreamProxy: 'http://127.0.0.1:3128' });
    kit.reactor.hosts.set('example.com', '10.0.0.9');
    const upstream = listenRecorder(kit.reactor, 3128);
    kit.client().send('GET http://example.com/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n');
    kit.connectUpstream();
    assert.equal(
      headLines(upstream.accepted[0] as Recorder)[0],
      'GET http://example.com/p?q HTTP/1.1',
    );
  });
});
