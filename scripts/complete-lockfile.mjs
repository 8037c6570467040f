// Adds to package-lock.json the entries of optional per-platform packages
// (such as @biomejs/cli-darwin-arm64) that npm could not record.
//
// Why: this project's machines install from a registry mirror that serves
// only the packages for their own platform, so `npm install` leaves the other
// platforms' optional packages out of the lock file, and `npm ci` (which CI
// runs) then refuses the lock file as out of sync. Those packages are never
// installed on a machine of another platform, so an entry naming their
// version, platform and CPU is all npm needs.
//
// Usage: node scripts/complete-lockfile.mjs   (after any `npm install` that changed the lock file)

import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'sunos', 'aix'];
const CPU = ['x64', 'arm64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64'];

/** The platform a package name like `cli-linux-x64-musl` is for. */
function platformOf(name) {
  const parts = name.split('/').at(-1).split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  if (os === undefined || cpu === undefined) return undefined;
  return {
    os: [os],
    cpu: [cpu],
    ...(parts.includes('musl') ? { libc: ['musl'] } : os === 'linux' ? { libc: ['glibc'] } : {}),
  };
}

let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `node_modules/${name}`;
    if (packages[target] !== undefined) continue;
    const platform = platformOf(name);
    if (platform === undefined) {
      console.error(
        `cannot tell the platform of ${name} (optional dependency of ${key}): add its entry by hand`,
      );
      process.exitCode = 1;
      continue;
    }
    // In the key order npm itself writes, so that a later `npm install` changes nothing.
    const { os, cpu, libc } = platform;
    packages[target] = {
      version,
      cpu,
      ...(entry.dev ? { dev: true } : {}),
      ...(libc === undefined ? {} : { libc }),
      optional: true,
      os,
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: ${added} entr${added === 1 ? 'y' : 'ies'} added`);
