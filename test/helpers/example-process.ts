// Example programs run as child processes for the integration tests: spawn
// one, wait for the ports it reports (on its output, not by polling), and
// stop it by its PID with SIGTERM. Test-only; not exported.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { waitFor } from './sockets.js';

/** A child process and what it has written so far. */
export interface ExampleProcess {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Settles once the child has exited and its output streams have closed. */
  readonly closed: Promise<unknown>;
}

/** Runs the compiled example at `path` with `args`; it is stopped when the test ends. */
export function runExample(t: TestContext, path: string, args: readonly string[]): ExampleProcess {
  const child = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = once(child, 'close');
  let output = '';
  let errors = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  t.after(() => stopExample(child));
  return { process: child, stdout: () => output, stderr: () => errors, closed };
}

/**
 * Waits until the child has reported listening for each of `labels`
 * (`<label> on IPv4Address(TCP, '<host>', <port>)`), checking each time it
 * writes; fails if it exits first or after `seconds`.
 */
export async function portsOf(
  child: ExampleProcess,
  labels: readonly string[],
  seconds = 10,
): Promise<number[]> {
  const found = (): number[] | undefined => {
    const ports = labels.map((label) => {
      const match = new RegExp(`${label} on IPv4Address\\(TCP, '[\\d.]+', (\\d+)\\)`).exec(
        child.stdout(),
      );
      return match === null ? undefined : Number(match[1]);
    });
    return ports.every((port) => port !== undefined) ? (ports as number[]) : undefined;
  };
  const stdout = child.process.stdout;
  const reported = new Promise<number[]>((resolve, reject) => {
    const check = (): void => {
      const ports = found();
      if (ports === undefined) return;
      stdout?.off('data', check);
      resolve(ports);
    };
    stdout?.on('data', check);
    check();
    void child.closed.then(() => {
      stdout?.off('data', check);
      reject(
        new assert.AssertionError({
          message: `exited without reporting its ports: ${child.stdout()}${child.stderr()}`,
        }),
      );
    });
  });
  return waitFor(
    reported,
    `the ports of ${labels.join(', ')}: ${child.stdout()}${child.stderr()}`,
    seconds,
  );
}

/** Sends SIGTERM to the child's PID; resolves with its exit code, killing it if it lingers. */
export async function stopExample(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  try {
    const [code] = (await waitFor(exited, `${child.spawnfile} to exit`, 10)) as [number | null];
    return code;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
