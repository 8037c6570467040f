// Internal: the forwarding engine the forward and the reverse proxy share. It
// sends one server Request upstream on a pooled keep-alive connection and
// streams the answer back, bodies flowing both ways with backpressure, and
// turns upstream failures into short 502/504 pages (Twisted's web.proxy
// buffers whole bodies and opens a connection per request; this does neither).
// Tests: test/unit/web/proxy/forward-engine.test.ts, test/integration/web/proxy-reverse.test.ts
//
// The contract, for the proxies built on it:
//
//   const forwarder = new Forwarder({ reactor, pool?, connectTimeout?, responseTimeout?,
//                                     filter?, stats?, rewriteResponseHeaders?, onOutcome?,
//                                     tls?, endpointFor? });
//   forwarder.forward(request, target);      // answers `request`, one way or another
//   forwarder.closeCachedConnections();      // before shutting down
//
//   target: { scheme: 'http'|'https', host, port, path: '/a?b' (origin form),
//             headers: Headers to send upstream (edited in place: hop-by-hop fields
//             removed; `Host` added from host:port when absent), name?: for pages }
//
// - The resource calling `forward` should set `streamsRequestBody = true`, so
//   that the body streams upstream as it arrives (it is never held whole).
// - filter.filterRequest runs before any connection is sought; an answer is
//   sent instead (its body with a Content-Length); a throw is logged and
//   answered 500. filter.filterResponse runs when the upstream head arrives;
//   an answer replaces the upstream's, whose connection is then closed.
// - stats.request(info) for every request, stats.upstreamError(info, reason)
//   for every 502/504 or body cut short.
// - onOutcome(target, 'ok' | 'failed' | 'cancelled') exactly once per call of
//   forward, when the request is over: 'failed' is the upstream's fault
//   (refused, reset, timed out, malformed), 'cancelled' means the upstream
//   had no part in the end (the client went away, or the filter answered).
//   Passive health and least-connections use it.
// - Connect timeout (connectTimeout, 10 s) and response timeout
//   (responseTimeout, 60 s, from the end of the request to the response head)
//   → 504; refused, reset, closed, malformed → 502. A response cut short
//   mid-body cuts the client's response short too (no false end).
// - A client that goes away cancels the upstream request: the upstream
//   connection is aborted, never returned to the pool.
// - The engine adds nothing but `Host` (and `Date` to an answer without one):
//   `Via`, loop checks and `X-Forwarded-*` are the calling proxy's. The
//   upstream's answer is passed on as soon as its head arrives, even while
//   the upload goes on (an upstream that echoes as it reads works).

import type { ConnectionOptions } from 'node:tls';
import { CancelledError, Deferred } from '../../internet/defer.js';
import {
  HostnameEndpoint,
  type HostnameEndpointReactor,
} from '../../internet/endpoints/hostname.js';
import {
  ConnectError,
  ConnectionDone,
  ConnectionRefusedError,
  DNSLookupError,
  TimeoutError,
} from '../../internet/error.js';
import { Failure } from '../../internet/failure.js';
import type {
  IConsumer,
  IDelayedCall,
  IPushProducer,
  IStreamClientEndpoint,
} from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { HttpParseError } from '../_parser.js';
import type { ClientRequest, IBodyProducer } from '../client/client-protocol.js';
import {
  PotentialDataLoss,
  RequestGenerationFailed,
  RequestTransmissionFailed,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
} from '../client/errors.js';
import { HTTPConnectionPool, type IClientConnection } from '../client/pool.js';
import type { Response } from '../client/response.js';
import type { Headers } from '../headers.js';
import type { Request } from '../request.js';
import { sendAnswer, sendProxyError } from './_error-page.js';
import { stripHopByHop } from './_hop-by-hop.js';
import type { IProxyFilter, IProxyStats, ProxiedRequestInfo, ProxyAnswer } from './hooks.js';

const log = new Logger('torsion.web.proxy');

/** Where one request goes. */
export interface ForwardTarget {
  /** The upstream's scheme (`https` connects with TLS). */
  readonly scheme: 'http' | 'https';
  /** The upstream's host name or address (an IPv6 address without brackets). */
  readonly host: string;
  /** The upstream's port. */
  readonly port: number;
  /** The request-target sent upstream, in origin form (`/a/b?c`). */
  readonly path: string;
  /**
   * The headers to send upstream. Edited in place: hop-by-hop fields are
   * removed, `Host` is added from `host` and `port` when absent, and a
   * filter may edit them. A proxy may pass the request's own headers.
   */
  readonly headers: Headers;
  /** How pages and logs name the upstream; `host:port` by default. */
  readonly name?: string;
}

/** How a forwarded request ended, for {@link ForwardOptions.onOutcome}. */
export type ForwardOutcome = 'ok' | 'failed' | 'cancelled';

/** The settings of a {@link Forwarder}, shared by all the requests it forwards. */
export interface ForwardOptions {
  /** Connects (TCP, TLS, name lookups) and times. */
  readonly reactor: HostnameEndpointReactor;
  /** Where upstream connections are kept between requests; a persistent pool by default. */
  readonly pool?: HTTPConnectionPool;
  /** Seconds to wait for an upstream connection (504 after). @defaultValue 10 */
  readonly connectTimeout?: number;
  /**
   * Seconds to wait for the upstream's response head once the request has
   * been sent (504 after). @defaultValue 60
   */
  readonly responseTimeout?: number;
  /** Refuses or edits requests and responses. */
  readonly filter?: IProxyFilter;
  /** Where requests and upstream errors are counted. */
  readonly stats?: IProxyStats;
  /** Edits the upstream's response headers (hop-by-hop ones already removed) before the filter sees them. */
  readonly rewriteResponseHeaders?: (headers: Headers, request: Request) => void;
  /** Hears how each forwarded request ended. */
  readonly onOutcome?: (target: ForwardTarget, outcome: ForwardOutcome) => void;
  /** TLS settings for `https` upstreams (`true`: Node's roots, the host's name checked). @defaultValue true */
  readonly tls?: boolean | ConnectionOptions;
  /** Makes the endpoint for an upstream (tests, custom transports); a `HostnameEndpoint` by default. */
  readonly endpointFor?: (target: ForwardTarget) => IStreamClientEndpoint;
}

/**
 * Forwards server requests upstream and their answers back.
 *
 * @remarks
 * See this module's header for the contract. One `Forwarder` serves any
 * number of requests and upstreams; it keeps an endpoint per upstream and
 * the pool keeps the connections.
 */
export class Forwarder {
  readonly pool: HTTPConnectionPool;
  readonly connectTimeout: number;
  readonly responseTimeout: number;
  readonly options: ForwardOptions;
  readonly #endpoints = new Map<string, IStreamClientEndpoint>();

  constructor(options: ForwardOptions) {
    const connectTimeout = options.connectTimeout ?? 10;
    const responseTimeout = options.responseTimeout ?? 60;
    if (!(connectTimeout > 0)) {
      throw new RangeError(`connectTimeout must be a number of seconds > 0, not ${connectTimeout}`);
    }
    if (!(responseTimeout > 0)) {
      throw new RangeError(
        `responseTimeout must be a number of seconds > 0, not ${responseTimeout}`,
      );
    }
    this.options = options;
    this.connectTimeout = connectTimeout;
    this.responseTimeout = responseTimeout;
    this.pool =
      options.pool ??
      new HTTPConnectionPool(options.reactor, {
        maxPersistentPerHost: 256,
        cachedConnectionTimeout: 60,
      });
  }

  /** Closes the idle upstream connections. */
  closeCachedConnections(): Deferred<void> {
    return this.pool.closeCachedConnections();
  }

  /** The pool's key and the endpoint of an upstream (one endpoint kept per upstream). */
  _endpoint(target: ForwardTarget, key: string): IStreamClientEndpoint {
    let endpoint = this.#endpoints.get(key);
    if (endpoint === undefined) {
      const make = this.options.endpointFor;
      endpoint =
        make !== undefined
          ? make(target)
          : new HostnameEndpoint(this.options.reactor, target.host, target.port, {
              timeout: this.connectTimeout,
              ...(target.scheme === 'https' && { tls: this.options.tls ?? true }),
            });
      if (this.#endpoints.size >= 1024) this.#endpoints.clear();
      this.#endpoints.set(key, endpoint);
    }
    return endpoint;
  }

  /**
   * Sends `request` to `target` and its answer back: the upstream's
   * response, a filter's answer, or an error page.
   */
  forward(request: Request, target: ForwardTarget): void {
    const headers = target.headers;
    stripHopByHop(headers);
    if (!headers.hasHeader('host')) headers.addRawHeader('Host', hostHeader(target));
    const { filter, stats } = this.options;
    let info: ProxiedRequestInfo | undefined;
    if (filter !== undefined || stats !== undefined) {
      info = describeRequest(request, target);
      if (stats !== undefined) callStats(stats, 'request', info);
      if (filter?.filterRequest !== undefined) {
        let answer: ProxyAnswer | undefined;
        try {
          answer = filter.filterRequest(info);
        } catch (error) {
          request.processingFailed(new Failure(error));
          this.#outcome(target, 'cancelled');
          return;
        }
        if (answer !== undefined) {
          sendAnswer(request, answer);
          this.#outcome(target, 'cancelled');
          return;
        }
      }
    }
    new Exchange(this, request, target, info).start();
  }

  /** Tells `onOutcome` how a request ended (what it throws is logged). */
  #outcome(target: ForwardTarget, outcome: ForwardOutcome): void {
    const onOutcome = this.options.onOutcome;
    if (onOutcome === undefined) return;
    try {
      onOutcome(target, outcome);
    } catch (error) {
      log.failure('A proxy outcome callback threw', new Failure(error));
    }
  }
}

/** The `Host` field for an upstream: the port only when not the scheme's default. */
export function hostHeader(target: { scheme: string; host: string; port: number }): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const standard = target.scheme === 'https' ? 443 : 80;
  return target.port === standard ? host : `${host}:${target.port}`;
}

/** What the filter and the statistics see of a request. */
function describeRequest(request: Request, target: ForwardTarget): ProxiedRequestInfo {
  return {
    method: request.method,
    url: `${target.scheme}://${hostHeader(target)}${target.path}`,
    scheme: target.scheme,
    host: target.host.toLowerCase(),
    port: target.port,
    path: target.path,
    headers: target.headers,
    clientAddress: request.getClientAddress(),
  };
}

function callStats(
  stats: IProxyStats,
  what: 'request' | 'upstreamError',
  info: ProxiedRequestInfo,
  reason = '',
): void {
  try {
    if (what === 'request') stats.request(info);
    else stats.upstreamError(info, reason);
  } catch (error) {
    log.failure('A proxy statistics object threw from {what}', new Failure(error), { what });
  }
}

/** Reads a request's body and writes it upstream: the body producer of the upstream request. */
class BodyPump implements IBodyProducer {
  readonly length: number | undefined;
  #consumer: IConsumer | undefined;
  #source: IPushProducer | undefined;
  #done: Deferred<void> | undefined;
  readonly #exchange: Exchange;

  constructor(exchange: Exchange, length: number | undefined) {
    this.#exchange = exchange;
    this.length = length;
  }

  startProducing(consumer: IConsumer): Deferred<void> {
    this.#consumer = consumer;
    const done = new Deferred<void>();
    this.#done = done;
    this.#exchange.request.content.deliverBody(this);
    return done;
  }

  // IBodyReader, for the request's body:
  makeConnection(producer: IPushProducer): void {
    this.#source = producer;
  }

  dataReceived(data: Uint8Array): void {
    this.#consumer?.write(data);
  }

  connectionLost(reason: Failure): void {
    const done = this.#done;
    this.#done = undefined;
    if (done === undefined) return;
    if (reason.check(ConnectionDone) !== null) {
      done.callback(undefined);
      this.#exchange.bodySent();
    } else {
      // The client went away, or sent a malformed body (the server answers that itself).
      this.#exchange.clientFailed();
      done.errback(reason);
    }
  }

  // IPushProducer, for the upstream transport:
  pauseProducing(): void {
    this.#source?.pauseProducing();
  }

  resumeProducing(): void {
    this.#source?.resumeProducing();
  }

  stopProducing(): void {
    const source = this.#source;
    this.#source = undefined;
    this.#done = undefined;
    source?.stopProducing();
  }
}

/** One request on its way: the response's body reader and the push producer registered on the client's connection. */
class Exchange implements IPushProducer {
  readonly forwarder: Forwarder;
  readonly request: Request;
  readonly target: ForwardTarget;
  #info: ProxiedRequestInfo | undefined;
  /** The connection or response being waited for. */
  #pending: Deferred<unknown> | undefined;
  #timer: IDelayedCall | undefined;
  #timedOut = false;
  #clientGone = false;
  #over = false;
  #hasBody: boolean;
  #bodySent = false;
  #connected = false;
  #producer: IPushProducer | undefined;

  constructor(
    forwarder: Forwarder,
    request: Request,
    target: ForwardTarget,
    info: ProxiedRequestInfo | undefined,
  ) {
    this.forwarder = forwarder;
    this.request = request;
    this.target = target;
    this.#info = info;
    const length = request.content.length;
    this.#hasBody = length === undefined || length > 0;
  }

  start(): void {
    this.request.notifyFinish().addErrback(clientLost, this);
    const target = this.target;
    const key = `${target.scheme}://${target.host}:${target.port}`;
    let endpoint: IStreamClientEndpoint;
    try {
      endpoint = this.forwarder._endpoint(target, key);
    } catch (error) {
      this.#fail(502, `could not be reached: ${messageOf(error)}`);
      return;
    }
    const d = this.forwarder.pool.getConnection(key, endpoint);
    this.#pending = d;
    d.addCallbacks(connected, failed, [this], [this]);
  }

  /** A connection to the upstream: send the request on it. */
  _connected(connection: IClientConnection): void {
    this.#pending = undefined;
    this.#connected = true;
    if (this.#clientGone) return;
    const request = this.request;
    const clientRequest: ClientRequest = {
      method: request.method,
      target: this.target.path,
      headers: this.target.headers,
      bodyProducer: this.#hasBody ? new BodyPump(this, request.content.length) : undefined,
      persistent: true,
      // An upstream may answer while the body is still coming (an echo):
      // both flow at once, or each side would wait on the other.
      earlyResponse: true,
    };
    const d = connection.request(clientRequest);
    if (!d.called) {
      this.#pending = d;
      if (!this.#hasBody || this.#bodySent) this.#startTimer();
    }
    d.addCallbacks(responded, failed, [this], [this]);
  }

  /** The request's body has all been written upstream: the wait for the answer starts. */
  bodySent(): void {
    this.#bodySent = true;
    if (this.#pending !== undefined && this.#timer === undefined && !this.#over) this.#startTimer();
  }

  /** The request's body failed (the client went away or sent a malformed body). */
  clientFailed(): void {
    this.#clientGone = true;
  }

  #startTimer(): void {
    this.#timer = this.forwarder.options.reactor.callLater(
      this.forwarder.responseTimeout,
      timedOut,
      this,
    );
  }

  _timedOut(): void {
    this.#timer = undefined;
    this.#timedOut = true;
    this.#pending?.cancel();
  }

  _clientLost(): void {
    if (this.#over) return;
    this.#clientGone = true;
    this.#cancelTimer();
    this.#pending?.cancel();
  }

  #cancelTimer(): void {
    const timer = this.#timer;
    if (timer !== undefined) {
      this.#timer = undefined;
      timer.cancel();
    }
  }

  /** The upstream's response head. */
  _responded(response: Response): void {
    this.#pending = undefined;
    this.#cancelTimer();
    if (this.#clientGone) {
      response.deliverBody(DISCARD);
      this.#end('cancelled');
      return;
    }
    const request = this.request;
    const headers = response.headers;
    stripHopByHop(headers);
    const options = this.forwarder.options;
    try {
      options.rewriteResponseHeaders?.(headers, request);
      const filter = options.filter;
      if (filter?.filterResponse !== undefined) {
        this.#info ??= describeRequest(request, this.target);
        const answer = filter.filterResponse(this.#info, { code: response.code, headers });
        if (answer !== undefined) {
          response.deliverBody(DISCARD);
          sendAnswer(request, answer);
          this.#end('ok');
          return;
        }
      }
      request.setResponseCode(response.code, response.phrase === '' ? undefined : response.phrase);
      request._adoptResponseHeaders(headers);
    } catch (error) {
      response.deliverBody(DISCARD);
      request.processingFailed(new Failure(error));
      this.#end('ok');
      return;
    }
    response.deliverBody(this);
  }

  // IBodyReader, for the upstream response's body:
  makeConnection(producer: IPushProducer): void {
    this.#producer = producer;
    this.request.registerProducer(this, true);
  }

  dataReceived(data: Uint8Array): void {
    if (!this.#clientGone) this.request.write(data);
  }

  connectionLost(reason: Failure): void {
    const request = this.request;
    this.#producer = undefined;
    if (this.#clientGone) {
      this.#end('cancelled');
      return;
    }
    request.unregisterProducer();
    if (reason.check(ResponseDone, PotentialDataLoss) !== null) {
      request.finish();
      this.#end('ok');
      return;
    }
    const why = `cut its response short (${describeFailure(reason)})`;
    log.info('The upstream {upstream} {why} for {method} {path}', {
      upstream: upstreamName(this.target),
      why,
      method: request.method,
      path: this.target.path,
    });
    this.#reportError(why);
    request._abortResponse();
    this.#end('failed');
  }

  // IPushProducer, registered on the client's connection: pauses the upstream.
  pauseProducing(): void {
    this.#producer?.pauseProducing();
  }

  resumeProducing(): void {
    this.#producer?.resumeProducing();
  }

  stopProducing(): void {
    // The client's connection is gone: the upstream one is closed, not pooled.
    this.#clientGone = true;
    this.#producer?.stopProducing();
  }

  /** Getting a connection or a response failed. */
  _failed(failure: Failure): void {
    this.#pending = undefined;
    this.#cancelTimer();
    if (this.#over) return;
    if (this.#timedOut) {
      this.#fail(
        504,
        `did not answer within ${this.forwarder.responseTimeout} seconds`,
        'response timeout',
      );
      return;
    }
    if (this.#clientGone || (failure.check(CancelledError) !== null && !this.#connected)) {
      this.#end('cancelled');
      return;
    }
    const [code, reason] = classify(failure, this.forwarder.connectTimeout);
    this.#fail(code, reason);
  }

  #fail(code: 502 | 504, reason: string, short = reason): void {
    const request = this.request;
    log.info('{code} for {method} {path}: the upstream {upstream} {reason}', {
      code,
      method: request.method,
      path: this.target.path,
      upstream: upstreamName(this.target),
      reason,
    });
    this.#reportError(short);
    sendProxyError(request, code, upstreamName(this.target), reason);
    this.#end('failed');
  }

  #reportError(reason: string): void {
    const stats = this.forwarder.options.stats;
    if (stats === undefined) return;
    this.#info ??= describeRequest(this.request, this.target);
    callStats(stats, 'upstreamError', this.#info, reason);
  }

  #end(outcome: ForwardOutcome): void {
    if (this.#over) return;
    this.#over = true;
    this.#cancelTimer();
    const onOutcome = this.forwarder.options.onOutcome;
    if (onOutcome === undefined) return;
    try {
      onOutcome(this.target, outcome);
    } catch (error) {
      log.failure('A proxy outcome callback threw', new Failure(error));
    }
  }
}

// The Deferred callbacks, module functions given the exchange as an argument
// (no closure per request).
function connected(connection: IClientConnection, exchange: Exchange): null {
  exchange._connected(connection);
  return null;
}

function responded(response: Response, exchange: Exchange): null {
  exchange._responded(response);
  return null;
}

function failed(failure: Failure, exchange: Exchange): null {
  exchange._failed(failure);
  return null;
}

function clientLost(_failure: Failure, exchange: Exchange): null {
  exchange._clientLost();
  return null;
}

function timedOut(exchange: Exchange): void {
  exchange._timedOut();
}

/** A body reader that stops the body at once (its connection closes). */
const DISCARD = {
  makeConnection(producer: IPushProducer): void {
    producer.stopProducing();
  },
  dataReceived(): void {},
  connectionLost(): void {},
};

function upstreamName(target: ForwardTarget): string {
  return target.name ?? hostHeader(target);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The innermost reasons of a client failure, as one message. */
function describeFailure(failure: Failure): string {
  const error = failure.value;
  if (
    error instanceof ResponseFailed ||
    error instanceof RequestTransmissionFailed ||
    error instanceof RequestGenerationFailed
  ) {
    const reasons = (error as { reasons: readonly Failure[] }).reasons;
    if (reasons.length > 0) return reasons.map(describeFailure).join('; ');
  }
  return failure.getErrorMessage();
}

/** The status and the page's reason for a failure to get an upstream response. */
function classify(failure: Failure, connectTimeout: number): [502 | 504, string] {
  const error = failure.value;
  if (error instanceof TimeoutError) {
    return [504, `did not accept a connection within ${connectTimeout} seconds`];
  }
  if (error instanceof ConnectionRefusedError) return [502, 'refused the connection'];
  if (error instanceof DNSLookupError) return [502, `could not be found (${error.message})`];
  if (error instanceof ConnectError) return [502, `could not be reached (${error.message})`];
  if (error instanceof ResponseFailed) {
    const parse = error.reasons.find((r) => r.value instanceof HttpParseError);
    if (parse !== undefined) return [502, `sent a malformed response (${parse.getErrorMessage()})`];
    if (error instanceof ResponseNeverReceived) {
      return [502, `closed the connection without answering (${describeFailure(failure)})`];
    }
    return [502, `failed while answering (${describeFailure(failure)})`];
  }
  if (error instanceof RequestTransmissionFailed) {
    return [502, `closed the connection while the request was sent (${describeFailure(failure)})`];
  }
  return [502, `could not be asked (${describeFailure(failure)})`];
}
