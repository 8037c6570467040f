// The `proxy` plugin of the `torsion` command: the filtering web proxy (rules
// that block hosts, images and cookies; the status page at /_torsion/), on
// loopback unless told which other clients to serve — never an open proxy.
// Tests: test/unit/runner/plugins-proxy.test.ts, test/integration/runner/proxy-command.test.ts

import { readFileSync } from 'node:fs';
import type { StreamServerEndpointService } from '../../app/endpoint-service.js';
import { MultiService } from '../../app/multi-service.js';
import type { AppReactor } from '../../app/run-app.js';
import { Service } from '../../app/service.js';
import type { IListeningPort } from '../../internet/interfaces.js';
import { Logger } from '../../logger/logger.js';
import { ClientAccess } from '../../web/proxy/client-access.js';
import { FilteringProxyFactory } from '../../web/proxy/filtering-proxy.js';
import { formatExplanation, Rules, RulesError } from '../../web/proxy/rules.js';
import { RulesWatcher } from '../../web/proxy/rules-watcher.js';
import { checkEndpoints, listeningService, listensOnLoopback } from '../_listen.js';
import { type PluginOptions, UsageError } from '../options.js';
import type { PluginCommandIO, TorsionPlugin } from '../plugin.js';

const log = new Logger('torsion.runner.proxy');

/** The default listening address: loopback only. */
const DEFAULT_LISTEN = 'tcp:8080:interface=127.0.0.1';

/** The `--rules` file, resolved, or `undefined` for the built-in rules. */
function rulesPath(options: PluginOptions): string | undefined {
  const path = options.optionalString('rules');
  return path === undefined ? undefined : options.resolvePath(path);
}

/** The client ranges of `--allow-client`, as a ClientAccess (a bad range is a usage error). */
function clientAccess(options: PluginOptions): ClientAccess {
  try {
    return new ClientAccess({
      allow: options.strings('allow-client'),
      maxConnectionsPerClient: options.number('max-client-connections'),
    });
  } catch (error) {
    throw new UsageError(`--allow-client: ${(error as Error).message}`);
  }
}

/** The address a client uses for a listening port: its host and port. */
function proxyAddress(port: IListeningPort): string | undefined {
  const host = port.getHost() as { host?: unknown; port?: unknown };
  if (typeof host?.host !== 'string' || typeof host.port !== 'number') return undefined;
  const name = host.host === '0.0.0.0' || host.host === '::' ? '127.0.0.1' : host.host;
  return name.includes(':') ? `[${name}]:${host.port}` : `${name}:${host.port}`;
}

/**
 * While it runs: reloads the rules file on `SIGHUP`, and says how to use
 * the proxy once it listens.
 */
class ProxyControlService extends Service {
  readonly #watcher: RulesWatcher | undefined;
  readonly #proxy: FilteringProxyFactory;
  readonly #listeners: readonly StreamServerEndpointService[];
  readonly #onHangUp = (): void => {
    log.info('SIGHUP: reading {path} again', { path: this.#watcher?.path });
    this.#watcher?.reload();
  };

  constructor(
    proxy: FilteringProxyFactory,
    watcher: RulesWatcher | undefined,
    listeners: readonly StreamServerEndpointService[],
  ) {
    super();
    this.#proxy = proxy;
    this.#watcher = watcher;
    this.#listeners = listeners;
  }

  override startService(): void {
    super.startService();
    if (this.#watcher !== undefined) process.on('SIGHUP', this.#onHangUp);
    const rules = this.#proxy.rules;
    log.info('Rules: {source} ({count} rules)', {
      source: rules.source,
      count: rules.rules.length,
    });
    for (const listener of this.#listeners) {
      listener
        .whenListening()
        .addCallback((port) => {
          const address = proxyAddress(port);
          if (address !== undefined) {
            log.info(
              'Try it: curl -x http://{address} http://example.com/ — status page: http://{address}/_torsion/',
              { address },
            );
          }
        })
        .addErrback(() => undefined);
    }
  }

  override stopService(): void {
    process.removeListener('SIGHUP', this.#onHangUp);
    this.#watcher?.stop();
    super.stopService();
  }
}

/** `--check-rules FILE`: each bad line with its number and reason; status 1 if any. */
function checkRules(path: string, shown: string, io: PluginCommandIO): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    io.stderr(`${shown}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})\n`);
    return 1;
  }
  const problems = Rules.check(text, shown);
  if (problems.length === 0) {
    const count = Rules.parse(text, shown).rules.length;
    io.stdout(`${shown}: ${count} rule${count === 1 ? '' : 's'}, no problems\n`);
    return 0;
  }
  for (const problem of problems) io.stderr(`${shown}:${problem.line}: ${problem.reason}\n`);
  io.stderr(`${shown}: ${problems.length} bad line${problems.length === 1 ? '' : 's'}\n`);
  return 1;
}

/** `--explain URL`: which rules match it and which win. */
function explain(options: PluginOptions, url: string, io: PluginCommandIO): number {
  const path = rulesPath(options);
  let rules: Rules;
  try {
    rules = path === undefined ? Rules.defaults() : Rules.load(path);
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return 1;
  }
  try {
    io.stdout(formatExplanation(rules.explain(url)));
  } catch (error) {
    io.stderr(`--explain: ${(error as Error).message}\n`);
    return 2;
  }
  return 0;
}

/**
 * `torsion proxy [--listen ENDPOINT]… [--rules FILE] [--allow-client
 * CIDR]… [--upstream-proxy URL]`: the filtering web proxy, with the
 * built-in rules unless given a file (reloaded when it changes and on
 * `SIGHUP`); `--check-rules FILE` and `--explain URL` answer and exit.
 *
 * @remarks
 * It listens on loopback by default. Listening anywhere else needs
 * `--allow-client` ranges, and clients outside them (and outside loopback)
 * are refused: it is never an open proxy.
 *
 * @since 0.1.0
 */
export const proxyPlugin: TorsionPlugin = {
  name: 'proxy',
  description: 'A filtering web proxy: rules block hosts, images and cookies; a status page',
  options: [
    {
      name: 'listen',
      type: 'string',
      multiple: true,
      default: [DEFAULT_LISTEN],
      metavar: 'ENDPOINT',
      help: 'where to listen (an endpoint string; may be repeated)',
    },
    {
      name: 'rules',
      type: 'string',
      metavar: 'FILE',
      help: 'the rules file (default: the built-in rules); reloaded when it changes and on SIGHUP',
    },
    {
      name: 'allow-client',
      type: 'string',
      multiple: true,
      default: [],
      metavar: 'CIDR',
      help: 'serve clients in this range besides loopback (may be repeated; required to listen beyond loopback)',
    },
    {
      name: 'max-client-connections',
      type: 'integer',
      min: 1,
      default: 64,
      metavar: 'N',
      help: 'most connections one client address may hold open',
    },
    {
      name: 'upstream-proxy',
      type: 'string',
      metavar: 'URL',
      help: 'send every request through this HTTP proxy (http://host:port)',
    },
    {
      name: 'check-rules',
      type: 'string',
      metavar: 'FILE',
      help: 'check a rules file, print each bad line, and exit (status 1 if any)',
    },
    {
      name: 'explain',
      type: 'string',
      metavar: 'URL',
      help: 'show which rules match URL and which win, and exit',
    },
  ],
  check(options: PluginOptions): void {
    if (options.has('check-rules') || options.has('explain')) return;
    const listen = options.strings('listen');
    checkEndpoints(listen, '--listen');
    const access = clientAccess(options);
    const open = listen.filter((description) => !listensOnLoopback(description));
    if (open.length > 0 && access.ranges.length === 0) {
      throw new UsageError(
        `--listen ${open[0]} is not loopback only: say which clients may use the proxy with --allow-client CIDR (it is never an open proxy)`,
      );
    }
    const upstream = options.optionalString('upstream-proxy');
    if (upstream !== undefined && !/^http:\/\/[^/?#\s]+\/?$/i.test(upstream)) {
      throw new UsageError(
        `--upstream-proxy ${JSON.stringify(upstream)}: give an http://HOST:PORT URL`,
      );
    }
    const path = rulesPath(options);
    if (path !== undefined) {
      try {
        Rules.load(path);
      } catch (error) {
        throw new UsageError(
          error instanceof RulesError
            ? `--rules: ${error.message}`
            : `--rules: ${(error as Error).message}`,
        );
      }
    }
  },
  command(options: PluginOptions, io: PluginCommandIO): number | undefined {
    const check = options.optionalString('check-rules');
    if (check !== undefined) return checkRules(options.resolvePath(check), check, io);
    const url = options.optionalString('explain');
    if (url !== undefined) return explain(options, url, io);
    return undefined;
  },
  makeService(options: PluginOptions, reactor: AppReactor): MultiService {
    const path = rulesPath(options);
    const watcher = path === undefined ? undefined : new RulesWatcher(path, { clock: reactor });
    const upstream = options.optionalString('upstream-proxy');
    const proxy = new FilteringProxyFactory({
      reactor,
      ...(watcher !== undefined && { rules: watcher }),
      access: clientAccess(options),
      ...(upstream !== undefined && { upstreamProxy: upstream }),
    });
    const top = new MultiService();
    const descriptions = options.strings('listen');
    const listeners = descriptions.map((description, i) => {
      const name = descriptions.length === 1 ? 'proxy' : `proxy ${i + 1}`;
      const service = listeningService(reactor, description, proxy, name);
      service.setServiceParent(top);
      return service;
    });
    new ProxyControlService(proxy, watcher, listeners).setServiceParent(top);
    return top;
  },
};

export default proxyPlugin;
