// IDrainable: the optional drain protocol of a server's factory, which a
// service stopping gracefully calls once its port has stopped listening (no
// Twisted equivalent: Twisted's services drop connections with the reactor).
// Tests: test/unit/app/drain.test.ts, test/unit/web/site-drain.test.ts

import type { Deferred } from '../internet/defer.js';

/**
 * A factory that can wind down the connections it built, for a graceful
 * stop.
 *
 * @remarks
 * `drain()` means: stop taking new work on the connections you built,
 * finish what is in flight, close each connection once it is idle, and
 * settle when they are all closed. A connection made while a drain runs is
 * the factory's to refuse or close. The drain is only asked for; how long it
 * may take is the caller's to bound (the `torsion` runner stops the reactor,
 * which closes what is left, after its shutdown timeout).
 *
 * {@link StreamServerEndpointService} drains its factory, if the factory
 * has a `drain` method, after its port has stopped listening; a factory
 * without one is stopped as in Twisted (its connections stay until the
 * reactor stops). `Site` (`torsion/web`) is drainable.
 *
 * The interface is duck-typed: any object with a `drain()` method returning
 * a Deferred or a promise qualifies; see {@link isDrainable}.
 *
 * @example
 * ```ts
 * class Tracked extends Factory<Counter> implements IDrainable {
 *   readonly live = new Set<Counter>();
 *   #done: Deferred<void> | null = null;
 *   drain(): Deferred<void> {
 *     for (const p of this.live) p.transport.loseConnection();
 *     if (this.live.size === 0) return succeed(undefined);
 *     this.#done ??= new Deferred<void>();
 *     return this.#done; // fired by the protocols' connectionLost, once live is empty
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 */
export interface IDrainable {
  /** Finishes the work in flight and closes every connection; settles when all are closed. */
  drain(): Deferred<void> | Promise<void>;
}

/**
 * Whether `x` has a `drain` method, so that it is an {@link IDrainable}.
 *
 * @example
 * ```ts
 * if (isDrainable(factory)) await factory.drain();
 * ```
 *
 * @since 0.1.0
 */
export function isDrainable(x: unknown): x is IDrainable {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as { drain?: unknown }).drain === 'function'
  );
}
