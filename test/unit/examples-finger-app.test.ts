// The application stages of the finger tutorial (docs/tutorial/finger.md:
// stages 11 and 18): makeService with a MemoryReactorClock, the service
// started (where it listens), its protocols driven over StringTransports in
// chunks, and stopService (the ports stop listening, the web site drains).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MultiService } from 'torsion/app';
import { Failure } from 'torsion/defer';
import { ConnectionDone, type IProtocolFactory, IPv4Address } from 'torsion/protocol';
import {
  assertReactorClean,
  CHUNK_SIZES,
  deliverInChunks,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from 'torsion/testing';
import finger11Default, {
  FingerFactory as FingerFactory11,
  makeService as makeService11,
} from '../../examples/finger/finger11.js';
import finger18Default, {
  FingerFactory as FingerFactory18,
  FingerService as FingerService18,
  FingerSetterFactory,
  makeService as makeService18,
} from '../../examples/finger/finger18.js';
import { fetchOne, get, open } from './examples-web-support.js';

const USERS_FILE = fileURLToPath(new URL('../../../examples/finger/etc.users', import.meta.url));
const SIZES = [Infinity, ...CHUNK_SIZES];

/**
 * A MemoryReactorClock whose application is stopped after the test (if it
 * still runs); then nothing may be left on it.
 */
function reactorFor(t: TestContext): {
  reactor: MemoryReactorClock;
  stopAfter(app: MultiService): MultiService;
} {
  const reactor = new MemoryReactorClock();
  const apps: MultiService[] = [];
  t.after(() => {
    for (const app of apps) if (app.running) successResultOf(app.stopService());
    assertReactorClean(reactor);
  });
  return {
    reactor,
    stopAfter(app) {
      apps.push(app);
      return app;
    },
  };
}

/** The factory of the `index`th listenTCP call. */
function factoryOf(reactor: MemoryReactorClock, index: number): IProtocolFactory {
  const record = reactor.tcpServers[index];
  assert.ok(record, `no listenTCP call #${index}`);
  return record[1];
}

/** Sends `text` to a new connection of `factory` in `size`-byte chunks; returns the transport. */
function query(factory: IProtocolFactory, text: string, size = Infinity): StringTransport {
  const transport = new StringTransport();
  const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 50000));
  assert.ok(protocol, 'the factory refused the connection');
  protocol.makeConnection(transport);
  deliverInChunks(protocol, Buffer.from(text), size);
  return transport;
}

/** Sets `user`'s status over a setter connection, which then hangs up. */
function setStatus(factory: IProtocolFactory, user: string, status: string, size = Infinity): void {
  const transport = new StringTransport();
  const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 50001));
  assert.ok(protocol);
  protocol.makeConnection(transport);
  deliverInChunks(protocol, Buffer.from(`${user}\r\n${status}\r\n`), size);
  protocol.connectionLost(new Failure(new ConnectionDone()));
}

/** A temporary users file holding `text`, removed after the test. */
function usersFile(t: TestContext, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-finger-app-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'users');
  writeFileSync(path, text);
  return path;
}

describe('finger, stage 11: an application', () => {
  test('makeService builds a MultiService that listens only once started, on 1079 by default', (t) => {
    const { reactor, stopAfter } = reactorFor(t);
    const app = stopAfter(makeService11({}, reactor));
    assert.equal(app.name, 'finger');
    assert.equal(reactor.tcpServers.length, 0);
    app.startService();
    assert.equal(app.running, true);
    assert.equal(reactor.tcpServers.length, 1);
    const [port, factory, , iface] = reactor.tcpServers[0] ?? [];
    assert.equal(port, 1079);
    assert.equal(iface, '');
    assert.ok(factory instanceof FingerFactory11);
  });

  test('listens where the endpoint option says', (t) => {
    const { reactor, stopAfter } = reactorFor(t);
    stopAfter(makeService11({ endpoint: 'tcp:2079:interface=127.0.0.1' }, reactor)).startService();
    const [port, , , iface] = reactor.tcpServers[0] ?? [];
    assert.deepEqual([port, iface], [2079, '127.0.0.1']);
  });

  test('an unknown option is refused, naming the valid one', () => {
    const reactor = new MemoryReactorClock();
    assert.throws(
      () => makeService11({ port: '79' } as never, reactor),
      /unknown option --port \(valid: --endpoint\)/,
    );
  });

  for (const size of SIZES) {
    test(`answers for moshez, "No such user" for others, and hangs up (${size}-byte chunks)`, (t) => {
      const { reactor, stopAfter } = reactorFor(t);
      stopAfter(makeService11({}, reactor)).startService();
      const factory = factoryOf(reactor, 0);
      const known = query(factory, 'moshez\r\n', size);
      assert.equal(known.value().toString(), 'Happy and well\r\n');
      assert.equal(known.disconnecting, true);
      assert.equal(query(factory, 'nobody\r\n', size).value().toString(), 'No such user\r\n');
    });
  }

  test('stopService stops the port listening, and fires', (t) => {
    const { reactor } = reactorFor(t);
    const app = makeService11({}, reactor);
    app.startService();
    const [port] = reactor.ports;
    assert.equal(port?.listening, true);
    successResultOf(app.stopService());
    assert.equal(port?.stoppedListening, true);
    assert.equal(app.running, false);
  });

  test('the default export makes the same application, the reactor first', (t) => {
    const { reactor, stopAfter } = reactorFor(t);
    stopAfter(finger11Default(reactor, { endpoint: 'tcp:3079' })).startService();
    assert.equal(reactor.tcpServers[0]?.[0], 3079);
    assert.equal(
      query(factoryOf(reactor, 0), 'moshez\r\n').value().toString(),
      'Happy and well\r\n',
    );
  });
});

describe('finger, stage 18: several protocols sharing one service', () => {
  test('starts the service, then listens for finger on 1079, the setter on 127.0.0.1:1080, the web on 8000', (t) => {
    const { reactor, stopAfter } = reactorFor(t);
    const app = stopAfter(makeService18({ users: USERS_FILE }, reactor));
    assert.deepEqual(
      [...app].map((s) => s.name),
      ['users', 'finger', 'setter', 'web'],
    );
    app.startService();
    assert.deepEqual(
      reactor.tcpServers.map(([port, , , iface]) => [port, iface]),
      [
        [1079, ''],
        [1080, '127.0.0.1'],
        [8000, ''],
      ],
    );
    assert.ok(factoryOf(reactor, 0) instanceof FingerFactory18);
    assert.ok(factoryOf(reactor, 1) instanceof FingerSetterFactory);
    assert.ok(app.getServiceNamed('users') instanceof FingerService18);
  });

  test('listens where the options say', (t) => {
    const { reactor, stopAfter } = reactorFor(t);
    stopAfter(
      makeService18(
        { users: USERS_FILE, finger: 'tcp:2079', setter: 'tcp:2080', web: 'tcp:8080' },
        reactor,
      ),
    ).startService();
    assert.deepEqual(
      reactor.tcpServers.map(([port]) => port),
      [2079, 2080, 8080],
    );
  });

  test('an unknown option is refused, naming the valid ones', () => {
    assert.throws(
      () => makeService18({ port: '79' } as never, new MemoryReactorClock()),
      /unknown option --port \(valid: --finger, --setter, --web, --users\)/,
    );
  });

  for (const size of SIZES) {
    test(`finger answers from the file; a status set over the setter wins over it (${size}-byte chunks)`, (t) => {
      const { reactor, stopAfter } = reactorFor(t);
      stopAfter(makeService18({ users: USERS_FILE }, reactor)).startService();
      const finger = factoryOf(reactor, 0);
      assert.equal(query(finger, 'shawn\r\n', size).value().toString(), 'alive\r\n');
      assert.equal(query(finger, 'moshez\r\n', size).value().toString(), 'happy and well\r\n');
      assert.equal(query(finger, 'nobody\r\n', size).value().toString(), 'No such user\r\n');
      setStatus(factoryOf(reactor, 1), 'moshez', 'at lunch', size);
      setStatus(factoryOf(reactor, 1), 'glyph', 'new here', size);
      assert.equal(query(finger, 'moshez\r\n', size).value().toString(), 'at lunch\r\n');
      assert.equal(query(finger, 'glyph\r\n', size).value().toString(), 'new here\r\n');
    });
  }

  test('the web site lists the users of the file and of the setter, and shows each status, escaped', async (t) => {
    const { reactor, stopAfter } = reactorFor(t);
    const file = usersFile(t, 'moshez: happy and well\na&b: <b>bold</b>\n');
    stopAfter(makeService18({ users: file }, reactor)).startService();
    setStatus(factoryOf(reactor, 1), 'glyph', 'new here');
    const site = factoryOf(reactor, 2);
    const list = await fetchOne(site, get('/'));
    assert.equal(list.status, 200);
    assert.match(list.body, /<a href="\/moshez">moshez<\/a>/);
    assert.match(list.body, /<a href="\/a%26b">a&amp;b<\/a>/);
    assert.match(list.body, /<a href="\/glyph">glyph<\/a>/);
    const one = await fetchOne(site, get('/a%26b'));
    assert.match(one.body, /<p>&lt;b&gt;bold&lt;\/b&gt;<\/p>/);
    assert.match((await fetchOne(site, get('/glyph'))).body, /<p>new here<\/p>/);
  });

  test('the TimerService re-reads the file every 30 seconds', (t) => {
    const { reactor, stopAfter } = reactorFor(t);
    const file = usersFile(t, 'moshez: first\n');
    stopAfter(makeService18({ users: file }, reactor)).startService();
    const finger = factoryOf(reactor, 0);
    writeFileSync(file, 'moshez: second\n');
    reactor.advance(29);
    assert.equal(query(finger, 'moshez\r\n').value().toString(), 'first\r\n');
    reactor.advance(1);
    assert.equal(query(finger, 'moshez\r\n').value().toString(), 'second\r\n');
  });

  test('a users file that cannot be read fails the start before anything listens', (t) => {
    const { reactor } = reactorFor(t);
    const app = makeService18({ users: join(tmpdir(), 'no-such-dir-torsion', 'users') }, reactor);
    assert.throws(() => app.startService(), /ENOENT/);
    assert.equal(reactor.tcpServers.length, 0);
  });

  test('stopService stops every port, then waits for the web site to close its connections', (t) => {
    const { reactor } = reactorFor(t);
    const app = makeService18({ users: USERS_FILE }, reactor);
    app.startService();
    const idle = open(factoryOf(reactor, 2), get('/moshez'));
    assert.equal(idle.replies()[0]?.status, 200);
    assert.equal(idle.transport.connected, true, 'a keep-alive connection stays open');
    const stopped = app.stopService();
    assert.deepEqual(
      reactor.ports.map((p) => p.stoppedListening),
      [true, true, true],
    );
    assert.equal(idle.transport.connected, false, 'the drain closed the idle connection');
    successResultOf(stopped);
    assert.equal(app.running, false);
  });

  test('the default export makes the same application, the reactor first', (t) => {
    const { reactor, stopAfter } = reactorFor(t);
    stopAfter(finger18Default(reactor, { users: USERS_FILE })).startService();
    assert.equal(reactor.tcpServers.length, 3);
  });
});
