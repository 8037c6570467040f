// TLS echo throughput: a Torsion server (listenSSL, a Protocol that writes
// back what it receives) against a raw node:tls server doing the same, each
// in its own process, driven by the same raw node:tls client in this one.
// Two loads: 32 MiB streamed in 64 KiB messages (MB/s, the client writing
// with backpressure), and 20,000 64-byte messages sent one at a time, each
// waiting for its echo (messages/s). Runs alternate between the servers;
// the figures are medians.
//
// Usage: npm run build && node dist/bench/tls-echo.js [--reps N]   (default 5)
//        node dist/bench/tls-echo.js server torsion|node   (a server alone: prints its port)
// Target (issue 15): Torsion ≥ 0.9× raw node:tls.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { format, median } from './_stats.js';

const TLS_DIR = fileURLToPath(new URL('../../test/fixtures/tls/', import.meta.url));
const KEY = readFileSync(`${TLS_DIR}localhost.key`, 'utf8');
const CERT = readFileSync(`${TLS_DIR}cas/localhost.pem`, 'utf8');
const HOST = '127.0.0.1';

const BIG = 64 * 1024;
const BIG_TOTAL = 32 * 1024 * 1024;
const SMALL = 64;
const SMALL_COUNT = 20_000;

type Kind = 'torsion' | 'node';

/** Runs one server in this process and prints `listening PORT`. */
async function serve(kind: Kind): Promise<void> {
  if (kind === 'node') {
    const server = createServer({ key: KEY, cert: CERT }, (socket) => {
      socket.setNoDelay(true);
      socket.on('data', (data) => socket.write(data));
      socket.on('error', () => undefined);
    });
    server.listen(0, HOST, () => {
      console.log(`listening ${(server.address() as { port: number }).port}`);
    });
    return;
  }
  const { Factory, Protocol } = await import('torsion/protocol');
  const { reactor } = await import('torsion/reactor');
  class Echo extends Protocol {
    override connectionMade(): void {
      this.transport.setTcpNoDelay(true);
    }
    override dataReceived(data: Uint8Array): void {
      this.transport.write(data);
    }
  }
  const factory = Factory.forProtocol(Echo);
  factory.noisy = false;
  const port = reactor.listenSSL(0, factory, { key: KEY, cert: CERT }, { interface: HOST });
  console.log(`listening ${port.getHost().port}`);
  await reactor.run();
}

/** Starts a server process; resolves with it and its port. */
async function startServer(kind: Kind): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'server', kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match !== null) resolve(Number(match[1]));
    });
    child.once('exit', () => reject(new Error(`the ${kind} server exited: ${out}`)));
  });
  return { child, port };
}

/** A connected, handshaken client. */
async function client(port: number): Promise<TLSSocket> {
  const socket = connect({ port, host: HOST, ca: CERT, servername: 'localhost' });
  socket.setNoDelay(true);
  await once(socket, 'secureConnect');
  return socket;
}

/** MB/s echoed: BIG_TOTAL bytes in BIG-byte writes, with backpressure. */
async function streamBig(port: number): Promise<number> {
  const socket = await client(port);
  const message = Buffer.alloc(BIG, 0x61);
  let received = 0;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (data: Buffer) => {
      received += data.length;
      if (received >= BIG_TOTAL) resolve();
    });
  });
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < BIG_TOTAL; sent += BIG) {
    if (!socket.write(message)) await once(socket, 'drain');
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  return BIG_TOTAL / 1e6 / seconds;
}

/** Messages/s: SMALL_COUNT SMALL-byte messages, each waiting for its echo. */
async function pingPong(port: number): Promise<number> {
  const socket = await client(port);
  const message = Buffer.alloc(SMALL, 0x62);
  let count = 0;
  let pending = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    socket.on('data', (data: Buffer) => {
      pending -= data.length;
      if (pending > 0) return;
      if (++count === SMALL_COUNT) {
        resolve();
        return;
      }
      pending = SMALL;
      socket.write(message);
    });
    pending = SMALL;
    socket.write(message);
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  return SMALL_COUNT / seconds;
}

async function bench(reps: number): Promise<void> {
  const results: Record<Kind, { big: number[]; small: number[] }> = {
    torsion: { big: [], small: [] },
    node: { big: [], small: [] },
  };
  for (let rep = 0; rep < reps; rep++) {
    // Alternate which server goes first.
    const order: Kind[] = rep % 2 === 0 ? ['torsion', 'node'] : ['node', 'torsion'];
    for (const kind of order) {
      const { child, port } = await startServer(kind);
      try {
        await streamBig(port); // warm-up
        results[kind].big.push(await streamBig(port));
        await pingPong(port); // warm-up
        results[kind].small.push(await pingPong(port));
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    }
  }
  const row = (name: string, unit: string, t: number[], n: number[]): string => {
    const tm = median(t);
    const nm = median(n);
    const range = (v: number[]) => `[${format(Math.min(...v))}–${format(Math.max(...v))}]`;
    return `| ${name} | ${format(tm)} ${range(t)} | ${format(nm)} ${range(n)} | ${unit} | ${(tm / nm).toFixed(2)} |`;
  };
  console.log(`TLS echo, medians of ${reps} alternating runs [min–max]`);
  console.log('| load | torsion (listenSSL) | raw node:tls | unit | ratio |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(row('32 MiB in 64 KiB messages', 'MB/s', results.torsion.big, results.node.big));
  console.log(
    row('64 B messages, one at a time', 'messages/s', results.torsion.small, results.node.small),
  );
  console.log(
    JSON.stringify({
      bench: 'tls-echo',
      reps,
      torsion: results.torsion,
      node: results.node,
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [mode, kind] = process.argv.slice(2);
  if (mode === 'server') {
    if (kind !== 'torsion' && kind !== 'node') {
      console.error('usage: node dist/bench/tls-echo.js server torsion|node');
      process.exit(2);
    }
    await serve(kind);
  } else {
    const repsAt = process.argv.indexOf('--reps');
    const reps = repsAt === -1 ? 5 : Number(process.argv[repsAt + 1]);
    if (!Number.isInteger(reps) || reps < 1) {
      console.error('usage: node dist/bench/tls-echo.js [--reps N]');
      process.exit(2);
    }
    await bench(reps);
  }
}
