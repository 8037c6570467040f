// The HTTP client benchmarks: Torsion's Agent (with an HTTPConnectionPool
// sized for the concurrency) against node:http's http.request with a
// keep-alive http.Agent and against fetch (undici, built into Node), all
// talking keep-alive to the same node:http server (bench/http-client-server.ts).
//
//   node dist/bench/http-client.js [FILTER] [--reps N] [--duration S] [--warmup S]
//                                  [--bytes N] [--redo-noisy N] [--max-other PCT]
//                                  [--jsonl FILE] [--also LABEL=SCRIPT]...
//
// Cases: `http-client-seq` (one request in flight), `http-client-c50` (50 in
// flight), `http-client-download-1GiB` (one 1 GiB body streamed to a sink
// that discards it). Only the cases whose name contains FILTER run (all
// without one). Each run starts a fresh server process pinned to CPU 0
// (taskset) and then the client, in a process of its own
// (bench/http-client-load.ts) pinned to CPU 1, so that the client's CPU is
// what is measured; the server is stopped by its PID afterwards. Each
// repetition runs every client back to back and the order rotates between
// repetitions. Printed: medians [min–max] and the half-spread of the rate,
// the client's and the server's CPU time per request (or per GiB), the
// connections the server accepted (keep-alive holds when it is about the
// concurrency), and the CPU other processes used meanwhile.
// `npm run bench -- http-client` runs this (bench/run.ts).
//
// `--also LABEL=SCRIPT` adds one more Torsion client: SCRIPT is the
// dist/bench/http-client-load.js of a build with a patch to compare.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { get } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLK_TCK, machineTicks, processTicks } from './_machine.js';
import { format, median } from './_stats.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const HOST = '127.0.0.1';
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

// ---------------------------------------------------------------- options

/** A client program: the variant it runs in bench/http-client-load.ts, and which script. */
interface ClientSpec {
  label: string;
  variant: 'torsion' | 'node' | 'fetch';
  script: string;
}

interface Options {
  filter: string | undefined;
  reps: number;
  duration: number;
  warmup: number;
  bytes: number;
  redoNoisy: number;
  maxOther: number;
  jsonl: string | undefined;
  also: ClientSpec[];
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    filter: undefined,
    reps: 5,
    duration: 3,
    warmup: 1,
    bytes: 2 ** 30,
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
    const positive = (name: string, text: string): number => {
      const n = Number(text);
      if (!(n > 0)) throw new Error(`${name} needs a positive number, not ${text}`);
      return n;
    };
    if (arg === '--reps') options.reps = Math.round(positive(arg, value()));
    else if (arg === '--duration') options.duration = positive(arg, value());
    else if (arg === '--warmup') options.warmup = positive(arg, value());
    else if (arg === '--bytes') options.bytes = Math.round(positive(arg, value()));
    else if (arg === '--redo-noisy') options.redoNoisy = Number(value());
    else if (arg === '--max-other') options.maxOther = Number(value());
    else if (arg === '--jsonl') options.jsonl = value();
    else if (arg === '--also') {
      const [label, script] = value().split('=', 2);
      if (label === undefined || script === undefined || label === '')
        throw new Error('--also needs LABEL=SCRIPT');
      options.also.push({ label, variant: 'torsion', script });
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.filter = arg;
  }
  return options;
}

const hasTaskset = (): boolean => {
  const result = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
};

// ---------------------------------------------------------------- processes

/** Every child still running, killed by its PID however this process ends. */
const children = new Set<ChildProcess>();

/** Starts `node SCRIPT ARGS` in its own session (its PID is its session id), pinned to `cpu`. */
function startNode(script: string, args: string[], cpu: string, pin: boolean): ChildProcess {
  const command = [process.execPath, script, ...args];
  const [file, ...rest] = pin ? ['taskset', '-c', cpu, ...command] : command;
  const child = spawn(file as string, rest, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface RunningServer {
  child: ChildProcess;
  pid: number;
  port: number;
}

async function startServer(pin: boolean): Promise<RunningServer> {
  const child = startNode(join(here, 'http-client-server.js'), ['0'], SERVER_CPU, pin);
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server: no port within 15 s')), 15_000);
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
      reject(new Error(`the server exited (status ${status}) before listening:\n${stderr}`));
    });
  });
  return { child, pid: child.pid as number, port };
}

/** SIGTERM to the child's PID, SIGKILL 5 s later if it is still there. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Runs a client to its end; resolves with its JSON line, rejects on a failure. */
function runClient(spec: ClientSpec, args: string[], pin: boolean): Promise<Row> {
  const child = startNode(spec.script, [spec.variant, ...args], CLIENT_CPU, pin);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      const what = `${spec.label} (${args.join(' ')})`;
      if (status !== 0) {
        reject(new Error(`${what} failed (${signal ?? `status ${status}`}):\n${stderr}`));
        return;
      }
      const row = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Row;
      if (row.errors !== 0) reject(new Error(`${what}: errors in ${stdout}`));
      else resolve(row);
    });
  });
}

/** The number of connections the server has accepted so far, by asking it (on one more). */
function serverConnections(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: HOST, port, path: '/connections', agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(Number(text) - 1));
    }).on('error', reject);
  });
}

// ---------------------------------------------------------------- /proc

/**
 * CPU used during a window by processes outside the given sessions (and
 * this process), in % of one core, with the machine's busy and steal %
 * (200 = both cores). Processes that start and end inside the window are
 * missed: a lower bound.
 */
function noiseWindow(): (sessions: number[]) => Row {
  const t0 = performance.now();
  const p0 = processTicks();
  const m0 = machineTicks();
  return (sessions) => {
    const elapsed = (performance.now() - t0) / 1000;
    const p1 = processTicks();
    const m1 = machineTicks();
    const ours = new Set([...sessions, process.pid]);
    let foreign = 0;
    for (const [pid, { sid, ticks }] of p1) {
      if (ours.has(sid) || pid === process.pid) continue;
      foreign += ticks - (p0.get(pid)?.ticks ?? 0);
    }
    const total = m1.total - m0.total || 1;
    const cores = cpus().length;
    return {
      other_cpu_pct: round1((100 * foreign) / CLK_TCK / elapsed),
      machine_busy_pct: round1(100 * (1 - (m1.idle - m0.idle) / total) * cores),
      steal_pct: round1(((100 * (m1.steal - m0.steal)) / total) * cores),
    };
  };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

// ---------------------------------------------------------------- the cases

type Row = Record<string, number | string | boolean>;

interface Case {
  name: string;
  title: string;
  kind: 'hello' | 'download';
  concurrency: number;
}

/** One measured run: a fresh server, then one client to its end. */
async function measure(spec: ClientSpec, bench: Case, options: Options, pin: boolean) {
  const server = await startServer(pin);
  try {
    const args =
      bench.kind === 'hello'
        ? [
            'hello',
            String(server.port),
            String(bench.concurrency),
            String(options.duration),
            String(options.warmup),
            String(server.pid),
          ]
        : ['download', String(server.port), String(options.bytes), String(server.pid)];
    const noise = noiseWindow();
    const row = await runClient(spec, args, pin);
    Object.assign(row, noise([server.pid]));
    row.connections = await serverConnections(server.port);
    return row;
  } finally {
    await stop(server.child);
  }
}

// ---------------------------------------------------------------- summaries

/** `median [min–max] ±half-spread%`. */
function spread(values: number[]): string {
  if (values.length === 0) return '–';
  const sorted = [...values].sort((a, b) => a - b);
  const lo = sorted[0] as number;
  const hi = sorted.at(-1) as number;
  const m = median(values);
  return `${format(m)} [${format(lo)}–${format(hi)}] ±${Math.round((50 * (hi - lo)) / m)}%`;
}

const field = (rows: Row[], name: string): number[] =>
  rows.map((row) => row[name]).filter((v): v is number => typeof v === 'number');

function printCase(bench: Case, results: Map<string, Row[]>, noisyRuns: number, options: Options) {
  console.log(`\n### ${bench.name}: ${bench.title}\n`);
  const hello = bench.kind === 'hello';
  const [rate, cpu] = hello
    ? ['requests_per_s', 'client_cpu_us_per_req']
    : ['mb_per_s', 'client_cpu_s_per_gib'];
  console.log(
    hello
      ? '| client | requests/s | client CPU µs/request | client CPU % | server CPU µs/request | server CPU % | connections | other CPU % | runs |'
      : '| client | MB/s | client CPU s/GiB | client CPU % | server CPU s/GiB | server CPU % | connections | other CPU % | runs |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [label, rows] of results) {
    const m = (name: string): string => format(median(field(rows, name)));
    const server = hello ? 'server_cpu_us_per_req' : 'server_cpu_s_per_gib';
    console.log(
      `| ${label} | ${spread(field(rows, rate))} | ${spread(field(rows, cpu))} | ${m('client_cpu_pct')} | ${m(server)} | ${m('server_cpu_pct')} | ${m('connections')} | ${m('other_cpu_pct')} | ${rows.length} |`,
    );
  }
  // Each Torsion build ÷ each reference client, then each patched build ÷ the first.
  const labels = [...results.keys()];
  const references: string[] = labels.filter((label) => label === 'node:http' || label === 'fetch');
  const [first, ...patched] = labels.filter((label) => !references.includes(label));
  const ratios: string[] = [];
  const ratio = (ours: string, other: string): string => {
    const a = results.get(ours) as Row[];
    const b = results.get(other) as Row[];
    const r = median(field(a, rate)) / median(field(b, rate));
    const c = median(field(a, cpu)) / median(field(b, cpu));
    return `${ours} ÷ ${other}: ${r.toFixed(2)}× ${hello ? 'requests/s' : 'MB/s'}, ${c.toFixed(2)}× client CPU per ${hello ? 'request' : 'GiB'}`;
  };
  for (const ours of first === undefined ? [] : [first, ...patched]) {
    for (const other of references) ratios.push(ratio(ours, other));
  }
  if (first !== undefined) for (const ours of patched) ratios.push(ratio(ours, first));
  if (ratios.length > 0) console.log(`\n${ratios.map((line) => `- ${line}`).join('\n')}`);
  if (noisyRuns > 0) {
    console.log(
      `\n${noisyRuns} run(s) had more than ${options.maxOther}% of a core busy with other work (kept; --redo-noisy N retries them).`,
    );
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const gib = options.bytes / 2 ** 30;
  const cases: Case[] = [
    {
      name: 'http-client-seq',
      title: 'GET / hello world, keep-alive, 1 request in flight',
      kind: 'hello',
      concurrency: 1,
    },
    {
      name: 'http-client-c50',
      title: 'GET / hello world, keep-alive, 50 requests in flight',
      kind: 'hello',
      concurrency: 50,
    },
    {
      name: `http-client-download-${Number.isInteger(gib) ? `${gib}GiB` : `${options.bytes}B`}`,
      title: `one ${format(options.bytes)}-byte body, streamed to a sink that discards it`,
      kind: 'download',
      concurrency: 1,
    },
  ];
  const selected = cases.filter(
    (bench) => options.filter === undefined || bench.name.includes(options.filter),
  );
  if (selected.length === 0) return;
  const pin = hasTaskset();
  const load = join(here, 'http-client-load.js');
  const clients: ClientSpec[] = [
    { label: 'Torsion Agent', variant: 'torsion', script: load },
    ...options.also,
    { label: 'node:http', variant: 'node', script: load },
    { label: 'fetch', variant: 'fetch', script: load },
  ];
  console.log(
    `\n## HTTP client: ${options.reps} rotated repetitions, fresh server and client process per run, medians [min–max] ±half-spread\n`,
  );
  console.log(
    `- ${pin ? `server (node:http) on CPU ${SERVER_CPU}, client on CPU ${CLIENT_CPU}` : 'MISSING: taskset, everything runs unpinned'}; ` +
      `requests: ${options.warmup} s warm-up, then ${options.duration} s measured on the same connections; ` +
      `${cpus().length} CPUs; load average at start ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}; ${new Date().toISOString()}`,
  );
  for (const bench of selected) {
    const results = new Map<string, Row[]>(clients.map((spec) => [spec.label, []]));
    let noisyRuns = 0;
    for (let rep = 0; rep < options.reps; rep++) {
      const order = clients.map((_, i) => clients[(i + rep) % clients.length] as ClientSpec);
      for (const spec of order) {
        let row: Row | undefined;
        for (let attempt = 0; attempt <= options.redoNoisy; attempt++) {
          row = await measure(spec, bench, options, pin);
          row.noisy = (row.other_cpu_pct as number) > options.maxOther;
          if (!row.noisy) break;
        }
        if (row === undefined) continue;
        if (row.noisy === true) noisyRuns++;
        (results.get(spec.label) as Row[]).push(row);
        if (options.jsonl !== undefined) {
          appendFileSync(
            options.jsonl,
            `${JSON.stringify({ case: bench.name, client: spec.label, rep, time: new Date().toISOString(), loadavg: loadavg()[0], ...row })}\n`,
          );
        }
      }
    }
    printCase(bench, results, noisyRuns, options);
  }
  console.log(
    `\nload average at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
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
