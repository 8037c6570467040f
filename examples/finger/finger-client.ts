// The finger client, from Twisted's finger proxy: it connects, sends the
// user name, and collects what the server says until the server hangs up.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger-client.js user [host] [port]
//         (defaults 127.0.0.1 and 1079; start one of the finger servers first)

import { Deferred, type Failure } from 'torsion/defer';
import { TCP4ClientEndpoint } from 'torsion/endpoints';
import { ClientFactory, type IConnector, Protocol } from 'torsion/protocol';
import type { IReactorTCP } from 'torsion/reactor';

/** Sends the user name, and gives the factory the whole reply once the server hangs up. */
export class FingerClient extends Protocol {
  declare factory: FingerClientFactory;
  readonly buf: Buffer[] = [];

  override connectionMade(): void {
    this.transport.write(Buffer.from(`${this.factory.user}\r\n`));
  }

  override dataReceived(data: Uint8Array): void {
    this.buf.push(Buffer.from(data));
  }

  override connectionLost(): void {
    this.factory.gotData(Buffer.concat(this.buf));
  }
}

/** Makes the FingerClient for one query; `d` fires with the reply, or fails if no connection was made. */
export class FingerClientFactory extends ClientFactory<FingerClient> {
  override protocol = FingerClient;
  readonly d = new Deferred<Buffer>();

  constructor(readonly user: string) {
    super();
  }

  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    this.d.errback(reason);
  }

  gotData(data: Buffer): void {
    this.d.callback(data);
  }
}

/** Asks the finger server at `host`:`port` about `user`; the Deferred fires with the reply. */
export function finger(
  reactor: IReactorTCP,
  user: string,
  host: string,
  port = 1079,
): Deferred<Buffer> {
  const f = new FingerClientFactory(user);
  const endpoint = new TCP4ClientEndpoint(reactor, host, port);
  // An endpoint reports a failed attempt through the Deferred that connect()
  // returns, not through the factory's clientConnectionFailed: pass it on.
  endpoint.connect(f).addErrback((reason) => f.d.errback(reason));
  return f.d;
}

/** Options of {@link main}. */
export interface FingerClientOptions {
  /** The user to ask about. */
  user: string;
  /** @defaultValue '127.0.0.1' */
  host?: string | undefined;
  /** @defaultValue 1079 */
  port?: number | undefined;
}

/** Fingers a user; the Deferred fires with the reply. */
export function main(reactor: IReactorTCP, options: FingerClientOptions): Deferred<Buffer> {
  return finger(reactor, options.user, options.host ?? '127.0.0.1', options.port ?? 1079);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const { react, SystemExit } = await import('torsion/task');
  const { portArgument, startOrExit } = await import('../_cli.js');
  const usage =
    'node dist/examples/finger/finger-client.js [user] [host] [port]   (defaults 127.0.0.1, 1079)';
  const [user = '', host, port] = process.argv.slice(2);
  const options = startOrExit(usage, () => ({ user, host, port: portArgument(port, 1079) }));
  await react(
    (r: typeof reactor) =>
      main(r, options).addCallbacks(
        (reply) => process.stdout.write(reply),
        (reason) => {
          process.stderr.write(`error: ${reason.getErrorMessage()}\n`);
          throw new SystemExit(1);
        },
      ),
    [],
    reactor,
  );
}
