// ClientService and backoffPolicy (ported from Twisted's
// src/twisted/application/test/test_internet.py ClientServiceTests, on a
// Clock and a fake endpoint whose connect Deferreds the test fires), plus
// what Torsion adds: connections that prepareConnection rejects or that are
// lost while being prepared, the retry policy's checks, and a server gone
// for 30 seconds of Clock time.

import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { IAddress, IProtocol, IProtocolFactory, IStreamClientEndpoint } from 'torsion';
import {
  ConnectionLost,
  ConnectionRefusedError,
  Factory,
  NoProtocol,
  Protocol,
  type ProtocolOf,
} from 'torsion';
import { backoffPolicy, ClientService, type ClientServiceOptions } from 'torsion/app';
import { CancelledError, Deferred, Failure } from 'torsion/defer';
import { TCP4ClientEndpoint } from 'torsion/endpoints';
import { captureLogs, formatEvent } from 'torsion/logger';
import { type ClientFactory, IPv4Address } from 'torsion/protocol';
import { Clock } from 'torsion/task';
import {
  assertNoResult,
  failureResultOf,
  MemoryReactorClock,
  StringTransport,
  StringTransportWithDisconnection,
  successResultOf,
} from 'torsion/testing';

/** Enough seconds for the default policy's first few retries. */
const AT_LEAST_ONE_ATTEMPT = 100.0;

class SyntheticError extends Error {
  override name = 'SyntheticError';
}

/** What the fake endpoint saw and did. */
interface ConnectInformation {
  /** The Deferreds `connect` returned; firing one (with nothing) connects. */
  connectQueue: Deferred<unknown>[];
  /** What the passed factories built: the protocols the endpoint connected. */
  constructedProtocols: IProtocol[];
  /** The factories the service gave the endpoint. */
  passedFactories: IProtocolFactory[];
}

/**
 * An endpoint whose `connect` returns a Deferred that the test fires (or that
 * fires at once with `fireImmediately`); a connection is a StringTransport.
 */
function endpointForTesting(fireImmediately = false): [ConnectInformation, IStreamClientEndpoint] {
  const info: ConnectInformation = {
    connectQueue: [],
    constructedProtocols: [],
    passedFactories: [],
  };
  const endpoint: IStreamClientEndpoint = {
    connect<F extends IProtocolFactory>(factory: F): Deferred<ProtocolOf<F>> {
      const result = new Deferred<unknown>();
      info.passedFactories.push(factory);
      const connected = result.addCallback(() => {
        const protocol = factory.buildProtocol({ toString: () => 'test address' } as IAddress);
        if (protocol === null) throw new NoProtocol();
        info.constructedProtocols.push(protocol);
        protocol.makeConnection(new StringTransport());
        return protocol as ProtocolOf<F>;
      });
      info.connectQueue.push(result);
      if (fireImmediately) result.callback(undefined);
      return connected as Deferred<ProtocolOf<F>>;
    },
  };
  return [info, endpoint];
}

/** The application protocol a reactor-facing protocol wraps. */
function wrapped(protocol: IProtocol | undefined): IProtocol {
  return (protocol as unknown as { protocol: IProtocol }).protocol;
}

function transportOf(protocol: IProtocol | undefined): StringTransport {
  return (protocol as unknown as { transport: StringTransport }).transport;
}

function lose(protocol: IProtocol | undefined, error: Error = new SyntheticError('lost')): void {
  assert.ok(protocol !== undefined, 'no such protocol');
  protocol.connectionLost(new Failure(error));
}

interface ReconnectorOptions<P extends IProtocol> extends Partial<ClientServiceOptions<P>> {
  fireImmediately?: boolean;
  startService?: boolean;
  protocolType?: new () => P;
  refuseConnections?: boolean;
}

const made: {
  service: Pick<ClientService, 'running' | 'stopService'>;
  clock: Pick<Clock, 'getDelayedCalls'>;
}[] = [];

/** A ClientService on a fake endpoint, and what that endpoint saw. */
function makeReconnector<P extends IProtocol = Protocol>(options: ReconnectorOptions<P> = {}) {
  const {
    fireImmediately = true,
    startService = true,
    protocolType = Protocol as unknown as new () => P,
    refuseConnections = false,
    ...rest
  } = options;
  const clock = (rest.clock as Clock | undefined) ?? new Clock();
  const [info, endpoint] = endpointForTesting(fireImmediately);
  const applicationProtocols: P[] = [];
  class RememberingFactory extends Factory<P> {
    override protocol = protocolType;
    override buildProtocol(addr: IAddress): P | null {
      if (refuseConnections) return null;
      const result = super.buildProtocol(addr);
      if (result !== null) applicationProtocols.push(result);
      return result;
    }
  }
  const applicationFactory = new RememberingFactory();
  const service = new ClientService<P>(endpoint, applicationFactory, { ...rest, clock });
  made.push({ service, clock });
  if (startService) service.startService();
  return { cq: info, service, clock, applicationProtocols, applicationFactory };
}

afterEach(() => {
  // As Twisted's makeReconnector cleanup: a stopped service leaves nothing
  // scheduled on its clock.
  for (const { service, clock } of made.splice(0)) {
    if (service.running) void service.stopService();
    assert.deepEqual(clock.getDelayedCalls(), []);
  }
});

describe('ClientService (Twisted ClientServiceTests)', () => {
  test('starting makes a connection attempt', () => {
    const { cq } = makeReconnector({ fireImmediately: false });
    assert.equal(cq.connectQueue.length, 1);
  });

  test('doStart on the factory given to the endpoint reaches the application factory', () => {
    const { cq, applicationFactory } = makeReconnector();
    assert.equal(applicationFactory.numPorts, 0);
    cq.passedFactories[0]?.doStart();
    assert.equal(applicationFactory.numPorts, 1);
    cq.passedFactories[0]?.doStop();
    assert.equal(applicationFactory.numPorts, 0);
  });

  test('stopping while connected closes the connection and fires once it is lost', () => {
    const { cq, service } = makeReconnector();
    const stopped = service.stopService();
    assertNoResult(stopped);
    const protocol = cq.constructedProtocols[0];
    assert.equal(transportOf(protocol).disconnecting, true);
    lose(protocol);
    successResultOf(stopped);
  });

  test('restarted after being connected, it connects again only once disconnected', () => {
    const { cq, service } = makeReconnector();
    const stopped = service.stopService();
    assertNoResult(stopped);
    const protocol = cq.constructedProtocols[0];
    assert.equal(transportOf(protocol).disconnecting, true);
    service.startService();
    assertNoResult(stopped);
    assert.equal(cq.constructedProtocols.length, 1);
    lose(protocol, new SyntheticError('synthetic connectionLost'));
    assert.equal(cq.constructedProtocols.length, 2);
    successResultOf(stopped);
  });

  test('started while stopping, it connects again and whenConnected gives the new protocol', () => {
    const { cq, service, applicationProtocols } = makeReconnector({ fireImmediately: false });
    cq.connectQueue[0]?.callback(undefined);
    const first = cq.constructedProtocols[0];
    const stopped = service.stopService();
    assertNoResult(stopped);
    const nextProtocol = service.whenConnected();
    assertNoResult(nextProtocol);
    service.startService();
    assertNoResult(nextProtocol);
    assertNoResult(stopped);
    assert.equal(transportOf(first).disconnecting, true);
    lose(first, new SyntheticError('synthetic connection lost'));
    successResultOf(stopped);
    cq.connectQueue[1]?.callback(undefined);
    assert.equal(cq.constructedProtocols.length, 2);
    assert.equal(successResultOf(nextProtocol), applicationProtocols[1]);
    const secondStopped = service.stopService();
    assertNoResult(secondStopped);
    lose(cq.constructedProtocols[1]);
    successResultOf(secondStopped);
  });

  test('started after a full stop, it connects again and whenConnected gives the new protocol', () => {
    const { cq, service, applicationProtocols } = makeReconnector({ fireImmediately: false });
    successResultOf(service.stopService());
    failureResultOf(service.whenConnected(), CancelledError);
    service.startService();
    cq.connectQueue.at(-1)?.callback(undefined);
    assert.equal(successResultOf(service.whenConnected()), applicationProtocols.at(-1));
  });

  test('the protocol the endpoint connects is half-closeable exactly when the application protocol is', () => {
    class HalfCloser extends Protocol {
      halfClosed = 0;
      readConnectionLost(): void {
        this.halfClosed++;
      }
    }
    const half = makeReconnector({ protocolType: HalfCloser });
    const reactorFacing = half.cq.constructedProtocols[0] as unknown as {
      readConnectionLost?: () => void;
    };
    assert.equal(typeof reactorFacing.readConnectionLost, 'function');
    reactorFacing.readConnectionLost?.();
    assert.equal(half.applicationProtocols[0]?.halfClosed, 1);
    const plain = makeReconnector();
    const plainFacing = plain.cq.constructedProtocols[0] as unknown as {
      readConnectionLost?: () => void;
    };
    assert.equal(plainFacing.readConnectionLost, undefined);
  });

  test('stopping while an attempt is in progress after a retry cancels it', () => {
    const { cq, service, clock } = makeReconnector({ fireImmediately: false });
    cq.connectQueue[0]?.errback(new SyntheticError('refused'));
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(cq.connectQueue.length, 2);
    const stopped = service.stopService();
    // Cancelled without a canceller: the endpoint's late errback is dropped.
    cq.connectQueue[1]?.errback(new SyntheticError('refused'));
    successResultOf(stopped);
  });

  test('stopping while first connecting cancels the attempt', () => {
    const { cq, service } = makeReconnector({ fireImmediately: false });
    assert.equal(cq.connectQueue.length, 1);
    assertNoResult(cq.connectQueue[0] as Deferred<unknown>);
    successResultOf(service.stopService());
  });

  test('once connected, whenConnected gives the application protocol and nothing is scheduled', () => {
    const { cq, service, clock, applicationProtocols } = makeReconnector();
    const awaiting = service.whenConnected();
    assert.deepEqual(clock.getDelayedCalls(), []);
    assert.equal(successResultOf(awaiting), applicationProtocols[0]);
    assert.equal(wrapped(cq.constructedProtocols[0]), applicationProtocols[0]);
    assert.match(String(cq.constructedProtocols[0]), /Protocol/);
    assert.match(String(cq.passedFactories[0]), /RememberingFactory/);
  });

  test('a failed attempt is retried after a delay', () => {
    const { cq, service, clock } = makeReconnector({ fireImmediately: false });
    assert.equal(cq.connectQueue.length, 1);
    cq.connectQueue[0]?.errback(new SyntheticError('refused'));
    const whenConnected = service.whenConnected();
    assertNoResult(whenConnected);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(cq.connectQueue.length, 2);
    void service.stopService();
    failureResultOf(whenConnected, CancelledError);
  });

  test('a lost connection is made again after a delay', () => {
    const { cq, service, clock, applicationProtocols } = makeReconnector({
      fireImmediately: false,
    });
    assert.equal(cq.connectQueue.length, 1);
    cq.connectQueue[0]?.callback(undefined);
    assert.equal(cq.connectQueue.length, 1);
    assert.equal(successResultOf(service.whenConnected()), applicationProtocols[0]);
    lose(cq.constructedProtocols[0]);
    const next = service.whenConnected();
    assertNoResult(next);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(cq.connectQueue.length, 2);
    cq.connectQueue[1]?.callback(undefined);
    assert.equal(successResultOf(next), applicationProtocols[1]);
    assert.equal(successResultOf(service.whenConnected()), applicationProtocols[1]);
  });

  test('a factory that refuses (buildProtocol gives null) is asked again later', () => {
    const { cq, service, clock } = makeReconnector({
      fireImmediately: false,
      refuseConnections: true,
    });
    assert.equal(cq.connectQueue.length, 1);
    cq.connectQueue.shift()?.callback(undefined);
    assert.equal(cq.connectQueue.length, 0);
    const whenConnected = service.whenConnected();
    assertNoResult(whenConnected);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(cq.connectQueue.length, 1);
    cq.connectQueue.shift()?.callback(undefined);
    assertNoResult(whenConnected);
    void service.stopService();
    failureResultOf(whenConnected, CancelledError);
  });

  test('a connection lost while stopping fires the stop; whenConnected then fails', () => {
    const { cq, service } = makeReconnector();
    const stopped = service.stopService();
    lose(cq.constructedProtocols[0]);
    failureResultOf(service.whenConnected(), CancelledError);
    successResultOf(stopped);
  });

  test('starting twice logs a complaint and makes no second attempt', () => {
    const { cq, service } = makeReconnector({ fireImmediately: false, startService: false });
    assert.equal(cq.connectQueue.length, 0);
    service.startService();
    assert.equal(cq.connectQueue.length, 1);
    const logs = captureLogs();
    try {
      service.startService();
    } finally {
      logs.stop();
    }
    assert.equal(cq.connectQueue.length, 1);
    assert.match(formatEvent(logs.events[0] ?? {}), /Duplicate ClientService\.startService/);
    assert.equal(logs.events[0]?.log_namespace, 'torsion.app');
  });

  test('whenConnected fires for every caller when the connection is made', () => {
    const { cq, service, applicationProtocols } = makeReconnector({ fireImmediately: false });
    const a = service.whenConnected();
    const b = service.whenConnected();
    const c = service.whenConnected({ failAfterFailures: 1 });
    assertNoResult(a);
    assertNoResult(b);
    assertNoResult(c);
    cq.connectQueue[0]?.callback(undefined);
    const resultA = successResultOf(a);
    assert.equal(successResultOf(b), resultA);
    assert.equal(successResultOf(c), resultA);
    assert.equal(resultA, applicationProtocols[0]);
  });

  test('whenConnected with failAfterFailures fails after that many failed attempts', () => {
    const { cq, service, clock, applicationProtocols } = makeReconnector({
      fireImmediately: false,
    });
    const a0 = service.whenConnected();
    const a1 = service.whenConnected({ failAfterFailures: 1 });
    const a2 = service.whenConnected({ failAfterFailures: 2 });
    const a3 = service.whenConnected({ failAfterFailures: 3 });
    for (const d of [a0, a1, a2, a3]) assertNoResult(d);

    const f1 = new Failure(new SyntheticError('first'));
    cq.connectQueue[0]?.errback(f1);
    assertNoResult(a0);
    assert.equal(failureResultOf(a1, SyntheticError), f1);
    assertNoResult(a2);
    assertNoResult(a3);

    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(cq.connectQueue.length, 2);
    assertNoResult(a0);
    assertNoResult(a2);
    assertNoResult(a3);

    const f2 = new Failure(new SyntheticError('second'));
    cq.connectQueue[1]?.errback(f2);
    assertNoResult(a0);
    assert.equal(failureResultOf(a2, SyntheticError), f2);
    assertNoResult(a3);

    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(cq.connectQueue.length, 3);
    assertNoResult(a0);
    assertNoResult(a3);

    cq.connectQueue[2]?.callback(undefined);
    const resultA0 = successResultOf(a0);
    assert.equal(successResultOf(a3), resultA0);
    assert.equal(resultA0, applicationProtocols[0]);
    // Asked once connected, it has fired already, failAfterFailures or not.
    assert.equal(successResultOf(service.whenConnected({ failAfterFailures: 1 })), resultA0);
  });

  test('whenConnected callers fail with CancelledError when the service stops', () => {
    const { service, clock } = makeReconnector({ fireImmediately: false });
    const a = service.whenConnected();
    const b = service.whenConnected();
    const c = service.whenConnected({ failAfterFailures: 1 });
    for (const d of [a, b, c]) assertNoResult(d);
    void service.stopService();
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    for (const d of [a, b, c]) failureResultOf(d, CancelledError);
  });

  test('stopping while waiting to retry cancels the retry and stops at once', () => {
    const { cq, service, clock } = makeReconnector({ fireImmediately: false });
    cq.connectQueue.shift()?.errback(new SyntheticError('no connection'));
    assert.equal(clock.getDelayedCalls().length, 1);
    const stopped = service.stopService();
    assert.deepEqual(clock.getDelayedCalls(), []);
    successResultOf(stopped);
  });

  test('stopping before starting gives a Deferred that has fired with undefined', () => {
    const { service } = makeReconnector({ fireImmediately: false, startService: false });
    assert.equal(successResultOf(service.stopService()), undefined);
  });

  test('stopping between attempts fails whenConnected callers, before and after the stop', () => {
    const { cq, service } = makeReconnector({ fireImmediately: false });
    const before = service.whenConnected();
    cq.connectQueue[0]?.errback(new SyntheticError('no connection'));
    void service.stopService();
    const after = service.whenConnected();
    assert.ok(failureResultOf(before).value instanceof CancelledError);
    assert.ok(failureResultOf(after).value instanceof CancelledError);
  });

  test('stopping twice while disconnecting: both stops fire once disconnected', () => {
    const { cq, service } = makeReconnector({ fireImmediately: false });
    cq.connectQueue[0]?.callback(undefined);
    const first = service.stopService();
    const second = service.stopService();
    assertNoResult(first);
    assertNoResult(second);
    lose(cq.constructedProtocols[0]);
    successResultOf(first);
    successResultOf(second);
  });

  test('stop, start, stop while disconnecting: both stops fire once disconnected, and it stays stopped', () => {
    const { cq, service } = makeReconnector({ fireImmediately: false });
    cq.connectQueue[0]?.callback(undefined);
    const first = service.stopService();
    service.startService();
    const second = service.stopService();
    lose(cq.constructedProtocols[0]);
    successResultOf(first);
    successResultOf(second);
    assert.equal(cq.connectQueue.length, 1);
  });

  test('stopping a stopped service gives a Deferred that has fired with undefined', () => {
    const { service } = makeReconnector({ fireImmediately: false });
    const first = service.stopService();
    const second = service.stopService();
    assert.equal(successResultOf(first), undefined);
    assert.equal(successResultOf(second), undefined);
  });
});

describe('ClientService prepareConnection (Twisted ClientServiceTests)', () => {
  test('it is called once the connection is made after starting', () => {
    let prepares = 0;
    makeReconnector({ prepareConnection: () => void prepares++ });
    assert.equal(prepares, 1);
  });

  test('it is given the application protocol', () => {
    const prepared: IProtocol[] = [];
    const { applicationProtocols } = makeReconnector({
      prepareConnection: (protocol) => void prepared.push(protocol),
    });
    assert.equal(prepared.length, 1);
    assert.equal(prepared[0], applicationProtocols[0]);
  });

  test('it is called only once a connection is made', () => {
    let prepares = 0;
    const { cq, clock } = makeReconnector({
      prepareConnection: () => void prepares++,
      fireImmediately: false,
    });
    cq.connectQueue[0]?.errback(new SyntheticError('connection attempt failed'));
    assert.equal(prepares, 0);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    cq.connectQueue[1]?.callback(undefined);
    assert.equal(prepares, 1);
  });

  test('it is called again for each new connection', () => {
    let prepares = 0;
    const { cq, clock } = makeReconnector({ prepareConnection: () => void prepares++ });
    assert.equal(prepares, 1);
    lose(cq.constructedProtocols[0]);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(prepares, 2);
  });

  test('what it returns is ignored', () => {
    const sentinel = { sentinel: true };
    const { service, applicationProtocols } = makeReconnector({
      prepareConnection: () => sentinel,
    });
    const result = successResultOf(service.whenConnected());
    assert.notEqual(result, sentinel as unknown);
    assert.equal(result, applicationProtocols[0]);
  });

  test('whenConnected waits for the Deferred it returns', () => {
    const preparing = new Deferred<void>();
    const { service, applicationProtocols } = makeReconnector({
      prepareConnection: () => preparing,
    });
    const whenConnected = service.whenConnected();
    assertNoResult(whenConnected);
    preparing.callback(undefined);
    assert.equal(successResultOf(whenConnected), applicationProtocols[0]);
  });

  test('a throw counts as a failed attempt', () => {
    const { service, clock } = makeReconnector({
      prepareConnection: () => {
        throw new SyntheticError('not ready');
      },
    });
    const whenConnected = service.whenConnected({ failAfterFailures: 2 });
    assertNoResult(whenConnected);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assertNoResult(whenConnected);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(failureResultOf(whenConnected).type, SyntheticError);
  });
});

describe('ClientService prepareConnection (beyond Twisted)', () => {
  test('a connection it rejects is closed, and its later loss changes nothing', () => {
    const { cq, service, clock } = makeReconnector({
      prepareConnection: () => Promise.reject(new SyntheticError('bad credentials')),
      fireImmediately: false,
    });
    const whenConnected = service.whenConnected({ failAfterFailures: 1 });
    cq.connectQueue[0]?.callback(undefined);
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      assert.equal(failureResultOf(whenConnected).type, SyntheticError);
      assert.equal(transportOf(cq.constructedProtocols[0]).disconnecting, true);
      assert.equal(clock.getDelayedCalls().length, 1);
      lose(cq.constructedProtocols[0]);
      // Still one retry scheduled, not two.
      assert.equal(clock.getDelayedCalls().length, 1);
      clock.advance(AT_LEAST_ONE_ATTEMPT);
      assert.equal(cq.connectQueue.length, 2);
    });
  });

  test('a connection lost while being prepared cancels the preparation and counts as a failure with its reason', () => {
    let cancelled = 0;
    const preparing = new Deferred<void>(() => void cancelled++);
    const { cq, service, clock } = makeReconnector({ prepareConnection: () => preparing });
    const whenConnected = service.whenConnected({ failAfterFailures: 1 });
    lose(cq.constructedProtocols[0], new ConnectionLost('peer went away'));
    assert.equal(cancelled, 1);
    failureResultOf(whenConnected, ConnectionLost);
    assert.equal(clock.getDelayedCalls().length, 1);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(cq.connectQueue.length, 2);
  });

  test('stopping while preparing cancels the preparation, closes the connection and waits for it', () => {
    let cancelled = 0;
    const preparing = new Deferred<void>(() => void cancelled++);
    const { cq, service } = makeReconnector({ prepareConnection: () => preparing });
    const whenConnected = service.whenConnected();
    const stopped = service.stopService();
    assert.equal(cancelled, 1);
    assert.equal(transportOf(cq.constructedProtocols[0]).disconnecting, true);
    assertNoResult(stopped);
    lose(cq.constructedProtocols[0]);
    successResultOf(stopped);
    failureResultOf(whenConnected, CancelledError);
  });

  test('a connection stopped while prepared by a Deferred that cannot be cancelled is closed when it fires', () => {
    const preparing = new Deferred<void>((d) => d.callback(undefined));
    const { cq, service } = makeReconnector({ prepareConnection: () => preparing });
    const stopped = service.stopService();
    assert.equal(transportOf(cq.constructedProtocols[0]).disconnecting, true);
    assertNoResult(stopped);
    lose(cq.constructedProtocols[0]);
    successResultOf(stopped);
  });
});

describe('ClientService (beyond Twisted)', () => {
  test('needs a clock: a TypeError names the option', () => {
    const [, endpoint] = endpointForTesting();
    assert.throws(
      () =>
        new ClientService(
          endpoint,
          Factory.forProtocol(Protocol),
          {} as unknown as ClientServiceOptions,
        ),
      { name: 'TypeError', message: /ClientService needs a clock option/ },
    );
  });

  test('a retryPolicy or prepareConnection that is not a function is refused', () => {
    const [, endpoint] = endpointForTesting();
    const factory = Factory.forProtocol(Protocol);
    const clock = new Clock();
    assert.throws(() => new ClientService(endpoint, factory, { clock, retryPolicy: 5 as never }), {
      name: 'TypeError',
      message: /retryPolicy must be a function/,
    });
    assert.throws(
      () => new ClientService(endpoint, factory, { clock, prepareConnection: 'x' as never }),
      { name: 'TypeError', message: /prepareConnection must be a function/ },
    );
  });

  test('whenConnected refuses a failAfterFailures that is not a whole number >= 1', () => {
    const { service } = makeReconnector({ startService: false });
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => service.whenConnected({ failAfterFailures: bad }), {
        name: 'RangeError',
        message: /failAfterFailures must be a whole number >= 1/,
      });
    }
  });

  test('a cancelled whenConnected is forgotten: the connection does not fire it again', () => {
    const { cq, service } = makeReconnector({ fireImmediately: false });
    const cancelled = service.whenConnected();
    const kept = service.whenConnected();
    cancelled.cancel();
    failureResultOf(cancelled, CancelledError);
    cq.connectQueue[0]?.callback(undefined);
    successResultOf(kept);
  });

  test('whenConnected before starting waits for the first connection', () => {
    const { service, applicationProtocols } = makeReconnector({ startService: false });
    const early = service.whenConnected();
    assertNoResult(early);
    service.startService();
    assert.equal(successResultOf(early), applicationProtocols[0]);
  });

  test('whenConnected callers of a never-started service fail when it is stopped', () => {
    const { service } = makeReconnector({ startService: false });
    const early = service.whenConnected();
    successResultOf(service.stopService());
    failureResultOf(early, CancelledError);
  });

  test('an endpoint whose connect throws counts as a failed attempt', () => {
    const clock = new Clock();
    let attempts = 0;
    const endpoint: IStreamClientEndpoint = {
      connect() {
        attempts++;
        throw new SyntheticError('bad endpoint');
      },
    };
    const service = new ClientService(endpoint, Factory.forProtocol(Protocol), { clock });
    made.push({ service, clock });
    const whenConnected = service.whenConnected({ failAfterFailures: 1 });
    service.startService();
    failureResultOf(whenConnected, SyntheticError);
    clock.advance(AT_LEAST_ONE_ATTEMPT);
    assert.equal(attempts, 2);
  });

  test('each failed attempt is logged with its reason and the delay before the next', () => {
    const logs = captureLogs();
    try {
      const { cq, clock } = makeReconnector({
        fireImmediately: false,
        retryPolicy: (n) => n * 10,
      });
      cq.connectQueue[0]?.errback(new ConnectionRefusedError());
      clock.advance(10);
      cq.connectQueue[1]?.errback(new ConnectionRefusedError());
      clock.advance(20);
      cq.connectQueue[2]?.callback(undefined);
      lose(cq.constructedProtocols[0], new ConnectionLost('reset'));
    } finally {
      logs.stop();
    }
    const texts = logs.events.map((event) => [event.log_level, formatEvent(event)]);
    assert.deepEqual(
      texts.map(([level]) => level),
      ['warn', 'warn', 'info'],
    );
    assert.match(
      String(texts[0]?.[1]),
      /could not connect to .*\(retry 1 in 10 seconds\): Connection was refused/,
    );
    assert.match(String(texts[1]?.[1]), /retry 2 in 20 seconds/);
    // A lost connection starts the count again: the first retry's delay.
    assert.match(
      String(texts[2]?.[1]),
      /lost its connection to .*\(reconnecting in 10 seconds\): .*reset/,
    );
    for (const event of logs.events) {
      assert.equal(event.log_namespace, 'torsion.app');
      assert.equal(typeof event.delay, 'number');
    }
  });

  test('a retryPolicy that throws or gives a bad delay is logged, and the default back-off used', () => {
    const logs = captureLogs();
    let delays = [Number.NaN, -1, Number.POSITIVE_INFINITY];
    try {
      const { cq, clock } = makeReconnector({
        fireImmediately: false,
        retryPolicy: () => {
          const next = delays.shift();
          if (next === undefined) throw new SyntheticError('policy bug');
          return next;
        },
      });
      for (let i = 0; i < 4; i++) {
        cq.connectQueue[i]?.errback(new ConnectionRefusedError());
        const [call] = clock.getDelayedCalls();
        assert.ok(call !== undefined);
        // The default: min(1.5^n, 60) plus up to one second of jitter.
        const wait = call.getTime() - clock.seconds();
        const base = Math.min(1.5 ** (i + 1), 60);
        assert.ok(wait >= base && wait < base + 1, `retry ${i + 1} in ${wait}`);
        clock.advance(wait);
      }
      assert.equal(cq.connectQueue.length, 5);
    } finally {
      logs.stop();
      delays = [];
    }
    const errors = logs.events.filter((event) => event.log_level === 'error');
    assert.equal(errors.length, 4);
    assert.ok(errors.every((event) => /retryPolicy/.test(formatEvent(event))));
    assert.ok(errors[3]?.log_failure instanceof Failure);
  });

  test('a server gone for 30 s of Clock time gets as many attempts as the back-off allows', () => {
    const clock = new Clock();
    const policy = backoffPolicy({ jitter: () => 0 });
    let serverUp = true;
    let attempts = 0;
    const attemptTimes: number[] = [];
    const connections: IProtocol[] = [];
    const endpoint: IStreamClientEndpoint = {
      connect<F extends IProtocolFactory>(factory: F): Deferred<ProtocolOf<F>> {
        attempts++;
        attemptTimes.push(clock.seconds());
        const d = new Deferred<ProtocolOf<F>>();
        if (!serverUp) {
          d.errback(new ConnectionRefusedError());
          return d;
        }
        const protocol = factory.buildProtocol({ toString: () => 'server' } as IAddress);
        assert.ok(protocol !== null);
        connections.push(protocol);
        protocol.makeConnection(new StringTransport());
        d.callback(protocol as ProtocolOf<F>);
        return d;
      },
    };
    const service = new ClientService(endpoint, Factory.forProtocol(Protocol), {
      clock,
      retryPolicy: policy,
    });
    made.push({ service, clock });
    service.startService();
    assert.equal(attempts, 1);
    const first = successResultOf(service.whenConnected());

    // The server goes away: the connection is lost and attempts are refused.
    serverUp = false;
    const lostAt = clock.seconds();
    lose(connections[0], new ConnectionLost());
    // 30 s pass, moving the clock from one scheduled call to the next.
    for (;;) {
      const [call] = clock.getDelayedCalls();
      if (call === undefined || call.getTime() > lostAt + 30) break;
      clock.advance(call.getTime() - clock.seconds());
    }
    const duringOutage = attempts - 1;

    // What the policy allows in 30 s: retry n comes policy(n) after retry n-1.
    let expected = 0;
    let at = lostAt;
    for (let n = 1; at + policy(n) <= lostAt + 30; n++) {
      at += policy(n);
      expected++;
    }
    assert.equal(duringOutage, expected);
    assert.equal(duringOutage, 5); // at 1.5, 3.75, 7.125, 12.1875, 19.78125 s
    assert.deepEqual(
      attemptTimes.slice(1).map((t) => Math.round((t - lostAt) * 1e5) / 1e5),
      [1.5, 3.75, 7.125, 12.1875, 19.78125],
    );

    // Back again: the next retry (policy(6) after the last) connects.
    serverUp = true;
    const next = service.whenConnected();
    assertNoResult(next);
    clock.advance(at + policy(6) - clock.seconds());
    assert.equal(attempts, 7);
    assert.notEqual(successResultOf(next), first);
    const stopped = service.stopService();
    lose(connections[1]);
    successResultOf(stopped);
  });
});

describe('ClientService on a TCP4ClientEndpoint (MemoryReactorClock)', () => {
  class Greeter extends Protocol {
    readonly received: string[] = [];
    halfClosed = false;
    override dataReceived(data: Uint8Array): void {
      this.received.push(Buffer.from(data).toString());
    }
    readConnectionLost(): void {
      this.halfClosed = true;
    }
  }

  /** Completes the reactor's `index`th TCP attempt over a StringTransportWithDisconnection. */
  function complete(reactor: MemoryReactorClock, index: number) {
    const record = reactor.tcpClients[index];
    assert.ok(record !== undefined, `no TCP attempt #${index}`);
    const protocol = record[2].buildProtocol(new IPv4Address('TCP', '10.0.0.2', 7000));
    assert.ok(protocol !== null);
    const transport = new StringTransportWithDisconnection({ protocol });
    protocol.makeConnection(transport);
    return { protocol, transport };
  }

  test('connects, hands data and half-closes to the protocol, reconnects after refusal and loss, and stops', () => {
    const reactor = new MemoryReactorClock();
    const endpoint = new TCP4ClientEndpoint(reactor, '10.0.0.2', 7000);
    const service = new ClientService(endpoint, Factory.forProtocol(Greeter), {
      clock: reactor,
      retryPolicy: () => 5,
    });
    made.push({ service, clock: reactor });
    service.startService();
    assert.deepEqual(reactor.tcpClients[0]?.slice(0, 2), ['10.0.0.2', 7000]);

    // Refused: the next attempt comes 5 s later.
    const refused = reactor.connectors[0];
    assert.ok(refused !== undefined);
    const attemptFactory = reactor.tcpClients[0]?.[2] as unknown as ClientFactory;
    attemptFactory.clientConnectionFailed(refused, new Failure(new ConnectionRefusedError()));
    assert.equal(reactor.tcpClients.length, 1);
    reactor.advance(5);
    assert.equal(reactor.tcpClients.length, 2);

    const first = complete(reactor, 1);
    const greeter = successResultOf(service.whenConnected());
    assert.ok(greeter instanceof Greeter);
    first.protocol.dataReceived(Buffer.from('hi'));
    assert.deepEqual(greeter.received, ['hi']);
    (first.protocol as unknown as { readConnectionLost(): void }).readConnectionLost();
    assert.equal(greeter.halfClosed, true);

    // Lost: connected again 5 s later, with a new protocol.
    first.transport.loseConnection();
    reactor.advance(5);
    assert.equal(reactor.tcpClients.length, 3);
    complete(reactor, 2);
    const second = successResultOf(service.whenConnected());
    assert.notEqual(second, greeter);

    // Stopped: the connection closes (at once on this transport) and the stop fires.
    successResultOf(service.stopService());
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test('stopping while the TCP attempt is in progress stops the connector', () => {
    const reactor = new MemoryReactorClock();
    const service = new ClientService(
      new TCP4ClientEndpoint(reactor, '10.0.0.2', 7000),
      Factory.forProtocol(Greeter),
      { clock: reactor },
    );
    service.startService();
    const whenConnected = service.whenConnected();
    successResultOf(service.stopService());
    assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
    failureResultOf(whenConnected, CancelledError);
  });
});

describe('backoffPolicy', () => {
  test('the defaults: 1 s times 1.5 per failed attempt, at most 60 s, plus the jitter', () => {
    const policy = backoffPolicy({ jitter: () => 0 });
    assert.equal(policy(0), 1);
    assert.equal(policy(1), 1.5);
    assert.equal(policy(2), 2.25);
    assert.equal(policy(10), 1.5 ** 10);
    assert.equal(policy(11), 60);
    assert.equal(policy(1000), 60);
    assert.equal(backoffPolicy({ jitter: () => 0.25 })(1), 1.75);
  });

  test('the default jitter is between 0 and 1 second', () => {
    const policy = backoffPolicy();
    for (let i = 0; i < 100; i++) {
      const delay = policy(1);
      assert.ok(delay >= 1.5 && delay < 2.5, String(delay));
    }
  });

  test('its options change the curve; the exponent stops at 100', () => {
    const policy = backoffPolicy({
      initialDelay: 2,
      factor: 3,
      maxDelay: 1000,
      jitter: () => 0,
    });
    assert.equal(policy(1), 6);
    assert.equal(policy(5), 486);
    assert.equal(policy(6), 1000);
    const uncapped = backoffPolicy({
      initialDelay: 1,
      factor: 2,
      maxDelay: Number.POSITIVE_INFINITY,
      jitter: () => 0,
    });
    assert.equal(uncapped(100), 2 ** 100);
    assert.equal(uncapped(200), 2 ** 100);
    // An overflow is capped at maxDelay.
    assert.equal(backoffPolicy({ factor: 1e10, jitter: () => 0 })(100), 60);
  });

  test('bad options are refused, naming the option', () => {
    for (const name of ['initialDelay', 'maxDelay', 'factor'] as const) {
      for (const bad of [-1, Number.NaN]) {
        assert.throws(() => backoffPolicy({ [name]: bad }), {
          name: 'RangeError',
          message: new RegExp(`backoffPolicy ${name} must be >= 0`),
        });
      }
    }
    assert.throws(() => backoffPolicy({ jitter: 0.5 as never }), {
      name: 'TypeError',
      message: /jitter must be a function/,
    });
  });
});
