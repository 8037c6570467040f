/**
 * HTTP for Torsion: a web server (`Site`, `Resource`, `Request`) and a
 * client (`Agent`, `getPage`) on the same protocols and transports as
 * everything else, in the model of Twisted's `twisted.web`. A `Site` is a
 * protocol factory: listen with it on any endpoint, and test it on a
 * `StringTransport` without a socket. An `Agent` takes its reactor as a
 * parameter, keeps connections alive in an `HTTPConnectionPool`, and gains
 * redirects, decoding, cookies and proxies by wrapping: `RedirectAgent`,
 * `ContentDecoderAgent`, `CookieAgent`, `ProxyAgent`.
 *
 * @example
 * ```ts
 * import { reactor } from 'torsion/reactor';
 * import { Agent, readBody, Resource, Site } from 'torsion/web';
 *
 * class Hello extends Resource {
 *   override isLeaf = true;
 *   render_GET(): string {
 *     return '<p>Hello, world!</p>';
 *   }
 * }
 * reactor.listenTCP(8080, new Site(new Hello(), { clock: reactor }));
 * const response = await new Agent(reactor).request('GET', 'http://127.0.0.1:8080/');
 * console.log(response.code, new TextDecoder().decode(await readBody(response)));
 * ```
 *
 * @module torsion/web
 * @primaryExport
 */
// Tests: test/unit/web/channel.test.ts, test/unit/web/client-agent.test.ts

export type { CookieOptions } from './_cookies.js';
export { escapeHtml } from './_html.js';
export { HttpParseError } from './_parser.js';
export { HTTPChannel } from './channel.js';
export {
  Agent,
  type AgentOptions,
  type IAgent,
  type IAgentEndpointFactory,
} from './client/agent.js';
export {
  type ClientProtocolState,
  type ClientRequest,
  HTTP11ClientProtocol,
  type IBodyProducer,
} from './client/client-protocol.js';
export {
  brotliDecoder,
  ContentDecoderAgent,
  type ContentDecoderAgentOptions,
  DecodedResponse,
  deflateDecoder,
  gzipDecoder,
  type IContentDecoder,
} from './client/content-decoder.js';
export { CookieAgent } from './client/cookie-agent.js';
export {
  type Cookie,
  CookieJar,
  type CookieJarJSON,
  type CookieJarOptions,
  type CookieJSON,
} from './client/cookie-jar.js';
export {
  InfiniteRedirection,
  PageRedirect,
  PartialDownloadError,
  PotentialDataLoss,
  ProxyConnectError,
  RedirectWithNoLocation,
  RequestGenerationFailed,
  RequestNotSent,
  RequestTransmissionFailed,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  WebError,
  WrongBodyLength,
} from './client/errors.js';
export {
  type BodyCooperator,
  FileBodyProducer,
  type FileBodyProducerOptions,
  type IReplayableBodyProducer,
  isReplayable,
} from './client/file-body-producer.js';
export { type GetPageOptions, getPage, type HeadersLike } from './client/get-page.js';
export {
  type FormFields,
  HTTPClient,
  type HTTPClientOptions,
  type HTTPClientRequestOptions,
  HTTPClientResponse,
  type QueryParams,
  treq,
} from './client/http-client.js';
export {
  HTTPConnectionPool,
  type HTTPConnectionPoolOptions,
  type IClientConnection,
} from './client/pool.js';
export { ProxyAgent, type ProxyAgentOptions } from './client/proxy-agent.js';
export { RedirectAgent, type RedirectAgentOptions } from './client/redirect-agent.js';
export {
  type IClientRequest,
  type ReadBodyOptions,
  Response,
  readBody,
} from './client/response.js';
export { InvalidURIError, URI } from './client/uri.js';
export { Headers } from './headers.js';
// The reverse proxy (issue 16).
export type {
  BalanceStrategy,
  HealthOptions,
  UpstreamAddress,
} from './proxy/_upstreams.js';
export type {
  IProxyFilter,
  IProxyStats,
  ProxiedRequestInfo,
  ProxiedResponseInfo,
  ProxyAnswer,
} from './proxy/hooks.js';
export { type ReverseProxyOptions, ReverseProxyResource } from './proxy/reverse.js';
export { CACHED, Request } from './request.js';
export { type IBodyReader, RequestBody } from './request-body.js';
export {
  ErrorPage,
  ForbiddenResource,
  getChildForRequest,
  type IResource,
  NOT_DONE_YET,
  NoResource,
  Redirect,
  type RenderBody,
  type RenderResult,
  Resource,
  UnsupportedMethod,
} from './resource.js';
export { Site, type SiteOptions } from './site.js';
export { File, type FileOptions } from './static.js';
