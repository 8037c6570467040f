// Runs the compiled test files with Node's built-in runner.
// Usage: node scripts/run-tests.mjs [--verbose] [unit|integration|reliability|fuzz ...]   (default: all)
// The terminal gets a dot per test, every failure in full and the totals;
// the full report (TAP) goes to .run/test-report.tap. --verbose prints the
// spec reporter's test-by-test report instead.
// Node 20 treats every .js file under a directory named "test" as a test file,
// so the files are listed explicitly: only *.test.js files are tests.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../dist/test/', import.meta.url).pathname;
const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const suites = args.filter((arg) => arg !== '--verbose');

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
const reportDir = new URL('../.run/', import.meta.url).pathname;
const report = join(reportDir, 'test-report.tap');
mkdirSync(reportDir, { recursive: true });
const reporters = verbose
  ? ['--test-reporter=spec', '--test-reporter-destination=stdout']
  : ['--test-reporter=dot', '--test-reporter-destination=stdout'];
reporters.push('--test-reporter=tap', `--test-reporter-destination=${report}`);
const result = spawnSync(
  process.execPath,
  ['--test', '--test-timeout=60000', ...reporters, ...files],
  { stdio: 'inherit' },
);
// The totals, as Node's runner writes them, and one plain line.
const totals = {};
try {
  for (const line of readFileSync(report, 'utf8').split('\n')) {
    const match = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\S+)$/.exec(
      line,
    );
    if (match) totals[match[1]] = match[2];
  }
} catch {
  // No report: the runner failed before writing one; its own output says why.
}
if (totals.tests !== undefined) {
  console.log('');
  for (const [name, value] of Object.entries(totals)) console.log(`# ${name} ${value}`);
  console.log(`${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
  console.log(`full report: ${report}`);
}
process.exit(result.status ?? 1);
