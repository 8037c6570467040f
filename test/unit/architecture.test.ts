// The layering that docs/architecture.md describes: which layer each source
// module belongs to, which layers it may import at run time, and no import
// cycle between modules.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

type Layer =
  | 'core'
  | 'logger'
  | 'protocol'
  | 'task'
  | 'node reactor'
  | 'endpoints'
  | 'protocols'
  | 'testing'
  | 'web'
  | 'app'
  | 'runner'
  | 'workers'
  | 'utils'
  | 'default reactor'
  | 'package root';

const NODE_REACTOR = new Set([
  'src/internet/node-reactor.ts',
  'src/internet/tcp.ts',
  'src/internet/udp.ts',
  'src/internet/unix.ts',
  'src/internet/_stream-transport.ts',
  'src/internet/_listening.ts',
  'src/internet/_connector.ts',
  'src/internet/_resolver.ts',
  'src/internet/stdio.ts',
  'src/internet/process.ts',
]);

/** The layer of a module (a repo-relative path), as the table in docs/architecture.md. */
function layerOf(path: string): Layer {
  if (path === 'src/index.ts') return 'package root';
  if (path === 'src/internet/reactor.ts') return 'default reactor';
  if (path === 'src/internet/protocol.ts') return 'protocol';
  if (path === 'src/internet/utils.ts') return 'utils';
  if (NODE_REACTOR.has(path)) return 'node reactor';
  if (path.startsWith('src/internet/task/')) return 'task';
  if (path.startsWith('src/internet/endpoints/')) return 'endpoints';
  if (path.startsWith('src/internet/')) return 'core';
  if (path.startsWith('src/logger/')) return 'logger';
  if (path.startsWith('src/protocols/')) return 'protocols';
  if (path.startsWith('src/testing/')) return 'testing';
  if (path.startsWith('src/web/')) return 'web';
  if (path.startsWith('src/app/')) return 'app';
  if (path.startsWith('src/runner/')) return 'runner';
  if (path.startsWith('src/workers/')) return 'workers';
  throw new Error(`${path} belongs to no layer: add it to docs/architecture.md and this test`);
}

const ALLOWED: Record<Layer, readonly Layer[]> = {
  core: ['logger'],
  logger: ['core'],
  protocol: ['core', 'logger'],
  task: ['core', 'logger'],
  'node reactor': ['core', 'logger'],
  endpoints: ['core', 'logger', 'protocol', 'node reactor'],
  protocols: ['core', 'logger', 'protocol', 'task'],
  testing: ['core', 'logger', 'protocol', 'task', 'protocols'],
  web: ['core', 'logger', 'protocol', 'task', 'protocols', 'endpoints'],
  app: ['core', 'logger', 'protocol', 'task', 'endpoints'],
  runner: [
    'core',
    'logger',
    'protocol',
    'task',
    'node reactor',
    'endpoints',
    'protocols',
    'testing',
    'web',
    'app',
    'workers',
    'utils',
  ],
  workers: ['core', 'logger', 'task'],
  utils: ['core', 'logger', 'protocol', 'task'],
  'default reactor': ['core', 'node reactor'],
  'package root': [
    'core',
    'logger',
    'protocol',
    'task',
    'node reactor',
    'endpoints',
    'protocols',
    'testing',
    'web',
    'app',
    'runner',
    'workers',
    'utils',
    'default reactor',
  ],
};

/** The one node-reactor module endpoints may use: the system resolver, their fallback. */
const ENDPOINTS_MAY_USE = new Set(['src/internet/_resolver.ts']);

function sourceModules(dir: string): string[] {
  return readdirSync(join(root, dir))
    .sort()
    .flatMap((name) => {
      const path = posix.join(dir, name);
      if (statSync(join(root, path)).isDirectory()) return sourceModules(path);
      return path.endsWith('.ts') ? [path] : [];
    });
}

/**
 * The modules `path` imports or re-exports at run time (relative specifiers
 * only). `import type` and `export type` leave nothing at run time; an import
 * with some `type` specifiers still loads its module.
 */
function runtimeImports(path: string): string[] {
  const source = readFileSync(join(root, path), 'utf8');
  const found: string[] = [];
  for (const match of source.matchAll(
    /^(?:import|export)(?!\s+type\b)[^;]*?from\s+'(\.[^']+)'/gms,
  )) {
    const specifier = match[1] ?? '';
    const target = posix.normalize(posix.join(dirname(path), specifier.replace(/\.js$/, '.ts')));
    found.push(target);
  }
  return found;
}

const modules = sourceModules('src');
const graph = new Map(modules.map((path) => [path, runtimeImports(path)]));

describe('architecture', () => {
  test('the scan finds the modules and the imports it checks', () => {
    assert.ok(modules.length > 40, `${modules.length} modules`);
    assert.ok(graph.get('src/internet/defer.ts')?.includes('src/internet/failure.ts'));
    assert.ok(graph.get('src/protocols/basic/lines.ts')?.includes('src/internet/protocol.ts'));
    // `import type` is not a run-time import.
    assert.ok(!graph.get('src/internet/address.ts')?.includes('src/internet/interfaces.ts'));
  });

  test('every import names a module that exists', () => {
    const missing = [...graph].flatMap(([from, targets]) =>
      targets.filter((target) => !graph.has(target)).map((target) => `${from} -> ${target}`),
    );
    assert.deepEqual(missing, []);
  });

  test('each layer imports at run time only the layers below it (docs/architecture.md)', () => {
    const violations: string[] = [];
    for (const [from, targets] of graph) {
      const layer = layerOf(from);
      for (const target of targets) {
        const other = layerOf(target);
        if (other === layer) continue;
        const allowed =
          ALLOWED[layer].includes(other) &&
          (layer !== 'endpoints' || other !== 'node reactor' || ENDPOINTS_MAY_USE.has(target));
        if (!allowed) violations.push(`${from} (${layer}) imports ${target} (${other})`);
      }
    }
    assert.deepEqual(violations, []);
  });

  test('no module imports itself through a cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (path: string): void => {
      state.set(path, 'visiting');
      stack.push(path);
      for (const target of graph.get(path) ?? []) {
        if (state.get(target) === 'visiting') {
          cycles.push([...stack.slice(stack.indexOf(target)), target].join(' -> '));
        } else if (!state.has(target)) {
          visit(target);
        }
      }
      stack.pop();
      state.set(path, 'done');
    };
    for (const path of modules) if (!state.has(path)) visit(path);
    assert.deepEqual(cycles, []);
  });

  test('docs/architecture.md names every layer and every folder of src/', () => {
    const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    for (const layer of Object.keys(ALLOWED)) {
      const row = new RegExp(`^\\|\\s*${layer}\\s*\\|`, 'm');
      assert.ok(row.test(doc), `the layer table has no row for ${layer}`);
    }
    const folders = new Set(modules.map((path) => `${dirname(path)}/`));
    for (const folder of folders) {
      if (folder === 'src/') continue;
      assert.ok(doc.includes(folder), `docs/architecture.md does not mention ${folder}`);
    }
  });
});
