// Streaming a large download to a file: the response's body is delivered
// to a protocol (deliverBody) chunk by chunk and written to disk as it
// arrives, never held whole in memory. When the disk is slower than the
// network, the protocol pauses the connection until the file has caught up.
// A progress line on standard error is rewritten in place (\r); the last
// one says how many bytes came and how long it took. The file is written
// under FILE.part and renamed once complete, so a failed download leaves no
// half file behind; a failure prints one line and exits with status 1.
//
// Run it: npm run build && node dist/examples/web-download.js URL FILE
// Try it: node dist/examples/web-static.js 8080 . &
//         node dist/examples/web-download.js http://127.0.0.1:8080/package.json /tmp/p.json

import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { Deferred, type Failure } from 'torsion/defer';
import type { HostnameEndpointReactor } from 'torsion/endpoints';
import type { IPushProducer, IReactorTime } from 'torsion/reactor';
import type { IBodyReader } from 'torsion/web';
// The HTTP client joins the torsion/web exports with the rest of issue 13.
import {
  Agent,
  PotentialDataLoss,
  RedirectAgent,
  type Response,
  ResponseDone,
  WebError,
} from 'torsion/web';
import { UsageError } from './_cli.js';

const MiB = 1024 * 1024;

/** Bytes as a short human figure. */
function size(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`;
}

/**
 * Writes a response body to a file as it arrives, with backpressure, and
 * reports progress.
 */
export class FileDownload implements IBodyReader {
  /** Fires with the byte count once the body is on disk, or fails. */
  readonly done = new Deferred<number>();
  #producer: IPushProducer | undefined;
  #received = 0;
  #ended = false;
  #lastReport = Number.NEGATIVE_INFINITY;
  readonly #started: number;

  /**
   * @param file - Where the body goes (written as it arrives).
   * @param length - The body's length if the response declared it.
   * @param progress - Called with each progress line (at most ten times a second, and at the end).
   */
  constructor(
    readonly file: WriteStream,
    readonly length: number | undefined,
    readonly clock: IReactorTime,
    readonly progress: (line: string, final: boolean) => void,
  ) {
    this.#started = clock.seconds();
    // Once the body has ended, its connection may be carrying another request: leave it alone.
    file.on('drain', () => {
      if (!this.#ended) this.#producer?.resumeProducing();
    });
    file.on('error', (error) => {
      this.#producer?.stopProducing();
      if (!this.done.called) this.done.errback(error);
    });
  }

  makeConnection(producer: IPushProducer): void {
    this.#producer = producer;
  }

  dataReceived(data: Uint8Array): void {
    this.#received += data.length;
    // The disk is behind: stop reading the network until it drains.
    if (!this.file.write(data)) this.#producer?.pauseProducing();
    const now = this.clock.seconds();
    if (now - this.#lastReport >= 0.1) {
      this.#lastReport = now;
      this.progress(this.#line(), false);
    }
  }

  connectionLost(reason: Failure): void {
    this.#ended = true;
    if (reason.check(ResponseDone, PotentialDataLoss) === null) {
      this.file.destroy();
      if (!this.done.called) this.done.errback(reason);
      return;
    }
    this.file.end(() => {
      const seconds = this.clock.seconds() - this.#started;
      this.progress(
        `downloaded ${this.#received} bytes in ${seconds.toFixed(2)} s (${size(this.#received / Math.max(seconds, 0.001))}/s)`,
        true,
      );
      if (!this.done.called) this.done.callback(this.#received);
    });
  }

  #line(): string {
    if (this.length === undefined || this.length === 0) return `received ${size(this.#received)}`;
    const percent = Math.floor((100 * this.#received) / this.length);
    return `received ${size(this.#received)} of ${size(this.length)} (${percent}%)`;
  }
}

/** The length of the progress line on standard error, while it has no newline yet. */
let openLine = 0;

/** Rewrites the progress line in place: `\r`, the line, spaces over what is left of the last one. */
function progressOnStderr(line: string, final: boolean): void {
  process.stderr.write(`\r${line.padEnd(openLine)}${final ? '\n' : ''}`);
  openLine = final ? 0 : line.length;
}

/** Ends the progress line, if one is open, so that what follows starts a line of its own. */
function endProgressLine(): void {
  if (openLine > 0) process.stderr.write('\n');
  openLine = 0;
}

/**
 * Downloads `url` into `path`.
 *
 * @param progress - Where progress lines go. Default: standard error,
 *   each rewriting the last (`\r`), the final one ending the line.
 * @returns A Deferred of the byte count; it fails with `WebError` for a
 *   status other than 2xx, or with the download's error (the partial file
 *   is removed).
 */
export function main(
  reactor: HostnameEndpointReactor,
  url: string,
  path: string,
  progress: (line: string, final: boolean) => void = progressOnStderr,
): Deferred<number> {
  const agent = new RedirectAgent(new Agent(reactor));
  const partial = `${path}.part`;
  return agent
    .request('GET', url)
    .addCallback((response: Response) => {
      if (response.code < 200 || response.code >= 300) {
        throw new WebError(
          response.code,
          response.phrase,
          undefined,
          `GET ${url}: ${response.code} ${response.phrase}`,
        );
      }
      const download = new FileDownload(
        createWriteStream(partial),
        response.length,
        reactor,
        progress,
      );
      response.deliverBody(download);
      return download.done;
    })
    .addCallbacks(
      (bytes) => {
        renameSync(partial, path);
        return bytes;
      },
      (failure: Failure) => {
        rmSync(partial, { force: true });
        return failure;
      },
    );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { react, SystemExit } = await import('torsion/task');
  const usage = 'node dist/examples/web-download.js URL FILE';
  const [url, path, ...extra] = process.argv.slice(2);
  if (url === undefined || path === undefined || extra.length > 0) {
    const error = new UsageError(
      extra.length > 0 ? `unexpected argument '${extra[0]}'` : 'give a URL and a file',
    );
    process.stderr.write(`error: ${error.message}\nusage: ${usage}\n`);
    process.exit(2);
  }
  await react((reactor) =>
    main(reactor, url, path).addErrback((reason: Failure) => {
      endProgressLine();
      process.stderr.write(`error: ${reason.getErrorMessage()}\n`);
      throw new SystemExit(1);
    }),
  );
}
