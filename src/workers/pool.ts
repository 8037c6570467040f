// WorkerPool and deferToWorker: blocking or CPU-bound code run on worker
// threads, its result a Deferred, so the reactor keeps serving meanwhile
// (Twisted: twisted.internet.threads.deferToThread and
// twisted.python.threadpool.ThreadPool, with threads that share nothing).
// Tests: test/unit/workers/pool.test.ts, test/integration/workers.test.ts

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CancelledError, Deferred, fail } from '../internet/defer.js';
import { TorsionError } from '../internet/error.js';
import type { IDelayedCall, IReactorCore, IReactorTime } from '../internet/interfaces.js';
import { globalReactor } from '../internet/task/_global-reactor.js';
import { Logger } from '../logger/logger.js';
import type { SentError } from './_entry.js';
import { isTransfer } from './transfer.js';

const log = new Logger('torsion.workers');

const ENTRY = new URL('./_entry.js', import.meta.url);

/**
 * A job's worker thread exited or crashed before the job finished (an
 * uncaught error outside the job, `process.exit()`, running out of memory).
 * The pool replaces the worker.
 *
 * @since 0.1.0
 */
export class WorkerCrashed extends TorsionError {
  override name = 'WorkerCrashed' as const;
  override readonly code = 'ERR_WORKER_CRASHED' as const;
}

/**
 * The pool was stopped before the job ran, or while it ran.
 *
 * @since 0.1.0
 */
export class WorkerPoolStopped extends TorsionError {
  override name = 'WorkerPoolStopped' as const;
  override readonly code = 'ERR_WORKER_POOL_STOPPED' as const;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** At most this many worker threads. @defaultValue the number of CPUs (`os.availableParallelism()`) */
  size?: number;
  /** A worker idle this many seconds is retired (started again when needed). @defaultValue 30 */
  idleTimeout?: number;
  /** Running jobs get this many seconds to finish when the pool stops. @defaultValue 5 */
  stopTimeout?: number;
}

interface Job {
  id: number;
  moduleUrl: string;
  exportName: string;
  args: unknown[];
  transferList: readonly import('node:worker_threads').Transferable[];
  result: Deferred<unknown>;
}

interface Thread {
  worker: Worker;
  job: Job | null;
  /** When it last became idle (reactor seconds), or null while busy. */
  idleSince: number | null;
}

/** Rebuilds the error a job threw: its name, message, code and the worker's stack. */
function errorFrom(sent: SentError, exportName: string): Error {
  const error = new Error(sent.message);
  error.name = sent.name;
  if (sent.code !== undefined) (error as Error & { code?: unknown }).code = sent.code;
  error.stack =
    sent.stack ?? `${sent.name}: ${sent.message}\n    at ${exportName} (in a worker thread)`;
  return error;
}

function urlOf(moduleUrl: string | URL): string {
  const text = String(moduleUrl);
  if (!/^(file|data|node):/.test(text)) {
    throw new TypeError(
      `a worker job names its module by URL (such as new URL('./jobs.js', import.meta.url)), got ${text}`,
    );
  }
  return text;
}

/**
 * A bounded pool of worker threads that run exported functions of modules.
 *
 * @remarks
 * A job is a module URL, the name of an exported function and its
 * arguments: a closure cannot cross to another thread (threads share no
 * memory; arguments and results are copied by structured clone), so the
 * code a worker runs must be importable by it. Wrap a value with
 * {@link transfer} to move its buffers instead of copying them.
 *
 * Threads start when jobs need them, up to `size`; a job waits in order
 * while all are busy; a thread idle for `idleTimeout` seconds is retired.
 * The pool stops (running jobs get `stopTimeout` seconds, waiting ones fail
 * with {@link WorkerPoolStopped}) when the reactor shuts down, or on
 * {@link WorkerPool.stop}.
 *
 * Cancelling a job's Deferred withdraws a waiting job; a running one cannot
 * be interrupted, so its thread is terminated and replaced. A thread that
 * crashes fails its job with {@link WorkerCrashed} and is replaced. An error
 * the job throws fails its Deferred with an Error of the same name, message
 * and code, whose stack is the worker's.
 *
 * @example
 * ```ts
 * const pool = new WorkerPool(reactor, { size: 2 });
 * const jobs = new URL('./jobs.js', import.meta.url); // exports `function sha256(path)`
 * const digest = await pool.run<string>(jobs, 'sha256', ['big.iso']);
 * console.log(digest);
 * ```
 *
 * @see Twisted: twisted.python.threadpool.ThreadPool
 * @since 0.1.0
 */
export class WorkerPool {
  /** The most threads the pool runs at once. */
  readonly size: number;
  readonly #reactor: IReactorCore & IReactorTime;
  readonly #idleTimeout: number;
  readonly #stopTimeout: number;
  readonly #threads = new Set<Thread>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #stopped = false;
  #stopping: Deferred<void> | null = null;
  #shutdownTrigger: ReturnType<IReactorCore['addSystemEventTrigger']> | null = null;
  #idleSweep: IDelayedCall | null = null;

  /**
   * @param reactor - Times idle threads, and stops the pool at shutdown.
   * @param options - See {@link WorkerPoolOptions}.
   * @throws RangeError for a size that is not a whole number ≥ 1, or a
   *   negative timeout.
   */
  constructor(reactor: IReactorCore & IReactorTime, options: WorkerPoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`a WorkerPool's size is a whole number, 1 or more, got ${size}`);
    }
    for (const name of ['idleTimeout', 'stopTimeout'] as const) {
      const value = options[name];
      if (value !== undefined && !(value >= 0)) {
        throw new RangeError(
          `a WorkerPool's ${name} is a number of seconds, 0 or more, got ${value}`,
        );
      }
    }
    this.size = size;
    this.#reactor = reactor;
    this.#idleTimeout = options.idleTimeout ?? 30;
    this.#stopTimeout = options.stopTimeout ?? 5;
  }

  /** Threads running now (busy or idle). */
  get threads(): number {
    return this.#threads.size;
  }

  /** Jobs waiting for a thread. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Runs `module[exportName](...args)` on a worker thread.
   *
   * @typeParam T - What the function returns (or the promise it returns resolves with).
   * @param moduleUrl - The module, as a URL (`file:`, `data:` or `node:`).
   * @param exportName - The exported function to call.
   * @param args - Its arguments: structured-cloneable values, or {@link transfer} wrappers.
   * @returns A Deferred of the result; failing with what the function threw,
   *   {@link WorkerCrashed}, {@link WorkerPoolStopped}, `CancelledError`, or a
   *   `DataCloneError` (an argument that cannot be copied, such as a function).
   */
  run<T>(moduleUrl: string | URL, exportName: string, args: readonly unknown[] = []): Deferred<T> {
    if (this.#stopped) return fail(new WorkerPoolStopped('the worker pool has been stopped'));
    let url: string;
    try {
      url = urlOf(moduleUrl);
    } catch (error) {
      return fail(error);
    }
    const transferList: import('node:worker_threads').Transferable[] = [];
    const plain = args.map((arg) => {
      if (!isTransfer(arg)) return arg;
      transferList.push(...arg.transferList);
      return arg.value;
    });
    const job: Job = {
      id: this.#nextId++,
      moduleUrl: url,
      exportName,
      args: plain,
      transferList,
      result: new Deferred<unknown>(() => this.#cancel(job)),
    };
    this.#watchShutdown();
    this.#queue.push(job);
    this.#dispatch();
    return job.result as Deferred<T>;
  }

  /**
   * Stops the pool: waiting jobs fail with {@link WorkerPoolStopped}, running
   * ones get `stopTimeout` seconds to finish, then every thread ends.
   *
   * @returns A Deferred that fires once every thread has exited.
   */
  stop(): Deferred<void> {
    if (this.#stopping !== null) return this.#chain(this.#stopping);
    this.#stopped = true;
    if (this.#idleSweep?.active() === true) this.#idleSweep.cancel();
    this.#idleSweep = null;
    const stopping = new Deferred<void>();
    this.#stopping = stopping;
    if (this.#shutdownTrigger !== null) {
      try {
        this.#reactor.removeSystemEventTrigger(this.#shutdownTrigger);
      } catch {
        // Already run: this is that trigger.
      }
      this.#shutdownTrigger = null;
    }
    for (const job of this.#queue.splice(0)) {
      job.result.errback(new WorkerPoolStopped('the worker pool stopped before the job ran'));
    }
    const finish = (): void => {
      const threads = [...this.#threads];
      for (const thread of threads)
        this.#retire(thread, 'the worker pool stopped while the job ran');
      if (threads.length === 0) {
        stopping.callback(undefined);
        return;
      }
      const exits = threads.map(
        (thread) => new Promise<void>((resolve) => thread.worker.once('exit', () => resolve())),
      );
      void Promise.all(exits).then(() => stopping.callback(undefined));
    };
    const busy = [...this.#threads].filter((thread) => thread.job !== null);
    if (busy.length === 0) {
      finish();
    } else {
      const timer = this.#reactor.callLater(this.#stopTimeout, finish);
      let left = busy.length;
      for (const thread of busy) {
        thread.job?.result.addBoth((result) => {
          if (--left === 0 && timer.active()) {
            timer.cancel();
            finish();
          }
          return result;
        });
      }
    }
    return this.#chain(stopping);
  }

  #chain(stopping: Deferred<void>): Deferred<void> {
    const d = new Deferred<void>();
    stopping.addBoth(() => {
      d.callback(undefined);
    });
    return d;
  }

  #watchShutdown(): void {
    if (this.#shutdownTrigger !== null) return;
    this.#shutdownTrigger = this.#reactor.addSystemEventTrigger('before', 'shutdown', () => {
      this.#shutdownTrigger = null;
      return this.stop();
    });
  }

  /** Hands waiting jobs to idle threads, starting threads up to `size`. */
  #dispatch(): void {
    while (this.#queue.length > 0) {
      let thread = [...this.#threads].find((each) => each.job === null);
      if (thread === undefined) {
        if (this.#threads.size >= this.size) return;
        thread = this.#start();
      }
      const job = this.#queue.shift() as Job;
      this.#assign(thread, job);
    }
  }

  #assign(thread: Thread, job: Job): void {
    thread.idleSince = null;
    try {
      thread.worker.postMessage(
        { id: job.id, moduleUrl: job.moduleUrl, exportName: job.exportName, args: job.args },
        job.transferList as import('node:worker_threads').Transferable[],
      );
    } catch (error) {
      // DataCloneError: an argument cannot be copied; nothing reached the worker.
      const cause = error instanceof Error ? error : new Error(String(error));
      const reason = new Error(
        `${job.exportName}: an argument cannot be sent to a worker (${cause.message}); a worker takes copyable data, not closures or class instances with methods — pass what a module-level function needs instead`,
        { cause },
      );
      reason.name = cause.name;
      job.result.errback(reason);
      this.#idle(thread);
      return;
    }
    thread.job = job;
    thread.worker.ref();
  }

  #start(): Thread {
    const worker = new Worker(ENTRY);
    const thread: Thread = { worker, job: null, idleSince: null };
    this.#threads.add(thread);
    worker.on(
      'message',
      (message: { id: number; ok: boolean; value?: unknown; error?: SentError }) => {
        const job = thread.job;
        if (job === null || job.id !== message.id) return;
        thread.job = null;
        if (message.ok) job.result.callback(message.value);
        else job.result.errback(errorFrom(message.error as SentError, job.exportName));
        this.#idle(thread);
        this.#dispatch();
      },
    );
    worker.on('error', (error: Error) => {
      log.failure('A worker thread crashed', error, { level: 'error' });
      this.#lost(thread, `the worker thread crashed: ${error.message}`);
    });
    worker.on('exit', (code: number) => {
      this.#lost(thread, `the worker thread exited with status ${code}`);
    });
    return thread;
  }

  /** A thread is gone: fail its job, forget it, start another for the waiting jobs. */
  #lost(thread: Thread, reason: string): void {
    if (!this.#threads.delete(thread)) return;
    const job = thread.job;
    thread.job = null;
    if (job !== null && !job.result.called) job.result.errback(new WorkerCrashed(reason));
    if (!this.#stopped) this.#dispatch();
  }

  #idle(thread: Thread): void {
    if (this.#stopped) return;
    thread.worker.unref();
    thread.idleSince = this.#reactor.seconds();
    // One timer for the pool (not one per job): it retires the threads idle
    // long enough and re-arms itself for the next one.
    if (this.#idleSweep === null) this.#armIdleSweep(this.#idleTimeout);
  }

  #armIdleSweep(delay: number): void {
    this.#idleSweep = this.#reactor.callLater(delay, () => {
      this.#idleSweep = null;
      const now = this.#reactor.seconds();
      let next = Number.POSITIVE_INFINITY;
      for (const thread of [...this.#threads]) {
        if (thread.idleSince === null) continue;
        const due = thread.idleSince + this.#idleTimeout;
        if (due <= now) this.#retire(thread, 'retired');
        else next = Math.min(next, due);
      }
      if (next !== Number.POSITIVE_INFINITY) this.#armIdleSweep(next - now);
    });
  }

  /** Ends a thread on purpose; its job, if any, fails with `reason`. */
  #retire(thread: Thread, reason: string): void {
    if (!this.#threads.delete(thread)) return;
    const job = thread.job;
    thread.job = null;
    if (job !== null && !job.result.called) job.result.errback(new WorkerPoolStopped(reason));
    void thread.worker.terminate();
  }

  #cancel(job: Job): void {
    const waiting = this.#queue.indexOf(job);
    if (waiting !== -1) {
      this.#queue.splice(waiting, 1);
      return;
    }
    for (const thread of this.#threads) {
      if (thread.job !== job) continue;
      // A running job cannot be abandoned: its thread goes, another replaces it.
      thread.job = null;
      this.#threads.delete(thread);
      void thread.worker.terminate();
      this.#dispatch();
      return;
    }
  }
}

let globalPool: WorkerPool | undefined;

/**
 * Runs `module[exportName](...args)` on a worker thread of a module-wide
 * pool on the global reactor, as Twisted's `deferToThread` uses the
 * reactor's thread pool.
 *
 * @remarks
 * The pool is made on first use, with the default size (the number of
 * CPUs), and stops when the global reactor shuts down. Libraries that take
 * a reactor as a parameter should make their own {@link WorkerPool}.
 *
 * @example
 * ```ts
 * // jobs.ts: export function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
 * const result = await deferToWorker<number>(new URL('./jobs.js', import.meta.url), 'fib', 35);
 * console.log(result);
 * ```
 *
 * @typeParam T - What the function returns.
 * @param moduleUrl - The module, as a URL.
 * @param exportName - The exported function.
 * @param args - Its arguments (see {@link WorkerPool.run}).
 * @returns A Deferred of the result.
 * @see Twisted: twisted.internet.threads.deferToThread
 * @since 0.1.0
 */
export function deferToWorker<T>(
  moduleUrl: string | URL,
  exportName: string,
  ...args: unknown[]
): Deferred<T> {
  if (globalPool !== undefined) return globalPool.run<T>(moduleUrl, exportName, args);
  const result = new Deferred<T>((d) => {
    inner?.cancel();
    if (!d.called) d.errback(new CancelledError());
  });
  let inner: Deferred<T> | undefined;
  void globalReactor().then((reactor) => {
    globalPool ??= new WorkerPool(reactor);
    if (result.called) return;
    inner = globalPool.run<T>(moduleUrl, exportName, args);
    inner.addCallbacks(
      (value) => {
        if (!result.called) result.callback(value);
      },
      (failure) => {
        if (!result.called) result.errback(failure);
      },
    );
  });
  return result;
}
