// What the built-in plugins share: a service listening on an endpoint
// string that logs where it listens, and the check of endpoint strings
// before anything starts.
// Tests: test/unit/runner/plugins.test.ts

import { StreamServerEndpointService } from '../app/endpoint-service.js';
import { IPv6Address, UNIXAddress } from '../internet/address.js';
import { type ServerReactor, serverFromString } from '../internet/endpoints/strings.js';
import { EndpointStringError } from '../internet/error.js';
import type { IAddress, IListeningPort, IProtocolFactory } from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import { UsageError } from './options.js';

const log = new Logger('torsion.runner');

/** `127.0.0.1:8080`, `[::1]:8080` or the socket's path: where a port listens, as people write it. */
export function describeAddress(address: IAddress): string {
  if (address instanceof UNIXAddress) return address.name ?? '(unnamed socket)';
  const ip = address as Partial<{ host: string; port: number }>;
  if (typeof ip.host === 'string' && typeof ip.port === 'number') {
    return address instanceof IPv6Address ? `[${ip.host}]:${ip.port}` : `${ip.host}:${ip.port}`;
  }
  return String(address);
}

/**
 * A service that listens with `factory` on the endpoint `description`
 * while it runs, and logs "`label` listening on HOST:PORT" once it does.
 * A failure to listen is thrown by its start (so the command exits with
 * status 1), not only logged.
 */
export function listeningService(
  reactor: ServerReactor,
  description: string,
  factory: IProtocolFactory,
  label: string,
): StreamServerEndpointService {
  const endpoint = serverFromString(reactor, description);
  const service = new StreamServerEndpointService(endpoint, factory, { raiseSynchronously: true });
  service.whenListening().addCallbacks(
    (port: IListeningPort) => {
      log.info('{label} listening on {address}', {
        label,
        address: describeAddress(port.getHost()),
        endpoint: description,
      });
    },
    () => undefined, // the service reports the failure itself
  );
  return service;
}

/** A reactor for reading endpoint strings only: every call is a bug. */
const inertReactor = new Proxy(
  {},
  {
    get(_target, property) {
      return () => {
        throw new Error(`the endpoint check used reactor.${String(property)}`);
      };
    },
  },
) as ServerReactor;

/**
 * Checks that each of `descriptions` is an endpoint string a server can
 * listen on, without listening.
 *
 * @throws UsageError naming the option and what is wrong with the string.
 */
export function checkEndpoints(descriptions: readonly string[], option: string): void {
  for (const description of descriptions) {
    try {
      serverFromString(inertReactor, description);
    } catch (error) {
      if (error instanceof EndpointStringError) {
        throw new UsageError(`${option}: ${error.message}`);
      }
      throw error;
    }
  }
}
