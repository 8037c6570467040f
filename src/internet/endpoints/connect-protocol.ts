// connectProtocol: connecting a protocol instance, rather than a factory,
// through a client endpoint (Twisted: twisted.internet.endpoints.connectProtocol).
// Tests: test/unit/internet/endpoints.test.ts, test/unit/internet/abort-signal.test.ts

import type { Deferred } from '../defer.js';
import type {
  EndpointConnectOptions,
  IAddress,
  IProtocol,
  IStreamClientEndpoint,
} from '../interfaces.js';
import { Factory } from '../protocol.js';

/**
 * Connects `protocol` (an instance, not a factory) through `endpoint`.
 *
 * @remarks
 * The endpoint is given a factory that hands out `protocol`, once.
 *
 * Cancellation: as the endpoint's `connect`: cancelling the Deferred, or
 * aborting `options.signal`, abandons the attempt.
 *
 * @example
 * ```ts
 * const client = await connectProtocol(new TCP4ClientEndpoint(reactor, 'example.com', 80), new Client());
 * ```
 *
 * @param endpoint - Where to connect.
 * @param protocol - The protocol to connect.
 * @param options - Handed to the endpoint's `connect`: `signal`.
 * @returns What the endpoint's `connect` returns: a Deferred that fires with
 *   `protocol` once connected, or fails with why not.
 * @see Twisted: twisted.internet.endpoints.connectProtocol
 * @since 0.1.0
 */
export function connectProtocol<P extends IProtocol>(
  endpoint: IStreamClientEndpoint,
  protocol: P,
  options?: EndpointConnectOptions,
): Deferred<P> {
  class OneShotFactory extends Factory<P> {
    override noisy = false;
    override buildProtocol(_addr: IAddress): P {
      return protocol;
    }
  }
  return endpoint.connect(new OneShotFactory(), options);
}
