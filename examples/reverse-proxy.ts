// A reverse proxy, its whole structure in view: an endpoint listens with a
// Site; the Site's resource tree has a front page at / and, mounted at /app,
// a ReverseProxyResource spreading requests over its upstreams (round-robin,
// an upstream that fails twice in a row skipped for 5 s). Without upstreams
// on the command line it starts two small demo backends to proxy to.
//
// Run it: npm run build && node dist/examples/reverse-proxy.js [endpoint] [host:port ...]
//         (default tcp:8080:interface=127.0.0.1 and two demo backends)
// Try it: curl localhost:8080/app/hello (twice: each backend answers in turn)

import { serverFromString } from 'torsion/endpoints';
import { reactor } from 'torsion/reactor';
import { type Request, Resource, ReverseProxyResource, Site } from 'torsion/web';

/** A demo backend: says who it is and what it was asked, and for whom. */
class Backend extends Resource {
  override isLeaf = true;
  constructor(readonly label: string) {
    super();
  }
  render_GET(request: Request): string {
    request.setHeader('Content-Type', 'text/plain; charset=utf-8');
    const client = request.getHeader('x-forwarded-for') ?? 'nobody';
    return `${this.label} got ${request.uri} for ${client}\n`;
  }
}

class FrontPage extends Resource {
  override isLeaf = true;
  render_GET(): string {
    return '<!DOCTYPE html>\n<title>Proxy</title>\n<p>Everything under <a href="/app/">/app/</a> is proxied.</p>\n';
  }
}

const [listen = 'tcp:8080:interface=127.0.0.1', ...given] = process.argv.slice(2);
const upstreams = given.map((hostPort) => {
  const colon = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)) };
});
if (upstreams.length === 0) {
  // Two demo backends on free loopback ports: the upstreams.
  for (const label of ['backend A', 'backend B']) {
    const backend = new Site(new Backend(label), { clock: reactor });
    const port = reactor.listenTCP(0, backend, { interface: '127.0.0.1' });
    console.log(`${label} on ${String(port.getHost())}`);
    upstreams.push({ host: '127.0.0.1', port: (port.getHost() as { port: number }).port });
  }
}

try {
  // The resource tree: / is the front page, /app/… goes to the upstreams.
  const [first, ...others] = upstreams as [(typeof upstreams)[0], ...typeof upstreams];
  const proxy = new ReverseProxyResource(first.host, first.port, '', {
    reactor,
    upstreams: others,
    balance: 'round-robin',
    health: { failures: 2, cooldown: 5 },
  });
  const root = new Resource();
  root.putChild('', new FrontPage());
  root.putChild('app', proxy);
  // The site, on its endpoint.
  const port = await serverFromString(reactor, listen).listen(new Site(root, { clock: reactor }));
  console.log(`reverse proxy on ${String(port.getHost())}`);
  reactor.addSystemEventTrigger('before', 'shutdown', () => proxy.closeCachedConnections());
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  console.error('usage: node dist/examples/reverse-proxy.js [endpoint] [host:port ...]');
  process.exit(2);
}
await reactor.run();
