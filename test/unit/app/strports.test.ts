// strports service() (ported from Twisted's src/twisted/test/test_strports.py
// ServiceTests), on a MemoryReactor, plus a failing reactor for the
// synchronous raise and bad descriptions.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StreamServerEndpointService, service } from 'torsion/app';
import { EndpointStringError, TCP4ServerEndpoint, UNIXServerEndpoint } from 'torsion/endpoints';
import { CannotListenError, Factory, Protocol } from 'torsion/protocol';
import { MemoryReactor, RaisingMemoryReactor, successResultOf } from 'torsion/testing';

describe('strports service()', () => {
  test('is a StreamServerEndpointService on the endpoint serverFromString makes', () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const svc = service('tcp:1337', factory, reactor);
    assert.ok(svc instanceof StreamServerEndpointService);
    assert.ok(svc.endpoint instanceof TCP4ServerEndpoint);
    assert.equal(svc.endpoint.port, 1337);
    assert.equal(svc.endpoint.reactor, reactor);
    assert.equal(svc.factory, factory);
    assert.equal(svc.running, false);
  });

  test('takes any server description: a UNIX socket', () => {
    const reactor = new MemoryReactor();
    const svc = service('unix:/tmp/app.sock:mode=600', Factory.forProtocol(Protocol), reactor);
    assert.ok(svc.endpoint instanceof UNIXServerEndpoint);
    assert.equal(svc.endpoint.address, '/tmp/app.sock');
    assert.equal(svc.endpoint.mode, 0o600);
  });

  test('started, it listens with the factory; stopped, it stops listening', () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const svc = service('tcp:8080:interface=127.0.0.1', factory, reactor);
    svc.startService();
    const [port, listeningFactory, , iface] = reactor.tcpServers[0] ?? [];
    assert.equal(port, 8080);
    assert.equal(listeningFactory, factory);
    assert.equal(iface, '127.0.0.1');
    const listening = successResultOf(svc.whenListening());
    assert.equal(listening, reactor.ports[0]);
    successResultOf(svc.stopService());
    assert.equal(svc.running, false);
  });

  test('raises synchronously: a failure to listen is thrown from startService', () => {
    const svc = service('tcp:80', Factory.forProtocol(Protocol), new RaisingMemoryReactor());
    assert.throws(() => svc.startService(), CannotListenError);
  });

  test('raises synchronously from privilegedStartService as well', () => {
    const svc = service('tcp:80', Factory.forProtocol(Protocol), new RaisingMemoryReactor());
    assert.throws(() => svc.privilegedStartService(), CannotListenError);
  });

  test('a description it cannot read is refused at once, naming what is wrong', () => {
    const reactor = new MemoryReactor();
    assert.throws(
      () => service('tpc:80', Factory.forProtocol(Protocol), reactor),
      (error) => {
        assert.ok(error instanceof EndpointStringError);
        assert.match(error.message, /tpc/);
        return true;
      },
    );
    assert.throws(
      () => service('tcp:eighty', Factory.forProtocol(Protocol), reactor),
      EndpointStringError,
    );
  });
});
