// HTTPConnectionPool's idle timeout, kept by one timer for the whole pool:
// each idle connection still closes exactly cachedConnectionTimeout seconds
// after it became idle, whatever the others do, and no timer is left once
// nothing is idle (it would keep the process alive).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { IPv4Address } from '../../../src/internet/address.js';
import { type Deferred, succeed } from '../../../src/internet/defer.js';
import { ConnectionDone } from '../../../src/internet/error.js';
import { Failure } from '../../../src/internet/failure.js';
import type { IProtocolFactory, IStreamClientEndpoint } from '../../../src/internet/interfaces.js';
import { Clock } from '../../../src/internet/task/clock.js';
import { successResultOf } from '../../../src/testing/deferred-asserts.js';
import { StringTransportWithDisconnection } from '../../../src/testing/string-transport.js';
import type { IClientConnection } from '../../../src/web/client/pool.js';
import { HTTPConnectionPool } from '../../../src/web/client/pool.js';
import { readBody } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';

const KEY = 'http://example.test';
const OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'latin1');

/** Connections that complete at once; a transport closed by the pool reports it to its protocol. */
class Endpoint implements IStreamClientEndpoint {
  readonly transports: StringTransportWithDisconnection[] = [];
  connect<F extends IProtocolFactory>(factory: F): Deferred<never> {
    const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 80));
    assert.ok(protocol !== null);
    const transport = new StringTransportWithDisconnection({ lenient: true, protocol });
    protocol.makeConnection(transport);
    this.transports.push(transport);
    return succeed(protocol) as Deferred<never>;
  }
}

/** A connection taken from the pool, busy with a request until `finish` answers it. */
function take(pool: HTTPConnectionPool, endpoint: Endpoint, key = KEY) {
  const connection = successResultOf(pool.getConnection(key, endpoint)) as IClientConnection;
  const before = endpoint.transports.map((t) => t.value().length);
  const response = connection.request({
    method: 'GET',
    target: '/',
    headers: new Headers({ Host: ['example.test'] }),
    persistent: true,
  });
  // The connection the request was written on.
  const transport = endpoint.transports.find(
    (t, i) => t.value().length > (before[i] ?? 0),
  ) as StringTransportWithDisconnection;
  assert.ok(transport !== undefined, 'the request was written');
  return {
    transport,
    finish(): void {
      transport.clear();
      transport.protocol?.dataReceived(OK);
      successResultOf(readBody(successResultOf(response)));
    },
  };
}

describe('HTTPConnectionPool: idle timeouts on one timer', () => {
  test('each idle connection closes its own timeout after it became idle', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock, { cachedConnectionTimeout: 10 });
    const endpoint = new Endpoint();
    const a = take(pool, endpoint);
    const b = take(pool, endpoint);
    a.finish(); // idle at 0, closes at 10
    clock.advance(4);
    b.finish(); // idle at 4, closes at 14
    assert.equal(clock.getDelayedCalls().length, 1, 'one timer for both');
    clock.advance(5.9);
    assert.deepEqual([a.transport.disconnecting, b.transport.disconnecting], [false, false]);
    clock.advance(0.1);
    assert.deepEqual([a.transport.disconnecting, b.transport.disconnecting], [true, false]);
    clock.advance(3.9);
    assert.equal(b.transport.disconnecting, false);
    clock.advance(0.1);
    assert.equal(b.transport.disconnecting, true);
    assert.equal(pool.idleConnections(KEY), 0);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('a connection reused and returned gets a full timeout again', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock, { cachedConnectionTimeout: 10 });
    const endpoint = new Endpoint();
    take(pool, endpoint).finish(); // idle at 0
    clock.advance(8);
    const again = take(pool, endpoint); // the same connection, busy
    assert.equal(endpoint.transports.length, 1);
    clock.advance(1);
    again.finish(); // idle at 9: closes at 19, not 10
    clock.advance(1);
    assert.equal(again.transport.disconnecting, false, 'not closed at the first deadline');
    clock.advance(8.9);
    assert.equal(again.transport.disconnecting, false);
    clock.advance(0.1);
    assert.equal(again.transport.disconnecting, true);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('a connection in use is never closed by the timer', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock, { cachedConnectionTimeout: 10 });
    const endpoint = new Endpoint();
    take(pool, endpoint).finish();
    const busy = take(pool, endpoint);
    clock.advance(100);
    assert.equal(busy.transport.disconnecting, false);
    busy.finish();
    assert.equal(pool.idleConnections(KEY), 1);
  });

  test('no timer is left once the last idle connection closes by itself', () => {
    const clock = new Clock();
    const pool = new HTTPConnectionPool(clock, { cachedConnectionTimeout: 10 });
    const endpoint = new Endpoint();
    take(pool, endpoint).finish();
    const busy = take(pool, endpoint);
    // The connection taken from the cache is closed by the server while in use.
    busy.transport.protocol?.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(pool.idleConnections(KEY), 0);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('any sequence of returns, reuses and time: every idle connection closes at its own deadline', () => {
    // Steps: return a busy connection, take one (to a key), or let time pass.
    const step = fc.oneof(
      fc.record({ kind: fc.constant('finish' as const), which: fc.nat(7) }),
      fc.record({ kind: fc.constant('take' as const), key: fc.constantFrom('a', 'b') }),
      fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 7 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const clock = new Clock();
        const pool = new HTTPConnectionPool(clock, {
          cachedConnectionTimeout: 10,
          maxPersistentPerHost: 3,
        });
        const endpoint = new Endpoint();
        const busy: ReturnType<typeof take>[] = [];
        /** When each connection last became idle, while it is idle (oldest first). */
        const idleSince = new Map<StringTransportWithDisconnection, number>();
        const keyOf = new Map<StringTransportWithDisconnection, string>();
        for (const s of steps) {
          if (s.kind === 'take') {
            const taken = take(pool, endpoint, `http://${s.key}`);
            keyOf.set(taken.transport, s.key);
            idleSince.delete(taken.transport);
            busy.push(taken);
          } else if (s.kind === 'finish' && busy.length > 0) {
            const [done] = busy.splice(s.which % busy.length, 1) as [ReturnType<typeof take>];
            const key = keyOf.get(done.transport);
            const sameKey = [...idleSince.keys()].filter((t) => keyOf.get(t) === key);
            done.finish();
            if (sameKey.length >= 3) {
              // The oldest idle connection of that origin made room.
              assert.equal(sameKey[0]?.disconnecting, true);
              idleSince.delete(sameKey[0] as StringTransportWithDisconnection);
            }
            idleSince.set(done.transport, clock.seconds());
          } else if (s.kind === 'advance') {
            clock.advance(s.seconds);
          }
          for (const [transport, since] of idleSince) {
            const due = clock.seconds() >= since + 10;
            assert.equal(
              transport.disconnecting,
              due,
              `idle since ${since}, now ${clock.seconds()}`,
            );
            if (transport.disconnecting) idleSince.delete(transport);
          }
          for (const { transport } of busy) assert.equal(transport.disconnecting, false);
        }
        const idle = pool.idleConnections('http://a') + pool.idleConnections('http://b');
        if (idle > 0) assert.equal(clock.getDelayedCalls().length, 1);
        // A timer may stay armed while connections are in use; once they are
        // gone and nothing is idle, none is left.
        for (const { transport } of busy) {
          transport.protocol?.connectionLost(new Failure(new ConnectionDone()));
        }
        if (idle === 0) assert.equal(clock.getDelayedCalls().length, 0);
      }),
      { seed: 1313, numRuns: 300 },
    );
  });
});
