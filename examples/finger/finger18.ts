// Finger, stage 18: several protocols sharing one service. A FingerService
// keeps the users of a file (re-read every 30 seconds by a TimerService) and
// the statuses set over the setter port; the finger protocol, the setter
// protocol and a web site are built from it, each a service of one
// application that the `torsion` command runs.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && npx torsion run ./dist/examples/finger/finger18.js
//         [--finger tcp:1079] [--setter tcp:1080:interface=127.0.0.1] [--web tcp:8000]
//         [--users examples/finger/etc.users]   (the defaults; the file is read from the current directory)
// Try it: printf 'moshez\r\nat lunch\r\n' | nc -C 127.0.0.1 1080; then
//         nc -C 127.0.0.1 1079 and type moshez, or curl http://127.0.0.1:8000/moshez

import { readFileSync } from 'node:fs';
import { MultiService, StreamServerEndpointService, TimerService } from 'torsion/app';
import { type Deferred, succeed } from 'torsion/defer';
import { type ServerReactor, serverFromString } from 'torsion/endpoints';
import { ServerFactory } from 'torsion/protocol';
import { LineReceiver } from 'torsion/protocols/basic';
import type { IReactorTime } from 'torsion/reactor';
import {
  escapeHtml,
  type IResource,
  NOT_DONE_YET,
  type Request,
  Resource,
  Site,
} from 'torsion/web';

/** Reads a user name, writes what the service says about the user, and hangs up. */
export class FingerProtocol extends LineReceiver<FingerFactory> {
  override lineReceived(user: Buffer): void {
    const d = this.factory.service.getUser(user.toString('utf8'));
    d.addErrback(() => 'Internal error in server');
    d.addCallback((message) => {
      this.sendLine(message);
      this.transport.loseConnection();
    });
  }
}

/** The finger protocol's factory over the service. */
export class FingerFactory extends ServerFactory<FingerProtocol> {
  override protocol = FingerProtocol;

  constructor(readonly service: FingerService) {
    super();
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
    if (user !== undefined && status !== undefined) this.factory.service.setUser(user, status);
  }
}

/** The setter protocol's factory over the service. */
export class FingerSetterFactory extends ServerFactory<FingerSetterProtocol> {
  override protocol = FingerSetterProtocol;

  constructor(readonly service: FingerService) {
    super();
  }
}

/** The root of the web site: the list of users at /, a UserStatus below it for each. */
export class UserStatusTree extends Resource {
  constructor(readonly service: FingerService) {
    super();
    this.putChild('', this); // the path "/" asks for the child "": the root answers
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
    readonly service: FingerService,
  ) {
    super();
  }

  render_GET(request: Request): Deferred<string> {
    return this.service.getUser(this.user).addCallback((status) => {
      request.setHeader('Content-Type', 'text/html; charset=utf-8');
      const user = escapeHtml(this.user);
      return `<!DOCTYPE html>\n<title>${user}</title>\n<h1>${user}</h1>\n<p>${escapeHtml(status)}</p>\n`;
    });
  }
}

/**
 * Owns the users: those of a file, read when the service starts and again
 * every 30 seconds by its TimerService, and the statuses set over the setter
 * port, which win over the file's. It makes the three front ends.
 */
export class FingerService extends MultiService {
  #fromFile = new Map<string, string>();
  readonly #set = new Map<string, string>();

  constructor(
    readonly filename: string,
    clock: IReactorTime,
  ) {
    super();
    new TimerService(clock, 30, () => this.read()).setServiceParent(this);
  }

  /** Reads the file of "user: status" lines (lines without a colon are skipped). */
  read(): void {
    const users = new Map<string, string>();
    for (const line of readFileSync(this.filename, 'utf8').split('\n')) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      users.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    this.#fromFile = users;
  }

  /** Reads the file first, so that a file that cannot be read stops the start; then starts the timer. */
  override startService(): void {
    this.read();
    super.startService();
  }

  getUser(user: string): Deferred<string> {
    return succeed(this.#set.get(user) ?? this.#fromFile.get(user) ?? 'No such user');
  }

  getUsers(): Deferred<string[]> {
    return succeed([...new Set([...this.#fromFile.keys(), ...this.#set.keys()])]);
  }

  setUser(user: string, status: string): void {
    this.#set.set(user, status);
  }

  getFingerFactory(): FingerFactory {
    return new FingerFactory(this);
  }

  getFingerSetterFactory(): FingerSetterFactory {
    return new FingerSetterFactory(this);
  }

  getResource(): IResource {
    return new UserStatusTree(this);
  }
}

/** What `torsion run` passes from its command line (`--web tcp:8080` becomes `{ web: 'tcp:8080' }`). */
export interface FingerOptions {
  /** Where to listen for finger queries. @defaultValue 'tcp:1079' */
  finger?: string | undefined;
  /** Where to listen for new statuses. @defaultValue 'tcp:1080:interface=127.0.0.1' */
  setter?: string | undefined;
  /** Where the web site listens. @defaultValue 'tcp:8000' */
  web?: string | undefined;
  /** The file of "user: status" lines. @defaultValue 'examples/finger/etc.users' */
  users?: string | undefined;
}

const OPTIONS = ['finger', 'setter', 'web', 'users'];

/** The application: the service first, then a server for each front end. */
export function makeService(
  options: FingerOptions,
  reactor: ServerReactor & IReactorTime,
): MultiService {
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) {
      throw new Error(`finger18: unknown option --${key} (valid: --${OPTIONS.join(', --')})`);
    }
  }
  const application = new MultiService();
  application.name = 'finger';
  const f = new FingerService(options.users ?? 'examples/finger/etc.users', reactor);
  f.name = 'users';
  f.setServiceParent(application);
  const servers: [string, string, ServerFactory | Site][] = [
    ['finger', options.finger ?? 'tcp:1079', f.getFingerFactory()],
    ['setter', options.setter ?? 'tcp:1080:interface=127.0.0.1', f.getFingerSetterFactory()],
    ['web', options.web ?? 'tcp:8000', new Site(f.getResource(), { clock: reactor })],
  ];
  for (const [name, description, factory] of servers) {
    const server = new StreamServerEndpointService(serverFromString(reactor, description), factory);
    server.name = name;
    server.setServiceParent(application);
  }
  return application;
}

/** The same application for a runner that passes the reactor first. */
export default function (
  reactor: ServerReactor & IReactorTime,
  options: FingerOptions = {},
): MultiService {
  return makeService(options, reactor);
}
