// Finger, stage 11: stage 8's server as an application. The module does not
// listen: its makeService builds a service tree (a MultiService holding a
// StreamServerEndpointService), and the `torsion` command runs it, with
// logging, signals and a graceful shutdown.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && npx torsion run ./dist/examples/finger/finger11.js [--endpoint tcp:1079]
// Try it: nc -C 127.0.0.1 1079, then type moshez and Enter; Ctrl-C stops it

import { MultiService, StreamServerEndpointService } from 'torsion/app';
import { type Deferred, succeed } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';

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

/** What `torsion run` passes from its command line: `--endpoint tcp:2079` becomes `{ endpoint: 'tcp:2079' }`. */
export interface FingerOptions {
  /** Where to listen, as an endpoint description. @defaultValue 'tcp:1079' */
  endpoint?: string | undefined;
}

/** The application: the finger server on its endpoint, in a MultiService named "finger". */
export function makeService(options: FingerOptions, reactor: ServerReactor): MultiService {
  for (const key of Object.keys(options)) {
    if (key !== 'endpoint')
      throw new Error(`finger11: unknown option --${key} (valid: --endpoint)`);
  }
  const application = new MultiService();
  application.name = 'finger';
  const factory = new FingerFactory(new Map([['moshez', 'Happy and well']]));
  const endpoint = serverFromString(reactor, options.endpoint ?? 'tcp:1079');
  new StreamServerEndpointService(endpoint, factory).setServiceParent(application);
  return application;
}

/** The same application for a runner that passes the reactor first. */
export default function (reactor: ServerReactor, options: FingerOptions = {}): MultiService {
  return makeService(options, reactor);
}
