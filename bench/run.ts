// `npm run bench`: runs each benchmark and its raw-Node reference in fresh
// processes, alternating, several times, and prints medians and ratios.
// Usage: node dist/bench/run.js [name-filter] [--reps N]
// Benchmarks never run in `npm test`.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One measured program: prints one JSON line with the field `metric`. */
interface Program {
  label: string;
  script: string;
  args: string[];
}

/** A benchmark: ours against the raw Node equivalent. */
interface Benchmark {
  name: string;
  /** The JSON field compared, and whether larger is better. */
  metric: string;
  higherIsBetter: boolean;
  unit: string;
  target: string;
  ours: Program;
  reference?: Program;
}

const here = fileURLToPath(new URL('.', import.meta.url));

const lineBenchmarks: Benchmark[] = [16, 64, 256, 1024, 65536].flatMap((size) =>
  (['lineonly', 'line'] as const).flatMap((kind) => {
    const label = kind === 'line' ? 'LineReceiver' : 'LineOnlyReceiver';
    const ours: Program = { label, script: 'line-receiver.js', args: [kind, String(size)] };
    return [
      {
        name: `lines-${kind}-vs-readline-${size}`,
        metric: 'lines_per_s',
        higherIsBetter: true,
        unit: 'lines/s',
        target: '>= 2x node:readline',
        ours,
        reference: {
          label: 'readline',
          script: 'line-receiver.js',
          args: ['readline', String(size)],
        },
      },
      {
        name: `lines-${kind}-vs-splitter-${size}`,
        metric: 'lines_per_s',
        higherIsBetter: true,
        unit: 'lines/s',
        target: '>= 0.8x hand-written splitter',
        ours,
        reference: {
          label: 'indexOf splitter',
          script: 'line-receiver.js',
          args: ['splitter', String(size)],
        },
      },
    ];
  }),
);

const splitterOf = (chunkSize: number, stringSize: number, kind = 'splitter'): Program => ({
  label: kind === 'splitter' ? 'concat splitter' : 'concat netstring splitter',
  script: 'string-receiver.js',
  args: [kind, String(chunkSize), String(stringSize)],
});

const stringBenchmarks: Benchmark[] = [
  ...[1024, 65536].flatMap((size) =>
    (['int32', 'netstring'] as const).map(
      (kind): Benchmark => ({
        name: `strings-${kind}-vs-splitter-${size}`,
        metric: 'strings_per_s',
        higherIsBetter: true,
        unit: 'strings/s',
        target: '>= 0.7x hand-written splitter',
        ours: {
          label: kind === 'int32' ? 'Int32StringReceiver' : 'NetstringReceiver',
          script: 'string-receiver.js',
          args: [kind, String(size), '50'],
        },
        reference: splitterOf(size, 50, kind === 'int32' ? 'splitter' : 'netstring-splitter'),
      }),
    ),
  ),
  {
    name: 'strings-int32-1MiB-vs-splitter-16384',
    metric: 'mb_per_s',
    higherIsBetter: true,
    unit: 'MB/s',
    target: '>= 2x hand-written splitter (no quadratic copies)',
    ours: {
      label: 'Int32StringReceiver',
      script: 'string-receiver.js',
      args: ['int32', '16384', String(1 << 20)],
    },
    reference: splitterOf(16384, 1 << 20),
  },
];

const benchmarks: Benchmark[] = [
  {
    name: 'deferred-chain',
    metric: 'ops_per_s',
    higherIsBetter: true,
    unit: 'ops/s',
    target: 'Deferred >= 2x native Promise (stretch 3x)',
    ours: { label: 'Deferred', script: 'deferred.js', args: ['1000000', 'deferred'] },
    reference: { label: 'Promise', script: 'deferred.js', args: ['1000000', 'promise'] },
  },
  {
    name: 'timers',
    metric: 'total_s',
    higherIsBetter: false,
    unit: 's',
    target: 'time <= 1.2x raw Node (ratio >= 0.83)',
    ours: { label: 'NodeReactor.callLater', script: 'timers.js', args: ['1000000', 'torsion'] },
    reference: { label: 'setTimeout', script: 'timers.js', args: ['1000000', 'node'] },
  },
  {
    name: 'deferred-deep-chain',
    metric: 'seconds',
    higherIsBetter: false,
    unit: 's',
    target: '100,000 nested Deferreds fire without a stack overflow',
    ours: { label: 'Deferred', script: 'deferred.js', args: ['100000', 'deep'] },
  },
  ...lineBenchmarks,
  ...stringBenchmarks,
];

function runOnce(program: Program): Record<string, number> {
  const result = spawnSync(process.execPath, [`${here}${program.script}`, ...program.args], {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`${program.script} ${program.args.join(' ')} failed:\n${result.stderr}`);
  }
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function format(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${format(median(values))} [${format(sorted[0] as number)}–${format(sorted.at(-1) as number)}]`;
}

function main(): void {
  const args = process.argv.slice(2);
  const repsAt = args.indexOf('--reps');
  const reps = repsAt === -1 ? 5 : Number(args[repsAt + 1]);
  const filter = args.find((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--reps');
  const selected = benchmarks.filter((b) => filter === undefined || b.name.includes(filter));
  console.log(`Torsion benchmarks: ${reps} runs each, fresh process per run, medians [min–max]`);
  console.log('ratio = how many times faster than raw Node (above 1 is faster)\n');
  console.log('| benchmark | ours | raw Node | ratio | target |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const bench of selected) {
    const ours: number[] = [];
    const reference: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // Alternate the order so that drift affects both sides alike.
      const order = rep % 2 === 0 ? [true, false] : [false, true];
      for (const isOurs of order) {
        if (isOurs) ours.push(runOnce(bench.ours)[bench.metric] as number);
        else if (bench.reference !== undefined) {
          reference.push(runOnce(bench.reference)[bench.metric] as number);
        }
      }
    }
    let ratio = '';
    if (reference.length > 0) {
      const r = bench.higherIsBetter
        ? median(ours) / median(reference)
        : median(reference) / median(ours);
      ratio = `${r.toFixed(2)}x`;
    }
    const refText =
      reference.length > 0 ? `${bench.reference?.label}: ${summary(reference)} ${bench.unit}` : '–';
    console.log(
      `| ${bench.name} | ${bench.ours.label}: ${summary(ours)} ${bench.unit} | ${refText} | ${ratio} | ${bench.target} |`,
    );
  }
}

main();
