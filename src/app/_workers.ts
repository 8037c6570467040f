// Internal: runApp's --workers mode. The primary process of a node:cluster
// forks N workers (each re-runs the same command line and serves), restarts
// a worker that dies, with backoff, and on shutdown asks every worker to
// drain and waits for them. Workers share the listening sockets through
// the primary, as node:cluster arranges.
// Tests: test/integration/app/run-app.test.ts

import cluster, { type Worker } from 'node:cluster';
import { Deferred } from '../internet/defer.js';
import type { IDelayedCall, IReactorCore, IReactorTime } from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';

const log = new Logger('torsion.app.workers');

/** The message a worker sends the primary once its service has started. */
export const STARTED_MESSAGE = 'torsion:started';

/** A worker that lived this long before dying is restarted at once. */
const STABLE_AFTER = 10;
/** The longest wait before restarting a worker. */
const MAX_RESTART_DELAY = 30;

/** Options of {@link superviseWorkers}. */
export interface SuperviseOptions {
  /** How many workers to keep running. */
  count: number;
  /** Seconds a worker has to drain once asked to stop, before it is killed. */
  shutdownTimeout: number;
}

interface Slot {
  worker: Worker | null;
  startedAt: number | null;
  failures: number;
  restart: IDelayedCall | null;
}

/**
 * Runs in the primary: keeps `count` workers alive until the reactor shuts
 * down, then stops them (SIGTERM, then SIGKILL after the grace period).
 *
 * @remarks
 * A worker that exits before it has started (it could not listen, its
 * module threw) fails the whole start while no worker has started yet:
 * the reactor stops and `onStartFailure` is called, instead of restarting
 * a program that cannot run. Later deaths are restarted after 0 s (the
 * worker had run for 10 s or more), else 1, 2, 4 … up to 30 s.
 *
 * @param reactor - The primary's reactor: timers and the shutdown trigger.
 * @param options - See {@link SuperviseOptions}.
 * @param onStartFailure - Called once if the application could not start.
 */
export function superviseWorkers(
  reactor: IReactorCore & IReactorTime,
  options: SuperviseOptions,
  onStartFailure: () => void,
): void {
  const slots: Slot[] = Array.from({ length: options.count }, () => ({
    worker: null,
    startedAt: null,
    failures: 0,
    restart: null,
  }));
  let anyStarted = false;
  let allStarted = false;
  let stopping = false;
  let allExited: Deferred<void> | null = null;

  const live = (): Worker[] => slots.flatMap((slot) => (slot.worker === null ? [] : [slot.worker]));

  const fork = (slot: Slot): void => {
    slot.restart = null;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.startedAt = null;
    worker.on('message', (message: unknown) => {
      if (message !== STARTED_MESSAGE) return;
      slot.startedAt = reactor.seconds();
      anyStarted = true;
      log.info('Worker {pid} is serving.', { pid: worker.process.pid });
      if (!allStarted && slots.every((each) => each.startedAt !== null)) {
        allStarted = true;
        log.info('All {count} workers are serving.', { count: options.count });
      }
    });
    worker.on('exit', (code: number | null, signal: string | null) => {
      slot.worker = null;
      const how = signal === null ? `exited with status ${code}` : `was killed by ${signal}`;
      if (stopping) {
        log.info('Worker {pid} {how}.', { pid: worker.process.pid, how });
        if (live().length === 0) allExited?.callback(undefined);
        return;
      }
      if (slot.startedAt === null && !anyStarted) {
        log.error('Worker {pid} {how} before it started; stopping.', {
          pid: worker.process.pid,
          how,
        });
        onStartFailure();
        return;
      }
      const lived = slot.startedAt === null ? 0 : reactor.seconds() - slot.startedAt;
      if (lived >= STABLE_AFTER) slot.failures = 0;
      const delay = slot.failures === 0 ? 0 : Math.min(MAX_RESTART_DELAY, 2 ** (slot.failures - 1));
      slot.failures++;
      log.warn('Worker {pid} {how}; restarting it in {delay} s.', {
        pid: worker.process.pid,
        how,
        delay,
      });
      slot.restart = reactor.callLater(delay, fork, slot);
    });
  };

  reactor.addSystemEventTrigger('before', 'shutdown', () => {
    stopping = true;
    for (const slot of slots) slot.restart?.cancel();
    const workers = live();
    if (workers.length === 0) return undefined;
    allExited = new Deferred<void>();
    log.info('Stopping {count} workers.', { count: workers.length });
    for (const worker of workers) worker.process.kill('SIGTERM');
    // The workers' own grace period, and a second more for them to exit.
    const killer = reactor.callLater(options.shutdownTimeout + 1, () => {
      for (const worker of live()) {
        log.warn('Worker {pid} did not stop in time; killing it.', { pid: worker.process.pid });
        worker.process.kill('SIGKILL');
      }
    });
    return allExited.addBoth((result) => {
      if (killer.active()) killer.cancel();
      return result;
    });
  });
  reactor.addSystemEventTrigger('after', 'shutdown', () => {
    process.removeListener('SIGUSR1', forwardUSR1);
  });
  const forwardUSR1 = (): void => {
    for (const worker of live()) worker.process.kill('SIGUSR1');
  };
  process.on('SIGUSR1', forwardUSR1);
  log.info('Starting {count} workers.', { count: options.count });
  for (const slot of slots) fork(slot);
}
