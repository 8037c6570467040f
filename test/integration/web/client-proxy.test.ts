// ProxyAgent on loopback: a small forward proxy (node:http, absolute-form
// requests relayed with http.request, CONNECT piped to a socket) in front of
// a Torsion Site over plain HTTP and one over TLS with the test certificate.

import assert from 'node:assert/strict';
import { createServer as createHTTPServer, request as httpRequest, type Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { TCP4ClientEndpoint } from '../../../src/internet/endpoints/client.js';
import { SSLError } from '../../../src/internet/error.js';
import { ProxyConnectError } from '../../../src/web/client/errors.js';
import { HTTPConnectionPool } from '../../../src/web/client/pool.js';
import { ProxyAgent } from '../../../src/web/client/proxy-agent.js';
import { readBody } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';
import type { Request } from '../../../src/web/request.js';
import { Resource } from '../../../src/web/resource.js';
import { Site } from '../../../src/web/site.js';
import { harness, type SocketHarness, until, waitFor } from '../../helpers/sockets.js';
import { CERT, KEY } from '../../helpers/tls.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 60_000 };

/** Answers every GET with what it saw: the path, Host and any Proxy-Authorization. */
class Reporting extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    const auth = request.requestHeaders.getRawHeaders('proxy-authorization') ?? [];
    return `${request.uri} host=${request.getHeader('host')} proxy-auth=${auth.join(',') || 'none'}`;
  }
}

/** What the forward proxy saw. */
interface ProxyLog {
  /** `METHOD target proxy-authorization` per request or CONNECT. */
  readonly seen: string[];
  /** The sockets of the tunnels it piped, open or closed. */
  readonly tunnels: Socket[];
  /** The client connections it accepted. */
  connections: number;
}

/**
 * A forward proxy on loopback. With `requireAuth`, CONNECT without that
 * Proxy-Authorization gets 407; with `holdConnect`, CONNECT is never answered.
 */
async function forwardProxy(
  t: TestContext,
  options: { requireAuth?: string; holdConnect?: boolean } = {},
): Promise<{ port: number; log: ProxyLog }> {
  const log: ProxyLog = { seen: [], tunnels: [], connections: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createHTTPServer((req, res) => {
    log.seen.push(`${req.method} ${req.url} ${req.headers['proxy-authorization'] ?? 'none'}`);
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    log.connections++;
    sockets.add(socket);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const auth = req.headers['proxy-authorization'];
    log.seen.push(`CONNECT ${req.url} ${auth ?? 'none'}`);
    log.tunnels.push(client);
    client.on('error', () => undefined);
    if (options.holdConnect === true) return;
    if (options.requireAuth !== undefined && auth !== options.requireAuth) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const [host, port] = [
      req.url?.slice(0, req.url.lastIndexOf(':')),
      req.url?.slice(req.url.lastIndexOf(':') + 1),
    ];
    const upstream = netConnect(Number(port), host === 'localhost' ? LOCAL : host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    for (const socket of log.tunnels) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as { port: number }).port, log };
}

/** A Site over HTTP and one over TLS (the test certificate, for localhost). */
function origins(h: SocketHarness): { http: number; https: number } {
  const site = new Site(new Reporting(), { clock: h.reactor });
  const http = h.listenTCP(0, site, { interface: LOCAL }).getHost() as { port: number };
  const https = h
    .listenSSL(
      0,
      new Site(new Reporting(), { clock: h.reactor }),
      { key: KEY, cert: CERT },
      {
        interface: LOCAL,
      },
    )
    .getHost() as { port: number };
  return { http: http.port, https: https.port };
}

async function text(d: ReturnType<ProxyAgent['request']>): Promise<{ code: number; body: string }> {
  const response = await waitFor(d, 'the response');
  const body = await waitFor(readBody(response), 'the body');
  return { code: response.code, body: Buffer.from(body).toString() };
}

describe('ProxyAgent on loopback', SUITE, () => {
  test('http: the proxy gets the absolute URL and the credentials, the origin answers', async (t) => {
    const proxy = await forwardProxy(t);
    const h = harness(t);
    const ports = origins(h);
    const agent = new ProxyAgent(new TCP4ClientEndpoint(h.reactor, LOCAL, proxy.port), h.reactor, {
      proxyAuthorization: 'Basic dXNlcjpwYXNz',
    });
    const { code, body } = await text(
      agent.request('GET', `http://${LOCAL}:${ports.http}/hello?x=1`),
    );
    assert.equal(code, 200);
    assert.equal(body, `/hello?x=1 host=${LOCAL}:${ports.http} proxy-auth=none`);
    assert.deepEqual(proxy.log.seen, [
      `GET http://${LOCAL}:${ports.http}/hello?x=1 Basic dXNlcjpwYXNz`,
    ]);
  });

  test('https: CONNECT with the credentials, TLS verified against the origin, nothing for the proxy inside', async (t) => {
    const proxy = await forwardProxy(t, { requireAuth: 'Basic dXNlcjpwYXNz' });
    const h = harness(t);
    const ports = origins(h);
    const agent = new ProxyAgent(new TCP4ClientEndpoint(h.reactor, LOCAL, proxy.port), h.reactor, {
      proxyAuthorization: 'Basic dXNlcjpwYXNz',
      tls: { ca: CERT },
    });
    const { code, body } = await text(
      agent.request(
        'GET',
        `https://localhost:${ports.https}/secret`,
        new Headers({ 'Proxy-Authorization': ['Bearer must-not-leak'] }),
      ),
    );
    assert.equal(code, 200);
    assert.equal(body, `/secret host=localhost:${ports.https} proxy-auth=none`);
    assert.deepEqual(proxy.log.seen, [`CONNECT localhost:${ports.https} Basic dXNlcjpwYXNz`]);
  });

  test('https: a persistent pool sends the next request through the same tunnel', async (t) => {
    const proxy = await forwardProxy(t);
    const h = harness(t);
    const ports = origins(h);
    const pool = new HTTPConnectionPool(h.reactor);
    t.after(() => pool.closeCachedConnections());
    const agent = new ProxyAgent(new TCP4ClientEndpoint(h.reactor, LOCAL, proxy.port), h.reactor, {
      pool,
      tls: { ca: CERT },
    });
    for (const path of ['/one', '/two', '/three']) {
      const { body } = await text(agent.request('GET', `https://localhost:${ports.https}${path}`));
      assert.match(body, new RegExp(`^${path} `));
    }
    assert.equal(proxy.log.seen.length, 1);
    assert.equal(proxy.log.connections, 1);
    await waitFor(pool.closeCachedConnections(), 'the pool to close');
  });

  test('https: an untrusted origin certificate fails with SSLError (verification is on by default)', async (t) => {
    const proxy = await forwardProxy(t);
    const h = harness(t);
    const ports = origins(h);
    const agent = new ProxyAgent(new TCP4ClientEndpoint(h.reactor, LOCAL, proxy.port), h.reactor);
    await assert.rejects(
      waitFor(agent.request('GET', `https://localhost:${ports.https}/`), 'the failure'),
      (error: Error) => {
        assert.ok(error instanceof SSLError, String(error));
        assert.match(error.message, /^GET https:\/\/localhost:\d+\/: /);
        assert.match(error.message, /through the proxy/);
        assert.match(error.message, /self[- ]signed/i);
        return true;
      },
    );
  });

  test('https: a certificate for another name fails with SSLError', async (t) => {
    const proxy = await forwardProxy(t);
    const h = harness(t);
    const ports = origins(h);
    const agent = new ProxyAgent(new TCP4ClientEndpoint(h.reactor, LOCAL, proxy.port), h.reactor, {
      tls: { ca: CERT, servername: 'example.com' },
    });
    await assert.rejects(
      waitFor(agent.request('GET', `https://localhost:${ports.https}/`), 'the failure'),
      (error: Error) => error instanceof SSLError && /example\.com/.test(error.message),
    );
  });

  test('https: 407 from the proxy fails with ProxyConnectError naming proxy, target and status', async (t) => {
    const proxy = await forwardProxy(t, { requireAuth: 'Basic right' });
    const h = harness(t);
    const ports = origins(h);
    const agent = new ProxyAgent(new TCP4ClientEndpoint(h.reactor, LOCAL, proxy.port), h.reactor, {
      proxyAuthorization: 'Basic wrong',
      tls: { ca: CERT },
    });
    await assert.rejects(
      waitFor(agent.request('GET', `https://localhost:${ports.https}/`), 'the failure'),
      (error: Error) => {
        assert.ok(error instanceof ProxyConnectError, String(error));
        assert.equal(error.status, 407);
        assert.equal(error.target, `localhost:${ports.https}`);
        assert.match(
          error.message,
          new RegExp(`${proxy.port}.* answered CONNECT localhost:${ports.https} with 407`),
        );
        return true;
      },
    );
  });

  test('cancelling while the proxy has not answered CONNECT closes the connection', async (t) => {
    const proxy = await forwardProxy(t, { holdConnect: true });
    const h = harness(t);
    const ports = origins(h);
    const agent = new ProxyAgent(new TCP4ClientEndpoint(h.reactor, LOCAL, proxy.port), h.reactor, {
      tls: { ca: CERT },
    });
    const d = agent.request('GET', `https://localhost:${ports.https}/`);
    d.addErrback(() => undefined);
    await until(() => proxy.log.tunnels.length === 1, 'the CONNECT');
    d.cancel();
    const tunnel = proxy.log.tunnels[0] as Socket;
    await until(() => tunnel.destroyed || tunnel.readableEnded, 'the proxy to see the close');
  });
});
