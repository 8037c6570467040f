// File: a resource serving a file, or a whole directory tree, from the disk:
// content types, index files, an optional directory listing, byte ranges,
// conditional requests, and the body streamed through a producer
// (Twisted: twisted.web.static.File).
// Tests: test/unit/web/static.test.ts, test/unit/web/static-ranges.test.ts,
// test/unit/web/static-security.test.ts, test/unit/web/static-streaming.test.ts,
// test/unit/web/static-listing.test.ts

import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ifRangeAllows } from './_conditional.js';
import { redirectPageHtml } from './_html.js';
import { MIME_TYPES } from './_mime.js';
import { contentRangeHeader, parseRangeHeader } from './_ranges.js';
import { DirectoryLister, isWithin } from './_static-listing.js';
import { type BodyPart, StaticProducer } from './_static-producer.js';
import { CACHED, type Request } from './request.js';
import {
  ForbiddenResource,
  type IResource,
  NOT_DONE_YET,
  NoResource,
  type RenderResult,
  Resource,
} from './resource.js';

/**
 * How a {@link File} serves its tree. Children made by traversal share their
 * parent's options.
 *
 * @since 0.1.0
 */
export interface FileOptions {
  /**
   * The `Content-Type` of a file whose extension is in neither
   * `contentTypes` nor the built-in table. Default
   * `application/octet-stream` (Twisted's is `text/html`).
   */
  readonly defaultType?: string;
  /**
   * Content types by extension, added to the built-in table or overriding
   * it: `{ md: 'text/plain; charset=utf-8' }`. An extension is written with
   * or without its leading dot and matched without regard to case.
   */
  readonly contentTypes?: Readonly<Record<string, string>>;
  /**
   * The files a directory answers with when asked for with a trailing slash,
   * the first that exists and is a regular file. Default
   * `['index.html', 'index.htm']`.
   */
  readonly indexNames?: readonly string[];
  /**
   * Whether a directory without an index file answers with an HTML listing
   * of its entries. Default false: it answers 403.
   */
  readonly directoryListing?: boolean;
  /**
   * Whether a directory listing shows names starting with `.`. Default
   * false. (Such files are served when asked for by name either way, as
   * Twisted does.)
   */
  readonly showHidden?: boolean;
  /**
   * Whether symbolic links may lead outside the root directory. Default
   * false: a path whose real location (all links resolved) lies outside the
   * root's answers 403.
   */
  readonly followSymlinks?: boolean;
}

const DEFAULT_INDEX_NAMES: readonly string[] = ['index.html', 'index.htm'];

/** The codes of `fs` errors that mean "there is nothing there". */
const NOT_FOUND = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);
/** The codes of `fs` errors that mean "not yours to read". */
const FORBIDDEN = new Set(['EACCES', 'EPERM']);

/** The options of a File, with every default filled in. */
interface ResolvedOptions {
  readonly defaultType: string;
  readonly contentTypes: ReadonlyMap<string, string>;
  readonly indexNames: readonly string[];
  readonly directoryListing: boolean;
  readonly showHidden: boolean;
  readonly followSymlinks: boolean;
  /** What the caller gave, for children. */
  readonly given: FileOptions;
}

function resolveOptions(options: FileOptions): ResolvedOptions {
  const contentTypes = new Map(MIME_TYPES);
  for (const [ext, type] of Object.entries(options.contentTypes ?? {})) {
    contentTypes.set(ext.replace(/^\./, '').toLowerCase(), type);
  }
  return {
    defaultType: options.defaultType ?? 'application/octet-stream',
    contentTypes,
    indexNames: options.indexNames ?? DEFAULT_INDEX_NAMES,
    directoryListing: options.directoryListing ?? false,
    showHidden: options.showHidden ?? false,
    followSymlinks: options.followSymlinks ?? false,
    given: options,
  };
}

/**
 * Whether a decoded path segment could name something other than a child of
 * the directory: `.`, `..`, or a segment holding `/`, `\` or NUL (which
 * percent-decoding can produce from `%2F`, `%5C`, `%00`).
 */
function isDangerous(segment: string): boolean {
  return segment === '.' || segment === '..' || /[/\\\0]/.test(segment);
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null
    ? (error as NodeJS.ErrnoException).code
    : undefined;
}

/**
 * A resource serving a file, or a directory and everything below it, from
 * the file system.
 *
 * @remarks
 * For a directory, each path segment below selects the child of that name
 * (a `File` with the same options); the directory itself, asked for without
 * a trailing slash, redirects (301) to the same URL with one, keeping the
 * query; with the slash it answers with its first index file
 * (`indexNames`), else a listing when `directoryListing` is on, else 403.
 *
 * For a file, GET sends the content with `Content-Type` (from the
 * extension: `contentTypes`, the built-in table, then `defaultType`),
 * `Content-Length`, `Last-Modified` (the modification time), `ETag` and
 * `Accept-Ranges: bytes`:
 *
 * - The entity tag is `"<size>-<mtime>"`, both in hexadecimal, the time in
 *   nanoseconds as the file system keeps it. It is sent as a strong tag: a
 *   file rewritten with the same size within the file system's timestamp
 *   granularity keeps its tag, the usual trade-off of static servers (nginx
 *   makes the same). It changes when the file is replaced or touched.
 * - Conditional requests (`If-Match`, `If-None-Match`, `If-Modified-Since`,
 *   `If-Unmodified-Since`) go through `request.setETag` and
 *   `request.setLastModified`: 304 or 412 with no body.
 * - `Range` is honoured for GET when `If-Range` allows it (a matching entity
 *   tag, or the exact `Last-Modified` date when the file is at least a
 *   second older than the request): one range answers 206 with
 *   `Content-Range`; several answer 206 `multipart/byteranges`, each part
 *   with its own `Content-Type` and `Content-Range` (ranges that overlap or
 *   touch are merged first); none that overlaps the file answers 416 with
 *   a `Content-Range` giving the size alone (`bytes *` then `/` and the
 *   size). A header that is not valid is ignored (200, the whole file).
 * - HEAD sends the same headers as a GET without `Range` would, and reads
 *   nothing: the file is opened and `fstat`ed, then closed.
 *
 * The body is streamed by a push producer registered with the request: 64
 * KiB is read per write, reading stops while the transport is paused, so a
 * slow client of a 4 GiB file costs no more memory than one of a small
 * file; the file is closed when the body is done, when the client goes away,
 * or when a read fails. Reads are synchronous (`fs.readSync`), as Twisted's
 * are: a 64 KiB read from the page cache takes microseconds, and it keeps the
 * producer simple and deterministic; a file on a slow network file system
 * would stall the reactor while a chunk is read.
 *
 * Errors: a missing file answers 404 (`NoResource`); one the server may not
 * read (`EACCES`, `EPERM`) 403 (`ForbiddenResource`); something that is
 * neither a file nor a directory (a FIFO, a device) 403; any other error
 * 500 through `request.processingFailed` (logged with its stack).
 *
 * Security: a child segment that is `.` or `..`, or holds `/`, `\` or NUL
 * once percent-decoded, answers 404. Unless `followSymlinks`, a child whose
 * real path (every symbolic link resolved, `fs.realpathSync`) lies outside
 * the root's real path answers 403; the root is the directory of the `File`
 * the application made, which every child made by traversal remembers. The
 * check and the open are separate system calls, so someone who can change
 * links inside the root while it is served can still race them; the option
 * guards against links already there. Files whose names start with `.` are
 * served when asked for by name, as Twisted serves them; `showHidden` only
 * governs the listing.
 *
 * Differences from Twisted: `defaultType` is `application/octet-stream`,
 * not `text/html`; the MIME table is built in rather than read from the
 * system; `indexNames` holds no `index` or `index.rpy`; the listing is off by
 * default (Twisted lists every directory without an index) and hides
 * dotfiles; the directory redirect is 301 (Twisted's is 302); responses carry
 * an `ETag` and honour `If-Range`, `If-Match` and `If-Unmodified-Since`;
 * symbolic links are confined to the root; HEAD ignores `Range`. Not
 * supported: `processors` (`.rpy`, `.cgi`), `ignoredExts`, and content
 * encodings (`.gz` served as `Content-Encoding: gzip`).
 *
 * @example
 * ```ts
 * const site = new Site(new File('./public', { directoryListing: true }), { clock: reactor });
 * reactor.listenTCP(8080, site);
 * ```
 *
 * @see Twisted: twisted.web.static.File
 * @since 0.1.0
 */
export class File extends Resource {
  /** The absolute path this resource serves. */
  readonly path: string;
  /** The root directory (absolute) the tree is confined to: the path of the `File` the application made. */
  readonly root: string;
  readonly #options: ResolvedOptions;

  /**
   * @param path - The file or directory to serve; relative paths are
   *   resolved against the current directory now.
   * @param options - See {@link FileOptions}.
   */
  constructor(path: string, options: FileOptions = {}) {
    super();
    this.path = resolve(path);
    this.root = this.path;
    this.#options = resolveOptions(options);
  }

  /** The options this resource was made with, as given. */
  get options(): FileOptions {
    return this.#options.given;
  }

  /**
   * A `File` for `path` with the same options and root; `getChild` makes
   * children with it. The child is made by this object's own constructor,
   * called with `(path, options)` as Twisted does, so a subclass's children
   * are of the subclass; one whose constructor takes other arguments
   * overrides this method (a child made with `new` is confined to its own
   * path, the stricter choice).
   *
   * @see Twisted: twisted.web.static.File.createSimilarFile
   */
  createSimilarFile(path: string): File {
    const Ctor = this.constructor as new (path: string, options: FileOptions) => File;
    const child = new Ctor(path, this.#options.given);
    (child as { root: string }).root = this.root;
    return child;
  }

  /**
   * The child for one path segment: a `File` for the entry of that name in
   * this directory, the index file (or the listing, or 403) for `''`, or an
   * error page.
   *
   * @throws The `fs` error of a check that fails other than with "not
   *   found" or "forbidden" (the site answers 500).
   * @see Twisted: twisted.web.static.File.getChild
   */
  override getChild(segment: string, _request: Request): IResource {
    let directory: boolean;
    try {
      directory = statSync(this.path).isDirectory();
    } catch (error) {
      return this.#errorResource(error);
    }
    if (!directory) return new NoResource('File not found.');
    if (segment === '') return this.#indexOrListing();
    if (isDangerous(segment)) return new NoResource('Invalid request URL.');
    const path = join(this.path, segment);
    return this.#confinementError(path) ?? this.createSimilarFile(path);
  }

  /**
   * The resource listing this directory (whether `directoryListing` is on
   * or not: it only decides whether `getChild('')` uses it).
   *
   * @see Twisted: twisted.web.static.File.directoryListing
   */
  directoryListing(): IResource {
    const options = this.#options;
    return new DirectoryLister(this.path, {
      contentTypeFor: (name) => this.contentTypeFor(name),
      showHidden: options.showHidden,
      confinedTo: options.followSymlinks ? undefined : this.#realRoot(),
    });
  }

  /**
   * The `Content-Type` a file named `name` is served with: from its
   * extension (what follows the last dot, unless that dot starts the name),
   * in `contentTypes` then the built-in table, else `defaultType`.
   */
  contentTypeFor(name: string): string {
    const dot = name.lastIndexOf('.');
    if (dot > 0) {
      const type = this.#options.contentTypes.get(name.slice(dot + 1).toLowerCase());
      if (type !== undefined) return type;
    }
    return this.#options.defaultType;
  }

  /**
   * Opens this resource's path for reading and returns the descriptor,
   * which the response reads with `fs.readSync` and then closes. Override
   * it to open differently (tests use it to simulate errors).
   *
   * @remarks
   * Opened with `O_NONBLOCK`, so that a FIFO does not block the reactor
   * until a writer comes (it is refused once `fstat` tells what it is); the
   * flag does nothing to regular files.
   *
   * @throws The `fs.openSync` error.
   * @see Twisted: twisted.web.static.File.openForReading
   */
  openForReading(): number {
    return openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /**
   * Serves the file (the whole of it, or the ranges asked for), or
   * redirects a directory to its URL with a trailing slash.
   *
   * @see Twisted: twisted.web.static.File.render_GET
   */
  render_GET(request: Request): RenderResult {
    let fd: number;
    try {
      fd = this.openForReading();
    } catch (error) {
      return this.#errorResource(error).render(request);
    }
    let producer: StaticProducer | undefined;
    try {
      const result = this.#serve(request, fd);
      if (result instanceof StaticProducer) producer = result;
      else return result;
    } finally {
      if (producer === undefined) closeSync(fd);
    }
    producer.start();
    return NOT_DONE_YET;
  }

  /**
   * The same as GET without a body: the file is not read.
   *
   * @see Twisted: twisted.web.static.File.render_HEAD
   */
  render_HEAD(request: Request): RenderResult {
    return this.render_GET(request);
  }

  /**
   * The response for an open file: a producer to start for a body, or what
   * `render_GET` returns when there is none (the caller closes the file
   * then).
   */
  #serve(request: Request, fd: number): StaticProducer | RenderResult {
    const stat = fstatSync(fd, { bigint: true });
    if (stat.isDirectory()) return this.#redirectToSlash(request);
    if (!stat.isFile()) return new ForbiddenResource().render(request);
    const size = Number(stat.size);
    const mtimeSeconds = Number(stat.mtimeMs / 1000n);
    const etag = `"${stat.size.toString(16)}-${stat.mtimeNs.toString(16)}"`;

    request.setHeader('Accept-Ranges', 'bytes');
    // The tag first: setLastModified then evaluates every condition with
    // both validators known (If-Match needs the tag, If-Unmodified-Since the
    // date), and its answer is the final one.
    const byTag = request.setETag(etag);
    const byDate = request.setLastModified(mtimeSeconds);
    if (byTag === CACHED || byDate === CACHED) {
      // finish() rather than returning '': that would declare Content-Length: 0.
      request.finish();
      return NOT_DONE_YET;
    }

    const type = this.contentTypeFor(basename(this.path));
    const ranges =
      request.method === 'GET' ? this.#ranges(request, size, etag, mtimeSeconds) : undefined;
    let parts: BodyPart[];
    if (ranges === undefined) {
      request.setHeader('Content-Type', type);
      request.setHeader('Content-Length', String(size));
      parts = size > 0 ? [{ start: 0, end: size - 1 }] : [];
    } else if (ranges === 'unsatisfiable') {
      request.setResponseCode(416);
      request.setHeader('Content-Range', contentRangeHeader(undefined, size));
      request.setHeader('Content-Length', '0');
      request.finish();
      return NOT_DONE_YET;
    } else if (ranges.length === 1) {
      const range = ranges[0] as { start: number; end: number };
      request.setResponseCode(206);
      request.setHeader('Content-Type', type);
      request.setHeader('Content-Range', contentRangeHeader(range, size));
      request.setHeader('Content-Length', String(range.end - range.start + 1));
      parts = [range];
    } else {
      const boundary = randomBytes(12).toString('hex');
      parts = [];
      let length = 0;
      ranges.forEach((range, i) => {
        const head = Buffer.from(
          `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: ${contentRangeHeader(range, size)}\r\n\r\n`,
          'latin1',
        );
        parts.push(head, range);
        length += head.length + range.end - range.start + 1;
      });
      const close = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
      parts.push(close);
      length += close.length;
      request.setResponseCode(206);
      request.setHeader('Content-Type', `multipart/byteranges; boundary=${boundary}`);
      request.setHeader('Content-Length', String(length));
    }

    if (request.method === 'HEAD') {
      request.finish();
      return NOT_DONE_YET;
    }
    return new StaticProducer(request, fd, parts, request.site.clock, this.path);
  }

  /**
   * The ranges to send: `undefined` for the whole file (no `Range`, an
   * invalid one, several `Range` fields, or `If-Range` not matching).
   */
  #ranges(
    request: Request,
    size: number,
    etag: string,
    mtimeSeconds: number,
  ): ReturnType<typeof parseRangeHeader> {
    const values = request.requestHeaders.getRawHeaders('Range');
    if (values === undefined || values.length !== 1) return undefined;
    // RFC 9110 §13.1.5: a date validates only if it is strong, the file at
    // least a second older than the response's Date.
    const strongDate = request.started >= mtimeSeconds + 1;
    const validators = strongDate ? { etag, lastModified: mtimeSeconds } : { etag };
    if (!ifRangeAllows(request.requestHeaders, validators)) return undefined;
    return parseRangeHeader(values[0] as string, size);
  }

  /** 301 to this URL with a `/` after the path, the query kept. */
  #redirectToSlash(request: Request): string {
    const q = request.uri.indexOf('?');
    const query = q === -1 ? '' : request.uri.slice(q);
    // Never `//host` or `/\host`: a browser would read either as another host.
    const path = `/${request.path.replace(/^[/\\]+/, '')}`.replace(/\\/g, '%5C');
    const url = `${path}/${query}`;
    request.redirect(url, 301);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return redirectPageHtml(url);
  }

  /** The first index file, else the listing (when on), else 403. */
  #indexOrListing(): IResource {
    for (const name of this.#options.indexNames) {
      const path = join(this.path, name);
      let isFile = false;
      try {
        isFile = statSync(path).isFile();
      } catch {
        // Not there (or not ours): try the next name.
      }
      if (isFile) return this.#confinementError(path) ?? this.createSimilarFile(path);
    }
    if (this.#options.directoryListing) return this.directoryListing();
    return new ForbiddenResource();
  }

  /**
   * An error page when `path` may not be served because its real path lies
   * outside the root (or cannot be resolved); `undefined` when it may.
   */
  #confinementError(path: string): IResource | undefined {
    if (this.#options.followSymlinks) return undefined;
    try {
      if (isWithin(realpathSync(path), this.#realRoot())) return undefined;
    } catch (error) {
      return this.#errorResource(error);
    }
    return new ForbiddenResource();
  }

  /** The root's real path. */
  #realRoot(): string {
    return realpathSync(this.root);
  }

  /** 404 or 403 for an `fs` error that means either; other errors are thrown. */
  #errorResource(error: unknown): IResource {
    const code = errnoCode(error);
    if (code !== undefined && NOT_FOUND.has(code)) return new NoResource('File not found.');
    if (code !== undefined && FORBIDDEN.has(code)) return new ForbiddenResource();
    throw error;
  }
}
