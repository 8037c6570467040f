// Torsion's static file server for the HTTP benchmarks (bench/http-hello.ts):
// a Site whose root is `new File(dir)`. The File resource (src/web/static.ts)
// is loaded when the script runs, so that this script builds before it
// exists; without it the script prints `unavailable: …` and exits with
// status 3, and the benchmark skips the case.
// Usage: node dist/bench/http-static-torsion.js PORT DIR [HOST]  (PORT 0: any free port)
// Prints `torsion static listening on HOST:PORT` with the bound port, and
// exits on SIGTERM/SIGINT (the reactor stops).

import { reactor } from 'torsion/reactor';
import { type IResource, Site } from 'torsion/web';

type FileConstructor = new (path: string) => IResource;

/** The File resource: from `torsion/web` once exported, else from its module. */
async function loadFile(): Promise<FileConstructor | undefined> {
  for (const specifier of ['torsion/web', '../src/web/static.js']) {
    try {
      const module = (await import(specifier)) as { File?: FileConstructor };
      if (typeof module.File === 'function') return module.File;
    } catch {
      // Not there (yet): try the next place.
    }
  }
  return undefined;
}

const port = Number(process.argv[2] ?? 8080);
const dir = process.argv[3];
const host = process.argv[4] ?? '127.0.0.1';
const File = await loadFile();
if (dir === undefined) {
  console.error('usage: http-static-torsion.js PORT DIR [HOST]');
  process.exitCode = 2;
} else if (File === undefined) {
  console.log('unavailable: no File resource in torsion/web or src/web/static.ts');
  process.exitCode = 3;
} else {
  const site = new Site(new File(dir), { clock: reactor });
  site.noisy = false;
  const listening = reactor.listenTCP(port, site, { interface: host, backlog: 511 });
  console.log(`torsion static listening on ${host}:${listening.getHost().port}`);
  await reactor.run();
}
