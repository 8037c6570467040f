// transfer(): marks an argument or a result whose buffers move to the other
// thread instead of being copied (worker_threads' transfer list).
// Tests: test/unit/workers/pool.test.ts

import type { Transferable } from 'node:worker_threads';

const TRANSFER = Symbol.for('torsion.workers.transfer');

/**
 * A value sent with a transfer list; made by {@link transfer}.
 *
 * @since 0.1.0
 */
export interface Transfer<T> {
  /** The value sent. */
  readonly value: T;
  /** What moves instead of being copied (an `ArrayBuffer`, a `MessagePort`, …). */
  readonly transferList: readonly Transferable[];
  /** @internal */
  readonly [TRANSFER]: true;
}

/**
 * Sends `value` to a worker (as an argument of `deferToWorker`) or back from
 * it (as a job's result), moving `transferList` instead of copying it.
 *
 * @remarks
 * A transferred `ArrayBuffer` is detached on the sending side: its length
 * becomes 0 there. Transfer large buffers that the sender no longer needs.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(64 * 2 ** 20);
 * const digest = await deferToWorker(hashUrl, 'sha256', transfer(bytes, [bytes.buffer]));
 * ```
 *
 * @param value - What to send.
 * @param transferList - Objects inside `value` to move.
 * @since 0.1.0
 */
export function transfer<T>(value: T, transferList: readonly Transferable[]): Transfer<T> {
  return { value, transferList, [TRANSFER]: true };
}

/** Whether `value` was made by {@link transfer}. @internal */
export function isTransfer(value: unknown): value is Transfer<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[TRANSFER] === true
  );
}
