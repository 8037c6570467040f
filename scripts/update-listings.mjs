// Copies each example file into the Markdown listings that name it, so the
// docs show the files exactly. test/unit/docs.test.ts checks they agree.
// Usage: node scripts/update-listings.mjs   (rewrites docs/**/*.md in place)
//
// A listing is an HTML comment naming a file, then a fenced block:
//   <!-- listing: examples/finger/finger02.ts -->
//   ```ts
//   …the file, byte for byte…
//   ```
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const LISTING = /(<!-- listing: (\S+) -->\n```[a-z]*\n)([\s\S]*?)^```$/gm;

function markdownFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return markdownFiles(path);
      return name.endsWith('.md') ? [path] : [];
    });
}

for (const file of markdownFiles(join(root, 'docs'))) {
  const text = readFileSync(file, 'utf8');
  const updated = text.replace(LISTING, (_match, head, path) => {
    return `${head}${readFileSync(join(root, path), 'utf8')}\`\`\``;
  });
  if (updated !== text) {
    writeFileSync(file, updated);
    console.log(`updated ${relative(root, file)}`);
  }
}
