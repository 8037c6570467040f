// Torsion's hello-world web server for the HTTP benchmarks (bench/http-hello.ts):
// a Site whose root is a leaf Resource answering every GET with the 14-byte
// body of the shared harness's servers, as text/plain. Access log off (the
// Site's default), the reactor as the clock of its timeouts and Date header.
// Usage: node dist/bench/http-hello-torsion.js PORT [HOST]  (PORT 0: any free port)
// Prints `torsion http listening on HOST:PORT` with the bound port, and exits
// on SIGTERM/SIGINT (the reactor stops).

import { reactor } from 'torsion/reactor';
import { type Request, Resource, Site } from 'torsion/web';

const BODY = Buffer.from('Hello, World!\n');

/** Answers every GET with the same 14 bytes. */
export class Hello extends Resource {
  override isLeaf = true;

  render_GET(request: Request): Uint8Array {
    request.setHeader('Content-Type', 'text/plain');
    return BODY;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 8080);
  const host = process.argv[3] ?? '127.0.0.1';
  const site = new Site(new Hello(), { clock: reactor });
  site.noisy = false;
  const listening = reactor.listenTCP(port, site, { interface: host, backlog: 511 });
  console.log(`torsion http listening on ${host}:${listening.getHost().port}`);
  await reactor.run();
}
