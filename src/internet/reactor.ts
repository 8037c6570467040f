// torsion/reactor: the reactor interfaces, NodeReactor and the default
// instance `reactor`, and the reactor's errors.

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
 * Creating it starts nothing (no timer, no signal handler), so importing it
 * is free. Libraries should take the reactor as a parameter instead, so that
 * tests can pass a `Clock` or a `MemoryReactor`.
 *
 * @since 0.1.0
 */
export const reactor: NodeReactor = new NodeReactor();
