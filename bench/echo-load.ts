// TCP echo load generator for the network benchmarks, on raw node:net, so
// that Torsion's server (bench/echo.ts) and raw Node's (bench/echo-node.ts)
// meet the same client.
//
//   node dist/bench/echo-load.js echo PORT CONNS SIZE [SECONDS] [WARMUP_SECONDS] [SERVER_PID]
//     CONNS connections to 127.0.0.1:PORT, each keeping one SIZE-byte message
//     in flight (send, wait for the whole echo, send again), measured for
//     SECONDS (default 3) after WARMUP_SECONDS (default 1). Prints one JSON
//     line: messages_per_s, mb_per_s (payload echoed back per second, one
//     direction, 10^6 bytes), p50_us and p99_us (round trip), errors, and
//     with SERVER_PID server_cpu_us_per_msg: the server's CPU time
//     (/proc/PID/stat) per message, steadier than throughput on a shared
//     machine.
//   node dist/bench/echo-load.js idle PORT CONNS SERVER_PID
//     Opens CONNS idle connections and reads the server's resident memory
//     (/proc/PID/status) before, once it holds them all, and after one 1-byte
//     echo on each. Prints one JSON line: bytes_per_conn_idle,
//     bytes_per_conn_after_ping, errors.
//
// Every socket is destroyed before the line is printed; the process then ends.

import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

const host = '127.0.0.1';
const now = (): bigint => process.hrtime.bigint();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

/** A process's user + system CPU time in seconds (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function echo(
  port: number,
  conns: number,
  size: number,
  seconds: number,
  warmup: number,
  pid: number | undefined,
) {
  const message = Buffer.alloc(size, 0x78);
  const sockets: Socket[] = [];
  let latencies = new Float64Array(1 << 16);
  let messages = 0;
  let errors = 0;
  let measuring = false;
  let stopped = false;

  for (let i = 0; i < conns; i++) {
    const socket = connect({ host, port, noDelay: true });
    sockets.push(socket);
    let pending = 0;
    let sentAt = 0n;
    const send = (): void => {
      pending = size;
      sentAt = now();
      socket.write(message);
    };
    socket.on('connect', send);
    socket.on('data', (chunk) => {
      pending -= chunk.length;
      if (pending > 0) return;
      if (pending < 0) errors++; // more bytes than were sent
      if (measuring) {
        if (messages === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[messages++] = Number(now() - sentAt) / 1000;
      }
      if (!stopped) send();
    });
    socket.on('error', () => errors++);
    socket.on('close', () => {
      if (!stopped) errors++; // the server closed it early
    });
  }

  await sleep(warmup * 1000);
  const cpu0 = pid === undefined ? 0 : cpuSeconds(pid);
  measuring = true;
  const t0 = now();
  await sleep(seconds * 1000);
  measuring = false;
  stopped = true;
  const elapsed = Number(now() - t0) / 1e9;
  const cpu = pid === undefined ? Number.NaN : cpuSeconds(pid) - cpu0;
  for (const socket of sockets) socket.destroy();

  const sorted = latencies.subarray(0, messages).sort();
  return {
    bench: 'echo',
    conns,
    size,
    seconds: +elapsed.toFixed(3),
    messages,
    messages_per_s: Math.round(messages / elapsed),
    mb_per_s: +((messages * size) / elapsed / 1e6).toFixed(2),
    p50_us: Math.round(percentile(sorted, 0.5)),
    p99_us: Math.round(percentile(sorted, 0.99)),
    ...(pid === undefined ? {} : { server_cpu_us_per_msg: +((cpu * 1e6) / messages).toFixed(2) }),
    errors,
  };
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

const openFiles = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

async function idle(port: number, conns: number, pid: number) {
  const sockets: Socket[] = [];
  let errors = 0;
  let stopped = false;
  try {
    const fds0 = openFiles(pid);
    const rss0 = rssBytes(pid);
    const t0 = now();
    // At most 256 handshakes at a time: well inside the backlog of 511.
    let next = 0;
    await new Promise<void>((resolve) => {
      let done = 0;
      const open = (): void => {
        const socket = connect({ host, port, noDelay: true });
        sockets.push(socket);
        next++;
        let settled = false;
        const settle = (): void => {
          if (settled) return;
          settled = true;
          if (++done === conns) resolve();
          else if (next < conns) open();
        };
        socket.once('connect', settle);
        socket.on('error', () => {
          errors++;
          settle();
        });
        socket.on('close', () => {
          if (!stopped) errors++;
        });
      };
      for (let i = 0; i < Math.min(256, conns); i++) open();
    });
    const connectSeconds = Number(now() - t0) / 1e9;
    // Wait until the server has accepted them all (its descriptors show it).
    for (let waited = 0; openFiles(pid) < fds0 + conns - errors && waited < 20_000; waited += 50) {
      await sleep(50);
    }
    await sleep(500);
    const rss1 = rssBytes(pid);
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.destroyed) return resolve();
            socket.once('data', () => resolve());
            socket.once('close', () => resolve());
            socket.write('x');
          }),
      ),
    );
    await sleep(500);
    const rss2 = rssBytes(pid);
    return {
      bench: 'idle',
      conns,
      connect_s: +connectSeconds.toFixed(3),
      rss_base_mb: +(rss0 / 2 ** 20).toFixed(1),
      rss_idle_mb: +(rss1 / 2 ** 20).toFixed(1),
      bytes_per_conn_idle: Math.round((rss1 - rss0) / conns),
      bytes_per_conn_after_ping: Math.round((rss2 - rss0) / conns),
      errors,
    };
  } finally {
    stopped = true;
    for (const socket of sockets) socket.destroy();
  }
}

const [mode, ...rest] = process.argv.slice(2);
const args = rest.map(Number);
const [port = Number.NaN, conns = 1] = args;
if (mode === 'echo') {
  const [, , size = 64, seconds = 3, warmup = 1, pid] = args;
  console.log(JSON.stringify(await echo(port, conns, size, seconds, warmup, pid)));
} else if (mode === 'idle') {
  console.log(JSON.stringify(await idle(port, conns, args[2] ?? Number.NaN)));
} else {
  console.error(
    'usage: echo-load.js echo PORT CONNS SIZE [SECONDS] [WARMUP] | idle PORT CONNS PID',
  );
  process.exitCode = 2;
}
