// Agent: the HTTP client's front door. It parses the URL, finds an endpoint
// for its host (TLS for https), takes a connection from a pool and sends the
// request on it (Twisted: twisted.web.client.Agent, IAgent,
// IAgentEndpointFactory).
// Tests: test/unit/web/client-agent.test.ts, test/integration/web/client.test.ts

import type { ConnectionOptions } from 'node:tls';
import { type Deferred, fail } from '../../internet/defer.js';
import {
  HostnameEndpoint,
  type HostnameEndpointReactor,
} from '../../internet/endpoints/hostname.js';
import type { Failure } from '../../internet/failure.js';
import type { IHostnameResolver, IStreamClientEndpoint } from '../../internet/interfaces.js';
import { Headers } from '../headers.js';
import type { IBodyProducer } from './client-protocol.js';
import { annotateFailure } from './errors.js';
import { HTTPConnectionPool } from './pool.js';
import type { Response } from './response.js';
import { URI } from './uri.js';

/**
 * Something that makes HTTP requests: an {@link Agent}, or a wrapper that
 * adds a behaviour to one (redirects, decoding, cookies).
 *
 * @see Twisted: twisted.web.iweb.IAgent
 * @since 0.1.0
 */
export interface IAgent {
  /**
   * Requests `uri` with `method`.
   *
   * @param headers - Headers to send (not modified). `Host` is added from the URL unless given.
   * @param bodyProducer - The body, if any.
   * @returns A Deferred of the response, fired when its head has arrived;
   *   cancelling it abandons the request and closes its connection.
   */
  request(
    method: string,
    uri: string,
    headers?: Headers,
    bodyProducer?: IBodyProducer,
  ): Deferred<Response>;
}

/**
 * Makes the endpoint an {@link Agent} connects to for a URL.
 *
 * @see Twisted: twisted.web.iweb.IAgentEndpointFactory
 * @since 0.1.0
 */
export interface IAgentEndpointFactory {
  /** The endpoint for `uri`'s scheme, host and port. */
  endpointForURI(uri: URI): IStreamClientEndpoint;
}

/** Options of {@link Agent}. */
export interface AgentOptions {
  /** Seconds a connection attempt may take. @defaultValue 30 */
  readonly connectTimeout?: number;
  /** The local address to connect from: an IP address, or `[host, port]`. */
  readonly bindAddress?: string | readonly [string, number];
  /**
   * Looks host names up.
   * @defaultValue the reactor, if it is an `IHostnameResolver`; else the system's resolver
   */
  readonly resolver?: IHostnameResolver;
  /**
   * TLS settings for `https:` URLs, as `tls.connect` takes them. By default
   * the server's certificate is verified against Node's bundled roots and
   * must name the URL's host; `{ ca }` adds trust roots, and
   * `{ rejectUnauthorized: false }` turns verification off (never do that
   * outside tests).
   */
  readonly tls?: ConnectionOptions;
  /**
   * Where connections come from and go back to. Default: a pool that keeps
   * none (each request gets a new connection, closed after its response),
   * as Twisted's; pass an {@link HTTPConnectionPool} to keep them alive.
   */
  readonly pool?: HTTPConnectionPool;
}

/** How many parsed URLs an {@link Agent} keeps for the next requests to the same ones. */
const PARSED_URLS_KEPT = 256;

/** The endpoints an {@link Agent} makes by default: a {@link HostnameEndpoint} per URL, with TLS for https. */
class StandardEndpointFactory implements IAgentEndpointFactory {
  constructor(
    private readonly reactor: HostnameEndpointReactor,
    private readonly options: AgentOptions,
  ) {}

  endpointForURI(uri: URI): IStreamClientEndpoint {
    const { connectTimeout, bindAddress, tls, resolver } = this.options;
    return new HostnameEndpoint(this.reactor, uri.host, uri.port, {
      ...(connectTimeout !== undefined && { timeout: connectTimeout }),
      ...(bindAddress !== undefined && { bindAddress }),
      ...(resolver !== undefined && { resolver }),
      ...(uri.scheme === 'https' && { tls: tls ?? true }),
    });
  }
}

/**
 * An HTTP/1.1 client: `request(method, url, headers?, body?)` gives a
 * Deferred of the {@link Response}.
 *
 * @remarks
 * The URL is parsed with {@link URI} (`http:` and `https:` only); the host
 * is looked up and connected to over IPv4 or IPv6 by a
 * {@link HostnameEndpoint}, with TLS for `https:` (verified by default).
 * The request gets `Host` from the URL (unless the headers have one) and
 * its framing from the body producer (`Content-Length`, or chunked when
 * the length is unknown). The Deferred fires when the response's head has
 * arrived; read the body with {@link readBody} or
 * {@link Response.deliverBody}.
 *
 * Failures keep their type (`DNSLookupError`, `ConnectionRefusedError`,
 * `TimeoutError`, `ResponseFailed`, …) and their message names the method
 * and URL. Cancelling the Deferred abandons the request at whatever stage
 * it is: connecting, sending, or waiting for the head; the connection is
 * closed, never returned to the pool half-used.
 *
 * @example
 * ```ts
 * const agent = new Agent(reactor);
 * const response = await agent.request('GET', 'https://example.com/');
 * console.log(response.code, new TextDecoder().decode(await readBody(response)));
 * ```
 *
 * @see Twisted: twisted.web.client.Agent
 * @since 0.1.0
 */
export class Agent implements IAgent {
  #endpointFactory: IAgentEndpointFactory;
  readonly #pool: HTTPConnectionPool;
  /**
   * The URLs parsed lately (a URI is immutable): parsing with `URL` was a
   * twentieth of the CPU time of a keep-alive request to the same URL.
   */
  readonly #parsed = new Map<string, URI>();

  /**
   * @param reactor - Connects, resolves and times: a `NodeReactor`, or a
   *   `MemoryReactor` in tests.
   */
  constructor(reactor: HostnameEndpointReactor, options: AgentOptions = {}) {
    this.#endpointFactory = new StandardEndpointFactory(reactor, options);
    this.#pool = options.pool ?? new HTTPConnectionPool(reactor, { persistent: false });
  }

  /**
   * An agent that connects through endpoints from `endpointFactory` (to
   * reach servers over UNIX sockets, a SOCKS proxy, or in-memory
   * transports in tests).
   *
   * @see Twisted: twisted.web.client.Agent.usingEndpointFactory
   */
  static usingEndpointFactory(
    reactor: HostnameEndpointReactor,
    endpointFactory: IAgentEndpointFactory,
    options: Pick<AgentOptions, 'pool'> = {},
  ): Agent {
    const agent = new Agent(reactor, options);
    agent.#endpointFactory = endpointFactory;
    return agent;
  }

  /** {@inheritDoc IAgent.request} */
  request(
    method: string,
    uri: string,
    headers?: Headers,
    bodyProducer?: IBodyProducer,
  ): Deferred<Response> {
    let parsed = this.#parsed.get(uri);
    if (parsed === undefined) {
      try {
        parsed = URI.fromString(uri);
      } catch (error) {
        return fail(error);
      }
      if (this.#parsed.size >= PARSED_URLS_KEPT) this.#parsed.clear();
      this.#parsed.set(uri, parsed);
    }
    let endpoint: IStreamClientEndpoint;
    try {
      endpoint = this.#endpointFactory.endpointForURI(parsed);
    } catch (error) {
      return fail(error);
    }
    return requestWithEndpoint(
      this.#pool,
      parsed,
      endpoint,
      method,
      parsed.originForm,
      headers,
      bodyProducer,
    );
  }
}

/**
 * Sends a request on a connection from `pool` to `endpoint`, keyed by the
 * URI's origin (and `target`, the request-target, which is the absolute URL
 * through a proxy).
 *
 * @internal Shared by {@link Agent} and `ProxyAgent`.
 */
export function requestWithEndpoint(
  pool: HTTPConnectionPool,
  uri: URI,
  endpoint: IStreamClientEndpoint,
  method: string,
  target: string,
  headers: Headers | undefined,
  bodyProducer: IBodyProducer | undefined,
  key: string = uri.origin,
): Deferred<Response> {
  const sent = headers === undefined ? new Headers() : headers.copy();
  if (!sent.hasHeader('host')) sent.addRawHeader('Host', uri.hostHeader);
  const absoluteURI = uri.toString();
  const request = {
    method,
    target,
    headers: sent,
    bodyProducer,
    persistent: pool.persistent,
  };
  const result = pool
    .getConnection(key, endpoint)
    .addCallback((protocol) => protocol.request(request))
    .addCallback((response) => {
      response.request = { method, absoluteURI, headers: sent };
      return response;
    });
  result.addErrback((failure: Failure) => annotateFailure(failure, method, absoluteURI));
  return result;
}
