// The `torsion` command: parses the command line, finds the plugin, and
// runs the service it makes with runApp
// (Twisted: twisted.application.twist._twist.Twist, the `twist` command).
// Tests: test/unit/runner/main.test.ts, test/integration/runner/cli.test.ts

import { readFileSync } from 'node:fs';
import type { RunAppOptions, ServiceMaker } from '../app/run-app.js';
import { checkFaultsOnLoopback, faultInjectingReactor } from './_faults.js';
import { formatPluginHelp, formatUsage } from './help.js';
import {
  GLOBAL_OPTION_NAMES,
  type GlobalOptions,
  type HelpRequest,
  type ParseFailure,
  PluginOptions,
  parseArguments,
  parseCommandLine,
  UsageError,
  type VersionRequest,
} from './options.js';
import type { TorsionPlugin } from './plugin.js';
import { discoverPluginModules, PluginRegistry } from './registry.js';

/**
 * What `main` calls to run the service: torsion/app's `runApp`, or a
 * stand-in in tests.
 *
 * @since 0.1.0
 */
export type RunApp = (maker: ServiceMaker, options: RunAppOptions) => Promise<number>;

/**
 * What `main` reads and writes; every field has a default (the process's
 * streams and directory, runApp, the discovered plugins).
 *
 * @since 0.1.0
 */
export interface MainOptions {
  /** Writes to standard output. */
  readonly stdout?: (text: string) => void;
  /** Writes to standard error. */
  readonly stderr?: (text: string) => void;
  /** The directory plugins are discovered from and `run` resolves modules against. */
  readonly cwd?: string;
  /** Runs the service. Default: torsion/app's runApp. */
  readonly runApp?: RunApp;
  /** The plugins. Default: the built-in ones and those discovered from `cwd`. */
  readonly registry?: PluginRegistry;
  /** What `--version` prints. Default: the package's version. */
  readonly version?: string;
}

const PROGRAM = 'torsion';

/** The package's version, from its package.json (dist/src/runner/ is three levels down). */
export function packageVersion(): string {
  const pkg: unknown = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  );
  const version = (pkg as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}

/** The options runApp gets for `global`. */
export function runAppOptions(global: GlobalOptions): RunAppOptions {
  return {
    logLevel: global.logLevel,
    logFormat: global.logFormat,
    logFile: global.logFile,
    shutdownTimeout: global.shutdownTimeout,
    workers: global.workers,
    ...(global.pidFile === undefined ? {} : { pidFile: global.pidFile }),
    programName: PROGRAM,
  };
}

/**
 * Whether `error` reports a bad command line: a {@link UsageError}, or any
 * error whose `code` is `'ERR_USAGE'` (a plugin from another copy of the
 * package, or one that does not import this module, can throw that).
 */
export function isUsageError(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    (error instanceof Error && (error as { code?: unknown }).code === 'ERR_USAGE')
  );
}

/** The first line of an error's message. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? '';
}

/**
 * A plugin's parsed arguments, or what was asked for instead.
 *
 * @since 0.1.0
 */
export type PluginArguments =
  | {
      /** Always `'options'`. */
      readonly kind: 'options';
      /** The options, for the plugin's `check` and `makeService`. */
      readonly options: PluginOptions;
    }
  | HelpRequest
  | VersionRequest
  | ParseFailure;

/**
 * Parses a plugin's arguments; relative paths in them will be resolved
 * against `cwd`.
 *
 * @returns The options, or what was asked for instead (`help`, `version`),
 *   or a one-line error.
 * @since 0.1.0
 */
export function parsePluginArguments(
  plugin: TorsionPlugin,
  args: readonly string[],
  cwd: string = process.cwd(),
): PluginArguments {
  const parsed = parseArguments(plugin.options ?? [], args, {
    positionals: plugin.positionals ?? [],
    allowExtra: plugin.extraOptions !== undefined,
    elsewhere: {
      names: GLOBAL_OPTION_NAMES,
      hint: `is a global option: put it before the plugin name "${plugin.name}"`,
    },
  });
  if (parsed.kind !== 'parsed') return parsed;
  return {
    kind: 'options',
    options: new PluginOptions(parsed.values, parsed.positional, parsed.extra, cwd),
  };
}

/** runApp, loaded when a plugin runs (not for help or errors); it loads the default reactor itself. */
const defaultRunApp: RunApp = async (maker, options) => {
  const { runApp } = await import('../app/run-app.js');
  return runApp(maker, options);
};

/**
 * Runs the `torsion` command with `argv` (the arguments after the program
 * name): help, the version, or a plugin's service until it is stopped.
 *
 * @returns The exit status: 0 (help, the version, or the service stopped
 *   cleanly), 1 (the service could not start), 2 (a bad command line).
 *   Errors are written on one line to standard error, prefixed `torsion:`.
 * @see Twisted: twisted.application.twist._twist.Twist.main
 * @since 0.1.0
 */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = options.stderr ?? ((text: string) => void process.stderr.write(text));
  const cwd = options.cwd ?? process.cwd();
  let registry = options.registry;
  const getRegistry = (): PluginRegistry => {
    // Discovery reads package.json files: only when a name is not built in, or for the list.
    registry ??= new PluginRegistry(undefined, () => discoverPluginModules(cwd));
    return registry;
  };
  let reported = 0;
  const reportWarnings = (): void => {
    const warnings = registry?.warnings ?? [];
    for (const warning of warnings.slice(reported)) stderr(`${PROGRAM}: warning: ${warning}\n`);
    reported = warnings.length;
  };
  const usageError = (message: string, helpFor = `${PROGRAM} --help`): number => {
    reportWarnings();
    stderr(`${PROGRAM}: ${message} (see ${helpFor})\n`);
    return 2;
  };

  const line = parseCommandLine(argv);
  switch (line.kind) {
    case 'version':
      stdout(`${PROGRAM} ${options.version ?? packageVersion()}\n`);
      return 0;
    case 'help': {
      const plugins = await getRegistry().list();
      reportWarnings();
      stdout(formatUsage(plugins, PROGRAM));
      return 0;
    }
    case 'error': {
      if (!line.usage) return usageError(line.message);
      const plugins = await getRegistry().list();
      const names = plugins.map((plugin) => plugin.name).join(', ');
      usageError(`${line.message}; available: ${names}`);
      stderr(`\n${formatUsage(plugins, PROGRAM)}`);
      return 2;
    }
    case 'plugin':
      break;
  }

  const plugin = await getRegistry().get(line.plugin);
  if (plugin === undefined) {
    const names = (await getRegistry().list()).map((p) => p.name).join(', ');
    return usageError(`unknown plugin ${line.plugin}; available: ${names}`);
  }
  const helpFor = `${PROGRAM} ${line.plugin} --help`;
  const parsed = parsePluginArguments(plugin, line.args, cwd);
  switch (parsed.kind) {
    case 'help':
      reportWarnings();
      stdout(formatPluginHelp(plugin, PROGRAM));
      return 0;
    case 'version':
      stdout(`${PROGRAM} ${options.version ?? packageVersion()}\n`);
      return 0;
    case 'error':
      return usageError(`${line.plugin}: ${parsed.message}`, helpFor);
    case 'options':
      break;
  }
  reportWarnings();
  try {
    await plugin.check?.(parsed.options);
    if (line.global.injectFaults !== undefined) checkFaultsOnLoopback(plugin, parsed.options);
    const status = await plugin.command?.(parsed.options, { stdout, stderr });
    if (status !== undefined) return status;
  } catch (error) {
    if (isUsageError(error)) return usageError(`${line.plugin}: ${oneLine(error)}`, helpFor);
    stderr(`${PROGRAM}: ${line.plugin}: ${oneLine(error)}\n`);
    return 1;
  }
  const runApp = options.runApp ?? defaultRunApp;
  const faults = line.global.injectFaults;
  return runApp(
    (reactor) =>
      plugin.makeService(
        parsed.options,
        faults === undefined ? reactor : faultInjectingReactor(reactor, faults),
      ),
    runAppOptions(line.global),
  );
}
