// UNIX-domain stream sockets: listening on a path and connecting to one
// (Twisted: twisted.internet.unix).
// Tests: test/integration/unix.test.ts, test/integration/stream-transport-contract.test.ts

import { chmodSync, lstatSync, readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { Logger } from '../logger/logger.js';
import { Connector, type ConnectTarget } from './_connector.js';
import { ListeningServer, listenNow } from './_listening.js';
import { type SocketHost, StreamTransport } from './_stream-transport.js';
import { UNIXAddress } from './address.js';
import type { Deferred } from './defer.js';
import { BadFileError, CannotListenError } from './error.js';
import type {
  ConnectUNIXOptions,
  IAddress,
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
 * Whether some socket is bound to `path`, as far as this system can tell
 * without blocking: Linux lists bound UNIX sockets in /proc/net/unix.
 * Elsewhere the answer is "yes" (a file that exists is taken to be in use).
 */
function socketInUse(path: string): boolean {
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return true;
  }
  return table.split('\n').some((line) => line.endsWith(` ${path}`));
}

function isSocketFile(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/**
 * A UNIX-domain socket listening on a path.
 *
 * @remarks
 * A socket file left behind by a process that died is replaced: on Linux
 * when no socket is bound to it any more, and anywhere when `wantPID` is set
 * and the lock file's process is gone. A live socket at the path makes
 * listening fail with `CannotListenError` (`EADDRINUSE`).
 *
 * @internal Created by `listenUNIX`; callers see an IListeningPort.
 */
export class UNIXPort implements IListeningPort {
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
    this.#backlog = options.backlog ?? 50;
    this.#mode = options.mode ?? 0o666;
    this.#lock = options.wantPID === true ? new PidLock(`${path}.lock`) : undefined;
    this.#listening = new ListeningServer(host, factory, this);
  }

  /**
   * Binds and listens; the factory is started.
   *
   * @throws {@link CannotListenError} if the path cannot be bound.
   */
  startListening(): void {
    if (this.#listening.listening) return;
    const lock = this.#lock;
    if (lock !== undefined) {
      if (!lock.lock()) throw new CannotListenError('', this.#path, 'Cannot acquire lock');
      if (!lock.clean && isSocketFile(this.#path)) unlinkSync(this.#path);
    }
    let server: Server | undefined;
    try {
      server = this.#bind();
      chmodSync(this.#path, this.#mode);
    } catch (error) {
      lock?.unlock();
      // A failed bind has closed its server already.
      server?.close();
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new CannotListenError('', this.#path, code, { cause: error });
    }
    server.on('connection', (socket: Socket) => this.#accept(socket));
    this.#listening.started(server);
  }

  stopListening(): Deferred<void> {
    // Closing the server removes the socket file; the lock goes with it.
    return this.#listening.stop(false, () => this.#lock?.unlock());
  }

  getHost(): IAddress {
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
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' || !isSocketFile(this.#path) || socketInUse(this.#path))
        throw error;
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
function unixTarget(path: string): ConnectTarget {
  return {
    destination: new UNIXAddress(path),
    describe: path,
    open: () => netConnect({ path, allowHalfOpen: true }),
    addresses: () => ({ host: new UNIXAddress(null), peer: new UNIXAddress(path) }),
    canReset: false,
  };
}

/**
 * A connector to a UNIX socket, already connecting.
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
): Connector {
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
