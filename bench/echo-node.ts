// The raw node:net TCP echo server the network benchmarks compare Torsion's
// (bench/echo.ts) with. Usage: node dist/bench/echo-node.js PORT [HOST]
// (PORT 0: any free port). Writes back every chunk as it arrives; TCP_NODELAY
// on, backlog 511. Prints `node echo listening on HOST:PORT` with the bound
// port, and exits on SIGTERM/SIGINT.

import { type AddressInfo, createServer } from 'node:net';

const port = Number(process.argv[2] ?? 9000);
const host = process.argv[3] ?? '127.0.0.1';
const server = createServer({ noDelay: true }, (socket) => {
  socket.on('data', (data) => socket.write(data));
  socket.on('error', () => {});
});
server.listen({ port, host, backlog: 511 }, () => {
  console.log(`node echo listening on ${host}:${(server.address() as AddressInfo).port}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
