// torsion: everything, re-exported from the subpath modules. No logic here.
// Where two subpaths share a name (TimeoutError), the root's is torsion/defer's.

export * from './internet/defer.js';
export {
  AlreadyCalled,
  AlreadyCancelled,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
  TorsionError,
} from './internet/error.js';
export type {
  IDelayedCall,
  IReactorCore,
  IReactorTime,
  RunOptions,
  SystemEventPhase,
  SystemEventTriggerID,
  SystemEventType,
} from './internet/interfaces.js';
export * from './internet/task.js';
export * from './logger/index.js';
export * from './testing/index.js';
