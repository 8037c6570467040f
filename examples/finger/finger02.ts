// Finger, stage 2: listen on the finger port. Connections are accepted and
// then ignored: the protocol does nothing.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger02.js [endpoint]   (default tcp:1079)
// Try it: nc 127.0.0.1 1079

import type { Deferred } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { Protocol, ServerFactory } from 'torsion/protocol';
import type { IListeningPort } from 'torsion/reactor';

/** Does nothing with its connection. */
export class FingerProtocol extends Protocol {}

/** Makes a FingerProtocol for each connection. */
export class FingerFactory extends ServerFactory<FingerProtocol> {
  override protocol = FingerProtocol;
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
  const { listenOrExit } = await import('../_cli.js');
  const usage = 'node dist/examples/finger/finger02.js [endpoint]   (default tcp:1079)';
  const port = await listenOrExit(usage, () => main(reactor, { endpoint: process.argv[2] }));
  console.log(`finger server on ${String(port.getHost())}`);
  await reactor.run();
}
