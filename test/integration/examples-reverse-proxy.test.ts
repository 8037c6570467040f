// examples/reverse-proxy.ts runs as documented on loopback (port 0): its two
// demo backends answer in turn under /app/, with the client's address
// forwarded, its front page answers at /, and it exits 0 on SIGTERM; a bad
// endpoint gets one line and the usage, status 2.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { portsOf, runExample, stopExample } from '../helpers/example-process.js';
import { waitFor } from '../helpers/sockets.js';

const example = fileURLToPath(new URL('../../examples/reverse-proxy.js', import.meta.url));

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('examples/reverse-proxy', () => {
  test('proxies /app/ to its two backends in turn, and exits 0 on SIGTERM', async (t) => {
    const child = runExample(t, example, ['tcp:0:interface=127.0.0.1']);
    const [, , port = 0] = await portsOf(child, ['backend A', 'backend B', 'reverse proxy']);
    const first = await waitFor(get(port, '/app/hello?x=1'), 'GET /app/hello');
    const second = await waitFor(get(port, '/app/hello?x=1'), 'GET /app/hello again');
    assert.equal(first.status, 200);
    assert.deepEqual([first.body, second.body].sort(), [
      'backend A got /hello?x=1 for 127.0.0.1\n',
      'backend B got /hello?x=1 for 127.0.0.1\n',
    ]);
    const front = await waitFor(get(port, '/'), 'GET /');
    assert.match(front.body, /is proxied/);
    assert.equal(await stopExample(child.process), 0);
  });

  test('a bad endpoint: one line and the usage, status 2', () => {
    const result = spawnSync(process.execPath, [example, 'tcp:nope'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^error: .*\nusage: node dist\/examples\/reverse-proxy\.js/);
  });
});
