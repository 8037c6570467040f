// The forward Proxy on loopback, with real clients: curl -x over plain HTTP
// and, through CONNECT, over TLS to a local Site with the test certificate;
// Node's http client sending an absolute-form request; an upstream that is
// down (502), one too slow (504), a client that goes away (the upstream
// request is cancelled), keep-alive reuse of the upstream connection, and a
// CONNECT tunnel passing half-closes through on real sockets.
// curl must be installed (.ci/run installs it): without it these tests fail.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer as createNetServer, connect as netConnect, type Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import type { IPAddress } from '../../../src/internet/address.js';
import { Proxy as ForwardProxy, type ProxyOptions } from '../../../src/web/proxy/proxy.js';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../src/web/resource.js';
import { Site } from '../../../src/web/site.js';
import { harness, Signal, type SocketHarness, until, waitFor } from '../../helpers/sockets.js';
import { CERT, CERT_FILE, KEY } from '../../helpers/tls.js';

const LOCAL = '127.0.0.1';
const SUITE = { timeout: 120_000 };

/** Runs curl with `args` (after `-sS --max-time`), resolving with its stdout; fails if curl fails. */
function curl(args: readonly string[], seconds = 20): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '--max-time', String(seconds), ...args],
      { encoding: 'utf8', timeout: (seconds + 10) * 1000 },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error('curl is not installed: these tests need it (.ci/run installs it)'));
        } else reject(new Error(`curl ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      },
    );
  });
}

/** Answers with the path, the Host and the Via it saw, and the client port it came from. */
class Echo extends Resource {
  override isLeaf = true;
  readonly ports: number[] = [];
  render_GET(request: Request): string {
    const port = (request.getClientAddress() as IPAddress).port;
    this.ports.push(port);
    return `path=${request.uri} host=${request.getHeader('host')} via=${request.getHeader('via')}\n`;
  }
}

/** Never answers; records when the client (the proxy) goes away. */
class Stall extends Resource {
  override isLeaf = true;
  readonly arrived = new Signal<void>();
  readonly gone = new Signal<void>();
  render_GET(request: Request): typeof NOT_DONE_YET {
    this.arrived.fire();
    request.notifyFinish().addErrback(() => {
      this.gone.fire();
      return undefined;
    });
    return NOT_DONE_YET;
  }
}

/** A backend Site on loopback with `resource` at its root; its port. */
function backend(h: SocketHarness, resource: Resource): number {
  const site = new Site(resource, { clock: h.reactor });
  return (h.listenTCP(0, site, { interface: LOCAL }).getHost() as IPAddress).port;
}

/** A forward proxy on loopback; it is drained (tunnels and pooled connections closed) after the test. */
function startProxy(
  t: TestContext,
  h: SocketHarness,
  options: Partial<ProxyOptions> = {},
): { proxy: ForwardProxy; port: number } {
  const proxy = new ForwardProxy({ reactor: h.reactor, ...options });
  const port = (h.listenTCP(0, proxy, { interface: LOCAL }).getHost() as IPAddress).port;
  t.after(() => waitFor(proxy.drain(), 'the proxy to drain'));
  return { proxy, port };
}

describe('Proxy on loopback', SUITE, () => {
  test('curl -x: a plain HTTP request forwarded, with Via both ways', async (t) => {
    const h = harness(t);
    const echo = new Echo();
    const upstream = backend(h, echo);
    const { proxy, port } = startProxy(t, h);
    const out = await curl([
      '-i',
      '-x',
      `http://${LOCAL}:${port}`,
      `http://${LOCAL}:${upstream}/a?b=c`,
    ]);
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(out, new RegExp(`\r\nVia: 1\\.1 ${proxy.via}\r\n`, 'i'));
    assert.match(
      out,
      new RegExp(`path=/a\\?b=c host=${LOCAL}:${upstream} via=1\\.1 ${proxy.via}\n$`),
    );
  });

  test('curl -x: https through CONNECT to a local TLS site, certificate checked', async (t) => {
    const h = harness(t);
    const tlsPort = (
      h
        .listenSSL(
          0,
          new Site(new Echo(), { clock: h.reactor }),
          { key: KEY, cert: CERT },
          {
            interface: LOCAL,
          },
        )
        .getHost() as IPAddress
    ).port;
    const { port } = startProxy(t, h, { connectPorts: [tlsPort] });
    const out = await curl([
      '--cacert',
      CERT_FILE,
      '-x',
      `http://${LOCAL}:${port}`,
      '--resolve',
      `localhost:${tlsPort}:${LOCAL}`,
      `https://localhost:${tlsPort}/secret`,
    ]);
    assert.equal(out, `path=/secret host=localhost:${tlsPort} via=undefined\n`);
  });

  test('curl -x: CONNECT to a port not allowed is refused with 403', async (t) => {
    const h = harness(t);
    const tlsPort = backend(h, new Echo());
    const { port } = startProxy(t, h);
    const out = await curl([
      '-o',
      '/dev/null',
      '-w',
      '%{http_connect}',
      '-x',
      `http://${LOCAL}:${port}`,
      `https://${LOCAL}:${tlsPort}/`,
    ]).catch((error: Error) => error.message);
    assert.match(out, /403/);
  });

  test("Node's http client: an absolute-form request through the proxy", async (t) => {
    const h = harness(t);
    const upstream = backend(h, new Echo());
    const { port } = startProxy(t, h);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          host: LOCAL,
          port,
          path: `http://${LOCAL}:${upstream}/node`,
          headers: { Host: `${LOCAL}:${upstream}` },
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.match(body, new RegExp(`^200 path=/node host=${LOCAL}:${upstream} `));
  });

  test('an upstream that is down: 502 naming it', async (t) => {
    const h = harness(t);
    const closed = h.reactor.listenTCP(0, new Site(new Echo(), { clock: h.reactor }), {
      interface: LOCAL,
    });
    const downPort = (closed.getHost() as IPAddress).port;
    await waitFor(closed.stopListening(), 'the port to close');
    const { port } = startProxy(t, h);
    const out = await curl([
      '-w',
      '\n%{http_code}',
      '-x',
      `http://${LOCAL}:${port}`,
      `http://${LOCAL}:${downPort}/`,
    ]);
    assert.match(out, /\n502$/);
    assert.match(out, new RegExp(`${LOCAL}:${downPort}`));
    assert.match(out, /refused/);
  });

  test('a slow upstream: 504 after responseTimeout', async (t) => {
    const h = harness(t);
    const upstream = backend(h, new Stall());
    const { port } = startProxy(t, h, { responseTimeout: 0.5 });
    const out = await curl([
      '-w',
      '\n%{http_code}',
      '-x',
      `http://${LOCAL}:${port}`,
      `http://${LOCAL}:${upstream}/slow`,
    ]);
    assert.match(out, /\n504$/);
    assert.match(out, /0\.5 seconds/);
  });

  test('a client that goes away cancels its upstream request', async (t) => {
    const h = harness(t);
    const stall = new Stall();
    const upstream = backend(h, stall);
    const { port } = startProxy(t, h);
    const socket = netConnect(port, LOCAL);
    socket.on('error', () => undefined);
    socket.write(
      `GET http://${LOCAL}:${upstream}/wait HTTP/1.1\r\nHost: ${LOCAL}:${upstream}\r\n\r\n`,
    );
    await waitFor(stall.arrived.promise, 'the request to reach the upstream');
    socket.destroy();
    await waitFor(stall.gone.promise, 'the upstream connection to be closed');
  });

  test('keep-alive: two requests on one client connection share one upstream connection', async (t) => {
    const h = harness(t);
    const echo = new Echo();
    const upstream = backend(h, echo);
    const { proxy, port } = startProxy(t, h);
    const out = await curl([
      '-x',
      `http://${LOCAL}:${port}`,
      `http://${LOCAL}:${upstream}/one`,
      `http://${LOCAL}:${upstream}/two`,
    ]);
    assert.match(out, /path=\/one .*\npath=\/two /);
    assert.equal(echo.ports.length, 2);
    assert.equal(echo.ports[0], echo.ports[1], 'the same upstream connection');
    await until(
      () => proxy.pool.idleConnections(`http://${LOCAL}:${upstream}`) === 1,
      'the upstream connection back in the pool',
    );
  });

  test('CONNECT: a half-close passes through both ways on real sockets', async (t) => {
    // A raw upstream that answers after the client's FIN, then sends its own.
    const upstreamGotEnd = new Signal<string>();
    const sockets: Socket[] = [];
    const server = createNetServer({ allowHalfOpen: true }, (socket) => {
      sockets.push(socket);
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (part: string) => {
        text += part;
      });
      socket.on('end', () => {
        upstreamGotEnd.fire(text);
        socket.end('answer after your FIN');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
    // Closed before the harness checks that no socket is left (after hooks run in order).
    t.after(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const h = harness(t);
    const upstreamPort = (server.address() as { port: number }).port;
    const { proxy, port } = startProxy(t, h, { connectPorts: [upstreamPort] });
    const client = netConnect({ port, host: LOCAL, allowHalfOpen: true });
    sockets.push(client);
    let received = '';
    const clientGotEnd = new Signal<void>();
    client.setEncoding('latin1');
    client.on('data', (part: string) => {
      received += part;
    });
    client.on('end', () => clientGotEnd.fire());
    client.write(
      `CONNECT ${LOCAL}:${upstreamPort} HTTP/1.1\r\nHost: ${LOCAL}:${upstreamPort}\r\n\r\n`,
    );
    await until(() => received.includes('\r\n\r\n'), 'the answer to CONNECT');
    assert.match(received, /^HTTP\/1\.1 200 Connection established\r\n/);
    received = '';
    client.end('ping');
    assert.equal(await waitFor(upstreamGotEnd.promise, "the client's FIN upstream"), 'ping');
    await waitFor(clientGotEnd.promise, "the upstream's FIN at the client");
    assert.equal(received, 'answer after your FIN');
    await until(() => proxy.openTunnels === 0, 'the tunnel to close');
  });
});
