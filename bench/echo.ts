// TCP echo server for the benchmark harness in ../shared/bench: Torsion's
// equivalent of servers/node_echo.js. Usage: node dist/bench/echo.js PORT [HOST]
// Writes back every chunk as it arrives; TCP_NODELAY on, backlog 511, as the
// raw Node and Twisted servers. Exits on SIGTERM/SIGINT (the reactor stops).

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
  reactor.listenTCP(port, factory, { interface: host, backlog: 511 });
  console.log(`torsion echo listening on ${host}:${port}`);
  await reactor.run();
}
