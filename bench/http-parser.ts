// Benchmark: requests per second through the HTTP request parser alone
// (src/web/_parser.ts) for a typical 500-byte browser request, one Buffer per
// request on one keep-alive parser, against the http-parser-js package and
// against llhttp (Node's own, through the undocumented but not deprecated
// `_http_common` module that node:http uses).
// Usage: node dist/bench/http-parser.js [torsion|http-parser-js|llhttp] [requests]
// Prints one JSON line: requests_per_s.

import { createRequire } from 'node:module';
import { HttpParser } from '../src/web/_parser.js';

/** A GET as Chrome sends it for a page of a site it has visited: 500 bytes. */
const REQUEST = Buffer.from(
  [
    'GET /articles/2026/12/event-driven-networking?page=2 HTTP/1.1',
    'Host: www.example.com',
    'Connection: keep-alive',
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
    'Accept-Encoding: gzip, deflate, br, zstd',
    'Accept-Language: en-GB,en;q=0.9',
    'Cookie: session=3f9a1c2e7b6d4a58; theme=dark',
    'Referer: https://www.example.com/',
    'Sec-Fetch-Dest: document',
    '',
    '',
  ].join('\r\n'),
  'latin1',
);

/** What each implementation keeps of a request, as a server would. */
export let last: unknown;
let seen = 0;

/** Feeds `n` requests to a fresh parser of `kind`, one Buffer each. */
function run(kind: string, n: number): void {
  if (kind === 'torsion') {
    const parser = new HttpParser('request', {
      onRequestHead: (head) => {
        last = head;
      },
      onBody: () => undefined,
      onMessageComplete: () => {
        seen++;
      },
      onError: (e) => {
        throw e;
      },
    });
    for (let i = 0; i < n; i++) parser.feed(REQUEST);
  } else if (kind === 'http-parser-js') {
    // Loaded when run, so that the build does not need the dev dependency installed.
    const JsParser = (require('http-parser-js') as { HTTPParser: JsParserConstructor }).HTTPParser;
    const parser = new JsParser(JsParser.REQUEST);
    parser[JsParser.kOnHeadersComplete] = (info: unknown) => {
      last = info;
    };
    parser[JsParser.kOnMessageComplete] = () => {
      seen++;
    };
    for (let i = 0; i < n; i++) parser.execute(REQUEST);
  } else if (kind === 'llhttp') {
    // node:http's own binding; its constructor and callback slots are what
    // _http_server.js uses (undocumented, so looked up loosely).
    const common = require('node:_http_common') as {
      HTTPParser: LlhttpConstructor;
    };
    const Llhttp = common.HTTPParser;
    const parser = new Llhttp();
    parser.initialize(Llhttp.REQUEST, {});
    parser[Llhttp.kOnHeadersComplete] = (...info: unknown[]) => {
      last = info;
      return 0;
    };
    parser[Llhttp.kOnMessageComplete] = () => {
      seen++;
    };
    for (let i = 0; i < n; i++) parser.execute(REQUEST);
  } else {
    throw new Error(`unknown parser ${kind}`);
  }
}

const require = createRequire(import.meta.url);

/** The parts of http-parser-js's parser used here. */
interface JsParserConstructor {
  new (
    kind: 'REQUEST',
  ): {
    execute(data: Buffer): number | Error;
    [slot: number]: (info: unknown) => unknown;
  };
  readonly REQUEST: 'REQUEST';
  readonly kOnHeadersComplete: number;
  readonly kOnMessageComplete: number;
}

/** The parts of node's internal HTTPParser binding used here. */
interface LlhttpConstructor {
  new (): {
    initialize(type: number, resource: object): void;
    execute(data: Buffer): number | Error;
    [slot: number]: (...args: unknown[]) => unknown;
  };
  readonly REQUEST: number;
  readonly kOnHeadersComplete: number;
  readonly kOnMessageComplete: number;
}

const kind = process.argv[2] ?? 'torsion';
const n = Number(process.argv[3] ?? 1_000_000);
run(kind, n / 10); // warm-up
seen = 0;
const start = process.hrtime.bigint();
run(kind, n);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
if (seen !== n) throw new Error(`${kind} parsed ${seen} requests of ${n}`);
console.log(
  JSON.stringify({
    parser: kind,
    bytes: REQUEST.length,
    requests: n,
    requests_per_s: Math.round(n / seconds),
  }),
);
