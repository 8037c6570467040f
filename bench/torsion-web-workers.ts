// The `torsion` command's benchmarks (issue 14):
// 1. `torsion web` serving a 1 KiB static file under `wrk -t1 -c100`, in one
//    process and with `--workers 2`, against node:http in one process and
//    under node:cluster with 2 workers (bench/http-static-node*.ts);
// 2. start-up of `torsion echo` to its "listening on" line: inside the
//    process (bench/torsion-startup-probe.ts: from the process's start), and
//    from the parent's spawn, against `node -e 0` for scale.
//
//   node dist/bench/torsion-web-workers.js [--reps N] [--duration S] [--startups N] [--startup-only]
//
// Each repetition runs the four servers back to back in a rotating order.
// Nothing is pinned: the workers need both cores, and wrk shares them, so
// the machine is oversubscribed (3 busy processes on 2 cores); the scaling
// factor says what a second core buys here, not what N cores would. Every
// server is started in its own process group and stopped through it.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connects, freePort, running } from './_children.js';
import { format, median } from './_stats.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const torsion = join(here, '..', '..', 'bin', 'torsion.js');
const HOST = '127.0.0.1';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const reps = option('--reps', 3);
const duration = option('--duration', 5);
const startups = option('--startups', 10);

function fetchSize(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: HOST, port, path, agent: false }, (response) => {
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      response.on('end', () => resolve(response.statusCode === 200 ? size : -1));
    }).on('error', reject);
  });
}

interface Server {
  label: string;
  command(port: number, dir: string): string[];
}

const servers: Server[] = [
  {
    label: 'torsion web',
    command: (port, dir) => [
      torsion,
      '--log-level',
      'warn',
      'web',
      '--listen',
      `tcp:${port}:interface=${HOST}`,
      '--path',
      dir,
    ],
  },
  {
    label: 'torsion web --workers 2',
    command: (port, dir) => [
      torsion,
      '--log-level',
      'warn',
      '--workers',
      '2',
      'web',
      '--listen',
      `tcp:${port}:interface=${HOST}`,
      '--path',
      dir,
    ],
  },
  {
    label: 'node:http',
    command: (port, dir) => [join(here, 'http-static-node.js'), String(port), dir, HOST],
  },
  {
    label: 'node:cluster 2 × node:http',
    command: (port, dir) => [
      join(here, 'http-static-node-cluster.js'),
      '2',
      String(port),
      dir,
      HOST,
    ],
  },
];

function wrk(url: string, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', '-c100', `-d${seconds}s`, url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    child.once('close', () => {
      const match = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (match === null || /Non-2xx|Socket errors/.test(out)) reject(new Error(`wrk: ${out}`));
      else resolve(Number(match[1]));
    });
  });
}

async function measure(server: Server, dir: string): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, server.command(port, dir), {
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  running.add(child);
  try {
    const deadline = Date.now() + 10_000;
    while (!(await connects(port))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`${server.label} did not listen`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if ((await fetchSize(port, '/file.bin')) !== 1024) throw new Error(`${server.label}: bad file`);
    await wrk(`http://${HOST}:${port}/file.bin`, 1);
    return await wrk(`http://${HOST}:${port}/file.bin`, duration);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await exited;
    running.delete(child);
  }
}

/** Seconds from spawning `args` until `pattern` appears on its output, then stopped. */
async function startupTime(args: string[], pattern: RegExp | null): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const check = (text: string): void => {
      out += text;
      if (pattern?.test(out)) resolve();
    };
    child.stdout?.setEncoding('utf8').on('data', check);
    child.stderr?.setEncoding('utf8').on('data', check);
    child.once('exit', () => (pattern === null ? resolve() : reject(new Error(out))));
  });
  const seconds = (performance.now() - start) / 1000;
  if (child.exitCode === null && child.pid !== undefined) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
  running.delete(child);
  return seconds;
}

async function main(): Promise<void> {
  if (process.argv.includes('--startup-only')) {
    console.log('--startup-only: the throughput part is skipped');
  } else if (spawnSync('wrk', ['--version']).error !== undefined) {
    console.log('wrk is not installed: the throughput part is skipped');
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-workers-bench-'));
    try {
      writeFileSync(join(dir, 'file.bin'), Buffer.alloc(1024, 'x'));
      const results = new Map<string, number[]>(servers.map((s) => [s.label, []]));
      for (let rep = 0; rep < reps; rep++) {
        const order = servers.map((_, i) => servers[(i + rep) % servers.length] as Server);
        for (const server of order) {
          const rps = await measure(server, dir);
          results.get(server.label)?.push(rps);
          console.log(`rep ${rep + 1} ${server.label}: ${Math.round(rps)} req/s`);
        }
      }
      const med = (label: string): number => median(results.get(label) ?? []);
      console.log(`\n1 KiB static file, wrk -t1 -c100 -d${duration}s, medians of ${reps}:`);
      for (const server of servers) {
        const values = results.get(server.label) ?? [];
        console.log(
          `  ${server.label.padEnd(28)} ${format(med(server.label))} req/s [${format(Math.min(...values))}–${format(Math.max(...values))}]`,
        );
      }
      console.log(
        `  scaling: torsion ${(med('torsion web --workers 2') / med('torsion web')).toFixed(2)}×, node ${(med('node:cluster 2 × node:http') / med('node:http')).toFixed(2)}×; torsion/node: 1 process ${(med('torsion web') / med('node:http')).toFixed(2)}, 2 workers ${(med('torsion web --workers 2') / med('node:cluster 2 × node:http')).toFixed(2)}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const echo: number[] = [];
  const bare: number[] = [];
  const inside: number[] = [];
  for (let i = 0; i < startups; i++) {
    const probe = spawnSync(process.execPath, [join(here, 'torsion-startup-probe.js')], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const match = /listening after ([\d.]+) ms/.exec(probe.stderr);
    if (match !== null) inside.push(Number(match[1]) / 1000);
    echo.push(
      await startupTime([torsion, 'echo', '--listen', `tcp:0:interface=${HOST}`], /listening on/),
    );
    bare.push(await startupTime(['-e', '0'], null));
  }
  console.log(
    `\nstart-up inside the process (from its start, Node's bootstrap included, to listening), median of ${inside.length}: ${(median(inside) * 1000).toFixed(0)} ms [${(Math.min(...inside) * 1000).toFixed(0)}–${(Math.max(...inside) * 1000).toFixed(0)}]`,
  );
  console.log(
    `start-up from the parent's spawn, medians of ${startups}: torsion echo to listening ${(median(echo) * 1000).toFixed(0)} ms [${(Math.min(...echo) * 1000).toFixed(0)}–${(Math.max(...echo) * 1000).toFixed(0)}]; node -e 0 ${(median(bare) * 1000).toFixed(0)} ms`,
  );
}

await main();
