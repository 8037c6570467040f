// torsion/task: scheduling utilities (Twisted: twisted.internet.task). One
// module per concept; this file only re-exports them.
// Tests: test/unit/internet/task-clock.test.ts, task-looping.test.ts,
// task-deferlater.test.ts, task-react.test.ts, task-cooperator.test.ts

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
