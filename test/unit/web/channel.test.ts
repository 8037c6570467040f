// HTTPChannel on a StringTransport: responses in order, keep-alive and close,
// request bodies, errors with the status the RFCs assign, 100-continue.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureLogs } from '../../../src/logger/capture.js';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, Redirect, Resource } from '../../../src/web/resource.js';
import { connect, describeSplits } from './_server.js';

class Hello extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `hello ${request.path}`;
  }
  render_POST(request: Request): string {
    return `got ${request.content.read().toString('latin1')}`;
  }
}

const GET = (path = '/', extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: example.com\r\n${extra}\r\n`;

describeSplits('HTTPChannel', () => {
  test('answers a GET with status, Date, Server, Content-Type and Content-Length, and keeps the connection', () => {
    const c = connect(new Hello());
    c.send(GET('/a/b'));
    const [r] = c.replies();
    assert.ok(r);
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(r.body, 'hello /a/b');
    assert.equal(r.header('content-length'), '10');
    assert.equal(r.header('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.header('server'), 'Torsion');
    assert.equal(r.header('date'), 'Sun, 09 Sep 2001 01:46:40 GMT');
    assert.equal(r.header('connection'), undefined);
    assert.equal(c.transport.disconnecting, false);
  });

  test('pipelined requests in one read are answered in order', () => {
    const c = connect(new Hello());
    c.send(GET('/1') + GET('/2') + GET('/3'));
    assert.deepEqual(
      c.replies().map((r) => r.body),
      ['hello /1', 'hello /2', 'hello /3'],
    );
  });

  test('Connection: close is answered with Connection: close, then the connection closes', () => {
    const c = connect(new Hello());
    c.send(GET('/', 'Connection: close\r\n') + GET('/ignored'));
    const replies = c.replies();
    assert.equal(replies.length, 1);
    assert.equal(replies[0]?.header('connection'), 'close');
    assert.equal(c.transport.disconnecting, true);
  });

  test('HTTP/1.0 closes unless it asks for keep-alive', () => {
    const a = connect(new Hello());
    a.send('GET / HTTP/1.0\r\n\r\n');
    assert.equal(a.replies()[0]?.header('connection'), 'close');
    assert.equal(a.transport.disconnecting, true);
    const b = connect(new Hello());
    b.send(
      'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    );
    assert.deepEqual(
      b.replies().map((r) => [r.body, r.header('connection')]),
      [
        ['hello /', 'keep-alive'],
        ['hello /x', 'keep-alive'],
      ],
    );
    assert.equal(b.transport.disconnecting, false);
  });

  test('a request body (length and chunked) is read whole before rendering', () => {
    const c = connect(new Hello());
    c.send('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab');
    assert.equal(c.replies().length, 0);
    c.send('cde');
    c.send(
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n2\r\nw!\r\n0\r\n\r\n',
    );
    assert.deepEqual(
      c.replies().map((r) => r.body),
      ['got abcde', 'got xyzw!'],
    );
  });

  test('HEAD gets the headers GET would, without the body', () => {
    const c = connect(new Hello());
    c.send(`HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n${GET('/x')}`);
    const [head, get] = c.replies(['HEAD', 'GET']);
    assert.equal(head?.body, '');
    assert.equal(head?.header('content-length'), '8');
    assert.equal(get?.body, 'hello /x');
  });

  test('a method without a render function gets 405 with Allow; an unknown one 501', () => {
    const c = connect(new Hello());
    c.send(`DELETE / HTTP/1.1\r\nHost: h\r\n\r\nBREW / HTTP/1.1\r\nHost: h\r\n\r\n`);
    const [del, brew] = c.replies();
    assert.equal(del?.status, 405);
    assert.equal(del?.header('allow'), 'GET, HEAD, POST');
    assert.equal(brew?.status, 501);
  });

  test('a malformed request gets 400 after the answers before it, then the connection closes', () => {
    const logs = captureLogs();
    try {
      const c = connect(new Hello());
      c.send(`${GET('/ok')}GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n`);
      const replies = c.replies();
      assert.deepEqual(
        replies.map((r) => [r.status, r.header('connection')]),
        [
          [200, undefined],
          [400, 'close'],
        ],
      );
      assert.equal(c.transport.disconnecting, true);
      assert.ok(
        logs.events.some(
          (e) => e.log_level === 'debug' && /Bad request/.test(String(e.log_format)),
        ),
      );
    } finally {
      logs.stop();
    }
  });

  test('an HTTP/1.1 request without Host, or with two, gets 400', () => {
    for (const head of ['GET / HTTP/1.1\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n']) {
      const c = connect(new Hello());
      c.send(head);
      assert.equal(c.replies()[0]?.status, 400, head);
      assert.equal(c.transport.disconnecting, true);
    }
  });

  test('Expect: 100-continue gets 100 Continue before the body is read', () => {
    const c = connect(new Hello());
    c.send('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
    assert.equal(c.output(), 'HTTP/1.1 100 Continue\r\n\r\n');
    c.send('hi');
    const [cont, final] = c.replies(['POST']);
    assert.equal(cont?.status, 100);
    assert.equal(final?.body, 'got hi');
  });

  test('NOT_DONE_YET: written later, chunked without a Content-Length', () => {
    let pending: Request | undefined;
    class Later extends Resource {
      override isLeaf = true;
      render_GET(request: Request): typeof NOT_DONE_YET {
        pending = request;
        return NOT_DONE_YET;
      }
    }
    const c = connect(new Later());
    c.send(GET('/') + GET('/second'));
    assert.equal(c.output(), '');
    const first = pending;
    first?.write('ab');
    first?.write('');
    first?.write(Buffer.from('cd'));
    first?.finish();
    assert.ok(c.output().includes('Transfer-Encoding: chunked\r\n'));
    assert.ok(c.output().endsWith('2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n'));
    assert.notEqual(pending, first);
    pending?.finish();
    const replies = c.replies();
    assert.deepEqual(
      replies.map((r) => r.body),
      ['abcd', ''],
    );
    assert.equal(replies[1]?.header('content-length'), '0');
  });

  test('a render that throws gets a 500 without the traceback, logged once; the connection goes on', () => {
    class Broken extends Resource {
      override isLeaf = true;
      render_GET(request: Request): string {
        if (request.path === '/boom') throw new Error('kaboom');
        return 'fine';
      }
    }
    const logs = captureLogs();
    try {
      const c = connect(new Broken());
      c.send(GET('/boom') + GET('/next'));
      const [boom, next] = c.replies();
      assert.equal(boom?.status, 500);
      assert.ok(!boom?.body.includes('kaboom'));
      assert.equal(next?.body, 'fine');
      const errors = logs.events.filter((e) => e.log_failure !== undefined);
      assert.equal(errors.length, 1);
    } finally {
      logs.stop();
    }
  });

  test('a render that returns a Promise answers when it settles', async () => {
    class Async extends Resource {
      override isLeaf = true;
      async render_GET(): Promise<string> {
        await Promise.resolve();
        return 'later';
      }
    }
    const c = connect(new Async());
    c.send(GET());
    assert.equal(c.output(), '');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(c.replies()[0]?.body, 'later');
  });

  test('byte by byte gives the same output as one read', () => {
    const input = `${GET('/a')}POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n${GET('/c')}`;
    const whole = connect(new Hello());
    whole.send(input);
    const split = connect(new Hello());
    for (const byte of Buffer.from(input, 'latin1')) split.send(Buffer.of(byte));
    assert.equal(split.output(), whole.output());
    assert.equal(whole.replies().length, 3);
  });

  test('readForm() reads an urlencoded body: UTF-8, + as space, repeated names in order', () => {
    class Form extends Resource {
      override isLeaf = true;
      render_POST(request: Request): string {
        return JSON.stringify([...request.content.readForm()]);
      }
    }
    const c = connect(new Form());
    const body = Buffer.from('name=J%C3%B6rg+M&tag=a&tag=b&caf\u00e9=1', 'utf8');
    c.send(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n`);
    c.send(body);
    assert.equal(
      Buffer.from(c.replies()[0]?.body ?? '', 'latin1').toString('utf8'),
      JSON.stringify([
        ['name', ['Jörg M']],
        ['tag', ['a', 'b']],
        ['café', ['1']],
      ]),
    );
  });

  test('Redirect answers 302 (or its code) with Location and an escaped link', () => {
    const root = new Resource();
    root.putChild('old', new Redirect('/new?a=1&b="2"'));
    root.putChild('gone', new Redirect('https://example.org/', 301));
    const c = connect(root);
    c.send(GET('/old') + GET('/gone'));
    const [old, gone] = c.replies();
    assert.equal(old?.status, 302);
    assert.equal(old?.header('location'), '/new?a=1&b="2"');
    assert.ok(old?.body.includes('href="/new?a=1&amp;b=&quot;2&quot;"'));
    assert.equal(gone?.status, 301);
    assert.equal(gone?.header('location'), 'https://example.org/');
  });

  test('a pipelined Connection: close does not close the responses before it', () => {
    const c = connect(new Hello());
    c.send(GET('/1') + GET('/2') + GET('/3', 'Connection: close\r\n') + GET('/dropped'));
    const replies = c.replies();
    assert.deepEqual(
      replies.map((r) => [r.body, r.header('connection')]),
      [
        ['hello /1', undefined],
        ['hello /2', undefined],
        ['hello /3', 'close'],
      ],
    );
    assert.equal(c.transport.disconnecting, true);
  });

  test('a pipelined malformed request: the answers before it, then 400', () => {
    const logs = captureLogs();
    try {
      const c = connect(new Hello());
      c.send(`${GET('/1')}${GET('/2')}GET /bad\x01 HTTP/1.1\r\nHost: h\r\n\r\n`);
      assert.deepEqual(
        c.replies().map((r) => [r.status, r.header('connection')]),
        [
          [200, undefined],
          [200, undefined],
          [400, 'close'],
        ],
      );
    } finally {
      logs.stop();
    }
  });
});
