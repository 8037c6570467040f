// Finger, stage 15: the users of stage 14, also on the web. A second port
// serves a Site: / lists the users and their statuses, /USER shows one.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/finger15.js [endpoint] [webEndpoint] [usersFile]
//         (defaults tcp:1079, tcp:8000 and examples/finger/etc.users, from the repository root)
// Try it: curl http://127.0.0.1:8000/ and curl http://127.0.0.1:8000/shawn

import { readFileSync } from 'node:fs';
import { type Deferred, gatherResults, succeed } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IDelayedCall, IListeningPort, IReactorCore, IReactorTime } from 'torsion/reactor';
import { escapeHtml, type IResource, type Request, Resource, Site } from 'torsion/web';

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

/** An HTML page with `title` as its title and heading, and `body` below. */
function page(title: string, body: string): string {
  const t = escapeHtml(title);
  return `<!DOCTYPE html>\n<title>${t}</title>\n<h1>${t}</h1>\n${body}`;
}

/** The root of the web site: the list of users at /, and a page per user below it. */
export class FingerResource extends Resource {
  constructor(readonly service: FingerService) {
    super();
  }

  // The path's first segment is the user name; "" (the path "/") is the list.
  override getChild(username: string, _request: Request): IResource {
    if (username === '') return new UserListPage(this.service.users);
    return new UserPage(username, this.service.users.get(username));
  }
}

/** Lists every user with their status. */
export class UserListPage extends Resource {
  override isLeaf = true;

  constructor(readonly users: ReadonlyMap<string, string>) {
    super();
  }

  render_GET(request: Request): string {
    const items = [...this.users].map(
      ([user, status]) =>
        `<li><a href="/${escapeHtml(encodeURIComponent(user))}">${escapeHtml(user)}</a>: ` +
        `${escapeHtml(status)}</li>\n`,
    );
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return page('Users', `<ul>\n${items.join('')}</ul>\n`);
  }
}

/** One user's status; 404 when there is no such user. */
export class UserPage extends Resource {
  override isLeaf = true;

  constructor(
    readonly user: string,
    readonly status: string | undefined,
  ) {
    super();
  }

  render_GET(request: Request): string {
    if (this.status === undefined) request.setResponseCode(404);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return page(this.user, `<p>${escapeHtml(this.status ?? 'No such user')}</p>\n`);
  }
}

/** Keeps the users of a file, re-read every 30 seconds, and makes the factory and the resource that serve them. */
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

  getResource(): IResource {
    return new FingerResource(this);
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
      serverFromString(reactor, options.endpoint ?? 'tcp:1079').listen(f.getFingerFactory()),
      serverFromString(reactor, options.webEndpoint ?? 'tcp:8000').listen(
        new Site(f.getResource(), { clock: reactor }),
      ),
    ],
    { consumeErrors: true },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const { listenOrExit } = await import('../_cli.js');
  const usage =
    'node dist/examples/finger/finger15.js [endpoint] [web endpoint] [users file]   (defaults tcp:1079, tcp:8000)';
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
