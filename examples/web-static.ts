// A static file server: serves a directory (by default the current one) over
// HTTP with File, listing the directories that have no index file, and logs
// each request in Combined Log Format.
//
// Run it: npm run build && node dist/examples/web-static.js [directory] [port]   (defaults: . and 8080)
// Try it: curl -i http://127.0.0.1:8080/   curl -r 0-99 http://127.0.0.1:8080/README.md

import { statSync } from 'node:fs';
import type { IIPAddress, IListeningPort, IReactorTCP, IReactorTime } from 'torsion/reactor';
import { File, Site } from 'torsion/web';
import { portArgument, startOrExit, UsageError } from './_cli.js';

/** Options of {@link main}. */
export interface StaticServerOptions {
  /** The directory to serve. @defaultValue the current directory */
  directory?: string;
  /** @defaultValue 8080 */
  port?: number;
  /** @defaultValue all IPv4 interfaces */
  interface?: string;
}

/**
 * Starts serving `options.directory` on `options.port`.
 *
 * @throws UsageError if the directory does not exist or is not a directory.
 */
export function main(
  reactor: IReactorTCP & IReactorTime,
  options: StaticServerOptions = {},
): IListeningPort<IIPAddress> {
  const directory = options.directory ?? '.';
  let isDirectory = false;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch {
    // Reported below, with the others.
  }
  if (!isDirectory) throw new UsageError(`'${directory}' is not a directory`);
  const site = new Site(new File(directory, { directoryListing: true }), {
    clock: reactor,
    accessLog: true,
  });
  const listenOptions = options.interface === undefined ? {} : { interface: options.interface };
  return reactor.listenTCP(options.port ?? 8080, site, listenOptions);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const { startLogging } = await import('torsion/logger');
  const usage = 'node dist/examples/web-static.js [directory] [port]   (defaults: . and 8080)';
  const port = startOrExit(usage, () =>
    main(reactor, {
      directory: process.argv[2] ?? '.',
      port: portArgument(process.argv[3], 8080),
    }),
  );
  startLogging(process.stdout);
  const { host, port: number } = port.getHost();
  console.log(`serving ${process.argv[2] ?? '.'} on http://${host}:${number}/`);
  await reactor.run();
}
