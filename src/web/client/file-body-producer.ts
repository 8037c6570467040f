// FileBodyProducer: a request body from bytes, a string, a file or a
// Readable stream, written to the connection a chunk at a time with
// backpressure (Twisted: twisted.web.client.FileBodyProducer).
// Tests: test/unit/web/client-file-body.test.ts

import { statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Deferred } from '../../internet/defer.js';
import type { Failure } from '../../internet/failure.js';
import type { IConsumer } from '../../internet/interfaces.js';
import {
  type CooperativeTask,
  cooperate,
  SchedulerError,
  TaskStopped,
} from '../../internet/task/cooperator.js';
import type { IBodyProducer } from './client-protocol.js';

/**
 * A body producer that can make a fresh copy of itself, to send the same
 * body again: what a `RedirectAgent` needs to follow a 307 or 308 for a
 * request with a body.
 *
 * @since 0.1.0
 */
export interface IReplayableBodyProducer extends IBodyProducer {
  /**
   * A new producer of the same body, from its start, independent of this
   * one; `undefined` when the body cannot be read again (a stream).
   */
  replay(): IBodyProducer | undefined;
}

/**
 * Whether `producer` can replay its body ({@link IReplayableBodyProducer}).
 *
 * @since 0.1.0
 */
export function isReplayable(producer: IBodyProducer): producer is IReplayableBodyProducer {
  return typeof (producer as Partial<IReplayableBodyProducer>).replay === 'function';
}

/** What schedules a {@link FileBodyProducer}'s reads: a `Cooperator`, or the module's `cooperate`. */
export interface BodyCooperator {
  /** Runs `iterator`, one step at a time, sharing time with other tasks. */
  cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I>;
}

/** Options of {@link FileBodyProducer}. */
export interface FileBodyProducerOptions {
  /**
   * Schedules the writes of bytes and the reads of a file: one chunk per
   * unit of work, so a large body never blocks the reactor.
   * @defaultValue the module-wide `cooperate` of torsion/task, which runs
   *   on the global reactor; library code should pass a `Cooperator` made
   *   with its own reactor.
   */
  readonly cooperator?: BodyCooperator;
  /** Bytes per chunk. @defaultValue 65536 */
  readonly readSize?: number;
  /**
   * The body's length in bytes, when the producer cannot know it (a
   * stream); the request then has a `Content-Length` rather than chunked
   * framing. For bytes and files the length is measured, and this
   * overrides it.
   */
  readonly length?: number;
}

type Source =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'stream'; readonly stream: Readable };

const DEFAULT_READ_SIZE = 2 ** 16;

/** A read or open error, with the path in its message. */
function fileError(path: string, doing: string, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`cannot ${doing} the request body file ${path}: ${reason}`, { cause: error });
}

/**
 * A request body from bytes, a string, a file or a `Readable`: an
 * `IBodyProducer` for `Agent.request`.
 *
 * @remarks
 * - Bytes are sent as they are; a string is encoded as UTF-8. The length is
 *   known, so the request has a `Content-Length`.
 * - A file ({@link FileBodyProducer.fromPath}) is measured when the
 *   producer is made (`stat`; a missing file throws then) and opened only
 *   when the body is sent; exactly that many bytes are sent, and a file
 *   that shrank meanwhile fails the body. Open and read errors fail the
 *   promise of `startProducing` with a message naming the path. The file
 *   is closed after the last read, on an error, and on `stopProducing`.
 *   A path that is not a regular file (a FIFO, a device) has no length and
 *   is sent chunked.
 * - A `Readable` is sent as it arrives, chunked unless `length` is given;
 *   `pauseProducing` pauses the stream, `stopProducing` destroys it.
 *
 * Bytes and files are written one chunk (`readSize`) per unit of work of
 * a cooperator, as Twisted's are; `pauseProducing` (the connection's
 * buffer is full) pauses that task until `resumeProducing`.
 *
 * Replaying: a producer of bytes, a string or a file is an
 * {@link IReplayableBodyProducer}: `replay()` gives a fresh producer of
 * the same body (a file is measured and read again), which is how a
 * `RedirectAgent` resends it after a 307 or 308. A stream cannot be read
 * twice: its `replay()` gives `undefined`.
 *
 * Differences from Twisted: Twisted's takes an open file object; here a
 * path is opened lazily, and bytes, strings and streams are accepted
 * directly.
 *
 * @example
 * ```ts
 * const coop = new Cooperator({ scheduler: (step) => reactor.callLater(0, step) });
 * const body = FileBodyProducer.fromPath('upload.bin', { cooperator: coop });
 * agent.request('PUT', 'http://example.com/upload.bin', undefined, body);
 * ```
 *
 * @see Twisted: twisted.web.client.FileBodyProducer
 * @since 0.1.0
 */
export class FileBodyProducer implements IReplayableBodyProducer {
  #length: number | undefined;
  #source: Source;
  readonly #options: FileBodyProducerOptions;
  readonly #readSize: number;
  #task: CooperativeTask | undefined;
  #handle: FileHandle | undefined;
  /** Set by pauseProducing before the task or stream runs; applied when it starts. */
  #paused = false;
  #stopped = false;
  #started = false;

  /**
   * @param body - Bytes, a string (sent as UTF-8), or a `Readable`.
   * @throws TypeError if `body` is none of these, or `readSize` or `length`
   *   is not a whole number of bytes.
   */
  constructor(body: Uint8Array | string | Readable, options: FileBodyProducerOptions = {}) {
    if (
      typeof body !== 'string' &&
      !(body instanceof Uint8Array) &&
      typeof (body as Partial<Readable> | null)?.on !== 'function'
    ) {
      throw new TypeError(
        `FileBodyProducer takes bytes, a string or a Readable (or a path through fromPath), not ${String(body)}`,
      );
    }
    const source: Source =
      typeof body === 'string'
        ? { kind: 'bytes', bytes: Buffer.from(body, 'utf8') }
        : body instanceof Uint8Array
          ? { kind: 'bytes', bytes: body }
          : { kind: 'stream', stream: body };
    this.#source = source;
    this.#options = options;
    this.#readSize = checkReadSize(options.readSize);
    if (options.length !== undefined) {
      if (!Number.isSafeInteger(options.length) || options.length < 0) {
        throw new TypeError(`length must be a byte count, not ${options.length}`);
      }
      this.#length = options.length;
    } else {
      this.#length = source.kind === 'bytes' ? source.bytes.length : undefined;
    }
  }

  /**
   * A producer of the file at `path` (a string or a `file:` URL).
   *
   * @throws Error naming the path if it cannot be measured (missing, no
   *   permission) or is a directory.
   */
  static fromPath(path: string | URL, options: FileBodyProducerOptions = {}): FileBodyProducer {
    const file = typeof path === 'string' ? path : fileURLToPath(path);
    let length = options.length;
    if (length === undefined) {
      let stats: ReturnType<typeof statSync>;
      try {
        stats = statSync(file);
      } catch (error) {
        throw fileError(file, 'measure', error);
      }
      if (stats?.isDirectory()) throw fileError(file, 'send', new Error('it is a directory'));
      length = stats?.isFile() ? stats.size : undefined;
    }
    const producer = new FileBodyProducer(new Uint8Array(0), options);
    producer.#source = { kind: 'path', path: file };
    producer.#length = length;
    return producer;
  }

  /** The body's length in bytes, or `undefined` when unknown (sent chunked). */
  get length(): number | undefined {
    return this.#length;
  }

  /**
   * Starts writing the body to `consumer`.
   *
   * @remarks
   * Cancellation: cancelling the result stops the producer (and closes its
   * file); after `stopProducing` the result never fires, as Twisted's.
   *
   * @returns A Deferred that fires when the whole body has been written,
   *   or fails with what stopped it (a read error naming the path, a stream
   *   error, or the consumer's own error).
   * @throws Error if the producer was started before (use `replay()` for another copy).
   */
  startProducing(consumer: IConsumer): Deferred<void> {
    if (this.#started) {
      throw new Error('a FileBodyProducer is started once; replay() gives a fresh copy');
    }
    this.#started = true;
    const body = this.#source;
    if (body.kind === 'stream') return this.#pipe(body.stream, consumer);
    const cooperator = this.#options.cooperator ?? { cooperate };
    const iterator =
      body.kind === 'bytes'
        ? this.#writeBytes(body.bytes, consumer)
        : this.#readFile(body.path, consumer);
    const task = cooperator.cooperate(iterator);
    this.#task = task;
    if (this.#paused) task.pause();
    if (this.#stopped) this.#stopTask();
    const done = new Deferred<void>(() => this.stopProducing());
    task.whenDone().addCallbacks(
      () => {
        done.callback(undefined);
      },
      (failure: Failure) => {
        void this.#close();
        // Stopped on purpose: the result never fires (IBodyProducer's contract).
        if (failure.check(TaskStopped) === null && !done.called) done.errback(failure);
        return null;
      },
    );
    return done;
  }

  /** Pauses the writing until {@link FileBodyProducer.resumeProducing}. */
  pauseProducing(): void {
    if (this.#paused || this.#stopped) return;
    this.#paused = true;
    if (this.#task !== undefined) {
      try {
        this.#task.pause();
      } catch (error) {
        if (!(error instanceof SchedulerError)) throw error;
      }
    } else if (this.#source.kind === 'stream' && this.#started) {
      (this.#source as { stream: Readable }).stream.pause();
    }
  }

  /** Resumes the writing after {@link FileBodyProducer.pauseProducing}. */
  resumeProducing(): void {
    if (!this.#paused || this.#stopped) return;
    this.#paused = false;
    if (this.#task !== undefined) {
      try {
        this.#task.resume();
      } catch (error) {
        if (!(error instanceof SchedulerError)) throw error;
      }
    } else if (this.#source.kind === 'stream' && this.#started) {
      (this.#source as { stream: Readable }).stream.resume();
    }
  }

  /** Stops for good: no more writes, the file closed, a stream destroyed. */
  stopProducing(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopTask();
    void this.#close();
    const body = this.#source;
    if (body.kind === 'stream') body.stream.destroy();
  }

  /**
   * A fresh producer of the same body (a file is measured again), or
   * `undefined` for a stream, which cannot be read twice.
   *
   * @throws Error naming the path if the file can no longer be measured.
   */
  replay(): FileBodyProducer | undefined {
    const body = this.#source;
    switch (body.kind) {
      case 'stream':
        return undefined;
      case 'path': {
        const { length: _ignored, ...rest } = this.#options;
        return FileBodyProducer.fromPath(body.path, rest);
      }
      default:
        return new FileBodyProducer(body.bytes, this.#options);
    }
  }

  #stopTask(): void {
    try {
      this.#task?.stop();
    } catch (error) {
      if (!(error instanceof SchedulerError)) throw error;
    }
  }

  async #close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    try {
      await handle?.close();
    } catch {
      // Closing after a failed read: the read's error is the one to report.
    }
  }

  *#writeBytes(bytes: Uint8Array, consumer: IConsumer): Generator<undefined> {
    const size = this.#readSize;
    for (let offset = 0; offset < bytes.length; offset += size) {
      consumer.write(bytes.subarray(offset, offset + size));
      yield undefined;
    }
  }

  *#readFile(path: string, consumer: IConsumer): Generator<Deferred<unknown> | undefined> {
    yield Deferred.fromPromise(
      open(path, 'r').then(
        (handle) => {
          if (this.#stopped) void handle.close();
          else this.#handle = handle;
        },
        (error: unknown) => {
          // After stopProducing nobody waits for the body: the error has nobody to reach.
          if (!this.#stopped) throw fileError(path, 'open', error);
        },
      ),
    );
    const length = this.#length;
    let remaining = length ?? Number.POSITIVE_INFINITY;
    const buffer = Buffer.allocUnsafe(this.#readSize);
    while (remaining > 0) {
      const handle = this.#handle;
      if (handle === undefined) return; // stopped
      let chunk: Uint8Array = new Uint8Array(0);
      yield Deferred.fromPromise(
        handle.read(buffer, 0, Math.min(buffer.length, remaining), null).then(
          ({ bytesRead }) => {
            // A copy: the buffer is reused for the next read while the transport may still hold this chunk.
            chunk = Buffer.from(buffer.subarray(0, bytesRead));
          },
          (error: unknown) => {
            if (!this.#stopped) throw fileError(path, 'read', error);
          },
        ),
      );
      if (chunk.length === 0) {
        if (length !== undefined) {
          throw fileError(
            path,
            'read',
            new Error(`it ended ${remaining} bytes short of the ${length} bytes measured`),
          );
        }
        break;
      }
      remaining -= chunk.length;
      consumer.write(chunk);
    }
    // The body is done once the file is closed.
    yield Deferred.fromPromise(this.#close());
  }

  #pipe(stream: Readable, consumer: IConsumer): Deferred<void> {
    const done = new Deferred<void>(() => this.stopProducing());
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (chunk: Uint8Array | string): void => {
      try {
        consumer.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      } catch (error) {
        cleanup();
        stream.destroy();
        if (!done.called) done.errback(error);
      }
    };
    const onEnd = (): void => {
      cleanup();
      if (!done.called && !this.#stopped) done.callback(undefined);
    };
    const onError = (error: Error): void => {
      cleanup();
      if (!done.called && !this.#stopped) {
        done.errback(
          new Error(`the request body stream failed: ${error.message}`, { cause: error }),
        );
      }
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    if (this.#paused) stream.pause();
    else stream.resume();
    return done;
  }
}

function checkReadSize(readSize: number | undefined): number {
  if (readSize === undefined) return DEFAULT_READ_SIZE;
  if (!Number.isSafeInteger(readSize) || readSize <= 0) {
    throw new TypeError(`readSize must be a positive whole number of bytes, not ${readSize}`);
  }
  return readSize;
}
