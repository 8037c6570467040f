// Real clients of a Site on loopback, for test/integration/web/curl,
// test/integration/web/node-client and test/reliability/web-slowloris: a Site
// that counts its connections, a raw TCP exchange (bytes out, every byte back
// until the server closes), and a parser of the raw responses that came back,
// kept naive on purpose so that it checks the server's framing rather than
// sharing its parser. Test-only; not exported.

import { AssertionError } from 'node:assert';
import { connect, type Socket } from 'node:net';
import type { IAddress } from 'torsion/reactor';
import { type HTTPChannel, Site } from 'torsion/web';
import { until, waitFor } from './sockets.js';

/** A Site that counts the connections it has built, and keeps their channels. */
export class CountingSite extends Site {
  override noisy = false;
  readonly channels: HTTPChannel[] = [];

  override buildProtocol(addr: IAddress): HTTPChannel {
    const channel = super.buildProtocol(addr);
    this.channels.push(channel);
    return channel;
  }
}

/** One response as it came over the wire. */
export interface RawResponse {
  /** The status line, without its CRLF. */
  readonly statusLine: string;
  /** The status code. */
  readonly status: number;
  /** The header fields, names in lower case, values in order. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /** The body, de-chunked. */
  readonly body: Buffer;
}

/** The last value of `name` in `response`, or `undefined`. */
export function header(response: RawResponse, name: string): string | undefined {
  const values = response.headers.get(name.toLowerCase());
  return values?.[values.length - 1];
}

/**
 * Splits the bytes a server sent into responses. The body of a response is
 * framed by `Transfer-Encoding: chunked`, then `Content-Length`, else it
 * runs to the end; a 1xx, 204 or 304 response, and the answer to a HEAD
 * (`bodiless[i]` for the i-th final response), has none. A malformed
 * response throws, naming what is wrong.
 */
export function parseResponses(data: Buffer, bodiless: readonly boolean[] = []): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  let finals = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at, 'latin1');
    if (end === -1) {
      throw new AssertionError({
        message: `an unterminated response head: ${JSON.stringify(data.subarray(at, at + 200).toString('latin1'))}`,
      });
    }
    const lines = data.subarray(at, end).toString('latin1').split('\r\n');
    const statusLine = lines[0] as string;
    const match = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/.exec(statusLine);
    if (match === null) {
      throw new AssertionError({ message: `not a status line: ${JSON.stringify(statusLine)}` });
    }
    const status = Number(match[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0)
        throw new AssertionError({ message: `not a header: ${JSON.stringify(line)}` });
      const name = line.slice(0, colon).toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    at = end + 4;
    let body: Buffer = Buffer.alloc(0);
    const informational = status < 200;
    const noBody = informational || status === 204 || status === 304 || bodiless[finals] === true;
    if (!noBody) {
      const coding = headers.get('transfer-encoding');
      const length = headers.get('content-length');
      if (coding !== undefined) {
        assertEqual(coding.join(','), 'chunked', 'the transfer coding');
        const chunks: Buffer[] = [];
        for (;;) {
          const lineEnd = data.indexOf('\r\n', at, 'latin1');
          if (lineEnd === -1) throw new AssertionError({ message: 'a chunk size line is cut off' });
          const sizeText = data.subarray(at, lineEnd).toString('latin1');
          if (!/^[0-9a-f]+$/i.test(sizeText)) {
            throw new AssertionError({ message: `not a chunk size: ${JSON.stringify(sizeText)}` });
          }
          const size = Number.parseInt(sizeText, 16);
          at = lineEnd + 2;
          if (size === 0) {
            assertEqual(
              data.subarray(at, at + 2).toString('latin1'),
              '\r\n',
              'the end of the body',
            );
            at += 2;
            break;
          }
          if (at + size + 2 > data.length) {
            throw new AssertionError({ message: 'a chunk is cut off' });
          }
          chunks.push(data.subarray(at, at + size));
          assertEqual(
            data.subarray(at + size, at + size + 2).toString('latin1'),
            '\r\n',
            'a chunk end',
          );
          at += size + 2;
        }
        body = Buffer.concat(chunks);
      } else if (length !== undefined) {
        const n = Number(length[length.length - 1]);
        if (at + n > data.length) {
          throw new AssertionError({
            message: `a body is cut off: ${data.length - at} of ${n} bytes`,
          });
        }
        body = data.subarray(at, at + n);
        at += n;
      } else {
        body = data.subarray(at);
        at = data.length;
      }
    }
    if (!informational) finals++;
    responses.push({ statusLine, status, headers, body });
  }
  return responses;
}

function assertEqual(actual: string, expected: string, what: string): void {
  if (actual !== expected) {
    throw new AssertionError({
      message: `${what}: ${JSON.stringify(actual)}, not ${JSON.stringify(expected)}`,
    });
  }
}

/** A loopback connection whose every received byte is kept, with a promise of its close. */
export class RawClient {
  readonly socket: Socket;
  readonly chunks: Buffer[] = [];
  received = 0;
  /** Resolves once the socket has closed (after the server's FIN, or an error). */
  readonly closed: Promise<void>;
  /** Resolves once connected. */
  readonly connected: Promise<void>;
  /** The socket's error, if it had one. */
  error: Error | undefined;
  #waiting: Array<[number, () => void]> = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', (error) => {
      this.error = error;
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.received += chunk.length;
      const ready = this.#waiting.filter(([n]) => this.received >= n);
      this.#waiting = this.#waiting.filter(([n]) => this.received < n);
      for (const [, resolve] of ready) resolve();
    });
  }

  /** Everything received so far. */
  data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Everything received so far, as latin1 text. */
  text(): string {
    return this.data().toString('latin1');
  }

  /** Resolves once at least `n` bytes have arrived. */
  bytes(n: number): Promise<void> {
    if (this.received >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push([n, resolve]));
  }

  /** Resolves once what has arrived contains `text` (latin1); fails if the connection closes first. */
  async contains(text: string, seconds = 10): Promise<void> {
    await until(
      () => this.text().includes(text) || this.socket.destroyed,
      JSON.stringify(text),
      seconds,
    );
    if (!this.text().includes(text)) {
      throw new AssertionError({
        message: `the connection closed before ${JSON.stringify(text)} arrived; got ${JSON.stringify(this.text().slice(0, 500))}`,
      });
    }
  }

  /** Sends bytes (a string is sent as latin1). */
  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }
}

/**
 * Sends `data` on a fresh connection, half-closes it if `halfClose`, and
 * resolves with every byte the server sent until it closed.
 */
export async function rawExchange(
  port: number,
  data: string | Buffer,
  options: { halfClose?: boolean; seconds?: number } = {},
): Promise<Buffer> {
  const client = new RawClient(port);
  client.write(data);
  if (options.halfClose === true) client.socket.end();
  await waitFor(client.closed, 'the server to close the connection', options.seconds ?? 10);
  if (client.error !== undefined) throw client.error;
  return client.data();
}
