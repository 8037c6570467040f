// IService and Service: something that starts and stops with its parent
// (Twisted: twisted.application.service.IService, Service).
// Tests: test/unit/app/service.test.ts

import type { Deferred } from '../internet/defer.js';

/**
 * What {@link IService.stopService} (and `startService`) may return: nothing
 * when done at once, or a Deferred or promise that settles when done.
 *
 * @since 0.1.0
 */
export type ServiceResult = Deferred<void> | Promise<void> | void;

/**
 * A service: something started when its application starts and stopped when
 * it stops, in a tree of services whose inner nodes are
 * {@link IServiceCollection}s.
 *
 * @see Twisted: twisted.application.service.IService
 * @since 0.1.0
 */
export interface IService {
  /** The name its parent knows it by, or `undefined`. */
  name: string | undefined;
  /** Whether it has been started and not stopped since. */
  running: boolean;
  /** The collection it belongs to, or `null`. */
  parent: IServiceCollection | null;
  /** Makes `parent` its parent (leaving the previous one); returns what `addService` returns. */
  setServiceParent(parent: IServiceCollection): void;
  /** Leaves its parent; returns what the parent's `removeService` returns. */
  disownServiceParent(): ServiceResult;
  /** Work to do before privileges are dropped (binding low ports); nothing by default. */
  privilegedStartService(): void;
  /** Starts the service. */
  startService(): void;
  /** Stops the service; the result settles when it has stopped. */
  stopService(): ServiceResult;
}

/**
 * A service holding other services: started, it starts them; stopped, it
 * stops them.
 *
 * @see Twisted: twisted.application.service.IServiceCollection
 * @since 0.1.0
 */
export interface IServiceCollection extends Iterable<IService> {
  /** The child named `name`; throws if there is none. */
  getServiceNamed(name: string): IService;
  /** Adds a child (starting it if this collection is running). */
  addService(service: IService): void;
  /** Removes a child (stopping it if this collection is running); returns its stop. */
  removeService(service: IService): ServiceResult;
}

/**
 * The base service: it records whether it runs, and its name and parent.
 * Subclass it and extend `startService` and `stopService` (calling `super`).
 *
 * @example
 * ```ts
 * class Hello extends Service {
 *   override startService(): void {
 *     super.startService();
 *     console.log('started');
 *   }
 * }
 * const service = new Hello();
 * service.startService(); // prints "started"; service.running is true
 * ```
 *
 * @see Twisted: twisted.application.service.Service
 * @since 0.1.0
 */
export class Service implements IService {
  /** The name its parent knows it by, or `undefined`. */
  name: string | undefined = undefined;
  /** Whether it has been started and not stopped since. */
  running = false;
  /** The collection it belongs to, or `null`. */
  parent: IServiceCollection | null = null;

  /**
   * Makes `parent` this service's parent, leaving its previous parent first.
   *
   * @throws Error (from the parent's `addService`) if the parent already has
   *   a child of the same name; this service then has no parent.
   */
  setServiceParent(parent: IServiceCollection): void {
    if (this.parent !== null) void this.disownServiceParent();
    this.parent = parent;
    try {
      parent.addService(this);
    } catch (error) {
      this.parent = null;
      throw error;
    }
  }

  /**
   * Leaves this service's parent.
   *
   * @returns What the parent's `removeService` returns: the child's stop if
   *   the parent was running.
   * @throws Error if this service has no parent.
   */
  disownServiceParent(): ServiceResult {
    const parent = this.parent;
    if (parent === null) throw new Error(`${this} has no parent to leave`);
    const result = parent.removeService(this);
    this.parent = null;
    return result;
  }

  /** Nothing by default: override to bind privileged ports before privileges are dropped. */
  privilegedStartService(): void {}

  /** Marks this service as running. */
  startService(): void {
    this.running = true;
  }

  /** Marks this service as stopped. */
  stopService(): ServiceResult {
    this.running = false;
  }

  /** `Service "name"` or `Service (unnamed)`, with the subclass's name. */
  toString(): string {
    const kind = this.constructor.name;
    return this.name === undefined ? `${kind} (unnamed)` : `${kind} ${JSON.stringify(this.name)}`;
  }
}
