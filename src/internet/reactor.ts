// torsion/reactor: the reactor interfaces, NodeReactor and the default
// instance `reactor`, and the reactor's errors. No library module imports
// this one: only the package root re-exports it, and the entry points reach
// it lazily through src/internet/task/_global-reactor.ts.
// Tests: test/unit/internet/reactor-parameter.test.ts, test/integration/task-react.test.ts

/**
 * The reactor: the loop that waits for events (time passing, connections,
 * data) and calls your code. `NodeReactor` implements it on Node's event
 * loop, `reactor` is a ready instance for scripts, and the `IReactor…`
 * interfaces say what each part of a reactor offers, so that a library can
 * take only the part it needs as a parameter (and a test can pass a `Clock`
 * or a `MemoryReactor` instead).
 *
 * Import `reactor` in programs; in library code take an `IReactorTime`,
 * `IReactorTCP`, … parameter. Twisted: `twisted.internet.reactor` and
 * `twisted.internet.interfaces`.
 *
 * @example
 * ```ts
 * import { reactor } from 'torsion/reactor';
 *
 * reactor.callLater(1.5, () => console.log('1.5 seconds later'));
 * reactor.callLater(2, () => reactor.stop());
 * await reactor.run(); // settles when the reactor has stopped
 * ```
 *
 * @module torsion/reactor
 * @primaryExport
 */

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
