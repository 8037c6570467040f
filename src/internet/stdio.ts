// Standard input and output as a transport: a protocol reads the process's
// stdin and writes its stdout, for interactive clients and filters
// (Twisted: twisted.internet.stdio).
// Tests: test/unit/internet/stdio.test.ts, test/integration/stdio.test.ts,
// test/integration/conformance/transports.test.ts (StandardIO back to back),
// test/integration/examples-chat-client.test.ts, test/unit/examples-chat-client.test.ts

/**
 * Standard input and output as a transport: `new StandardIO(protocol,
 * reactor)` gives a protocol the process's stdin as its incoming bytes and
 * stdout as its `transport.write`, so an interactive client or a filter is
 * written as any other protocol (LineReceiver included) and tested with the
 * same doubles. Twisted: `twisted.internet.stdio`.
 *
 * Streams other than the process's own can be given (`{ stdin, stdout }`),
 * which is how tests drive it with `PassThrough`s.
 *
 * @example
 * ```ts
 * import { LineReceiver } from 'torsion/protocols/basic';
 * import { reactor } from 'torsion/reactor';
 * import { StandardIO } from 'torsion/stdio';
 *
 * class Echo extends LineReceiver {
 *   override delimiter = Buffer.from('\n');
 *   override lineReceived(line: Buffer): void {
 *     this.sendLine(line);
 *   }
 * }
 * new StandardIO(new Echo(), reactor);
 * await reactor.run();
 * ```
 *
 * @module torsion/stdio
 * @primaryExport
 */

import type { Readable, Writable } from 'node:stream';
import { Logger } from '../logger/logger.js';
import { bindMethods, TRANSPORT_METHODS } from './_bind.js';
import { isHalfCloseable } from './_half-close.js';
import { Deferred } from './defer.js';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from './error.js';
import { Failure } from './failure.js';
import type {
  IAddress,
  IConsumer,
  IDelayedCall,
  IProtocol,
  IPullProducer,
  IPushProducer,
  IReactorCore,
  IReactorTime,
  ITransport,
  SystemEventTriggerID,
} from './interfaces.js';

const log = new Logger('torsion.internet.stdio');

/**
 * Seconds the reactor's shutdown waits for what was written to standard
 * output to be taken by the reader, before the connection is closed anyway.
 */
const SHUTDOWN_GRACE = 5;

/** Written behind what is buffered to learn when it has gone. */
const EMPTY = new Uint8Array(0);

/** Listens to the process's stdout once it is broken (see StandardIO, "Errors"). */
function ignoreError(): void {}

/**
 * The address of both ends of a {@link StandardIO} transport: a pipe has no
 * address worth naming.
 *
 * @see Twisted: twisted.internet.stdio.PipeAddress
 * @since 0.1.0
 */
export class PipeAddress implements IAddress {
  /** Whether `other` is a pipe address too (they are all alike). */
  equals(other: unknown): boolean {
    return other instanceof PipeAddress;
  }

  /** `PipeAddress()`. */
  toString(): string {
    return 'PipeAddress()';
  }
}

/** Options of {@link StandardIO}: the streams to use instead of the process's own. */
export interface StandardIOOptions {
  /**
   * Where to read from. It should deliver bytes (no `setEncoding`).
   * @defaultValue `process.stdin`
   */
  stdin?: Readable | undefined;
  /**
   * Where to write to. `StandardIO` ends it when the connection closes,
   * unless it is `process.stdout` or `process.stderr`.
   * @defaultValue `process.stdout`
   */
  stdout?: Writable | undefined;
}

/**
 * What {@link StandardIO} needs of a reactor: time, for the calls it
 * schedules, and a `'before'` `'shutdown'` trigger, to flush standard
 * output before the reactor stops. A `NodeReactor` and a
 * `MemoryReactorClock` are both one.
 *
 * @since 0.1.0
 */
export type StandardIOReactor = IReactorTime &
  Pick<IReactorCore, 'addSystemEventTrigger' | 'removeSystemEventTrigger'>;

/**
 * Standard input and output as a transport: what the protocol writes goes
 * to stdout, what arrives on stdin goes to its `dataReceived`.
 *
 * @remarks
 * The protocol's `makeConnection` (and so `connectionMade`) is called by
 * the constructor, and `connectionLost` exactly once, with `ConnectionDone`
 * for a clean close, `ConnectionAborted` after `abortConnection` or an
 * error in a protocol callback, and `ConnectionLost` when a stream failed.
 *
 * Closing: `loseConnection()` stops reading stdin (it does not close it),
 * waits for a registered producer to unregister, sends what is buffered,
 * ends stdout, then calls `connectionLost`. `loseWriteConnection()` does
 * the writing half of that and leaves reading on; a half-closing protocol
 * (one with `readConnectionLost`) is then told `writeConnectionLost`.
 * `abortConnection()` stops both at once, destroys stdout (dropping what
 * Node still buffers) and calls `connectionLost` on the reactor's next turn
 * (`callLater(0)`), as a TCP transport does.
 *
 * The end of stdin (EOF: Ctrl-D on a terminal, the end of a pipe or file)
 * calls `readConnectionLost` on a half-closing protocol, which may go on
 * writing and call `loseConnection` when it is done, and otherwise closes
 * the whole connection as `loseConnection` does: what the protocol wrote
 * is still sent. The connection is lost once both directions are closed.
 *
 * The process's own stdout (and stderr) is never ended or destroyed: ending
 * it would silently swallow every later `console.log`. Where
 * `loseConnection` or `loseWriteConnection` would end it, it is flushed
 * instead and the transport writes no more; the descriptor stays open
 * until the process exits, so a program reading the other end of the pipe
 * sees its end then. After `abortConnection`, what Node already buffers
 * for it is still written. A stream passed as the `stdout` option is ended
 * (or destroyed, after an abort). stdin is only paused, never closed, so
 * that a program writing into it is not sent `SIGPIPE`; a paused
 * `process.stdin` no longer keeps the process alive.
 *
 * Flow control: the transport is a push producer of what it reads
 * (`pauseProducing` pauses stdin). A streaming producer registered on it is
 * paused when stdout's `write` reports a full buffer (Node's
 * `highWaterMark`, 16 KiB by default) and resumed at its `'drain'`; a pull
 * producer is asked for a chunk each time stdout has taken everything.
 * Writes to the process's stdout are synchronous for files and, on Linux,
 * for pipes and terminals, so its buffer is usually empty.
 *
 * Errors never end the process. A failing stream (`EPIPE` on stdout: the
 * reader went away) is logged and ends the connection with
 * `ConnectionLost`; so does stdin destroyed before its end, unlogged. A throw from the protocol's `connectionMade`,
 * `dataReceived`, `readConnectionLost` or `writeConnectionLost`, or from a
 * producer's `pauseProducing` or `resumeProducing`, is logged and aborts the
 * connection (`ConnectionAborted`, whose `cause` is the error); a throw from
 * `connectionLost` or `stopProducing` is logged. Node emits an error for
 * every write to the process's stdout once its reader has gone, and never
 * marks it as failed: after such a failure StandardIO leaves it a listener
 * that ignores them, so that a later `console.log` does not end the
 * process (what it prints is lost).
 *
 * `write`, `writeSequence`, `loseConnection`, `loseWriteConnection`,
 * `abortConnection` and the producer methods work unbound, as Python's bound
 * methods do: `d.addCallback(transport.write)`,
 * `reactor.callLater(1, transport.loseConnection)`.
 *
 * The reactor is used for two things: the `callLater(0)` that reports an
 * abort, and a `'before'` `'shutdown'` trigger. When the reactor stops
 * while the connection is open, the trigger stops a registered producer and
 * closes the connection as `loseConnection` does, and the shutdown waits
 * for that (at most 5 seconds, after which the connection is closed with
 * `ConnectionLost`), so that what was written reaches the terminal before
 * the program ends. The trigger is removed when the connection closes.
 *
 * Differences from Twisted: Twisted's `StandardIO(proto, stdin=0,
 * stdout=1, reactor=None)` takes descriptors and defaults to the global
 * reactor; here the reactor comes second and is required, and streams
 * replace descriptors. Twisted closes the whole connection at once on EOF
 * for a protocol that does not half-close, dropping unsent output; here it
 * is sent first. An error writing stdout ends the connection here, where
 * Twisted only tells a half-closing protocol. `abortConnection` exists
 * here. Twisted closes descriptor 1; the process's stdout is never closed
 * here (see above).
 *
 * @example
 * ```ts
 * import { LineReceiver } from 'torsion/protocols/basic';
 * import { reactor } from 'torsion/reactor';
 * import { StandardIO } from 'torsion/stdio';
 *
 * class Shout extends LineReceiver {
 *   override delimiter = Buffer.from('\n');
 *   override lineReceived(line: Buffer): void {
 *     this.sendLine(line.toString('utf8').toUpperCase());
 *   }
 *   override connectionLost(): void {
 *     reactor.stop();
 *   }
 * }
 * new StandardIO(new Shout(), reactor);
 * await reactor.run();
 * ```
 *
 * @see Twisted: twisted.internet.stdio.StandardIO
 * @since 0.1.0
 */
export class StandardIO implements ITransport, IConsumer, IPushProducer {
  readonly #protocol: IProtocol;
  readonly #reactor: StandardIOReactor;
  readonly #stdin: Readable;
  readonly #stdout: Writable;
  /** Whether stdout may be ended and destroyed: not the process's own. */
  readonly #ownsStdout: boolean;
  readonly #address = new PipeAddress();
  /** open → disconnecting (closing, or aborted) → closed (connectionLost called). */
  #state: 'open' | 'disconnecting' | 'closed' = 'open';
  /** Our listeners are on stdin. */
  #reading = true;
  /** stdin has ended, or failed. */
  #readDone = false;
  /** open → closing (no more writes; flushing or ending) → closed (done, or failed). */
  #writeSide: 'open' | 'closing' | 'closed' = 'open';
  /** Why the connection is closing, when it is not a clean close. */
  #reason: Failure | undefined;
  /** The close that `loseConnection` asked for has started (it may be reached twice). */
  #flushing = false;
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  /** The streaming producer was paused because stdout's buffer was full. */
  #producerPaused = false;
  /** Counts the waits armed for a pull producer: only the latest one's notice counts. */
  #pullWait = 0;
  /** The `'before'` `'shutdown'` trigger, until it runs or the connection closes. */
  #trigger: SystemEventTriggerID | undefined;
  /** Fires when the connection is lost, if the reactor's shutdown is waiting for that. */
  #shutdown: Deferred<void> | undefined;
  /** Ends the shutdown's wait (see SHUTDOWN_GRACE). */
  #grace: IDelayedCall | undefined;
  /** Reports an abort on the reactor's next turn. */
  #abortCall: IDelayedCall | undefined;
  /** A write to stdout has failed. */
  #stdoutBroken = false;

  /**
   * Connects `protocol` to standard input and output, and calls its
   * `makeConnection` at once.
   *
   * @param protocol - The protocol to connect.
   * @param reactor - Schedules the report of an abort, and flushes stdout
   *   before it shuts down; see {@link StandardIOReactor}.
   * @param options - Streams to use instead of `process.stdin` and
   *   `process.stdout` (for tests, or to embed a protocol in a pipeline).
   */
  constructor(protocol: IProtocol, reactor: StandardIOReactor, options: StandardIOOptions = {}) {
    this.#protocol = protocol;
    this.#reactor = reactor;
    bindMethods(this, TRANSPORT_METHODS);
    const stdin = options.stdin ?? process.stdin;
    const stdout = options.stdout ?? process.stdout;
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#ownsStdout = stdout !== process.stdout && stdout !== process.stderr;
    stdout.on('error', this.#onWriteError);
    stdout.on('drain', this.#onDrain);
    stdin.on('error', this.#onReadError);
    stdin.on('end', this.#onEnd);
    stdin.on('close', this.#onReadClosed);
    // Flowing starts on a later turn: nothing arrives before connectionMade.
    stdin.on('data', this.#onData);
    this.#trigger = reactor.addSystemEventTrigger('before', 'shutdown', this.#onShutdown);
    try {
      protocol.makeConnection(this);
    } catch (error) {
      this.#protocolFailed('connectionMade', error);
    }
  }

  /**
   * Writes `data` to stdout, after what was written before.
   *
   * @remarks
   * Ignored once the writing side is closing or closed
   * (`loseWriteConnection`, the end of `loseConnection`, an abort, a
   * failed stdout).
   *
   * @throws TypeError if `data` is not a `Uint8Array`.
   */
  write(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(
        `write() expects a Uint8Array, got ${data === null ? 'null' : typeof data}`,
      );
    }
    if (this.#writeSide !== 'open') return;
    if (!this.#stdout.write(data)) this.#bufferFull();
  }

  /**
   * Writes each chunk in turn, as one write where stdout can (corked).
   *
   * @throws TypeError if a chunk is not a `Uint8Array`; nothing is written then.
   */
  writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = [...data];
    for (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError(
          `writeSequence() expects Uint8Arrays, got ${chunk === null ? 'null' : typeof chunk}`,
        );
      }
    }
    if (this.#writeSide !== 'open') return;
    const stdout = this.#stdout;
    let full = false;
    stdout.cork();
    for (const chunk of chunks) full = !stdout.write(chunk) || full;
    stdout.uncork();
    if (full) this.#bufferFull();
  }

  /** Whether `loseConnection` or `abortConnection` was called, or the connection is closing or closed. */
  get disconnecting(): boolean {
    return this.#state !== 'open';
  }

  /**
   * Stops reading stdin, then closes once a registered producer has
   * unregistered and stdout has taken everything written.
   */
  loseConnection(): void {
    if (this.#state !== 'open') return;
    this.#state = 'disconnecting';
    this.#stopReading();
    this.#closeWhenFlushed();
  }

  /**
   * Closes the writing side once what is written has been sent; reading
   * goes on. A half-closing protocol's `writeConnectionLost` is called then.
   */
  loseWriteConnection(): void {
    if (this.#state === 'closed') return;
    this.#closeWriteSide();
  }

  /** Closes at once, dropping what is not yet written; `connectionLost` follows on the next turn. */
  abortConnection(): void {
    if (this.#state === 'closed' || this.#abortCall !== undefined) return;
    this.#reason ??= new Failure(new ConnectionAborted());
    this.#abort();
  }

  /** A {@link PipeAddress}. */
  getPeer(): PipeAddress {
    return this.#address;
  }

  /** A {@link PipeAddress}. */
  getHost(): PipeAddress {
    return this.#address;
  }

  /**
   * Registers the producer that writes to this transport.
   *
   * @remarks
   * Once the writing side is closed, the producer is told to stop at once.
   *
   * @param producer - The producer.
   * @param streaming - True for a push producer, false for a pull producer.
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error(
        `Cannot register producer ${String(producer)}, because producer ${String(this.#producer)} was never unregistered.`,
      );
    }
    if (this.#state === 'closed' || this.#writeSide !== 'open') {
      this.#tellProducerToStop(producer);
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (!streaming) this.#askPullProducer(producer as IPullProducer);
    else if (this.#stdout.writableNeedDrain) this.#bufferFull();
  }

  /** Forgets the producer; a `loseConnection` waiting for it goes on. */
  unregisterProducer(): void {
    this.#producer = null;
    this.#producerPaused = false;
    this.#pullWait++;
    if (this.#state === 'disconnecting') this.#closeWhenFlushed();
  }

  /** Stops delivering stdin's data until `resumeProducing`. */
  pauseProducing(): void {
    if (this.#reading) this.#stdin.pause();
  }

  /** Delivers stdin's data again after `pauseProducing`. */
  resumeProducing(): void {
    if (this.#reading) this.#stdin.resume();
  }

  /** Stops for good: the same as `loseConnection`. */
  stopProducing(): void {
    this.loseConnection();
  }

  /** `<StandardIO open>` */
  toString(): string {
    return `<${this.constructor.name} ${this.#state}>`;
  }

  // Listeners: arrow functions, so that they can be removed again.

  readonly #onData = (data: Buffer | string): void => {
    if (this.#state !== 'open') return;
    try {
      this.#protocol.dataReceived(typeof data === 'string' ? Buffer.from(data) : data);
    } catch (error) {
      this.#protocolFailed('dataReceived', error);
    }
  };

  /** stdin has ended (EOF). */
  readonly #onEnd = (): void => {
    this.#readDone = true;
    this.#stopReading();
    if (this.#state !== 'open') return;
    const protocol = this.#protocol;
    if (isHalfCloseable(protocol)) {
      try {
        protocol.readConnectionLost();
      } catch (error) {
        this.#protocolFailed('readConnectionLost', error);
        return;
      }
      if (this.#writeSide === 'closed' && this.#state === 'open') this.#closed();
      return;
    }
    // Not half-closeable: close, after what was written. A producer still
    // registered is stopped: nothing else would tell it to unregister.
    this.#state = 'disconnecting';
    this.#stopProducer();
    this.#closeWhenFlushed();
  };

  readonly #onReadError = (error: NodeJS.ErrnoException): void => {
    this.#readDone = true;
    this.#stopReading();
    this.#streamFailed('standard input', error);
  };

  /** stdin was closed (destroyed) before its end: the writer went away. */
  readonly #onReadClosed = (): void => {
    this.#readDone = true;
    this.#stopReading();
    if (this.#state === 'closed') return;
    this.#reason ??= new Failure(new ConnectionLost('standard input was closed before its end'));
    this.#abort();
  };

  readonly #onWriteError = (error: NodeJS.ErrnoException): void => {
    this.#stdoutBroken = true;
    if (this.#state === 'closed') {
      // A write made through us has failed after all (see #releaseStdout).
      if (!this.#ownsStdout) this.#releaseStdout();
      return;
    }
    this.#writeSide = 'closed';
    this.#streamFailed('standard output', error);
  };

  readonly #onDrain = (): void => {
    const producer = this.#producer;
    if (producer === null || !this.#streaming || !this.#producerPaused) return;
    this.#producerPaused = false;
    this.#callProducer(producer, 'resumeProducing');
  };

  readonly #onShutdown = (): Deferred<void> | undefined => {
    this.#trigger = undefined;
    if (this.#state === 'closed') return undefined;
    const shutdown = new Deferred<void>();
    this.#shutdown = shutdown;
    this.#stopProducer();
    if (this.#state === 'open') this.loseConnection();
    else this.#closeWhenFlushed();
    // Fired already if the connection closed at once (nothing to flush).
    if (!shutdown.called) {
      this.#grace = this.#reactor.callLater(SHUTDOWN_GRACE, () => {
        this.#reason ??= new Failure(
          new ConnectionLost('standard output did not take what was written before shutdown'),
        );
        this.#abort();
        this.#closed();
      });
    }
    return shutdown;
  };

  // Internals.

  /** Removes our stdin listeners and pauses it: no more data, and the process may exit. */
  #stopReading(): void {
    if (!this.#reading) return;
    this.#reading = false;
    const stdin = this.#stdin;
    stdin.off('data', this.#onData);
    stdin.off('end', this.#onEnd);
    stdin.off('error', this.#onReadError);
    stdin.off('close', this.#onReadClosed);
    stdin.pause();
  }

  /** stdout's buffer is full: pause a streaming producer until 'drain'. */
  #bufferFull(): void {
    const producer = this.#producer;
    if (producer === null || !this.#streaming || this.#producerPaused) return;
    this.#producerPaused = true;
    this.#callProducer(producer, 'pauseProducing');
  }

  /** Asks the pull producer for a chunk, then waits until stdout has taken everything. */
  #askPullProducer(producer: IPullProducer): void {
    if (!this.#callProducer(producer, 'resumeProducing')) return;
    // It may have unregistered, or closed the connection.
    if (this.#producer !== producer || this.#writeSide !== 'open') return;
    const wait = ++this.#pullWait;
    // The callback of a write queued behind the rest runs once all is taken;
    // the next chunk is asked for on a later turn, so that a producer that
    // never runs out does not starve the event loop.
    this.#stdout.write(EMPTY, () => {
      setImmediate(() => {
        if (wait !== this.#pullWait || this.#producer !== producer) return;
        if (this.#writeSide === 'open') this.#askPullProducer(producer);
      });
    });
  }

  /** Closes once no producer is registered and stdout has taken everything. */
  #closeWhenFlushed(): void {
    if (this.#producer !== null || this.#flushing) return;
    this.#flushing = true;
    if (this.#writeSide === 'closed') this.#closed();
    else this.#closeWriteSide();
  }

  /**
   * Writes no more, and ends stdout after what is buffered (flushes it, for
   * the process's own); then {@link StandardIO.#writeSideClosed}.
   */
  #closeWriteSide(): void {
    if (this.#writeSide !== 'open') return;
    this.#writeSide = 'closing';
    const done = (error?: Error | null): void => this.#writeSideClosed(error ?? undefined);
    const stdout = this.#stdout;
    if (this.#ownsStdout) stdout.end(done);
    else stdout.write(EMPTY, done);
  }

  #writeSideClosed(error: Error | undefined): void {
    if (this.#writeSide === 'closed') return;
    this.#writeSide = 'closed';
    if (this.#state === 'closed') return;
    if (error !== undefined) {
      this.#stdoutBroken = true;
      this.#streamFailed('standard output', error);
      return;
    }
    if (this.#state === 'disconnecting') {
      this.#closed();
      return;
    }
    const protocol = this.#protocol;
    if (isHalfCloseable(protocol)) {
      try {
        protocol.writeConnectionLost?.();
      } catch (failed) {
        this.#protocolFailed('writeConnectionLost', failed);
        return;
      }
    }
    if (this.#readDone && this.#state === 'open') this.#closed();
  }

  /** A stream failed: logged, and the connection is lost with `ConnectionLost`. */
  #streamFailed(stream: string, error: NodeJS.ErrnoException): void {
    if (this.#state === 'closed') return;
    log.warn('{stream} failed ({error}); closing {transport}', {
      stream,
      error: error.code ?? error.message,
      transport: String(this),
    });
    this.#reason ??= new Failure(new ConnectionLost(error.code ?? error.message, { cause: error }));
    this.#abort();
    this.#closed();
  }

  /** Stops reading and writing at once; `connectionLost` follows on the reactor's next turn. */
  #abort(): void {
    if (this.#state === 'open') this.#state = 'disconnecting';
    this.#stopReading();
    const wasOpen = this.#writeSide !== 'closed';
    this.#writeSide = 'closed';
    if (this.#ownsStdout && wasOpen && !this.#stdout.destroyed) this.#stdout.destroy();
    this.#abortCall ??= this.#reactor.callLater(0, () => this.#closed());
  }

  #protocolFailed(callback: string, error: unknown): void {
    log.failure('Unhandled error in {callback} of {protocol}; aborting the connection', error, {
      callback,
      protocol: this.#protocol.constructor.name,
    });
    this.#reason ??= new Failure(
      new ConnectionAborted(`aborted after an error in ${callback}`, { cause: error }),
    );
    this.#abort();
  }

  /** Unregisters the producer, if any, and tells it to stop; a throw is logged. */
  #stopProducer(): void {
    const producer = this.#producer;
    if (producer === null) return;
    this.#producer = null;
    this.#producerPaused = false;
    this.#pullWait++;
    this.#tellProducerToStop(producer);
  }

  #tellProducerToStop(producer: IPushProducer | IPullProducer): void {
    try {
      producer.stopProducing();
    } catch (error) {
      log.failure('Error stopping the producer of {transport}', error, {
        transport: String(this),
      });
    }
  }

  /**
   * Calls the producer's `pauseProducing` or `resumeProducing`. A throw is
   * logged and aborts the connection; false then.
   */
  #callProducer(
    producer: IPushProducer | IPullProducer,
    method: 'pauseProducing' | 'resumeProducing',
  ): boolean {
    try {
      if (method === 'resumeProducing') producer.resumeProducing();
      else (producer as IPushProducer).pauseProducing();
      return true;
    } catch (error) {
      this.#protocolFailed(`the producer's ${method}`, error);
      return false;
    }
  }

  /** The connection is lost: tell the protocol, once, and let go of the streams. */
  #closed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopReading();
    this.#writeSide = 'closed';
    for (const call of [this.#abortCall, this.#grace]) if (call?.active()) call.cancel();
    const trigger = this.#trigger;
    this.#trigger = undefined;
    if (trigger !== undefined) this.#reactor.removeSystemEventTrigger(trigger);
    this.#stopProducer();
    this.#releaseStdout();
    const reason = this.#reason ?? new Failure(new ConnectionDone());
    try {
      this.#protocol.connectionLost(reason);
    } catch (error) {
      log.failure('Unhandled error in connectionLost of {protocol}', error, {
        protocol: this.#protocol.constructor.name,
      });
    }
    this.#shutdown?.callback(undefined);
  }

  /**
   * Removes our stdout listeners. The error listener stays on a stream of
   * our own: ended or destroyed, it goes with us. The process's stdout
   * outlives us, and emits an error for every write that fails, without
   * ever being destroyed: once broken, it is left a listener that ignores
   * them, or the next `console.log` would end the process; otherwise ours
   * goes once the writes made through us have completed, as one of them
   * may still fail.
   */
  #releaseStdout(): void {
    const stdout = this.#stdout;
    stdout.off('drain', this.#onDrain);
    if (this.#ownsStdout) return;
    if (this.#stdoutBroken) {
      if (!stdout.listeners('error').includes(ignoreError)) stdout.on('error', ignoreError);
      stdout.off('error', this.#onWriteError);
      return;
    }
    stdout.write(EMPTY, (error) => {
      if (error == null) stdout.off('error', this.#onWriteError);
    });
  }
}
