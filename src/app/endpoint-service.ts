// StreamServerEndpointService: a service that listens on an endpoint while
// it runs (Twisted: twisted.application.internet.StreamServerEndpointService).
// Tests: test/unit/app/endpoint-service.test.ts, test/unit/app/drain.test.ts

import { CancelledError, Deferred, fail, maybeDeferred, succeed } from '../internet/defer.js';
import type { Failure } from '../internet/failure.js';
import type {
  IListeningPort,
  IProtocolFactory,
  IStreamServerEndpoint,
} from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import { type IDrainable, isDrainable } from './drain.js';
import { Service } from './service.js';

const log = new Logger('torsion.app');

/** Options of {@link StreamServerEndpointService}. */
export interface StreamServerEndpointServiceOptions {
  /**
   * If listening fails before `privilegedStartService` (or `startService`)
   * returns, throw the error from it instead of logging it. Default false.
   * Applies to the first start only, as in Twisted.
   */
  raiseSynchronously?: boolean;
}

/**
 * Listens with `factory` on `endpoint` when started; stops listening when
 * stopped.
 *
 * @remarks
 * A failure to listen is logged (or thrown, with `raiseSynchronously`),
 * and {@link StreamServerEndpointService.whenListening} fails with it;
 * `stopService` then fires at once. Stopping before the port is there
 * cancels the attempt.
 *
 * @example
 * ```ts
 * import { StreamServerEndpointService } from 'torsion/app';
 * import { serverFromString } from 'torsion/endpoints';
 * import { Factory, Protocol } from 'torsion/protocol';
 * import { reactor } from 'torsion/reactor';
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport.write(data);
 *   }
 * }
 * const endpoint = serverFromString(reactor, 'tcp:8080');
 * const service = new StreamServerEndpointService(endpoint, Factory.forProtocol(Echo));
 * service.startService();
 * const port = await service.whenListening();
 * ```
 *
 * @see Twisted: twisted.application.internet.StreamServerEndpointService
 * @since 0.1.0
 */
export class StreamServerEndpointService extends Service {
  /** Where to listen. */
  readonly endpoint: IStreamServerEndpoint;
  /** What serves the connections. */
  readonly factory: IProtocolFactory;
  #raiseSynchronously: boolean;
  #waitingForPort: Deferred<IListeningPort | null> | null = null;
  #outcome: { port: IListeningPort } | { failure: Failure } | null = null;
  #waiters: Deferred<IListeningPort>[] = [];

  /**
   * @param endpoint - Where to listen.
   * @param factory - The factory the port serves connections with.
   * @param options - See {@link StreamServerEndpointServiceOptions}.
   */
  constructor(
    endpoint: IStreamServerEndpoint,
    factory: IProtocolFactory,
    options: StreamServerEndpointServiceOptions = {},
  ) {
    super();
    this.endpoint = endpoint;
    this.factory = factory;
    this.#raiseSynchronously = options.raiseSynchronously ?? false;
  }

  /**
   * Starts listening.
   *
   * @throws what listening failed with, if it failed at once and
   *   `raiseSynchronously` was set.
   */
  override privilegedStartService(): void {
    super.privilegedStartService();
    this.#outcome = null;
    let listening: Deferred<IListeningPort>;
    try {
      listening = this.endpoint.listen(this.factory);
    } catch (error) {
      listening = fail(error);
    }
    let raisedNow: Failure | null = null;
    let synchronous = true;
    const waiting = listening.addCallbacks(
      (port: IListeningPort): IListeningPort | null => {
        this.#settle({ port });
        return port;
      },
      (failure: Failure): null => {
        this.#settle({ failure });
        if (this.#raiseSynchronously && synchronous) raisedNow = failure;
        else if (failure.check(CancelledError) === null) {
          log.failure('{service} could not listen', failure, { service: String(this) });
        }
        return null;
      },
    );
    synchronous = false;
    this.#waitingForPort = waiting;
    this.#raiseSynchronously = false;
    if (raisedNow !== null) (raisedNow as Failure).raiseException();
  }

  /** Starts listening, unless `privilegedStartService` already did. */
  override startService(): void {
    super.startService();
    if (this.#waitingForPort === null) this.privilegedStartService();
  }

  /**
   * Stops listening, or cancels the attempt to listen; then, if the factory
   * is {@link IDrainable}, drains it.
   *
   * @remarks
   * The port stops listening first, so no new connection arrives; once it
   * has, a drainable factory (a `Site`, say) is asked to finish the work in
   * flight on its connections and close them, and the returned Deferred
   * waits for that too. A drain that fails is logged, and the stop fires
   * all the same. A factory that is not drainable is stopped as in Twisted:
   * its connections stay until the reactor stops. A factory shared by
   * several services is drained by the first of them to stop.
   *
   * @returns A Deferred that fires once the port has stopped listening and
   *   the factory's drain (if any) has settled; at once if listening failed
   *   or never started.
   */
  override stopService(): Deferred<void> {
    const waiting = this.#waitingForPort;
    this.#waitingForPort = null;
    if (waiting === null) {
      super.stopService();
      return succeed(undefined);
    }
    waiting.cancel();
    const factory = this.factory;
    return waiting
      .addCallback((port: IListeningPort | null) => {
        if (port === null) return undefined;
        const stopped = maybeDeferred(() => port.stopListening());
        if (!isDrainable(factory)) return stopped;
        // Drained whether or not stopping the port went well; its failure is the stop's.
        return stopped.addBoth((result: unknown) => this.#drain(factory).addCallback(() => result));
      })
      .addBoth((result: unknown) => {
        this.running = false;
        return result;
      }) as Deferred<void>;
  }

  /** Drains `factory`; a drain that throws or fails is logged, never passed on. */
  #drain(factory: IDrainable): Deferred<void> {
    return maybeDeferred(() => factory.drain()).addErrback((failure: Failure) => {
      log.failure('{service} could not drain its connections', failure, {
        service: String(this),
      });
    });
  }

  /**
   * A Deferred that fires with the listening port once there is one, or
   * fails with what listening failed with.
   */
  whenListening(): Deferred<IListeningPort> {
    const outcome = this.#outcome;
    if (outcome !== null) {
      return 'port' in outcome ? succeed(outcome.port) : fail(outcome.failure);
    }
    const waiter = new Deferred<IListeningPort>();
    this.#waiters.push(waiter);
    return waiter;
  }

  #settle(outcome: { port: IListeningPort } | { failure: Failure }): void {
    this.#outcome = outcome;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if ('port' in outcome) waiter.callback(outcome.port);
      else waiter.errback(outcome.failure);
    }
  }
}
