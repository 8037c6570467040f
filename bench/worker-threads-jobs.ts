// The job bench/worker-threads.ts runs on a WorkerPool.

export function add(a: number, b: number): number {
  return a + b;
}
