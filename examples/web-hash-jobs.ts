// The blocking work of examples/web-hash.ts, run on worker threads: a
// synchronous hash of a whole file, and a synchronous sleep, as a legacy
// library would do. A worker imports this module by its URL and calls the
// exported function by name; closures from the server cannot cross.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The SHA-256 of a file, read and hashed synchronously. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Blocks the calling thread for `seconds`, as a legacy synchronous call would. */
export function sleep(seconds: number): number {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
  return seconds;
}
