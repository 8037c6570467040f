// The echo server: writes back whatever it receives.
//
// Run it: npm run build && node dist/examples/echo-server.js [port]   (default 8000)

import { Factory, Protocol } from 'torsion/protocol';
import type { IListeningPort, IReactorTCP } from 'torsion/reactor';
import { portArgument, startOrExit } from './_cli.js';

/** Writes back every byte it receives. */
export class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/** Starts the echo server on `port`. */
export function main(reactor: IReactorTCP, port = 8000, iface?: string): IListeningPort {
  return reactor.listenTCP(
    port,
    Factory.forProtocol(Echo),
    iface === undefined ? {} : { interface: iface },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = startOrExit('node dist/examples/echo-server.js [port]   (default 8000)', () =>
    main(reactor, portArgument(process.argv[2], 8000)),
  );
  console.log(`echo server on ${String(port.getHost())}`);
  await reactor.run();
}
