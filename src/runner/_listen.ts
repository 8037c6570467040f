// What the built-in plugins share: named services listening on endpoint
// strings, and the check of endpoint strings before anything starts.
// Tests: test/unit/runner/plugins.test.ts, test/unit/web/proxy/client-access.test.ts

import { BlockList, isIP } from 'node:net';
import { StreamServerEndpointService } from '../app/endpoint-service.js';
import type { MultiService } from '../app/multi-service.js';
import { type ServerReactor, serverFromString } from '../internet/endpoints/strings.js';
import { EndpointStringError } from '../internet/error.js';
import type { IProtocolFactory } from '../internet/interfaces.js';
import { UsageError } from './options.js';

/**
 * A service that listens with `factory` on the endpoint `description`
 * while it runs, named `name` (runApp's "NAME listening on HOST:PORT" line
 * shows it). A failure to listen is thrown by its start, so the command
 * exits with status 1, rather than only logged.
 */
export function listeningService(
  reactor: ServerReactor,
  description: string,
  factory: IProtocolFactory,
  name: string,
): StreamServerEndpointService {
  const endpoint = serverFromString(reactor, description);
  const service = new StreamServerEndpointService(endpoint, factory, { raiseSynchronously: true });
  service.name = name;
  return service;
}

/**
 * Adds a service listening with `factory` on each of `descriptions` to
 * `parent`, named `label` (`label 1`, `label 2`, … when there are several).
 */
export function listenOnEach(
  parent: MultiService,
  reactor: ServerReactor,
  descriptions: readonly string[],
  factory: IProtocolFactory,
  label: string,
): void {
  descriptions.forEach((description, i) => {
    const name = descriptions.length === 1 ? label : `${label} ${i + 1}`;
    listeningService(reactor, description, factory, name).setServiceParent(parent);
  });
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

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether a server on the endpoint `description` is reachable from this
 * machine only: a UNIX socket, or TCP on a loopback interface (`127.x.x.x`,
 * `::1`, `localhost`). `tcp:8080` listens on every interface: not loopback.
 * The string must already have passed {@link checkEndpoints}.
 */
export function listensOnLoopback(description: string): boolean {
  const endpoint: object = serverFromString(inertReactor, description);
  if (!('interface' in endpoint)) return 'address' in endpoint; // a UNIX socket's path
  return isLoopbackHost(String(endpoint.interface));
}

/**
 * Whether `host`, an interface to listen on, is a loopback one:
 * `127.x.x.x`, `::1` or `localhost` (the empty string, every interface, is
 * not).
 */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}
