// deferToWorker's cost: round trips per second of a tiny job (add two
// numbers) through a WorkerPool of one thread, against the same exchange
// written directly with worker_threads (postMessage and a 'message'
// listener), both with one job in flight at a time and with 64.
//
//   node dist/bench/worker-threads.js [--reps N] [--jobs N]
//
// Each repetition runs both, alternating which goes first; the medians and
// their ratio are printed (target: the pool ≥ 0.8× raw worker_threads).

import { Worker } from 'node:worker_threads';
import { reactor } from 'torsion/reactor';
import { WorkerPool } from 'torsion/workers';
import { format, median } from './_stats.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const reps = option('--reps', 5);
const jobs = option('--jobs', 20_000);
const jobsUrl = new URL('./worker-threads-jobs.js', import.meta.url);

const RAW_WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, value: m.a + m.b }));
`;

async function raw(inFlight: number): Promise<number> {
  const worker = new Worker(RAW_WORKER, { eval: true });
  await new Promise((resolve) => worker.once('online', resolve));
  const start = performance.now();
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    worker.on('message', () => {
      done++;
      if (sent < jobs) worker.postMessage({ id: sent++, a: 1, b: 2 });
      else if (done === jobs) resolve();
    });
    for (; sent < Math.min(inFlight, jobs); sent++) worker.postMessage({ id: sent, a: 1, b: 2 });
  });
  const seconds = (performance.now() - start) / 1000;
  await worker.terminate();
  return jobs / seconds;
}

async function pooled(inFlight: number): Promise<number> {
  const pool = new WorkerPool(reactor, { size: 1 });
  await pool.run(jobsUrl, 'add', [0, 0]);
  const start = performance.now();
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < jobs) {
      sent++;
      await pool.run(jobsUrl, 'add', [1, 2]);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - start) / 1000;
  await pool.stop();
  return jobs / seconds;
}

for (const inFlight of [1, 64]) {
  const results = { raw: [] as number[], pool: [] as number[] };
  for (let rep = 0; rep < reps; rep++) {
    if (rep % 2 === 0) {
      results.raw.push(await raw(inFlight));
      results.pool.push(await pooled(inFlight));
    } else {
      results.pool.push(await pooled(inFlight));
      results.raw.push(await raw(inFlight));
    }
  }
  const r = median(results.raw);
  const p = median(results.pool);
  console.log(
    `${inFlight} in flight: WorkerPool ${format(p)} jobs/s, worker_threads ${format(r)} jobs/s, ratio ${(p / r).toFixed(2)} (medians of ${reps})`,
  );
}
