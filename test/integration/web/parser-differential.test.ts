// Differential test of the HTTP request parser against Node's own (llhttp,
// behind node:http on loopback): seeded generated and mutated requests, each
// sent on its own TCP connection and then half-closed; both parsers must
// accept the same requests (method, target, body length, in order) and agree
// on whether the stream ends in an error. Bounded: a fixed number of cases.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, METHODS, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { HttpParser } from '../../../src/web/_parser.js';
import { invalidRequests, validRequests } from '../../unit/web/_cases.js';

const CASES = 1000;

/** What a parser made of a stream: the requests it completed, and whether it then failed. */
interface Outcome {
  requests: string[];
  error: boolean;
}

/**
 * Where this parser is stricter than llhttp on purpose (RFC 9112): request
 * lines without a version (llhttp reads them as HTTP/0.9) or with two spaces
 * in a row, versions other than
 * 1.0 and 1.1 (505), request-targets in the wrong form for their method, and
 * an empty Transfer-Encoding (llhttp reads it as no body), and Transfer-Encoding
 * in an HTTP/1.0 request (RFC 9112 §6.1: faulty framing), a bare CR or LF
 * (llhttp skips them before a request, and ends an HTTP/0.9 line at LF), and
 * an empty chunk extension name.
 * After one of these errors, node:http may accept more than we do.
 */
const STRICTER = new Set([
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
]);

/** llhttp knows a fixed list of methods; any other token is one for RFC 9110 and for us. */
const NODE_METHODS = new Set(METHODS);

/** Whether the two outcomes agree, allowing for the known differences above. */
function agree(node: Outcome, ours: Outcome & { reason: string }): boolean {
  if (ours.error === node.error && JSON.stringify(ours.requests) === JSON.stringify(node.requests))
    return true;
  const stricter =
    ours.error &&
    (STRICTER.has(ours.reason) || ours.reason.startsWith('HTTP version not supported'));
  return stricter && ours.requests.every((r, i) => node.requests[i] === r);
}

function ours(data: Buffer): Outcome & { reason: string } {
  const out = { requests: [] as string[], error: false, reason: '' };
  let current = '';
  let length = 0;
  const parser: HttpParser = new HttpParser('request', {
    onRequestHead: (h) => {
      current = `${h.method} ${h.target}`;
      length = 0;
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
      if (!out.error) out.requests.push(`${current} ${length}`);
    },
    onError: (e) => {
      out.error = true;
      out.reason = e.message;
    },
  });
  parser.feed(data);
  if (!out.error) parser.finish();
  return out;
}

let server: Server;
let port = 0;
const logs = new Map<number, Outcome>();

function record(socket: Socket | null | undefined): Outcome {
  const key = socket?.remotePort ?? -1;
  let log = logs.get(key);
  if (log === undefined) {
    log = { requests: [], error: false };
    logs.set(key, log);
  }
  return log;
}

/** What node:http made of `data`, sent on a fresh connection then half-closed. */
function node(data: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      const key = socket.localPort ?? -1;
      socket.on('close', () => {
        const log = logs.get(key) ?? { requests: [], error: false };
        logs.delete(key);
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

/** A valid request: Content-Length or chunked body, or none. */
const request = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
    fc.stringMatching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,12}$/),
    fc.array(field, { maxLength: 4 }),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('none', 'length', 'chunked'),
  )
  .map(([method, target, fields, body, framing]) => {
    const lines = fields.map(([n, v]) => `${n}: ${v}\r\n`);
    let wire = '';
    if (framing === 'length') {
      lines.push(`Content-Length: ${body.length}\r\n`);
      wire = body;
    } else if (framing === 'chunked') {
      lines.push('Transfer-Encoding: chunked\r\n');
      wire = `${body.length > 0 ? `${body.length.toString(16)};x=y\r\n${body}\r\n` : ''}0\r\n\r\n`;
    }
    return `${method} ${target} HTTP/1.1\r\n${lines.join('')}\r\n${wire}`;
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

/** A stream of requests, possibly mutated: bytes replaced, inserted or removed. */
const stream = fc
  .tuple(
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.array(request, { minLength: 1, maxLength: 3 }).map((r) => r.join('')),
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
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...NASTY)), { maxLength: 3 }),
  )
  .map(([text, edits]) => {
    let s = text;
    for (const [at, kind, with_] of edits) {
      const i = at % (s.length + 1);
      if (kind === 0) s = s.slice(0, i) + with_ + s.slice(i + 1);
      else if (kind === 1) s = s.slice(0, i) + with_ + s.slice(i);
      else s = s.slice(0, i) + s.slice(i + 1);
    }
    return Buffer.from(s, 'latin1');
  });

describe('HttpParser against node:http (llhttp)', { timeout: 120_000 }, () => {
  before(async () => {
    server = createServer({ requireHostHeader: false, keepAliveTimeout: 1000 });
    server.on('connection', (socket) => {
      record(socket);
    });
    server.on('request', (req: IncomingMessage, res) => {
      let length = 0;
      req.on('data', (b: Buffer) => {
        length += b.length;
      });
      req.on('end', () => {
        record(req.socket).requests.push(`${req.method} ${req.url} ${length}`);
        res.end();
      });
    });
    server.on('clientError', (_error, socket) => {
      record(socket as Socket).error = true;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test(`${CASES} seeded generated and mutated requests: same requests, same verdict`, async () => {
    const inputs = fc.sample(stream, { seed: 0x7e57_0201, numRuns: CASES });
    const disagreements: string[] = [];
    const verdicts = { accepted: 0, rejected: 0, stricter: 0 };
    for (const data of inputs) {
      const expected = await node(data);
      const actual = ours(data);
      if (!actual.error && !expected.error) verdicts.accepted++;
      else if (actual.error && expected.error) verdicts.rejected++;
      else verdicts.stricter++;
      if (!agree(expected, actual)) {
        disagreements.push(
          `${JSON.stringify(data.toString('latin1'))}\n  node:  ${JSON.stringify(expected)}\n  ours:  ${JSON.stringify(actual)}`,
        );
      }
    }
    assert.deepEqual(disagreements, [], `${disagreements.length} disagreements`);
    // The seeded mix exercises both verdicts (290 accepted and 696 rejected by
    // both when written); the known differences stay few.
    assert.ok(verdicts.accepted >= 200 && verdicts.rejected >= 200, JSON.stringify(verdicts));
    assert.ok(verdicts.stricter <= 50, JSON.stringify(verdicts));
  });
});
