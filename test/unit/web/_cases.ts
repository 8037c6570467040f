// The parser's conformance cases, shared by the example tests and the split
// property tests: valid and invalid requests and responses, many ported from
// llhttp's strict-mode corpora (test/request/*.md, test/response/*.md) and from
// Twisted's twisted/web/test/test_http.py, named by what they check.

import type { Event, RunOptions } from './_parse.js';

export interface Case extends RunOptions {
  readonly name: string;
  readonly kind: 'request' | 'response';
  /** The input, latin1. */
  readonly input: string;
  readonly events: Event[];
}

const GET = (target = '/', version = 'HTTP/1.1', headers: [string, string][] = []): Event => ({
  request: ['GET', target, version],
  headers,
  framing: 'none',
});
const DONE: Event = { complete: [] };
const err = (status: number, reason: string): Event => ({ error: status, reason });

/** Requests the parser accepts. */
export const validRequests: Case[] = [
  {
    name: 'a GET with headers: names as sent, in order, duplicates kept',
    kind: 'request',
    input: 'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\naccept: text/html\r\n\r\n',
    events: [
      GET('/a?b=c', 'HTTP/1.1', [
        ['Host', 'example.com'],
        ['Accept', '*/*'],
        ['accept', 'text/html'],
      ]),
      DONE,
    ],
  },
  {
    name: 'HTTP/1.0 request without headers',
    kind: 'request',
    input: 'GET / HTTP/1.0\r\n\r\n',
    events: [GET('/', 'HTTP/1.0'), DONE],
  },
  {
    name: 'empty lines before the request line are ignored (RFC 9112 §2.2)',
    kind: 'request',
    input: '\r\n\r\nGET / HTTP/1.1\r\n\r\n',
    events: [GET(), DONE],
  },
  {
    name: 'OWS around a value is trimmed, inner whitespace kept',
    kind: 'request',
    input: 'GET / HTTP/1.1\r\nX: \t a  b \t \r\nY:\r\nZ:c\r\n\r\n',
    events: [
      GET('/', 'HTTP/1.1', [
        ['X', 'a  b'],
        ['Y', ''],
        ['Z', 'c'],
      ]),
      DONE,
    ],
  },
  {
    name: 'obs-text bytes in a value survive as latin1',
    kind: 'request',
    input: 'GET / HTTP/1.1\r\nX-Name: caf\xe9 \xff\r\n\r\n',
    events: [GET('/', 'HTTP/1.1', [['X-Name', 'caf\xe9 \xff']]), DONE],
  },
  {
    name: 'absolute-form target',
    kind: 'request',
    input: 'GET http://example.com:8080/x?y HTTP/1.1\r\n\r\n',
    events: [GET('http://example.com:8080/x?y'), DONE],
  },
  {
    name: 'asterisk-form target for OPTIONS',
    kind: 'request',
    input: 'OPTIONS * HTTP/1.1\r\n\r\n',
    events: [{ request: ['OPTIONS', '*', 'HTTP/1.1'], headers: [], framing: 'none' }, DONE],
  },
  {
    name: 'any token is a method',
    kind: 'request',
    input: "M-SEARCH!#$%&'*+.^_`|~9 / HTTP/1.1\r\n\r\n",
    events: [
      { request: ["M-SEARCH!#$%&'*+.^_`|~9", '/', 'HTTP/1.1'], headers: [], framing: 'none' },
      DONE,
    ],
  },
  {
    name: 'CONNECT with an authority-form target hands the rest back',
    kind: 'request',
    input: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01 tunnel',
    events: [
      {
        request: ['CONNECT', 'example.com:443', 'HTTP/1.1'],
        headers: [['Host', 'example.com:443']],
        framing: 'none',
      },
      DONE,
      { upgrade: '\x16\x03\x01 tunnel' },
    ],
  },
  {
    name: 'CONNECT to an IPv6 literal',
    kind: 'request',
    input: 'CONNECT [::1]:8443 HTTP/1.1\r\n\r\n',
    events: [
      { request: ['CONNECT', '[::1]:8443', 'HTTP/1.1'], headers: [], framing: 'none' },
      DONE,
      { upgrade: '' },
    ],
  },
  {
    name: 'Content-Length body',
    kind: 'request',
    input: 'POST /form HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world',
    events: [
      {
        request: ['POST', '/form', 'HTTP/1.1'],
        headers: [['Content-Length', '11']],
        framing: 'length',
      },
      { body: 'hello world' },
      DONE,
    ],
  },
  {
    name: 'Content-Length with leading zeros, surrounded by spaces',
    kind: 'request',
    input: 'POST / HTTP/1.1\r\nContent-Length:  003  \r\n\r\nabc',
    events: [
      {
        request: ['POST', '/', 'HTTP/1.1'],
        headers: [['Content-Length', '003']],
        framing: 'length',
      },
      { body: 'abc' },
      DONE,
    ],
  },
  {
    name: 'Content-Length: 0 means no body',
    kind: 'request',
    input: 'POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n',
    events: [
      { request: ['POST', '/', 'HTTP/1.1'], headers: [['Content-Length', '0']], framing: 'none' },
      DONE,
    ],
  },
  {
    name: 'chunked body, lowercase and uppercase sizes, leading zeros in the last chunk',
    kind: 'request',
    input:
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\nA\r\nabcdefghij\r\n000\r\n\r\n',
    events: [
      {
        request: ['POST', '/', 'HTTP/1.1'],
        headers: [['Transfer-Encoding', 'chunked']],
        framing: 'chunked',
      },
      { body: '0123456789abcdefghij' },
      DONE,
    ],
  },
  {
    name: 'chunk extensions, with token and quoted values (escapes included)',
    kind: 'request',
    input:
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '3;a;b=c;d="e \\"f\\" ;g"\r\nxyz\r\n0;last\r\n\r\n',
    events: [
      {
        request: ['POST', '/', 'HTTP/1.1'],
        headers: [['Transfer-Encoding', 'chunked']],
        framing: 'chunked',
      },
      { body: 'xyz' },
      DONE,
    ],
  },
  {
    name: 'trailers after the last chunk',
    kind: 'request',
    input:
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nVary: *\r\nContent-MD5: x \r\n\r\n',
    events: [
      {
        request: ['POST', '/', 'HTTP/1.1'],
        headers: [['Transfer-Encoding', 'chunked']],
        framing: 'chunked',
      },
      { body: 'hello' },
      {
        complete: [
          ['Vary', '*'],
          ['Content-MD5', 'x'],
        ],
      },
    ],
  },
  {
    name: 'codings before chunked, in one header or several, case-insensitive',
    kind: 'request',
    input:
      'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: CHUNKED\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
    events: [
      {
        request: ['POST', '/', 'HTTP/1.1'],
        headers: [
          ['Transfer-Encoding', 'gzip'],
          ['Transfer-Encoding', 'CHUNKED'],
        ],
        framing: 'chunked',
      },
      { body: 'hi' },
      DONE,
    ],
  },
  {
    name: 'pipelining: two requests in one chunk, with a CRLF between them',
    kind: 'request',
    input: 'POST /1 HTTP/1.1\r\nContent-Length: 1\r\n\r\nA\r\nGET /2 HTTP/1.1\r\n\r\n',
    events: [
      {
        request: ['POST', '/1', 'HTTP/1.1'],
        headers: [['Content-Length', '1']],
        framing: 'length',
      },
      { body: 'A' },
      DONE,
      GET('/2'),
      DONE,
    ],
  },
];

/** Requests the parser refuses, with the status a server answers. */
export const invalidRequests: Case[] = [
  ...(
    [
      ['ICE protocol', 'GET /music ICE/1.0\r\n\r\n', 400, 'malformed HTTP version'],
      ['RTSP protocol', 'PUT /music RTSP/1.0\r\n\r\n', 400, 'malformed HTTP version'],
      ['lowercase protocol name', 'GET / http/1.1\r\n\r\n', 400, 'malformed HTTP version'],
      [
        'HTTP/2.0 request line',
        'GET / HTTP/2.0\r\n\r\n',
        505,
        'HTTP version not supported: HTTP/2.0',
      ],
      ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 505, 'HTTP version not supported: HTTP/1.2'],
      ['HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n', 505, 'HTTP version not supported: HTTP/0.9'],
      ['two-digit minor version', 'GET / HTTP/1.10\r\n\r\n', 400, 'malformed HTTP version'],
      ['HTTP/0.9 simple request (no version)', 'GET /\r\n\r\n', 400, 'malformed request line'],
      ['double space in the request line', 'GET  / HTTP/1.1\r\n\r\n', 400, 'empty request-target'],
      [
        'space at the start of the request line',
        ' GET / HTTP/1.1\r\n\r\n',
        400,
        'malformed request line',
      ],
      ['tab as a separator', 'GET\t/ HTTP/1.1\r\n\r\n', 400, 'malformed request line'],
      ['method is not a token', 'G(T / HTTP/1.1\r\n\r\n', 400, 'method is not a token'],
      ['DEL in the target', 'GET /a\x7fb HTTP/1.1\r\n\r\n', 400, 'invalid byte in request-target'],
      [
        'non-ASCII in the target',
        'GET /caf\xe9 HTTP/1.1\r\n\r\n',
        400,
        'invalid byte in request-target',
      ],
      [
        'target in no form',
        'GET example.com HTTP/1.1\r\n\r\n',
        400,
        'request-target is neither origin-form nor absolute-form',
      ],
      [
        'absolute-form without "//" (llhttp refuses it too)',
        'GET exa:ple.com HTTP/1.1\r\n\r\n',
        400,
        'request-target is neither origin-form nor absolute-form',
      ],
      [
        'absolute-form with a quote in the authority (llhttp refuses it; found by npm run fuzz)',
        'GET http://a"b.com/ HTTP/1.1\r\n\r\n',
        400,
        'request-target is neither origin-form nor absolute-form',
      ],
      [
        'absolute-form with a digit in the scheme (llhttp refuses it; found by npm run fuzz)',
        'GET ht0tp://example.com/ HTTP/1.1\r\n\r\n',
        400,
        'request-target is neither origin-form nor absolute-form',
      ],
      [
        'absolute-form with a fragment after the authority (llhttp refuses it)',
        'GET http://a.com#x HTTP/1.1\r\n\r\n',
        400,
        'request-target is neither origin-form nor absolute-form',
      ],
      [
        'asterisk-form for GET',
        'GET * HTTP/1.1\r\n\r\n',
        400,
        'asterisk-form target is for OPTIONS only',
      ],
      [
        'origin-form for CONNECT',
        'CONNECT /x HTTP/1.1\r\n\r\n',
        400,
        'CONNECT needs an authority-form target',
      ],
      [
        'CONNECT without a port',
        'CONNECT example.com HTTP/1.1\r\n\r\n',
        400,
        'CONNECT needs an authority-form target',
      ],
      [
        'headers separated by CR',
        'GET / HTTP/1.1\r\nFoo: 1\rBar: 2\r\n\r\n',
        400,
        'invalid character in header value',
      ],
      [
        'headers separated by LF',
        'GET / HTTP/1.1\r\nx:x\nTransfer-Encoding: chunked\r\n\r\n',
        400,
        'bare LF: lines must end with CRLF',
      ],
      ['only LFs', 'GET / HTTP/1.1\nHost: a\n\n', 400, 'bare LF: lines must end with CRLF'],
      [
        'bare LF ends the head',
        'GET / HTTP/1.1\r\nHost: a\r\n\n',
        400,
        'bare LF: lines must end with CRLF',
      ],
      [
        'bare CR in the request line',
        'GET /\r HTTP/1.1\r\n\r\n',
        400,
        'bare CR: lines must end with CRLF',
      ],
      [
        'bare CR ends the request line',
        'GET / HTTP/1.1\rHost: a\r\n\r\n',
        400,
        'bare CR: lines must end with CRLF',
      ],
      [
        'spaces before the first header (obs-fold)',
        'GET / HTTP/1.1\r\n Host: a\r\n\r\n',
        400,
        'obsolete line folding',
      ],
      [
        'obs-fold continuation line',
        'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n',
        400,
        'obsolete line folding',
      ],
      [
        'tab-started continuation line',
        'GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n',
        400,
        'obsolete line folding',
      ],
      [
        'whitespace between name and colon',
        'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
        400,
        'invalid character in header name',
      ],
      [
        'tab between name and colon',
        'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n',
        400,
        'invalid character in header name',
      ],
      [
        'header line without a colon',
        'GET / HTTP/1.1\r\nHost\r\n\r\n',
        400,
        'invalid character in header name',
      ],
      ['empty header name', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 400, 'empty header name'],
      [
        'invalid header token (@)',
        'GET / HTTP/1.1\r\nFo@: a\r\n\r\n',
        400,
        'invalid character in header name',
      ],
      [
        'invalid header token (\\x01)',
        'GET / HTTP/1.1\r\nFo\x01: a\r\n\r\n',
        400,
        'invalid character in header name',
      ],
      [
        'non-ASCII header name',
        'GET / HTTP/1.1\r\nF\xf6o: a\r\n\r\n',
        400,
        'invalid character in header name',
      ],
      [
        'NUL in a value',
        'GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n',
        400,
        'invalid character in header value',
      ],
      [
        'control character in a value',
        'GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n',
        400,
        'invalid character in header value',
      ],
      [
        'DEL in a value',
        'GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n',
        400,
        'invalid character in header value',
      ],
      [
        'spaces inside Content-Length',
        'POST / HTTP/1.1\r\nContent-Length: 4 2\r\n\r\n',
        400,
        'invalid Content-Length',
      ],
      [
        'empty Content-Length',
        'POST / HTTP/1.1\r\nContent-Length:\r\n\r\n',
        400,
        'invalid Content-Length',
      ],
      [
        'signed Content-Length (+)',
        'POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc',
        400,
        'invalid Content-Length',
      ],
      [
        'Content-Length with an underscore (Python int() accepts 1_0; Twisted GHSA-c2jg-hw38-jrqq)',
        'POST / HTTP/1.1\r\nContent-Length: 1_0\r\n\r\n',
        400,
        'invalid Content-Length',
      ],
      [
        'tabs around Content-Length (llhttp refuses them)',
        'POST / HTTP/1.1\r\nContent-Length:\t003\t  \r\n\r\nabc',
        400,
        'invalid Content-Length',
      ],
      [
        'negative Content-Length',
        'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
        400,
        'invalid Content-Length',
      ],
      [
        'hexadecimal Content-Length',
        'POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n',
        400,
        'invalid Content-Length',
      ],
      [
        'Content-Length list with an empty element',
        'POST / HTTP/1.1\r\nContent-Length: 3,\r\n\r\n',
        400,
        'more than one Content-Length',
      ],
      [
        'identical Content-Length headers (llhttp and Twisted refuse them too)',
        'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
        400,
        'more than one Content-Length',
      ],
      [
        'identical values in one Content-Length',
        'POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc',
        400,
        'more than one Content-Length',
      ],
      [
        'differing Content-Length headers',
        'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
        400,
        'more than one Content-Length',
      ],
      [
        'differing values in one Content-Length',
        'POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabcd',
        400,
        'more than one Content-Length',
      ],
      [
        'Content-Length past 2^53',
        'POST / HTTP/1.1\r\nContent-Length: 9007199254740993\r\n\r\n',
        400,
        'Content-Length too large',
      ],
      [
        'Content-Length with 40 digits',
        `POST / HTTP/1.1\r\nContent-Length: ${'9'.repeat(40)}\r\n\r\n`,
        400,
        'Content-Length too large',
      ],
      [
        'Content-Length and Transfer-Encoding',
        'POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
        'both Transfer-Encoding and Content-Length',
      ],
      [
        'Transfer-Encoding and Content-Length (other order)',
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
        400,
        'both Transfer-Encoding and Content-Length',
      ],
      [
        'chunked not last: chunked, identity',
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
        400,
        'chunked is not the final transfer coding',
      ],
      [
        'chunked not last, across headers',
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n',
        400,
        'chunked is not the final transfer coding',
      ],
      [
        'an empty element after chunked (llhttp refuses it; found by npm run fuzz)',
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n1\r\na\r\n0\r\n\r\n',
        400,
        'chunked is not the final transfer coding',
      ],
      [
        'a tab after Transfer-Encoding: chunked (llhttp refuses it; found by npm run fuzz)',
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\t\r\n\r\n1\r\na\r\n0\r\n\r\n',
        400,
        'tab after a Transfer-Encoding',
      ],
      [
        'chunked applied twice',
        'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
        400,
        'chunked is not the final transfer coding',
      ],
      [
        'a known coding without chunked',
        'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n',
        400,
        'chunked is not the final transfer coding',
      ],
      [
        'empty Transfer-Encoding',
        'POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n',
        400,
        'empty Transfer-Encoding',
      ],
      [
        'Transfer-Encoding in an HTTP/1.0 request',
        'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
        'Transfer-Encoding in an HTTP/1.0 request',
      ],
      [
        'unknown transfer coding',
        'POST / HTTP/1.1\r\nTransfer-Encoding: foo\r\n\r\n',
        501,
        'unknown transfer coding: foo',
      ],
      [
        'unknown transfer coding before chunked',
        'POST / HTTP/1.1\r\nTransfer-Encoding: identity, chunked\r\n\r\n',
        501,
        'unknown transfer coding: identity',
      ],
    ] as const
  ).map(([name, input, status, reason]) => ({
    name,
    kind: 'request' as const,
    input,
    events: eventsUpToError(input, status, reason),
  })),
  ...(
    [
      [
        'chunk size with an underscore (Twisted test_malformedChunkSizeHex)',
        '1_0\r\n',
        'invalid character after chunk size',
      ],
      ['negative chunk size', '-1\r\n', 'invalid chunk size'],
      ['signed chunk size', '+5\r\nhello\r\n0\r\n\r\n', 'invalid chunk size'],
      ['space before the chunk size', ' 5\r\nhello\r\n0\r\n\r\n', 'invalid chunk size'],
      [
        'space after the chunk size',
        '5 \r\nhello\r\n0\r\n\r\n',
        'invalid character after chunk size',
      ],
      ['0x chunk size', '0x5\r\nhello\r\n0\r\n\r\n', 'invalid character after chunk size'],
      ['empty chunk size', '\r\nhello\r\n0\r\n\r\n', 'invalid chunk size'],
      ['overflowing chunk size', 'fffffffffffffffff\r\n', 'chunk size too large'],
      ['chunk size just past 2^53', '20000000000000\r\n', 'chunk size too large'],
      [
        'no semicolon before a chunk extension',
        '5 ext\r\nhello\r\n0\r\n\r\n',
        'invalid character after chunk size',
      ],
      ['no extension after a semicolon', '5;\r\nhello\r\n0\r\n\r\n', 'empty chunk extension name'],
      [
        'whitespace around a chunk extension',
        '5 ; a=b\r\nhello\r\n0\r\n\r\n',
        'invalid character after chunk size',
      ],
      [
        'unbalanced chunk extension quoting',
        '5;a="b\r\nhello\r\n0\r\n\r\n',
        'unterminated quoted string in chunk extension',
      ],
      [
        'control character in a chunk extension',
        '5;a="\x01"\r\nhello\r\n0\r\n\r\n',
        'invalid character in chunk extension',
      ],
      [
        'chunk size line ended by a bare LF',
        '5\nhello\r\n0\r\n\r\n',
        'bare LF: lines must end with CRLF',
      ],
      [
        'chunk size line ended by a bare CR',
        '5\rhello\r\n0\r\n\r\n',
        'invalid character after chunk size',
      ],
      [
        'chunk data not followed by CRLF',
        '5\r\nhelloXX0\r\n\r\n',
        'chunk data not followed by CRLF',
      ],
      [
        'chunk data followed by a bare LF',
        '5\r\nhello\n0\r\n\r\n',
        'chunk data not followed by CRLF',
      ],
      [
        'chunk data longer than its size',
        '3\r\nhello\r\n0\r\n\r\n',
        'chunk data not followed by CRLF',
      ],
      ['obs-fold in the trailers', '0\r\nA: b\r\n c\r\n\r\n', 'obsolete line folding'],
      ['NUL in a trailer', '0\r\nA: b\x00\r\n\r\n', 'invalid character in header value'],
      ['bare LF ends the trailers', '0\r\nA: b\r\n\n', 'bare LF: lines must end with CRLF'],
    ] as const
  ).map(([name, body, reason]) => {
    const input = `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
    return { name, kind: 'request' as const, input, events: eventsUpToError(input, 400, reason) };
  }),
];

/**
 * The events before an error for the invalid cases: the head of a chunked
 * request when the error is in its body (with what body came before), else nothing.
 */
function eventsUpToError(input: string, status: number, reason: string): Event[] {
  const te = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n';
  if (!input.startsWith(te) || input.length === te.length) return [err(status, reason)];
  const head: Event = {
    request: ['POST', '/', 'HTTP/1.1'],
    headers: [['Transfer-Encoding', 'chunked']],
    framing: 'chunked',
  };
  const body = input.slice(te.length);
  const data = /^[0-9a-fA-F]+\r\n(.*)/s.exec(body)?.[1];
  const size = Number.parseInt(body, 16);
  if (data !== undefined && size > 0 && data.length > 0)
    return [head, { body: data.slice(0, size) }, err(status, reason)];
  return [head, err(status, reason)];
}

const RESP = (
  status: number,
  reason: string,
  headers: [string, string][],
  framing: string,
  version = 'HTTP/1.1',
): Event => ({
  response: [version, status, reason],
  headers,
  framing,
});

/** Responses the parser accepts. */
export const validResponses: Case[] = [
  {
    name: 'a 200 with a Content-Length body, then a second response',
    kind: 'response',
    input:
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n',
    events: [
      RESP(200, 'OK', [['Content-Length', '2']], 'length'),
      { body: 'hi' },
      DONE,
      RESP(404, 'Not Found', [['Content-Length', '0']], 'none'),
      DONE,
    ],
  },
  {
    name: 'a body delimited by the close ends at finish()',
    kind: 'response',
    input: 'HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it\r\n\r\nHTTP/1.1 200 OK',
    finish: true,
    events: [
      RESP(200, 'OK', [['Server', 'x']], 'close', 'HTTP/1.0'),
      { body: 'all of it\r\n\r\nHTTP/1.1 200 OK' },
      DONE,
    ],
  },
  {
    name: 'a reason phrase with spaces, an empty one and a missing one',
    kind: 'response',
    input:
      'HTTP/1.1 200  OK then\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 \r\nContent-Length: 0\r\n\r\nHTTP/1.1 202\r\nContent-Length: 0\r\n\r\n',
    events: [
      RESP(200, ' OK then', [['Content-Length', '0']], 'none'),
      DONE,
      RESP(201, '', [['Content-Length', '0']], 'none'),
      DONE,
      RESP(202, '', [['Content-Length', '0']], 'none'),
      DONE,
    ],
  },
  {
    name: 'no body for a HEAD request, whatever Content-Length says',
    kind: 'response',
    methods: ['HEAD', 'GET'],
    input:
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
    events: [
      RESP(200, 'OK', [['Content-Length', '5']], 'none'),
      DONE,
      RESP(200, 'OK', [['Content-Length', '5']], 'length'),
      { body: 'hello' },
      DONE,
    ],
  },
  {
    name: 'no body for 204 and 304',
    kind: 'response',
    input:
      'HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nHTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n',
    events: [
      RESP(204, 'No Content', [['Content-Length', '3']], 'none'),
      DONE,
      RESP(304, 'Not Modified', [['Transfer-Encoding', 'chunked']], 'none'),
      DONE,
    ],
  },
  {
    name: '1xx responses come before the real one, which answers the same request',
    kind: 'response',
    methods: ['HEAD'],
    input:
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n',
    events: [
      RESP(100, 'Continue', [], 'none'),
      DONE,
      RESP(103, 'Early Hints', [['Link', '</a>']], 'none'),
      DONE,
      RESP(200, 'OK', [['Content-Length', '9']], 'none'),
      DONE,
    ],
  },
  {
    name: '101 Switching Protocols hands the rest back',
    kind: 'response',
    input:
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello',
    events: [
      RESP(
        101,
        'Switching Protocols',
        [
          ['Upgrade', 'websocket'],
          ['Connection', 'Upgrade'],
        ],
        'none',
      ),
      DONE,
      { upgrade: '\x81\x05hello' },
    ],
  },
  {
    name: 'a 2xx answer to CONNECT makes a tunnel',
    kind: 'response',
    methods: ['CONNECT'],
    input: 'HTTP/1.1 200 Connection Established\r\n\r\nSSH-2.0',
    events: [RESP(200, 'Connection Established', [], 'none'), DONE, { upgrade: 'SSH-2.0' }],
  },
  {
    name: 'a refused CONNECT has a body and no tunnel',
    kind: 'response',
    methods: ['CONNECT'],
    input: 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno',
    events: [
      RESP(407, 'Proxy Authentication Required', [['Content-Length', '2']], 'length'),
      { body: 'no' },
      DONE,
    ],
  },
  {
    name: 'chunked response with trailers',
    kind: 'response',
    input:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\nExpires: never\r\n\r\n',
    events: [
      RESP(200, 'OK', [['Transfer-Encoding', 'chunked']], 'chunked'),
      { body: 'Wikipedia' },
      { complete: [['Expires', 'never']] },
    ],
  },
  {
    name: 'a response coding without chunked is read until the close',
    kind: 'response',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b',
    finish: true,
    events: [RESP(200, 'OK', [['Transfer-Encoding', 'gzip']], 'close'), { body: '\x1f\x8b' }, DONE],
  },
];

/** Responses the parser refuses. */
export const invalidResponses: Case[] = (
  [
    ['incomplete protocol', 'HTTP/1\r\n\r\n', 400, 'malformed status line'],
    ['extra digit in the major version', 'HTTP/01.1 200 OK\r\n\r\n', 400, 'malformed status line'],
    ['extra digit in the minor version', 'HTTP/1.01 200 OK\r\n\r\n', 400, 'malformed status line'],
    ['tab after the version', 'HTTP/1.1\t200 OK\r\n\r\n', 400, 'malformed status line'],
    [
      'extra space between version and status',
      'HTTP/1.1  200 OK\r\n\r\n',
      400,
      'malformed status line',
    ],
    ['one-digit status code', 'HTTP/1.1 2 OK\r\n\r\n', 400, 'malformed status line'],
    ['four-digit status code', 'HTTP/1.1 2000 OK\r\n\r\n', 400, 'malformed status line'],
    ['status code below 100', 'HTTP/1.1 099 Low\r\n\r\n', 400, 'status code below 100'],
    ['unsupported version', 'HTTP/2.0 200 OK\r\n\r\n', 505, 'HTTP version not supported: HTTP/2.0'],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', 400, 'malformed status line'],
    [
      'bare CR after the status line',
      'HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n',
      400,
      'bare CR: lines must end with CRLF',
    ],
    [
      'headers separated by CR',
      'HTTP/1.1 200 OK\r\nFoo: 1\rBar: 2\r\n\r\n',
      400,
      'invalid character in header value',
    ],
    [
      'only LFs',
      'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
      400,
      'bare LF: lines must end with CRLF',
    ],
    [
      'control character in the reason',
      'HTTP/1.1 200 O\x01K\r\n\r\n',
      400,
      'invalid byte in reason phrase',
    ],
    [
      'Content-Length and Transfer-Encoding',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
      'both Transfer-Encoding and Content-Length',
    ],
    [
      'more than one Content-Length',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      400,
      'more than one Content-Length',
    ],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', 400, 'obsolete line folding'],
  ] as const
).map(([name, input, status, reason]) => ({
  name,
  kind: 'response' as const,
  input,
  events: [err(status, reason)],
}));
