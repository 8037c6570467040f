// NodeReactor on Node's real event loop: timed calls, the run/stop life
// cycle, system event triggers, errors that must not kill the loop, name
// resolution, and signals (through a child process).
// (Twisted: internet/test/test_core.py, system-event ordering in test/test_internet.py.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CancelledError, Deferred } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import {
  DNSLookupError,
  NodeReactor,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from 'torsion/reactor';
import { failureResultOf } from 'torsion/testing';

const noSignals = { installSignalHandlers: false };

/** A Deferred that fires with `value` after `seconds` on `reactor`. */
function later<T>(reactor: NodeReactor, seconds: number, value: T): Deferred<T> {
  const d = new Deferred<T>();
  reactor.callLater(seconds, () => d.callback(value));
  return d;
}

describe('NodeReactor timed calls', { timeout: 10_000 }, () => {
  test('runs a call after its delay without run() being called', async () => {
    const reactor = new NodeReactor();
    const start = reactor.seconds();
    const elapsed = await later(reactor, 0.02, 'x').addCallback(() => reactor.seconds() - start);
    assert.ok(elapsed >= 0.019, `ran after ${elapsed}s`);
  });

  test('runs calls due at the same time in the order they were scheduled', async () => {
    const reactor = new NodeReactor();
    const order: number[] = [];
    const done = new Deferred<void>();
    const at = 0.01;
    for (let i = 0; i < 20; i++) reactor.callLater(at, () => order.push(i));
    reactor.callLater(at, () => done.callback(undefined));
    await done;
    assert.deepEqual(
      order,
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  test('runs calls in the order of their due times', async () => {
    const reactor = new NodeReactor();
    const order: string[] = [];
    const done = new Deferred<void>();
    reactor.callLater(0.03, () => order.push('c'));
    reactor.callLater(0.01, () => order.push('a'));
    reactor.callLater(0.02, () => order.push('b'));
    reactor.callLater(0.04, () => done.callback(undefined));
    await done;
    assert.deepEqual(order, ['a', 'b', 'c']);
  });

  test('does not run a cancelled call, and forgets it', async () => {
    const reactor = new NodeReactor();
    const order: string[] = [];
    const call = reactor.callLater(0.01, () => order.push('cancelled'));
    call.cancel();
    assert.deepEqual(reactor.getDelayedCalls(), []);
    await later(reactor, 0.02, null);
    assert.deepEqual(order, []);
  });

  test('reset and delay move a call', async () => {
    const reactor = new NodeReactor();
    const order: string[] = [];
    const early = reactor.callLater(0.001, () => order.push('moved'));
    reactor.callLater(0.02, () => order.push('fixed'));
    early.reset(0.04);
    const late = reactor.callLater(0.1, () => order.push('pulled in'));
    late.reset(0.005);
    await later(reactor, 0.06, null);
    assert.deepEqual(order, ['pulled in', 'fixed', 'moved']);
  });

  test('a call that reschedules itself with delay 0 does not starve I/O', async () => {
    // The guard: a batch of timed calls runs only the calls scheduled before
    // it began, so each reschedule waits for the next turn of Node's loop and
    // I/O completes between turns. The reactor's clock stands still here, so
    // a reschedule is due at once (as on a coarse clock) and only that guard
    // keeps the whole bounded loop below from running in one batch, with the
    // stat finishing after its last call. BOUND is far more turns than a
    // stat needs.
    const BOUND = 100_000;
    const frozen = (performance.timeOrigin + performance.now()) / 1000;
    const reactor = new (class extends NodeReactor {
      override seconds(): number {
        return frozen;
      }
    })();
    let spins = 0;
    let spinsAtIo: number | undefined;
    const spinning = new Deferred<void>();
    const spin = (): void => {
      spins++;
      if (spins === 1) spinning.callback(undefined);
      if (spinsAtIo === undefined && spins < BOUND) reactor.callLater(0, spin);
    };
    reactor.callLater(0, spin);
    await spinning;
    await stat('.');
    spinsAtIo = spins;
    assert.ok(spinsAtIo < BOUND, `the stat completed only after all ${BOUND} calls had run`);
    // A call scheduled now runs after the pending spin, which stops the loop.
    await later(reactor, 0, null);
    assert.ok(spins <= spinsAtIo + 1, 'the loop stops once told to');
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test('logs an error thrown by a timed call and keeps running the others', async () => {
    const reactor = new NodeReactor();
    const logs = captureLogs();
    const order: string[] = [];
    try {
      reactor.callLater(0.001, () => {
        throw new Error('timed call failed');
      });
      reactor.callLater(0.001, () => order.push('next call ran'));
      await later(reactor, 0.01, null);
    } finally {
      logs.stop();
    }
    assert.deepEqual(order, ['next call ran']);
    const failures = logs.events.filter((e) => e.log_failure !== undefined);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.log_failure?.getErrorMessage(), 'timed call failed');
    assert.equal(failures[0]?.log_level, 'critical');
  });

  test('keeps the process alive only while calls are pending', async () => {
    const reactor = new NodeReactor();
    const call = reactor.callLater(3600, () => undefined);
    call.cancel();
    // With the only call cancelled, no Node timer of the reactor stays armed.
    const handles = (
      process as unknown as { getActiveResourcesInfo(): string[] }
    ).getActiveResourcesInfo();
    const before = handles.filter((h) => h === 'Timeout').length;
    const other = reactor.callLater(3600, () => undefined);
    const during = (process as unknown as { getActiveResourcesInfo(): string[] })
      .getActiveResourcesInfo()
      .filter((h) => h === 'Timeout').length;
    other.cancel();
    const after = (process as unknown as { getActiveResourcesInfo(): string[] })
      .getActiveResourcesInfo()
      .filter((h) => h === 'Timeout').length;
    assert.equal(during, before + 1);
    assert.equal(after, before);
  });
});

describe('NodeReactor life cycle', { timeout: 10_000 }, () => {
  test('runs startup and shutdown triggers phase by phase, and run() settles after them', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    for (const eventType of ['startup', 'shutdown'] as const) {
      for (const phase of ['after', 'during', 'before'] as const) {
        reactor.addSystemEventTrigger(phase, eventType, () => {
          events.push(`${phase} ${eventType} running=${reactor.running}`);
        });
      }
    }
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run(noSignals);
    events.push('run settled');
    assert.deepEqual(events, [
      'before startup running=false',
      'during startup running=true',
      'after startup running=true',
      'before shutdown running=true',
      'during shutdown running=false',
      'after shutdown running=false',
      'run settled',
    ]);
  });

  test('waits for Deferreds and promises returned by before-shutdown triggers', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger('before', 'shutdown', () =>
      later(reactor, 0.02, null).addCallback(() => {
        events.push('slow Deferred trigger done');
      }),
    );
    reactor.addSystemEventTrigger('before', 'shutdown', async () => {
      await later(reactor, 0.01, null);
      events.push('async trigger done');
    });
    reactor.addSystemEventTrigger('during', 'shutdown', () => events.push('during shutdown'));
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run(noSignals);
    assert.deepEqual(events, [
      'async trigger done',
      'slow Deferred trigger done',
      'during shutdown',
    ]);
  });

  test('callWhenRunning calls at once while running and returns undefined', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    const id = reactor.callWhenRunning(() => {
      events.push('started');
      const again = reactor.callWhenRunning(() => events.push('at once'));
      events.push(`returned ${String(again)}`);
      reactor.stop();
    });
    assert.notEqual(id, undefined);
    await reactor.run(noSignals);
    assert.deepEqual(events, ['started', 'at once', 'returned undefined']);
  });

  test('callWhenRunning calls its functions in the order they were given', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.callWhenRunning((e: string) => events.push(e), 'first');
    reactor.callWhenRunning((e: string) => events.push(e), 'second');
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run(noSignals);
    assert.deepEqual(events, ['first', 'second']);
  });

  test('stop() returns before the before-shutdown triggers run', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger('before', 'shutdown', () => events.push('before shutdown'));
    reactor.callWhenRunning(() => {
      reactor.stop();
      events.push('stopped');
    });
    await reactor.run(noSignals);
    assert.deepEqual(events, ['stopped', 'before shutdown']);
  });

  test('an unfired Deferred from a before-startup trigger delays running until it fires', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger('before', 'startup', () => {
      events.push(`trigger running=${reactor.running}`);
      return later(reactor, 0.01, null).addCallback(() =>
        events.push(`fired running=${reactor.running}`),
      );
    });
    reactor.callWhenRunning(() => {
      events.push('running');
      reactor.stop();
    });
    await reactor.run(noSignals);
    assert.deepEqual(events, ['trigger running=false', 'fired running=false', 'running']);
  });

  test('a removed trigger does not run, and removing it twice throws', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    const id = reactor.addSystemEventTrigger('during', 'startup', () => events.push('removed'));
    reactor.removeSystemEventTrigger(id);
    assert.throws(() => reactor.removeSystemEventTrigger(id), /no such during-startup trigger/);
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run(noSignals);
    assert.deepEqual(events, []);
  });

  test('a trigger that throws is logged and the others still run', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    const logs = captureLogs();
    try {
      reactor.addSystemEventTrigger('after', 'startup', () => {
        throw new Error('trigger failed');
      });
      reactor.addSystemEventTrigger('after', 'startup', () => events.push('next trigger'));
      reactor.callWhenRunning(() => reactor.stop());
      await reactor.run(noSignals);
    } finally {
      logs.stop();
    }
    assert.deepEqual(events, ['next trigger']);
    assert.ok(logs.events.some((e) => e.log_failure?.getErrorMessage() === 'trigger failed'));
  });

  test('rejects a bad phase with a RangeError', () => {
    const reactor = new NodeReactor();
    assert.throws(
      () => reactor.addSystemEventTrigger('whenever' as 'before', 'startup', () => undefined),
      RangeError,
    );
  });

  test('fires custom system events on demand', () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger('after', 'persist', () => events.push('after'));
    reactor.addSystemEventTrigger('before', 'persist', () => events.push('before'));
    reactor.fireSystemEvent('persist');
    assert.deepEqual(events, ['before', 'after']);
  });

  test('stop() on a reactor that is not running throws ReactorNotRunning', () => {
    assert.throws(() => new NodeReactor().stop(), ReactorNotRunning);
  });

  test('stop() twice throws ReactorNotRunning the second time', async () => {
    const reactor = new NodeReactor();
    let second: unknown;
    reactor.callWhenRunning(() => {
      reactor.stop();
      try {
        reactor.stop();
      } catch (error) {
        second = error;
      }
    });
    await reactor.run(noSignals);
    assert.ok(second instanceof ReactorNotRunning);
  });

  test('run() while running throws ReactorAlreadyRunning', async () => {
    const reactor = new NodeReactor();
    let thrown: unknown;
    reactor.callWhenRunning(() => {
      try {
        void reactor.run(noSignals);
      } catch (error) {
        thrown = error;
      }
      reactor.stop();
    });
    await reactor.run(noSignals);
    assert.ok(thrown instanceof ReactorAlreadyRunning);
  });

  test('run() after stop() throws ReactorNotRestartable', async () => {
    const reactor = new NodeReactor();
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run(noSignals);
    assert.throws(() => reactor.run(noSignals), ReactorNotRestartable);
  });

  test('crash() settles run() without shutdown triggers, and the reactor can run again', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.addSystemEventTrigger('before', 'shutdown', () => events.push('shutdown trigger'));
    reactor.callWhenRunning(() => reactor.crash());
    await reactor.run(noSignals);
    assert.equal(reactor.running, false);
    reactor.callWhenRunning(() => {
      events.push('running again');
      reactor.stop();
    });
    await reactor.run(noSignals);
    assert.deepEqual(events, ['running again', 'shutdown trigger']);
  });

  test('holds timed calls once stopped, with no timer keeping the process alive', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run(noSignals);
    const timers = (): number =>
      (process as unknown as { getActiveResourcesInfo(): string[] })
        .getActiveResourcesInfo()
        .filter((h) => h === 'Timeout' || h === 'Immediate').length;
    const before = timers();
    reactor.callLater(0, () => events.push('ran after stop'));
    assert.equal(timers(), before);
    await stat('.');
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(events, []);
    assert.equal(reactor.getDelayedCalls().length, 1);
  });

  test('releases the timed calls held after a crash when it runs again', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.callWhenRunning(() => reactor.crash());
    await reactor.run(noSignals);
    reactor.callLater(0, () => {
      events.push(`ran running=${reactor.running}`);
      reactor.stop();
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(events, []);
    await reactor.run(noSignals);
    assert.deepEqual(events, ['ran running=true']);
  });

  test('timed calls scheduled before run() fire while it runs', async () => {
    const reactor = new NodeReactor();
    const events: string[] = [];
    reactor.callLater(0.01, () => {
      events.push(`fired running=${reactor.running}`);
      reactor.stop();
    });
    await reactor.run(noSignals);
    assert.deepEqual(events, ['fired running=true']);
  });
});

describe('NodeReactor.resolve', { timeout: 10_000 }, () => {
  test('gives an IP address back as it is', async () => {
    const reactor = new NodeReactor();
    assert.equal(await reactor.resolve('192.0.2.7'), '192.0.2.7');
    assert.equal(await reactor.resolve('::1'), '::1');
  });

  test('resolves localhost to 127.0.0.1', async () => {
    const reactor = new NodeReactor();
    assert.equal(await reactor.resolve('localhost'), '127.0.0.1');
  });

  test('fails with DNSLookupError for a name that does not exist', async () => {
    const reactor = new NodeReactor();
    await assert.rejects(reactor.resolve('no-such-host.invalid', 5).asPromise(), DNSLookupError);
  });

  test('cancelling a lookup fails it with CancelledError', () => {
    const reactor = new NodeReactor();
    const d = reactor.resolve('no-such-host.invalid', 5);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });
});

describe('NodeReactor signals', { timeout: 20_000 }, () => {
  const child = fileURLToPath(new URL('../helpers/reactor-signal-child.js', import.meta.url));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} stops a running reactor gracefully, running the shutdown triggers`, async () => {
      const proc = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      proc.stdout.setEncoding('utf8');
      proc.stdout.on('data', (chunk: string) => {
        output += chunk;
        if (chunk.includes('running')) proc.kill(signal);
      });
      const [code] = (await once(proc, 'exit')) as [number | null];
      assert.equal(code, 0);
      assert.match(output, /running\n/);
      assert.match(output, new RegExp(`before shutdown, stopped by ${signal}\\n`));
      assert.match(output, /run settled\n/);
    });
  }
});
