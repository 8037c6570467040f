// Resource: a node of the tree a Site serves, found segment by segment from
// the request's path, and rendered by the method's render_* function
// (Twisted: twisted.web.resource).
// Tests: test/unit/web/resource.test.ts, test/unit/web/channel.test.ts,
// test/unit/web/twisted-resource.test.ts, test/unit/web/twisted-web.test.ts
//
// The error pages live here too, as in Twisted: the default getChild answers
// with one.

import { errorPageHtml, redirectPageHtml } from './_html.js';
import type { Request } from './request.js';

/**
 * What a `render` function may return instead of a body: the resource will
 * `write` and `finish` the request itself, later.
 *
 * @see Twisted: twisted.web.server.NOT_DONE_YET
 * @since 0.1.0
 */
export const NOT_DONE_YET: unique symbol = Symbol('NOT_DONE_YET');

/** The body a `render_*` function answers with. */
export type RenderBody = string | Uint8Array;

/**
 * What `render` and the `render_*` functions return: the whole body (a string
 * is sent as UTF-8), {@link NOT_DONE_YET}, or a Deferred or Promise of the
 * body (beyond Twisted, whose render functions cannot wait).
 */
export type RenderResult = RenderBody | typeof NOT_DONE_YET | PromiseLike<RenderBody>;

/**
 * A node of a site's resource tree.
 *
 * @see Twisted: twisted.web.resource.IResource
 * @since 0.1.0
 */
export interface IResource {
  /**
   * Whether traversal stops here: the rest of the path (`request.postpath`)
   * is this resource's to interpret.
   */
  readonly isLeaf: boolean;
  /**
   * Whether this resource reads the request's body as it arrives (see
   * {@link Resource.streamsRequestBody}); `false` when absent.
   */
  readonly streamsRequestBody?: boolean;
  /** The child for one path segment: a static child first, else `getChild`. */
  getChildWithDefault(segment: string, request: Request): IResource;
  /** Adds a static child for `segment`. */
  putChild(segment: string, child: IResource): void;
  /** Answers the request; see {@link RenderResult}. */
  render(request: Request): RenderResult;
}

/**
 * The methods of HTTP that a resource without a `render_` function for them
 * answers with 405 and an `Allow` header; any other method gets 501.
 */
const STANDARD_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/**
 * Thrown by `render` when the resource has no `render_*` function for the
 * request's method; the request answers 405 with `Allow` (or 501 for a
 * method HTTP does not define).
 *
 * @see Twisted: twisted.web.error.UnsupportedMethod
 * @since 0.1.0
 */
export class UnsupportedMethod extends Error {
  /** The error's class name. */
  override name = 'UnsupportedMethod';
  /** The methods the resource does render, for the `Allow` header. */
  readonly allowedMethods: readonly string[];

  /**
   * @param allowedMethods - The methods the resource renders.
   * @param method - The method it was asked for.
   */
  constructor(allowedMethods: readonly string[], method: string) {
    super(`${method} is not allowed here; allowed: ${allowedMethods.join(', ') || 'none'}`);
    this.allowedMethods = allowedMethods;
  }

  /** Whether the method is one HTTP defines (405), rather than unknown to the server (501). */
  static isStandardMethod(method: string): boolean {
    return STANDARD_METHODS.has(method);
  }
}

/** The method names of `render_*` functions found on `resource` and its prototypes. */
function renderedMethods(resource: object): string[] {
  const methods = new Set<string>();
  for (let o: object | null = resource; o !== null && o !== Object.prototype; ) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key.startsWith('render_') && key.length > 7) {
        const value = (resource as Record<string, unknown>)[key];
        if (typeof value === 'function') methods.add(key.slice(7));
      }
    }
    o = Object.getPrototypeOf(o) as object | null;
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

type RenderFunction = (this: Resource, request: Request) => RenderResult;

/**
 * A resource: children by path segment, and a `render_<METHOD>` function per
 * method it answers.
 *
 * @remarks
 * Subclass it and write `render_GET(request)`, `render_POST(request)`, …:
 * `render` calls the one named after the request's method (HEAD uses
 * `render_GET` when there is no `render_HEAD`, and the body is not sent);
 * a method without one answers 405 with an `Allow` header listing those
 * there are. `putChild` adds static children; override `getChild` to make
 * children on the fly (the default answers 404). A leaf (`isLeaf = true`)
 * renders for every path below it, reading `request.postpath`.
 *
 * A render function returns the body, a Promise or Deferred of it, or
 * `NOT_DONE_YET` and answers later with `request.write` and
 * `request.finish`. What it throws (or its promise rejects with) becomes a
 * 500 page and one log entry with the stack.
 *
 * @example
 * ```ts
 * class Hello extends Resource {
 *   override isLeaf = true;
 *   render_GET(request: Request): string {
 *     request.setHeader('Content-Type', 'text/plain; charset=utf-8');
 *     return `Hello, ${request.args.get('name')?.[0] ?? 'world'}!\n`;
 *   }
 * }
 * ```
 *
 * @see Twisted: twisted.web.resource.Resource
 * @since 0.1.0
 */
export class Resource implements IResource {
  /** Whether traversal stops at this resource; see {@link IResource.isLeaf}. */
  isLeaf = false;
  /**
   * Whether this resource reads the request's body as it arrives.
   *
   * @remarks
   * False (the default): the site renders once the whole body has arrived,
   * so `request.content.read()` has it (a large body waits in a temporary
   * file). True: the site renders as soon as the head has arrived, and the
   * resource reads `request.content` as a stream (`deliverBody`, or
   * `for await`), which holds the connection's reading while it is paused:
   * a proxy or an upload handler keeps its memory flat.
   */
  streamsRequestBody = false;
  /** The static children, by segment. */
  readonly children = new Map<string, IResource>();

  /**
   * Adds a static child: requests for `segment` below this resource go to
   * `child`. The segment `''` is the child for a trailing slash.
   *
   * @throws TypeError if `segment` is not a string or holds a `/`.
   */
  putChild(segment: string, child: IResource): void {
    if (typeof segment !== 'string') {
      throw new TypeError(`putChild: the segment must be a string, not ${typeof segment}`);
    }
    if (segment.includes('/')) {
      throw new TypeError(`putChild: a segment cannot hold "/": ${JSON.stringify(segment)}`);
    }
    this.children.set(segment, child);
  }

  /**
   * The child for a segment that has no static child. Override it to make
   * children on the fly; this one answers 404.
   */
  getChild(_segment: string, _request: Request): IResource {
    return new NoResource();
  }

  /** The static child for `segment` if there is one, else `getChild`'s. */
  getChildWithDefault(segment: string, request: Request): IResource {
    return this.children.get(segment) ?? this.getChild(segment, request);
  }

  /**
   * Calls the `render_<METHOD>` function for the request's method (HEAD falls
   * back to `render_GET`).
   *
   * @throws {@link UnsupportedMethod} when there is none.
   */
  render(request: Request): RenderResult {
    const f = this._renderFunction(request.method);
    if (f === undefined) throw new UnsupportedMethod(this.allowedMethods(), request.method);
    return f.call(this, request);
  }

  /**
   * @internal The `render_*` function `render` calls for `method` (HEAD falls
   * back to `render_GET`), or `undefined`: the site answers a request this
   * plain `render` would refuse without waiting for its body.
   */
  _renderFunction(method: string): RenderFunction | undefined {
    const own = this as unknown as Record<string, unknown>;
    let f = own[`render_${method}`];
    if (typeof f !== 'function' && method === 'HEAD') f = own.render_GET;
    return typeof f === 'function' ? (f as RenderFunction) : undefined;
  }

  /**
   * The methods this resource renders, sorted (HEAD included when GET is):
   * the `Allow` header of a 405. Override it to announce others.
   */
  allowedMethods(): string[] {
    return renderedMethods(this);
  }
}

/**
 * Finds the resource for a request by walking its path from `root`: each
 * segment of `request.postpath` moves to `request.prepath` and selects a
 * child, until the path is used up or a leaf is reached.
 *
 * @see Twisted: twisted.web.resource.getChildForRequest
 * @since 0.1.0
 */
export function getChildForRequest(root: IResource, request: Request): IResource {
  let resource = root;
  while (request.postpath.length > 0 && !resource.isLeaf) {
    const segment = request.postpath.shift() as string;
    request.prepath.push(segment);
    resource = resource.getChildWithDefault(segment, request);
  }
  return resource;
}

/**
 * A resource that answers every method with the same error page: a status
 * code, a short title and a detail, as HTML. The title and detail are
 * escaped, so they may hold anything.
 *
 * @see Twisted: twisted.web.resource.ErrorPage (twisted.web.pages.errorPage)
 * @since 0.1.0
 */
export class ErrorPage extends Resource {
  override isLeaf = true;
  /** Renders at once, without waiting for a request body it would not read. */
  override streamsRequestBody = true;

  /**
   * @param code - The status code.
   * @param brief - The title (a line of text).
   * @param detail - The explanation (a paragraph of text).
   */
  constructor(
    readonly code: number,
    readonly brief: string,
    readonly detail: string,
  ) {
    super();
  }

  /** Sets the status and `Content-Type` and returns the page, whatever the method. */
  override render(request: Request): string {
    request.setResponseCode(this.code);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return errorPageHtml(this.code, this.brief, this.detail);
  }

  /** Itself, for every segment: nothing lies below an error. */
  override getChild(_segment: string, _request: Request): IResource {
    return this;
  }
}

/**
 * 404 Not Found.
 *
 * @see Twisted: twisted.web.resource.NoResource (twisted.web.pages.notFound)
 * @since 0.1.0
 */
export class NoResource extends ErrorPage {
  constructor(message = 'Sorry. No luck finding that resource.') {
    super(404, 'No Such Resource', message);
  }
}

/**
 * 403 Forbidden.
 *
 * @see Twisted: twisted.web.resource.ForbiddenResource (twisted.web.pages.forbidden)
 * @since 0.1.0
 */
export class ForbiddenResource extends ErrorPage {
  constructor(message = 'Sorry, resource is forbidden.') {
    super(403, 'Forbidden Resource', message);
  }
}

/**
 * A resource that redirects every request to one URL: 302 Found (or the code
 * given) with `Location`, and a short page linking to it.
 *
 * @see Twisted: twisted.web.util.Redirect
 * @since 0.1.0
 */
export class Redirect extends Resource {
  override isLeaf = true;

  /**
   * @param url - Where to send the client (sent as is in `Location`).
   * @param code - The redirect status. Default 302.
   */
  constructor(
    readonly url: string,
    readonly code: 301 | 302 | 303 | 307 | 308 = 302,
  ) {
    super();
  }

  /** Redirects, whatever the method. */
  override render(request: Request): string {
    request.redirect(this.url, this.code);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return redirectPageHtml(this.url);
  }
}
