// The plugin registry: the built-in plugins, and discovery of plugins that
// installed packages declare in their package.json, on a temporary
// directory of fake packages (Twisted: twisted.plugin.getPlugins).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BUILTIN_PLUGINS } from '../../../src/runner/builtins.js';
import {
  discoverPluginModules,
  nearestPackageJSON,
  PluginRegistry,
  whyNotAPlugin,
} from '../../../src/runner/registry.js';

const root = mkdtempSync(join(tmpdir(), 'torsion-registry-'));
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;

/** A new project directory with `files` (paths relative to it) written. */
function project(files: Record<string, string | object>): string {
  const dir = join(root, `p${counter++}`);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

/** The source of a plugin module exporting plugins named `names` (as default, or as `plugins`). */
function pluginModule(names: string[], as: 'default' | 'plugins' = 'default'): string {
  const plugins = names.map(
    (name) =>
      `{ name: ${JSON.stringify(name)}, description: 'the ${name} plugin', makeService() { return { started: true }; } }`,
  );
  const value = plugins.length === 1 ? plugins[0] : `[${plugins.join(', ')}]`;
  return as === 'default' ? `export default ${value};\n` : `export const plugins = ${value};\n`;
}

describe('the built-in plugins', () => {
  test('are echo, finger, proxy, reverse-proxy, run, time and web, and their descriptions are the loaded plugins’', async () => {
    assert.deepEqual(
      BUILTIN_PLUGINS.map((entry) => entry.name),
      ['echo', 'finger', 'proxy', 'reverse-proxy', 'run', 'time', 'web'],
    );
    for (const entry of BUILTIN_PLUGINS) {
      const plugin = await entry.load();
      assert.equal(plugin.name, entry.name);
      assert.equal(plugin.description, entry.description);
      assert.equal(whyNotAPlugin(plugin), undefined);
    }
  });

  test('the registry finds a built-in plugin by name, and nothing for an unknown name', async () => {
    const registry = new PluginRegistry();
    assert.equal((await registry.get('web'))?.name, 'web');
    assert.equal(await registry.get('nope'), undefined);
    assert.deepEqual(registry.warnings, []);
  });

  test('the list holds every built-in plugin, sorted, from "torsion" (test_pluginsIncludeWeb)', async () => {
    const listed = await new PluginRegistry().list();
    assert.deepEqual(
      listed.map((p) => [p.name, p.source]),
      [
        ['echo', 'torsion'],
        ['finger', 'torsion'],
        ['proxy', 'torsion'],
        ['reverse-proxy', 'torsion'],
        ['run', 'torsion'],
        ['time', 'torsion'],
        ['web', 'torsion'],
      ],
    );
  });
});

describe('discoverPluginModules', () => {
  test('finds the nearest package.json above the directory', () => {
    const dir = project({ 'package.json': { name: 'app' }, 'src/deep/x.txt': '' });
    assert.equal(nearestPackageJSON(join(dir, 'src', 'deep')), join(dir, 'package.json'));
  });

  test('reads the project’s declaration and its dependencies’ and devDependencies’, in that order', () => {
    const dir = project({
      'package.json': {
        name: 'app',
        torsion: { plugins: ['./own.js'] },
        dependencies: { 'dep-a': '*', 'not-installed': '*', plain: '*' },
        devDependencies: { '@scope/dev-b': '*' },
      },
      'node_modules/dep-a/package.json': { name: 'dep-a', torsion: { plugins: ['./a.js'] } },
      'node_modules/plain/package.json': { name: 'plain' },
      'node_modules/@scope/dev-b/package.json': {
        name: '@scope/dev-b',
        torsion: { plugins: ['./dist/b1.js', './dist/b2.js'] },
      },
    });
    const { modules, warnings } = discoverPluginModules(join(dir));
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      modules.map((m) => [m.packageName, m.file, m.packageDir]),
      [
        ['app', './own.js', dir],
        ['dep-a', './a.js', join(dir, 'node_modules/dep-a')],
        ['@scope/dev-b', './dist/b1.js', join(dir, 'node_modules/@scope/dev-b')],
        ['@scope/dev-b', './dist/b2.js', join(dir, 'node_modules/@scope/dev-b')],
      ],
    );
  });

  test('a declaration that is not a list of paths is a warning naming the package', () => {
    const dir = project({
      'package.json': { name: 'app', dependencies: { bad: '*' } },
      'node_modules/bad/package.json': { name: 'bad', torsion: { plugins: './one.js' } },
    });
    const { modules, warnings } = discoverPluginModules(dir);
    assert.deepEqual(modules, []);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /^package bad \(.*package\.json\): "torsion.plugins" must be an array/,
    );
  });

  test('a dependency with an unreadable package.json is a warning, not a crash', () => {
    const dir = project({
      'package.json': { name: 'app', dependencies: { broken: '*' } },
      'node_modules/broken/package.json': '{ not json',
    });
    const { warnings } = discoverPluginModules(dir);
    assert.match(warnings[0] ?? '', /^package broken: cannot read its package.json/);
  });

  test('no package.json at all: nothing discovered', () => {
    // The temporary directory's parents may hold a package.json; the root cannot.
    assert.deepEqual(discoverPluginModules('/').modules, []);
  });
});

describe('PluginRegistry with discovered modules', () => {
  test('a discovered plugin is found by name and listed with its package', async () => {
    const dir = project({
      'package.json': { name: 'app', dependencies: { 'torsion-hello': '*' } },
      'node_modules/torsion-hello/package.json': {
        name: 'torsion-hello',
        torsion: { plugins: ['./hello.js', './more.js'] },
      },
      'node_modules/torsion-hello/hello.js': pluginModule(['hello']),
      'node_modules/torsion-hello/more.js': pluginModule(['bye', 'wave'], 'plugins'),
    });
    const registry = new PluginRegistry(undefined, discoverPluginModules(dir).modules);
    const hello = await registry.get('hello');
    assert.equal(hello?.description, 'the hello plugin');
    assert.equal((await registry.get('wave'))?.name, 'wave');
    const listed = await registry.list();
    assert.deepEqual(
      listed.filter((p) => p.source !== 'torsion').map((p) => [p.name, p.source]),
      [
        ['bye', 'torsion-hello'],
        ['hello', 'torsion-hello'],
        ['wave', 'torsion-hello'],
      ],
    );
    assert.deepEqual(registry.warnings, []);
  });

  test('a built-in plugin is found without loading any discovered module', async () => {
    const dir = project({
      'package.json': { name: 'app', torsion: { plugins: ['./throws.js'] } },
      'throws.js': 'throw new Error("loaded!");\n',
    });
    const registry = new PluginRegistry(undefined, discoverPluginModules(dir).modules);
    assert.equal((await registry.get('echo'))?.name, 'echo');
    assert.deepEqual(registry.warnings, [], 'the broken module was not loaded');
  });

  test('a discovery function runs only when a name is not built in, or for the list, and once', async () => {
    let calls = 0;
    const registry = new PluginRegistry(undefined, () => {
      calls++;
      return { modules: [], warnings: ['seen once'] };
    });
    await registry.get('web');
    assert.equal(calls, 0, 'a built-in name reads no package.json');
    await registry.get('other');
    await registry.list();
    assert.equal(calls, 1);
    assert.deepEqual(registry.warnings, ['seen once']);
  });

  test('a module that throws on import is a warning naming the package and file, and the rest still works', async () => {
    const dir = project({
      'package.json': { name: 'app', dependencies: { broken: '*', good: '*' } },
      'node_modules/broken/package.json': { name: 'broken', torsion: { plugins: ['./p.js'] } },
      'node_modules/broken/p.js': 'throw new Error("kaboom");\n',
      'node_modules/good/package.json': { name: 'good', torsion: { plugins: ['./p.js'] } },
      'node_modules/good/p.js': pluginModule(['good']),
    });
    const registry = new PluginRegistry(undefined, discoverPluginModules(dir).modules);
    assert.equal((await registry.get('good'))?.name, 'good');
    assert.deepEqual(registry.warnings, [
      'package broken (./p.js): cannot load the plugin module: kaboom; ignored',
    ]);
    const names = (await registry.list()).map((p) => p.name);
    assert.ok(names.includes('good') && names.includes('web'));
    assert.equal(registry.warnings.length, 1, 'each problem is reported once');
  });

  test('a missing module, one exporting nothing, and one exporting a non-plugin are warnings', async () => {
    const dir = project({
      'package.json': {
        name: 'app',
        torsion: { plugins: ['./missing.js', './empty.js', './wrong.js'] },
      },
      'empty.js': 'export const x = 1;\n',
      'wrong.js': 'export default [{ name: "ok-name", description: "d" }, { name: "bad name" }];\n',
    });
    const registry = new PluginRegistry(undefined, discoverPluginModules(dir).modules);
    assert.equal(await registry.get('ok-name'), undefined);
    const warnings = registry.warnings;
    assert.equal(warnings.length, 4);
    assert.match(
      warnings[0] ?? '',
      /^package app \(\.\/missing\.js\): cannot load the plugin module: /,
    );
    assert.equal(
      warnings[1],
      'package app (./empty.js): exports no plugins (a default export or "plugins"); ignored',
    );
    assert.equal(
      warnings[2],
      'package app (./wrong.js): not a plugin: plugin ok-name has no makeService; ignored',
    );
    assert.match(
      warnings[3] ?? '',
      /^package app \(\.\/wrong\.js\): not a plugin: its name "bad name" is not a plugin name/,
    );
  });

  test('a discovered plugin named like a built-in one is ignored with a warning: the built-in wins', async () => {
    const dir = project({
      'package.json': { name: 'app', dependencies: { 'fake-web': '*' } },
      'node_modules/fake-web/package.json': { name: 'fake-web', torsion: { plugins: ['./w.js'] } },
      'node_modules/fake-web/w.js': pluginModule(['web']),
    });
    const registry = new PluginRegistry(undefined, discoverPluginModules(dir).modules);
    const listed = await registry.list();
    const web = listed.filter((p) => p.name === 'web');
    assert.deepEqual(
      web.map((p) => p.source),
      ['torsion'],
    );
    assert.deepEqual(registry.warnings, [
      'package fake-web (./w.js): plugin web has the name of a built-in plugin; the built-in one is used',
    ]);
    assert.notEqual((await registry.get('web'))?.description, 'the web plugin');
  });

  test('two packages offering one name: the first discovered wins, with a warning', async () => {
    const dir = project({
      'package.json': { name: 'app', dependencies: { one: '*', two: '*' } },
      'node_modules/one/package.json': { name: 'one', torsion: { plugins: ['./p.js'] } },
      'node_modules/one/p.js': pluginModule(['same']),
      'node_modules/two/package.json': { name: 'two', torsion: { plugins: ['./p.js'] } },
      'node_modules/two/p.js': pluginModule(['same']),
    });
    const registry = new PluginRegistry(undefined, discoverPluginModules(dir).modules);
    await registry.list();
    assert.deepEqual(registry.warnings, [
      'package two (./p.js): plugin same is also offered by package one (./p.js), which is used',
    ]);
  });
});
