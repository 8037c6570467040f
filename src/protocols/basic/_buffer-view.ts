// Internal: Buffer views of received bytes made as cheaply as Node allows.
// A line or string handed to a protocol is a view, one per message, so this
// cost is paid per message on every receiver's hot path.
// Tests: test/unit/protocols/buffer-view.test.ts

/**
 * Makes a `Buffer` over `length` bytes of `memory` from `byteOffset`,
 * without copying.
 *
 * @internal
 */
export type BufferViewConstructor = new (
  memory: ArrayBufferLike,
  byteOffset: number,
  length: number,
) => Buffer;

function fromArrayBuffer(memory: ArrayBufferLike, byteOffset: number, length: number): Buffer {
  return Buffer.from(memory, byteOffset, length);
}

/**
 * Node's own constructor of Buffer instances, as `Buffer#subarray` finds it
 * (through `Symbol.species`), if `candidate` is that and makes genuine
 * Buffers; otherwise a function calling `Buffer.from(memory, …)`, which
 * makes the same views after argument checks that cost about twice the view
 * itself.
 *
 * @param candidate - What `Buffer[Symbol.species]` gives (a parameter so
 *   that tests can try the fallback).
 * @internal
 */
export function findBufferViewConstructor(
  candidate: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species],
): BufferViewConstructor {
  if (typeof candidate === 'function' && candidate !== Buffer) {
    try {
      const probe: unknown = Reflect.construct(candidate, [new ArrayBuffer(2), 1, 1]);
      if (
        Buffer.isBuffer(probe) &&
        Object.getPrototypeOf(probe) === Buffer.prototype &&
        probe.byteOffset === 1 &&
        probe.length === 1
      ) {
        return candidate as BufferViewConstructor;
      }
    } catch {
      // Not constructible this way: fall back.
    }
  }
  return fromArrayBuffer as unknown as BufferViewConstructor;
}

/**
 * The constructor `findBufferViewConstructor` found: `new BufferView(memory,
 * byteOffset, length)`.
 *
 * @internal
 */
export const BufferView: BufferViewConstructor = findBufferViewConstructor();
