// Torsion's proxies for the shared harness's proxy suite (../shared/bench):
// `reverse` is a Site whose root is a ReverseProxyResource to
// 127.0.0.1:BACKEND_PORT with path '' (every request passed on as it is,
// upstream connections kept alive in the resource's pool). Access log off,
// the reactor as the clock. (The `forward` mode is added with the forward proxy.)
// Usage: node dist/bench/proxy-torsion.js reverse PORT BACKEND_PORT [BACKEND_HOST]
// Prints `torsion reverse proxy on 127.0.0.1:PORT -> HOST:BACKEND_PORT`, and
// exits on SIGTERM/SIGINT after closing its idle upstream connections.

import { reactor } from 'torsion/reactor';
import { ReverseProxyResource, Site } from 'torsion/web';

const [mode, portArg, backendArg, backendHost = '127.0.0.1'] = process.argv.slice(2);
const port = Number(portArg);
const backendPort = Number(backendArg);
if (mode !== 'reverse' || !Number.isInteger(port) || !Number.isInteger(backendPort)) {
  console.error('usage: node dist/bench/proxy-torsion.js reverse PORT BACKEND_PORT [BACKEND_HOST]');
  process.exit(2);
}

const proxy = new ReverseProxyResource(backendHost, backendPort, '', { reactor });
const site = new Site(proxy, { clock: reactor });
site.noisy = false;
const listening = reactor.listenTCP(port, site, { interface: '127.0.0.1', backlog: 511 });
console.log(
  `torsion reverse proxy on 127.0.0.1:${listening.getHost().port} -> ${backendHost}:${backendPort}`,
);
reactor.addSystemEventTrigger('before', 'shutdown', () => proxy.closeCachedConnections());
await reactor.run();
