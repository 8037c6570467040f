// The web examples (examples/web-hello.ts, examples/web-form.ts) run
// against a MemoryReactorClock: where they listen, and what the Site they
// listen with answers, each request delivered whole and in chunks of 1, 2,
// 3, 5, 8 and 64 bytes over a StringTransport.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { IProtocolFactory } from 'torsion/protocol';
import { CHUNK_SIZES } from 'torsion/testing';
import { Resource, Site } from 'torsion/web';
import {
  main as formMain,
  GuestBook,
  MAX_ENTRIES,
  MAX_NAME,
  makeSite as makeFormSite,
} from '../../examples/web-form.js';
import { main as helloMain } from '../../examples/web-hello.js';
import { escapeHtml } from '../../src/web/_html.js';
import {
  exchange,
  fetchOne,
  get,
  postForm,
  type Reply,
  reactorFor,
  tcpFactory,
} from './examples-web-support.js';

const SIZES = [Infinity, ...CHUNK_SIZES];

/** The one response to `raw`, which must be the same whatever the chunk size. */
async function fetchAtEverySize(
  site: IProtocolFactory,
  raw: string,
  method = 'GET',
): Promise<Reply> {
  const first = await fetchOne(site, raw, Infinity, method);
  for (const size of CHUNK_SIZES) {
    const reply = await fetchOne(site, raw, size, method);
    assert.deepEqual(
      [reply.status, reply.headers, reply.body],
      [first.status, first.headers, first.body],
      `the response differs with ${size}-byte chunks`,
    );
  }
  return first;
}

describe('web-hello', () => {
  test('listens with a Site on port 8080 of every interface by default', async (t) => {
    const reactor = reactorFor(t);
    const port = helloMain(reactor);
    const [portNumber, factory, backlog, iface] = reactor.tcpServers[0] ?? [];
    assert.equal(portNumber, 8080);
    assert.equal(backlog, 511);
    assert.equal(iface, '');
    assert.ok(factory instanceof Site);
    assert.equal(factory.clock, reactor, 'the site keeps time with the reactor');
    assert.equal(port, reactor.ports[0]);
  });

  test('listens on the port and interface given', async (t) => {
    const reactor = reactorFor(t);
    helloMain(reactor, { port: 0, interface: '127.0.0.1' });
    const [portNumber, , , iface] = reactor.tcpServers[0] ?? [];
    assert.equal(portNumber, 0);
    assert.equal(iface, '127.0.0.1');
  });

  test('/ says hello, in HTML, with a link to /greet', async (t) => {
    const reactor = reactorFor(t);
    helloMain(reactor);
    const reply = await fetchAtEverySize(tcpFactory(reactor), get('/'));
    assert.equal(reply.status, 200);
    assert.equal(reply.header('Content-Type'), 'text/html; charset=utf-8');
    assert.equal(reply.header('Content-Length'), String(Buffer.byteLength(reply.body, 'latin1')));
    assert.match(reply.body, /<h1>Hello, world!<\/h1>/);
    assert.match(reply.body, /<a href="\/greet\?name=Ada">/);
  });

  test('HEAD / has the headers of GET / and no body', async (t) => {
    const reactor = reactorFor(t);
    helloMain(reactor);
    const site = tcpFactory(reactor);
    const got = await fetchOne(site, get('/'));
    const head = await fetchAtEverySize(site, get('/').replace('GET', 'HEAD'), 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.header('Content-Length'), got.header('Content-Length'));
  });

  test('/greet greets the name in the query, percent-decoded as UTF-8', async (t) => {
    const reactor = reactorFor(t);
    helloMain(reactor);
    const reply = await fetchAtEverySize(tcpFactory(reactor), get('/greet?name=%C3%89mile+Zola'));
    assert.equal(reply.status, 200);
    assert.equal(reply.header('Content-Type'), 'text/html; charset=utf-8');
    assert.match(Buffer.from(reply.body, 'latin1').toString('utf8'), /<p>Hello, Émile Zola!<\/p>/);
  });

  test('/greet greets every name given, in order, and the world when none is', async (t) => {
    const reactor = reactorFor(t);
    helloMain(reactor);
    const site = tcpFactory(reactor);
    const many = await fetchOne(site, get('/greet?name=Ada&other=x&name=Grace'));
    assert.deepEqual(many.body.match(/<p>.*<\/p>/g), [
      '<p>Hello, Ada!</p>',
      '<p>Hello, Grace!</p>',
    ]);
    const none = await fetchOne(site, get('/greet'));
    assert.deepEqual(none.body.match(/<p>.*<\/p>/g), ['<p>Hello, world!</p>']);
    const empty = await fetchOne(site, get('/greet?name='));
    assert.deepEqual(empty.body.match(/<p>.*<\/p>/g), ['<p>Hello, !</p>']);
  });

  test('/greet escapes the name: markup in the query stays text', async (t) => {
    const reactor = reactorFor(t);
    helloMain(reactor);
    const name = `<script>alert("x")</script>&'`;
    const reply = await fetchOne(
      tcpFactory(reactor),
      get(`/greet?name=${encodeURIComponent(name)}`),
    );
    assert.equal(reply.status, 200);
    assert.ok(!reply.body.includes('<script'), reply.body);
    assert.match(
      reply.body,
      /<p>Hello, &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;!<\/p>/,
    );
  });

  test('a path the site does not have is 404; a method it does not render is 405 with Allow', async (t) => {
    const reactor = reactorFor(t);
    helloMain(reactor);
    const site = tcpFactory(reactor);
    assert.equal((await fetchOne(site, get('/nothing'))).status, 404);
    assert.equal((await fetchOne(site, get('/greet/'))).status, 404);
    const post = await fetchOne(site, postForm('/greet', 'name=Ada'), Infinity, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.header('Allow'), 'GET, HEAD');
  });

  test('answers pipelined requests on one connection in order', async (t) => {
    const reactor = reactorFor(t);
    helloMain(reactor);
    for (const size of SIZES) {
      const replies = await exchange(
        tcpFactory(reactor),
        get('/greet?name=one') + get('/nothing') + get('/greet?name=two'),
        size,
      );
      assert.deepEqual(
        replies.map((reply) => [reply.status, reply.body.match(/Hello, \w+/)?.[0]]),
        [
          [200, 'Hello, one'],
          [404, undefined],
          [200, 'Hello, two'],
        ],
      );
    }
  });

  test('escapeHtml leaves no markup character, and unescapes back to the text', async () => {
    const unescapeHtml = (html: string): string =>
      html.replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) =>
        name === 'amp'
          ? '&'
          : name === 'lt'
            ? '<'
            : name === 'gt'
              ? '>'
              : name === 'quot'
                ? '"'
                : "'",
      );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const html = escapeHtml(text);
        assert.ok(!/[<>"']/.test(html));
        assert.ok(!/&(?!amp;|lt;|gt;|quot;|#39;)/.test(html));
        assert.equal(unescapeHtml(html), text);
      }),
      { seed: 12, numRuns: 500 },
    );
  });
});

/** The `name=value` part of the response's Set-Cookie header. */
function cookieOf(reply: Reply): string | undefined {
  return reply.header('Set-Cookie')?.split(';')[0];
}

/** The items of the guest book's list, as HTML. */
function itemsOf(reply: Reply): string[] {
  return reply.body.match(/<li>.*<\/li>/g) ?? [];
}

describe('web-form', () => {
  test('listens with a Site on port 8080 of every interface by default, or where told', async (t) => {
    const reactor = reactorFor(t);
    formMain(reactor);
    formMain(reactor, { port: 0, interface: '127.0.0.1' });
    const [[port, factory, , iface], [port2, , , iface2]] = reactor.tcpServers as [
      NonNullable<(typeof reactor.tcpServers)[0]>,
      NonNullable<(typeof reactor.tcpServers)[0]>,
    ];
    assert.deepEqual([port, iface, port2, iface2], [8080, '', 0, '127.0.0.1']);
    assert.ok(factory instanceof Site);
    assert.equal(factory.maxRequestBodySize, 64 * 1024);
  });

  test('GET / shows an empty guest book and a form that posts to /', async (t) => {
    const reactor = reactorFor(t);
    formMain(reactor);
    const reply = await fetchAtEverySize(tcpFactory(reactor), get('/'));
    assert.equal(reply.status, 200);
    assert.equal(reply.header('Content-Type'), 'text/html; charset=utf-8');
    assert.deepEqual(itemsOf(reply), []);
    assert.match(reply.body, /<form method="post" action="\/">/);
    assert.match(reply.body, /<input name="name" value="">/);
    assert.match(reply.body, /<input name="message">/);
    assert.ok(!reply.body.includes('Welcome back'));
  });

  for (const size of SIZES) {
    test(`a POST is kept, answered 303 See Other to /, and the name set in a cookie (${size}-byte chunks)`, async (t) => {
      const reactor = reactorFor(t);
      formMain(reactor);
      const site = tcpFactory(reactor);
      const post = await fetchOne(
        site,
        postForm('/', 'name=Ada+Lovelace&message=Hello%2C+world'),
        size,
        'POST',
      );
      assert.equal(post.status, 303);
      assert.equal(post.reason, 'See Other');
      assert.equal(post.header('Location'), '/');
      assert.equal(post.body, '');
      assert.equal(
        post.header('Set-Cookie'),
        'name=Ada%20Lovelace; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax',
      );
      const page = await fetchOne(site, get('/'), size);
      assert.deepEqual(itemsOf(page), ['<li><b>Ada Lovelace</b>: Hello, world</li>']);
    });
  }

  test('the page welcomes back the name in the cookie and fills it in the form', async (t) => {
    const reactor = reactorFor(t);
    formMain(reactor);
    const site = tcpFactory(reactor);
    const post = await fetchOne(
      site,
      postForm('/', 'name=%C3%89mile&message=Bonjour'),
      Infinity,
      'POST',
    );
    const cookie = cookieOf(post);
    assert.equal(cookie, 'name=%C3%89mile');
    const page = await fetchOne(site, get('/', `Cookie: ${cookie}`));
    const body = Buffer.from(page.body, 'latin1').toString('utf8');
    assert.match(body, /<p>Welcome back, Émile\.<\/p>/);
    assert.match(body, /<input name="name" value="Émile">/);
  });

  test('what visitors write is escaped: no markup of theirs reaches the page', async (t) => {
    const reactor = reactorFor(t);
    formMain(reactor);
    const site = tcpFactory(reactor);
    const name = `"><script>alert(1)</script>`;
    const message = `<img src=x onerror="alert('x')"> & more`;
    const form = `name=${encodeURIComponent(name)}&message=${encodeURIComponent(message)}`;
    const post = await fetchOne(site, postForm('/', form), Infinity, 'POST');
    assert.equal(post.status, 303);
    const page = await fetchOne(site, get('/', `Cookie: ${cookieOf(post)}`));
    assert.ok(!page.body.includes('<script'), page.body);
    assert.ok(!page.body.includes('<img'), page.body);
    assert.deepEqual(itemsOf(page), [
      '<li><b>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</b>: ' +
        '&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt; &amp; more</li>',
    ]);
    assert.match(
      page.body,
      /<input name="name" value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;">/,
    );
    assert.match(page.body, /<p>Welcome back, &quot;&gt;&lt;script&gt;/);
  });

  test('a cookie that is not percent-encoded UTF-8 is ignored', async (t) => {
    const reactor = reactorFor(t);
    formMain(reactor);
    const page = await fetchOne(tcpFactory(reactor), get('/', 'Cookie: name=%E0%A4'));
    assert.equal(page.status, 200);
    assert.ok(!page.body.includes('Welcome back'));
    assert.match(page.body, /<input name="name" value="">/);
  });

  test('a POST without a name or a message is refused with 400, and nothing is kept', async (t) => {
    const reactor = reactorFor(t);
    formMain(reactor);
    const site = tcpFactory(reactor);
    for (const body of [
      '',
      'name=Ada',
      'message=Hi',
      'name=+++&message=Hi',
      'name=Ada&message=%20',
    ]) {
      const reply = await fetchOne(site, postForm('/', body), Infinity, 'POST');
      assert.equal(reply.status, 400, body);
      assert.equal(reply.header('Set-Cookie'), undefined);
      assert.match(reply.body, /Please give a name and a message/);
    }
    assert.deepEqual(itemsOf(await fetchOne(site, get('/'))), []);
  });

  test('names are trimmed and cut to MAX_NAME characters, never inside a character', async (t) => {
    const book = new GuestBook();
    const root = new Resource();
    root.putChild('', book);
    const site = new Site(root, { clock: reactorFor(t) });
    const long = '😀'.repeat(MAX_NAME + 5);
    const reply = await fetchOne(
      site,
      postForm('/', `name=${encodeURIComponent(`  ${long}`)}&message=hi`),
      Infinity,
      'POST',
    );
    assert.equal(reply.status, 303);
    assert.equal(book.entries[0]?.name, '😀'.repeat(MAX_NAME));
    assert.equal(cookieOf(reply), `name=${encodeURIComponent('😀'.repeat(MAX_NAME))}`);
  });

  test(`the book keeps the last ${MAX_ENTRIES} messages`, async (t) => {
    const reactor = reactorFor(t);
    formMain(reactor);
    const site = tcpFactory(reactor);
    for (let i = 1; i <= MAX_ENTRIES + 3; i++) {
      await fetchOne(site, postForm('/', `name=n&message=${i}`), Infinity, 'POST');
    }
    const items = itemsOf(await fetchOne(site, get('/')));
    assert.equal(items.length, MAX_ENTRIES);
    assert.equal(items[0], '<li><b>n</b>: 4</li>');
    assert.equal(items.at(-1), `<li><b>n</b>: ${MAX_ENTRIES + 3}</li>`);
  });

  test('other methods get 405 with Allow; a body over 64 KiB gets 413', async (t) => {
    const reactor = reactorFor(t);
    formMain(reactor);
    const site = tcpFactory(reactor);
    const put = await fetchOne(
      site,
      postForm('/', 'name=a&message=b').replace('POST', 'PUT'),
      Infinity,
      'PUT',
    );
    assert.equal(put.status, 405);
    assert.equal(put.header('Allow'), 'GET, HEAD, POST');
    const big = await fetchOne(
      site,
      postForm('/', `name=a&message=${'x'.repeat(64 * 1024)}`),
      Infinity,
      'POST',
    );
    assert.equal(big.status, 413);
    assert.deepEqual(itemsOf(await fetchOne(site, get('/'))), []);
  });

  test('makeSite gives the same site as main listens with', async (t) => {
    const reactor = reactorFor(t);
    const site = makeFormSite(reactor);
    const reply = await fetchOne(site, get('/'));
    assert.equal(reply.status, 200);
    assert.match(reply.body, /<h1>Guest book<\/h1>/);
  });
});
