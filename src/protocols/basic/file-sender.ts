// FileSender: a pull producer that writes a file to a consumer, and the
// synchronous files it reads (Twisted: twisted.protocols.basic.FileSender).
// Tests: test/unit/protocols/basic-filesender.test.ts

import { closeSync, openSync, readSync } from 'node:fs';
import { Deferred } from '../../internet/defer.js';
import { TorsionError } from '../../internet/error.js';
import type { IConsumer, IPullProducer } from '../../internet/interfaces.js';

/**
 * A file read synchronously, as {@link FileSender} needs: a pull producer
 * must write its chunk before `resumeProducing` returns.
 *
 * @remarks
 * {@link openFileForSending} makes one from a path; an object over bytes in
 * memory is a few lines.
 *
 * @since 0.1.0
 */
export interface ReadableFile {
  /**
   * Reads up to `length` bytes into `buffer` at `offset`.
   *
   * @param buffer - Where to put the bytes.
   * @param offset - Where in `buffer` to start.
   * @param length - The most bytes to read.
   * @returns How many bytes were read; 0 at the end of the file.
   */
  read(buffer: Uint8Array, offset: number, length: number): number;
}

/**
 * A file opened by {@link openFileForSending}.
 *
 * @since 0.1.0
 */
export interface OpenedFile extends ReadableFile {
  /** The file descriptor. */
  readonly fd: number;
  /** Closes the file. Calling it again does nothing. */
  close(): void;
}

/**
 * Opens the file at `path` for reading, as a {@link ReadableFile} for
 * {@link FileSender.beginFileTransfer}.
 *
 * @remarks
 * Reads are `fs.readSync` calls on the descriptor, from the start of the
 * file on. The sender does not close the file: close it when the transfer's
 * Deferred fires, either way.
 *
 * @example
 * ```ts
 * const file = openFileForSending('report.pdf');
 * new FileSender()
 *   .beginFileTransfer(file, transport)
 *   .addBoth((result) => {
 *     file.close();
 *     return result;
 *   });
 * ```
 *
 * @param path - The file's path.
 * @returns The open file.
 * @throws The `fs.openSync` error (`ENOENT`, `EACCES`, …) if it cannot be opened.
 * @since 0.1.0
 */
export function openFileForSending(path: string): OpenedFile {
  const fd = openSync(path, 'r');
  let closed = false;
  let position = 0;
  return {
    fd,
    read(buffer: Uint8Array, offset: number, length: number): number {
      const count = readSync(fd, buffer, offset, length, position);
      position += count;
      return count;
    },
    close(): void {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/**
 * The failure of a {@link FileSender} transfer whose consumer called
 * `stopProducing` before the end of the file.
 *
 * @since 0.1.0
 */
export class FileTransferStoppedError extends TorsionError {
  override name = 'FileTransferStoppedError' as const;
  override readonly code = 'ERR_FILE_TRANSFER_STOPPED' as const;
  constructor(
    message = 'the consumer asked the FileSender to stop producing',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A pull producer that writes a file to a consumer, one chunk each time the
 * consumer asks.
 *
 * @remarks
 * {@link FileSender.beginFileTransfer} registers the sender with the
 * consumer as a non-streaming (pull) producer; each `resumeProducing` reads
 * up to `chunkSize` bytes, passes them through the optional transform and
 * writes them. The read that finds the end of the file unregisters the
 * sender and fires the Deferred with the last byte written.
 *
 * Differences from Twisted: the file is a {@link ReadableFile} (a
 * synchronous `read` into a buffer) rather than a Python file object; the
 * Deferred fires with the last byte as a number (or `undefined` when
 * nothing was written), not as a one-byte string; a read or transform
 * that throws fails the Deferred and unregisters the sender, instead of
 * raising from `resumeProducing`; cancelling the Deferred stops the
 * transfer.
 *
 * @see Twisted: twisted.protocols.basic.FileSender
 * @since 0.1.0
 */
export class FileSender implements IPullProducer {
  /** The most bytes read and written per `resumeProducing`. Default 16384. */
  chunkSize = 16384;
  /** The last byte written to the consumer, if any. */
  lastSent: number | undefined = undefined;
  /** The file being sent; `undefined` before the transfer and after it ends. */
  #file: ReadableFile | undefined;
  #consumer: IConsumer | undefined;
  #transform: ((chunk: Buffer) => Uint8Array) | undefined;
  /** The transfer's Deferred, until it fires. */
  #deferred: Deferred<number | undefined> | undefined;

  /**
   * Starts sending `file` to `consumer`.
   *
   * @remarks
   * Cancellation: cancelling the returned Deferred stops the transfer (no
   * more reads), unregisters the sender from the consumer and fails the
   * Deferred with `CancelledError`.
   *
   * @param file - Where the bytes come from.
   * @param consumer - Where they go, usually a transport.
   * @param transform - Applied to each chunk read before it is written.
   * @returns A Deferred that fires with the last byte written (`undefined`
   *   if nothing was) once the whole file has been written, or fails with
   *   {@link FileTransferStoppedError} if the consumer stops the transfer,
   *   or with the error of a read or transform that throws.
   * @see Twisted: twisted.protocols.basic.FileSender.beginFileTransfer
   */
  beginFileTransfer(
    file: ReadableFile,
    consumer: IConsumer,
    transform?: (chunk: Buffer) => Uint8Array,
  ): Deferred<number | undefined> {
    this.#file = file;
    this.#consumer = consumer;
    this.#transform = transform;
    const deferred = new Deferred<number | undefined>(() => {
      if (this.#deferred !== deferred) return;
      this.#deferred = undefined;
      this.#finish();
    });
    this.#deferred = deferred;
    consumer.registerProducer(this, false);
    return deferred;
  }

  /** Writes the next chunk to the consumer, or finishes the transfer at the end of the file. */
  resumeProducing(): void {
    const file = this.#file;
    if (file === undefined) return;
    let chunk: Uint8Array;
    try {
      const buffer = Buffer.allocUnsafe(this.chunkSize);
      const count = file.read(buffer, 0, buffer.length);
      if (count <= 0) {
        this.#finish();
        const deferred = this.#deferred;
        this.#deferred = undefined;
        deferred?.callback(this.lastSent);
        return;
      }
      const read = buffer.subarray(0, count);
      chunk = this.#transform === undefined ? read : this.#transform(read);
    } catch (error) {
      this.#finish();
      const deferred = this.#deferred;
      this.#deferred = undefined;
      deferred?.errback(error);
      return;
    }
    this.#consumer?.write(chunk);
    if (chunk.length > 0) this.lastSent = chunk[chunk.length - 1];
  }

  /** Does nothing: a pull producer writes only when asked. */
  pauseProducing(): void {}

  /** Stops the transfer: the Deferred fails with {@link FileTransferStoppedError}. */
  stopProducing(): void {
    this.#file = undefined;
    const deferred = this.#deferred;
    this.#deferred = undefined;
    deferred?.errback(new FileTransferStoppedError());
  }

  /** Ends the transfer: no more reads, unregistered from the consumer. */
  #finish(): void {
    this.#file = undefined;
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#transform = undefined;
    consumer?.unregisterProducer();
  }
}
