// Downloading several pages at once: getPage starts every download without
// waiting for any, each result goes to its own callback and each error to
// its own errback, whatever order they finish in; a DeferredList fires once
// they have all finished, and stops the reactor.
//
// Run it: npm run build && node dist/examples/web-pages.js URL...
// Try it: node dist/examples/web-hello.js 8080 &
//         node dist/examples/web-pages.js http://127.0.0.1:8080/ \
//           'http://127.0.0.1:8080/greet?name=Ada' http://127.0.0.1:8080/nothing-here \
//           http://127.0.0.1:1/

import { type Deferred, DeferredList, type Failure } from 'torsion/defer';
import type { HostnameEndpointReactor } from 'torsion/endpoints';
import { getPage } from 'torsion/web';
import { UsageError } from './_cli.js';

/** What {@link main} found: how many pages came, how many failed. */
export interface Tally {
  pages: number;
  errors: number;
}

/** The first line of a page, for a one-line report. */
function firstLine(body: Uint8Array): string {
  const text = Buffer.from(body).toString('utf8').trim();
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/**
 * Fetches every URL at once, printing one line per result or error as
 * each arrives.
 *
 * @param print - Where the lines go. Default: standard output.
 * @returns A Deferred that fires, once every download has finished, with
 *   the tally.
 */
export function main(
  reactor: HostnameEndpointReactor,
  urls: readonly string[],
  print: (line: string) => void = (line) => console.log(line),
): Deferred<Tally> {
  const tally: Tally = { pages: 0, errors: 0 };
  const downloads = urls.map((url) =>
    getPage(url, { reactor, timeout: 30 }).addCallbacks(
      (page) => {
        tally.pages++;
        print(`page ${url}: ${page.length} bytes: ${firstLine(page)}`);
      },
      (failure: Failure) => {
        tally.errors++;
        print(`error ${url}: ${failure.getErrorMessage()}`);
      },
    ),
  );
  // Every Deferred above ends in a success (its errback handled the error),
  // so the list fires when the last download has finished, one way or the other.
  return new DeferredList(downloads).addCallback(() => tally);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const urls = process.argv.slice(2);
  if (urls.length === 0) {
    const error = new UsageError('give at least one URL');
    process.stderr.write(
      `error: ${error.message}\nusage: node dist/examples/web-pages.js URL...\n`,
    );
    process.exit(2);
  }
  main(reactor, urls).addCallback(({ pages, errors }) => {
    console.log(`all done: ${pages} pages, ${errors} errors`);
    reactor.stop();
  });
  await reactor.run();
}
