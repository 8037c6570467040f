// Internal: a table from host names, domains or labels to the rules filed
// under them, looked up by a hash and a part of the request's host, so that
// the host is checked against every suffix and label of it while hashing each
// character once and making no string.
// Tests: test/unit/web/proxy/rules.test.ts

/**
 * Adds character code `c` to `h`. Keys are hashed from their last character
 * to their first, as the walk over a host goes (so that each suffix's hash is
 * the one before it with more characters added).
 */
export function hashStep(h: number, c: number): number {
  return (Math.imul(h, 31) + c) | 0;
}

/** The hash of `key`, from its last character to its first. */
export function hashKey(key: string): number {
  let h = 0;
  for (let i = key.length - 1; i >= 0; i--) h = hashStep(h, key.charCodeAt(i));
  return h;
}

/** The values filed under one key. */
interface Entry<T> {
  readonly key: string;
  readonly hash: number;
  readonly values: T[];
}

/**
 * Lists of values filed by string keys, found by the key's hash and a part
 * of a host, with no string made.
 *
 * @remarks
 * A `Map` lookup with a string sliced from the host would make a string and
 * hash it in V8's runtime, which costs more than the rest of a decision. So
 * this is an open-addressing table of its own: slots in an `Int32Array`, at
 * most a quarter full, so that a miss mostly ends at an empty slot, and a
 * hit compares a hash and then characters.
 */
export class HostIndex<T> {
  readonly #entries: Entry<T>[] = [];
  /** Each slot: 0 when empty, else an index into #entries plus 1. */
  #slots = new Int32Array(16);

  /** How many keys are filed. */
  get size(): number {
    return this.#entries.length;
  }

  /** Files `value` under `key`, after those filed before. */
  add(key: string, value: T): void {
    const hash = hashKey(key);
    const found = this.find(hash, key, 0, key.length) as T[] | undefined;
    if (found !== undefined) {
      found.push(value);
      return;
    }
    this.#entries.push({ key, hash, values: [value] });
    if (this.#entries.length * 4 > this.#slots.length) {
      this.#slots = new Int32Array(this.#slots.length * 2);
      for (let i = 0; i < this.#entries.length; i++) this.#place(i);
    } else this.#place(this.#entries.length - 1);
  }

  /** Puts entry `index` in the first free slot from its hash on. */
  #place(index: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let slot = (this.#entries[index] as Entry<T>).hash & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = index + 1;
  }

  /**
   * The values filed under `host.slice(from, end)`, whose {@link hashKey}
   * is `h`; `undefined` when there are none.
   */
  find(h: number, host: string, from: number, end: number): readonly T[] | undefined {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const length = end - from;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const index = slots[slot] as number;
      if (index === 0) return undefined;
      const entry = this.#entries[index - 1] as Entry<T>;
      if (entry.hash !== h || entry.key.length !== length) continue;
      const key = entry.key;
      let i = 0;
      while (i < length && key.charCodeAt(i) === host.charCodeAt(from + i)) i++;
      if (i === length) return entry.values;
    }
  }
}
