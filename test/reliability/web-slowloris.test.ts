// A Site under slow and many clients, on real sockets: clients that trickle
// a request head a byte at a time get 408 and the close once the site's
// headersTimeout has passed since their first byte, while a normal client is
// served in the meantime; an idle keep-alive connection closes after the
// site's timeout (and a busy one does not), and one stalled in the middle
// of a body gets 408; 200 keep-alive connections at once, each doing a few
// requests, are all served.

import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import type { IPAddress } from 'torsion/protocol';
import { type Request, Resource } from 'torsion/web';
import { harness, type SocketHarness, until, waitFor } from '../helpers/sockets.js';
import { CountingSite, header, parseResponses, RawClient } from '../helpers/web-clients.js';

const SUITE = { timeout: 60_000 };

class Hello extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `hello ${request.path}`;
  }
  render_POST(request: Request): string {
    return `${request.content.read().length} bytes`;
  }
}

/** Listens on loopback with room in the accept queue for 200 connections arriving at once (the default backlog is 50). */
function serve(h: SocketHarness, site: CountingSite): number {
  return (h.listenTCP(0, site, { interface: '127.0.0.1', backlog: 512 }).getHost() as IPAddress)
    .port;
}

/** A GET through node:http, resolving with the status and body. */
function get(
  port: number,
  path: string,
  agent: Agent | false,
): Promise<IncomingMessage & { text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve(Object.assign(response, { text })));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A client sending a request head one byte every `interval` ms, a head long
 * enough never to end in time; it stops when the connection closes.
 */
class Trickler {
  readonly client: RawClient;
  /** When the first byte went out (performance.now()). */
  firstByteAt = 0;
  /** When the connection closed (performance.now()). */
  closedAt = 0;
  sent = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(port: number, interval: number) {
    const head = `GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'p'.repeat(10_000)}`;
    this.client = new RawClient(port);
    void this.client.closed.then(() => {
      this.closedAt = performance.now();
      clearInterval(this.#timer);
    });
    this.#timer = setInterval(() => {
      if (this.client.socket.destroyed || !this.client.socket.writable) return;
      if (this.sent === 0) this.firstByteAt = performance.now();
      this.client.write(head.slice(this.sent, this.sent + 1));
      this.sent++;
    }, interval);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.client.socket.destroy();
  }
}

describe('a Site under slow and many clients', SUITE, () => {
  test('clients trickling a head get 408 and the close after headersTimeout; a normal client is served meanwhile', async (t) => {
    const h = harness(t);
    const HEADERS_TIMEOUT = 1;
    const site = new CountingSite(new Hello(), {
      clock: h.reactor,
      headersTimeout: HEADERS_TIMEOUT,
      timeout: 30,
    });
    const port = serve(h, site);
    const slow = Array.from({ length: 50 }, () => new Trickler(port, 20));
    t.after(() => {
      for (const s of slow) s.stop();
    });
    await until(() => slow.every((s) => s.sent >= 3), 'every slow client to have begun');
    const served = await waitFor(get(port, '/normal', false), 'the normal client');
    const servedAt = performance.now();
    assert.equal(served.statusCode, 200);
    assert.equal(served.text, 'hello /normal');
    assert.ok(
      slow.every((s) => s.closedAt === 0 || s.closedAt > servedAt),
      'the normal client was served while the slow ones were still connected',
    );

    await waitFor(Promise.all(slow.map((s) => s.client.closed)), 'the slow clients to be closed');
    for (const s of slow) {
      const [response, ...rest] = parseResponses(s.client.data());
      assert.ok(response !== undefined);
      assert.equal(rest.length, 0);
      assert.equal(response.status, 408);
      assert.equal(header(response, 'connection'), 'close');
      const held = (s.closedAt - s.firstByteAt) / 1000;
      // Timers may fire a little early by performance.now()'s measure; the
      // upper bound is loose for a loaded machine.
      assert.ok(held >= HEADERS_TIMEOUT - 0.05, `closed after ${held.toFixed(3)} s`);
      assert.ok(held < HEADERS_TIMEOUT + 5, `closed after ${held.toFixed(3)} s`);
    }
    // The site still serves.
    const after = await waitFor(get(port, '/after', false), 'a client after the slow ones');
    assert.equal(after.text, 'hello /after');
  });

  test('an idle keep-alive connection closes after the timeout; a busy one stays open', async (t) => {
    const h = harness(t);
    const TIMEOUT = 0.4;
    const site = new CountingSite(new Hello(), { clock: h.reactor, timeout: TIMEOUT });
    const port = serve(h, site);
    const client = new RawClient(port);
    // Busy: a request every 0.1 s for 1 s, well past the timeout in all.
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      client.write(`GET /busy/${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      await client.contains(`hello /busy/${i}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(performance.now() - started > TIMEOUT * 1000 * 2);
    assert.ok(!client.socket.destroyed, 'a busy connection is not closed for idleness');
    client.write('GET /last HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await client.contains('hello /last');
    const idleFrom = performance.now();
    await waitFor(client.closed, 'the idle connection to close', 10);
    const idle = (performance.now() - idleFrom) / 1000;
    assert.ok(idle >= TIMEOUT - 0.05, `closed after ${idle.toFixed(3)} s idle`);
    const responses = parseResponses(client.data());
    assert.equal(responses.length, 11, 'an idle close sends nothing');
    assert.ok(responses.every((r) => r.status === 200 && header(r, 'connection') === undefined));
    assert.equal(site.channels.length, 1);
  });

  test('a client stalling in the middle of a body gets 408 and the close after the timeout', async (t) => {
    const h = harness(t);
    const TIMEOUT = 0.4;
    const site = new CountingSite(new Hello(), { clock: h.reactor, timeout: TIMEOUT });
    const port = serve(h, site);
    const client = new RawClient(port);
    client.write(
      'POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789',
    );
    const stalledFrom = performance.now();
    await waitFor(client.closed, 'the stalled connection to close', 10);
    const stalled = (performance.now() - stalledFrom) / 1000;
    assert.ok(stalled >= TIMEOUT - 0.05, `closed after ${stalled.toFixed(3)} s`);
    const [response, ...rest] = parseResponses(client.data());
    assert.equal(rest.length, 0);
    assert.equal(response?.status, 408);
    assert.equal(header(response as NonNullable<typeof response>, 'connection'), 'close');
  });

  test('200 keep-alive connections at once, three requests each: all served', async (t) => {
    const h = harness(t);
    const site = new CountingSite(new Hello(), { clock: h.reactor });
    const port = serve(h, site);
    const CONNECTIONS = 200;
    const agents = Array.from(
      { length: CONNECTIONS },
      () => new Agent({ keepAlive: true, maxSockets: 1 }),
    );
    t.after(() => {
      for (const agent of agents) agent.destroy();
    });
    const outcomes = await waitFor(
      Promise.all(
        agents.map(async (agent, c) => {
          const sockets = new Set<unknown>();
          const bodies: string[] = [];
          for (let i = 0; i < 3; i++) {
            const response = await get(port, `/c${c}/r${i}`, agent);
            sockets.add(response.socket);
            bodies.push(`${response.statusCode} ${response.text}`);
          }
          return { sockets: sockets.size, bodies };
        }),
      ),
      'every connection to finish',
      40,
    );
    outcomes.forEach(({ sockets, bodies }, c) => {
      assert.equal(sockets, 1, `connection ${c} used one socket`);
      assert.deepEqual(
        bodies,
        [0, 1, 2].map((i) => `200 hello /c${c}/r${i}`),
      );
    });
    assert.equal(site.channels.length, CONNECTIONS);
  });
});
