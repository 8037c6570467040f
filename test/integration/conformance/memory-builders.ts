// The in-memory builders of the conformance suite: StringTransport (a
// one-sided double), iosim's FakeTransport pair moved by an IOPump, and
// loopbackAsync moved by a deterministic Clock. No sockets, no real time.
// Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import { AssertionError } from 'node:assert';
import type { TestContext } from 'node:test';
import type { IProtocol } from 'torsion/reactor';
import { Clock } from 'torsion/task';
import {
  connectedServerAndClient,
  type IOPump,
  loopbackAsync,
  type StringTransport,
  StringTransportWithDisconnection,
} from 'torsion/testing';
import type { Connection, Listener, PairBuilder, SingleBuilder } from './builder.js';

/** More steps than any case needs: a case that takes more talks forever. */
const MAX_STEPS = 100_000;

/** Steps until `predicate` holds; fails once a step moves nothing, or after MAX_STEPS. */
async function stepUntil(
  builder: string,
  idle: string,
  step: () => boolean,
  predicate: () => boolean,
  what: string,
): Promise<void> {
  for (let n = 0; n < MAX_STEPS; n++) {
    if (predicate()) return;
    if (!step() && !predicate()) {
      throw new AssertionError({ message: `${builder}: ${idle}, and still not: ${what}` });
    }
  }
  throw new AssertionError({ message: `${builder}: ${MAX_STEPS} steps, and still not: ${what}` });
}

/** StringTransport: the test plays the peer, reading `value()` and calling `dataReceived`. */
export const stringTransport: SingleBuilder = {
  kind: 'single',
  name: 'StringTransport',
  timeout: 5_000,
  attach(protocol: IProtocol): StringTransport {
    // WithDisconnection: loseConnection and abortConnection reach connectionLost.
    const transport = new StringTransportWithDisconnection({ protocol });
    protocol.makeConnection(transport);
    return transport;
  },
};

/** iosim: two FakeTransports; `until` pumps one exchange at a time. */
export const iosim: PairBuilder = {
  kind: 'pair',
  name: 'iosim FakeTransport',
  timeout: 5_000,
  capabilities: {
    delivery: 'pump',
    realSockets: false,
    tls: false,
    addresses: 'fake',
    halfClose: true,
    abort: true,
    readPause: true,
    highWater: false,
    callbackErrors: false,
  },
  listen<S extends IProtocol>(_t: TestContext, makeServer: () => S): Listener<S> {
    const pumps: IOPump[] = [];
    // One exchange on each connection; whether anything moved.
    const step = (): boolean => pumps.map((pump) => pump.pump()).some(Boolean);
    const until = (predicate: () => boolean, what: string): Promise<void> =>
      stepUntil(iosim.name, 'nothing moves', step, predicate, what);
    return {
      address: undefined,
      until,
      async connect<C extends IProtocol>(makeClient: () => C): Promise<Connection<S, C>> {
        const [client, server, pump] = connectedServerAndClient(makeServer, makeClient, {
          greet: false,
        });
        pumps.push(pump);
        return {
          server,
          client,
          until,
          async settle() {
            for (const p of pumps) p.flush();
          },
        };
      },
    };
  },
};

/** loopbackAsync with a Clock: `until` advances the clock by 0 while a delivery is due. */
export const loopback: PairBuilder = {
  kind: 'pair',
  name: 'loopbackAsync',
  timeout: 5_000,
  capabilities: {
    delivery: 'clock',
    realSockets: false,
    tls: false,
    addresses: 'fake',
    halfClose: false,
    abort: true,
    readPause: false,
    highWater: false,
    callbackErrors: false,
  },
  listen<S extends IProtocol>(t: TestContext, makeServer: () => S): Listener<S> {
    // One clock for every connection of the listener, so one wait moves them all.
    const clock = new Clock();
    const step = (): boolean => {
      if (clock.getDelayedCalls().length === 0) return false;
      clock.advance(0);
      return true;
    };
    const until = (predicate: () => boolean, what: string): Promise<void> =>
      stepUntil(loopback.name, 'nothing is due', step, predicate, what);
    return {
      address: undefined,
      until,
      async connect<C extends IProtocol>(makeClient: () => C): Promise<Connection<S, C>> {
        const server = makeServer();
        const client = makeClient();
        const done = loopbackAsync(server, client, undefined, { clock });
        t.after(() => {
          // A case that leaves the connection open: stop it, quietly.
          if (done.called) return;
          done.addErrback(() => undefined);
          done.cancel();
        });
        return {
          server,
          client,
          until,
          async settle() {
            for (let n = 0; n < MAX_STEPS && step(); n++);
          },
        };
      },
    };
  },
};
