// The `finger` plugin of the `torsion` command: the finger tutorial's
// service (users from a file, queried over finger and, optionally, the web)
// (Twisted: the finger tutorial's twisted/plugins/finger_tutorial.py).
// Tests: test/unit/runner/plugins.test.ts

import { readFileSync, statSync } from 'node:fs';
import { MultiService } from '../../app/multi-service.js';
import type { AppReactor } from '../../app/run-app.js';
import { Service } from '../../app/service.js';
import type { IDelayedCall, IReactorTime } from '../../internet/interfaces.js';
import { ServerFactory } from '../../internet/protocol.js';
import { Logger } from '../../logger/logger.js';
import { LineReceiver } from '../../protocols/basic/lines.js';
import { escapeHtml } from '../../web/_html.js';
import type { Request } from '../../web/request.js';
import { type IResource, Resource } from '../../web/resource.js';
import { Site } from '../../web/site.js';
import { checkEndpoints, listenOnEach } from '../_listen.js';
import { type PluginOptions, UsageError } from '../options.js';
import type { TorsionPlugin } from '../plugin.js';

const log = new Logger('torsion.runner.finger');

/** Seconds between two readings of the users file, as in the tutorial. */
const REREAD_INTERVAL = 30;

/**
 * Reads a users file: a `user:status` pair per line (spaces around either
 * are dropped; lines without a colon are skipped).
 *
 * @since 0.1.0
 */
export function parseUsersFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const user = line.slice(0, colon).trim();
    if (user !== '') users.set(user, line.slice(colon + 1).trim());
  }
  return users;
}

/**
 * Knows the users of a file while it runs: reads it when started and again
 * every 30 seconds (a reading that fails is logged and the previous users
 * kept).
 *
 * @since 0.1.0
 */
export class FingerUsersService extends Service {
  /** The users file. */
  readonly filename: string;
  /** Where the re-reading is scheduled. */
  readonly clock: IReactorTime;
  /** The users and their statuses, as last read. */
  users: ReadonlyMap<string, string> = new Map();
  #call: IDelayedCall | null = null;

  /**
   * @param filename - The users file.
   * @param clock - Where the re-reading is scheduled.
   */
  constructor(filename: string, clock: IReactorTime) {
    super();
    this.filename = filename;
    this.clock = clock;
  }

  /**
   * Reads the file and schedules the next reading.
   *
   * @throws the reading error, if the first reading fails.
   */
  override startService(): void {
    this.users = parseUsersFile(readFileSync(this.filename, 'utf8'));
    super.startService();
    this.#schedule();
  }

  /** Stops re-reading the file. */
  override stopService(): void {
    if (this.#call?.active() === true) this.#call.cancel();
    this.#call = null;
    super.stopService();
  }

  /** What finger answers for `user`. */
  getUser(user: string): string {
    return this.users.get(user) ?? 'No such user';
  }

  #schedule(): void {
    this.#call = this.clock.callLater(REREAD_INTERVAL, () => {
      try {
        this.users = parseUsersFile(readFileSync(this.filename, 'utf8'));
      } catch (error) {
        log.warn('could not re-read {file}, keeping the users read before: {error}', {
          file: this.filename,
          error: String(error),
        });
      }
      this.#schedule();
    });
  }
}

/** A factory of FingerProtocols that answer from a {@link FingerUsersService}. */
export class FingerFactory extends ServerFactory<FingerProtocol> {
  override protocol = FingerProtocol;
  /** Where the answers come from. */
  readonly users: FingerUsersService;

  /** @param users - Where the answers come from. */
  constructor(users: FingerUsersService) {
    super();
    this.users = users;
  }
}

/**
 * Reads a user name (a line), writes the user's status, and hangs up.
 *
 * @since 0.1.0
 */
export class FingerProtocol extends LineReceiver<FingerFactory> {
  /** Answers the query in `line` and closes the connection. */
  override lineReceived(line: Buffer): void {
    this.sendLine(this.factory.users.getUser(line.toString('utf8').trim()));
    this.transport.loseConnection();
  }
}

/** An HTML page titled `title`, with `body` below the heading. */
function page(title: string, body: string): string {
  const t = escapeHtml(title);
  return `<!DOCTYPE html>\n<title>${t}</title>\n<h1>${t}</h1>\n${body}`;
}

/**
 * The finger service on the web: `/` lists the users and their statuses,
 * `/USER` shows one (404 for an unknown user).
 *
 * @since 0.1.0
 */
export class FingerResource extends Resource {
  /** Where the answers come from. */
  readonly users: FingerUsersService;

  /** @param users - Where the answers come from. */
  constructor(users: FingerUsersService) {
    super();
    this.users = users;
  }

  /** The list at `""` (the path `/`), else the page of the user the segment names. */
  override getChild(segment: string, _request: Request): IResource {
    return segment === '' ? new UserListPage(this.users.users) : new UserPage(segment, this.users);
  }
}

/** Lists every user with their status. */
class UserListPage extends Resource {
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
class UserPage extends Resource {
  override isLeaf = true;

  constructor(
    readonly user: string,
    readonly users: FingerUsersService,
  ) {
    super();
  }

  render_GET(request: Request): string {
    const status = this.users.users.get(this.user);
    if (status === undefined) request.setResponseCode(404);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return page(this.user, `<p>${escapeHtml(status ?? 'No such user')}</p>\n`);
  }
}

/**
 * `torsion finger --file USERS [--listen ENDPOINT]… [--web ENDPOINT]…`:
 * the finger tutorial's service.
 *
 * @since 0.1.0
 */
export const fingerPlugin: TorsionPlugin = {
  name: 'finger',
  description:
    "The finger tutorial's service: users' statuses from a file, over finger and the web",
  options: [
    {
      name: 'listen',
      type: 'string',
      multiple: true,
      default: ['tcp:1079:interface=127.0.0.1'],
      metavar: 'ENDPOINT',
      help: 'where finger listens (an endpoint string; may be repeated)',
    },
    {
      name: 'file',
      type: 'string',
      metavar: 'PATH',
      help: 'the users file: a "user:status" line per user (required)',
    },
    {
      name: 'web',
      type: 'string',
      multiple: true,
      metavar: 'ENDPOINT',
      help: 'also serve the users on the web there (may be repeated)',
    },
  ],
  check(options: PluginOptions): void {
    checkEndpoints(options.strings('listen'), '--listen');
    if (options.has('web')) checkEndpoints(options.strings('web'), '--web');
    const file = options.optionalString('file');
    if (file === undefined) throw new UsageError('--file PATH is required (the users file)');
    let isFile: boolean;
    try {
      isFile = statSync(options.resolvePath(file)).isFile();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new UsageError(`--file ${JSON.stringify(file)}: cannot read it (${code})`);
    }
    if (!isFile) throw new UsageError(`--file ${JSON.stringify(file)}: not a file`);
  },
  makeService(options: PluginOptions, reactor: AppReactor): MultiService {
    const top = new MultiService();
    const users = new FingerUsersService(options.resolvePath(options.string('file')), reactor);
    users.name = 'finger users';
    users.setServiceParent(top);
    const finger = new FingerFactory(users);
    listenOnEach(top, reactor, options.strings('listen'), finger, 'finger');
    if (options.has('web')) {
      const site = new Site(new FingerResource(users), { clock: reactor });
      listenOnEach(top, reactor, options.strings('web'), site, 'finger web');
    }
    return top;
  },
};

export default fingerPlugin;
