// Behaviour 6 of the conformance suite: half-closing both ways with
// loseWriteConnection, a peer that cannot half-close losing the connection
// on EOF, and a protocol with only readConnectionLost still half-closing.
// Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import assert from 'node:assert/strict';
import { ConnectionDone } from 'torsion/protocol';
import { type Behaviour, connectPair, type PairBuilder } from './builder.js';
import { assertLifecycle, assertReason } from './check.js';
import { HalfCloseProbe, Probe, ReadHalfProbe } from './probe.js';

const HALF = ['dataReceived', 'readConnectionLost', 'writeConnectionLost'];
const noHalfClose = (b: PairBuilder): string | undefined =>
  b.capabilities.halfClose ? undefined : 'no loseWriteConnection on this transport';
const ONE_SIDED = 'one-sided: StringTransport only records writeDisconnecting';

/** Writes `text`, then half-closes. */
function sayAndHalfClose(text: string) {
  return (p: Probe): void => {
    p.transport.write(Buffer.from(text));
    p.transport.loseWriteConnection();
  };
}

/** Once the peer has finished: replies with `text`, then closes. */
function replyAndClose(text: string) {
  return (p: Probe): void => {
    p.transport.write(Buffer.from(text));
    p.transport.loseConnection();
  };
}

export const halfClose: Behaviour = {
  name: 'half-close',
  cases: [
    {
      name: 'the client half-closes: the server gets readConnectionLost, replies, the client receives it, then both close',
      skip: noHalfClose,
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new HalfCloseProbe({ readLost: replyAndClose('reply') }),
          () =>
            new HalfCloseProbe({
              made: sayAndHalfClose('request'),
              readLost: (p) => p.transport.loseConnection(),
            }),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        await c.settle();
        assert.equal(c.server.data().toString(), 'request');
        assert.equal(c.client.data().toString(), 'reply');
        assert.ok(c.server.events.includes('readConnectionLost'), c.server.events.join(' → '));
        assert.ok(c.client.events.includes('writeConnectionLost'), c.client.events.join(' → '));
        assertLifecycle(c.server, 'server', HALF);
        assertLifecycle(c.client, 'client', HALF);
        assertReason(c.server.reason, ConnectionDone, 'server');
        assertReason(c.client.reason, ConnectionDone, 'client');
      },
      singleSkip: ONE_SIDED,
    },
    {
      name: 'the server half-closes: the client gets readConnectionLost, replies, the server receives it, then both close',
      skip: noHalfClose,
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () =>
            new HalfCloseProbe({
              made: sayAndHalfClose('greeting'),
              readLost: (p) => p.transport.loseConnection(),
            }),
          () => new HalfCloseProbe({ readLost: replyAndClose('thanks') }),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        await c.settle();
        assert.equal(c.client.data().toString(), 'greeting');
        assert.equal(c.server.data().toString(), 'thanks');
        assert.ok(c.client.events.includes('readConnectionLost'), c.client.events.join(' → '));
        assert.ok(c.server.events.includes('writeConnectionLost'), c.server.events.join(' → '));
        assertLifecycle(c.server, 'server', HALF);
        assertLifecycle(c.client, 'client', HALF);
      },
      singleSkip: ONE_SIDED,
    },
    {
      name: "a protocol without readConnectionLost gets connectionLost (ConnectionDone) on the peer's half-close",
      skip: noHalfClose,
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () =>
            new HalfCloseProbe({
              made: sayAndHalfClose('bye'),
              readLost: (p) => p.transport.loseConnection(),
            }),
          () => new Probe(),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        await c.settle();
        assert.equal(c.client.data().toString(), 'bye');
        assertLifecycle(c.client, 'client');
        assertReason(c.client.reason, ConnectionDone, 'client');
        assertLifecycle(c.server, 'server', HALF);
      },
      singleSkip: ONE_SIDED,
    },
    {
      name: 'a protocol with only readConnectionLost (no writeConnectionLost) still half-closes',
      skip: noHalfClose,
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new ReadHalfProbe({ readLost: replyAndClose('reply') }),
          () =>
            new HalfCloseProbe({
              made: sayAndHalfClose('request'),
              readLost: (p) => p.transport.loseConnection(),
            }),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        await c.settle();
        assert.equal(c.server.data().toString(), 'request');
        assert.ok(c.server.events.includes('readConnectionLost'), c.server.events.join(' → '));
        assert.equal(c.client.data().toString(), 'reply', 'the reply written after the half-close');
        assertLifecycle(c.server, 'server', HALF);
        assertLifecycle(c.client, 'client', HALF);
      },
      singleSkip: ONE_SIDED,
    },
  ],
};
