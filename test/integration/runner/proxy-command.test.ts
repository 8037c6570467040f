// `torsion proxy` and `torsion reverse-proxy` as child processes on loopback:
// curl and Node's client through the filtering proxy to a local backend, a
// rules file changed on disk and reloaded (a bad one leaving the old rules),
// SIGHUP, --check-rules and --explain exit statuses, the refusal to listen
// beyond loopback without --allow-client, and the reverse proxy in front of
// a backend. Every child is stopped by its PID; waits are for output, bounded.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../helpers/sockets.js';
import { portOf, start, terminate, torsion } from './_command.js';

const LOOPBACK = 'tcp:0:interface=127.0.0.1';
const tmp = mkdtempSync(join(tmpdir(), 'torsion-proxy-command-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A backend on 127.0.0.1 answering `backend <path>` and echoing the Cookie it got. */
let backend: HttpServer;
let backendPort = 0;
before(async () => {
  backend = createServer((req, res) => {
    res.setHeader('Set-Cookie', 'session=1');
    res.end(`backend ${req.url} cookie=${req.headers.cookie ?? 'none'}`);
  });
  backend.listen(0, '127.0.0.1');
  await waitFor(
    new Promise((resolve) => backend.once('listening', resolve)),
    'the backend to listen',
  );
  backendPort = (backend.address() as AddressInfo).port;
});
after(() => backend.close());

/** GETs `url` through the proxy at `proxyPort` with Node's client (absolute-form request). */
function viaProxy(
  proxyPort: number,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const result = new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const target = new URL(url);
      const req = request(
        {
          host: '127.0.0.1',
          port: proxyPort,
          path: url,
          headers: { Host: target.host, ...headers },
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
  return waitFor(result, `GET ${url} through the proxy`, 10);
}

/** Runs curl (bounded) and resolves with its standard output. */
function curl(args: string[]): Promise<string> {
  return waitFor(
    new Promise<string>((resolve, reject) => {
      execFile('curl', ['-sS', '--max-time', '10', ...args], (error, stdout, stderr) => {
        if (error) reject(new Error(`curl ${args.join(' ')}: ${stderr || error.message}`));
        else resolve(stdout);
      });
    }),
    'curl',
    15,
  );
}

describe('torsion proxy', { timeout: 120_000 }, () => {
  test('serves curl and Node through its rules; a changed rules file is reloaded, a bad one is not', async (t) => {
    const rules = join(tmp, 'live.rules');
    writeFileSync(rules, 'strip-cookies *\nblock blocked.example\n');
    const server = start(t, ['proxy', '--listen', LOOPBACK, '--rules', rules]);
    const port = await portOf(server);
    await server.waitForOutput(/Try it: curl -x http:\/\/127\.0\.0\.1:\d+ /, 'the usage hint');

    const body = await curl([
      '-x',
      `http://127.0.0.1:${port}`,
      '-H',
      'Cookie: a=1',
      `http://127.0.0.1:${backendPort}/hello`,
    ]);
    assert.equal(body, 'backend /hello cookie=none');
    const passed = await viaProxy(port, `http://127.0.0.1:${backendPort}/node`);
    assert.equal(passed.status, 200);
    assert.equal(passed.headers['set-cookie'], undefined);
    const blocked = await viaProxy(port, 'http://blocked.example/');
    assert.equal(blocked.status, 403);
    assert.match(blocked.body, /live\.rules:2/);

    // A change on disk takes effect without a restart.
    writeFileSync(rules, 'block 127.0.0.1\n');
    await server.waitForOutput(/live\.rules: 1 rules loaded/, 'the reload');
    assert.equal((await viaProxy(port, `http://127.0.0.1:${backendPort}/`)).status, 403);

    // A bad file leaves the rules in force, logged; SIGHUP reads it again.
    writeFileSync(rules, 'blok 127.0.0.1\n');
    await server.waitForOutput(/stay in force/, 'the refusal of the bad file');
    assert.equal((await viaProxy(port, `http://127.0.0.1:${backendPort}/`)).status, 403);
    writeFileSync(rules, '# nothing blocked\n');
    await server.waitForOutput(/live\.rules: 0 rules loaded/, 'the good file again');
    if (server.child.pid !== undefined) process.kill(server.child.pid, 'SIGHUP');
    await server.waitForOutput(/SIGHUP: reading/, 'the SIGHUP line');
    await server.waitForOutput(/live\.rules is unchanged/, 'the SIGHUP reading');
    assert.equal((await viaProxy(port, `http://127.0.0.1:${backendPort}/`)).status, 200);

    // The status page on its own address.
    const stats = JSON.parse(await curl([`http://127.0.0.1:${port}/_torsion/stats.json`])) as {
      counters: { blockedConnections: number; strippedCookies: number };
    };
    assert.ok(stats.counters.blockedConnections >= 2);
    assert.ok(stats.counters.strippedCookies >= 2);
    assert.equal(await terminate(server), 0);
  });

  test('--check-rules and --explain answer and exit', async () => {
    const bad = join(tmp, 'bad.rules');
    writeFileSync(bad, 'block ok.example\nblok x.example\n');
    const checked = await torsion(['proxy', '--check-rules', bad]);
    assert.equal(checked.code, 1);
    assert.match(checked.stderr, /bad\.rules:2: /);
    const explained = await torsion(['proxy', '--explain', 'http://ad.doubleclick.net/x']);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /verdict: blocked by built-in:\d+/);
  });

  test('listening beyond loopback without --allow-client is refused, exit 2', async () => {
    const result = await torsion(['proxy', '--listen', 'tcp:0']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--allow-client/);
  });
});

describe('torsion reverse-proxy', { timeout: 60_000 }, () => {
  test('relays requests under --path to the upstream', async (t) => {
    const server = start(t, [
      'reverse-proxy',
      '--listen',
      LOOPBACK,
      '--upstream',
      `http://127.0.0.1:${backendPort}/base`,
      '--path',
      '/app',
    ]);
    const port = await portOf(server);
    assert.equal(
      await curl([`http://127.0.0.1:${port}/app/page?x=1`]),
      'backend /base/page?x=1 cookie=none',
    );
    assert.equal(
      await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/elsewhere`]),
      '404',
    );
    assert.equal(await terminate(server), 0);
  });
});
