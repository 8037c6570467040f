// Running a program and collecting what it prints or its exit code, as a
// Deferred (Twisted: twisted.internet.utils).
// Tests: test/unit/internet/utils.test.ts, test/integration/process-utils.test.ts

/**
 * Run a program to completion and get its output or exit code as a
 * Deferred: `getProcessOutput` (standard output; standard error is an
 * error unless `errortoo`), `getProcessValue` (the exit code) and
 * `getProcessOutputAndValue` (both outputs and the code). Built on
 * `spawnProcess`: no shell, an empty environment unless `env` is given.
 * Twisted: `twisted.internet.utils`.
 *
 * @example
 * ```ts
 * import { getProcessOutput, getProcessValue } from 'torsion/utils';
 *
 * const listing = await getProcessOutput('ls', ['-l', '/tmp']);
 * console.log(listing.toString('utf8'));
 * const status = await getProcessValue('sh', ['-c', 'exit 3']);
 * console.log(`exit code ${status}`);
 * ```
 *
 * @module torsion/utils
 * @primaryExport
 */

import { Deferred } from './defer.js';
import { ProcessTerminated, TorsionError } from './error.js';
import type { Failure } from './failure.js';
import type { IReactorProcess } from './interfaces.js';
import { ProcessProtocol } from './protocol.js';
import { globalReactor } from './task/_global-reactor.js';

/**
 * Options of {@link getProcessValue}, shared by the other helpers.
 *
 * @since 0.1.0
 */
export interface ProcessUtilsOptions {
  /**
   * The program's environment.
   * @defaultValue empty, as Twisted's; pass `{ ...process.env }` to hand down this process's
   */
  env?: Readonly<Record<string, string>> | undefined;
  /** The program's working directory. @defaultValue this process's */
  path?: string | undefined;
  /**
   * The reactor to spawn the program with.
   * @defaultValue the global `reactor` of torsion/reactor, loaded at the first call
   */
  reactor?: IReactorProcess | undefined;
}

/**
 * Options of {@link getProcessOutput}.
 *
 * @since 0.1.0
 */
export interface GetProcessOutputOptions extends ProcessUtilsOptions {
  /**
   * Whether standard error counts as output (mixed in as it comes) rather
   * than as an error.
   * @defaultValue false
   */
  errortoo?: boolean | undefined;
}

/**
 * Options of {@link getProcessOutputAndValue}.
 *
 * @since 0.1.0
 */
export interface GetProcessOutputAndValueOptions extends ProcessUtilsOptions {
  /** Bytes written to the program's standard input, which is then closed. */
  stdinBytes?: Uint8Array | undefined;
}

/**
 * The program wrote to standard error, and `getProcessOutput` was not told
 * to take that as output (`errortoo`).
 *
 * @remarks
 * The Deferred of `getProcessOutput` fails with this at the first bytes on
 * standard error, and the program's pipes are closed (it usually ends with
 * `SIGPIPE` or an error of its own). `processEnded` fires with the reason the
 * program ended with (a `ProcessDone` or `ProcessTerminated`) once it has.
 *
 * Differences from Twisted: Twisted's `_UnexpectedErrorOutput` is an
 * `IOError` whose `processEnded` Deferred fails with the reason; here it is
 * exported, carries the bytes as `stderr`, and `processEnded` fires with the
 * reason's error rather than failing, so that nobody need listen to it.
 *
 * @see Twisted: twisted.internet.utils._UnexpectedErrorOutput
 * @since 0.1.0
 */
export class UnexpectedErrorOutput extends TorsionError {
  override name = 'UnexpectedErrorOutput' as const;
  override readonly code = 'ERR_UNEXPECTED_ERROR_OUTPUT' as const;
  /** The first bytes the program wrote to standard error. */
  readonly stderr: Buffer;
  /** Fires with the reason the program ended, once it has. */
  readonly processEnded: Deferred<Error>;

  /**
   * @param stderr - The bytes written to standard error.
   * @param processEnded - Fires once the program has ended.
   */
  constructor(stderr: Buffer, processEnded: Deferred<Error>) {
    super(`got stderr: ${JSON.stringify(stderr.toString('utf8'))}`);
    this.stderr = stderr;
    this.processEnded = processEnded;
  }
}

/**
 * A program run by {@link getProcessOutputAndValue} was killed by a signal.
 *
 * @remarks
 * Twisted fails the Deferred with the tuple `(out, err, signal)`; here the
 * tuple is `result`, and each part has its own name.
 *
 * @since 0.1.0
 */
export class ProcessSignalError extends TorsionError {
  override name = 'ProcessSignalError' as const;
  override readonly code = 'ERR_PROCESS_SIGNAL' as const;
  /** What the program wrote to standard output. */
  readonly out: Buffer;
  /** What it wrote to standard error. */
  readonly err: Buffer;
  /** The number of the signal that killed it. */
  readonly signal: number;
  /** That signal's name (`'SIGKILL'`). */
  readonly signalName: string | undefined;
  /** `[out, err, signal]`, as Twisted's failure carries it. */
  readonly result: [out: Buffer, err: Buffer, signal: number];

  /**
   * @param out - Standard output.
   * @param err - Standard error.
   * @param ended - The reason the program ended, which names the signal.
   */
  constructor(out: Buffer, err: Buffer, ended: ProcessTerminated) {
    super(`the process was killed by signal ${ended.signalName ?? ended.signal}`, { cause: ended });
    this.out = out;
    this.err = err;
    this.signal = ended.signal ?? 0;
    this.signalName = ended.signalName;
    this.result = [out, err, this.signal];
  }
}

/** The reason's error when the program could not be started at all, else undefined. */
function startFailure(reason: Failure): ProcessTerminated | undefined {
  const error = reason.value;
  return error instanceof ProcessTerminated && error.cause !== undefined ? error : undefined;
}

/**
 * Spawns `executable` with `protocol` on the given reactor, or the global
 * one once loaded; a throw from `spawnProcess` (malformed arguments) fails
 * `d`.
 */
function spawnWith<T>(
  d: Deferred<T>,
  protocol: ProcessProtocol,
  executable: string,
  args: readonly string[],
  options: ProcessUtilsOptions,
): Deferred<T> {
  const start = (reactor: IReactorProcess): void => {
    try {
      reactor.spawnProcess(protocol, executable, [executable, ...args], {
        env: options.env ?? {},
        ...(options.path === undefined ? {} : { path: options.path }),
      });
    } catch (error) {
      if (!d.called) d.errback(error);
    }
  };
  if (options.reactor !== undefined) start(options.reactor);
  else
    globalReactor().then(start, (error: unknown) => {
      if (!d.called) d.errback(error);
    });
  return d;
}

/** Collects standard output (and standard error with `errortoo`). */
class BackRelay extends ProcessProtocol {
  readonly #deferred: Deferred<Buffer>;
  readonly #errortoo: boolean;
  readonly #chunks: Buffer[] = [];
  #failed: Deferred<Error> | undefined;

  constructor(deferred: Deferred<Buffer>, errortoo: boolean) {
    super();
    this.#deferred = deferred;
    this.#errortoo = errortoo;
  }

  override outReceived(data: Uint8Array): void {
    this.#chunks.push(Buffer.from(data));
  }

  override errReceived(data: Uint8Array): void {
    if (this.#errortoo) {
      this.#chunks.push(Buffer.from(data));
      return;
    }
    if (this.#failed !== undefined || this.#deferred.called) return;
    this.#failed = new Deferred<Error>();
    this.#deferred.errback(new UnexpectedErrorOutput(Buffer.from(data), this.#failed));
    this.transport.loseConnection();
  }

  override processEnded(reason: Failure): void {
    if (this.#failed !== undefined) {
      this.#failed.callback(reason.value as Error);
      return;
    }
    if (this.#deferred.called) return;
    const failed = startFailure(reason);
    if (failed !== undefined) this.#deferred.errback(failed);
    else this.#deferred.callback(Buffer.concat(this.#chunks));
  }
}

/**
 * Runs a program and fires with what it wrote to standard output.
 *
 * @remarks
 * The exit code is not looked at (use {@link getProcessOutputAndValue} for
 * it). By default, output on standard error fails the Deferred at once with
 * an {@link UnexpectedErrorOutput} and closes the program's pipes; with
 * `errortoo` it is mixed into the output instead. A program that cannot be
 * started (no such executable) fails it with a `ProcessTerminated` whose
 * `cause` is Node's error.
 *
 * No shell is involved; `args` does not include the program's name (it is
 * given as `executable`, as Twisted does).
 *
 * Cancellation: cancelling the Deferred stops waiting
 * (`CancelledError`); the program runs on.
 *
 * @param executable - The program: a path, or a name looked up in `PATH`.
 * @param args - Its arguments, without its name.
 * @param options - `env` (default empty), `path`, `reactor` (default the
 *   global one), `errortoo`.
 * @returns A Deferred of the output.
 * @see Twisted: twisted.internet.utils.getProcessOutput
 * @since 0.1.0
 */
export function getProcessOutput(
  executable: string,
  args: readonly string[] = [],
  options: GetProcessOutputOptions = {},
): Deferred<Buffer> {
  const d = new Deferred<Buffer>();
  return spawnWith(d, new BackRelay(d, options.errortoo ?? false), executable, args, options);
}

/** Fires with the exit code. */
class ValueGetter extends ProcessProtocol {
  readonly #deferred: Deferred<number | undefined>;

  constructor(deferred: Deferred<number | undefined>) {
    super();
    this.#deferred = deferred;
  }

  override processEnded(reason: Failure): void {
    if (this.#deferred.called) return;
    const failed = startFailure(reason);
    if (failed !== undefined) this.#deferred.errback(failed);
    else this.#deferred.callback((reason.value as { exitCode?: number | undefined }).exitCode);
  }
}

/**
 * Runs a program and fires with its exit code.
 *
 * @remarks
 * A program killed by a signal has no exit code: the Deferred fires with
 * `undefined`, as Twisted's with `None` (use
 * {@link getProcessOutputAndValue} to learn the signal). A program that
 * cannot be started fails it with a `ProcessTerminated` whose `cause` is
 * Node's error. Its output is read and dropped.
 *
 * Cancellation: cancelling the Deferred stops waiting
 * (`CancelledError`); the program runs on.
 *
 * @param executable - The program: a path, or a name looked up in `PATH`.
 * @param args - Its arguments, without its name.
 * @param options - `env` (default empty), `path`, `reactor` (default the
 *   global one).
 * @returns A Deferred of the exit code.
 * @see Twisted: twisted.internet.utils.getProcessValue
 * @since 0.1.0
 */
export function getProcessValue(
  executable: string,
  args: readonly string[] = [],
  options: ProcessUtilsOptions = {},
): Deferred<number | undefined> {
  const d = new Deferred<number | undefined>();
  return spawnWith(d, new ValueGetter(d), executable, args, options);
}

/** Collects both outputs, and fires with them and the exit code. */
class EverythingGetter extends ProcessProtocol {
  readonly #deferred: Deferred<[Buffer, Buffer, number]>;
  readonly #stdin: Uint8Array | undefined;
  readonly #out: Buffer[] = [];
  readonly #err: Buffer[] = [];

  constructor(deferred: Deferred<[Buffer, Buffer, number]>, stdin: Uint8Array | undefined) {
    super();
    this.#deferred = deferred;
    this.#stdin = stdin;
  }

  override connectionMade(): void {
    if (this.#stdin === undefined) return;
    this.transport.write(this.#stdin);
    this.transport.closeStdin();
  }

  override outReceived(data: Uint8Array): void {
    this.#out.push(Buffer.from(data));
  }

  override errReceived(data: Uint8Array): void {
    this.#err.push(Buffer.from(data));
  }

  override processEnded(reason: Failure): void {
    if (this.#deferred.called) return;
    const failed = startFailure(reason);
    if (failed !== undefined) {
      this.#deferred.errback(failed);
      return;
    }
    const out = Buffer.concat(this.#out);
    const err = Buffer.concat(this.#err);
    const error = reason.value;
    if (error instanceof ProcessTerminated && error.signal !== undefined) {
      this.#deferred.errback(new ProcessSignalError(out, err, error));
    } else {
      this.#deferred.callback([out, err, (error as { exitCode?: number }).exitCode ?? 0]);
    }
  }
}

/**
 * Runs a program and fires with `[stdout, stderr, exitCode]`.
 *
 * @remarks
 * A program killed by a signal fails the Deferred with a
 * {@link ProcessSignalError} carrying both outputs and the signal (Twisted
 * fails it with the tuple). A program that cannot be started fails it with
 * a `ProcessTerminated` whose `cause` is Node's error. With `stdinBytes`,
 * those bytes are written to the program's standard input, which is then
 * closed; otherwise standard input stays open until the program exits.
 *
 * Cancellation: cancelling the Deferred stops waiting
 * (`CancelledError`); the program runs on.
 *
 * @param executable - The program: a path, or a name looked up in `PATH`.
 * @param args - Its arguments, without its name.
 * @param options - `env` (default empty), `path`, `reactor` (default the
 *   global one), `stdinBytes`.
 * @returns A Deferred of standard output, standard error and the exit code.
 * @see Twisted: twisted.internet.utils.getProcessOutputAndValue
 * @since 0.1.0
 */
export function getProcessOutputAndValue(
  executable: string,
  args: readonly string[] = [],
  options: GetProcessOutputAndValueOptions = {},
): Deferred<[out: Buffer, err: Buffer, exitCode: number]> {
  const d = new Deferred<[Buffer, Buffer, number]>();
  return spawnWith(d, new EverythingGetter(d, options.stdinBytes), executable, args, options);
}
