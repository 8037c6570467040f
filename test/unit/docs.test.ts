// The listings in docs/ are the files they name, byte for byte, so the
// docs cannot drift from the tested examples. A listing is marked by an
// HTML comment naming the file, followed by a fenced block:
//
//   <!-- listing: examples/finger/finger02.ts -->
//   ```ts
//   …
//   ```
//
// After changing an example, `node scripts/update-listings.mjs` copies it
// into the docs again.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Every Markdown file under `dir`, sorted. */
function markdownFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return markdownFiles(path);
      return name.endsWith('.md') ? [path] : [];
    });
}

interface Listing {
  /** The file the listing names, relative to the repository root. */
  path: string;
  /** The 1-based line of the marker in the Markdown file. */
  line: number;
  /** The fenced block's content, or undefined if no block follows the marker. */
  body: string | undefined;
}

/** The listings of one Markdown text, in order. */
function listingsOf(text: string): Listing[] {
  const listings: Listing[] = [];
  for (const marker of text.matchAll(/<!-- listing: (\S+) -->\n/g)) {
    const after = text.slice((marker.index ?? 0) + marker[0].length);
    const block = /^```ts\n([\s\S]*?)^```$/m.exec(after);
    listings.push({
      path: marker[1] ?? '',
      line: text.slice(0, marker.index).split('\n').length,
      body: block?.index === 0 ? block[1] : undefined,
    });
  }
  return listings;
}

const docs = markdownFiles(join(root, 'docs'));
const tutorial = join(root, 'docs', 'tutorial', 'finger.md');

describe('listings in docs/', () => {
  test('the docs hold listings to check', () => {
    assert.ok(docs.includes(tutorial), `${tutorial} is missing`);
    assert.ok(listingsOf(readFileSync(tutorial, 'utf8')).length > 0);
  });

  for (const doc of docs) {
    const name = relative(root, doc);
    for (const listing of listingsOf(readFileSync(doc, 'utf8'))) {
      test(`${name}:${listing.line} shows ${listing.path} byte for byte`, () => {
        assert.notEqual(
          listing.body,
          undefined,
          `the marker is not followed at once by a \`\`\`ts block`,
        );
        const file = join(root, listing.path);
        assert.ok(existsSync(file), `${listing.path} does not exist`);
        assert.equal(
          listing.body,
          readFileSync(file, 'utf8'),
          `the listing differs from ${listing.path}: run node scripts/update-listings.mjs`,
        );
      });
    }
  }

  test('the finger tutorial shows every example of examples/finger/, each once', () => {
    const shown = listingsOf(readFileSync(tutorial, 'utf8')).map((listing) => listing.path);
    const examples = readdirSync(join(root, 'examples', 'finger'))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => `examples/finger/${name}`);
    assert.deepEqual([...shown].sort(), examples.sort());
  });
});
