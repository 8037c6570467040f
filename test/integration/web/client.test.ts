// Agent on loopback: against Torsion's own Site (keep-alive through a pool)
// and against Node's http and https servers (chunked bodies over several
// turns, Connection: close, a slow body, a body cut short, a reset in the
// middle of a body, a malformed response, a refused port, TLS verified
// against a test certificate and refused without it, a request cancelled
// while its body arrives).

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { describe, test } from 'node:test';
import { CancelledError, Deferred } from 'torsion/defer';
import { ConnectionRefusedError, type IPAddress, SSLError } from 'torsion/protocol';
import type { IAddress, IConsumer, IProtocolFactory } from 'torsion/reactor';
import {
  Agent,
  Headers,
  HTTPConnectionPool,
  type IBodyProducer,
  RedirectAgent,
  type Request,
  Resource,
  ResponseFailed,
  readBody,
  Site,
} from 'torsion/web';
import { harness, type SocketHarness, until, waitFor } from '../../helpers/sockets.js';
import { CERT, KEY } from '../../helpers/tls.js';

const SUITE = { timeout: 60_000 };
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** A node:http(s) server on a free loopback port, closed (with its sockets) when the test ends. */
async function nodeServer(
  t: { after(f: () => Promise<void>): void },
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  tls = false,
): Promise<{ port: number; sockets: Set<Socket>; server: Server }> {
  const server = tls ? createHttpsServer({ key: KEY, cert: CERT }, handler) : createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, sockets, server };
}

/** Answers with the method, path and body it got. */
class Echo extends Resource {
  override isLeaf = true;
  async render_GET(request: Request): Promise<string> {
    return `${request.method} ${request.path}`;
  }
  async render_POST(request: Request): Promise<string> {
    return `${request.method} ${request.path} ${await request.content.text()}`;
  }
}

/** Serves `site` on loopback, counting the connections it accepts. */
function serveSite(h: SocketHarness, site: Site): { port: number; connections: () => number } {
  let connections = 0;
  const counting: IProtocolFactory = {
    buildProtocol(addr: IAddress) {
      connections++;
      return site.buildProtocol(addr);
    },
    doStart: () => site.doStart(),
    doStop: () => site.doStop(),
  };
  const port = h.listenTCP(0, counting, { interface: '127.0.0.1' });
  return { port: (port.getHost() as IPAddress).port, connections: () => connections };
}

/** A body producer over bytes, written in one go. */
function bytesProducer(data: string): IBodyProducer {
  const bytes = Buffer.from(data);
  return {
    length: bytes.length,
    startProducing(consumer: IConsumer) {
      consumer.write(bytes);
      return Promise.resolve();
    },
    pauseProducing() {},
    resumeProducing() {},
    stopProducing() {},
  };
}

describe('Agent against a Torsion Site on loopback', SUITE, () => {
  test('keep-alive: sequential requests through a pool share one connection', async (t) => {
    const h = harness(t);
    const { port, connections } = serveSite(h, new Site(new Echo(), { clock: h.reactor }));
    const pool = new HTTPConnectionPool(h.reactor);
    const agent = new Agent(h.reactor, { pool });
    for (const path of ['/a', '/b', '/c']) {
      const response = await waitFor(agent.request('GET', `http://127.0.0.1:${port}${path}`), path);
      assert.equal(response.code, 200);
      assert.equal(text(await waitFor(readBody(response), `${path} body`)), `GET ${path}`);
    }
    const post = await waitFor(
      agent.request('POST', `http://127.0.0.1:${port}/p`, undefined, bytesProducer('data')),
      'the POST',
    );
    assert.equal(text(await waitFor(readBody(post), 'the POST body')), 'POST /p data');
    assert.equal(connections(), 1);
    await waitFor(pool.closeCachedConnections(), 'the pool to close');
  });

  test('fifty requests in flight on a pool that keeps ten', async (t) => {
    const h = harness(t);
    const { port, connections } = serveSite(h, new Site(new Echo(), { clock: h.reactor }));
    const pool = new HTTPConnectionPool(h.reactor, { maxPersistentPerHost: 10 });
    const agent = new Agent(h.reactor, { pool });
    for (let round = 0; round < 2; round++) {
      const bodies = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          agent.request('GET', `http://127.0.0.1:${port}/${i}`).addCallback(readBody),
        ),
      );
      assert.deepEqual(
        bodies.map(text),
        Array.from({ length: 50 }, (_, i) => `GET /${i}`),
      );
      assert.equal(pool.idleConnections(`http://127.0.0.1:${port}`), 10);
    }
    assert.equal(connections(), 90, 'the second round reused the ten kept');
    await waitFor(pool.closeCachedConnections(), 'the pool to close');
  });
});

describe('Agent against node:http on loopback', SUITE, () => {
  test('a chunked body written over several turns arrives whole', async (t) => {
    const { port } = await nodeServer(t, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      let i = 0;
      const next = (): void => {
        if (i === 5) {
          res.end();
          return;
        }
        res.write(`part ${i++};`);
        setImmediate(next);
      };
      next();
    });
    const h = harness(t);
    const response = await waitFor(
      new Agent(h.reactor).request('GET', `http://127.0.0.1:${port}/`),
      'the response',
    );
    assert.equal(response.length, undefined);
    assert.deepEqual(response.headers.getRawHeaders('transfer-encoding'), ['chunked']);
    assert.equal(
      text(await waitFor(readBody(response), 'the body')),
      'part 0;part 1;part 2;part 3;part 4;',
    );
  });

  test('keep-alive with a persistent pool; Connection: close ends the reuse', async (t) => {
    let served = 0;
    const seen = new Set<Socket>();
    const { port } = await nodeServer(t, (req, res) => {
      seen.add(req.socket);
      served++;
      if (req.url === '/close') res.setHeader('Connection', 'close');
      res.end(`#${served}`);
    });
    const h = harness(t);
    const pool = new HTTPConnectionPool(h.reactor);
    const agent = new Agent(h.reactor, { pool });
    const url = `http://127.0.0.1:${port}`;
    for (const path of ['/1', '/2', '/close', '/3']) {
      await waitFor(agent.request('GET', url + path).addCallback(readBody), path);
    }
    assert.equal(served, 4);
    assert.equal(seen.size, 2, 'one connection up to the close, a new one after');
    await waitFor(pool.closeCachedConnections(), 'the pool to close');
  });

  test('a slow body (a byte per turn) is read as it comes', async (t) => {
    const { port } = await nodeServer(t, (_req, res) => {
      res.writeHead(200, { 'Content-Length': '20' });
      let i = 0;
      const tick = (): void => {
        res.write('x');
        if (++i === 20) res.end();
        else setImmediate(tick);
      };
      tick();
    });
    const h = harness(t);
    const body = await waitFor(
      new Agent(h.reactor).request('GET', `http://127.0.0.1:${port}/`).addCallback(readBody),
      'the slow body',
    );
    assert.equal(text(body), 'x'.repeat(20));
  });

  test('a body cut short by the server closing fails with ResponseFailed', async (t) => {
    const { port } = await nodeServer(t, (req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('only this', () => req.socket.end());
    });
    const h = harness(t);
    const response = await waitFor(
      new Agent(h.reactor).request('GET', `http://127.0.0.1:${port}/short`),
      'the response',
    );
    await assert.rejects(waitFor(readBody(response), 'the body'), (error: unknown) => {
      assert.ok(error instanceof ResponseFailed, String(error));
      assert.match(error.message, new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/short: `));
      return true;
    });
  });

  test('a reset in the middle of a body fails it with ResponseFailed', async (t) => {
    const { port } = await nodeServer(t, (req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write('x'.repeat(100), () => req.socket.resetAndDestroy());
    });
    const h = harness(t);
    const response = await waitFor(
      new Agent(h.reactor).request('GET', `http://127.0.0.1:${port}/`),
      'the response',
    );
    await assert.rejects(waitFor(readBody(response), 'the body'), ResponseFailed);
  });

  test("a malformed response fails with the parser's reason and the URL", async (t) => {
    const { server, port } = await nodeServer(t, () => {});
    const h = harness(t);
    server.removeAllListeners('request');
    server.on('connection', (socket: Socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n'));
    });
    await assert.rejects(
      waitFor(new Agent(h.reactor).request('GET', `http://127.0.0.1:${port}/bad`), 'the failure'),
      (error: unknown) => {
        assert.ok(error instanceof ResponseFailed, String(error));
        assert.match(error.message, new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/bad: `));
        assert.match(error.message, /Content-Length/i);
        return true;
      },
    );
  });

  test('a refused port fails with ConnectionRefusedError naming the URL', async (t) => {
    const { server, port } = await nodeServer(t, () => {});
    const h = harness(t);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(
      waitFor(new Agent(h.reactor).request('GET', `http://127.0.0.1:${port}/`), 'the refusal'),
      (error: unknown) => {
        assert.ok(error instanceof ConnectionRefusedError, String(error));
        assert.match(error.message, new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/: `));
        return true;
      },
    );
  });

  test('cancelling while the body arrives closes the connection', async (t) => {
    const closed = new Deferred<void>();
    const { port } = await nodeServer(t, (req, res) => {
      res.writeHead(200, { 'Content-Length': '1000000' });
      res.write('x'.repeat(1000));
      req.socket.on('close', () => closed.callback(undefined));
    });
    const h = harness(t);
    const pool = new HTTPConnectionPool(h.reactor);
    const response = await waitFor(
      new Agent(h.reactor, { pool }).request('GET', `http://127.0.0.1:${port}/`),
      'the response',
    );
    const body = readBody(response);
    body.cancel();
    await assert.rejects(body.asPromise(), CancelledError);
    await waitFor(closed, 'the server to see the close');
    assert.equal(pool.idleConnections(`http://127.0.0.1:${port}`), 0);
  });
});

describe('RedirectAgent across origins on loopback', SUITE, () => {
  test('a redirect to another server is followed; credentials stay with the first', async (t) => {
    const seen: string[] = [];
    const second = await nodeServer(t, (req, res) => {
      seen.push(
        `${req.url} auth=${req.headers.authorization ?? '-'} cookie=${req.headers.cookie ?? '-'}`,
      );
      res.end('arrived');
    });
    const first = await nodeServer(t, (req, res) => {
      seen.push(`${req.url} auth=${req.headers.authorization ?? '-'}`);
      res.writeHead(302, { Location: `http://localhost:${second.port}/there` });
      res.end();
    });
    const h = harness(t);
    const agent = new RedirectAgent(new Agent(h.reactor));
    const headers = new Headers({ Authorization: ['Bearer t0ken'], Cookie: ['a=1'] });
    const response = await waitFor(
      agent.request('GET', `http://127.0.0.1:${first.port}/here`, headers),
      'the redirected response',
    );
    assert.equal(text(await waitFor(readBody(response), 'the body')), 'arrived');
    assert.equal(response.request?.absoluteURI, `http://localhost:${second.port}/there`);
    assert.equal(response.previousResponse?.code, 302);
    assert.deepEqual(seen, ['/here auth=Bearer t0ken', '/there auth=- cookie=-']);
  });
});

describe('Agent over TLS on loopback', SUITE, () => {
  test('https with the test certificate trusted', async (t) => {
    const { port } = await nodeServer(t, (req, res) => res.end(`secure ${req.url}`), true);
    const h = harness(t);
    const agent = new Agent(h.reactor, { tls: { ca: CERT } });
    const body = await waitFor(
      agent.request('GET', `https://localhost:${port}/x`).addCallback(readBody),
      'the body',
    );
    assert.equal(text(body), 'secure /x');
  });

  test('an unknown certificate is refused by default, naming the URL and the reason', async (t) => {
    const { port, sockets } = await nodeServer(t, (_req, res) => res.end('never'), true);
    const h = harness(t);
    await assert.rejects(
      waitFor(new Agent(h.reactor).request('GET', `https://localhost:${port}/`), 'the refusal'),
      (error: unknown) => {
        assert.ok(error instanceof SSLError, String(error));
        assert.match(error.message, new RegExp(`^GET https://localhost:${port}/: `));
        assert.match(error.message, /self[- ]signed|certificate/i);
        return true;
      },
    );
    await until(() => sockets.size === 0, 'the refused connection to close');
  });
});
