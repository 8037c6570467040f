// The forward proxy's benchmark (issue 16): wrk sends absolute-form requests
// (`GET http://127.0.0.1:B/ HTTP/1.1`, as a browser configured with a proxy
// does) through each proxy to the same nginx "hello" backend, keep-alive on
// both sides, at -c 10 and -c 100:
// - raw Node: ../shared/bench/servers/node_proxy.js (http.request piping; it
//   passes the absolute-form target on, which nginx accepts);
// - Torsion's forward proxy: a bare Proxy (no filter), and the filtering
//   proxy with no rules, with the default rules, and with 1,000 rules none
//   of which matches (the cost of rule matching).
//
//   node dist/bench/proxy-forward.js [--reps N] [--duration S] [--conns 10,100]
//
// Pinned as the shared harness pins its proxy suite: the proxy on CPU 0, the
// backend and wrk on CPU 1. Each repetition runs every proxy back to back in
// a rotating order; the table gives medians with [min–max].

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connects, freePort, running } from './_children.js';
import { format, median } from './_stats.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const shared = process.env.TORSION_SHARED_BENCH ?? join(here, '..', '..', '..', 'shared', 'bench');
const HOST = '127.0.0.1';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}
const reps = Number(option('--reps', '3'));
const duration = Number(option('--duration', '5'));
const connsList = option('--conns', '10,100').split(',').map(Number);

/** Starts `argv` on `cpus` in its own process group and waits for `port`. */
async function start(
  argv: string[],
  cpus: string,
  port: number,
  label: string,
): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', cpus, ...argv], {
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  running.add(child);
  const deadline = Date.now() + 10_000;
  while (!(await connects(port))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`${label} did not listen`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  await exited;
  running.delete(child);
}

/** One request through the proxy: the backend's body must come back. */
function probe(proxyPort: number, backendPort: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: HOST, port: proxyPort, path: `http://${HOST}:${backendPort}/`, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (text: string) => {
          body += text;
        });
        response.on('end', () => resolve(`${response.statusCode} ${body.trim()}`));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function wrk(proxyPort: number, script: string, conns: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'taskset',
      [
        '-c',
        '1',
        'wrk',
        '-t1',
        `-c${conns}`,
        `-d${seconds}s`,
        '-s',
        script,
        `http://${HOST}:${proxyPort}/`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
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

/** 1,000 rules none of which matches 127.0.0.1: blocks of made-up domains, suffixes and wildcards. */
function thousandRules(): string {
  const lines = ['# 1,000 rules, none matching the benchmark backend'];
  for (let i = 0; i < 1000; i++) {
    const kind = i % 4;
    if (kind === 0) lines.push(`block ads${i}.example.com`);
    else if (kind === 1) lines.push(`block .tracker${i}.example.net`);
    else if (kind === 2) lines.push(`block *.pixel${i}.*`);
    else lines.push(`strip-cookies .cookies${i}.example.org`);
  }
  return `${lines.join('\n')}\n`;
}

interface Proxy {
  label: string;
  argv(port: number, backend: number): string[];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-proxy-bench-'));
  const script = join(dir, 'absolute.lua');
  const rulesFile = join(dir, 'thousand.rules');
  writeFileSync(rulesFile, thousandRules());
  const torsionProxy = join(here, 'proxy-torsion.js');
  const proxies: Proxy[] = [
    {
      label: 'raw Node (node_proxy.js)',
      argv: (port, backend) => [
        process.execPath,
        join(shared, 'servers', 'node_proxy.js'),
        String(port),
        String(backend),
      ],
    },
    {
      label: 'Torsion Proxy, no filter',
      argv: (port) => [process.execPath, torsionProxy, 'forward', String(port), '--rules', 'plain'],
    },
    {
      label: 'Torsion, no rules',
      argv: (port) => [process.execPath, torsionProxy, 'forward', String(port), '--rules', 'none'],
    },
    {
      label: 'Torsion, default rules',
      argv: (port) => [
        process.execPath,
        torsionProxy,
        'forward',
        String(port),
        '--rules',
        'default',
      ],
    },
    {
      label: 'Torsion, 1,000 rules',
      argv: (port) => [
        process.execPath,
        torsionProxy,
        'forward',
        String(port),
        '--rules',
        rulesFile,
      ],
    },
  ];
  const backendPort = await freePort();
  writeFileSync(
    script,
    `wrk.path = "http://${HOST}:${backendPort}/"\nwrk.headers["Host"] = "${HOST}:${backendPort}"\n`,
  );
  const backend = await start(
    [join(shared, 'servers', 'nginx_run.sh'), 'hello', String(backendPort)],
    '1',
    backendPort,
    'nginx backend',
  );
  const results = new Map<string, number[]>();
  try {
    for (let rep = 0; rep < reps; rep++) {
      const order = proxies.map((_, i) => proxies[(i + rep) % proxies.length] as Proxy);
      for (const proxy of order) {
        const port = await freePort();
        const child = await start(proxy.argv(port, backendPort), '0', port, proxy.label);
        try {
          const answer = await probe(port, backendPort);
          if (answer !== '200 Hello, World!') throw new Error(`${proxy.label}: ${answer}`);
          for (const conns of connsList) {
            await wrk(port, script, conns, 1);
            const rate = await wrk(port, script, conns, duration);
            const key = `${proxy.label}\t${conns}`;
            results.set(key, [...(results.get(key) ?? []), rate]);
            console.error(`rep ${rep + 1} ${proxy.label} c=${conns}: ${Math.round(rate)} req/s`);
          }
        } finally {
          await stop(child);
        }
      }
    }
  } finally {
    await stop(backend);
    rmSync(dir, { recursive: true, force: true });
  }
  const raw = (conns: number) => median(results.get(`${proxies[0]?.label}\t${conns}`) ?? []);
  console.log(
    `| proxy | ${connsList.map((c) => `c=${c}`).join(' | ')} | ${connsList.map((c) => `/raw c=${c}`).join(' | ')} |`,
  );
  console.log(
    `|---|${connsList.map(() => '---|').join('')}${connsList.map(() => '---|').join('')}`,
  );
  for (const proxy of proxies) {
    const cells = connsList.map((conns) => {
      const rates = results.get(`${proxy.label}\t${conns}`) ?? [];
      return `${format(median(rates))} [${format(Math.min(...rates))}–${format(Math.max(...rates))}]`;
    });
    const ratios = connsList.map((conns) => {
      const rates = results.get(`${proxy.label}\t${conns}`) ?? [];
      return (median(rates) / raw(conns)).toFixed(2);
    });
    console.log(`| ${proxy.label} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  console.log(
    JSON.stringify(
      Object.fromEntries([...results].map(([key, rates]) => [key.replace('\t', ' c='), rates])),
    ),
  );
}

await main();
