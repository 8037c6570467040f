// Writing endpoint descriptions: the quoting of arguments, and what each
// endpoint's toString() builds its description with (strings.ts reads them).
// Tests: test/unit/internet/endpoints-strings.test.ts

/**
 * Escapes `argument` for use inside an endpoint description: a backslash
 * before each `\`, `:` and `=`.
 *
 * @remarks
 * Use it when building a description from a value, such as a file name that
 * may contain colons: `` `unix:${quoteStringArgument(path)}` ``.
 *
 * Differences from Twisted: `=` is escaped too, so that a positional
 * argument containing one (a path, say) is not read as an option.
 *
 * @example
 * ```ts
 * quoteStringArgument('C:\\keys\\a.pem'); // 'C\\:\\\\keys\\\\a.pem'
 * ```
 *
 * @param argument - The text to escape.
 * @returns The escaped text.
 * @see Twisted: twisted.internet.endpoints.quoteStringArgument
 * @since 0.1.0
 */
export function quoteStringArgument(argument: string): string {
  return argument.replace(/[\\:=]/g, (c) => `\\${c}`);
}

/** Builds a description from its type, positional arguments and options (undefined ones left out). */
export function describe(
  type: string,
  positional: readonly (string | number)[],
  options: ReadonlyArray<readonly [string, string | number | undefined]>,
): string {
  const parts = [type, ...positional.map((p) => quoteStringArgument(String(p)))];
  for (const [key, value] of options) {
    if (value !== undefined) parts.push(`${key}=${quoteStringArgument(String(value))}`);
  }
  return parts.join(':');
}

/**
 * The description arguments TLS settings were loaded from, by the settings
 * object the parser made: what lets an SSL endpoint describe itself.
 */
export const tlsSources = new WeakMap<object, ReadonlyArray<readonly [string, string]>>();
