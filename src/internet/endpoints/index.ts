// torsion/endpoints: where a server listens and where a client connects, as
// objects (TCP over IPv4 and IPv6, UNIX sockets, TLS, and host names raced
// over all their addresses), and the description strings that make them
// ('tcp:8080:interface=127.0.0.1') (Twisted: twisted.internet.endpoints).
// Tests: test/unit/internet/endpoints*.test.ts, test/integration/endpoints.test.ts,
// test/integration/tls.test.ts

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
