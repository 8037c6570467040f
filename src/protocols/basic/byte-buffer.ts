// The receive buffer every framing receiver of torsion/protocols/basic parses
// from (ByteBuffer: a borrowed chunk behind an owned tail, lines and strings
// handed out as views), and the small byte helpers the receivers share.
// Internal: not exported from torsion/protocols/basic.
// Tests: test/unit/protocols/basic-line.test.ts, test/unit/protocols/basic-lineonly.test.ts,
// test/unit/protocols/basic-netstring.test.ts, test/unit/protocols/basic-intn.test.ts,
// test/fuzz/basic.test.ts

import { BufferView } from './_buffer-view.js';

/** An empty Buffer: what an idle ByteBuffer holds. */
export const EMPTY = Buffer.alloc(0);

/** Views `data` as a Buffer without copying. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Bytes as given, or a string encoded as UTF-8. */
export function toBytes(line: Uint8Array | string): Uint8Array {
  return typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
}

/**
 * The bytes received and not yet consumed: an owned tail (bytes left over
 * from earlier chunks) followed by the chunk being parsed, which is borrowed
 * from the caller and read in place.
 *
 * Only a line that spans the two is copied; everything else is delivered as
 * a view. Before the caller's chunk goes away, what is left of it is copied
 * into the tail (`keep`). The tail's store grows by doubling and is never
 * overwritten below its end, so views of it (lines delivered) stay valid.
 */
export class ByteBuffer {
  #tail: Buffer = EMPTY;
  /** The tail's `buffer` and `byteOffset`, read once per store. */
  #tailMemory: ArrayBufferLike = EMPTY.buffer;
  #tailBase = 0;
  #tailStart = 0;
  #tailEnd = 0;
  #chunk: Buffer = EMPTY;
  /**
   * The chunk's `buffer` and `byteOffset`, read when the first view of it is
   * made: each read costs a call, and a line is a view.
   */
  #chunkMemory: ArrayBufferLike | undefined;
  #chunkBase = 0;
  #chunkStart = 0;
  #chunkEnd = 0;
  /**
   * Where the next delimiter search begins, counted in buffered bytes from
   * the start: bytes before it hold no delimiter start, so a long line is
   * never searched twice.
   */
  #searched = 0;
  /**
   * How many bytes, counted from the start, the reader is waiting for (0 if
   * unknown): the tail's store grows no larger than that, so a long string
   * is not over-allocated. Reset by every `take`.
   */
  #expected = 0;

  get length(): number {
    return this.#tailEnd - this.#tailStart + (this.#chunkEnd - this.#chunkStart);
  }

  /** True while a dispatch loop runs over this buffer. */
  #dispatching = false;

  /**
   * Adds received bytes and runs `dispatch` (a receiver's parsing loop) on
   * them, unless a dispatch is already running further up the stack (a
   * callback fed more bytes): then the bytes are queued, copied since the
   * caller may reuse them, and the running loop takes them next, in order.
   * Afterwards what is left is kept, as the caller's chunk may be reused.
   */
  receive<T>(data: Uint8Array, dispatch: (this: T) => void, owner: T): void {
    this.append(asBuffer(data));
    if (this.#dispatching) {
      this.keep();
      return;
    }
    this.#dispatching = true;
    try {
      dispatch.call(owner);
    } finally {
      this.#dispatching = false;
      this.keep();
    }
  }

  /** Adds a received chunk: borrowed if nothing of the last one is left, copied otherwise. */
  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#chunkEnd > this.#chunkStart) {
      // A chunk is still being parsed (a nested dataReceived): queue behind it.
      this.keep();
    }
    if (this.#tailEnd === this.#tailStart && this.#chunkEnd === this.#chunkStart)
      this.#searched = 0;
    this.#chunk = chunk;
    this.#chunkMemory = undefined;
    this.#chunkStart = 0;
    this.#chunkEnd = chunk.length;
  }

  /**
   * Copies what is left of the borrowed chunk into the tail. With nothing
   * left at all, the tail's store is released: an idle receiver holds no
   * buffer.
   */
  keep(): void {
    const left = this.#chunkEnd - this.#chunkStart;
    if (left > 0) {
      this.#appendChunkToTail(this.#chunkStart, this.#chunkEnd);
    } else if (this.#tailEnd === this.#tailStart) {
      this.#setTail(EMPTY, 0);
    }
    this.#dropChunk();
  }

  /** Copies the chunk's bytes `from`–`to` to the end of the tail, growing its store if needed. */
  #appendChunkToTail(from: number, to: number): void {
    const length = to - from;
    const tailLength = this.#tailEnd - this.#tailStart;
    if (this.#tailEnd + length > this.#tail.length) {
      // A new store: the old one keeps backing the lines already delivered.
      // It doubles (at most twice what was received, so a length announced
      // by the peer allocates nothing by itself), capped at what a length
      // prefix said is coming.
      const needed = tailLength + length;
      let size = Math.max(needed * 2, 1024);
      if (this.#expected > needed && this.#expected < size) size = this.#expected;
      const store = Buffer.allocUnsafe(size);
      this.#tail.copy(store, 0, this.#tailStart, this.#tailEnd);
      this.#setTail(store, tailLength);
    }
    const tail = this.#tail;
    const end = this.#tailEnd;
    if (length <= 16) {
      const chunk = this.#chunk;
      for (let i = 0; i < length; i++) tail[end + i] = chunk[from + i] as number;
    } else {
      // What Buffer#copy does, without its argument checks: about half the cost.
      tail.set(this.#chunkView(from, length), end);
    }
    this.#tailEnd = end + length;
  }

  /** Takes everything buffered. */
  takeAll(): Buffer {
    const tailLength = this.#tailEnd - this.#tailStart;
    const chunkLength = this.#chunkEnd - this.#chunkStart;
    let all: Buffer;
    if (chunkLength === 0) all = this.#tailView(this.#tailStart, tailLength);
    else if (tailLength === 0) all = this.#chunkView(this.#chunkStart, chunkLength);
    else {
      all = Buffer.allocUnsafe(tailLength + chunkLength);
      this.#tail.copy(all, 0, this.#tailStart, this.#tailEnd);
      this.#chunk.copy(all, tailLength, this.#chunkStart, this.#chunkEnd);
    }
    this.clear();
    return all;
  }

  clear(): void {
    this.#setTail(EMPTY, 0);
    this.#dropChunk();
    this.#searched = 0;
    this.#expected = 0;
  }

  /** A copy of everything buffered, leaving it buffered. */
  copyAll(): Buffer {
    const all = Buffer.allocUnsafe(this.length);
    this.#tail.copy(all, 0, this.#tailStart, this.#tailEnd);
    this.#chunk.copy(all, this.#tailEnd - this.#tailStart, this.#chunkStart, this.#chunkEnd);
    return all;
  }

  /** The buffered byte at `index` (which must be below `length`). */
  byteAt(index: number): number {
    const inTail = index + this.#tailStart;
    if (inTail < this.#tailEnd) return this.#tail[inTail] as number;
    return this.#chunk[this.#chunkStart + index - (this.#tailEnd - this.#tailStart)] as number;
  }

  /**
   * Reads the first `size` buffered bytes (1 to 6, at most `length`) as a
   * big-endian unsigned integer, leaving them buffered.
   */
  readUIntBE(size: number): number {
    const tailLength = this.#tailEnd - this.#tailStart;
    if (tailLength === 0) return this.#chunk.readUIntBE(this.#chunkStart, size);
    if (tailLength >= size) return this.#tail.readUIntBE(this.#tailStart, size);
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.byteAt(i);
    return value;
  }

  /** Notes that the reader waits for `count` bytes from the start (see `#expected`). */
  expect(count: number): void {
    this.#expected = count;
  }

  /** Drops the first `count` buffered bytes (at most `length`). */
  skip(count: number): void {
    this.#expected = 0;
    this.#searched = Math.max(this.#searched - count, 0);
    const tailLength = this.#tailEnd - this.#tailStart;
    if (count <= tailLength) {
      this.#tailStart += count;
    } else {
      this.#resetTail();
      this.#chunkStart += count - tailLength;
    }
  }

  /**
   * Drops `skipped` bytes and takes the `count` after them (together at most
   * `length`): a length prefix and its string, in one call.
   */
  takeAfter(skipped: number, count: number): Buffer {
    if (this.#tailEnd === this.#tailStart) {
      // The usual case, a whole frame in the chunk: one view, no bookkeeping.
      this.#expected = 0;
      this.#searched = 0;
      const from = this.#chunkStart + skipped;
      this.#chunkStart = from + count;
      return this.#chunkView(from, count);
    }
    this.skip(skipped);
    return this.take(count);
  }

  /**
   * Takes the first `count` buffered bytes (at most `length`) as one Buffer:
   * a view, copied only if it spans the tail and the chunk.
   */
  take(count: number): Buffer {
    this.#expected = 0;
    this.#searched = Math.max(this.#searched - count, 0);
    const tailLength = this.#tailEnd - this.#tailStart;
    if (tailLength === 0) {
      const taken = this.#chunkView(this.#chunkStart, count);
      this.#chunkStart += count;
      return taken;
    }
    if (count <= tailLength) {
      const taken = this.#tailView(this.#tailStart, count);
      this.#tailStart += count;
      return taken;
    }
    const fromChunk = count - tailLength;
    this.#appendChunkToTail(this.#chunkStart, this.#chunkStart + fromChunk);
    const taken = this.#tailView(this.#tailStart, count);
    this.#resetTail();
    this.#chunkStart += fromChunk;
    return taken;
  }

  /**
   * Takes the next line ending in `delimiter` (without it), or returns
   * `undefined` if no complete line is buffered. `maxLength` is checked by
   * the caller on the line's length; `lineLength` reports it without
   * building the line (for the oversized case).
   */
  nextLine(delimiter: Uint8Array): Buffer | undefined {
    if (this.#tailEnd !== this.#tailStart) return this.#nextLineWithTail(delimiter);
    // The usual case: nothing left in the tail, the line is a view of the chunk.
    const chunk = this.#chunk;
    const chunkStart = this.#chunkStart;
    const at = findIn(chunk, chunkStart + this.#searched, this.#chunkEnd, delimiter);
    if (at === -1) {
      this.#searched = Math.max(this.#chunkEnd - chunkStart - delimiter.length + 1, 0);
      return undefined;
    }
    this.#chunkStart = at + delimiter.length;
    this.#searched = 0;
    return this.#chunkView(chunkStart, at - chunkStart);
  }

  /** `nextLine` when bytes are left in the tail: the line may start there. */
  #nextLineWithTail(delimiter: Uint8Array): Buffer | undefined {
    const dl = delimiter.length;
    const tail = this.#tail;
    const tailLength = this.#tailEnd - this.#tailStart;
    // In the tail itself (bytes queued by a nested dataReceived). Usually
    // the tail is what was left after a search, so this is skipped; it must
    // be, since indexOf would also scan the store's unused space.
    const tailFrom = this.#tailStart + this.#searched;
    const inTailAt =
      tailFrom + dl <= this.#tailEnd ? findIn(tail, tailFrom, this.#tailEnd, delimiter) : -1;
    if (inTailAt !== -1) {
      const line = this.#tailView(this.#tailStart, inTailAt - this.#tailStart);
      this.#tailStart = inTailAt + dl;
      this.#searched = 0;
      if (this.#tailStart === this.#tailEnd) this.#resetTail();
      return line;
    }
    // Straddling the tail's end and the chunk's start.
    const chunk = this.#chunk;
    const chunkStart = this.#chunkStart;
    const chunkLength = this.#chunkEnd - chunkStart;
    for (let inTail = Math.min(dl - 1, tailLength); inTail >= 1; inTail--) {
      if (dl - inTail > chunkLength) continue;
      const from = this.#tailEnd - inTail;
      let k = 0;
      while (k < inTail && tail[from + k] === delimiter[k]) k++;
      if (k < inTail) continue;
      while (k < dl && chunk[chunkStart + k - inTail] === delimiter[k]) k++;
      if (k < dl) continue;
      const line = this.#tailView(this.#tailStart, from - this.#tailStart);
      this.#resetTail();
      this.#chunkStart += dl - inTail;
      this.#searched = 0;
      return line;
    }
    // In the chunk: the line is the tail plus the chunk's head, appended to the tail's store.
    const searchFrom = Math.max(this.#searched - tailLength, 0);
    const at = findIn(chunk, chunkStart + searchFrom, this.#chunkEnd, delimiter);
    if (at === -1) {
      this.#searched = Math.max(this.length - dl + 1, 0);
      return undefined;
    }
    this.#appendChunkToTail(chunkStart, at);
    const line = this.#tailView(this.#tailStart, this.#tailEnd - this.#tailStart);
    this.#resetTail();
    this.#chunkStart = at + dl;
    this.#searched = 0;
    return line;
  }

  /** Empties the tail, keeping its store for what comes next (never writing below its end). */
  #resetTail(): void {
    this.#tailStart = this.#tailEnd;
  }

  /** Makes `store` the tail's store, holding `length` bytes from its start. */
  #setTail(store: Buffer, length: number): void {
    this.#tail = store;
    this.#tailMemory = store.buffer;
    this.#tailBase = store.byteOffset;
    this.#tailStart = 0;
    this.#tailEnd = length;
  }

  /** A view of `length` bytes of the tail's store from `offset`. */
  #tailView(offset: number, length: number): Buffer {
    return new BufferView(this.#tailMemory, this.#tailBase + offset, length);
  }

  /** A view of `length` bytes of the chunk from `offset`. */
  #chunkView(offset: number, length: number): Buffer {
    let memory = this.#chunkMemory;
    if (memory === undefined) {
      memory = this.#chunkMemory = this.#chunk.buffer;
      this.#chunkBase = this.#chunk.byteOffset;
    }
    return new BufferView(memory, this.#chunkBase + offset, length);
  }

  #dropChunk(): void {
    this.#chunk = EMPTY;
    this.#chunkMemory = undefined;
    this.#chunkStart = 0;
    this.#chunkEnd = 0;
  }
}

/**
 * The index of `delimiter` in `data` between `from` and `end`, or -1.
 * Searches for the delimiter's first byte and checks the rest: a one-byte
 * `indexOf` is a memchr, several times faster than a multi-byte search.
 */
function findIn(data: Buffer, from: number, end: number, delimiter: Uint8Array): number {
  const dl = delimiter.length;
  const first = delimiter[0] as number;
  let at = data.indexOf(first, from);
  while (at !== -1 && at + dl <= end) {
    let k = 1;
    while (k < dl && data[at + k] === delimiter[k]) k++;
    if (k === dl) return at;
    at = data.indexOf(first, at + 1);
  }
  return -1;
}
