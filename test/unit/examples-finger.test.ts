// The stages of the finger tutorial (docs/tutorial/finger.md), each run
// against a MemoryReactorClock: where it listens, and what its protocols
// say, driven byte by byte over StringTransports or a simulated connection
// to the finger client.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Deferred, Failure, fail } from 'torsion/defer';
import type { ServerReactor } from 'torsion/endpoints';
import {
  ConnectionDone,
  ConnectionRefusedError,
  type IListeningPort,
  type IProtocol,
  type IProtocolFactory,
  IPv4Address,
} from 'torsion/protocol';
import { Clock } from 'torsion/task';
import {
  assertNoResult,
  assertReactorClean,
  CHUNK_SIZES,
  ConnectionCompleter,
  connectedServerAndClient,
  deliverInChunks,
  failureResultOf,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from 'torsion/testing';
import {
  FingerClient,
  FingerClientFactory,
  finger,
  main as fingerClient,
} from '../../examples/finger/finger-client.js';
import { main as finger01 } from '../../examples/finger/finger01.js';
import { main as finger02 } from '../../examples/finger/finger02.js';
import { main as finger03 } from '../../examples/finger/finger03.js';
import { main as finger04 } from '../../examples/finger/finger04.js';
import { main as finger05 } from '../../examples/finger/finger05.js';
import {
  FingerFactory as FingerFactory06,
  main as finger06,
} from '../../examples/finger/finger06.js';
import { main as finger07 } from '../../examples/finger/finger07.js';
import {
  FingerFactory as FingerFactory08,
  main as finger08,
} from '../../examples/finger/finger08.js';
import { main as finger12 } from '../../examples/finger/finger12.js';
import {
  FingerService as FingerService13,
  main as finger13,
} from '../../examples/finger/finger13.js';
import {
  FingerService as FingerService14,
  main as finger14,
} from '../../examples/finger/finger14.js';

const USERS_FILE = fileURLToPath(new URL('../../../examples/finger/etc.users', import.meta.url));
const done = (): Failure => new Failure(new ConnectionDone());
const bytes = (text: string): Buffer => Buffer.from(text);

/**
 * A MemoryReactorClock shut down after the test as a real reactor would be:
 * the shutdown triggers run and the ports stop listening. Nothing else may
 * be left behind.
 */
function reactorFor(t: TestContext): MemoryReactorClock {
  const reactor = new MemoryReactorClock();
  t.after(() => {
    reactor.fireSystemEvent('shutdown');
    for (const port of reactor.ports) port.stopListening();
    assertReactorClean(reactor);
  });
  return reactor;
}

/** The factory of the `index`th listenTCP call. */
function factoryOf(reactor: MemoryReactorClock, index = 0): IProtocolFactory {
  const record = reactor.tcpServers[index];
  assert.ok(record, `no listenTCP call #${index}`);
  return record[1];
}

/** A protocol from `factory`, connected to a fresh StringTransport. */
function connect(factory: IProtocolFactory): [IProtocol, StringTransport] {
  const transport = new StringTransport();
  const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 50000));
  assert.ok(protocol, 'the factory refused the connection');
  protocol.makeConnection(transport);
  return [protocol, transport];
}

/** Sends `query` to a new connection of `factory` in `size`-byte chunks; returns what came back. */
function query(factory: IProtocolFactory, text: string, size = Infinity): StringTransport {
  const [protocol, transport] = connect(factory);
  deliverInChunks(protocol, bytes(text), size);
  return transport;
}

/** What a finger factory from stages 8 to 14 can be asked. */
type UserLookup = IProtocolFactory & { getUser(user: string): Deferred<string> };

describe('finger, stage 1', () => {
  test('runs the reactor with nothing listening', async (t) => {
    const reactor = reactorFor(t);
    finger01(reactor);
    await reactor.run();
    assert.equal(reactor.hasRun, true);
    assert.deepEqual(reactor.ports, []);
  });
});

type SingleServerMain = (
  reactor: ServerReactor,
  options?: { endpoint?: string },
) => Deferred<IListeningPort>;

const singleServerStages: Array<[string, SingleServerMain]> = [
  ['2', finger02],
  ['3', finger03],
  ['4', finger04],
  ['5', finger05],
  ['6', finger06],
  ['7', finger07],
  ['8', finger08],
];

describe('finger, stages 2 to 8: where they listen', () => {
  for (const [stage, main] of singleServerStages) {
    test(`stage ${stage} listens on TCP port 1079 of every interface by default`, (t) => {
      const reactor = reactorFor(t);
      const port = successResultOf(main(reactor));
      assert.equal(reactor.tcpServers.length, 1);
      const [portNumber, , backlog, iface] = reactor.tcpServers[0] ?? [];
      assert.equal(portNumber, 1079);
      assert.equal(backlog, 511);
      assert.equal(iface, '');
      assert.equal(port, reactor.ports[0]);
    });

    test(`stage ${stage} listens where its endpoint description says`, (t) => {
      const reactor = reactorFor(t);
      const port = successResultOf(main(reactor, { endpoint: 'tcp:0:interface=127.0.0.1' }));
      const [portNumber, , , iface] = reactor.tcpServers[0] ?? [];
      assert.equal(portNumber, 0);
      assert.equal(iface, '127.0.0.1');
      assert.deepEqual(port.getHost(), new IPv4Address('TCP', '127.0.0.1', 49152));
    });
  }
});

describe('finger, stage 2', () => {
  for (const size of CHUNK_SIZES) {
    test(`accepts a connection and neither answers nor hangs up (${size}-byte chunks)`, (t) => {
      const reactor = reactorFor(t);
      finger02(reactor);
      const transport = query(factoryOf(reactor), 'moshez\r\n', size);
      assert.equal(transport.value().length, 0);
      assert.equal(transport.disconnecting, false);
    });
  }
});

describe('finger, stage 3', () => {
  test('hangs up as soon as a client connects, writing nothing', (t) => {
    const reactor = reactorFor(t);
    finger03(reactor);
    const [, transport] = connect(factoryOf(reactor));
    assert.equal(transport.disconnecting, true);
    assert.equal(transport.value().length, 0);
  });
});

describe('finger, stage 4', () => {
  for (const size of CHUNK_SIZES) {
    test(`waits for a whole line, then hangs up without an answer (${size}-byte chunks)`, (t) => {
      const reactor = reactorFor(t);
      finger04(reactor);
      const [protocol, transport] = connect(factoryOf(reactor));
      deliverInChunks(protocol, bytes('moshez'), size);
      assert.equal(transport.disconnecting, false);
      deliverInChunks(protocol, bytes('\r\n'), size);
      assert.equal(transport.disconnecting, true);
      assert.equal(transport.value().length, 0);
    });
  }
});

describe('finger, stage 5', () => {
  for (const size of CHUNK_SIZES) {
    test(`answers "No such user" to any name, then hangs up (${size}-byte chunks)`, (t) => {
      const reactor = reactorFor(t);
      finger05(reactor);
      for (const user of ['moshez', 'alice', '']) {
        const transport = query(factoryOf(reactor), `${user}\r\n`, size);
        assert.equal(transport.value().toString(), 'No such user\r\n');
        assert.equal(transport.disconnecting, true);
      }
    });
  }
});

describe('finger, stage 6', () => {
  test('the factory answers for the users, and knows nobody', () => {
    const factory = new FingerFactory06();
    assert.equal(factory.getUser('moshez'), 'No such user');
  });

  for (const size of CHUNK_SIZES) {
    test(`writes the factory's answer, then hangs up (${size}-byte chunks)`, (t) => {
      const reactor = reactorFor(t);
      finger06(reactor);
      const transport = query(factoryOf(reactor), 'moshez\r\n', size);
      assert.equal(transport.value().toString(), 'No such user\r\n');
      assert.equal(transport.disconnecting, true);
    });
  }
});

describe('finger, stage 7', () => {
  for (const size of CHUNK_SIZES) {
    test(`knows moshez, and only moshez (${size}-byte chunks)`, (t) => {
      const reactor = reactorFor(t);
      finger07(reactor);
      assert.equal(
        query(factoryOf(reactor), 'moshez\r\n', size).value().toString(),
        'Happy and well\r\n',
      );
      assert.equal(
        query(factoryOf(reactor), 'alice\r\n', size).value().toString(),
        'No such user\r\n',
      );
    });
  }

  test('answers the first line only: the lines after it arrive once it is hanging up', (t) => {
    const reactor = reactorFor(t);
    finger07(reactor);
    const transport = query(factoryOf(reactor), 'moshez\r\nalice\r\n');
    assert.equal(transport.value().toString(), 'Happy and well\r\n');
  });
});

// Stages 8, 12, 13 and 14 share the FingerProtocol that waits on a Deferred.
const deferredStages: Array<[string, (reactor: MemoryReactorClock) => unknown]> = [
  ['8', (reactor) => finger08(reactor)],
  ['12', (reactor) => finger12(reactor)],
  ['13', (reactor) => finger13(reactor)],
  ['14', (reactor) => finger14(reactor, { usersFile: USERS_FILE })],
];

describe('finger, stages 8 to 14: answers through a Deferred', () => {
  for (const [stage, start] of deferredStages) {
    const known = stage === '14' ? ['shawn', 'alive'] : ['moshez', 'Happy and well'];

    for (const size of CHUNK_SIZES) {
      test(`stage ${stage} answers for ${known[0]} and says "No such user" for others (${size}-byte chunks)`, (t) => {
        const reactor = reactorFor(t);
        start(reactor);
        const found = query(factoryOf(reactor), `${known[0]}\r\n`, size);
        assert.equal(found.value().toString(), `${known[1]}\r\n`);
        assert.equal(found.disconnecting, true);
        const missing = query(factoryOf(reactor), 'nobody\r\n', size);
        assert.equal(missing.value().toString(), 'No such user\r\n');
        assert.equal(missing.disconnecting, true);
      });
    }

    test(`stage ${stage} waits for a lookup that has not finished, then answers`, (t) => {
      const reactor = reactorFor(t);
      start(reactor);
      const factory = factoryOf(reactor) as UserLookup;
      const pending = new Deferred<string>();
      factory.getUser = () => pending;
      const transport = query(factory, 'moshez\r\n');
      assert.equal(transport.value().length, 0);
      assert.equal(transport.disconnecting, false);
      pending.callback('Out to lunch');
      assert.equal(transport.value().toString(), 'Out to lunch\r\n');
      assert.equal(transport.disconnecting, true);
    });

    test(`stage ${stage} answers "Internal error in server" when the lookup fails`, (t) => {
      const reactor = reactorFor(t);
      start(reactor);
      const factory = factoryOf(reactor) as UserLookup;
      factory.getUser = () => fail(new Error('the users database is down'));
      const transport = query(factory, 'moshez\r\n');
      assert.equal(transport.value().toString(), 'Internal error in server\r\n');
      assert.equal(transport.disconnecting, true);
    });
  }

  test('the stage 8 factory fires its Deferred at once', () => {
    const factory = new FingerFactory08(new Map([['moshez', 'Happy and well']]));
    assert.equal(successResultOf(factory.getUser('moshez')), 'Happy and well');
  });

  test('stage 8 answers the finger client over a simulated connection', (t) => {
    const reactor = reactorFor(t);
    finger08(reactor);
    const clientFactory = new FingerClientFactory('moshez');
    const [client, , pump] = connectedServerAndClient(factoryOf(reactor), clientFactory);
    pump.flush();
    assert.ok(client instanceof FingerClient);
    assert.deepEqual(successResultOf(clientFactory.d), bytes('Happy and well\r\n'));
  });
});

type TwoServerMain = (
  reactor: ServerReactor,
  options?: { endpoint?: string; setterEndpoint?: string },
) => Deferred<IListeningPort[]>;

const setterStages: Array<[string, TwoServerMain]> = [
  ['12', finger12],
  ['13', finger13],
];

/** Sends `lines` to a new setter connection in `size`-byte chunks, then hangs up as the client. */
function setStatus(factory: IProtocolFactory, lines: string, size = Infinity): void {
  const [protocol] = connect(factory);
  deliverInChunks(protocol, bytes(lines), size);
  protocol.connectionLost(done());
}

describe('finger, stages 12 and 13: setting a status', () => {
  for (const [stage, main] of setterStages) {
    test(`stage ${stage} listens for queries on 1079 and for statuses on 1080`, (t) => {
      const reactor = reactorFor(t);
      const ports = successResultOf(main(reactor));
      assert.deepEqual(
        reactor.tcpServers.map(([port]) => port),
        [1079, 1080],
      );
      assert.deepEqual(ports, reactor.ports);
    });

    test(`stage ${stage} listens where its two endpoint descriptions say`, (t) => {
      const reactor = reactorFor(t);
      const [fingerPort, setterPort] = successResultOf(
        main(reactor, { endpoint: 'tcp:0', setterEndpoint: 'tcp:0:interface=127.0.0.1' }),
      );
      assert.deepEqual(fingerPort?.getHost(), new IPv4Address('TCP', '0.0.0.0', 49152));
      assert.deepEqual(setterPort?.getHost(), new IPv4Address('TCP', '127.0.0.1', 49153));
    });

    for (const size of CHUNK_SIZES) {
      test(`stage ${stage}: a status set on the setter port is what the finger port answers (${size}-byte chunks)`, (t) => {
        const reactor = reactorFor(t);
        main(reactor);
        setStatus(factoryOf(reactor, 1), 'moshez\r\nGiving a tutorial now, sorry!\r\n', size);
        setStatus(factoryOf(reactor, 1), 'alice\r\nIn a meeting\r\n', size);
        assert.equal(
          query(factoryOf(reactor), 'moshez\r\n', size).value().toString(),
          'Giving a tutorial now, sorry!\r\n',
        );
        assert.equal(
          query(factoryOf(reactor), 'alice\r\n', size).value().toString(),
          'In a meeting\r\n',
        );
      });
    }

    test(`stage ${stage} sets the status only when the setter's client hangs up`, (t) => {
      const reactor = reactorFor(t);
      main(reactor);
      const [setter, setterTransport] = connect(factoryOf(reactor, 1));
      setter.dataReceived(bytes('moshez\r\nAway\r\n'));
      assert.equal(setterTransport.value().length, 0);
      assert.equal(
        query(factoryOf(reactor), 'moshez\r\n').value().toString(),
        'Happy and well\r\n',
      );
      setter.connectionLost(done());
      assert.equal(query(factoryOf(reactor), 'moshez\r\n').value().toString(), 'Away\r\n');
    });

    test(`stage ${stage} ignores a setter message of fewer than two lines`, (t) => {
      const reactor = reactorFor(t);
      main(reactor);
      setStatus(factoryOf(reactor, 1), 'moshez\r\n');
      setStatus(factoryOf(reactor, 1), '');
      assert.equal(
        query(factoryOf(reactor), 'moshez\r\n').value().toString(),
        'Happy and well\r\n',
      );
    });
  }

  test('stage 13: both factories of a FingerService share its users', () => {
    const service = new FingerService13(new Map());
    const fingerFactory = service.getFingerFactory();
    const setterFactory = service.getFingerSetterFactory();
    assert.equal(successResultOf(fingerFactory.getUser('moshez')), 'No such user');
    setterFactory.setUser('moshez', 'Happy and well');
    assert.equal(successResultOf(fingerFactory.getUser('moshez')), 'Happy and well');
    assert.deepEqual([...service.users], [['moshez', 'Happy and well']]);
  });
});

describe('finger, stage 14: statuses from a file', () => {
  /** A users file in a fresh temporary directory, removed after the test. */
  function usersFile(t: TestContext, text: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-finger-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'users');
    writeFileSync(path, text);
    return path;
  }

  test('reads "user: status" lines, trimmed, when started', (t) => {
    const clock = new Clock();
    t.after(() => assertReactorClean(clock));
    const service = new FingerService14(
      usersFile(t, 'moshez: happy and well\n  shawn :alive \nno colon here\n\n'),
      clock,
    );
    service.startService();
    assert.deepEqual(
      [...service.users],
      [
        ['moshez', 'happy and well'],
        ['shawn', 'alive'],
      ],
    );
    service.stopService();
  });

  test('reads the file again every 30 seconds, and stops when the service stops', (t) => {
    const clock = new Clock();
    t.after(() => assertReactorClean(clock));
    const path = usersFile(t, 'moshez: happy and well\n');
    const service = new FingerService14(path, clock);
    const factory = service.getFingerFactory();
    service.startService();
    writeFileSync(path, 'moshez: giving a tutorial\nshawn: alive\n');
    clock.advance(29.9);
    assert.equal(successResultOf(factory.getUser('moshez')), 'happy and well');
    clock.advance(0.1);
    assert.equal(successResultOf(factory.getUser('moshez')), 'giving a tutorial');
    assert.equal(successResultOf(factory.getUser('shawn')), 'alive');
    writeFileSync(path, 'shawn: asleep\n');
    clock.advance(30);
    assert.equal(successResultOf(factory.getUser('moshez')), 'No such user');
    assert.equal(successResultOf(factory.getUser('shawn')), 'asleep');
    assert.deepEqual(
      clock.getDelayedCalls().map((call) => call.getTime()),
      [90],
    );
    service.stopService();
    assert.deepEqual(clock.getDelayedCalls(), []);
    writeFileSync(path, 'shawn: awake\n');
    clock.advance(60);
    assert.equal(successResultOf(factory.getUser('shawn')), 'asleep');
  });

  test('main listens on 1079, serves the file given, and stops re-reading at shutdown', (t) => {
    const reactor = reactorFor(t);
    const port = successResultOf(
      finger14(reactor, { usersFile: usersFile(t, 'alice: in a meeting\n') }),
    );
    assert.equal(reactor.tcpServers[0]?.[0], 1079);
    assert.equal(port, reactor.ports[0]);
    assert.equal(query(factoryOf(reactor), 'alice\r\n').value().toString(), 'in a meeting\r\n');
    assert.equal(reactor.getDelayedCalls().length, 1);
    reactor.fireSystemEvent('shutdown');
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test('main listens where its endpoint description says', (t) => {
    const reactor = reactorFor(t);
    finger14(reactor, { endpoint: 'tcp:0:interface=127.0.0.1', usersFile: USERS_FILE });
    const [port, , , iface] = reactor.tcpServers[0] ?? [];
    assert.equal(port, 0);
    assert.equal(iface, '127.0.0.1');
  });

  test("the shipped etc.users holds Twisted's two sample users", (t) => {
    const clock = new Clock();
    t.after(() => assertReactorClean(clock));
    const service = new FingerService14(USERS_FILE, clock);
    service.startService();
    assert.deepEqual(
      [...service.users],
      [
        ['moshez', 'happy and well'],
        ['shawn', 'alive'],
      ],
    );
    service.stopService();
  });
});

describe('the finger client', () => {
  for (const size of CHUNK_SIZES) {
    test(`sends the user name and fires with the whole reply once the server hangs up (${size}-byte chunks)`, () => {
      const factory = new FingerClientFactory('moshez');
      const [client, transport] = connect(factory);
      assert.equal(transport.value().toString(), 'moshez\r\n');
      deliverInChunks(client, bytes('Happy and well\r\nand busy\r\n'), size);
      assertNoResult(factory.d);
      client.connectionLost(done());
      assert.deepEqual(successResultOf(factory.d), bytes('Happy and well\r\nand busy\r\n'));
    });
  }

  test('finger() connects to the host and port given and fires with the reply', (t) => {
    const reactor = reactorFor(t);
    finger08(reactor);
    const d = finger(reactor, 'moshez', '127.0.0.1', 1079);
    const [host, port] = reactor.tcpClients[0] ?? [];
    assert.equal(host, '127.0.0.1');
    assert.equal(port, 1079);
    assertNoResult(d);
    const pump = new ConnectionCompleter(reactor).succeedOnce();
    assert.ok(pump, 'the attempt did not reach the server');
    pump.flush();
    assert.deepEqual(successResultOf(d), bytes('Happy and well\r\n'));
  });

  test('finger() fails with the reason the connection could not be made', (t) => {
    const reactor = reactorFor(t);
    const d = finger(reactor, 'moshez', '127.0.0.1', 1079);
    new ConnectionCompleter(reactor).failOnce();
    failureResultOf(d, ConnectionRefusedError);
  });

  test('the factory fails its Deferred when the reactor reports a failed connection', (t) => {
    const reactor = reactorFor(t);
    const factory = new FingerClientFactory('moshez');
    reactor.connectTCP('127.0.0.1', 1079, factory);
    new ConnectionCompleter(reactor).failOnce();
    failureResultOf(factory.d, ConnectionRefusedError);
  });

  test('main asks 127.0.0.1 on port 1079 by default, or the host and port given', (t) => {
    const reactor = reactorFor(t);
    const first = fingerClient(reactor, { user: 'moshez' });
    const second = fingerClient(reactor, { user: 'shawn', host: 'example.com', port: 79 });
    assert.deepEqual(
      reactor.tcpClients.map(([host, port]) => [host, port]),
      [
        ['127.0.0.1', 1079],
        ['example.com', 79],
      ],
    );
    const completer = new ConnectionCompleter(reactor);
    completer.failOnce();
    completer.failOnce();
    failureResultOf(first, ConnectionRefusedError);
    failureResultOf(second, ConnectionRefusedError);
  });
});
