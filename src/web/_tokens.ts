// The character classes of RFC 9110 §5.6: token bytes (header names, methods,
// chunk extensions) and field-value bytes, shared by the parser and Headers.
// Tests: test/unit/web/headers.test.ts, test/unit/web/parser.test.ts

/** 1 for each byte that may appear in a token (RFC 9110 §5.6.2), else 0. */
export const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let b = 0x30; b <= 0x39; b++) TOKEN[b] = 1;
for (let b = 0x41; b <= 0x5a; b++) {
  TOKEN[b] = 1;
  TOKEN[b + 0x20] = 1;
}

/** Whether `data[start, end)` is a non-empty token. */
export function isToken(data: Uint8Array, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (TOKEN[data[i] as number] !== 1) return false;
  return true;
}

/** Whether the string `s` is a non-empty token. */
export function isTokenString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN[c] !== 1) return false;
  }
  return true;
}

/** Whether byte `b` may appear in a field value: HTAB, SP, VCHAR or obs-text (not DEL, no other CTL). */
export function isValueByte(b: number): boolean {
  return b === 0x09 || (b >= 0x20 && b !== 0x7f && b <= 0xff);
}

/** Whether a comma-separated header value (such as `Connection`'s) holds `token`, case-insensitively. */
export function hasToken(value: string, token: string): boolean {
  for (const part of value.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}
