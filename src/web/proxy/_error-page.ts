// Internal: the short pages a proxy answers with in an upstream's place
// (502, 504, 500) and the answers a filter gives (ProxyAnswer), written on a
// server Request with their length.
// Tests: test/unit/web/proxy/forward-engine.test.ts

import { errorPageHtml } from '../_html.js';
import { reasonPhrase } from '../_status.js';
import type { Request } from '../request.js';
import type { ProxyAnswer } from './hooks.js';

/**
 * The HTML page of a proxy error: the status as heading, a sentence naming
 * the upstream and the reason.
 */
export function proxyErrorHtml(code: number, upstream: string, reason: string): string {
  return errorPageHtml(code, reasonPhrase(code), `The upstream ${upstream} ${reason}.`);
}

/**
 * Answers `request` with a proxy error page, unless its response has
 * begun (then the connection is cut short: the client sees a truncated
 * response, not a false end) or the client is gone.
 */
export function sendProxyError(
  request: Request,
  code: number,
  upstream: string,
  reason: string,
): void {
  if (request.finished) return;
  if (request.startedWriting) {
    request._abortResponse();
    return;
  }
  sendAnswer(request, {
    code,
    headers: [['Content-Type', 'text/html; charset=utf-8']],
    body: proxyErrorHtml(code, upstream, reason),
  });
}

/** Sends a filter's (or the proxy's own) answer: its status, headers and body, with a `Content-Length`. */
export function sendAnswer(request: Request, answer: ProxyAnswer): void {
  if (request.finished) return;
  const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
  request._resetResponse();
  request.setResponseCode(answer.code, answer.phrase);
  const headers = request.responseHeaders;
  if (answer.headers !== undefined) {
    for (const [name, value] of answer.headers) headers.addRawHeader(name, value);
  }
  headers.setRawHeaders('Content-Length', [`${body.length}`]);
  // The request body, if any is still coming, is not wanted: the connection closes after.
  if (!request.content.done) request._setNotPersistent();
  request.write(body);
  request.finish();
}
