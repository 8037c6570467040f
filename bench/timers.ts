// Benchmark: schedule N timed calls with delays uniform in 0..999 ms (the
// same xorshift32 sequence for both implementations), cancel every other
// one, and wait for the rest to fire.
// Usage: node dist/bench/timers.js [N] [torsion|node]
// Prints one JSON line: total_s, schedule_s, cancel_s, run_s, and cpu_s (the
// process's CPU time, steadier than wall time on a loaded machine).

import { NodeReactor } from 'torsion/reactor';

function delays(n: number): number[] {
  const ds = new Array<number>(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    ds[i] = x % 1000;
  }
  return ds;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

function report(impl: string, n: number, fired: number, t0: number, t1: number, t2: number): void {
  const te = now();
  console.log(
    JSON.stringify({
      bench: 'timers',
      impl,
      node: process.version,
      n,
      fired,
      schedule_s: +(t1 - t0).toFixed(4),
      cancel_s: +(t2 - t1).toFixed(4),
      run_s: +(te - t2).toFixed(4),
      total_s: +(te - t0).toFixed(4),
      cpu_s: +(cpuSeconds() / 1e6).toFixed(4),
      maxrss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    }),
  );
}

function runTorsion(n: number, ds: number[]): void {
  const reactor = new NodeReactor();
  const expected = n - Math.ceil(n / 2);
  let fired = 0;
  let t1 = 0;
  let t2 = 0;
  const t0 = now();
  const cb = (): void => {
    if (++fired === expected) report('torsion-callLater', n, fired, t0, t1, t2);
  };
  const calls = new Array(n);
  for (let i = 0; i < n; i++) calls[i] = reactor.callLater((ds[i] as number) / 1000, cb);
  t1 = now();
  for (let i = 0; i < n; i += 2) calls[i].cancel();
  t2 = now();
  calls.length = 0;
}

function runNode(n: number, ds: number[]): void {
  const expected = n - Math.ceil(n / 2);
  let fired = 0;
  let t1 = 0;
  let t2 = 0;
  const t0 = now();
  const cb = (): void => {
    if (++fired === expected) report('node-setTimeout', n, fired, t0, t1, t2);
  };
  const handles = new Array<NodeJS.Timeout>(n);
  for (let i = 0; i < n; i++) handles[i] = setTimeout(cb, ds[i]);
  t1 = now();
  for (let i = 0; i < n; i += 2) clearTimeout(handles[i]);
  t2 = now();
  handles.length = 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1e6);
  const ds = delays(n);
  if (process.argv[3] === 'node') runNode(n, ds);
  else runTorsion(n, ds);
}
