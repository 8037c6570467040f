// Finger, stage 14: the statuses come from a file of "user: status" lines,
// read at start and again every 30 seconds. There is no setter any more.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger14.js [endpoint] [usersFile]
//         (defaults tcp:1079 and examples/finger/etc.users, from the repository root)
// Try it: nc -C 127.0.0.1 1079, then type shawn and Enter

import { readFileSync } from 'node:fs';
import { type Deferred, succeed } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IDelayedCall, IListeningPort, IReactorCore, IReactorTime } from 'torsion/reactor';

/** A factory of FingerProtocols that can answer for the users. */
export type FingerFactory = ServerFactory<FingerProtocol> & {
  getUser(user: string): Deferred<string>;
};

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

/** Keeps the users of a file, re-read every 30 seconds, and makes the factory that serves them. */
export class FingerService {
  users = new Map<string, string>();
  #call: IDelayedCall | undefined;

  constructor(
    readonly filename: string,
    readonly clock: IReactorTime,
  ) {}

  #read(): void {
    const users = new Map<string, string>();
    for (const line of readFileSync(this.filename, 'utf8').split('\n')) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      users.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    this.users = users;
    this.#call = this.clock.callLater(30, () => this.#read());
  }

  startService(): void {
    this.#read();
  }

  stopService(): void {
    if (this.#call?.active()) this.#call.cancel();
  }

  getUser(user: string): Deferred<string> {
    return succeed(this.users.get(user) ?? 'No such user');
  }

  getFingerFactory(): FingerFactory {
    const f = ServerFactory.forProtocol(FingerProtocol);
    return Object.assign(f, { getUser: (user: string) => this.getUser(user) });
  }
}

/** Options of {@link main}. */
export interface FingerOptions {
  /** Where to listen for finger queries. @defaultValue 'tcp:1079' */
  endpoint?: string | undefined;
  /** The file of "user: status" lines. @defaultValue 'examples/finger/etc.users' */
  usersFile?: string | undefined;
}

/** Starts the service and listens for finger queries; the Deferred fires with the port. */
export function main(
  reactor: ServerReactor & IReactorCore & IReactorTime,
  options: FingerOptions = {},
): Deferred<IListeningPort> {
  const f = new FingerService(options.usersFile ?? 'examples/finger/etc.users', reactor);
  f.startService();
  reactor.addSystemEventTrigger('before', 'shutdown', () => f.stopService());
  return serverFromString(reactor, options.endpoint ?? 'tcp:1079').listen(f.getFingerFactory());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = await main(reactor, { endpoint: process.argv[2], usersFile: process.argv[3] });
  console.log(`finger server on ${String(port.getHost())}`);
  await reactor.run();
}
