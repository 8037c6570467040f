// Connecting a server and a client protocol back to back in memory, and
// moving their bytes until the connection closes
// (Twisted: twisted.protocols.loopback).
// Tests: test/unit/testing/loopback.test.ts

/**
 * Loopback: a server protocol and a client protocol connected back to back
 * in memory, their bytes moved by a pump policy until one side hangs up. No
 * socket and no real time: a `Clock` drives the deliveries.
 *
 * Use it to test a client and a server against each other; for finer
 * control of what is delivered when, see `torsion/testing`'s
 * `connectedServerAndClient`. Twisted: `twisted.protocols.loopback`.
 *
 * @example
 * ```ts
 * import { Protocol } from 'torsion/protocol';
 * import { loopbackAsync } from 'torsion/protocols/loopback';
 * import { Clock } from 'torsion/task';
 *
 * class Hello extends Protocol {
 *   override connectionMade(): void {
 *     this.transport?.write(Buffer.from('hello'));
 *     this.transport?.loseConnection();
 *   }
 * }
 * const clock = new Clock();
 * const done = loopbackAsync(new Hello(), new Protocol(), undefined, { clock });
 * while (!done.called) clock.advance(0);
 * ```
 *
 * @module torsion/protocols/loopback
 * @primaryExport
 */

import { requireClock } from '../internet/_require-clock.js';
import { Deferred } from '../internet/defer.js';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from '../internet/error.js';
import { Failure } from '../internet/failure.js';
import type {
  IAddress,
  IConsumer,
  IDelayedCall,
  IProtocol,
  IPullProducer,
  IPushProducer,
  IReactorTime,
  ITransport,
} from '../internet/interfaces.js';

// Called when something is put on a queue that loopbackAsync watches.
const listeners = new WeakMap<LoopbackQueue, () => void>();

/**
 * The bytes one side of a loopback connection has written and the other
 * side has not yet received.
 *
 * @remarks
 * A pump policy takes items with {@link LoopbackQueue.get} while
 * {@link LoopbackQueue.length} is nonzero. An item is a chunk of bytes as
 * written, or `undefined`: the writer lost the connection, and nothing
 * after it is meant to be delivered.
 *
 * @see Twisted: twisted.protocols.loopback._LoopbackQueue
 * @since 0.1.0
 */
export class LoopbackQueue {
  /** True once the writing side has called `loseConnection`. */
  disconnect = false;
  readonly #items: Array<Uint8Array | undefined> = [];

  /** How many items are waiting. */
  get length(): number {
    return this.#items.length;
  }

  /**
   * Adds an item: bytes, or `undefined` for the end of the connection.
   */
  put(item: Uint8Array | undefined): void {
    this.#items.push(item);
    listeners.get(this)?.();
  }

  /**
   * Takes the oldest item.
   *
   * @throws Error if the queue is empty.
   */
  get(): Uint8Array | undefined {
    if (this.#items.length === 0) throw new Error('LoopbackQueue.get: the queue is empty');
    return this.#items.shift();
  }
}

/**
 * Empties `queue` into `target`, taking items out of a {@link LoopbackQueue}
 * and calling `target.dataReceived`.
 *
 * @since 0.1.0
 */
export type PumpPolicy = (queue: LoopbackQueue, target: Pick<IProtocol, 'dataReceived'>) => void;

/**
 * Delivers each chunk as it was written, one `dataReceived` per `write`,
 * stopping at the end of the connection. Not very realistic: real
 * transports split and join chunks.
 *
 * @see Twisted: twisted.protocols.loopback.identityPumpPolicy
 * @since 0.1.0
 */
export const identityPumpPolicy: PumpPolicy = (queue, target) => {
  while (queue.length > 0) {
    const chunk = queue.get();
    if (chunk === undefined) break;
    target.dataReceived(chunk);
  }
};

/**
 * Delivers every waiting chunk joined in one `dataReceived`, stopping at
 * the end of the connection.
 *
 * @see Twisted: twisted.protocols.loopback.collapsingPumpPolicy
 * @since 0.1.0
 */
export const collapsingPumpPolicy: PumpPolicy = (queue, target) => {
  const chunks: Uint8Array[] = [];
  while (queue.length > 0) {
    const chunk = queue.get();
    if (chunk === undefined) break;
    chunks.push(chunk);
  }
  if (chunks.length > 0) target.dataReceived(Buffer.concat(chunks));
};

/**
 * The address of both ends of a loopback connection.
 *
 * @see Twisted: twisted.protocols.loopback._LoopbackAddress
 * @since 0.1.0
 */
export class LoopbackAddress implements IAddress {
  /** `LoopbackAddress`. */
  toString(): string {
    return 'LoopbackAddress';
  }
}

/** One side's transport: writes go on the queue the other side reads. */
class LoopbackTransport implements ITransport, IConsumer {
  disconnecting = false;
  /** True once the connection is lost; a producer registered then is stopped at once. */
  disconnected = false;
  producer: IPushProducer | IPullProducer | undefined;
  streamingProducer = false;
  readonly #queue: LoopbackQueue;
  readonly #onAbort: (side: LoopbackTransport) => void;

  constructor(queue: LoopbackQueue, onAbort: (side: LoopbackTransport) => void) {
    this.#queue = queue;
    this.#onAbort = onAbort;
  }

  write(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`write() expects Uint8Array, got ${typeof data}`);
    }
    if (this.disconnecting) return;
    this.#queue.put(new Uint8Array(data));
  }

  writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = Array.from(data);
    for (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError(`writeSequence() expects Uint8Array chunks, got ${typeof chunk}`);
      }
    }
    if (chunks.length > 0) this.write(Buffer.concat(chunks));
  }

  loseConnection(): void {
    if (this.disconnecting) return;
    this.disconnecting = true;
    this.#queue.disconnect = true;
    this.#queue.put(undefined);
  }

  /** Drops what this side has not delivered yet and ends the connection on the next turn. */
  abortConnection(): void {
    if (this.disconnected) return;
    this.disconnecting = true;
    this.#onAbort(this);
  }

  /** The connection is over: stops a registered producer, as a socket transport does. */
  lost(): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.disconnecting = true;
    const producer = this.producer;
    this.producer = undefined;
    producer?.stopProducing();
  }

  getPeer(): IAddress {
    return new LoopbackAddress();
  }

  getHost(): IAddress {
    return new LoopbackAddress();
  }

  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.producer !== undefined) throw new Error('Cannot register two producers');
    if (this.disconnected) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.streamingProducer = streaming;
    this.pollProducer();
  }

  unregisterProducer(): void {
    if (this.producer === undefined) throw new Error('No producer is registered');
    this.producer = undefined;
  }

  /** Asks a pull producer for more, now that what it wrote was delivered. */
  pollProducer(): void {
    if (this.producer !== undefined && !this.streamingProducer) this.producer.resumeProducing();
  }
}

/** Options of {@link loopbackAsync}. */
export interface LoopbackAsyncOptions {
  /**
   * Schedules the delivery of bytes written while the connection is idle:
   * a `Clock` in unit tests, or the reactor. Required: nothing falls back
   * to real time.
   */
  clock: IReactorTime;
}

/**
 * Connects `server` and `client` back to back and moves their bytes until
 * one of them loses the connection.
 *
 * @remarks
 * Both protocols get a transport at once (`makeConnection`, server first),
 * and whatever they wrote meanwhile is delivered at once, by `pumpPolicy`,
 * the server's output first. Bytes written while the connection is idle are
 * delivered on a later turn of `clock` (a `callLater(0, …)`), never from
 * inside the `write` that sent them, as over a real connection. When one
 * side loses the connection, what it wrote before is delivered, then both
 * protocols get `connectionLost` with a Failure of `ConnectionDone` (the
 * server's first), and the returned Deferred fires. `abortConnection()`
 * drops what that side has not delivered yet; on the next turn of `clock`
 * it gets `connectionLost` with `ConnectionAborted`, its peer with
 * `ConnectionLost`, and the Deferred fires. A producer still registered
 * when the connection ends is stopped, as over a socket.
 *
 * In a unit test pass a `Clock` and advance it by 0 until the Deferred
 * fires.
 *
 * Cancellation: cancelling the Deferred stops the loopback: nothing more is
 * delivered, both protocols get `connectionLost` with a Failure of
 * `ConnectionLost`, and the Deferred fails with `CancelledError`.
 *
 * @example
 * ```ts
 * const clock = new Clock();
 * const d = loopbackAsync(new EchoServer(), client, identityPumpPolicy, { clock });
 * while (!d.called) clock.advance(0);
 * ```
 *
 * @param server - The accepting side's protocol.
 * @param client - The connecting side's protocol.
 * @param pumpPolicy - How queued bytes are delivered; default
 *   {@link identityPumpPolicy}.
 * @param options - The clock (required); see {@link LoopbackAsyncOptions}.
 *   Pass `undefined` as `pumpPolicy` to keep the default policy.
 * @returns A Deferred that fires with `undefined` once both sides have been
 *   told the connection is lost.
 * @throws TypeError if `options.clock` is not an `IReactorTime`.
 * @see Twisted: twisted.protocols.loopback.loopbackAsync
 * @since 0.1.0
 */
export function loopbackAsync(
  server: IProtocol,
  client: IProtocol,
  pumpPolicy: PumpPolicy | undefined,
  options: LoopbackAsyncOptions,
): Deferred<void> {
  const clock = requireClock(
    (options as Partial<LoopbackAsyncOptions> | undefined)?.clock,
    'loopbackAsync needs a clock option (IReactorTime)',
  );
  const policy = pumpPolicy ?? identityPumpPolicy;
  const serverToClient = new LoopbackQueue();
  const clientToServer = new LoopbackQueue();
  // Invariant: `waiting` is true only while no delivery is scheduled or running.
  let waiting = false;
  let finished = false;
  let scheduled: IDelayedCall | undefined;
  // The side that called abortConnection; nothing is delivered after that.
  let aborting: LoopbackTransport | undefined;

  const loseBoth = (reason: Error): void => {
    serverTransport.lost();
    clientTransport.lost();
    server.connectionLost(new Failure(reason));
    client.connectionLost(new Failure(reason));
  };
  const abort = (side: LoopbackTransport): void => {
    if (finished || aborting !== undefined) return;
    aborting = side;
    waiting = false;
    scheduled?.cancel();
    // As over a socket, connectionLost comes on a later turn, never from
    // inside abortConnection.
    scheduled = clock.callLater(0, () => {
      scheduled = undefined;
      finished = true;
      serverTransport.lost();
      clientTransport.lost();
      const [first, second] = side === serverTransport ? [server, client] : [client, server];
      first.connectionLost(new Failure(new ConnectionAborted()));
      second.connectionLost(new Failure(new ConnectionLost('the peer aborted the connection')));
      result.callback(undefined);
    });
  };
  const serverTransport = new LoopbackTransport(serverToClient, abort);
  const clientTransport = new LoopbackTransport(clientToServer, abort);
  const result = new Deferred<void>(() => {
    if (finished) return;
    finished = true;
    scheduled?.cancel();
    scheduled = undefined;
    loseBoth(new ConnectionLost('the loopback was cancelled'));
  });

  const pump = (source: LoopbackTransport, queue: LoopbackQueue, target: IProtocol): boolean => {
    if (queue.length === 0) return false;
    policy(queue, target);
    // The source's writes were delivered: a pull producer may write more.
    if (queue.length === 0) source.pollProducer();
    return true;
  };

  const deliver = (): void => {
    while (!finished && aborting === undefined) {
      const serverSent = pump(serverTransport, serverToClient, client);
      const clientSent = pump(clientTransport, clientToServer, server);
      if (!serverSent && !clientSent) {
        waiting = true;
        return;
      }
      let disconnect = false;
      if (serverToClient.disconnect) {
        disconnect = true;
        pump(serverTransport, serverToClient, client);
      } else if (clientToServer.disconnect) {
        disconnect = true;
        pump(clientTransport, clientToServer, server);
      }
      if (disconnect) {
        finished = true;
        loseBoth(new ConnectionDone());
        result.callback(undefined);
      }
    }
  };

  const wake = (): void => {
    if (!waiting || finished || aborting !== undefined) return;
    waiting = false;
    // Not delivered synchronously: no real transport calls dataReceived
    // from inside the write that sent the bytes.
    scheduled = clock.callLater(0, () => {
      scheduled = undefined;
      deliver();
    });
  };
  listeners.set(serverToClient, wake);
  listeners.set(clientToServer, wake);

  server.makeConnection(serverTransport);
  client.makeConnection(clientTransport);
  deliver();
  return result;
}
