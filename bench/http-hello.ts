// The HTTP server benchmarks: Torsion's Site against raw node:http and
// twisted.web, paired in one run. Hello world (14-byte body) under wrk with
// keep-alive at 10 and 100 connections and with `Connection: close`; memory
// per idle keep-alive connection; a 1 MiB static file.
//
//   node dist/bench/http-hello.js [FILTER] [--reps N] [--duration S] [--warmup S]
//                                 [--idle-conns N] [--redo-noisy N] [--max-other PCT] [--jsonl FILE]
//                                 [--also LABEL=SCRIPT]...
//
// Only the cases whose name contains FILTER run (all without one). Each run
// starts a fresh server process pinned to CPU 0 (taskset), checks that it
// answers twice on one connection, warms it up with a separate wrk run, then
// measures with wrk pinned to CPU 1 (`wrk -t1 -cC -dS --latency`), and stops
// the server by its PID. Each repetition runs every server back to back and
// the order rotates between repetitions, so drift falls on all of them alike.
// Printed: medians [min–max] of requests/s, the server's CPU time per request
// (from /proc, steadier than throughput when other work shares the machine),
// latency, and the CPU that processes outside the benchmark used meanwhile.
// `npm run bench -- http` runs this after the parser benchmarks (bench/run.ts).
//
// `--also LABEL=SCRIPT` adds a hello server to pair with the others (a
// build with a patch to compare: SCRIPT is its dist/bench/http-hello-torsion.js).
//
// Missing tools are reported and their part skipped: wrk (the throughput
// cases), Twisted (its column; TWISTED_PYTHON names the python3 that has it,
// else /usr/bin/python3 then python3 are tried), taskset (runs unpinned), and
// the File resource of src/web/static.ts (Torsion's static column).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLK_TCK, machineTicks, processTicks } from './_machine.js';
import { format, median } from './_stats.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** bench/ in the source tree, where the Python server lives. */
const sources = join(here, '..', '..', 'bench');
const HOST = '127.0.0.1';
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- options

interface Options {
  filter: string | undefined;
  reps: number;
  duration: number;
  warmup: number;
  idleConns: number;
  redoNoisy: number;
  maxOther: number;
  jsonl: string | undefined;
  /** More hello servers to pair with the others (`--also LABEL=SCRIPT`), such as a patched build's. */
  also: ServerSpec[];
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    filter: undefined,
    reps: 5,
    duration: 5,
    warmup: 1,
    idleConns: 5000,
    redoNoisy: 0,
    maxOther: 10,
    jsonl: undefined,
    also: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--reps') options.reps = Number(value());
    else if (arg === '--duration') options.duration = Math.max(1, Math.round(Number(value())));
    else if (arg === '--warmup') options.warmup = Math.max(1, Math.round(Number(value())));
    else if (arg === '--idle-conns') options.idleConns = Number(value());
    else if (arg === '--redo-noisy') options.redoNoisy = Number(value());
    else if (arg === '--max-other') options.maxOther = Number(value());
    else if (arg === '--jsonl') options.jsonl = value();
    else if (arg === '--also') {
      const [label, script] = value().split('=', 2);
      if (label === undefined || script === undefined || label === '')
        throw new Error('--also needs LABEL=SCRIPT');
      options.also.push({ label, command: process.execPath, args: [script, '0'] });
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.filter = arg;
  }
  return options;
}

// ---------------------------------------------------------------- tools

function runs(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 });
  return result.error === undefined && result.status === 0;
}

interface Tools {
  wrk: boolean;
  taskset: boolean;
  python: string | undefined;
}

function findTools(): Tools {
  // `wrk -v` prints its version and exits with status 1: only its absence fails to spawn.
  const wrk = spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;
  const taskset = runs('taskset', ['-c', '0', 'true']);
  const candidates = [process.env.TWISTED_PYTHON, '/usr/bin/python3', 'python3'];
  const python = candidates.find(
    (python) => python !== undefined && python !== '' && runs(python, ['-c', 'import twisted.web']),
  );
  return { wrk, taskset, python };
}

// ---------------------------------------------------------------- servers

interface ServerSpec {
  label: string;
  command: string;
  args: string[];
}

/** The three servers of one case; `undefined` where a server cannot run here. */
type Lineup = (ServerSpec | undefined)[];

const nodeScript = (label: string, script: string, ...args: string[]): ServerSpec => ({
  label,
  command: process.execPath,
  args: [join(here, script), '0', ...args],
});

function helloServers(tools: Tools, also: ServerSpec[]): Lineup {
  return [
    nodeScript('Torsion', 'http-hello-torsion.js'),
    ...also,
    nodeScript('node:http', 'http-hello-node.js'),
    tools.python === undefined
      ? undefined
      : {
          label: 'twisted.web',
          command: tools.python,
          args: [join(sources, 'http-twisted.py'), 'hello', '0'],
        },
  ];
}

function staticServers(tools: Tools, dir: string): Lineup {
  return [
    nodeScript('Torsion File', 'http-static-torsion.js', dir),
    nodeScript('node:http + createReadStream', 'http-static-node.js', dir),
    tools.python === undefined
      ? undefined
      : {
          label: 'twisted.web File',
          command: tools.python,
          args: [join(sources, 'http-twisted.py'), 'static', '0', dir],
        },
  ];
}

/** Every child still running, killed by its PID however this process ends. */
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

class Unavailable extends Error {}

interface RunningServer {
  child: ChildProcess;
  pid: number;
  port: number;
}

/** Starts a server in its own session (its PID is its session id), pinned to CPU 0. */
async function startServer(spec: ServerSpec, tools: Tools): Promise<RunningServer> {
  const [command, args] = tools.taskset
    ? ['taskset', ['-c', SERVER_CPU, spec.command, ...spec.args]]
    : [spec.command, spec.args];
  const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.label}: no port within 15 s`)), 15_000);
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const match = /listening on .*:(\d+)/.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (status) => {
      clearTimeout(timer);
      if (status === 3 && stdout.startsWith('unavailable')) reject(new Unavailable(stdout.trim()));
      else
        reject(new Error(`${spec.label} exited (status ${status}) before listening:\n${stderr}`));
    });
  });
  return { child, pid: child.pid as number, port };
}

/** SIGTERM to the server's PID, SIGKILL 5 s later if it is still there. */
async function stopServer(server: RunningServer): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------- /proc

/** A process's user + system CPU time, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

const openFiles = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/**
 * CPU used during a window by processes outside the benchmark (not in the
 * given sessions, not this process), as % of one core, and the machine's
 * busy and steal % (of one core; 200 = both cores). Processes that start and
 * end inside the window are missed: a lower bound.
 */
class Noise {
  readonly #t0 = performance.now();
  readonly #p0 = processTicks();
  readonly #m0 = machineTicks();
  readonly #sessions: Set<number>;

  constructor(sessions: number[]) {
    this.#sessions = new Set([...sessions, process.pid]);
  }

  stop(): { foreign_cpu_pct: number; machine_busy_pct: number; steal_pct: number } {
    const elapsed = (performance.now() - this.#t0) / 1000;
    const p1 = processTicks();
    const m1 = machineTicks();
    let foreign = 0;
    for (const [pid, { sid, ticks }] of p1) {
      if (this.#sessions.has(sid) || pid === process.pid) continue;
      foreign += ticks - (this.#p0.get(pid)?.ticks ?? 0);
    }
    const total = m1.total - this.#m0.total || 1;
    const cores = cpus().length;
    return {
      foreign_cpu_pct: round1((100 * foreign) / CLK_TCK / elapsed),
      machine_busy_pct: round1(100 * (1 - (m1.idle - this.#m0.idle) / total) * cores),
      steal_pct: round1(((100 * (m1.steal - this.#m0.steal)) / total) * cores),
    };
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** TCP sockets in TIME_WAIT on `port`: about one per connection closed. */
function timeWaitCount(port: number): number | undefined {
  const result = spawnSync(
    'ss',
    ['-Htan', 'state', 'time-wait', `( sport = :${port} or dport = :${port} )`],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 20_000 },
  );
  if (result.error !== undefined || result.status !== 0) return undefined;
  return result.stdout.split('\n').filter((line) => line !== '').length;
}

// ---------------------------------------------------------------- wrk

interface WrkResult {
  req_per_s: number;
  requests: number;
  transfer_mb_per_s: number;
  lat_p50_us: number;
  lat_p99_us: number;
  socket_errors: number;
  non2xx: number;
  client_cpu_pct: number;
}

function latencyMicros(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (match === null) return Number.NaN;
  const scale = { us: 1, ms: 1000, s: 1e6 }[match[2] as 'us' | 'ms' | 's'];
  return Math.round(Number(match[1]) * scale);
}

function transferMB(text: string | undefined): number {
  const match = /^([\d.]+)([KMG]?)B$/.exec(text ?? '');
  if (match === null) return Number.NaN;
  const scale = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2] as '' | 'K' | 'M' | 'G'];
  return +((Number(match[1]) * scale) / 1e6).toFixed(1);
}

/**
 * One wrk run pinned to CPU 1, in its own session. A shell runs it and then
 * prints its own /proc stat, whose children's CPU times are wrk's.
 */
async function wrk(
  url: string,
  conns: number,
  seconds: number,
  extraHeaders: string[],
  tools: Tools,
): Promise<{ result: WrkResult }> {
  const args = ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency'];
  for (const header of extraHeaders) args.push('-H', header);
  args.push(url);
  const pin = tools.taskset ? `taskset -c ${CLIENT_CPU} ` : '';
  const script = `${pin}wrk "$@"; status=$?; echo; cat /proc/$$/stat; exit $status`;
  const start = performance.now();
  const child = track(
    spawn('bash', ['-c', script, 'bash', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const status = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const wall = (performance.now() - start) / 1000;
  if (status !== 0) throw new Error(`wrk ${args.join(' ')} failed (status ${status}):\n${stderr}`);
  const statLine = stdout.trim().split('\n').at(-1) ?? '';
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  const childCpu = (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
  const find = (pattern: RegExp): string | undefined => pattern.exec(stdout)?.[1];
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    stdout,
  );
  return {
    result: {
      req_per_s: Number(find(/Requests\/sec:\s+([\d.]+)/)),
      requests: Number(find(/(\d+) requests in/)),
      transfer_mb_per_s: transferMB(find(/Transfer\/sec:\s+(\S+)/)),
      lat_p50_us: latencyMicros(find(/^\s+50%\s+(\S+)/m)),
      lat_p99_us: latencyMicros(find(/^\s+99%\s+(\S+)/m)),
      socket_errors: errors === null ? 0 : errors.slice(1).reduce((a, b) => a + Number(b), 0),
      non2xx: Number(find(/Non-2xx or 3xx responses: (\d+)/) ?? 0),
      client_cpu_pct: round1((100 * childCpu) / wall),
    },
  };
}

// ---------------------------------------------------------------- a small HTTP client

/**
 * Reads one response from `socket` (a Content-Length body) and resolves with
 * its head; fails on a close or an error first.
 */
function readResponse(socket: Socket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (error: Error | undefined, head?: string): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (error !== undefined) reject(error);
      else resolve(head as string);
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
      if (Number.isNaN(length)) done(new Error(`no Content-Length in:\n${head}`));
      else if (buffered.length >= end + 4 + length) done(undefined, head);
    };
    const onClose = (): void => done(new Error('the server closed the connection'));
    const onError = (error: Error): void => done(error);
    const timer = setTimeout(() => done(new Error('no response within 10 s')), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
  });
}

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

const requestFor = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: torsion-bench\r\n\r\n`;

/** Two GETs on one connection: the server answers 200 and keeps the connection. */
async function checkServer(port: number, path: string): Promise<string> {
  const socket = await connected(port);
  try {
    let head = '';
    for (let i = 0; i < 2; i++) {
      socket.write(requestFor(path));
      head = await readResponse(socket);
      if (!head.startsWith('HTTP/1.1 200 ')) throw new Error(`not a 200:\n${head}`);
    }
    return head;
  } finally {
    socket.destroy();
  }
}

// ---------------------------------------------------------------- the cases

interface Case {
  name: string;
  title: string;
  kind: 'wrk' | 'idle';
  conns: number;
  headers: string[];
  path: string;
  servers: Lineup;
  /** The unit of the main figure. */
  unit: string;
}

type Row = Record<string, number | string | boolean>;

/** One measured wrk run against a fresh server. */
async function wrkRun(spec: ServerSpec, bench: Case, options: Options, tools: Tools): Promise<Row> {
  const server = await startServer(spec, tools);
  try {
    await checkServer(server.port, bench.path);
    await sleep(300);
    const url = `http://${HOST}:${server.port}${bench.path}`;
    await wrk(url, bench.conns, options.warmup, bench.headers, tools);
    const timeWait0 = timeWaitCount(server.port);
    const noise = new Noise([server.pid]);
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const { result } = await wrk(url, bench.conns, options.duration, bench.headers, tools);
    const wall = (performance.now() - t0) / 1000;
    const serverCpu = cpuSeconds(server.pid) - cpu0;
    const machine = noise.stop();
    const timeWait1 = timeWaitCount(server.port);
    const serverPct = round1((100 * serverCpu) / wall);
    const row: Row = {
      ...result,
      server_cpu_pct: serverPct,
      server_cpu_us_per_req: +((serverCpu * 1e6) / result.requests).toFixed(2),
      server_rss_mb: round1(rssBytes(server.pid) / 2 ** 20),
      ...machine,
      // Everything else the machine did meanwhile, short-lived processes included.
      other_cpu_pct: round1(
        Math.max(0, machine.machine_busy_pct - serverPct - result.client_cpu_pct),
      ),
    };
    if (timeWait0 !== undefined && timeWait1 !== undefined && result.requests > 0) {
      row.closed_conns_per_req = +(Math.max(0, timeWait1 - timeWait0) / result.requests).toFixed(3);
    }
    if (result.socket_errors > 0 || result.non2xx > 0) {
      throw new Error(
        `${spec.label}: ${result.socket_errors} socket errors, ${result.non2xx} non-2xx responses`,
      );
    }
    return row;
  } finally {
    await stopServer(server);
  }
}

/**
 * Memory per idle keep-alive connection: after a warm-up, `conns`
 * connections each make one request and stay open; the server's resident
 * size grows by so much per connection.
 */
async function idleRun(spec: ServerSpec, bench: Case, tools: Tools): Promise<Row> {
  const server = await startServer(spec, tools);
  const sockets: Socket[] = [];
  try {
    await checkServer(server.port, bench.path);
    // Warm-up: 10 connections × 200 requests, then closed, so that the
    // request path is compiled and its first-use allocations are made.
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const socket = await connected(server.port);
        for (let i = 0; i < 200; i++) {
          socket.write(requestFor(bench.path));
          await readResponse(socket);
        }
        socket.destroy();
      }),
    );
    await sleep(1000);
    const fds0 = openFiles(server.pid);
    const rss0 = rssBytes(server.pid);
    const t0 = performance.now();
    let next = 0;
    // At most 200 connections in their handshake and first request at a time.
    await Promise.all(
      Array.from({ length: Math.min(200, bench.conns) }, async () => {
        while (next < bench.conns) {
          next++;
          const socket = await connected(server.port);
          sockets.push(socket);
          socket.write(requestFor(bench.path));
          await readResponse(socket);
        }
      }),
    );
    const connectSeconds = (performance.now() - t0) / 1000;
    for (let waited = 0; openFiles(server.pid) < fds0 + bench.conns && waited < 20_000; ) {
      await sleep(50);
      waited += 50;
    }
    await sleep(1000);
    const rss1 = rssBytes(server.pid);
    const alive = sockets.filter((socket) => !socket.destroyed && socket.readyState === 'open');
    if (alive.length !== bench.conns) {
      throw new Error(`${spec.label}: ${bench.conns - alive.length} connections were closed`);
    }
    return {
      bytes_per_conn: Math.round((rss1 - rss0) / bench.conns),
      rss_base_mb: round1(rss0 / 2 ** 20),
      rss_idle_mb: round1(rss1 / 2 ** 20),
      connect_s: +connectSeconds.toFixed(2),
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await stopServer(server);
  }
}

// ---------------------------------------------------------------- summaries

function spread(values: number[]): string {
  if (values.length === 0) return '–';
  const sorted = [...values].sort((a, b) => a - b);
  return `${format(median(values))} [${format(sorted[0] as number)}–${format(sorted.at(-1) as number)}]`;
}

const field = (rows: Row[], name: string): number[] =>
  rows.map((row) => row[name]).filter((v): v is number => typeof v === 'number');

function printCase(bench: Case, results: Map<string, Row[]>, notes: string[]): void {
  console.log(`\n### ${bench.name}: ${bench.title}\n`);
  const labels = [...results.keys()];
  if (bench.kind === 'wrk') {
    console.log(
      '| server | requests/s | server CPU µs/request | p50 / p99 latency µs | server CPU % | wrk CPU % | closed conns/request | other CPU % / steal % | runs |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const label of labels) {
      const rows = results.get(label) as Row[];
      const mb = field(rows, 'transfer_mb_per_s');
      const reqs = `${spread(field(rows, 'req_per_s'))}${bench.path === '/' ? '' : ` (${format(median(mb))} MB/s)`}`;
      console.log(
        `| ${label} | ${reqs} | ${spread(field(rows, 'server_cpu_us_per_req'))} | ${format(median(field(rows, 'lat_p50_us')))} / ${format(median(field(rows, 'lat_p99_us')))} | ${format(median(field(rows, 'server_cpu_pct')))} | ${format(median(field(rows, 'client_cpu_pct')))} | ${format(median(field(rows, 'closed_conns_per_req')))} | ${format(median(field(rows, 'other_cpu_pct')))} / ${format(median(field(rows, 'steal_pct')))} | ${rows.length} |`,
      );
    }
  } else {
    console.log('| server | bytes per idle connection | base RSS MB | connect s | runs |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const label of labels) {
      const rows = results.get(label) as Row[];
      console.log(
        `| ${label} | ${spread(field(rows, 'bytes_per_conn'))} | ${format(median(field(rows, 'rss_base_mb')))} | ${format(median(field(rows, 'connect_s')))} | ${rows.length} |`,
      );
    }
  }
  const [ours, ...others] = labels;
  const metric = bench.kind === 'wrk' ? 'req_per_s' : 'bytes_per_conn';
  if (ours !== undefined && results.has(ours)) {
    const ratios: string[] = [];
    for (const other of others) {
      const a = median(field(results.get(ours) as Row[], metric));
      const b = median(field(results.get(other) as Row[], metric));
      if (bench.kind === 'wrk') {
        const cpuA = median(field(results.get(ours) as Row[], 'server_cpu_us_per_req'));
        const cpuB = median(field(results.get(other) as Row[], 'server_cpu_us_per_req'));
        ratios.push(
          `${ours} ÷ ${other}: ${(a / b).toFixed(2)}× requests/s, ${(cpuA / cpuB).toFixed(2)}× CPU per request`,
        );
      } else {
        ratios.push(`${ours} ÷ ${other}: ${(a / b).toFixed(2)}× memory per connection`);
      }
    }
    if (ratios.length > 0) console.log(`\n${ratios.join('; ')}.`);
  }
  for (const note of notes) console.log(`\n${note}`);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tools = findTools();
  const staticDir = mkdtempSync(join(tmpdir(), 'torsion-bench-static-'));
  try {
    // 1 MiB of incompressible bytes (no server here compresses, but no matter).
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    writeFileSync(join(staticDir, '1MiB.bin'), data);

    const hello = helloServers(tools, options.also);
    const cases: Case[] = [
      ...[10, 100].map(
        (conns): Case => ({
          name: `http-hello-c${conns}`,
          title: `hello world, keep-alive, wrk -t1 -c${conns}`,
          kind: 'wrk',
          conns,
          headers: [],
          path: '/',
          servers: hello,
          unit: 'requests/s',
        }),
      ),
      {
        name: 'http-hello-close-c10',
        title: 'hello world, `Connection: close` on every request, wrk -t1 -c10',
        kind: 'wrk',
        conns: 10,
        headers: ['Connection: close'],
        path: '/',
        servers: hello,
        unit: 'requests/s',
      },
      {
        name: `http-idle-${options.idleConns}`,
        title: `server memory per idle keep-alive connection, ${options.idleConns} connections after one request each`,
        kind: 'idle',
        conns: options.idleConns,
        headers: [],
        path: '/',
        servers: hello,
        unit: 'bytes',
      },
      {
        name: 'http-static-1MiB-c10',
        title: 'a 1 MiB file, keep-alive, wrk -t1 -c10',
        kind: 'wrk',
        conns: 10,
        headers: [],
        path: '/1MiB.bin',
        servers: staticServers(tools, staticDir),
        unit: 'requests/s',
      },
    ];
    const selected = cases.filter(
      (bench) => options.filter === undefined || bench.name.includes(options.filter),
    );
    if (selected.length === 0) return;

    console.log(
      `\n## HTTP servers: ${options.reps} rotated repetitions, fresh server per run, medians [min–max]\n`,
    );
    const missing: string[] = [];
    if (!tools.wrk) missing.push('wrk is not installed: the throughput cases are skipped');
    if (tools.python === undefined)
      missing.push(
        'Twisted is not importable (set TWISTED_PYTHON to a python3 that has it): its column is skipped',
      );
    if (!tools.taskset) missing.push('taskset is missing: servers and wrk run unpinned');
    for (const line of missing) console.log(`- MISSING: ${line}`);
    console.log(
      `- ${tools.taskset ? `servers on CPU ${SERVER_CPU}, wrk on CPU ${CLIENT_CPU}` : 'unpinned'}; ` +
        `wrk: ${options.warmup} s warm-up run, then ${options.duration} s measured; ` +
        `load average at start ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}; ${new Date().toISOString()}`,
    );

    for (const bench of selected) {
      const notes: string[] = [];
      if (bench.kind === 'wrk' && !tools.wrk) {
        console.log(`\n### ${bench.name}: skipped (wrk is not installed)`);
        continue;
      }
      const specs = bench.servers.filter((spec): spec is ServerSpec => spec !== undefined);
      const results = new Map<string, Row[]>(specs.map((spec) => [spec.label, []]));
      const skipped = new Set<string>();
      let noisyRuns = 0;
      for (let rep = 0; rep < options.reps; rep++) {
        const order = specs.map((_, i) => specs[(i + rep) % specs.length] as ServerSpec);
        for (const spec of order) {
          if (skipped.has(spec.label)) continue;
          let row: Row | undefined;
          for (let attempt = 0; attempt <= options.redoNoisy; attempt++) {
            try {
              row =
                bench.kind === 'wrk'
                  ? await wrkRun(spec, bench, options, tools)
                  : await idleRun(spec, bench, tools);
            } catch (error) {
              if (!(error instanceof Unavailable)) throw error;
              skipped.add(spec.label);
              notes.push(`${spec.label}: not measured (${error.message}).`);
              break;
            }
            const other = row.other_cpu_pct;
            row.noisy = typeof other === 'number' && other > options.maxOther;
            if (!row.noisy) break;
          }
          if (row === undefined) continue;
          if (row.noisy === true) noisyRuns++;
          (results.get(spec.label) as Row[]).push(row);
          if (options.jsonl !== undefined) {
            appendFileSync(
              options.jsonl,
              `${JSON.stringify({ case: bench.name, server: spec.label, rep, time: new Date().toISOString(), loadavg: loadavg()[0], ...row })}\n`,
            );
          }
        }
      }
      for (const label of skipped) results.delete(label);
      if (noisyRuns > 0) {
        notes.push(
          `${noisyRuns} run(s) had more than ${options.maxOther}% of a core busy with other work (kept; --redo-noisy N retries them).`,
        );
      }
      for (const spec of bench.servers) if (spec === undefined) notes.push('twisted.web: not run.');
      printCase(bench, results, notes);
    }
    console.log(
      `\nload average at end ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    rmSync(staticDir, { recursive: true, force: true });
  }
}

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
