// Internal: the headers a reverse proxy adds to say whom it forwards for:
// X-Forwarded-For/Host/Proto (the de facto ones) and Forwarded (RFC 7239).
// Twisted's web.proxy adds none of them.
// Tests: test/unit/web/proxy/forwarded.test.ts

import type { Headers } from '../headers.js';

/** What the forwarding headers describe: the client's side of one request. */
export interface ForwardedFor {
  /** The client's address (an IP address), or `undefined` when not an IP connection (a UNIX socket). */
  readonly clientIP: string | undefined;
  /** The `Host` the client asked for, if any. */
  readonly host: string | undefined;
  /** The scheme the client used. */
  readonly proto: 'http' | 'https';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Adds the client to `headers` (in place): its address appended to
 * `X-Forwarded-For` (after the addresses earlier proxies put there) and as a
 * new element of `Forwarded`; `X-Forwarded-Host` and `X-Forwarded-Proto` set
 * to what the client asked for.
 */
export function addForwardedHeaders(headers: Headers, client: ForwardedFor): void {
  const ip = client.clientIP;
  const xff = ip ?? 'unknown';
  const earlier = headers.getRawHeaders('x-forwarded-for');
  headers.setRawHeaders('X-Forwarded-For', [
    earlier === undefined ? xff : `${earlier.join(', ')}, ${xff}`,
  ]);
  if (client.host !== undefined) headers.setRawHeaders('X-Forwarded-Host', [client.host]);
  else headers.removeHeader('x-forwarded-host');
  headers.setRawHeaders('X-Forwarded-Proto', [client.proto]);
  let element = `for=${forwardedNode(ip)}`;
  if (client.host !== undefined) element += `;host=${forwardedValue(client.host)}`;
  element += `;proto=${client.proto}`;
  headers.addRawHeader('Forwarded', element);
}

/** A node of `Forwarded` (RFC 7239 §6): an IPv6 address quoted in brackets, an unknown one `unknown`. */
export function forwardedNode(ip: string | undefined): string {
  if (ip === undefined) return 'unknown';
  return ip.includes(':') ? `"[${ip}]"` : ip;
}

/** A value of `Forwarded`: a token as is, anything else a quoted string. */
export function forwardedValue(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
