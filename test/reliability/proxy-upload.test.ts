// A large upload through the forward Proxy on real sockets: 256 MiB,
// generated as it is sent (never held), from Node's http client through
// the proxy to a sink Site that hashes what arrives. The bytes arrive
// complete, and the memory of the process (client, proxy and sink
// together) stays flat: the proxy streams the body with backpressure
// instead of holding it.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import type { IPAddress } from '../../src/internet/address.js';
import { Proxy as ForwardProxy } from '../../src/web/proxy/proxy.js';
import type { Request } from '../../src/web/request.js';
import { Resource } from '../../src/web/resource.js';
import { Site } from '../../src/web/site.js';
import { gc } from '../helpers/gc.js';
import { harness, waitFor } from '../helpers/sockets.js';

const SUITE = { timeout: 240_000 };
const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const CHUNK = 64 * 1024;
/** The most the process's memory (heap and buffers, after a collection) may grow during the upload. */
const GROWTH_LIMIT = 48 * MiB;

/** Hashes the body as it arrives and answers its length and SHA-256. */
class Sink extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  async render_POST(request: Request): Promise<string> {
    const hash = createHash('sha256');
    let n = 0;
    for await (const chunk of request.content) {
      hash.update(chunk);
      n += chunk.length;
    }
    return `${n} ${hash.digest('hex')}`;
  }
}

/** The `i`th chunk of the body: a pattern that differs from chunk to chunk. */
function chunk(i: number): Buffer {
  const bytes = Buffer.allocUnsafe(CHUNK);
  for (let at = 0; at < CHUNK; at += 4) bytes.writeUInt32BE((i * 2654435761 + at) >>> 0, at);
  return bytes;
}

/** Heap in use plus Buffer memory, after a full collection. */
function memory(): number {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

describe('a large upload through the forward proxy', SUITE, () => {
  test('256 MiB arrive complete, and memory stays flat', async (t) => {
    const h = harness(t);
    const sink = new Site(new Sink(), { clock: h.reactor });
    const sinkPort = (h.listenTCP(0, sink, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
    const proxy = new ForwardProxy({ reactor: h.reactor });
    const proxyPort = (h.listenTCP(0, proxy, { interface: '127.0.0.1' }).getHost() as IPAddress)
      .port;
    t.after(() => waitFor(proxy.drain(), 'the proxy to drain'));

    const baseline = memory();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, memory());
    }, 200);
    t.after(() => clearInterval(sampler));

    const sent = createHash('sha256');
    const answer = await waitFor(
      new Promise<string>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: proxyPort,
            path: `http://127.0.0.1:${sinkPort}/upload`,
            method: 'POST',
            agent: false,
            headers: {
              Host: `127.0.0.1:${sinkPort}`,
              'Content-Length': String(TOTAL),
            },
          },
          (response) => {
            let text = '';
            response.setEncoding('latin1');
            response.on('data', (part: string) => {
              text += part;
            });
            response.on('end', () => resolve(`${response.statusCode} ${text}`));
            response.on('error', reject);
          },
        );
        req.on('error', reject);
        let i = 0;
        const write = (): void => {
          while (i < TOTAL / CHUNK) {
            const bytes = chunk(i++);
            sent.update(bytes);
            if (!req.write(bytes)) {
              req.once('drain', write);
              return;
            }
          }
          req.end();
        };
        write();
      }),
      'the upload and its answer',
      200,
    );
    clearInterval(sampler);
    peak = Math.max(peak, memory());
    assert.equal(answer, `200 ${TOTAL} ${sent.digest('hex')}`);
    const growth = peak - baseline;
    t.diagnostic(
      `memory growth during the upload: ${(growth / MiB).toFixed(1)} MiB (limit ${GROWTH_LIMIT / MiB} MiB)`,
    );
    assert.ok(
      growth < GROWTH_LIMIT,
      `memory grew by ${(growth / MiB).toFixed(1)} MiB during a ${TOTAL / MiB} MiB upload`,
    );
  });
});
