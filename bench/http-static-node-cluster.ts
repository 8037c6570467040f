// The raw Node reference for `torsion web --workers N`: node:cluster with N
// workers, each running the node:http static file server of
// bench/http-static-node.ts on the same port (the primary shares it).
// Usage: node dist/bench/http-static-node-cluster.js WORKERS PORT DIR [HOST]
// Each worker prints `node static listening on HOST:PORT`; SIGTERM/SIGINT
// to the primary stops the workers and exits.

import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';

const workers = Number(process.argv[2] ?? 2);
const rest = process.argv.slice(3);

cluster.setupPrimary({
  exec: fileURLToPath(new URL('./http-static-node.js', import.meta.url)),
  args: rest,
});
for (let i = 0; i < workers; i++) cluster.fork();
const stop = (): void => {
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  process.exit(0);
};
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, stop);
