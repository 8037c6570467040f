// Finger, stage 20: the web front end as a tree of resources over an
// IFingerService: / lists the users (a link each), /USER shows one status.
// The front ends are built from any service with the interface.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger20.js [endpoint] [webEndpoint] [usersFile]
//         (defaults tcp:1079, tcp:8000 and examples/finger/etc.users, from the repository root)
// Try it: curl http://127.0.0.1:8000/ and curl http://127.0.0.1:8000/moshez

import { readFileSync } from 'node:fs';
import { type Deferred, gatherResults, succeed } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IDelayedCall, IListeningPort, IReactorCore, IReactorTime } from 'torsion/reactor';
import {
  escapeHtml,
  type IResource,
  NOT_DONE_YET,
  type Request,
  Resource,
  Site,
} from 'torsion/web';

/** What the front ends need of a finger service. */
export interface IFingerService {
  /** A Deferred of the user's status. */
  getUser(user: string): Deferred<string>;
  /** A Deferred of the names of all the users. */
  getUsers(): Deferred<string[]>;
}

/** Reads a user name, writes what the factory says about the user, and hangs up. */
export class FingerProtocol extends LineReceiver<FingerFactoryFromService> {
  override lineReceived(user: Buffer): void {
    const d = this.factory.getUser(user.toString('utf8'));
    d.addErrback(() => 'Internal error in server');
    d.addCallback((message) => {
      this.sendLine(message);
      this.transport.loseConnection();
    });
  }
}

/** The finger protocol's factory over a service. */
export class FingerFactoryFromService extends ServerFactory<FingerProtocol> {
  override protocol = FingerProtocol;

  constructor(readonly service: IFingerService) {
    super();
  }

  getUser(user: string): Deferred<string> {
    return this.service.getUser(user);
  }
}

/** The root of the web site: the list of users, with a UserStatus below it for each. */
export class UserStatusTree extends Resource {
  constructor(readonly service: IFingerService) {
    super();
    // The path "/" asks the root for its child "": the root itself answers.
    this.putChild('', this);
  }

  render_GET(request: Request): typeof NOT_DONE_YET {
    const d = this.service.getUsers();
    d.addCallback((users) => {
      const items = users.map((user) => {
        const href = escapeHtml(encodeURIComponent(user));
        return `<li><a href="/${href}">${escapeHtml(user)}</a></li>\n`;
      });
      request.setHeader('Content-Type', 'text/html; charset=utf-8');
      request.write(`<!DOCTYPE html>\n<title>Users</title>\n<h1>Users</h1>\n<ul>\n`);
      request.write(`${items.join('')}</ul>\n`);
      request.finish();
    });
    d.addErrback((reason) => request.processingFailed(reason));
    // The answer comes later, from the callback: tell the site not to finish the request.
    return NOT_DONE_YET;
  }

  override getChild(user: string, _request: Request): IResource {
    return new UserStatus(user, this.service);
  }
}

/** One user's status. */
export class UserStatus extends Resource {
  constructor(
    readonly user: string,
    readonly service: IFingerService,
  ) {
    super();
  }

  // Beyond Twisted, a render function may return a Deferred of the body.
  render_GET(request: Request): Deferred<string> {
    return this.service.getUser(this.user).addCallback((status) => {
      request.setHeader('Content-Type', 'text/html; charset=utf-8');
      const user = escapeHtml(this.user);
      return `<!DOCTYPE html>\n<title>${user}</title>\n<h1>${user}</h1>\n<p>${escapeHtml(status)}</p>\n`;
    });
  }
}

/** Keeps the users of a file, re-read every 30 seconds. */
export class FingerService implements IFingerService {
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

  getUsers(): Deferred<string[]> {
    return succeed([...this.users.keys()]);
  }
}

/** Options of {@link main}. */
export interface FingerOptions {
  /** Where to listen for finger queries. @defaultValue 'tcp:1079' */
  endpoint?: string | undefined;
  /** Where the web site listens. @defaultValue 'tcp:8000' */
  webEndpoint?: string | undefined;
  /** The file of "user: status" lines. @defaultValue 'examples/finger/etc.users' */
  usersFile?: string | undefined;
}

/** Starts the service, and listens for finger queries and for web requests; the Deferred fires with both ports. */
export function main(
  reactor: ServerReactor & IReactorCore & IReactorTime,
  options: FingerOptions = {},
): Deferred<IListeningPort[]> {
  const f = new FingerService(options.usersFile ?? 'examples/finger/etc.users', reactor);
  f.startService();
  reactor.addSystemEventTrigger('before', 'shutdown', () => f.stopService());
  return gatherResults(
    [
      serverFromString(reactor, options.endpoint ?? 'tcp:1079').listen(
        new FingerFactoryFromService(f),
      ),
      serverFromString(reactor, options.webEndpoint ?? 'tcp:8000').listen(
        new Site(new UserStatusTree(f), { clock: reactor }),
      ),
    ],
    { consumeErrors: true },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const { listenOrExit } = await import('../_cli.js');
  const usage =
    'node dist/examples/finger/finger20.js [endpoint] [web endpoint] [users file]   (defaults tcp:1079, tcp:8000)';
  const [finger, web] = await listenOrExit(usage, () =>
    main(reactor, {
      endpoint: process.argv[2],
      webEndpoint: process.argv[3],
      usersFile: process.argv[4],
    }),
  );
  console.log(`finger server on ${String(finger?.getHost())}`);
  console.log(`web server on ${String(web?.getHost())}`);
  await reactor.run();
}
