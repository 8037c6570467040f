// react and runMain: run a main function and the reactor until it has
// finished, then exit with its status; SystemExit chooses the status
// (Twisted: twisted.internet.task.react).
// Tests: test/unit/internet/task-react.test.ts, test/integration/task-react.test.ts

import { constants as osConstants } from 'node:os';
import { Logger } from '../../logger/logger.js';
import { type Deferred, ensureDeferred, maybeDeferred } from '../defer.js';
import { ReactorNotRunning, TorsionError } from '../error.js';
import { Failure } from '../failure.js';
import type { IReactorCore } from '../interfaces.js';
import type { NodeReactor } from '../node-reactor.js';
import { globalReactor } from './_global-reactor.js';
import { isThenable } from './_thenable.js';

const log = new Logger('torsion.internet.task');

/**
 * Raised (or failed with) by a main function to choose the exit status of
 * {@link react}.
 *
 * @remarks
 * Python's `SystemExit(23)`: `throw new SystemExit(23)` inside the main
 * function passed to `react` makes the process exit with status 23, and is
 * not logged as an error.
 *
 * @see Twisted: react's handling of Python's SystemExit
 * @since 0.1.0
 */
export class SystemExit extends TorsionError {
  override name = 'SystemExit' as const;
  override readonly code = 'ERR_SYSTEM_EXIT' as const;
  /** The process exit status: an integer from 0 to 255. */
  readonly exitCode: number;

  /**
   * @param exitCode - The exit status, 0 to 255. Default 0.
   * @param message - Default `exit with status <exitCode>`.
   * @param options - `{ cause }`.
   * @throws RangeError if `exitCode` is not an integer from 0 to 255.
   */
  constructor(exitCode = 0, message?: string, options?: ErrorOptions) {
    if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) {
      throw new RangeError(`an exit status is an integer from 0 to 255, got ${exitCode}`);
    }
    super(message ?? `exit with status ${exitCode}`, options);
    this.exitCode = exitCode;
  }
}

/** The exit status a failure of main asks for, if it is a SystemExit (of any package copy). */
function exitCodeOf(failure: Failure): number | undefined {
  const value = failure.value as { code?: unknown; exitCode?: unknown } | null;
  if (value instanceof SystemExit) return value.exitCode;
  if (typeof value === 'object' && value !== null && value.code === 'ERR_SYSTEM_EXIT') {
    return typeof value.exitCode === 'number' ? value.exitCode : 1;
  }
  return undefined;
}

/** 128 + the number of the signal that stopped the reactor, if one did. */
function signalStatusOf(reactor: IReactorCore): number | undefined {
  const signal = (reactor as { exitSignal?: unknown }).exitSignal;
  if (typeof signal !== 'string') return undefined;
  const number = (osConstants.signals as Record<string, number | undefined>)[signal];
  return number === undefined ? undefined : 128 + number;
}

/** Calls main and gives its outcome, whatever it returns or throws, as a Deferred. */
function callMain(main: (...args: never[]) => unknown, args: unknown[]): Deferred<unknown> {
  return maybeDeferred(() => {
    const result = Reflect.apply(main, undefined, args);
    if (isThenable(result) || Object.prototype.toString.call(result) === '[object Generator]') {
      return ensureDeferred(result as PromiseLike<unknown>);
    }
    return result;
  });
}

/** One turn of Node's event loop, so that promise jobs already queued have run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

/**
 * Runs `main(reactor, ...argv)` and the reactor until main has finished,
 * and gives the exit status that {@link react} would exit with.
 *
 * @remarks
 * `main` is called at once (with the default reactor, as soon as that is
 * loaded), before the reactor runs; it may return a
 * Deferred, a promise (an `async` function), a generator (run as by
 * `inlineCallbacks`) or a plain value, or throw. When its result is known
 * the reactor is stopped, exactly once: not at all if it is already
 * shutting down (a `'before'` `'shutdown'` trigger watches for that), for
 * example because `main` stopped it or a signal did.
 *
 * The exit status is 0 when main succeeds, or never finishes before the
 * reactor stops. When main fails, the failure is logged ("main function
 * encountered error") and the status is 1, unless the error is a
 * {@link SystemExit}, whose `exitCode` is the status and which is not
 * logged. If a signal stopped the reactor (`NodeReactor.exitSignal`), the
 * status is 128 + the signal's number (130 for SIGINT, 143 for SIGTERM),
 * unless main failed with a `SystemExit`, which says otherwise.
 *
 * An `async` main that finishes as a consequence of the shutdown (in a
 * `'during'` trigger, say) is given one more turn of the event loop after
 * the reactor has stopped, so that its promise can settle and count.
 *
 * @param main - Called with the default `reactor`, a {@link NodeReactor}
 *   (loaded by this call, not at import), followed by the elements of
 *   `argv`.
 * @param argv - Extra arguments for `main`. Default none.
 * @returns A promise of the exit status, settled once the reactor has
 *   stopped; it rejects only if the reactor cannot run.
 * @see Twisted: twisted.internet.task.react
 * @since 0.1.0
 */
export function runMain<A extends unknown[]>(
  main: (reactor: NodeReactor, ...argv: A) => unknown,
  argv?: A,
): Promise<number>;
/**
 * Runs `main(reactor, ...argv)` and `reactor` until main has finished, and
 * gives the exit status.
 *
 * @param main - Called with the reactor followed by the elements of `argv`.
 * @param argv - Extra arguments for `main`.
 * @param reactor - The reactor to run.
 * @returns A promise of the exit status, settled once the reactor has stopped.
 */
export function runMain<R extends IReactorCore, A extends unknown[]>(
  main: (reactor: R, ...argv: A) => unknown,
  argv: A,
  reactor: R,
): Promise<number>;
export async function runMain(
  main: (reactor: never, ...argv: never[]) => unknown,
  argv: readonly unknown[] = [],
  given?: IReactorCore,
): Promise<number> {
  // Only an entry point may fall back on the global reactor; loading it
  // here, not at import, keeps torsion/task free of sockets.
  const reactor = given ?? (await globalReactor());
  const finished = callMain(main, [reactor, ...argv]);
  let code = 0;
  let explicitCode = false;
  let stopping = false;
  reactor.addSystemEventTrigger('before', 'shutdown', () => {
    stopping = true;
  });
  const stop = (result: unknown, stopReactor: boolean): void => {
    if (stopReactor) {
      try {
        reactor.stop();
      } catch (error) {
        if (!(error instanceof ReactorNotRunning)) throw error;
      }
    }
    if (result instanceof Failure) {
      const exitCode = exitCodeOf(result);
      if (exitCode !== undefined) {
        code = exitCode;
        explicitCode = true;
      } else {
        log.failure('main function encountered error', result);
        code = 1;
      }
    }
  };
  finished.addBoth((result) => {
    if (stopping) stop(result, false);
    else reactor.callWhenRunning(stop, result, true);
  });
  await reactor.run();
  await nextTurn();
  const signalStatus = signalStatusOf(reactor);
  return signalStatus !== undefined && !explicitCode ? signalStatus : code;
}

/**
 * Runs `main(reactor, ...argv)` and the reactor until main has finished,
 * then exits the process: the way to start a program with a clear end, such
 * as a client or a one-off job.
 *
 * @remarks
 * This is {@link runMain} followed by `process.exit(status)`: 0 when main
 * succeeds, 1 when it fails (the failure is logged), the `exitCode` of a
 * {@link SystemExit} it fails with, 128 + the signal number when a signal
 * stopped the reactor. It stops the reactor exactly once, at the right
 * time. If the reactor cannot run at all, that is logged and the status is 1.
 *
 * @example
 * An echo server that runs until Ctrl-C, as Twisted's `react` programs
 * return a Deferred that never fires:
 * ```ts
 * import { Deferred } from 'torsion/defer';
 * import { Factory, Protocol } from 'torsion/protocol';
 * import { react } from 'torsion/task';
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport.write(data);
 *   }
 * }
 *
 * react((reactor, port: string) => {
 *   const listening = reactor.listenTCP(Number(port), Factory.forProtocol(Echo));
 *   console.log(`echo server on ${String(listening.getHost())}`);
 *   return new Deferred<void>();
 * }, [process.argv[2] ?? '8000']);
 * ```
 *
 * @param main - Called with the default `reactor`, a {@link NodeReactor}
 *   (loaded by this call, not at import), followed by the elements of
 *   `argv`.
 * @param argv - Extra arguments for `main`. Default none.
 * @returns Nothing: the process exits.
 * @see Twisted: twisted.internet.task.react
 * @since 0.1.0
 */
export function react<A extends unknown[]>(
  main: (reactor: NodeReactor, ...argv: A) => unknown,
  argv?: A,
): Promise<never>;
/**
 * Runs `main(reactor, ...argv)` and `reactor` until main has finished, then
 * exits the process.
 *
 * @param main - Called with the reactor followed by the elements of `argv`.
 * @param argv - Extra arguments for `main`.
 * @param reactor - The reactor to run.
 * @returns Nothing: the process exits.
 */
export function react<R extends IReactorCore, A extends unknown[]>(
  main: (reactor: R, ...argv: A) => unknown,
  argv: A,
  reactor: R,
): Promise<never>;
export async function react(
  main: (reactor: never, ...argv: never[]) => unknown,
  argv: unknown[] = [],
  reactor?: IReactorCore,
): Promise<never> {
  let status: number;
  try {
    status = await runMain(
      main as (reactor: IReactorCore, ...argv: unknown[]) => unknown,
      argv,
      reactor ?? (await globalReactor()),
    );
  } catch (error) {
    log.failure('react could not run the reactor', error);
    status = 1;
  }
  process.exit(status);
}
