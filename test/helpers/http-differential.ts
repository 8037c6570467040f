// The HTTP parser's differential checks against Node's own parser (llhttp,
// behind node:http: its server on loopback for requests, its client over an
// in-memory stream or loopback for responses), shared by
// test/integration/web/parser-differential (a fixed, seeded number of cases in
// `npm test`) and test/fuzz/http-parser (`npm run fuzz`: a million cases or a
// time bound). Holds the generators of requests and responses, the mutations,
// what each side made of the bytes (for responses, both the bare parser and
// the whole HTTP11ClientProtocol), and in one place the list of deliberate
// differences. Test-only; not exported.

import { createServer, type IncomingMessage, METHODS, request, type Server } from 'node:http';
import {
  connect,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import type { Failure } from '../../src/internet/failure.js';
import { StringTransportWithDisconnection } from '../../src/testing/string-transport.js';
import { HttpParseError, HttpParser } from '../../src/web/_parser.js';
import { HTTP11ClientProtocol } from '../../src/web/client/client-protocol.js';
import {
  PotentialDataLoss,
  RequestGenerationFailed,
  ResponseDone,
  ResponseFailed,
} from '../../src/web/client/errors.js';
import { Headers } from '../../src/web/headers.js';
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
  // A 101 to a request that asked for no upgrade (RFC 9110 §15.2.2: a server
  // sends one only to a request with Upgrade): the connection no longer
  // speaks HTTP/1.1, so the client fails the request; node:http's client
  // hands it over as a response without a body and ignores what follows.
  'upgrade',
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

/**
 * A response that tries the framing rules: interim responses before it, a
 * status or method that forbids a body (with one sent anyway, or a length
 * declared), a Content-Length off by a byte or two either way (the body cut
 * short, or bytes after it), several chunks with extensions and trailers,
 * codings before chunked, `Connection: close` or `keep-alive`, a 101.
 */
const framingResponse = fc
  .tuple(
    fc.array(fc.constantFrom('100 Continue', '102 Processing', '103 Early Hints'), {
      maxLength: 2,
    }),
    fc.constantFrom('1.1', '1.1', '1.1', '1.0'),
    fc.oneof(
      { weight: 30, arbitrary: fc.constantFrom(200, 200, 200, 204, 304, 205, 404) },
      { weight: 1, arbitrary: fc.constant(101) },
    ),
    fc.array(field, { maxLength: 2 }),
    fc.constantFrom('', '', 'Connection: close\r\n', 'Connection: keep-alive\r\n'),
    fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
    fc.constantFrom('length', 'length', 'chunked', 'chunked', 'close', 'none', 'codings'),
    fc.constantFrom(0, 0, 0, 1, 2, -1, -2),
    fc.boolean(),
  )
  .map(([interims, version, status, fields, connection, chunks, framing, off, trailers]) => {
    const body = chunks.join('');
    let head = fields.map(([n, v]) => `${n}: ${v}\r\n`).join('') + connection;
    let wire = '';
    if (framing === 'length' || framing === 'none') {
      // off > 0: the body is cut short; off < 0: bytes follow it.
      head += `Content-Length: ${Math.max(0, body.length + off)}\r\n`;
      wire = framing === 'length' ? body : '';
    } else if (framing === 'close') {
      wire = body;
    } else {
      head += `Transfer-Encoding: ${framing === 'codings' ? 'gzip, chunked' : 'chunked'}\r\n`;
      for (const [i, c] of chunks.entries()) {
        if (c.length > 0)
          wire += `${c.length.toString(16)}${i % 2 === 1 ? ';a=b;c' : ''}\r\n${c}\r\n`;
      }
      wire += `0\r\n${trailers ? 'X-Trailer: t\r\n' : ''}\r\n`;
      if (off > 0) wire = wire.slice(0, Math.max(0, wire.length - off * 3)); // cut short
      if (off < 0) wire += 'HTTP/1.1 200 OK\r\n\r\n'; // a second, unasked-for response
    }
    const interim = interims.map((s) => `HTTP/1.1 ${s}\r\n\r\n`).join('');
    return `${interim}HTTP/${version} ${status} Reason\r\n${head}\r\n${wire}`;
  });

/**
 * Responses to GET or HEAD: generated ones mutated as requests are, and
 * framing cases (./framingResponse) as they are and mutated.
 */
export const responseCase: fc.Arbitrary<ResponseCase> = fc
  .tuple(
    fc.constantFrom('GET', 'GET', 'GET', 'HEAD'),
    fc.oneof(
      { weight: 2, arbitrary: mutated(validResponse) },
      { weight: 1, arbitrary: framingResponse.map((s) => Buffer.from(s, 'latin1')) },
      { weight: 1, arbitrary: mutated(framingResponse) },
    ),
  )
  .map(([method, data]) => ({ method, data }));

/** The parser's reason inside a client failure (a ResponseFailed around an HttpParseError), else its message. */
function clientReason(failure: Failure): string {
  const error = failure.value;
  if (error instanceof HttpParseError) return error.message;
  if (error instanceof ResponseFailed || error instanceof RequestGenerationFailed) {
    for (const reason of error.reasons) {
      if (reason.value instanceof HttpParseError) return reason.value.message;
      // The client's 101 failure, in the parser harness's word (see STRICTER).
      if (reason.getErrorMessage().startsWith('the server switched protocols')) return 'upgrade';
    }
  }
  return failure.getErrorMessage();
}

/**
 * What an HTTP11ClientProtocol made of `data` fed `size` bytes at a time, then
 * the close. The request is persistent: if the connection was offered for
 * reuse (the quiescent callback), it must be then open, reading and
 * quiescent, and offered once; an idle connection still open at the end
 * must be reading, and read a next response right. Otherwise the outcome is
 * an error that agrees with nothing.
 */
function clientOutcome(data: Buffer, method: string, size: number): OursOutcome {
  const out: OursOutcome = { messages: [], error: false, reason: '' };
  const offers: string[] = [];
  const protocol: HTTP11ClientProtocol = new HTTP11ClientProtocol(() => {
    offers.push(`${protocol.state} ${transport.producerState} ${transport.connected}`);
  });
  const transport = new StringTransportWithDisconnection({ lenient: true });
  transport.protocol = protocol;
  protocol.makeConnection(transport);
  let code = 0;
  let length = 0;
  let ended: Failure | undefined;
  protocol
    .request({
      method,
      target: '/',
      headers: new Headers({ Host: ['example.com'] }),
      persistent: true,
    })
    .addCallbacks(
      (response) => {
        code = response.code;
        response.deliverBody({
          makeConnection() {},
          dataReceived(chunk) {
            length += chunk.length;
          },
          connectionLost(reason) {
            ended = reason;
          },
        });
        return null;
      },
      (failure: Failure) => {
        ended = failure;
        return null;
      },
    );
  for (let i = 0; i < data.length && transport.connected; i += size) {
    protocol.dataReceived(data.subarray(i, i + size));
  }
  // (Bytes in a later read close an idle connection, as Twisted's does.)
  if (offers.length > 0 && offers.join() !== 'quiescent producing true') {
    return { messages: ['(reuse)'], error: true, reason: `offered for reuse as: ${offers}` };
  }
  // An idle connection that stays open must be reading, or its next response never comes.
  if (
    transport.connected &&
    protocol.state === 'quiescent' &&
    transport.producerState !== 'producing'
  ) {
    return { messages: ['(reuse)'], error: true, reason: 'idle and open, but not reading' };
  }
  // Reused, the connection must read the next response afresh: nothing of the
  // first may leak into it.
  if (transport.connected && protocol.state === 'quiescent' && offers.length > 0) {
    const next = nextResponse(protocol);
    if (next !== '200 3 ResponseDone') {
      return { messages: ['(reuse)'], error: true, reason: `the next response read as: ${next}` };
    }
  }
  if (transport.connected) transport.loseConnection();
  if (ended === undefined) {
    out.error = true;
    out.reason = 'the response never ended';
  } else if (ended.check(ResponseDone, PotentialDataLoss) !== null) {
    out.messages.push(`${code} ${length}`);
  } else {
    out.error = true;
    out.reason = clientReason(ended);
  }
  return out;
}

/** A second request on a reused connection, answered by a plain 3-byte response: what it read. */
function nextResponse(protocol: HTTP11ClientProtocol): string {
  let outcome = 'nothing';
  protocol
    .request({ method: 'GET', target: '/next', headers: new Headers({ Host: ['example.com'] }) })
    .addCallbacks(
      (response) => {
        let length = 0;
        response.deliverBody({
          makeConnection() {},
          dataReceived(chunk) {
            length += chunk.length;
          },
          connectionLost(reason) {
            outcome = `${response.code} ${length} ${reason.type?.name}`;
          },
        });
        return null;
      },
      (failure: Failure) => {
        outcome = failure.getErrorMessage();
        return null;
      },
    );
  protocol.dataReceived(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'));
  return outcome;
}

/**
 * What HTTP11ClientProtocol made of `data` as the answer to a `method`
 * request (the status and body length, or an error with the parser's
 * reason), fed in one chunk and byte by byte: an outcome that depends on the
 * split is reported as an error that agrees with nothing.
 */
export function oursClient(data: Buffer, method: string): OursOutcome {
  const whole = clientOutcome(data, method, data.length || 1);
  const bytewise = clientOutcome(data, method, 1);
  if (JSON.stringify(whole) === JSON.stringify(bytewise)) return whole;
  return {
    messages: ['(split)'],
    error: true,
    reason: `depends on the split: whole ${JSON.stringify(whole)}, byte by byte ${JSON.stringify(bytewise)}`,
  };
}

/**
 * Whether the client protocol's outcome agrees with node:http's, allowing for
 * the deliberate differences (`parser` is the bare parser's outcome on the
 * same bytes, which names the cases the client cannot tell from outside).
 */
export function clientAgrees(node: Outcome, parser: OursOutcome, client: OursOutcome): boolean {
  // A 1xx in HTTP/1.0 is interim for us (see STRICTER), so the client goes on
  // to the final response; the parser's check covers the difference.
  if (parser.reason === 'a 1xx response in HTTP/1.0') return !client.reason.startsWith('depends');
  // The client drops bytes after its response (and does not reuse the
  // connection): the response itself is what the parser read.
  if (parser.reason === 'bytes after the response') {
    return !client.error && JSON.stringify(client.messages) === JSON.stringify(parser.messages);
  }
  return agree(node, client);
}

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
 * node:http's client (llhttp) answered with the bytes of each case, then the
 * end of the stream. By default over an in-memory stream (`createConnection`:
 * the same parser and client code as over a socket, four times faster; the
 * seeded 10,000 cases of the test gave identical outcomes both ways when
 * written); with `{ over: 'loopback' }` through a raw TCP server on
 * 127.0.0.1 that answers each request for `/N` with case N, then closes.
 * `parse` resolves with what the client made of the answer.
 */
export class NodeResponseOracle {
  private server: NetServer | undefined;
  private port = 0;
  private next = 0;
  private readonly cases = new Map<number, Buffer>();
  private readonly over: 'memory' | 'loopback';

  constructor(options: { over?: 'memory' | 'loopback' } = {}) {
    this.over = options.over ?? 'memory';
  }

  async start(): Promise<void> {
    if (this.over === 'memory') return;
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
      const req =
        this.over === 'loopback'
          ? request({ host: '127.0.0.1', port: this.port, method, path: `/${id}`, agent: false })
          : request({
              host: 'example.com',
              method,
              path: '/',
              createConnection: () => answering(data),
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

/** A stream that answers the first write with `data`, then ends. */
function answering(data: Buffer): Duplex {
  let answered = false;
  return new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      if (!answered) {
        answered = true;
        setImmediate(() => {
          this.push(data);
          this.push(null);
        });
      }
      callback();
    },
  });
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
