// Test support for the ports of Twisted's web tests: the resources Twisted's
// tests use as request handlers (DummyHTTPHandler, DelayedHTTPHandler,
// QueueResource), and a real Request to call methods on (Twisted's tests build
// one on a DummyChannel).

import assert from 'node:assert/strict';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../src/web/resource.js';
import type { SiteOptions } from '../../../src/web/site.js';
import { type Connection, connect } from './_server.js';
import { forEachSplit } from './_splits.js';

/** The body Twisted's DummyHTTPHandler answers: the Content-Length it got, and the body. */
export function echoBody(request: Request): string {
  const length = request.getHeader('content-length') ?? 'None';
  return `'''\n${length}\n${request.content.read().toString('latin1')}'''\n`;
}

/** Sets the headers Twisted's DummyHTTPHandler sets and returns its body. */
function echo(request: Request): string {
  const body = echoBody(request);
  request.setResponseCode(200);
  request.setHeader('Request', request.uri);
  request.setHeader('Command', request.method);
  request.setHeader('Version', request.clientproto);
  request.setHeader('Content-Length', String(Buffer.byteLength(body, 'latin1')));
  return body;
}

/**
 * Twisted's DummyHTTPHandler as a leaf resource: answers every method at
 * once with headers naming the request and a body echoing what it got.
 */
export class Echo extends Resource {
  override isLeaf = true;
  /** Every request rendered, in order. */
  readonly seen: Request[] = [];
  override render(request: Request): Uint8Array {
    this.seen.push(request);
    return Buffer.from(echo(request), 'latin1');
  }
}

/**
 * Twisted's DelayedHTTPHandler and QueueResource: keeps every request
 * without answering it; `respond(request)` answers as {@link Echo} would.
 */
export class Queue extends Resource {
  override isLeaf = true;
  /** Every request rendered, in order (answered or not). */
  readonly dispatched: Request[] = [];
  override render(request: Request): typeof NOT_DONE_YET {
    this.dispatched.push(request);
    return NOT_DONE_YET;
  }
  /** Answers `request` (the oldest unanswered one by default) as Echo does. */
  respond(request: Request | undefined = this.dispatched.find((r) => !r.finished)): void {
    if (request === undefined) throw new Error('no request to respond to');
    const body = Buffer.from(echo(request), 'latin1');
    request.write(body);
    request.finish();
  }
}

/** What a request looked like to the server: compared across splits. */
function summary(request: Request): string {
  return JSON.stringify([
    request.method,
    request.uri,
    request.clientproto,
    [...request.requestHeaders],
    request.content.received,
    request.content.done,
  ]);
}

/**
 * The Request a Site builds for `raw` (a request, latin1), caught before it
 * is answered by a {@link Queue}, and its connection. `raw` defaults to a GET
 * of `/`. The bytes are also fed byte by byte and at seeded random splits
 * (see {@link forEachSplit}), each to a new connection, and must give the
 * same request; the one-read request is returned.
 *
 * @param options - The Site's options, and whether the Queue reads bodies
 *   as they stream (`streamsRequestBody`: it renders before the body is in).
 */
export function requestFor(
  raw = 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n',
  options: SiteOptions & { streamsRequestBody?: boolean } = {},
): { request: Request; connection: Connection } {
  const { streamsRequestBody = false, ...siteOptions } = options;
  let first: { request: Request; connection: Connection } | undefined;
  forEachSplit(raw, (chunks, how) => {
    const queue = new Queue();
    queue.streamsRequestBody = streamsRequestBody;
    const connection = connect(queue, siteOptions);
    for (const chunk of chunks) connection.send(chunk);
    const request = queue.dispatched[0];
    if (request === undefined)
      throw new Error(`no request was rendered for ${JSON.stringify(raw)} ${how}`);
    if (first === undefined) first = { request, connection };
    else assert.equal(summary(request), summary(first.request), `the request differs ${how}`);
  });
  return first as { request: Request; connection: Connection };
}
