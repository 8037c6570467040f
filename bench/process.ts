// Benchmark: child processes started per second, `true` run to its end
// (exit AND every pipe closed), through NodeReactor.spawnProcess and a
// ProcessProtocol against raw child_process.spawn waiting for 'close'. Both
// give the child the same three pipes and an empty environment, and keep
// the same number of children in flight.
// Usage: node dist/bench/process.js [N] [CONCURRENCY] [--reps R]
//   runs R (default 5) alternating rounds, each in a fresh process, and
//   prints the medians [min–max] and the ratio (target ≥ 0.9×);
// node dist/bench/process.js run torsion|node N CONCURRENCY
//   runs one round and prints one JSON line (spawns_per_s, cpu_s).

import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProcessProtocol } from 'torsion/protocol';
import { NodeReactor } from 'torsion/reactor';
import { format, median } from './_stats.js';

const TRUE = 'true';

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** Runs `n` children, `concurrency` at a time; `start(done)` starts one and calls `done` at its end. */
function pump(n: number, concurrency: number, start: (done: () => void) => void): Promise<number> {
  return new Promise((resolve) => {
    let started = 0;
    let ended = 0;
    const t0 = now();
    const next = (): void => {
      if (started >= n) return;
      started++;
      start(() => {
        ended++;
        if (ended === n) resolve(now() - t0);
        else next();
      });
    };
    for (let i = 0; i < Math.min(concurrency, n); i++) next();
  });
}

function runTorsion(n: number, concurrency: number): Promise<number> {
  const reactor = new NodeReactor();
  class Waiter extends ProcessProtocol {
    constructor(readonly done: () => void) {
      super();
    }
    override processEnded(): void {
      this.done();
    }
  }
  return pump(n, concurrency, (done) => {
    reactor.spawnProcess(new Waiter(done), TRUE, [TRUE]);
  });
}

function runNode(n: number, concurrency: number): Promise<number> {
  return pump(n, concurrency, (done) => {
    const child = spawn(TRUE, [], { env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('close', done);
  });
}

async function runOne(impl: string, n: number, concurrency: number): Promise<void> {
  const run = impl === 'torsion' ? runTorsion : runNode;
  await run(Math.min(50, n), concurrency); // warm-up
  const cpu0 = process.cpuUsage();
  const seconds = await run(n, concurrency);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({
      bench: 'process',
      impl,
      node: process.version,
      n,
      concurrency,
      seconds: +seconds.toFixed(4),
      spawns_per_s: +(n / seconds).toFixed(1),
      cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(4),
    }),
  );
}

function roundIn(impl: string, n: number, concurrency: number): { rate: number; cpu: number } {
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, [self, 'run', impl, String(n), String(concurrency)], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`${impl} round failed: ${result.stderr}`);
  const line = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
    spawns_per_s: number;
    cpu_s: number;
  };
  return { rate: line.spawns_per_s, cpu: line.cpu_s };
}

function summary(values: number[]): string {
  return `${format(median(values))} [${format(Math.min(...values))}–${format(Math.max(...values))}]`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'run') {
    await runOne(args[1] ?? 'torsion', Number(args[2] ?? 1000), Number(args[3] ?? 8));
    return;
  }
  const repsAt = args.indexOf('--reps');
  const reps = repsAt === -1 ? 5 : Number(args[repsAt + 1]);
  const positional = args.filter((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--reps');
  const n = Number(positional[0] ?? 1000);
  const concurrency = Number(positional[1] ?? 8);
  const ours: Array<{ rate: number; cpu: number }> = [];
  const reference: Array<{ rate: number; cpu: number }> = [];
  for (let rep = 0; rep < reps; rep++) {
    // Alternate which goes first, so that neither always runs on a warmer machine.
    if (rep % 2 === 0) {
      ours.push(roundIn('torsion', n, concurrency));
      reference.push(roundIn('node', n, concurrency));
    } else {
      reference.push(roundIn('node', n, concurrency));
      ours.push(roundIn('torsion', n, concurrency));
    }
  }
  const rate = (rows: typeof ours): number[] => rows.map((row) => row.rate);
  const cpu = (rows: typeof ours): number[] => rows.map((row) => (row.cpu / n) * 1e6);
  console.log(
    `process: \`${TRUE}\` run to its end, ${n} per round, ${concurrency} in flight, ${reps} rounds each, medians [min–max]`,
  );
  console.log(
    `  spawnProcess + ProcessProtocol  ${summary(rate(ours))} /s   CPU ${summary(cpu(ours))} µs each`,
  );
  console.log(
    `  child_process.spawn            ${summary(rate(reference))} /s   CPU ${summary(cpu(reference))} µs each`,
  );
  console.log(
    `  ratio (ours / raw): ${(median(rate(ours)) / median(rate(reference))).toFixed(2)}× (target ≥ 0.9×)`,
  );
}

await main();
