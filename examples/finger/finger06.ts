// Finger, stage 6: the protocol asks its factory about the user. The
// factory knows nobody yet, so the answer is still "No such user".
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger06.js [endpoint]   (default tcp:1079)
// Try it: nc -C 127.0.0.1 1079, then type moshez and Enter (-C: lines end in CRLF)

import type { Deferred } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IListeningPort } from 'torsion/reactor';

/** Reads a user name, writes what the factory says about the user, and hangs up. */
export class FingerProtocol extends LineReceiver<FingerFactory> {
  override lineReceived(user: Buffer): void {
    this.sendLine(this.factory.getUser(user.toString('utf8')));
    this.transport.loseConnection();
  }
}

/** Makes a FingerProtocol for each connection, and answers for the users. */
export class FingerFactory extends ServerFactory<FingerProtocol> {
  override protocol = FingerProtocol;

  getUser(_user: string): string {
    return 'No such user';
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
  return fingerEndpoint.listen(new FingerFactory());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = await main(reactor, { endpoint: process.argv[2] });
  console.log(`finger server on ${String(port.getHost())}`);
  await reactor.run();
}
