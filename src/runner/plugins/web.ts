// The `web` plugin of the `torsion` command: static files from a directory
// through File and Site (Twisted: `twist web --path`, twisted.web.tap).
// Tests: test/unit/runner/plugins.test.ts

import { statSync } from 'node:fs';
import { MultiService } from '../../app/multi-service.js';
import type { AppReactor } from '../../app/run-app.js';
import { Site } from '../../web/site.js';
import { File } from '../../web/static.js';
import { checkEndpoints, listenOnEach } from '../_listen.js';
import { type PluginOptions, UsageError } from '../options.js';
import type { TorsionPlugin } from '../plugin.js';

/** The index file names of `--index` values: each may hold several, comma-separated. */
function indexNames(options: PluginOptions): string[] {
  return options
    .strings('index')
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/**
 * `torsion web [--listen ENDPOINT]… [--path DIR] [--index NAME]…
 * [--listing]`: serves the files under a directory, one Site on each
 * endpoint.
 *
 * @see Twisted: twisted.web.tap (`twist web --path DIR`)
 * @since 0.1.0
 */
export const webPlugin: TorsionPlugin = {
  name: 'web',
  description: 'A static web server: the files under a directory, over HTTP/1.1',
  options: [
    {
      name: 'listen',
      type: 'string',
      multiple: true,
      default: ['tcp:8080:interface=127.0.0.1'],
      metavar: 'ENDPOINT',
      help: 'where to listen (an endpoint string; may be repeated)',
    },
    {
      name: 'path',
      type: 'string',
      default: '.',
      metavar: 'DIR',
      help: 'the directory (or file) to serve',
    },
    {
      name: 'index',
      type: 'string',
      multiple: true,
      default: ['index.html'],
      metavar: 'NAME',
      help: 'the file a directory answers with (may be repeated, or comma-separated)',
    },
    {
      name: 'listing',
      type: 'boolean',
      default: false,
      help: 'list the entries of a directory without an index file (--no-listing: answer 403)',
    },
  ],
  check(options: PluginOptions): void {
    checkEndpoints(options.strings('listen'), '--listen');
    const path = options.string('path');
    try {
      statSync(options.resolvePath(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new UsageError(`--path ${JSON.stringify(path)}: cannot serve it (${code})`);
    }
  },
  makeService(options: PluginOptions, reactor: AppReactor): MultiService {
    const root = new File(options.resolvePath(options.string('path')), {
      indexNames: indexNames(options),
      directoryListing: options.boolean('listing'),
    });
    const site = new Site(root, { clock: reactor });
    const top = new MultiService();
    listenOnEach(top, reactor, options.strings('listen'), site, 'web');
    return top;
  },
};

export default webPlugin;
