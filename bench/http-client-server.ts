// The node:http server the HTTP client benchmarks (bench/http-client.ts) run
// against, in a process of its own: `GET /` is the hello world of
// bench/http-hello-node.ts (14-byte text/plain body, keep-alive), `GET
// /bytes/N` sends N bytes with a Content-Length, from one 1 MiB buffer
// written over and over with backpressure, and `GET /connections` tells how
// many connections the server has accepted (to check that keep-alive held).
// Usage: node dist/bench/http-client-server.js PORT [HOST]  (PORT 0: any free port)
// Prints `node http listening on HOST:PORT` with the bound port, and exits on
// SIGTERM/SIGINT.

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const port = Number(process.argv[2] ?? 8080);
const host = process.argv[3] ?? '127.0.0.1';
const BODY = Buffer.from('Hello, World!\n');
/** The download's bytes: fixed, pseudo-random (nothing here compresses, but no matter). */
const BLOCK = Buffer.alloc(1 << 20);
for (let i = 0; i < BLOCK.length; i++) BLOCK[i] = (i * 2654435761) >>> 24;

let connections = 0;

/** Writes `remaining` bytes of BLOCK repeated, waiting for `drain` when the socket is full. */
function sendBytes(response: ServerResponse, remaining: number): void {
  while (remaining > 0) {
    const size = Math.min(remaining, BLOCK.length);
    remaining -= size;
    const more = response.write(size === BLOCK.length ? BLOCK : BLOCK.subarray(0, size));
    if (!more && remaining > 0) {
      response.once('drain', () => sendBytes(response, remaining));
      return;
    }
  }
  response.end();
}

const server = createServer((request, response) => {
  const url = request.url ?? '/';
  if (url === '/') {
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
    response.end(BODY);
    return;
  }
  const bytes = /^\/bytes\/(\d+)$/.exec(url);
  if (bytes !== null) {
    const length = Number(bytes[1]);
    response.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': length,
    });
    sendBytes(response, length);
    return;
  }
  if (url === '/connections') {
    const text = `${connections}\n`;
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': text.length });
    response.end(text);
    return;
  }
  response.writeHead(404, { 'Content-Length': 0 });
  response.end();
});
server.on('connection', () => {
  connections++;
});
server.keepAliveTimeout = 65_000;
server.listen({ port, host, backlog: 511 }, () => {
  console.log(`node http listening on ${host}:${(server.address() as AddressInfo).port}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
