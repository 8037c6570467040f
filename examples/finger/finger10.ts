// Finger, stage 10: the factory answers from the web. getUser fetches a
// page named after the user with getPage, and its Deferred fires when the
// page has arrived; the protocol is stage 8's, unchanged. A page that
// cannot be fetched (refused, 404) becomes "Internal error in server".
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger10.js [prefix] [endpoint]
//         (default prefix http://127.0.0.1:8080/~, endpoint tcp:1079)
// Try it: mkdir -p /tmp/users && echo 'Happy and well' > /tmp/users/~moshez
//         node dist/examples/web-static.js /tmp/users 8080 &
//         then nc -C 127.0.0.1 1079, type moshez and Enter

import type { Deferred } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IListeningPort } from 'torsion/reactor';
import { getPage, type IAgent, URI } from 'torsion/web';

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

/** Makes a FingerProtocol for each connection, and answers with the page at `prefix + user`. */
export class FingerFactory extends ServerFactory<FingerProtocol> {
  override protocol = FingerProtocol;

  /**
   * @param prefix - The URL the user's name is appended to (percent-encoded).
   * @param agent - Fetches the pages.
   */
  constructor(
    readonly prefix: string,
    readonly agent: IAgent,
  ) {
    super();
  }

  getUser(user: string): Deferred<string> {
    return getPage(this.prefix + encodeURIComponent(user), { agent: this.agent }).addCallback(
      (page) => Buffer.from(page).toString('utf8').trim(),
    );
  }
}

/** Options of {@link main}. */
export interface FingerOptions {
  /** Where to listen, as an endpoint description. @defaultValue 'tcp:1079' */
  endpoint?: string | undefined;
  /** The URL user names are appended to. @defaultValue 'http://127.0.0.1:8080/~' */
  prefix?: string | undefined;
}

/** Listens for finger connections, answering from `agent`; the Deferred fires with the port. */
export function main(
  reactor: ServerReactor,
  agent: IAgent,
  options: FingerOptions = {},
): Deferred<IListeningPort> {
  const prefix = options.prefix ?? 'http://127.0.0.1:8080/~';
  URI.fromString(prefix); // a prefix that is no URL is refused now, not at the first query
  const fingerEndpoint = serverFromString(reactor, options.endpoint ?? 'tcp:1079');
  return fingerEndpoint.listen(new FingerFactory(prefix, agent));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const { Agent } = await import('torsion/web');
  const { listenOrExit } = await import('../_cli.js');
  const usage =
    'node dist/examples/finger/finger10.js [prefix] [endpoint]   (default http://127.0.0.1:8080/~ tcp:1079)';
  const [prefix, endpoint] = process.argv.slice(2);
  const port = await listenOrExit(usage, () =>
    main(reactor, new Agent(reactor), { prefix, endpoint }),
  );
  console.log(
    `finger server on ${String(port.getHost())}, answering from ${prefix ?? 'http://127.0.0.1:8080/~'}USER`,
  );
  await reactor.run();
}
