// Response: an HTTP response as the client receives it, its body delivered
// to a protocol with backpressure; readBody collects it
// (Twisted: twisted.web._newclient.Response, twisted.web.client.readBody).
// Tests: test/unit/web/client-protocol.test.ts, test/unit/web/twisted-newclient.test.ts,
// test/unit/web/twisted-newclient-request.test.ts

import { Deferred } from '../../internet/defer.js';
import { Failure } from '../../internet/failure.js';
import type { IPushProducer } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import type { Headers } from '../headers.js';
import type { IBodyReader } from '../request-body.js';
import {
  annotateFailure,
  PartialDownloadError,
  PotentialDataLoss,
  ResponseDone,
} from './errors.js';

const log = new Logger('torsion.web.client');

/**
 * A request as it was sent: what a {@link Response} remembers of it.
 *
 * @see Twisted: twisted.web.iweb.IClientRequest
 * @since 0.1.0
 */
export interface IClientRequest {
  /** The method. */
  readonly method: string;
  /** The absolute URL requested. */
  readonly absoluteURI: string;
  /** The headers sent, `Host` included (framing headers aside). */
  readonly headers: Headers;
}

type BodyState = 'initial' | 'connected' | 'deferredClose' | 'finished';

/**
 * A response received by the HTTP client: the status line and headers, and
 * a body to read with {@link Response.deliverBody} or {@link readBody}.
 *
 * @remarks
 * The connection stops reading until a protocol takes the body, so a
 * response nobody reads holds only what had already arrived. The body
 * protocol's `connectionLost` gets `ResponseDone` when the body arrived in
 * full, `PotentialDataLoss` when it ended with the connection and had no
 * declared length, and `ResponseFailed` otherwise.
 *
 * @see Twisted: twisted.web.iweb.IResponse
 * @since 0.1.0
 */
export class Response {
  /** The response's HTTP version (`'HTTP/1.1'` or `'HTTP/1.0'`). */
  readonly version: 'HTTP/1.0' | 'HTTP/1.1';
  /** The status code. */
  readonly code: number;
  /** The reason phrase, as sent. */
  readonly phrase: string;
  /** The response's headers. */
  readonly headers: Headers;
  /** The body's length when the response declared it, else `undefined`. */
  readonly length: number | undefined;
  /**
   * The request this responds to, as sent (set by the agent that made it;
   * `undefined` for a response from a bare client protocol).
   */
  request: IClientRequest | undefined;
  /**
   * The response this one followed, when a redirect led here (set by
   * `RedirectAgent`); each has its own `previousResponse`, back to the first.
   */
  previousResponse: Response | undefined;
  #state: BodyState = 'initial';
  #buffer: Uint8Array[] = [];
  #reason: Failure | undefined;
  #protocol: IBodyReader | undefined;
  readonly #producer: IPushProducer;

  /**
   * @internal Made by the client protocol when a response head arrives.
   *
   * @param producer - Pauses, resumes and stops the body's connection.
   */
  constructor(
    version: 'HTTP/1.0' | 'HTTP/1.1',
    code: number,
    phrase: string,
    headers: Headers,
    length: number | undefined,
    producer: IPushProducer,
  ) {
    this.version = version;
    this.code = code;
    this.phrase = phrase;
    this.headers = headers;
    this.length = length;
    this.#producer = producer;
  }

  /**
   * Streams the body to `protocol`: `makeConnection` with a producer (pause,
   * resume, or stop: stopping closes the connection), each chunk, then
   * `connectionLost` once.
   *
   * @throws Error if the body already has a protocol.
   */
  deliverBody(protocol: IBodyReader): void {
    switch (this.#state) {
      case 'initial': {
        this.#state = 'connected';
        this.#protocol = protocol;
        // The connection waits paused for a protocol; it resumes unless the
        // protocol paused it meanwhile.
        let paused = false;
        const producer = this.#producer;
        protocol.makeConnection({
          pauseProducing() {
            paused = true;
            producer.pauseProducing();
          },
          resumeProducing() {
            paused = false;
            producer.resumeProducing();
          },
          stopProducing() {
            producer.stopProducing();
          },
        });
        const buffered = this.#buffer;
        this.#buffer = [];
        for (const data of buffered) protocol.dataReceived(data);
        if (!paused && this.#state === 'connected') producer.resumeProducing();
        return;
      }
      case 'deferredClose': {
        this.#state = 'finished';
        protocol.makeConnection(this.#producer);
        const buffered = this.#buffer;
        this.#buffer = [];
        for (const data of buffered) protocol.dataReceived(data);
        protocol.connectionLost(this.#reason as Failure);
        return;
      }
      default:
        throw new Error(`the response body of ${this.code} ${this.phrase} already has a protocol`);
    }
  }

  /** @internal Part of the body arrived. */
  _bodyDataReceived(data: Uint8Array): void {
    if (this.#state === 'connected') (this.#protocol as IBodyReader).dataReceived(data);
    else if (this.#state === 'initial') this.#buffer.push(data);
  }

  /** @internal The body ended: `ResponseDone`, `PotentialDataLoss` or `ResponseFailed`. */
  _bodyDataFinished(reason: Failure): void {
    if (this.#state === 'connected') {
      this.#state = 'finished';
      try {
        (this.#protocol as IBodyReader).connectionLost(reason);
      } catch (error) {
        // The connection's own bookkeeping must go on (Twisted logs it too).
        log.failure('A response body protocol threw from connectionLost', new Failure(error));
      }
    } else if (this.#state === 'initial') {
      this.#state = 'deferredClose';
      this.#reason = reason;
    }
  }
}

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /**
   * The most bytes to accept; a longer body fails the Deferred with a
   * `RangeError` and closes the connection. Default: no limit.
   */
  readonly maxSize?: number;
}

/**
 * Reads a response's whole body.
 *
 * @remarks
 * It fails as the body does (`ResponseFailed` if it is cut short,
 * `ConnectionAborted` after `abort()`), and with
 * `PartialDownloadError` (holding what arrived) when the body ended with the
 * connection without a declared length, as Twisted's does. Cancelling it closes the connection.
 * For a response an agent made, the failure's message names the method and
 * URL.
 *
 * @returns A Deferred of the body's bytes.
 * @see Twisted: twisted.web.client.readBody
 * @since 0.1.0
 */
export function readBody(response: Response, options: ReadBodyOptions = {}): Deferred<Uint8Array> {
  const maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let producer: IPushProducer | undefined;
  let settled = false;
  const result = new Deferred<Uint8Array>(() => {
    settled = true;
    producer?.stopProducing();
  });
  const request = response.request;
  if (request !== undefined) {
    result.addErrback((failure: Failure) =>
      annotateFailure(failure, request.method, request.absoluteURI),
    );
  }
  response.deliverBody({
    makeConnection(p) {
      producer = p;
    },
    dataReceived(data) {
      if (settled) return;
      size += data.length;
      if (size > maxSize) {
        settled = true;
        producer?.stopProducing();
        result.errback(new RangeError(`the response body is larger than ${maxSize} bytes`));
        return;
      }
      chunks.push(data);
    },
    connectionLost(reason) {
      if (settled) return;
      settled = true;
      const body = Buffer.concat(chunks, size);
      if (reason.check(ResponseDone) !== null) {
        result.callback(body);
      } else if (reason.check(PotentialDataLoss) !== null) {
        result.errback(new Failure(new PartialDownloadError(response.code, body)));
      } else {
        result.errback(reason);
      }
    },
  });
  return result;
}
