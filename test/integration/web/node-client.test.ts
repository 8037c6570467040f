// A Site on loopback with Node's own HTTP client, and raw node:net sockets
// where that client cannot go: ten pipelined requests in one write answered
// in order, keep-alive reuse through an Agent, a chunked response written
// over several turns and read as it comes, a client that half-closes after
// its requests, malformed requests (the status the RFCs assign, then the
// close), a 20 MB response from a push producer that a slow reader pauses
// (the server's queue stays bounded), and a client that goes away in the
// middle of a response (notifyFinish fails, the producer is stopped, no
// socket is left: the harness checks at close).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Failure } from 'torsion/defer';
import { ConnectionDone, type IPAddress } from 'torsion/protocol';
import type { IAddress, IPushProducer, IReactorTime } from 'torsion/reactor';
import { HTTPChannel, NOT_DONE_YET, type Request, Resource, type Site } from 'torsion/web';
import { harness, Signal, type SocketHarness, until, waitFor } from '../../helpers/sockets.js';
import {
  CountingSite,
  header,
  parseResponses,
  RawClient,
  rawExchange,
} from '../../helpers/web-clients.js';

const SUITE = { timeout: 60_000 };

/** Answers a GET with its path. */
class Hello extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `hello ${request.path}`;
  }
}

/**
 * Answers `/pipeline/<i>` later, sooner for a higher `i`: were requests
 * answered as they finish rather than in order, the order would show it.
 * Counts how many it renders at once.
 */
class LateAnswers extends Resource {
  override isLeaf = true;
  active = 0;
  maxActive = 0;

  constructor(private readonly clock: IReactorTime) {
    super();
  }

  render_GET(request: Request): typeof NOT_DONE_YET {
    const i = Number(request.postpath[0]);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.clock.callLater((10 - i) * 0.002, () => {
      this.active--;
      request.write(`answer ${i}`);
      request.finish();
    });
    return NOT_DONE_YET;
  }
}

/** Keeps each request unanswered until the test answers it. */
class Held extends Resource {
  override isLeaf = true;
  readonly requests: Request[] = [];
  readonly #arrived: Array<Signal<Request>> = [];

  render_GET(request: Request): typeof NOT_DONE_YET {
    this.requests.push(request);
    this.nth(this.requests.length - 1).fire(request);
    return NOT_DONE_YET;
  }

  /** Fires with the `i`th request (from 0) once it has been rendered. */
  nth(i: number): Signal<Request> {
    while (this.#arrived.length <= i) this.#arrived.push(new Signal<Request>());
    return this.#arrived[i] as Signal<Request>;
  }
}

/**
 * A response body of `total` bytes from a push producer that writes 64 KiB
 * chunks a few per turn while not paused, and keeps the SHA-256 of what it
 * wrote and the largest queue it saw in the connection's transport.
 */
class Firehose implements IPushProducer {
  static readonly CHUNK = 64 * 1024;
  paused = false;
  pauses = 0;
  resumes = 0;
  stopped = false;
  written = 0;
  maxQueued = 0;
  readonly hash = createHash('sha256');
  #scheduled = false;
  #counter = 0;

  constructor(
    readonly request: Request,
    private readonly clock: IReactorTime,
    readonly total: number,
  ) {}

  start(): void {
    this.request.setHeader('Content-Type', 'application/octet-stream');
    this.request.setHeader('Content-Length', String(this.total));
    this.request.registerProducer(this, true);
    this.#schedule();
  }

  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
  }

  resumeProducing(): void {
    this.paused = false;
    this.resumes++;
    this.#schedule();
  }

  stopProducing(): void {
    this.stopped = true;
  }

  /** Bytes waiting in the connection's transport. */
  queued(): number {
    return (
      this.request.transport as unknown as { getWriteBufferSize(): number }
    ).getWriteBufferSize();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.clock.callLater(0, () => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    for (let i = 0; i < 8 && !this.paused && !this.stopped && this.written < this.total; i++) {
      const chunk = Buffer.alloc(
        Math.min(Firehose.CHUNK, this.total - this.written),
        this.#counter++ % 256,
      );
      this.hash.update(chunk);
      this.written += chunk.length;
      this.request.write(chunk);
      this.maxQueued = Math.max(this.maxQueued, this.queued());
    }
    if (this.stopped) return;
    if (this.written >= this.total) {
      this.request.unregisterProducer();
      this.request.finish();
    } else if (!this.paused) {
      this.#schedule();
    }
  }
}

/** Starts a {@link Firehose} of `total` bytes for each GET. */
class FirehoseResource extends Resource {
  override isLeaf = true;
  readonly hoses: Array<Signal<Firehose>> = [new Signal<Firehose>()];

  constructor(
    private readonly clock: IReactorTime,
    private readonly total: number,
  ) {
    super();
  }

  render_GET(request: Request): typeof NOT_DONE_YET {
    const hose = new Firehose(request, this.clock, this.total);
    (this.hoses[this.hoses.length - 1] as Signal<Firehose>).fire(hose);
    this.hoses.push(new Signal<Firehose>());
    hose.start();
    return NOT_DONE_YET;
  }
}

/** Answers a GET with its path, on a later turn of the reactor. */
class Later extends Resource {
  override isLeaf = true;

  constructor(private readonly clock: IReactorTime) {
    super();
  }

  render_GET(request: Request): typeof NOT_DONE_YET {
    this.clock.callLater(0, () => {
      request.write(`later ${request.path}`);
      request.finish();
    });
    return NOT_DONE_YET;
  }
}

/** Echoes a POST's whole body after its path, a little later. */
class LateEcho extends Resource {
  override isLeaf = true;

  constructor(private readonly clock: IReactorTime) {
    super();
  }

  render_GET(request: Request): string {
    return `${request.path}:get`;
  }

  render_POST(request: Request): typeof NOT_DONE_YET {
    const body = request.content.read().toString('latin1');
    this.clock.callLater(0.005, () => {
      request.write(`${request.path}:${body}`);
      request.finish();
    });
    return NOT_DONE_YET;
  }
}

/**
 * Streams the body to a reader that stops reading after `stallAfter` bytes
 * until told to go on; answers the byte count once the body ends.
 */
class StallingReader extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  received = 0;
  producer: IPushProducer | undefined;
  readonly stalled = new Signal<Request>();
  failure: Failure | undefined;

  constructor(private readonly stallAfter: number) {
    super();
  }

  render_POST(request: Request): typeof NOT_DONE_YET {
    request.content.deliverBody({
      makeConnection: (producer) => {
        this.producer = producer;
      },
      dataReceived: (data) => {
        this.received += data.byteLength;
        if (this.received >= this.stallAfter && !this.stalled.fired) {
          this.producer?.pauseProducing();
          this.stalled.fire(request);
        }
      },
      connectionLost: (reason) => {
        if (reason.check(ConnectionDone) === null) {
          this.failure = reason;
          return;
        }
        request.write(`${this.received}`);
        request.finish();
      },
    });
    return NOT_DONE_YET;
  }
}

/**
 * Counts a body with `for await`, records whether the loop ended or threw,
 * and answers that unless the server has answered already.
 */
class LoopCounter extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  readonly outcomes: string[] = [];

  render_POST(request: Request): typeof NOT_DONE_YET {
    void (async () => {
      let n = 0;
      let outcome: string;
      try {
        for await (const chunk of request.content) n += chunk.length;
        outcome = `complete ${n}`;
      } catch (error) {
        outcome = `failed after ${n}: ${(error as Error).message}`;
      }
      this.outcomes.push(outcome);
      if (!request.finished) {
        request.write(outcome);
        request.finish();
      }
    })();
    return NOT_DONE_YET;
  }
}

/** A channel that tells when the client half-closed. */
class HalfCloseWatcher extends HTTPChannel {
  readonly halfClosed = new Signal<void>();

  override readConnectionLost(): void {
    this.halfClosed.fire();
    super.readConnectionLost();
  }
}

/** A site whose channels are {@link HalfCloseWatcher}s. */
class WatchingSite extends CountingSite {
  override buildProtocol(addr: IAddress): HTTPChannel {
    super.buildProtocol(addr);
    const channel = new HalfCloseWatcher(this);
    this.channels[this.channels.length - 1] = channel;
    return channel;
  }
}

interface Served<S extends Site> {
  readonly site: S;
  readonly port: number;
}

function serve<S extends Site>(h: SocketHarness, site: S): Served<S> {
  const port = (h.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
  return { site, port };
}

/** A GET through node:http, resolving with the response and its whole body. */
function get(
  port: number,
  path: string,
  agent: Agent | false,
): Promise<{ response: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ response, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The most a loopback connection's kernel buffers may hold: the largest
 * receive buffer plus the largest send buffer (Linux's limits, read from
 * /proc; 16 MiB each where they cannot be read), and 2 MiB for the rest.
 */
function socketBufferBound(): number {
  const largest = (file: string): number => {
    try {
      const values = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
      return Math.max(...values);
    } catch {
      return 16 * 1024 * 1024;
    }
  };
  return (
    largest('/proc/sys/net/ipv4/tcp_rmem') +
    largest('/proc/sys/net/ipv4/tcp_wmem') +
    2 * 1024 * 1024
  );
}

/**
 * Writes `total` bytes to a raw client in 256 KiB blocks as fast as the
 * socket takes them; `flushed` counts the bytes handed to the kernel,
 * `blocked` says whether a write is waiting for the socket to drain.
 */
class Uploader {
  flushed = 0;
  written = 0;
  blocked = false;
  readonly #block = Buffer.alloc(256 * 1024, 0x75);

  constructor(
    private readonly client: RawClient,
    private readonly total: number,
  ) {
    client.socket.on('drain', () => {
      this.blocked = false;
      this.#pump();
    });
    this.#pump();
  }

  #pump(): void {
    while (this.written < this.total && !this.blocked && !this.client.socket.destroyed) {
      const block = this.#block.subarray(
        0,
        Math.min(this.#block.length, this.total - this.written),
      );
      this.written += block.length;
      const more = this.client.socket.write(block, () => {
        this.flushed += block.length;
      });
      if (!more) this.blocked = true;
    }
  }
}

/**
 * Waits until `value()` stays the same over two round trips on the harness's
 * reactor in a row (for at most `seconds`).
 */
async function settled(value: () => number, h: SocketHarness, seconds = 20): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  let stable = 0;
  while (stable < 2) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${seconds}s waiting for ${value()} to settle`);
    }
    const before = value();
    await h.roundTrip();
    stable = value() === before ? stable + 1 : 0;
  }
}

describe('a Site on loopback, with node:http and raw sockets', SUITE, () => {
  test('ten requests pipelined in one write: ten responses, in order, one at a time', async (t) => {
    const h = harness(t);
    const late = new LateAnswers(h.reactor);
    const root = new Resource();
    root.putChild('pipeline', late);
    const { site, port } = serve(h, new CountingSite(root, { clock: h.reactor }));
    let requests = '';
    for (let i = 0; i < 10; i++) {
      requests += `GET /pipeline/${i} HTTP/1.1\r\nHost: localhost\r\n${i === 9 ? 'Connection: close\r\n' : ''}\r\n`;
    }
    const data = await rawExchange(port, requests);
    const responses = parseResponses(data);
    assert.deepEqual(
      responses.map((r) => `${r.status} ${r.body.toString()}`),
      Array.from({ length: 10 }, (_, i) => `200 answer ${i}`),
    );
    assert.equal(header(responses[9] as (typeof responses)[number], 'connection'), 'close');
    assert.equal(late.maxActive, 1, 'one request rendered at a time');
    assert.equal(site.channels.length, 1);
  });

  test('a hundred requests pipelined in one write, past the parse-ahead bound: all answered, in order', async (t) => {
    const h = harness(t);
    const { site, port } = serve(
      h,
      new CountingSite(new Later(h.reactor), { clock: h.reactor, maxPipelinedRequests: 4 }),
    );
    let requests = '';
    for (let i = 0; i < 100; i++) {
      requests += `GET /p/${i} HTTP/1.1\r\nHost: localhost\r\n${i === 99 ? 'Connection: close\r\n' : ''}\r\n`;
    }
    const responses = parseResponses(await rawExchange(port, requests));
    assert.deepEqual(
      responses.map((r) => `${r.status} ${r.body.toString()}`),
      Array.from({ length: 100 }, (_, i) => `200 later /p/${i}`),
    );
    assert.equal(site.channels.length, 1);
  });

  test('requests pipelined after one with Connection: close are not answered; the connection closes after it', async (t) => {
    const h = harness(t);
    const { site, port } = serve(h, new CountingSite(new Later(h.reactor), { clock: h.reactor }));
    const data = await rawExchange(
      port,
      'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' +
        'GET /3 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const responses = parseResponses(data);
    assert.deepEqual(
      responses.map((r) => `${r.body.toString()} ${header(r, 'connection') ?? '-'}`),
      ['later /1 -', 'later /2 close'],
    );
    assert.equal(site.channels.length, 1);
  });

  test('pipelined requests with bodies (Content-Length, chunked, empty) in one write: answered in order', async (t) => {
    const h = harness(t);
    const { port } = serve(h, new CountingSite(new LateEcho(h.reactor), { clock: h.reactor }));
    const data = await rawExchange(
      port,
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
        'POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nwor\r\n2;x=y\r\nld\r\n0\r\nTrailer: t\r\n\r\n' +
        'GET /c HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' +
        'POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlast',
    );
    assert.deepEqual(
      parseResponses(data).map((r) => r.body.toString()),
      ['/a:hello', '/b:world', '/c:get', '/d:', '/e:last'],
    );
  });

  test('a streaming reader that stops reading holds the client back: the server stops reading the socket', async (t) => {
    const h = harness(t);
    // The kernel buffers on both ends of a loopback connection are all a
    // stalled server may let the client fill; the upload is well beyond them.
    const kernel = socketBufferBound();
    const TOTAL = kernel + 32 * 1024 * 1024;
    const STALL_AFTER = 1024 * 1024;
    const reader = new StallingReader(STALL_AFTER);
    const { port } = serve(h, new CountingSite(reader, { clock: h.reactor }));
    const client = new RawClient(port);
    client.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${TOTAL}\r\n\r\n`);
    const uploader = new Uploader(client, TOTAL);
    const request = await waitFor(reader.stalled.promise, 'the reader to stall');
    // The client writes until the kernel's buffers are full; once nothing
    // moves over two round trips, it is held back.
    await settled(() => uploader.flushed, h);
    const flushed = uploader.flushed;
    const received = request.content.received;
    await h.roundTrip();
    assert.equal(request.content.received, received, 'the server read nothing more');
    assert.equal(reader.received, received, 'nothing waits in the body unread');
    assert.equal(uploader.flushed, flushed, 'the client is still held back');
    assert.ok(uploader.blocked, 'the client has more to write');
    t.diagnostic(
      `the client got ${flushed} of ${TOTAL} bytes out before the server held it back (bound ${kernel})`,
    );
    assert.ok(flushed < STALL_AFTER + kernel, `${flushed} bytes went out`);
    // Reading again lets the rest through.
    reader.producer?.resumeProducing();
    await waitFor(client.contains(`\r\n${TOTAL}\r\n0\r\n\r\n`, 30), 'the answer', 31);
    assert.equal(reader.failure, undefined);
    client.socket.destroy();
  });

  test('a malformed chunked body under a for-await reader: the loop throws, it does not end short', async (t) => {
    const h = harness(t);
    const counter = new LoopCounter();
    const { port } = serve(h, new CountingSite(counter, { clock: h.reactor }));
    const ok = await rawExchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    assert.equal(parseResponses(ok)[0]?.body.toString(), 'complete 5');
    const client = new RawClient(port);
    client.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    await h.roundTrip();
    client.write('ZZ\r\n');
    await waitFor(client.closed, 'the server to close');
    assert.match(counter.outcomes[1] ?? '', /^failed after 5: /);
    // Whoever answers (the resource, or the server with its error page), the
    // client is not told the short body was whole.
    const [response] = parseResponses(client.data());
    assert.notEqual(response?.body.toString(), 'complete 5');
  });

  test('a client gone in the middle of an upload: the spooled body is removed, a streaming reader learns it', async (t) => {
    const h = harness(t);
    const spoolDirectory = mkdtempSync(join(tmpdir(), 'torsion-spool-'));
    t.after(() => rmSync(spoolDirectory, { recursive: true, force: true }));
    const streaming = new StallingReader(Number.MAX_SAFE_INTEGER);
    const root = new Resource();
    root.putChild('whole', new LateEcho(h.reactor));
    root.putChild('streaming', streaming);
    const { port } = serve(h, new CountingSite(root, { clock: h.reactor, spoolDirectory }));
    const MiB = 1024 * 1024;

    const whole = new RawClient(port);
    whole.write(`POST /whole HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * MiB}\r\n\r\n`);
    whole.write(Buffer.alloc(3 * MiB, 0x61));
    const spooled = (): number =>
      readdirSync(spoolDirectory).reduce((n, f) => n + statSync(join(spoolDirectory, f)).size, 0);
    await until(() => spooled() >= 2 * MiB, 'the body to be spooled');
    whole.socket.destroy();
    await until(() => readdirSync(spoolDirectory).length === 0, 'the spool file to be removed');

    const stream = new RawClient(port);
    stream.write(`POST /streaming HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * MiB}\r\n\r\n`);
    stream.write(Buffer.alloc(MiB, 0x62));
    await until(() => streaming.received >= MiB / 2, 'the reader to get some of the body');
    stream.socket.destroy();
    await until(() => streaming.failure !== undefined, 'the reader to learn the body failed');
  });

  test('Expect: 100-continue from node:http: the continue comes, the body follows, for both kinds of resource', async (t) => {
    const h = harness(t);
    const root = new Resource();
    root.putChild('whole', new LateEcho(h.reactor));
    root.putChild('streamed', new LoopCounter());
    const { port } = serve(h, new CountingSite(root, { clock: h.reactor }));
    for (const [path, expected] of [
      ['/whole', '/whole:expected body'],
      ['/streamed', 'complete 13'],
    ] as const) {
      const answer = await waitFor(
        new Promise<string>((resolve, reject) => {
          const req = httpRequest(
            {
              host: '127.0.0.1',
              port,
              path,
              method: 'POST',
              agent: false,
              headers: { Expect: '100-continue', 'Content-Length': '13' },
            },
            (response) => {
              let text = '';
              response.setEncoding('latin1');
              response.on('data', (chunk: string) => {
                text += chunk;
              });
              response.on('end', () => resolve(text));
            },
          );
          req.on('continue', () => req.end('expected body'));
          req.on('error', reject);
          req.flushHeaders();
        }),
        `the answer from ${path}`,
      );
      assert.equal(answer, expected);
    }
  });

  test('Expect: 100-continue in an HTTP/1.0 request is ignored', async (t) => {
    const h = harness(t);
    const { port } = serve(h, new CountingSite(new LateEcho(h.reactor), { clock: h.reactor }));
    const data = await rawExchange(
      port,
      'POST /old HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody',
    );
    const responses = parseResponses(data);
    assert.deepEqual(
      responses.map((r) => `${r.status} ${r.body.toString()}`),
      ['200 /old:body'],
    );
  });

  test('an Agent with keepAlive sends requests over one connection', async (t) => {
    const h = harness(t);
    const { site, port } = serve(h, new CountingSite(new Hello(), { clock: h.reactor }));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const sockets = new Set<unknown>();
    const answers = await waitFor(
      Promise.all(
        Array.from({ length: 5 }, async (_, i) => {
          const { response, body } = await get(port, `/k/${i}`, agent);
          sockets.add(response.socket);
          return `${response.statusCode} ${body.toString()}`;
        }),
      ),
      'five requests',
    );
    const second = await waitFor(get(port, '/k/again', agent), 'a request after a pause');
    sockets.add(second.response.socket);
    assert.deepEqual(
      answers,
      Array.from({ length: 5 }, (_, i) => `200 hello /k/${i}`),
    );
    assert.equal(second.body.toString(), 'hello /k/again');
    assert.equal(sockets.size, 1);
    assert.equal(site.channels.length, 1);
  });

  test('a chunked response written over several turns reaches node:http as it is written', async (t) => {
    const h = harness(t);
    const clientSawFirst = new Signal<void>();
    const parts = ['part 0;', 'part 1;', 'part 2;', 'part 3;', 'last part.'];
    class Trickle extends Resource {
      override isLeaf = true;
      render_GET(request: Request): typeof NOT_DONE_YET {
        let next = 0;
        const step = (): void => {
          if (next < parts.length - 1) {
            request.write(parts[next++] as string);
            h.reactor.callLater(0, step);
          } else {
            // The last part waits for the client to have read the first one.
            void clientSawFirst.promise.then(() => {
              request.write(parts[next] as string);
              request.finish();
            });
          }
        };
        step();
        return NOT_DONE_YET;
      }
    }
    const root = new Resource();
    root.putChild('trickle', new Trickle());
    root.putChild('hello', new Hello());
    const { site, port } = serve(h, new CountingSite(root, { clock: h.reactor }));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const result = await waitFor(
      new Promise<{ response: IncomingMessage; body: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path: '/trickle', agent },
          (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (text: string) => {
              body += text;
              if (body.includes('part 0;')) clientSawFirst.fire();
            });
            response.on('end', () => resolve({ response, body }));
            response.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      }),
      'the chunked response',
    );
    assert.equal(result.response.headers['transfer-encoding'], 'chunked');
    assert.equal(result.response.headers['content-length'], undefined);
    assert.equal(result.body, parts.join(''));
    // The connection is still good for another request.
    const after = await waitFor(get(port, '/hello', agent), 'a request after the chunked one');
    assert.equal(after.body.toString(), 'hello /hello');
    assert.equal(site.channels.length, 1);
  });

  test('a client that half-closes after its requests gets both answers, then the close', async (t) => {
    const h = harness(t);
    const held = new Held();
    const root = new Resource();
    root.putChild('held', held);
    root.putChild('hello', new Hello());
    const { site, port } = serve(h, new WatchingSite(root, { clock: h.reactor }));
    const client = new RawClient(port);
    client.write(
      'GET /held HTTP/1.1\r\nHost: localhost\r\n\r\nGET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n',
    );
    client.socket.end();
    const request = await waitFor(held.nth(0).promise, 'the held request');
    const channel = site.channels[0] as HalfCloseWatcher;
    await waitFor(channel.halfClosed.promise, 'the server to see the half-close');
    const finished = request.notifyFinish().asPromise();
    request.write('answered after the half-close');
    request.finish();
    await waitFor(finished, 'notifyFinish');
    await waitFor(client.closed, 'the server to close');
    assert.equal(client.error, undefined);
    const responses = parseResponses(client.data());
    assert.deepEqual(
      responses.map((r) => `${r.status} ${r.body.toString()}`),
      ['200 answered after the half-close', '200 hello /hello'],
    );
  });

  const MALFORMED: Array<[string, string, number]> = [
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n', 400],
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['a bare LF', 'GET / HTTP/1.1\nHost: x\r\n\r\n', 400],
    [
      'a transfer coding list not ending in chunked',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n',
      400,
    ],
    [
      'an unknown transfer coding',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo, chunked\r\n\r\n',
      501,
    ],
    ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    ['a request line over 8 KiB', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
    ['an HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ];
  for (const [what, bytes, status] of MALFORMED) {
    test(`after a good request, ${what}: ${status}, Connection: close, and the close`, async (t) => {
      const h = harness(t);
      const { port } = serve(h, new CountingSite(new Hello(), { clock: h.reactor }));
      const data = await rawExchange(port, `GET /first HTTP/1.1\r\nHost: x\r\n\r\n${bytes}`);
      const responses = parseResponses(data);
      assert.equal(responses.length, 2, data.toString('latin1'));
      const [first, second] = responses as [(typeof responses)[0], (typeof responses)[0]];
      assert.equal(first.body.toString(), 'hello /first');
      assert.equal(second.status, status);
      assert.equal(header(second, 'connection'), 'close');
    });
  }

  test('a slow request, then a malformed one in the same write: the answer, then the 400 and the close', async (t) => {
    const h = harness(t);
    const root = new Resource();
    root.putChild('pipeline', new LateAnswers(h.reactor));
    const { port } = serve(h, new CountingSite(root, { clock: h.reactor }));
    const data = await rawExchange(
      port,
      'GET /pipeline/0 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n',
    );
    const responses = parseResponses(data);
    assert.deepEqual(
      responses.map((r) => `${r.status} ${header(r, 'connection') ?? '-'}`),
      ['200 -', '400 close'],
    );
    assert.equal(responses[0]?.body.toString(), 'answer 0');
  });

  test('a 20 MB response from a push producer: a stalled reader pauses it, a slow one gets every byte', async (t) => {
    const h = harness(t);
    const TOTAL = 20_000_000;
    const resource = new FirehoseResource(h.reactor, TOTAL);
    const { port } = serve(h, new CountingSite(resource, { clock: h.reactor }));
    const response = await waitFor(
      new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, resolve);
        req.on('error', reject);
        req.end();
      }),
      'the response head',
    );
    // Nobody reads: node:http stops reading the socket, the kernel's buffers
    // fill, then the server's transport, which pauses the producer.
    response.pause();
    const hose = await waitFor(resource.hoses[0]?.promise as Promise<Firehose>, 'the producer');
    await until(() => hose.paused, 'the producer to be paused');
    const writtenWhenPaused = hose.written;
    await h.roundTrip();
    await h.roundTrip();
    assert.ok(hose.paused, 'still paused while the client reads nothing');
    assert.equal(hose.written, writtenWhenPaused, 'nothing written while paused');
    assert.ok(hose.written < TOTAL, `${hose.written} of ${TOTAL} bytes written before the pause`);

    // Now read slowly: a pause of a loop turn after every MiB.
    const hash = createHash('sha256');
    let received = 0;
    let nextPause = 1024 * 1024;
    const ended = new Promise<void>((resolve, reject) => {
      response.on('end', () => resolve());
      response.on('error', reject);
    });
    response.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
      if (received >= nextPause) {
        nextPause += 1024 * 1024;
        response.pause();
        setImmediate(() => response.resume());
      }
    });
    response.resume();
    await waitFor(ended, 'the whole response', 30);
    assert.equal(received, TOTAL);
    assert.equal(hash.digest('hex'), hose.hash.digest('hex'));
    assert.ok(
      hose.pauses >= 1 && hose.resumes >= 1,
      `${hose.pauses} pauses, ${hose.resumes} resumes`,
    );
    t.diagnostic(
      `${writtenWhenPaused} bytes written before the first pause; ${hose.pauses} pauses; at most ${hose.maxQueued} bytes queued`,
    );
    // The transport pauses the producer past its high-water mark: what waits
    // in the server is that and a chunk, not the response.
    assert.ok(hose.maxQueued <= 1024 * 1024, `${hose.maxQueued} bytes queued at most`);
  });

  test('a client gone in the middle of a response: notifyFinish fails, the producer stops, the site goes on', async (t) => {
    const h = harness(t);
    const TOTAL = 20_000_000;
    const root = new Resource();
    const resource = new FirehoseResource(h.reactor, TOTAL);
    root.putChild('firehose', resource);
    root.putChild('hello', new Hello());
    const { site, port } = serve(h, new CountingSite(root, { clock: h.reactor }));
    const gotSome = new Signal<void>();
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/firehose', agent: false },
      (response) => {
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received >= 1024 * 1024) gotSome.fire();
        });
        response.on('error', () => {});
      },
    );
    req.on('error', () => {});
    req.end();
    const hose = await waitFor(resource.hoses[0]?.promise as Promise<Firehose>, 'the producer');
    const outcome = hose.request.notifyFinish().then(
      () => 'finished',
      (error: unknown) => error,
    );
    await waitFor(gotSome.promise, 'the first MiB');
    req.destroy();
    const failed = await waitFor(outcome, 'notifyFinish to fail');
    assert.ok(failed instanceof Error, `notifyFinish gave ${String(failed)}`);
    assert.ok(hose.stopped, 'the producer was stopped');
    assert.ok(hose.written < TOTAL);
    // Writing to and finishing a request whose client is gone does nothing.
    hose.request.write('more');
    hose.request.finish();
    assert.equal((site.channels[0] as HTTPChannel).pendingRequests, 0);
    const next = await waitFor(get(port, '/hello', false), 'another request');
    assert.equal(next.body.toString(), 'hello /hello');
  });
});
