// Internal: the upstreams of one reverse-proxy mount, which one takes the
// next request (round-robin or least-connections) and passive health: an
// upstream failing N times in a row is skipped for T seconds, logged when it
// leaves the rotation and when it answers again (nginx's max_fails and
// fail_timeout are the model; Twisted's ReverseProxyResource has one upstream).
// Tests: test/unit/web/proxy/upstreams.test.ts

import type { IReactorTime } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';

const log = new Logger('torsion.web.proxy');

/**
 * One upstream server of a reverse proxy.
 *
 * @since 0.1.0
 */
export interface UpstreamAddress {
  /** Its host name or address (an IPv6 address without brackets). */
  readonly host: string;
  /** Its port. */
  readonly port: number;
  /** `https` connects with TLS. @defaultValue 'http' */
  readonly scheme?: 'http' | 'https';
}

/**
 * How a reverse proxy picks the upstream for each request.
 *
 * - `round-robin`: each in turn.
 * - `least-connections`: the one with the fewest requests in progress (ties
 *   in turn).
 *
 * @since 0.1.0
 */
export type BalanceStrategy = 'round-robin' | 'least-connections';

/**
 * Passive health checking: an upstream that fails `failures` requests in a
 * row (refused, reset, timed out, malformed; not an HTTP error status) is
 * skipped for `cooldown` seconds, then tried again.
 *
 * @since 0.1.0
 */
export interface HealthOptions {
  /** Failures in a row that take an upstream out of the rotation (0: never). @defaultValue 3 */
  readonly failures?: number;
  /** Seconds it stays out. @defaultValue 10 */
  readonly cooldown?: number;
}

/** An upstream and what the balancer knows of it. */
export class Upstream {
  readonly host: string;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  /** `host:port`, as pages and logs name it. */
  readonly name: string;
  /** Requests in progress. */
  active = 0;
  /** Failures in a row. */
  failures = 0;
  /** Whether it is out of the rotation. */
  down = false;
  /** Until when (clock seconds) it is out of the rotation. */
  downUntil = 0;

  constructor(address: UpstreamAddress) {
    if (typeof address.host !== 'string' || address.host === '') {
      throw new TypeError(`an upstream needs a host, not ${JSON.stringify(address.host)}`);
    }
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
      throw new RangeError(`an upstream's port must be 1–65535, not ${address.port}`);
    }
    const scheme = address.scheme ?? 'http';
    if (scheme !== 'http' && scheme !== 'https') {
      throw new TypeError(`an upstream's scheme is http or https, not ${JSON.stringify(scheme)}`);
    }
    this.host = address.host;
    this.port = address.port;
    this.scheme = scheme;
    this.name = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  }
}

/** The upstreams of one mount and the choice among them. */
export class UpstreamSet {
  readonly upstreams: readonly Upstream[];
  readonly balance: BalanceStrategy;
  readonly maxFailures: number;
  readonly cooldown: number;
  readonly #clock: IReactorTime;
  #next = 0;

  constructor(
    upstreams: readonly UpstreamAddress[],
    clock: IReactorTime,
    balance: BalanceStrategy = 'round-robin',
    health: HealthOptions = {},
  ) {
    if (upstreams.length === 0) throw new TypeError('a reverse proxy needs at least one upstream');
    if (balance !== 'round-robin' && balance !== 'least-connections') {
      throw new TypeError(
        `balance is 'round-robin' or 'least-connections', not ${JSON.stringify(balance)}`,
      );
    }
    const failures = health.failures ?? 3;
    const cooldown = health.cooldown ?? 10;
    if (!Number.isInteger(failures) || failures < 0) {
      throw new RangeError(`health.failures must be a whole number ≥ 0, not ${failures}`);
    }
    if (!(cooldown >= 0)) {
      throw new RangeError(`health.cooldown must be a number of seconds ≥ 0, not ${cooldown}`);
    }
    this.upstreams = upstreams.map((u) => new Upstream(u));
    this.balance = balance;
    this.maxFailures = failures;
    this.cooldown = cooldown;
    this.#clock = clock;
  }

  /**
   * The upstream for the next request, or `undefined` when every one is out
   * of the rotation.
   */
  pick(): Upstream | undefined {
    const list = this.upstreams;
    const n = list.length;
    if (n === 1) {
      const only = list[0] as Upstream;
      return !only.down || this.#isBack(only) ? only : undefined;
    }
    const start = this.#next;
    this.#next = (start + 1) % n;
    if (this.balance === 'round-robin') {
      for (let i = 0; i < n; i++) {
        const u = list[(start + i) % n] as Upstream;
        if (!u.down || this.#isBack(u)) {
          this.#next = (start + i + 1) % n;
          return u;
        }
      }
      return undefined;
    }
    let best: Upstream | undefined;
    for (let i = 0; i < n; i++) {
      const u = list[(start + i) % n] as Upstream;
      if (u.down && !this.#isBack(u)) continue;
      if (best === undefined || u.active < best.active) best = u;
    }
    return best;
  }

  /** Seconds until the first upstream out of the rotation comes back (for a page). */
  nextReturn(): number {
    const now = this.#clock.seconds();
    let soonest = Number.POSITIVE_INFINITY;
    for (const u of this.upstreams) if (u.down) soonest = Math.min(soonest, u.downUntil);
    return Math.max(0, soonest - now);
  }

  /** Whether an upstream's time out of the rotation is over (it is then tried again). */
  #isBack(u: Upstream): boolean {
    if (this.#clock.seconds() < u.downUntil) return false;
    log.info('The upstream {upstream} is tried again after {cooldown} s out of the rotation', {
      upstream: u.name,
      cooldown: this.cooldown,
    });
    u.down = false;
    return true;
  }

  /** A request to `u` starts. */
  started(u: Upstream): void {
    u.active++;
  }

  /** A request to `u` ended: `failed` counts toward taking it out of the rotation. */
  finished(u: Upstream, outcome: 'ok' | 'failed' | 'cancelled'): void {
    u.active--;
    if (outcome === 'ok') {
      if (u.failures >= this.maxFailures && this.maxFailures > 0) {
        log.info('The upstream {upstream} answers again; back in the rotation', {
          upstream: u.name,
        });
      }
      u.failures = 0;
      return;
    }
    if (outcome !== 'failed') return;
    u.failures++;
    if (this.maxFailures === 0 || u.failures < this.maxFailures || u.down) return;
    u.down = true;
    u.downUntil = this.#clock.seconds() + this.cooldown;
    log.warn(
      'The upstream {upstream} failed {failures} requests in a row; skipped for {cooldown} s',
      { upstream: u.name, failures: u.failures, cooldown: this.cooldown },
    );
  }
}
