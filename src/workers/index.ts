/**
 * Worker threads for code that would block the reactor: a legacy
 * synchronous call, a large hash, CPU-bound work. In the model of Twisted's
 * `deferToThread` and `ThreadPool`, but threads here share no memory: a job
 * is an exported function of a module, its arguments and result are copied
 * (or moved with {@link transfer}), and its result is a Deferred.
 *
 * @example
 * ```ts
 * import { reactor } from 'torsion/reactor';
 * import { WorkerPool } from 'torsion/workers';
 *
 * // jobs.js exports `function sha256File(path) { ...readFileSync, createHash... }`
 * const pool = new WorkerPool(reactor, { size: 2 });
 * const digest = await pool.run<string>(new URL('./jobs.js', import.meta.url), 'sha256File', ['big.iso']);
 * console.log(digest); // the reactor kept serving while the file was hashed
 * ```
 *
 * @module torsion/workers
 * @primaryExport
 */
// Tests: test/unit/workers/pool.test.ts, test/integration/workers.test.ts

export {
  deferToWorker,
  WorkerCrashed,
  WorkerPool,
  type WorkerPoolOptions,
  WorkerPoolStopped,
} from './pool.js';
export { type Transfer, transfer } from './transfer.js';
