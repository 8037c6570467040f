// Checks of the repository itself, not of the library's behaviour: every
// source module says where its tests are and those files exist, every
// package.json entry point exists after the build, and the Markdown the
// repository ships links only to files inside it. Runs from dist/test/unit/
// after `npm run build`, so dist/ exists; sources are read from the repo root.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Every file under `dir` (repo-relative, forward slashes), sorted, skipping `node_modules`. */
function filesUnder(dir: string): string[] {
  const absolute = join(root, dir);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute)
    .sort()
    .flatMap((name) => {
      if (name === 'node_modules') return [];
      const path = posix.join(dir, name);
      return statSync(join(root, path)).isDirectory() ? filesUnder(path) : [path];
    });
}

/** A repo-relative path with `*` wildcards as a regular expression over whole paths. */
function globPattern(glob: string): RegExp {
  const escaped = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${escaped}$`);
}

/** Whether a repo-relative path, possibly with `*` wildcards, names at least one file. */
function pathExists(path: string): boolean {
  if (!path.includes('*')) return existsSync(join(root, path));
  const pattern = globPattern(path);
  const fixed = path.slice(0, path.indexOf('*'));
  return filesUnder(fixed.slice(0, fixed.lastIndexOf('/'))).some((file) => pattern.test(file));
}

/** The leading `//` comment lines of a source file, without the `//`. */
function headerLines(source: string): string[] {
  const lines: string[] = [];
  for (const line of source.split('\n')) {
    if (!line.startsWith('//')) break;
    lines.push(line.slice(2).trim());
  }
  return lines;
}

/**
 * The test files a header's `Tests:` line names, repo-relative, or
 * `undefined` when there is no such line.
 *
 * @remarks
 * The line lists paths separated by `,` or `;` and continues on the next
 * comment line while it ends with one of them. A parenthesised note after a
 * path is ignored. A bare file name is in the folder of the path before it
 * (`test/unit/internet/task-clock.test.ts, task-looping.test.ts`).
 */
function testsOfHeader(lines: readonly string[]): string[] | undefined {
  const start = lines.findIndex((line) => line.startsWith('Tests:'));
  if (start < 0) return undefined;
  let text = lines[start]!.slice('Tests:'.length);
  for (let i = start + 1; i < lines.length && /[,;]\s*$/.test(text); i++) {
    text += ` ${lines[i]}`;
  }
  const paths: string[] = [];
  let folder: string | undefined;
  for (const item of text.split(/[,;]/)) {
    const path =
      item
        .replace(/\([^)]*\)/g, '')
        .trim()
        .split(/\s+/)[0] ?? '';
    if (path === '') continue;
    if (path.includes('/')) {
      folder = posix.dirname(path);
      paths.push(path);
    } else {
      // A bare name with nothing before it stays bare, and so fails to resolve.
      paths.push(folder === undefined ? path : posix.join(folder, path));
    }
  }
  return paths;
}

/**
 * Whether a module runs nothing of its own: every top-level statement is an
 * import, a re-export (`export … from`), or a type-only declaration
 * (interface, type alias, `declare`). Such modules (`index.ts` re-export
 * modules, `interfaces.ts`) need no tests and no `Tests:` header.
 */
function runsNothing(path: string, source: string): boolean {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, false);
  return file.statements.every(
    (statement) =>
      ts.isImportDeclaration(statement) ||
      (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      (ts.canHaveModifiers(statement) &&
        (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)),
  );
}

describe('the Tests: header parser', () => {
  test('reads comma- and semicolon-separated paths over continued lines, dropping notes', () => {
    assert.deepEqual(
      testsOfHeader([
        'What this module holds.',
        'Tests: test/unit/a/x.test.ts (Clock), test/unit/a/y.test.ts,',
        'test/unit/b-*.test.ts;',
        'test/integration/z.test.ts',
        'Twisted: not a path',
      ]),
      [
        'test/unit/a/x.test.ts',
        'test/unit/a/y.test.ts',
        'test/unit/b-*.test.ts',
        'test/integration/z.test.ts',
      ],
    );
  });

  test('resolves a bare file name in the folder of the path before it', () => {
    assert.deepEqual(
      testsOfHeader(['Tests: test/unit/internet/task-clock.test.ts, task-looping.test.ts']),
      ['test/unit/internet/task-clock.test.ts', 'test/unit/internet/task-looping.test.ts'],
    );
  });

  test('does not continue past a line that does not end with a separator', () => {
    assert.deepEqual(testsOfHeader(['Tests: test/unit/x.test.ts', 'test/unit/y.test.ts']), [
      'test/unit/x.test.ts',
    ]);
    assert.equal(testsOfHeader(['Only prose here.']), undefined);
  });

  test('a glob names files only when at least one file matches it', () => {
    assert.ok(pathExists('test/unit/internet/defer-*.test.ts'));
    assert.ok(!pathExists('test/unit/internet/no-such-*.test.ts'));
    assert.ok(!pathExists('test/no-such-folder/*.test.ts'));
  });
});

describe('source file headers', () => {
  const modules = filesUnder('src').filter((path) => path.endsWith('.ts'));

  test('there are source modules to check', () => {
    assert.ok(modules.length > 10, `found ${modules.length} modules under src/`);
  });

  for (const path of modules) {
    test(`${path}: its // Tests: header names files that exist`, () => {
      const source = readFileSync(join(root, path), 'utf8');
      const tests = testsOfHeader(headerLines(source));
      if (tests === undefined) {
        assert.ok(
          runsNothing(path, source),
          `${path} has code of its own but no "// Tests:" line in its header comment`,
        );
        return;
      }
      assert.ok(tests.length > 0, `${path}: its "// Tests:" line names no file`);
      const missing = tests.filter((test) => !pathExists(test));
      assert.equal(
        missing.length,
        0,
        `${path}: its "// Tests:" header names files that do not exist: ${missing.join(', ')}`,
      );
    });
  }
});

/**
 * Doc comments that document nothing: a `/** … *\/` block followed directly
 * by another, so the first belongs to no declaration. Returns the 1-based
 * line of each such block's start.
 */
function orphanedDocComments(source: string): number[] {
  const lines = source.split('\n');
  const orphans: number[] = [];
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith('/**')) {
      if (i > 0 && lines[i - 1]!.trim().endsWith('*/') && start >= 0) orphans.push(start + 1);
      start = i;
    }
    if (!line.endsWith('*/') && !line.startsWith('*') && !line.startsWith('/**')) start = -1;
  }
  return orphans;
}

test('the orphaned doc comment finder sees a doc comment followed by another', () => {
  const source = [
    '/**',
    ' * Lost.',
    ' */',
    '/** Kept. */',
    'export const a = 1;',
    '/** Kept too. */',
    'export const b = 2;',
  ];
  assert.deepEqual(orphanedDocComments(source.join('\n')), [1]);
  assert.deepEqual(orphanedDocComments(source.slice(3).join('\n')), []);
});

describe('doc comments', () => {
  for (const path of filesUnder('src').filter((file) => file.endsWith('.ts'))) {
    test(`${path}: every doc comment documents the declaration after it`, () => {
      const orphans = orphanedDocComments(readFileSync(join(root, path), 'utf8'));
      assert.equal(
        orphans.length,
        0,
        `${path}: doc comments followed by another doc comment, so documenting nothing, at lines ${orphans.join(', ')}`,
      );
    });
  }
});

describe('package.json entry points', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name?: string;
    main?: string;
    types?: string;
    exports?: unknown;
    bin?: string | Record<string, string>;
  };

  /** Every file path in an `exports` value (a string, or nested conditions). */
  function targets(value: unknown, key: string): Array<[string, string]> {
    if (typeof value === 'string') return [[key, value]];
    if (value === null || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([condition, nested]) =>
      targets(nested, `${key} ${condition}`),
    );
  }

  test('every exports target exists after the build', () => {
    const all = targets(pkg.exports, 'exports');
    assert.ok(all.length > 0, 'package.json has exports');
    const missing = all.filter(([, path]) => !existsSync(join(root, path)));
    assert.equal(
      missing.length,
      0,
      `package.json exports targets that do not exist: ${missing.map(([key, path]) => `${key} → ${path}`).join(', ')}`,
    );
  });

  test('main, types and every bin target exist after the build', () => {
    const bin = typeof pkg.bin === 'string' ? { [pkg.name ?? 'bin']: pkg.bin } : (pkg.bin ?? {});
    const all: Array<[string, string | undefined]> = [
      ['main', pkg.main],
      ['types', pkg.types],
      ...Object.entries(bin).map(([name, path]): [string, string] => [`bin ${name}`, path]),
    ];
    const missing = all.filter(([, path]) => path !== undefined && !existsSync(join(root, path)));
    assert.equal(
      missing.length,
      0,
      `package.json entry points that do not exist: ${missing.map(([key, path]) => `${key} → ${path}`).join(', ')}`,
    );
  });
});

describe('CHANGELOG.md', () => {
  const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  const sections = [...changelog.matchAll(/^## (.*)$/gm)].map((m) => m[1] ?? '');

  test("has one section per version, newest first, the top one package.json's version", () => {
    const shape = /^(\d+)\.(\d+)\.(\d+) — (unreleased|\d{4}-\d{2}-\d{2})$/;
    const bad = sections.filter((heading) => !shape.test(heading));
    assert.deepEqual(bad, [], 'section headings are "X.Y.Z — unreleased" or "X.Y.Z — YYYY-MM-DD"');
    assert.ok(sections.length > 0, 'CHANGELOG.md has a version section');
    assert.equal(sections[0]?.split(' ')[0], version, "the top section is package.json's version");
    const numbers = sections.map((heading) => (heading.split(' ')[0] ?? '').split('.').map(Number));
    for (let i = 1; i < numbers.length; i++) {
      const [a, b] = [numbers[i - 1] ?? [], numbers[i] ?? []];
      const newer = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
      assert.ok(newer > 0, `${sections[i - 1]} comes before the older ${sections[i]}`);
    }
    assert.ok(
      sections.slice(1).every((heading) => !heading.endsWith('unreleased')),
      'only the top section may be unreleased',
    );
  });

  test('each section groups its entries under one heading of each kind', () => {
    for (const section of changelog.split(/^## /m).slice(1)) {
      const kinds = [...section.matchAll(/^### (.*)$/gm)].map((m) => m[1]);
      assert.equal(
        new Set(kinds).size,
        kinds.length,
        `repeated ### headings in ${section.split('\n')[0]}`,
      );
    }
  });
});

describe('Markdown links', () => {
  const documents = [
    'README.md',
    'CONTRIBUTING.md',
    'CHANGELOG.md',
    ...filesUnder('docs').filter((path) => path.endsWith('.md')),
    ...filesUnder('bench').filter((path) => path.endsWith('.md')),
  ].filter((path) => existsSync(join(root, path)));

  /**
   * The relative link targets of a Markdown text: inline links, reference
   * definitions, and code spans that name a path going up (`../x`). Fenced
   * code is skipped; URLs and in-page anchors are not relative paths.
   */
  function relativeTargets(markdown: string): string[] {
    const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
    const found = [
      ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
      ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
      ...[...prose.matchAll(/`(\.\.\/[^`\s]*)`/g)].map((m) => m[1]!),
    ];
    return found.filter((target) => !/^([a-z][a-z0-9+.-]*:|#)/i.test(target));
  }

  test('the link finder sees inline, reference and code-span paths, not URLs or anchors', () => {
    const text = [
      'See [the guide](docs/guide.md#start "Guide") and [site](https://example.com).',
      '[Jump](#below), [mail](mailto:a@example.com), `../shared/NOTES.md`.',
      '[ref]: ./other.md',
      '```',
      '[not a link](inside/fenced/code.md)',
      '```',
    ].join('\n');
    assert.deepEqual(relativeTargets(text), [
      'docs/guide.md#start',
      './other.md',
      '../shared/NOTES.md',
    ]);
  });

  for (const document of documents) {
    test(`${document}: every relative link names a file in the repository`, () => {
      const text = readFileSync(join(root, document), 'utf8');
      const broken = relativeTargets(text).filter((target) => {
        const path = decodeURI(target.replace(/[#?].*$/, ''));
        if (path === '') return false;
        const absolute = resolve(root, dirname(document), path);
        const inside = relative(root, absolute);
        return inside.startsWith(`..${sep}`) || inside === '..' || !existsSync(absolute);
      });
      assert.equal(
        broken.length,
        0,
        `${document} links to files outside the repository or missing: ${broken.join(', ')}`,
      );
    });
  }
});
