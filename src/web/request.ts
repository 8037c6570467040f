// Request: one HTTP request as a resource sees it, and the response it writes
// (Twisted: twisted.web.http.Request and twisted.web.server.Request).
// Tests: test/unit/web/request.test.ts, test/unit/web/channel.test.ts,
// test/unit/web/twisted-http-request.test.ts, test/unit/web/twisted-web.test.ts

import { Deferred, fail, succeed } from '../internet/defer.js';
import { ConnectionLost } from '../internet/error.js';
import { Failure } from '../internet/failure.js';
import type {
  IAddress,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
} from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import { evaluatePreconditions } from './_conditional.js';
import { type CookieOptions, parseCookieHeader, serializeSetCookie } from './_cookies.js';
import { decodePathSegment, parseQueryString } from './_form.js';
import { errorPageHtml, escapeHtml } from './_html.js';
import { formatHttpDate } from './_http-date.js';
import type { RequestHead } from './_parser.js';
import { reasonPhrase } from './_status.js';
import { hasToken } from './_tokens.js';
import type { HTTPChannel, ServerError } from './channel.js';
import { Headers } from './headers.js';
import type { RequestBody } from './request-body.js';
import { type IResource, NOT_DONE_YET, type RenderResult, UnsupportedMethod } from './resource.js';
import type { Site } from './site.js';

const log = new Logger('torsion.web.server');

/**
 * What `setLastModified` and `setETag` return when the request's conditions
 * already decided the response (304 Not Modified or 412 Precondition
 * Failed): the resource should answer with an empty body.
 *
 * @see Twisted: twisted.web.http.CACHED
 * @since 0.1.0
 */
export const CACHED: unique symbol = Symbol('CACHED');

type Framing = 'none' | 'length' | 'chunked' | 'close';

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * One request, and the response a resource writes to it.
 *
 * @remarks
 * Metadata are strings, bodies are bytes (a string written is sent as
 * UTF-8). The response's status line and headers go out with the first
 * `write` (or with `finish`): set them before. Without a `Content-Length`,
 * an HTTP/1.1 response is chunked and an HTTP/1.0 one ends with the
 * connection. HEAD, 1xx, 204 and 304 responses never carry a body: what is
 * written is dropped.
 *
 * `finish()` after the client went away is a no-op (logged at debug);
 * `write()` after `finish()` throws, naming the request.
 *
 * @see Twisted: twisted.web.server.Request
 * @since 0.1.0
 */
export class Request {
  /** The connection this request arrived on. */
  readonly channel: HTTPChannel;
  /** The method, as received (`GET`, `POST`, …; case-sensitive). */
  method: string;
  /** The request-target exactly as received (`/a/b?x=1`, or a whole URL through a proxy). */
  readonly uri: string;
  /** The path of the target, without its query (still percent-encoded). */
  readonly path: string;
  /** The request's HTTP version. */
  readonly clientproto: 'HTTP/1.0' | 'HTTP/1.1';
  /** The request's headers. */
  readonly requestHeaders: Headers;
  /** The response's headers, sent with the first write. */
  readonly responseHeaders: Headers = new Headers();
  /** The request's body. */
  readonly content: RequestBody;
  /** The path segments traversal has used, percent-decoded. */
  prepath: string[] = [];
  /** The path segments still to traverse (percent-decoded): a leaf reads them. */
  postpath: string[];
  /** The response's status code (200 until set). */
  code = 200;
  /** The response's reason phrase, when set explicitly. */
  codeMessage: string | undefined;
  /** Whether `finish()` has been called. */
  finished = false;
  /** Whether the status line and headers have been sent. */
  startedWriting = false;
  /** How many body bytes have been sent. */
  sentLength = 0;
  /** The time (the site's clock, in seconds) the request's head arrived. */
  readonly started: number;

  #query: string;
  #args: Map<string, string[]> | undefined;
  #cookies: Map<string, string> | undefined;
  #persistent: boolean;
  #framing: Framing = 'none';
  #remaining = 0;
  #lost: Failure | undefined;
  #finishWaiters: Deferred<void>[] = [];
  #etag: string | undefined;
  #lastModified: number | undefined;
  #producer: IPushProducer | IPullProducer | undefined;
  /** @internal The client waits for a `100 Continue` not sent yet. */
  _awaitingContinue = false;
  /** @internal What the server answers instead of rendering (a malformed or refused request). */
  _problem: ServerError | undefined;
  /** The server answered in the resource's place; the resource's writes are dropped. */
  #answeredByServer = false;
  /** The headers are an upstream's (a proxy's answer): no default `Content-Type` is added. */
  #proxied = false;

  /**
   * @internal Made by the channel when a request's head arrives.
   *
   * @param channel - The connection.
   * @param head - The parsed request line and headers.
   * @param content - The body.
   * @param persistent - Whether the connection may carry another request after this one.
   * @param started - The time the head arrived.
   */
  constructor(
    channel: HTTPChannel,
    head: RequestHead,
    content: RequestBody,
    persistent: boolean,
    started: number,
  ) {
    this.channel = channel;
    this.method = head.method;
    this.uri = head.target;
    this.clientproto = head.version;
    this.requestHeaders = Headers._fromParsed(head.headers);
    this.content = content;
    this.#persistent = persistent;
    this.started = started;
    const { path, query } = splitTarget(head.target);
    this.path = path;
    this.#query = query;
    this.postpath = path.startsWith('/') ? path.slice(1).split('/').map(decodePathSegment) : [];
  }

  /** The site serving this request. */
  get site(): Site {
    return this.channel.site;
  }

  /** The connection's transport. */
  get transport(): ITCPTransport {
    return this.channel.transport;
  }

  /** The query's arguments, percent-decoded (UTF-8): each name with its values in order. */
  get args(): Map<string, string[]> {
    this.#args ??= parseQueryString(this.#query);
    return this.#args;
  }

  /** Whether the connection may carry another request after this one's response. */
  get persistent(): boolean {
    return this.#persistent;
  }

  /** The last value of a request header, or `undefined`. */
  getHeader(name: string): string | undefined {
    const values = this.requestHeaders.getRawHeaders(name);
    return values?.[values.length - 1];
  }

  /**
   * Sets a response header to one value (replacing any).
   *
   * @throws TypeError for a name that is not a token or a value with CR, LF or NUL;
   *   Error once the headers have been sent.
   */
  setHeader(name: string, value: string): void {
    this.#checkHeadersOpen('setHeader');
    this.responseHeaders.setRawHeaders(name, [value]);
  }

  /**
   * Sets the status code, and the reason phrase (by default the standard one).
   *
   * @throws RangeError for a code outside 100–999; TypeError for a phrase with
   *   CR, LF or NUL; Error once the headers have been sent.
   */
  setResponseCode(code: number, message?: string): void {
    this.#checkHeadersOpen('setResponseCode');
    if (!Number.isInteger(code) || code < 100 || code > 999) {
      throw new RangeError(`setResponseCode: ${code} is not a status code (100–999)`);
    }
    if (message !== undefined && /[\r\n\0]/.test(message)) {
      throw new TypeError(
        `setResponseCode: the reason phrase holds CR, LF or NUL: ${JSON.stringify(message)}`,
      );
    }
    this.code = code;
    this.codeMessage = message;
  }

  /** A cookie the request sent, or `undefined`. */
  getCookie(name: string): string | undefined {
    this.#cookies ??= parseCookieHeader(this.requestHeaders.getRawHeaders('cookie'));
    return this.#cookies.get(name);
  }

  /**
   * Adds a `Set-Cookie` header.
   *
   * @throws TypeError for a name, value or attribute a cookie cannot hold;
   *   Error once the headers have been sent.
   */
  addCookie(name: string, value: string, options?: CookieOptions): void {
    this.#checkHeadersOpen('addCookie');
    this.responseHeaders.addRawHeader('Set-Cookie', serializeSetCookie(name, value, options));
  }

  /**
   * Answers with a redirect: 302 Found (or `code`) and `Location: url`. The
   * resource still finishes the request (or returns a body).
   */
  redirect(url: string, code: 301 | 302 | 303 | 307 | 308 = 302): void {
    this.setResponseCode(code);
    this.setHeader('Location', url);
  }

  /**
   * Sets `Last-Modified` and checks the request's conditions against it.
   *
   * @param when - A `Date` or seconds since the epoch (fractions dropped).
   * @returns {@link CACHED} when the conditions answered the request (304 or
   *   412 is set; return an empty body), else `null`.
   */
  setLastModified(when: Date | number): typeof CACHED | null {
    const seconds = Math.floor(when instanceof Date ? when.getTime() / 1000 : when);
    if (this.#lastModified === undefined || seconds > this.#lastModified)
      this.#lastModified = seconds;
    this.setHeader('Last-Modified', formatHttpDate(this.#lastModified));
    return this.#checkConditions();
  }

  /**
   * Sets `ETag` and checks the request's conditions against it.
   *
   * @param etag - An entity tag with its quotes (`"v1"`, or weak `W/"v1"`).
   * @returns {@link CACHED} when the conditions answered the request, else `null`.
   */
  setETag(etag: string): typeof CACHED | null {
    if (!/^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/.test(etag)) {
      throw new TypeError(`setETag: not an entity tag (quotes included): ${JSON.stringify(etag)}`);
    }
    this.#etag = etag;
    this.setHeader('ETag', etag);
    return this.#checkConditions();
  }

  /** The address of the client (the other end of the connection). */
  getClientAddress(): IAddress {
    return this.transport.getPeer();
  }

  /** The address the request arrived on (this end of the connection). */
  getHost(): IAddress {
    return this.transport.getHost();
  }

  /** Whether the request came over TLS (from the start, or after `startTLS`). */
  isSecure(): boolean {
    const transport = this.transport as Partial<{
      getPeerCertificate: unknown;
      tlsStarted: unknown;
    }>;
    // A transport that can start TLS says whether it has; another is a
    // TLS transport if it can show the peer's certificate.
    if (typeof transport.tlsStarted === 'boolean') return transport.tlsStarted;
    return typeof transport.getPeerCertificate === 'function';
  }

  /**
   * The host the client asked for: the `Host` header without its port (an
   * IPv6 literal without its brackets), or the address the request arrived on.
   */
  getRequestHostname(): string {
    const host = this.getHeader('host');
    if (host !== undefined && host !== '') {
      if (host.startsWith('[')) return host.slice(1, Math.max(host.indexOf(']'), 1));
      const colon = host.lastIndexOf(':');
      return colon === -1 ? host : host.slice(0, colon);
    }
    const address = this.getHost() as Partial<{ host: string }>;
    return address.host ?? '';
  }

  /** The URL of the resource traversal reached: scheme, host and `prepath`. */
  prePathURL(): string {
    const scheme = this.isSecure() ? 'https' : 'http';
    const host = this.getHeader('host') ?? this.getRequestHostname();
    return `${scheme}://${host}/${this.prepath.map(encodeURIComponent).join('/')}`;
  }

  /**
   * The user name of HTTP Basic authentication, or `undefined`.
   *
   * @see Twisted: twisted.web.http.Request.getUser
   */
  getUser(): string | undefined {
    return this.#basicCredentials()?.[0];
  }

  /** The password of HTTP Basic authentication, or `undefined`. */
  getPassword(): string | undefined {
    return this.#basicCredentials()?.[1];
  }

  /**
   * Sends part of the body; the first call sends the status line and headers.
   *
   * @param data - Bytes, or a string sent as UTF-8.
   * @throws Error after `finish()`, or when the data goes past the
   *   `Content-Length` the response declared.
   */
  write(data: Uint8Array | string): void {
    if (this.#answeredByServer) return;
    if (this.finished) {
      throw new Error(`write() after finish() on ${this.#describe()}`);
    }
    if (this.#lost !== undefined) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (!this.startedWriting) {
      const head = this.#head(undefined);
      this.#send(head, bytes);
    } else {
      this.#send(undefined, bytes);
    }
  }

  /**
   * Ends the response: sends the headers if nothing was written, the end of a
   * chunked body, logs the request, and lets the connection go on.
   *
   * @remarks
   * After the client went away it does nothing (logged at debug); a second
   * call is logged as a warning and does nothing.
   */
  finish(): void {
    if (this.#answeredByServer) return;
    if (this.finished) {
      log.warn('finish() called twice on {request}', { request: this.#describe() });
      return;
    }
    this.finished = true;
    if (this.#lost !== undefined) {
      log.debug('finish() on {request} after the client went away', { request: this.#describe() });
      return;
    }
    if (this.#producer !== undefined) {
      // The next response could not register its own on the transport.
      log.error('{request} finished with a producer still registered; unregistering it', {
        request: this.#describe(),
      });
      this.unregisterProducer();
    }
    if (!this.startedWriting) {
      this.#send(this.#head(0), EMPTY);
    }
    // The rest of an unread body would be taken for the next request: close instead.
    if (!this.content.done) this.#persistent = false;
    if (this.#framing === 'chunked') {
      this.transport.write(LAST_CHUNK);
    } else if (this.#framing === 'length' && this.#remaining > 0) {
      log.warn(
        '{request} finished with {missing} bytes of its Content-Length unsent; closing the connection',
        {
          request: this.#describe(),
          missing: this.#remaining,
        },
      );
      this.#persistent = false;
    }
    this.site._logAccess(this);
    this.content._release();
    const waiters = this.#finishWaiters;
    this.#finishWaiters = [];
    for (const w of waiters) w.callback(undefined);
    this.channel._requestDone(this);
  }

  /**
   * A Deferred that fires when the response has been finished, or fails
   * (`ConnectionLost`) if the client goes away first.
   */
  notifyFinish(): Deferred<void> {
    if (this.#lost !== undefined) return fail(this.#lost);
    if (this.finished) return succeed(undefined);
    const waiter = new Deferred<void>();
    this.#finishWaiters.push(waiter);
    return waiter;
  }

  /**
   * Registers a producer that writes the body to this request (`write` is
   * the consumer's): a push producer is paused while the connection's send
   * buffer is full; a pull producer is asked for each chunk.
   *
   * @throws Error if a producer is registered already.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== undefined) {
      throw new Error(`registerProducer: ${this.#describe()} already has a producer`);
    }
    this.#producer = producer;
    if (this.#lost !== undefined) {
      producer.stopProducing();
      return;
    }
    this.transport.registerProducer(producer, streaming);
  }

  /** Forgets the registered producer. */
  unregisterProducer(): void {
    if (this.#producer === undefined) return;
    this.#producer = undefined;
    if (this.#lost === undefined) this.transport.unregisterProducer();
  }

  /** Closes the connection (after what has been written). */
  loseConnection(): void {
    this.transport.loseConnection();
  }

  /**
   * Renders `resource` for this request and sends what it returns; an
   * exception becomes a 500 page (see {@link Request.processingFailed}).
   */
  render(resource: IResource): void {
    let result: RenderResult;
    try {
      result = resource.render(this);
    } catch (error) {
      if (error instanceof UnsupportedMethod) {
        this.#unsupported(error);
      } else {
        this.processingFailed(new Failure(error));
      }
      return;
    }
    this.#answer(result, resource);
  }

  /**
   * Answers with a 500 page after a resource failed, and logs the failure
   * with its stack. If the response had begun, the connection is closed
   * instead, cutting it short.
   */
  processingFailed(reason: Failure): void {
    if (this.#lost !== undefined) {
      // Most likely the disconnection itself (a body that could not end): not worth an alarm per client.
      log.debug('Error while handling {request} after the client went away: {reason}', {
        request: this.#describe(),
        reason: reason.getErrorMessage(),
      });
      return;
    }
    log.failure('Error while handling {request}', reason, { request: this.#describe() });
    if (this.#lost !== undefined || this.finished) return;
    if (this.startedWriting) {
      this.#persistent = false;
      this.finished = true;
      this.channel._requestDone(this);
      this.content._release();
      return;
    }
    const detail = this.site.displayTracebacks
      ? reason.getTraceback()
      : 'An error occurred while handling the request; it has been logged.';
    this.responseHeaders.removeHeader('Content-Length');
    this.#errorPage(500, 'Internal Server Error', detail, this.site.displayTracebacks);
  }

  /** @internal The connection was lost before the request finished. */
  _connectionLost(reason: Failure): void {
    if (this.#lost !== undefined) return;
    this.#lost = reason;
    if (this.#producer !== undefined) {
      const producer = this.#producer;
      this.#producer = undefined;
      try {
        producer.stopProducing();
      } catch (error) {
        log.failure('A response producer threw from stopProducing', new Failure(error));
      }
    }
    if (!this.content.done) {
      this.content._fail(
        new Failure(new ConnectionLost('the connection closed before the request body ended')),
      );
    }
    this.content._release();
    const waiters = this.#finishWaiters;
    this.#finishWaiters = [];
    for (const w of waiters) w.errback(reason);
  }

  /**
   * @internal A proxy adopts an upstream response's headers (the parser
   * checked them) as this response's, instead of copying them field by
   * field; a response without `Date` gets the server's (RFC 9110 §6.6.1).
   */
  _adoptResponseHeaders(headers: Headers): void {
    this.#checkHeadersOpen('_adoptResponseHeaders');
    if (!headers.hasHeader('date')) headers._setChecked('Date', 'date', this.site._dateHeader());
    (this as { responseHeaders: Headers }).responseHeaders = headers;
    this.#proxied = true;
  }

  /** @internal Forgets the status and headers set so far (a proxy answers in an upstream's place). */
  _resetResponse(): void {
    this.#checkHeadersOpen('_resetResponse');
    this.code = 200;
    this.codeMessage = undefined;
    (this as { responseHeaders: Headers }).responseHeaders = new Headers();
    this.#proxied = false;
  }

  /**
   * @internal Ends a response that cannot be completed (a proxy's upstream
   * failed mid-body): nothing more is written, not even the end of a
   * chunked body, and the connection closes, so that the client sees the
   * response cut short rather than complete.
   */
  _abortResponse(): void {
    if (this.#lost !== undefined || this.finished) return;
    if (this.#producer !== undefined) this.unregisterProducer();
    this.#persistent = false;
    this.finished = true;
    this.content._release();
    const waiters = this.#finishWaiters;
    this.#finishWaiters = [];
    for (const w of waiters) w.callback(undefined);
    this.channel._requestDone(this);
  }

  /** @internal The channel handed the connection over after this request ({@link HTTPChannel._takeOver}). */
  _handedOver(): void {
    this.startedWriting = true;
    this.finished = true;
    this.#persistent = false;
    this.content._release();
    const waiters = this.#finishWaiters;
    this.#finishWaiters = [];
    for (const w of waiters) w.callback(undefined);
  }

  /** @internal The connection cannot be reused after this request. */
  _setNotPersistent(): void {
    this.#persistent = false;
  }

  /**
   * @internal Answers with an error page of the server's own (a malformed
   * request, a timeout). `overResource`: a resource is rendering this
   * request; its later writes and `finish` are dropped, as after the client
   * went away.
   */
  _respondWithError(code: number, brief: string, detail: string, overResource = false): void {
    this.#persistent = false;
    this.#errorPage(code, brief, detail, false);
    if (overResource) this.#answeredByServer = true;
  }

  #errorPage(code: number, brief: string, detail: string, preformatted: boolean): void {
    this.code = code;
    this.codeMessage = undefined;
    this.responseHeaders.setRawHeaders('Content-Type', ['text/html; charset=utf-8']);
    const body = preformatted
      ? Buffer.from(
          errorPageHtml(code, brief, '').replace('<p></p>', `<pre>${escapeHtml(detail)}</pre>`),
        )
      : Buffer.from(errorPageHtml(code, brief, detail));
    this.responseHeaders._setChecked('Content-Length', 'content-length', `${body.length}`);
    this.write(body);
    this.finish();
  }

  #unsupported(error: UnsupportedMethod): void {
    if (UnsupportedMethod.isStandardMethod(this.method)) {
      this.responseHeaders.setRawHeaders('Allow', [error.allowedMethods.join(', ')]);
      this.#errorPage(
        405,
        'Method Not Allowed',
        `Your browser approached me (at ${this.uri}) with the method "${this.method}". I only allow the method${error.allowedMethods.length === 1 ? '' : 's'} ${error.allowedMethods.join(', ') || '(none)'} here.`,
        false,
      );
    } else {
      this.#errorPage(
        501,
        'Not Implemented',
        `I don't know how to treat a ${this.method} request.`,
        false,
      );
    }
  }

  /** Sends what a render function returned. */
  #answer(result: unknown, resource: IResource): void {
    if (result === NOT_DONE_YET) return;
    if (typeof result === 'string' || result instanceof Uint8Array) {
      if (this.finished || this.#lost !== undefined) {
        if (this.finished && this.#lost === undefined && !this.#answeredByServer) {
          log.error(
            '{resource} returned a body for {request} after finishing it; the body is dropped',
            {
              resource: resource.constructor.name,
              request: this.#describe(),
            },
          );
        }
        return;
      }
      const body = typeof result === 'string' ? Buffer.from(result) : result;
      // A 304 must not declare a length other than the full representation's (RFC 9110 §8.6).
      const bodiless = this.code < 200 || this.code === 204 || this.code === 304;
      if (!this.startedWriting && !bodiless) {
        this.responseHeaders._setChecked('Content-Length', 'content-length', `${body.length}`);
      }
      this.write(body);
      this.finish();
      return;
    }
    if (isThenable(result)) {
      const answered = (body: unknown): null => {
        if (typeof body === 'string' || body instanceof Uint8Array) this.#answer(body, resource);
        else
          this.processingFailed(
            new Failure(new TypeError(badResult(resource, body, 'resolved with'))),
          );
        return null;
      };
      const failed = (failure: Failure): null => {
        this.processingFailed(failure);
        return null;
      };
      // A Deferred answers as soon as it fires (at once if it has), as Twisted's would; a Promise on its turn.
      const deferred = result instanceof Deferred ? result : Deferred.fromPromise(result);
      deferred.addCallbacks(answered, failed);
      return;
    }
    this.processingFailed(new Failure(new TypeError(badResult(resource, result, 'returned'))));
  }

  /** The status line and headers; decides the framing of the body. */
  #head(bodyLength: number | undefined): string {
    const code = this.code;
    const headers = this.responseHeaders;
    headers.removeHeader('Transfer-Encoding');
    const bodiless = code < 200 || code === 204 || code === 304;
    if (code < 200 || code === 204) headers.removeHeader('Content-Length');
    const declared = headers.getRawHeaders('Content-Length');
    let length: number | undefined;
    if (declared !== undefined && declared.length > 0) {
      const value = declared[declared.length - 1] as string;
      if (!/^\d+$/.test(value) || declared.some((v) => v !== value)) {
        throw new TypeError(
          `${this.#describe()}: the response's Content-Length is not one number: ${declared.join(', ')}`,
        );
      }
      length = Number(value);
    } else if (bodyLength !== undefined && !bodiless) {
      length = bodyLength;
      headers._setChecked('Content-Length', 'content-length', `${length}`);
    }
    if (bodiless || this.method === 'HEAD') {
      this.#framing = 'none';
    } else if (length !== undefined) {
      this.#framing = 'length';
      this.#remaining = length;
    } else if (this.clientproto === 'HTTP/1.1') {
      this.#framing = 'chunked';
      headers.setRawHeaders('Transfer-Encoding', ['chunked']);
    } else {
      this.#framing = 'close';
      this.#persistent = false;
    }
    // An empty body needs no Content-Type (Twisted omits it too).
    if (!bodiless && length !== 0 && !this.#proxied && !headers.hasHeader('Content-Type')) {
      headers.setRawHeaders('Content-Type', ['text/html; charset=utf-8']);
    }
    const connection = headers.getRawHeaders('Connection');
    if (connection?.some((v) => hasToken(v, 'close'))) this.#persistent = false;
    // A client waiting for 100 Continue that did not come may or may not send its body.
    if (this.channel._awaitsContinue(this)) this.#persistent = false;
    if (!this.#persistent || this.channel._closing) {
      this.#persistent = false;
      headers.setRawHeaders('Connection', ['close']);
    } else if (this.clientproto === 'HTTP/1.0') {
      headers.setRawHeaders('Connection', ['keep-alive']);
    }
    let text = `HTTP/1.1 ${code} ${this.codeMessage ?? reasonPhrase(code)}\r\n`;
    for (const { name, values } of headers._entries()) {
      for (const value of values) text += `${name}: ${value}\r\n`;
    }
    text += '\r\n';
    this.startedWriting = true;
    return text;
  }

  /** Writes the head (if given) and a chunk of the body, framed. */
  #send(head: string | undefined, body: Uint8Array): void {
    const transport = this.transport;
    let n = body.length;
    switch (this.#framing) {
      case 'none':
        n = 0;
        break;
      case 'length':
        if (n > this.#remaining) {
          if (head !== undefined) transport.write(Buffer.from(head, 'latin1'));
          this.#persistent = false;
          throw new Error(
            `write() of ${n} bytes on ${this.#describe()} goes past its Content-Length (${this.#remaining} bytes left)`,
          );
        }
        this.#remaining -= n;
        break;
      case 'chunked':
        if (n > 0) {
          const size = Buffer.from(`${n.toString(16)}\r\n`, 'latin1');
          transport.writeSequence(
            head === undefined
              ? [size, body, CRLF]
              : [Buffer.from(head, 'latin1'), size, body, CRLF],
          );
          this.sentLength += n;
          return;
        }
        break;
      case 'close':
        break;
    }
    if (head !== undefined) {
      // The head (latin1: a byte per character) and the body in one
      // allocation, from Node's pool when small.
      const out = Buffer.allocUnsafe(head.length + n);
      out.write(head, 0, 'latin1');
      if (n > 0) out.set(n === body.length ? body : body.subarray(0, n), head.length);
      transport.write(out);
    } else if (n > 0) {
      transport.write(body);
    }
    this.sentLength += n;
  }

  #checkHeadersOpen(what: string): void {
    if (this.startedWriting) {
      throw new Error(`${what}: the headers of ${this.#describe()} have been sent`);
    }
  }

  #checkConditions(): typeof CACHED | null {
    const current: { etag?: string; lastModified?: number } = {};
    if (this.#etag !== undefined) current.etag = this.#etag;
    if (this.#lastModified !== undefined) current.lastModified = this.#lastModified;
    const outcome = evaluatePreconditions(this.method, this.requestHeaders, current);
    if (outcome === 'proceed') return null;
    this.setResponseCode(outcome);
    return CACHED;
  }

  #basicCredentials(): [string, string] | undefined {
    const value = this.getHeader('authorization');
    const match = value === undefined ? null : /^basic +([A-Za-z0-9+/=]+) *$/i.exec(value);
    if (match === null) return undefined;
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : [decoded.slice(0, colon), decoded.slice(colon + 1)];
  }

  #describe(): string {
    return `${this.method} ${this.uri}`;
  }
}

/** The path and query of a request-target (origin, absolute, authority or asterisk form). */
function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  if (!rest.startsWith('/') && rest !== '*') {
    const scheme = rest.indexOf('://');
    if (scheme !== -1) {
      const slash = rest.slice(scheme + 3).search(/[/?]/);
      rest = slash === -1 ? '/' : rest.slice(scheme + 3 + slash);
      if (rest.startsWith('?')) rest = `/${rest}`;
    }
  }
  const q = rest.indexOf('?');
  return q === -1
    ? { path: rest, query: '' }
    : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function badResult(resource: IResource, value: unknown, verb: string): string {
  const what =
    value === null
      ? 'null'
      : typeof value === 'object'
        ? (value.constructor?.name ?? 'an object')
        : typeof value;
  return `${resource.constructor.name}.render ${verb} ${what}: expected a string, a Uint8Array, NOT_DONE_YET or a promise of a body`;
}
