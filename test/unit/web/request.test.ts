// Request as a resource uses it: the target split into path, args and
// segments; response headers and their guards; cookies; conditional requests;
// framing decisions; failures in render functions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deferred } from '../../../src/internet/defer.js';
import type { IPushProducer } from '../../../src/internet/interfaces.js';
import { captureLogs } from '../../../src/logger/capture.js';
import { CACHED, type Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, type RenderResult, Resource } from '../../../src/web/resource.js';
import { connect, describeSplits } from './_server.js';

/** A leaf whose GET runs `f`. */
function leaf(f: (request: Request) => RenderResult): Resource {
  return new (class extends Resource {
    override isLeaf = true;
    render_GET(request: Request): RenderResult {
      return f(request);
    }
  })();
}

function get(target: string, extra = '', version = 'HTTP/1.1'): string {
  return `GET ${target} ${version}\r\nHost: example.com:8080\r\n${extra}\r\n`;
}

describeSplits('Request', () => {
  test('the target: path, args (UTF-8, + as space, repeated), postpath percent-decoded', () => {
    let seen: Request | undefined;
    const c = connect(
      leaf((r) => {
        seen = r;
        return '';
      }),
    );
    c.send(get('/a%20b/c%2Fd/?q=caf%C3%A9&q=x+y&empty'));
    assert.equal(seen?.path, '/a%20b/c%2Fd/');
    assert.equal(seen?.uri, '/a%20b/c%2Fd/?q=caf%C3%A9&q=x+y&empty');
    assert.deepEqual(
      [...(seen?.args ?? [])],
      [
        ['q', ['café', 'x y']],
        ['empty', ['']],
      ],
    );
    assert.deepEqual(seen?.prepath, []);
    assert.deepEqual(seen?.postpath, ['a b', 'c/d', '']);
  });

  test('an absolute-form target: the path and query come from the URL', () => {
    let seen: Request | undefined;
    const c = connect(
      leaf((r) => {
        seen = r;
        return '';
      }),
    );
    c.send(get('http://example.com/x/y?z=1'));
    assert.equal(seen?.path, '/x/y');
    assert.deepEqual(seen?.args.get('z'), ['1']);
    assert.deepEqual(seen?.postpath, ['x', 'y']);
  });

  test('getHeader gives the last value; hostname, client address, secure, prePathURL', () => {
    let seen: Request | undefined;
    const root = new Resource();
    root.putChild(
      'p',
      leaf((r) => {
        seen = r;
        return '';
      }),
    );
    const c = connect(root);
    c.send(get('/p/rest', 'X-A: 1\r\nX-A: 2\r\n'));
    assert.equal(seen?.getHeader('x-a'), '2');
    assert.equal(seen?.getHeader('absent'), undefined);
    assert.equal(seen?.getRequestHostname(), 'example.com');
    assert.equal((seen?.getClientAddress() as { host: string } | undefined)?.host, '192.0.2.7');
    assert.equal(seen?.isSecure(), false);
    assert.equal(seen?.prePathURL(), 'http://example.com:8080/p');
    assert.deepEqual(seen?.postpath, ['rest']);
  });

  test('Basic credentials', () => {
    let seen: Request | undefined;
    const c = connect(
      leaf((r) => {
        seen = r;
        return '';
      }),
    );
    const token = Buffer.from('alice:pa:ss').toString('base64');
    c.send(get('/', `Authorization: Basic ${token}\r\n`));
    assert.equal(seen?.getUser(), 'alice');
    assert.equal(seen?.getPassword(), 'pa:ss');
  });

  test('headers cannot change once sent; bad codes and phrases are refused', () => {
    const errors: string[] = [];
    const c = connect(
      leaf((r) => {
        assert.throws(() => r.setResponseCode(99), RangeError);
        assert.throws(() => r.setResponseCode(200, 'OK\r\nX: y'), TypeError);
        assert.throws(() => r.setHeader('Bad Name', 'x'), TypeError);
        assert.throws(() => r.setHeader('X', 'a\nb'), TypeError);
        r.setResponseCode(299, 'Fine Indeed');
        r.write('a');
        for (const f of [
          () => r.setHeader('X', 'y'),
          () => r.setResponseCode(200),
          () => r.addCookie('a', 'b'),
        ]) {
          try {
            f();
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
        r.finish();
        return NOT_DONE_YET;
      }),
    );
    c.send(get('/'));
    assert.equal(errors.length, 3);
    assert.match(errors[0] as string, /headers of GET \/ have been sent/);
    const [reply] = c.replies();
    assert.equal(reply?.status, 299);
    assert.equal(reply?.reason, 'Fine Indeed');
  });

  test('cookies: getCookie reads the request, addCookie writes Set-Cookie lines', () => {
    let got: string | undefined;
    const c = connect(
      leaf((r) => {
        got = r.getCookie('session');
        r.addCookie('a', '1', { path: '/', httpOnly: true });
        r.addCookie('b', '2', { maxAge: 60, secure: true, sameSite: 'None' });
        return '';
      }),
    );
    c.send(get('/', 'Cookie: theme=dark; session=abc\r\n'));
    assert.equal(got, 'abc');
    const setCookies = c
      .replies()[0]
      ?.headers.filter(([n]) => n === 'Set-Cookie')
      .map(([, v]) => v);
    assert.deepEqual(setCookies, [
      'a=1; Path=/; HttpOnly',
      'b=2; Max-Age=60; Secure; SameSite=None',
    ]);
  });

  test('setETag and setLastModified answer a conditional GET with 304 and no body', () => {
    const resource = leaf((r) => {
      if (r.setETag('"v1"') === CACHED) return '';
      if (r.setLastModified(1_000_000) === CACHED) return '';
      return 'fresh';
    });
    const c = connect(resource);
    c.send(get('/', 'If-None-Match: "v1"\r\n'));
    c.send(get('/', 'If-None-Match: "v0"\r\n'));
    c.send(get('/', 'If-Modified-Since: Mon, 12 Jan 1970 13:46:40 GMT\r\n'));
    const [cached, stale, unchanged] = c.replies();
    assert.equal(cached?.status, 304);
    assert.equal(cached?.body, '');
    assert.equal(cached?.header('etag'), '"v1"');
    assert.equal(stale?.status, 200);
    assert.equal(stale?.body, 'fresh');
    assert.equal(stale?.header('last-modified'), 'Mon, 12 Jan 1970 13:46:40 GMT');
    assert.equal(unchanged?.status, 304);
  });

  test('204 and 304 carry no body and no chunking; 1.0 without a length ends with the connection', () => {
    const c = connect(
      leaf((r) => {
        r.setResponseCode(Number(r.args.get('code')?.[0]));
        r.write('ignored');
        r.finish();
        return NOT_DONE_YET;
      }),
    );
    c.send(get('/?code=204') + get('/?code=304'));
    const [a, b] = c.replies();
    assert.equal(a?.status, 204);
    assert.equal(a?.header('content-length'), undefined);
    assert.equal(a?.header('transfer-encoding'), undefined);
    assert.equal(b?.status, 304);
    assert.equal(c.transport.disconnecting, false);

    const old = connect(
      leaf((r) => {
        r.write('streamed ');
        r.write('to the end');
        r.finish();
        return NOT_DONE_YET;
      }),
    );
    old.send(get('/', 'Connection: keep-alive\r\n', 'HTTP/1.0'));
    assert.match(old.output(), /\r\nConnection: close\r\n/);
    assert.ok(old.output().endsWith('\r\n\r\nstreamed to the end'));
    assert.equal(old.transport.disconnecting, true);
  });

  test('writing past the declared Content-Length throws and the connection will close', () => {
    let error: unknown;
    const c = connect(
      leaf((r) => {
        r.setHeader('Content-Length', '3');
        r.write('ab');
        try {
          r.write('cd');
        } catch (e) {
          error = e;
        }
        r.write('c');
        r.finish();
        return NOT_DONE_YET;
      }),
    );
    c.send(get('/'));
    assert.match(String(error), /past its Content-Length \(1 bytes left\)/);
    assert.equal(c.replies()[0]?.body, 'abc');
    assert.equal(c.transport.disconnecting, true);
  });

  test('a resource that sets Connection: close closes the connection after its response', () => {
    const c = connect(
      leaf((r) => {
        r.setHeader('Connection', 'close');
        return 'bye';
      }),
    );
    c.send(get('/') + get('/'));
    assert.equal(c.replies().length, 1);
    assert.equal(c.transport.disconnecting, true);
  });

  test('a rejected promise, a failed Deferred and a wrong return value each give 500, logged', async () => {
    const logs = captureLogs();
    try {
      const c = connect(
        leaf((r) => {
          switch (r.path) {
            case '/promise':
              return Promise.reject(new Error('nope'));
            case '/deferred': {
              const d = new Deferred<string>();
              d.errback(new Error('nope either'));
              return d;
            }
            default:
              return 42 as unknown as string;
          }
        }),
      );
      c.send(get('/promise') + get('/deferred') + get('/number'));
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepEqual(
        c.replies().map((r) => r.status),
        [500, 500, 500],
      );
      const failures = logs.events.filter((e) => e.log_failure !== undefined);
      assert.equal(failures.length, 3);
      const last = failures[2]?.log_failure as { getErrorMessage(): string };
      assert.match(last.getErrorMessage(), /returned number/);
    } finally {
      logs.stop();
    }
  });

  test('displayTracebacks shows the escaped stack in the 500 page', () => {
    const logs = captureLogs();
    try {
      const c = connect(
        leaf(() => {
          throw new Error('<script>x</script>');
        }),
        { displayTracebacks: true },
      );
      c.send(get('/'));
      const body = c.replies()[0]?.body ?? '';
      assert.ok(body.includes('&lt;script&gt;x&lt;/script&gt;'));
      assert.ok(!body.includes('<script>'));
    } finally {
      logs.stop();
    }
  });

  test('an exception after the response began cuts the connection', () => {
    const logs = captureLogs();
    try {
      const c = connect(
        leaf((r) => {
          r.write('partial');
          throw new Error('late');
        }),
      );
      c.send(get('/') + get('/'));
      assert.equal(c.transport.disconnecting, true);
      assert.ok(!c.output().includes('0\r\n\r\n'), 'the chunked body is not terminated');
    } finally {
      logs.stop();
    }
  });

  test('notifyFinish fires after the response is written; finish twice is a warning', () => {
    const logs = captureLogs();
    try {
      let fired = false;
      const c = connect(
        leaf((r) => {
          r.notifyFinish().addCallback(() => {
            fired = true;
          });
          r.write('x');
          r.finish();
          r.finish();
          return NOT_DONE_YET;
        }),
      );
      c.send(get('/'));
      assert.equal(fired, true);
      assert.ok(
        logs.events.some((e) => e.log_level === 'warn' && /twice/.test(String(e.log_format))),
      );
    } finally {
      logs.stop();
    }
  });

  test('the access log writes one Combined Log Format line per request', () => {
    const logs = captureLogs();
    try {
      const c = connect(
        leaf(() => 'hello'),
        { accessLog: true },
      );
      c.send(get('/x?y=1', 'Referer: http://r/\r\nUser-Agent: agent "q"\r\n'));
      const lines = logs.events.filter((e) => e.log_namespace === 'torsion.web.access');
      assert.equal(lines.length, 1);
      assert.equal(
        lines[0]?.log_line,
        '192.0.2.7 - - [09/Sep/2001:01:46:40 +0000] "GET /x?y=1 HTTP/1.1" 200 5 "http://r/" "agent \\"q\\""',
      );
    } finally {
      logs.stop();
    }
  });

  test('a push producer writes the body, paused while the transport is full, stopped if the client goes', () => {
    const events: string[] = [];
    let request: Request | undefined;
    const c = connect(
      leaf((r) => {
        request = r;
        r.registerProducer(
          {
            pauseProducing: () => events.push('pause'),
            resumeProducing: () => events.push('resume'),
            stopProducing: () => events.push('stop'),
          },
          true,
        );
        r.write('part');
        return NOT_DONE_YET;
      }),
    );
    c.send(get('/'));
    assert.equal(c.transport.producer !== undefined, true);
    const registered = c.transport.producer as IPushProducer;
    registered.pauseProducing();
    registered.resumeProducing();
    request?.unregisterProducer();
    assert.equal(c.transport.producer, undefined);
    request?.registerProducer(
      {
        pauseProducing: () => events.push('pause2'),
        resumeProducing: () => events.push('resume2'),
        stopProducing: () => events.push('stop2'),
      },
      true,
    );
    assert.throws(
      () =>
        request?.registerProducer(
          { pauseProducing() {}, resumeProducing() {}, stopProducing() {} },
          true,
        ),
      /already has a producer/,
    );
    c.transport.loseConnection();
    assert.deepEqual(events, ['pause', 'resume', 'stop2']);
  });

  test('Site refuses options out of range, naming them', () => {
    const root = new Resource();
    assert.throws(() => connect(root, { timeout: 0 }), /timeout must be a positive number/);
    assert.throws(() => connect(root, { headersTimeout: -1 }), /headersTimeout/);
    assert.throws(
      () => connect(root, { maxHeaderCount: 0 }),
      /maxHeaderCount must be an integer of at least 1/,
    );
    assert.throws(() => connect(root, { maxRequestBodySize: 1.5 }), /maxRequestBodySize/);
    assert.throws(
      () => connect(root, { maxPipelinedRequests: Number.NaN }),
      /maxPipelinedRequests/,
    );
  });
});
