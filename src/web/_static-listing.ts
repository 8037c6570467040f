// Internal: the HTML listing of a directory that a static File shows when
// asked (Twisted: twisted.web.static.DirectoryLister and formatFileSize).
// Tests: test/unit/web/static-listing.test.ts

import { type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml } from './_html.js';
import type { Request } from './request.js';
import { ForbiddenResource, Resource } from './resource.js';

/** What a listing needs from the File that made it. */
export interface ListingOptions {
  /** The `Content-Type` a file of this name would be served with. */
  readonly contentTypeFor: (name: string) => string;
  /** Whether names starting with `.` are listed. */
  readonly showHidden: boolean;
  /**
   * The real path of the root the File is confined to, or `undefined` when
   * symbolic links may lead anywhere: then entries leading outside are hidden.
   */
  readonly confinedTo: string | undefined;
}

/** One row of the listing. */
export interface ListingEntry {
  /** The name in the directory. */
  readonly name: string;
  /** Whether it is a directory (through symbolic links). */
  readonly directory: boolean;
  /** Its size in bytes (0 for a directory). */
  readonly size: number;
}

/**
 * A size as a listing shows it: bytes below 1 KiB (`512B`), else whole KiB,
 * MiB or GiB rounded down (`1K`, `3M`, `2G`).
 *
 * @see Twisted: twisted.web.static.formatFileSize
 */
export function formatFileSize(size: number): string {
  if (size < 1024) return `${size}B`;
  if (size < 1024 ** 2) return `${Math.floor(size / 1024)}K`;
  if (size < 1024 ** 3) return `${Math.floor(size / 1024 ** 2)}M`;
  return `${Math.floor(size / 1024 ** 3)}G`;
}

/** Whether `real` is `root` or lies below it. */
export function isWithin(real: string, root: string): boolean {
  if (real === root) return true;
  return real.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/**
 * The entries of directory `path` a listing shows: directories first, then
 * files, each sorted by name (UTF-16 code units). Hidden names are left out
 * unless `options.showHidden`; so are entries whose `stat` fails (a broken
 * symbolic link, say), entries that are neither files nor directories, and,
 * when confined, symbolic links that lead outside the root.
 *
 * @throws The `readdirSync` error when the directory cannot be read.
 */
export function listEntries(path: string, options: ListingOptions): ListingEntry[] {
  const dirents: Dirent[] = readdirSync(path, { withFileTypes: true });
  const directories: ListingEntry[] = [];
  const files: ListingEntry[] = [];
  for (const dirent of dirents) {
    const name = dirent.name;
    if (name.startsWith('.') && !options.showHidden) continue;
    const child = join(path, name);
    try {
      if (
        dirent.isSymbolicLink() &&
        options.confinedTo !== undefined &&
        !isWithin(realpathSync(child), options.confinedTo)
      ) {
        continue;
      }
      const stat = statSync(child);
      if (stat.isDirectory()) directories.push({ name, directory: true, size: 0 });
      else if (stat.isFile()) files.push({ name, directory: false, size: stat.size });
    } catch {
      // Gone since readdir, a broken link, or a link we may not follow: not listed.
    }
  }
  const byName = (a: ListingEntry, b: ListingEntry): number =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return [...directories.sort(byName), ...files.sort(byName)];
}

/**
 * A resource that answers GET (and HEAD) with an HTML page listing a
 * directory: each entry's name (escaped) linking to it (percent-encoded, a
 * `/` after a directory), its size and its content type.
 *
 * @see Twisted: twisted.web.static.DirectoryLister
 */
export class DirectoryLister extends Resource {
  /**
   * @param path - The directory listed.
   * @param options - How names are typed and which are shown.
   */
  constructor(
    readonly path: string,
    readonly options: ListingOptions,
  ) {
    super();
  }

  /** The listing page; a directory that cannot be read answers 403. */
  render_GET(request: Request): string {
    let entries: ListingEntry[];
    try {
      entries = listEntries(this.path, this.options);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        return new ForbiddenResource().render(request);
      }
      throw error;
    }
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    const where = escapeHtml(`/${request.prepath.join('/')}`);
    const rows = entries.map((entry, i) => {
      const href = escapeHtml(encodeURIComponent(entry.name) + (entry.directory ? '/' : ''));
      const text = escapeHtml(entry.name + (entry.directory ? '/' : ''));
      const size = entry.directory ? '' : formatFileSize(entry.size);
      const type = entry.directory
        ? 'directory'
        : escapeHtml(this.options.contentTypeFor(entry.name));
      const parity = i % 2 === 0 ? 'odd' : 'even';
      const kind = entry.directory ? `${parity}-dir` : parity;
      return `<tr class="${kind}"><td><a href="${href}">${text}</a></td><td>${size}</td><td>${type}</td></tr>\n`;
    });
    return (
      '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n' +
      `<title>Directory listing for ${where}</title>\n` +
      '<style>\nbody { font-family: sans-serif; }\ntable { border-collapse: collapse; }\n' +
      'td, th { padding: 0.2em 1em; text-align: left; }\n.even, .even-dir { background-color: #eee; }\n</style>\n' +
      `</head>\n<body>\n<h1>Directory listing for ${where}</h1>\n` +
      '<table>\n<thead><tr><th>Name</th><th>Size</th><th>Content type</th></tr></thead>\n<tbody>\n' +
      rows.join('') +
      '</tbody>\n</table>\n</body>\n</html>\n'
    );
  }
}
