// Command-line options of the `torsion` command: option specs, a parser
// that returns a result instead of exiting, and the global options
// (Twisted: twisted.application.twist._options.TwistOptions, and
// twisted.python.usage.Options for the parsing).
// Tests: test/unit/runner/options.test.ts

import { resolve } from 'node:path';
import { TorsionError } from '../internet/error.js';
import { LogLevel } from '../logger/levels.js';
import { type FaultPlan, FaultSpecError, parseFaultSpec } from '../protocols/policies/faults.js';

/**
 * The value of a parsed option: a string, a number, a flag, or the strings
 * of an option given several times.
 *
 * @since 0.1.0
 */
export type OptionValue = string | number | boolean | readonly string[];

/**
 * One option a plugin (or the command itself) accepts, written
 * `--name VALUE` or `--name=VALUE` (a boolean: `--name`, `--no-name`, or
 * `--name=on|off`).
 *
 * @since 0.1.0
 */
export interface OptionSpec {
  /** The long name, without dashes: `'listen'` is `--listen`. */
  readonly name: string;
  /** A one-letter alias, without its dash: `'h'` is `-h`. */
  readonly short?: string;
  /** What the value is; `'integer'` and `'number'` are checked and converted. */
  readonly type: 'string' | 'number' | 'integer' | 'boolean';
  /**
   * Whether the option may be given several times; its value is then the
   * array of the values, in order (and `default` is used only when it is
   * never given). Default false: a later value replaces an earlier one.
   */
  readonly multiple?: boolean;
  /** The value when the option is not given; without one, the option has no value. */
  readonly default?: OptionValue;
  /** The values allowed, for a string option. */
  readonly choices?: readonly string[];
  /** The least value allowed, for a number or integer option. */
  readonly min?: number;
  /** The name of the value in the help text: `ENDPOINT`. Default: the name in capitals. */
  readonly metavar?: string;
  /** One line saying what the option does. */
  readonly help: string;
}

/**
 * A positional argument of a plugin, such as the module of `torsion run
 * MODULE`.
 *
 * @since 0.1.0
 */
export interface PositionalSpec {
  /** Its name in the help text and in {@link PluginOptions.positional}: `'module'`. */
  readonly name: string;
  /** One line saying what it is. */
  readonly help: string;
  /** Whether it must be given. Default true. */
  readonly optional?: boolean;
}

/**
 * What a command line asked for that cannot run: a bad or unknown option,
 * a missing value, an unknown plugin. The `torsion` command prints its
 * message on one line and exits with status 2.
 *
 * @see Twisted: twisted.python.usage.UsageError
 * @since 0.1.0
 */
export class UsageError extends TorsionError {
  override name = 'UsageError' as const;
  override readonly code = 'ERR_USAGE' as const;
}

/**
 * The options a plugin was given: the declared ones (with their defaults
 * filled in), its positional arguments, and, for a plugin that accepts
 * them, the `--key value` pairs it did not declare.
 *
 * @since 0.1.0
 */
export class PluginOptions {
  readonly #values: ReadonlyMap<string, OptionValue>;
  /** The positional arguments by name, as declared by the plugin. */
  readonly positional: Readonly<Record<string, string>>;
  /** Undeclared `--key value` pairs, for a plugin that accepts them (`torsion run`). */
  readonly extra: Readonly<Record<string, string>>;
  /** The directory the command runs in: relative paths in the options are relative to it. */
  readonly cwd: string;

  /**
   * @param values - The declared options' values by name.
   * @param positional - The positional arguments by name.
   * @param extra - The undeclared `--key value` pairs.
   * @param cwd - The directory relative paths are relative to. Default: the process's.
   */
  constructor(
    values: ReadonlyMap<string, OptionValue> | Readonly<Record<string, OptionValue>> = new Map(),
    positional: Readonly<Record<string, string>> = {},
    extra: Readonly<Record<string, string>> = {},
    cwd: string = process.cwd(),
  ) {
    this.#values = values instanceof Map ? values : new Map(Object.entries(values));
    this.positional = positional;
    this.extra = extra;
    this.cwd = cwd;
  }

  /** `path` resolved against {@link PluginOptions.cwd}. */
  resolvePath(path: string): string {
    return resolve(this.cwd, path);
  }

  /** Whether option `name` has a value (given, or by default). */
  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** The value of option `name`, or `undefined`. */
  get(name: string): OptionValue | undefined {
    return this.#values.get(name);
  }

  /**
   * The string value of option `name`.
   *
   * @throws TypeError if it has none, or its value is not a string.
   */
  string(name: string): string {
    const value = this.#values.get(name);
    if (typeof value !== 'string') throw this.#wrongType(name, 'a string', value);
    return value;
  }

  /** The string value of option `name`, or `undefined` when it has none. */
  optionalString(name: string): string | undefined {
    return this.#values.has(name) ? this.string(name) : undefined;
  }

  /**
   * The values of an option given several times (a single string counts as
   * one value).
   *
   * @throws TypeError if it has none, or its value is not strings.
   */
  strings(name: string): readonly string[] {
    const value = this.#values.get(name);
    if (typeof value === 'string') return [value];
    if (!Array.isArray(value)) throw this.#wrongType(name, 'strings', value);
    return value as readonly string[];
  }

  /**
   * The number value of option `name`.
   *
   * @throws TypeError if it has none, or its value is not a number.
   */
  number(name: string): number {
    const value = this.#values.get(name);
    if (typeof value !== 'number') throw this.#wrongType(name, 'a number', value);
    return value;
  }

  /**
   * The flag value of option `name` (false when it has none).
   *
   * @throws TypeError if its value is not a boolean.
   */
  boolean(name: string): boolean {
    const value = this.#values.get(name) ?? false;
    if (typeof value !== 'boolean') throw this.#wrongType(name, 'a boolean', value);
    return value;
  }

  #wrongType(name: string, wanted: string, value: OptionValue | undefined): TypeError {
    const got = value === undefined ? 'no value' : JSON.stringify(value);
    return new TypeError(`option --${name} is not ${wanted}: it has ${got}`);
  }
}

/**
 * What {@link parseArguments} accepts beyond the specs.
 *
 * @since 0.1.0
 */
export interface ParseArgumentsOptions {
  /**
   * Stop at the first positional argument and return it and the rest
   * unparsed (the global options end at the plugin name). Default false.
   */
  readonly stopAtPositional?: boolean;
  /** The positional arguments accepted, in order (ignored with `stopAtPositional`). */
  readonly positionals?: readonly PositionalSpec[];
  /** Accept undeclared `--key value` pairs into `extra` instead of refusing them. Default false. */
  readonly allowExtra?: boolean;
  /**
   * Names of options that are valid elsewhere (the global options, after a
   * plugin name): an error about one of them says where it belongs.
   */
  readonly elsewhere?: {
    /** The option names (without dashes). */
    readonly names: ReadonlySet<string>;
    /** What the error says after the option: `is a global option: …`. */
    readonly hint: string;
  };
}

/**
 * What a command line asked for instead of running: `--help` or `-h`.
 *
 * @since 0.1.0
 */
export interface HelpRequest {
  /** Always `'help'`. */
  readonly kind: 'help';
}

/**
 * What a command line asked for instead of running: `--version`.
 *
 * @since 0.1.0
 */
export interface VersionRequest {
  /** Always `'version'`. */
  readonly kind: 'version';
}

/**
 * A command line that cannot run, and why.
 *
 * @since 0.1.0
 */
export interface ParseFailure {
  /** Always `'error'`. */
  readonly kind: 'error';
  /** The reason, on one line. */
  readonly message: string;
}

/**
 * The options {@link parseArguments} read.
 *
 * @since 0.1.0
 */
export interface ParsedOptions {
  /** Always `'parsed'`. */
  readonly kind: 'parsed';
  /** The declared options' values, defaults included. */
  readonly values: ReadonlyMap<string, OptionValue>;
  /** The positional arguments by name. */
  readonly positional: Readonly<Record<string, string>>;
  /** Undeclared `--key value` pairs (with `allowExtra`). */
  readonly extra: Readonly<Record<string, string>>;
  /** With `stopAtPositional`: the first positional argument and what follows it. */
  readonly rest: readonly string[];
}

/**
 * The outcome of {@link parseArguments}.
 *
 * @since 0.1.0
 */
export type ParsedArguments = ParsedOptions | HelpRequest | VersionRequest | ParseFailure;

const TRUE_WORDS = new Set(['', 'true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/** `--name` (and `-s`) for the messages. */
function flag(spec: OptionSpec): string {
  return `--${spec.name}`;
}

/** The list of valid options for an error message. */
function validList(specs: readonly OptionSpec[]): string {
  return [...specs.map(flag), '--help', '--version'].join(', ');
}

/** Converts and checks one value; returns the value or an error message. */
function convert(spec: OptionSpec, raw: string): OptionValue | { error: string } {
  const bad = (expected: string) => ({
    error: `invalid ${flag(spec)} ${JSON.stringify(raw)}: expected ${expected}`,
  });
  switch (spec.type) {
    case 'boolean': {
      const word = raw.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return bad('on or off (or true/false, yes/no, 1/0)');
    }
    case 'number':
    case 'integer': {
      const value = raw.trim() === '' ? Number.NaN : Number(raw);
      const integer = spec.type === 'integer';
      const what = integer ? 'an integer' : 'a number';
      const limit = spec.min === undefined ? '' : ` >= ${spec.min}`;
      if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
        return bad(`${what}${limit}`);
      }
      if (spec.min !== undefined && value < spec.min) return bad(`${what}${limit}`);
      return value;
    }
    case 'string':
      if (spec.choices !== undefined && !spec.choices.includes(raw)) {
        return bad(`one of ${spec.choices.join(', ')}`);
      }
      return raw;
  }
}

/**
 * Parses `argv` against `specs`: `--name value`, `--name=value`, `-s
 * value`, booleans as `--name`/`--no-name`/`--name=off`, `--` ending the
 * options. `--help`/`-h` and `--version` stop the parse wherever they are.
 *
 * @returns The values (defaults filled in), or what was asked for
 *   (`help`, `version`), or the first error as a one-line message.
 * @since 0.1.0
 */
export function parseArguments(
  specs: readonly OptionSpec[],
  argv: readonly string[],
  options: ParseArgumentsOptions = {},
): ParsedArguments {
  const byName = new Map<string, OptionSpec>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    if (spec.short !== undefined) byName.set(spec.short, spec);
  }
  const values = new Map<string, OptionValue>();
  const positionalValues: string[] = [];
  const extra: Record<string, string> = {};
  const error = (message: string): ParsedArguments => ({ kind: 'error', message });

  let i = 0;
  let optionsEnded = false;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const isOption = !optionsEnded && arg.startsWith('-') && arg !== '-';
    if (!isOption) {
      if (options.stopAtPositional === true) break;
      positionalValues.push(arg);
      continue;
    }
    if (arg === '--') {
      optionsEnded = true;
      if (options.stopAtPositional === true) {
        i++;
        break;
      }
      continue;
    }
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };

    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const equals = body.indexOf('=');
    const name = equals < 0 ? body : body.slice(0, equals);
    let inline: string | undefined = equals < 0 ? undefined : body.slice(equals + 1);
    let spec = long || name.length === 1 ? byName.get(name) : undefined;
    let negated = false;
    if (spec === undefined && long && name.startsWith('no-')) {
      const positive = byName.get(name.slice(3));
      if (positive?.type === 'boolean' && inline === undefined) {
        spec = positive;
        negated = true;
      }
    }
    if (spec === undefined) {
      if (long && options.allowExtra === true && name !== '') {
        if (inline === undefined) {
          const next = argv[i + 1];
          if (next === undefined || (next.startsWith('-') && next !== '-')) {
            return error(`--${name} needs a value`);
          }
          inline = next;
          i++;
        }
        extra[name] = inline;
        continue;
      }
      if (options.elsewhere?.names.has(name) === true) {
        return error(`${arg.split('=')[0]} ${options.elsewhere.hint}`);
      }
      return error(`unknown option ${arg.split('=')[0]}; valid options: ${validList(specs)}`);
    }
    let raw: string;
    if (negated) raw = 'off';
    else if (spec.type === 'boolean') raw = inline ?? '';
    else if (inline !== undefined) raw = inline;
    else {
      const next = argv[i + 1];
      if (next === undefined) {
        return error(`${flag(spec)} needs a value (${metavarOf(spec)})`);
      }
      raw = next;
      i++;
    }
    const value = convert(spec, raw);
    if (typeof value === 'object' && 'error' in value) return error(value.error);
    if (spec.multiple === true) {
      const previous = values.get(spec.name);
      values.set(spec.name, [...(Array.isArray(previous) ? previous : []), String(value)]);
    } else {
      values.set(spec.name, value); // a later value replaces an earlier one
    }
  }

  for (const spec of specs) {
    if (!values.has(spec.name) && spec.default !== undefined) values.set(spec.name, spec.default);
  }

  const positional: Record<string, string> = {};
  if (options.stopAtPositional !== true) {
    const declared = options.positionals ?? [];
    if (positionalValues.length > declared.length) {
      const unexpected = positionalValues[declared.length] ?? '';
      return error(`unexpected argument ${JSON.stringify(unexpected)}`);
    }
    for (const [index, spec] of declared.entries()) {
      const value = positionalValues[index];
      if (value === undefined) {
        if (spec.optional !== true) return error(`missing argument ${spec.name.toUpperCase()}`);
        continue;
      }
      positional[spec.name] = value;
    }
  }
  return { kind: 'parsed', values, positional, extra, rest: argv.slice(i) };
}

/** The name of an option's value in messages and help: `ENDPOINT`. */
export function metavarOf(spec: OptionSpec): string {
  return spec.metavar ?? spec.name.toUpperCase().replaceAll('-', '_');
}

// ---------------------------------------------------------------------------
// The global options

/**
 * The options that come before the plugin name: how the command logs, how
 * many processes serve, how long a shutdown may take.
 *
 * @since 0.1.0
 */
export interface GlobalOptions {
  /** The least severe level logged. Default `info`. */
  readonly logLevel: LogLevel;
  /** How events are written: a line of text, or a JSON object per line. Default `text`. */
  readonly logFormat: 'text' | 'json';
  /** Where events are written: a path, or `-` for standard output. Default `-`. */
  readonly logFile: string;
  /** How many processes serve (sharing the listening sockets through `node:cluster`). Default 1. */
  readonly workers: number;
  /** A file the process ID is written to while running, if any. */
  readonly pidFile?: string;
  /** Seconds in-flight work may take after a stop signal before connections are closed. Default 10. */
  readonly shutdownTimeout: number;
  /**
   * The faults to inject into every connection the plugin's service
   * accepts (`--inject-faults SPEC`, for testing; loopback only). Off when
   * absent.
   */
  readonly injectFaults?: FaultPlan;
}

/**
 * The global options of the `torsion` command, as option specs (in the
 * order of the help text; `--help` and `--version` are always accepted).
 *
 * @since 0.1.0
 */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'log-level',
    type: 'string',
    choices: Object.values(LogLevel),
    default: LogLevel.info,
    metavar: 'LEVEL',
    help: `least severe level logged: ${Object.values(LogLevel).join(', ')}`,
  },
  {
    name: 'log-format',
    type: 'string',
    choices: ['text', 'json'],
    default: 'text',
    metavar: 'FORMAT',
    help: 'text (a line per event) or json (a JSON object per line)',
  },
  {
    name: 'log-file',
    type: 'string',
    default: '-',
    metavar: 'PATH',
    help: 'where the log goes, "-" for standard output; reopened on SIGUSR1',
  },
  {
    name: 'workers',
    type: 'integer',
    min: 1,
    default: 1,
    metavar: 'N',
    help: 'processes serving, sharing the listening sockets (node:cluster)',
  },
  {
    name: 'pid-file',
    type: 'string',
    metavar: 'PATH',
    help: 'write the process ID to PATH while running',
  },
  {
    name: 'shutdown-timeout',
    type: 'number',
    min: 0,
    default: 10,
    metavar: 'SECONDS',
    help: 'grace period for in-flight work after SIGINT or SIGTERM',
  },
  {
    name: 'inject-faults',
    type: 'string',
    metavar: 'SPEC',
    help: 'for tests, on loopback only: seeded faults on every connection, e.g. seed=7,split=1-16,delay=0.01',
  },
];

/** The names of the global options, for the hint given when one follows the plugin name. */
export const GLOBAL_OPTION_NAMES: ReadonlySet<string> = new Set(GLOBAL_OPTIONS.map((s) => s.name));

/**
 * What a `torsion` command line asks for, before the plugin is known: help,
 * the version, an error, or a plugin to run with its (still unparsed)
 * arguments.
 *
 * @since 0.1.0
 */
export type CommandLine = HelpRequest | VersionRequest | CommandLineError | PluginCommand;

/**
 * A `torsion` command line that cannot run.
 *
 * @since 0.1.0
 */
export interface CommandLineError extends ParseFailure {
  /** Whether the usage text should follow the message (no plugin was named). */
  readonly usage: boolean;
}

/**
 * A `torsion` command line naming a plugin to run.
 *
 * @since 0.1.0
 */
export interface PluginCommand {
  /** Always `'plugin'`. */
  readonly kind: 'plugin';
  /** The global options, defaults filled in. */
  readonly global: GlobalOptions;
  /** The plugin's name, as given. */
  readonly plugin: string;
  /** The arguments after the plugin name, for the plugin to parse. */
  readonly args: readonly string[];
}

/**
 * Parses the global options of a `torsion` command line (the arguments
 * after the program name), up to the plugin name.
 *
 * @example
 * ```ts
 * parseCommandLine(['--log-level', 'debug', 'web', '--path', 'public']);
 * // { kind: 'plugin', global: { logLevel: 'debug', … }, plugin: 'web', args: ['--path', 'public'] }
 * ```
 *
 * @see Twisted: twisted.application.twist._options.TwistOptions
 * @since 0.1.0
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const parsed = parseArguments(GLOBAL_OPTIONS, argv, { stopAtPositional: true });
  if (parsed.kind === 'help' || parsed.kind === 'version') return parsed;
  if (parsed.kind === 'error') return { kind: 'error', message: parsed.message, usage: false };
  const [plugin, ...args] = parsed.rest;
  if (plugin === undefined) return { kind: 'error', message: 'no plugin given', usage: true };
  const values = parsed.values;
  const pidFile = values.get('pid-file');
  const faults = values.get('inject-faults');
  let injectFaults: FaultPlan | undefined;
  if (typeof faults === 'string') {
    try {
      injectFaults = parseFaultSpec(faults);
    } catch (error) {
      if (!(error instanceof FaultSpecError)) throw error;
      return {
        kind: 'error',
        message: `invalid --inject-faults ${JSON.stringify(faults)}: ${error.message}`,
        usage: false,
      };
    }
  }
  const global: GlobalOptions = {
    logLevel: values.get('log-level') as LogLevel,
    logFormat: values.get('log-format') as 'text' | 'json',
    logFile: values.get('log-file') as string,
    workers: values.get('workers') as number,
    shutdownTimeout: values.get('shutdown-timeout') as number,
    ...(typeof pidFile === 'string' ? { pidFile } : {}),
    ...(injectFaults === undefined ? {} : { injectFaults }),
  };
  return { kind: 'plugin', global, plugin, args };
}
