// Internal: starting an application's service tree and knowing that it did
// (every listening service listening), and stopping it within a grace period.
// (Twisted: twisted.application.app.startApplication and the 'before'
// 'shutdown' trigger twistd adds for the application's stopService.)
// Tests: test/unit/app/run-app.test.ts

import { Deferred, ensureDeferred, fail, succeed } from '../internet/defer.js';
import type { IAddress, IListeningPort, IReactorTime } from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import type { IService } from './service.js';

const log = new Logger('torsion.app');

/** A service that listens: StreamServerEndpointService, or anything shaped like it. */
interface ListeningService extends IService {
  whenListening(): PromiseLike<IListeningPort>;
}

function isListening(service: IService): service is ListeningService {
  return typeof (service as Partial<ListeningService>).whenListening === 'function';
}

function isCollection(service: IService): service is IService & Iterable<IService> {
  return typeof (service as Partial<Iterable<IService>>)[Symbol.iterator] === 'function';
}

/** Every service of the tree, depth first, parents before children. */
function* servicesOf(root: IService): Generator<IService> {
  yield root;
  if (isCollection(root)) for (const child of root) yield* servicesOf(child);
}

/**
 * An address as a person reads it: `127.0.0.1:8080`, `[::1]:8080`, a UNIX
 * path, or the address's own string for anything else.
 */
export function describeAddress(address: IAddress): string {
  const { host, port, name } = address as { host?: unknown; port?: unknown; name?: unknown };
  if (typeof host === 'string' && typeof port === 'number') {
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }
  if (typeof name === 'string') return name;
  return String(address);
}

/** A port the primary of a node:cluster hands over later than it returns. */
interface LateBindingPort extends IListeningPort {
  whenBound(): PromiseLike<void>;
}

/**
 * Starts `root` (privileged start, then start) and waits until each of its
 * listening services listens; logs where each does.
 *
 * @returns The listening ports, in tree order.
 * @throws What starting threw, or what the first failed listen failed with.
 */
export async function startApplication(root: IService): Promise<IListeningPort[]> {
  root.privilegedStartService();
  root.startService();
  const listening = [...servicesOf(root)].filter(isListening);
  const ports = await Promise.all(
    listening.map(async (service) => {
      const port = await service.whenListening();
      const late = port as Partial<LateBindingPort>;
      if (typeof late.whenBound === 'function') await late.whenBound();
      return port;
    }),
  );
  ports.forEach((port, i) => {
    log.info('{service} listening on {address}', {
      service: String(listening[i]),
      address: describeAddress(port.getHost()),
    });
  });
  return ports;
}

/**
 * Stops `root`, giving it `gracePeriod` seconds.
 *
 * @remarks
 * The result fires when the service has stopped or the grace period is
 * over, whichever comes first: never fails, never waits longer. A failed
 * stop is logged. What is still open when it fires is the reactor's to
 * close (its `'during'` `'shutdown'` phase disconnects everything).
 *
 * @param root - The running service tree.
 * @param clock - Times the grace period.
 * @param gracePeriod - Seconds to wait for the services to stop.
 */
export function stopApplication(
  root: IService,
  clock: IReactorTime,
  gracePeriod: number,
): Deferred<void> {
  const done = new Deferred<void>();
  // A Deferred stays synchronous (a Clock-driven test sees the stop at once).
  let stopping: Deferred<void>;
  try {
    const result = root.stopService();
    stopping = result === undefined ? succeed(undefined) : ensureDeferred(result);
  } catch (error) {
    stopping = fail(error);
  }
  const timer = clock.callLater(gracePeriod, () => {
    log.warn('Still stopping after {gracePeriod} s; closing what remains open.', { gracePeriod });
    done.callback(undefined);
  });
  stopping.addCallbacks(
    () => {
      if (done.called) return;
      timer.cancel();
      done.callback(undefined);
    },
    (failure) => {
      log.failure('Stopping {service} failed', failure, { service: String(root) });
      if (done.called) return;
      timer.cancel();
      done.callback(undefined);
    },
  );
  return done;
}
