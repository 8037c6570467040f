// The web stages of the finger tutorial (docs/tutorial/finger.md: stages 15,
// 20 and 22) run against a MemoryReactorClock: where they listen, what the
// finger protocol still answers, and what their Site answers, each request
// delivered whole and in chunks over a StringTransport.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Deferred, fail, succeed } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { type IProtocolFactory, IPv4Address } from 'torsion/protocol';
import { Clock } from 'torsion/task';
import { CHUNK_SIZES, deliverInChunks, StringTransport, successResultOf } from 'torsion/testing';
import { Site } from 'torsion/web';
import { main as finger15 } from '../../examples/finger/finger15.js';
import {
  FingerFactoryFromService,
  FingerService as FingerService20,
  main as finger20,
  type IFingerService,
  UserStatusTree,
} from '../../examples/finger/finger20.js';
import { main as finger22 } from '../../examples/finger/finger22.js';
import {
  fetchOne,
  get,
  open,
  type Reply,
  reactorFor,
  settle,
  tcpFactory,
} from './examples-web-support.js';

const TLS_DIR = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url));
const KEY_FILE = `${TLS_DIR}localhost.key`;
const CERT_FILE = `${TLS_DIR}cas/localhost.pem`;
const USERS_FILE = fileURLToPath(new URL('../../../examples/finger/etc.users', import.meta.url));
const SIZES = [Infinity, ...CHUNK_SIZES];

/** A temporary users file holding `text`, removed after the test. */
function usersFile(t: TestContext, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-finger-web-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'users');
  writeFileSync(path, text);
  return path;
}

/** What a finger factory answers to `line` (sent whole). */
function finger(factory: IProtocolFactory, line: string): string {
  const transport = new StringTransport();
  const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 50000));
  assert.ok(protocol);
  protocol.makeConnection(transport);
  deliverInChunks(protocol, Buffer.from(line), Infinity);
  return transport.value().toString();
}

/** The response to GET `target`, the same at every chunk size. */
async function page(site: IProtocolFactory, target: string): Promise<Reply> {
  const first = await fetchOne(site, get(target));
  for (const size of CHUNK_SIZES) {
    const reply = await fetchOne(site, get(target), size);
    assert.deepEqual([reply.status, reply.body], [first.status, first.body], `${size}-byte chunks`);
  }
  return first;
}

/** The body of a reply decoded as UTF-8. */
const text = (reply: Reply): string => Buffer.from(reply.body, 'latin1').toString('utf8');

const TRICKY_USERS =
  'moshez: happy and well\n' + 'a&b: <script>alert(1)</script>\n' + 'zoë: "quoted" & \'single\'\n';

describe('finger, stage 15: the users on the web', () => {
  test('listens for finger on 1079 and with a Site on 8000 by default', async (t) => {
    const reactor = reactorFor(t);
    const ports = successResultOf(finger15(reactor, { usersFile: USERS_FILE }));
    assert.deepEqual(
      reactor.tcpServers.map(([port, , , iface]) => [port, iface]),
      [
        [1079, ''],
        [8000, ''],
      ],
    );
    assert.deepEqual(ports, reactor.ports);
    const site = tcpFactory(reactor, 1);
    assert.ok(site instanceof Site);
    assert.equal(site.clock, reactor);
  });

  test('listens where its endpoint descriptions say', async (t) => {
    const reactor = reactorFor(t);
    finger15(reactor, {
      endpoint: 'tcp:0:interface=127.0.0.1',
      webEndpoint: 'tcp:8080:interface=127.0.0.1',
      usersFile: USERS_FILE,
    });
    assert.deepEqual(
      reactor.tcpServers.map(([port, , , iface]) => [port, iface]),
      [
        [0, '127.0.0.1'],
        [8080, '127.0.0.1'],
      ],
    );
  });

  test('the finger server answers from the file, as in stage 14', async (t) => {
    const reactor = reactorFor(t);
    finger15(reactor, { usersFile: USERS_FILE });
    assert.equal(finger(tcpFactory(reactor), 'shawn\r\n'), 'alive\r\n');
    assert.equal(finger(tcpFactory(reactor), 'nobody\r\n'), 'No such user\r\n');
  });

  test('/ lists every user with their status, escaped, each linked to its page', async (t) => {
    const reactor = reactorFor(t);
    finger15(reactor, { usersFile: usersFile(t, TRICKY_USERS) });
    const reply = await page(tcpFactory(reactor, 1), '/');
    assert.equal(reply.status, 200);
    assert.equal(reply.header('Content-Type'), 'text/html; charset=utf-8');
    assert.ok(!reply.body.includes('<script'), reply.body);
    assert.deepEqual(text(reply).match(/<li>.*<\/li>/g), [
      '<li><a href="/moshez">moshez</a>: happy and well</li>',
      '<li><a href="/a%26b">a&amp;b</a>: &lt;script&gt;alert(1)&lt;/script&gt;</li>',
      '<li><a href="/zo%C3%AB">zoë</a>: &quot;quoted&quot; &amp; &#39;single&#39;</li>',
    ]);
  });

  test("/USER shows the user's status, escaped; the link of / leads there", async (t) => {
    const reactor = reactorFor(t);
    finger15(reactor, { usersFile: usersFile(t, TRICKY_USERS) });
    const site = tcpFactory(reactor, 1);
    const moshez = await page(site, '/moshez');
    assert.equal(moshez.status, 200);
    assert.match(moshez.body, /<h1>moshez<\/h1>\n<p>happy and well<\/p>/);
    const tricky = await page(site, '/a%26b');
    assert.equal(tricky.status, 200);
    assert.match(tricky.body, /<title>a&amp;b<\/title>/);
    assert.match(tricky.body, /<p>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/p>/);
    assert.match(text(await page(site, '/zo%C3%AB')), /<h1>zoë<\/h1>/);
    // A user's page is a leaf: the rest of the path is its own business.
    assert.match((await page(site, '/moshez/more')).body, /<h1>moshez<\/h1>/);
  });

  test('/NOBODY is 404 "No such user", with the name escaped', async (t) => {
    const reactor = reactorFor(t);
    finger15(reactor, { usersFile: USERS_FILE });
    const reply = await page(tcpFactory(reactor, 1), '/%3Cb%3Enobody');
    assert.equal(reply.status, 404);
    assert.match(reply.body, /<h1>&lt;b&gt;nobody<\/h1>\n<p>No such user<\/p>/);
  });

  test('the pages follow the file as the service re-reads it every 30 seconds', async (t) => {
    const reactor = reactorFor(t);
    const path = usersFile(t, 'moshez: happy and well\n');
    finger15(reactor, { usersFile: path });
    const site = tcpFactory(reactor, 1);
    writeFileSync(path, 'moshez: giving a tutorial\nshawn: alive\n');
    reactor.advance(30);
    assert.match((await page(site, '/moshez')).body, /<p>giving a tutorial<\/p>/);
    assert.equal((await page(site, '/shawn')).status, 200);
    assert.equal(text(await page(site, '/')).match(/<li>/g)?.length, 2);
  });

  test('POST is refused with 405 and Allow: the pages are read-only', async (t) => {
    const reactor = reactorFor(t);
    finger15(reactor, { usersFile: USERS_FILE });
    const connection = open(
      tcpFactory(reactor, 1),
      'POST /moshez HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
    );
    const [reply] = connection.replies(['POST']);
    connection.close();
    assert.equal(reply?.status, 405);
    assert.equal(reply?.header('Allow'), 'GET, HEAD');
  });

  test('a users file that cannot be read stops main before it listens', async (t) => {
    const reactor = reactorFor(t);
    assert.throws(() => finger15(reactor, { usersFile: '/nonexistent/users' }), /ENOENT/);
    assert.deepEqual(reactor.tcpServers, []);
  });
});

describe('finger, stage 20: a tree of resources over a service', () => {
  test('listens for finger on 1079 and with a Site on 8000 by default', async (t) => {
    const reactor = reactorFor(t);
    successResultOf(finger20(reactor, { usersFile: USERS_FILE }));
    assert.deepEqual(
      reactor.tcpServers.map(([port]) => port),
      [1079, 8000],
    );
    assert.ok(tcpFactory(reactor, 0) instanceof FingerFactoryFromService);
    assert.ok(tcpFactory(reactor, 1) instanceof Site);
    assert.equal(finger(tcpFactory(reactor), 'moshez\r\n'), 'happy and well\r\n');
  });

  test('/ lists the users, each a link to its page, names escaped and percent-encoded', async (t) => {
    const reactor = reactorFor(t);
    finger20(reactor, { usersFile: usersFile(t, TRICKY_USERS) });
    const reply = await page(tcpFactory(reactor, 1), '/');
    assert.equal(reply.status, 200);
    assert.equal(reply.header('Content-Type'), 'text/html; charset=utf-8');
    assert.match(reply.body, /<h1>Users<\/h1>/);
    assert.deepEqual(text(reply).match(/<li>.*<\/li>/g), [
      '<li><a href="/moshez">moshez</a></li>',
      '<li><a href="/a%26b">a&amp;b</a></li>',
      '<li><a href="/zo%C3%AB">zoë</a></li>',
    ]);
    // Written in two pieces with NOT_DONE_YET, so sent chunked.
    assert.equal(reply.header('Transfer-Encoding'), 'chunked');
  });

  test('/USER shows the user\'s status, escaped; an unknown user\'s is "No such user"', async (t) => {
    const reactor = reactorFor(t);
    finger20(reactor, { usersFile: usersFile(t, TRICKY_USERS) });
    const site = tcpFactory(reactor, 1);
    const tricky = await page(site, '/a%26b');
    assert.equal(tricky.status, 200);
    assert.match(
      tricky.body,
      /<h1>a&amp;b<\/h1>\n<p>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/p>/,
    );
    const nobody = await page(site, '/nobody');
    assert.equal(nobody.status, 200);
    assert.match(nobody.body, /<h1>nobody<\/h1>\n<p>No such user<\/p>/);
    assert.equal((await page(site, '/moshez/more')).status, 404);
  });

  test('HEAD / answers the headers of GET / without a body', async (t) => {
    const reactor = reactorFor(t);
    finger20(reactor, { usersFile: USERS_FILE });
    const connection = open(tcpFactory(reactor, 1), get('/').replace('GET', 'HEAD'));
    const [reply] = connection.replies(['HEAD']);
    connection.close();
    assert.equal(reply?.status, 200);
    assert.equal(reply?.body, '');
  });

  test('the pages wait for the service: nothing is sent until its Deferreds fire', async () => {
    // A service whose answers come later: each call gets its own Deferred.
    const users: Array<Deferred<string[]>> = [];
    const statuses: Array<Deferred<string>> = [];
    const service: IFingerService = {
      getUsers: () => {
        users.push(new Deferred());
        return users.at(-1) as Deferred<string[]>;
      },
      getUser: () => {
        statuses.push(new Deferred());
        return statuses.at(-1) as Deferred<string>;
      },
    };
    const site = new Site(new UserStatusTree(service), { clock: new Clock() });
    for (const size of SIZES) {
      const list = open(site, get('/'), size);
      const one = open(site, get('/moshez'), size);
      await settle();
      assert.equal(list.output(), '');
      assert.equal(one.output(), '');
      users.at(-1)?.callback(['moshez', 'shawn']);
      statuses.at(-1)?.callback('later');
      await settle();
      assert.deepEqual(text(list.replies()[0] as Reply).match(/<li>.*<\/li>/g), [
        '<li><a href="/moshez">moshez</a></li>',
        '<li><a href="/shawn">shawn</a></li>',
      ]);
      assert.match(one.replies()[0]?.body ?? '', /<p>later<\/p>/);
      list.close();
      one.close();
    }
  });

  test('an answer that comes after the client left is dropped, and the site keeps serving', async () => {
    const users = new Deferred<string[]>();
    const service: IFingerService = { getUsers: () => users, getUser: () => succeed('fine') };
    const site = new Site(new UserStatusTree(service), { clock: new Clock() });
    const gone = open(site, get('/'));
    gone.close();
    users.callback(['moshez']);
    await settle();
    assert.equal(gone.output(), '');
    assert.match((await fetchOne(site, get('/x'))).body, /<p>fine<\/p>/);
  });

  test('a failing service gives a 500 page, without the error, and the site keeps serving', async () => {
    const service: IFingerService = {
      getUsers: () => fail(new Error('the users database is down')),
      getUser: (user) =>
        user === 'broken' ? fail(new Error('the users database is down')) : succeed('fine'),
    };
    const site = new Site(new UserStatusTree(service), { clock: new Clock() });
    const logs = captureLogs();
    try {
      for (const target of ['/', '/broken']) {
        const reply = await fetchOne(site, get(target));
        assert.equal(reply.status, 500, target);
        assert.ok(!reply.body.includes('database'), reply.body);
      }
      assert.match((await fetchOne(site, get('/ok'))).body, /<p>fine<\/p>/);
    } finally {
      logs.stop();
    }
    // Each failure is logged once, with its error.
    const errors = logs.events.filter((event) => event.log_level === 'critical');
    assert.equal(errors.length, 2);
    assert.ok(
      errors.every((event) => String(event.log_failure?.value).includes('database is down')),
    );
  });

  test('FingerService.getUsers gives the names of the file, in order', async (t) => {
    const clock = new Clock();
    const service = new FingerService20(usersFile(t, TRICKY_USERS), clock);
    service.startService();
    assert.deepEqual(successResultOf(service.getUsers()), ['moshez', 'a&b', 'zoë']);
    service.stopService();
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});

describe('finger, stage 22: the web site over HTTPS too', () => {
  const https = `ssl:8443:privateKey=${KEY_FILE}:certKey=${CERT_FILE}`;

  test('serves one Site over HTTP and over TLS with the key and certificate of the files', async (t) => {
    const reactor = reactorFor(t);
    const ports = successResultOf(
      finger22(reactor, { usersFile: USERS_FILE, httpsEndpoint: https }),
    );
    assert.equal(ports.length, 3);
    assert.deepEqual(
      reactor.tcpServers.map(([port]) => port),
      [1079, 8000],
    );
    assert.equal(reactor.sslServers.length, 1);
    const [port, factory, context, , iface] = reactor.sslServers[0] ?? [];
    assert.equal(port, 8443);
    assert.equal(iface, '');
    assert.equal(factory, tcpFactory(reactor, 1), 'the same Site serves both');
    assert.equal(String(context?.key), readFileSync(KEY_FILE, 'utf8'));
    assert.match(String(context?.cert), /-----BEGIN CERTIFICATE-----/);
    assert.ok(readFileSync(CERT_FILE, 'utf8').includes(String(context?.cert).trim()));
  });

  test('the site answers as stage 20 does', async (t) => {
    const reactor = reactorFor(t);
    finger22(reactor, { usersFile: USERS_FILE, httpsEndpoint: https });
    const site = reactor.sslServers[0]?.[1];
    assert.ok(site);
    assert.match((await page(site, '/')).body, /<a href="\/shawn">shawn<\/a>/);
    assert.match((await page(site, '/shawn')).body, /<p>alive<\/p>/);
    assert.equal(finger(tcpFactory(reactor), 'shawn\r\n'), 'alive\r\n');
  });

  test('a key file that cannot be read stops main, naming the file', async (t) => {
    const reactor = reactorFor(t);
    assert.throws(
      () =>
        finger22(reactor, {
          usersFile: USERS_FILE,
          httpsEndpoint: 'ssl:8443:privateKey=/nonexistent/key.pem',
        }),
      /\/nonexistent\/key\.pem/,
    );
    assert.deepEqual(reactor.tcpServers, [], 'nothing listens');
    assert.deepEqual(reactor.sslServers, []);
    assert.deepEqual(reactor.getDelayedCalls(), [], 'the service did not start');
  });
});
