// Torsion's proxies for the benchmarks:
// - `reverse PORT BACKEND_PORT [BACKEND_HOST]`: the shared harness's proxy
//   suite (../shared/bench): a Site whose root is a ReverseProxyResource to
//   BACKEND_HOST:BACKEND_PORT with path '' (every request passed on as it is,
//   upstream connections kept alive in the resource's pool);
// - `forward PORT --rules none|plain|default|FILE`: the forward proxy for
//   bench/proxy-forward.ts: a FilteringProxyFactory with no rules (`none`),
//   the built-in rules (`default`) or a rules file; `plain` is a bare Proxy
//   (no filter, no statistics).
// Both listen on 127.0.0.1:PORT with the reactor as the clock, print one
// line saying where, and exit on SIGTERM/SIGINT after closing their idle
// upstream connections.

import { reactor } from 'torsion/reactor';
import {
  ClientAccess,
  FilteringProxyFactory,
  Proxy as ForwardProxy,
  ReverseProxyResource,
  Rules,
  Site,
} from 'torsion/web';

const USAGE = `usage: node dist/bench/proxy-torsion.js reverse PORT BACKEND_PORT [BACKEND_HOST]
       node dist/bench/proxy-torsion.js forward PORT [--rules none|plain|default|FILE]`;

function fail(): never {
  console.error(USAGE);
  process.exit(2);
}

const [mode, portArg, ...rest] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port)) fail();

if (mode === 'reverse') {
  const [backendArg, backendHost = '127.0.0.1'] = rest;
  const backendPort = Number(backendArg);
  if (!Number.isInteger(backendPort)) fail();
  const proxy = new ReverseProxyResource(backendHost, backendPort, '', { reactor });
  const site = new Site(proxy, { clock: reactor });
  site.noisy = false;
  const listening = reactor.listenTCP(port, site, { interface: '127.0.0.1', backlog: 511 });
  console.log(
    `torsion reverse proxy on 127.0.0.1:${listening.getHost().port} -> ${backendHost}:${backendPort}`,
  );
  reactor.addSystemEventTrigger('before', 'shutdown', () => proxy.closeCachedConnections());
} else if (mode === 'forward') {
  const at = rest.indexOf('--rules');
  const rules = at === -1 ? 'default' : (rest[at + 1] ?? fail());
  const proxy =
    rules === 'plain'
      ? new ForwardProxy({ reactor })
      : new FilteringProxyFactory({
          reactor,
          rules:
            rules === 'default'
              ? Rules.defaults({ clock: reactor })
              : rules === 'none'
                ? Rules.parse('', 'none', { clock: reactor })
                : Rules.load(rules, { clock: reactor }),
          statusPage: false,
          // wrk's 100 connections come from one address: no per-client cap.
          access: new ClientAccess({ maxConnectionsPerClient: null }),
        });
  proxy.noisy = false;
  const listening = reactor.listenTCP(port, proxy, { interface: '127.0.0.1', backlog: 511 });
  console.log(`torsion forward proxy on 127.0.0.1:${listening.getHost().port}, rules: ${rules}`);
  reactor.addSystemEventTrigger('before', 'shutdown', () => proxy.pool.closeCachedConnections());
} else {
  fail();
}
await reactor.run();
