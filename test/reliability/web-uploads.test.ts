// Many uploads at once to a Site on real sockets: fifty clients post bodies
// of a few MiB concurrently, half to a resource that takes the body whole
// (spooled to a temporary file past 1 MiB), half to one that streams it;
// every digest comes back right, and among them clients that give up in the
// middle of their upload leave no temporary file behind.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { IPAddress } from 'torsion/protocol';
import { type Request, Resource } from 'torsion/web';
import { harness, until, waitFor } from '../helpers/sockets.js';
import { CountingSite } from '../helpers/web-clients.js';

const SUITE = { timeout: 60_000 };
const MiB = 1024 * 1024;

function digest(body: Buffer): string {
  return `${body.length} ${createHash('sha256').update(body).digest('hex')}`;
}

/** Answers the length and SHA-256 of the whole body, once it is in. */
class Whole extends Resource {
  override isLeaf = true;
  render_POST(request: Request): string {
    return digest(request.content.read());
  }
}

/** Answers the length and SHA-256 of the body, read as it arrives. */
class Streamed extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  async render_POST(request: Request): Promise<string> {
    const hash = createHash('sha256');
    let n = 0;
    try {
      for await (const chunk of request.content) {
        hash.update(chunk);
        n += chunk.length;
      }
    } catch {
      // The client gave up: nobody will read the answer (and a rejection
      // would be logged as the resource's failure).
      return 'abandoned';
    }
    return `${n} ${hash.digest('hex')}`;
  }
}

/** A body of `size` bytes that differs from client to client. */
function bodyFor(i: number, size: number): Buffer {
  const body = Buffer.alloc(size);
  for (let at = 0; at < size; at += 4096) body.writeUInt32BE((i * 7919 + at) >>> 0, at);
  return body;
}

/** POSTs `body` in 64 KiB writes; resolves with the answer's status and text. */
function post(port: number, path: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'Content-Length': String(body.length) },
      },
      (response) => {
        let text = '';
        response.setEncoding('latin1');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve(`${response.statusCode} ${text}`));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 64 * 1024)
      req.write(body.subarray(at, at + 64 * 1024));
    req.end();
  });
}

/** POSTs the head and `sent` bytes of a `declared`-byte body, then drops the connection. */
function abandon(port: number, path: string, declared: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      agent: false,
      headers: { 'Content-Length': String(declared) },
    });
    req.on('error', () => {});
    req.on('close', () => resolve());
    req.write(Buffer.alloc(sent, 0x61), () => {
      setTimeout(() => req.destroy(), 20);
    });
  });
}

describe('a Site taking many uploads at once', SUITE, () => {
  test('fifty concurrent uploads, whole and streamed, some abandoned: right digests, no file left', async (t) => {
    const h = harness(t);
    const spoolDirectory = mkdtempSync(join(tmpdir(), 'torsion-uploads-'));
    t.after(() => rmSync(spoolDirectory, { recursive: true, force: true }));
    const root = new Resource();
    root.putChild('whole', new Whole());
    root.putChild('streamed', new Streamed());
    const site = new CountingSite(root, { clock: h.reactor, spoolDirectory });
    const port = (
      h.listenTCP(0, site, { interface: '127.0.0.1', backlog: 128 }).getHost() as IPAddress
    ).port;
    const CLIENTS = 50;
    const outcomes = await waitFor(
      Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          const path = i % 2 === 0 ? '/whole' : '/streamed';
          if (i % 5 === 4) {
            await abandon(port, path, 4 * MiB, 2 * MiB);
            return undefined;
          }
          const body = bodyFor(i, 2 * MiB + i * 1000);
          return { answer: await post(port, path, body), expected: `200 ${digest(body)}` };
        }),
      ),
      'every upload',
      45,
    );
    for (const outcome of outcomes) {
      if (outcome !== undefined) assert.equal(outcome.answer, outcome.expected);
    }
    assert.equal(site.channels.length, CLIENTS);
    await until(
      () => readdirSync(spoolDirectory).length === 0,
      'every temporary body file to be removed',
    );
  });
});
