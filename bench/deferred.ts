// Benchmark: create and fire N Deferreds, each with a chain of 3 callbacks,
// against the same shape with native Promises (a `then` chain, awaited), and
// the time to fire a chain of 100,000 nested Deferreds, and three more Deferred
// shapes for before/after comparisons of the hot path: succeed() with one
// callback, gatherResults of 1,000 Deferreds, an inlineCallbacks loop.
// Usage: node dist/bench/deferred.js [N] [deferred|promise|deep|succeed|gather|inline] [warm-up iterations, default 100000]
// Prints one JSON line, with cpu_s: the CPU time of the timed run, steadier
// than wall time on a loaded machine.

import { Deferred, gatherResults, inlineCallbacks, succeed } from 'torsion/defer';

const f1 = (x: number): number => x + 1;
const f2 = (x: number): number => x * 2;
let acc = 0;
const f3 = (x: number): number => {
  acc += x;
  return x;
};

/** The Deferred shape of Twisted's micro/deferred_chain.py. */
export function runDeferreds(n: number): number {
  acc = 0;
  for (let i = 0; i < n; i++) {
    const d = new Deferred<number>();
    d.addCallback(f1).addCallback(f2).addCallback(f3);
    d.callback(i);
  }
  return acc;
}

/** The same shape with native Promises: a `then` chain, awaited. */
export async function runPromises(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let resolve!: (value: number) => void;
    const p = new Promise<number>((r) => {
      resolve = r;
    });
    const q = p
      .then(f1)
      .then(f2)
      .then((x) => x - 0);
    resolve(i);
    sum += await q;
  }
  return sum;
}

/** Fires a chain of `depth` Deferreds, each waiting on the next; returns what the first saw. */
export function runDeepChain(depth: number): unknown {
  const ds = Array.from({ length: depth }, () => new Deferred<unknown>());
  for (let i = 0; i < depth - 1; i++) ds[i]?.addCallback(() => ds[i + 1]);
  let seen: unknown;
  ds[0]?.addCallback((r) => {
    seen = r;
  });
  for (let i = 0; i < depth - 1; i++) ds[i]?.callback(null);
  ds[depth - 1]?.callback('deep');
  return seen;
}

/** `succeed(i)` with one callback, N times. */
export function runSucceed(n: number): number {
  acc = 0;
  for (let i = 0; i < n; i++) succeed(i).addCallback(f3);
  return acc;
}

/** gatherResults over batches of 1,000 Deferreds fired one by one: N Deferreds in all. */
export function runGather(n: number): number {
  acc = 0;
  const batch = 1000;
  for (let done = 0; done < n; done += batch) {
    const ds: Deferred<number>[] = [];
    for (let i = 0; i < batch; i++) ds.push(new Deferred<number>());
    gatherResults(ds).addCallback((results) => {
      for (const r of results) acc += r;
    });
    for (let i = 0; i < batch; i++) ds[i]?.callback(done + i);
  }
  return acc;
}

/** An inlineCallbacks generator that waits on N Deferreds, half already fired, half fired later. */
export function runInline(n: number): number {
  acc = 0;
  const pending: Deferred<number>[] = [];
  const loop = inlineCallbacks(function* () {
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) {
        acc += yield* succeed(i);
      } else {
        const d = new Deferred<number>();
        pending.push(d);
        acc += yield* d;
      }
    }
    return acc;
  });
  let result = 0;
  loop().addCallback((r) => {
    result = r;
  });
  for (let i = 0; i < pending.length; i++) {
    pending[i]?.callback(2 * i + 1);
    pending[i] = undefined as unknown as Deferred<number>;
  }
  return result;
}

/** The sum each shape computes for `n`, to check the run did the work. */
function expected(which: string, n: number): number {
  return which === 'deferred' || which === 'promise' ? n * (n + 1) : (n * (n - 1)) / 2;
}

function seconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1e6);
  const which = process.argv[3] ?? 'deferred';
  // Both sides get the same warm-up, so that the timed run measures code V8
  // has optimised, not the JIT's tiering.
  const warmup = Number(process.argv[4] ?? 100_000);
  let elapsed: number;
  let cpu0 = 0;
  let cpu = 0;
  if (which === 'deep') {
    runDeepChain(1000);
    cpu0 = cpuSeconds();
    const t0 = seconds();
    const seen = runDeepChain(n);
    elapsed = seconds() - t0;
    cpu = cpuSeconds() - cpu0;
    if (seen !== 'deep') throw new Error(`deep chain delivered ${String(seen)}`);
  } else if (which === 'promise') {
    await runPromises(warmup);
    cpu0 = cpuSeconds();
    const t0 = seconds();
    const sum = await runPromises(n);
    elapsed = seconds() - t0;
    cpu = cpuSeconds() - cpu0;
    if (sum !== n * (n + 1)) throw new Error(`bad sum ${sum}`);
  } else {
    const run = {
      deferred: runDeferreds,
      succeed: runSucceed,
      gather: runGather,
      inline: runInline,
    }[which];
    if (run === undefined) throw new Error(`unknown benchmark ${which}`);
    run(warmup);
    cpu0 = cpuSeconds();
    const t0 = seconds();
    const sum = run(n);
    elapsed = seconds() - t0;
    cpu = cpuSeconds() - cpu0;
    if (sum !== expected(which, n)) throw new Error(`bad sum ${sum}`);
  }
  console.log(
    JSON.stringify({
      bench:
        which === 'deep'
          ? 'deferred-deep-chain'
          : which === 'deferred' || which === 'promise'
            ? 'deferred'
            : `deferred-${which}`,
      impl: which === 'promise' ? 'node-promise' : 'torsion',
      node: process.version,
      n,
      warmup,
      seconds: +elapsed.toFixed(4),
      cpu_s: +cpu.toFixed(4),
      ops_per_s: +(n / elapsed).toFixed(1),
      ns_per_op: +((elapsed / n) * 1e9).toFixed(1),
      maxrss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
