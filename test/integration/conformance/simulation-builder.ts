// The simulated network's builder for the conformance suite: one host of a
// SimulatedNetwork (address 127.0.0.1, 1 ms links) connecting to itself,
// where `until` runs the network's events in virtual time, and lets the
// event loop turn when no event is left (the suite's producers write from
// setImmediate). No sockets.
// Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import { AssertionError } from 'node:assert';
import type { TestContext } from 'node:test';
import type { Failure } from 'torsion/defer';
import { ClientFactory, Factory } from 'torsion/protocol';
import type { IConnector, IProtocol } from 'torsion/reactor';
import { SimulatedNetwork, SimulationTimeout } from 'torsion/testing';
import { ConnectFailed, type Connection, type Listener, type PairBuilder } from './builder.js';

/** Virtual seconds a wait may take: far more than any case needs. */
const VIRTUAL_BOUND = 120;

/** Turns of the event loop a wait lets pass with nothing happening in the network. */
const IDLE_TURNS = 200;

/**
 * Runs the network until `predicate` holds, letting the event loop turn
 * whenever no event is pending; fails naming `what` otherwise.
 */
async function runUntil(
  network: SimulatedNetwork,
  predicate: () => boolean,
  what: string,
): Promise<void> {
  const deadline = network.seconds() + VIRTUAL_BOUND;
  for (let idle = 0; idle < IDLE_TURNS; idle++) {
    if (predicate()) return;
    if (network.pending > 0) {
      try {
        network.runUntil(predicate, { timeout: deadline - network.seconds(), what });
        return;
      } catch (error) {
        if (!(error instanceof SimulationTimeout)) throw error;
        if (network.seconds() >= deadline) {
          throw new AssertionError({ message: `${simulation.name}: ${error.message}` });
        }
        idle = 0;
      }
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new AssertionError({
    message: `${simulation.name}: nothing happens, and still not: ${what} (t=${network.seconds()}s)`,
  });
}

/** SimulatedNetwork: TCP between two simulated hosts. */
export const simulation: PairBuilder = {
  kind: 'pair',
  name: 'SimulatedNetwork TCP',
  timeout: 5_000,
  capabilities: {
    delivery: 'clock',
    realSockets: false,
    tls: false,
    addresses: 'ip',
    halfClose: true,
    abort: true,
    readPause: true,
    highWater: true,
    callbackErrors: true,
  },
  listen<S extends IProtocol>(_t: TestContext, makeServer: () => S): Listener<S> {
    const network = new SimulatedNetwork({ seed: 1, link: { latency: 0.001 } });
    const host = network.addHost('local', { addresses: ['127.0.0.1'] });
    const accepted: S[] = [];
    const factory = new Factory();
    factory.buildProtocol = () => {
      const protocol = makeServer();
      accepted.push(protocol);
      return protocol;
    };
    const port = host.listenTCP(80, factory, { interface: '127.0.0.1' });
    const until = (predicate: () => boolean, what: string): Promise<void> =>
      runUntil(network, predicate, what);
    return {
      address: port.getHost(),
      until,
      async connect<C extends IProtocol>(makeClient: () => C): Promise<Connection<S, C>> {
        const index = accepted.length;
        let client: C | undefined;
        let failed: Failure | undefined;
        const clients = new (class extends ClientFactory {
          override buildProtocol(): C {
            client = makeClient();
            return client;
          }
          override clientConnectionFailed(_c: IConnector, reason: Failure): void {
            failed = reason;
          }
        })();
        host.connectTCP('127.0.0.1', 80, clients);
        await runUntil(
          network,
          () => failed !== undefined || (client !== undefined && accepted.length > index),
          'the connection',
        );
        if (failed !== undefined) throw new ConnectFailed(failed.getErrorMessage());
        return {
          server: accepted[index] as S,
          client: client as C,
          until,
          async settle() {
            for (let turn = 0; turn < 5; turn++) {
              network.advance(1);
              await new Promise<void>((resolve) => setImmediate(resolve));
            }
          },
        };
      },
    };
  },
};
