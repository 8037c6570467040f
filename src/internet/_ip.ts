// Internal: recognising IP address literals without node:net, so that the
// test doubles (MemoryReactor) can tell an address from a host name while
// torsion/testing loads no socket module. Agrees with node:net's isIP.
// Tests: test/unit/internet/ip.test.ts

const IPV4_PART = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const IPV4 = new RegExp(`^${IPV4_PART}(?:\\.${IPV4_PART}){3}$`);
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z\-.:]+$/;

/** True if every piece is a group of 1–4 hex digits. */
function hexGroups(pieces: string[]): boolean {
  return pieces.every((piece) => HEX_GROUP.test(piece));
}

/** Counts the 16-bit groups of one side of `::`, or -1 if malformed. */
function countGroups(side: string, mayEndInIPv4: boolean): number {
  if (side === '') return 0;
  const pieces = side.split(':');
  const last = pieces[pieces.length - 1] ?? '';
  if (mayEndInIPv4 && IPV4.test(last)) {
    pieces.pop();
    return hexGroups(pieces) ? pieces.length + 2 : -1;
  }
  return hexGroups(pieces) ? pieces.length : -1;
}

function isIPv6Literal(text: string): boolean {
  let address = text;
  const percent = address.indexOf('%');
  if (percent !== -1) {
    if (!ZONE.test(address.slice(percent + 1))) return false;
    address = address.slice(0, percent);
  }
  const halves = address.split('::');
  if (halves.length > 2) return false;
  if (halves.length === 1) return countGroups(address, true) === 8;
  const [head = '', tail = ''] = halves;
  const before = countGroups(head, false);
  const after = countGroups(tail, true);
  return before >= 0 && after >= 0 && before + after <= 7;
}

/**
 * The IP version of an address literal: 4, 6, or 0 for anything else (a
 * host name, or malformed), as `node:net`'s `isIP`.
 *
 * @param text - The text to classify.
 * @returns 4, 6 or 0.
 */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  return text.includes(':') && isIPv6Literal(text) ? 6 : 0;
}
