// ProxyStats: the counters, requests per second over a window as the clock
// moves, the bounded table of blocked hosts and its eviction, and the
// snapshot as plain JSON.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from '../../../../src/internet/address.js';
import { Clock } from '../../../../src/internet/task/clock.js';
import { Headers } from '../../../../src/web/headers.js';
import type { ProxiedRequestInfo } from '../../../../src/web/proxy/hooks.js';
import { ProxyStats } from '../../../../src/web/proxy/stats.js';

/** A request to `host` as a proxy would report it. */
function info(host = 'example.com'): ProxiedRequestInfo {
  return {
    method: 'GET',
    url: `http://${host}/`,
    scheme: 'http',
    host,
    port: 80,
    path: '/',
    headers: new Headers(),
    clientAddress: new IPv4Address('TCP', '127.0.0.1', 40000),
  };
}

describe('ProxyStats counters', () => {
  test('start at zero and count each kind of report', () => {
    const stats = new ProxyStats(new Clock(1000));
    assert.deepEqual(stats.counters(), {
      requests: 0,
      blockedConnections: 0,
      strippedCookies: 0,
      blockedImages: 0,
      upstreamErrors: 0,
      activeConnections: 0,
    });
    stats.request(info());
    stats.request(info());
    stats.request(info());
    stats.blocked(info('ads.example'), 'rules.txt:3');
    stats.imageBlocked(info('img.example'), 'rules.txt:9');
    stats.imageBlocked(info('img.example'), 'rules.txt:9');
    stats.cookiesStripped(info(), 2);
    stats.cookiesStripped(info(), 1);
    stats.upstreamError(info(), 'connection refused');
    assert.equal(stats.requests, 3);
    assert.equal(stats.blockedConnections, 1);
    assert.equal(stats.blockedImages, 2);
    assert.equal(stats.strippedCookies, 3);
    assert.equal(stats.upstreamErrors, 1);
  });

  test('active connections go up and down, never below zero', () => {
    const stats = new ProxyStats(new Clock());
    stats.connectionOpened();
    stats.connectionOpened();
    stats.connectionClosed();
    assert.equal(stats.activeConnections, 1);
    stats.connectionClosed();
    stats.connectionClosed();
    assert.equal(stats.activeConnections, 0);
  });

  test('a cookie count that is not positive or not finite is ignored, a fraction floored', () => {
    const stats = new ProxyStats(new Clock());
    stats.cookiesStripped(info(), 0);
    stats.cookiesStripped(info(), -4);
    stats.cookiesStripped(info(), Number.NaN);
    stats.cookiesStripped(info(), Number.POSITIVE_INFINITY);
    stats.cookiesStripped(info(), 2.7);
    assert.equal(stats.strippedCookies, 2);
  });

  test('options that are not positive integers are refused with their name', () => {
    const clock = new Clock();
    assert.throws(() => new ProxyStats(clock, { window: 0 }), /window must be a positive integer/);
    assert.throws(() => new ProxyStats(clock, { window: 1.5 }), /window/);
    assert.throws(
      () => new ProxyStats(clock, { maxTrackedHosts: -1 }),
      /maxTrackedHosts must be a positive integer, not -1/,
    );
  });
});

describe('ProxyStats.requestsPerSecond', () => {
  test('counts each whole second apart, oldest first, without the second under way', () => {
    const clock = new Clock(1000);
    const stats = new ProxyStats(clock, { window: 5 });
    stats.request(info());
    stats.request(info());
    clock.advance(1.5);
    stats.request(info());
    // Now 1001.5: seconds 996..1000 are whole; 1001 is under way.
    assert.deepEqual(stats.requestsPerSecond(), [0, 0, 0, 0, 2]);
    clock.advance(0.5);
    assert.deepEqual(stats.requestsPerSecond(), [0, 0, 0, 2, 1]);
    assert.deepEqual(stats.requestsPerSecond(2), [2, 1]);
  });

  test('seconds older than the window are forgotten, also after a long quiet spell', () => {
    const clock = new Clock(50);
    const stats = new ProxyStats(clock, { window: 3 });
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i <= s; i++) stats.request(info());
      clock.advance(1);
    }
    // Seconds 50..54 had 1..5 requests; the window holds 52..54.
    assert.deepEqual(stats.requestsPerSecond(), [3, 4, 5]);
    clock.advance(2);
    assert.deepEqual(stats.requestsPerSecond(), [5, 0, 0]);
    clock.advance(100);
    assert.deepEqual(stats.requestsPerSecond(), [0, 0, 0]);
    stats.request(info());
    clock.advance(1);
    assert.deepEqual(stats.requestsPerSecond(), [0, 0, 1]);
  });

  test('asking for more seconds than the window gives the window', () => {
    const stats = new ProxyStats(new Clock(10), { window: 4 });
    assert.equal(stats.requestsPerSecond(100).length, 4);
    assert.equal(stats.requestsPerSecond(0).length, 0);
  });

  test('a clock that goes back counts in the newest second', () => {
    let now = 100.2;
    const clock = {
      seconds: () => now,
      callLater: () => {
        throw new Error('not used');
      },
      getDelayedCalls: () => [],
    };
    const stats = new ProxyStats(clock, { window: 3 });
    now = 101.5;
    stats.request(info());
    now = 99;
    stats.request(info());
    now = 102;
    assert.deepEqual(stats.requestsPerSecond(), [0, 0, 2]);
  });
});

describe('ProxyStats.topBlockedHosts', () => {
  test('ranks hosts by blocks (connections and images), ties alphabetically', () => {
    const stats = new ProxyStats(new Clock());
    for (const host of ['b.example', 'a.example', 'c.example', 'c.example', 'd.example']) {
      stats.blocked(info(host), 'r:1');
    }
    stats.imageBlocked(info('d.example'), 'r:2');
    stats.imageBlocked(info('d.example'), 'r:2');
    assert.deepEqual(stats.topBlockedHosts(3), [
      { host: 'd.example', count: 3 },
      { host: 'c.example', count: 2 },
      { host: 'a.example', count: 1 },
    ]);
    assert.equal(stats.topBlockedHosts().length, 4);
  });

  test('when the table is full, a new host replaces the smallest count, the oldest among equals', () => {
    const stats = new ProxyStats(new Clock(), { maxTrackedHosts: 3 });
    stats.blocked(info('heavy.example'), 'r');
    stats.blocked(info('heavy.example'), 'r');
    stats.blocked(info('heavy.example'), 'r');
    stats.blocked(info('old.example'), 'r');
    stats.blocked(info('middle.example'), 'r');
    stats.blocked(info('middle.example'), 'r');
    // Full: old (1) is the smallest and goes.
    stats.blocked(info('new.example'), 'r');
    assert.deepEqual(stats.topBlockedHosts(), [
      { host: 'heavy.example', count: 3 },
      { host: 'middle.example', count: 2 },
      { host: 'new.example', count: 1 },
    ]);
    // Full again: new (1) goes, the heavy hitters stay.
    stats.blocked(info('newer.example'), 'r');
    assert.deepEqual(
      stats.topBlockedHosts().map((h) => h.host),
      ['heavy.example', 'middle.example', 'newer.example'],
    );
  });

  test('a few of many hosts come out as a full sort would give them', () => {
    const stats = new ProxyStats(new Clock(), { maxTrackedHosts: 500 });
    // Counts 1..7 spread over 400 hosts, in a scrambled order, with ties.
    for (let i = 0; i < 400; i++) {
      const host = `h${(i * 7919) % 400}.example`;
      for (let k = 0; k <= i % 7; k++) stats.blocked(info(host), 'r');
    }
    const all = stats.topBlockedHosts(400);
    assert.equal(all.length, 400);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1], all[i]] as [{ host: string; count: number }, (typeof all)[0]];
      assert.ok(a.count > b.count || (a.count === b.count && a.host < b.host), `order at ${i}`);
    }
    for (const n of [1, 3, 10, 57])
      assert.deepEqual(stats.topBlockedHosts(n), all.slice(0, n), `top ${n}`);
    assert.deepEqual(stats.topBlockedHosts(0), []);
  });

  test('never holds more than maxTrackedHosts hosts', () => {
    const stats = new ProxyStats(new Clock(), { maxTrackedHosts: 50 });
    for (let i = 0; i < 2000; i++) stats.blocked(info(`h${i % 300}.example`), 'r');
    assert.equal(stats.topBlockedHosts(1000).length, 50);
    assert.equal(stats.blockedConnections, 2000);
  });
});

describe('ProxyStats.snapshot', () => {
  test('is a plain object that survives a JSON round trip unchanged', () => {
    const clock = new Clock(2000);
    const stats = new ProxyStats(clock, { window: 4 });
    stats.connectionOpened();
    stats.request(info());
    stats.blocked(info('ads.example'), 'r:1');
    clock.advance(1.25);
    const snapshot = stats.snapshot();
    assert.deepEqual(JSON.parse(JSON.stringify(snapshot)), snapshot);
    assert.deepEqual(snapshot, {
      time: 2001.25,
      startedAt: 2000,
      counters: {
        requests: 1,
        blockedConnections: 1,
        strippedCookies: 0,
        blockedImages: 0,
        upstreamErrors: 0,
        activeConnections: 1,
      },
      requestsPerSecond: { end: 2001, values: [0, 0, 0, 1] },
      topBlockedHosts: [{ host: 'ads.example', count: 1 }],
    });
  });

  test('takes how many hosts and seconds to include', () => {
    const stats = new ProxyStats(new Clock(10));
    for (const host of ['a', 'b', 'c']) stats.blocked(info(host), 'r');
    const snapshot = stats.snapshot({ top: 2, seconds: 60 });
    assert.equal(snapshot.topBlockedHosts.length, 2);
    assert.equal(snapshot.requestsPerSecond.values.length, 60);
  });
});
