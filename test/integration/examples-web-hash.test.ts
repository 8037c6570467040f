// examples/web-hash.ts as its documented command, on loopback (port 0):
// blocking jobs run on worker threads while /ping keeps answering; the
// program is stopped by its PID with SIGTERM and exits 0.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runExample, stopExample } from '../helpers/example-process.js';
import { waitFor } from '../helpers/sockets.js';

const example = fileURLToPath(new URL('../../examples/web-hash.js', import.meta.url));

function fetchText(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('examples/web-hash', { timeout: 60_000 }, () => {
  test('hashes on a worker; /ping answers while a job blocks its thread; SIGTERM exits 0', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-web-hash-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'data.bin');
    const content = Buffer.alloc(4 << 20, 'q');
    writeFileSync(file, content);

    const child = runExample(t, example, ['tcp:0:interface=127.0.0.1']);
    const listening = new Promise<number>((resolve) => {
      const check = (): void => {
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(child.stdout());
        if (match !== null) resolve(Number(match[1]));
      };
      child.process.stdout?.on('data', check);
      check();
    });
    const port = await waitFor(listening, 'the listening line', 15);

    const hashed = await waitFor(fetchText(port, `/hash?path=${encodeURIComponent(file)}`), 'hash');
    assert.deepEqual(hashed, {
      status: 200,
      body: `${createHash('sha256').update(content).digest('hex')}\n`,
    });

    const order: string[] = [];
    const sleeping = fetchText(port, '/sleep?seconds=2').then((r) => order.push(`sleep ${r.body}`));
    const pinged = fetchText(port, '/ping').then((r) => order.push(`ping ${r.body}`));
    await waitFor(Promise.all([sleeping, pinged]), 'both answers', 20);
    assert.deepEqual(order, ['ping pong\n', 'sleep 2\n']);

    const missing = await waitFor(fetchText(port, '/hash?path=/nonexistent'), 'the error');
    assert.equal(missing.status, 500);
    assert.match(missing.body, /ENOENT/);

    assert.equal(await stopExample(child.process), 0);
  });
});
