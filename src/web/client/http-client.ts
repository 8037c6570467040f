// HTTPClient: the common HTTP calls in one line each (get, post, …, with
// query parameters, form or JSON bodies), and a response whose body reads as
// bytes, text or JSON; `treq` holds the same calls on a default client
// (Python's treq: treq.client.HTTPClient, treq.response._Response).
// Tests: test/unit/web/client-http-client.test.ts

import { Deferred, fail, succeed, TimeoutError } from '../../internet/defer.js';
import type { HostnameEndpointReactor } from '../../internet/endpoints/hostname.js';
import { Failure } from '../../internet/failure.js';
import type { IReactorTime } from '../../internet/interfaces.js';
import type { Headers } from '../headers.js';
import { headersFrom, producerFrom, reactorOr, readWholeBody } from './_convenience.js';
import { Agent, type IAgent } from './agent.js';
import type { IBodyProducer } from './client-protocol.js';
import { annotateFailure } from './errors.js';
import type { HeadersLike } from './get-page.js';
import { RedirectAgent } from './redirect-agent.js';
import type { Response } from './response.js';

/** Query parameters: a record of a value or values per name, pairs, or `URLSearchParams`. */
export type QueryParams =
  | URLSearchParams
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | number | readonly (string | number)[]>>;

/** A form: its fields, a value or values each, sent `application/x-www-form-urlencoded`. */
export type FormFields = Readonly<Record<string, string | readonly string[]>>;

/** Options of one {@link HTTPClient} request. */
export interface HTTPClientRequestOptions {
  /** Headers to send: a `Headers`, or a record of a value or values per name. */
  readonly headers?: HeadersLike;
  /** Query parameters, added to those already in the URL. */
  readonly params?: QueryParams;
  /**
   * The body: bytes, a string (UTF-8), a form (URL-encoded, with its
   * `Content-Type`) or a body producer. Not with `json`.
   */
  readonly data?: Uint8Array | string | FormFields | IBodyProducer;
  /** A value sent as JSON (UTF-8), with `Content-Type: application/json`. Not with `data`. */
  readonly json?: unknown;
  /**
   * Seconds until the response's head must have arrived; past that the
   * request is cancelled and fails with `TimeoutError` (the body is not
   * covered, as in treq). Default: no limit.
   */
  readonly timeout?: number;
  /** Whether to follow redirects. @defaultValue the client's `followRedirect` */
  readonly followRedirect?: boolean;
}

/** Options of {@link HTTPClient}. */
export interface HTTPClientOptions {
  /**
   * The clock for timeouts and for pacing bodies. Default: the global
   * reactor, loaded when first needed; library code should pass its own.
   */
  readonly reactor?: IReactorTime;
  /** Whether requests follow redirects (through a {@link RedirectAgent}). @defaultValue true */
  readonly followRedirect?: boolean;
}

/**
 * A response from an {@link HTTPClient}: the status and headers at once,
 * and the body as bytes, text or JSON on demand.
 *
 * @remarks
 * The body is read once, at the first call of `content`, `text` or
 * `json`, and kept: each later call gives the same bytes. A body that ends
 * with the connection without a declared length counts as complete.
 * Cancelling the Deferred of one call stops waiting; when every caller has
 * cancelled, the reading stops and the connection is closed.
 *
 * @see treq: treq.response._Response
 * @since 0.1.0
 */
export class HTTPClientResponse {
  /** The response as the agent gave it (to stream its body with `deliverBody` instead). */
  readonly original: Response;
  #result: Uint8Array | Failure | undefined;
  #reading: Deferred<Uint8Array> | undefined;
  #waiting: Deferred<Uint8Array>[] = [];
  readonly #method: string;
  readonly #url: string;

  /** @internal Made by {@link HTTPClient}. */
  constructor(original: Response, method: string, url: string) {
    this.original = original;
    this.#method = method;
    this.#url = url;
  }

  /** The status code. */
  get code(): number {
    return this.original.code;
  }

  /** The reason phrase. */
  get phrase(): string {
    return this.original.phrase;
  }

  /** The headers. */
  get headers(): Headers {
    return this.original.headers;
  }

  /** The body's declared length, or `undefined`. */
  get length(): number | undefined {
    return this.original.length;
  }

  /** The URL that answered: the last one when redirects were followed. */
  get url(): string {
    return this.original.request?.absoluteURI ?? this.#url;
  }

  /** The responses before this one (redirects), oldest first. */
  history(): Response[] {
    const list: Response[] = [];
    for (let r = this.original.previousResponse; r !== undefined; r = r.previousResponse) {
      list.unshift(r);
    }
    return list;
  }

  /**
   * The body's bytes.
   *
   * @returns A Deferred of the body; it fails as the body does
   *   (`ResponseFailed` when it is cut short).
   */
  content(): Deferred<Uint8Array> {
    const result = this.#result;
    if (result instanceof Failure) return fail(result);
    if (result !== undefined) return succeed(result);
    const d: Deferred<Uint8Array> = new Deferred<Uint8Array>(() => {
      this.#waiting = this.#waiting.filter((w) => w !== d);
      if (this.#waiting.length === 0) this.#reading?.cancel();
    });
    this.#waiting.push(d);
    if (this.#reading === undefined) {
      const reading = readWholeBody(this.original);
      this.#reading = reading;
      reading.addBoth((outcome: Uint8Array | Failure) => {
        if (outcome instanceof Failure) annotateFailure(outcome, this.#method, this.url);
        this.#result = outcome;
        const waiting = this.#waiting;
        this.#waiting = [];
        for (const w of waiting) {
          if (outcome instanceof Failure) w.errback(outcome);
          else w.callback(outcome);
        }
        return null;
      });
    }
    return d;
  }

  /**
   * The body as text.
   *
   * @param encoding - A `TextDecoder` label. Default: the `charset` of
   *   `Content-Type`, else UTF-8.
   * @returns A Deferred of the text; it fails with a `RangeError` for an
   *   unknown encoding.
   */
  text(encoding?: string): Deferred<string> {
    return this.content().addCallback((body) => {
      const label =
        encoding ?? charsetOf(this.headers.getRawHeaders('content-type')?.[0]) ?? 'utf-8';
      return new TextDecoder(label).decode(body);
    });
  }

  /**
   * The body parsed as JSON (read as UTF-8).
   *
   * @returns A Deferred of the value; it fails with a `SyntaxError` naming
   *   the URL if the body is not JSON.
   */
  json<T = unknown>(): Deferred<T> {
    return this.content().addCallback((body): unknown => {
      try {
        return JSON.parse(new TextDecoder('utf-8').decode(body)) as unknown;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new SyntaxError(`the body of ${this.#method} ${this.url} is not JSON: ${reason}`);
      }
    }) as Deferred<T>;
  }
}

/** The `charset` parameter of a Content-Type, if any. */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match?.[1];
}

/** `url` with `params` added to its query. */
function withParams(url: string, params: QueryParams | undefined): string {
  if (params === undefined) return url;
  const parsed = new URL(url);
  const pairs: Iterable<readonly [string, string | number | readonly (string | number)[]]> =
    params instanceof URLSearchParams || Symbol.iterator in params
      ? (params as Iterable<readonly [string, string]>)
      : Object.entries(params);
  for (const [name, value] of pairs) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values as (string | number)[]) parsed.searchParams.append(name, String(v));
  }
  return parsed.href;
}

/** Whether `data` is a form record (not bytes, a string or a producer). */
function isForm(data: HTTPClientRequestOptions['data']): data is FormFields {
  return (
    typeof data === 'object' &&
    !(data instanceof Uint8Array) &&
    typeof (data as Partial<IBodyProducer>).startProducing !== 'function'
  );
}

/**
 * The common HTTP calls on an agent, each in one line, giving responses
 * whose bodies read as bytes, text or JSON.
 *
 * @remarks
 * `get`, `head`, `post`, `put`, `patch` and `delete` call
 * {@link HTTPClient.request} with their method. Options add query
 * parameters (`params`), a body (`data`: bytes, a string, a form record
 * sent URL-encoded, or a body producer; or `json`, serialised), headers
 * and a timeout. Redirects are followed unless `followRedirect` is false.
 * Failures keep their types, with the method and URL in their messages; a
 * status like 404 is a response, not a failure (check `code`).
 *
 * Cancellation: cancelling a request's Deferred abandons the request and
 * closes its connection.
 *
 * @example
 * ```ts
 * const http = new HTTPClient(new Agent(reactor), { reactor });
 * const response = await http.post('http://example.com/api', { json: { name: 'Ada' } });
 * console.log(response.code, await response.json());
 * ```
 *
 * @see treq: treq.client.HTTPClient
 * @since 0.1.0
 */
export class HTTPClient {
  readonly #agent: IAgent;
  readonly #options: HTTPClientOptions;

  /** @param agent - Makes the requests: an {@link Agent}, or a wrapper of one. */
  constructor(agent: IAgent, options: HTTPClientOptions = {}) {
    this.#agent = agent;
    this.#options = options;
  }

  /** A GET request; see {@link HTTPClient.request}. */
  get(url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> {
    return this.request('GET', url, options);
  }

  /** A HEAD request; see {@link HTTPClient.request}. */
  head(url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> {
    return this.request('HEAD', url, options);
  }

  /** A POST request; see {@link HTTPClient.request}. */
  post(url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> {
    return this.request('POST', url, options);
  }

  /** A PUT request; see {@link HTTPClient.request}. */
  put(url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> {
    return this.request('PUT', url, options);
  }

  /** A PATCH request; see {@link HTTPClient.request}. */
  patch(url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> {
    return this.request('PATCH', url, options);
  }

  /** A DELETE request; see {@link HTTPClient.request}. */
  delete(url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> {
    return this.request('DELETE', url, options);
  }

  /**
   * Requests `url` with `method`.
   *
   * @returns A Deferred of the response, fired when its head has arrived;
   *   it fails with a `TypeError` for `data` and `json` together, an
   *   `InvalidURIError` for a URL it cannot fetch, `TimeoutError` past
   *   `timeout`, or the agent's failure.
   */
  request(
    method: string,
    url: string,
    options: HTTPClientRequestOptions = {},
  ): Deferred<HTTPClientResponse> {
    let target: string;
    let headers: Headers | undefined;
    let body: Uint8Array | string | IBodyProducer | undefined;
    try {
      target = withParams(url, options.params);
      headers = headersFrom(options.headers);
      const { data, json } = options;
      if (data !== undefined && json !== undefined) {
        throw new TypeError(`${method} ${url}: give data or json, not both`);
      }
      let contentType: string | undefined;
      if (json !== undefined) {
        body = JSON.stringify(json);
        contentType = 'application/json; charset=UTF-8';
      } else if (isForm(data)) {
        body = new URLSearchParams(
          Object.entries(data).flatMap(([name, value]) =>
            (typeof value === 'string' ? [value] : (value as readonly string[])).map(
              (v) => [name, v] as [string, string],
            ),
          ),
        ).toString();
        contentType = 'application/x-www-form-urlencoded';
      } else {
        body = data;
      }
      if (contentType !== undefined) {
        headers ??= headersFrom({});
        if (!headers?.hasHeader('content-type'))
          headers?.setRawHeaders('Content-Type', [contentType]);
      }
    } catch (error) {
      if (error instanceof TypeError && !error.message.includes(url)) {
        return fail(new TypeError(`${method} ${url}: ${error.message}`, { cause: error }));
      }
      return fail(error);
    }
    const { timeout } = options;
    if (timeout !== undefined && !(timeout >= 0)) {
      return fail(
        new RangeError(`${method} ${url}: timeout must be seconds from 0, not ${timeout}`),
      );
    }
    const clock = this.#options.reactor;
    const follow = options.followRedirect ?? this.#options.followRedirect ?? true;
    const agent = follow ? new RedirectAgent(this.#agent) : this.#agent;
    const send = (): Deferred<HTTPClientResponse> =>
      agent
        .request(method, target, headers, producerFrom(body, clock))
        .addCallback((response) => new HTTPClientResponse(response, method, target));
    if (timeout === undefined) return send();
    return reactorOr(clock).addCallback((timer) =>
      send().addTimeout(timeout, timer, (outcome) => {
        if (!(outcome instanceof Failure)) return outcome;
        return new Failure(
          new TimeoutError(`${method} ${target}: no response within ${timeout} seconds`, {
            timeout,
          }),
        );
      }),
    );
  }
}

/** The client of the {@link treq} calls, made on first use. */
let defaultClient: HTTPClient | undefined;

function withDefault(
  call: (client: HTTPClient) => Deferred<HTTPClientResponse>,
): Deferred<HTTPClientResponse> {
  if (defaultClient !== undefined) return call(defaultClient);
  return reactorOr<HostnameEndpointReactor>(undefined).addCallback((reactor) => {
    defaultClient ??= new HTTPClient(new Agent(reactor), { reactor });
    return call(defaultClient);
  });
}

/**
 * The {@link HTTPClient} calls on a default client: a new {@link Agent} on
 * the global reactor (loaded at the first call), following redirects and
 * keeping no connection open between requests.
 *
 * @remarks
 * For scripts: `treq.get(url).addCallback((r) => r.text())`. Library code
 * should make an {@link HTTPClient} with the reactor it was given. The
 * calls live on one object, as Python's treq module does, so that `get`
 * and `request` are not confused with the server's `Request` of the same
 * package, and so that `delete` (a reserved word) can be one of them.
 *
 * @example
 * ```ts
 * treq.get('http://example.com/', { params: { q: 'torsion' } })
 *   .addCallback((response) => response.text())
 *   .addCallback((text) => console.log(text));
 * ```
 *
 * @see treq: treq.get, treq.post, treq.request
 * @since 0.1.0
 */
export const treq = {
  /** A GET request on the default client. */
  get: (url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> =>
    withDefault((c) => c.get(url, options)),
  /** A HEAD request on the default client. */
  head: (url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> =>
    withDefault((c) => c.head(url, options)),
  /** A POST request on the default client. */
  post: (url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> =>
    withDefault((c) => c.post(url, options)),
  /** A PUT request on the default client. */
  put: (url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> =>
    withDefault((c) => c.put(url, options)),
  /** A PATCH request on the default client. */
  patch: (url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> =>
    withDefault((c) => c.patch(url, options)),
  /** A DELETE request on the default client. */
  delete: (url: string, options?: HTTPClientRequestOptions): Deferred<HTTPClientResponse> =>
    withDefault((c) => c.delete(url, options)),
  /** A request with any method on the default client. */
  request: (
    method: string,
    url: string,
    options?: HTTPClientRequestOptions,
  ): Deferred<HTTPClientResponse> => withDefault((c) => c.request(method, url, options)),
} as const;
