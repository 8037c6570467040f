// Internal: the push producer that streams a static file's body (whole, one
// range, or the parts of a multipart/byteranges response) to a Request from
// an open file descriptor (Twisted: twisted.web.static.StaticProducer and its
// NoRange, SingleRange and MultipleRange subclasses).
// Tests: test/unit/web/static-streaming.test.ts, test/unit/web/static-ranges.test.ts

import { closeSync, readSync } from 'node:fs';
import { Failure } from '../internet/failure.js';
import type { IDelayedCall, IPushProducer, IReactorTime } from '../internet/interfaces.js';
import { Logger } from '../logger/logger.js';
import type { ByteRange } from './_ranges.js';
import type { Request } from './request.js';

const log = new Logger('torsion.web.static');

/** Bytes read from the file per write (Twisted's `StaticProducer.bufferSize`, 64 KiB). */
export const CHUNK_SIZE = 64 * 1024;

/**
 * Chunks written in one go while the transport does not pause the producer;
 * then it yields to the reactor (`callLater(0)`) before going on, so that
 * one large response cannot hold the event loop.
 */
export const CHUNKS_PER_TURN = 16;

/** A piece of the body: bytes written as they are, or a range of the file. */
export type BodyPart = Uint8Array | ByteRange;

/**
 * Writes `parts` to `request`, reading the file ranges from `fd` with
 * `fs.readSync` at explicit positions, then unregisters itself, finishes the
 * request and closes the file.
 *
 * @remarks
 * A push producer (registered as streaming): it writes chunks of
 * {@link CHUNK_SIZE} bytes while the transport lets it, stops writing at
 * once when the transport calls `pauseProducing` (so what a slow client has
 * not taken stays on disk, not in memory) and goes on at `resumeProducing`.
 * Between pauses it yields to the reactor every {@link CHUNKS_PER_TURN}
 * chunks.
 *
 * `stopProducing` (the client went away, or the request's `notifyFinish`
 * failed) closes the file and drops the request: nothing is read or written
 * after it. The file is closed exactly once whatever ends the transfer: the
 * last byte, a stop, or a failed read.
 *
 * A read that fails, or finds the end of the file before the bytes the
 * response declared (the file shrank), ends the request through
 * `processingFailed`: the connection closes, cutting the response short.
 */
export class StaticProducer implements IPushProducer {
  /** The request written to; `undefined` once the transfer is over. */
  #request: Request | undefined;
  /** The open file; `undefined` once closed (always together with #request). */
  #fd: number | undefined;
  readonly #parts: readonly BodyPart[];
  readonly #clock: IReactorTime;
  readonly #describe: string;
  /** The part being written. */
  #index = 0;
  /** The next file offset to read in the current range part; -1 before it starts. */
  #position = -1;
  #paused = false;
  /** Set while the write loop runs: a re-entrant resume lets the loop go on. */
  #producing = false;
  /** The pending continuation after a full turn, if any. */
  #later: IDelayedCall | undefined;

  /**
   * @param request - Where the body goes.
   * @param fd - The open file; the producer owns it from now on and closes it.
   * @param parts - The body, in order.
   * @param clock - Schedules the continuation after a full turn.
   * @param describe - The file, for messages.
   */
  constructor(
    request: Request,
    fd: number,
    parts: readonly BodyPart[],
    clock: IReactorTime,
    describe: string,
  ) {
    this.#request = request;
    this.#fd = fd;
    this.#parts = parts;
    this.#clock = clock;
    this.#describe = describe;
  }

  /** Whether the transfer is over (finished, stopped or failed) and the file closed. */
  get done(): boolean {
    return this.#request === undefined;
  }

  /** Registers with the request and starts writing. */
  start(): void {
    const request = this.#request;
    if (request === undefined) return;
    request.notifyFinish().addErrback(() => {
      this.stopProducing();
      return undefined;
    });
    request.registerProducer(this, true);
    this.#produce();
  }

  /** Stops writing until `resumeProducing`. */
  pauseProducing(): void {
    this.#paused = true;
    this.#later?.cancel();
    this.#later = undefined;
  }

  /** Writes again after a pause. */
  resumeProducing(): void {
    if (this.#request === undefined) return;
    this.#paused = false;
    this.#produce();
  }

  /** Stops for good: closes the file and forgets the request. Calling it again does nothing. */
  stopProducing(): void {
    this.#release();
  }

  #produce(): void {
    if (this.#producing) return;
    this.#producing = true;
    try {
      let budget = CHUNKS_PER_TURN;
      while (this.#request !== undefined && !this.#paused) {
        if (budget === 0) {
          this.#later ??= this.#clock.callLater(0, () => {
            this.#later = undefined;
            this.#produce();
          });
          break;
        }
        budget--;
        this.#step();
      }
    } finally {
      this.#producing = false;
    }
  }

  /** Writes the next piece of the body, or ends the transfer after the last. */
  #step(): void {
    const request = this.#request as Request;
    const part = this.#parts[this.#index];
    if (part === undefined) {
      this.#release();
      request.unregisterProducer();
      request.finish();
      return;
    }
    if (part instanceof Uint8Array) {
      this.#index++;
      request.write(part);
      return;
    }
    if (this.#position < 0) this.#position = part.start;
    const want = Math.min(CHUNK_SIZE, part.end + 1 - this.#position);
    // A fresh buffer per chunk: the transport keeps what it is given.
    const buffer = Buffer.allocUnsafe(want);
    let count: number;
    try {
      count = readSync(this.#fd as number, buffer, 0, want, this.#position);
    } catch (error) {
      this.#fail(request, error);
      return;
    }
    if (count === 0) {
      this.#fail(
        request,
        new Error(
          `${this.#describe} ended at byte ${this.#position}, before the end of the range ${part.start}-${part.end} the response declared (the file shrank while being sent)`,
        ),
      );
      return;
    }
    this.#position += count;
    if (this.#position > part.end) {
      this.#index++;
      this.#position = -1;
    }
    request.write(count === want ? buffer : buffer.subarray(0, count));
  }

  #fail(request: Request, error: unknown): void {
    this.#release();
    request.unregisterProducer();
    request.processingFailed(new Failure(error));
  }

  /** Closes the file and drops the request, once. */
  #release(): void {
    const fd = this.#fd;
    this.#request = undefined;
    this.#fd = undefined;
    this.#later?.cancel();
    this.#later = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch (error) {
      log.failure('Closing {file} failed', new Failure(error), { file: this.#describe });
    }
  }
}
