// runApp's parts that need no process of their own: starting a service
// tree and knowing it listens (startApplication), the bounded graceful stop
// (stopApplication) on a Clock, addresses as people read them, the log file
// that is reopened after a rotation, and the options refused up front. The
// program as a whole (signals, workers, exit status) is tested in
// test/integration/app/run-app.test.ts.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Factory, IPv4Address, IPv6Address, Protocol, UNIXAddress } from 'torsion';
import { MultiService, runApp, Service, StreamServerEndpointService } from 'torsion/app';
import { Deferred } from 'torsion/defer';
import { serverFromString } from 'torsion/endpoints';
import { captureLogs } from 'torsion/logger';
import { Clock } from 'torsion/task';
import { MemoryReactorClock, RaisingMemoryReactor } from 'torsion/testing';
import { describeAddress, startApplication, stopApplication } from '../../../src/app/_lifecycle.js';
import { openLogOutput } from '../../../src/app/_log-output.js';

/** A service whose stop the test finishes. */
class SlowToStop extends Service {
  stopping = new Deferred<void>();
  override stopService(): Deferred<void> {
    super.stopService();
    return this.stopping;
  }
}

function listeningService(reactor: MemoryReactorClock | RaisingMemoryReactor, port: number) {
  return new StreamServerEndpointService(
    serverFromString(reactor, `tcp:${port}:interface=127.0.0.1`),
    Factory.forProtocol(Protocol),
  );
}

describe('startApplication', () => {
  test('starts the tree and resolves with every port once all listen, logging each', async () => {
    const reactor = new MemoryReactorClock();
    const root = new MultiService();
    listeningService(reactor, 8080).setServiceParent(root);
    const inner = new MultiService();
    inner.setServiceParent(root);
    listeningService(reactor, 8443).setServiceParent(inner);
    const logs = captureLogs();
    try {
      const ports = await startApplication(root);
      assert.equal(root.running, true);
      assert.deepEqual(
        ports.map((port) => describeAddress(port.getHost())),
        ['127.0.0.1:8080', '127.0.0.1:8443'],
      );
      assert.deepEqual(
        reactor.tcpServers.map(([port]) => port),
        [8080, 8443],
      );
      const lines = logs.events.filter((e) => e.log_format === '{service} listening on {address}');
      assert.deepEqual(
        lines.map((e) => e.address),
        ['127.0.0.1:8080', '127.0.0.1:8443'],
      );
    } finally {
      logs.stop();
    }
  });

  test('fails with the listening error when a port cannot listen', async () => {
    const reactor = new RaisingMemoryReactor();
    const root = new MultiService();
    listeningService(reactor, 80).setServiceParent(root);
    const logs = captureLogs();
    try {
      await assert.rejects(startApplication(root), (error: Error) => {
        assert.equal(error.name, 'CannotListenError');
        return true;
      });
    } finally {
      logs.stop();
    }
  });

  test('a tree without listening services has started when it returns', async () => {
    const root = new MultiService();
    new Service().setServiceParent(root);
    assert.deepEqual(await startApplication(root), []);
    assert.equal([...root][0]?.running, true);
  });

  test('what startService throws is thrown', async () => {
    class Broken extends Service {
      override startService(): void {
        throw new Error('no start');
      }
    }
    await assert.rejects(startApplication(new Broken()), /no start/);
  });
});

describe('stopApplication', () => {
  test('fires when the services have stopped', () => {
    const clock = new Clock();
    const service = new SlowToStop();
    service.startService();
    const done = stopApplication(service, clock, 10);
    assert.equal(done.called, false);
    clock.advance(9);
    assert.equal(done.called, false);
    service.stopping.callback(undefined);
    assert.equal(done.called, true);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test('fires after the grace period if they have not, with a warning', () => {
    const clock = new Clock();
    const service = new SlowToStop();
    service.startService();
    const logs = captureLogs();
    try {
      const done = stopApplication(service, clock, 10);
      clock.advance(9.999);
      assert.equal(done.called, false);
      clock.advance(0.001);
      assert.equal(done.called, true);
      assert.ok(logs.events.some((e) => e.log_level === 'warn' && e.gracePeriod === 10));
      // A stop that finishes later changes nothing.
      service.stopping.callback(undefined);
    } finally {
      logs.stop();
    }
  });

  test('a failed stop is logged, and the stop still fires', () => {
    const clock = new Clock();
    const service = new SlowToStop();
    service.startService();
    const logs = captureLogs();
    try {
      const done = stopApplication(service, clock, 10);
      service.stopping.errback(new Error('stuck'));
      assert.equal(done.called, true);
      const failed = logs.events.find((e) => e.log_format === 'Stopping {service} failed');
      assert.match(String((failed?.log_failure as { value?: Error })?.value), /stuck/);
    } finally {
      logs.stop();
    }
  });

  test('a stop that returns a promise is waited for', async () => {
    class Later extends Service {
      release: () => void = () => undefined;
      override stopService(): Promise<void> {
        return new Promise((resolve) => {
          this.release = resolve;
        });
      }
    }
    const service = new Later();
    const done = stopApplication(service, new Clock(), 10);
    await Promise.resolve();
    assert.equal(done.called, false);
    service.release();
    await done;
    assert.equal(done.called, true);
  });

  test('a stop that throws is logged too', () => {
    class Throws extends Service {
      override stopService(): void {
        throw new Error('thrown');
      }
    }
    const logs = captureLogs();
    try {
      const done = stopApplication(new Throws(), new Clock(), 10);
      assert.equal(done.called, true);
      assert.ok(logs.events.some((e) => e.log_format === 'Stopping {service} failed'));
    } finally {
      logs.stop();
    }
  });
});

describe('describeAddress', () => {
  test('IPv4, IPv6 in brackets, UNIX paths', () => {
    assert.equal(describeAddress(new IPv4Address('TCP', '10.0.0.1', 80)), '10.0.0.1:80');
    assert.equal(describeAddress(new IPv6Address('TCP', '::1', 8080)), '[::1]:8080');
    assert.equal(describeAddress(new UNIXAddress('/run/app.sock')), '/run/app.sock');
  });
});

describe('the log file', () => {
  test('appends, and after a rotation reopen() writes to a new file at the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-log-'));
    try {
      const path = join(dir, 'app.log');
      const output = openLogOutput(path);
      output.write('one\n');
      renameSync(path, `${path}.1`);
      output.write('two\n');
      output.reopen();
      output.write('three\n');
      output.close();
      output.write('dropped\n');
      assert.equal(readFileSync(`${path}.1`, 'utf8'), 'one\ntwo\n');
      assert.equal(readFileSync(path, 'utf8'), 'three\n');
      const again = openLogOutput(path);
      again.write('four\n');
      again.close();
      assert.equal(readFileSync(path, 'utf8'), 'three\nfour\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a path that cannot be opened throws the system error', () => {
    assert.throws(() => openLogOutput('/nonexistent-dir/app.log'), { code: 'ENOENT' });
  });
});

describe('runApp options', () => {
  const bad: Array<[string, object, RegExp]> = [
    ['workers 0', { workers: 0 }, /workers is a whole number, 1 or more, got 0/],
    ['workers 1.5', { workers: 1.5 }, /workers is a whole number/],
    ['a negative grace', { shutdownTimeout: -1 }, /shutdownTimeout is a number of seconds/],
    ['a NaN grace', { shutdownTimeout: Number.NaN }, /shutdownTimeout/],
    ['a log format', { logFormat: 'xml' }, /logFormat is 'text' or 'json', got xml/],
    ['a log level', { logLevel: 'verbose' }, /verbose/],
  ];
  for (const [what, options, message] of bad) {
    test(`refuses ${what} before doing anything`, async () => {
      let exited: number | undefined;
      await assert.rejects(
        runApp(new Service(), {
          ...options,
          exit: (code) => {
            exited = code;
          },
        }),
        message,
      );
      assert.equal(exited, undefined);
    });
  }
});
