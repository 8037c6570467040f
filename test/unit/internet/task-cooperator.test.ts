// Cooperator and CooperativeTask (ported from Twisted's
// twisted/test/test_cooperator.py), with steps scheduled on a Clock.

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { TorsionError } from 'torsion';
import { CancelledError, Deferred, DeferredList, type Failure, fail } from 'torsion/defer';
import {
  Clock,
  CooperativeTask,
  Cooperator,
  type CooperatorOptions,
  cooperate,
  NotPaused,
  SchedulerError,
  SchedulerStopped,
  TaskDone,
  TaskFailed,
  TaskFinished,
  TaskStopped,
} from 'torsion/task';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

class UnhandledException extends Error {
  override name = 'UnhandledException';
}

/** A termination predicate factory that ends each step after one unit of work. */
const oneUnitPerStep = (): (() => boolean) => () => true;

/**
 * A Cooperator whose steps run one second apart on `clock`: each
 * `clock.advance(1)` runs exactly one step.
 */
function clockCooperator(clock: Clock, options: Partial<CooperatorOptions> = {}): Cooperator {
  return new Cooperator({
    scheduler: (step) => clock.callLater(1, step),
    terminationPredicateFactory: oneUnitPerStep,
    ...options,
  });
}

/** A scheduled step that a test runs by hand. */
interface ManualCall {
  readonly step: () => void;
  cancelled: boolean;
  cancel(): void;
}

function manualCall(step: () => void): ManualCall {
  return {
    step,
    cancelled: false,
    cancel() {
      this.cancelled = true;
    },
  };
}

function* empty(): Generator<never, void, unknown> {}

describe('Cooperator.coiterate', () => {
  test('fails the Deferred of a task added after stop() with SchedulerStopped', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    c.stop();
    failureResultOf(c.coiterate(empty()), SchedulerStopped);
    const mine = new Deferred<Generator<never, void, unknown>>();
    assert.equal(c.coiterate(empty(), mine), mine);
    failureResultOf(mine, SchedulerStopped);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('a running iterator does not run to completion once the cooperator is stopped', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    const seen: number[] = [];
    function* myiter(): Generator<number, void, unknown> {
      for (let i = 0; i < 3; i++) {
        seen.push(i);
        yield i;
      }
    }
    const d = c.coiterate(myiter());
    c.stop();
    failureResultOf(d, SchedulerStopped);
    clock.advance(10);
    assert.deepEqual(seen, []);
  });

  test('a task paused on a yielded Deferred fails with SchedulerStopped when it resumes after stop()', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    const outstanding = new Deferred<string>();
    const after: string[] = [];
    function* myiter(): Generator<Deferred<string>, void, unknown> {
      yield outstanding;
      after.push('resumed');
    }
    const d = c.coiterate(myiter());
    clock.advance(1);
    assertNoResult(d);
    c.stop();
    assertNoResult(d);
    outstanding.callback('arglebargle');
    failureResultOf(d, SchedulerStopped);
    assert.deepEqual(after, []);
  });

  test('fails with what the iterator throws', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    const myiter: Iterator<never> = {
      next() {
        throw new RangeError('broken');
      },
    };
    const d = c.coiterate(myiter);
    clock.advance(1);
    failureResultOf(d, RangeError);
  });

  test('fails with the failure of a yielded Deferred that fails later', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    function* myiter(): Generator<Deferred<void>, void, unknown> {
      const d = new Deferred<void>();
      clock.callLater(0.5, () => d.errback(new RangeError('later')));
      yield d;
    }
    const done = c.coiterate(myiter());
    clock.advance(1);
    assertNoResult(done);
    clock.advance(0.5);
    failureResultOf(done, RangeError);
  });

  test('fails with the failure of a yielded Deferred that has already failed', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    function* myiter(): Generator<Deferred<never>, void, unknown> {
      yield fail(new RangeError('now'));
    }
    const done = c.coiterate(myiter());
    clock.advance(1);
    failureResultOf(done, RangeError);
  });

  test('shares the steps between tasks round robin', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    const seen: unknown[] = [];
    function* myiter(things: readonly unknown[]): Generator<undefined, void, unknown> {
      for (const thing of things) {
        seen.push(thing);
        yield undefined;
      }
    }
    const groups: unknown[][] = [
      ['a', 'b', 'c'],
      [1, 2, 3],
      ['d', 'e', 'f'],
      [4, 5, 6],
    ];
    const all = new DeferredList(groups.map((group) => c.coiterate(myiter(group))));
    clock.pump(Array.from({ length: 20 }, () => 1));
    successResultOf(all);
    assert.deepEqual(seen, ['a', 1, 'd', 4, 'b', 2, 'e', 5, 'c', 3, 'f', 6]);
  });

  test('fires with the iterator once it is exhausted', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    const iterator = [1, 2, 3].values();
    const d = c.coiterate(iterator);
    clock.pump([1, 1, 1]);
    assertNoResult(d);
    clock.advance(1);
    assert.equal(successResultOf(d), iterator);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('re-coiterating from a completion callback schedules only one step at a time', () => {
    const calls: ManualCall[] = [];
    const c = new Cooperator({
      scheduler: (step) => {
        assert.equal(calls.length, 0, 'a step was scheduled while another was pending');
        const call = manualCall(step);
        calls.push(call);
        return call;
      },
      terminationPredicateFactory: oneUnitPerStep,
    });
    const done: unknown[] = [];
    c.coiterate(empty()).addCallback(() => {
      c.coiterate(empty()).addBoth((result) => {
        done.push(result);
      });
    });
    let work = 0;
    while (done.length === 0) {
      work++;
      for (let call = calls.shift(); call !== undefined; call = calls.shift()) {
        call.step();
        work++;
      }
      assert.ok(work <= 50, 'the cooperator took too long');
    }
    assert.equal(done.length, 1);
  });

  test('cancelling its Deferred stops the task and fails with CancelledError', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    const seen: number[] = [];
    function* counter(): Generator<number, void, unknown> {
      for (let i = 0; ; i++) {
        seen.push(i);
        yield i;
      }
    }
    const d = c.coiterate(counter());
    clock.pump([1, 1]);
    d.cancel();
    failureResultOf(d, CancelledError);
    clock.pump([1, 1]);
    assert.deepEqual(seen, [0, 1]);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});

describe('Cooperator steps', () => {
  test('a step ends when the termination predicate says so, and goes on at the next step', () => {
    const output: number[] = [];
    let stopped = false;
    const calls: ManualCall[] = [];
    const c = new Cooperator({
      terminationPredicateFactory: () => () => stopped,
      scheduler: (step) => {
        const call = manualCall(step);
        calls.push(call);
        return call;
      },
    });
    function* myiter(): Generator<number, void, unknown> {
      for (let i = 0; i < 100; i++) {
        output.push(i);
        if (i === 9) stopped = true;
        yield i;
      }
    }
    c.coiterate(myiter()).addErrback((failure) => {
      failure.trap(SchedulerStopped);
    });
    assert.equal(calls.length, 1);
    calls[0]?.step();
    assert.deepEqual(
      output,
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.equal(calls.length, 2, 'the next step is scheduled');
    c.stop();
    assert.equal(calls[1]?.cancelled, true);
  });

  test('asks the termination predicate factory for a new predicate at each step', () => {
    const clock = new Clock();
    let factoryCalls = 0;
    const c = clockCooperator(clock, {
      terminationPredicateFactory: () => {
        factoryCalls++;
        return () => true;
      },
    });
    c.coiterate([1, 2].values());
    clock.pump([1, 1, 1]);
    assert.equal(factoryCalls, 3);
  });

  test('by default ends a step after about 10 ms of work', () => {
    const calls: ManualCall[] = [];
    const c = new Cooperator({
      scheduler: (step) => {
        const call = manualCall(step);
        calls.push(call);
        return call;
      },
    });
    let units = 0;
    function* busy(): Generator<number, void, unknown> {
      for (let i = 0; i < 100; i++) {
        // Each unit takes at least 2 ms, so a 10 ms step holds at most 5.
        const end = performance.now() + 2;
        while (performance.now() < end) {
          // busy
        }
        units++;
        yield i;
      }
    }
    const task = c.cooperate(busy());
    calls[0]?.step();
    assert.ok(units >= 1 && units <= 5, `${units} units ran in one step`);
    task.stop();
    assert.equal(calls[1]?.cancelled, true);
  });

  test('cancels the scheduled step when the last task is removed, and schedules again for a new one', () => {
    let scheduled: ManualCall | undefined;
    const coop = new Cooperator({
      scheduler: (step) => {
        scheduled = manualCall(step);
        return scheduled;
      },
    });
    const task1 = coop.cooperate([1, 2].values());
    const task2 = coop.cooperate([1, 2].values());
    const first = scheduled;
    assert.ok(first !== undefined);

    task1.stop();
    assert.equal(first.cancelled, false);

    task2.stop();
    assert.equal(first.cancelled, true);

    coop.cooperate([1, 2].values());
    assert.notEqual(scheduled, first);
    assert.equal(scheduled?.cancelled, false);
    coop.stop();
    assert.equal(scheduled?.cancelled, true);
  });

  test('a yielded promise pauses the task until it resolves', async () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    const seen: string[] = [];
    let release: () => void = () => undefined;
    function* myiter(): Generator<Promise<void> | undefined, void, unknown> {
      seen.push('before');
      yield new Promise<void>((resolve) => {
        release = resolve;
      });
      seen.push('after');
      yield undefined;
    }
    const d = c.coiterate(myiter());
    clock.pump([1, 1, 1]);
    assert.deepEqual(seen, ['before']);
    release();
    await Promise.resolve();
    await Promise.resolve();
    clock.pump([1, 1]);
    assert.deepEqual(seen, ['before', 'after']);
    successResultOf(d);
  });

  test('a yielded promise that rejects fails the task', async () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    function* myiter(): Generator<Promise<never>, void, unknown> {
      yield Promise.reject(new RangeError('rejected'));
    }
    const d = c.coiterate(myiter());
    clock.advance(1);
    await assert.rejects(d.asPromise(), RangeError);
  });
});

describe('Cooperator.running', () => {
  test('is true for a cooperator started on creation', () => {
    assert.equal(clockCooperator(new Clock()).running, true);
  });

  test('is false for a cooperator created with started: false', () => {
    assert.equal(clockCooperator(new Clock(), { started: false }).running, false);
  });

  test('is true once start() is called', () => {
    const c = clockCooperator(new Clock(), { started: false });
    c.start();
    assert.equal(c.running, true);
    c.stop();
  });

  test('is false after stop()', () => {
    const c = clockCooperator(new Clock(), { started: false });
    c.start();
    c.stop();
    assert.equal(c.running, false);
  });

  test('a cooperator not started queues its tasks until start()', () => {
    const clock = new Clock();
    const c = clockCooperator(clock, { started: false });
    const d = c.coiterate([1].values());
    assert.deepEqual(clock.getDelayedCalls(), []);
    c.start();
    clock.pump([1, 1]);
    successResultOf(d);
  });
});

describe('Cooperator.stop', () => {
  test('ends every running task with SchedulerStopped', () => {
    const clock = new Clock();
    const c = clockCooperator(clock);
    const tasks = [0, 1, 2].map(() => c.cooperate([1, 2, 3].values()));
    const done = tasks.map((task) => task.whenDone());
    c.stop();
    for (const d of done) failureResultOf(d, SchedulerStopped);
    for (const task of tasks) assert.throws(() => task.pause(), SchedulerStopped);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});

describe('Cooperator constructor', () => {
  test('throws a TypeError without a scheduler, rather than using the global reactor', () => {
    const noScheduler = {} as CooperatorOptions;
    assert.throws(() => new Cooperator(noScheduler), {
      name: 'TypeError',
      message: /^Cooperator needs a scheduler option/,
    });
    const noOptions = Cooperator as unknown as new () => Cooperator;
    assert.throws(() => new noOptions(), TypeError);
  });
});

describe('cooperate', () => {
  test('runs the iterator as a task of the default cooperator', () => {
    const seen: number[] = [];
    function* doit(): Generator<number, void, unknown> {
      seen.push(1);
      yield 1;
    }
    const theTask = cooperate(doit());
    assert.ok(theTask instanceof CooperativeTask);
    // Nothing runs before the default reactor's next turn; stopping now
    // leaves no step scheduled on it.
    const done = theTask.whenDone();
    theTask.stop();
    failureResultOf(done, TaskStopped);
    assert.deepEqual(seen, []);
  });
});

describe('CooperativeTask', () => {
  let clock: Clock;
  let cooperator: Cooperator;
  let task: CooperativeTask<Generator<number | Deferred<unknown>, void, unknown>>;
  let iterator: Generator<number | Deferred<unknown>, void, unknown>;
  let work: Array<number | Deferred<unknown>>;
  let doDeferNext: boolean;
  let doStopNext: boolean;
  let doDieNext: boolean;

  /** Yields an ascending count, or a Deferred, stops or throws when told to. */
  function* worker(): Generator<number | Deferred<unknown>, void, unknown> {
    let i = 0;
    for (;;) {
      i++;
      if (doDeferNext) {
        doDeferNext = false;
        const d = new Deferred<unknown>();
        work.push(d);
        yield d;
      } else if (doStopNext) {
        return;
      } else if (doDieNext) {
        throw new UnhandledException();
      } else {
        work.push(i);
        yield i;
      }
    }
  }

  /** Runs one step: one unit of work. */
  function pump(): void {
    clock.advance(1);
  }

  beforeEach(() => {
    clock = new Clock();
    work = [];
    doDeferNext = false;
    doStopNext = false;
    doDieNext = false;
    cooperator = clockCooperator(clock, { started: false });
    iterator = worker();
    task = cooperator.cooperate(iterator);
    cooperator.start();
  });

  test('stops doing work while paused and starts again when resumed', () => {
    pump();
    assert.deepEqual(work, [1]);
    pump();
    assert.deepEqual(work, [1, 2]);

    task.pause();
    pump();
    assert.deepEqual(work, [1, 2]);
    task.resume();
    // Resuming does no work by itself...
    assert.deepEqual(work, [1, 2]);
    pump();
    // ...the next step does.
    assert.deepEqual(work, [1, 2, 3]);
  });

  test('resume throws NotPaused unless the task is paused', () => {
    assert.throws(() => task.resume(), NotPaused);
    task.pause();
    task.resume();
    assert.throws(() => task.resume(), NotPaused);
  });

  test('pauses nest: a task paused twice must be resumed twice', () => {
    task.pause();
    pump();
    assert.deepEqual(work, []);
    task.pause();
    pump();
    assert.deepEqual(work, []);
    task.resume();
    pump();
    assert.deepEqual(work, []);
    task.resume();
    pump();
    assert.deepEqual(work, [1]);
  });

  test('a task paused while waiting on a Deferred needs both the Deferred and resume()', () => {
    doDeferNext = true;
    pump();
    assert.equal(work.length, 1);
    assert.ok(work[0] instanceof Deferred);
    pump();
    assert.equal(work.length, 1);
    task.pause();
    pump();
    assert.equal(work.length, 1);
    task.resume();
    pump();
    assert.equal(work.length, 1);
    (work[0] as Deferred<unknown>).callback('STUFF!');
    pump();
    assert.equal(work.length, 2);
    assert.equal(work[1], 2);
  });

  test('whenDone gives a new Deferred each time, each firing with the iterator', () => {
    const deferred1 = task.whenDone();
    const deferred2 = task.whenDone();
    const results1: unknown[] = [];
    const results2: unknown[] = [];
    const final1: unknown[] = [];
    const final2: unknown[] = [];
    deferred1
      .addCallback((result) => {
        results1.push(result);
        return 1;
      })
      .addCallback((n) => final1.push(n));
    deferred2
      .addCallback((result) => {
        results2.push(result);
        return 2;
      })
      .addCallback((n) => final2.push(n));

    doStopNext = true;
    pump();

    assert.deepEqual(results1, [iterator]);
    assert.deepEqual(results2, [iterator]);
    assert.deepEqual(final1, [1]);
    assert.deepEqual(final2, [2]);
  });

  test('whenDone fails with what the iterator throws', () => {
    const results: Failure[] = [];
    task.whenDone().addErrback((failure) => {
      results.push(failure);
    });
    doDieNext = true;
    pump();
    assert.equal(results.length, 1);
    assert.equal(results[0]?.check(UnhandledException), UnhandledException);
  });

  test('whenDone fails with TaskStopped when the task is stopped', () => {
    const errors: Failure[] = [];
    task.whenDone().addErrback((failure) => {
      errors.push(failure);
    });
    task.stop();
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.check(TaskStopped), TaskStopped);
  });

  test('whenDone fires at once when the iterator is already exhausted', () => {
    doStopNext = true;
    pump();
    const results: unknown[] = [];
    task.whenDone().addCallback((result) => results.push(result));
    assert.deepEqual(results, [iterator]);
  });

  test('cancelling a whenDone Deferred fails it with CancelledError and leaves the task running', () => {
    const d = task.whenDone();
    const other = task.whenDone();
    d.cancel();
    failureResultOf(d, CancelledError);
    pump();
    assert.deepEqual(work, [1]);
    doStopNext = true;
    pump();
    assert.equal(successResultOf(other), iterator);
  });

  test('a stopped task does no more work, and stop and pause then throw TaskStopped', () => {
    task.stop();
    pump();
    assert.deepEqual(work, []);
    assert.throws(() => task.stop(), TaskStopped);
    assert.throws(() => task.pause(), TaskStopped);
    pump();
    assert.deepEqual(work, []);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test('resuming a task stopped while paused does nothing and does not throw', () => {
    task.pause();
    task.stop();
    task.resume();
    pump();
    assert.deepEqual(work, []);
  });

  test('a task stopped while waiting on a Deferred is not resumed when it fires', () => {
    doDeferNext = true;
    pump();
    const d = work.pop() as Deferred<unknown>;
    const results: unknown[] = [];
    d.addBoth((result) => {
      results.push(result);
    });
    pump();
    task.stop();
    pump();
    d.callback(7);
    pump();
    // The cooperator consumed the Deferred's result: it is undefined here.
    assert.deepEqual(results, [undefined]);
    assert.deepEqual(work, []);
  });

  test('stop throws TaskDone once the iterator is exhausted', () => {
    doStopNext = true;
    pump();
    assert.throws(() => task.stop(), TaskDone);
  });

  test('stop throws TaskFailed once the iterator has thrown', () => {
    doDieNext = true;
    pump();
    task.whenDone().addErrback((failure) => {
      failure.trap(UnhandledException);
    });
    assert.throws(() => task.stop(), TaskFailed);
  });

  test('a whenDone callback may stop the cooperator: the task has already left it', () => {
    const phases: unknown[] = [];
    task.whenDone().addCallback((result) => {
      phases.push(result);
      cooperator.stop();
      phases.push('done');
    });
    doStopNext = true;
    pump();
    assert.deepEqual(phases, [iterator, 'done']);
  });
});

describe('Cooperator errors', () => {
  test('form the hierarchy of Twisted, with stable codes', () => {
    const cases: Array<[TorsionError, Function, string, string]> = [
      [new SchedulerError(), TorsionError, 'SchedulerError', 'ERR_SCHEDULER'],
      [new SchedulerStopped(), SchedulerError, 'SchedulerStopped', 'ERR_SCHEDULER_STOPPED'],
      [new TaskFinished(), SchedulerError, 'TaskFinished', 'ERR_TASK_FINISHED'],
      [new TaskDone(), TaskFinished, 'TaskDone', 'ERR_TASK_DONE'],
      [new TaskStopped(), TaskFinished, 'TaskStopped', 'ERR_TASK_STOPPED'],
      [new TaskFailed(), TaskFinished, 'TaskFailed', 'ERR_TASK_FAILED'],
      [new NotPaused(), SchedulerError, 'NotPaused', 'ERR_NOT_PAUSED'],
    ];
    for (const [error, parent, name, code] of cases) {
      assert.ok(error instanceof parent, `${name} extends ${parent.name}`);
      assert.equal(error.name, name);
      assert.equal(error.code, code);
    }
  });
});
