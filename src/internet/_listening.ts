// Listening servers shared by TCP and UNIX ports: binding at once, and the
// life of a listening socket (errors logged, tracked for shutdown, factory
// started and stopped, a protocol built per accepted socket).
// (Twisted: twisted.internet.tcp.Port)
// Tests: test/integration/tcp.test.ts, test/integration/unix.test.ts

import type { Server, Socket } from 'node:net';
import { Logger } from '../logger/logger.js';
import type { Disconnectable, SocketHost } from './_stream-transport.js';
import { Deferred } from './defer.js';
import type { IAddress, IProtocol, IProtocolFactory } from './interfaces.js';

const log = new Logger('torsion.internet.tcp');

type ListenArgs =
  | { kind: 'tcp'; host: string; port: number; family: 4 | 6 }
  | { kind: 'path'; path: string };

/**
 * Binds and listens at once, as Twisted does, so that the bound port is
 * known when this returns; throws the system error instead of emitting it.
 *
 * Node's `listen({ host })` resolves the host first and binds a tick later;
 * `_listen2` is the synchronous step `listen` calls after that lookup (its
 * legacy public alias). Node reports a bind error on the next tick; the
 * error is taken out of that call instead, to be thrown here.
 *
 * @internal
 */
export function listenNow(server: Server, args: ListenArgs, backlog: number): void {
  let failure: Error | undefined;
  const nextTick = process.nextTick;
  process.nextTick = function capture(callback: (...a: never[]) => void, ...rest: unknown[]): void {
    if (rest[0] === server && rest[1] instanceof Error) {
      failure = rest[1];
      return;
    }
    Reflect.apply(nextTick, process, [callback, ...rest]);
  } as typeof process.nextTick;
  try {
    if (args.kind === 'path') {
      server.listen({ path: args.path, backlog });
    } else {
      const listen2 = (server as unknown as { _listen2?: (...a: unknown[]) => void })._listen2;
      if (typeof listen2 !== 'function') {
        throw new Error(
          'this Node.js has no synchronous listen; Torsion needs Node.js 20 or newer',
        );
      }
      listen2.call(server, args.host, args.port, args.family, backlog);
    }
  } finally {
    process.nextTick = nextTick;
  }
  if (failure !== undefined) throw failure;
  if (!server.listening) throw new Error('the socket did not start listening');
}

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
    this.#server = server;
    server.on('error', (error) =>
      log.failure('Error on {port}', error, { port: String(this.#port) }),
    );
    this.#host.track(this.#port);
    this.#factory.doStart();
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
    let protocol: IProtocol | null;
    try {
      protocol = this.#factory.buildProtocol(peer);
    } catch (error) {
      log.failure('Unhandled error in buildProtocol of {factory}; closing the connection', error, {
        factory: this.#factory.constructor.name,
      });
      protocol = null;
    }
    if (protocol === null) socket.destroy();
    return protocol;
  }
}
