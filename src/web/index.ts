/**
 * HTTP for Torsion: a web server (`Site`, `Resource`, `Request`) on the
 * same protocols and transports as everything else, in the model of
 * Twisted's `twisted.web`. A `Site` is a protocol factory: listen with it on
 * any endpoint, and test it on a `StringTransport` without a socket.
 *
 * @example
 * ```ts
 * import { reactor } from 'torsion/reactor';
 * import { Resource, Site } from 'torsion/web';
 *
 * class Hello extends Resource {
 *   override isLeaf = true;
 *   render_GET(): string {
 *     return '<p>Hello, world!</p>';
 *   }
 * }
 * reactor.listenTCP(8080, new Site(new Hello(), { clock: reactor }));
 * ```
 *
 * @module torsion/web
 * @primaryExport
 */
// Tests: test/unit/web/channel.test.ts

export type { CookieOptions } from './_cookies.js';
export { escapeHtml } from './_html.js';
export { HttpParseError } from './_parser.js';
export { HTTPChannel } from './channel.js';
export { Headers } from './headers.js';
export { CACHED, Request } from './request.js';
export { type IBodyReader, RequestBody } from './request-body.js';
export {
  ErrorPage,
  ForbiddenResource,
  getChildForRequest,
  type IResource,
  NOT_DONE_YET,
  NoResource,
  Redirect,
  type RenderBody,
  type RenderResult,
  Resource,
  UnsupportedMethod,
} from './resource.js';
export { Site, type SiteOptions } from './site.js';
export { File, type FileOptions } from './static.js';
