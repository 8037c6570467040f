// The reactor is a parameter, never a hidden default (issue 9, part 1):
// - no library module reaches the global reactor (src/internet/reactor.ts)
//   except the entry points' one module, checked on the import graph of src/;
// - importing torsion/task or torsion/testing loads no socket module, so
//   constructs no NodeReactor, checked in fresh child processes (no socket
//   is opened: a child only imports modules and reports what Node loaded);
// - leaving out the clock does not compile, and throws a TypeError at run
//   time for a JavaScript caller (the `@ts-expect-error` lines below fail
//   the build if the clock ever becomes optional again).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Factory, Protocol, ReconnectingClientFactory } from 'torsion/protocol';
import { identityPumpPolicy, loopbackAsync } from 'torsion/protocols/loopback';
import { ThrottlingFactory, TimeoutFactory, TimeoutMixin } from 'torsion/protocols/policies';
import { Clock, Cooperator, LoopingCall } from 'torsion/task';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const src = join(root, 'src');
const REACTOR = 'internet/reactor.ts';
/** The modules that may reach the global reactor: the package root, which
 * re-exports torsion/reactor, and the entry points' lazy loader. */
const ALLOWED_REACTOR_IMPORTERS = ['index.ts', 'internet/task/_global-reactor.ts'];
const SOCKET_MODULES = ['node:net', 'node:tls', 'node:dns'];

// ---------------------------------------------------------------------------
// The import graph of src/

interface ModuleImports {
  /** Imports that run code: `import … from`, `export … from`, side-effect imports. */
  readonly value: string[];
  /** `import('…')` calls, which load only when they run. */
  readonly dynamic: string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Resolves a specifier of `from` to a src-relative .ts path, or keeps a bare one (node:net). */
function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(src, resolve(dirname(from), specifier)).replace(/\.js$/, '.ts');
}

/** The imports of one source file; type-only imports are left out, as tsc erases them. */
function importsOf(file: string): ModuleImports {
  const text = readFileSync(file, 'utf8');
  const value: string[] = [];
  const dynamic: string[] = [];
  const statement = /^\s*(?:import|export)\s+(type\s+)?(?:[^;'"]*?\s+from\s+)?'([^']+)'/gm;
  for (const match of text.matchAll(statement)) {
    if (match[1] === undefined) value.push(resolveSpecifier(file, match[2] as string));
  }
  for (const match of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) {
    dynamic.push(resolveSpecifier(file, match[1] as string));
  }
  return { value, dynamic };
}

const graph = new Map<string, ModuleImports>(
  sourceFiles(src).map((file) => [relative(src, file), importsOf(file)]),
);

/** Every module `start` loads through static imports, itself included. */
function staticClosure(start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.get(next)?.value ?? []));
  }
  return seen;
}

describe('the import graph of src/', () => {
  test('is read: the scan finds the modules and the imports it checks', () => {
    // A scan that found nothing would pass every test below.
    assert.ok(graph.size > 40, `only ${graph.size} modules found under ${src}`);
    assert.ok(graph.get('index.ts')?.value.includes(REACTOR));
    assert.ok(graph.get('internet/node-reactor.ts')?.value.includes('internet/tcp.ts'));
    assert.ok(staticClosure('internet/reactor.ts').has('node:net'));
    assert.deepEqual(graph.get('internet/task/_global-reactor.ts')?.dynamic, [REACTOR]);
  });

  test('only the package root and the entry points’ loader import the global reactor', () => {
    const importers = [...graph]
      .filter(([, imports]) => [...imports.value, ...imports.dynamic].includes(REACTOR))
      .map(([file]) => file)
      .sort();
    assert.deepEqual(importers, ALLOWED_REACTOR_IMPORTERS);
  });

  test('no library module reaches the global reactor through static imports', () => {
    const reaching = [...graph.keys()]
      .filter((file) => file !== 'index.ts' && file !== REACTOR)
      .filter((file) => staticClosure(file).has(REACTOR));
    assert.deepEqual(reaching, []);
  });

  test('torsion/task reaches no socket module and no NodeReactor through static imports', () => {
    const closure = staticClosure('internet/task/index.ts');
    for (const banned of [...SOCKET_MODULES, 'internet/node-reactor.ts', REACTOR]) {
      assert.ok(!closure.has(banned), `torsion/task loads ${banned}`);
    }
  });

  test('torsion/testing reaches no socket module and no NodeReactor through static imports', () => {
    const closure = staticClosure('testing/index.ts');
    for (const banned of [
      'node:net',
      'node:tls',
      'node:dns',
      'internet/node-reactor.ts',
      REACTOR,
    ]) {
      assert.ok(!closure.has(banned), `torsion/testing loads ${banned}`);
    }
  });
});

// ---------------------------------------------------------------------------
// What Node loads, in a fresh process

/**
 * The socket modules Node has loaded after importing `specifier` in a fresh
 * process. The list is taken before anything is printed: writing to a piped
 * stdout would itself load node:net.
 */
function socketModulesLoadedBy(specifier: string): string[] {
  const url = import.meta.resolve(specifier);
  const program = `
    await import(${JSON.stringify(url)});
    const wanted = new Set(['NativeModule net', 'NativeModule tls', 'NativeModule dns']);
    const loaded = process.moduleLoadList.filter((name) => wanted.has(name));
    process.stdout.write(JSON.stringify(loaded));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as string[];
}

describe('importing a subpath in a fresh process', () => {
  test('torsion/reactor loads net, tls and dns: the probe sees what it looks for', () => {
    assert.deepEqual(socketModulesLoadedBy('torsion/reactor').sort(), [
      'NativeModule dns',
      'NativeModule net',
      'NativeModule tls',
    ]);
  });

  // NodeReactor's module imports node:net (through tcp.ts): a process that
  // has not loaded node:net has not even loaded NodeReactor, let alone
  // constructed one.
  test('torsion/task loads no net, tls or dns, so constructs no NodeReactor', () => {
    assert.deepEqual(socketModulesLoadedBy('torsion/task'), []);
  });

  test('torsion/protocols/policies and torsion/protocol load no net, tls or dns', () => {
    assert.deepEqual(socketModulesLoadedBy('torsion/protocols/policies'), []);
    assert.deepEqual(socketModulesLoadedBy('torsion/protocol'), []);
  });

  test('torsion/testing loads no net, tls or dns, so constructs no NodeReactor', () => {
    assert.deepEqual(socketModulesLoadedBy('torsion/testing'), []);
  });
});

// ---------------------------------------------------------------------------
// Leaving out the clock

const factory = Factory.forProtocol(Protocol);

describe('an API that keeps time, given no clock', () => {
  test('LoopingCall does not compile and throws a TypeError', () => {
    // @ts-expect-error: the clock is the required first argument.
    assert.throws(() => new LoopingCall(() => undefined), /LoopingCall needs a clock/);
    // @ts-expect-error: withCount's clock is required.
    assert.throws(() => LoopingCall.withCount(() => undefined), /LoopingCall needs a clock/);
  });

  test('Cooperator does not compile and throws a TypeError', () => {
    // @ts-expect-error: the options, with their scheduler, are required.
    assert.throws(() => new Cooperator(), TypeError);
    // @ts-expect-error: the scheduler is required.
    assert.throws(() => new Cooperator({ started: false }), /Cooperator needs a scheduler/);
  });

  test('ReconnectingClientFactory does not compile and throws a TypeError', () => {
    // @ts-expect-error: the options, with their clock, are required.
    assert.throws(() => new ReconnectingClientFactory(), TypeError);
    // @ts-expect-error: the clock is required.
    assert.throws(() => new ReconnectingClientFactory({ maxRetries: 1 }), /needs a clock/);
  });

  test('ThrottlingFactory and TimeoutFactory do not compile and throw a TypeError', () => {
    // @ts-expect-error: the options, with their clock, are required.
    assert.throws(() => new ThrottlingFactory(factory), TypeError);
    // @ts-expect-error: the clock is required.
    assert.throws(() => new ThrottlingFactory(factory, { readLimit: 10 }), /needs a clock/);
    // @ts-expect-error: the options, with their clock, are required.
    assert.throws(() => new TimeoutFactory(factory), TypeError);
    // @ts-expect-error: the clock is required.
    assert.throws(() => new TimeoutFactory(factory, { timeoutPeriod: 5 }), /needs a clock/);
  });

  test('TimeoutMixin does not compile and throws a TypeError', () => {
    // @ts-expect-error: the options, with their clock, are required.
    assert.throws(() => new TimeoutMixin(), TypeError);
    // @ts-expect-error: the clock is required.
    assert.throws(() => new TimeoutMixin(undefined, { onTimeout: () => {} }), /needs a clock/);
  });

  test('loopbackAsync does not compile and throws a TypeError', () => {
    const [server, client] = [new Protocol(), new Protocol()];
    // @ts-expect-error: the options, with their clock, are required.
    assert.throws(() => loopbackAsync(server, client), TypeError);
    // @ts-expect-error: the options, with their clock, are required.
    assert.throws(() => loopbackAsync(server, client, identityPumpPolicy), TypeError);
    // @ts-expect-error: the clock is required.
    assert.throws(() => loopbackAsync(server, client, undefined, {}), /needs a clock/);
  });

  test('each of them accepts a Clock, and schedules nothing until used', () => {
    const clock = new Clock();
    new LoopingCall(clock, () => undefined);
    LoopingCall.withCount(() => undefined, clock);
    new Cooperator({ scheduler: (step) => clock.callLater(0, step) });
    new ReconnectingClientFactory({ clock });
    new ThrottlingFactory(factory, { readLimit: 10, clock });
    new TimeoutFactory(factory, { clock });
    new TimeoutMixin(undefined, { clock, onTimeout: () => {} });
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});
