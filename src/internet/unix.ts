// UNIX-domain stream sockets: listening on a path and connecting to one
// (Twisted: twisted.internet.unix).
// Tests: test/integration/unix.test.ts, test/integration/stream-transport-contract.test.ts, test/reliability/unix-paths.test.ts

import {
  chmodSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  type Stats,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { createServer, connect as netConnect, type Server, Socket } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { Logger } from '../logger/logger.js';
import { bindMethods } from './_bind.js';
import { Connector, type ConnectTarget } from './_connector.js';
import { ListeningServer, listenNow } from './_listening.js';
import { type SocketHost, StreamTransport } from './_stream-transport.js';
import { UNIXAddress } from './address.js';
import type { Deferred } from './defer.js';
import { BadFileError, CannotListenError } from './error.js';
import type {
  ConnectUNIXOptions,
  IListeningPort,
  IProtocolFactory,
  ListenUNIXOptions,
} from './interfaces.js';

const log = new Logger('torsion.internet.unix');

/** Whether process `pid` is alive. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock held by a symbolic link named `<socket>.lock` pointing at the
 * holder's process id (Twisted's FilesystemLock): atomic to take, and stale
 * once the holder has died.
 */
class PidLock {
  readonly path: string;
  /** Whether the previous holder died without unlocking. */
  clean = true;
  #held = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Takes the lock, breaking a stale one; false if a live process holds it. */
  lock(): boolean {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        symlinkSync(String(process.pid), this.path);
        this.#held = true;
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = lockHolder(this.path);
      if (holder !== undefined && isAlive(holder)) return false;
      this.clean = false;
      try {
        unlinkSync(this.path);
      } catch {
        // Another process broke the stale lock first; try again.
      }
    }
    return false;
  }

  unlock(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}

function lockHolder(path: string): number | undefined {
  try {
    const pid = Number(readlinkSync(path));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The longest socket path the system takes, in bytes: `sun_path` (108 bytes
 * on Linux, 104 on macOS and the BSDs) less its terminating NUL. Linux takes
 * a full 108 bytes without the NUL, but libuv silently truncates anything
 * longer, and other programs expect the NUL: 107 is the portable limit.
 */
const MAX_PATH_BYTES =
  process.platform === 'darwin' || process.platform.endsWith('bsd') ? 103 : 107;

/**
 * Why `path` cannot name a socket, or undefined if it can: longer than
 * {@link MAX_PATH_BYTES}, it would be bound (or connected to) truncated.
 */
function tooLong(path: string): string | undefined {
  const length = Buffer.byteLength(path);
  return length > MAX_PATH_BYTES
    ? `path too long (${length} bytes; the limit is ${MAX_PATH_BYTES})`
    : undefined;
}

/**
 * `path` absolute, normalised, its directory's symbolic links resolved: one
 * spelling for every way of naming the same file (`//`, `/./`, `../`,
 * relative to the working directory, a linked directory).
 */
function canonicalPath(path: string): string {
  const absolute = resolve(path);
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
}

/** A line of /proc/net/unix: `Num RefCount Protocol Flags Type St Inode Path`. */
const PROC_NET_UNIX_LINE = /^\s*[0-9a-f]+: (?:[0-9a-f]+ ){5}\s*\d+ (.+)$/i;

/**
 * Whether some socket is bound to `path`, as far as this system can tell
 * without blocking: Linux lists bound UNIX sockets in /proc/net/unix, under
 * the path as their binder spelled it. Both sides are compared resolved, so
 * a socket bound as `/run/x/s` is found when asked for `/run//x/s` or
 * `../x/s`; a socket bound under a relative path (whose binder's directory
 * is unknown) counts as in use when its file name matches. Undefined where
 * there is no such list.
 */
function socketInUse(path: string): boolean | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return undefined;
  }
  const wanted = canonicalPath(path);
  const name = basename(wanted);
  for (const line of table.split('\n')) {
    const bound = PROC_NET_UNIX_LINE.exec(line)?.[1];
    // '@' starts an abstract name, which is no file.
    if (bound === undefined || bound.startsWith('@') || basename(bound) !== name) continue;
    if (!bound.startsWith('/') || canonicalPath(bound) === wanted) return true;
  }
  return false;
}

function statOf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function isSocketFile(path: string): boolean {
  return statOf(path)?.isSocket() === true;
}

/**
 * Why binding `path` failed with EADDRINUSE, as `CannotListenError` says it:
 * a live socket (`'EADDRINUSE'`), or some other file in the way, named
 * (never removed).
 */
function inUseReason(stats: Stats | undefined): string {
  if (stats === undefined || stats.isSocket()) return 'EADDRINUSE';
  const what = stats.isDirectory()
    ? 'a directory'
    : stats.isSymbolicLink()
      ? 'a symbolic link'
      : stats.isFile()
        ? 'a regular file'
        : 'a special file';
  return `EADDRINUSE: ${what}, not a socket, is at the path (left alone)`;
}

/**
 * A UNIX-domain socket listening on a path.
 *
 * @remarks
 * A socket file left behind by a process that died is replaced: on Linux
 * when no socket is bound to it any more, however either side spelled the
 * path, and anywhere when `wantPID` is set and the lock file's process is
 * gone. A live socket at the path makes listening fail with
 * `CannotListenError` (`EADDRINUSE`); so does any other file there (a
 * regular file, a directory), which is never removed. A path longer than
 * the system takes (107 bytes on Linux) fails before anything is created.
 *
 * @internal Created by `listenUNIX`; callers see an IListeningPort.
 */
export class UNIXPort implements IListeningPort<UNIXAddress> {
  readonly #host: SocketHost;
  readonly #path: string;
  readonly #backlog: number;
  readonly #mode: number;
  readonly #lock: PidLock | undefined;
  readonly #listening: ListeningServer;

  constructor(
    host: SocketHost,
    path: string,
    factory: IProtocolFactory,
    options: ListenUNIXOptions = {},
  ) {
    if (typeof path !== 'string' || path === '')
      throw new TypeError('listenUNIX needs a socket path');
    this.#host = host;
    this.#path = path;
    this.#backlog = options.backlog ?? 511;
    this.#mode = options.mode ?? 0o666;
    this.#lock = options.wantPID === true ? new PidLock(`${path}.lock`) : undefined;
    this.#listening = new ListeningServer(host, factory, this);
    bindMethods(this, ['stopListening']);
  }

  /**
   * Binds and listens; the factory is started.
   *
   * @throws {@link CannotListenError} if the path cannot be bound.
   */
  startListening(): void {
    if (this.#listening.listening) return;
    // Checked first: libuv would bind a truncated path and leave it behind.
    const long = tooLong(this.#path);
    if (long !== undefined) throw new CannotListenError('', this.#path, `ENAMETOOLONG: ${long}`);
    const lock = this.#lock;
    if (lock !== undefined) {
      if (!lock.lock()) throw new CannotListenError('', this.#path, 'Cannot acquire lock');
      // The lock's holder died; its socket is stale unless something else
      // (a process not using the lock) is bound to the path.
      if (!lock.clean && isSocketFile(this.#path) && socketInUse(this.#path) !== true)
        unlinkSync(this.#path);
    }
    let server: Server | undefined;
    try {
      server = this.#bind();
      chmodSync(this.#path, this.#mode);
    } catch (error) {
      lock?.unlock();
      // A failed bind has closed its server already.
      server?.close();
      if (error instanceof CannotListenError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new CannotListenError('', this.#path, code, { cause: error });
    }
    server.on('connection', (socket: Socket) => this.#accept(socket));
    try {
      this.#listening.started(server);
    } catch (error) {
      lock?.unlock();
      throw error;
    }
  }

  stopListening(): Deferred<void> {
    // Closing the server removes the socket file; the lock goes with it.
    return this.#listening.stop(false, () => this.#lock?.unlock());
  }

  getHost(): UNIXAddress {
    return new UNIXAddress(this.#path);
  }

  /** Stops listening at reactor shutdown. @internal */
  disconnectNow(): void {
    this.#listening.stop(true, () => this.#lock?.unlock());
  }

  /** `<UNIXPort UNIXAddress('/tmp/sock')>` */
  toString(): string {
    return `<UNIXPort ${String(this.getHost())}>`;
  }

  /** A server listening on the path, replacing a stale socket file. */
  #bind(): Server {
    const args = { kind: 'path', path: this.#path } as const;
    const server = createServer({ allowHalfOpen: true });
    try {
      listenNow(server, args, this.#backlog);
      return server;
    } catch (error) {
      // A socket file nobody is bound to is left over from a dead process.
      // Anything else at the path stays, and says what it is.
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const stats = statOf(this.#path);
      if (stats?.isSocket() !== true || socketInUse(this.#path) !== false) {
        throw new CannotListenError('', this.#path, inUseReason(stats), { cause: error });
      }
    }
    log.info('Replacing the stale socket file {path}', { path: this.#path });
    unlinkSync(this.#path);
    // A new server: the failed one was closed.
    const again = createServer({ allowHalfOpen: true });
    listenNow(again, args, this.#backlog);
    return again;
  }

  #accept(socket: Socket): void {
    const peer = new UNIXAddress(null);
    const protocol = this.#listening.protocolFor(socket, peer);
    if (protocol === null) return;
    new StreamTransport(
      socket,
      protocol,
      new UNIXAddress(this.#path),
      peer,
      this.#host,
      undefined,
      false,
    ).start();
  }
}

/**
 * Where `connectUNIX` connects.
 *
 * @internal
 */
function unixTarget(path: string): ConnectTarget<UNIXAddress> {
  const long = tooLong(path);
  return {
    destination: new UNIXAddress(path),
    describe: long === undefined ? path : `${path} (${long})`,
    open: () => (long === undefined ? netConnect({ path, allowHalfOpen: true }) : refused(long)),
    addresses: () => ({ host: new UNIXAddress(null), peer: new UNIXAddress(path) }),
    canReset: false,
    retryWhenBusy: true,
  };
}

/**
 * A socket that fails at once with `ENAMETOOLONG`, in place of a connection
 * to a truncated path: the attempt fails as any other (clientConnectionFailed).
 */
function refused(reason: string): Socket {
  const socket = new Socket();
  const error: NodeJS.ErrnoException = new Error(reason);
  error.code = 'ENAMETOOLONG';
  process.nextTick(() => socket.destroy(error));
  return socket;
}

/**
 * A connector to a UNIX socket, already connecting.
 *
 * @remarks
 * A path longer than the system takes (107 bytes on Linux) fails the
 * attempt with a `ConnectError` (`ENAMETOOLONG`) instead of connecting to
 * the path truncated.
 *
 * @throws {@link BadFileError} with `checkPID` when no live process holds the
 *   server's lock file (`<path>.lock`).
 * @internal Created by `connectUNIX`.
 */
export function connectUNIX(
  host: SocketHost,
  path: string,
  factory: IProtocolFactory,
  options: ConnectUNIXOptions = {},
): Connector<UNIXAddress> {
  if (typeof path !== 'string' || path === '')
    throw new TypeError('connectUNIX needs a socket path');
  if (options.checkPID === true) {
    const holder = lockHolder(`${path}.lock`);
    if (holder === undefined || !isAlive(holder)) {
      throw new BadFileError(`${path}: no live process holds ${path}.lock`);
    }
  }
  const target = unixTarget(path);
  const connector = new Connector(host, target, factory, options.timeout ?? 30);
  connector.connect();
  return connector;
}
