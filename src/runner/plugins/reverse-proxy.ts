// The `reverse-proxy` plugin of the `torsion` command: a Site whose tree
// mounts a ReverseProxyResource at --path, spreading requests over the
// --upstream servers (Twisted has no such plugin; `twist web` serves files).
// Tests: test/unit/runner/plugins-proxy.test.ts, test/integration/runner/proxy-command.test.ts

import { MultiService } from '../../app/multi-service.js';
import type { AppReactor } from '../../app/run-app.js';
import type { UpstreamAddress } from '../../web/proxy/_upstreams.js';
import { ReverseProxyResource } from '../../web/proxy/reverse.js';
import { type IResource, Resource } from '../../web/resource.js';
import { Site } from '../../web/site.js';
import { checkEndpoints, listenOnEach } from '../_listen.js';
import { type PluginOptions, UsageError } from '../options.js';
import type { TorsionPlugin } from '../plugin.js';

/** An `--upstream` URL, read: where to connect and the path it stands for. */
interface UpstreamURL extends UpstreamAddress {
  readonly path: string;
}

/** Reads `--upstream http://host:port/base`; a bad URL is a usage error. */
function parseUpstream(text: string): UpstreamURL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--upstream ${JSON.stringify(text)}: not a URL (http://HOST:PORT/PATH)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--upstream ${JSON.stringify(text)}: give an http:// or https:// URL`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new UsageError(
      `--upstream ${JSON.stringify(text)}: give no query, fragment or credentials, only http(s)://HOST:PORT/PATH`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  return {
    host,
    port: url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port),
    scheme,
    path: url.pathname.replace(/\/+$/, ''),
  };
}

/** The upstreams of every `--upstream`, which must stand for the same path. */
function upstreams(options: PluginOptions): UpstreamURL[] {
  const given = options.strings('upstream');
  if (given.length === 0) {
    throw new UsageError('give at least one --upstream URL (http://HOST:PORT/PATH)');
  }
  const parsed = given.map(parseUpstream);
  const path = parsed[0]?.path;
  const other = parsed.find((upstream) => upstream.path !== path);
  if (other !== undefined) {
    throw new UsageError(
      `every --upstream must have the same path: ${JSON.stringify(path)} and ${JSON.stringify(other.path)} differ`,
    );
  }
  return parsed;
}

/** The segments of `--path` (`/api/v1` → `['api', 'v1']`); a bad one is a usage error. */
function mountSegments(options: PluginOptions): string[] {
  const path = options.string('path');
  if (!path.startsWith('/')) {
    throw new UsageError(`--path ${JSON.stringify(path)}: must start with /`);
  }
  const segments = path.split('/').filter((segment) => segment !== '');
  for (const segment of segments) {
    if (segment === '.' || segment === '..') {
      throw new UsageError(`--path ${JSON.stringify(path)}: no . or .. segments`);
    }
  }
  return segments;
}

/** A tree that holds `leaf` at `segments` below an otherwise empty root (404 elsewhere). */
function mountAt(segments: readonly string[], leaf: IResource): IResource {
  let child = leaf;
  for (const segment of [...segments].reverse()) {
    const parent = new Resource();
    parent.putChild(segment, child);
    child = parent;
  }
  return child;
}

/**
 * `torsion reverse-proxy --upstream URL… [--listen ENDPOINT]… [--path
 * PATH] [--preserve-host] [--balance round-robin|least-connections]`:
 * relays every request under `--path` to the upstream servers (spread
 * over them, an upstream that keeps failing skipped for a while), adding
 * `X-Forwarded-For/Host/Proto` and `Forwarded`.
 *
 * @since 0.1.0
 */
export const reverseProxyPlugin: TorsionPlugin = {
  name: 'reverse-proxy',
  description: 'A reverse proxy: requests under a path relayed to one or more upstream servers',
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
      name: 'upstream',
      type: 'string',
      multiple: true,
      default: [],
      metavar: 'URL',
      help: 'an upstream server, http://HOST:PORT/PATH or https://… (may be repeated: requests are spread over them)',
    },
    {
      name: 'path',
      type: 'string',
      default: '/',
      metavar: 'PATH',
      help: 'where the upstreams are mounted here (requests elsewhere get 404)',
    },
    {
      name: 'preserve-host',
      type: 'boolean',
      default: false,
      help: "send the client's Host header upstream (default: the upstream's own host and port)",
    },
    {
      name: 'balance',
      type: 'string',
      choices: ['round-robin', 'least-connections'],
      default: 'round-robin',
      metavar: 'POLICY',
      help: 'how each request picks its upstream: round-robin or least-connections',
    },
  ],
  check(options: PluginOptions): void {
    checkEndpoints(options.strings('listen'), '--listen');
    upstreams(options);
    mountSegments(options);
  },
  makeService(options: PluginOptions, reactor: AppReactor): MultiService {
    const [first, ...rest] = upstreams(options);
    if (first === undefined) throw new UsageError('give at least one --upstream URL');
    const proxy = new ReverseProxyResource(first.host, first.port, first.path, {
      reactor,
      scheme: first.scheme ?? 'http',
      upstreams: rest.map(({ host, port, scheme }) => ({ host, port, scheme: scheme ?? 'http' })),
      balance: options.string('balance') as 'round-robin' | 'least-connections',
      preserveHost: options.boolean('preserve-host'),
    });
    const site = new Site(mountAt(mountSegments(options), proxy), { clock: reactor });
    const top = new MultiService();
    listenOnEach(top, reactor, options.strings('listen'), site, 'reverse-proxy');
    return top;
  },
};

export default reverseProxyPlugin;
