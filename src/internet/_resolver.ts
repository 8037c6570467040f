// The system's host name resolver (getaddrinfo through dns.lookup), shared by
// NodeReactor.resolveHostName and HostnameEndpoint's fallback.
// Tests: test/integration/endpoints.test.ts

import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { IPv4Address, IPv6Address } from './address.js';
import { Deferred, succeed } from './defer.js';
import { DNSLookupError } from './error.js';
import type { IHostnameResolver } from './interfaces.js';

/**
 * Looks up every address of `name` with `dns.lookup(name, { all: true })`,
 * in the order the system prefers; an IP address resolves to itself.
 *
 * @remarks
 * Cancellation: the lookup cannot be stopped; cancelling fails the Deferred
 * with `CancelledError` and ignores the answer.
 *
 * @internal
 */
export function lookupAll(name: string): Deferred<Array<IPv4Address | IPv6Address>> {
  const family = isIP(name);
  if (family === 4) return succeed([new IPv4Address('TCP', name, 0)]);
  if (family === 6) return succeed([new IPv6Address('TCP', name, 0)]);
  let cancelled = false;
  const d = new Deferred<Array<IPv4Address | IPv6Address>>(() => {
    cancelled = true;
  });
  lookup(name, { all: true }, (error, addresses) => {
    if (cancelled) return;
    if (error !== null) {
      d.errback(
        new DNSLookupError(`DNS lookup of ${name} failed: ${error.code ?? error.message}`, {
          hostname: name,
          cause: error,
        }),
      );
      return;
    }
    d.callback(
      addresses.map((a) =>
        a.family === 6
          ? new IPv6Address('TCP', a.address, 0)
          : new IPv4Address('TCP', a.address, 0),
      ),
    );
  });
  return d;
}

/**
 * An {@link IHostnameResolver} over {@link lookupAll}.
 *
 * @internal
 */
export const systemResolver: IHostnameResolver = { resolveHostName: lookupAll };
