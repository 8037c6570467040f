// Finger, stage 8: the factory answers with a Deferred, so that a lookup
// may take time without blocking the server; a failed lookup becomes
// "Internal error in server".
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger08.js [endpoint]   (default tcp:1079)
// Try it: nc -C 127.0.0.1 1079, then type moshez and Enter (-C: lines end in CRLF)

import { type Deferred, succeed } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IListeningPort } from 'torsion/reactor';

/** Reads a user name, writes what the factory says about the user, and hangs up. */
export class FingerProtocol extends LineReceiver<FingerFactory> {
  override lineReceived(user: Buffer): void {
    const d = this.factory.getUser(user.toString('utf8'));

    const onError = (): string => 'Internal error in server';
    d.addErrback(onError);

    const writeResponse = (message: string): void => {
      this.sendLine(message);
      this.transport.loseConnection();
    };
    d.addCallback(writeResponse);
  }
}

/** Makes a FingerProtocol for each connection, and answers for the users. */
export class FingerFactory extends ServerFactory<FingerProtocol> {
  override protocol = FingerProtocol;

  constructor(readonly users: Map<string, string>) {
    super();
  }

  getUser(user: string): Deferred<string> {
    return succeed(this.users.get(user) ?? 'No such user');
  }
}

/** Options of {@link main}. */
export interface FingerOptions {
  /** Where to listen, as an endpoint description. @defaultValue 'tcp:1079' */
  endpoint?: string | undefined;
}

/** Listens for finger connections; the Deferred fires with the port. */
export function main(
  reactor: ServerReactor,
  options: FingerOptions = {},
): Deferred<IListeningPort> {
  const fingerEndpoint = serverFromString(reactor, options.endpoint ?? 'tcp:1079');
  return fingerEndpoint.listen(new FingerFactory(new Map([['moshez', 'Happy and well']])));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = await main(reactor, { endpoint: process.argv[2] });
  console.log(`finger server on ${String(port.getHost())}`);
  await reactor.run();
}
