// Internal: the "bytes are bytes" check shared by the test transports
// (Twisted: twisted.internet.abstract._dataMustBeBytes).
// Tests: test/unit/testing/string-transport.test.ts, iosim.test.ts, protocols.test.ts

/**
 * Throws a TypeError unless `data` is a Uint8Array (a Buffer is one).
 *
 * @param data - What was passed to a write method.
 * @param method - The method's name, for the message.
 * @internal
 */
export function checkBytes(data: unknown, method: string): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    const got =
      data === null
        ? 'null'
        : typeof data === 'object'
          ? ((data as { constructor?: { name?: string } }).constructor?.name ?? 'object')
          : typeof data;
    throw new TypeError(`${method}() expects Uint8Array, got ${got}`);
  }
}

/**
 * Checks each chunk of a `writeSequence` and returns them as an array.
 *
 * @internal
 */
export function checkByteSequence(data: Iterable<Uint8Array>, method: string): Uint8Array[] {
  const chunks = Array.from(data);
  for (const chunk of chunks) checkBytes(chunk, method);
  return chunks;
}
