// The UDP echo server: sends each datagram back to whoever sent it.
//
// Run it: npm run build && node dist/examples/udp-echo.js [port]   (default 8000)
// Try it: node -e "const s=require('dgram').createSocket('udp4');s.on('message',m=>{console.log(String(m));s.close()});s.send('hello',8000,'127.0.0.1')"

import { DatagramProtocol, type IPAddress } from 'torsion/protocol';
import type { IListeningPort, IReactorUDP } from 'torsion/reactor';
import { portArgument, startOrExit } from './_cli.js';

/** Writes every datagram back to its sender. */
export class UDPEcho extends DatagramProtocol {
  override datagramReceived(data: Uint8Array, addr: readonly [string, number]): void {
    this.transport?.write(data, addr);
  }
}

/** Starts the UDP echo server on `port`. */
export function main(reactor: IReactorUDP, port = 8000, iface?: string): IListeningPort<IPAddress> {
  return reactor.listenUDP(port, new UDPEcho(), iface === undefined ? {} : { interface: iface });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = startOrExit('node dist/examples/udp-echo.js [port]   (default 8000)', () =>
    main(reactor, portArgument(process.argv[2], 8000)),
  );
  console.log(`UDP echo server on ${String(port.getHost())}`);
  await reactor.run();
}
