// Behaviours 3, 4 and 5 of the conformance suite: loseConnection flushes
// pending writes then closes cleanly, abortConnection closes at once, and
// `disconnecting` turns true as soon as either is called.
// Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import assert from 'node:assert/strict';
import {
  ConnectionAborted,
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
} from 'torsion/protocol';
import { type Behaviour, connectPair } from './builder.js';
import { assertLifecycle, assertReason } from './check.js';
import { Probe, pattern } from './probe.js';

const PENDING = 512 * 1024;

export const loseConnection: Behaviour = {
  name: 'loseConnection',
  cases: [
    {
      name: 'flushes pending writes first: the peer gets every byte, then both sides get ConnectionDone',
      async pair(b, t) {
        const data = pattern(PENDING, 5);
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () =>
            new Probe({
              made: (p) => {
                p.transport.write(data);
                p.transport.writeSequence([Buffer.from('the '), Buffer.from('end')]);
                p.transport.loseConnection();
              },
            }),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        assert.equal(c.server.received, PENDING + 7, 'every byte written before loseConnection');
        assert.ok(c.server.data().equals(Buffer.concat([data, Buffer.from('the end')])));
        assertReason(c.client.reason, ConnectionDone, 'client (closed cleanly)');
        assertReason(c.server.reason, ConnectionDone, 'server (peer closed cleanly)');
        assertLifecycle(c.server, 'server');
        assertLifecycle(c.client, 'client');
      },
      single(b) {
        const p = new Probe();
        const transport = b.attach(p);
        transport.write(Buffer.from('before'));
        transport.loseConnection();
        assert.equal(transport.value().toString(), 'before');
        assertReason(p.reason, ConnectionDone, 'protocol');
      },
    },
    {
      name: 'bytes written after loseConnection are dropped',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () =>
            new Probe({
              made: (p) => {
                p.transport.write(Buffer.from('kept'));
                p.transport.loseConnection();
                p.transport.write(Buffer.from('dropped'));
                p.transport.writeSequence([Buffer.from('dropped too')]);
              },
            }),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        assert.equal(c.server.data().toString(), 'kept');
      },
      singleSkip: 'StringTransport records every write, even after loseConnection (a test double)',
    },
  ],
};

export const abortConnection: Behaviour = {
  name: 'abortConnection',
  cases: [
    {
      name: 'closes at once: the aborting side gets ConnectionLost (ConnectionAborted), the peer connectionLost once',
      skip: (b) => (b.capabilities.abort ? undefined : 'no abortConnection on this transport'),
      async pair(b, t) {
        const data = pattern(PENDING, 9);
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () =>
            new Probe({
              made: (p) => {
                p.transport.write(data);
                p.transport.abortConnection();
              },
            }),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        await c.settle();
        assert.ok(c.server.received <= PENDING, 'no more than was written arrives');
        assert.ok(
          c.server.data().equals(data.subarray(0, c.server.received)),
          'what arrives is in order',
        );
        assertReason(c.client.reason, ConnectionAborted, 'client (aborted)');
        assertReason(c.server.reason, ConnectionClosed, 'server');
        assertLifecycle(c.server, 'server');
        assertLifecycle(c.client, 'client');
      },
      single(b) {
        const p = new Probe();
        const transport = b.attach(p);
        transport.abortConnection();
        assert.equal(transport.disconnecting, true);
        assert.equal(transport.disconnected, true);
        assertReason(p.reason, ConnectionLost, 'protocol');
        assertReason(p.reason, ConnectionAborted, 'protocol');
      },
    },
    {
      name: 'abortConnection after loseConnection still reports connectionLost once on each side',
      skip: (b) => {
        if (!b.capabilities.abort) return 'no abortConnection on this transport';
        return undefined;
      },
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () =>
            new Probe({
              made: (p) => {
                p.transport.write(Buffer.from('x'));
                p.transport.loseConnection();
                p.transport.abortConnection();
              },
            }),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        await c.settle();
        assertLifecycle(c.server, 'server');
        assertLifecycle(c.client, 'client');
      },
      single(b) {
        const p = new Probe();
        const transport = b.attach(p);
        transport.loseConnection();
        transport.abortConnection();
        assert.equal(p.lostCalls, 1);
      },
    },
    {
      name: 'abortConnection after loseWriteConnection still reports connectionLost once on each side',
      skip: (b) =>
        !b.capabilities.abort
          ? 'no abortConnection on this transport'
          : b.kind === 'pair' && !b.capabilities.halfClose
            ? 'no loseWriteConnection on this transport'
            : undefined,
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () =>
            new Probe({
              made: (p) => {
                p.transport.write(Buffer.from('x'));
                p.transport.loseWriteConnection();
                p.transport.abortConnection();
              },
            }),
        );
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        await c.settle();
        assertLifecycle(c.server, 'server');
        assertLifecycle(c.client, 'client');
        assertReason(c.client.reason, ConnectionAborted, 'client (aborted)');
      },
      singleSkip: 'a one-sided double has no write side to shut down',
    },
  ],
};

export const disconnectingFlag: Behaviour = {
  name: 'disconnecting',
  cases: [
    {
      name: 'false while open, true as soon as loseConnection is called, and still true once closed',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () => new Probe(),
        );
        assert.equal(c.client.transport.disconnecting, false, 'open');
        c.client.transport.loseConnection();
        assert.equal(c.client.transport.disconnecting, true, 'right after loseConnection');
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
        assert.equal(c.client.transport.disconnecting, true, 'once closed');
      },
      single(b) {
        const p = new Probe();
        const transport = b.attach(p);
        assert.equal(transport.disconnecting, false);
        transport.loseConnection();
        assert.equal(transport.disconnecting, true);
      },
    },
    {
      name: 'true as soon as abortConnection is called',
      skip: (b) => (b.capabilities.abort ? undefined : 'no abortConnection on this transport'),
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () => new Probe(),
        );
        c.client.transport.abortConnection();
        assert.equal(c.client.transport.disconnecting, true, 'right after abortConnection');
        await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
      },
      single(b) {
        const transport = b.attach(new Probe());
        transport.abortConnection();
        assert.equal(transport.disconnecting, true);
      },
    },
  ],
};
