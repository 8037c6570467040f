// ITransport.disconnecting, read through the interface (no cast), on the
// test doubles: false while open, true from loseConnection or
// abortConnection on. The real transports are checked in
// test/integration/stream-transport-contract.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Protocol } from 'torsion/protocol';
import type { ITCPTransport, ITransport } from 'torsion/reactor';
import { connect, FakeTransport, StringTransport } from 'torsion/testing';

const doubles: ReadonlyArray<[string, () => ITCPTransport]> = [
  ['StringTransport', () => new StringTransport()],
  ['FakeTransport', () => new FakeTransport(new Protocol(), false)],
];

describe('ITransport.disconnecting', () => {
  for (const [name, make] of doubles) {
    test(`${name} reports false while open and true once loseConnection was called`, () => {
      const transport: ITransport = make();
      assert.equal(transport.disconnecting, false);
      transport.loseConnection();
      assert.equal(transport.disconnecting, true);
    });

    test(`${name} reports true once abortConnection was called`, () => {
      const transport = make();
      transport.abortConnection();
      assert.equal((transport as ITransport).disconnecting, true);
    });
  }

  test('FakeTransport reports true on the side whose peer disconnected', () => {
    const server = new Protocol();
    const client = new Protocol();
    const serverIO = new FakeTransport(server, true);
    const clientIO = new FakeTransport(client, false);
    const pump = connect(server, serverIO, client, clientIO);
    const peerSide: ITransport = serverIO;
    assert.equal(peerSide.disconnecting, false);
    clientIO.loseConnection();
    pump.flush();
    assert.equal(peerSide.disconnecting, true);
  });
});
