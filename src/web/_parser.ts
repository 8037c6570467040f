// An incremental HTTP/1.1 message parser (RFC 9110, RFC 9112) for both
// directions: fed Buffers, it reports heads, body chunks, trailers and errors
// to a handler, strict where llhttp's strict mode is, in time linear in the input.
// Tests: test/unit/web/parser.test.ts, test/unit/web/parser-properties.test.ts,
// test/integration/web/parser-differential.test.ts,
// test/unit/web/twisted-http.test.ts

import { isToken, isValueByte, TOKEN } from './_tokens.js';

/** A header block as received: `[name, value]` pairs in order, names as sent. */
export type RawHeaderList = [name: string, value: string][];

/** How the body of a message is delimited (RFC 9112 §6.3). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** The start of a request: its request line and header block. */
export interface RequestHead {
  readonly method: string;
  /** The request-target exactly as received. */
  readonly target: string;
  readonly version: 'HTTP/1.0' | 'HTTP/1.1';
  readonly headers: RawHeaderList;
  readonly framing: BodyFraming;
  /** The Content-Length value, when the head had one. */
  readonly contentLength: number | undefined;
}

/** The start of a response: its status line and header block. */
export interface ResponseHead {
  readonly version: 'HTTP/1.0' | 'HTTP/1.1';
  readonly status: number;
  readonly reason: string;
  readonly headers: RawHeaderList;
  readonly framing: BodyFraming;
  /** The Content-Length value, when the head had one. */
  readonly contentLength: number | undefined;
}

/** A malformed or over-limit message: `status` is what a server answers. */
export class HttpParseError extends Error {
  /** The error's class name. */
  override name = 'HttpParseError';
  /**
   * @param status - The status a server answers with.
   * @param reason - What is wrong, in a few words.
   */
  constructor(
    /** The status a server answers with: 400, 413, 414, 431, 501 or 505. */
    readonly status: 400 | 413 | 414 | 431 | 501 | 505,
    reason: string,
  ) {
    super(reason);
  }
}

/** What the parser calls. Each callback may call `pause()`. */
export interface HttpParserHandler {
  /** A request head (request parsers). */
  onRequestHead?(head: RequestHead): void;
  /** A response head (response parsers); a 1xx is followed by the real response. */
  onResponseHead?(head: ResponseHead): void;
  /**
   * Part of the body (after chunked decoding): a view of the chunk fed where
   * possible, a copy where the bytes came from the parser's own store; the
   * parser never writes into either.
   */
  onBody(chunk: Buffer): void;
  /** The message ended; `trailers` is empty unless a chunked body carried some. */
  onMessageComplete(trailers: RawHeaderList): void;
  /**
   * The connection stopped carrying HTTP (a CONNECT request or a 2xx answer to
   * one, a 101 response): `rest` is what followed the message. The parser feeds nothing more.
   */
  onUpgrade?(rest: Buffer): void;
  /** The input is not HTTP this parser accepts; the parser is dead afterwards. */
  onError(error: HttpParseError): void;
}

/** Limits, each reported with the status the RFCs assign. */
export interface HttpParserOptions {
  /** Longest request or status line, CRLF excluded (414 for a request). Default 8192. */
  readonly maxStartLineLength?: number;
  /** Most header fields in a head, and most trailer fields (431). Default 500. */
  readonly maxHeaderCount?: number;
  /** Most bytes in a head, start line and CRLFs included (431). Default 16384. */
  readonly maxHeaderBytes?: number;
  /** Most bytes in a message body (413); `setBodyLimit` changes it per message. Default: no limit. */
  readonly maxBodySize?: number;
  /** Longest chunk-size line, extensions included (400). Default 1024. */
  readonly maxChunkLineLength?: number;
  /** Most bytes in a trailer section (431). Default 16384. */
  readonly maxTrailerBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const MAX_CHUNK_PREFIX = Math.floor(Number.MAX_SAFE_INTEGER / 16); // one more digit would overflow

const START = 0;
const HEADERS = 1;
const BODY_LENGTH = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_CRLF = 5;
const TRAILERS = 6;
const BODY_CLOSE = 7;
const UPGRADED = 8;
const DEAD = 9;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

const KNOWN_CODINGS = new Set(['chunked', 'gzip', 'x-gzip', 'deflate', 'compress', 'x-compress']);
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+):[0-9]+$/;
// absolute-form as proxies receive it (and llhttp accepts it): a scheme of
// letters (llhttp's rule; RFC 3986 also allows digits, "+", "-", "."), "://",
// then an authority of RFC 3986's characters (llhttp refuses others there), up
// to the path, the query or the end.
const ABSOLUTE = /^[A-Za-z]+:\/\/[A-Za-z0-9._~!$&'()*+,;=:@%[\]-]*(?:[/?]|$)/;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/s;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const TOKEN_STRING = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A character no field value or reason phrase may hold: not HTAB, SP, VCHAR or obs-text (a CTL, or DEL). */
const NOT_VALUE = /[^\t -~\x80-\xff]/;

/** `data[start, end)` decoded as latin1, without `toString`'s argument checks (Node's own fast path). */
const latin1: (data: Buffer, start: number, end: number) => string = (data, start, end) =>
  (data as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);

/**
 * An HTTP/1.1 push parser for one connection. `feed` each chunk read, `finish`
 * at EOF. After each message it goes on with the next (pipelining) unless
 * paused. Internal: the channel and the client build on it.
 */
export class HttpParser {
  private state: number = START;
  private paused = false;
  private running = false;
  // Unconsumed bytes (always the start of a line, or bytes fed while paused).
  private store: Buffer = Buffer.alloc(0);
  private storeStart = 0;
  private storeEnd = 0;
  // How far the line at the start of the unconsumed bytes is known to hold no LF.
  private scanned = 0;

  private readonly maxStartLine: number;
  private readonly maxHeaderCount: number;
  private readonly maxHeaderBytes: number;
  private readonly defaultBodyLimit: number;
  private readonly maxChunkLine: number;
  private readonly maxTrailerBytes: number;

  // The message being parsed.
  private method = '';
  private target = '';
  private version: 'HTTP/1.0' | 'HTTP/1.1' = 'HTTP/1.1';
  private status = 0;
  private reason = '';
  private headers: RawHeaderList = [];
  private headBytes = 0;
  private bodyLimit: number;
  private bodyReceived = 0;
  private remaining = 0;
  private upgradeAfter = false;
  private eof = false;
  private readonly methods: string[] = [];

  constructor(
    readonly kind: 'request' | 'response',
    private readonly handler: HttpParserHandler,
    options: HttpParserOptions = {},
  ) {
    this.maxStartLine = options.maxStartLineLength ?? 8192;
    this.maxHeaderCount = options.maxHeaderCount ?? 500;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16384;
    this.defaultBodyLimit = options.maxBodySize ?? Number.POSITIVE_INFINITY;
    this.maxChunkLine = options.maxChunkLineLength ?? 1024;
    this.maxTrailerBytes = options.maxTrailerBytes ?? 16384;
    this.bodyLimit = this.defaultBodyLimit;
  }

  /** Whether the parser failed or handed the connection over; it then ignores input. */
  get done(): boolean {
    return this.state === DEAD || this.state === UPGRADED;
  }

  /** Whether the connection stopped carrying HTTP (see `onUpgrade`). */
  get upgraded(): boolean {
    return this.state === UPGRADED;
  }

  /** Whether the parser is between messages with nothing unparsed. */
  get idle(): boolean {
    return this.state === START && this.storeEnd === this.storeStart;
  }

  /** Response parsers: the method of the next request sent (HEAD and CONNECT change the framing). */
  expectResponse(method: string): void {
    this.methods.push(method);
  }

  /** Sets the body limit of the current message (call from the head callback); 413 past it. */
  setBodyLimit(bytes: number): void {
    this.bodyLimit = bytes;
  }

  /**
   * Stops parsing after the current callback; the unparsed bytes are kept. (A
   * message without a body still completes right after its head callback.)
   */
  pause(): void {
    this.paused = true;
  }

  /** Parses what was kept since `pause()`, then acts on a `finish()` that came meanwhile. */
  resume(): void {
    this.paused = false;
    if (this.running) return;
    if (this.storeEnd > this.storeStart) this.runStore();
    if (this.eof && !this.paused) this.finish();
  }

  /**
   * Bytes the parser examined or copied so far: its work, which stays linear in
   * the input however the input is split (a test checks it).
   */
  work = 0;

  /**
   * Stops parsing for good and returns the bytes received but not parsed
   * (a copy): for a connection another protocol takes over.
   */
  takeUnparsed(): Buffer {
    const rest = Buffer.from(this.store.subarray(this.storeStart, this.storeEnd));
    this.storeStart = this.storeEnd = 0;
    this.state = DEAD;
    this.paused = true;
    return rest;
  }

  /** Parses `chunk` (kept, or copied where it must outlive the call); not from a callback. */
  feed(chunk: Buffer): void {
    if (this.running) throw new Error('HttpParser.feed() called from a handler callback');
    if (this.state === UPGRADED)
      throw new Error('HttpParser.feed() after an upgrade: the bytes are not HTTP');
    if (this.state === DEAD || chunk.length === 0) return;
    if (this.storeEnd > this.storeStart || this.paused) {
      this.append(chunk);
      if (!this.paused && !this.running) this.runStore();
      return;
    }
    const used = this.run(chunk, false);
    if (used < chunk.length && !this.done) this.append(chunk.subarray(used));
  }

  /** The peer closed: ends a close-delimited body, or reports a truncated message. */
  finish(): void {
    if (this.done) return;
    if (this.paused && this.storeEnd > this.storeStart) {
      this.eof = true; // acted on when resume() has parsed what is kept
      return;
    }
    if (this.state === BODY_CLOSE && this.storeEnd === this.storeStart) {
      this.complete([]);
      this.state = DEAD;
    } else if (this.state === START && this.storeEnd === this.storeStart) {
      this.state = DEAD;
    } else {
      this.fail(400, 'connection closed before the message ended');
    }
  }

  private runStore(): void {
    const data = this.store.subarray(this.storeStart, this.storeEnd);
    const used = this.run(data, true);
    this.storeStart += used;
    if (this.storeStart === this.storeEnd || this.done) this.storeStart = this.storeEnd = 0;
  }

  private append(chunk: Buffer): void {
    const live = this.storeEnd - this.storeStart;
    if (this.storeEnd + chunk.length > this.store.length) {
      if (this.storeStart >= this.store.length / 2 && live + chunk.length <= this.store.length) {
        this.store.copyWithin(0, this.storeStart, this.storeEnd);
        this.work += live;
      } else {
        const grown = Buffer.allocUnsafe(Math.max(live + chunk.length, this.store.length * 2, 256));
        this.work += live;
        this.store.copy(grown, 0, this.storeStart, this.storeEnd);
        this.store = grown;
      }
      this.storeStart = 0;
      this.storeEnd = live;
    }
    chunk.copy(this.store, this.storeEnd);
    this.storeEnd += chunk.length;
    this.work += chunk.length;
  }

  /** Parses `data` from its start; returns how many bytes it consumed. */
  private run(data: Buffer, copy: boolean): number {
    this.running = true;
    let pos = 0;
    try {
      while (pos < data.length && !this.paused) {
        const state = this.state;
        if (state === BODY_LENGTH || state === CHUNK_DATA || state === BODY_CLOSE) {
          const n =
            state === BODY_CLOSE ? data.length - pos : Math.min(this.remaining, data.length - pos);
          if (state === BODY_CLOSE && !this.countBody(n)) return pos;
          const view = data.subarray(pos, pos + n);
          pos += n;
          this.remaining -= n;
          this.handler.onBody(copy ? Buffer.from(view) : view);
          if (this.remaining === 0 && state === BODY_LENGTH) this.complete([]);
          else if (this.remaining === 0 && state === CHUNK_DATA) this.state = CHUNK_CRLF;
          continue;
        }
        if (state === CHUNK_CRLF) {
          // `remaining` is 0 before the CR, -1 between the CR and the LF.
          if (data[pos] !== (this.remaining === 0 ? CR : LF)) {
            this.fail(400, 'chunk data not followed by CRLF');
            return pos;
          }
          pos++;
          if (this.remaining === 0) this.remaining = -1;
          else {
            this.remaining = 0;
            this.state = CHUNK_SIZE;
          }
          continue;
        }
        if (state !== START && state !== HEADERS && state !== CHUNK_SIZE && state !== TRAILERS)
          return pos;
        const from = pos + this.scanned;
        const lf = data.indexOf(LF, from);
        this.work += (lf < 0 ? data.length : lf + 1) - from;
        if (lf < 0) {
          this.scanned = data.length - pos;
          this.checkPartialLine(this.scanned);
          return pos;
        }
        this.scanned = 0;
        if (lf === pos || data[lf - 1] !== CR) {
          this.fail(400, 'bare LF: lines must end with CRLF');
          return pos;
        }
        const start = pos;
        pos = lf + 1;
        this.work += lf - start;
        this.line(data, start, lf - 1);
        if (this.state === UPGRADED) {
          const rest = data.subarray(pos);
          this.handler.onUpgrade?.(copy ? Buffer.from(rest) : rest);
          return data.length;
        }
      }
      return pos;
    } finally {
      this.running = false;
    }
  }

  /** The limit checks on a line whose end has not arrived yet. */
  private checkPartialLine(length: number): void {
    if (this.state === START) {
      if (length > this.maxStartLine + 1)
        this.kind === 'request'
          ? this.fail(414, 'request line too long')
          : this.fail(400, 'status line too long');
    } else if (this.state === HEADERS) {
      if (this.headBytes + length > this.maxHeaderBytes) this.fail(431, 'header section too large');
    } else if (this.state === TRAILERS) {
      if (this.headBytes + length > this.maxTrailerBytes)
        this.fail(431, 'trailer section too large');
    } else if (length > this.maxChunkLine + 1) {
      this.fail(400, 'chunk-size line too long');
    }
  }

  /** One CRLF-terminated line, `[start, end)` without its CRLF; false when parsing must stop. */
  private line(data: Buffer, start: number, end: number): boolean {
    switch (this.state) {
      case START:
        if (start === end) return true; // RFC 9112 §2.2: empty lines before a message are ignored.
        if (end - start > this.maxStartLine) {
          if (this.kind === 'request') return this.fail(414, 'request line too long');
          return this.fail(400, 'status line too long');
        }
        this.headBytes = end - start + 2;
        if (this.headBytes > this.maxHeaderBytes) return this.fail(431, 'header section too large');
        if (data.indexOf(CR, start) < end)
          return this.fail(400, 'bare CR: lines must end with CRLF');
        return this.kind === 'request'
          ? this.requestLine(data, start, end)
          : this.statusLine(data, start, end);
      case HEADERS:
        this.headBytes += end - start + 2;
        if (this.headBytes > this.maxHeaderBytes) return this.fail(431, 'header section too large');
        if (start === end) return this.headersDone();
        if (this.headers.length >= this.maxHeaderCount)
          return this.fail(431, 'too many header fields');
        return this.field(data, start, end, this.headers);
      case TRAILERS:
        this.headBytes += end - start + 2;
        if (this.headBytes > this.maxTrailerBytes)
          return this.fail(431, 'trailer section too large');
        if (start === end) {
          const trailers = this.headers;
          this.complete(trailers);
          return true;
        }
        if (this.headers.length >= this.maxHeaderCount)
          return this.fail(431, 'too many trailer fields');
        return this.field(data, start, end, this.headers);
      default:
        return this.chunkSize(data, start, end);
    }
  }

  private requestLine(data: Buffer, start: number, end: number): boolean {
    const sp1 = data.indexOf(0x20, start);
    const sp2 = sp1 < 0 || sp1 >= end ? -1 : data.indexOf(0x20, sp1 + 1);
    if (sp1 <= start || sp2 < 0 || sp2 >= end) return this.fail(400, 'malformed request line');
    this.work += sp2 - start;
    if (!isToken(data, start, sp1)) return this.fail(400, 'method is not a token');
    if (sp2 === sp1 + 1) return this.fail(400, 'empty request-target');
    for (let i = sp1 + 1; i < sp2; i++) {
      const b = data[i] as number;
      if (b <= 0x20 || b >= 0x7f) return this.fail(400, 'invalid byte in request-target');
    }
    const version = latin1(data, sp2 + 1, end);
    if (!this.setVersion(version)) return false;
    const method = latin1(data, start, sp1);
    const target = latin1(data, sp1 + 1, sp2);
    if (method === 'CONNECT') {
      if (!AUTHORITY.test(target)) return this.fail(400, 'CONNECT needs an authority-form target');
    } else if (target === '*') {
      if (method !== 'OPTIONS') return this.fail(400, 'asterisk-form target is for OPTIONS only');
    } else if (target.charCodeAt(0) !== 0x2f && !ABSOLUTE.test(target)) {
      return this.fail(400, 'request-target is neither origin-form nor absolute-form');
    }
    this.method = method;
    this.target = target;
    this.beginHead();
    return true;
  }

  private statusLine(data: Buffer, start: number, end: number): boolean {
    const m = STATUS_LINE.exec(latin1(data, start, end));
    if (m === null) return this.fail(400, 'malformed status line');
    if (!this.setVersion(`HTTP/${m[1]}.${m[2]}`)) return false;
    const reason = m[4] ?? '';
    for (let i = 0; i < reason.length; i++) {
      if (!isValueByte(reason.charCodeAt(i)))
        return this.fail(400, 'invalid byte in reason phrase');
    }
    this.status = Number(m[3]);
    if (this.status < 100) return this.fail(400, 'status code below 100');
    this.reason = reason;
    this.beginHead();
    return true;
  }

  private setVersion(version: string): boolean {
    if (version === 'HTTP/1.1' || version === 'HTTP/1.0') {
      this.version = version;
      return true;
    }
    if (VERSION.test(version)) return this.fail(505, `HTTP version not supported: ${version}`);
    return this.fail(400, 'malformed HTTP version');
  }

  private beginHead(): void {
    this.headers = [];
    this.state = HEADERS;
  }

  /** A `name: value` field line into `into`. */
  private field(data: Buffer, start: number, end: number, into: RawHeaderList): boolean {
    const first = data[start] as number;
    if (first === 0x20 || first === 0x09) return this.fail(400, 'obsolete line folding');
    const colon = data.indexOf(0x3a, start);
    if (colon === start) return this.fail(400, 'empty header name');
    const name = colon < 0 || colon >= end ? '' : latin1(data, start, colon);
    if (!TOKEN_STRING.test(name)) return this.fail(400, 'invalid character in header name');
    let vs = colon + 1;
    let ve = end;
    let tab = false;
    for (; vs < ve && (data[vs] === 0x20 || data[vs] === 0x09); vs++) tab ||= data[vs] === 0x09;
    let trailingTab = false;
    for (; ve > vs && (data[ve - 1] === 0x20 || data[ve - 1] === 0x09); ve--)
      trailingTab ||= data[ve - 1] === 0x09;
    // A tab around a Content-Length is refused (llhttp's strict build does; the
    // lenient one in Node 20 accepts it), and one after a Transfer-Encoding
    // (llhttp reads "chunked\t" as another coding): lest two parsers in a row disagree.
    if ((tab || trailingTab) && name.length === 14 && name.toLowerCase() === 'content-length') {
      return this.fail(400, 'invalid Content-Length');
    }
    if (trailingTab && name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      return this.fail(400, 'tab after a Transfer-Encoding');
    }
    const value = latin1(data, vs, ve);
    if (NOT_VALUE.test(value)) return this.fail(400, 'invalid character in header value');
    into.push([name, value]);
    return true;
  }

  /** The empty line after the head: works out the framing and reports the head. */
  private headersDone(): boolean {
    let te: string[] | undefined;
    let length: number | undefined;
    for (const [name, value] of this.headers) {
      if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
        te ??= [];
        for (const part of value.split(',')) {
          const coding = part.trim().toLowerCase();
          // An empty element is no coding (RFC 9110 §5.6.1), except after
          // chunked, where llhttp counts it as one: "chunked," is refused.
          if (coding !== '' || te.at(-1) === 'chunked') te.push(coding);
        }
      } else if (name.length === 14 && name.toLowerCase() === 'content-length') {
        // One value only: RFC 9110 §8.6 lets identical repeats be merged, but
        // llhttp and Twisted refuse them, and a proxy in front may not merge.
        if (length !== undefined) return this.fail(400, 'more than one Content-Length');
        if (value.includes(',')) return this.fail(400, 'more than one Content-Length');
        if (!/^[0-9]+$/.test(value)) return this.fail(400, 'invalid Content-Length');
        length = Number(value);
        if (!Number.isSafeInteger(length)) return this.fail(400, 'Content-Length too large');
      }
    }
    const request = this.kind === 'request';
    let framing: BodyFraming;
    if (te !== undefined) {
      if (length !== undefined) return this.fail(400, 'both Transfer-Encoding and Content-Length');
      if (te.length === 0) return this.fail(400, 'empty Transfer-Encoding');
      if (request && this.version === 'HTTP/1.0') {
        return this.fail(400, 'Transfer-Encoding in an HTTP/1.0 request');
      }
      const chunked = te.indexOf('chunked');
      if (chunked >= 0 && chunked !== te.length - 1) {
        return this.fail(400, 'chunked is not the final transfer coding');
      }
      const unknown = te.find((c) => !KNOWN_CODINGS.has(c));
      if (unknown !== undefined && request)
        return this.fail(501, `unknown transfer coding: ${unknown}`);
      if (chunked >= 0) framing = 'chunked';
      // RFC 9112 §6.3: a request cannot be read until the close; a response can.
      else if (request) return this.fail(400, 'chunked is not the final transfer coding');
      else framing = 'close';
    } else if (length !== undefined) {
      framing = length === 0 ? 'none' : 'length';
    } else {
      framing = request ? 'none' : 'close';
    }
    this.upgradeAfter = false;
    if (request) {
      if (this.method === 'CONNECT') {
        framing = 'none';
        this.upgradeAfter = true;
      }
      this.handler.onRequestHead?.({
        method: this.method,
        target: this.target,
        version: this.version,
        headers: this.headers,
        framing,
        contentLength: length,
      });
    } else {
      const status = this.status;
      const informational = status < 200;
      const method = informational ? this.methods[0] : this.methods.shift();
      if (informational || status === 204 || status === 304 || method === 'HEAD') framing = 'none';
      if (status === 101 || (method === 'CONNECT' && status < 300 && status >= 200)) {
        framing = 'none';
        this.upgradeAfter = true;
      }
      this.handler.onResponseHead?.({
        version: this.version,
        status,
        reason: this.reason,
        headers: this.headers,
        framing,
        contentLength: length,
      });
    }
    if (this.done) return false;
    this.bodyReceived = 0;
    if (framing === 'none') {
      this.complete([]);
      return true;
    }
    if (framing === 'length') {
      if ((length as number) > this.bodyLimit) return this.fail(413, 'body larger than the limit');
      this.remaining = length as number;
      this.state = BODY_LENGTH;
    } else if (framing === 'chunked') {
      this.remaining = 0;
      this.state = CHUNK_SIZE;
    } else {
      this.state = BODY_CLOSE;
    }
    return true;
  }

  private countBody(n: number): boolean {
    this.bodyReceived += n;
    if (this.bodyReceived > this.bodyLimit) return this.fail(413, 'body larger than the limit');
    return true;
  }

  /** `chunk-size [ chunk-ext ]` (RFC 9112 §7.1), strict: no whitespace, no sign, no `0x`. */
  private chunkSize(data: Buffer, start: number, end: number): boolean {
    if (end - start > this.maxChunkLine) return this.fail(400, 'chunk-size line too long');
    let i = start;
    let size = 0;
    while (i < end && (HEX[data[i] as number] as number) >= 0) {
      if (size > MAX_CHUNK_PREFIX) return this.fail(400, 'chunk size too large');
      size = size * 16 + (HEX[data[i] as number] as number);
      i++;
    }
    if (i === start) return this.fail(400, 'invalid chunk size');
    if (!this.chunkExtensions(data, i, end)) return false;
    if (size === 0) {
      this.headBytes = 0;
      this.headers = [];
      this.state = TRAILERS;
      return true;
    }
    if (!this.countBody(size)) return false;
    this.remaining = size;
    this.state = CHUNK_DATA;
    return true;
  }

  /** `*( ";" token [ "=" ( token / quoted-string ) ] )`, nothing else. */
  private chunkExtensions(data: Buffer, i: number, end: number): boolean {
    while (i < end) {
      if (data[i] !== 0x3b) return this.fail(400, 'invalid character after chunk size');
      const name = ++i;
      while (i < end && TOKEN[data[i] as number] === 1) i++;
      if (i === name) return this.fail(400, 'empty chunk extension name');
      if (i === end || data[i] === 0x3b) continue;
      if (data[i] !== 0x3d) return this.fail(400, 'invalid character in chunk extension');
      i++;
      if (data[i] === 0x22) {
        for (i++; ; i++) {
          if (i >= end) return this.fail(400, 'unterminated quoted string in chunk extension');
          const b = data[i] as number;
          if (b === 0x22) break;
          if (b === 0x5c) i++; // quoted-pair: the next byte is taken as is, if it is one.
          if (i >= end || !isValueByte(data[i] as number)) {
            return this.fail(400, 'invalid character in chunk extension');
          }
        }
        i++;
      } else {
        const value = i;
        while (i < end && TOKEN[data[i] as number] === 1) i++;
        if (i === value) return this.fail(400, 'empty chunk extension value');
      }
    }
    return true;
  }

  private complete(trailers: RawHeaderList): void {
    this.state = this.upgradeAfter ? UPGRADED : START;
    this.headers = [];
    this.bodyLimit = this.defaultBodyLimit;
    this.handler.onMessageComplete(trailers);
  }

  private fail(status: HttpParseError['status'], reason: string): false {
    this.state = DEAD;
    this.storeStart = this.storeEnd = 0;
    this.handler.onError(new HttpParseError(status, reason));
    return false;
  }
}
