// The seed of a simulated test, and a wrapper that prints it when the test
// fails, so that any failing run is one command to reproduce.
// Tests: test/unit/testing/simulation-core.test.ts

import { SimulatedNetwork, type SimulatedNetworkOptions } from './network.js';

/**
 * The seed for a simulation: `SIMULATION_SEED` from the environment if set,
 * else `fallback`.
 *
 * @param fallback - The seed when the environment gives none. Default 1.
 * @returns A whole number.
 * @throws RangeError if `SIMULATION_SEED` is not a whole number.
 * @since 0.1.0
 */
export function simulationSeed(fallback = 1): number {
  const raw = process.env.SIMULATION_SEED;
  if (raw === undefined || raw.trim() === '') return fallback;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) {
    throw new RangeError(`SIMULATION_SEED must be a whole number, got ${JSON.stringify(raw)}`);
  }
  return seed;
}

/**
 * Runs `fn` with a new {@link SimulatedNetwork}; if it throws (or its
 * promise rejects), writes the seed and the command line that reproduces
 * the run to stderr, adds the seed to the error's message, and rethrows.
 *
 * @remarks
 * Without a seed, {@link simulationSeed} chooses (`SIMULATION_SEED`, else 1).
 *
 * @example
 * ```ts
 * test('chat over a lossy network', () =>
 *   withSimulation((network) => {
 *     const server = network.addHost('server');
 *     // …
 *   }));
 * ```
 *
 * @param seedOrFn - The seed, or `fn`.
 * @param fnOrOptions - `fn`, or the options when the first argument is `fn`.
 * @param maybeOptions - Options of the network (its seed is the one chosen here).
 * @returns What `fn` returns.
 * @since 0.1.0
 */
export async function withSimulation<T>(
  seedOrFn: number | ((network: SimulatedNetwork) => T | Promise<T>),
  fnOrOptions?: ((network: SimulatedNetwork) => T | Promise<T>) | SimulatedNetworkOptions,
  maybeOptions: SimulatedNetworkOptions = {},
): Promise<T> {
  let seed: number;
  let fn: (network: SimulatedNetwork) => T | Promise<T>;
  let options: SimulatedNetworkOptions;
  if (typeof seedOrFn === 'function') {
    fn = seedOrFn;
    options = (fnOrOptions as SimulatedNetworkOptions | undefined) ?? {};
    seed = simulationSeed(options.seed ?? 1);
  } else {
    seed = seedOrFn;
    if (typeof fnOrOptions !== 'function') throw new TypeError('withSimulation needs a function');
    fn = fnOrOptions;
    options = maybeOptions;
  }
  const network = new SimulatedNetwork({ ...options, seed });
  try {
    return await fn(network);
  } catch (error) {
    const note = `simulation failed with seed ${seed} at t=${network.seconds()}s; reproduce with SIMULATION_SEED=${seed} ${commandLine()}`;
    process.stderr.write(`${note}\n`);
    if (error instanceof Error && !error.message.includes(`seed ${seed}`)) {
      try {
        error.message = `${error.message}\n(${note})`;
      } catch {
        // A read-only message: the note on stderr has to do.
      }
    }
    throw error;
  }
}

function commandLine(): string {
  const args = process.argv
    .slice(1)
    .map((arg) => (/^[\w./:=-]+$/.test(arg) ? arg : JSON.stringify(arg)));
  return ['node', ...process.execArgv, ...args].join(' ');
}
