// ContentDecoderAgent: an agent wrapper that asks for compressed bodies
// (Accept-Encoding) and decodes gzip, deflate and br responses as they
// stream, through node:zlib, with backpressure
// (Twisted: twisted.web.client.ContentDecoderAgent, GzipDecoder, _GzipProtocol).
// Tests: test/unit/web/client-decoder.test.ts, test/integration/web/client-decoding.test.ts

import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import type { Deferred } from '../../internet/defer.js';
import { Failure } from '../../internet/failure.js';
import type { IPushProducer } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { Headers } from '../headers.js';
import type { IBodyReader } from '../request-body.js';
import type { IAgent } from './agent.js';
import type { IBodyProducer } from './client-protocol.js';
import { PotentialDataLoss, ResponseDone, ResponseFailed } from './errors.js';
import { Response } from './response.js';

const log = new Logger('torsion.web.client');

/**
 * A content coding a {@link ContentDecoderAgent} can undo: its name in
 * `Content-Encoding` and a stream that decodes it.
 *
 * @see Twisted: the `(name, decoderFactory)` pairs ContentDecoderAgent takes
 * @since 0.1.0
 */
export interface IContentDecoder {
  /** The coding's name, as `Accept-Encoding` advertises it (lowercase). */
  readonly name: string;
  /** Other names the coding is recognized by in `Content-Encoding` (`x-gzip`). */
  readonly aliases?: readonly string[];
  /**
   * A new stream for one body: encoded bytes written in, decoded bytes read
   * out; it emits `'error'` when the input is not valid for the coding
   * (truncated input included, at `end()`).
   */
  createStream(): Duplex;
}

/**
 * The `gzip` coding (and `x-gzip`, which RFC 9110 §8.4.1.3 says to treat
 * the same), through `zlib.createGunzip`. Concatenated gzip members decode
 * as one body.
 *
 * @since 0.1.0
 */
export const gzipDecoder: IContentDecoder = {
  name: 'gzip',
  aliases: ['x-gzip'],
  createStream: () => zlib.createGunzip(),
};

/**
 * The `deflate` coding. RFC 9110 means the zlib format (RFC 1950), but some
 * servers send raw deflate (RFC 1951); the first two bytes tell which, and
 * both are decoded.
 *
 * @since 0.1.0
 */
export const deflateDecoder: IContentDecoder = {
  name: 'deflate',
  createStream: () => new DeflateStream(),
};

/**
 * The `br` coding (Brotli, RFC 7932), through `zlib.createBrotliDecompress`.
 *
 * @since 0.1.0
 */
export const brotliDecoder: IContentDecoder = {
  name: 'br',
  createStream: () => zlib.createBrotliDecompress(),
};

/**
 * Whether two bytes open a zlib stream (RFC 1950 §2.2): the deflate method,
 * a window of at most 32 KiB, and a header checksum that divides by 31.
 */
function isZlibHeader(cmf: number, flg: number): boolean {
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (cmf * 256 + flg) % 31 === 0;
}

/**
 * Inflates zlib-wrapped or raw deflate, chosen from the first two bytes;
 * the inner zlib stream's output is passed on as the reader takes it.
 */
class DeflateStream extends Duplex {
  #inner: zlib.Inflate | zlib.InflateRaw | undefined;
  #head: Buffer = Buffer.alloc(0);

  #start(): zlib.Inflate | zlib.InflateRaw {
    const [cmf = 0, flg = 0] = this.#head;
    const inner = isZlibHeader(cmf, flg) ? zlib.createInflate() : zlib.createInflateRaw();
    inner.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (error) => this.destroy(error));
    this.#inner = inner;
    return inner;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error) => void): void {
    if (this.#inner !== undefined) {
      this.#inner.write(chunk, () => callback());
      return;
    }
    this.#head = Buffer.concat([this.#head, chunk]);
    if (this.#head.length < 2) {
      callback();
      return;
    }
    this.#start().write(this.#head, () => callback());
  }

  override _final(callback: (e?: Error) => void): void {
    (this.#inner ?? this.#start()).end(this.#head.length < 2 ? this.#head : undefined);
    callback();
  }

  override _read(): void {
    this.#inner?.resume();
  }

  override _destroy(error: Error | null, callback: (e: Error | null) => void): void {
    this.#inner?.destroy();
    callback(error);
  }
}

/** Options of {@link ContentDecoderAgent}. */
export interface ContentDecoderAgentOptions {
  /**
   * The codings to ask for and decode, in the order `Accept-Encoding` lists
   * them. @defaultValue `[gzipDecoder, deflateDecoder, brotliDecoder]`
   */
  readonly decoders?: readonly IContentDecoder[];
  /**
   * The most decoded bytes a body may have: past it the body fails with
   * `ResponseFailed` (its reason a `RangeError`) and the connection is
   * closed. Default: no limit. Decoding only runs as fast as the body's
   * reader takes the output, so memory stays bounded either way; the limit
   * is for readers that keep what they read.
   */
  readonly maxDecodedSize?: number;
}

/**
 * A response whose body {@link ContentDecoderAgent} decodes: `headers` are
 * the original's without the decoded codings in `Content-Encoding` and
 * without `Content-Length` (it counted the encoded bytes), and `length` is
 * unknown (`0` when the original's was).
 *
 * @see Twisted: twisted.web.client.GzipDecoder
 * @since 0.1.0
 */
export class DecodedResponse extends Response {
  /** The response as received, its body still encoded (do not read it too). */
  readonly original: Response;
  /** The codings decoded, in the order they are undone (the last applied first). */
  readonly decodedCodings: readonly string[];
  readonly #stages: readonly IContentDecoder[];
  readonly #maxDecodedSize: number;
  #pipeline: DecodingPipeline | undefined;

  /**
   * @internal Made by {@link ContentDecoderAgent}.
   *
   * @param stages - The decoders to apply, in order.
   */
  constructor(
    original: Response,
    headers: Headers,
    stages: readonly IContentDecoder[],
    maxDecodedSize: number,
  ) {
    const control: IPushProducer = {
      pauseProducing: () => this.#pipeline?.pause(),
      resumeProducing: () => this.#pipeline?.resume(),
      stopProducing: () => this.#pipeline?.stop(),
    };
    super(
      original.version,
      original.code,
      original.phrase,
      headers,
      original.length === 0 ? 0 : undefined,
      control,
    );
    this.original = original;
    this.decodedCodings = stages.map((stage) => stage.name);
    this.#stages = stages;
    this.#maxDecodedSize = maxDecodedSize;
    this.request = original.request;
    this.previousResponse = original.previousResponse;
  }

  /**
   * Streams the decoded body to `protocol`, as {@link Response.deliverBody};
   * the encoded body is only read from then on. A body that cannot be
   * decoded ends with `ResponseFailed` naming the coding and the URL.
   */
  override deliverBody(protocol: IBodyReader): void {
    // The pipeline exists before the protocol gets its producer, so that a
    // protocol pausing in makeConnection pauses it.
    const pipeline = this.#pipeline;
    if (pipeline === undefined) {
      this.#pipeline = new DecodingPipeline(this, this.#stages, this.#maxDecodedSize);
    }
    super.deliverBody(protocol);
    if (pipeline === undefined) this.original.deliverBody(this.#pipeline as DecodingPipeline);
  }
}

/** Describes a response's request for error messages: `GET http://…`. */
function requestName(response: Response): string {
  const request = response.request;
  return request === undefined
    ? `the ${response.code} response`
    : `${request.method} ${request.absoluteURI}`;
}

/**
 * Reads an encoded body (as its body protocol) and writes it through the
 * chain of decoding streams into a {@link DecodedResponse}.
 */
class DecodingPipeline implements IBodyReader {
  readonly #target: DecodedResponse;
  readonly #streams: Duplex[];
  readonly #names: readonly string[];
  readonly #maxDecodedSize: number;
  #producer: IPushProducer | undefined;
  #decoded = 0;
  #encoded = 0;
  /** The decoded body has ended. */
  #done = false;
  /** The streams are destroyed: ended, failed or stopped. */
  #dead = false;
  /** The encoded body has ended (its connectionLost came). */
  #upstreamEnded = false;
  #upstreamPaused = false;

  constructor(target: DecodedResponse, stages: readonly IContentDecoder[], maxDecodedSize: number) {
    this.#target = target;
    this.#maxDecodedSize = maxDecodedSize;
    this.#names = stages.map((stage) => stage.name);
    this.#streams = stages.map((stage) => stage.createStream());
    this.#streams.forEach((stream, i) => {
      stream.on('error', (error: Error) => this.#decodingFailed(i, error));
      const next = this.#streams[i + 1];
      if (next !== undefined) stream.pipe(next);
    });
    const first = this.#streams[0] as Duplex;
    const last = this.#streams[this.#streams.length - 1] as Duplex;
    first.on('drain', () => {
      if (this.#upstreamPaused && !this.#dead) {
        this.#upstreamPaused = false;
        this.#producer?.resumeProducing();
      }
    });
    last.on('data', (chunk: Buffer) => this.#output(chunk));
  }

  makeConnection(producer: IPushProducer): void {
    this.#producer = producer;
  }

  dataReceived(data: Uint8Array): void {
    if (this.#dead || data.length === 0) return;
    this.#encoded += data.length;
    const first = this.#streams[0] as Duplex;
    if (!first.write(data) && !this.#upstreamPaused) {
      this.#upstreamPaused = true;
      this.#producer?.pauseProducing();
    }
  }

  connectionLost(reason: Failure): void {
    this.#upstreamEnded = true;
    if (this.#done) return;
    if (this.#dead || reason.check(ResponseDone, PotentialDataLoss) === null) {
      // Failed, or stopped by the reader: the reason goes on as it is.
      this.#finish(reason);
      return;
    }
    if (this.#encoded === 0) {
      // An empty body (HEAD, 204, 304) has nothing to decode; a decoder
      // would call it truncated.
      this.#finish(reason);
      return;
    }
    const last = this.#streams[this.#streams.length - 1] as Duplex;
    last.on('end', () => this.#finish(reason));
    (this.#streams[0] as Duplex).end();
  }

  pause(): void {
    if (!this.#dead) (this.#streams[this.#streams.length - 1] as Duplex).pause();
  }

  resume(): void {
    if (!this.#dead) (this.#streams[this.#streams.length - 1] as Duplex).resume();
  }

  /** The reader wants no more: the connection is closed, and its end ends the decoded body. */
  stop(): void {
    if (this.#dead) return;
    this.#destroy();
    if (this.#upstreamEnded) {
      // The encoded body had all arrived; only decoding was left.
      this.#finish(
        new Failure(
          new ResponseFailed([new Failure(new Error('the body protocol stopped the response'))]),
        ),
      );
    } else {
      this.#producer?.stopProducing();
    }
  }

  #output(chunk: Buffer): void {
    if (this.#dead) return;
    this.#decoded += chunk.length;
    if (this.#decoded > this.#maxDecodedSize) {
      const error = new RangeError(
        `the decoded body is larger than ${this.#maxDecodedSize} bytes (maxDecodedSize)`,
      );
      this.#fail(
        new ResponseFailed(
          [new Failure(error)],
          `${requestName(this.#target)}: the decoded response body is larger than ${this.#maxDecodedSize} bytes`,
        ),
      );
      return;
    }
    try {
      this.#target._bodyDataReceived(chunk);
    } catch (error) {
      // Thrown into a zlib event it would crash the process: the reader's
      // bug ends its body instead.
      const failure = new Failure(error);
      log.failure('A response body protocol threw from dataReceived', failure);
      this.#fail(new ResponseFailed([failure]));
    }
  }

  #decodingFailed(index: number, error: Error): void {
    if (this.#dead) return;
    const coding = this.#names[index] ?? '?';
    this.#fail(
      new ResponseFailed(
        [new Failure(error)],
        `${requestName(this.#target)}: the response body is not valid ${coding}: ${error.message}`,
      ),
    );
  }

  /** Fails the decoded body and closes the connection: the rest is not wanted. */
  #fail(error: ResponseFailed): void {
    this.#finish(new Failure(error));
    if (!this.#upstreamEnded) this.#producer?.stopProducing();
  }

  #finish(reason: Failure): void {
    if (this.#done) return;
    this.#done = true;
    this.#destroy();
    try {
      this.#target._bodyDataFinished(reason);
    } catch (error) {
      log.failure('A response body protocol threw from connectionLost', new Failure(error));
    }
  }

  #destroy(): void {
    if (this.#dead) return;
    this.#dead = true;
    for (const stream of this.#streams) {
      stream.removeAllListeners('data');
      // Errors after the end are of no interest, but must not be unhandled.
      stream.on('error', () => {});
      stream.destroy();
    }
  }
}

/**
 * An agent wrapper that asks for compressed bodies and decodes them: it adds
 * `Accept-Encoding` (the decoders' names) to each request, and returns a
 * response with a `Content-Encoding` it knows as a {@link DecodedResponse}
 * whose body streams out decoded.
 *
 * @remarks
 * Codings listed together (`Content-Encoding: gzip, br`, applied in that
 * order) are undone from the last; decoding stops at the first coding it
 * does not know, which stays in `Content-Encoding` with those before it
 * (a response with no known coding at the end is returned as it came).
 * Decoding runs in Node's zlib, chunk by chunk as the body arrives: a
 * paused body reader pauses decompression and, once zlib's buffers fill,
 * the connection. A body that is not valid for its coding, truncated
 * included, ends with `ResponseFailed` whose message names the coding and
 * the URL, and the connection is closed. An `Accept-Encoding` among the
 * request's headers is kept, and this agent's added as another field.
 *
 * Stacking: put it outermost, `new ContentDecoderAgent(new RedirectAgent(
 * new CookieAgent(agent, jar)))`, so that only the final response is
 * decoded, not the bodies of the redirects followed on the way (every hop
 * still asks for compressed bodies: the header is passed down).
 *
 * Differences from Twisted: decoders are {@link IContentDecoder}s (a name
 * and a stream) rather than response wrappers, the default is gzip,
 * deflate and br instead of none, `Content-Length` is removed from a
 * decoded response, the response's headers are copied rather than changed
 * in place, and the encoded body is only read once the decoded one is.
 *
 * @example
 * ```ts
 * const agent = new ContentDecoderAgent(new Agent(reactor));
 * const response = await agent.request('GET', 'https://example.com/');
 * const text = new TextDecoder().decode(await readBody(response));
 * ```
 *
 * @see Twisted: twisted.web.client.ContentDecoderAgent
 * @since 0.1.0
 */
export class ContentDecoderAgent implements IAgent {
  readonly #agent: IAgent;
  readonly #decoders: ReadonlyMap<string, IContentDecoder>;
  readonly #acceptEncoding: string;
  readonly #maxDecodedSize: number;

  /**
   * @param agent - The agent that sends the requests.
   * @throws TypeError if two decoders share a name, or a name is empty.
   */
  constructor(agent: IAgent, options: ContentDecoderAgentOptions = {}) {
    this.#agent = agent;
    const decoders = options.decoders ?? [gzipDecoder, deflateDecoder, brotliDecoder];
    const byName = new Map<string, IContentDecoder>();
    for (const decoder of decoders) {
      for (const name of [decoder.name, ...(decoder.aliases ?? [])]) {
        const key = name.toLowerCase();
        if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(key)) {
          throw new TypeError(
            `a content decoder's name must be a token, not ${JSON.stringify(name)}`,
          );
        }
        if (byName.has(key))
          throw new TypeError(`two content decoders are named ${JSON.stringify(name)}`);
        byName.set(key, decoder);
      }
    }
    this.#decoders = byName;
    this.#acceptEncoding = decoders.map((decoder) => decoder.name).join(', ');
    this.#maxDecodedSize = options.maxDecodedSize ?? Number.POSITIVE_INFINITY;
  }

  /** {@inheritDoc IAgent.request} */
  request(
    method: string,
    uri: string,
    headers?: Headers,
    bodyProducer?: IBodyProducer,
  ): Deferred<Response> {
    const sent = headers === undefined ? new Headers() : headers.copy();
    if (this.#acceptEncoding !== '') sent.addRawHeader('Accept-Encoding', this.#acceptEncoding);
    return this.#agent
      .request(method, uri, sent, bodyProducer)
      .addCallback((response) => this.#decode(response));
  }

  #decode(response: Response): Response {
    const given = response.headers.getRawHeaders('content-encoding');
    if (given === undefined) return response;
    const codings = given
      .join(',')
      .split(',')
      .map((coding) => coding.trim())
      .filter((coding) => coding !== '');
    const stages: IContentDecoder[] = [];
    while (codings.length > 0) {
      const decoder = this.#decoders.get((codings[codings.length - 1] as string).toLowerCase());
      if (decoder === undefined) break;
      stages.push(decoder);
      codings.pop();
    }
    if (stages.length === 0) return response;
    const headers = response.headers.copy();
    if (codings.length > 0) headers.setRawHeaders('Content-Encoding', [codings.join(', ')]);
    else headers.removeHeader('Content-Encoding');
    headers.removeHeader('Content-Length');
    return new DecodedResponse(response, headers, stages, this.#maxDecodedSize);
  }
}
