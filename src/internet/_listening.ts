// Listening servers shared by TCP and UNIX ports: binding at once, and the
// life of a listening socket (errors logged, tracked for shutdown, factory
// started and stopped, a protocol built per accepted socket, running out of
// file descriptors logged). (Twisted: twisted.internet.tcp.Port)
// Tests: test/integration/listen-fence.test.ts, test/integration/stream-transport-contract.test.ts, test/integration/tcp.test.ts, test/integration/unix.test.ts, test/integration/listen-backlog.test.ts, test/integration/listen-emfile.test.ts

import cluster from 'node:cluster';
import { closeSync, openSync } from 'node:fs';
import { Server, type Socket } from 'node:net';
import { Logger } from '../logger/logger.js';
import { buildProtocolFor, type Disconnectable, type SocketHost } from './_stream-transport.js';
import { Deferred } from './defer.js';
import type { IAddress, IProtocol, IProtocolFactory } from './interfaces.js';

const log = new Logger('torsion.internet.tcp');

type ListenArgs =
  | { kind: 'tcp'; host: string; port: number; family: 4 | 6 }
  | { kind: 'path'; path: string };

/**
 * Node's synchronous bind step, `net.Server.prototype._listen2`
 * (`setupListenHandle(address, port, addressType, backlog, fd, flags)`).
 *
 * @internal
 */
export type Listen2 = (
  this: Server,
  address: string,
  port: number,
  addressType: 4 | 6,
  backlog: number,
) => void;

/**
 * Node's private `_listen2`, if `candidate` is a function taking at least
 * the four arguments passed to it here; otherwise null, and TCP ports
 * bind through the public `server.listen` (see {@link listenNow}).
 *
 * @param candidate - What `net.Server.prototype._listen2` is (a parameter so
 *   that tests can try the fallback).
 * @internal
 */
export function findListen2(
  candidate: unknown = (Server.prototype as unknown as { _listen2?: unknown })._listen2,
): Listen2 | null {
  return typeof candidate === 'function' && candidate.length >= 4 ? (candidate as Listen2) : null;
}

/**
 * The Node internals in use, probed once at load. Tests may set `listen2`
 * to null (and restore it) to run the fallback path.
 *
 * @internal
 */
export const nodeInternals: { listen2: Listen2 | null } = {
  // A node:cluster worker must bind through the public
  // listen: only that asks the primary for the shared socket; _listen2 would
  // bind a socket of its own, and the second worker would find the port taken.
  listen2: cluster.isWorker ? null : findListen2(),
};

/** Swallows a bind error emitted after {@link listenNow} has already thrown one. */
function lateBindError(): void {}

/**
 * Binds and listens at once, as Twisted does, so that the bound port is
 * known when this returns; throws the system error instead of emitting it.
 *
 * @remarks
 * Node's `listen({ host })` resolves the host first and binds a tick later;
 * `_listen2` is the synchronous step `listen` calls after that lookup (a
 * private method: found by {@link findListen2}). A UNIX path binds at once
 * through the public `listen({ path })`. Either way Node reports a bind
 * error with `process.nextTick(emit, server, error)`; that call is caught
 * here, to throw the error instead.
 *
 * Fenced, because both are Node internals: an `'error'` listener is on the
 * server before binding, so an error the capture misses is swallowed, never
 * an uncaught exception; a server that is not listening afterwards is
 * closed and an error thrown. Without `_listen2`, a TCP server binds through
 * the public `server.listen({ host, port })`, which finishes on a later
 * turn: this returns false, and the caller learns the outcome from the
 * server's `'listening'` or `'error'` event (the caller must listen for
 * `'error'` itself: the one attached here swallows).
 *
 * @param listen2 - The synchronous bind step, or null for the fallback;
 *   defaults to the one probed.
 * @returns True if the server is listening now; false if a TCP bind goes on
 *   in the background (no `_listen2`).
 * @throws The bind error (a system error with `code`), after closing the
 *   server.
 * @internal
 */
export function listenNow(
  server: Server,
  args: ListenArgs,
  backlog: number,
  listen2: Listen2 | null = nodeInternals.listen2,
): boolean {
  server.on('error', lateBindError);
  if (args.kind === 'tcp' && listen2 === null) {
    server.once('listening', () => server.removeListener('error', lateBindError));
    server.listen({ host: args.host, port: args.port, backlog });
    return false;
  }
  let failure: Error | undefined;
  const nextTick = process.nextTick;
  process.nextTick = function capture(callback: (...a: never[]) => void, ...rest: unknown[]): void {
    if (rest[0] === server && rest[1] instanceof Error) {
      failure ??= rest[1];
      return;
    }
    Reflect.apply(nextTick, process, [callback, ...rest]);
  } as typeof process.nextTick;
  try {
    if (args.kind === 'path') server.listen({ path: args.path, backlog });
    else listen2?.call(server, args.host, args.port, args.family, backlog);
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
  } finally {
    process.nextTick = nextTick;
  }
  if (failure === undefined && !server.listening) {
    failure = new Error('the socket did not start listening, and Node reported no error');
  }
  if (failure !== undefined) {
    // lateBindError stays: an error Node emits later must not go uncaught.
    server.close();
    throw failure;
  }
  server.removeListener('error', lateBindError);
  return true;
}

/**
 * Notices the process running out of file descriptors while ports listen,
 * and logs it once per episode: a warning when it starts, a line when
 * descriptors are free again.
 *
 * @remarks
 * When `accept()` fails with EMFILE or ENFILE, libuv closes a descriptor it
 * keeps in reserve, accepts every waiting connection, closes each at once
 * (the client sees its connection closed) and takes the reserve back; Node
 * hears nothing, so the refusals cannot be counted, only the exhaustion
 * seen. While a port listens, an unreferenced timer opens and closes
 * `/dev/null` every {@link DescriptorWatch.interval} seconds: a failure
 * with EMFILE or ENFILE is the exhaustion. A process-wide watch, on Node's
 * timers: it belongs to the process, not to a reactor's schedule, and never
 * keeps the process alive.
 *
 * @internal
 */
export class DescriptorWatch {
  /** Seconds between two probes. */
  static interval = 1;
  readonly #ports = new Set<Disconnectable>();
  #timer: NodeJS.Timeout | undefined;
  /** When the current shortage was first seen (ms, performance.now()), if one is on. */
  #since: number | undefined;

  /** Watches while `port` listens. */
  add(port: Disconnectable): void {
    this.#ports.add(port);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.check(), DescriptorWatch.interval * 1000);
      this.#timer.unref();
    }
  }

  /** `port` stopped listening; the watch stops with the last one. */
  remove(port: Disconnectable): void {
    this.#ports.delete(port);
    if (this.#ports.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#since = undefined;
    }
  }

  /** Probes once, logging a change from plenty to none and back. */
  check(): void {
    const shortage = probe();
    if (shortage !== undefined && this.#since === undefined) {
      this.#since = performance.now();
      log.warn(
        'Out of file descriptors ({code}): connections to {ports} are accepted and closed at once, unserved, until descriptors are freed',
        { code: shortage, ports: [...this.#ports].map(String).join(', ') },
      );
    } else if (shortage === undefined && this.#since !== undefined) {
      const seconds = Math.round((performance.now() - this.#since) / 100) / 10;
      this.#since = undefined;
      log.info('File descriptors available again after about {seconds}s; connections are served', {
        seconds,
      });
    }
  }
}

/** 'EMFILE' or 'ENFILE' if no file descriptor can be opened now. */
function probe(): string | undefined {
  try {
    closeSync(openSync('/dev/null', 'r'));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? code : undefined;
  }
}

/** The watch over every listening port of this process. @internal */
export const descriptorWatch = new DescriptorWatch();

/**
 * What TCP and UNIX ports share: the life of their listening server (its
 * errors logged, the port tracked for shutdown, the factory started and
 * stopped) and building the protocol for an accepted socket.
 *
 * @internal
 */
export class ListeningServer {
  readonly #host: SocketHost;
  readonly #factory: IProtocolFactory;
  readonly #port: Disconnectable;
  #server: Server | undefined;
  #stopped: Deferred<void> | undefined;

  /**
   * @param host - The reactor.
   * @param factory - The port's factory.
   * @param port - The port, tracked by the reactor while listening.
   */
  constructor(host: SocketHost, factory: IProtocolFactory, port: Disconnectable) {
    this.#host = host;
    this.#factory = factory;
    this.#port = port;
  }

  /** Whether a server was started and not stopped yet. */
  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** Takes a bound server: logs its errors, tracks the port, starts the factory. */
  started(server: Server): void {
    server.on('error', (error) =>
      log.failure('Error on {port}', error, { port: String(this.#port) }),
    );
    try {
      this.#factory.doStart();
    } catch (error) {
      // A factory that cannot start serves nothing: the socket is closed and
      // the listen call throws, as in Twisted, where doStart's error
      // propagates out of listenTCP; nothing is left listening.
      server.close();
      throw error;
    }
    this.#server = server;
    this.#host.track(this.#port);
    descriptorWatch.add(this.#port);
  }

  /**
   * Closes the listening socket (existing connections stay); the factory
   * stops on the next turn, as in Twisted, or at once if `now` (at reactor
   * shutdown, which must be over by the time run() settles).
   *
   * @param closed - Runs right after the socket is closed.
   * @returns A Deferred that fires once the factory has stopped; every call
   *   gets its own.
   */
  stop(now: boolean, closed?: () => void): Deferred<void> {
    const d = new Deferred<void>();
    if (this.#stopped === undefined) {
      const stopped = new Deferred<void>();
      this.#stopped = stopped;
      const server = this.#server;
      this.#server = undefined;
      this.#host.untrack(this.#port);
      descriptorWatch.remove(this.#port);
      if (server === undefined) {
        stopped.callback(undefined);
      } else {
        server.close();
        closed?.();
        const finish = (): void => {
          try {
            this.#factory.doStop();
          } finally {
            stopped.callback(undefined);
          }
        };
        if (now) finish();
        else this.#host.callLater(0, finish);
      }
    }
    this.#stopped.addBoth((result) => {
      d.callback(undefined);
      return result;
    });
    return d;
  }

  /**
   * The protocol for a socket accepted from `peer`, or null: the factory
   * refused it (or threw, which is logged), and the socket is closed.
   */
  protocolFor(socket: Socket, peer: IAddress): IProtocol | null {
    const protocol = buildProtocolFor(this.#factory, peer);
    if (protocol === null) socket.destroy();
    return protocol;
  }
}
