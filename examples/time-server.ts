// A time server: for each connection it sends the
// UNIX time and closes the socket. Each connection is one Protocol instance,
// made by the factory; the reactor does the polling.
//
// Run it: npm run build && node dist/examples/time-server.js [port]   (default 1100)
// Try it: nc 127.0.0.1 1100

import { Factory, Protocol } from 'torsion/protocol';
import type { IListeningPort, IReactorTCP } from 'torsion/reactor';

/** Sends the time, then hangs up. */
export class TimeProtocol extends Protocol {
  declare factory: TimeFactory;

  override connectionMade(): void {
    this.transport.write(Buffer.from(`Hello. The time is ${this.factory.now()}\r\n`));
    this.transport.loseConnection();
  }
}

/** Makes a TimeProtocol per connection; `now` gives the time in seconds since the epoch. */
export class TimeFactory extends Factory<TimeProtocol> {
  override protocol = TimeProtocol;
  constructor(readonly now: () => number = () => Date.now() / 1000) {
    super();
  }
}

/** Options of {@link main}. */
export interface TimeServerOptions {
  /** @defaultValue 1100, as in the original */
  port?: number;
  /** @defaultValue all IPv4 interfaces */
  interface?: string;
  /** The clock the server reports. */
  now?: () => number;
}

/** Starts the time server. */
export function main(reactor: IReactorTCP, options: TimeServerOptions = {}): IListeningPort {
  const listenOptions = options.interface === undefined ? {} : { interface: options.interface };
  return reactor.listenTCP(options.port ?? 1100, new TimeFactory(options.now), listenOptions);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = main(reactor, { port: Number(process.argv[2] ?? 1100) });
  console.log(`time server on ${String(port.getHost())}`);
  await reactor.run();
}
