// `npm run bench`: runs each benchmark and its raw-Node reference in fresh
// processes, alternating, several times, and prints medians and ratios.
// Usage: node dist/bench/run.js [name-filter] [--reps N]
// Benchmarks never run in `npm test`. The network ones start a server, then
// the load client against it; every child is stopped by its PID, even when a
// run fails or this process is interrupted. The HTTP server benchmarks
// (bench/http-hello.ts: Torsion, node:http and twisted.web under wrk) and
// then the HTTP client benchmarks (bench/http-client.ts: Torsion's Agent,
// http.request and fetch) run last, with the same filter and repetitions.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { format, median } from './_stats.js';

/**
 * One measured program: prints one JSON line with the field `metric`. With a
 * `server` (script and arguments), that server is started first and `{port}`
 * and `{pid}` in `args` name its port and process.
 */
interface Program {
  label: string;
  script: string;
  args: string[];
  server?: string[];
}

/** A benchmark: ours against the raw Node equivalent. */
interface Benchmark {
  name: string;
  /** The JSON field compared, and whether larger is better. */
  metric: string;
  higherIsBetter: boolean;
  unit: string;
  target: string;
  ours: Program;
  reference?: Program;
  /** Further JSON fields shown, as medians, below the table. */
  details?: string[];
}

const here = fileURLToPath(new URL('.', import.meta.url));

const lineBenchmarks: Benchmark[] = [16, 64, 256, 1024, 65536].flatMap((size) =>
  (['lineonly', 'line'] as const).flatMap((kind) => {
    const label = kind === 'line' ? 'LineReceiver' : 'LineOnlyReceiver';
    const ours: Program = { label, script: 'line-receiver.js', args: [kind, String(size)] };
    return [
      {
        name: `lines-${kind}-vs-readline-${size}`,
        metric: 'lines_per_s',
        higherIsBetter: true,
        unit: 'lines/s',
        target: '>= 2x node:readline',
        ours,
        reference: {
          label: 'readline',
          script: 'line-receiver.js',
          args: ['readline', String(size)],
        },
      },
      {
        name: `lines-${kind}-vs-splitter-${size}`,
        metric: 'lines_per_s',
        higherIsBetter: true,
        unit: 'lines/s',
        target: '>= 0.8x hand-written splitter',
        ours,
        reference: {
          label: 'indexOf splitter',
          script: 'line-receiver.js',
          args: ['splitter', String(size)],
        },
      },
    ];
  }),
);

const splitterOf = (chunkSize: number, stringSize: number, kind = 'splitter'): Program => ({
  label: kind === 'splitter' ? 'concat splitter' : 'concat netstring splitter',
  script: 'string-receiver.js',
  args: [kind, String(chunkSize), String(stringSize)],
});

const stringBenchmarks: Benchmark[] = [
  ...[1024, 65536].flatMap((size) =>
    (['int32', 'netstring'] as const).map(
      (kind): Benchmark => ({
        name: `strings-${kind}-vs-splitter-${size}`,
        metric: 'strings_per_s',
        higherIsBetter: true,
        unit: 'strings/s',
        target: '>= 0.7x hand-written splitter',
        ours: {
          label: kind === 'int32' ? 'Int32StringReceiver' : 'NetstringReceiver',
          script: 'string-receiver.js',
          args: [kind, String(size), '50'],
        },
        reference: splitterOf(size, 50, kind === 'int32' ? 'splitter' : 'netstring-splitter'),
      }),
    ),
  ),
  {
    name: 'strings-int32-1MiB-vs-splitter-16384',
    metric: 'mb_per_s',
    higherIsBetter: true,
    unit: 'MB/s',
    target: '>= 2x hand-written splitter (no quadratic copies)',
    ours: {
      label: 'Int32StringReceiver',
      script: 'string-receiver.js',
      args: ['int32', '16384', String(1 << 20)],
    },
    reference: splitterOf(16384, 1 << 20),
  },
];

// TCP echo: the same raw node:net client (bench/echo-load.ts) against
// Torsion's server and raw Node's, one message in flight per connection.
const echoBenchmarks: Benchmark[] = [1, 50].flatMap((conns) =>
  [64, 16384].map((size): Benchmark => {
    const client = (label: string, server: string): Program => ({
      label,
      script: 'echo-load.js',
      args: ['echo', '{port}', String(conns), String(size), '3', '1', '{pid}'],
      server: [server, '0'],
    });
    return {
      name: `echo-${conns}x${size}`,
      metric: 'messages_per_s',
      higherIsBetter: true,
      unit: 'msg/s',
      target: '>= 0.9x raw node:net',
      ours: client('Torsion echo', 'echo.js'),
      reference: client('node:net echo', 'echo-node.js'),
      details: ['server_cpu_us_per_msg', 'mb_per_s', 'p50_us', 'p99_us'],
    };
  }),
);

const idleConnections = 10_000;
const idleClient = (label: string, server: string): Program => ({
  label,
  script: 'echo-load.js',
  args: ['idle', '{port}', String(idleConnections), '{pid}'],
  server: [server, '0'],
});
const idleBenchmark: Benchmark = {
  name: `echo-idle-${idleConnections}`,
  metric: 'bytes_per_conn_idle',
  higherIsBetter: false,
  unit: 'B/conn',
  target: 'memory <= 1.2x raw node:net (ratio >= 0.83)',
  ours: idleClient('Torsion echo', 'echo.js'),
  reference: idleClient('node:net echo', 'echo-node.js'),
  details: ['bytes_per_conn_after_ping', 'connect_s'],
};

const benchmarks: Benchmark[] = [
  {
    name: 'deferred-chain',
    metric: 'ops_per_s',
    higherIsBetter: true,
    unit: 'ops/s',
    target: 'Deferred >= 2x native Promise (stretch 3x)',
    ours: { label: 'Deferred', script: 'deferred.js', args: ['1000000', 'deferred'] },
    reference: { label: 'Promise', script: 'deferred.js', args: ['1000000', 'promise'] },
  },
  {
    name: 'timers',
    metric: 'total_s',
    higherIsBetter: false,
    unit: 's',
    target: 'time <= 1.2x raw Node (ratio >= 0.83)',
    ours: { label: 'NodeReactor.callLater', script: 'timers.js', args: ['1000000', 'torsion'] },
    reference: { label: 'setTimeout', script: 'timers.js', args: ['1000000', 'node'] },
  },
  {
    name: 'deferred-deep-chain',
    metric: 'seconds',
    higherIsBetter: false,
    unit: 's',
    target: '100,000 nested Deferreds fire without a stack overflow',
    ours: { label: 'Deferred', script: 'deferred.js', args: ['100000', 'deep'] },
  },
  ...lineBenchmarks,
  ...stringBenchmarks,
  ...[
    ['http-parser-js', 'the http-parser-js package', '>= 1x http-parser-js'],
    ['llhttp', "llhttp (node:http's parser)", 'none: for scale'],
  ].map(
    ([other, label, target]): Benchmark => ({
      name: `http-parser-vs-${other}`,
      metric: 'requests_per_s',
      higherIsBetter: true,
      unit: 'requests/s',
      target: target as string,
      ours: { label: 'HttpParser', script: 'http-parser.js', args: ['torsion', '1000000'] },
      reference: {
        label: label as string,
        script: 'http-parser.js',
        args: [other as string, '1000000'],
      },
    }),
  ),
  {
    name: 'http-channel',
    metric: 'requests_per_s',
    higherIsBetter: true,
    unit: 'requests/s',
    target: 'none: the before/after measure of the request path (no socket)',
    ours: { label: 'HTTPChannel', script: 'http-channel.js', args: ['1000000'] },
    details: ['ns_per_request', 'cpu_s'],
  },
  {
    name: 'http-client-agent',
    metric: 'requests_per_s',
    higherIsBetter: true,
    unit: 'requests/s',
    target: "none: the before/after measure of the client's request path (no socket)",
    ours: { label: 'Agent', script: 'http-client-agent.js', args: ['300000', '50'] },
    details: ['ns_per_request', 'cpu_s'],
  },
  ...echoBenchmarks,
  idleBenchmark,
];

/** Children still running, stopped on the way out whatever happens. */
const children = new Set<ChildProcess>();

function start(script: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [`${here}${script}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves with the child's stdout and stderr once it exits with status 0. */
function finished(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      if (status === 0) resolve(stdout);
      else reject(new Error(`${what} failed (${signal ?? `status ${status}`}):\n${stderr}`));
    });
  });
}

/** The port a server prints as `... listening on HOST:PORT`. */
function listeningPort(server: ChildProcess, what: string): Promise<number> {
  let stdout = '';
  let stderr = '';
  server.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no port within 10 s`)), 10_000);
    server.stdout?.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const match = /listening on .*:(\d+)/.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    server.once('exit', (status) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (status ${status}) before listening:\n${stderr}`));
    });
  });
}

/** SIGTERM, then SIGKILL if the child has not exited 5 s later. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function runOnce(program: Program): Promise<Record<string, number>> {
  const what = `${program.script} ${program.args.join(' ')}`;
  let server: ChildProcess | undefined;
  try {
    let args = program.args;
    if (program.server !== undefined) {
      const [script = '', ...serverArgs] = program.server;
      server = start(script, serverArgs);
      const port = await listeningPort(server, `${script} ${serverArgs.join(' ')}`);
      args = args.map((arg) =>
        arg.replace('{port}', String(port)).replace('{pid}', String(server?.pid)),
      );
    }
    const stdout = await finished(start(program.script, args), what, 120_000);
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, number>;
    if ((result.errors ?? 0) > 0) throw new Error(`${what}: ${result.errors} errors`);
    return result;
  } finally {
    if (server !== undefined) await stop(server);
  }
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${format(median(values))} [${format(sorted[0] as number)}–${format(sorted.at(-1) as number)}]`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const repsAt = args.indexOf('--reps');
  const reps = repsAt === -1 ? 5 : Number(args[repsAt + 1]);
  const filter = args.find((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--reps');
  const selected = benchmarks.filter((b) => filter === undefined || b.name.includes(filter));
  if (selected.length > 0) await runTable(selected, reps);
  // The HTTP server benchmarks (three servers, wrk) and the HTTP client
  // benchmarks (three clients, one node:http server) print their own tables
  // and select their own cases by the same filter (bench/http-hello.ts,
  // bench/http-client.ts).
  for (const script of ['http-hello.js', 'http-client.js']) {
    const http = [`${here}${script}`, ...(filter === undefined ? [] : [filter])];
    const child = spawn(process.execPath, [...http, '--reps', String(reps)], { stdio: 'inherit' });
    children.add(child);
    const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
    children.delete(child);
    if (status !== 0) throw new Error(`${script} failed (status ${status})`);
  }
}

async function runTable(selected: Benchmark[], reps: number): Promise<void> {
  console.log(`Torsion benchmarks: ${reps} runs each, fresh process per run, medians [min–max]`);
  console.log('ratio = how many times faster than raw Node (above 1 is faster)\n');
  console.log('| benchmark | ours | raw Node | ratio | target |');
  console.log('| --- | --- | --- | --- | --- |');
  const details: string[] = [];
  for (const bench of selected) {
    const oursRuns: Record<string, number>[] = [];
    const referenceRuns: Record<string, number>[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // Alternate the order so that drift affects both sides alike.
      const order = rep % 2 === 0 ? [true, false] : [false, true];
      for (const isOurs of order) {
        if (isOurs) oursRuns.push(await runOnce(bench.ours));
        else if (bench.reference !== undefined) referenceRuns.push(await runOnce(bench.reference));
      }
    }
    const field = (runs: Record<string, number>[], name: string): number[] =>
      runs.map((run) => run[name] as number);
    const ours = field(oursRuns, bench.metric);
    const reference = field(referenceRuns, bench.metric);
    for (const name of bench.details ?? []) {
      const oursField = field(oursRuns, name);
      const refField = field(referenceRuns, name);
      const refText = refField.length > 0 ? summary(refField) : '–';
      const quotient = refField.length > 0 ? (median(oursField) / median(refField)).toFixed(2) : '';
      details.push(
        `| ${bench.name} | ${name} | ${summary(oursField)} | ${refText} | ${quotient} |`,
      );
    }
    let ratio = '';
    if (reference.length > 0) {
      const r = bench.higherIsBetter
        ? median(ours) / median(reference)
        : median(reference) / median(ours);
      ratio = `${r.toFixed(2)}x`;
    }
    const refText =
      reference.length > 0 ? `${bench.reference?.label}: ${summary(reference)} ${bench.unit}` : '–';
    console.log(
      `| ${bench.name} | ${bench.ours.label}: ${summary(ours)} ${bench.unit} | ${refText} | ${ratio} | ${bench.target} |`,
    );
  }
  if (details.length > 0) {
    console.log('\n| benchmark | field | ours | raw Node | ours ÷ raw Node |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const line of details) console.log(line);
  }
}

// Stop every child by its PID however this process ends.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
