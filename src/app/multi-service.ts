// MultiService: a service that starts and stops its children
// (Twisted: twisted.application.service.MultiService).
// Tests: test/unit/app/service.test.ts

import { type Deferred, DeferredList, type Failure, maybeDeferred } from '../internet/defer.js';
import { Logger } from '../logger/logger.js';
import { type IService, type IServiceCollection, Service, type ServiceResult } from './service.js';

const log = new Logger('torsion.app');

/**
 * A service holding child services. Started, it starts them in the order
 * they were added; stopped, it stops them in reverse order and waits for
 * every one.
 *
 * @example
 * ```ts
 * const top = new MultiService();
 * const web = new Service();
 * web.name = 'web';
 * web.setServiceParent(top);
 * top.startService(); // starts web
 * await top.stopService(); // stops web and waits for it
 * ```
 *
 * @see Twisted: twisted.application.service.MultiService
 * @since 0.1.0
 */
export class MultiService extends Service implements IServiceCollection {
  readonly #services: IService[] = [];
  readonly #named = new Map<string, IService>();

  /** The children, in the order they were added. */
  [Symbol.iterator](): Iterator<IService> {
    return [...this.#services][Symbol.iterator]();
  }

  /** Runs each child's `privilegedStartService`, in order. */
  override privilegedStartService(): void {
    super.privilegedStartService();
    for (const service of [...this.#services]) service.privilegedStartService();
  }

  /** Marks this service running and starts each child, in order. */
  override startService(): void {
    super.startService();
    for (const service of [...this.#services]) service.startService();
  }

  /**
   * Stops each child, last added first.
   *
   * @returns A Deferred that fires once every child has stopped; if some
   *   failed to stop, it fails with the first failure once all have
   *   settled, and the others are logged.
   */
  override stopService(): Deferred<void> {
    super.stopService();
    const stops = [...this.#services]
      .reverse()
      .map((service) => maybeDeferred(() => service.stopService()) as Deferred<unknown>);
    const all: Deferred<unknown> = new DeferredList(stops, { consumeErrors: true });
    return all.addCallback((entries) => {
      const failures: Failure[] = [];
      for (const [ok, value] of entries as [boolean, unknown][]) {
        if (!ok) failures.push(value as Failure);
      }
      for (const failure of failures.slice(1)) {
        log.failure('{service} could not stop a child', failure, { service: String(this) });
      }
      if (failures[0] !== undefined) throw failures[0];
    }) as Deferred<void>;
  }

  /**
   * The child named `name`.
   *
   * @throws Error naming `name` and the names known if there is no such child.
   */
  getServiceNamed(name: string): IService {
    const service = this.#named.get(name);
    if (service === undefined) {
      const known = [...this.#named.keys()].map((n) => JSON.stringify(n)).join(', ') || 'none';
      throw new Error(`${this} has no service named ${JSON.stringify(name)} (known: ${known})`);
    }
    return service;
  }

  /**
   * Adds a child; if this service is running, the child is started at once
   * (its `privilegedStartService`, then its `startService`).
   *
   * @throws Error if a child of the same name is already here, or the
   *   service is already a child.
   */
  addService(service: IService): void {
    if (this.#services.includes(service))
      throw new Error(`${service} is already a child of ${this}`);
    if (service.name !== undefined) {
      if (this.#named.has(service.name)) {
        throw new Error(
          `${this} already has a service named ${JSON.stringify(service.name)}: names must be unique`,
        );
      }
      this.#named.set(service.name, service);
    }
    this.#services.push(service);
    if (this.running) {
      service.privilegedStartService();
      service.startService();
    }
  }

  /**
   * Removes a child, stopping it if this service is running.
   *
   * @returns The child's `stopService` result when it was stopped, else nothing.
   * @throws Error if `service` is not a child of this one.
   */
  removeService(service: IService): ServiceResult {
    const index = this.#services.indexOf(service);
    if (index < 0) throw new Error(`${service} is not a child of ${this}`);
    this.#services.splice(index, 1);
    if (service.name !== undefined) this.#named.delete(service.name);
    if (this.running) return service.stopService();
    return undefined;
  }
}
