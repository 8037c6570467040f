// Behaviours 8 and 9 of the conformance suite: getHost/getPeer (the
// transport's address types, matching on both ends, still answering after
// the close), and a throw in connectionMade or dataReceived (logged, that
// connection lost, the listener still serving). Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { captureLogs } from 'torsion/logger';
import { IPv4Address, UNIXAddress } from 'torsion/protocol';
import type { IAddress } from 'torsion/reactor';
import {
  type Behaviour,
  ConnectFailed,
  type Connection,
  type Listener,
  type PairBuilder,
} from './builder.js';
import { Probe } from './probe.js';

/** The four addresses of a connection, as each side sees them. */
function addressesOf(c: Connection<Probe, Probe>): Record<string, IAddress> {
  return {
    serverHost: c.server.transport.getHost(),
    serverPeer: c.server.transport.getPeer(),
    clientHost: c.client.transport.getHost(),
    clientPeer: c.client.transport.getPeer(),
  };
}

function checkAddresses(
  b: PairBuilder,
  listener: Listener<Probe>,
  c: Connection<Probe, Probe>,
): void {
  const a = addressesOf(c);
  switch (b.capabilities.addresses) {
    case 'ip': {
      const listening = listener.address;
      assert.ok(listening instanceof IPv4Address);
      for (const [which, address] of Object.entries(a)) {
        assert.ok(address instanceof IPv4Address, `${which}: ${address}`);
        assert.equal(address.type, 'TCP', which);
        assert.equal(address.host, '127.0.0.1', which);
      }
      const { serverHost, serverPeer, clientHost, clientPeer } = a as Record<string, IPv4Address>;
      assert.equal(serverHost?.port, listening.port, "the server's end is the listening port");
      assert.equal(clientPeer?.port, listening.port, "the client's peer is the listening port");
      assert.equal(serverPeer?.port, clientHost?.port, "the server's peer is the client's end");
      assert.notEqual(clientHost?.port, listening.port);
      break;
    }
    case 'unix': {
      const listening = listener.address;
      assert.ok(listening instanceof UNIXAddress && listening.name !== null);
      for (const [which, address] of Object.entries(a)) {
        assert.ok(address instanceof UNIXAddress, `${which}: ${address}`);
      }
      assert.ok(
        (a.serverHost as UNIXAddress).equals(listening),
        "the server's end is the socket path",
      );
      assert.ok(
        (a.clientPeer as UNIXAddress).equals(listening),
        "the client's peer is the socket path",
      );
      break;
    }
    case 'fake': {
      // In-memory stand-ins: one class for all four, each with a readable form.
      const kind = a.serverHost?.constructor;
      for (const [which, address] of Object.entries(a)) {
        assert.equal(address.constructor, kind, which);
        assert.ok(String(address).length > 0, which);
      }
      break;
    }
  }
}

export const addresses: Behaviour = {
  name: 'getHost and getPeer',
  cases: [
    {
      name: "give the transport's address types, matching on both ends, and keep answering after the close",
      async pair(b, t) {
        const listener = b.listen(t, () => new Probe());
        const c = await listener.connect(() => new Probe());
        checkAddresses(b, listener, c);
        const before = Object.values(addressesOf(c)).map(String);
        c.client.transport.loseConnection();
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        checkAddresses(b, listener, c);
        assert.deepEqual(
          Object.values(addressesOf(c)).map(String),
          before,
          'the same after the close',
        );
      },
      single(b) {
        const transport = b.attach(new Probe());
        const host = transport.getHost();
        const peer = transport.getPeer();
        assert.ok(host instanceof IPv4Address && peer instanceof IPv4Address);
        assert.equal(host.type, 'TCP');
        assert.notEqual(String(host), String(peer));
        transport.loseConnection();
        assert.equal(String(transport.getHost()), String(host));
        assert.equal(String(transport.getPeer()), String(peer));
      },
    },
  ],
};

const IN_MEMORY_ERRORS =
  "in-memory transports let a callback's throw reach the test that moves the bytes, as Twisted's iosim";
const ONE_SIDED_ERRORS = 'one-sided: StringTransport never calls the protocol; the test does';

/**
 * Serves probes whose `where` callback throws on the first connection, then
 * checks that the error was logged, that connection lost on both sides, and
 * a second connection echoes.
 */
async function throwsIn(
  b: PairBuilder,
  t: TestContext,
  where: 'made' | 'data' | 'data after loseConnection',
): Promise<void> {
  const logs = captureLogs();
  t.after(() => logs.stop());
  const message = `boom in ${where === 'made' ? 'connectionMade' : where}`;
  let first: Probe | undefined;
  const listener = b.listen(t, () => {
    const isFirst = first === undefined;
    const hooks = {
      made: () => {
        if (isFirst && where === 'made') throw new Error(message);
      },
      data: (p: Probe, data: Uint8Array) => {
        if (isFirst && where === 'data') throw new Error(message);
        if (isFirst && where === 'data after loseConnection') {
          // The transport then aborts a connection that is already closing.
          p.transport.loseConnection();
          throw new Error(message);
        }
        p.transport.write(data);
      },
    };
    const p = new Probe(hooks);
    first ??= p;
    return p;
  });
  let client: Probe | undefined;
  try {
    const c = await listener.connect(
      () => new Probe({ made: (p) => p.transport.write(Buffer.from('hi')) }),
    );
    client = c.client;
  } catch (error) {
    // The server dropped the connection before the client saw it made.
    if (!(error instanceof ConnectFailed) || where !== 'made') throw error;
  }
  const server = (): Probe => {
    assert.ok(first !== undefined, 'the server protocol was built');
    return first;
  };
  await listener.until(
    () => first !== undefined && server().lost && (client === undefined || client.lost),
    'both sides to lose the connection',
  );
  assert.equal(server().lostCalls, 1);
  assert.equal(client?.lostCalls ?? 1, 1);
  assert.deepEqual(server().late, []);
  const logged = logs.events.filter((e) => e.log_failure?.getErrorMessage() === message);
  assert.equal(logged.length, 1, `the error is logged once (${logs.events.length} events)`);

  const again = await listener.connect(
    () => new Probe({ made: (p) => p.transport.write(Buffer.from('again')) }),
  );
  await again.until(() => again.client.received >= 5, 'the echo on a second connection');
  assert.equal(again.client.data().toString(), 'again');
  again.client.transport.loseConnection();
  await again.until(() => again.server.lost && again.client.lost, 'the second connection to close');
}

const notCaught = (b: PairBuilder): string | undefined =>
  b.capabilities.callbackErrors ? undefined : IN_MEMORY_ERRORS;

export const callbackErrors: Behaviour = {
  name: 'errors in protocol callbacks',
  cases: [
    {
      name: 'a throw in connectionMade is logged, that connection is lost, and the listener serves another',
      skip: notCaught,
      pair: (b, t) => throwsIn(b, t, 'made'),
      singleSkip: ONE_SIDED_ERRORS,
    },
    {
      name: 'a throw in dataReceived is logged, that connection is lost, and the listener serves another',
      skip: notCaught,
      pair: (b, t) => throwsIn(b, t, 'data'),
      singleSkip: ONE_SIDED_ERRORS,
    },
    {
      name: 'a dataReceived that calls loseConnection and then throws is logged, that connection is lost, and the listener serves another',
      skip: notCaught,
      pair: (b, t) => throwsIn(b, t, 'data after loseConnection'),
      singleSkip: ONE_SIDED_ERRORS,
    },
  ],
};
