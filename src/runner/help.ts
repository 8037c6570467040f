// The help texts of the `torsion` command: the usage with the global
// options and the plugins, and a plugin's options
// (Twisted: twisted.python.usage.Options.__str__, getSynopsis).
// Tests: test/unit/runner/main.test.ts

import { GLOBAL_OPTIONS, metavarOf, type OptionSpec } from './options.js';
import type { TorsionPlugin } from './plugin.js';
import type { ListedPlugin } from './registry.js';

/** Two columns: the left padded to a common width (at most 28), the right after it. */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(28, Math.max(0, ...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) =>
    left.length > width
      ? `  ${left}\n  ${' '.repeat(width)}  ${right}`
      : `  ${left.padEnd(width)}  ${right}`,
  );
}

function defaultText(spec: OptionSpec): string {
  const value = spec.default;
  if (value === undefined) return '';
  if (spec.type === 'boolean') return value === true ? ' (default: on)' : ' (default: off)';
  if (Array.isArray(value)) return value.length === 0 ? '' : ` (default: ${value.join(', ')})`;
  return ` (default: ${String(value)})`;
}

function optionRows(specs: readonly OptionSpec[]): [string, string][] {
  return specs.map((spec) => {
    const short = spec.short === undefined ? '' : `-${spec.short}, `;
    const name =
      spec.type === 'boolean'
        ? `${short}--[no-]${spec.name}`
        : `${short}--${spec.name} ${metavarOf(spec)}`;
    return [name, `${spec.help}${defaultText(spec)}`];
  });
}

/**
 * The text of `torsion --help`: the synopsis, the global options and the
 * plugins.
 *
 * @param plugins - The plugins to list.
 * @param program - The command's name.
 * @since 0.1.0
 */
export function formatUsage(plugins: readonly ListedPlugin[], program = 'torsion'): string {
  const lines = [
    `Usage: ${program} [global options] <plugin> [plugin options]`,
    '',
    'Runs the service a plugin makes until SIGINT or SIGTERM, then stops it gracefully.',
    '',
    'Global options:',
    ...columns([
      ...optionRows(GLOBAL_OPTIONS),
      ['-h, --help', 'show this help; after a plugin name, that plugin’s options'],
      ['--version', 'print the version and exit'],
    ]),
    '',
    'Plugins:',
    ...columns(
      plugins.map(({ name, description, source }) => [
        name,
        source === 'torsion' ? description : `${description} [${source}]`,
      ]),
    ),
    '',
    `Run "${program} <plugin> --help" for a plugin's options. Exit status: 0 stopped`,
    'cleanly, 1 failed to start, 2 bad command line.',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The text of `torsion PLUGIN --help`: its synopsis, description,
 * arguments and options.
 *
 * @param plugin - The plugin.
 * @param program - The command's name.
 * @since 0.1.0
 */
export function formatPluginHelp(plugin: TorsionPlugin, program = 'torsion'): string {
  const positionals = plugin.positionals ?? [];
  const synopsis = [
    `Usage: ${program} [global options] ${plugin.name} [options]`,
    ...positionals.map((p) =>
      p.optional === true ? `[${p.name.toUpperCase()}]` : p.name.toUpperCase(),
    ),
    ...(plugin.extraOptions === undefined ? [] : ['[--KEY VALUE]…']),
  ].join(' ');
  const lines = [synopsis, '', `${plugin.description}.`.replace(/\.\.$/, '.'), ''];
  if (positionals.length > 0) {
    lines.push(
      'Arguments:',
      ...columns(positionals.map((p) => [p.name.toUpperCase(), p.help])),
      '',
    );
  }
  lines.push(
    'Options:',
    ...columns([
      ...optionRows(plugin.options ?? []),
      ...(plugin.extraOptions === undefined
        ? []
        : [['--KEY VALUE', plugin.extraOptions] as [string, string]]),
      ['-h, --help', 'show this help'],
    ]),
    '',
    `Global options go before "${plugin.name}"; see "${program} --help".`,
  );
  return `${lines.join('\n')}\n`;
}
