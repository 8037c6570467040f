// The real-socket builders of the conformance suite: TCP on 127.0.0.1 port
// 0, a UNIX socket in a fresh temporary directory, and TLS with the test
// certificate, each on a NodeReactor of the test's own (test/helpers/
// sockets.ts: every port and connection is closed at the end of the test,
// and no socket handle may be left open). Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { IPv4Address } from 'torsion/protocol';
import type { IAddress, IListeningPort, IProtocol, IProtocolFactory } from 'torsion/reactor';
import {
  CollectingFactory,
  harness,
  nextTurn,
  RecordingClientFactory,
  type SocketHarness,
  until,
  waitFor,
} from '../../helpers/sockets.js';
import { CERT, KEY } from '../../helpers/tls.js';
import {
  type Capabilities,
  ConnectFailed,
  type Connection,
  knownBugs,
  type Listener,
  type PairBuilder,
} from './builder.js';

const LOCAL = '127.0.0.1';
/** Seconds a case waits for one event before failing with what it waited for. */
const WAIT = 5;
/** Turns of the event loop `settle` lets pass: each has an I/O poll. */
const SETTLE_TURNS = 20;

/** How a real transport listens and connects through a harness. */
interface Opener {
  listen(h: SocketHarness, t: TestContext, factory: IProtocolFactory): IListeningPort;
  connect(h: SocketHarness, listening: IListeningPort, factory: IProtocolFactory): void;
}

const SOCKETS = {
  delivery: 'loop',
  realSockets: true,
  halfClose: true,
  abort: true,
  readPause: true,
  highWater: true,
  callbackErrors: true,
} as const;

function socketBuilder(name: string, capabilities: Capabilities, opener: Opener): PairBuilder {
  return {
    kind: 'pair',
    name,
    capabilities,
    timeout: 20_000,
    listen<S extends IProtocol>(t: TestContext, makeServer: () => S): Listener<S> {
      const h = harness(t);
      const factory = new CollectingFactory(makeServer);
      const listening = opener.listen(h, t, factory);
      // A known bug may hang a wait: give up sooner.
      const seconds = knownBugs.has(t) ? 1 : WAIT;
      const wait = <T>(d: PromiseLike<T>, what: string): Promise<T> =>
        waitFor(d, `${name}: ${what}`, seconds);
      const untilHolds = (predicate: () => boolean, what: string): Promise<void> =>
        until(predicate, `${name}: ${what}`, seconds);
      let accepted = 0;
      return {
        address: listening.getHost(),
        until: untilHolds,
        async connect<C extends IProtocol>(makeClient: () => C): Promise<Connection<S, C>> {
          const index = accepted++;
          const clients = new RecordingClientFactory(makeClient);
          opener.connect(h, listening, clients);
          // Each protocol gets makeConnection in the same turn it is built.
          const failed = clients.failed.then((reason) => {
            throw new ConnectFailed(reason.getErrorMessage());
          });
          const client = await wait(Promise.race([clients.nth(0), failed]), 'the client protocol');
          const server = await wait(factory.nth(index), 'the server protocol');
          return {
            server,
            client,
            until: untilHolds,
            async settle() {
              for (let turn = 0; turn < SETTLE_TURNS; turn++) await nextTurn();
            },
          };
        },
      };
    },
  };
}

function portOf(listening: IListeningPort): number {
  const address: IAddress = listening.getHost();
  if (!(address instanceof IPv4Address)) throw new TypeError(`not an IPv4 port: ${address}`);
  return address.port;
}

/** TCP over 127.0.0.1. */
export const tcp = socketBuilder(
  'TCP',
  { ...SOCKETS, tls: false, addresses: 'ip' },
  {
    listen: (h, _t, factory) => h.listenTCP(0, factory, { interface: LOCAL }),
    connect: (h, listening, factory) => {
      h.connectTCP(LOCAL, portOf(listening), factory);
    },
  },
);

/** A UNIX socket in a fresh temporary directory, removed after the test. */
export const unix = socketBuilder(
  'UNIX',
  { ...SOCKETS, tls: false, addresses: 'unix' },
  {
    listen: (h, t, factory) => {
      const dir = mkdtempSync(join(tmpdir(), 'torsion-conformance-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      return h.listenUNIX(join(dir, 'socket'), factory);
    },
    connect: (h, listening, factory) => {
      const address = listening.getHost() as IAddress & { name: string };
      h.connectUNIX(address.name, factory);
    },
  },
);

/** TLS over 127.0.0.1 with the test certificate for localhost. */
export const tls = socketBuilder(
  'TLS',
  { ...SOCKETS, tls: true, addresses: 'ip' },
  {
    listen: (h, _t, factory) =>
      h.listenSSL(0, factory, { key: KEY, cert: CERT }, { interface: LOCAL }),
    connect: (h, listening, factory) => {
      // 'localhost' so that the certificate's name is checked; it resolves to 127.0.0.1.
      h.connectSSL('localhost', portOf(listening), factory, { ca: CERT });
    },
  },
);
