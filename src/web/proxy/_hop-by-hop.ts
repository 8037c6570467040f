// Internal: the hop-by-hop headers a proxy removes from what it forwards, in
// both directions (RFC 9110 §7.6.1): `Connection` and every field it names,
// and the fixed list of fields that describe one connection, not the message.
// Tests: test/unit/web/proxy/hop-by-hop.test.ts

import type { Headers } from '../headers.js';

/** The fields that concern one hop whatever `Connection` says (lower case). */
const FIXED = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'trailer',
  'transfer-encoding',
  'proxy-authorization',
  'proxy-authenticate',
] as const;

/** What {@link stripHopByHop} keeps that it would otherwise remove. */
export interface HopByHopOptions {
  /**
   * Keep `Upgrade` (and `upgrade` among `Connection`'s tokens is not a
   * field removed): for a deliberate `Upgrade` passthrough.
   */
  readonly keepUpgrade?: boolean;
}

/**
 * Removes, in place, the hop-by-hop fields of `headers`: `Connection` and
 * the fields its tokens name, `Keep-Alive`, `Proxy-Connection`, `Trailer`,
 * `Transfer-Encoding`, `Upgrade` (unless `keepUpgrade`),
 * `Proxy-Authorization`, `Proxy-Authenticate`; `TE` is kept only as
 * `trailers` when it asked for them. The other fields keep their order and
 * their repeated values.
 *
 * @returns The tokens `Connection` held, lower case (empty when none), so
 *   that a caller can see whether `upgrade` or `close` was asked.
 */
export function stripHopByHop(headers: Headers, options?: HopByHopOptions): string[] {
  const tokens: string[] = [];
  const connection = headers.getRawHeaders('connection');
  if (connection !== undefined) {
    for (const value of connection) {
      for (const part of value.split(',')) {
        const token = part.trim().toLowerCase();
        if (token === '') continue;
        tokens.push(token);
        if (token === 'upgrade' && options?.keepUpgrade === true) continue;
        // `te` is decided below; the fixed fields are removed anyway.
        if (token !== 'te') headers.removeHeader(token);
      }
    }
  }
  for (const name of FIXED) headers.removeHeader(name);
  if (options?.keepUpgrade !== true) headers.removeHeader('upgrade');
  const te = headers.getRawHeaders('te');
  if (te !== undefined) {
    if (te.some(asksForTrailers)) headers.setRawHeaders('TE', ['trailers']);
    else headers.removeHeader('te');
  }
  return tokens;
}

function asksForTrailers(value: string): boolean {
  for (const part of value.split(',')) {
    const semi = part.indexOf(';');
    const coding = (semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase();
    if (coding === 'trailers') return true;
  }
  return false;
}
