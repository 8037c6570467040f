/**
 * The `torsion` command (Twisted's `twist`): what a plugin is and gets
 * (`TorsionPlugin`, `PluginOptions`, `OptionSpec`, `UsageError`), the
 * registry that finds plugins in package.json files, and `main`, which
 * bin/torsion.js runs. See docs/runner.md.
 *
 * @example
 * ```ts
 * // A package's plugin module, named in its package.json:
 * // "torsion": { "plugins": ["./dist/plugin.js"] }
 * import { UsageError, type TorsionPlugin } from 'torsion/runner';
 *
 * export default {
 *   name: 'hello',
 *   description: 'Greets whoever connects',
 *   options: [{ name: 'listen', type: 'string', default: 'tcp:7000', help: 'where to listen' }],
 *   check(options) {
 *     if (!options.string('listen').startsWith('tcp:')) throw new UsageError('--listen: TCP only');
 *   },
 *   makeService: (options, reactor) => makeHelloService(options.string('listen'), reactor),
 * } satisfies TorsionPlugin;
 * ```
 *
 * @module torsion/runner
 */
// Tests: test/unit/runner/main.test.ts, test/unit/runner/options.test.ts,
// test/unit/runner/registry.test.ts, test/unit/runner/plugins.test.ts

export { BUILTIN_PLUGINS, type PluginEntry } from './builtins.js';
export { formatPluginHelp, formatUsage } from './help.js';
export {
  isUsageError,
  type MainOptions,
  main,
  type PluginArguments,
  packageVersion,
  parsePluginArguments,
  type RunApp,
  runAppOptions,
} from './main.js';
export {
  type CommandLine,
  type CommandLineError,
  GLOBAL_OPTIONS,
  type GlobalOptions,
  type HelpRequest,
  type OptionSpec,
  type OptionValue,
  type ParseArgumentsOptions,
  type ParsedArguments,
  type ParsedOptions,
  type ParseFailure,
  type PluginCommand,
  PluginOptions,
  type PositionalSpec,
  parseArguments,
  parseCommandLine,
  UsageError,
  type VersionRequest,
} from './options.js';
export type { TorsionPlugin } from './plugin.js';
export {
  type DeclaredPluginModule,
  type Discovery,
  discoverPluginModules,
  type ListedPlugin,
  PluginRegistry,
} from './registry.js';
