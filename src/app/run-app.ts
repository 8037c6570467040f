// runApp: run a service tree as a program — logging, a PID file, start,
// SIGINT/SIGTERM, a bounded graceful stop, an exit status, and optionally
// N node:cluster workers (Twisted: twisted.application.runner._runner.Runner
// and twisted.application.app.startApplication, as `twist` uses them).
// Tests: test/unit/app/run-app.test.ts, test/integration/app/run-app.test.ts

import cluster from 'node:cluster';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type {
  IReactorCore,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUNIX,
} from '../internet/interfaces.js';
import { globalReactor } from '../internet/task/_global-reactor.js';
import { globalLogBeginner } from '../logger/beginner.js';
import { textFileLogObserver } from '../logger/file.js';
import { FilteringLogObserver, LogLevelFilterPredicate } from '../logger/filter.js';
import type { ILogObserver } from '../logger/interfaces.js';
import { jsonFileLogObserver } from '../logger/json.js';
import { type LogLevel, logLevelWithName } from '../logger/levels.js';
import { Logger } from '../logger/logger.js';
import { globalLogPublisher } from '../logger/observer.js';
import { startApplication, stopApplication } from './_lifecycle.js';
import { openLogOutput, type ReopenableLogOutput } from './_log-output.js';
import { STARTED_MESSAGE, superviseWorkers } from './_workers.js';
import type { IService } from './service.js';

const log = new Logger('torsion.app');

/**
 * What {@link runApp} needs of a reactor: running, time, and the listening
 * kinds the endpoint strings use.
 *
 * @since 0.1.0
 */
export type AppReactor = IReactorCore & IReactorTime & IReactorTCP & IReactorUNIX & IReactorSSL;

/**
 * Makes the service to run, given the reactor it runs on: what the
 * `torsion` command's plugins and `torsion run` modules provide.
 *
 * @since 0.1.0
 */
export type ServiceMaker = (reactor: AppReactor) => IService | Promise<IService>;

/** Options of {@link runApp}. */
export interface RunAppOptions {
  /** The reactor to run. @defaultValue the global reactor of torsion/reactor, loaded when needed */
  reactor?: AppReactor;
  /** Events below this level are not written. @defaultValue `'info'` */
  logLevel?: LogLevel;
  /**
   * `'text'`: classic lines, `2026-12-03T10:00:00.000Z [torsion.app#info] …`;
   * `'json'`: one JSON object per line, as `jsonFileLogObserver` writes.
   * @defaultValue `'text'`
   */
  logFormat?: 'text' | 'json';
  /**
   * A file to append the log to, reopened on SIGUSR1 (for log rotation);
   * `'-'` for standard output.
   * @defaultValue `'-'`
   */
  logFile?: string;
  /**
   * Seconds the services get to stop (in-flight requests to finish) after
   * SIGINT or SIGTERM, before the remaining connections are closed.
   * @defaultValue 10
   */
  shutdownTimeout?: number;
  /** A file to write the process ID to while running; refused if it names a live process. */
  pidFile?: string;
  /**
   * Worker processes. Above 1, this process becomes the primary of a
   * node:cluster: it forks the workers (each runs the same program, and its
   * `runApp` runs the service, sharing the listening sockets), restarts one
   * that dies, and on SIGINT/SIGTERM drains them all. Pass a
   * {@link ServiceMaker} then, so that the primary builds no service.
   * @defaultValue 1
   */
  workers?: number;
  /** Ends the process with the status. @defaultValue `process.exit` */
  exit?: (code: number) => void;
  /** Names the program in the one-line errors on standard error. @defaultValue `'torsion'` */
  programName?: string;
}

/** Checks the options up front: a bad value is the caller's error, thrown. */
function checkOptions(options: RunAppOptions): void {
  const { shutdownTimeout, workers, logFormat } = options;
  if (shutdownTimeout !== undefined && !(shutdownTimeout >= 0 && shutdownTimeout < 2 ** 31)) {
    throw new RangeError(
      `runApp: shutdownTimeout is a number of seconds, 0 or more, got ${shutdownTimeout}`,
    );
  }
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    throw new RangeError(`runApp: workers is a whole number, 1 or more, got ${workers}`);
  }
  if (logFormat !== undefined && logFormat !== 'text' && logFormat !== 'json') {
    throw new RangeError(`runApp: logFormat is 'text' or 'json', got ${String(logFormat)}`);
  }
  if (options.logLevel !== undefined) logLevelWithName(options.logLevel, 'runApp: logLevel');
}

/** The reason of a failure, on one line. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim() || String(error);
}

/** Something that is undone when the program ends. */
type Cleanup = () => void;

function beginLogging(options: RunAppOptions, cleanups: Cleanup[]): void {
  const output: ReopenableLogOutput = openLogOutput(options.logFile ?? '-');
  const write: ILogObserver =
    options.logFormat === 'json' ? jsonFileLogObserver(output) : textFileLogObserver(output);
  const observer = new FilteringLogObserver(write, [
    new LogLevelFilterPredicate(options.logLevel ?? 'info').predicate,
  ]).observe;
  globalLogBeginner.beginLoggingTo([observer]);
  const reopen = (): void => {
    try {
      output.reopen();
      log.info('Reopened the log file {path}.', { path: options.logFile });
    } catch (error) {
      log.failure('Could not reopen the log file {path}', error, { path: options.logFile });
    }
  };
  if (options.logFile !== undefined && options.logFile !== '-') process.on('SIGUSR1', reopen);
  cleanups.push(() => {
    process.removeListener('SIGUSR1', reopen);
    globalLogPublisher.removeObserver(observer);
    output.close();
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** @throws Error if the file names another live process, or cannot be written. */
function writePidFile(path: string, cleanups: Cleanup[]): void {
  let previous: string | undefined;
  try {
    previous = readFileSync(path, 'utf8').trim();
  } catch {
    // No file: nothing runs.
  }
  if (previous !== undefined) {
    const pid = Number(previous);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(`the PID file ${path} names process ${pid}, which is running`);
    }
    log.info('Replacing the stale PID file {path} (process {previous}).', { path, previous });
  }
  writeFileSync(path, `${process.pid}\n`);
  cleanups.push(() => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
    } catch {
      // Removed by someone else already.
    }
  });
}

/**
 * Runs a service as a program: the way the `torsion` command runs every
 * plugin, and the way to write a server's `main` without boilerplate.
 *
 * @remarks
 * In order: logging begins (level, format, file), the PID file is written,
 * the reactor runs, the service is made (if a {@link ServiceMaker} was
 * given) and started, and once every listening service listens, one line
 * per port says where. On SIGINT or SIGTERM the service tree is stopped:
 * listening ports close first, in-flight work gets `shutdownTimeout`
 * seconds (a drainable server, such as a `Site`, finishes its requests and
 * closes its idle connections), then the reactor closes whatever is still
 * open. A second signal exits at once.
 *
 * The status is 0 after a clean stop, and 1 if the service could not start
 * (a port in use, a maker that threw, …): the reason is then written on one
 * line to standard error as `torsion: cannot start: <reason>`, and logged.
 *
 * In a node:cluster worker (see `workers`), the service is started and the
 * primary told when it is; SIGINT is left to the primary, which passes
 * SIGTERM on.
 *
 * @example
 * ```ts
 * await runApp((reactor) => {
 *   const endpoint = serverFromString(reactor, 'tcp:8080:interface=127.0.0.1');
 *   return new StreamServerEndpointService(endpoint, new Site(new File('.')));
 * }, { shutdownTimeout: 5 });
 * ```
 *
 * @param service - The service, or a function making it.
 * @param options - See {@link RunAppOptions}.
 * @returns The exit status, once the program has stopped; `exit` has been
 *   called with it.
 * @throws RangeError (synchronously rejected) for an invalid option.
 * @see Twisted: twisted.application.runner._runner.Runner, `twist`
 * @since 0.1.0
 */
export async function runApp(
  service: IService | ServiceMaker,
  options: RunAppOptions = {},
): Promise<number> {
  checkOptions(options);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const program = options.programName ?? 'torsion';
  const workers = options.workers ?? 1;
  const gracePeriod = options.shutdownTimeout ?? 10;
  const cleanups: Cleanup[] = [];
  let code = 0;
  const cannotStart = (error: unknown): void => {
    if (code === 0) process.stderr.write(`${program}: cannot start: ${oneLine(error)}\n`);
    code = 1;
  };
  try {
    beginLogging(options, cleanups);
    const primary = workers > 1 && cluster.isPrimary;
    if (options.pidFile !== undefined && !cluster.isWorker) writePidFile(options.pidFile, cleanups);
    const reactor = options.reactor ?? (await globalReactor());
    if (primary) {
      let failed = false;
      reactor.callWhenRunning(() =>
        superviseWorkers(reactor, { count: workers, shutdownTimeout: gracePeriod }, () => {
          if (failed) return;
          failed = true;
          cannotStart(new Error('a worker could not start (its reason is above)'));
          reactor.stop();
        }),
      );
      await reactor.run();
    } else {
      await serve(service, reactor, gracePeriod, cannotStart);
    }
  } catch (error) {
    log.failure('Could not start', error);
    cannotStart(error);
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
  exit(code);
  return code;
}

/** Runs the reactor with the service started in it, until it stops. */
async function serve(
  given: IService | ServiceMaker,
  reactor: AppReactor,
  gracePeriod: number,
  cannotStart: (error: unknown) => void,
): Promise<void> {
  let root: IService | null = null;
  let stopRequested = false;
  reactor.addSystemEventTrigger('before', 'shutdown', () => {
    stopRequested = true;
    if (root === null || !root.running) return undefined;
    return stopApplication(root, reactor, gracePeriod);
  });
  reactor.callWhenRunning(async () => {
    try {
      root = typeof given === 'function' ? await given(reactor) : given;
      if (stopRequested) return;
      await startApplication(root);
      if (cluster.isWorker) process.send?.(STARTED_MESSAGE);
    } catch (error) {
      log.failure('Could not start', error);
      cannotStart(error);
      if (!stopRequested) reactor.stop();
    }
  });
  const worker = cluster.isWorker;
  const cleanups: Cleanup[] = [];
  if (worker) {
    // The primary coordinates: SIGINT (a terminal's ^C reaches the whole
    // process group) is its to handle; SIGTERM and losing the primary stop.
    let signalled = false;
    const onTerm = (): void => {
      if (signalled) process.exit(143);
      signalled = true;
      log.info('Received SIGTERM, shutting down.');
      if (!stopRequested) reactor.stop();
    };
    const onDisconnect = (): void => {
      log.warn('Lost the primary process; shutting down.');
      if (!stopRequested) reactor.stop();
    };
    const ignore = (): void => undefined;
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', ignore);
    process.on('disconnect', onDisconnect);
    cleanups.push(() => {
      process.removeListener('SIGTERM', onTerm);
      process.removeListener('SIGINT', ignore);
      process.removeListener('disconnect', onDisconnect);
    });
  }
  try {
    await reactor.run({ installSignalHandlers: !worker });
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}
