// Behaviours 1 and 2 of the conformance suite: the order of a connection's
// callbacks on both sides, and write/writeSequence delivering bytes in order
// (many small writes, one large one). Test-only; not exported.
// Tests: test/integration/conformance/transports.test.ts

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ConnectionDone } from 'torsion/protocol';
import { type Behaviour, connectPair, type PairBuilder } from './builder.js';
import { assertLifecycle, assertReason } from './check.js';
import { Probe, pattern } from './probe.js';

/** One side writes `hello`, the other closes once it has it; both lives are checked. */
async function closedBy(
  b: PairBuilder,
  t: TestContext,
  closer: 'server' | 'client',
): Promise<void> {
  const hello = Buffer.from('hello');
  const writer = closer === 'server' ? 'client' : 'server';
  const hooks = {
    writer: { made: (p: Probe) => p.transport.write(hello) },
    closer: {
      data: (p: Probe) => {
        if (p.received >= hello.length) p.transport.loseConnection();
      },
    },
  };
  const c = await connectPair(
    b,
    t,
    () => new Probe(writer === 'server' ? hooks.writer : hooks.closer),
    () => new Probe(writer === 'client' ? hooks.writer : hooks.closer),
  );
  await c.until(() => c.server.lost && c.client.lost, 'both sides to lose the connection');
  await c.settle();
  assert.deepEqual(c[closer].data(), hello);
  assertLifecycle(c.server, 'server');
  assertLifecycle(c.client, 'client');
  assertReason(c[closer].reason, ConnectionDone, closer);
}

export const lifecycle: Behaviour = {
  name: 'connection lifecycle',
  cases: [
    {
      name: 'makeConnection → connectionMade → dataReceived* → connectionLost once on both sides, when the server closes',
      pair: (b, t) => closedBy(b, t, 'server'),
      single(b) {
        const p = new Probe();
        const transport = b.attach(p);
        p.dataReceived(Buffer.from('fed by the test'));
        transport.loseConnection();
        transport.loseConnection();
        assertLifecycle(p, 'protocol');
        assertReason(p.reason, ConnectionDone, 'protocol');
      },
    },
    {
      name: 'the same order when the client closes',
      pair: (b, t) => closedBy(b, t, 'client'),
      singleSkip: 'one-sided: there is no second side to close',
    },
  ],
};

const SMALL = 2000;
const MIB = 1024 * 1024;

export const writes: Behaviour = {
  name: 'write and writeSequence',
  cases: [
    {
      name: 'many small writes arrive whole and in order',
      async pair(b, t) {
        const data = pattern(SMALL * 7, 3);
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () =>
            new Probe({
              made: (p) => {
                for (let i = 0; i < data.length; i += 7) p.transport.write(data.subarray(i, i + 7));
              },
            }),
        );
        await c.until(() => c.server.received >= data.length, 'every small write to arrive');
        assert.ok(c.server.data().equals(data), 'the bytes arrived in order');
      },
      single(b) {
        const data = pattern(SMALL * 7, 3);
        const transport = b.attach(new Probe());
        for (let i = 0; i < data.length; i += 7) transport.write(data.subarray(i, i + 7));
        assert.ok(transport.value().equals(data), 'recorded in order');
      },
    },
    {
      name: 'writeSequence sends its chunks in order, between the writes around it',
      async pair(b, t) {
        const c = await connectPair(
          b,
          t,
          () => new Probe(),
          () =>
            new Probe({
              made: (p) => {
                p.transport.write(Buffer.from('a'));
                p.transport.writeSequence([
                  Buffer.from('bc'),
                  new Uint8Array(0),
                  Buffer.from('def'),
                ]);
                p.transport.writeSequence([]);
                p.transport.write(Buffer.from('g'));
              },
            }),
        );
        await c.until(() => c.server.received >= 7, 'the seven bytes to arrive');
        assert.equal(c.server.data().toString(), 'abcdefg');
      },
      single(b) {
        const transport = b.attach(new Probe());
        transport.write(Buffer.from('a'));
        transport.writeSequence([Buffer.from('bc'), new Uint8Array(0), Buffer.from('def')]);
        transport.write(Buffer.from('g'));
        assert.equal(transport.value().toString(), 'abcdefg');
      },
    },
    {
      name: 'a 1 MiB write arrives whole and in order, and is echoed back whole',
      async pair(b, t) {
        const data = pattern(MIB, 11);
        const c = await connectPair(
          b,
          t,
          () => new Probe({ data: (p, chunk) => p.transport.write(chunk) }),
          () => new Probe({ made: (p) => p.transport.write(data) }),
        );
        await c.until(() => c.client.received >= data.length, 'the 1 MiB echo');
        assert.ok(c.server.data().equals(data), 'the server got the bytes in order');
        assert.ok(c.client.data().equals(data), 'the echo came back in order');
      },
      single(b) {
        const data = pattern(MIB, 11);
        const transport = b.attach(new Probe());
        transport.write(data);
        assert.ok(transport.value().equals(data));
      },
    },
  ],
};
