// Torsion's TCP echo server for the network benchmarks (bench/echo-load.ts);
// bench/echo-node.ts is the raw node:net equivalent.
// Usage: node dist/bench/echo.js PORT [HOST]  (PORT 0: any free port)
// Writes back every chunk as it arrives; TCP_NODELAY on, backlog 511. Prints
// `torsion echo listening on HOST:PORT` with the bound port, and exits on
// SIGTERM/SIGINT (the reactor stops).

import { Factory, Protocol } from 'torsion/protocol';
import { reactor } from 'torsion/reactor';

/** Writes back whatever it receives. */
export class Echo extends Protocol {
  override connectionMade(): void {
    this.transport.setTcpNoDelay(true);
  }

  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 9000);
  const host = process.argv[3] ?? '127.0.0.1';
  const factory = Factory.forProtocol(Echo);
  factory.noisy = false;
  const listening = reactor.listenTCP(port, factory, { interface: host, backlog: 511 });
  console.log(`torsion echo listening on ${host}:${listening.getHost().port}`);
  await reactor.run();
}
