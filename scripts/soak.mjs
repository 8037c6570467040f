// The long version of the leak cycles (test/reliability/leaks-*.test.ts):
// 10,000 connections per way of ending over TCP and UNIX, 2,000 over TLS,
// and a table of file descriptors, heap (after GC) and bytes lost.
// Usage: npm run soak [-- --cycles N] [--tls-cycles N] [--only tcp,unix,tls]
// Exits 1 if any run leaked, lost bytes or left a connection unfinished.
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10000' },
    'tls-cycles': { type: 'string', default: '2000' },
    only: { type: 'string', default: 'tcp,unix,tls' },
  },
});
const { runCycles, waysFor } = await import('../dist/test/reliability/_harness.js');

const HEAP_NOISE = 1024 * 1024;
const mib = (bytes) => (bytes / 2 ** 20).toFixed(2);
const columns = [
  'way of ending',
  'transport',
  'cycles',
  'fds before',
  'fds after',
  'heap before (MiB)',
  'heap after (MiB)',
  'bytes lost',
  'unfinished',
  'seconds',
  'verdict',
];
const rows = [];
let failures = 0;
for (const transport of values.only.split(',')) {
  const cycles = Number(transport === 'tls' ? values['tls-cycles'] : values.cycles);
  for (const way of waysFor(transport)) {
    const r = await runCycles(way, transport, cycles);
    const ok =
      r.fdsAfter === r.fdsBefore &&
      r.heapAfter - r.heapBefore < HEAP_NOISE &&
      r.bytesLost === 0 &&
      r.unfinished === 0 &&
      r.failed === 0;
    if (!ok) failures++;
    const row = [
      way,
      transport,
      String(r.cycles),
      String(r.fdsBefore),
      String(r.fdsAfter),
      mib(r.heapBefore),
      mib(r.heapAfter),
      String(r.bytesLost),
      String(r.unfinished + r.failed),
      r.seconds.toFixed(1),
      ok ? 'ok' : 'LEAK/LOSS',
    ];
    rows.push(row);
    process.stderr.write(`${row.join(' | ')}\n`);
  }
}
const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(columns));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
console.log(failures === 0 ? '\nno leak, no loss' : `\n${failures} run(s) leaked or lost data`);
process.exit(failures === 0 ? 0 : 1);
