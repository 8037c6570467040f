// StreamServerEndpointService (ported from Twisted's
// src/twisted/application/test/test_internet.py EndpointServiceTests, on a
// fake endpoint whose listen Deferred the test fires).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IAddress, IListeningPort, IProtocolFactory, IStreamServerEndpoint } from 'torsion';
import { Factory, Protocol } from 'torsion';
import { StreamServerEndpointService } from 'torsion/app';
import { CancelledError, Deferred, type Failure } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class ListenError extends Error {
  override name = 'ListenError';
}

class FakePort implements IListeningPort {
  stopping: Deferred<void> | null = null;
  startListening(): void {}
  stopListening(): Deferred<void> {
    this.stopping = new Deferred<void>();
    return this.stopping;
  }
  getHost(): IAddress {
    return { type: 'TCP' } as unknown as IAddress;
  }
}

class FakeServer implements IStreamServerEndpoint {
  result = new Deferred<IListeningPort>((d) => d.errback(new CancelledError()));
  factory: IProtocolFactory | null = null;
  failImmediately: Error | null = null;
  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    this.factory = factory;
    if (this.failImmediately !== null) this.result.errback(this.failImmediately);
    return this.result;
  }
  startedListening(): FakePort {
    const port = new FakePort();
    this.result.callback(port);
    return port;
  }
}

function setUp(options: { raiseSynchronously?: boolean } = {}) {
  const server = new FakeServer();
  const factory = Factory.forProtocol(Protocol);
  const service = new StreamServerEndpointService(server, factory, options);
  return { server, factory, service };
}

function loggedFailures(events: readonly { log_failure?: unknown }[]): Failure[] {
  return events.flatMap((e) => (e.log_failure === undefined ? [] : [e.log_failure as Failure]));
}

describe('StreamServerEndpointService', () => {
  test('privilegedStartService listens with the factory', () => {
    const { server, factory, service } = setUp();
    service.privilegedStartService();
    assert.equal(server.factory, factory);
  });

  test('startService listens when privilegedStartService has not, and only once', () => {
    const { server, factory, service } = setUp();
    service.startService();
    assert.equal(service.running, true);
    assert.equal(server.factory, factory);
    server.factory = null;
    const again = setUp();
    again.service.privilegedStartService();
    again.server.factory = null;
    again.service.startService();
    assert.equal(again.server.factory, null);
    assert.equal(server.factory, null);
  });

  test('whenListening fires with the port', () => {
    const { server, service } = setUp();
    service.startService();
    const listening = service.whenListening();
    assertNoResult(listening);
    const port = server.startedListening();
    assert.equal(successResultOf(listening), port);
    assert.equal(successResultOf(service.whenListening()), port);
  });

  test('with raiseSynchronously, an immediate failure is thrown from privilegedStartService', () => {
    const { server, service } = setUp({ raiseSynchronously: true });
    server.failImmediately = new ListenError('port taken');
    assert.throws(() => service.privilegedStartService(), ListenError);
  });

  test('with raiseSynchronously, an immediate failure is thrown from startService', () => {
    const { server, service } = setUp({ raiseSynchronously: true });
    server.failImmediately = new ListenError('port taken');
    assert.throws(() => service.startService(), ListenError);
  });

  test('an immediate failure without raiseSynchronously is logged, not thrown', () => {
    const logs = captureLogs();
    try {
      const { server, service } = setUp();
      server.failImmediately = new ListenError('port taken');
      service.startService();
      const failures = loggedFailures(logs.events);
      assert.equal(failures.length, 1);
      assert.ok(failures[0]?.check(ListenError));
      assert.ok(failureResultOf(service.whenListening()).check(ListenError));
      successResultOf(service.stopService());
      assert.equal(service.running, false);
    } finally {
      logs.stop();
    }
  });

  test('a later failure is logged, whenListening fails, and stopService does not hang', () => {
    const logs = captureLogs();
    try {
      const { server, service } = setUp({ raiseSynchronously: true });
      service.startService();
      const listening = service.whenListening();
      server.result.errback(new ListenError('later'));
      assert.equal(loggedFailures(logs.events).length, 1);
      assert.ok(failureResultOf(listening).check(ListenError));
      successResultOf(service.stopService());
    } finally {
      logs.stop();
    }
  });

  test('stopService stops listening and waits for the port to close', () => {
    const { server, service } = setUp();
    service.startService();
    const port = server.startedListening();
    const stopped = service.stopService();
    assertNoResult(stopped);
    assert.equal(service.running, true);
    port.stopping?.callback(undefined);
    successResultOf(stopped);
    assert.equal(service.running, false);
  });

  test('stopService before the port is there cancels the attempt, without logging it', () => {
    const logs = captureLogs();
    try {
      const { service } = setUp();
      service.startService();
      const listening = service.whenListening();
      successResultOf(service.stopService());
      assert.equal(service.running, false);
      assert.deepEqual(loggedFailures(logs.events), []);
      assert.ok(failureResultOf(listening).check(CancelledError));
    } finally {
      logs.stop();
    }
  });

  test('stopService on a service never started fires at once', () => {
    const { service } = setUp();
    successResultOf(service.stopService());
  });
});
