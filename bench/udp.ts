// Benchmark: datagrams per second through a UDP echo server made with
// listenUDP and a DatagramProtocol, against the same server on raw
// node:dgram. A load client (raw node:dgram, its own process) keeps a window
// of 64-byte datagrams in flight to the server on 127.0.0.1 and counts the
// echoes for a fixed time; a window lost to the kernel is re-sent after
// 50 ms without progress. Besides the rate, the server's CPU time per
// datagram echoed, which a busy machine disturbs far less.
// Usage:
//   node dist/bench/udp.js [--reps N] [--seconds S] [--window W]
//       runs the servers alternately, each in a fresh process with a fresh
//       client, N times (default 5), and prints the medians and their ratio;
//   node dist/bench/udp.js server torsion|node   prints {"port": N}, serves until
//       SIGTERM, then prints {"cpu_us_per_datagram": x};
//   node dist/bench/udp.js client PORT SECONDS WINDOW   prints {"datagrams_per_s": x}.

import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DatagramProtocol } from 'torsion/protocol';
import { reactor } from 'torsion/reactor';
import { format, median } from './_stats.js';

const PAYLOAD = Buffer.alloc(64, 'x');

let served = 0;
/** The CPU time used when the first datagram arrived: start-up is not counted. */
let cpuAtFirst: NodeJS.CpuUsage | undefined;

function count(): void {
  if (served++ === 0) cpuAtFirst = process.cpuUsage();
}

class Echo extends DatagramProtocol {
  override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
    count();
    this.transport?.write(data, addr);
  }
}

function serve(kind: string): void {
  // Stopped by SIGTERM: says how much CPU time each datagram took, a figure
  // other work on the machine disturbs far less than the rate.
  process.once('SIGTERM', () => {
    const { user, system } = process.cpuUsage(cpuAtFirst);
    console.log(JSON.stringify({ cpu_us_per_datagram: (user + system) / served }));
    process.exit(0);
  });
  if (kind === 'torsion') {
    const echo = new Echo();
    echo.noisy = false;
    const port = reactor.listenUDP(0, echo, { interface: '127.0.0.1' });
    console.log(JSON.stringify({ port: port.getHost().port }));
    return;
  }
  const socket = createSocket('udp4');
  socket.on('message', (data, info) => {
    count();
    socket.send(data, info.port, info.address);
  });
  socket.bind(0, '127.0.0.1', () => console.log(JSON.stringify({ port: socket.address().port })));
}

function load(port: number, seconds: number, window: number): void {
  const socket = createSocket('udp4');
  let received = 0;
  let counting = false;
  let lastProgress = performance.now();
  socket.on('message', () => {
    if (counting) received++;
    lastProgress = performance.now();
    socket.send(PAYLOAD);
  });
  const refill = setInterval(() => {
    if (performance.now() - lastProgress > 50) {
      for (let i = 0; i < window; i++) socket.send(PAYLOAD);
      lastProgress = performance.now();
    }
  }, 25);
  socket.connect(port, '127.0.0.1', () => {
    for (let i = 0; i < window; i++) socket.send(PAYLOAD);
    // Half a second of warm-up, then the timed run.
    setTimeout(() => {
      counting = true;
      const t0 = performance.now();
      setTimeout(() => {
        const elapsed = (performance.now() - t0) / 1000;
        counting = false;
        clearInterval(refill);
        console.log(JSON.stringify({ datagrams_per_s: received / elapsed }));
        socket.close();
      }, seconds * 1000);
    }, 500);
  });
}

/** Hands out a child's output lines, one per call, in order. */
function lineReader(child: ChildProcess): () => Promise<string> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready: string[] = [];
  const waiting: Array<[(line: string) => void, (error: Error) => void]> = [];
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next === undefined) ready.push(line);
    else next[0](line);
  });
  child.once('exit', (code) => {
    for (const [, reject] of waiting.splice(0)) reject(new Error(`the child exited (${code})`));
  });
  return () =>
    new Promise((resolve, reject) => {
      const line = ready.shift();
      if (line !== undefined) resolve(line);
      else if (child.exitCode !== null) reject(new Error(`the child exited (${child.exitCode})`));
      else waiting.push([resolve, reject]);
    });
}

interface Result {
  rate: number;
  cpu: number;
}

async function once(kind: string, seconds: number, window: number): Promise<Result> {
  const script = fileURLToPath(import.meta.url);
  const server = spawn(process.execPath, [script, 'server', kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const serverLine = lineReader(server);
  try {
    const { port } = JSON.parse(await serverLine()) as { port: number };
    const client = spawn(
      process.execPath,
      [script, 'client', String(port), String(seconds), String(window)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const { datagrams_per_s } = JSON.parse(await lineReader(client)()) as {
      datagrams_per_s: number;
    };
    if (server.pid !== undefined) process.kill(server.pid, 'SIGTERM');
    const { cpu_us_per_datagram } = JSON.parse(await serverLine()) as {
      cpu_us_per_datagram: number;
    };
    return { rate: datagrams_per_s, cpu: cpu_us_per_datagram };
  } finally {
    if (server.pid !== undefined && server.exitCode === null) process.kill(server.pid, 'SIGTERM');
  }
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

async function compare(args: string[]): Promise<void> {
  const reps = option(args, '--reps', 5);
  const seconds = option(args, '--seconds', 2);
  const window = option(args, '--window', 32);
  const rates: Record<string, number[]> = { torsion: [], node: [] };
  const cpus: Record<string, number[]> = { torsion: [], node: [] };
  for (let rep = 0; rep < reps; rep++) {
    // Alternating, and which goes first alternates too.
    const order = rep % 2 === 0 ? ['torsion', 'node'] : ['node', 'torsion'];
    for (const kind of order) {
      const { rate, cpu } = await once(kind, seconds, window);
      rates[kind]?.push(rate);
      cpus[kind]?.push(cpu);
    }
  }
  const range = (values: number[]): string =>
    `[${format(Math.min(...values))}–${format(Math.max(...values))}]`;
  const row = (label: string, kind: string): string =>
    `${label} ${format(median(rates[kind] ?? []))} datagrams/s ${range(rates[kind] ?? [])}, ` +
    `${format(median(cpus[kind] ?? []))} µs CPU per datagram ${range(cpus[kind] ?? [])}`;
  console.log(`UDP echo, 64-byte datagrams, window ${window}, ${seconds} s × ${reps} runs each`);
  console.log(row('listenUDP + DatagramProtocol:', 'torsion'));
  console.log(row('raw node:dgram:              ', 'node'));
  const rateRatio = median(rates.torsion ?? []) / median(rates.node ?? []);
  const cpuRatio = median(cpus.node ?? []) / median(cpus.torsion ?? []);
  console.log(
    `ratio (median/median): ${rateRatio.toFixed(3)} by rate, ${cpuRatio.toFixed(3)} by CPU per datagram (target >= 0.9)`,
  );
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'server') serve(rest[0] ?? 'torsion');
else if (mode === 'client') load(Number(rest[0]), Number(rest[1] ?? 2), Number(rest[2] ?? 32));
else await compare(process.argv.slice(2));
