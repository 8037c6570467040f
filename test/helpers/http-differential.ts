// The HTTP parser's differential checks against Node's own parser (llhttp,
// behind node:http on loopback), shared by test/integration/web/parser-differential
// (a fixed, seeded number of cases in `npm test`) and test/fuzz/http-parser
// (`npm run fuzz`: a million cases or a time bound). Holds the generators of
// requests and responses, the mutations, what each side made of the bytes, and
// in one place the list of deliberate differences. Test-only; not exported.

import { createServer, type IncomingMessage, METHODS, request, type Server } from 'node:http';
import {
  connect,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import fc from 'fast-check';
import { HttpParser } from '../../src/web/_parser.js';
import { invalidRequests, validRequests } from '../unit/web/_cases.js';

/** What a parser made of a stream: the messages it completed, and whether it then failed. */
export interface Outcome {
  messages: string[];
  error: boolean;
}

/** Our outcome, with the reason of the error if there was one. */
export interface OursOutcome extends Outcome {
  reason: string;
}

/**
 * Where this parser is stricter than llhttp on purpose (RFC 9112): request
 * lines without a version (llhttp reads them as HTTP/0.9) or with two spaces
 * in a row, versions other than 1.0 and 1.1 (505), request-targets in the
 * wrong form for their method, an empty Transfer-Encoding (llhttp reads it as
 * no body), Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: faulty
 * framing), a bare CR or LF (llhttp skips them before a request, and ends an
 * HTTP/0.9 line at LF), and an empty chunk extension name. After one of these
 * errors, node:http may accept more than we do. The only list of them: both
 * the test and `npm run fuzz` use it.
 */
export const STRICTER: ReadonlySet<string> = new Set([
  'malformed request line',
  'empty request-target',
  'malformed HTTP version',
  'asterisk-form target is for OPTIONS only',
  'request-target is neither origin-form nor absolute-form',
  'CONNECT needs an authority-form target',
  'empty Transfer-Encoding',
  'Transfer-Encoding in an HTTP/1.0 request',
  'bare LF: lines must end with CRLF',
  'bare CR: lines must end with CRLF',
  'empty chunk extension name',
  'empty chunk extension value',
  'invalid byte in reason phrase',
  // Chunk extensions that are not RFC 9112's token[=token/quoted-string].
  'invalid character after chunk size',
  // In a response llhttp reads the body to the connection's close (RFC 9112
  // §6.3); we refuse the message.
  'chunked is not the final transfer coding',
  // Any tab after a Transfer-Encoding value; llhttp only refuses "chunked\t".
  'tab after a Transfer-Encoding',
  // RFC 9110 §15.2: a 1xx is interim in any version; llhttp ends an HTTP/1.0
  // connection after it (see oursResponse).
  'a 1xx response in HTTP/1.0',
  // Response status codes are 100 to 599 (RFC 9110 §15); llhttp reads any three digits.
  'status code below 100',
  // A tab around a Content-Length value: node:http on Node 20 accepts it.
  'invalid Content-Length',
  // Our parser says the stream ended mid-message where the only bytes after
  // the last message were CR or LF (llhttp skips them): see oursRequests.
  'stray CR or LF at the end',
]);

/** Whether our error `reason` is one of the deliberate differences. */
export function deliberate(reason: string): boolean {
  return (
    STRICTER.has(reason) ||
    reason.startsWith('HTTP version not supported') ||
    // 501 for any coding but chunked; llhttp lets chunked last excuse the others.
    reason.startsWith('unknown transfer coding')
  );
}

/** llhttp knows a fixed list of methods; any other token is one for RFC 9110 and for us. */
const NODE_METHODS = new Set(METHODS);

/** Whether the two outcomes agree, allowing for the deliberate differences. */
export function agree(node: Outcome, ours: OursOutcome): boolean {
  // node:http's client mostly fails on these, but not after a 1xx to a HEAD.
  if (ours.reason === 'bytes after the response')
    return node.error || JSON.stringify(ours.messages) === JSON.stringify(node.messages);
  if (ours.error === node.error && JSON.stringify(ours.messages) === JSON.stringify(node.messages))
    return true;
  return (
    ours.error && deliberate(ours.reason) && ours.messages.every((r, i) => node.messages[i] === r)
  );
}

/** What our request parser made of `data`: each request as "METHOD target bodyLength". */
export function oursRequests(data: Buffer): OursOutcome {
  const out: OursOutcome = { messages: [], error: false, reason: '' };
  let current = '';
  let length = 0;
  let last = false;
  const parser: HttpParser = new HttpParser('request', {
    onRequestHead: (h) => {
      current = `${h.method} ${h.target}`;
      length = 0;
      // node:http's server ends the connection after a request that does not
      // keep it alive, and counts what follows as an error: so do we here.
      const connection = h.headers
        .filter(([n]) => n.toLowerCase() === 'connection')
        .map(([, v]) => v.toLowerCase());
      last =
        h.version === 'HTTP/1.0'
          ? !connection.some((v) => /(^|,) *keep-alive *(,|$)/.test(v))
          : connection.some((v) => /(^|,) *close *(,|$)/.test(v));
      if (!NODE_METHODS.has(h.method)) {
        out.error = true;
        out.reason = 'a method llhttp does not know';
        parser.pause();
      }
    },
    onBody: (b) => {
      length += b.length;
    },
    onMessageComplete: () => {
      if (out.error) return;
      out.messages.push(`${current} ${length}`);
      if (last) parser.pause();
    },
    onError: (e) => {
      out.error = true;
      out.reason = e.message;
    },
  });
  parser.feed(data);
  if (last && !out.error) {
    // CR and LF after the last request are no error for node:http either.
    let end = data.length;
    let clean = parser.idle;
    while (!clean && end > 0 && (data[end - 1] === 0x0d || data[end - 1] === 0x0a)) {
      end--;
      const again = oursRequests(data.subarray(0, end));
      clean = !again.error && JSON.stringify(again.messages) === JSON.stringify(out.messages);
    }
    if (!clean) {
      out.error = true;
      out.reason = 'bytes after the last request of the connection';
    }
    return out;
  }
  if (!out.error) parser.finish();
  if (out.reason === 'connection closed before the message ended') {
    // Retry without each trailing CR or LF in turn.
    let end = data.length;
    while (end > 0 && (data[end - 1] === 0x0d || data[end - 1] === 0x0a)) {
      end--;
      const trimmed = oursRequests(data.subarray(0, end));
      if (!trimmed.error && JSON.stringify(trimmed.messages) === JSON.stringify(out.messages)) {
        out.reason = 'stray CR or LF at the end';
        break;
      }
    }
  }
  return out;
}

/**
 * What our response parser made of `data` answering `method`: the first final
 * response as "status bodyLength" (1xx skipped, as node:http's client does), or an error.
 */
export function oursResponse(data: Buffer, method: string): OursOutcome {
  const out: OursOutcome = { messages: [], error: false, reason: '' };
  let status = 0;
  let length = 0;
  let done = false;
  const parser: HttpParser = new HttpParser('response', {
    onResponseHead: (h) => {
      status = h.status;
      length = 0;
      if (h.status < 200 && h.version === 'HTTP/1.0' && !out.error) {
        out.error = true;
        out.reason = 'a 1xx response in HTTP/1.0';
        parser.pause();
      }
    },
    onBody: (b) => {
      length += b.length;
    },
    onMessageComplete: () => {
      if (status >= 200 && !done) {
        done = true;
        out.messages.push(`${status} ${length}`);
        parser.pause();
      }
    },
    onUpgrade: () => {
      out.error = true;
      out.reason = 'upgrade';
    },
    onError: (e) => {
      out.error = true;
      out.reason = e.message;
    },
  });
  parser.expectResponse(method);
  parser.feed(data);
  const completeBeforeEnd = done;
  if (!out.error && !done) parser.finish();
  // node:http's client fails on bytes after the response it asked for.
  if (completeBeforeEnd && !parser.idle) {
    out.error = true;
    out.reason = 'bytes after the response';
  }
  return out;
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,8}$/);
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,10}[\x21-\x7e])?$/);
const field = fc.oneof(
  fc
    .tuple(token, value)
    .filter(([n]) => !/^(content-length|transfer-encoding|connection|upgrade|expect)$/i.test(n)),
  fc.constantFrom<[string, string]>(
    ['Host', 'example.com'],
    ['Connection', 'keep-alive'],
    ['Accept', '*/*'],
  ),
);

/** A header block and body framed by Content-Length, chunked coding, or neither. */
function framed(
  fields: [string, string][],
  body: string,
  framing: string,
): { head: string; wire: string } {
  const lines = fields.map(([n, v]) => `${n}: ${v}\r\n`);
  let wire = '';
  if (framing === 'length') {
    lines.push(`Content-Length: ${body.length}\r\n`);
    wire = body;
  } else if (framing === 'chunked') {
    lines.push('Transfer-Encoding: chunked\r\n');
    wire = `${body.length > 0 ? `${body.length.toString(16)};x=y\r\n${body}\r\n` : ''}0\r\n\r\n`;
  } else if (framing === 'close') {
    wire = body;
  }
  return { head: lines.join(''), wire };
}

/** A valid request: Content-Length or chunked body, or none. */
const validRequest = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
    fc.stringMatching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,12}$/),
    fc.array(field, { maxLength: 4 }),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('none', 'length', 'chunked'),
  )
  .map(([method, target, fields, body, framing]) => {
    const { head, wire } = framed(fields, body, framing);
    return `${method} ${target} HTTP/1.1\r\n${head}\r\n${wire}`;
  });

const NASTY = [
  '\r',
  '\n',
  ' ',
  '\t',
  ':',
  ',',
  ';',
  '\x00',
  '\x7f',
  '\xe9',
  '0',
  'a',
  '-',
  '"',
  '\r\n',
  'HTTP/1.1',
];

/** `text` with up to three bytes replaced, inserted or removed. */
function mutated(text: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      text,
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...NASTY)), { maxLength: 3 }),
    )
    .map(([original, edits]) => {
      let s = original;
      for (const [at, kind, with_] of edits) {
        const i = at % (s.length + 1);
        if (kind === 0) s = s.slice(0, i) + with_ + s.slice(i + 1);
        else if (kind === 1) s = s.slice(0, i) + with_ + s.slice(i);
        else s = s.slice(0, i) + s.slice(i + 1);
      }
      return Buffer.from(s, 'latin1');
    });
}

/** A stream of requests, generated or from the corpus, possibly mutated. */
export const requestStream: fc.Arbitrary<Buffer> = mutated(
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.array(validRequest, { minLength: 1, maxLength: 3 }).map((r) => r.join('')),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ...[...validRequests, ...invalidRequests]
          .filter((c) => !c.input.startsWith('CONNECT'))
          .map((c) => c.input),
      ),
    },
  ),
);

/** A response case: the request method it answers and the bytes of the response. */
export interface ResponseCase {
  method: string;
  data: Buffer;
}

/** A valid response, perhaps after a 100 Continue, framed by length, chunks, close or nothing. */
const validResponse = fc
  .tuple(
    fc.boolean(),
    fc.constantFrom('1.1', '1.1', '1.0'),
    fc.constantFrom(200, 200, 201, 204, 206, 301, 304, 404, 500, 503),
    fc.stringMatching(/^[A-Za-z ]{0,10}$/),
    fc.array(field, { maxLength: 4 }),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('length', 'chunked', 'close'),
  )
  .map(([continued, version, status, reason, fields, body, framing]) => {
    const { head, wire } = framed(
      fields,
      body,
      version === '1.0' && framing === 'chunked' ? 'length' : framing,
    );
    const interim = continued ? 'HTTP/1.1 100 Continue\r\n\r\n' : '';
    return `${interim}HTTP/${version} ${status} ${reason}\r\n${head}\r\n${wire}`;
  });

/** Responses to GET or HEAD, mutated as requests are. */
export const responseCase: fc.Arbitrary<ResponseCase> = fc
  .tuple(fc.constantFrom('GET', 'GET', 'GET', 'HEAD'), mutated(validResponse))
  .map(([method, data]) => ({ method, data }));

/**
 * A node:http server on 127.0.0.1 that records what it parsed of each
 * connection; `parse` sends bytes on a fresh connection, half-closes it and
 * resolves with node's outcome when the server has closed it.
 */
export class NodeRequestOracle {
  private server: Server | undefined;
  private port = 0;
  private readonly logs = new Map<number, Outcome>();

  async start(): Promise<void> {
    const server = createServer({ requireHostHeader: false, keepAliveTimeout: 1000 });
    this.server = server;
    server.on('connection', (socket) => {
      this.record(socket);
    });
    server.on('request', (req: IncomingMessage, res) => {
      let length = 0;
      req.on('data', (b: Buffer) => {
        length += b.length;
      });
      req.on('end', () => {
        this.record(req.socket).messages.push(`${req.method} ${req.url} ${length}`);
        res.end();
      });
    });
    server.on('clientError', (_error, socket) => {
      this.record(socket as Socket).error = true;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private record(socket: Socket | null | undefined): Outcome {
    const key = socket?.remotePort ?? -1;
    let log = this.logs.get(key);
    if (log === undefined) {
      log = { messages: [], error: false };
      this.logs.set(key, log);
    }
    return log;
  }

  /** What node:http made of `data`, sent on a fresh connection then half-closed. */
  parse(data: Buffer): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, '127.0.0.1');
      socket.on('connect', () => {
        const key = socket.localPort ?? -1;
        socket.on('close', () => {
          const log = this.logs.get(key) ?? { messages: [], error: false };
          this.logs.delete(key);
          resolve(log);
        });
        socket.end(data);
      });
      socket.on('data', () => undefined);
      socket.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e);
      });
    });
  }
}

/**
 * A raw TCP server on 127.0.0.1 that answers each request for `/N` with the
 * bytes registered as case N, then closes; `parse` makes node:http's client
 * request it and resolves with what the client made of the answer.
 */
export class NodeResponseOracle {
  private server: NetServer | undefined;
  private port = 0;
  private next = 0;
  private readonly cases = new Map<number, Buffer>();

  async start(): Promise<void> {
    const server = createNetServer((socket) => {
      let head = '';
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        if (head.includes('\r\n\r\n')) return;
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const id = Number(/^[A-Z]+ \/(\d+) /.exec(head)?.[1]);
        socket.end(this.cases.get(id) ?? Buffer.alloc(0));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    await new Promise((resolve) => server.close(resolve));
  }

  /** What node:http's client made of `data` as the answer to a `method` request. */
  parse({ method, data }: ResponseCase): Promise<Outcome> {
    const id = this.next++;
    this.cases.set(id, data);
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        this.cases.delete(id);
        req.destroy();
        resolve(outcome);
      };
      const req = request({
        host: '127.0.0.1',
        port: this.port,
        method,
        path: `/${id}`,
        agent: false,
      });
      req.on('response', (res) => {
        let length = 0;
        res.on('data', (b: Buffer) => {
          length += b.length;
        });
        res.on('end', () => settle({ messages: [`${res.statusCode} ${length}`], error: false }));
        res.on('error', () => settle({ messages: [], error: true }));
        res.on('aborted', () => settle({ messages: [], error: true }));
      });
      req.on('error', () => settle({ messages: [], error: true }));
      req.on('close', () => settle({ messages: [], error: true }));
      req.end();
    });
  }
}

/** One disagreement: the case's bytes (JSON-escaped) and both outcomes. */
export function describeDisagreement(
  data: Buffer,
  node: Outcome,
  ours: OursOutcome,
  extra = '',
): string {
  return `${extra}${JSON.stringify(data.toString('latin1'))}\n  node:  ${JSON.stringify(node)}\n  ours:  ${JSON.stringify(ours)}`;
}

/** Runs `work` over `items` with at most `concurrency` in flight, in order of results by index. */
export async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
