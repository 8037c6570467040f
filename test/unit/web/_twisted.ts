// Test support for the ports of Twisted's web tests: the resources Twisted's
// tests use as request handlers (DummyHTTPHandler, DelayedHTTPHandler,
// QueueResource), and a real Request to call methods on (Twisted's tests build
// one on a DummyChannel).

import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../src/web/resource.js';
import type { SiteOptions } from '../../../src/web/site.js';
import { type Connection, connect } from './_server.js';

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

/**
 * The Request a Site builds for `raw` (a request, latin1), caught before it
 * is answered by a {@link Queue} (`options.resource`, or a new one), and its
 * connection. `raw` defaults to a GET of `/`.
 */
export function requestFor(
  raw = 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n',
  options: SiteOptions & { resource?: Queue } = {},
): { request: Request; connection: Connection } {
  const { resource, ...siteOptions } = options;
  const queue = resource ?? new Queue();
  const connection = connect(queue, siteOptions);
  connection.send(raw);
  const request = queue.dispatched[0];
  if (request === undefined) throw new Error(`no request was rendered for ${JSON.stringify(raw)}`);
  return { request, connection };
}
