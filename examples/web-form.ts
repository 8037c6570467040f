// A guest book: a page with an HTML form, and a POST handler that reads the
// form, keeps the message, remembers the writer's name in a cookie, and
// redirects back to the page (303 See Other), so that reloading the page
// does not post the message again. What visitors wrote is escaped before it
// goes into the page.
//
// Run it: npm run build && node dist/examples/web-form.js [port]   (default 8080)
// Try it: open http://127.0.0.1:8080/ in a browser, or
//         curl -i -d name=Ada -d message=Hello http://127.0.0.1:8080/

import type { IListeningPort, IReactorTCP, IReactorTime } from 'torsion/reactor';
import { escapeHtml, type Request, Resource, Site } from 'torsion/web';
import { portArgument, startOrExit } from './_cli.js';

/** One message of the guest book. */
export interface Entry {
  readonly name: string;
  readonly message: string;
}

/** The longest name kept, in characters; a longer one is cut. */
export const MAX_NAME = 100;
/** The longest message kept, in characters; a longer one is cut. */
export const MAX_MESSAGE = 1000;
/** How many messages the page keeps: the oldest go first. */
export const MAX_ENTRIES = 20;

/** The guest book page: GET shows the messages and the form, POST adds a message. */
export class GuestBook extends Resource {
  readonly entries: Entry[] = [];

  render_GET(request: Request): string {
    // The cookie holds the name percent-encoded: a cookie's value cannot hold
    // spaces, commas, semicolons or quotes as they are.
    const name = decodeCookie(request.getCookie('name'));
    const items = this.entries.map(
      (entry) => `<li><b>${escapeHtml(entry.name)}</b>: ${escapeHtml(entry.message)}</li>\n`,
    );
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return (
      '<!DOCTYPE html>\n<title>Guest book</title>\n<h1>Guest book</h1>\n' +
      (name === '' ? '' : `<p>Welcome back, ${escapeHtml(name)}.</p>\n`) +
      `<ul>\n${items.join('')}</ul>\n` +
      '<form method="post" action="/">\n' +
      `<p><label>Name <input name="name" value="${escapeHtml(name)}"></label></p>\n` +
      '<p><label>Message <input name="message"></label></p>\n' +
      '<p><button>Sign</button></p>\n</form>\n'
    );
  }

  render_POST(request: Request): string {
    // The site renders once the whole body has arrived, so it can be read now.
    const form = request.content.readForm();
    const name = cut(form.get('name')?.[0] ?? '', MAX_NAME);
    const message = cut(form.get('message')?.[0] ?? '', MAX_MESSAGE);
    if (name === '' || message === '') {
      request.setResponseCode(400);
      request.setHeader('Content-Type', 'text/html; charset=utf-8');
      return '<!DOCTYPE html>\n<title>Guest book</title>\n<p>Please give a name and a message. <a href="/">Back</a></p>\n';
    }
    this.entries.push({ name, message });
    if (this.entries.length > MAX_ENTRIES) this.entries.shift();
    request.addCookie('name', encodeURIComponent(name), {
      path: '/',
      maxAge: 30 * 24 * 3600,
      httpOnly: true,
      sameSite: 'Lax',
    });
    // 303: the browser follows with a GET, and a reload repeats the GET only.
    request.redirect('/', 303);
    return '';
  }
}

/** `text` trimmed, and cut to its first `max` characters (never half of one). */
function cut(text: string, max: number): string {
  return Array.from(text.trim()).slice(0, max).join('');
}

/** The name a cookie holds, or '' when there is none or it is not percent-encoded UTF-8. */
function decodeCookie(value: string | undefined): string {
  try {
    return decodeURIComponent(value ?? '');
  } catch {
    return '';
  }
}

/** The site: the guest book at `/`, and bodies of 64 KiB at most. */
export function makeSite(clock: IReactorTime): Site {
  const root = new Resource();
  root.putChild('', new GuestBook());
  return new Site(root, { clock, maxRequestBodySize: 64 * 1024 });
}

/** Options of {@link main}. */
export interface FormOptions {
  /** @defaultValue 8080 */
  port?: number;
  /** @defaultValue all IPv4 interfaces */
  interface?: string;
}

/** Listens with the site on `options.port`. */
export function main(
  reactor: IReactorTCP & IReactorTime,
  options: FormOptions = {},
): IListeningPort {
  const listenOptions = options.interface === undefined ? {} : { interface: options.interface };
  return reactor.listenTCP(options.port ?? 8080, makeSite(reactor), listenOptions);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { reactor } = await import('torsion/reactor');
  const port = startOrExit('node dist/examples/web-form.js [port]   (default 8080)', () =>
    main(reactor, { port: portArgument(process.argv[2], 8080) }),
  );
  console.log(`web server on ${String(port.getHost())}`);
  await reactor.run();
}
