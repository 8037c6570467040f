// curl against a Site on loopback: GET over HTTP/1.0 and 1.1, several URLs
// on one connection (keep-alive, both versions), HEAD, 404 and 405, and
// uploads of 100 MiB with `--data-binary @file` to a resource that streams
// the body and to one that takes it whole (spooled to a temporary file),
// through `Expect: 100-continue` without curl's fallback delay, and a
// chunked upload; a slow streaming reader holds the upload back, a resource
// that refuses at once gets no body; a body of unknown length is chunked, or
// ends with the close for HTTP/1.0. Byte ranges need the File resource and
// are tested with it.
// curl must be installed (.ci/run installs it): without it these tests fail.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IPAddress } from 'torsion/protocol';
import type { IReactorTime } from 'torsion/reactor';
import { File, NOT_DONE_YET, type Request, Resource } from 'torsion/web';
import { harness, type SocketHarness } from '../../helpers/sockets.js';
import { CountingSite, header, parseResponses } from '../../helpers/web-clients.js';

const SUITE = { timeout: 180_000 };
const MiB = 1024 * 1024;

interface CurlResult {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * Runs curl with `args` (after `-sS --max-time`), resolving with what it
 * printed; fails if curl exits non-zero, or is not installed.
 */
function curl(args: readonly string[], seconds = 30): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '--max-time', String(seconds), ...args],
      { encoding: 'buffer', maxBuffer: 64 * MiB, timeout: (seconds + 10) * 1000 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr: stderr.toString('utf8') });
        } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error('curl is not installed: these tests need it (.ci/run installs it)'));
        } else {
          reject(
            new Error(
              `curl ${args.join(' ')} failed: ${error.message}\n${stderr.toString('utf8')}`,
            ),
          );
        }
      },
    );
  });
}

/** Answers a GET with the request's version and path. */
class Hello extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `hello ${request.clientproto} ${request.path}\n`;
  }
}

/** What an upload resource saw of a body. */
interface Seen {
  readonly declared: number | undefined;
  readonly spoolPath: string | undefined;
}

/** The digest line both upload resources answer: byte count, SHA-256, declared length. */
function digestLine(n: number, hash: string, declared: number | undefined): string {
  return `${n} ${hash} ${declared ?? 'chunked'}\n`;
}

/** Reads the body as it arrives (`for await`) and answers its length and SHA-256. */
class StreamedDigest extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  readonly seen: Seen[] = [];

  async render_POST(request: Request): Promise<string> {
    const hash = createHash('sha256');
    let n = 0;
    for await (const chunk of request.content) {
      hash.update(chunk);
      n += chunk.length;
    }
    this.seen.push({ declared: request.content.length, spoolPath: request.content.spoolPath });
    return digestLine(n, hash.digest('hex'), request.content.length);
  }
}

/** Renders once the whole body is in (the default) and answers its length and SHA-256. */
class WholeDigest extends Resource {
  override isLeaf = true;
  readonly seen: Seen[] = [];

  render_POST(request: Request): string {
    assert.ok(request.content.done, 'the whole body has arrived when render runs');
    const body = request.content.read();
    this.seen.push({ declared: request.content.length, spoolPath: request.content.spoolPath });
    return digestLine(
      body.length,
      createHash('sha256').update(body).digest('hex'),
      request.content.length,
    );
  }
}

/**
 * Reads the body as it arrives, slowly (a loop turn of pause after each MiB), and keeps
 * the most bytes the server held that it had not read yet.
 */
class SlowReader extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  maxAhead = 0;

  async render_POST(request: Request): Promise<string> {
    const hash = createHash('sha256');
    let n = 0;
    let nextPause = MiB;
    for await (const chunk of request.content) {
      hash.update(chunk);
      n += chunk.length;
      this.maxAhead = Math.max(this.maxAhead, request.content.received - n);
      if (n >= nextPause) {
        nextPause += MiB;
        await new Promise((resolve) => setImmediate(resolve)); // a turn: bytes keep arriving meanwhile
      }
    }
    return digestLine(n, hash.digest('hex'), request.content.length);
  }
}

/** Refuses an upload at once, without reading its body. */
class Refuser extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  render_POST(request: Request): string {
    request.setResponseCode(403);
    return 'refused\n';
  }
}

/** Writes its body over several turns without a length: chunked for 1.1, up to the close for 1.0. */
class Unsized extends Resource {
  override isLeaf = true;

  constructor(private readonly clock: IReactorTime) {
    super();
  }

  render_GET(request: Request): typeof NOT_DONE_YET {
    let i = 0;
    const step = (): void => {
      if (i < 5) {
        request.write(`line ${i++}\n`);
        this.clock.callLater(0, step);
      } else {
        request.finish();
      }
    };
    step();
    return NOT_DONE_YET;
  }
}

interface Served {
  readonly site: CountingSite;
  readonly base: string;
  readonly streamed: StreamedDigest;
  readonly whole: WholeDigest;
  readonly slow: SlowReader;
}

function serve(h: SocketHarness): Served {
  const root = new Resource();
  const streamed = new StreamedDigest();
  const whole = new WholeDigest();
  root.putChild('hello', new Hello());
  root.putChild('streamed', streamed);
  root.putChild('whole', whole);
  const slow = new SlowReader();
  root.putChild('slow', slow);
  root.putChild('refuse', new Refuser());
  root.putChild('unsized', new Unsized(h.reactor));
  const site = new CountingSite(root, { clock: h.reactor });
  const port = (h.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
  return { site, base: `http://127.0.0.1:${port}`, streamed, whole, slow };
}

/** A file of `size` random bytes, and its SHA-256. */
function randomFile(path: string, size: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w', 0o600);
  try {
    for (let left = size; left > 0; ) {
      const block = randomBytes(Math.min(MiB, left));
      hash.update(block);
      writeSync(fd, block);
      left -= block.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

describe('a Site on loopback, with curl', SUITE, () => {
  let dir: string;
  const big = { path: '', size: 100 * MiB, sha: '' };
  // Over the spool threshold (1 MiB), and not a whole number of anything.
  const small = { path: '', size: 3 * MiB + 12_345, sha: '' };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-curl-'));
    big.path = join(dir, 'big');
    big.sha = randomFile(big.path, big.size);
    small.path = join(dir, 'small');
    small.sha = randomFile(small.path, small.size);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('curl is installed (CI installs it; without it this suite fails)', async () => {
    const { stdout } = await curl(['--version']);
    assert.match(stdout.toString(), /^curl \d+\.\d+/);
  });

  test('GET over HTTP/1.1: status, framing and the server headers; the connection stays open', async (t) => {
    const { base } = serve(harness(t));
    const { stdout } = await curl(['-D', '-', `${base}/hello/a?x=1`]);
    const [response] = parseResponses(stdout);
    assert.ok(response !== undefined);
    assert.equal(response.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(response.body.toString(), 'hello HTTP/1.1 /hello/a\n');
    assert.equal(header(response, 'content-length'), String(response.body.length));
    assert.equal(header(response, 'server'), 'Torsion');
    assert.match(
      header(response, 'date') ?? '',
      /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    assert.equal(header(response, 'connection'), undefined);
  });

  test('GET over HTTP/1.0: answered, then the connection closes', async (t) => {
    const { base, site } = serve(harness(t));
    const { stdout } = await curl([
      '--http1.0',
      '-D',
      '-',
      '-w',
      '%{num_connects}\n',
      `${base}/hello/a`,
      `${base}/hello/b`,
    ]);
    const text = stdout.toString('latin1');
    const heads = text.split('HTTP/1.1 200 OK\r\n').slice(1);
    assert.equal(heads.length, 2, text);
    for (const head of heads) assert.match(head, /^Connection: close\r$/im);
    assert.match(text, /hello HTTP\/1\.0 \/hello\/a\n1\n/);
    assert.match(text, /hello HTTP\/1\.0 \/hello\/b\n1\n/);
    assert.equal(site.channels.length, 2);
  });

  test('HTTP/1.0 with Connection: keep-alive: two URLs share one connection', async (t) => {
    const { base, site } = serve(harness(t));
    const { stdout } = await curl([
      '--http1.0',
      '-H',
      'Connection: keep-alive',
      '-w',
      '%{http_code} %{num_connects}\n',
      `${base}/hello/a`,
      `${base}/hello/b`,
    ]);
    assert.equal(
      stdout.toString(),
      'hello HTTP/1.0 /hello/a\n200 1\nhello HTTP/1.0 /hello/b\n200 0\n',
    );
    assert.equal(site.channels.length, 1);
  });

  test('HTTP/1.1: three URLs on one curl command reuse one connection', async (t) => {
    const { base, site } = serve(harness(t));
    const { stdout } = await curl([
      '-w',
      '%{http_code} %{num_connects}\n',
      `${base}/hello/1`,
      `${base}/hello/2`,
      `${base}/hello/3`,
    ]);
    assert.equal(
      stdout.toString(),
      'hello HTTP/1.1 /hello/1\n200 1\nhello HTTP/1.1 /hello/2\n200 0\nhello HTTP/1.1 /hello/3\n200 0\n',
    );
    assert.equal(site.channels.length, 1);
  });

  test('HTTP/1.1 with Connection: close: each URL gets its own connection', async (t) => {
    const { base, site } = serve(harness(t));
    const { stdout } = await curl([
      '-H',
      'Connection: close',
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{num_connects}\n',
      `${base}/hello/1`,
      `${base}/hello/2`,
    ]);
    assert.equal(stdout.toString(), '200 1\n200 1\n');
    assert.equal(site.channels.length, 2);
  });

  test('HEAD (-I): the GET headers without a body, twice on one connection', async (t) => {
    const { base, site } = serve(harness(t));
    const { stdout } = await curl(['-I', `${base}/hello/h`, `${base}/hello/h`]);
    const responses = parseResponses(stdout, [true, true]);
    assert.equal(responses.length, 2);
    for (const response of responses) {
      assert.equal(response.status, 200);
      assert.equal(
        header(response, 'content-length'),
        String(Buffer.byteLength('hello HTTP/1.1 /hello/h\n')),
      );
      assert.equal(response.body.length, 0);
    }
    assert.equal(site.channels.length, 1);
  });

  test('a missing resource is 404; a method without a render function is 405 with Allow', async (t) => {
    const { base } = serve(harness(t));
    const missing = await curl(['-o', '/dev/null', '-w', '%{http_code}', `${base}/nothing/here`]);
    assert.equal(missing.stdout.toString(), '404');
    const { stdout } = await curl(['-X', 'DELETE', '-D', '-', '-o', '/dev/null', `${base}/hello`]);
    const [response] = parseResponses(stdout, [true]);
    assert.ok(response !== undefined);
    assert.equal(response.status, 405);
    const allow = (header(response, 'allow') ?? '').split(/\s*,\s*/);
    assert.ok(allow.includes('GET'), `Allow: ${allow.join(', ')}`);
    assert.ok(!allow.includes('DELETE'));
  });

  test('a body of unknown length: chunked over HTTP/1.1, up to the close over HTTP/1.0', async (t) => {
    const { base, site } = serve(harness(t));
    const expected = 'line 0\nline 1\nline 2\nline 3\nline 4\n';
    const v11 = await curl(['--raw', '-D', '-', `${base}/unsized`]);
    const [chunked] = parseResponses(v11.stdout);
    assert.ok(chunked !== undefined);
    assert.equal(header(chunked, 'transfer-encoding'), 'chunked');
    assert.equal(chunked.body.toString(), expected);
    const v10 = await curl(['--http1.0', '-D', '-', `${base}/unsized`]);
    const [closed] = parseResponses(v10.stdout);
    assert.ok(closed !== undefined);
    assert.equal(header(closed, 'transfer-encoding'), undefined);
    assert.equal(header(closed, 'content-length'), undefined);
    assert.equal(header(closed, 'connection'), 'close');
    assert.equal(closed.body.toString(), expected);
    assert.equal(site.channels.length, 2);
  });

  test('100 MiB to a slow streaming reader: the server holds little of it ahead of the reader', async (t) => {
    const served = serve(harness(t));
    const { stdout } = await curl(['--data-binary', `@${big.path}`, `${served.base}/slow`], 90);
    assert.equal(stdout.toString(), digestLine(big.size, big.sha, big.size));
    // Reading pauses once 64 KiB wait; what one read of the socket brings comes on top.
    t.diagnostic(`at most ${served.slow.maxAhead} bytes received ahead of the reader`);
    assert.ok(served.slow.maxAhead <= MiB, `${served.slow.maxAhead} bytes ahead of the reader`);
  });

  test('a resource refusing an upload before reading it: no 100 Continue, curl stops sending at once', async (t) => {
    const { base } = serve(harness(t));
    const started = performance.now();
    const { stdout, stderr } = await curl(
      [
        '-v',
        '--expect100-timeout',
        '30',
        '-w',
        '%{http_code}\n',
        '--data-binary',
        `@${big.path}`,
        `${base}/refuse`,
      ],
      60,
    );
    const elapsed = (performance.now() - started) / 1000;
    assert.equal(stdout.toString(), 'refused\n403\n');
    assert.doesNotMatch(stderr, /^< HTTP\/1\.1 100 Continue/m);
    assert.ok(elapsed < 25, `took ${elapsed.toFixed(1)} s`);
  });

  for (const kind of ['streamed', 'whole'] as const) {
    test(`POST --data-binary of 100 MiB to the ${kind} resource: byte count and SHA-256 match`, async (t) => {
      const served = serve(harness(t));
      const started = performance.now();
      const { stdout, stderr } = await curl(
        [
          '-v',
          // Were no 100 Continue sent, curl would wait this long before sending the body.
          '--expect100-timeout',
          '30',
          '-H',
          'Content-Type: application/octet-stream',
          '--data-binary',
          `@${big.path}`,
          `${served.base}/${kind}`,
        ],
        90,
      );
      const elapsed = (performance.now() - started) / 1000;
      assert.equal(stdout.toString(), digestLine(big.size, big.sha, big.size));
      assert.match(stderr, /^> Expect: 100-continue\r?$/m);
      assert.match(stderr, /^< HTTP\/1\.1 100 Continue\r?$/m);
      assert.ok(elapsed < 25, `the upload took ${elapsed.toFixed(1)} s`);
      const [seen] = served[kind].seen;
      assert.ok(seen !== undefined);
      if (kind === 'streamed') {
        assert.equal(seen.spoolPath, undefined, 'a streamed body is never spooled');
      } else {
        assert.ok(seen.spoolPath !== undefined, 'a body over 1 MiB waits in a temporary file');
        assert.ok(!existsSync(seen.spoolPath), 'the temporary file is gone after the request');
      }
    });

    test(`a chunked upload (Transfer-Encoding: chunked) to the ${kind} resource arrives whole`, async (t) => {
      const served = serve(harness(t));
      const { stdout, stderr } = await curl([
        '-v',
        '--expect100-timeout',
        '30',
        '-H',
        'Transfer-Encoding: chunked',
        '--data-binary',
        `@${small.path}`,
        `${served.base}/${kind}`,
      ]);
      assert.match(stderr, /^> Transfer-Encoding: chunked\r?$/m);
      assert.equal(stdout.toString(), digestLine(small.size, small.sha, undefined));
      const [seen] = served[kind].seen;
      assert.ok(seen !== undefined);
      assert.equal(seen.declared, undefined);
      if (seen.spoolPath !== undefined) assert.ok(!existsSync(seen.spoolPath));
    });
  }

  test('byte ranges from a File: one range (206), several (multipart/byteranges), unsatisfiable (416)', async (t) => {
    const h = harness(t);
    const site = new CountingSite(new File(dir), { clock: h.reactor });
    const port = (h.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
    const url = `http://127.0.0.1:${port}/small`;
    const file = readFileSync(small.path);

    const one = parseResponses((await curl(['-D', '-', '-r', '100-199', url])).stdout)[0];
    assert.equal(one?.statusLine, 'HTTP/1.1 206 Partial Content');
    assert.equal(one && header(one, 'content-range'), `bytes 100-199/${small.size}`);
    assert.ok(one?.body.equals(file.subarray(100, 200)));

    const several = parseResponses((await curl(['-D', '-', '-r', '0-9,1000-1019', url])).stdout)[0];
    assert.equal(several?.statusLine, 'HTTP/1.1 206 Partial Content');
    const type = several === undefined ? '' : (header(several, 'content-type') ?? '');
    const boundary = /^multipart\/byteranges; boundary=(.+)$/.exec(type)?.[1];
    assert.ok(boundary !== undefined, type);
    const body = several?.body ?? Buffer.alloc(0);
    assert.ok(body.includes(file.subarray(0, 10)));
    assert.ok(body.includes(file.subarray(1000, 1020)));
    assert.ok(body.includes(Buffer.from(`Content-Range: bytes 1000-1019/${small.size}`)));
    assert.equal(
      body.toString('latin1').split(`--${boundary}`).length,
      4,
      'two parts and the closing delimiter',
    );

    const none = parseResponses(
      (await curl(['-D', '-', '-r', `${small.size + 10}-`, url])).stdout,
    )[0];
    assert.equal(none?.statusLine, 'HTTP/1.1 416 Range Not Satisfiable');
    assert.equal(none && header(none, 'content-range'), `bytes */${small.size}`);

    const whole = await curl([url]);
    assert.ok(whole.stdout.equals(file), 'the whole file without a range');
  });
});
