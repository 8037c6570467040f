// The package as a user gets it: `npm pack` (of the dist/ the test run just
// built) and the tarball installed offline in a fresh temporary project;
// there, a strict TypeScript program (test/fixtures/package-consumer/main.ts)
// that imports Torsion only by the package name is compiled, through the
// TypeScript API over the project's own tsconfig files, and run. The project
// borrows typescript and @types/node from this repository's node_modules
// through symlinks, so nothing is downloaded. Each child process has a time
// limit; the temporary folder is removed at the end.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
};

/** What the program prints, line by line, when every part works. */
const EXPECTED_OUTPUT = [
  'doubles: "hello\\r\\npong ping 1\\r\\n" disconnecting=true',
  'clock: ticks at 0, 1, 2; stopped',
  'clock: timed out at 7 s',
  'gather: 42 ANSWER',
  'habits: 9 "you are number 1\\r\\nPING\\r\\nPING\\r\\nPING\\r\\n" served=1 CancelledError',
  'network: hello | pong ping 1 | pong ping 2 | pong ping 3',
  'done',
];

/** The environment of the children: no npm_* variables inherited from `npm test`, a private npm cache. */
function childEnv(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  return { ...env, npm_config_cache: cache, npm_config_update_notifier: 'false' };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let env: NodeJS.ProcessEnv = {};

/** Runs a command to its end (killed after `timeoutMs`), without a shell. */
function run(command: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Asserts that a run exited with 0, showing its output otherwise. */
function assertSucceeded(result: Run, what: string): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
}

/** Source files already parsed, shared by the programs of the three configurations. */
const parsed = new Map<string, ts.SourceFile | undefined>();

/**
 * Compiles the project a tsconfig file describes (emitting unless it says
 * `noEmit`) and returns its errors, formatted. Errors are asked of the
 * project's own files and of the installed package's declarations, not of
 * @types/node or TypeScript's lib files: that keeps the check to what
 * Torsion ships and takes seconds instead of half a minute.
 */
function compile(configPath: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  assert.ok(config !== undefined, configPath);
  const host = ts.createCompilerHost(config.options);
  const parse = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, version, ...rest) => {
    const key = `${fileName}|${typeof version === 'object' ? `${version.languageVersion}|${version.impliedNodeFormat}` : version}`;
    if (!parsed.has(key)) parsed.set(key, parse(fileName, version, ...rest));
    return parsed.get(key);
  };
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host });
  const checked = program
    .getSourceFiles()
    .filter(
      (file) =>
        !file.fileName.includes('/node_modules/') ||
        file.fileName.includes(`/node_modules/${pkg.name}/`),
    );
  const declarations = checked.filter((file) => file.isDeclarationFile).length;
  assert.ok(
    declarations >= specifiers.length,
    `only ${declarations} of Torsion's .d.ts files were checked`,
  );
  const diagnostics = [
    ...config.errors,
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...checked.flatMap((file) => [
      ...program.getSyntacticDiagnostics(file),
      ...program.getSemanticDiagnostics(file),
    ]),
    ...(config.options.noEmit ? [] : program.emit().diagnostics),
  ];
  return diagnostics.map((diagnostic) => ts.formatDiagnostic(diagnostic, host).trim());
}

/** The subpath specifiers the package exports (`torsion`, `torsion/defer`, …), without package.json. */
const specifiers = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));

describe('the packed package in a fresh project', { timeout: 180_000 }, () => {
  let temp = '';
  let app = '';
  const shipped: string[] = [];

  before(async () => {
    temp = mkdtempSync(join(tmpdir(), 'torsion-package-'));
    env = childEnv(join(temp, 'npm-cache'));
    // --ignore-scripts: pack the dist/ this test run built, without `prepare` rebuilding it under it.
    const packed = await run(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', temp],
      root,
    );
    assertSucceeded(packed, 'npm pack');
    const [info] = JSON.parse(packed.stdout) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    assert.ok(info !== undefined, packed.stdout);
    shipped.push(...info.files.map((file) => file.path));

    app = join(temp, 'app');
    mkdirSync(join(app, 'node_modules', '@types'), { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'first-hour', private: true, type: 'module' }, null, 2)}\n`,
    );
    const installed = await run(
      'npm',
      ['install', join(temp, info.filename), '--offline', '--no-audit', '--no-fund'],
      app,
    );
    assertSucceeded(installed, 'npm install of the tarball');
    // After the install, which would prune packages it was not asked for.
    symlinkSync(join(root, 'node_modules', 'typescript'), join(app, 'node_modules', 'typescript'));
    symlinkSync(
      join(root, 'node_modules', '@types', 'node'),
      join(app, 'node_modules', '@types', 'node'),
    );

    copyFileSync(
      join(root, 'test', 'fixtures', 'package-consumer', 'main.ts'),
      join(app, 'main.ts'),
    );
    // One import of every exported subpath, for the compile-only checks.
    writeFileSync(
      join(app, 'subpaths.ts'),
      `${specifiers.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}\nexport const modules = [${specifiers.map((_, i) => `m${i}`).join(', ')}];\n`,
    );
    // skipLibCheck is false so that Torsion's .d.ts files are checked under each setting.
    const base = {
      target: 'es2022',
      types: ['node'],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
    };
    const configs: Record<string, object> = {
      'tsconfig.json': { module: 'nodenext', outDir: 'out' },
      'tsconfig.node16.json': { module: 'node16', moduleResolution: 'node16', noEmit: true },
      'tsconfig.bundler.json': { module: 'preserve', moduleResolution: 'bundler', noEmit: true },
    };
    for (const [name, options] of Object.entries(configs)) {
      const config = {
        compilerOptions: { ...base, ...options },
        files: ['main.ts', 'subpaths.ts'],
      };
      writeFileSync(join(app, name), `${JSON.stringify(config, null, 2)}\n`);
    }
  });

  after(() => {
    if (temp !== '') rmSync(temp, { recursive: true, force: true });
  });

  test('npm pack ships the compiled library, its declarations and the torsion binary, and nothing else', () => {
    const always = new Set([
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'bin/torsion.js',
    ]);
    const stray = shipped.filter(
      (path) => !always.has(path) && !/^dist\/src\/.+(?<!\.map)\.(js|d\.ts)$/.test(path),
    );
    assert.deepEqual(stray, [], 'files in the tarball that are not the library');
    for (const name of always) assert.ok(shipped.includes(name), `${name} is not in the tarball`);
    const targets = Object.values(pkg.exports).flatMap((value) =>
      typeof value === 'string' ? [value] : Object.values(value as Record<string, string>),
    );
    for (const target of targets) {
      assert.ok(
        shipped.includes(target.replace(/^\.\//, '')),
        `exports target ${target} is not in the tarball`,
      );
    }
  });

  test('every subpath in exports names its declarations first, then its JavaScript', () => {
    for (const [key, value] of Object.entries(pkg.exports)) {
      if (typeof value === 'string') continue; // ./package.json
      const conditions = Object.keys(value as object);
      assert.equal(conditions[0], 'types', `exports["${key}"] must name "types" first`);
      assert.equal(conditions.at(-1), 'default', `exports["${key}"] must name "default" last`);
    }
  });

  test('every exported subpath imports by name in Node', async () => {
    const script = `for (const s of ${JSON.stringify(specifiers)}) { const m = await import(s); if (Object.keys(m).length === 0) throw new Error(s + ' exports nothing'); } console.log('imported');`;
    const result = await run(process.execPath, ['--input-type=module', '-e', script], app);
    assertSucceeded(result, 'importing every subpath');
    assert.equal(result.stdout, 'imported\n');
  });

  test('a strict program compiles with module nodenext and runs the first hour on 127.0.0.1', async () => {
    assert.deepEqual(compile(join(app, 'tsconfig.json')), []);
    const ran = await run(process.execPath, [join(app, 'out', 'main.js')], app, 30_000);
    assert.equal(ran.stderr, '');
    assert.deepEqual(ran.stdout.split('\n'), [...EXPECTED_OUTPUT, '']);
    assert.equal(ran.code, 0);
  });

  for (const resolution of ['node16', 'bundler']) {
    test(`the program and every subpath type-check with moduleResolution ${resolution}`, () => {
      assert.deepEqual(compile(join(app, `tsconfig.${resolution}.json`)), []);
    });
  }
});
