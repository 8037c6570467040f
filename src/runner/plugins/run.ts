// The `run` plugin of the `torsion` command: runs the service a module
// makes (Twisted: `twistd -y app.tac`, with a function instead of a file
// that defines `application`).
// Tests: test/unit/runner/plugins.test.ts, test/integration/runner/cli.test.ts

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppReactor } from '../../app/run-app.js';
import type { IService } from '../../app/service.js';
import { type PluginOptions, UsageError } from '../options.js';
import type { TorsionPlugin } from '../plugin.js';

/**
 * What `torsion run` accepts from a module: a `makeService(options,
 * reactor)` export, or a default export that is a service or a function of
 * the reactor making one.
 *
 * @since 0.1.0
 */
export interface RunnableModule {
  /** Makes the service from the command line's `--key value` pairs. */
  makeService?: (
    options: Readonly<Record<string, string>>,
    reactor: AppReactor,
  ) => IService | Promise<IService>;
  /** A service, or a function of the reactor (and the `--key value` pairs) that makes one. */
  default?: unknown;
}

/** Thrown when a module cannot be imported because evaluating it threw (exit status 1). */
export class ModuleLoadError extends Error {
  override name = 'ModuleLoadError';
}

/** Whether `value` looks like a service (it has the methods one is started and stopped by). */
function isService(value: unknown): value is IService {
  const service = value as Partial<IService> | null;
  return (
    typeof service === 'object' &&
    service !== null &&
    typeof service.startService === 'function' &&
    typeof service.stopService === 'function'
  );
}

/**
 * The URL of module `specifier`: a path (relative to `cwd`, or absolute) or
 * a package specifier resolved from `cwd`.
 *
 * @throws UsageError if there is no such module.
 */
export function resolveModule(specifier: string, cwd: string): string {
  const looksLikePath =
    specifier.startsWith('.') || isAbsolute(specifier) || /\.[cm]?js$/.test(specifier);
  if (looksLikePath) {
    const path = resolve(cwd, specifier);
    if (!existsSync(path)) {
      throw new UsageError(`no module at ${JSON.stringify(specifier)} (${path})`);
    }
    return pathToFileURL(path).href;
  }
  try {
    return pathToFileURL(createRequire(join(cwd, 'package.json')).resolve(specifier)).href;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`cannot find module ${JSON.stringify(specifier)}: ${reason}`);
  }
}

/** Imported modules by URL: `check` imports, `makeService` uses the same module. */
const imported = new Map<string, RunnableModule>();

/**
 * Imports module `specifier` (see {@link resolveModule}) and checks that it
 * offers a service.
 *
 * @throws UsageError if there is no such module, or it exports neither
 *   `makeService` nor a usable default; {@link ModuleLoadError} if
 *   importing it threw.
 */
export async function importRunnable(specifier: string, cwd: string): Promise<RunnableModule> {
  const url = resolveModule(specifier, cwd);
  let module = imported.get(url);
  if (module === undefined) {
    try {
      module = (await import(url)) as RunnableModule;
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new ModuleLoadError(`importing ${specifier} failed: ${reason.split('\n')[0] ?? ''}`, {
        cause: error,
      });
    }
    imported.set(url, module);
  }
  const usable =
    typeof module.makeService === 'function' ||
    isService(module.default) ||
    typeof module.default === 'function';
  if (!usable) {
    throw new UsageError(
      `${specifier} exports neither makeService(options, reactor) nor a default service or service maker`,
    );
  }
  return module;
}

/**
 * The service module `module` offers: `makeService(extra, reactor)`, else
 * its default export (a service, or called as `(reactor, extra)`).
 *
 * @throws TypeError if what was made is not a service.
 */
export async function serviceFrom(
  module: RunnableModule,
  extra: Readonly<Record<string, string>>,
  reactor: AppReactor,
  specifier: string,
): Promise<IService> {
  let made: unknown;
  if (typeof module.makeService === 'function') made = await module.makeService(extra, reactor);
  else if (isService(module.default)) made = module.default;
  else if (typeof module.default === 'function') {
    made = await (module.default as (r: AppReactor, o: typeof extra) => unknown)(reactor, extra);
  }
  if (!isService(made)) {
    throw new TypeError(`module ${specifier} made ${String(made)}, not a service`);
  }
  return made;
}

/**
 * `torsion run MODULE [--key value]…`: imports MODULE (a path relative to
 * the current directory, or a package) and runs the service it makes. The
 * `--key value` pairs go to its `makeService` as a string record.
 *
 * @example
 * ```ts
 * // app.ts, compiled to app.js; run with: torsion run ./app.js --greeting hi
 * export function makeService(options: Record<string, string>, reactor: AppReactor) {
 *   const endpoint = serverFromString(reactor, options.listen ?? 'tcp:8000');
 *   return new StreamServerEndpointService(endpoint, Factory.forProtocol(Greeter));
 * }
 * ```
 *
 * @since 0.1.0
 */
export const runPlugin: TorsionPlugin = {
  name: 'run',
  description: 'Runs the service a module makes (its makeService export, or its default export)',
  positionals: [{ name: 'module', help: 'a path (./app.js) or a package name' }],
  extraOptions: 'passed to makeService as a record of strings',
  async check(options: PluginOptions): Promise<void> {
    await importRunnable(options.positional.module ?? '', options.cwd);
  },
  async makeService(options: PluginOptions, reactor: AppReactor): Promise<IService> {
    const specifier = options.positional.module ?? '';
    const module = await importRunnable(specifier, options.cwd);
    return serviceFrom(module, options.extra, reactor, specifier);
  },
};

export default runPlugin;
