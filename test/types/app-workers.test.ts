// Type tests of runApp and the worker pool, checked by tsc during the build:
// runApp takes a service or a maker (sync or async) and gives the exit
// status; a maker gets an AppReactor; bad options are refused by type; a
// pool's run and deferToWorker give a Deferred of the type asked for, and
// transfer() keeps its value's type. The runtime assertions check the
// values on a MemoryReactorClock, starting no thread and no program.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AppReactor,
  type IService,
  MultiService,
  type RunAppOptions,
  type runApp,
  type ServiceMaker,
} from 'torsion/app';
import type { Deferred } from 'torsion/defer';
import { MemoryReactorClock } from 'torsion/testing';
import { type deferToWorker, type Transfer, transfer, WorkerPool } from 'torsion/workers';
import { expectType } from './expect-type.js';

test('runApp takes a service or a maker and resolves with the status', () => {
  type Run = typeof runApp;
  const status = (run: Run) => expectType<Promise<number>>()(run(new MultiService()));
  assert.equal(typeof status, 'function');
  const sync: ServiceMaker = (reactor) => {
    expectType<AppReactor>()(reactor);
    return new MultiService();
  };
  const async: ServiceMaker = async () => new MultiService();
  const service: IService = new MultiService();
  const accepts: Array<Parameters<Run>[0]> = [sync, async, service];
  assert.equal(accepts.length, 3);
  // @ts-expect-error a maker must give a service
  const wrong: ServiceMaker = () => 42;
  // @ts-expect-error the log format is text or json
  const format: RunAppOptions = { logFormat: 'xml' };
  // @ts-expect-error levels are LogLevel names
  const level: RunAppOptions = { logLevel: 'verbose' };
  const ok: RunAppOptions = { workers: 2, shutdownTimeout: 5, logFile: '-', exit: () => undefined };
  assert.equal([wrong, format, level, ok].length, 4);
});

test("a pool's jobs are Deferreds of the type asked for", async () => {
  const pool = new WorkerPool(new MemoryReactorClock(), { size: 1 });
  const url = new URL('file:///jobs.js');
  expectType<Deferred<number>>()(pool.run<number>(url, 'add', [1, 2]));
  expectType<Deferred<unknown>>()(pool.run(url, 'add'));
  const viaGlobal = (f: typeof deferToWorker) =>
    expectType<Deferred<string>>()(f<string>(url, 'name', 1, 'two'));
  assert.equal(typeof viaGlobal, 'function');
  const bytes: Uint8Array = new Uint8Array(4);
  expectType<Transfer<Uint8Array>>()(transfer(bytes, [bytes.buffer as ArrayBuffer]));
  // @ts-expect-error a module is a URL or its string, not a function
  pool.run(() => 1, 'f');
  // @ts-expect-error the transfer list holds transferables
  transfer(bytes, ['not transferable']);
  await pool.stop();
});
