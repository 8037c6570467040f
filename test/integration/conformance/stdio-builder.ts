// The StandardIO builder of the conformance suite: two StandardIO
// transports back to back, each one's stdout the other's stdin (a
// PassThrough each way), as two programs joined by a pair of pipes. Node's
// event loop moves the bytes; the reactor (for abort reports and the
// shutdown trigger) is a NodeReactor of the test's own, never run.
// Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import { PassThrough } from 'node:stream';
import type { TestContext } from 'node:test';
import { type IProtocol, NodeReactor } from 'torsion/reactor';
import { StandardIO } from 'torsion/stdio';
import { nextTurn, until } from '../../helpers/sockets.js';
import { type Connection, knownBugs, type Listener, type PairBuilder } from './builder.js';

/** Seconds a case waits for one event before failing with what it waited for. */
const WAIT = 5;
/** Turns of the event loop `settle` lets pass. */
const SETTLE_TURNS = 20;

export const stdio: PairBuilder = {
  kind: 'pair',
  name: 'StandardIO',
  timeout: 20_000,
  capabilities: {
    delivery: 'loop',
    realSockets: false,
    tls: false,
    addresses: 'fake',
    halfClose: true,
    abort: true,
    readPause: true,
    highWater: true,
    callbackErrors: true,
  },
  listen<S extends IProtocol>(t: TestContext, makeServer: () => S): Listener<S> {
    const reactor = new NodeReactor();
    const transports: StandardIO[] = [];
    t.after(() => {
      // A case that leaves a connection open: close it, and the abort reports with it.
      for (const transport of transports) transport.abortConnection();
      for (const call of reactor.getDelayedCalls()) call.cancel();
    });
    const seconds = knownBugs.has(t) ? 1 : WAIT;
    const untilHolds = (predicate: () => boolean, what: string): Promise<void> =>
      until(predicate, `StandardIO: ${what}`, seconds);
    return {
      address: undefined,
      until: untilHolds,
      async connect<C extends IProtocol>(makeClient: () => C): Promise<Connection<S, C>> {
        const toServer = new PassThrough();
        const toClient = new PassThrough();
        const server = makeServer();
        const client = makeClient();
        transports.push(
          new StandardIO(server, reactor, { stdin: toServer, stdout: toClient }),
          new StandardIO(client, reactor, { stdin: toClient, stdout: toServer }),
        );
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
