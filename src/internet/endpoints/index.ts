// torsion/endpoints: where a server listens and where a client connects, as
// objects (TCP over IPv4 and IPv6, UNIX sockets, TLS, and host names raced
// over all their addresses), and the description strings that make them
// ('tcp:8080:interface=127.0.0.1') (Twisted: twisted.internet.endpoints).
// Tests: test/unit/internet/endpoints*.test.ts, test/integration/endpoints.test.ts,
// test/integration/tls.test.ts, test/unit/internet/tls-wrapper.test.ts

/**
 * Endpoints: where a server listens and where a client connects, as
 * objects, so that code which listens or connects does not care whether it
 * is TCP over IPv4 or IPv6, a UNIX socket or TLS. `serverFromString` and
 * `clientFromString` make them from description strings such as
 * `tcp:8080:interface=127.0.0.1` or `tls:example.com:443`, which a program
 * can take from its command line; `HostnameEndpoint` races a host name's
 * addresses (happy eyeballs); `connectProtocol` connects one protocol
 * instance.
 *
 * Twisted: `twisted.internet.endpoints`.
 *
 * @example
 * ```ts
 * import { clientFromString, connectProtocol } from 'torsion/endpoints';
 * import { Protocol } from 'torsion/protocol';
 * import { reactor } from 'torsion/reactor';
 *
 * const endpoint = clientFromString(reactor, 'tcp:example.com:80');
 * const protocol = await connectProtocol(endpoint, new Protocol());
 * protocol.transport?.write(Buffer.from('HEAD / HTTP/1.0\r\n\r\n'));
 * ```
 *
 * @module torsion/endpoints
 * @primaryExport
 */

export { EndpointStringError } from '../error.js';
export type {
  EndpointConnectOptions,
  IHostnameResolver,
  IStreamClientEndpoint,
  IStreamServerEndpoint,
} from '../interfaces.js';
export {
  SSL4ClientEndpoint,
  TCP4ClientEndpoint,
  TCP6ClientEndpoint,
  type TCP6ClientEndpointOptions,
  type TCPClientEndpointOptions,
  UNIXClientEndpoint,
  type UNIXClientEndpointOptions,
} from './client.js';
export { connectProtocol } from './connect-protocol.js';
export { quoteStringArgument } from './describe.js';
export {
  HostnameEndpoint,
  type HostnameEndpointOptions,
  type HostnameEndpointReactor,
} from './hostname.js';
export {
  SSL4ServerEndpoint,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  TCPServerEndpoint,
  type TCPServerEndpointOptions,
  UNIXServerEndpoint,
  type UNIXServerEndpointOptions,
} from './server.js';
export {
  type ClientReactor,
  clientFromString,
  type ServerReactor,
  serverFromString,
} from './strings.js';
export { TLSWrapperClientEndpoint, wrapClientTLS } from './tls-wrapper.js';
