// The drain protocol: isDrainable, and StreamServerEndpointService.stopService
// stopping the port first, then draining a drainable factory and waiting for
// it (fake endpoint, fake port and fake factory whose Deferreds the test fires).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IAddress, IListeningPort, IProtocolFactory, IStreamServerEndpoint } from 'torsion';
import { Factory, Protocol } from 'torsion';
import { isDrainable, StreamServerEndpointService } from 'torsion/app';
import { CancelledError, Deferred, type Failure } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class StopError extends Error {
  override name = 'StopError';
}

class DrainError extends Error {
  override name = 'DrainError';
}

/** Everything that happens, in order. */
type Journal = string[];

class FakePort implements IListeningPort {
  stopping: Deferred<void> | null = null;
  constructor(readonly journal: Journal) {}
  startListening(): void {}
  stopListening(): Deferred<void> {
    this.journal.push('stopListening');
    this.stopping = new Deferred<void>();
    return this.stopping;
  }
  getHost(): IAddress {
    return { type: 'TCP' } as unknown as IAddress;
  }
}

class FakeServer implements IStreamServerEndpoint {
  result = new Deferred<IListeningPort>((d) => d.errback(new CancelledError()));
  listen(_factory: IProtocolFactory): Deferred<IListeningPort> {
    return this.result;
  }
}

/** A factory whose drain the test settles; `outcome` chooses how drain() answers. */
class DrainableFactory extends Factory<Protocol> {
  draining: Deferred<void> | null = null;
  calls = 0;
  outcome: 'deferred' | 'promise' | 'throw' = 'deferred';
  resolvePromise: (() => void) | null = null;
  constructor(readonly journal: Journal) {
    super();
    this.protocol = Protocol;
  }
  drain(): Deferred<void> | Promise<void> {
    this.journal.push('drain');
    this.calls++;
    if (this.outcome === 'throw') throw new DrainError('cannot drain');
    if (this.outcome === 'promise') {
      return new Promise<void>((resolve) => {
        this.resolvePromise = resolve;
      });
    }
    this.draining = new Deferred<void>();
    return this.draining;
  }
}

function setUp() {
  const journal: Journal = [];
  const server = new FakeServer();
  const factory = new DrainableFactory(journal);
  const service = new StreamServerEndpointService(server, factory);
  service.startService();
  const port = new FakePort(journal);
  server.result.callback(port);
  return { journal, server, factory, service, port };
}

function loggedFailures(events: readonly { log_failure?: unknown }[]): Failure[] {
  return events.flatMap((e) => (e.log_failure === undefined ? [] : [e.log_failure as Failure]));
}

describe('isDrainable', () => {
  test('is true of anything with a drain method, false otherwise', () => {
    assert.equal(isDrainable(new DrainableFactory([])), true);
    assert.equal(isDrainable({ drain: () => Promise.resolve() }), true);
    assert.equal(isDrainable(Factory.forProtocol(Protocol)), false);
    assert.equal(isDrainable({ drain: 'no' }), false);
    assert.equal(isDrainable(null), false);
    assert.equal(isDrainable(undefined), false);
    assert.equal(isDrainable('drain'), false);
  });
});

describe('StreamServerEndpointService.stopService with a drainable factory', () => {
  test('stops listening first, and drains only once the port has stopped', () => {
    const { journal, factory, service, port } = setUp();
    const stopped = service.stopService();
    assert.deepEqual(journal, ['stopListening']);
    assert.equal(factory.calls, 0);
    port.stopping?.callback(undefined);
    assert.deepEqual(journal, ['stopListening', 'drain']);
    assertNoResult(stopped);
  });

  test('waits for the drain, then fires and marks the service stopped', () => {
    const { factory, service, port } = setUp();
    const stopped = service.stopService();
    port.stopping?.callback(undefined);
    assertNoResult(stopped);
    assert.equal(service.running, true);
    factory.draining?.callback(undefined);
    assert.equal(successResultOf(stopped), undefined);
    assert.equal(service.running, false);
  });

  test('waits for a drain that returns a promise', async () => {
    const { factory, service, port } = setUp();
    factory.outcome = 'promise';
    const stopped = service.stopService();
    port.stopping?.callback(undefined);
    await Promise.resolve();
    assertNoResult(stopped);
    factory.resolvePromise?.();
    assert.equal(await stopped, undefined);
  });

  test('a drain that fails is logged, and the stop still fires', () => {
    const { factory, service, port } = setUp();
    const logs = captureLogs();
    try {
      const stopped = service.stopService();
      port.stopping?.callback(undefined);
      factory.draining?.errback(new DrainError('stuck'));
      assert.equal(successResultOf(stopped), undefined);
    } finally {
      logs.stop();
    }
    const [failure, ...more] = loggedFailures(logs.events);
    assert.equal(more.length, 0);
    assert.ok(failure?.check(DrainError));
    assert.equal(service.running, false);
  });

  test('a drain that throws is logged, and the stop still fires', () => {
    const { factory, service, port } = setUp();
    factory.outcome = 'throw';
    const logs = captureLogs();
    try {
      const stopped = service.stopService();
      port.stopping?.callback(undefined);
      assert.equal(successResultOf(stopped), undefined);
    } finally {
      logs.stop();
    }
    assert.ok(loggedFailures(logs.events)[0]?.check(DrainError));
  });

  test('a port that fails to stop is still drained, and the stop fails with the port’s error', () => {
    const { journal, factory, service, port } = setUp();
    const stopped = service.stopService();
    port.stopping?.errback(new StopError('port stuck'));
    assert.deepEqual(journal, ['stopListening', 'drain']);
    assertNoResult(stopped);
    factory.draining?.callback(undefined);
    assert.ok(failureResultOf(stopped, StopError));
  });

  test('nothing is drained when the port never listened', () => {
    const journal: Journal = [];
    const server = new FakeServer();
    const factory = new DrainableFactory(journal);
    const service = new StreamServerEndpointService(server, factory);
    service.startService();
    const stopped = service.stopService(); // cancels the attempt
    assert.equal(successResultOf(stopped), undefined);
    assert.deepEqual(journal, []);
  });

  test('a factory that is not drainable: the stop fires when the port has stopped', () => {
    const server = new FakeServer();
    const service = new StreamServerEndpointService(server, Factory.forProtocol(Protocol));
    service.startService();
    const port = new FakePort([]);
    server.result.callback(port);
    const stopped = service.stopService();
    assertNoResult(stopped);
    port.stopping?.callback(undefined);
    assert.equal(successResultOf(stopped), undefined);
  });
});
