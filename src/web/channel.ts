// HTTPChannel: the server side of one HTTP/1.1 connection. It parses
// requests, answers them strictly in order, keeps the connection alive or
// closes it, and guards it with timeouts (Twisted: twisted.web.http.HTTPChannel).
// Tests: test/unit/web/channel.test.ts, test/unit/web/channel-bodies.test.ts,
// test/unit/web/channel-timeouts.test.ts, test/integration/web/node-client.test.ts,
// test/integration/web/curl.test.ts, test/reliability/web-slowloris.test.ts,
// test/unit/web/twisted-http.test.ts, test/unit/web/site-drain.test.ts,
// test/unit/web/proxy/tunnel.test.ts (_takeOver)

import type { IPAddress } from '../internet/address.js';
import { ConnectionDone } from '../internet/error.js';
import { Failure } from '../internet/failure.js';
import type {
  IDelayedCall,
  IHalfCloseableProtocol,
  ITCPTransport,
} from '../internet/interfaces.js';
import { Protocol } from '../internet/protocol.js';
import { Logger } from '../logger/logger.js';
import { errorPageHtml } from './_html.js';
import {
  type HttpParseError,
  HttpParser,
  type RawHeaderList,
  type RequestHead,
} from './_parser.js';
import { reasonPhrase } from './_status.js';
import { hasToken } from './_tokens.js';
import { Request } from './request.js';
import { type BodySource, RequestBody } from './request-body.js';
import { type IResource, Resource } from './resource.js';
import type { Site } from './site.js';

const log = new Logger('torsion.web.server');

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

type PauseReason = 'body' | 'pipeline' | 'upgrade';

/** @internal An error the server answers in a request's place. */
export interface ServerError {
  readonly code: number;
  readonly brief: string;
  readonly detail: string;
}

/**
 * @internal Who receives a connection's events after {@link HTTPChannel._takeOver}
 * (a `CONNECT` tunnel, an `Upgrade` passthrough).
 */
export interface TakeOverHandler {
  /** Bytes from the client. */
  dataReceived(data: Uint8Array): void;
  /** The client half-closed (finished sending). */
  readConnectionLost(): void;
  /** The connection closed. */
  connectionLost(reason: Failure): void;
}

/** @internal What {@link HTTPChannel._takeOver} gives the connection's new owner. */
export interface TakenOverConnection {
  /** The connection (paused until `resume()`). */
  readonly transport: ITCPTransport<IPAddress>;
  /** Delivers what the client sent ahead to the handler, then reads again. */
  resume(): void;
}

/** A taken-over connection's state: its handler and what waits for `resume()`. */
interface TakeOver {
  readonly handler: TakeOverHandler;
  readonly held: Buffer[];
  eof: boolean;
  resumed: boolean;
}

/**
 * The server side of one HTTP/1.1 connection: a protocol that a {@link Site}
 * builds for each connection it accepts.
 *
 * @remarks
 * Requests are parsed as they arrive and answered strictly in the order
 * received. Bodiless requests pipelined behind the one being answered are
 * parsed ahead up to the site's `maxPipelinedRequests`; reading pauses there,
 * and at the head of a pipelined request with a body, until its turn comes.
 *
 * A malformed request, or one over a limit, is answered with the status the
 * RFCs assign (400, 413, 414, 431, 501, 505) after the responses before it,
 * and the connection closes; the reason is logged at debug. The connection
 * stays open for another request under HTTP/1.1 (unless a `Connection: close`
 * says otherwise) and under HTTP/1.0 with `Connection: keep-alive`. A client
 * that half-closes gets the answers to what it sent, then the connection
 * closes.
 *
 * Timeouts (the site's): `timeout` closes a connection idle between requests
 * or stalled while sending a body; `headersTimeout` answers 408 and closes a
 * connection whose request head takes longer than that to arrive, however
 * slowly it trickles.
 *
 * @see Twisted: twisted.web.http.HTTPChannel
 * @since 0.1.0
 */
export class HTTPChannel
  extends Protocol<ITCPTransport<IPAddress>, Site>
  implements IHalfCloseableProtocol
{
  /** The site this connection serves. */
  readonly site: Site;
  readonly #parser: HttpParser;
  /** Requests not yet answered in full, in order; the first is being answered. */
  readonly #queue: Request[] = [];
  /** The request whose head and body the parser is reading. */
  #parsing: Request | undefined;
  /** The first request, waiting for its whole body before it renders. */
  #awaiting: { request: Request; resource: IResource } | undefined;
  readonly #pauses = new Set<PauseReason>();
  /**
   * Runs while the connection is open; when it fires it closes the
   * connection if it has been idle for the timeout, else waits again. Time
   * is recorded, not rescheduled, on each read (no timer work per request).
   */
  #idleTimer: IDelayedCall | undefined;
  /** The clock's time of the last read or answered request. */
  #lastActivity = 0;
  #headerTimer: IDelayedCall | undefined;
  /** Inside `dataReceived`'s feed: the timers are settled after it. */
  #feeding = false;
  #abortTimer: IDelayedCall | undefined;
  /** No more requests are read: after a non-persistent request, an error or a timeout. */
  #closing = false;
  #readClosed = false;
  /** The site drains: close once the requests already parsed are answered. */
  #draining = false;
  /** `loseConnection` was called: the transport is no longer paused or resumed. */
  #closed = false;
  #lost = false;
  /** An error answered once the requests before it are. */
  #pendingError: ServerError | undefined;
  #upgradeRest: Buffer | undefined;
  /** Who owns the connection after `_takeOver`. */
  #takenOver: TakeOver | undefined;

  /** A channel for `site`; `Site.buildProtocol` makes one per connection. */
  constructor(site: Site) {
    super();
    this.site = site;
    this.factory = site;
    this.#parser = new HttpParser(
      'request',
      {
        onRequestHead: (head) => this.#headReceived(head),
        onBody: (chunk) => this.#parsing?.content._receive(chunk),
        onMessageComplete: (trailers) => this.#messageComplete(trailers),
        onUpgrade: (rest) => this.#upgraded(rest),
        onError: (error) => this.#parseError(error),
      },
      {
        maxStartLineLength: site.maxRequestLineLength,
        maxHeaderCount: site.maxHeaderCount,
        maxHeaderBytes: site.maxHeaderBytes,
        ...(site.maxRequestBodySize === null ? {} : { maxBodySize: site.maxRequestBodySize }),
      },
    );
  }

  /**
   * @internal Whether the response being written is the connection's last
   * (it says `Connection: close`): no more requests are read, and no request
   * queued behind it or error page is still to be answered.
   */
  get _closing(): boolean {
    return this.#closing && this.#queue.length <= 1 && this.#pendingError === undefined;
  }

  /** @internal Whether `request` still waits for a `100 Continue` it has not been sent. */
  _awaitsContinue(request: Request): boolean {
    return request._awaitingContinue && !request.content.done;
  }

  /** How many requests are waiting for or getting their response. */
  get pendingRequests(): number {
    return this.#queue.length;
  }

  /** Turns Nagle's algorithm off (responses are written whole) and starts the idle timeout. */
  override connectionMade(): void {
    try {
      this.transport.setTcpNoDelay(true);
    } catch {
      // Not every transport has TCP underneath (UNIX sockets).
    }
    this.#updateTimers();
    this.site._channelOpened(this);
  }

  /** Parses what arrived. */
  override dataReceived(data: Uint8Array): void {
    const takenOver = this.#takenOver;
    if (takenOver !== undefined) {
      if (takenOver.resumed && takenOver.held.length === 0) takenOver.handler.dataReceived(data);
      else takenOver.held.push(Buffer.from(data));
      return;
    }
    if (this.#closing && this.#parsing === undefined) return; // a closing connection reads and drops
    if (this.#parser.upgraded) {
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      this.#upgradeRest =
        this.#upgradeRest === undefined ? bytes : Buffer.concat([this.#upgradeRest, bytes]);
      return;
    }
    this.#lastActivity = this.site.clock.seconds();
    // The timers are settled once, after the feed: a request answered within
    // it would otherwise start the head timer (the parser is mid-message
    // while its callbacks run) for the feed's end to cancel it.
    this.#feeding = true;
    try {
      this.#parser.feed(
        Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      );
    } finally {
      this.#feeding = false;
    }
    const owner = this.#takenOver as TakeOver | undefined;
    if (owner !== undefined) {
      // Taken over during this feed: what followed the head is the new owner's.
      if (this.#upgradeRest !== undefined) owner.held.push(this.#upgradeRest);
      this.#upgradeRest = undefined;
      owner.held.push(this.#parser.takeUnparsed());
      if (owner.resumed) this.#deliverHeld(owner);
      return;
    }
    this.#updateTimers();
  }

  /** The client finished sending: answer what it sent, then close. */
  readConnectionLost(): void {
    const takenOver = this.#takenOver;
    if (takenOver !== undefined) {
      if (takenOver.resumed && takenOver.held.length === 0) takenOver.handler.readConnectionLost();
      else takenOver.eof = true;
      return;
    }
    this.#readClosed = true;
    this.#parser.finish();
    if (this.#queue.length === 0) this.#close();
    this.#updateTimers();
  }

  /** Nothing to do: the channel only half-closes after its last response, by closing. */
  writeConnectionLost(): void {}

  /** Tells every unanswered request that the client went away. */
  override connectionLost(reason: Failure = new Failure(new ConnectionDone())): void {
    this.#lost = true;
    if (this.#takenOver !== undefined) {
      this.site._channelClosed(this);
      this.#takenOver.held.length = 0;
      this.#takenOver.handler.connectionLost(reason);
      return;
    }
    this.#closing = true;
    this.#cancelTimers();
    this.#abortTimer?.cancel();
    this.#abortTimer = undefined;
    const queue = this.#queue.splice(0);
    if (this.#parsing !== undefined && !queue.includes(this.#parsing)) queue.push(this.#parsing);
    this.#parsing = undefined;
    this.#awaiting = undefined;
    for (const request of queue) request._connectionLost(reason);
    this.site._channelClosed(this);
  }

  /**
   * @internal The site drains ({@link Site.drain}): an idle connection
   * closes now; a busy one reads no further request, answers those already
   * parsed (the last with `Connection: close`), then closes.
   */
  _drain(): void {
    if (this.#lost || this.#closed || this.#draining) return;
    this.#draining = true;
    if (this.#queue.length === 0) {
      this.#close();
      return;
    }
    this.#closing = true;
    this.#updateTimers();
  }

  /**
   * @internal Hands the connection over after `request`'s head (a `CONNECT`
   * tunnel, an `Upgrade` passthrough): the channel stops parsing and
   * answering, drops the requests pipelined behind (as if the connection
   * had closed under them), cancels its timers, and passes every later
   * event of the transport to `handler`. `request` counts as answered; its
   * new owner writes what it likes on the transport itself (a `200
   * Connection established`, the upstream's `101`).
   *
   * Reading stops until the owner calls `resume()`: then `handler` gets
   * first the bytes the client sent past the head (already read), then the
   * rest as it arrives, then the end of the client's input.
   *
   * @throws Error if `request` is not the one being answered, has begun
   *   its response, still has a body arriving, or the connection is closing.
   */
  _takeOver(request: Request, handler: TakeOverHandler): TakenOverConnection {
    if (this.#queue[0] !== request || request.startedWriting || request.finished) {
      throw new Error(
        `_takeOver: ${request.method} ${request.uri} is not the request being answered`,
      );
    }
    if (!request.content.done) {
      throw new Error(`_takeOver: the body of ${request.method} ${request.uri} is still arriving`);
    }
    if (this.#lost || this.#closed || this.#takenOver !== undefined) {
      throw new Error('_takeOver: the connection is closing');
    }
    const state: TakeOver = { handler, held: [], eof: false, resumed: false };
    this.#takenOver = state;
    this.#closing = true;
    this.#cancelTimers();
    this.#abortTimer?.cancel();
    this.#abortTimer = undefined;
    if (this.#parser.upgraded) {
      if (this.#upgradeRest !== undefined) state.held.push(this.#upgradeRest);
    } else if (!this.#feeding) {
      state.held.push(this.#parser.takeUnparsed());
    } else {
      // The rest of the chunk being parsed is collected when the feed returns.
      this.#parser.pause();
    }
    this.#upgradeRest = undefined;
    if (this.#pauses.size === 0) this.transport.pauseProducing();
    this.#pauses.clear();
    this.#parsing = undefined;
    this.#awaiting = undefined;
    const dropped = this.#queue.splice(0);
    dropped.shift();
    request._handedOver();
    for (const other of dropped) {
      other._connectionLost(
        new Failure(
          new ConnectionDone('the connection was taken over before this request was answered'),
        ),
      );
    }
    return {
      transport: this.transport,
      resume: () => {
        if (state.resumed) return;
        state.resumed = true;
        if (!this.#feeding) this.#deliverHeld(state);
      },
    };
  }

  /** Gives a new owner what was held for it, and lets the transport read again. */
  #deliverHeld(state: TakeOver): void {
    const held = state.held.splice(0);
    for (const bytes of held) {
      if (bytes.length > 0 && !this.#lost) state.handler.dataReceived(bytes);
    }
    if (this.#lost) return;
    if (state.eof) {
      state.handler.readConnectionLost();
      return;
    }
    this.transport.resumeProducing();
  }

  /** @internal A request finished its response: go on with the next, or close. */
  _requestDone(request: Request): void {
    if (this.#queue[0] !== request) return;
    this.#queue.shift();
    this.#lastActivity = this.site.clock.seconds();
    if (this.#lost) return;
    if (!request.persistent) {
      this.#closing = true;
      if (this.#parsing === request) {
        // The body is still arriving and nobody will read it: read and drop it until the close.
        this.#parsing = undefined;
      }
      for (const dropped of this.#queue.splice(0)) {
        dropped._connectionLost(
          new Failure(new ConnectionDone('the connection closed before this request was answered')),
        );
      }
      this.#close();
      return;
    }
    if (this.#queue.length > 0) {
      this.#startFront();
    } else if (this.#pendingError !== undefined) {
      this.#writeError(this.#pendingError);
    } else if (this.#readClosed || this.#draining) {
      // The last answer's head may have gone out before the drain began, saying keep-alive.
      this.#close();
    }
    if (this.#queue.length <= this.site.maxPipelinedRequests && !this.#pipelineHeld()) {
      this.#resume('pipeline');
    }
    this.#updateTimers();
  }

  #headReceived(head: RequestHead): void {
    this.#headerTimer?.cancel();
    this.#headerTimer = undefined;
    // One pass over the fields for the three the channel reads.
    let unsupportedCoding: string | undefined;
    let hosts = 0;
    const expect: string[] = [];
    const connection: string[] = [];
    for (const [name, value] of head.headers) {
      const n = name.length;
      if (n !== 4 && n !== 6 && n !== 10) continue;
      const lower = name.toLowerCase();
      if (lower === 'host') hosts++;
      else if (lower === 'expect') expect.push(value);
      else if (lower === 'connection') connection.push(value);
    }
    if (head.framing === 'chunked') {
      // The parser accepts the registered codings before `chunked`; nothing here decodes them.
      const codings = head.headers
        .filter(([name]) => name.length === 17 && name.toLowerCase() === 'transfer-encoding')
        .flatMap(([, value]) => value.split(','))
        .map((c) => c.trim().toLowerCase())
        .filter((c) => c !== '' && c !== 'chunked');
      if (codings.length > 0) {
        unsupportedCoding = codings.join(', ');
      }
    }
    let problem: ServerError | undefined;
    if (head.version === 'HTTP/1.1' && hosts === 0) {
      problem = {
        code: 400,
        brief: 'Bad Request',
        detail: 'An HTTP/1.1 request must have a Host header.',
      };
    } else if (hosts > 1) {
      problem = {
        code: 400,
        brief: 'Bad Request',
        detail: 'The request has more than one Host header.',
      };
    }
    if (unsupportedCoding !== undefined) {
      problem ??= {
        code: 501,
        brief: 'Not Implemented',
        detail: `The transfer coding ${JSON.stringify(unsupportedCoding)} is not supported; send the body with chunked alone.`,
      };
    }
    const limit = this.site.maxRequestBodySize;
    if (limit !== null && head.framing === 'length' && (head.contentLength as number) > limit) {
      problem = {
        code: 413,
        brief: 'Content Too Large',
        detail: `The request body (${head.contentLength} bytes) is larger than this site accepts (${limit} bytes).`,
      };
    }
    let expectsContinue = false;
    if (expect.length > 0 && head.version === 'HTTP/1.1') {
      if (expect.length === 1 && (expect[0] as string).trim().toLowerCase() === '100-continue') {
        expectsContinue = true;
      } else {
        problem ??= {
          code: 417,
          brief: 'Expectation Failed',
          detail: `The expectation ${JSON.stringify(expect.join(', '))} cannot be met.`,
        };
      }
    }
    const persistent =
      problem === undefined &&
      head.method !== 'CONNECT' &&
      (head.version === 'HTTP/1.1'
        ? !connection.some((v) => hasToken(v, 'close'))
        : connection.some((v) => hasToken(v, 'keep-alive')));
    const request = this.#newRequest(head, persistent);
    request._awaitingContinue = expectsContinue;
    if (problem !== undefined) {
      log.debug('Bad request from {peer}: {reason}', {
        peer: this.#peer(),
        reason: problem.detail,
      });
      request._problem = problem;
    }
    this.#queue.push(request);
    if (head.framing !== 'none') this.#parsing = request;
    if (!persistent) {
      this.#closing = true;
      if (head.framing === 'none') this.#parser.pause();
    }
    if (this.#queue.length === 1) {
      this.#startFront();
    } else if (this.#pipelineHeld() || this.#queue.length > this.site.maxPipelinedRequests) {
      this.#pause('pipeline');
    }
  }

  #newRequest(head: RequestHead, persistent: boolean): Request {
    let request: Request | undefined;
    const source: BodySource = {
      pauseReading: () => this.#pause('body'),
      resumeReading: () => this.#resume('body'),
      bodyWanted: () => {
        if (request !== undefined) this.#sendContinue(request);
      },
      bodyDiscarded: () => request?._setNotPersistent(),
    };
    const length = head.framing === 'length' ? head.contentLength : undefined;
    const content = new RequestBody(source, head.framing === 'none' ? 0 : length, {
      spoolThreshold: this.site.bodySpoolThreshold,
      spoolDirectory: this.site.spoolDirectory,
      highWaterMark: 64 * 1024,
    });
    if (head.framing === 'none') content._end();
    request = new Request(this, head, content, persistent, this.site.clock.seconds());
    return request;
  }

  #messageComplete(_trailers: RawHeaderList): void {
    const request = this.#parsing;
    if (request !== undefined) {
      this.#parsing = undefined;
      request.content._end();
      if (!request.persistent) this.#parser.pause();
      const awaiting = this.#awaiting;
      if (awaiting !== undefined && awaiting.request === request) {
        this.#awaiting = undefined;
        request.render(awaiting.resource);
      }
    }
    if (this.#closing) this.#parser.pause();
  }

  #upgraded(rest: Buffer): void {
    // A CONNECT request: what follows is not HTTP. Keep it (and hold reading)
    // for whoever takes the connection over; the request renders as usual.
    this.#upgradeRest = rest;
    this.#closing = true;
    this.#pause('upgrade');
  }

  #parseError(error: HttpParseError): void {
    if (this.#closed || this.#lost) return; // the connection is already ending after an answer
    log.debug('Bad request from {peer}: {reason} ({status})', {
      peer: this.#peer(),
      reason: error.message,
      status: error.status,
    });
    this.#closing = true;
    const problem: ServerError = {
      code: error.status,
      brief: reasonPhrase(error.status),
      detail: `The request could not be read: ${error.message}.`,
    };
    const request = this.#parsing;
    this.#parsing = undefined;
    if (request === undefined) {
      if (this.#queue.length === 0) this.#writeError(problem);
      else this.#pendingError = problem;
      return;
    }
    // The body of a request failed: it cannot render, or its reader learns why.
    request._setNotPersistent();
    request.content._fail(new Failure(error));
    const awaiting = this.#awaiting;
    if (awaiting !== undefined && awaiting.request === request) {
      this.#awaiting = undefined;
      request._respondWithError(problem.code, problem.brief, problem.detail);
    } else if (this.#queue[0] !== request) {
      request._problem = problem;
    } else if (!request.startedWriting && !request.finished) {
      // A streaming resource that has not answered: the client gets the
      // error, and what the resource writes afterwards is dropped.
      request._respondWithError(problem.code, problem.brief, problem.detail, true);
    }
  }

  /** The first request's turn: traverse the site, then render now or once its body is in. */
  #startFront(): void {
    const request = this.#queue[0] as Request;
    const problem = request._problem;
    if (problem !== undefined) {
      request._respondWithError(problem.code, problem.brief, problem.detail);
      return;
    }
    if (this.#parsing === request) this.#resume('pipeline');
    let resource: IResource;
    try {
      resource = this.site._prepare(request);
    } catch (error) {
      request.processingFailed(new Failure(error));
      return;
    }
    if (resource.streamsRequestBody === true || refusesMethod(resource, request.method)) {
      request.content._setStreaming();
      request.render(resource);
    } else if (request.content.done) {
      request.render(resource);
    } else {
      this.#awaiting = { request, resource };
      this.#sendContinue(request);
    }
  }

  #sendContinue(request: Request): void {
    if (!request._awaitingContinue) return;
    request._awaitingContinue = false;
    if (request.startedWriting || request.content.done || this.#queue[0] !== request || this.#lost)
      return;
    this.transport.write(CONTINUE);
  }

  /** Whether reading waits at the head of a pipelined request with a body. */
  #pipelineHeld(): boolean {
    const parsing = this.#parsing;
    return parsing !== undefined && this.#queue[0] !== parsing;
  }

  #pause(reason: PauseReason): void {
    if (this.#pauses.has(reason)) return;
    this.#pauses.add(reason);
    if (this.#pauses.size === 1) {
      this.#parser.pause();
      if (!this.#lost && !this.#closed) this.transport.pauseProducing();
    }
    this.#updateTimers();
  }

  #resume(reason: PauseReason): void {
    if (!this.#pauses.delete(reason) || this.#pauses.size > 0) return;
    if (!this.#lost && !this.#closed) this.transport.resumeProducing();
    if (!this.#closing || this.#parsing !== undefined) this.#parser.resume();
    this.#updateTimers();
  }

  /** Writes one of the server's own error responses, then closes. */
  #writeError(problem: ServerError): void {
    this.#pendingError = undefined;
    if (this.#lost) return;
    const body = Buffer.from(errorPageHtml(problem.code, problem.brief, problem.detail));
    let head = `HTTP/1.1 ${problem.code} ${reasonPhrase(problem.code)}\r\n`;
    if (this.site.serverName !== null) head += `Server: ${this.site.serverName}\r\n`;
    head += `Date: ${this.site._dateHeader()}\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n`;
    this.transport.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    this.#close();
  }

  #close(): void {
    this.#closing = true;
    this.#cancelTimers();
    if (this.#lost || this.#closed) return;
    if (this.#pauses.size > 0) this.transport.resumeProducing(); // read and drop until the peer closes
    this.#closed = true;
    this.transport.loseConnection();
  }

  #startHeaderTimer(): void {
    const limit = this.site.headersTimeout;
    if (limit === null) return;
    this.#headerTimer = this.site.clock.callLater(limit, () => {
      this.#headerTimer = undefined;
      this.#timedOut('headers');
    });
  }

  /** Starts or stops the head timer for what the connection is doing now; arms the idle timer. */
  #updateTimers(): void {
    if (this.#feeding) return;
    // A closing connection still times out the body of its last request
    // (an HTTP/1.0 or `Connection: close` upload that stalls).
    if (this.#lost || this.#closed || (this.#closing && this.#parsing === undefined)) {
      this.#cancelTimers();
      return;
    }
    const waitingForHead =
      this.#parsing === undefined && !this.#parser.idle && this.#pauses.size === 0;
    if (!waitingForHead && this.#headerTimer !== undefined) {
      this.#headerTimer.cancel();
      this.#headerTimer = undefined;
    } else if (waitingForHead && this.#headerTimer === undefined) {
      this.#startHeaderTimer();
    }
    const timeout = this.site.timeout;
    if (timeout !== null && this.#idleTimer === undefined) {
      if (this.#lastActivity === 0) this.#lastActivity = this.site.clock.seconds();
      this.#idleTimer = this.site.clock.callLater(timeout, () => this.#idleCheck());
    }
  }

  /**
   * Idle means waiting for a request, or for the rest of a body that nobody
   * holds back; a response in the making or a paused reader is not idle.
   */
  #isIdle(): boolean {
    return (
      (this.#queue.length === 0 && this.#parser.idle) ||
      (this.#parsing !== undefined && !this.#pauses.has('body') && !this.#pauses.has('pipeline'))
    );
  }

  #idleCheck(): void {
    this.#idleTimer = undefined;
    const timeout = this.site.timeout;
    if (timeout === null || this.#lost || this.#closed) return;
    if (this.#closing && this.#parsing === undefined) return;
    const now = this.site.clock.seconds();
    if (!this.#isIdle()) {
      this.#lastActivity = now;
      this.#idleTimer = this.site.clock.callLater(timeout, () => this.#idleCheck());
      return;
    }
    const remaining = this.#lastActivity + timeout - now;
    if (remaining > 1e-6) {
      this.#idleTimer = this.site.clock.callLater(remaining, () => this.#idleCheck());
      return;
    }
    this.#timedOut('idle');
  }

  #cancelTimers(): void {
    this.#idleTimer?.cancel();
    this.#idleTimer = undefined;
    this.#headerTimer?.cancel();
    this.#headerTimer = undefined;
  }

  #timedOut(which: 'idle' | 'headers'): void {
    log.debug('Closing the connection from {peer}: {which} timeout', { peer: this.#peer(), which });
    const abortAfter = this.site.abortTimeout;
    if (abortAfter !== null && this.#abortTimer === undefined) {
      this.#abortTimer = this.site.clock.callLater(abortAfter, () => {
        this.#abortTimer = undefined;
        if (!this.#lost) this.transport.abortConnection();
      });
    }
    const request = this.#parsing;
    if (
      which === 'headers' ||
      (request !== undefined && !request.startedWriting && this.#awaiting?.request === request)
    ) {
      const problem = {
        code: 408,
        brief: 'Request Timeout',
        detail:
          which === 'headers'
            ? 'The request head did not arrive in time.'
            : 'The request body did not arrive in time.',
      };
      this.#closing = true;
      this.#parsing = undefined;
      if (request !== undefined) {
        request.content._fail(new Failure(new Error(problem.detail)));
        this.#awaiting = undefined;
        request._respondWithError(problem.code, problem.brief, problem.detail);
      } else if (this.#queue.length === 0) {
        this.#writeError(problem);
      } else {
        this.#pendingError = problem;
      }
      this.#parser.pause();
      return;
    }
    if (request !== undefined)
      request.content._fail(new Failure(new Error('the request body did not arrive in time')));
    this.#close();
  }

  #peer(): string {
    try {
      const peer = this.transport.getPeer() as Partial<IPAddress>;
      return peer.host === undefined ? String(peer) : `${peer.host}:${peer.port}`;
    } catch {
      return 'unknown';
    }
  }
}

/**
 * Whether `resource` will answer 405 or 501 for `method` without reading a
 * body: a plain `Resource` render with no `render_` function for it. Such a
 * request is answered at once instead of after its whole upload.
 */
function refusesMethod(resource: IResource, method: string): boolean {
  return (
    resource instanceof Resource &&
    resource.render === Resource.prototype.render &&
    resource._renderFunction(method) === undefined
  );
}
