// The simulation's one source of randomness: a small seeded generator
// (sfc32), so that a seed fixes every jitter, loss and fault of a run.
// Tests: test/unit/testing/simulation-core.test.ts

/**
 * A seeded generator of uniform numbers in [0, 1) (the sfc32 algorithm):
 * the same seed gives the same sequence on every platform.
 *
 * @example
 * ```ts
 * const random = new SeededRandom(42);
 * const delay = 0.1 + random.next() * 0.05;
 * ```
 *
 * @since 0.1.0
 */
export class SeededRandom {
  /** The seed it was made with. */
  readonly seed: number;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * @param seed - A whole number (taken modulo 2^32).
   * @throws TypeError if `seed` is not a finite number.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new TypeError(`a simulation seed must be a finite number, got ${String(seed)}`);
    }
    this.seed = seed;
    // splitmix32 spreads the seed over the four words of state.
    let s = Math.trunc(seed) >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** The next number, uniform in [0, 1). */
  next(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** A whole number in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An exponentially distributed delay with the given rate (events per second). */
  exponential(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }
}
