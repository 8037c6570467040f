// The errors of the HTTP client: how a request or its response failed, and
// how a response body ended (Twisted: twisted.web._newclient's exceptions).
// Tests: test/unit/web/client-protocol.test.ts

import { ConnectError, TorsionError } from '../../internet/error.js';
import type { Failure } from '../../internet/failure.js';

/** Joins the messages of failures for an error's message. */
function describe(reasons: readonly Failure[]): string {
  return reasons.map((reason) => reason.getErrorMessage()).join('; ');
}

/**
 * The response body arrived in full: the reason a body protocol's
 * `connectionLost` gets when nothing went wrong.
 *
 * @see Twisted: twisted.web.client.ResponseDone
 * @since 0.1.0
 */
export class ResponseDone extends TorsionError {
  override name = 'ResponseDone';
  override readonly code: string = 'ERR_RESPONSE_DONE';
  constructor(message = 'the response body was received in full') {
    super(message);
  }
}

/**
 * The body ended with the connection, and the response said nothing of its
 * length: it may be complete, or cut short (RFC 9112 §6.3, rule 8).
 *
 * @see Twisted: twisted.web.http.PotentialDataLoss
 * @since 0.1.0
 */
export class PotentialDataLoss extends TorsionError {
  override name = 'PotentialDataLoss';
  override readonly code: string = 'ERR_POTENTIAL_DATA_LOSS';
  constructor(message = 'the response ended with the connection and declared no length') {
    super(message);
  }
}

/**
 * The response, or its body, could not be received in full; `reasons` says
 * why (a lost connection, a malformed response, a cancellation).
 *
 * @see Twisted: twisted.web.client.ResponseFailed
 * @since 0.1.0
 */
export class ResponseFailed extends TorsionError {
  override name = 'ResponseFailed';
  override readonly code: string = 'ERR_RESPONSE_FAILED';
  /** The failures that stopped the response. */
  readonly reasons: readonly Failure[];
  constructor(reasons: readonly Failure[], message = `the response failed: ${describe(reasons)}`) {
    super(message);
    this.reasons = reasons;
  }
}

/**
 * The request was sent (maybe in part) but no response head came back.
 *
 * @see Twisted: twisted.web.client.ResponseNeverReceived
 * @since 0.1.0
 */
export class ResponseNeverReceived extends ResponseFailed {
  override name = 'ResponseNeverReceived';
  override readonly code: string = 'ERR_RESPONSE_NEVER_RECEIVED';
  constructor(reasons: readonly Failure[]) {
    super(reasons, `no response was received: ${describe(reasons)}`);
  }
}

/**
 * The request could not be written: its body producer failed, or wrote a
 * length other than the one it declared.
 *
 * @see Twisted: twisted.web.client.RequestGenerationFailed
 * @since 0.1.0
 */
export class RequestGenerationFailed extends TorsionError {
  override name = 'RequestGenerationFailed';
  override readonly code: string = 'ERR_REQUEST_GENERATION_FAILED';
  /** The failures that stopped the request. */
  readonly reasons: readonly Failure[];
  constructor(reasons: readonly Failure[]) {
    super(`the request could not be generated: ${describe(reasons)}`);
    this.reasons = reasons;
  }
}

/**
 * The connection was lost while the request was being sent.
 *
 * @see Twisted: twisted.web.client.RequestTransmissionFailed
 * @since 0.1.0
 */
export class RequestTransmissionFailed extends TorsionError {
  override name = 'RequestTransmissionFailed';
  override readonly code: string = 'ERR_REQUEST_TRANSMISSION_FAILED';
  /** The failures that stopped the request. */
  readonly reasons: readonly Failure[];
  constructor(reasons: readonly Failure[]) {
    super(`the request could not be sent: ${describe(reasons)}`);
    this.reasons = reasons;
  }
}

/**
 * The connection takes no request now: another is in progress, or it is
 * closed or closing. Nothing was sent.
 *
 * @see Twisted: twisted.web.client.RequestNotSent
 * @since 0.1.0
 */
export class RequestNotSent extends TorsionError {
  override name = 'RequestNotSent';
  override readonly code: string = 'ERR_REQUEST_NOT_SENT';
  constructor(message = 'the connection takes no request now; nothing was sent') {
    super(message);
  }
}

/**
 * A body producer wrote more, or fewer, bytes than the length it declared.
 *
 * @see Twisted: twisted.web._newclient.WrongBodyLength
 * @since 0.1.0
 */
export class WrongBodyLength extends TorsionError {
  override name = 'WrongBodyLength';
  override readonly code: string = 'ERR_WRONG_BODY_LENGTH';
}

/**
 * `readBody` read a body that ended with the connection without a declared
 * length: `response` holds what arrived, which may be all of it.
 *
 * @see Twisted: twisted.web.client.PartialDownloadError
 * @since 0.1.0
 */
export class PartialDownloadError extends TorsionError {
  override name = 'PartialDownloadError';
  override readonly code: string = 'ERR_PARTIAL_DOWNLOAD';
  /** The response's status code. */
  readonly status: number;
  /** The bytes that arrived. */
  readonly response: Uint8Array;
  constructor(status: number, response: Uint8Array) {
    super(
      `the body of a ${status} response ended with the connection (${response.length} bytes); it may be incomplete`,
    );
    this.status = status;
    this.response = response;
  }
}

/** The errors whose message already names their request. */
const annotated = new WeakSet<Error>();

/**
 * Adds the method and URL to a failure's message (`GET http://…: connection
 * refused`), once, keeping its type so that `trap` and `check` still match.
 *
 * @internal Used by the agents on the failures they pass on.
 * @returns The same failure.
 */
export function annotateFailure(failure: Failure, method: string, uri: string): Failure {
  const error = failure.value;
  if (error instanceof Error && !annotated.has(error)) {
    annotated.add(error);
    const prefix = `${method} ${uri}: `;
    if (!error.message.startsWith(prefix)) error.message = prefix + error.message;
  }
  return failure;
}

/**
 * An HTTP error status: what `getPage` fails with when the response's
 * status is not 2xx, and the base of the redirect errors.
 *
 * @remarks
 * `message` names the request and the status (`GET http://example.com/x:
 * 404 Not Found`) when the error comes from `getPage` or a `RedirectAgent`;
 * `phrase` holds the reason phrase alone and `response` the body, which
 * error pages often explain themselves in.
 *
 * Differences from Twisted: Twisted's `Error.message` is the reason phrase
 * and `str(error)` is `"404 Not Found"`; here the reason phrase is `phrase`,
 * because a JavaScript error's `message` is what every log and stack trace
 * prints.
 *
 * @see Twisted: twisted.web.error.Error
 * @since 0.1.0
 */
export class WebError extends TorsionError {
  override name = 'WebError';
  override readonly code: string = 'ERR_WEB';
  /** The response's status code. */
  readonly status: number;
  /** The response's reason phrase. */
  readonly phrase: string;
  /** The response's body, when it was read (`getPage` reads it). */
  readonly response: Uint8Array | undefined;
  /**
   * @param message - The error's message. Default: `"<status> <phrase>"`.
   */
  constructor(
    status: number,
    phrase: string,
    response?: Uint8Array,
    message = `${status} ${phrase}`,
  ) {
    super(message);
    this.status = status;
    this.phrase = phrase;
    this.response = response;
  }
}

/**
 * A redirect that was not followed: a `RedirectAgent` with `strict` set met
 * a 301, 302, 307 or 308 for a method other than GET and HEAD, or the
 * redirect would have resent a body its producer cannot replay.
 *
 * @see Twisted: twisted.web.error.PageRedirect
 * @since 0.1.0
 */
export class PageRedirect extends WebError {
  override name = 'PageRedirect';
  override readonly code: string = 'ERR_PAGE_REDIRECT';
  /** The URL that answered with the redirect. */
  readonly uri: string;
  /** Where the redirect pointed, resolved against `uri`. */
  readonly location: string;
  constructor(status: number, phrase: string, uri: string, location: string, message: string) {
    super(status, phrase, undefined, message);
    this.uri = uri;
    this.location = location;
  }
}

/**
 * A redirect past the limit of a `RedirectAgent` (20 by default): a loop,
 * most likely.
 *
 * @see Twisted: twisted.web.error.InfiniteRedirection
 * @since 0.1.0
 */
export class InfiniteRedirection extends WebError {
  override name = 'InfiniteRedirection';
  override readonly code: string = 'ERR_INFINITE_REDIRECTION';
  /** The URL that answered with the redirect not followed. */
  readonly uri: string;
  /** Where that redirect pointed (its `Location`, as sent). */
  readonly location: string | undefined;
  constructor(
    status: number,
    phrase: string,
    uri: string,
    location: string | undefined,
    message: string,
  ) {
    super(status, phrase, undefined, message);
    this.uri = uri;
    this.location = location;
  }
}

/**
 * A redirect status without a `Location` header: there is nowhere to go.
 *
 * @see Twisted: twisted.web.error.RedirectWithNoLocation
 * @since 0.1.0
 */
export class RedirectWithNoLocation extends WebError {
  override name = 'RedirectWithNoLocation';
  override readonly code: string = 'ERR_REDIRECT_WITH_NO_LOCATION';
  /** The URL that answered with the redirect. */
  readonly uri: string;
  constructor(status: number, phrase: string, uri: string, message: string) {
    super(status, phrase, undefined, message);
    this.uri = uri;
  }
}

/**
 * An HTTP proxy answered a `CONNECT` (the request for a tunnel to an
 * `https:` origin) with a status other than 2xx: the message names the
 * proxy, the target and the status.
 *
 * @remarks
 * A `ConnectError`: the connection to the origin could not be made.
 * `407 Proxy Authentication Required` means the proxy wants a
 * `proxyAuthorization` option that it accepts.
 *
 * @since 0.1.0
 */
export class ProxyConnectError extends ConnectError {
  static override readonly description: string = 'The proxy refused to open a tunnel';
  override name = 'ProxyConnectError' as const;
  override readonly code = 'ERR_PROXY_CONNECT' as const;
  /** The proxy, as its endpoint describes itself. */
  readonly proxy: string;
  /** The `host:port` the tunnel was asked for. */
  readonly target: string;
  /** The status the proxy answered. */
  readonly status: number;
  /** Its reason phrase. */
  readonly phrase: string;

  constructor(proxy: string, target: string, status: number, phrase: string) {
    super(`${proxy} answered CONNECT ${target} with ${status}${phrase === '' ? '' : ` ${phrase}`}`);
    this.proxy = proxy;
    this.target = target;
    this.status = status;
    this.phrase = phrase;
  }
}
