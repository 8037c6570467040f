// Finger, stage 13: one FingerService owns the users and hands out both
// factories, instead of the setter reaching into the finger factory.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger13.js [endpoint] [setterEndpoint]
//         (defaults tcp:1079 and tcp:1080)
// Try it: nc -C 127.0.0.1 1080, type moshez, Enter, a status, Enter, then Ctrl-C;
//         then nc -C 127.0.0.1 1079 and type moshez, Enter

import { type Deferred, gatherResults, succeed } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IListeningPort } from 'torsion/reactor';

/** A factory of FingerProtocols that can answer for the users. */
export type FingerFactory = ServerFactory<FingerProtocol> & {
  getUser(user: string): Deferred<string>;
};

/** A factory of FingerSetterProtocols that can set a user's status. */
export type FingerSetterFactory = ServerFactory<FingerSetterProtocol> & {
  setUser(user: string, status: string): void;
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

/** Collects lines; when the client hangs up, sets the first line's user to the second line. */
export class FingerSetterProtocol extends LineReceiver<FingerSetterFactory> {
  readonly lines: string[] = [];

  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString('utf8'));
  }

  override connectionLost(): void {
    const [user, status] = this.lines;
    if (user !== undefined && status !== undefined) this.factory.setUser(user, status);
  }
}

/** Owns the users and their statuses, and makes the factories that serve them. */
export class FingerService {
  constructor(readonly users: Map<string, string>) {}

  getUser(user: string): Deferred<string> {
    return succeed(this.users.get(user) ?? 'No such user');
  }

  setUser(user: string, status: string): void {
    this.users.set(user, status);
  }

  getFingerFactory(): FingerFactory {
    const f = ServerFactory.forProtocol(FingerProtocol);
    return Object.assign(f, { getUser: (user: string) => this.getUser(user) });
  }

  getFingerSetterFactory(): FingerSetterFactory {
    const f = ServerFactory.forProtocol(FingerSetterProtocol);
    return Object.assign(f, {
      setUser: (user: string, status: string) => this.setUser(user, status),
    });
  }
}

/** Options of {@link main}. */
export interface FingerOptions {
  /** Where to listen for finger queries. @defaultValue 'tcp:1079' */
  endpoint?: string | undefined;
  /** Where to listen for new statuses. @defaultValue 'tcp:1080' */
  setterEndpoint?: string | undefined;
}

/** Listens for finger queries and for new statuses; the Deferred fires with both ports. */
export function main(
  reactor: ServerReactor,
  options: FingerOptions = {},
): Deferred<IListeningPort[]> {
  const f = new FingerService(new Map([['moshez', 'Happy and well']]));
  return gatherResults([
    serverFromString(reactor, options.endpoint ?? 'tcp:1079').listen(f.getFingerFactory()),
    serverFromString(reactor, options.setterEndpoint ?? 'tcp:1080').listen(
      f.getFingerSetterFactory(),
    ),
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const [finger, setter] = await main(reactor, {
    endpoint: process.argv[2],
    setterEndpoint: process.argv[3],
  });
  console.log(`finger server on ${String(finger?.getHost())}`);
  console.log(`finger setter on ${String(setter?.getHost())}`);
  await reactor.run();
}
