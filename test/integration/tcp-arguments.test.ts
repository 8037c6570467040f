// Bad arguments to listenTCP and connectTCP: a Torsion error with a code,
// thrown before anything is opened.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientFactory, Factory, InvalidAddressError, Protocol } from 'torsion/protocol';
import { NodeReactor } from 'torsion/reactor';

const BAD_PORTS = [-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY];

function isBadPort(error: unknown, port: number): boolean {
  return (
    error instanceof InvalidAddressError &&
    error.code === 'ERR_INVALID_ADDRESS' &&
    Object.is(error.address, port) &&
    error.message === `Invalid address ${port}: a port must be an integer from 0 to 65535`
  );
}

describe('a port outside 0–65535', () => {
  for (const port of BAD_PORTS) {
    test(`listenTCP(${port}) throws InvalidAddressError (ERR_INVALID_ADDRESS) and listens on nothing`, () => {
      const reactor = new NodeReactor();
      const factory = Factory.forProtocol(Protocol);
      assert.throws(
        () => reactor.listenTCP(port, factory),
        (error: unknown) => isBadPort(error, port),
      );
      assert.deepEqual(reactor.getDelayedCalls(), []);
    });

    test(`connectTCP('127.0.0.1', ${port}) throws InvalidAddressError before connecting`, () => {
      const reactor = new NodeReactor();
      const factory = new ClientFactory();
      assert.throws(
        () => reactor.connectTCP('127.0.0.1', port, factory),
        (error: unknown) => isBadPort(error, port),
      );
    });
  }
});
