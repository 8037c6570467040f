// react and runMain (ported from Twisted's twisted/test/test_task.py
// ReactTests and ReactCoroutineFunctionTests), on a FakeReactor whose time
// is a Clock. react itself exits the process; the exit statuses are checked
// through runMain, which gives the status react would exit with.
// test/integration/task-react.test.ts runs react in child processes.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Deferred, Failure, fail, succeed } from 'torsion/defer';
import { captureLogs, type LogCapture } from 'torsion/logger';
import { runMain, SystemExit } from 'torsion/task';
import { FakeReactor } from '../../helpers/fake-reactor.js';

class ExpectedException extends Error {
  override name = 'ExpectedException';
}

let logs: LogCapture;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.stop();
});

/** The values of the failures logged as "main function encountered error". */
function loggedMainErrors(): unknown[] {
  return logs.events
    .filter((event) => event.log_format === 'main function encountered error')
    .map((event) => (event.log_failure as Failure).value);
}

describe('runMain with a main function returning a Deferred', () => {
  test('runs the reactor until the Deferred fires, then stops it, with status 0', async () => {
    const timePassed: boolean[] = [];
    const r = new FakeReactor();
    const status = await runMain(
      (reactor: FakeReactor) => {
        const finished = new Deferred<void>();
        reactor.callLater(1, () => timePassed.push(true));
        reactor.callLater(2, () => finished.callback());
        return finished;
      },
      [],
      r,
    );
    assert.equal(status, 0);
    assert.deepEqual(timePassed, [true]);
    assert.equal(r.seconds(), 2);
    assert.equal(r.stopCalls, 1);
  });

  test('stops at once when the Deferred has already fired', async () => {
    const r = new FakeReactor();
    const status = await runMain(() => succeed(undefined), [], r);
    assert.equal(status, 0);
    assert.equal(r.seconds(), 0);
    assert.equal(r.stopCalls, 1);
  });

  test('runs the reactor until the Deferred fails, logs the failure and gives status 1', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      (reactor: FakeReactor) => {
        const finished = new Deferred<void>();
        reactor.callLater(1, () => finished.errback(new ExpectedException()));
        return finished;
      },
      [],
      r,
    );
    assert.equal(status, 1);
    assert.equal(r.seconds(), 1);
    const errors = loggedMainErrors();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ExpectedException);
  });

  test('stops at once and gives status 1 when the Deferred has already failed', async () => {
    const r = new FakeReactor();
    const status = await runMain(() => fail(new ExpectedException()), [], r);
    assert.equal(status, 1);
    assert.equal(r.seconds(), 0);
    assert.equal(loggedMainErrors().length, 1);
  });

  test('does not stop the reactor again when the Deferred fires during shutdown', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      (reactor: FakeReactor) => {
        reactor.callLater(1, () => reactor.stop());
        const finished = new Deferred<void>();
        reactor.addSystemEventTrigger('during', 'shutdown', () => finished.callback());
        return finished;
      },
      [],
      r,
    );
    assert.equal(r.seconds(), 1);
    assert.equal(status, 0);
    assert.equal(r.stopCalls, 1);
  });

  test('does not stop the reactor again when the Deferred fails during shutdown', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      (reactor: FakeReactor) => {
        reactor.callLater(1, () => reactor.stop());
        const finished = new Deferred<void>();
        reactor.addSystemEventTrigger('during', 'shutdown', () =>
          finished.errback(new ExpectedException()),
        );
        return finished;
      },
      [],
      r,
    );
    assert.equal(status, 1);
    assert.equal(r.seconds(), 1);
    assert.equal(r.stopCalls, 1);
    assert.equal(loggedMainErrors().length, 1);
  });

  test('passes the elements of argv to main after the reactor', async () => {
    const args: unknown[] = [];
    const r = new FakeReactor();
    let passed: unknown;
    const status = await runMain(
      (reactor: FakeReactor, x: number, y: number, z: number) => {
        passed = reactor;
        args.push(x, y, z);
        return succeed(undefined);
      },
      [1, 2, 3],
      r,
    );
    assert.equal(status, 0);
    assert.deepEqual(args, [1, 2, 3]);
    assert.equal(passed, r);
  });

  test('gives the exit code of a SystemExit failure, without logging it', async () => {
    const r = new FakeReactor();
    const status = await runMain(() => fail(new SystemExit(23)), [], r);
    assert.equal(status, 23);
    assert.deepEqual(loggedMainErrors(), []);
  });

  test('handles the reactor being stopped just before the Deferred fires', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      (reactor: FakeReactor) => {
        const d = new Deferred<void>();
        reactor.callWhenRunning(() => {
          reactor.stop();
          d.callback();
        });
        return d;
      },
      [],
      r,
    );
    assert.equal(status, 0);
    assert.equal(r.stopCalls, 1);
  });

  test('gives status 0 when the reactor is stopped and the Deferred never fires', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      (reactor: FakeReactor) => {
        reactor.callLater(1, () => reactor.stop());
        return new Deferred<void>();
      },
      [],
      r,
    );
    assert.equal(status, 0);
    assert.equal(r.stopCalls, 1);
  });
});

describe('runMain with an async main function', () => {
  test('runs the reactor until the promise resolves, then stops it, with status 0', async () => {
    const timePassed: boolean[] = [];
    const r = new FakeReactor();
    const status = await runMain(
      async (reactor: FakeReactor) => {
        const finished = new Deferred<void>();
        reactor.callLater(1, () => timePassed.push(true));
        reactor.callLater(2, () => finished.callback());
        return await finished;
      },
      [],
      r,
    );
    assert.equal(status, 0);
    assert.deepEqual(timePassed, [true]);
    assert.equal(r.seconds(), 2);
    assert.equal(r.stopCalls, 1);
  });

  test('stops without advancing time when main awaits only what has already fired', async () => {
    const r = new FakeReactor();
    const status = await runMain(async () => await succeed(undefined), [], r);
    assert.equal(status, 0);
    assert.equal(r.seconds(), 0);
  });

  test('runs the reactor until the promise rejects, logs the error and gives status 1', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      async (reactor: FakeReactor) => {
        const finished = new Deferred<void>();
        reactor.callLater(1, () => finished.errback(new ExpectedException()));
        return await finished;
      },
      [],
      r,
    );
    assert.equal(status, 1);
    const errors = loggedMainErrors();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ExpectedException);
  });

  test('stops without advancing time and gives status 1 when main awaits a failed Deferred', async () => {
    const r = new FakeReactor();
    const status = await runMain(async () => await fail(new ExpectedException()), [], r);
    assert.equal(status, 1);
    assert.equal(r.seconds(), 0);
    assert.equal(loggedMainErrors().length, 1);
  });

  test('does not stop the reactor again when main finishes during shutdown', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      async (reactor: FakeReactor) => {
        reactor.callLater(1, () => reactor.stop());
        const finished = new Deferred<void>();
        reactor.addSystemEventTrigger('during', 'shutdown', () => finished.callback());
        return await finished;
      },
      [],
      r,
    );
    assert.equal(r.seconds(), 1);
    assert.equal(status, 0);
    assert.equal(r.stopCalls, 1);
  });

  test('does not stop the reactor again when main fails during shutdown, and gives status 1', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      async (reactor: FakeReactor) => {
        reactor.callLater(1, () => reactor.stop());
        const finished = new Deferred<void>();
        reactor.addSystemEventTrigger('during', 'shutdown', () =>
          finished.errback(new ExpectedException()),
        );
        return await finished;
      },
      [],
      r,
    );
    assert.equal(status, 1);
    assert.equal(r.seconds(), 1);
    assert.equal(r.stopCalls, 1);
    assert.equal(loggedMainErrors().length, 1);
  });

  test('passes the elements of argv to main after the reactor', async () => {
    const args: unknown[] = [];
    const r = new FakeReactor();
    const status = await runMain(
      async (_reactor: FakeReactor, x: string, y: string) => {
        args.push(x, y);
        return await succeed(undefined);
      },
      ['alice', 'secret'],
      r,
    );
    assert.equal(status, 0);
    assert.deepEqual(args, ['alice', 'secret']);
  });

  test('gives the exit code of a thrown SystemExit', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      async () => {
        throw new SystemExit(23);
      },
      [],
      r,
    );
    assert.equal(status, 23);
    assert.deepEqual(loggedMainErrors(), []);
  });

  test('handles the reactor being stopped just before main finishes', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      async (reactor: FakeReactor) => {
        const d = new Deferred<void>();
        reactor.callWhenRunning(() => {
          reactor.stop();
          d.callback();
        });
        return await d;
      },
      [],
      r,
    );
    assert.equal(status, 0);
    assert.equal(r.stopCalls, 1);
  });

  test('gives status 0 when the reactor is stopped and main never finishes', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      async (reactor: FakeReactor) => {
        reactor.callLater(1, () => reactor.stop());
        return await new Deferred<void>();
      },
      [],
      r,
    );
    assert.equal(status, 0);
    assert.equal(r.stopCalls, 1);
  });
});

describe('runMain with other main functions', () => {
  test('accepts a main that returns a plain value', async () => {
    const r = new FakeReactor();
    assert.equal(await runMain(() => 'done', [], r), 0);
    assert.equal(r.stopCalls, 1);
  });

  test('logs a synchronous throw from main and gives status 1', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      () => {
        throw new ExpectedException('at once');
      },
      [],
      r,
    );
    assert.equal(status, 1);
    assert.equal(r.stopCalls, 1);
    assert.equal(loggedMainErrors().length, 1);
  });

  test('runs a generator main as inlineCallbacks does', async () => {
    const r = new FakeReactor();
    const seen: unknown[] = [];
    const status = await runMain(
      function* (reactor: FakeReactor) {
        const d = new Deferred<string>();
        reactor.callLater(3, () => d.callback('three'));
        seen.push(yield d);
      },
      [],
      r,
    );
    assert.equal(status, 0);
    assert.deepEqual(seen, ['three']);
    assert.equal(r.seconds(), 3);
  });

  test('calls main at once, before the reactor runs', () => {
    const r = new FakeReactor();
    let called = false;
    const status = runMain(
      (reactor: FakeReactor) => {
        called = true;
        assert.equal(reactor.running, false);
        return succeed(undefined);
      },
      [],
      r,
    );
    assert.equal(called, true);
    return status.then((code) => assert.equal(code, 0));
  });
});

describe('runMain after a signal', () => {
  test('gives 130 when SIGINT stopped the reactor and main never finished', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      (reactor: FakeReactor) => {
        reactor.callLater(1, () => {
          reactor.exitSignal = 'SIGINT';
          reactor.stop();
        });
        return new Deferred<void>();
      },
      [],
      r,
    );
    assert.equal(status, 130);
  });

  test('gives 143 when SIGTERM stopped the reactor, even if main then succeeded', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      (reactor: FakeReactor) => {
        const finished = new Deferred<void>();
        reactor.callLater(1, () => {
          reactor.exitSignal = 'SIGTERM';
          reactor.stop();
        });
        reactor.addSystemEventTrigger('during', 'shutdown', () => finished.callback());
        return finished;
      },
      [],
      r,
    );
    assert.equal(status, 143);
  });

  test('gives the exit code of a SystemExit that main fails with during the shutdown', async () => {
    const r = new FakeReactor();
    const status = await runMain(
      async (reactor: FakeReactor) => {
        const finished = new Deferred<void>();
        reactor.callLater(1, () => {
          reactor.exitSignal = 'SIGINT';
          reactor.stop();
        });
        reactor.addSystemEventTrigger('during', 'shutdown', () =>
          finished.errback(new SystemExit(3)),
        );
        await finished;
      },
      [],
      r,
    );
    assert.equal(status, 3);
  });
});

describe('SystemExit', () => {
  test('is a TorsionError with a stable code and the exit status', () => {
    const error = new SystemExit(23);
    assert.equal(error.name, 'SystemExit');
    assert.equal(error.code, 'ERR_SYSTEM_EXIT');
    assert.equal(error.exitCode, 23);
    assert.equal(error.message, 'exit with status 23');
    assert.ok(new Failure(error).check('TorsionError'));
  });

  test('defaults to status 0', () => {
    assert.equal(new SystemExit().exitCode, 0);
  });

  test('rejects a status that is not an integer from 0 to 255 with a RangeError', () => {
    assert.throws(() => new SystemExit(256), RangeError);
    assert.throws(() => new SystemExit(-1), RangeError);
    assert.throws(() => new SystemExit(1.5), RangeError);
  });
});
