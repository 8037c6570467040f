// ContentDecoderAgent and CookieAgent over a real Agent on loopback, against
// node:http: gzip, deflate (zlib and raw) and br bodies, large, chunked and
// streamed slowly; backpressure from a paused reader back to the server; a
// corrupt body; HEAD; a persistent connection reused after a decoded body;
// cookies set and sent back across requests.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import type { Failure } from '../../../src/internet/failure.js';
import type { IPushProducer } from '../../../src/internet/interfaces.js';
import { Agent } from '../../../src/web/client/agent.js';
import { ContentDecoderAgent, DecodedResponse } from '../../../src/web/client/content-decoder.js';
import { CookieAgent } from '../../../src/web/client/cookie-agent.js';
import { CookieJar } from '../../../src/web/client/cookie-jar.js';
import { ResponseDone, ResponseFailed } from '../../../src/web/client/errors.js';
import { HTTPConnectionPool } from '../../../src/web/client/pool.js';
import { type Response, readBody } from '../../../src/web/client/response.js';
import { SocketHarness, until, waitFor } from '../../helpers/sockets.js';

/** Compressible text: lines of counters, about `size` bytes. */
function text(size: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `line ${i}: the quick brown fox jumps over the lazy dog ${i * 7919}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join(''));
}

const LARGE = text(3 * 1024 * 1024);
/** Incompressible: its gzip is as large, more than loopback buffers hold. */
const RANDOM = randomBytes(16 * 1024 * 1024);
const RANDOM_GZIP = zlib.gzipSync(RANDOM, { level: 1 });

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** What the backpressure route saw. */
const pushed = { sent: 0, blocked: false };

/** Writes `body` in pieces, waiting for `drain` when the socket is full; `turns` turns of the loop between pieces. */
async function writeSlowly(
  res: ServerResponse,
  body: Buffer,
  piece: number,
  turns: number,
  onWrite?: (sent: number, accepted: boolean) => void,
): Promise<void> {
  for (let offset = 0; offset < body.length; offset += piece) {
    const accepted = res.write(body.subarray(offset, offset + piece));
    onWrite?.(Math.min(offset + piece, body.length), accepted);
    if (!accepted) await new Promise((resolve) => res.once('drain', resolve));
    for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  res.setHeader('X-Accept-Encoding', req.headers['accept-encoding'] ?? '');
  res.setHeader('X-Client-Port', String(req.socket.remotePort));
  switch (url.pathname) {
    case '/gzip-chunked': {
      res.setHeader('Content-Encoding', 'gzip');
      void writeSlowly(res, zlib.gzipSync(LARGE), 64 * 1024, 0);
      return;
    }
    case '/deflate': {
      const body = zlib.deflateSync(LARGE);
      res.setHeader('Content-Encoding', 'deflate');
      res.setHeader('Content-Length', body.length);
      res.end(body);
      return;
    }
    case '/deflate-raw': {
      const body = zlib.deflateRawSync(LARGE);
      res.setHeader('Content-Encoding', 'deflate');
      res.setHeader('Content-Length', body.length);
      res.end(body);
      return;
    }
    case '/br-slow': {
      res.setHeader('Content-Encoding', 'br');
      void writeSlowly(res, zlib.brotliCompressSync(text(64 * 1024)), 1000, 2);
      return;
    }
    case '/stacked': {
      res.setHeader('Content-Encoding', 'gzip, br');
      res.end(zlib.brotliCompressSync(zlib.gzipSync(LARGE)));
      return;
    }
    case '/corrupt': {
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Length', 15);
      res.end('not gzip at all');
      return;
    }
    case '/push': {
      res.setHeader('Content-Encoding', 'gzip');
      pushed.sent = 0;
      pushed.blocked = false;
      void writeSlowly(res, RANDOM_GZIP, 64 * 1024, 0, (sent, accepted) => {
        pushed.sent = sent;
        if (!accepted) pushed.blocked = true;
      });
      return;
    }
    case '/head': {
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Length', 1234);
      res.end();
      return;
    }
    case '/login': {
      res.setHeader('Set-Cookie', [
        'sid=s3cr3t; Path=/; HttpOnly',
        'pref=dark; Max-Age=3600',
        'gone=1; Max-Age=0',
      ]);
      res.statusCode = 303;
      res.setHeader('Location', '/whoami');
      res.end();
      return;
    }
    case '/logout': {
      res.setHeader('Set-Cookie', 'sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
      res.end('bye');
      return;
    }
    case '/whoami': {
      const body = zlib.gzipSync(`cookie: ${req.headers.cookie ?? '(none)'}`);
      res.setHeader('Content-Encoding', 'gzip');
      res.end(body);
      return;
    }
    default:
      res.setHeader('Content-Type', 'text/plain');
      res.end('plain');
  }
}

/** A body reader that can start paused; `finished` fires with the reason. */
class Reader {
  chunks: Buffer[] = [];
  producer: IPushProducer | undefined;
  received = 0;
  readonly finished: Promise<Failure>;
  #resolve: (reason: Failure) => void = () => {};
  constructor(private readonly startPaused = false) {
    this.finished = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
  makeConnection(producer: IPushProducer): void {
    this.producer = producer;
    if (this.startPaused) producer.pauseProducing();
  }
  dataReceived(data: Uint8Array): void {
    this.received += data.length;
    this.chunks.push(Buffer.from(data));
  }
  connectionLost(reason: Failure): void {
    this.#resolve(reason);
  }
}

describe('ContentDecoderAgent and CookieAgent over a real Agent, against node:http', () => {
  const harness = new SocketHarness();
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await harness.close();
  });

  const decoding = (): ContentDecoderAgent => new ContentDecoderAgent(new Agent(harness.reactor));

  const get = async (
    agent: ContentDecoderAgent | CookieAgent,
    path: string,
    method = 'GET',
  ): Promise<Response> => waitFor(agent.request(method, `${base}${path}`), `${method} ${path}`);

  test('a large chunked gzip body is decoded whole, and Accept-Encoding asked for gzip, deflate and br', async () => {
    const response = await get(decoding(), '/gzip-chunked');
    assert.ok(response instanceof DecodedResponse);
    assert.deepEqual(response.headers.getRawHeaders('x-accept-encoding'), ['gzip, deflate, br']);
    assert.equal(response.headers.hasHeader('content-encoding'), false);
    const body = await waitFor(readBody(response), 'the gzip body');
    assert.equal(sha256(body), sha256(LARGE));
  });

  test('deflate is decoded, zlib-wrapped and raw', async () => {
    for (const path of ['/deflate', '/deflate-raw']) {
      const response = await get(decoding(), path);
      assert.equal(response.length, undefined);
      assert.equal(response.headers.hasHeader('content-length'), false);
      const body = await waitFor(readBody(response), `the body of ${path}`);
      assert.equal(sha256(body), sha256(LARGE), path);
    }
  });

  test('a br body streamed slowly in small pieces is decoded as it comes', async () => {
    const response = await get(decoding(), '/br-slow');
    const reader = new Reader();
    response.deliverBody(reader);
    const reason = await waitFor(reader.finished, 'the br body');
    assert.ok(reason.check(ResponseDone));
    assert.ok(reader.chunks.length > 1, 'decoded in more than one piece');
    assert.equal(sha256(Buffer.concat(reader.chunks)), sha256(text(64 * 1024)));
  });

  test('stacked codings (gzip, then br) are both undone', async () => {
    const body = await waitFor(readBody(await get(decoding(), '/stacked')), 'the stacked body');
    assert.equal(sha256(body), sha256(LARGE));
  });

  test('a corrupt gzip body fails with ResponseFailed naming the coding and the URL', async () => {
    const response = await get(decoding(), '/corrupt');
    await assert.rejects(waitFor(readBody(response), 'the corrupt body'), (error: Error) => {
      assert.ok(error instanceof ResponseFailed);
      assert.equal(
        error.message,
        `GET ${base}/corrupt: the response body is not valid gzip: incorrect header check`,
      );
      return true;
    });
  });

  test('a HEAD response with a Content-Encoding has an empty body', async () => {
    const response = await get(decoding(), '/head', 'HEAD');
    assert.equal(response.length, 0);
    assert.equal((await waitFor(readBody(response), 'the HEAD body')).length, 0);
  });

  test('a paused reader holds the connection back up to the server; resumed, it gets every byte', async () => {
    const response = await get(decoding(), '/push');
    const reader = new Reader(true);
    response.deliverBody(reader);
    await until(() => pushed.blocked, 'the server to find the connection full');
    assert.equal(reader.received, 0);
    assert.ok(
      pushed.sent < RANDOM_GZIP.length,
      `${pushed.sent} of ${RANDOM_GZIP.length} bytes sent`,
    );
    reader.producer?.resumeProducing();
    const reason = await waitFor(reader.finished, 'the pushed body', 30);
    assert.ok(reason.check(ResponseDone));
    assert.equal(sha256(Buffer.concat(reader.chunks)), sha256(RANDOM));
  });

  test('a persistent connection is reused after a decoded body', async () => {
    const pool = new HTTPConnectionPool(harness.reactor, { persistent: true });
    const agent = new ContentDecoderAgent(new Agent(harness.reactor, { pool }));
    try {
      const ports = new Set<string>();
      for (const path of ['/deflate', '/stacked', '/whoami']) {
        const response = await get(agent, path);
        await waitFor(readBody(response), `the body of ${path}`);
        ports.add(String(response.headers.getRawHeaders('x-client-port')));
      }
      assert.equal(ports.size, 1, `the requests came from ports ${[...ports].join(', ')}`);
    } finally {
      await waitFor(pool.closeCachedConnections(), 'the pool to close');
    }
  });

  test('cookies set by one response are sent with the next requests, decoded bodies and all', async () => {
    const jar = new CookieJar(harness.reactor);
    const agent = new CookieAgent(decoding(), jar);
    const login = await get(agent, '/login');
    assert.equal(login.code, 303);
    await waitFor(readBody(login), 'the login body');
    assert.deepEqual(
      [...jar].map((c) => [c.name, c.httpOnly, c.expires === undefined]),
      [
        ['sid', true, true],
        ['pref', false, false],
      ],
    );
    const whoami = Buffer.from(await waitFor(readBody(await get(agent, '/whoami')), 'whoami'));
    assert.equal(whoami.toString(), 'cookie: sid=s3cr3t; pref=dark');
    await waitFor(readBody(await get(agent, '/logout')), 'logout');
    const after = Buffer.from(await waitFor(readBody(await get(agent, '/whoami')), 'whoami again'));
    assert.equal(after.toString(), 'cookie: pref=dark');
    // Another origin (the same host by name) gets nothing.
    const other = new URL(base);
    other.hostname = 'localhost';
    assert.equal(jar.getCookieHeader(other.href), undefined);
  });
});
