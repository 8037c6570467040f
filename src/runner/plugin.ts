// TorsionPlugin: what the `torsion` command runs, a named maker of services
// with its options (Twisted: twisted.application.service.IServiceMaker).
// Tests: test/unit/runner/registry.test.ts

import type { AppReactor } from '../app/run-app.js';
import type { IService } from '../app/service.js';
import type { OptionSpec, PluginOptions, PositionalSpec } from './options.js';

/**
 * Where a plugin's one-shot {@link TorsionPlugin.command} writes.
 *
 * @since 0.1.0
 */
export interface PluginCommandIO {
  /** Writes to standard output. */
  readonly stdout: (text: string) => void;
  /** Writes to standard error. */
  readonly stderr: (text: string) => void;
}

/**
 * A plugin of the `torsion` command: `torsion [global options] NAME
 * [options]` parses the options it declares and runs the service it makes.
 *
 * @remarks
 * A package offers plugins by naming their modules in its package.json
 * (`"torsion": { "plugins": ["./dist/my-plugin.js"] }`); such a module
 * exports a plugin, or an array of them, as its default export or as
 * `plugins`. See docs/runner.md.
 *
 * @example
 * ```ts
 * // my-plugin.ts, compiled to dist/my-plugin.js and named in package.json
 * export default {
 *   name: 'hello',
 *   description: 'Greets whoever connects',
 *   options: [{ name: 'listen', type: 'string', default: 'tcp:7000', help: 'where to listen' }],
 *   makeService(options, reactor) {
 *     const endpoint = serverFromString(reactor, options.string('listen'));
 *     return new StreamServerEndpointService(endpoint, Factory.forProtocol(Hello));
 *   },
 * } satisfies TorsionPlugin;
 * ```
 *
 * @see Twisted: twisted.application.service.IServiceMaker
 * @since 0.1.0
 */
export interface TorsionPlugin {
  /** The name the command line gives: `web` in `torsion web`. Letters, digits, `-`, `_` and `.`. */
  readonly name: string;
  /** One line saying what the service does, for `torsion --help`. */
  readonly description: string;
  /** The options it accepts (besides `--help` and `--version`). */
  readonly options?: readonly OptionSpec[];
  /** The positional arguments it accepts, in order. */
  readonly positionals?: readonly PositionalSpec[];
  /**
   * Whether undeclared `--key value` pairs are accepted (into
   * {@link PluginOptions.extra}), and how the help text describes them.
   */
  readonly extraOptions?: string;
  /**
   * Checks the options before anything starts (files exist, modules
   * load); a `UsageError` thrown here (or any error whose `code` is
   * `'ERR_USAGE'`) makes the command exit with status 2, anything else
   * with status 1, its message on one line.
   */
  check?(options: PluginOptions): void | Promise<void>;
  /**
   * A one-shot action some options ask for instead of a service
   * (`torsion proxy --check-rules FILE`), run after {@link check}: a number
   * is the command's exit status and no service starts; `undefined` lets
   * the service run as usual. Errors are reported as {@link check}'s are.
   */
  command?(
    options: PluginOptions,
    io: PluginCommandIO,
  ): number | undefined | Promise<number | undefined>;
  /**
   * Makes the service to run: the command starts it, and stops it on
   * SIGINT or SIGTERM.
   */
  makeService(options: PluginOptions, reactor: AppReactor): IService | Promise<IService>;
}
