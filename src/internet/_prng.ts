// Internal: a small seeded pseudo-random generator (mulberry32) and a hash
// that derives independent seeds from one, for the fault injector and the
// chunk-boundary fuzzer: the same seed gives the same numbers on every
// platform, with no dependency.
// Tests: test/unit/protocols/policies/faults.test.ts, test/unit/testing/chunkings.test.ts

/**
 * A 32-bit hash of `values` (each taken as an unsigned 32-bit integer):
 * derives a seed for one purpose from a seed and some indices.
 */
export function hashSeed(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const value of values) {
    h = Math.imul(h ^ (value >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    h = Math.imul(h, 0x297a2d39);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** A seeded generator of uniform numbers (mulberry32); not for cryptography. */
export class Prng {
  #state: number;

  /** @param seed - Any number; taken as an unsigned 32-bit integer. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A number from `min` to `max` (`max` itself is not drawn unless `min === max`). */
  between(min: number, max: number): number {
    return min === max ? min : min + this.next() * (max - min);
  }
}
