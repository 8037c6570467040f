// Test support for the HTTP parser: runs a parser over chunks and records
// what it reports as plain data, so that two runs (one chunk, byte by byte,
// random splits) can be compared with deepEqual.

import {
  type HttpParseError,
  HttpParser,
  type HttpParserHandler,
  type HttpParserOptions,
} from '../../../src/web/_parser.js';

/** One thing the parser reported. Consecutive body chunks are merged (latin1). */
export type Event =
  | {
      request: [method: string, target: string, version: string];
      headers: [string, string][];
      framing: string;
    }
  | {
      response: [version: string, status: number, reason: string];
      headers: [string, string][];
      framing: string;
    }
  | { body: string }
  | { complete: [string, string][] }
  | { upgrade: string }
  | { error: number; reason: string };

export interface RunOptions {
  readonly options?: HttpParserOptions;
  /** Response parsers: the methods of the requests sent, in order. */
  readonly methods?: readonly string[];
  /** Call `finish()` after the last chunk (EOF). */
  readonly finish?: boolean;
  /** Called with the parser after each head, before its body (e.g. to set a body limit). */
  readonly onHead?: (parser: HttpParser) => void;
}

/** Feeds `chunks` to a new parser of `kind`; returns its events and the parser. */
export function run(
  kind: 'request' | 'response',
  chunks: readonly Buffer[],
  opts: RunOptions = {},
): { events: Event[]; parser: HttpParser } {
  const events: Event[] = [];
  let parser: HttpParser | undefined;
  const handler: HttpParserHandler = {
    onRequestHead(head) {
      events.push({
        request: [head.method, head.target, head.version],
        headers: head.headers.map(([n, v]) => [n, v]),
        framing: head.framing,
      });
      opts.onHead?.(parser as HttpParser);
    },
    onResponseHead(head) {
      events.push({
        response: [head.version, head.status, head.reason],
        headers: head.headers.map(([n, v]) => [n, v]),
        framing: head.framing,
      });
      opts.onHead?.(parser as HttpParser);
    },
    onBody(chunk) {
      const last = events.at(-1);
      const text = chunk.toString('latin1');
      if (last !== undefined && 'body' in last) last.body += text;
      else events.push({ body: text });
    },
    onMessageComplete(trailers) {
      events.push({ complete: trailers.map(([n, v]) => [n, v]) });
    },
    onUpgrade(rest) {
      events.push({ upgrade: rest.toString('latin1') });
    },
    onError(error: HttpParseError) {
      events.push({ error: error.status, reason: error.message });
    },
  };
  parser = new HttpParser(kind, handler, opts.options);
  for (const method of opts.methods ?? []) parser.expectResponse(method);
  for (const chunk of chunks) {
    // After an upgrade the bytes belong to whoever took the connection over.
    const last = events.at(-1);
    if (parser.upgraded && last !== undefined && 'upgrade' in last)
      last.upgrade += chunk.toString('latin1');
    else parser.feed(chunk);
  }
  if (opts.finish === true) parser.finish();
  return { events, parser };
}

/** `text` (latin1, `\r\n` written out) as a Buffer. */
export function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** `data` cut before each index of `cuts` (sorted, deduplicated, inside the data). */
export function split(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < data.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(data.subarray(at, p));
    at = p;
  }
  out.push(data.subarray(at));
  return out;
}

/** `data` one byte per chunk. */
export function bytewise(data: Buffer): Buffer[] {
  return Array.from({ length: data.length }, (_, i) => data.subarray(i, i + 1));
}
