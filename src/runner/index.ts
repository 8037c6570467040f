/**
 * The `torsion` command (Twisted's `twist`): what a plugin is and gets
 * (`TorsionPlugin`, `PluginOptions`, `OptionSpec`, `UsageError`), the
 * registry that finds plugins in package.json files, and `main`, which
 * bin/torsion.js runs. See docs/runner.md.
 *
 * @example
 * ```ts
 * // plugin.js, declared in its package's package.json: "torsion": { "plugins": ["./dist/plugin.js"] }
 * import { MultiService } from 'torsion/app';
 * import { type TorsionPlugin, UsageError } from 'torsion/runner';
 *
 * export default {
 *   name: 'idle',
 *   description: 'A service that does nothing until it is stopped',
 *   options: [{ name: 'label', type: 'string', default: 'idle', help: 'its name' }],
 *   check: (options) => {
 *     if (options.string('label') === '') throw new UsageError('--label: give a name');
 *   },
 *   makeService: () => new MultiService(),
 * } satisfies TorsionPlugin;
 * ```
 *
 * @module torsion/runner
 * @primaryExport
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
export type { PluginCommandIO, TorsionPlugin } from './plugin.js';
export {
  type DeclaredPluginModule,
  type Discovery,
  discoverPluginModules,
  type ListedPlugin,
  PluginRegistry,
} from './registry.js';
