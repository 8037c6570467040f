// Benchmark: the cost of the filtering proxy's rule decisions, with 1,000
// generated rules (exact hosts, domains, wildcards, ports and paths) against
// none and against the built-in set: nanoseconds per `Rules.match` for hosts
// that match a rule and hosts that match none, and per
// request's whole filtering (`RulesFilter.filterRequest`, then
// `filterResponse`) on a typical browser request and response: the header
// edits of `set-header *` and `trim-referer *` included, a block page built
// for the blocked ones. The budget for matching is about 1 µs a request
// (under 5% of a proxied request's cost).
// Usage: node dist/bench/proxy-rules.js [DECISIONS] [REPS]
// Prints a table of medians [min–max] over REPS runs of the process's CPU
// time per decision, then one JSON line.

import { IPv4Address } from 'torsion';
import {
  Headers,
  type ProxiedRequestInfo,
  type ProxiedResponseInfo,
  Rules,
  RulesFilter,
  type RuleTarget,
} from 'torsion/web';
import { format, median } from './_stats.js';

/** A small seeded generator (mulberry32), so every run uses the same rules and URLs. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(16);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
const int = (n: number): number => Math.floor(rand() * n);

/** 1,000 rules: 400 exact hosts, 400 domains, 150 wildcards (10 with `*` in every label), 50 with a port or a path. */
function generateRules(): { text: string; matching: RuleTarget[] } {
  const lines: string[] = [];
  const matching: RuleTarget[] = [];
  const action = (): string =>
    pick(['block', 'block', 'block', 'allow', 'strip-cookies', 'block-images', 'keep-cookies']);
  for (let i = 0; i < 400; i++) {
    const host = `h${i}.site${int(300)}.com`;
    lines.push(`${action()} ${host}`);
    matching.push({ host, port: 80, path: '/index.html' });
  }
  for (let i = 0; i < 400; i++) {
    const domain = `tracker${i}.${pick(['net', 'com', 'io', 'co.uk'])}`;
    lines.push(`${action()} .${domain}`);
    matching.push({ host: `${pick(['www', 'cdn', 'px', 'a.b'])}.${domain}`, port: 443, path: '' });
  }
  for (let i = 0; i < 140; i++) {
    if (i % 2 === 0) {
      lines.push(`${action()} ad*.media${i}.org`);
      matching.push({ host: `ad${int(99)}.media${i}.org`, port: 80, path: '/banner.gif' });
    } else {
      lines.push(`${action()} *.cdn${i}.*`);
      matching.push({ host: `x.cdn${i}.example.net`, port: 80, path: '/lib.js' });
    }
  }
  for (let i = 0; i < 10; i++) lines.push(`${action()} zz${i}*.*`);
  for (let i = 0; i < 50; i++) {
    if (i % 2 === 0) {
      lines.push(`block portal${i}.com:8080`);
      matching.push({ host: `portal${i}.com`, port: 8080, path: '/' });
    } else {
      lines.push(`block-images news${i}.com/img/`);
      matching.push({ host: `news${i}.com`, port: 80, path: '/img/a.png' });
    }
  }
  lines.push('set-header * User-Agent Mozilla/5.0', 'trim-referer *');
  return { text: lines.join('\n'), matching };
}

/** Hosts no rule names (the `*` rules at the end aside). */
function nonMatching(): RuleTarget[] {
  const out: RuleTarget[] = [];
  for (let i = 0; i < 1024; i++) {
    out.push({
      host: `${pick(['www', 'static', 'api', 'img.cdn'])}.example${i}.${pick(['com', 'org', 'de', 'co.uk'])}`,
      port: pick([80, 443]),
      path: pick(['/', '/articles/2026/12/event-driven-networking?page=2', '']),
    });
  }
  return out;
}

/** A browser's GET for `target`, as a proxy hands it to its filter. */
function browserRequest(target: RuleTarget): ProxiedRequestInfo {
  return {
    method: 'GET',
    url: `http://${target.host}${target.path || '/'}`,
    scheme: 'http',
    host: target.host,
    port: target.port,
    path: target.path || '/',
    headers: new Headers([
      ['Host', [target.host]],
      ['User-Agent', ['Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36']],
      ['Accept', ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8']],
      ['Accept-Language', ['en-GB,en;q=0.9']],
      ['Cookie', ['session=3f9a1c2e7b6d4a58; theme=dark']],
      ['Referer', [`https://www.${target.host}/`]],
      ['Sec-Fetch-Dest', ['document']],
      ['Sec-Fetch-Site', ['same-site']],
    ]),
    clientAddress: new IPv4Address('TCP', '127.0.0.1', 40000),
  };
}

/** An upstream's answer to a page: HTML, two cookies set. */
function upstreamResponse(): ProxiedResponseInfo {
  return {
    code: 200,
    headers: new Headers([
      ['Content-Type', ['text/html; charset=utf-8']],
      ['Content-Length', ['5120']],
      ['Set-Cookie', ['session=1; Path=/; HttpOnly', 'theme=dark; Path=/']],
      ['Cache-Control', ['no-cache']],
    ]),
  };
}

/** Whatever the decisions return is kept here, so that no work can be optimised away. */
export let sink = 0;

/**
 * Nanoseconds of this process's CPU time (user and system) since `since`:
 * on a machine shared with other work, CPU time moves far less than the
 * wall clock, which also counts the time other processes had the core.
 */
function cpuNs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) * 1000;
}

/** CPU nanoseconds per call of `f` over `n` calls cycling through `inputs`. */
function time<T>(n: number, inputs: readonly T[], f: (input: T) => number): number {
  const mask = inputs.length - 1; // a power of two
  const start = process.cpuUsage();
  let s = 0;
  for (let i = 0; i < n; i++) s += f(inputs[i & mask] as T);
  const ns = cpuNs(start);
  sink += s;
  return ns / n;
}

/** `list` cycled to 1,024 entries. */
function cycle<T>(list: readonly T[]): T[] {
  return Array.from({ length: 1024 }, (_, i) => list[i % list.length] as T);
}

const n = Number(process.argv[2] ?? 200_000);
const reps = Number(process.argv[3] ?? 7);

const generated = generateRules();
const thousand = Rules.parse(generated.text, 'generated', { loadedAt: 0 });
const none = Rules.parse('', 'empty', { loadedAt: 0 });
const builtIn = Rules.defaults({ loadedAt: 0 });
const matching = cycle(generated.matching.sort(() => rand() - 0.5));
const missing = nonMatching();
const decide = (rules: Rules) => (t: RuleTarget) => {
  const m = rules.match(t);
  return (m.blocked ? 1 : 0) + m.headers.length;
};

// A request's whole filtering: filterRequest, then filterResponse when it
// goes upstream. The filter edits headers, so each request and response is
// used once, made in batches of 512 outside the timed part.
const filterCase = (rules: Rules, targets: readonly RuleTarget[]) => {
  const filter = new RulesFilter(rules);
  return (count: number): number => {
    let ns = 0;
    let s = 0;
    for (let done = 0; done < count; done += 512) {
      const requests = Array.from({ length: 512 }, (_, i) =>
        browserRequest(targets[(done + i) % targets.length] as RuleTarget),
      );
      const responses = Array.from({ length: 512 }, () => upstreamResponse());
      const start = process.cpuUsage();
      for (let i = 0; i < 512; i++) {
        const request = requests[i] as ProxiedRequestInfo;
        const answer = filter.filterRequest(request);
        if (answer === undefined) {
          s += filter.filterResponse(request, responses[i] as ProxiedResponseInfo)?.code ?? 0;
        } else s += answer.code;
      }
      ns += cpuNs(start);
    }
    sink += s;
    return ns / (Math.ceil(count / 512) * 512);
  };
};

const cases: [string, (count: number) => number][] = [
  ['match, no rules', (c) => time(c, missing, decide(none))],
  ['match, built-in rules, no match', (c) => time(c, missing, decide(builtIn))],
  ['match, 1,000 rules, matching hosts', (c) => time(c, matching, decide(thousand))],
  ['match, 1,000 rules, no match', (c) => time(c, missing, decide(thousand))],
  ['filter, no rules', filterCase(none, missing)],
  ['filter, 1,000 rules, matching', filterCase(thousand, matching)],
  ['filter, 1,000 rules, no match', filterCase(thousand, missing)],
];

// Warm up every case, then run the reps interleaved so that the machine's
// noise falls on all of them alike.
for (const [, run] of cases) run(Math.min(n, 20_000));
const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let r = 0; r < reps; r++) {
  for (const [name, run] of cases) {
    results.get(name)?.push(run(name.startsWith('filter,') ? Math.min(n, 50_000) : n));
  }
}

const width = Math.max(...cases.map(([name]) => name.length));
console.log(
  `rules: 1,000 generated (${thousand.rules.length} with the two * rules), built-in ${builtIn.rules.length}`,
);
console.log(`${'case'.padEnd(width)}  CPU ns/decision, median [min–max] of ${reps} runs`);
const summary: Record<string, number> = {};
for (const [name, values] of results) {
  const med = median(values);
  summary[name] = Math.round(med * 10) / 10;
  console.log(
    `${name.padEnd(width)}  ${format(med).padStart(6)} [${format(Math.min(...values))}–${format(Math.max(...values))}]`,
  );
}
console.log(JSON.stringify({ ns_per_decision: summary }));
