// Runs the `torsion` binary as a child process for the command's integration
// tests: to its exit, or serving (its port read from the "listening on" log
// line) until the test stops it by its PID.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../helpers/sockets.js';

export const root = fileURLToPath(new URL('../../../../', import.meta.url));
export const bin = `${root}bin/torsion.js`;
export const version = (
  JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }
).version;

/** Runs the binary to its exit (bounded), with `cwd` the repository unless given. */
export async function torsion(args: string[], cwd = root) {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  try {
    const [code] = (await waitFor(once(child, 'close'), `torsion ${args.join(' ')}`, 20)) as [
      number | null,
    ];
    return { code, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** A running `torsion` child: its output so far, and a wait for a pattern in it. */
export interface Server {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in standard output, once it is there. */
  waitForOutput(pattern: RegExp, what: string): Promise<RegExpExecArray>;
  /** Resolves with the exit code once the child has exited and its streams closed. */
  readonly closed: Promise<number | null>;
}

/** Starts the binary with `args`; it is stopped by its PID (SIGKILL if need be) when the test ends. */
export function start(t: TestContext, args: string[], cwd = root): Server {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const closed = once(child, 'close').then(([code]) => code as number | null);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
    }
  });
  const waitForOutput = (pattern: RegExp, what: string): Promise<RegExpExecArray> => {
    const found = new Promise<RegExpExecArray>((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(stdout);
        if (match === null) return;
        child.stdout.off('data', check);
        resolve(match);
      };
      child.stdout.on('data', check);
      check();
      void closed.then(() => {
        child.stdout.off('data', check);
        reject(new Error(`exited before ${what}:\n${stdout}${stderr}`));
      });
    });
    return waitFor(found, `${what}: ${stdout}${stderr}`, 20);
  };
  return { child, stdout: () => stdout, stderr: () => stderr, waitForOutput, closed };
}

/** The port of the first "listening on 127.0.0.1:PORT" line. */
export async function portOf(server: Server): Promise<number> {
  const match = await server.waitForOutput(/listening on 127\.0\.0\.1:(\d+)/, 'the listening line');
  return Number(match[1]);
}

/** Sends SIGTERM to the child's PID and resolves with its exit code (bounded). */
export async function terminate(server: Server): Promise<number | null> {
  if (server.child.pid !== undefined && server.child.exitCode === null) {
    process.kill(server.child.pid, 'SIGTERM');
  }
  return waitFor(server.closed, 'the exit after SIGTERM', 20);
}
