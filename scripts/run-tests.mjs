// Runs the compiled test files with Node's built-in runner.
// Usage: node scripts/run-tests.mjs [unit|integration|fuzz ...]   (default: all)
// Node 20 treats every .js file under a directory named "test" as a test file,
// so the files are listed explicitly: only *.test.js files are tests.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../dist/test/', import.meta.url).pathname;
const suites = process.argv.slice(2);

function collect(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...collect(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const dirs = suites.length > 0 ? suites.map((s) => join(root, s)) : [root];
const files = dirs.flatMap(collect);
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-timeout=60000', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
