// The plugins the `torsion` command can run: the built-in ones, and those
// installed packages declare in their package.json
// (Twisted: twisted.plugin.getPlugins over the twisted.plugins namespace).
// Tests: test/unit/runner/registry.test.ts

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILTIN_PLUGINS, type PluginEntry } from './builtins.js';
import type { TorsionPlugin } from './plugin.js';

/**
 * A module a package declares plugins in: `"torsion": { "plugins":
 * ["./dist/plugin.js"] }` in its package.json.
 *
 * @since 0.1.0
 */
export interface DeclaredPluginModule {
  /** The package's name (its package.json's `name`, or its directory). */
  readonly packageName: string;
  /** The package's directory. */
  readonly packageDir: string;
  /** The module, as declared (relative to the package's directory). */
  readonly file: string;
}

/** What {@link discoverPluginModules} found: the modules, and what was wrong on the way. */
export interface Discovery {
  /** The modules declared, the project's own first, then its dependencies' in order. */
  readonly modules: readonly DeclaredPluginModule[];
  /** One line per declaration that could not be read. */
  readonly warnings: readonly string[];
}

/** A package.json's fields that discovery reads. */
interface PackageJSON {
  name?: unknown;
  dependencies?: unknown;
  devDependencies?: unknown;
  torsion?: unknown;
}

function readPackageJSON(path: string): PackageJSON | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === 'object' && parsed !== null ? (parsed as PackageJSON) : undefined;
}

/** The package.json nearest `dir`, in it or above it, if any. */
export function nearestPackageJSON(dir: string): string | undefined {
  let current = resolve(dir);
  for (;;) {
    const candidate = join(current, 'package.json');
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // not here: look in the parent
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** The directory of installed package `name`, looked up from `fromDir` as Node does (node_modules upward). */
function installedPackageDir(name: string, fromDir: string): string | undefined {
  let current = fromDir;
  for (;;) {
    const candidate = join(current, 'node_modules', name);
    try {
      readFileSync(join(candidate, 'package.json'));
      return candidate;
    } catch {
      // not installed here: look further up
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** The plugin modules one package.json declares; problems go to `warnings`. */
function declaredIn(
  pkg: PackageJSON,
  packageDir: string,
  label: string,
  warnings: string[],
): DeclaredPluginModule[] {
  if (pkg.torsion === undefined) return [];
  const plugins = (pkg.torsion as { plugins?: unknown } | null)?.plugins;
  if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === 'string')) {
    warnings.push(
      `package ${label} (${join(packageDir, 'package.json')}): "torsion.plugins" must be an array of module paths; ignored`,
    );
    return [];
  }
  const packageName = typeof pkg.name === 'string' ? pkg.name : label;
  return (plugins as string[]).map((file) => ({ packageName, packageDir, file }));
}

/**
 * Finds the plugin modules declared by the project around `cwd` (the
 * nearest package.json) and by its dependencies and devDependencies
 * (resolved through node_modules), reading package.json files only.
 *
 * @since 0.1.0
 */
export function discoverPluginModules(cwd: string): Discovery {
  const warnings: string[] = [];
  const projectFile = nearestPackageJSON(cwd);
  if (projectFile === undefined) return { modules: [], warnings };
  const projectDir = dirname(projectFile);
  let project: PackageJSON | undefined;
  try {
    project = readPackageJSON(projectFile);
  } catch (error) {
    warnings.push(`cannot read ${projectFile}: ${String(error)}; no plugins discovered`);
    return { modules: [], warnings };
  }
  if (project === undefined) return { modules: [], warnings };
  const projectLabel = typeof project.name === 'string' ? project.name : projectDir;
  const modules = declaredIn(project, projectDir, projectLabel, warnings);
  const names = new Set<string>();
  for (const field of [project.dependencies, project.devDependencies]) {
    if (typeof field !== 'object' || field === null) continue;
    for (const name of Object.keys(field)) names.add(name);
  }
  for (const name of names) {
    const dir = installedPackageDir(name, projectDir);
    if (dir === undefined) continue; // not installed: nothing to discover
    let pkg: PackageJSON | undefined;
    try {
      pkg = readPackageJSON(join(dir, 'package.json'));
    } catch (error) {
      warnings.push(`package ${name}: cannot read its package.json: ${String(error)}`);
      continue;
    }
    if (pkg !== undefined) modules.push(...declaredIn(pkg, dir, name, warnings));
  }
  return { modules, warnings };
}

const PLUGIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `value` is not a plugin, or `undefined` if it is one. */
export function whyNotAPlugin(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return `${String(value)} is not an object`;
  const plugin = value as Partial<Record<keyof TorsionPlugin, unknown>>;
  if (typeof plugin.name !== 'string' || !PLUGIN_NAME.test(plugin.name)) {
    return `its name ${JSON.stringify(plugin.name) ?? 'undefined'} is not a plugin name (letters, digits, ".", "_", "-")`;
  }
  if (typeof plugin.description !== 'string') return `plugin ${plugin.name} has no description`;
  if (typeof plugin.makeService !== 'function') return `plugin ${plugin.name} has no makeService`;
  if (plugin.options !== undefined && !Array.isArray(plugin.options)) {
    return `plugin ${plugin.name}: options must be an array`;
  }
  return undefined;
}

/** A plugin as the registry lists it. */
export interface ListedPlugin {
  /** Its name. */
  readonly name: string;
  /** Its one-line description. */
  readonly description: string;
  /** `torsion` for a built-in plugin, else the package that declares it. */
  readonly source: string;
}

/** A module's plugins once loaded (an empty list if it could not be). */
interface LoadedModule {
  readonly module: DeclaredPluginModule;
  readonly plugins: readonly TorsionPlugin[];
}

/**
 * The plugins of the `torsion` command: the built-in ones, then those the
 * discovered modules offer. A module is loaded only when a plugin is looked
 * up that is not built in, or when the list is asked for; a module that
 * fails to load, or offers something that is not a plugin, adds a warning
 * naming its package and file and is skipped. When two plugins share a
 * name, the built-in one (or the first discovered) wins, with a warning.
 *
 * @example
 * ```ts
 * const registry = new PluginRegistry(BUILTIN_PLUGINS, discoverPluginModules(process.cwd()).modules);
 * const web = await registry.get('web');
 * for (const line of registry.warnings) console.error(line);
 * ```
 *
 * @see Twisted: twisted.plugin.getPlugins
 * @since 0.1.0
 */
export class PluginRegistry {
  readonly #builtins: readonly PluginEntry[];
  #declared: readonly DeclaredPluginModule[] | (() => Discovery);
  readonly #loaded: LoadedModule[] = [];
  #loading: Promise<void> | null = null;
  readonly #warnings: string[] = [];
  readonly #warned = new Set<string>();

  /**
   * @param builtins - The built-in plugins (their modules load on demand).
   * @param declared - The modules packages declare plugins in, or a
   *   function discovering them (such as {@link discoverPluginModules}),
   *   called only when a name is not built in or the list is asked for.
   * @param warnings - Warnings found before (by discovery), reported first.
   */
  constructor(
    builtins: readonly PluginEntry[] = BUILTIN_PLUGINS,
    declared: readonly DeclaredPluginModule[] | (() => Discovery) = [],
    warnings: readonly string[] = [],
  ) {
    this.#builtins = builtins;
    this.#declared = declared;
    for (const warning of warnings) this.#warn(warning);
  }

  /** What went wrong so far, a line each (a module that would not load, a duplicate name). */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** The names of the built-in plugins, sorted. */
  builtinNames(): string[] {
    return this.#builtins.map((entry) => entry.name).sort();
  }

  /**
   * The plugin named `name`, loading its module (and, for a name not built
   * in, the discovered modules) if need be.
   *
   * @returns The plugin, or `undefined` if none has that name.
   */
  async get(name: string): Promise<TorsionPlugin | undefined> {
    const builtin = this.#builtins.find((entry) => entry.name === name);
    if (builtin !== undefined) return builtin.load();
    await this.#loadDeclared();
    for (const { plugins } of this.#loaded) {
      const found = plugins.find((plugin) => plugin.name === name);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Every plugin, sorted by name (this loads the discovered modules, not the built-in ones). */
  async list(): Promise<ListedPlugin[]> {
    await this.#loadDeclared();
    const listed: ListedPlugin[] = this.#builtins.map(({ name, description }) => ({
      name,
      description,
      source: 'torsion',
    }));
    const seen = new Set(listed.map((plugin) => plugin.name));
    for (const { module, plugins } of this.#loaded) {
      for (const plugin of plugins) {
        if (seen.has(plugin.name)) continue;
        seen.add(plugin.name);
        listed.push({
          name: plugin.name,
          description: plugin.description,
          source: module.packageName,
        });
      }
    }
    return listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  #warn(line: string): void {
    if (this.#warned.has(line)) return;
    this.#warned.add(line);
    this.#warnings.push(line);
  }

  #loadDeclared(): Promise<void> {
    this.#loading ??= (async () => {
      if (typeof this.#declared === 'function') {
        const discovery = this.#declared();
        for (const warning of discovery.warnings) this.#warn(warning);
        this.#declared = discovery.modules;
      }
      const builtinNames = new Set(this.#builtins.map((entry) => entry.name));
      const owner = new Map<string, DeclaredPluginModule>();
      for (const module of this.#declared) {
        const where = `package ${module.packageName} (${module.file})`;
        let exported: readonly unknown[];
        try {
          const url = pathToFileURL(resolve(module.packageDir, module.file)).href;
          const namespace = (await import(url)) as { default?: unknown; plugins?: unknown };
          const offered = namespace.plugins ?? namespace.default;
          if (offered === undefined) {
            this.#warn(`${where}: exports no plugins (a default export or "plugins"); ignored`);
            continue;
          }
          exported = Array.isArray(offered) ? offered : [offered];
        } catch (error) {
          const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
          this.#warn(`${where}: cannot load the plugin module: ${reason}; ignored`);
          continue;
        }
        const plugins: TorsionPlugin[] = [];
        for (const value of exported) {
          const why = whyNotAPlugin(value);
          if (why !== undefined) {
            this.#warn(`${where}: not a plugin: ${why}; ignored`);
            continue;
          }
          const plugin = value as TorsionPlugin;
          if (builtinNames.has(plugin.name)) {
            this.#warn(
              `${where}: plugin ${plugin.name} has the name of a built-in plugin; the built-in one is used`,
            );
            continue;
          }
          const first = owner.get(plugin.name);
          if (first !== undefined) {
            this.#warn(
              `${where}: plugin ${plugin.name} is also offered by package ${first.packageName} (${first.file}), which is used`,
            );
            continue;
          }
          owner.set(plugin.name, module);
          plugins.push(plugin);
        }
        this.#loaded.push({ module, plugins });
      }
    })();
    return this.#loading;
  }
}
