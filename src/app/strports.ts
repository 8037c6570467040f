// service(): a listening service from an endpoint description string
// (Twisted: twisted.application.strports.service).
// Tests: test/unit/app/strports.test.ts

import { type ServerReactor, serverFromString } from '../internet/endpoints/strings.js';
import type { IProtocolFactory } from '../internet/interfaces.js';
import { StreamServerEndpointService } from './endpoint-service.js';

/**
 * A service that listens with `factory` where `description` says:
 * a {@link StreamServerEndpointService} on `serverFromString(reactor,
 * description)`.
 *
 * @remarks
 * As in Twisted, the service raises synchronously: if listening fails at
 * once (the port is taken, say), its first `privilegedStartService` or
 * `startService` throws the error instead of only logging it, so that a
 * program fails to start rather than running without its port.
 *
 * Differences from Twisted: `reactor` is required (Twisted's defaults to
 * the global reactor).
 *
 * @example
 * ```ts
 * import { service } from 'torsion/app';
 * import { Factory, Protocol } from 'torsion/protocol';
 * import { reactor } from 'torsion/reactor';
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport.write(data);
 *   }
 * }
 * const echo = service('tcp:7000:interface=127.0.0.1', Factory.forProtocol(Echo), reactor);
 * echo.startService(); // throws if port 7000 is taken
 * ```
 *
 * @param description - Where to listen, in the syntax of `serverFromString`
 *   (`tcp:8080`, `unix:/run/app.sock`, `ssl:443:privateKey=key.pem`, …).
 * @param factory - What serves the connections.
 * @param reactor - The reactor to listen with.
 * @returns The service, not started.
 * @throws EndpointStringError for a description that cannot be read, naming
 *   the segment at fault.
 * @see Twisted: twisted.application.strports.service
 * @since 0.1.0
 */
export function service(
  description: string,
  factory: IProtocolFactory,
  reactor: ServerReactor,
): StreamServerEndpointService {
  return new StreamServerEndpointService(serverFromString(reactor, description), factory, {
    raiseSynchronously: true,
  });
}
