// The raw node:http static file server the HTTP benchmarks compare Torsion's
// File resource (bench/http-static-torsion.ts) with: `fs.createReadStream`
// piped into the response, with the Content-Length and Content-Type a file
// server sends. Only what the benchmark asks for is handled: GET of a file
// directly in DIR, else 404.
// Usage: node dist/bench/http-static-node.js PORT DIR [HOST]  (PORT 0: any free port)
// Prints `node static listening on HOST:PORT` with the bound port, and exits
// on SIGTERM/SIGINT.

import { createReadStream, stat } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const port = Number(process.argv[2] ?? 8080);
const dir = process.argv[3] ?? '.';
const host = process.argv[4] ?? '127.0.0.1';

const server = createServer((request, response) => {
  const name = decodeURIComponent((request.url ?? '/').split('?')[0]?.slice(1) ?? '');
  if (name === '' || name.includes('/') || name.startsWith('.')) {
    response.writeHead(404).end();
    return;
  }
  const path = join(dir, name);
  stat(path, (error, stats) => {
    if (error !== null || !stats.isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': stats.size,
      'Last-Modified': stats.mtime.toUTCString(),
    });
    createReadStream(path).pipe(response);
  });
});
server.keepAliveTimeout = 65_000;
server.listen({ port, host, backlog: 511 }, () => {
  console.log(`node static listening on ${host}:${(server.address() as AddressInfo).port}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
