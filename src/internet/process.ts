// A child process as a transport: its pipes driven as Node streams, its
// exit and the closing of each pipe reported to a ProcessProtocol in
// Twisted's order (Twisted: twisted.internet.process.Process).
// Tests: test/integration/process.test.ts, test/integration/process-spawn-errors.test.ts, test/unit/internet/process-errors.test.ts

import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { Logger } from '../logger/logger.js';
import { bindMethods } from './_bind.js';
import { ProcessDone, ProcessExitedAlready, ProcessTerminated } from './error.js';
import { Failure } from './failure.js';
import type {
  IAddress,
  IConsumer,
  IProcessProtocol,
  IProcessTransport,
  IPullProducer,
  IPushProducer,
  IReactorCore,
  SpawnProcessOptions,
  SystemEventTriggerID,
} from './interfaces.js';

const log = new Logger('torsion.internet.process');

/** Written behind what is buffered to learn when it has gone. */
const EMPTY = new Uint8Array(0);

/** The short names Twisted translates (`'TERM'` → SIGTERM); any `SIG…` name works too. */
const SHORT_SIGNALS = new Set(['HUP', 'STOP', 'INT', 'KILL', 'TERM']);

/**
 * What a process needs of its reactor: a `'during'` `'shutdown'` trigger,
 * which lets the reactor's program exit while the child runs on.
 *
 * @internal
 */
export type ProcessReactor = Pick<
  IReactorCore,
  'addSystemEventTrigger' | 'removeSystemEventTrigger'
>;

/**
 * The address of both ends of a process transport: a pipe has none worth
 * naming.
 *
 * @see Twisted: twisted.internet.address._ProcessAddress
 * @internal
 */
export class ProcessAddress implements IAddress {
  equals(other: unknown): boolean {
    return other instanceof ProcessAddress;
  }
  toString(): string {
    return 'ProcessAddress()';
  }
}

/** One of the child's descriptors that the parent reads ('r') or writes ('w'). */
interface Pipe {
  readonly kind: 'r' | 'w';
  /** The parent's end; null when the process could not be started. */
  readonly stream: (Readable & Writable) | Readable | Writable | null;
}

/**
 * Checks the arguments of `spawnProcess`, throwing a `TypeError` (or an
 * `Error` for `usePTY`) that names what is wrong.
 */
function checkSpawnArguments(
  protocol: IProcessProtocol,
  executable: string,
  args: readonly string[],
  options: SpawnProcessOptions,
): void {
  if (
    protocol === null ||
    typeof protocol !== 'object' ||
    typeof protocol.makeConnection !== 'function'
  ) {
    throw new TypeError('spawnProcess: processProtocol must be a process protocol object');
  }
  if (typeof executable !== 'string' || executable === '' || executable.includes('\0')) {
    throw new TypeError(
      `spawnProcess: executable must be a non-empty string without NUL bytes, got ${JSON.stringify(executable) ?? typeof executable}`,
    );
  }
  if (!Array.isArray(args)) {
    throw new TypeError(`spawnProcess: args must be an array of strings, got ${typeof args}`);
  }
  args.forEach((arg: unknown, i) => {
    if (typeof arg !== 'string' || arg.includes('\0')) {
      throw new TypeError(
        `spawnProcess: args[${i}] must be a string without NUL bytes, got ${typeof arg === 'string' ? JSON.stringify(arg) : typeof arg}`,
      );
    }
  });
  if (options.usePTY === true) {
    throw new Error(
      'spawnProcess: usePTY is not supported (Node has no pseudo-terminals); run the program with pipes, or through `script -qc`',
    );
  }
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (
      typeof value !== 'string' ||
      key.includes('=') ||
      key.includes('\0') ||
      value.includes('\0')
    ) {
      throw new TypeError(
        `spawnProcess: env[${JSON.stringify(key)}] must be a string, and the name hold no '=' or NUL byte`,
      );
    }
  }
  if (options.path !== undefined && typeof options.path !== 'string') {
    throw new TypeError(`spawnProcess: path must be a string, got ${typeof options.path}`);
  }
  for (const name of ['uid', 'gid'] as const) {
    const id = options[name];
    if (id !== undefined && !(Number.isInteger(id) && id >= 0)) {
      throw new TypeError(
        `spawnProcess: ${name} must be a non-negative integer, got ${String(id)}`,
      );
    }
  }
  for (const [key, target] of Object.entries(options.childFDs ?? {})) {
    const fd = Number(key);
    if (!Number.isInteger(fd) || fd < 0) {
      throw new TypeError(
        `spawnProcess: childFDs key ${JSON.stringify(key)} is not a descriptor number`,
      );
    }
    if (target !== 'r' && target !== 'w' && !(Number.isInteger(target) && target >= 0)) {
      throw new TypeError(
        `spawnProcess: childFDs[${fd}] must be 'r', 'w' or a descriptor number, got ${JSON.stringify(target)}`,
      );
    }
  }
}

/** A signal as `signalProcess` takes it, as `process.kill` takes it. */
function toSignal(signal: string | number): NodeJS.Signals | number {
  if (typeof signal === 'number') {
    if (Number.isInteger(signal) && signal >= 0) return signal;
  } else if (typeof signal === 'string') {
    const name = SHORT_SIGNALS.has(signal) || !signal.startsWith('SIG') ? `SIG${signal}` : signal;
    if (name in constants.signals) return name as NodeJS.Signals;
  }
  throw new TypeError(
    `signalProcess: unknown signal ${JSON.stringify(signal)}; give a name such as 'TERM', 'KILL', 'SIGUSR1', or a number`,
  );
}

/**
 * A running child process, as its protocol's transport.
 *
 * @remarks
 * Built by `NodeReactor.spawnProcess`; see there for the behaviour.
 *
 * @see Twisted: twisted.internet.process.Process
 * @internal
 */
export class Process implements IProcessTransport, IConsumer, IPushProducer {
  readonly #protocol: IProcessProtocol;
  readonly #reactor: ProcessReactor;
  readonly #child: ChildProcess | undefined;
  /** The descriptors still open, by child descriptor number. */
  readonly #pipes = new Map<number, Pipe>();
  /** The descriptors ever declared writable ('w'): writeToChild accepts only these. */
  readonly #writable = new Set<number>();
  /** The writers being closed: nothing more is written to them. */
  readonly #closing = new Set<number>();
  readonly #address = new ProcessAddress();
  #pid: number | undefined;
  /** The process has exited (or failed to start), and processExited was called. */
  #lostProcess = false;
  #reason: Failure | undefined;
  #ended = false;
  #disconnecting = false;
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  #producerPaused = false;
  /** Counts the waits armed for a pull producer: only the latest one's notice counts. */
  #pullWait = 0;
  #trigger: SystemEventTriggerID | undefined;

  /**
   * Starts `executable` and calls `protocol.makeConnection(this)`.
   *
   * @throws TypeError for malformed arguments; Error for `usePTY: true`.
   */
  constructor(
    reactor: ProcessReactor,
    protocol: IProcessProtocol,
    executable: string,
    args: readonly string[],
    options: SpawnProcessOptions = {},
  ) {
    checkSpawnArguments(protocol, executable, args, options);
    this.#reactor = reactor;
    this.#protocol = protocol;
    bindMethods(this as Process, [
      'write',
      'writeSequence',
      'loseConnection',
      'pauseProducing',
      'resumeProducing',
      'stopProducing',
      'closeStdin',
      'signalProcess',
    ]);
    const childFDs = options.childFDs ?? { 0: 'w', 1: 'r', 2: 'r' };
    const top = Math.max(2, ...Object.keys(childFDs).map(Number));
    const stdio: Array<'pipe' | 'ignore' | number> = [];
    for (let fd = 0; fd <= top; fd++) {
      const target = childFDs[fd];
      stdio.push(target === undefined ? 'ignore' : typeof target === 'number' ? target : 'pipe');
      if (target === 'w') this.#writable.add(fd);
    }
    let child: ChildProcess | undefined;
    let startError: unknown;
    try {
      child = spawn(executable, args.slice(1), {
        argv0: args[0] ?? executable,
        env: { ...(options.env ?? {}) },
        stdio: stdio as StdioOptions,
        ...(options.path === undefined ? {} : { cwd: options.path }),
        ...(options.uid === undefined ? {} : { uid: options.uid }),
        ...(options.gid === undefined ? {} : { gid: options.gid }),
      });
    } catch (error) {
      // Node throws for the errors it does not report by an event (EPERM
      // taking a uid, E2BIG, …): reported the same way, below.
      startError = error;
    }
    this.#child = child;
    this.#pid = child?.pid;
    for (const [key, target] of Object.entries(childFDs)) {
      if (target !== 'r' && target !== 'w') continue;
      const fd = Number(key);
      const stream = (child?.stdio[fd] ?? null) as Pipe['stream'];
      this.#pipes.set(fd, { kind: target, stream });
      if (stream !== null) this.#watch(fd, target, stream);
    }
    if (child !== undefined) {
      child.on('exit', this.#onExit);
      child.on('error', this.#onError);
    }
    this.#trigger = reactor.addSystemEventTrigger('during', 'shutdown', this.#onShutdown);
    try {
      protocol.makeConnection(this);
    } catch (error) {
      log.failure('Unhandled error in makeConnection of {protocol}', error, {
        protocol: protocol.constructor.name,
      });
    }
    if (child === undefined) setImmediate(() => this.#startFailed(startError));
  }

  /** The child's process id, or `undefined` once it has exited (or if it never started). */
  get pid(): number | undefined {
    return this.#pid;
  }

  /** True once `loseConnection` was called or the process has ended. */
  get disconnecting(): boolean {
    return this.#disconnecting || this.#ended;
  }

  /** Writes to the child's standard input; dropped when it has none, or it is closed. */
  write(data: Uint8Array): void {
    checkBytes('write', data);
    this.#writeTo(0, data);
  }

  /** Writes each chunk to the child's standard input, in turn. */
  writeSequence(data: Iterable<Uint8Array>): void {
    const chunks = [...data];
    for (const chunk of chunks) checkBytes('writeSequence', chunk);
    for (const chunk of chunks) this.#writeTo(0, chunk);
  }

  /**
   * Writes to one of the child's descriptors declared `'w'`.
   *
   * @throws Error if `childFD` was not declared `'w'` in `childFDs`.
   */
  writeToChild(childFD: number, data: Uint8Array): void {
    checkBytes('writeToChild', data);
    if (!this.#writable.has(childFD)) {
      throw new Error(
        `writeToChild: the child's descriptor ${childFD} is not one the parent writes to (childFDs: 'w')`,
      );
    }
    this.#writeTo(childFD, data);
  }

  /** Closes the child's standard input, once what was written has gone. */
  closeStdin(): void {
    this.closeChildFD(0);
  }

  /** Stops reading the child's standard output and closes it. */
  closeStdout(): void {
    this.closeChildFD(1);
  }

  /** Stops reading the child's standard error and closes it. */
  closeStderr(): void {
    this.closeChildFD(2);
  }

  /**
   * Closes one of the child's descriptors: a writer once what was written
   * has gone, a reader at once. One already closed, or not a pipe, is ignored.
   */
  closeChildFD(descriptor: number): void {
    const pipe = this.#pipes.get(descriptor);
    if (pipe === undefined || this.#closing.has(descriptor)) return;
    this.#closing.add(descriptor);
    const stream = pipe.stream;
    if (stream === null) return;
    if (pipe.kind === 'w') {
      if (descriptor === 0) this.#stopProducer();
      (stream as Writable).end(() => stream.destroy());
    } else {
      stream.destroy();
    }
  }

  /** Closes standard input, then standard error and standard output, as Twisted. */
  loseConnection(): void {
    this.#disconnecting = true;
    this.closeStdin();
    this.closeStderr();
    this.closeStdout();
  }

  /**
   * Sends the child a signal.
   *
   * @param signal - `'TERM'`, `'KILL'`, `'INT'`, `'HUP'`, `'STOP'`, any
   *   other name with or without `SIG`, or a number.
   * @throws {@link ProcessExitedAlready} once the process has exited;
   *   TypeError for an unknown signal.
   */
  signalProcess(signal: string | number): void {
    const sig = toSignal(signal);
    const pid = this.#pid;
    if (pid === undefined) throw new ProcessExitedAlready();
    try {
      process.kill(pid, sig);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') {
        throw new ProcessExitedAlready('', { cause: error });
      }
      throw error;
    }
  }

  /**
   * Registers the producer of the child's standard input; told to stop at
   * once when there is none.
   *
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error(
        `Cannot register producer ${String(producer)}, because producer ${String(this.#producer)} was never unregistered.`,
      );
    }
    const stdin = this.#openWriter(0);
    if (stdin === null) {
      this.#tellProducerToStop(producer);
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (!streaming) this.#askPullProducer(producer as IPullProducer, stdin);
    else if (stdin.writableNeedDrain) this.#bufferFull();
  }

  /** Forgets the producer of standard input. */
  unregisterProducer(): void {
    this.#producer = null;
    this.#producerPaused = false;
    this.#pullWait++;
  }

  /** Stops reading the child's output until `resumeProducing`. */
  pauseProducing(): void {
    for (const pipe of this.#pipes.values())
      if (pipe.kind === 'r') (pipe.stream as Readable | null)?.pause();
  }

  /** Reads the child's output again. */
  resumeProducing(): void {
    for (const pipe of this.#pipes.values())
      if (pipe.kind === 'r') (pipe.stream as Readable | null)?.resume();
  }

  /** The same as `loseConnection`. */
  stopProducing(): void {
    this.loseConnection();
  }

  /** A process address (a pipe has none worth naming). */
  getPeer(): IAddress {
    return this.#address;
  }

  /** A process address (a pipe has none worth naming). */
  getHost(): IAddress {
    return this.#address;
  }

  /** `<Process pid=1234 status=running>` */
  toString(): string {
    const status = this.#ended ? 'ended' : this.#lostProcess ? 'exited' : 'running';
    return `<Process pid=${this.#pid ?? '-'} status=${status}>`;
  }

  // Internals.

  #watch(fd: number, kind: 'r' | 'w', stream: NonNullable<Pipe['stream']>): void {
    if (kind === 'r') {
      stream.on('data', (data: Buffer) => {
        try {
          this.#protocol.childDataReceived(fd, data);
        } catch (error) {
          log.failure('Unhandled error in childDataReceived of {protocol}', error, {
            protocol: this.#protocol.constructor.name,
          });
        }
      });
      // A socket pair (descriptors above 2) may stay half open: end is the end.
      stream.on('end', () => stream.destroy());
    } else {
      if (fd === 0) stream.on('drain', this.#onDrain);
    }
    // EPIPE (the child closed its end, or exited) and the like: the pipe is
    // lost, as in Twisted, which is reported by 'close'.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      log.debug("The child's descriptor {fd} failed: {error}", {
        fd,
        error: error.code ?? error.message,
      });
    });
    stream.on('close', () => this.#pipeClosed(fd));
  }

  /** The writer of `fd`, if open and not closing. */
  #openWriter(fd: number): Writable | null {
    const pipe = this.#pipes.get(fd);
    if (pipe === undefined || pipe.kind !== 'w' || this.#closing.has(fd)) return null;
    const stream = pipe.stream as Writable | null;
    return stream !== null && !stream.destroyed ? stream : null;
  }

  #writeTo(fd: number, data: Uint8Array): void {
    const stream = this.#openWriter(fd);
    if (stream === null) return;
    if (!stream.write(data) && fd === 0) this.#bufferFull();
  }

  /** stdin's buffer is full: pause a streaming producer until 'drain'. */
  #bufferFull(): void {
    const producer = this.#producer;
    if (producer === null || !this.#streaming || this.#producerPaused) return;
    this.#producerPaused = true;
    this.#callProducer(producer, 'pauseProducing');
  }

  readonly #onDrain = (): void => {
    const producer = this.#producer;
    if (producer === null || !this.#streaming || !this.#producerPaused) return;
    this.#producerPaused = false;
    this.#callProducer(producer, 'resumeProducing');
  };

  /** Asks the pull producer for a chunk, then again once stdin has taken everything. */
  #askPullProducer(producer: IPullProducer, stdin: Writable): void {
    if (!this.#callProducer(producer, 'resumeProducing')) return;
    if (this.#producer !== producer || this.#openWriter(0) !== stdin) return;
    const wait = ++this.#pullWait;
    stdin.write(EMPTY, () => {
      setImmediate(() => {
        if (wait !== this.#pullWait || this.#producer !== producer) return;
        if (this.#openWriter(0) === stdin) this.#askPullProducer(producer, stdin);
      });
    });
  }

  #callProducer(
    producer: IPushProducer | IPullProducer,
    method: 'pauseProducing' | 'resumeProducing',
  ): boolean {
    try {
      if (method === 'resumeProducing') producer.resumeProducing();
      else (producer as IPushProducer).pauseProducing();
      return true;
    } catch (error) {
      log.failure(
        "Error in the {method} of {transport}'s producer; closing standard input",
        error,
        {
          method,
          transport: String(this),
        },
      );
      this.#stopProducer();
      this.closeStdin();
      return false;
    }
  }

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
      log.failure('Error stopping the producer of {transport}', error, { transport: String(this) });
    }
  }

  readonly #onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    const reason =
      code === 0
        ? new ProcessDone(0)
        : signal !== null
          ? new ProcessTerminated(undefined, signal)
          : new ProcessTerminated(code ?? undefined);
    this.#processExited(new Failure(reason));
  };

  /** After a successful start, Node reports only a failed kill here, which signalProcess does not use. */
  readonly #onError = (error: NodeJS.ErrnoException): void => {
    if (this.#pid === undefined && !this.#lostProcess) {
      this.#startFailed(error);
      return;
    }
    log.warn('Child process {transport} reported {error}', {
      transport: String(this),
      error: error.code ?? error.message,
    });
  };

  /** The process could not be started: Node's streams close by themselves; ours are closed here. */
  #startFailed(error: unknown): void {
    if (this.#lostProcess) return;
    log.info('Could not start a child process for {protocol}: {error}', {
      protocol: this.#protocol.constructor.name,
      error: error instanceof Error ? error.message : String(error),
    });
    this.#processExited(new Failure(new ProcessTerminated(1, undefined, { cause: error })));
    for (const [fd, pipe] of [...this.#pipes]) {
      if (pipe.stream === null) this.#pipeClosed(fd);
      else pipe.stream.destroy();
    }
  }

  #processExited(reason: Failure): void {
    if (this.#lostProcess) return;
    this.#lostProcess = true;
    this.#pid = undefined;
    this.#reason = reason;
    try {
      this.#protocol.processExited(reason);
    } catch (error) {
      log.failure('Unhandled error in processExited of {protocol}', error, {
        protocol: this.#protocol.constructor.name,
      });
    }
    this.#maybeEnded();
  }

  #pipeClosed(fd: number): void {
    if (!this.#pipes.delete(fd)) return;
    this.#closing.delete(fd);
    if (fd === 0) this.#stopProducer();
    try {
      this.#protocol.childConnectionLost(fd);
    } catch (error) {
      log.failure('Unhandled error in childConnectionLost of {protocol}', error, {
        protocol: this.#protocol.constructor.name,
      });
    }
    this.#maybeEnded();
  }

  /** processEnded, once the process has exited AND every pipe is closed. */
  #maybeEnded(): void {
    if (this.#ended || !this.#lostProcess || this.#pipes.size > 0) return;
    this.#ended = true;
    const trigger = this.#trigger;
    this.#trigger = undefined;
    if (trigger !== undefined) this.#reactor.removeSystemEventTrigger(trigger);
    try {
      this.#protocol.processEnded(this.#reason as Failure);
    } catch (error) {
      log.failure('Unhandled error in processEnded of {protocol}', error, {
        protocol: this.#protocol.constructor.name,
      });
    }
  }

  /**
   * The reactor is shutting down: the child is not killed (as in Twisted),
   * but no longer keeps this program's event loop alive.
   */
  readonly #onShutdown = (): void => {
    this.#trigger = undefined;
    this.#child?.unref();
    for (const pipe of this.#pipes.values()) {
      const stream = pipe.stream as { unref?: () => void } | null;
      stream?.unref?.();
    }
  };
}

function checkBytes(method: string, data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(
      `${method}() expects a Uint8Array, got ${data === null ? 'null' : typeof data}`,
    );
  }
}
