// CookieAgent: an agent wrapper that sends a CookieJar's cookies with each
// request and stores the Set-Cookie headers of each response
// (Twisted: twisted.web.client.CookieAgent).
// Tests: test/unit/web/client-cookie-agent.test.ts, test/integration/web/client-decoding.test.ts

import { type Deferred, fail } from '../../internet/defer.js';
import { Headers } from '../headers.js';
import type { IAgent } from './agent.js';
import type { IBodyProducer } from './client-protocol.js';
import type { CookieJar } from './cookie-jar.js';
import type { Response } from './response.js';
import { URI } from './uri.js';

/**
 * An agent wrapper that handles cookies with a {@link CookieJar}: each
 * request gets a `Cookie` header from the jar, and each response's
 * `Set-Cookie` headers go into it.
 *
 * @remarks
 * A request whose headers already have `Cookie` is sent with those, and the
 * jar's are not added (as Twisted's). Cookies are stored when the
 * response's head arrives, whatever its status, before the Deferred fires.
 *
 * Stacking: put the `CookieAgent` *under* a redirect-following agent,
 * `new RedirectAgent(new CookieAgent(agent, jar))`, so that every hop is a
 * request through it: the cookies a redirect sets are stored, and the next
 * hop gets the cookies of its own URL (the redirect agent drops the
 * `Cookie` header it was given on a cross-origin hop; this agent then adds
 * the jar's for the new origin). Stacked the other way round, only the
 * first request's cookies are sent and only the last response's stored.
 *
 * @example
 * ```ts
 * const jar = new CookieJar(reactor);
 * const agent = new CookieAgent(new Agent(reactor), jar);
 * await agent.request('POST', 'https://example.com/login', headers, body);
 * await agent.request('GET', 'https://example.com/account'); // sends the session cookie
 * ```
 *
 * @see Twisted: twisted.web.client.CookieAgent
 * @since 0.1.0
 */
export class CookieAgent implements IAgent {
  readonly #agent: IAgent;
  /** The jar cookies are read from and stored to. */
  readonly cookieJar: CookieJar;

  /**
   * @param agent - The agent that sends the requests.
   * @param cookieJar - The jar, shared by every request through this agent.
   */
  constructor(agent: IAgent, cookieJar: CookieJar) {
    this.#agent = agent;
    this.cookieJar = cookieJar;
  }

  /** {@inheritDoc IAgent.request} */
  request(
    method: string,
    uri: string,
    headers?: Headers,
    bodyProducer?: IBodyProducer,
  ): Deferred<Response> {
    let url: URI;
    try {
      url = URI.fromString(uri);
    } catch (error) {
      return fail(error);
    }
    let sent = headers;
    if (headers === undefined || !headers.hasHeader('cookie')) {
      const cookie = this.cookieJar.getCookieHeader(url);
      if (cookie !== undefined) {
        sent = headers === undefined ? new Headers() : headers.copy();
        sent.addRawHeader('Cookie', cookie);
      }
    }
    return this.#agent.request(method, uri, sent, bodyProducer).addCallback((response) => {
      for (const value of response.headers.getRawHeaders('set-cookie') ?? []) {
        this.cookieJar.setCookie(value, url);
      }
      return response;
    });
  }
}
