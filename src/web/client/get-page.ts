// getPage: fetch a URL's body in one call, following redirects, failing
// with WebError for a status other than 2xx
// (Twisted: twisted.web.client.getPage, long deprecated there for Agent).
// Tests: test/unit/web/client-get-page.test.ts, test/integration/examples-web-client.test.ts

import { type Deferred, fail, TimeoutError } from '../../internet/defer.js';
import type { HostnameEndpointReactor } from '../../internet/endpoints/hostname.js';
import { Failure } from '../../internet/failure.js';
import type { Headers } from '../headers.js';
import { headersFrom, producerFrom, reactorOr, readWholeBody } from './_convenience.js';
import { Agent, type IAgent } from './agent.js';
import type { IBodyProducer } from './client-protocol.js';
import { annotateFailure, WebError } from './errors.js';
import { RedirectAgent } from './redirect-agent.js';

/**
 * Headers as getPage and HTTPClient take them: a `Headers`, or a record of
 * one value or several per name (`{ Accept: 'text/html', 'X-Tag': ['a', 'b'] }`).
 *
 * @since 0.1.0
 */
export type HeadersLike = Headers | Readonly<Record<string, string | readonly string[]>>;

/** Options of {@link getPage}. */
export interface GetPageOptions {
  /** The method. @defaultValue `'GET'` */
  readonly method?: string;
  /** Headers to send: a `Headers`, or a record of a value or values per name. */
  readonly headers?: HeadersLike;
  /** The body: bytes, a string (sent as UTF-8) or a body producer. */
  readonly body?: Uint8Array | string | IBodyProducer;
  /**
   * Seconds the whole operation may take (connecting, redirects, the
   * body); past that the request is cancelled and the Deferred fails with
   * `TimeoutError`. Default: no limit.
   */
  readonly timeout?: number;
  /** Whether to follow redirects (through a {@link RedirectAgent}). @defaultValue true */
  readonly followRedirect?: boolean;
  /** How many redirects to follow. @defaultValue 20 */
  readonly redirectLimit?: number;
  /** The most bytes of body to accept; a longer one fails with a `RangeError`. Default: no limit. */
  readonly maxSize?: number;
  /**
   * The agent that makes the request (one with a connection pool, a
   * proxy, cookies…). Default: a new {@link Agent} on `reactor`, keeping no
   * connection open afterwards. Redirects are followed around it unless
   * `followRedirect` is false.
   */
  readonly agent?: IAgent;
  /**
   * The reactor for the default agent, the timeout, and the pacing of a
   * body given as bytes or a string. Default: the global reactor of
   * torsion/reactor, loaded when first needed; library code should pass
   * its own.
   */
  readonly reactor?: HostnameEndpointReactor;
}

/**
 * Fetches `url` and gives its body.
 *
 * @remarks
 * A convenience over {@link Agent}, {@link RedirectAgent} and `readBody`
 * for the common case: the request is made, redirects followed, and the
 * whole body read. A status outside 200–299 fails with {@link WebError},
 * whose `status`, `phrase` and `response` (the body) say what the server
 * answered, and whose message names the method, the URL and the status. A
 * body that ends with the connection (no length declared) counts as
 * complete. Every other failure keeps its type (`DNSLookupError`,
 * `ConnectionRefusedError`, `ResponseFailed`, …) with the method and URL
 * in its message.
 *
 * Without `agent` and `reactor`, the global reactor is used (loaded
 * lazily, so importing this module opens nothing). That suits scripts;
 * library code should pass the reactor it was given.
 *
 * Cancellation: cancelling the Deferred abandons the request at whatever
 * stage it is (connecting, waiting, reading the body, between redirects),
 * and closes its connection.
 *
 * Differences from Twisted: Twisted's `agent` option is the User-Agent
 * string (give a `User-Agent` header here); `postdata` is `body`; the
 * result is the body whatever the status class in Twisted's 3xx handling,
 * and a `PartialDownloadError` is not raised for close-delimited bodies.
 *
 * @example
 * ```ts
 * getPage('http://example.com/').addCallbacks(
 *   (body) => console.log(new TextDecoder().decode(body)),
 *   (failure) => console.error(failure.getErrorMessage()),
 * );
 * ```
 *
 * @returns A Deferred of the body's bytes.
 * @see Twisted: twisted.web.client.getPage
 * @since 0.1.0
 */
export function getPage(url: string, options: GetPageOptions = {}): Deferred<Uint8Array> {
  const method = options.method ?? 'GET';
  let headers: ReturnType<typeof headersFrom>;
  try {
    headers = headersFrom(options.headers);
  } catch (error) {
    return fail(error);
  }
  const { timeout } = options;
  if (timeout !== undefined && !(timeout >= 0)) {
    return fail(
      new RangeError(`getPage timeout must be a number of seconds from 0, not ${timeout}`),
    );
  }
  const needsReactor = options.agent === undefined || timeout !== undefined;
  const reactor = needsReactor ? reactorOr(options.reactor) : undefined;
  const start = (clock: HostnameEndpointReactor | undefined): Deferred<Uint8Array> => {
    let agent: IAgent = options.agent ?? new Agent(clock as HostnameEndpointReactor);
    if (options.followRedirect ?? true) {
      agent = new RedirectAgent(
        agent,
        options.redirectLimit === undefined ? {} : { redirectLimit: options.redirectLimit },
      );
    }
    const body = producerFrom(options.body, clock ?? options.reactor);
    const result = agent.request(method, url, headers, body).addCallback((response) => {
      const read = readWholeBody(response, options.maxSize);
      if (response.code >= 200 && response.code < 300) return read;
      return read.addCallback((page) => {
        const last = response.request?.absoluteURI;
        const where = last === undefined || last === url ? url : `${url} (redirected to ${last})`;
        return fail<Uint8Array>(
          new WebError(
            response.code,
            response.phrase,
            page,
            `${method} ${where}: ${response.code} ${response.phrase}`,
          ),
        );
      });
    });
    result.addErrback((failure: Failure) =>
      failure.check(WebError) === null ? annotateFailure(failure, method, url) : failure,
    );
    if (timeout === undefined || clock === undefined) return result;
    return result.addTimeout(timeout, clock, (outcome) => {
      if (outcome instanceof Failure) {
        return new Failure(
          new TimeoutError(`${method} ${url}: no complete response within ${timeout} seconds`, {
            timeout,
          }),
        );
      }
      return outcome;
    });
  };
  if (reactor === undefined) return start(undefined);
  return reactor.addCallback((clock) => start(clock));
}
