// Internal: the program each worker thread of a WorkerPool runs. It takes
// jobs (a module URL, an export name, arguments) from the pool, one at a
// time, calls the export, and posts back its result, or the error it threw
// as plain fields (name, message, stack, code) so that nothing is lost in
// the structured clone.
// Tests: test/unit/workers/pool.test.ts, test/integration/workers.test.ts

import { type MessagePort, parentPort } from 'node:worker_threads';
import { isTransfer } from './transfer.js';

/** A job, as the pool posts it. */
interface Job {
  id: number;
  moduleUrl: string;
  exportName: string;
  args: unknown[];
}

/** An error as it crosses back to the pool. */
export interface SentError {
  name: string;
  message: string;
  stack: string | undefined;
  code: unknown;
}

function describeError(error: unknown): SentError {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: (error as { code?: unknown }).code,
    };
  }
  return {
    name: 'Error',
    message: `a non-Error was thrown: ${String(error)}`,
    stack: undefined,
    code: undefined,
  };
}

const port = parentPort;
if (port === null) throw new Error('torsion/workers: _entry.js runs only as a worker thread');

/** Modules imported so far: a job after the first skips import()'s asynchronous lookup. */
const modules = new Map<string, Record<string, unknown>>();

function reply(job: Job, value: unknown): void {
  const [result, transferList] = isTransfer(value)
    ? [value.value, value.transferList]
    : [value, []];
  try {
    (port as MessagePort).postMessage({ id: job.id, ok: true, value: result }, transferList);
  } catch (error) {
    const reason = describeError(error);
    reason.message = `the result of ${job.exportName} could not be sent back from the worker: ${reason.message}`;
    (port as MessagePort).postMessage({ id: job.id, ok: false, error: reason });
  }
}

function failed(job: Job, error: unknown): void {
  (port as MessagePort).postMessage({ id: job.id, ok: false, error: describeError(error) });
}

function call(job: Job, module: Record<string, unknown>): void {
  let value: unknown;
  try {
    const f = module[job.exportName];
    if (typeof f !== 'function') {
      throw new TypeError(
        `${job.moduleUrl} has no exported function named ${job.exportName} (found ${typeof f})`,
      );
    }
    value = Reflect.apply(f, undefined, job.args);
  } catch (error) {
    failed(job, error);
    return;
  }
  if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
    Promise.resolve(value).then(
      (settled) => reply(job, settled),
      (error: unknown) => failed(job, error),
    );
  } else {
    reply(job, value);
  }
}

port.on('message', (job: Job) => {
  const module = modules.get(job.moduleUrl);
  if (module !== undefined) {
    call(job, module);
    return;
  }
  import(job.moduleUrl).then(
    (loaded: Record<string, unknown>) => {
      modules.set(job.moduleUrl, loaded);
      call(job, loaded);
    },
    (error: unknown) => failed(job, error),
  );
});
