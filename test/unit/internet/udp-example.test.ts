// examples/udp-echo.ts without sockets: the protocol on a
// FakeDatagramTransport and on a MemoryDatagramNetwork, and main() on a
// MemoryReactor.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatagramProtocol } from 'torsion/protocol';
import { FakeDatagramTransport, MemoryDatagramNetwork, MemoryReactor } from 'torsion/testing';
import { main, UDPEcho } from '../../../examples/udp-echo.js';

test('UDPEcho writes each datagram back to its sender', () => {
  const echo = new UDPEcho();
  echo.noisy = false;
  const transport = new FakeDatagramTransport();
  echo.makeConnection(transport);
  echo.datagramReceived(Buffer.from('hello'), ['192.0.2.7', 4000]);
  echo.datagramReceived(Buffer.from('again'), ['192.0.2.8', 4001]);
  assert.deepEqual(transport.written, [
    [new Uint8Array(Buffer.from('hello')), ['192.0.2.7', 4000]],
    [new Uint8Array(Buffer.from('again')), ['192.0.2.8', 4001]],
  ]);
});

test('a client on a MemoryDatagramNetwork gets its datagram back', () => {
  class Client extends DatagramProtocol {
    readonly got: string[] = [];
    override datagramReceived(data: Uint8Array): void {
      this.got.push(Buffer.from(data).toString());
    }
  }
  const network = new MemoryDatagramNetwork();
  const server = new UDPEcho();
  server.noisy = false;
  network.bind(server, ['10.0.0.1', 8000]);
  const client = new Client();
  client.noisy = false;
  network.bind(client).write(Buffer.from('ping'), ['10.0.0.1', 8000]);
  network.flush();
  assert.deepEqual(client.got, ['ping']);
});

test('main listens on the port and interface given', () => {
  const reactor = new MemoryReactor();
  const port = main(reactor, 8000, '127.0.0.1');
  assert.equal(reactor.udpServers.length, 1);
  const [number, protocol, iface] = reactor.udpServers[0] ?? [];
  assert.equal(number, 8000);
  assert.ok(protocol instanceof UDPEcho);
  assert.equal(iface, '127.0.0.1');
  assert.equal(port.getHost().port, 8000);
});
