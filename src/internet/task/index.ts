// torsion/task: scheduling utilities (Twisted: twisted.internet.task). One
// module per concept; this file only re-exports them.
// Tests: test/unit/internet/task-clock.test.ts, task-looping.test.ts,
// task-deferlater.test.ts, task-react.test.ts, task-cooperator.test.ts

/**
 * Scheduling: `Clock`, a reactor's time that only moves when a test tells
 * it to; `LoopingCall` to call a function every few seconds; `deferLater`
 * for a Deferred that fires after a delay; `react` and `runMain` to run a
 * program's main function on the reactor and exit with its outcome; and
 * `Cooperator`, `cooperate` and `coiterate` to run long iterations in small
 * steps without blocking the loop.
 *
 * Twisted: `twisted.internet.task`.
 *
 * @example
 * ```ts
 * import { Clock, LoopingCall } from 'torsion/task';
 *
 * const clock = new Clock();
 * const loop = new LoopingCall(clock, () => console.log('tick'));
 * loop.start(1); // prints "tick" now
 * clock.advance(1); // and again, one second later
 * loop.stop();
 * ```
 *
 * @module torsion/task
 * @primaryExport
 */

export { Clock, DelayedCall } from './clock.js';
export {
  CooperativeTask,
  Cooperator,
  type CooperatorOptions,
  coiterate,
  cooperate,
  NotPaused,
  SchedulerError,
  SchedulerStopped,
  TaskDone,
  TaskFailed,
  TaskFinished,
  TaskStopped,
} from './cooperator.js';
export { type DeferLaterOptions, deferLater } from './defer-later.js';
export { LoopingCall, type LoopingCallStartOptions } from './looping-call.js';
export { react, runMain, SystemExit } from './react.js';
