// The raw node:http hello-world server the HTTP benchmarks compare Torsion's
// (bench/http-hello-torsion.ts) with; the same server as the shared harness's
// node_http.js: 14-byte text/plain body, keep-alive timeout 65 s, backlog 511.
// Usage: node dist/bench/http-hello-node.js PORT [HOST]  (PORT 0: any free port)
// Prints `node http listening on HOST:PORT` with the bound port, and exits on
// SIGTERM/SIGINT.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const port = Number(process.argv[2] ?? 8080);
const host = process.argv[3] ?? '127.0.0.1';
const BODY = Buffer.from('Hello, World!\n');
const server = createServer((_request, response) => {
  response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
  response.end(BODY);
});
// Node's default (5 s) would close the idle connections of the memory test.
server.keepAliveTimeout = 65_000;
server.listen({ port, host, backlog: 511 }, () => {
  console.log(`node http listening on ${host}:${(server.address() as AddressInfo).port}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
