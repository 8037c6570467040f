// One HTTP client benchmark run, in a process of its own (bench/http-client.ts
// starts it against bench/http-client-server.ts): Torsion's Agent with an
// HTTPConnectionPool, node:http's http.request with a keep-alive http.Agent,
// or fetch (undici, built into Node), each used as its documentation shows.
//
//   node dist/bench/http-client-load.js VARIANT hello PORT CONCURRENCY [SECONDS] [WARMUP] [SERVER_PID]
//   node dist/bench/http-client-load.js VARIANT download PORT BYTES [SERVER_PID]
//
// VARIANT is torsion, node or fetch. `hello`: CONCURRENCY loops, each sending
// `GET /` and reading the whole body before its next request, for WARMUP
// seconds (not counted) and then SECONDS measured on the same connections.
// `download`: `GET /bytes/BYTES` once after a 64 MiB warm-up download, the
// body streamed to a sink that counts and discards it (Torsion: a body
// protocol given to deliverBody; node:http: the response piped into a
// Writable; fetch: the body stream read chunk by chunk). Prints one JSON
// line: the rate, this process's CPU time per request (or per GiB), with
// SERVER_PID the server's over the same window (from /proc), and the errors
// counted (any non-200 status, short body or failure).

import { readFileSync } from 'node:fs';
import { request as httpRequest, Agent as NodeAgent } from 'node:http';
import { Writable } from 'node:stream';
import { reactor } from 'torsion/reactor';
import { Agent } from '../src/web/client/agent.js';
import { HTTPConnectionPool } from '../src/web/client/pool.js';
import { readBody } from '../src/web/client/response.js';

const HOST = '127.0.0.1';
const HELLO_LENGTH = 14;
const WARMUP_BYTES = 64 * 2 ** 20;

/** One client under test: a GET whose body is read whole, and a GET whose body is counted and dropped. */
interface Client {
  /** Resolves with the body's length; rejects on a failure or a status other than 200. */
  get(path: string): Promise<number>;
  /** Resolves with the number of body bytes received. */
  download(path: string): Promise<number>;
  close(): Promise<void>;
}

function notOk(status: number | undefined, path: string): Error {
  return new Error(`GET ${path}: status ${status}`);
}

function torsionClient(port: number, concurrency: number): Client {
  const pool = new HTTPConnectionPool(reactor, { maxPersistentPerHost: concurrency });
  const agent = new Agent(reactor, { pool });
  const base = `http://${HOST}:${port}`;
  return {
    async get(path) {
      const response = await agent.request('GET', base + path);
      if (response.code !== 200) throw notOk(response.code, path);
      return (await readBody(response)).length;
    },
    async download(path) {
      const response = await agent.request('GET', base + path);
      if (response.code !== 200) throw notOk(response.code, path);
      return new Promise((resolve, reject) => {
        let bytes = 0;
        response.deliverBody({
          makeConnection() {},
          dataReceived(data) {
            bytes += data.length;
          },
          connectionLost(reason) {
            if (reason.value instanceof Error && reason.value.name === 'ResponseDone')
              resolve(bytes);
            else reject(reason.value);
          },
        });
      });
    },
    async close() {
      await pool.closeCachedConnections();
    },
  };
}

function nodeClient(port: number, concurrency: number): Client {
  const agent = new NodeAgent({ keepAlive: true, maxSockets: concurrency });
  return {
    get(path) {
      return new Promise((resolve, reject) => {
        httpRequest({ host: HOST, port, path, agent }, (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            reject(notOk(response.statusCode, path));
            return;
          }
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve(Buffer.concat(chunks).length));
          response.on('error', reject);
        })
          .on('error', reject)
          .end();
      });
    },
    download(path) {
      return new Promise((resolve, reject) => {
        httpRequest({ host: HOST, port, path, agent }, (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            reject(notOk(response.statusCode, path));
            return;
          }
          let bytes = 0;
          const sink = new Writable({
            write(chunk: Buffer, _encoding, callback) {
              bytes += chunk.length;
              callback();
            },
          });
          sink.on('finish', () => resolve(bytes));
          response.on('error', reject);
          response.pipe(sink);
        })
          .on('error', reject)
          .end();
      });
    },
    async close() {
      agent.destroy();
    },
  };
}

function fetchClient(port: number): Client {
  const base = `http://${HOST}:${port}`;
  return {
    async get(path) {
      const response = await fetch(base + path);
      if (response.status !== 200) throw notOk(response.status, path);
      return (await response.arrayBuffer()).byteLength;
    },
    async download(path) {
      const response = await fetch(base + path);
      if (response.status !== 200 || response.body === null) throw notOk(response.status, path);
      let bytes = 0;
      for await (const chunk of response.body) bytes += chunk.length;
      return bytes;
    },
    async close() {},
  };
}

const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Microseconds of CPU a process has used (user + system, from /proc), or NaN without a PID. */
function processCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e4; // clock ticks of 10 ms
}

/** CONCURRENCY loops of `GET /` until `seconds` have passed; the requests they completed. */
async function loops(client: Client, concurrency: number, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const length = await client.get('/');
      if (length !== HELLO_LENGTH) throw new Error(`GET /: ${length} bytes, not ${HELLO_LENGTH}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return done;
}

async function hello(
  client: Client,
  concurrency: number,
  seconds: number,
  warmup: number,
  server: number | undefined,
) {
  await loops(client, concurrency, warmup);
  const cpu0 = cpuMicros();
  const server0 = processCpuMicros(server);
  const t0 = performance.now();
  const requests = await loops(client, concurrency, seconds);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuMicros() - cpu0;
  const serverCpu = processCpuMicros(server) - server0;
  return {
    requests,
    requests_per_s: Math.round(requests / elapsed),
    client_cpu_us_per_req: +(cpu / requests).toFixed(2),
    client_cpu_pct: Math.round(cpu / 1e4 / elapsed),
    ...(server !== undefined && {
      server_cpu_us_per_req: +(serverCpu / requests).toFixed(2),
      server_cpu_pct: Math.round(serverCpu / 1e4 / elapsed),
    }),
    seconds: +elapsed.toFixed(3),
  };
}

async function download(client: Client, bytes: number, server: number | undefined) {
  const warm = await client.download(`/bytes/${WARMUP_BYTES}`);
  if (warm !== WARMUP_BYTES) throw new Error(`warm-up download: ${warm} bytes of ${WARMUP_BYTES}`);
  const cpu0 = cpuMicros();
  const server0 = processCpuMicros(server);
  const t0 = performance.now();
  const received = await client.download(`/bytes/${bytes}`);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuMicros() - cpu0;
  const serverCpu = processCpuMicros(server) - server0;
  if (received !== bytes) throw new Error(`download: ${received} bytes of ${bytes}`);
  return {
    bytes,
    mb_per_s: Math.round(bytes / 1e6 / elapsed),
    client_cpu_s_per_gib: +((cpu / 1e6) * (2 ** 30 / bytes)).toFixed(3),
    client_cpu_pct: Math.round(cpu / 1e4 / elapsed),
    ...(server !== undefined && {
      server_cpu_s_per_gib: +((serverCpu / 1e6) * (2 ** 30 / bytes)).toFixed(3),
      server_cpu_pct: Math.round(serverCpu / 1e4 / elapsed),
    }),
    seconds: +elapsed.toFixed(3),
  };
}

async function main(): Promise<void> {
  const [variant, mode, portText, n, ...rest] = process.argv.slice(2);
  const [secondsText, warmupText, helloPid] = rest;
  const pidText = mode === 'hello' ? helloPid : rest[0];
  const server = pidText === undefined ? undefined : Number(pidText);
  const port = Number(portText);
  const count = Number(n);
  if (!(port > 0) || !(count > 0) || (mode !== 'hello' && mode !== 'download')) {
    throw new Error(
      'usage: http-client-load.js torsion|node|fetch hello PORT CONCURRENCY [SECONDS] [WARMUP] [SERVER_PID]\n' +
        '       http-client-load.js torsion|node|fetch download PORT BYTES [SERVER_PID]',
    );
  }
  const concurrency = mode === 'hello' ? count : 1;
  let client: Client;
  if (variant === 'torsion') client = torsionClient(port, concurrency);
  else if (variant === 'node') client = nodeClient(port, concurrency);
  else if (variant === 'fetch') client = fetchClient(port);
  else throw new Error(`unknown variant ${variant}: torsion, node or fetch`);
  const result =
    mode === 'hello'
      ? await hello(client, concurrency, Number(secondsText ?? 3), Number(warmupText ?? 1), server)
      : await download(client, count, server);
  await client.close();
  console.log(JSON.stringify({ variant, mode, concurrency, ...result, errors: 0 }));
}

try {
  await main();
  process.exit(0);
} catch (error) {
  // Any failure is an error of the run: the harness refuses it.
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  console.log(JSON.stringify({ errors: 1, error: String(error) }));
  process.exit(1);
}
