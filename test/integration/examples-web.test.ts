// The web examples and the finger tutorial's web stages run as their
// documented commands on loopback (port 0), fetched with Node's own HTTP and
// HTTPS clients. Each child is stopped by its PID with SIGTERM, which the
// reactor turns into a graceful shutdown, within a bounded time.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { finger } from '../../examples/finger/finger-client.js';
import {
  type ExampleProcess,
  portsOf,
  runExample,
  stopExample,
} from '../helpers/example-process.js';
import { harness, waitFor } from '../helpers/sockets.js';
import { CERT_FILE, KEY_FILE } from '../helpers/tls.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const LOOPBACK = 'tcp:0:interface=127.0.0.1';

/** Runs `${examples}<name>.js` with `args`; the child is stopped when the test ends. */
function run(t: TestContext, name: string, args: string[]): ExampleProcess {
  return runExample(t, `${examples}${name}.js`, args);
}

const stop = stopExample;

/** A response as Node's client read it. */
interface Fetched {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface FetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Use HTTPS, trusting this CA certificate. */
  ca?: string;
}

/** Fetches `path` from 127.0.0.1:`port` (localhost for HTTPS) on a new connection. */
function fetchFrom(port: number, path: string, options: FetchOptions = {}): Promise<Fetched> {
  const { method = 'GET', headers = {}, body, ca } = options;
  const common = { port, path, method, headers, agent: false } as const;
  const result = new Promise<Fetched>((resolve, reject) => {
    const onResponse = (response: import('node:http').IncomingMessage): void => {
      let data = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        data += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: data }),
      );
      response.on('error', reject);
    };
    const req =
      ca === undefined
        ? httpRequest({ ...common, host: '127.0.0.1' }, onResponse)
        : httpsRequest({ ...common, host: 'localhost', ca, servername: 'localhost' }, onResponse);
    req.on('error', reject);
    req.end(body);
  });
  return waitFor(result, `${method} ${path}`, 10);
}

describe('the web examples as commands', { timeout: 60_000 }, () => {
  test('web-hello serves its pages, and exits 0 on SIGTERM', async (t) => {
    const server = run(t, 'web-hello', ['0']);
    const [port = 0] = await portsOf(server, ['web server']);
    const home = await fetchFrom(port, '/');
    assert.equal(home.status, 200);
    assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(home.headers.server, 'Torsion');
    assert.match(home.body, /<h1>Hello, world!<\/h1>/);
    const greet = await fetchFrom(port, `/greet?name=${encodeURIComponent('Émile <b>')}`);
    assert.match(greet.body, /<p>Hello, Émile &lt;b&gt;!<\/p>/);
    assert.equal((await fetchFrom(port, '/nothing')).status, 404);
    assert.equal(await stop(server.process), 0);
  });

  test('web-form keeps a posted message, redirects with 303, and remembers the name', async (t) => {
    const server = run(t, 'web-form', ['0']);
    const [port = 0] = await portsOf(server, ['web server']);
    const form = new URLSearchParams({ name: 'Ada <3', message: '<i>hi</i> & bye' }).toString();
    const posted = await fetchFrom(port, '/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    assert.equal(posted.status, 303);
    assert.equal(posted.headers.location, '/');
    const [cookie] = posted.headers['set-cookie'] ?? [];
    assert.match(
      cookie ?? '',
      /^name=Ada%20%3C3; Path=\/; Max-Age=2592000; HttpOnly; SameSite=Lax$/,
    );
    const page = await fetchFrom(port, '/', { headers: { Cookie: cookie?.split(';')[0] ?? '' } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<li><b>Ada &lt;3<\/b>: &lt;i&gt;hi&lt;\/i&gt; &amp; bye<\/li>/);
    assert.match(page.body, /<p>Welcome back, Ada &lt;3\.<\/p>/);
    assert.ok(!page.body.includes('<i>'));
    assert.equal(await stop(server.process), 0);
  });

  test('web-hello given a bad port says so with its usage and exits 2', () => {
    const result = spawnSync(process.execPath, [`${examples}web-hello.js`, 'http'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 2);
    assert.equal(
      result.stderr,
      "error: the port must be a number from 0 to 65535, not 'http'\n" +
        'usage: node dist/examples/web-hello.js [port]   (default 8080)\n',
    );
    assert.equal(result.stdout, '');
  });
});

describe('the finger web stages as commands', { timeout: 60_000 }, () => {
  test('stage 15 serves the users file on the web and over finger', async (t) => {
    const server = run(t, 'finger/finger15', [
      LOOPBACK,
      LOOPBACK,
      fileURLToPath(new URL('../../../examples/finger/etc.users', import.meta.url)),
    ]);
    const [fingerPort = 0, webPort = 0] = await portsOf(server, ['finger server', 'web server']);
    const list = await fetchFrom(webPort, '/');
    assert.equal(list.status, 200);
    assert.match(list.body, /<li><a href="\/shawn">shawn<\/a>: alive<\/li>/);
    const { reactor } = harness(t);
    const reply = await waitFor(finger(reactor, 'shawn', '127.0.0.1', fingerPort), 'the reply');
    assert.equal(reply.toString(), 'alive\r\n');
    assert.equal(await stop(server.process), 0);
  });

  test('stage 22 serves one site over HTTP and HTTPS, with the certificate given', async (t) => {
    const server = run(t, 'finger/finger22', [
      LOOPBACK,
      LOOPBACK,
      `ssl:0:interface=127.0.0.1:privateKey=${KEY_FILE}:certKey=${CERT_FILE}`,
      fileURLToPath(new URL('../../../examples/finger/etc.users', import.meta.url)),
    ]);
    const [, webPort = 0, httpsPort = 0] = await portsOf(server, [
      'finger server',
      'web server',
      'https server',
    ]);
    const ca = readFileSync(CERT_FILE, 'utf8');
    const secure = await fetchFrom(httpsPort, '/moshez', { ca });
    assert.equal(secure.status, 200);
    assert.match(secure.body, /<h1>moshez<\/h1>\n<p>happy and well<\/p>/);
    const list = await fetchFrom(httpsPort, '/', { ca });
    assert.match(list.body, /<a href="\/shawn">shawn<\/a>/);
    const plain = await fetchFrom(webPort, '/moshez');
    assert.equal(plain.body, secure.body);
    assert.equal(await stop(server.process), 0);
  });

  test('stage 22 without its key file says which file, and exits 2', () => {
    const result = spawnSync(
      process.execPath,
      [
        `${examples}finger/finger22.js`,
        LOOPBACK,
        LOOPBACK,
        'ssl:0:privateKey=/nonexistent/key.pem',
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    assert.equal(result.status, 2);
    const [first, second, rest] = String(result.stderr).split('\n');
    assert.match(first ?? '', /^error: .*\/nonexistent\/key\.pem/);
    assert.match(second ?? '', /^usage: node dist\/examples\/finger\/finger22\.js \[endpoint\]/);
    assert.equal(rest, '');
    assert.equal(result.stdout, '');
  });
});
