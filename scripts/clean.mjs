// Removes build output so that files deleted from the sources never linger in dist/.
// Usage: node scripts/clean.mjs [dist/<folder>]   (default: all of dist/; `prepare` cleans only dist/src)
import { rmSync } from 'node:fs';

const target = process.argv[2] ?? 'dist';
if (!/^dist(\/[\w.-]+)*$/.test(target) || target.split('/').includes('..')) {
  throw new Error(`clean.mjs removes only dist/ or a folder inside it, not ${target}`);
}
rmSync(new URL(`../${target}`, import.meta.url), { recursive: true, force: true });
