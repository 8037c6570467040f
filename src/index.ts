// torsion: everything, re-exported from the subpath modules. No logic here.
// Where two subpaths share a name (TimeoutError), the root's is torsion/defer's:
// an explicit export takes precedence over the star exports.

/**
 * Everything Torsion exports, from one import: the names of all the
 * subpaths (`torsion/defer`, `torsion/protocol`, `torsion/endpoints`, …),
 * re-exported. Import from here in applications and scripts; import from a
 * subpath to say which part a module uses. Each name is documented on its
 * subpath's page, which this page links to.
 *
 * Twisted has no one module like this: its names live in
 * `twisted.internet.*`, `twisted.protocols.*` and `twisted.logger`, which the
 * subpaths follow. Where two subpaths share a name (`TimeoutError`), this
 * module's is `torsion/defer`'s.
 *
 * @example
 * ```ts
 * import { Factory, LineReceiver, reactor, serverFromString } from 'torsion';
 *
 * class Echo extends LineReceiver {
 *   override lineReceived(line: Buffer): void {
 *     this.sendLine(line);
 *   }
 * }
 * await serverFromString(reactor, 'tcp:8000').listen(Factory.forProtocol(Echo));
 * await reactor.run();
 * ```
 *
 * @module torsion
 */

export * from './app/index.js';
export * from './internet/defer.js';
export { TimeoutError } from './internet/defer.js';
export * from './internet/endpoints/index.js';
export { TorsionError } from './internet/error.js';
export * from './internet/protocol.js';
export * from './internet/reactor.js';
export * from './internet/stdio.js';
export * from './internet/task/index.js';
export * from './internet/utils.js';
export * from './logger/index.js';
export * from './protocols/basic/index.js';
export * from './protocols/loopback.js';
export * from './protocols/policies/index.js';
export * from './testing/index.js';
export * from './web/index.js';
export * from './workers/index.js';
