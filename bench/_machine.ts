// What the machine is doing beside a benchmark, read from /proc: the CPU
// ticks of every process (to find others' work) and of the whole machine
// (busy, idle, steal). Shared by bench/http-hello.ts and bench/http-client.ts.

import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU counters (USER_HZ on Linux). */
export const CLK_TCK = 100;

/** CPU ticks of every user-space process, with its session id. */
export function processTicks(): Map<number, { sid: number; ticks: number }> {
  const out = new Map<number, { sid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    if (pid === 2 || fields[1] === '2') continue; // kernel threads
    out.set(pid, { sid: Number(fields[3]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return out;
}

/** The machine's CPU counters (all cores): total, idle and steal ticks. */
export function machineTicks(): { total: number; idle: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
  const v = line.split(/\s+/).slice(1, 9).map(Number);
  return { total: v.reduce((a, b) => a + b, 0), idle: (v[3] ?? 0) + (v[4] ?? 0), steal: v[7] ?? 0 };
}
