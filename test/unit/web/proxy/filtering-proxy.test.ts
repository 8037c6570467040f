// FilteringProxyFactory on a MemoryReactorClock: the rules applied to what
// passes (blocks, cookies), rules swapped under a running proxy, clients
// admitted by ClientAccess (loopback only by default, a per-client cap), the
// status page on the proxy's own address, and drain ending its streams.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogs, formatEvent } from '../../../../src/logger/index.js';
import { ClientAccess } from '../../../../src/web/proxy/client-access.js';
import {
  FilteringProxyFactory,
  type FilteringProxyOptions,
} from '../../../../src/web/proxy/filtering-proxy.js';
import type { ProxyOptions } from '../../../../src/web/proxy/proxy.js';
import { Rules } from '../../../../src/web/proxy/rules.js';
import { listenRecorder, proxyKit, type Recorder } from './_proxy-kit.js';

/** A kit whose proxy is a FilteringProxyFactory with `options`. */
function filteringKit(options: Partial<FilteringProxyOptions> = {}) {
  return proxyKit({}, ({ reactor, via }: ProxyOptions) => {
    return new FilteringProxyFactory({ reactor, ...(via !== undefined && { via }), ...options });
  });
}

function headLines(recorder: Recorder): string[] {
  const text = recorder.text();
  return text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
}

const LOOPBACK = '127.0.0.1';

describe('FilteringProxyFactory: rules', () => {
  it('refuses a blocked host with a 403 page naming the rule, without connecting upstream', () => {
    const kit = filteringKit({ rules: Rules.parse('block .ads.example\n', 'test-rules') });
    const client = kit.client(LOOPBACK);
    client.send('GET http://x.ads.example/banner HTTP/1.1\r\nHost: x.ads.example\r\n\r\n');
    kit.reactor.advance(0);
    const [reply] = client.replies();
    assert.equal(reply?.status, 403);
    assert.match(reply?.body ?? '', /test-rules:1/);
    assert.equal(kit.reactor.tcpClients.length, 0);
    assert.equal(kit.proxy.stats.blockedConnections, 1);
    assert.equal(kit.proxy.stats.requests, 1);
  });

  it('strips cookies both ways and counts them', () => {
    const kit = filteringKit({ rules: Rules.parse('strip-cookies *\n', 'test-rules') });
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client(LOOPBACK);
    client.send(
      'GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n',
    );
    const pump = kit.connectUpstream();
    const server = upstream.accepted[0] as Recorder;
    assert.ok(!headLines(server).some((line) => /^cookie:/i.test(line)), server.text());
    server.transport.write(
      Buffer.from('HTTP/1.1 200 OK\r\nSet-Cookie: t=1\r\nContent-Length: 2\r\n\r\nok', 'latin1'),
    );
    pump.flush();
    const [reply] = client.replies();
    assert.equal(reply?.status, 200);
    assert.equal(reply?.body, 'ok');
    assert.equal(reply?.header('set-cookie'), undefined);
    assert.equal(kit.proxy.stats.strippedCookies, 3);
  });

  it('applies the rules in force at each request when given a function', () => {
    let rules = Rules.parse('# nothing blocked\n', 'first');
    const kit = filteringKit({ rules: () => rules });
    const upstream = listenRecorder(kit.reactor, 8081);
    const client = kit.client(LOOPBACK);
    client.send('GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    kit.connectUpstream();
    assert.equal(upstream.accepted.length, 1);
    rules = Rules.parse('block 127.0.0.1\n', 'second');
    assert.equal(kit.proxy.rules.source, 'second');
    const other = kit.client(LOOPBACK);
    other.send('GET http://127.0.0.1:8081/x HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(other.replies()[0]?.status, 403);
    assert.match(other.replies()[0]?.body ?? '', /second:1/);
  });

  it('uses the built-in rules when given none', () => {
    const kit = filteringKit();
    assert.equal(kit.proxy.rules.source, 'built-in');
    const client = kit.client(LOOPBACK);
    client.send(
      'GET http://stats.g.doubleclick.net/x HTTP/1.1\r\nHost: stats.g.doubleclick.net\r\n\r\n',
    );
    kit.reactor.advance(0);
    assert.equal(client.replies()[0]?.status, 403);
  });
});

describe('FilteringProxyFactory: who is served', () => {
  it('aborts a connection from outside loopback by default, before reading a byte', () => {
    const kit = filteringKit();
    const client = kit.client('192.0.2.7');
    assert.ok(client.transport.disconnecting || client.transport.disconnected);
    assert.equal(client.output(), '');
    assert.equal(kit.proxy.stats.activeConnections, 0);
  });

  it('serves a client in an allowed range', () => {
    const kit = filteringKit({ access: new ClientAccess({ allow: ['192.0.2.0/24'] }) });
    const client = kit.client('192.0.2.7');
    assert.ok(!client.transport.disconnecting);
    assert.equal(kit.proxy.stats.activeConnections, 1);
    assert.equal(kit.proxy.access.openConnections('192.0.2.7'), 1);
    client.transport.loseConnection();
    assert.equal(kit.proxy.access.openConnections('192.0.2.7'), 0);
    assert.equal(kit.proxy.stats.activeConnections, 0);
  });

  it('refuses a client at its connection limit until one of its connections closes', () => {
    const kit = filteringKit({ access: new ClientAccess({ maxConnectionsPerClient: 2 }) });
    const first = kit.client(LOOPBACK);
    kit.client(LOOPBACK);
    const third = kit.client(LOOPBACK);
    assert.ok(third.transport.disconnecting || third.transport.disconnected);
    assert.equal(kit.proxy.access.openConnections(LOOPBACK), 2);
    first.transport.loseConnection();
    const fourth = kit.client(LOOPBACK);
    assert.ok(!fourth.transport.disconnecting);
    assert.equal(kit.proxy.access.openConnections(LOOPBACK), 2);
  });
});

describe('FilteringProxyFactory: refusals in the log', () => {
  it('logs the first refusal of a client, then one line a minute saying how many more', () => {
    const logs = captureLogs();
    try {
      const kit = filteringKit();
      const refusals = () =>
        logs.events.map(formatEvent).filter((line) => line.includes('Refused a connection'));
      for (let i = 0; i < 5; i++) kit.client('192.0.2.7');
      kit.client('198.51.100.1');
      assert.equal(refusals().length, 2, refusals().join('\n'));
      kit.reactor.advance(61);
      kit.client('192.0.2.7');
      const lines = refusals();
      assert.equal(lines.length, 3);
      assert.match(lines[2] ?? '', /192\.0\.2\.7.*\(and 4 more since the last such line\)/);
    } finally {
      logs.stop();
    }
  });
});

describe('FilteringProxyFactory: its own pages', () => {
  it('serves the status counters to a loopback client', () => {
    const kit = filteringKit({ rules: Rules.parse('block .ads.example\n', 'test-rules') });
    const blocked = kit.client(LOOPBACK);
    blocked.send('GET http://a.ads.example/ HTTP/1.1\r\nHost: a.ads.example\r\n\r\n');
    const client = kit.client(LOOPBACK);
    client.send('GET /_torsion/stats.json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
    kit.reactor.advance(0);
    const [reply] = client.replies();
    assert.equal(reply?.status, 200);
    const payload = JSON.parse(reply?.body ?? '{}') as {
      counters: { blockedConnections: number; requests: number };
      rules: { source: string };
    };
    assert.equal(payload.counters.blockedConnections, 1);
    assert.equal(payload.rules.source, 'test-rules');
  });

  it('refuses the status page to a client outside loopback, even an allowed one', () => {
    const kit = filteringKit({ access: new ClientAccess({ allow: ['192.0.2.0/24'] }) });
    const client = kit.client('192.0.2.7');
    client.send('GET /_torsion/ HTTP/1.1\r\nHost: 192.0.2.1:8080\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(client.replies()[0]?.status, 403);
  });

  it('says what it is at / and answers 404 elsewhere', () => {
    const kit = filteringKit();
    const client = kit.client(LOOPBACK);
    client.send(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\nGET /nothing HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n',
    );
    kit.reactor.advance(0);
    const [home, missing] = client.replies();
    assert.equal(home?.status, 200);
    assert.match(home?.body ?? '', /curl -x http:\/\/127\.0\.0\.1:8080/);
    assert.match(home?.body ?? '', /href="\/_torsion\/"/);
    assert.equal(missing?.status, 404);
  });

  it('has no status page when turned off', () => {
    const kit = filteringKit({ statusPage: false });
    assert.equal(kit.proxy.statusPage, undefined);
    const client = kit.client(LOOPBACK);
    client.send('GET /_torsion/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(client.replies()[0]?.status, 404);
  });

  it('ends the status page event streams when it drains', () => {
    const kit = filteringKit();
    const client = kit.client(LOOPBACK);
    client.send('GET /_torsion/events HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(kit.proxy.statusPage?.openStreams, 1);
    let drained = false;
    kit.proxy.drain().addCallback(() => {
      drained = true;
    });
    kit.reactor.advance(0);
    assert.equal(kit.proxy.statusPage?.openStreams, 0);
    assert.ok(drained);
  });
});
