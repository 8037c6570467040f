// Start-up of the `torsion` command measured inside its own process: runs
// `torsion echo` through the runner's `main` and, when the "listening on"
// line is written, prints the milliseconds since the process started
// (performance.now(): Node's own bootstrap included, the parent's spawn
// not) and exits. Used by bench/torsion-web-workers.ts.
// Usage: node dist/bench/torsion-startup-probe.js

const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  if (String(chunk).includes('listening on')) {
    process.stderr.write(`listening after ${performance.now().toFixed(1)} ms\n`);
    process.exit(0);
  }
  return write(chunk, ...rest);
}) as typeof process.stdout.write;

const { main } = await import('../src/runner/main.js');
await main(['echo', '--listen', 'tcp:0:interface=127.0.0.1']);
