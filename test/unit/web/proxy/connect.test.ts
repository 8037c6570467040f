// CONNECT through the forward proxy on a MemoryReactorClock: tunnels to
// allowed ports only, 200 then raw bytes both ways, half-close passed
// through, backpressure both ways, failures as 502/504 pages, and a drain
// that closes the open tunnels.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeoutError } from '../../../../src/internet/error.js';
import { Failure } from '../../../../src/internet/failure.js';
import type { IPushProducer } from '../../../../src/internet/interfaces.js';
import type { FakeTransport } from '../../../../src/testing/iosim.js';
import type { ProxiedRequestInfo } from '../../../../src/web/proxy/hooks.js';
import { listenRecorder, proxyKit, type Recorder } from './_proxy-kit.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection established\r\nVia: 1.1 test-proxy\r\n\r\n';

/** A proxy, a client that sent CONNECT 127.0.0.1:443 (plus `early`), and the upstream connected. */
function openTunnel(early = '') {
  const kit = proxyKit();
  const upstream = listenRecorder(kit.reactor, 443);
  const client = kit.client();
  client.send(`CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n${early}`);
  const pump = kit.connectUpstream();
  const server = upstream.accepted[0] as Recorder;
  return { kit, client, pump, server };
}

describe('Proxy: CONNECT', () => {
  it('answers 200 Connection established and passes bytes both ways unchanged', () => {
    const { kit, client, pump, server } = openTunnel();
    assert.equal(client.output(), ESTABLISHED);
    assert.equal(kit.proxy.openTunnels, 1);
    client.transport.clear();
    client.send('\x16\x03\x01 hello, not HTTP\r\n\r\nGET / HTTP/1.1\r\n');
    pump.flush();
    assert.equal(server.text(), '\x16\x03\x01 hello, not HTTP\r\n\r\nGET / HTTP/1.1\r\n');
    server.transport.write(Buffer.from('\x00\xffbytes back', 'latin1'));
    pump.flush();
    assert.equal(client.output(), '\x00\xffbytes back');
  });

  it('passes on what the client sent right behind the CONNECT head', () => {
    const { pump, server } = openTunnel('early bytes');
    pump.flush();
    assert.equal(server.text(), 'early bytes');
  });

  it("passes the client's FIN upstream and the upstream's back, and closes both once both are done", () => {
    const { kit, client, pump, server } = openTunnel();
    client.channel.readConnectionLost(); // the client finished sending
    pump.flush();
    assert.equal(server.readEnded, true, 'the upstream saw FIN');
    assert.equal(server.lost, false);
    // The other direction still works.
    client.transport.clear();
    server.transport.write(Buffer.from('late answer'));
    pump.flush();
    assert.equal(client.output(), 'late answer');
    assert.equal(client.transport.disconnecting, false);
    server.transport.loseWriteConnection();
    pump.flush();
    assert.equal(server.lost, true);
    assert.equal(client.transport.disconnecting, true);
    assert.equal(kit.proxy.openTunnels, 0);
  });

  it("passes the upstream's FIN to the client first, keeping the client's direction open", () => {
    const { client, pump, server } = openTunnel();
    server.transport.loseWriteConnection();
    pump.flush();
    assert.equal(client.transport.writeDisconnecting, true);
    assert.equal(client.transport.connected, true);
    client.send('still going');
    pump.flush();
    assert.equal(server.text(), 'still going');
  });

  it('closes the client when the upstream connection is lost, and the upstream when the client is', () => {
    const first = openTunnel();
    first.server.transport.loseConnection();
    first.pump.flush();
    assert.equal(first.client.transport.disconnecting, true);
    const second = openTunnel();
    second.client.transport.loseConnection();
    second.pump.flush();
    assert.equal(second.server.lost, true);
    assert.equal(second.kit.proxy.openTunnels, 0);
  });

  it('holds each side back while the other cannot take more (each transport is the other’s producer)', () => {
    const { client, pump, server } = openTunnel();
    const upstreamTransport: FakeTransport = pump.clientIO;
    // The client's transport has the upstream side as its streaming producer…
    assert.notEqual(client.transport.producer, undefined);
    assert.equal(client.transport.streaming, true);
    // …and the upstream connection has the client's side as its.
    assert.notEqual(upstreamTransport.producer, undefined);
    // The client's send buffer is full: the upstream stops reading.
    (client.transport.producer as IPushProducer).pauseProducing();
    assert.equal(upstreamTransport.producerState, 'paused');
    client.transport.clear();
    server.transport.write(Buffer.from('held'));
    pump.flush();
    assert.equal(client.output(), '', 'nothing read from upstream while paused');
    (client.transport.producer as IPushProducer).resumeProducing();
    pump.flush();
    assert.equal(client.output(), 'held');
    // The upstream's buffer is full: the client's connection stops being read.
    (upstreamTransport.producer as IPushProducer).pauseProducing();
    assert.equal(client.transport.producerState, 'paused');
    (upstreamTransport.producer as IPushProducer).resumeProducing();
    assert.equal(client.transport.producerState, 'producing');
  });

  it('refuses a port not in connectPorts with 403, connecting nowhere', () => {
    const kit = proxyKit();
    const client = kit.client();
    client.send('CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(kit.reactor.tcpClients.length, 0);
    const [reply] = client.replies(['CONNECT']);
    assert.equal(reply?.status, 403);
    assert.match(reply?.body ?? '', /port 25 are not allowed/);
  });

  it('allows the ports given in connectPorts', () => {
    const kit = proxyKit({ connectPorts: [8443] });
    listenRecorder(kit.reactor, 8443);
    const client = kit.client();
    client.send('CONNECT 127.0.0.1:8443 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\n');
    kit.connectUpstream();
    assert.equal(client.output(), ESTABLISHED);
  });

  it('answers 502 naming the upstream when it refuses, 504 when it does not accept in time', () => {
    const kit = proxyKit({ connectTimeout: 3 });
    const client = kit.client();
    client.send('CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
    kit.reactor.advance(0);
    kit.completer.failOnce();
    kit.reactor.advance(0);
    const [refused] = client.replies(['CONNECT']);
    assert.equal(refused?.status, 502);
    assert.match(refused?.body ?? '', /127\.0\.0\.1:443/);
    const other = kit.client();
    other.send('CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
    kit.reactor.advance(0);
    kit.completer.failOnce(new Failure(new TimeoutError('connection timed out')));
    kit.reactor.advance(0);
    const [timedOut] = other.replies(['CONNECT']);
    assert.equal(timedOut?.status, 504);
    assert.match(timedOut?.body ?? '', /within 3 seconds/);
  });

  it('asks the filter, with the scheme https and the URL https://host:port/', () => {
    const seen: ProxiedRequestInfo[] = [];
    const kit = proxyKit({
      filter: {
        filterRequest(info) {
          seen.push(info);
          return { code: 403, body: 'blocked by rule 3' };
        },
      },
    });
    const client = kit.client();
    client.send(
      'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\nProxy-Authorization: x\r\n\r\n',
    );
    kit.reactor.advance(0);
    assert.equal(kit.reactor.tcpClients.length, 0);
    assert.equal(client.replies(['CONNECT'])[0]?.body, 'blocked by rule 3');
    assert.deepEqual(
      seen.map((i) => [i.method, i.url, i.scheme, i.host, i.port, i.path]),
      [['CONNECT', 'https://127.0.0.1:443/', 'https', '127.0.0.1', 443, '']],
    );
    assert.equal(seen[0]?.headers.hasHeader('proxy-authorization'), false);
  });

  it('abandons the connection attempt when the client goes away first', () => {
    const kit = proxyKit();
    const client = kit.client();
    client.send('CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
    kit.reactor.advance(0);
    const [connector] = kit.reactor.connectors;
    assert.equal(connector?.state, 'connecting');
    client.transport.loseConnection();
    assert.notEqual(connector?.state, 'connecting');
  });

  it('refuses a tunnel to its own address', () => {
    const kit = proxyKit({ connectPorts: [8080] });
    const client = kit.client();
    client.send('CONNECT 192.0.2.1:8080 HTTP/1.1\r\nHost: 192.0.2.1:8080\r\n\r\n');
    kit.reactor.advance(0);
    assert.equal(kit.reactor.tcpClients.length, 0);
    assert.equal(client.replies(['CONNECT'])[0]?.status, 403);
  });

  it('drain closes the open tunnels and fires once every connection is closed', () => {
    const { kit, pump, server, client } = openTunnel();
    const drained = kit.proxy.drain();
    pump.flush();
    assert.equal(server.lost, true);
    assert.equal(client.transport.disconnecting, true);
    assert.equal(drained.called, true);
    assert.equal(kit.proxy.openTunnels, 0);
  });

  it('opens the tunnel through the upstream proxy when there is one', () => {
    const kit = proxyKit({ upstreamProxy: 'http://127.0.0.1:3128' });
    kit.reactor.hosts.set('example.com', '203.0.113.5');
    const upstream = listenRecorder(kit.reactor, 3128);
    const client = kit.client();
    client.send('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    const pump = kit.connectUpstream();
    const server = upstream.accepted[0] as Recorder;
    assert.equal(
      server.text(),
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nVia: 1.1 test-proxy\r\n\r\n',
    );
    assert.equal(client.output(), '', 'no answer before the upstream proxy has');
    server.received = Buffer.alloc(0);
    server.transport.write(Buffer.from('HTTP/1.1 200 OK\r\n\r\nserver first', 'latin1'));
    pump.flush();
    assert.equal(client.output(), `${ESTABLISHED}server first`);
    client.send('client bytes');
    pump.flush();
    assert.equal(server.text(), 'client bytes');
  });

  it('answers 502 naming the status when the upstream proxy refuses the tunnel', () => {
    const kit = proxyKit({ upstreamProxy: 'http://127.0.0.1:3128' });
    const upstream = listenRecorder(kit.reactor, 3128);
    const client = kit.client();
    client.send('CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
    const pump = kit.connectUpstream();
    const server = upstream.accepted[0] as Recorder;
    server.transport.write(
      Buffer.from('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', 'latin1'),
    );
    pump.flush();
    const [reply] = client.replies(['CONNECT']);
    assert.equal(reply?.status, 502);
    assert.match(reply?.body ?? '', /403 Forbidden/);
    assert.equal(server.lost, true);
  });

  it('answers 504 when the upstream proxy does not answer CONNECT within connectTimeout', () => {
    const kit = proxyKit({ upstreamProxy: 'http://127.0.0.1:3128', connectTimeout: 4 });
    listenRecorder(kit.reactor, 3128);
    const client = kit.client();
    client.send('CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
    const pump = kit.connectUpstream();
    kit.reactor.advance(4);
    pump.flush();
    const [reply] = client.replies(['CONNECT']);
    assert.equal(reply?.status, 504);
  });
});
