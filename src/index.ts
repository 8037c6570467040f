// torsion: everything, re-exported from the subpath modules. No logic here.
// Where two subpaths share a name (TimeoutError), the root's is torsion/defer's:
// an explicit export takes precedence over the star exports.

export * from './internet/defer.js';
export { TimeoutError } from './internet/defer.js';
export * from './internet/endpoints/index.js';
export { TorsionError } from './internet/error.js';
export * from './internet/protocol.js';
export * from './internet/reactor.js';
export * from './internet/stdio.js';
export * from './internet/task/index.js';
export * from './logger/index.js';
export * from './protocols/basic/index.js';
export * from './protocols/loopback.js';
export * from './protocols/policies/index.js';
export * from './testing/index.js';
