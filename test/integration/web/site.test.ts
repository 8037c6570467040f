// A Site on a real loopback socket, answering Node's own HTTP client:
// keep-alive over one socket, a request body, and the idle timeout on real
// time when the site is given no clock.

import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect } from 'node:net';
import { after, describe, test } from 'node:test';
import type { IPAddress } from 'torsion/protocol';
import { type Request, Resource, Site } from 'torsion/web';
import { SocketHarness, waitFor } from '../../helpers/sockets.js';

class Echo extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `path ${request.path}`;
  }
  render_POST(request: Request): Uint8Array {
    return request.content.read();
  }
}

function fetchText(
  port: number,
  agent: Agent,
  method: string,
  path: string,
  body?: Buffer,
): Promise<{ response: IncomingMessage; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ response, text: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Site on loopback with node:http', () => {
  const harness = new SocketHarness();
  after(() => harness.close());

  test('keep-alive requests share one socket; a body comes back whole', async () => {
    const site = new Site(new Echo(), { clock: harness.reactor });
    site.noisy = false;
    const port = harness.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      const a = await waitFor(fetchText(port.port, agent, 'GET', '/a'), 'GET /a');
      sockets.add(a.response.socket);
      const body = Buffer.alloc(300_000, 'x');
      const b = await waitFor(fetchText(port.port, agent, 'POST', '/b', body), 'POST /b');
      sockets.add(b.response.socket);
      assert.equal(a.text, 'path /a');
      assert.equal(b.text.length, body.length);
      assert.equal(b.response.headers['content-length'], String(body.length));
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });

  test('without a clock, the idle timeout runs on real time and closes the connection', async () => {
    const site = new Site(new Echo(), { timeout: 0.2 });
    site.noisy = false;
    const port = harness.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress;
    const socket = netConnect(port.port, '127.0.0.1');
    const started = performance.now();
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.resume();
    await waitFor(closed, 'the idle connection to close', 10);
    assert.ok(performance.now() - started >= 150, 'closed only after the timeout');
  });
});
