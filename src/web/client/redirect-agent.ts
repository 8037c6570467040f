// RedirectAgent: an agent wrapper that follows HTTP redirects (301, 302,
// 303, 307, 308) by RFC 9110's method rules, with a limit, dropping
// credentials on a redirect to another origin
// (Twisted: twisted.web.client.RedirectAgent, BrowserLikeRedirectAgent).
// Tests: test/unit/web/client-redirect.test.ts

import { Deferred, fail } from '../../internet/defer.js';
import type { IPushProducer } from '../../internet/interfaces.js';
import type { Headers } from '../headers.js';
import type { IAgent } from './agent.js';
import type { IBodyProducer } from './client-protocol.js';
import { InfiniteRedirection, PageRedirect, RedirectWithNoLocation } from './errors.js';
import { isReplayable } from './file-body-producer.js';
import type { Response } from './response.js';
import { URI } from './uri.js';

/** Options of {@link RedirectAgent}. */
export interface RedirectAgentOptions {
  /**
   * How many redirects one request may follow; the next one fails with
   * {@link InfiniteRedirection}. @defaultValue 20
   */
  readonly redirectLimit?: number;
  /**
   * More header names to drop on a redirect to another origin, besides
   * `Authorization`, `Proxy-Authorization`, `Cookie`, `Cookie2` and
   * `WWW-Authenticate` (always dropped).
   */
  readonly sensitiveHeaderNames?: Iterable<string>;
  /**
   * Twisted's `RedirectAgent` rules: 301, 302, 307 and 308 are followed for
   * GET and HEAD only; for any other method they fail with
   * {@link PageRedirect} (303 still turns it into a GET).
   * @defaultValue false: the rules of RFC 9110 and browsers (see the class)
   */
  readonly strict?: boolean;
}

/** Headers that carry credentials: never sent on to another origin. */
const SENSITIVE = ['authorization', 'proxy-authorization', 'cookie', 'cookie2', 'www-authenticate'];

/** Headers that describe a body: dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
  'transfer-encoding',
];

/** The redirect statuses. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The most bytes of a redirect's own body read (and thrown away) before its connection is closed instead. */
const MAX_DISCARDED_BODY = 2 ** 20;

/**
 * Wraps an agent to follow redirects: the response given back is the last
 * one, with the ones before it chained through `previousResponse`.
 *
 * @remarks
 * Method rules (RFC 9110 §15.4, as browsers apply them, the Fetch
 * standard's "HTTP-redirect fetch"):
 * - 303 See Other: the next request is a GET without a body (a HEAD stays
 *   a HEAD).
 * - 301 and 302: a POST becomes a GET without a body, as every browser
 *   does; other methods are kept, with their body.
 * - 307 and 308: the method and the body are kept. The body is sent again
 *   only if its producer can replay it ({@link IReplayableBodyProducer}:
 *   bytes, strings and files can, a stream cannot); otherwise the request
 *   fails with {@link PageRedirect}.
 *
 * When the request becomes a GET, the headers that describe its body
 * (`Content-Type`, `Content-Encoding`, …) are dropped. On a redirect to
 * another origin (scheme, host or port), the credential headers
 * (`Authorization`, `Proxy-Authorization`, `Cookie`, …; see
 * `sensitiveHeaderNames`) and a `Host` given by the caller are dropped.
 * A relative `Location` is resolved against the URL that answered.
 *
 * The body of each redirect response is read and thrown away (up to 1 MiB;
 * a longer one closes its connection instead) before the next request is
 * made, so that a persistent connection can go back to its pool and carry
 * that request.
 *
 * Failures: {@link InfiniteRedirection} past `redirectLimit`,
 * {@link RedirectWithNoLocation} for a redirect without `Location`,
 * {@link PageRedirect} for a redirect not followed (see above and
 * `strict`), `InvalidURIError` for a `Location` that is not an http(s)
 * URL; the wrapped agent's errors pass through.
 *
 * Cancellation: cancelling the Deferred cancels the request in progress
 * (or the reading of a redirect's body), whichever step it is at.
 *
 * Differences from Twisted: one class with a `strict` option stands for
 * both of Twisted's: the default is Twisted's `BrowserLikeRedirectAgent`,
 * except that 307 and 308 keep the method and resend the body (Twisted's
 * fails a 307 for a POST and turns a 308 into a GET), and `strict: true`
 * is Twisted's `RedirectAgent`. Errors are not wrapped in `ResponseFailed`.
 *
 * @example
 * ```ts
 * const agent = new RedirectAgent(new Agent(reactor), { redirectLimit: 5 });
 * const response = await agent.request('GET', 'http://example.com/old');
 * console.log(response.code, response.request?.absoluteURI);
 * ```
 *
 * @see Twisted: twisted.web.client.RedirectAgent
 * @since 0.1.0
 */
export class RedirectAgent implements IAgent {
  readonly #agent: IAgent;
  readonly #redirectLimit: number;
  readonly #sensitive: readonly string[];
  readonly #strict: boolean;

  /**
   * @param agent - The agent that makes each request.
   * @throws RangeError if `redirectLimit` is not a whole number from 0.
   */
  constructor(agent: IAgent, options: RedirectAgentOptions = {}) {
    const limit = options.redirectLimit ?? 20;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`redirectLimit must be a whole number from 0, not ${limit}`);
    }
    this.#agent = agent;
    this.#redirectLimit = limit;
    this.#sensitive = [
      ...SENSITIVE,
      ...[...(options.sensitiveHeaderNames ?? [])].map((name) => name.toLowerCase()),
    ];
    this.#strict = options.strict ?? false;
  }

  /**
   * Requests `uri`, following redirects.
   *
   * @returns A Deferred of the last response (see the class's remarks for
   *   its failures and for cancellation).
   */
  request(
    method: string,
    uri: string,
    headers?: Headers,
    bodyProducer?: IBodyProducer,
  ): Deferred<Response> {
    return this.#agent
      .request(method, uri, headers, bodyProducer)
      .addCallback((response) =>
        this.#handleResponse(response, method, uri, headers, bodyProducer, 0),
      );
  }

  #handleResponse(
    response: Response,
    method: string,
    uri: string,
    headers: Headers | undefined,
    body: IBodyProducer | undefined,
    count: number,
  ): Response | Deferred<Response> {
    const status = response.code;
    if (!REDIRECTS.has(status)) return response;
    let nextMethod = method;
    let keepBody = true;
    const safe = method === 'GET' || method === 'HEAD';
    if (status === 303) {
      if (method !== 'HEAD') nextMethod = 'GET';
    } else if (this.#strict && !safe) {
      return this.#refuse(
        response,
        uri,
        `${method} ${uri}: a ${status} redirect is not followed for ${method} (strict)`,
      );
    } else if ((status === 301 || status === 302) && method === 'POST') {
      nextMethod = 'GET';
    }
    if (nextMethod === 'GET' && method !== 'GET') keepBody = false;

    if (count >= this.#redirectLimit) {
      const location = response.headers.getRawHeaders('location')?.[0];
      return this.#failAfterDiscard(
        response,
        new InfiniteRedirection(
          status,
          response.phrase,
          uri,
          location,
          `${method} ${uri}: ${status} redirect not followed: the limit of ${this.#redirectLimit} redirects was reached${location === undefined ? '' : ` (Location: ${location})`}`,
        ),
      );
    }
    const locations = response.headers.getRawHeaders('location');
    const location = locations?.[0];
    if (location === undefined) {
      return this.#failAfterDiscard(
        response,
        new RedirectWithNoLocation(
          status,
          response.phrase,
          uri,
          `${method} ${uri}: ${status} ${response.phrase} has no Location header`,
        ),
      );
    }
    let current: URI;
    let target: URI;
    try {
      current = URI.fromString(uri);
      target = current.resolve(location);
    } catch (error) {
      return this.#failAfterDiscard(response, error);
    }
    const next = target.toString();

    let nextBody: IBodyProducer | undefined;
    if (keepBody && body !== undefined) {
      nextBody = isReplayable(body) ? body.replay() : undefined;
      if (nextBody === undefined) {
        return this.#refuse(
          response,
          uri,
          `${method} ${uri}: a ${status} redirect to ${next} would send the body again, but its producer cannot replay it`,
          next,
        );
      }
    }

    let nextHeaders = headers;
    const crossOrigin = current.origin !== target.origin;
    if (headers !== undefined && (crossOrigin || !keepBody)) {
      nextHeaders = headers.copy();
      if (crossOrigin) {
        for (const name of this.#sensitive) nextHeaders.removeHeader(name);
        nextHeaders.removeHeader('host');
      }
      if (!keepBody) for (const name of BODY_HEADERS) nextHeaders.removeHeader(name);
    }

    return discardBody(response)
      .addCallback(() => this.#agent.request(nextMethod, next, nextHeaders, nextBody))
      .addCallback((nextResponse) => {
        nextResponse.previousResponse = response;
        return this.#handleResponse(
          nextResponse,
          nextMethod,
          next,
          nextHeaders,
          nextBody,
          count + 1,
        );
      });
  }

  /** Fails with a {@link PageRedirect} after the redirect's body is discarded. */
  #refuse(response: Response, uri: string, message: string, location?: string): Deferred<Response> {
    let resolved = location;
    if (resolved === undefined) {
      const raw = response.headers.getRawHeaders('location')?.[0] ?? '';
      try {
        resolved = URI.fromString(uri).resolve(raw).toString();
      } catch {
        resolved = raw;
      }
    }
    return this.#failAfterDiscard(
      response,
      new PageRedirect(response.code, response.phrase, uri, resolved, message),
    );
  }

  #failAfterDiscard(response: Response, error: unknown): Deferred<Response> {
    return discardBody(response).addCallback(() => fail<Response>(error));
  }
}

/**
 * Reads `response`'s body and throws it away; fires when it has ended,
 * whichever way. A body over {@link MAX_DISCARDED_BODY} is stopped, which
 * closes its connection. Cancelling stops it too.
 */
function discardBody(response: Response): Deferred<void> {
  let producer: IPushProducer | undefined;
  let size = 0;
  let stopped = false;
  let cancelled = false;
  const done = new Deferred<void>(() => {
    cancelled = true;
    if (!stopped) {
      stopped = true;
      producer?.stopProducing();
    }
  });
  try {
    response.deliverBody({
      makeConnection(p) {
        producer = p;
      },
      dataReceived(data) {
        size += data.length;
        if (size > MAX_DISCARDED_BODY && !stopped) {
          stopped = true;
          producer?.stopProducing();
        }
      },
      connectionLost() {
        // After a cancel, the Deferred fails with CancelledError instead.
        if (!done.called && !cancelled) done.callback(undefined);
      },
    });
  } catch {
    // Someone else has the body already: nothing to discard.
    if (!done.called) done.callback(undefined);
  }
  return done;
}
