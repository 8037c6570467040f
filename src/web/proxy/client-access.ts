// ClientAccess: which clients a proxy serves (loopback, and the address
// ranges it is told) and how many connections each may hold, so that a proxy
// listening beyond loopback is never an open proxy. Twisted's web.proxy has no
// such guard; Privoxy's permit-access and Squid's acl src are the models.
// Tests: test/unit/web/proxy/client-access.test.ts

import { BlockList, isIP } from 'node:net';
import type { IAddress } from '../../internet/interfaces.js';

/**
 * How a {@link ClientAccess} is set up.
 *
 * @since 0.1.0
 */
export interface ClientAccessOptions {
  /**
   * Address ranges allowed besides loopback, in CIDR notation
   * (`192.168.1.0/24`, `10.0.0.7`, `fd00::/8`); a bare address is a range of
   * one. Default: none (loopback clients only).
   */
  readonly allow?: readonly string[];
  /** Most connections one client address may hold open at once. Default 64; `null`: no limit. */
  readonly maxConnectionsPerClient?: number | null;
}

/** The host of a TCP address; `undefined` for addresses without one (UNIX sockets). */
function hostOf(address: IAddress): string | undefined {
  const host = (address as { host?: unknown }).host;
  return typeof host === 'string' ? host : undefined;
}

/** `::ffff:a.b.c.d` is an IPv4 client on a dual-stack socket: judged as `a.b.c.d`. */
function unmapped(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : host;
}

/**
 * Parses one CIDR range into `list`.
 *
 * @throws TypeError naming the range and what is wrong with it.
 */
function addRange(list: BlockList, range: string): void {
  const slash = range.indexOf('/');
  const address = slash < 0 ? range : range.slice(0, slash);
  const family = isIP(address);
  if (family === 0) {
    throw new TypeError(
      `client range ${JSON.stringify(range)}: ${JSON.stringify(address)} is not an IP address`,
    );
  }
  const bits = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(bits) : range.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) {
    throw new TypeError(
      `client range ${JSON.stringify(range)}: the prefix length must be 0 to ${bits}, not ${JSON.stringify(prefixText)}`,
    );
  }
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Decides which clients a server accepts: loopback clients always, others
 * only from the ranges given, and no client beyond a number of connections.
 *
 * @remarks
 * A proxy is a relay for whoever can reach it: listening on a public
 * interface with no such guard makes an open proxy. `torsion proxy` refuses
 * to listen beyond loopback unless `--allow-client` ranges are given, and
 * builds one of these from them.
 *
 * Addresses without a host (UNIX sockets) are local, and accepted. An IPv4
 * client on a dual-stack socket (`::ffff:10.0.0.7`) is judged by its IPv4
 * address.
 *
 * @example
 * ```ts
 * const access = new ClientAccess({ allow: ['192.168.1.0/24'], maxConnectionsPerClient: 16 });
 * access.allows(new IPv4Address('TCP', '192.168.1.20', 50000)); // true
 * access.allows(new IPv4Address('TCP', '203.0.113.9', 50000)); // false
 * ```
 *
 * @since 0.1.0
 */
export class ClientAccess {
  /** The ranges given, as written. */
  readonly ranges: readonly string[];
  /** Most connections per client address (`null`: no limit). */
  readonly maxConnectionsPerClient: number | null;
  readonly #allowed = new BlockList();
  readonly #open = new Map<string, number>();

  /**
   * @param options - The ranges allowed besides loopback and the per-client cap.
   * @throws TypeError for a range that does not parse, or a cap that is not
   *   a positive integer.
   */
  constructor(options: ClientAccessOptions = {}) {
    this.ranges = Object.freeze([...(options.allow ?? [])]);
    addRange(this.#allowed, '127.0.0.0/8');
    addRange(this.#allowed, '::1/128');
    for (const range of this.ranges) addRange(this.#allowed, range.trim());
    const cap =
      options.maxConnectionsPerClient === undefined ? 64 : options.maxConnectionsPerClient;
    if (cap !== null && !(Number.isInteger(cap) && cap > 0)) {
      throw new TypeError(
        `maxConnectionsPerClient must be a positive integer or null, not ${String(cap)}`,
      );
    }
    this.maxConnectionsPerClient = cap;
  }

  /** Whether a client at `address` may be served at all (its range). */
  allows(address: IAddress): boolean {
    const host = hostOf(address);
    if (host === undefined) return true;
    const ip = unmapped(host);
    const family = isIP(ip);
    if (family === 0) return false;
    return this.#allowed.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * Admits a new connection from `address`: `'ok'` (and it is counted until
   * {@link ClientAccess.release}), `'forbidden'` for a client outside the
   * ranges, `'too-many'` for one at its cap.
   */
  admit(address: IAddress): 'ok' | 'forbidden' | 'too-many' {
    if (!this.allows(address)) return 'forbidden';
    const key = hostOf(address);
    if (key === undefined) return 'ok';
    const open = this.#open.get(key) ?? 0;
    if (this.maxConnectionsPerClient !== null && open >= this.maxConnectionsPerClient) {
      return 'too-many';
    }
    this.#open.set(key, open + 1);
    return 'ok';
  }

  /** A connection {@link ClientAccess.admit} counted has closed. */
  release(address: IAddress): void {
    const key = hostOf(address);
    if (key === undefined) return;
    const open = this.#open.get(key) ?? 0;
    if (open <= 1) this.#open.delete(key);
    else this.#open.set(key, open - 1);
  }

  /** Connections open from `host` now (as counted by admit/release). */
  openConnections(host: string): number {
    return this.#open.get(host) ?? 0;
  }
}
