// ReverseProxyResource on a MemoryReactorClock: Host rewritten or kept,
// the forwarding headers, the rewriting hooks, several upstreams with
// passive health, the page when none is left, and the Upgrade passthrough.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from '../../../../src/internet/address.js';
import { ConnectionRefusedError } from '../../../../src/internet/error.js';
import { Failure } from '../../../../src/internet/failure.js';
import type { IConnector } from '../../../../src/internet/interfaces.js';
import type { Clock } from '../../../../src/internet/task/clock.js';
import { MemoryReactorClock } from '../../../../src/testing/memory-reactor.js';
import { StringTransportWithDisconnection } from '../../../../src/testing/string-transport.js';
import {
  type ReverseProxyOptions,
  ReverseProxyResource,
} from '../../../../src/web/proxy/reverse.js';
import { Resource } from '../../../../src/web/resource.js';
import { connect } from '../_server.js';

function complete(reactor: MemoryReactorClock, index: number): StringTransportWithDisconnection {
  const record = reactor.tcpClients[index];
  assert.ok(record !== undefined, `connection ${index} was made`);
  const protocol = record[2].buildProtocol(new IPv4Address('TCP', record[0], record[1]));
  assert.ok(protocol !== null);
  const transport = new StringTransportWithDisconnection({ lenient: true, protocol });
  protocol.makeConnection(transport);
  return transport;
}

function refuse(reactor: MemoryReactorClock, index: number): void {
  const record = reactor.tcpClients[index];
  assert.ok(record !== undefined);
  const factory = record[2] as unknown as {
    clientConnectionFailed(c: IConnector, f: Failure): void;
  };
  factory.clientConnectionFailed(
    {} as IConnector,
    new Failure(new ConnectionRefusedError(`${record[0]}:${record[1]}`)),
  );
}

function head(transport: StringTransportWithDisconnection): string {
  return transport.value().toString('latin1').split('\r\n\r\n')[0] as string;
}

function setup(options: Partial<ReverseProxyOptions> = {}, path = '') {
  const reactor = new MemoryReactorClock();
  const proxy = new ReverseProxyResource('127.0.0.1', 8001, path, { reactor, ...options });
  const conn = connect(proxy, { clock: reactor as unknown as Clock });
  return { reactor, proxy, conn };
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('ReverseProxyResource: what goes upstream', () => {
  test('Host is rewritten to the upstream, and the forwarding headers are added', () => {
    const { reactor, conn } = setup();
    conn.send('GET /a?b=1 HTTP/1.1\r\nHost: front.test\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n');
    const upstream = complete(reactor, 0);
    const sent = head(upstream);
    assert.match(sent, /^GET \/a\?b=1 HTTP\/1\.1\r\n/);
    assert.match(sent, /\r\nHost: 127\.0\.0\.1:8001(\r\n|$)/);
    assert.match(sent, /\r\nX-Forwarded-For: 203\.0\.113\.9, 192\.0\.2\.7(\r\n|$)/);
    assert.match(sent, /\r\nX-Forwarded-Host: front\.test(\r\n|$)/);
    assert.match(sent, /\r\nX-Forwarded-Proto: http(\r\n|$)/);
    assert.match(sent, /\r\nForwarded: for=192\.0\.2\.7;host=front\.test;proto=http(\r\n|$)/);
    upstream.protocol?.dataReceived(Buffer.from(OK));
    assert.equal(conn.replies()[0]?.body, 'ok');
  });

  test('preserveHost keeps the client Host; xForwarded: false adds nothing', () => {
    const { reactor, conn } = setup({ preserveHost: true, xForwarded: false });
    conn.send('GET / HTTP/1.1\r\nHost: front.test\r\n\r\n');
    const sent = head(complete(reactor, 0));
    assert.match(sent, /\r\nHost: front\.test(\r\n|$)/);
    assert.doesNotMatch(sent, /Forwarded/i);
  });

  test('rewriteRequestHeaders and rewriteResponseHeaders edit both ways', () => {
    const { reactor, conn } = setup({
      rewriteRequestHeaders: (headers, request) => {
        headers.setRawHeaders('X-Original-Path', [request.uri]);
        headers.removeHeader('cookie');
      },
      rewriteResponseHeaders: (headers) => headers.setRawHeaders('Server', ['hidden']),
    });
    conn.send('GET /p HTTP/1.1\r\nHost: f\r\nCookie: a=1\r\n\r\n');
    const upstream = complete(reactor, 0);
    assert.match(head(upstream), /X-Original-Path: \/p/);
    assert.doesNotMatch(head(upstream), /Cookie/);
    upstream.protocol?.dataReceived(
      Buffer.from('HTTP/1.1 200 OK\r\nServer: backend/1.0\r\nContent-Length: 0\r\n\r\n'),
    );
    assert.equal(conn.replies()[0]?.header('server'), 'hidden');
  });

  test('a rewriteRequestHeaders that throws is logged and answered 500', () => {
    const { conn, reactor } = setup({
      rewriteRequestHeaders: () => {
        throw new Error('hook bug');
      },
    });
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    assert.equal(conn.replies()[0]?.status, 500);
    assert.equal(reactor.tcpClients.length, 0);
  });

  test('mounted under a path, the rest of the path is appended', () => {
    const reactor = new MemoryReactorClock();
    const root = new Resource();
    root.putChild(
      'app',
      new ReverseProxyResource('127.0.0.1', 8001, '/base', { reactor, xForwarded: false }),
    );
    const conn = connect(root, { clock: reactor as unknown as Clock });
    conn.send('GET /app/x/y%20z/?q HTTP/1.1\r\nHost: f\r\n\r\n');
    assert.match(head(complete(reactor, 0)), /^GET \/base\/x\/y%20z\/\?q HTTP\/1\.1/);
  });

  test('a path that could not be sent is refused by the constructor', () => {
    const reactor = new MemoryReactorClock();
    for (const bad of ['base', '/a b', '/é']) {
      assert.throws(() => new ReverseProxyResource('h', 1, bad, { reactor }), /path must be/, bad);
    }
    assert.equal(new ReverseProxyResource('h', 1, '/a%20b', { reactor }).path, '/a%20b');
  });

  test('without a reactor the constructor says what is missing', () => {
    assert.throws(
      () => new ReverseProxyResource('h', 1, '', undefined as unknown as ReverseProxyOptions),
      /options\.reactor is required/,
    );
  });
});

describe('ReverseProxyResource: several upstreams', () => {
  test('requests are spread round-robin', () => {
    const { reactor, conn } = setup({ upstreams: [{ host: '127.0.0.2', port: 8002 }] });
    conn.send('GET /1 HTTP/1.1\r\nHost: f\r\n\r\n');
    complete(reactor, 0).protocol?.dataReceived(Buffer.from(OK));
    conn.send('GET /2 HTTP/1.1\r\nHost: f\r\n\r\n');
    complete(reactor, 1).protocol?.dataReceived(Buffer.from(OK));
    assert.deepEqual(
      reactor.tcpClients.map(([h, p]) => `${h}:${p}`),
      ['127.0.0.1:8001', '127.0.0.2:8002'],
    );
  });

  test('a refused upstream is a 502 naming it; after N failures it is skipped', () => {
    const { reactor, conn } = setup({
      upstreams: [{ host: '127.0.0.2', port: 8002 }],
      health: { failures: 1, cooldown: 30 },
    });
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    refuse(reactor, 0);
    const [reply] = conn.replies();
    assert.equal(reply?.status, 502);
    assert.match(reply?.body ?? '', /127\.0\.0\.1:8001 refused the connection/);
    let other: StringTransportWithDisconnection | undefined;
    for (let i = 0; i < 3; i++) {
      conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
      other ??= complete(reactor, 1);
      other.protocol?.dataReceived(Buffer.from(OK));
    }
    assert.deepEqual(
      conn.replies().map((r) => r.status),
      [502, 200, 200, 200],
    );
    assert.deepEqual(
      reactor.tcpClients.slice(1).map(([h]) => h),
      ['127.0.0.2'],
      'the other upstream takes every request (its connection is reused)',
    );
  });

  test('with every upstream out of the rotation, a 502 at once, and recovery after the cooldown', () => {
    const { reactor, conn } = setup({ health: { failures: 1, cooldown: 5 } });
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    refuse(reactor, 0);
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    assert.equal(reactor.tcpClients.length, 1, 'no connection attempted');
    const second = conn.replies()[1];
    assert.equal(second?.status, 502);
    assert.match(second?.body ?? '', /out of the rotation/);
    reactor.advance(5);
    conn.send('GET / HTTP/1.1\r\nHost: f\r\n\r\n');
    complete(reactor, 1).protocol?.dataReceived(Buffer.from(OK));
    assert.equal(conn.replies()[2]?.status, 200);
  });
});

describe('ReverseProxyResource: Upgrade passthrough', () => {
  const UPGRADE =
    'GET /chat HTTP/1.1\r\nHost: f\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

  test('the head goes up with Upgrade kept; after that, bytes pass raw both ways', () => {
    const { reactor, conn } = setup();
    conn.send(UPGRADE);
    const upstream = complete(reactor, 0);
    const sent = head(upstream);
    assert.match(sent, /^GET \/chat HTTP\/1\.1\r\n/);
    assert.match(sent, /\r\nUpgrade: websocket(\r\n|$)/);
    assert.match(sent, /\r\nConnection: Upgrade(\r\n|$)/);
    assert.match(sent, /\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==/);
    upstream.protocol?.dataReceived(
      Buffer.from(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi',
        'latin1',
      ),
    );
    assert.equal(
      conn.output(),
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi',
    );
    upstream.clear();
    conn.channel.dataReceived(Buffer.from('\x81\x85raw frame', 'latin1'));
    assert.equal(upstream.value().toString('latin1'), '\x81\x85raw frame');
    conn.transport.loseConnection();
    assert.equal(upstream.connected, false, 'closing one side closes the other');
  });

  test('an upstream that cannot be reached is a 502 on the HTTP connection', () => {
    const { reactor, conn } = setup();
    conn.send(UPGRADE);
    refuse(reactor, 0);
    assert.equal(conn.replies()[0]?.status, 502);
  });
});
