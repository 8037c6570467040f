// ReverseProxyResource on loopback sockets: in front of Torsion's own web
// server and of Node's http server, with Node's http client in front; an
// upstream killed mid-test (502, another upstream takes over, recovery once
// it is back), a slow upstream (504), a WebSocket echo through Upgrade, and
// a large body streamed both ways.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
} from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import type { IPAddress } from 'torsion/protocol';
import {
  type Request,
  Resource,
  type ReverseProxyOptions,
  ReverseProxyResource,
  Site,
} from 'torsion/web';
import { SocketHarness, waitFor } from '../../helpers/sockets.js';

interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

function fetch(
  port: number,
  agent: Agent,
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A Node http server on a loopback port, closed (connections too) by `stop`. */
async function nodeServer(
  handler: Parameters<typeof createServer>[1],
  port = 0,
): Promise<{ server: Server; port: number; stop(): Promise<void> }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    server,
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Torsion's Site: says what it received. */
class Describe extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    request.setHeader('Content-Type', 'application/json');
    return JSON.stringify({
      uri: request.uri,
      host: request.getHeader('host'),
      xff: request.getHeader('x-forwarded-for'),
      proto: request.getHeader('x-forwarded-proto'),
      forwarded: request.getHeader('forwarded'),
    });
  }
}

describe('ReverseProxyResource on loopback', () => {
  const harness = new SocketHarness();
  const stops: (() => Promise<void>)[] = [];
  const proxies: ReverseProxyResource[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  after(async () => {
    agent.destroy();
    for (const proxy of proxies) await waitFor(proxy.closeCachedConnections(), 'pool close', 5);
    for (const stop of stops) await stop();
    await harness.close();
  });

  /** A proxy Site over the resource tree `root`, listening on a free port. */
  function serve(root: Resource): number {
    const site = new Site(root, { clock: harness.reactor });
    site.noisy = false;
    return (harness.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
  }

  function proxyTo(
    port: number,
    path: string,
    options: Partial<ReverseProxyOptions> = {},
  ): ReverseProxyResource {
    const proxy = new ReverseProxyResource('127.0.0.1', port, path, {
      reactor: harness.reactor,
      ...options,
    });
    proxies.push(proxy);
    return proxy;
  }

  test("in front of Torsion's Site, mounted in a tree: path, query, Host and X-Forwarded-*", async () => {
    const backend = new Site(new Describe(), { clock: harness.reactor });
    backend.noisy = false;
    const backendPort = (
      harness.listenTCP(0, backend, { interface: '127.0.0.1' }).getHost() as IPAddress
    ).port;
    const root = new Resource();
    root.putChild('api', proxyTo(backendPort, '/v1'));
    const port = serve(root);
    const first = await waitFor(fetch(port, agent, 'GET', '/api/items/7?full=1'), 'GET via proxy');
    assert.equal(first.status, 200);
    const seen = JSON.parse(first.body.toString());
    assert.equal(seen.uri, '/v1/items/7?full=1');
    assert.equal(seen.host, `127.0.0.1:${backendPort}`);
    assert.equal(seen.xff, '127.0.0.1');
    assert.equal(seen.proto, 'http');
    assert.equal(seen.forwarded, `for=127.0.0.1;host="127.0.0.1:${port}";proto=http`);
    const second = await waitFor(fetch(port, agent, 'GET', '/api/'), 'second GET');
    assert.equal(JSON.parse(second.body.toString()).uri, '/v1/');
  });

  test("in front of Node's http: a large body streamed up and back", async () => {
    const backend = await nodeServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      req.pipe(res); // chunked back, as it arrives
    });
    stops.push(backend.stop);
    const port = serve(proxyTo(backend.port, ''));
    const body = randomBytes(8 * 1024 * 1024);
    const reply = await waitFor(fetch(port, agent, 'POST', '/echo', body), 'POST 8 MiB', 30);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, body.length);
    assert.equal(
      createHash('sha256').update(reply.body).digest('hex'),
      createHash('sha256').update(body).digest('hex'),
    );
  });

  test('an upstream killed mid-test: 502, the other takes over, and it returns', async () => {
    const hits = { a: 0, b: 0 };
    let a = await nodeServer((_req, res) => {
      hits.a++;
      res.end('a');
    });
    const aPort = a.port;
    const b = await nodeServer((_req, res) => {
      hits.b++;
      res.end('b');
    });
    stops.push(b.stop);
    const port = serve(
      proxyTo(aPort, '', {
        upstreams: [{ host: '127.0.0.1', port: b.port }],
        health: { failures: 1, cooldown: 0.5 },
      }),
    );
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) {
      bodies.push((await waitFor(fetch(port, agent, 'GET', '/'), 'GET')).body.toString());
    }
    assert.deepEqual(bodies.sort(), ['a', 'a', 'b', 'b'], 'round-robin over both');
    await a.stop();
    const during: number[] = [];
    for (let i = 0; i < 4; i++) {
      during.push((await waitFor(fetch(port, agent, 'GET', '/'), 'GET while a is down')).status);
    }
    // At most one request meets the dead upstream (refused: 502); then it is skipped.
    assert.ok(during.filter((s) => s === 502).length <= 1, `statuses ${during}`);
    assert.ok(during.filter((s) => s === 200).length >= 3, `statuses ${during}`);
    const down = await waitFor(fetch(port, agent, 'GET', '/'), 'GET');
    assert.equal(down.body.toString(), 'b');
    a = await nodeServer((_req, res) => {
      hits.a++;
      res.end('a');
    }, aPort);
    stops.push(a.stop);
    const before = hits.a;
    // After the cooldown the upstream is tried again and takes its share.
    const deadline = performance.now() + 10_000;
    while (hits.a === before && performance.now() < deadline) {
      const reply = await waitFor(fetch(port, agent, 'GET', '/'), 'GET after restart');
      assert.equal(reply.status, 200);
    }
    assert.ok(hits.a > before, 'the restarted upstream answers again');
  });

  test('a single upstream killed: 502 naming it, then recovery when it is back', async () => {
    let backend = await nodeServer((_req, res) => res.end('up'));
    const backendPort = backend.port;
    const port = serve(proxyTo(backendPort, '', { health: { failures: 3, cooldown: 0.2 } }));
    assert.equal((await waitFor(fetch(port, agent, 'GET', '/'), 'GET')).status, 200);
    await backend.stop();
    const dead = await waitFor(fetch(port, agent, 'GET', '/'), 'GET while down');
    assert.equal(dead.status, 502);
    assert.match(dead.body.toString(), new RegExp(`127\\.0\\.0\\.1:${backendPort}`));
    backend = await nodeServer((_req, res) => res.end('up again'), backendPort);
    stops.push(backend.stop);
    const back = await waitFor(fetch(port, agent, 'GET', '/'), 'GET after restart');
    assert.equal(back.status, 200);
    assert.equal(back.body.toString(), 'up again');
  });

  test('a slow upstream: 504 after responseTimeout', async () => {
    const held: IncomingMessage[] = [];
    const backend = await nodeServer((req) => {
      held.push(req); // never answered
    });
    stops.push(backend.stop);
    const port = serve(proxyTo(backend.port, '', { responseTimeout: 0.3 }));
    const started = performance.now();
    const reply = await waitFor(fetch(port, agent, 'GET', '/slow'), 'GET slow');
    assert.equal(reply.status, 504);
    assert.match(reply.body.toString(), /did not answer within 0\.3 seconds/);
    assert.ok(performance.now() - started >= 250);
    assert.equal(held.length, 1);
  });

  test('a WebSocket echo through Upgrade', async () => {
    let backendSawEnd = false;
    const backend = await nodeServer((_req, res) => res.end('not a websocket'));
    stops.push(backend.stop);
    backend.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const key = req.headers['sec-websocket-key'] as string;
      const accept = createHash('sha1')
        .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      // The client's half-close reaches the backend through the tunnel: it finishes too.
      socket.on('end', () => {
        backendSawEnd = true;
        socket.end();
      });
      socket.on('data', (frame: Buffer) => {
        // One masked client frame with a payload under 126 bytes: unmask, echo unmasked.
        const length = (frame[1] as number) & 0x7f;
        const mask = frame.subarray(2, 6);
        const payload = Buffer.from(
          frame.subarray(6, 6 + length).map((b, i) => b ^ (mask[i % 4] as number)),
        );
        socket.write(Buffer.concat([Buffer.from([0x81, length]), payload]));
      });
    });
    const port = serve(proxyTo(backend.port, ''));
    const socket = netConnect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let wake: (() => void) | undefined;
    socket.on('data', (c: Buffer) => {
      received.push(c);
      wake?.();
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    const all = () => Buffer.concat(received);
    /** Waits for data events until `done()` holds. */
    const until = async (done: () => boolean, what: string): Promise<void> => {
      while (!done()) await waitFor(new Promise<void>((resolve) => (wake = resolve)), what);
    };
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET /chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await until(() => all().includes('\r\n\r\n'), 'the 101 head');
    const head = all().toString('latin1');
    assert.match(head, /^HTTP\/1\.1 101 /);
    const expected = createHash('sha1')
      .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    assert.ok(head.includes(`Sec-WebSocket-Accept: ${expected}\r\n`), head);
    const headLength = all().indexOf('\r\n\r\n') + 4;
    const mask = randomBytes(4);
    const text = Buffer.from('hello through the proxy');
    const masked = text.map((b, i) => b ^ (mask[i % 4] as number));
    socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | text.length]), mask, masked]));
    await until(() => all().length >= headLength + 2 + text.length, 'the echoed frame');
    const frame = all().subarray(headLength);
    assert.equal(frame[0], 0x81);
    assert.equal(frame.subarray(2).toString(), 'hello through the proxy');
    socket.end();
    await waitFor(closed, 'the tunnel to close', 10);
    assert.equal(backendSawEnd, true, 'the half-close was passed through');
  });
});
