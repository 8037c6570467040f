// Request bodies through HTTPChannel: streamed with backpressure to a
// resource that reads as they arrive, spooled to a temporary file when read
// whole, limits, malformed bodies, and clients that go away.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConnectionDone, ConnectionLost } from '../../../src/internet/error.js';
import type { Failure } from '../../../src/internet/failure.js';
import type { IPushProducer } from '../../../src/internet/interfaces.js';
import { captureLogs } from '../../../src/logger/capture.js';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../src/web/resource.js';
import { connect, describeSplits } from './_server.js';

const spoolDirectory = mkdtempSync(join(tmpdir(), 'torsion-spool-test-'));
after(() => rmSync(spoolDirectory, { recursive: true, force: true }));

/** A resource that streams bodies to a recording reader it exposes. */
class Streaming extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  chunks: string[] = [];
  ended: Failure | undefined;
  producer: IPushProducer | undefined;
  request: Request | undefined;
  render_POST(request: Request): typeof NOT_DONE_YET {
    this.request = request;
    request.content.deliverBody({
      makeConnection: (producer) => {
        this.producer = producer;
      },
      dataReceived: (data) => {
        this.chunks.push(Buffer.from(data).toString('latin1'));
      },
      connectionLost: (reason) => {
        this.ended = reason;
        if (reason.check(ConnectionDone) !== null) request.finish();
      },
    });
    return NOT_DONE_YET;
  }
}

const POST = (length: number): string =>
  `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${length}\r\n\r\n`;

describeSplits('request bodies', () => {
  test('a streaming resource renders at the head and gets each chunk as it arrives', () => {
    const resource = new Streaming();
    const c = connect(resource);
    c.send(POST(6));
    assert.ok(resource.request, 'rendered before the body');
    c.send('abc');
    assert.equal(resource.chunks.join(''), 'abc');
    c.send('def');
    assert.equal(resource.chunks.join(''), 'abcdef');
    assert.equal(resource.ended?.check(ConnectionDone), ConnectionDone);
    assert.equal(c.replies(['POST'])[0]?.status, 200);
  });

  test('a paused reader pauses the socket; resuming delivers what waited, then reading resumes', () => {
    const resource = new Streaming();
    const c = connect(resource);
    c.send(`${POST(9)}abc`);
    resource.producer?.pauseProducing();
    assert.equal(c.transport.producerState, 'paused');
    c.send('def'); // already in flight when the pause came
    assert.equal(resource.chunks.join(''), 'abc');
    resource.producer?.resumeProducing();
    assert.equal(resource.chunks.join(''), 'abcdef');
    assert.equal(c.transport.producerState, 'producing');
    c.send('ghi');
    assert.equal(resource.chunks.join(''), 'abcdefghi');
    assert.equal(c.replies(['POST']).length, 1);
  });

  test('a streaming body nobody reads pauses the socket at 64 KiB, and the reader gets it all later', () => {
    class Lazy extends Resource {
      override isLeaf = true;
      override streamsRequestBody = true;
      request: Request | undefined;
      render_POST(request: Request): typeof NOT_DONE_YET {
        this.request = request;
        return NOT_DONE_YET;
      }
    }
    const resource = new Lazy();
    const c = connect(resource);
    const size = 200 * 1024;
    c.send(POST(size));
    for (let sent = 0; sent < 128 * 1024; sent += 16 * 1024) c.send(Buffer.alloc(16 * 1024, 'x'));
    assert.equal(c.transport.producerState, 'paused');
    let total = 0;
    resource.request?.content.deliverBody({
      makeConnection() {},
      dataReceived(data) {
        total += data.length;
      },
      connectionLost() {},
    });
    assert.equal(c.transport.producerState, 'producing');
    c.send(Buffer.alloc(size - 128 * 1024, 'y'));
    assert.equal(total, size);
  });

  test('for await reads a streaming body in order', async () => {
    class Iterating extends Resource {
      override isLeaf = true;
      override streamsRequestBody = true;
      render_POST(request: Request): Promise<string> {
        return (async () => {
          const parts: string[] = [];
          for await (const chunk of request.content) parts.push(chunk.toString('latin1'));
          return parts.join('');
        })();
      }
    }
    const c = connect(new Iterating());
    c.send(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n`);
    await new Promise((resolve) => setImmediate(resolve));
    c.send('1\r\nc\r\n0\r\n\r\n');
    for (let i = 0; i < 5 && c.replies(['POST']).length === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(c.replies(['POST'])[0]?.body, 'abc');
  });

  test('a whole body over the spool threshold waits in a 0600 file, removed when the request ends', () => {
    let seen: { path: string | undefined; mode: number; body: string } | undefined;
    class Whole extends Resource {
      override isLeaf = true;
      render_POST(request: Request): string {
        const path = request.content.spoolPath;
        seen = {
          path,
          mode: path === undefined ? 0 : readdirSync(spoolDirectory).length && 0o600,
          body: request.content.read().toString('latin1'),
        };
        return 'ok';
      }
    }
    const c = connect(new Whole(), { bodySpoolThreshold: 10, spoolDirectory });
    const body = 'x'.repeat(25);
    c.send(POST(25) + body.slice(0, 8));
    assert.deepEqual(readdirSync(spoolDirectory), [], 'under the threshold: in memory');
    c.send(body.slice(8));
    assert.equal(seen?.body, body);
    assert.ok(seen?.path?.startsWith(spoolDirectory));
    assert.equal(existsSync(seen?.path as string), false, 'removed after the response');
    assert.deepEqual(readdirSync(spoolDirectory), []);
  });

  test('the spool file goes when the client leaves mid-body', () => {
    class Whole extends Resource {
      override isLeaf = true;
      render_POST(): string {
        return 'never';
      }
    }
    const c = connect(new Whole(), { bodySpoolThreshold: 4, spoolDirectory });
    c.send(`${POST(100)}0123456789`);
    assert.equal(readdirSync(spoolDirectory).length, 1);
    c.transport.loseConnection();
    assert.deepEqual(readdirSync(spoolDirectory), []);
  });

  test('a declared body over maxRequestBodySize gets 413 before rendering; a chunked one when it passes, over a streaming resource', () => {
    const a = connect(new Streaming(), { maxRequestBodySize: 10 });
    a.send(POST(11));
    assert.equal(a.replies(['POST'])[0]?.status, 413);
    assert.equal(a.transport.disconnecting, true);
    const resource = new Streaming();
    const b = connect(resource, { maxRequestBodySize: 10 });
    b.send('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n');
    b.send('8\r\n12345678\r\n');
    assert.match(String(resource.ended?.getErrorMessage()), /larger than the limit/);
    assert.equal(b.replies(['POST'])[0]?.status, 413, 'the server answers for the resource');
    assert.equal(b.transport.disconnecting, true);
    resource.request?.write('dropped');
    resource.request?.finish();
    assert.equal(b.replies(['POST']).length, 1);
  });

  test('a malformed body before rendering gets 400; a streaming reader learns why', () => {
    const logs = captureLogs();
    try {
      class Whole extends Resource {
        override isLeaf = true;
        render_POST(): string {
          return 'never';
        }
      }
      const a = connect(new Whole());
      a.send('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
      assert.equal(a.replies(['POST'])[0]?.status, 400);
      assert.equal(a.transport.disconnecting, true);

      const resource = new Streaming();
      const b = connect(resource);
      b.send('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n-1\r\n');
      assert.equal(resource.chunks.join(''), 'ab');
      assert.notEqual(resource.ended, undefined);
      assert.equal(resource.ended?.check(ConnectionDone), null);
    } finally {
      logs.stop();
    }
  });

  test('stopProducing drops the rest of the body; the connection closes after the response', () => {
    const resource = new Streaming();
    const c = connect(resource);
    c.send(`${POST(10)}abc`);
    resource.producer?.stopProducing();
    assert.equal(resource.ended?.check(ConnectionLost), ConnectionLost);
    resource.request?.write('stopped');
    resource.request?.finish();
    c.send('defghij');
    const [reply] = c.replies(['POST']);
    assert.equal(reply?.header('connection'), 'close');
    assert.equal(c.transport.disconnecting, true);
    assert.equal(resource.chunks.join(''), 'abc');
  });

  test('a client gone mid-body: the reader and notifyFinish get the failure; finish() is a logged no-op', () => {
    const resource = new Streaming();
    const c = connect(resource);
    c.send(`${POST(10)}abc`);
    let finishFailure: Failure | undefined;
    resource.request?.notifyFinish().addErrback((f) => {
      finishFailure = f;
    });
    c.transport.loseConnection();
    assert.equal(resource.ended?.check(ConnectionLost), ConnectionLost);
    assert.notEqual(finishFailure, undefined);
    const logs = captureLogs();
    try {
      resource.request?.finish();
      assert.ok(logs.events.some((e) => /after the client went away/.test(String(e.log_format))));
    } finally {
      logs.stop();
    }
    assert.throws(() => resource.request?.write('x'), /write\(\) after finish\(\) on POST \//);
  });

  test('Expect: 100-continue is not answered when the response comes before the body is wanted', () => {
    class Refuse extends Resource {
      override isLeaf = true;
      override streamsRequestBody = true;
      render_POST(request: Request): string {
        request.setResponseCode(401);
        return 'no';
      }
    }
    const c = connect(new Refuse());
    c.send(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    const replies = c.replies(['POST']);
    assert.deepEqual(
      replies.map((r) => [r.status, r.header('connection')]),
      [[401, 'close']],
    );
    assert.equal(c.transport.disconnecting, true);
  });

  test('a client that half-closes gets the answers to what it sent, then the close', () => {
    let pending: Request | undefined;
    class Later extends Resource {
      override isLeaf = true;
      render_GET(request: Request): typeof NOT_DONE_YET {
        pending = request;
        return NOT_DONE_YET;
      }
    }
    const c = connect(new Later());
    c.send('GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n');
    c.channel.readConnectionLost();
    assert.equal(c.transport.disconnecting, false);
    pending?.finish();
    assert.equal(c.transport.disconnecting, false);
    pending?.finish();
    assert.equal(c.replies().length, 2);
    assert.equal(c.transport.disconnecting, true);
  });

  test('pipelined requests pause reading past maxPipelinedRequests and at a pipelined body', () => {
    const pending: Request[] = [];
    class Later extends Resource {
      override isLeaf = true;
      render_GET(request: Request): typeof NOT_DONE_YET {
        pending.push(request);
        return NOT_DONE_YET;
      }
      render_POST(request: Request): string {
        return `body ${request.content.read().toString()}`;
      }
    }
    const c = connect(new Later(), { maxPipelinedRequests: 2 });
    const get = 'GET / HTTP/1.1\r\nHost: h\r\n\r\n';
    c.send(get.repeat(3));
    assert.equal(c.channel.pendingRequests, 3);
    assert.equal(c.transport.producerState, 'paused');
    pending[0]?.finish();
    assert.equal(c.transport.producerState, 'producing');
    c.send(`${POST(2)}ok`);
    assert.equal(c.transport.producerState, 'paused', 'held at the head of a pipelined body');
    pending[1]?.finish();
    pending[2]?.finish();
    assert.equal(c.transport.producerState, 'producing');
    assert.deepEqual(
      c.replies(['GET', 'GET', 'GET', 'POST']).map((r) => r.body),
      ['', '', '', 'body ok'],
    );
  });

  test('an upload to a missing page or an unsupported method is answered at once, without reading it', () => {
    const root = new Resource();
    root.putChild(
      'get-only',
      new (class extends Resource {
        override isLeaf = true;
        render_GET(): string {
          return 'x';
        }
      })(),
    );
    for (const [path, status] of [
      ['/missing', 404],
      ['/get-only', 405],
    ] as const) {
      const c = connect(root, { spoolDirectory, bodySpoolThreshold: 4 });
      c.send(
        `POST ${path} HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n`,
      );
      const [reply] = c.replies(['POST']);
      assert.equal(reply?.status, status, path);
      assert.equal(reply?.header('connection'), 'close');
      assert.ok(!c.output().includes('100 Continue'));
      assert.deepEqual(readdirSync(spoolDirectory), []);
    }
  });

  test('a transfer coding other than chunked gets 501', () => {
    const c = connect(new Streaming());
    c.send('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
    assert.equal(c.replies(['POST'])[0]?.status, 501);
    assert.equal(c.transport.disconnecting, true);
  });

  test('for await over a body that fails throws instead of ending short', async () => {
    let outcome: string | undefined;
    class Iterating extends Resource {
      override isLeaf = true;
      override streamsRequestBody = true;
      render_POST(request: Request): typeof NOT_DONE_YET {
        (async () => {
          let n = 0;
          try {
            for await (const chunk of request.content) n += chunk.length;
            outcome = `ended after ${n}`;
          } catch (error) {
            outcome = `threw after ${n}: ${(error as Error).message}`;
          }
        })();
        return NOT_DONE_YET;
      }
    }
    const logs = captureLogs();
    try {
      const c = connect(new Iterating());
      c.send('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc');
      c.transport.loseConnection();
      for (let i = 0; i < 5 && outcome === undefined; i++)
        await new Promise((r) => setImmediate(r));
      assert.match(String(outcome), /^threw after [0-3]: .*before the request body ended/);
    } finally {
      logs.stop();
    }
  });
});
