// The API reference as TypeDoc builds it (typedoc.json): one module per
// package.json export, named by its import path, each introduced by a
// file comment whose example compiles; every symbol documented once; no
// `[custom]` pseudo-methods; the docs/ pages rendered as documents, with
// their links resolved.
//
// The checks read TypeDoc's JSON model from .run/typedoc.json, which
// `npm run docs:check` writes. When that file is older than its inputs (or
// missing, as after `npm run test:unit`), the test runs TypeDoc itself
// (about 12 s).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const modelPath = join(root, '.run', 'typedoc.json');

/** The parts of TypeDoc's JSON model that the checks read. */
interface DisplayPart {
  kind: string;
  text: string;
  target?: number | string;
}
interface Reflection {
  id: number;
  name: string;
  kind: number;
  variant: string;
  children?: Reflection[];
  comment?: { summary: DisplayPart[]; blockTags?: Array<{ tag: string; content: DisplayPart[] }> };
  content?: DisplayPart[];
}
interface ProjectModel extends Reflection {
  readme?: DisplayPart[];
  documents?: Reflection[];
  files: { entries: Record<string, string>; reflections: Record<string, number> };
}

/** Every file under `dir` (absolute), skipping `node_modules`. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules') return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** TypeDoc's model, regenerated first if any input is newer than it. */
function loadModel(): ProjectModel {
  const inputs = [
    ...filesUnder(join(root, 'src')),
    ...filesUnder(join(root, 'docs')).filter((path) => path.endsWith('.md')),
    ...['README.md', 'typedoc.json', 'package.json', 'tsconfig.json'].map((name) =>
      join(root, name),
    ),
  ];
  const newest = Math.max(...inputs.map((path) => statSync(path).mtimeMs));
  if (!existsSync(modelPath) || statSync(modelPath).mtimeMs < newest) {
    mkdirSync(join(root, '.run'), { recursive: true });
    const partial = `${modelPath}.${process.pid}`;
    const run = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'),
        '--json',
        partial,
        '--treatWarningsAsErrors',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(run.status, 0, `TypeDoc failed:\n${run.stdout}${run.stderr}`);
    renameSync(partial, modelPath);
  }
  return JSON.parse(readFileSync(modelPath, 'utf8')) as ProjectModel;
}

const KIND_MODULE = 2;
const KIND_DOCUMENT = 8388608;

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { types?: string }>;
};

/** The import paths of the package's modules and the source file of each. */
const entryPoints = new Map(
  Object.entries(pkg.exports).flatMap(([key, target]): Array<[string, string]> => {
    if (typeof target === 'string') return []; // ./package.json
    const types = target.types ?? '';
    const source = types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts');
    return [[`${pkg.name}${key.slice(1)}`, source]];
  }),
);

/** The file comment of a source file: its first doc comment, without the `*` margin. */
function fileComment(source: string): string | undefined {
  const match = /^(?:\/\/.*\n|\s*\n)*\/\*\*([\s\S]*?)\*\//.exec(source);
  return match?.[1]
    ?.split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/** The ```ts blocks of a comment. */
function codeBlocks(comment: string): string[] {
  return [...comment.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

/** The plain text of display parts. */
function textOf(parts: readonly DisplayPart[] | undefined): string {
  return (parts ?? []).map((part) => part.text).join('');
}

test('the file comment reader takes the doc comment after the // header', () => {
  const source = ['// Header.', '// Tests: x', '', '/**', ' * Intro.', ' *', ' * @module m', ' */'];
  assert.equal(fileComment(source.join('\n')), 'Intro.\n\n@module m');
  assert.equal(fileComment('// Header.\n\nexport const x = 1;\n'), undefined);
  assert.deepEqual(codeBlocks('Intro.\n```ts\nlet a = 1;\n```\n```sh\nls\n```\n'), [
    'let a = 1;\n',
  ]);
});

describe('entry point file comments', () => {
  test('every package.json export except ./package.json is a module', () => {
    assert.ok(entryPoints.size > 10, `found ${entryPoints.size} entry points`);
  });

  for (const [name, source] of entryPoints) {
    test(`${source} introduces ${name} with @module ${name}`, () => {
      assert.ok(existsSync(join(root, source)), `${source} does not exist`);
      const comment = fileComment(readFileSync(join(root, source), 'utf8'));
      assert.ok(
        comment !== undefined,
        `${source} has no file comment (a /** … */ after the header)`,
      );
      assert.match(comment, new RegExp(`^@module ${name}$`, 'm'));
      assert.match(comment, /Twisted/, `${name}'s introduction names its Twisted counterpart`);
      const examples = codeBlocks(comment);
      assert.equal(examples.length, 1, `${name}'s introduction has one \`\`\`ts example`);
      const code = examples[0]!.split('\n').filter((line) => !/^(import .*)?$/.test(line.trim()));
      assert.ok(
        code.length >= 3 && code.length <= 10,
        `${name}'s example has ${code.length} lines besides imports`,
      );
    });
  }

  test('every example, and every TypeScript snippet of the README, compiles, importing the package by name', () => {
    const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    // Examples may declare what they do not use; they run nowhere. Without
    // outDir and rootDir, `torsion/…` resolves as for a user of the package:
    // to the built declarations in dist/src/ (faster than the sources).
    const { outDir, rootDir, ...compilerOptions } = parsed.options;
    const options = { ...compilerOptions, noEmit: true, noUnusedLocals: false };
    const examples = new Map<string, string>();
    for (const [name, source] of entryPoints) {
      const comment = fileComment(readFileSync(join(root, source), 'utf8')) ?? '';
      const file = join(root, '.run', 'module-examples', `${name.replaceAll('/', '_')}.ts`);
      examples.set(file, codeBlocks(comment).join('\n'));
    }
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const [i, match] of [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].entries()) {
      examples.set(join(root, '.run', 'readme-examples', `snippet-${i + 1}.ts`), match[1] ?? '');
    }
    assert.ok(examples.size > entryPoints.size, 'the README has TypeScript snippets');
    const host = ts.createCompilerHost(options);
    const { fileExists, readFile, getSourceFile } = host;
    host.fileExists = (file) => examples.has(file) || fileExists.call(host, file);
    host.readFile = (file) => examples.get(file) ?? readFile.call(host, file);
    host.getSourceFile = (file, language, ...rest) => {
      const text = examples.get(file);
      if (text !== undefined) return ts.createSourceFile(file, text, language);
      return getSourceFile.call(host, file, language, ...rest);
    };
    const program = ts.createProgram([...examples.keys()], options, host);
    const errors = [...examples.keys()].flatMap((file) => {
      const sourceFile = program.getSourceFile(file);
      assert.ok(sourceFile, file);
      return [
        ...program.getSyntacticDiagnostics(sourceFile),
        ...program.getSemanticDiagnostics(sourceFile),
      ].map((d) => {
        const { line } = sourceFile.getLineAndCharacterOfPosition(d.start ?? 0);
        const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
        return `${file.slice(root.length)}:${line + 1}: ${message}`;
      });
    });
    assert.deepEqual(errors, []);
  });
});

describe('the API reference (TypeDoc model)', () => {
  let model: ProjectModel;
  before(() => {
    model = loadModel();
  });

  const modules = () => (model.children ?? []).filter((child) => child.kind === KIND_MODULE);

  test('its modules are the import paths of package.json exports', () => {
    assert.deepEqual(
      modules()
        .map((module) => module.name)
        .sort(),
      [...entryPoints.keys()].sort(),
    );
  });

  test('each module is built from the file its export names', () => {
    const fileOfReflection = new Map(
      Object.entries(model.files.reflections).map(([file, id]) => [id, model.files.entries[file]]),
    );
    for (const module of modules()) {
      assert.equal(fileOfReflection.get(module.id), entryPoints.get(module.name), module.name);
    }
  });

  test('each module has an introduction and an example', () => {
    for (const module of modules()) {
      const summary = textOf(module.comment?.summary);
      assert.ok(summary.length > 200, `${module.name}: introduction of ${summary.length} chars`);
      const example = module.comment?.blockTags?.find((tag) => tag.tag === '@example');
      assert.ok(
        example?.content.some((part) => part.kind === 'code'),
        `${module.name}: example`,
      );
    }
  });

  test('each symbol is documented once; other modules re-export it by reference', () => {
    // Twisted too has two TimeoutErrors: a Deferred's (twisted.internet.defer)
    // and a connection's (twisted.internet.error); DESIGN.md keeps both.
    const distinct = new Set(['TimeoutError']);
    const places = new Map<string, string[]>();
    for (const module of modules()) {
      for (const child of module.children ?? []) {
        if (child.variant === 'reference') continue;
        places.set(child.name, [...(places.get(child.name) ?? []), module.name]);
      }
    }
    const twice = [...places].filter(([name, where]) => where.length > 1 && !distinct.has(name));
    assert.deepEqual(twice, []);
    assert.deepEqual(places.get('DeferredList'), ['torsion/defer']);
    for (const name of distinct) assert.equal(places.get(name)?.length, 2, name);
  });

  test('the package root re-exports: it documents only what no subpath exports', () => {
    const torsion = modules().find((module) => module.name === pkg.name);
    const own = (torsion?.children ?? []).filter((child) => child.variant !== 'reference');
    assert.deepEqual(
      own.map((child) => child.name),
      ['TorsionError'],
    );
  });

  test('no symbol-keyed pseudo-member but [iterator] and [asyncIterator] (what yield* and for await use)', () => {
    const found: string[] = [];
    const visit = (reflection: Reflection, path: string): void => {
      for (const child of reflection.children ?? []) {
        const where = `${path}.${child.name}`;
        if (
          /^\[.*\]$/.test(child.name) &&
          !['[iterator]', '[asyncIterator]'].includes(child.name)
        ) {
          found.push(where);
        }
        visit(child, where);
      }
    };
    for (const module of modules()) visit(module, module.name);
    assert.deepEqual(found, []);
  });

  test('the tutorial and the docs/ pages are documents of the reference', () => {
    const documentFiles = new Set(
      Object.entries(model.files.entries)
        .filter(([id]) => {
          const target = model.files.reflections[id];
          return (model.documents ?? []).some((doc) => doc.id === target);
        })
        .map(([, path]) => path),
    );
    for (const path of [
      'docs/tutorial/finger.md',
      'docs/differences-from-twisted.md',
      'docs/architecture.md',
    ]) {
      assert.ok(documentFiles.has(path), `${path} is not a document of the reference`);
    }
    for (const doc of model.documents ?? []) assert.equal(doc.kind, KIND_DOCUMENT);
  });

  test('links from the README and the documents to a docs/ page open its document', () => {
    const documentIds = new Set((model.documents ?? []).map((doc) => doc.id));
    const texts = [
      ['README.md', model.readme],
      ...(model.documents ?? []).map((doc) => [doc.name, doc.content] as const),
    ] as const;
    let seen = 0;
    for (const [name, parts] of texts) {
      for (const part of parts ?? []) {
        if (part.kind !== 'relative-link' || !/\.md(#|$)/.test(part.text)) continue;
        seen++;
        const target = model.files.reflections[String(part.target)];
        assert.ok(
          target !== undefined && documentIds.has(target),
          `${name}: the link to ${part.text} opens a copy of the file, not its page`,
        );
      }
    }
    assert.ok(seen >= 3, `found ${seen} links to docs/ pages`);
  });
});
