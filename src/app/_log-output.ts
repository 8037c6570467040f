// Internal: where runApp writes its log — standard output or a file opened
// for appending, written synchronously (nothing is lost when the process
// exits right after a line) and reopened on demand for log rotation.
// Tests: test/unit/app/run-app.test.ts, test/integration/app/run-app.test.ts

import { closeSync, openSync, writeSync } from 'node:fs';
import type { LogOutput } from '../logger/file.js';

/** A log destination that can be reopened (after a rotation) and closed. */
export interface ReopenableLogOutput extends LogOutput {
  /** Closes the file and opens its path again; nothing for standard output. */
  reopen(): void;
  /** Closes the file; later writes are dropped. */
  close(): void;
}

/**
 * Opens `path` for appending, or standard output for `'-'`.
 *
 * @throws Node's error (`ENOENT`, `EACCES`, …) if the file cannot be opened.
 */
export function openLogOutput(path: string): ReopenableLogOutput {
  if (path === '-') {
    return {
      write: (text: string) => process.stdout.write(text),
      reopen: () => undefined,
      close: () => undefined,
    };
  }
  let fd: number | null = openSync(path, 'a');
  return {
    write(text: string): void {
      if (fd === null) return;
      // One write per event with O_APPEND: lines from several worker
      // processes sharing the file do not interleave.
      const bytes = Buffer.from(text);
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
    },
    reopen(): void {
      if (fd === null) return;
      const next = openSync(path, 'a');
      closeSync(fd);
      fd = next;
    },
    close(): void {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
