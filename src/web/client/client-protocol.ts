// HTTP11ClientProtocol: one HTTP/1.1 client connection. It writes a request
// (its body from a producer, by length or chunked), parses the response with
// the same parser as the server, and hands the response over when its head
// arrives (Twisted: twisted.web._newclient.HTTP11ClientProtocol).
// Tests: test/unit/web/client-protocol.test.ts, test/unit/web/twisted-newclient.test.ts,
// test/unit/web/twisted-newclient-request.test.ts,
// test/integration/web/parser-differential.test.ts, test/unit/web/proxy/forward-engine.test.ts (earlyResponse)

import { Deferred, fail, succeed } from '../../internet/defer.js';
import { ConnectionAborted, ConnectionDone } from '../../internet/error.js';
import { Failure } from '../../internet/failure.js';
import type {
  IConsumer,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
} from '../../internet/interfaces.js';
import { Protocol } from '../../internet/protocol.js';
import { Logger } from '../../logger/logger.js';
import { HttpParser, type ResponseHead } from '../_parser.js';
import { hasToken, isTokenString } from '../_tokens.js';
import { Headers } from '../headers.js';
import {
  PotentialDataLoss,
  RequestGenerationFailed,
  RequestNotSent,
  RequestTransmissionFailed,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  WrongBodyLength,
} from './errors.js';
import { Response } from './response.js';

const log = new Logger('torsion.web.client');

/**
 * The body of a request: a push producer that knows its length (or not) and
 * writes to the consumer it is started with.
 *
 * @see Twisted: twisted.web.iweb.IBodyProducer
 * @since 0.1.0
 */
export interface IBodyProducer extends IPushProducer {
  /** The body's length in bytes, or `undefined` if unknown (the body is then sent chunked). */
  readonly length: number | undefined;
  /**
   * Starts writing the body to `consumer`; the result settles when all of it
   * has been written (or rejects if it cannot be). After `stopProducing` it
   * may never settle.
   */
  startProducing(consumer: IConsumer): PromiseLike<void>;
}

/**
 * A request as the client protocol sends it.
 *
 * @since 0.1.0
 */
export interface ClientRequest {
  /** The method: a token (`GET`, `POST`, …). */
  readonly method: string;
  /** The request-target: `/path?query` (or an absolute URI through a proxy); no spaces or control characters. */
  readonly target: string;
  /** The headers to send; `Host` belongs here. The protocol adds the framing headers. */
  readonly headers: Headers;
  /** The body, if there is one. */
  readonly bodyProducer?: IBodyProducer | undefined;
  /** Whether the connection should stay open for another request. Default false (`Connection: close`). */
  readonly persistent?: boolean;
  /**
   * Hand the response over as soon as its head arrives, even while the body
   * is still being sent: for a proxy that relays both ways at once (an
   * upstream that answers as it reads would otherwise wait on a reader that
   * waits on it). By default the response waits for the request to be sent,
   * as in Twisted.
   */
  readonly earlyResponse?: boolean;
}

/** Where an {@link HTTP11ClientProtocol} is in a request's life. */
export type ClientProtocolState =
  | 'quiescent'
  | 'transmitting'
  | 'transmittingAfterResponse'
  | 'generationFailed'
  | 'waiting'
  | 'aborting'
  | 'connectionLost';

/** Methods whose requests carry `Content-Length: 0` when they have no body (RFC 9110 §8.6). */
const EXPECTING_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** Framing headers the protocol writes itself. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);
/** Whether a request-target is all visible ASCII (no space or control character could split the request line). */
function isVisibleAscii(target: string): boolean {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return target.length > 0;
}

/** What writes a request's body: the transport's consumer, framed and counted. */
class BodyConsumer implements IConsumer {
  written = 0;
  /** `open` while the body is written; then why no more writes are taken. */
  #state: 'open' | 'finished' | 'tooLong' | 'stopped' = 'open';
  constructor(
    private readonly transport: ITCPTransport,
    private readonly producer: IBodyProducer,
    private readonly tooLong: (error: WrongBodyLength) => void,
  ) {}

  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    this.transport.registerProducer(producer, streaming);
  }

  unregisterProducer(): void {
    this.transport.unregisterProducer();
  }

  write(data: Uint8Array): void {
    if (this.#state === 'stopped') return; // the request stopped; a write already under way is dropped
    if (this.#state !== 'open') {
      // Only a buggy producer writes after its end: stop it and say so (Twisted's ExcessWrite).
      stopQuietly(this.producer);
      throw new Error('the request body was written after it ended');
    }
    if (data.length === 0) return;
    const length = this.producer.length;
    if (length === undefined) {
      this.written += data.length;
      this.transport.writeSequence([
        Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'),
        data,
        CRLF,
      ]);
      return;
    }
    if (this.written + data.length > length) {
      // Not written: the server must not take a body of the wrong length. The
      // request fails (not the producer's write call, which may be deep in a stream).
      this.#state = 'tooLong';
      this.tooLong(
        new WrongBodyLength(
          `the body producer wrote ${this.written + data.length} bytes or more, over its declared ${length}`,
        ),
      );
      return;
    }
    this.written += data.length;
    this.transport.write(data);
  }

  /** Ends the body: the last chunk, or a check of the length. */
  finish(): void {
    if (this.#state !== 'open') return;
    this.#state = 'finished';
    const length = this.producer.length;
    if (length === undefined) this.transport.write(LAST_CHUNK);
    else if (this.written !== length) {
      throw new WrongBodyLength(
        `the body producer wrote ${this.written} bytes, not its declared ${length}`,
      );
    }
  }

  /** No more writes (the request stopped). */
  close(): void {
    if (this.#state === 'open') this.#state = 'stopped';
  }
}

/** Stops a body producer, logging what it throws. */
function stopQuietly(producer: IBodyProducer): void {
  try {
    producer.stopProducing();
  } catch (error) {
    log.failure('A request body producer threw from stopProducing', new Failure(error));
  }
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/**
 * The client side of one HTTP/1.1 connection: one request at a time.
 *
 * @remarks
 * `request(req)` writes the request and gives a Deferred of the
 * {@link Response}, fired when its head has arrived and the request has been
 * written (or earlier, when the server answered before the whole body was
 * sent). The body then streams through `response.deliverBody`. After a
 * response, a persistent connection becomes quiescent again and calls the
 * `quiescentCallback` (a pool takes it back); otherwise it closes.
 *
 * The request Deferred fails with `RequestNotSent` (busy or closed; nothing
 * sent), `RequestGenerationFailed` (no single `Host` header, a bad method or
 * target, or the body producer failed or wrote the wrong length),
 * `RequestTransmissionFailed` (the connection was lost while sending),
 * `ResponseNeverReceived` (lost before any byte of a response) or
 * `ResponseFailed` (lost during the head, a malformed response, or a `101
 * Switching Protocols`). Cancelling it closes the connection.
 *
 * A response without a body is handed over once the connection is back in
 * its pool, so that a request made from its callback can reuse the
 * connection. Bytes after a response are no answer to anything: they are
 * dropped and the connection is not reused.
 *
 * @see Twisted: twisted.web._newclient.HTTP11ClientProtocol
 * @since 0.1.0
 */
export class HTTP11ClientProtocol extends Protocol<ITCPTransport> {
  #state: ClientProtocolState = 'quiescent';
  readonly #quiescentCallback: ((protocol: HTTP11ClientProtocol) => void) | undefined;
  #parser: HttpParser | undefined;
  #request: ClientRequest | undefined;
  #finished: Deferred<Response> | undefined;
  #response: Response | undefined;
  #consumer: BodyConsumer | undefined;
  #bodyProducer: IBodyProducer | undefined;
  #closeDelimited = false;
  #bodyDone = false;
  /** Whether any byte of the current request's response arrived (Twisted's `_everReceivedData`). */
  #receivedAny = false;
  /** Whether `dataReceived` is feeding the parser now. */
  #feeding = false;
  /** The response ended while the parser was fed: finished when the feed returns. */
  #completePending = false;
  #abortWaiters: Deferred<void>[] = [];
  /** Why the connection is being lost, while `connectionLost` runs. */
  #lostReason: Failure | undefined;

  /**
   * @param quiescentCallback - Called each time the connection is ready for
   *   another request after a response (what a connection pool listens to).
   */
  constructor(quiescentCallback?: (protocol: HTTP11ClientProtocol) => void) {
    super();
    this.#quiescentCallback = quiescentCallback;
  }

  /** Where the connection is in a request's life (Twisted's state names, in camelCase). */
  get state(): ClientProtocolState {
    return this.#state;
  }

  /** Turns Nagle's algorithm off: a request is written whole. */
  override connectionMade(): void {
    try {
      this.transport.setTcpNoDelay(true);
    } catch {
      // Not every transport has TCP underneath.
    }
  }

  /**
   * Sends `request`.
   *
   * @returns A Deferred of the response (see the class's remarks for its failures).
   */
  request(request: ClientRequest): Deferred<Response> {
    if (this.#state !== 'quiescent') {
      return fail(new RequestNotSent(`the connection is ${this.#state}; nothing was sent`));
    }
    let head: string;
    try {
      head = requestHead(request);
    } catch (error) {
      return fail(new RequestGenerationFailed([new Failure(error)]));
    }
    this.#state = 'transmitting';
    this.#request = request;
    this.#response = undefined;
    this.#bodyDone = false;
    this.#closeDelimited = false;
    this.#receivedAny = false;
    this.#completePending = false;
    const finished = new Deferred<Response>(() => this.#cancel());
    this.#finished = finished;
    // Each callback first checks that this parser is still the connection's:
    // one given up on may still be running over the rest of a chunk.
    const parser: HttpParser = new HttpParser('response', {
      onResponseHead: (h) => {
        if (this.#parser === parser) this.#responseHead(h);
      },
      onBody: (chunk) => {
        if (this.#parser === parser) this.#response?._bodyDataReceived(chunk);
      },
      onMessageComplete: () => {
        if (this.#parser === parser) this.#messageComplete(parser);
      },
      onUpgrade: () => {
        if (this.#parser === parser) this.#messageComplete(parser);
      },
      onError: (error) => {
        if (this.#parser === parser) this.#parseFailed(error);
      },
    });
    parser.expectResponse(request.method);
    this.#parser = parser;
    const producer = request.bodyProducer;
    if (producer === undefined) {
      this.transport.write(Buffer.from(head, 'latin1'));
      this.#written();
      return finished;
    }
    const consumer = new BodyConsumer(this.transport, producer, (error) => {
      if (this.#consumer === consumer) this.#generationFailed(new Failure(error));
    });
    this.#consumer = consumer;
    this.#bodyProducer = producer;
    this.transport.write(Buffer.from(head, 'latin1'));
    let started: PromiseLike<void>;
    try {
      this.transport.registerProducer(producer, true);
      started = producer.startProducing(consumer);
    } catch (error) {
      this.#generationFailed(new Failure(error));
      return finished;
    }
    // A Deferred settles synchronously; any other promise on a later turn.
    const settled =
      started instanceof Deferred ? started : Deferred.fromPromise(Promise.resolve(started));
    settled.addCallbacks(
      () => {
        if (this.#consumer !== consumer) return;
        try {
          consumer.finish();
        } catch (error) {
          this.#generationFailed(new Failure(error));
          return;
        }
        this.#unregisterBody();
        this.#written();
      },
      (failure: Failure) => {
        if (this.#consumer === consumer) this.#generationFailed(failure);
        else {
          // The request already ended (failed, lost, or answered and closed).
          log.failure(
            'A request body producer failed after its request ended (the connection was {state})',
            failure,
            { state: this.#state },
          );
        }
        return null;
      },
    );
    return finished;
  }

  /**
   * Closes the connection; a response in progress fails with
   * `ConnectionAborted`.
   *
   * @returns A Deferred that fires once the connection is closed.
   */
  abort(): Deferred<void> {
    if (this.#state === 'connectionLost') return succeed(undefined);
    this.#state = 'aborting';
    const waiter = new Deferred<void>();
    this.#abortWaiters.push(waiter);
    this.transport.loseConnection();
    return waiter;
  }

  /** Parses what arrived. */
  override dataReceived(data: Uint8Array): void {
    const parser = this.#parser;
    if (parser === undefined) {
      if (data.length > 0 && this.#state === 'quiescent') {
        log.debug('Bytes from the server while no request was pending; closing the connection');
        this.#giveUp(new Failure(new ResponseFailed([new Failure(new Error('unexpected data'))])));
      }
      return;
    }
    if (data.length > 0) this.#receivedAny = true;
    this.#feeding = true;
    try {
      parser.feed(
        Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      );
    } catch (error) {
      // A body protocol threw from dataReceived: the response fails with
      // what it threw, and the connection closes (as Twisted's does).
      this.#feeding = false;
      this.#completePending = false;
      if (this.#parser === parser) this.#giveUp(new Failure(error));
      else log.failure('A response body protocol threw', new Failure(error));
      return;
    } finally {
      this.#feeding = false;
    }
    if (this.#completePending) {
      this.#completePending = false;
      // Bytes after the response are no answer to anything: the connection is not reused.
      this.#responseComplete(!parser.idle);
    }
  }

  /** The connection closed: ends or fails what was in progress. */
  override connectionLost(reason: Failure = new Failure(new ConnectionDone())): void {
    const state: ClientProtocolState = this.#state;
    this.#state = 'connectionLost';
    switch (state) {
      case 'transmitting': {
        this.#stopBody();
        const finished = this.#finished;
        this.#finished = undefined;
        if (finished === undefined && this.#response !== undefined) {
          // The response was handed over early (`earlyResponse`): its body ends or fails.
          this.#lostReason = reason;
          if (!this.#feeding) this.#parser?.finish();
          this.#lostReason = undefined;
          this.#fail(reason);
        } else {
          finished?.errback(new RequestTransmissionFailed([reason]));
        }
        break;
      }
      case 'waiting':
      case 'transmittingAfterResponse':
      case 'aborting': {
        // The end of the input may complete a body that ends with the
        // connection (not while the parser is busy with a chunk: a test
        // double may close the connection from a callback).
        const why =
          state === 'aborting'
            ? new Failure(new ConnectionAborted('the connection was aborted by abort()'))
            : reason;
        this.#lostReason = why;
        if (!this.#feeding) this.#parser?.finish();
        this.#lostReason = undefined;
        this.#fail(why);
        break;
      }
      default:
        break;
    }
    this.#parser = undefined;
    const waiters = this.#abortWaiters;
    this.#abortWaiters = [];
    for (const w of waiters) w.callback(undefined);
  }

  #responseHead(head: ResponseHead): void {
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      log.debug('Ignoring an interim {code} response', { code: head.status });
      return;
    }
    if (head.status === 101) {
      // Nothing here could read the protocol the connection switched to.
      this.#giveUp(
        new Failure(
          new ResponseFailed([
            new Failure(
              new Error(
                `the server switched protocols (101 ${head.reason}); this client speaks HTTP/1.1 only`,
              ),
            ),
          ]),
        ),
      );
      return;
    }
    const transport = this.transport;
    // The body's producer reaches the transport only while this response's
    // body is arriving (Twisted's TransportProxyProducer): a reader that
    // pauses late must not pause the next request's connection.
    const live = (): boolean =>
      this.#response === response && !this.#bodyDone && this.#state !== 'connectionLost';
    const producer: IPushProducer = {
      pauseProducing: () => {
        if (live()) transport.pauseProducing();
      },
      resumeProducing: () => {
        if (live()) transport.resumeProducing();
      },
      stopProducing: () => {
        if (live()) {
          this.#giveUp(
            new Failure(
              new ResponseFailed([
                new Failure(new Error('the body protocol stopped the response')),
              ]),
            ),
          );
        }
      },
    };
    const length =
      head.framing === 'none' ? 0 : head.framing === 'length' ? head.contentLength : undefined;
    this.#closeDelimited = head.framing === 'close';
    const response: Response = new Response(
      head.version,
      head.status,
      head.reason,
      Headers._fromParsed(head.headers),
      length,
      producer,
    );
    this.#response = response;
    // A response without a body is handed over once it is complete, after the
    // connection is back in its pool (so that a request made from the
    // callback can reuse it, as in Twisted); one with a body at once.
    if (head.framing === 'none') return;
    transport.pauseProducing(); // until a protocol takes the body
    if (this.#state === 'waiting' || this.#request?.earlyResponse === true) this.#fireResponse();
  }

  /** The parser finished a message: the response, unless it was an interim one. */
  #messageComplete(parser: HttpParser): void {
    if (this.#response === undefined || this.#bodyDone) return; // interim
    parser.pause(); // what follows belongs to no request
    if (this.#feeding) this.#completePending = true;
    else this.#responseComplete(false);
  }

  /**
   * The response ended: the connection goes back to its pool or closes, the
   * response Deferred fires if it has not, and the body protocol hears of the end.
   *
   * @param leftover - Whether bytes followed the response.
   */
  #responseComplete(leftover: boolean): void {
    const response = this.#response;
    if (response === undefined || this.#bodyDone) return;
    this.#bodyDone = true;
    const reason = bodyEnd(this.#closeDelimited);
    const request = this.#request;
    // Taken now: the quiescent callback may start the next request.
    const finished = this.#finished;
    this.#finished = undefined;
    const early = this.#state === 'transmitting';
    if (early) {
      // The server answered before the whole body was sent: the connection cannot be reused.
      this.#state = 'transmittingAfterResponse';
    } else if (this.#state === 'waiting') {
      this.#state = 'quiescent';
    }
    if (leftover) log.debug('Bytes after an HTTP response; the connection will not be reused');
    const reusable =
      this.#state === 'quiescent' &&
      !this.#closeDelimited &&
      !leftover &&
      request?.persistent === true &&
      keepsAlive(response);
    this.#parser = undefined;
    this.#request = undefined;
    if (reusable) {
      this.transport.resumeProducing();
      try {
        this.#quiescentCallback?.(this);
      } catch (error) {
        log.failure(
          'The quiescent callback of an HTTP client connection threw; closing it',
          new Failure(error),
        );
        this.transport.loseConnection();
      }
    } else if (this.#state !== 'connectionLost') {
      if (early) this.#stopBody();
      this.transport.loseConnection();
    }
    finished?.callback(response);
    response._bodyDataFinished(reason);
  }

  #parseFailed(error: Error): void {
    const lost = this.#lostReason;
    if (lost !== undefined) this.#fail(lost);
    else this.#giveUp(new Failure(new ResponseFailed([new Failure(error)])));
  }

  #written(): void {
    if (this.#state !== 'transmitting') return;
    this.#state = 'waiting';
    this.#consumer = undefined;
    this.#bodyProducer = undefined;
    // A head that arrived while the body was being sent, its body still to come.
    if (this.#response !== undefined && !this.#bodyDone && !this.#completePending) {
      this.#fireResponse();
    }
  }

  #fireResponse(): void {
    const finished = this.#finished;
    this.#finished = undefined;
    if (finished !== undefined && this.#response !== undefined) finished.callback(this.#response);
  }

  #generationFailed(reason: Failure): void {
    if (this.#state !== 'transmitting') {
      log.failure('The request body failed after the response arrived', reason);
      return;
    }
    this.#state = 'generationFailed';
    this.#stopBody();
    this.transport.abortConnection();
    const finished = this.#finished;
    this.#finished = undefined;
    const response = this.#response;
    if (finished === undefined && response !== undefined && !this.#bodyDone) {
      // The response was handed over early (`earlyResponse`): its body fails.
      this.#bodyDone = true;
      response._bodyDataFinished(new Failure(new ResponseFailed([reason])));
      return;
    }
    finished?.errback(new RequestGenerationFailed([reason]));
  }

  /** Fails what is in progress with `reason` and closes the connection. */
  #giveUp(reason: Failure): void {
    this.#fail(reason);
    this.#parser = undefined;
    if (this.#state !== 'connectionLost') {
      this.#stopBody();
      this.transport.loseConnection();
    }
  }

  /** The response Deferred (if not fired) or the body (if delivering) fails. */
  #fail(reason: Failure): void {
    const finished = this.#finished;
    this.#finished = undefined;
    const response = this.#response;
    if (response === undefined) {
      if (finished !== undefined) {
        // As Twisted: "never received" only if not a byte of a response came.
        const why =
          reason.check(ResponseFailed) !== null
            ? reason
            : new Failure(
                this.#receivedAny
                  ? new ResponseFailed([reason])
                  : new ResponseNeverReceived([reason]),
              );
        finished.errback(why);
      }
      return;
    }
    if (finished !== undefined) finished.callback(response);
    if (!this.#bodyDone) {
      this.#bodyDone = true;
      const why =
        reason.check(ResponseFailed, ConnectionAborted) !== null
          ? reason
          : new Failure(new ResponseFailed([reason]));
      response._bodyDataFinished(why);
    }
  }

  #cancel(): void {
    this.#finished = undefined;
    this.#stopBody();
    if (this.#state !== 'connectionLost') this.transport.abortConnection();
  }

  #stopBody(): void {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    this.#consumer = undefined;
    consumer.close();
    this.#unregisterBody();
    const producer = this.#bodyProducer;
    this.#bodyProducer = undefined;
    if (producer !== undefined) stopQuietly(producer);
  }

  #unregisterBody(): void {
    try {
      this.transport.unregisterProducer();
    } catch {
      // Already unregistered.
    }
  }
}

/**
 * How a body ended normally, made without a stack trace: where a body ended
 * says nothing, and capturing the stack was a fifth of the client's CPU per
 * request (bench/http-client-agent.ts).
 */
function bodyEnd(closeDelimited: boolean): Failure {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Failure(closeDelimited ? new PotentialDataLoss() : new ResponseDone());
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Whether a response lets the connection carry another request. */
function keepsAlive(response: Response): boolean {
  const connection = response.headers.getRawHeaders('connection') ?? [];
  if (connection.some((v) => hasToken(v, 'close'))) return false;
  return response.version === 'HTTP/1.1' || connection.some((v) => hasToken(v, 'keep-alive'));
}

/** The request line and headers, with the framing headers the body needs. */
function requestHead(request: ClientRequest): string {
  const { method, target } = request;
  if (!isTokenString(method)) throw new TypeError(`not an HTTP method: ${JSON.stringify(method)}`);
  if (!isVisibleAscii(target)) {
    throw new TypeError(
      `not a request-target (only visible ASCII: percent-encode the rest): ${JSON.stringify(target)}`,
    );
  }
  // RFC 9112 §3.2: exactly one Host (Twisted's BadHeaders otherwise).
  const hosts = request.headers.getRawHeaders('host')?.length ?? 0;
  if (hosts !== 1) throw new TypeError(`a request needs exactly one Host header, not ${hosts}`);
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const { name, values } of request.headers._entries()) {
    if (FRAMING.has(name.toLowerCase())) continue;
    for (const value of values) head += `${name}: ${value}\r\n`;
  }
  const producer = request.bodyProducer;
  if (producer === undefined) {
    if (EXPECTING_BODY.has(method)) head += 'Content-Length: 0\r\n';
  } else if (producer.length === undefined) {
    head += 'Transfer-Encoding: chunked\r\n';
  } else {
    if (!Number.isSafeInteger(producer.length) || producer.length < 0) {
      throw new RangeError(`the body producer's length is not a byte count: ${producer.length}`);
    }
    head += `Content-Length: ${producer.length}\r\n`;
  }
  if (request.persistent !== true) head += 'Connection: close\r\n';
  return `${head}\r\n`;
}
