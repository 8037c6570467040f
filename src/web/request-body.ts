// RequestBody: the body of a request as it arrives, read whole or as a stream
// with backpressure; a large whole body waits in a temporary file
// (Twisted: Request.content, a BytesIO or a temporary file).
// Tests: test/unit/web/channel-bodies.test.ts, test/unit/web/channel.test.ts,
// test/integration/web/curl.test.ts, test/integration/web/node-client.test.ts,
// test/reliability/web-uploads.test.ts

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deferred, fail, succeed } from '../internet/defer.js';
import { ConnectionDone, ConnectionLost } from '../internet/error.js';
import { Failure } from '../internet/failure.js';
import type { IPushProducer } from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import { parseQueryString } from './_form.js';

const log = new Logger('torsion.web.server');

/**
 * What reads a body as a stream: a `Protocol` fits. `makeConnection` gets the
 * body's producer (pause, resume or stop the body with it), `dataReceived`
 * each chunk, and `connectionLost` once: a `ConnectionDone` Failure when the
 * body ended, another Failure when it cannot end (the client went away or
 * sent a malformed body).
 *
 * @since 0.1.0
 */
export interface IBodyReader {
  /** Called first, with the producer that controls the flow of the body. */
  makeConnection(producer: IPushProducer): void;
  /** A chunk of the body. */
  dataReceived(data: Uint8Array): void;
  /** The body ended (`ConnectionDone`) or failed. */
  connectionLost(reason: Failure): void;
}

/** @internal What a body asks of the connection it arrives on. */
export interface BodySource {
  /** Stop reading the connection for the body's sake. */
  pauseReading(): void;
  /** Reading may go on as far as the body is concerned. */
  resumeReading(): void;
  /** Someone wants the body now: a client waiting for `100 Continue` gets it. */
  bodyWanted(): void;
  /** Nobody will read the rest: the connection cannot be reused. */
  bodyDiscarded(): void;
}

/** @internal How a body stores what nobody reads yet. */
export interface BodyOptions {
  /** Bytes kept in memory before the rest goes to a temporary file (whole-body mode). */
  readonly spoolThreshold: number;
  /** Where temporary files go. */
  readonly spoolDirectory: string | undefined;
  /** Queued bytes at which a streaming body pauses reading. */
  readonly highWaterMark: number;
}

const READ_CHUNK = 64 * 1024;

interface Spool {
  fd: number;
  readonly path: string;
  size: number;
}

/**
 * The body of a request.
 *
 * @remarks
 * For a resource that renders once the body has arrived (the default), the
 * whole body is there: `read()` returns it at once. A body over the site's
 * spool threshold waits in a temporary file (mode 0600, removed when the
 * request ends); its writes are synchronous, as Twisted's are.
 *
 * A resource with `streamsRequestBody` renders when the head arrives and
 * reads the body as it comes: `deliverBody(reader)`, or
 * `for await (const chunk of request.content)`. While the reader is paused,
 * or nobody reads, the connection stops reading once 64 KiB wait.
 *
 * `bytes()` and `text()` give the whole body in either mode, when it has
 * arrived.
 *
 * @example
 * ```ts
 * render_POST(request: Request): string {
 *   const body = request.content.read();
 *   return `received ${body.length} bytes\n`;
 * }
 * ```
 *
 * @since 0.1.0
 */
export class RequestBody implements AsyncIterable<Buffer> {
  /** The length the request declared (`Content-Length`); `undefined` for a chunked body. */
  readonly length: number | undefined;
  #received = 0;
  #done = false;
  #failure: Failure | undefined;
  #chunks: Buffer[] = [];
  #queued = 0;
  #spool: Spool | undefined;
  #spoolRead = 0;
  #streaming = false;
  #reader: IBodyReader | undefined;
  #readerPaused = false;
  #readingPaused = false;
  #discarding = false;
  #ended = false;
  #released = false;
  #waiters: Deferred<Buffer>[] = [];
  readonly #source: BodySource;
  readonly #options: BodyOptions;

  /** @internal Made by the channel for each request. */
  constructor(source: BodySource, length: number | undefined, options: BodyOptions) {
    this.#source = source;
    this.length = length;
    this.#options = options;
  }

  /** How many bytes of the body have arrived. */
  get received(): number {
    return this.#received;
  }

  /** Whether the whole body has arrived. */
  get done(): boolean {
    return this.#done;
  }

  /** The temporary file holding the body, when it went to one. */
  get spoolPath(): string | undefined {
    return this.#spool?.path;
  }

  /**
   * The whole body.
   *
   * @throws Error if the body has not all arrived (a streaming resource
   *   reads it with `deliverBody`, `for await` or `bytes()`), if it failed,
   *   or if a reader is taking it.
   */
  read(): Buffer {
    if (this.#failure !== undefined) {
      throw new Error(`the request body failed: ${this.#failure.getErrorMessage()}`);
    }
    if (!this.#done) {
      throw new Error(
        'the request body has not all arrived: read it with deliverBody(), for await or bytes()',
      );
    }
    if (this.#reader !== undefined)
      throw new Error('the request body is being delivered to a reader');
    if (this.#released) throw new Error('the request has ended and its body was released');
    return this.#whole();
  }

  /**
   * The whole body read as an HTML form (`application/x-www-form-urlencoded`):
   * each field name with its values, in order, percent-decoded as UTF-8.
   *
   * @throws Error as {@link RequestBody.read} does.
   */
  readForm(): Map<string, string[]> {
    return parseQueryString(this.read().toString('utf8'));
  }

  /** A Deferred of the whole body, once it has arrived; it fails if the body does. */
  bytes(): Deferred<Buffer> {
    if (this.#failure !== undefined) return fail(this.#failure);
    if (this.#reader !== undefined) {
      return fail(new Error('the request body is being delivered to a reader'));
    }
    if (this.#done) {
      try {
        return succeed(this.read());
      } catch (error) {
        return fail(error);
      }
    }
    const waiter = new Deferred<Buffer>();
    this.#waiters.push(waiter);
    this.#source.bodyWanted();
    this.#updateReading();
    return waiter;
  }

  /** A Deferred of the whole body decoded as UTF-8 (malformed bytes become U+FFFD). */
  text(): Deferred<string> {
    return this.bytes().addCallback((body) => body.toString('utf8'));
  }

  /**
   * Streams the body to `reader`: the chunks not read yet, then each as it
   * arrives, then `connectionLost`. The reader may pause the body through the
   * producer given to its `makeConnection`; `stopProducing` drops the rest
   * (and the connection closes after the response, as it cannot be reused).
   *
   * @throws Error if the body already has a reader.
   */
  deliverBody(reader: IBodyReader): void {
    if (this.#reader !== undefined) throw new Error('the request body already has a reader');
    if (this.#released) throw new Error('the request has ended and its body was released');
    this.#reader = reader;
    const producer: IPushProducer = {
      pauseProducing: () => {
        this.#readerPaused = true;
        this.#updateReading();
      },
      resumeProducing: () => {
        if (!this.#readerPaused) return;
        this.#readerPaused = false;
        this.#flush();
        this.#updateReading();
      },
      stopProducing: () => this.#stop(),
    };
    this.#source.bodyWanted();
    if (!this.#call(() => reader.makeConnection(producer))) return;
    this.#flush();
    this.#updateReading();
  }

  /**
   * The body's chunks as they arrive, with backpressure: reading stops while
   * the loop body runs. Leaving the loop early drops the rest of the body;
   * a body that fails throws from the loop.
   */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const ready: Buffer[] = [];
    let end: Failure | null | undefined;
    let wake: (() => void) | undefined;
    let producer: IPushProducer | undefined;
    this.deliverBody({
      makeConnection(p) {
        producer = p;
      },
      dataReceived(data) {
        ready.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        producer?.pauseProducing();
        wake?.();
      },
      connectionLost(reason) {
        end = reason.check(ConnectionDone) === null ? reason : null;
        wake?.();
      },
    });
    return {
      next: async (): Promise<IteratorResult<Buffer>> => {
        while (ready.length === 0 && end === undefined) {
          producer?.resumeProducing();
          if (ready.length > 0 || end !== undefined) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
        const chunk = ready.shift();
        if (chunk !== undefined) return { value: chunk, done: false };
        if (end !== null && end !== undefined) throw end.value;
        return { value: undefined, done: true };
      },
      return: async (): Promise<IteratorResult<Buffer>> => {
        if (end === undefined) producer?.stopProducing();
        return { value: undefined, done: true };
      },
    };
  }

  /** @internal The channel decided the resource reads the body as a stream. */
  _setStreaming(): void {
    this.#streaming = true;
    this.#updateReading();
  }

  /** @internal A chunk arrived (a view the body may keep). */
  _receive(chunk: Buffer): void {
    this.#received += chunk.length;
    if (this.#discarding || this.#released) return;
    const reader = this.#reader;
    if (
      reader !== undefined &&
      !this.#readerPaused &&
      this.#queued === 0 &&
      this.#spool === undefined
    ) {
      this.#call(() => reader.dataReceived(chunk));
      return;
    }
    if (this.#spool !== undefined) {
      this.#appendToSpool(chunk);
    } else {
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
      if (
        !this.#streaming &&
        this.#reader === undefined &&
        this.#queued > this.#options.spoolThreshold
      ) {
        this.#startSpool();
      }
    }
    this.#flush();
    this.#updateReading();
  }

  /** @internal The body ended. */
  _end(): void {
    if (this.#done || this.#failure !== undefined) return;
    this.#done = true;
    if (this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      let body: Buffer;
      try {
        body = this.#whole();
      } catch (error) {
        for (const w of waiters) w.errback(error);
        return;
      }
      for (const w of waiters) w.callback(body);
    }
    this.#flush();
    this.#updateReading();
  }

  /** @internal The body cannot end: the connection was lost or the rest was malformed. */
  _fail(reason: Failure): void {
    if (this.#done || this.#failure !== undefined) return;
    this.#failure = reason;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.errback(reason);
    if (this.#reader !== undefined && !this.#ended) {
      this.#ended = true;
      this.#call(() => this.#reader?.connectionLost(reason));
    }
  }

  /** @internal The request ended: free the memory and remove the temporary file. */
  _release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#chunks = [];
    this.#queued = 0;
    const spool = this.#spool;
    if (spool !== undefined) {
      this.#spool = undefined;
      try {
        closeSync(spool.fd);
      } catch {}
      try {
        unlinkSync(spool.path);
      } catch (error) {
        log.warn('Could not remove the request body file {path}: {error}', {
          path: spool.path,
          error: String(error),
        });
      }
    }
  }

  /**
   * Holds the connection's reading while a reader is paused, or while a
   * streaming body nobody reads yet has a high-water mark's worth queued.
   */
  #updateReading(): void {
    const hold =
      !this.#done &&
      !this.#discarding &&
      (this.#reader !== undefined
        ? this.#readerPaused
        : this.#streaming &&
          this.#waiters.length === 0 &&
          this.#queued >= this.#options.highWaterMark);
    if (hold && !this.#readingPaused) {
      this.#readingPaused = true;
      this.#source.pauseReading();
    } else if (!hold && this.#readingPaused) {
      this.#readingPaused = false;
      this.#source.resumeReading();
    }
  }

  /** Delivers what is queued to the reader while it is not paused, then the end. */
  #flush(): void {
    const reader = this.#reader;
    if (reader === undefined || this.#ended) return;
    while (!this.#readerPaused && !this.#discarding) {
      const chunk = this.#nextQueued();
      if (chunk === undefined) break;
      if (!this.#call(() => reader.dataReceived(chunk))) return;
    }
    const unread =
      this.#queued + (this.#spool === undefined ? 0 : this.#spool.size - this.#spoolRead);
    if (this.#done && !this.#readerPaused && unread === 0) {
      this.#ended = true;
      this.#call(() =>
        reader.connectionLost(new Failure(new ConnectionDone('the request body ended'))),
      );
    }
  }

  #nextQueued(): Buffer | undefined {
    const spool = this.#spool;
    if (spool !== undefined) {
      if (this.#spoolRead < spool.size) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, spool.size - this.#spoolRead));
        const n = readSync(spool.fd, buffer, 0, buffer.length, this.#spoolRead);
        this.#spoolRead += n;
        return buffer.subarray(0, n);
      }
      return undefined;
    }
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) this.#queued -= chunk.length;
    return chunk;
  }

  #whole(): Buffer {
    const spool = this.#spool;
    if (spool !== undefined) return readFileSync(spool.path);
    if (this.#chunks.length === 1) return this.#chunks[0] as Buffer;
    const whole = Buffer.concat(this.#chunks, this.#queued);
    this.#chunks = [whole];
    return whole;
  }

  #startSpool(): void {
    const path = join(
      this.#options.spoolDirectory ?? tmpdir(),
      `torsion-body-${randomBytes(8).toString('hex')}`,
    );
    const fd = openSync(path, 'wx+', 0o600);
    this.#spool = { fd, path, size: 0 };
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#queued = 0;
    for (const chunk of chunks) this.#appendToSpool(chunk);
  }

  #appendToSpool(chunk: Buffer): void {
    const spool = this.#spool as Spool;
    let offset = 0;
    while (offset < chunk.length) {
      offset += writeSync(spool.fd, chunk, offset, chunk.length - offset, spool.size + offset);
    }
    spool.size += chunk.length;
  }

  #stop(): void {
    if (this.#discarding) return;
    this.#discarding = true;
    this.#chunks = [];
    this.#queued = 0;
    this.#source.bodyDiscarded();
    this.#updateReading();
    if (this.#reader !== undefined && !this.#ended) {
      this.#ended = true;
      const reader = this.#reader;
      this.#call(() =>
        reader.connectionLost(
          new Failure(new ConnectionLost('the reader stopped the request body')),
        ),
      );
    }
  }

  /** Runs a reader's callback; what it throws is logged and stops the body. */
  #call(f: () => void): boolean {
    try {
      f();
      return true;
    } catch (error) {
      log.failure(
        'A request body reader threw; the rest of the body is dropped',
        new Failure(error),
      );
      this.#ended = true;
      this.#stop();
      return false;
    }
  }
}
