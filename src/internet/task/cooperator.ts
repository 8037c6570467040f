// The Cooperator, which shares the reactor between long-running iterators,
// its tasks and their errors, and the module-wide cooperate and coiterate
// (Twisted: twisted.internet.task.Cooperator).
// Tests: test/unit/internet/task-cooperator.test.ts

import { Logger } from '../../logger/logger.js';
import { Deferred } from '../defer.js';
import { TorsionError } from '../error.js';
import { Failure } from '../failure.js';
import type { IDelayedCall } from '../interfaces.js';
import { globalScheduler } from './_global-reactor.js';
import { isThenable } from './_thenable.js';

const log = new Logger('torsion.internet.task');

/**
 * A task or its cooperator was in the wrong state for the operation: the
 * base class of the Cooperator's errors.
 *
 * @see Twisted: twisted.internet.task.SchedulerError
 * @since 0.1.0
 */
export class SchedulerError extends TorsionError {
  override name: string = 'SchedulerError';
  override readonly code: string = 'ERR_SCHEDULER';
  constructor(
    message = 'the task or its cooperator is in the wrong state',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The cooperator was stopped, before or while the task ran.
 *
 * @see Twisted: twisted.internet.task.SchedulerStopped
 * @since 0.1.0
 */
export class SchedulerStopped extends SchedulerError {
  override name = 'SchedulerStopped' as const;
  override readonly code = 'ERR_SCHEDULER_STOPPED' as const;
  constructor(message = 'the cooperator was stopped', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The task has finished for good: done, stopped or failed.
 *
 * @see Twisted: twisted.internet.task.TaskFinished
 * @since 0.1.0
 */
export class TaskFinished extends SchedulerError {
  override name: string = 'TaskFinished';
  override readonly code: string = 'ERR_TASK_FINISHED';
  constructor(message = 'the task has finished', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The task's iterator is exhausted.
 *
 * @see Twisted: twisted.internet.task.TaskDone
 * @since 0.1.0
 */
export class TaskDone extends TaskFinished {
  override name = 'TaskDone' as const;
  override readonly code = 'ERR_TASK_DONE' as const;
  constructor(message = 'the task is done: its iterator is exhausted', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The task was stopped with {@link CooperativeTask.stop}.
 *
 * @see Twisted: twisted.internet.task.TaskStopped
 * @since 0.1.0
 */
export class TaskStopped extends TaskFinished {
  override name = 'TaskStopped' as const;
  override readonly code = 'ERR_TASK_STOPPED' as const;
  constructor(message = 'the task was stopped', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The task's iterator threw, or a Deferred it yielded failed.
 *
 * @see Twisted: twisted.internet.task.TaskFailed
 * @since 0.1.0
 */
export class TaskFailed extends TaskFinished {
  override name = 'TaskFailed' as const;
  override readonly code = 'ERR_TASK_FAILED' as const;
  constructor(message = 'the task failed with an unhandled error', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * {@link CooperativeTask.resume} was called on a task that is not paused.
 *
 * @see Twisted: twisted.internet.task.NotPaused
 * @since 0.1.0
 */
export class NotPaused extends SchedulerError {
  override name = 'NotPaused' as const;
  override readonly code = 'ERR_NOT_PAUSED' as const;
  constructor(message = 'the task is not paused', options?: ErrorOptions) {
    super(message, options);
  }
}

/** Something scheduled by a Cooperator's scheduler, which it may cancel. */
type ScheduledCall = Pick<IDelayedCall, 'cancel'>;

/**
 * Options of {@link Cooperator}.
 *
 * @since 0.1.0
 */
export interface CooperatorOptions {
  /**
   * Called at the start of each step (tick); returns a predicate that says
   * when the step should end. Work units run until it returns true, at
   * least one per step.
   * @defaultValue steps of 10 ms, measured with `performance.now()`
   */
  terminationPredicateFactory?: (this: void) => () => boolean;
  /**
   * Arranges for a step to run later; returns something that can cancel it.
   * Required: usually `(step) => reactor.callLater(0, step)`, with the
   * reactor of the program or a `Clock` in tests.
   */
  scheduler: (this: void, step: () => void) => Pick<IDelayedCall, 'cancel'>;
  /**
   * Whether tasks run as soon as they are added, or wait for
   * {@link Cooperator.start}.
   * @defaultValue true
   */
  started?: boolean;
}

/** The length of a step of the default termination predicate, in milliseconds. */
const MAX_SLICE_MS = 10;

function defaultTerminationPredicateFactory(): () => boolean {
  const end = performance.now() + MAX_SLICE_MS;
  return () => performance.now() >= end;
}

// Friend functions between Cooperator and CooperativeTask, which need each
// other's private state; assigned in the classes' static blocks.
let addTask: (cooperator: Cooperator, task: CooperativeTask) => void;
let removeTask: (cooperator: Cooperator, task: CooperativeTask) => void;
let oneWorkUnit: (task: CooperativeTask) => void;
let completeWith: (
  task: CooperativeTask,
  state: () => SchedulerError,
  result: Iterator<unknown> | Failure,
) => void;

/**
 * One iterator being run by a {@link Cooperator}: it can be paused, resumed,
 * stopped and waited on.
 *
 * @remarks
 * Each step of the cooperator calls the iterator's `next()` once. When it
 * yields a Deferred (or a promise), the task pauses until that has fired.
 * The task ends when the iterator is exhausted ({@link TaskDone}), throws
 * or a yielded Deferred fails ({@link TaskFailed}), is stopped
 * ({@link TaskStopped}), or its cooperator is stopped
 * ({@link SchedulerStopped}); each of these errors is what `pause()` and
 * `stop()` throw afterwards.
 *
 * Create tasks with {@link Cooperator.cooperate} or {@link cooperate}.
 *
 * @typeParam I - The iterator's type, which {@link CooperativeTask.whenDone} gives back.
 * @see Twisted: twisted.internet.task.CooperativeTask
 * @since 0.1.0
 */
export class CooperativeTask<I extends Iterator<unknown> = Iterator<unknown>> {
  readonly #iterator: I;
  readonly #cooperator: Cooperator;
  /** Deferreds from whenDone() waiting for the end of the task. */
  #deferreds: Deferred<I>[] = [];
  /** How many pause() calls are not yet resumed; the task is in its cooperator's list only at 0. */
  #pauseCount = 0;
  /** How the task ended (a factory of the error later operations throw); null while it runs. */
  #completionState: (() => SchedulerError) | null = null;
  #completionResult: I | Failure | undefined = undefined;

  static {
    oneWorkUnit = (task) => {
      task.#oneWorkUnit();
    };
    completeWith = (task, state, result) => {
      task.#completeWith(state, result as Iterator<unknown> & Failure);
    };
  }

  /**
   * Adds a task to `cooperator`; use {@link Cooperator.cooperate} instead.
   *
   * @internal
   */
  constructor(iterator: I, cooperator: Cooperator) {
    this.#iterator = iterator;
    this.#cooperator = cooperator;
    addTask(cooperator, this as CooperativeTask);
  }

  /**
   * Gives a Deferred that fires when the task ends.
   *
   * @remarks
   * Each call gives a new Deferred, so callbacks added to one do not change
   * what another fires with.
   *
   * Cancellation: cancelling the Deferred fails it with
   * {@link torsion/defer!CancelledError | CancelledError} and stops it waiting; the task goes on.
   *
   * @returns A Deferred that fires with the iterator once it is exhausted,
   *   or fails with what it threw (or what a Deferred it yielded failed
   *   with), with {@link TaskStopped} if the task is stopped, or with
   *   {@link SchedulerStopped} if its cooperator is.
   */
  whenDone(): Deferred<I> {
    if (this.#completionState !== null) {
      const d = new Deferred<I>();
      d.callback(this.#completionResult as I | Failure);
      return d;
    }
    const d = new Deferred<I>(() => {
      this.#deferreds = this.#deferreds.filter((waiting) => waiting !== d);
    });
    this.#deferreds.push(d);
    return d;
  }

  /**
   * Stops doing work until {@link CooperativeTask.resume}; pauses nest, so
   * two pauses need two resumes.
   *
   * @throws {@link TaskFinished} (or {@link SchedulerStopped}) if the task has ended.
   */
  pause(): void {
    this.#checkFinish();
    this.#pauseCount++;
    if (this.#pauseCount === 1) removeTask(this.#cooperator, this as CooperativeTask);
  }

  /**
   * Undoes one {@link CooperativeTask.pause}; after the last one the task
   * does work again from the cooperator's next step. Resuming a task that
   * ended while paused does nothing more.
   *
   * @throws {@link NotPaused} if the task is not paused.
   */
  resume(): void {
    if (this.#pauseCount === 0) throw new NotPaused();
    this.#pauseCount--;
    if (this.#pauseCount === 0 && this.#completionState === null) {
      addTask(this.#cooperator, this as CooperativeTask);
    }
  }

  /**
   * Stops the task for good; {@link CooperativeTask.whenDone} Deferreds
   * fail with {@link TaskStopped}.
   *
   * @throws {@link TaskFinished} (or {@link SchedulerStopped}) if the task has already ended.
   */
  stop(): void {
    this.#checkFinish();
    this.#completeWith(() => new TaskStopped(), new Failure(new TaskStopped()) as I | Failure);
  }

  #checkFinish(): void {
    if (this.#completionState !== null) throw this.#completionState();
  }

  #completeWith(state: () => SchedulerError, result: I | Failure): void {
    this.#completionState = state;
    this.#completionResult = result;
    if (this.#pauseCount === 0) removeTask(this.#cooperator, this as CooperativeTask);
    // Fire only now that the task is out of its cooperator: a callback may
    // stop the cooperator, which must not find this task to complete again.
    const waiting = this.#deferreds;
    this.#deferreds = [];
    for (const d of waiting) d.callback(result);
  }

  /** Takes one value from the iterator: the task's unit of work. */
  #oneWorkUnit(): void {
    // A step that is under way may still reach a task its cooperator's stop() ended.
    if (this.#completionState !== null) return;
    let step: IteratorResult<unknown>;
    try {
      step = this.#iterator.next();
    } catch (error) {
      if (this.#completionState === null) {
        this.#completeWith(() => new TaskFailed(), new Failure(error));
      } else {
        log.failure('A task that had already ended threw', error);
      }
      return;
    }
    // The iterator itself may have stopped its task.
    if (this.#completionState !== null) return;
    if (step.done === true) {
      this.#completeWith(() => new TaskDone(), this.#iterator);
      return;
    }
    const value = step.value;
    if (value instanceof Deferred || isThenable(value)) {
      const d = value instanceof Deferred ? value : Deferred.fromPromise(value);
      this.pause();
      d.addCallbacks(
        () => {
          this.resume();
        },
        (failure) => {
          // A task that ended meanwhile has nobody to tell: leave the
          // failure unhandled, to be reported.
          if (this.#completionState !== null) return failure;
          this.#completeWith(() => new TaskFailed(), failure);
          return undefined;
        },
      );
    }
  }
}

/**
 * Shares time between long-running iterators, a little of each in turn,
 * without blocking the reactor.
 *
 * @remarks
 * Each iterator is a task, and each value it yields is a unit of work. On
 * each step, the cooperator takes one value from each task in turn (round
 * robin) until its termination predicate says the step is over (by
 * default, after 10 ms), then schedules the next step with its
 * `scheduler` (typically `reactor.callLater(0, …)`, so I/O gets its turn).
 * A task that yields a Deferred or a promise is paused until it fires. When no task is left to
 * run, no step is scheduled.
 *
 * Uses: running CPU-heavy work without blocking, limiting parallelism (run
 * a few tasks at a time), or doing one asynchronous thing after another
 * (yield each Deferred).
 *
 * Cooperators do not cooperate with each other: most programs should use
 * the module's {@link cooperate} and {@link coiterate}.
 *
 * Differences from Twisted: the `scheduler` is required (Twisted's
 * defaults to the global reactor); `stop()` ends every running task
 * (Twisted's can skip some, as it removes them from the list it walks); the Deferred from
 * `coiterate` can be cancelled, which stops the task.
 *
 * @example
 * ```ts
 * const coop = new Cooperator({ scheduler: (step) => reactor.callLater(0, step) });
 * function* crunch(rows: Row[]) { for (const row of rows) yield process(row); }
 * coop.coiterate(crunch(rows)).addCallback(() => console.log('all done'));
 * ```
 *
 * @see Twisted: twisted.internet.task.Cooperator
 * @since 0.1.0
 */
export class Cooperator {
  /** The tasks that can do work now: not paused, not ended. */
  #tasks: CooperativeTask[] = [];
  /** Where the round robin is in #tasks; carries over from one step to the next. */
  #metarator: Iterator<CooperativeTask> = [][Symbol.iterator]();
  readonly #terminationPredicateFactory: () => () => boolean;
  readonly #scheduler: (step: () => void) => ScheduledCall;
  /** The scheduled next step; null when none is (no tasks, or not started). */
  #delayedCall: ScheduledCall | null = null;
  #stopped = false;
  #started: boolean;
  /** Tasks were added before start(): schedule a step then. */
  #mustScheduleOnStart = false;

  static {
    addTask = (cooperator, task) => {
      cooperator.#addTask(task);
    };
    removeTask = (cooperator, task) => {
      cooperator.#removeTask(task);
    };
  }

  /**
   * @param options - The scheduler, the termination predicate factory, and
   *   whether to start at once; see {@link CooperatorOptions}.
   * @throws TypeError if no `scheduler` function is given.
   */
  constructor(options: CooperatorOptions) {
    const scheduler = (options as Partial<CooperatorOptions> | undefined)?.scheduler;
    if (typeof scheduler !== 'function') {
      throw new TypeError(
        'Cooperator needs a scheduler option, such as (step) => reactor.callLater(0, step): ' +
          'pass the reactor, or a Clock in tests (nothing falls back to real time)',
      );
    }
    this.#scheduler = scheduler;
    this.#terminationPredicateFactory =
      options.terminationPredicateFactory ?? defaultTerminationPredicateFactory;
    this.#started = options.started ?? true;
  }

  /** True when started and not stopped. */
  get running(): boolean {
    return this.#started && !this.#stopped;
  }

  /**
   * Runs `iterator` as a task, as {@link Cooperator.cooperate} does, and
   * gives a Deferred that fires when it ends.
   *
   * @remarks
   * Cancellation: cancelling the Deferred stops the task (the iterator is
   * not advanced again) and fails it with {@link torsion/defer!CancelledError | CancelledError}. A
   * `doneDeferred` you pass keeps its own canceller instead.
   *
   * @param iterator - The work, one unit per value (a generator, say).
   * @param doneDeferred - The Deferred to fire; default a new one.
   * @returns A Deferred that fires with the iterator once it is exhausted,
   *   or fails with what it threw, or with {@link SchedulerStopped}.
   */
  coiterate<I extends Iterator<unknown>>(iterator: I, doneDeferred?: Deferred<I>): Deferred<I> {
    let cancelling = false;
    const done =
      doneDeferred ??
      new Deferred<I>(() => {
        cancelling = true;
        task.stop();
      });
    const task = new CooperativeTask(iterator, this);
    task.whenDone().addBoth((result) => {
      // A doneDeferred of the caller's may have been cancelled (fired) already.
      if (!cancelling && !done.called) done.callback(result);
    });
    return done;
  }

  /**
   * Runs `iterator` as a long-running task: its `next()` is called once per
   * step, sharing time with the other tasks.
   *
   * @param iterator - The work, one unit per value (a generator, say).
   * @returns The task, to pause, resume, stop or wait on.
   */
  cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I> {
    return new CooperativeTask(iterator, this);
  }

  /** Starts scheduling steps, after `{ started: false }` or a stop. */
  start(): void {
    this.#stopped = false;
    this.#started = true;
    if (this.#mustScheduleOnStart) {
      this.#mustScheduleOnStart = false;
      this.#reschedule();
    }
  }

  /**
   * Stops scheduling steps: every task that can run now ends, failing its
   * `whenDone` Deferreds with {@link SchedulerStopped}; so does every task
   * added later or resumed later (a paused one, say), until
   * {@link Cooperator.start}.
   */
  stop(): void {
    this.#stopped = true;
    const tasks = this.#tasks;
    this.#tasks = [];
    // End a step under way (a task may stop its own cooperator).
    this.#metarator = [][Symbol.iterator]();
    if (this.#delayedCall !== null) {
      this.#delayedCall.cancel();
      this.#delayedCall = null;
    }
    for (const task of tasks) {
      completeWith(task, () => new SchedulerStopped(), new Failure(new SchedulerStopped()));
    }
  }

  #addTask(task: CooperativeTask): void {
    this.#tasks.push(task);
    if (this.#stopped) {
      // completeWith removes it again.
      completeWith(task, () => new SchedulerStopped(), new Failure(new SchedulerStopped()));
    } else {
      this.#reschedule();
    }
  }

  #removeTask(task: CooperativeTask): void {
    const index = this.#tasks.indexOf(task);
    if (index !== -1) this.#tasks.splice(index, 1);
    // No work left: a pending step would do nothing, so cancel it.
    if (this.#tasks.length === 0 && this.#delayedCall !== null) {
      this.#delayedCall.cancel();
      this.#delayedCall = null;
    }
  }

  /** Runs one step: units of work, round robin, until the termination predicate says stop. */
  #tick(): void {
    this.#delayedCall = null;
    const terminator = this.#terminationPredicateFactory();
    step: while (this.#tasks.length > 0) {
      for (let next = this.#metarator.next(); next.done !== true; next = this.#metarator.next()) {
        oneWorkUnit(next.value);
        if (terminator()) break step;
      }
      this.#metarator = this.#tasks[Symbol.iterator]();
    }
    this.#reschedule();
  }

  #reschedule(): void {
    if (!this.#started) {
      this.#mustScheduleOnStart = true;
      return;
    }
    if (this.#delayedCall === null && this.#tasks.length > 0) {
      this.#delayedCall = this.#scheduler(() => this.#tick());
    }
  }
}

/**
 * The cooperator of the module functions cooperate() and coiterate(): an
 * entry point, so it may use the global reactor, which its scheduler loads
 * at its first step (not at import).
 */
const theCooperator = new Cooperator({ scheduler: globalScheduler });

/**
 * Runs `iterator` as a long-running task on the default cooperator, which
 * shares time between all the tasks given to this function and to
 * {@link coiterate}.
 *
 * @remarks
 * Break CPU-heavy work into small steps, yield between them, and pass the
 * generator here: no step blocks the reactor for longer than one unit of
 * work of one task (and a step lasts about 10 ms). The default cooperator
 * schedules its steps on the default `reactor`, loaded at its first step;
 * code that takes a reactor should make its own {@link Cooperator} with
 * that reactor instead.
 *
 * @example
 * ```ts
 * function* hashAll(files: string[]) { for (const f of files) yield hashOne(f); }
 * cooperate(hashAll(files)).whenDone().addCallback(() => console.log('hashed'));
 * ```
 *
 * @param iterator - The work, one unit per value.
 * @returns The task, to pause, resume, stop or wait on.
 * @see Twisted: twisted.internet.task.cooperate
 * @since 0.1.0
 */
export function cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I> {
  return theCooperator.cooperate(iterator);
}

/**
 * Runs `iterator` on the default cooperator, as {@link cooperate} does, and
 * gives a Deferred that fires when it ends.
 *
 * @remarks
 * Cancellation: cancelling the Deferred stops the task and fails it with
 * {@link torsion/defer!CancelledError | CancelledError}.
 *
 * @param iterator - The work, one unit per value.
 * @returns A Deferred that fires with the iterator once it is exhausted, or
 *   fails with what it threw.
 * @see Twisted: twisted.internet.task.coiterate
 * @since 0.1.0
 */
export function coiterate<I extends Iterator<unknown>>(iterator: I): Deferred<I> {
  return theCooperator.coiterate(iterator);
}
