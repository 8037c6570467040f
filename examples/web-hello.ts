// Hello, world on the web: a Site serving a tree of two resources. The root
// page renders one fixed string; /greet reads its query (request.args).
//
// Run it: npm run build && node dist/examples/web-hello.js [port]   (default 8080)
// Try it: curl http://127.0.0.1:8080/ and curl 'http://127.0.0.1:8080/greet?name=Ada'

import type { IListeningPort, IReactorTCP, IReactorTime } from 'torsion/reactor';
import { escapeHtml, type Request, Resource, Site } from 'torsion/web';
import { portArgument, startOrExit } from './_cli.js';

/** The front page: the same few lines for every GET (and HEAD). */
export class HelloPage extends Resource {
  render_GET(request: Request): string {
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return (
      '<!DOCTYPE html>\n<title>Hello</title>\n<h1>Hello, world!</h1>\n' +
      '<p>Now try <a href="/greet?name=Ada">/greet?name=Ada</a>.</p>\n'
    );
  }
}

/** Greets each `name` of the query string, or the world when there is none. */
export class GreetPage extends Resource {
  render_GET(request: Request): string {
    // args maps each name of the query to all its values, percent-decoded.
    const names = request.args.get('name') ?? ['world'];
    const greetings = names.map((name) => `<p>Hello, ${escapeHtml(name)}!</p>\n`);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return `<!DOCTYPE html>\n<title>Greetings</title>\n${greetings.join('')}`;
  }
}

/** The site: `/` is the HelloPage, `/greet` the GreetPage, anything else 404. */
export function makeSite(clock: IReactorTime): Site {
  const root = new Resource();
  // The segment after the last "/" of "/" is "": the root's child '' answers it.
  root.putChild('', new HelloPage());
  root.putChild('greet', new GreetPage());
  return new Site(root, { clock });
}

/** Options of {@link main}. */
export interface HelloOptions {
  /** @defaultValue 8080 */
  port?: number;
  /** @defaultValue all IPv4 interfaces */
  interface?: string;
}

/** Listens with the site on `options.port`. */
export function main(
  reactor: IReactorTCP & IReactorTime,
  options: HelloOptions = {},
): IListeningPort {
  const listenOptions = options.interface === undefined ? {} : { interface: options.interface };
  return reactor.listenTCP(options.port ?? 8080, makeSite(reactor), listenOptions);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = startOrExit('node dist/examples/web-hello.js [port]   (default 8080)', () =>
    main(reactor, { port: portArgument(process.argv[2], 8080) }),
  );
  console.log(`web server on ${String(port.getHost())}`);
  await reactor.run();
}
