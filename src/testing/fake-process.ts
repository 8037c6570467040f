// FakeProcessTransport: a child process that a test plays by hand, for
// testing ProcessProtocols without starting processes (what
// MemoryReactor.spawnProcess hands out).
// Tests: test/unit/testing/fake-process.test.ts

import { ProcessDone, ProcessExitedAlready, ProcessTerminated } from '../internet/error.js';
import { Failure } from '../internet/failure.js';
import type {
  IAddress,
  IProcessProtocol,
  IProcessTransport,
  IPullProducer,
  IPushProducer,
} from '../internet/interfaces.js';

/** Options of {@link FakeProcessTransport}. */
export interface FakeProcessTransportOptions {
  /** The pid it reports until it exits. @defaultValue 4242 */
  pid?: number | undefined;
  /**
   * The child's descriptors, as `spawnProcess` takes them; `'w'` and `'r'`
   * are the pipes the fake tracks.
   * @defaultValue `{ 0: 'w', 1: 'r', 2: 'r' }`
   */
  childFDs?: Readonly<Record<number, 'r' | 'w' | number>> | undefined;
}

/** The address of both ends of a {@link FakeProcessTransport}. */
class FakeProcessAddress implements IAddress {
  equals(other: unknown): boolean {
    return other instanceof FakeProcessAddress;
  }
  toString(): string {
    return 'FakeProcessAddress()';
  }
}

/**
 * A child process that the test plays: it records what the protocol writes
 * and asks for, and delivers what the test says the child does, with the
 * events in the order a real process gives them.
 *
 * @remarks
 * The protocol's side: `write`, `writeToChild`, `closeChildFD`,
 * `loseConnection`, `signalProcess` (recorded in `signals`; it kills
 * nothing by itself, and throws `ProcessExitedAlready` once the fake has
 * exited), `registerProducer` and `pauseProducing` are recorded.
 * Closing a descriptor reports `childConnectionLost` at once.
 *
 * The child's side, for the test: {@link FakeProcessTransport.output},
 * {@link FakeProcessTransport.closeFromChild},
 * {@link FakeProcessTransport.exit},
 * {@link FakeProcessTransport.killedBy} and
 * {@link FakeProcessTransport.failToStart}. `processEnded` follows the exit
 * once every pipe is closed, as with a real process; `exit` and `killedBy`
 * close the pipes still open first, unless asked not to (a grandchild that
 * holds them).
 *
 * `connect(protocol)` attaches a protocol (calling its `makeConnection`);
 * `MemoryReactor.spawnProcess` does it.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactor();
 * const protocol = new MyProcessProtocol();
 * const transport = reactor.spawnProcess(protocol, 'wc', ['wc', '-l']);
 * assert.equal(transport.value().toString(), 'what the protocol wrote');
 * transport.output(1, Buffer.from('3\n'));
 * transport.exit(0);
 * ```
 *
 * @since 0.1.0
 */
export class FakeProcessTransport implements IProcessTransport {
  /** The pid, until the fake exits. */
  pid: number | undefined;
  /** The signals `signalProcess` was asked to send, in order. */
  readonly signals: Array<string | number> = [];
  /** The descriptors closed, by either side, in order. */
  readonly closedChildFDs: number[] = [];
  /** The producer registered on standard input, if any. */
  producer: IPushProducer | IPullProducer | null = null;
  /** Whether that producer is a push (streaming) producer. */
  streaming = false;
  /** `'paused'` after `pauseProducing` (reading the child's output stopped), `'stopped'` after `stopProducing`. */
  producerState: 'producing' | 'paused' | 'stopped' = 'producing';
  #protocol: IProcessProtocol | undefined;
  readonly #pipes = new Map<number, 'r' | 'w'>();
  readonly #writable = new Set<number>();
  readonly #written = new Map<number, Buffer[]>();
  readonly #address = new FakeProcessAddress();
  #disconnecting = false;
  #exited: Failure | undefined;
  #ended = false;

  /**
   * @param options - `pid` and `childFDs`.
   */
  constructor(options: FakeProcessTransportOptions = {}) {
    this.pid = options.pid ?? 4242;
    for (const [fd, target] of Object.entries(options.childFDs ?? { 0: 'w', 1: 'r', 2: 'r' })) {
      if (target === 'r' || target === 'w') this.#pipes.set(Number(fd), target);
      if (target === 'w') this.#writable.add(Number(fd));
    }
  }

  /** The protocol attached by {@link FakeProcessTransport.connect}. */
  get protocol(): IProcessProtocol | undefined {
    return this.#protocol;
  }

  /** True after `loseConnection`, or once the process has ended. */
  get disconnecting(): boolean {
    return this.#disconnecting || this.#ended;
  }

  /** Attaches `protocol` and calls its `makeConnection(this)`. */
  connect(protocol: IProcessProtocol): void {
    this.#protocol = protocol;
    protocol.makeConnection(this);
  }

  /**
   * What was written to one of the child's descriptors, all of it.
   *
   * @param childFD - The descriptor. Default 0, standard input.
   */
  value(childFD = 0): Buffer {
    return Buffer.concat(this.#written.get(childFD) ?? []);
  }

  /** The descriptors still open, in order. */
  openChildFDs(): number[] {
    return [...this.#pipes.keys()].sort((a, b) => a - b);
  }

  // The protocol's side.

  /** Records `data` as written to standard input; dropped once it is closed. */
  write(data: Uint8Array): void {
    this.#record(0, data);
  }

  /** Records each chunk as written to standard input. */
  writeSequence(data: Iterable<Uint8Array>): void {
    for (const chunk of data) this.#record(0, chunk);
  }

  /**
   * Records `data` as written to `childFD`.
   *
   * @throws Error if `childFD` is not a descriptor the parent writes (`'w'`).
   */
  writeToChild(childFD: number, data: Uint8Array): void {
    if (!this.#writable.has(childFD)) {
      throw new Error(
        `writeToChild: the child's descriptor ${childFD} is not one the parent writes to`,
      );
    }
    this.#record(childFD, data);
  }

  /** Closes standard input. */
  closeStdin(): void {
    this.closeChildFD(0);
  }

  /** Closes standard output. */
  closeStdout(): void {
    this.closeChildFD(1);
  }

  /** Closes standard error. */
  closeStderr(): void {
    this.closeChildFD(2);
  }

  /** Closes a descriptor and reports `childConnectionLost` at once; an unknown one is ignored. */
  closeChildFD(descriptor: number): void {
    this.#pipeClosed(descriptor);
  }

  /** Closes standard input, standard error and standard output. */
  loseConnection(): void {
    this.#disconnecting = true;
    this.closeStdin();
    this.closeStderr();
    this.closeStdout();
  }

  /**
   * Records the signal.
   *
   * @throws {@link torsion/protocol!ProcessExitedAlready | ProcessExitedAlready} once the fake has exited.
   */
  signalProcess(signal: string | number): void {
    if (this.pid === undefined) throw new ProcessExitedAlready();
    this.signals.push(signal);
  }

  /**
   * Records the producer of standard input; tells it to stop at once when
   * standard input is closed.
   *
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.producer !== null) throw new Error('A producer is already registered');
    if (this.#pipes.get(0) !== 'w') {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.streaming = streaming;
  }

  /** Forgets the producer. */
  unregisterProducer(): void {
    this.producer = null;
  }

  /** Records that reading the child's output was paused. */
  pauseProducing(): void {
    this.producerState = 'paused';
  }

  /** Records that reading the child's output was resumed. */
  resumeProducing(): void {
    this.producerState = 'producing';
  }

  /** Records the stop, and closes as `loseConnection`. */
  stopProducing(): void {
    this.producerState = 'stopped';
    this.loseConnection();
  }

  /** A fake address. */
  getPeer(): IAddress {
    return this.#address;
  }

  /** A fake address. */
  getHost(): IAddress {
    return this.#address;
  }

  // The child's side, played by the test.

  /**
   * The child writes `data` on `childFD`: the protocol's
   * `childDataReceived(childFD, data)`.
   *
   * @throws Error if `childFD` is not an open descriptor the parent reads.
   */
  output(childFD: number, data: Uint8Array | string): void {
    if (this.#pipes.get(childFD) !== 'r') {
      throw new Error(
        `output: the child's descriptor ${childFD} is not open for the parent to read`,
      );
    }
    this.#protocol?.childDataReceived(childFD, typeof data === 'string' ? Buffer.from(data) : data);
  }

  /** The child closes `childFD`: the protocol's `childConnectionLost(childFD)`. */
  closeFromChild(childFD: number): void {
    this.#pipeClosed(childFD);
  }

  /**
   * The child exits with `exitCode`: the pipes still open close (unless
   * `keepPipesOpen`), then `processExited` with `ProcessDone` or
   * `ProcessTerminated`, then `processEnded` once every pipe is closed.
   */
  exit(exitCode: number, options: { keepPipesOpen?: boolean } = {}): void {
    this.#exit(exitCode === 0 ? new ProcessDone() : new ProcessTerminated(exitCode), options);
  }

  /** The child is killed by `signal` (`'SIGTERM'`); as {@link FakeProcessTransport.exit}. */
  killedBy(signal: string, options: { keepPipesOpen?: boolean } = {}): void {
    this.#exit(new ProcessTerminated(undefined, signal), options);
  }

  /**
   * The process could not be started, as the real reactor reports it: the
   * pipes close, then `processExited` and `processEnded` with a
   * `ProcessTerminated` of exit code 1 whose `cause` is `error`.
   *
   * @param error - Node's error, such as one whose `code` is `'ENOENT'`.
   */
  failToStart(error: Error): void {
    this.#exit(new ProcessTerminated(1, undefined, { cause: error }), {});
  }

  #exit(reason: Error, options: { keepPipesOpen?: boolean }): void {
    if (this.#exited !== undefined) throw new Error('The fake process has exited already');
    // Standard input goes with the process; the outputs unless held elsewhere.
    if (options.keepPipesOpen === true) this.#pipeClosed(0);
    else for (const fd of this.openChildFDs()) this.#pipeClosed(fd);
    this.pid = undefined;
    this.#exited = new Failure(reason);
    this.#protocol?.processExited(this.#exited);
    this.#maybeEnded();
  }

  #record(childFD: number, data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(
        `write() expects a Uint8Array, got ${data === null ? 'null' : typeof data}`,
      );
    }
    if (!this.#pipes.has(childFD)) return;
    const chunks = this.#written.get(childFD) ?? [];
    chunks.push(Buffer.from(data));
    this.#written.set(childFD, chunks);
  }

  #pipeClosed(fd: number): void {
    if (!this.#pipes.delete(fd)) return;
    this.closedChildFDs.push(fd);
    if (fd === 0 && this.producer !== null) {
      const producer = this.producer;
      this.producer = null;
      producer.stopProducing();
    }
    this.#protocol?.childConnectionLost(fd);
    this.#maybeEnded();
  }

  #maybeEnded(): void {
    if (this.#ended || this.#exited === undefined || this.#pipes.size > 0) return;
    this.#ended = true;
    this.#protocol?.processEnded(this.#exited);
  }
}
