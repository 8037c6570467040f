// The HTTP client examples as commands, against a Site on loopback (port 0)
// in this process: web-pages fetches three pages and one unreachable URL at
// once (the server answers none until all three requests are in, so a
// program that fetched one after another would never finish) and reports
// each as it comes; web-download streams a large file to disk with a
// progress line, and fails with one line and status 1, leaving no file.
// Then getPage and treq without a reactor: on the global one, loaded lazily.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { IPAddress } from 'torsion/protocol';
import { File, NOT_DONE_YET, type Request, Resource, Site } from 'torsion/web';
import { getPage } from '../../src/web/client/get-page.js';
import { treq } from '../../src/web/client/http-client.js';
import { type ExampleProcess, runExample } from '../helpers/example-process.js';
import { harness, type SocketHarness, waitFor } from '../helpers/sockets.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

function run(t: TestContext, name: string, args: string[]): ExampleProcess {
  return runExample(t, `${examples}${name}.js`, args);
}

/** Waits for the child to exit; its exit code. */
async function exitCode(child: ExampleProcess): Promise<number | null> {
  await waitFor(child.closed, 'the example to exit', 30);
  return child.process.exitCode;
}

/** Serves `root` on 127.0.0.1, port 0; the port. */
function serve(h: SocketHarness, root: Resource): number {
  const site = new Site(root, { clock: h.reactor });
  site.noisy = false;
  const port = h.listenTCP(0, site, { interface: '127.0.0.1' });
  return (port.getHost() as IPAddress).port;
}

/** A port nobody listens on: one that was listened on, then closed. */
async function closedPort(h: SocketHarness): Promise<number> {
  const port = h.reactor.listenTCP(0, new Site(new Resource(), { clock: h.reactor }), {
    interface: '127.0.0.1',
  });
  const number = (port.getHost() as IPAddress).port;
  await waitFor(port.stopListening(), 'the closed port');
  return number;
}

const dir = mkdtempSync(join(tmpdir(), 'torsion-web-client-examples-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the HTTP client examples as commands', { timeout: 60_000 }, () => {
  test('web-pages: three pages fetched at once and one unreachable URL, each reported, then all done', async (t) => {
    const h = harness(t);
    // Hold every request until all three have arrived: only concurrent downloads finish.
    const waiting: Request[] = [];
    class Page extends Resource {
      override isLeaf = true;
      render_GET(request: Request): typeof NOT_DONE_YET {
        waiting.push(request);
        if (waiting.length === 3) {
          for (const r of waiting) {
            r.write(Buffer.from(`<h1>page ${r.path.slice(1)}</h1>\nmore text\n`));
            r.finish();
          }
        }
        return NOT_DONE_YET;
      }
    }
    const root = new Resource();
    for (const name of ['one', 'two', 'three']) root.putChild(name, new Page());
    const port = serve(h, root);
    const dead = await closedPort(h);
    const urls = ['one', 'two', 'three'].map((name) => `http://127.0.0.1:${port}/${name}`);
    const unreachable = `http://127.0.0.1:${dead}/`;
    const child = run(t, 'web-pages', [...urls, unreachable]);
    assert.equal(await exitCode(child), 0, child.stderr());
    const lines = child.stdout().trim().split('\n');
    assert.equal(lines.length, 5, child.stdout());
    for (const [i, name] of ['one', 'two', 'three'].entries()) {
      const length = `<h1>page ${name}</h1>\nmore text\n`.length;
      assert.ok(
        lines.includes(`page ${urls[i]}: ${length} bytes: <h1>page ${name}</h1>`),
        child.stdout(),
      );
    }
    const error = lines.find((line) => line.startsWith(`error ${unreachable}: `));
    assert.ok(error !== undefined, child.stdout());
    assert.match(error, new RegExp(`GET http://127\\.0\\.0\\.1:${dead}/: .*refused`, 'i'));
    assert.equal(lines.at(-1), 'all done: 3 pages, 1 errors');
  });

  test('web-pages without a URL: usage, status 2', async (t) => {
    const child = run(t, 'web-pages', []);
    assert.equal(await exitCode(child), 2);
    assert.match(child.stderr(), /^error: give at least one URL\nusage: /);
  });

  test('web-download: a 6 MiB file streamed to disk, with a progress line and a final line', async (t) => {
    const h = harness(t);
    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.write(`block ${i / 4096}\n`, i);
    const source = join(dir, 'big.bin');
    writeFileSync(source, big);
    const root = new Resource();
    root.putChild('big.bin', new File(source));
    const port = serve(h, root);
    const target = join(dir, 'downloaded.bin');
    const child = run(t, 'web-download', [`http://127.0.0.1:${port}/big.bin`, target]);
    assert.equal(await exitCode(child), 0, child.stderr());
    assert.ok(readFileSync(target).equals(big), 'the file is the body, byte for byte');
    assert.equal(existsSync(`${target}.part`), false);
    const stderr = child.stderr();
    assert.ok(stderr.startsWith('\r'), JSON.stringify(stderr.slice(0, 80)));
    assert.match(stderr, /^\rreceived (\d+ bytes|[\d.]+ MiB) of 6\.0 MiB \(\d+%\)/);
    assert.match(stderr, /\rdownloaded 6291456 bytes in [\d.]+ s \([\d.]+ (MiB|bytes)\/s\) *\n$/);
    assert.equal(child.stdout(), '');
  });

  test('web-download of a 404: one line naming the URL and the status, status 1, no file left', async (t) => {
    const h = harness(t);
    const port = serve(h, new Resource());
    const target = join(dir, 'missing.bin');
    const url = `http://127.0.0.1:${port}/missing`;
    const child = run(t, 'web-download', [url, target]);
    assert.equal(await exitCode(child), 1);
    assert.equal(child.stderr(), `error: GET ${url}: 404 Not Found\n`);
    assert.equal(existsSync(target), false);
    assert.equal(existsSync(`${target}.part`), false);
  });

  test('web-download from a closed port: one line saying the connection was refused, status 1', async (t) => {
    const h = harness(t);
    const dead = await closedPort(h);
    const child = run(t, 'web-download', [`http://127.0.0.1:${dead}/x`, join(dir, 'x.bin')]);
    assert.equal(await exitCode(child), 1);
    assert.match(
      child.stderr(),
      new RegExp(`^error: GET http://127\\.0\\.0\\.1:${dead}/x: .*refused.*\\n$`, 'i'),
    );
    assert.equal(child.stderr().split('\n').length, 2, 'one line');
  });
});

describe('getPage and treq on the global reactor (no reactor given)', { timeout: 30_000 }, () => {
  function echoSite(h: SocketHarness): number {
    class Echo extends Resource {
      override isLeaf = true;
      render_GET(request: Request): string {
        return `GET ${request.uri}`;
      }
      render_POST(request: Request): string {
        request.setHeader('Content-Type', 'application/json');
        return JSON.stringify({ got: JSON.parse(request.content.read().toString('utf8')) });
      }
    }
    return serve(h, new Echo());
  }

  test('getPage(url) fetches over loopback with the global reactor', async (t) => {
    const h = harness(t);
    const port = echoSite(h);
    const body = await waitFor(getPage(`http://127.0.0.1:${port}/x?y=1`), 'getPage');
    assert.equal(Buffer.from(body).toString(), 'GET /x?y=1');
  });

  test('treq.get with params, and treq.post with json, over loopback', async (t) => {
    const h = harness(t);
    const port = echoSite(h);
    const got = await waitFor(
      treq.get(`http://127.0.0.1:${port}/search`, { params: { q: 'a' } }),
      'treq.get',
    );
    assert.equal(await waitFor(got.text(), 'text'), 'GET /search?q=a');
    const posted = await waitFor(
      treq.post(`http://127.0.0.1:${port}/`, { json: { n: 1 } }),
      'treq.post',
    );
    assert.deepEqual(await waitFor(posted.json(), 'json'), { got: { n: 1 } });
  });
});
