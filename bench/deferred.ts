// Benchmark: create and fire N Deferreds, each with a chain of 3 callbacks,
// against the same shape with native Promises (a `then` chain, awaited), and
// the time to fire a chain of 100,000 nested Deferreds.
// Usage: node dist/bench/deferred.js [N] [deferred|promise|deep] [warm-up iterations, default 100000]
// Prints one JSON line, in the shape of ../shared/bench/micro/*.js.

import { Deferred } from 'torsion/defer';

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

/** The Promise shape of ../shared/bench/micro/promise_chain.js. */
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

function seconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1e6);
  const which = process.argv[3] ?? 'deferred';
  // Both sides get the same warm-up, so that the timed run measures code V8
  // has optimised, not the JIT's tiering.
  const warmup = Number(process.argv[4] ?? 100_000);
  let elapsed: number;
  if (which === 'deep') {
    runDeepChain(1000);
    const t0 = seconds();
    const seen = runDeepChain(n);
    elapsed = seconds() - t0;
    if (seen !== 'deep') throw new Error(`deep chain delivered ${String(seen)}`);
  } else if (which === 'promise') {
    await runPromises(warmup);
    const t0 = seconds();
    const sum = await runPromises(n);
    elapsed = seconds() - t0;
    if (sum !== n * (n + 1)) throw new Error(`bad sum ${sum}`);
  } else {
    runDeferreds(warmup);
    const t0 = seconds();
    const sum = runDeferreds(n);
    elapsed = seconds() - t0;
    if (sum !== n * (n + 1)) throw new Error(`bad sum ${sum}`);
  }
  console.log(
    JSON.stringify({
      bench: which === 'deep' ? 'deferred-deep-chain' : 'deferred',
      impl: which === 'promise' ? 'node-promise' : 'torsion',
      node: process.version,
      n,
      warmup,
      seconds: +elapsed.toFixed(4),
      ops_per_s: +(n / elapsed).toFixed(1),
      ns_per_op: +((elapsed / n) * 1e9).toFixed(1),
      maxrss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
