// torsion/reactor: the reactor interfaces, NodeReactor and the default
// instance `reactor`, and the reactor's errors. No library module imports
// this one: only the package root re-exports it, and the entry points reach
// it lazily through src/internet/task/_global-reactor.ts.
// Tests: test/unit/internet/reactor-parameter.test.ts, test/integration/task-react.test.ts

import { NodeReactor } from './node-reactor.js';

export {
  AlreadyCalled,
  AlreadyCancelled,
  DNSLookupError,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from './error.js';
export type * from './interfaces.js';
export { NodeReactor } from './node-reactor.js';

/**
 * The default reactor for scripts and examples.
 *
 * @remarks
 * Creating it starts nothing (no timer, no signal handler), but importing
 * this module loads `node:net`, `node:tls` and `node:dns`. Libraries take
 * the reactor as a parameter instead, so that tests can pass a `Clock` or a
 * `MemoryReactor`; no API of Torsion's falls back to this instance except
 * the entry points `react`, `runMain`, `cooperate` and `coiterate`.
 *
 * @since 0.1.0
 */
export const reactor: NodeReactor = new NodeReactor();
