// What the example servers share on the command line: reading a port
// argument, and turning a bad argument or a port in use into one line and
// the usage text instead of a stack trace.

/** A command-line argument the program cannot use. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The port number in `text`, or `fallback` when there is none.
 *
 * @throws UsageError if `text` is not a whole number from 0 to 65535.
 */
export function portArgument(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(`the port must be a number from 0 to 65535, not '${text}'`);
  }
  return port;
}

/**
 * Runs `start`; if it throws (a bad argument, a port in use), prints the
 * error's message and the usage on standard error and exits with status 2.
 */
export function startOrExit<T>(usage: string, start: () => T): T {
  try {
    return start();
  } catch (error) {
    return exitWithUsage(usage, error);
  }
}

/**
 * Waits for what `start` gives (a Deferred or promise, such as an
 * endpoint's `listen`); if `start` throws or that fails (a bad endpoint
 * string, a port in use), prints the error's message and the usage on
 * standard error and exits with status 2.
 */
export async function listenOrExit<T>(usage: string, start: () => PromiseLike<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    return exitWithUsage(usage, error);
  }
}

function exitWithUsage(usage: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\nusage: ${usage}\n`);
  process.exit(2);
}
