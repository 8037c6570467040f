// Media types by file extension, from a built-in table, for Content-Type
// (Twisted: twisted.web.static.loadMimeTypes, which reads the system's
// mime.types through Python's mimetypes module).
// Tests: test/unit/web/mime-status.test.ts

const UTF8 = '; charset=utf-8';

// Text types are written with their charset here, once, so the table is what
// a response sends. Where registries disagree the IANA / WHATWG choice wins
// (text/javascript per RFC 9239, image/x-icon as browsers expect).
const TYPES: Readonly<Record<string, string>> = {
  // Text and markup
  html: `text/html${UTF8}`,
  htm: `text/html${UTF8}`,
  xhtml: `application/xhtml+xml${UTF8}`,
  css: `text/css${UTF8}`,
  js: `text/javascript${UTF8}`,
  mjs: `text/javascript${UTF8}`,
  cjs: `text/javascript${UTF8}`,
  json: `application/json${UTF8}`,
  map: `application/json${UTF8}`,
  jsonld: `application/ld+json${UTF8}`,
  webmanifest: `application/manifest+json${UTF8}`,
  txt: `text/plain${UTF8}`,
  text: `text/plain${UTF8}`,
  log: `text/plain${UTF8}`,
  csv: `text/csv${UTF8}`,
  tsv: `text/tab-separated-values${UTF8}`,
  md: `text/markdown${UTF8}`,
  markdown: `text/markdown${UTF8}`,
  xml: `application/xml${UTF8}`,
  xsl: `application/xml${UTF8}`,
  dtd: `application/xml-dtd${UTF8}`,
  svg: `image/svg+xml${UTF8}`,
  rss: `application/rss+xml${UTF8}`,
  atom: `application/atom+xml${UTF8}`,
  yaml: `application/yaml${UTF8}`,
  yml: `application/yaml${UTF8}`,
  toml: `application/toml${UTF8}`,
  ics: `text/calendar${UTF8}`,
  vcf: `text/vcard${UTF8}`,
  rtf: `text/rtf${UTF8}`,
  // Images
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
  // Fonts
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  eot: 'application/vnd.ms-fontobject',
  // Audio and video
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  oga: 'audio/ogg',
  ogg: 'audio/ogg',
  opus: 'audio/opus',
  wav: 'audio/wav',
  flac: 'audio/flac',
  mid: 'audio/midi',
  midi: 'audio/midi',
  weba: 'audio/webm',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  ogv: 'video/ogg',
  webm: 'video/webm',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  mpeg: 'video/mpeg',
  mpg: 'video/mpeg',
  mkv: 'video/x-matroska',
  // Archives and binaries
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  bz2: 'application/x-bzip2',
  xz: 'application/x-xz',
  zst: 'application/zstd',
  '7z': 'application/x-7z-compressed',
  rar: 'application/vnd.rar',
  jar: 'application/java-archive',
  apk: 'application/vnd.android.package-archive',
  wasm: 'application/wasm',
  bin: 'application/octet-stream',
  exe: 'application/octet-stream',
  dll: 'application/octet-stream',
  iso: 'application/octet-stream',
  dmg: 'application/octet-stream',
  // Documents
  pdf: 'application/pdf',
  epub: 'application/epub+zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
};

/**
 * The built-in table {@link mimeTypeFor} reads: lower-case extension (without
 * the dot) to `Content-Type` value. A `File` resource can copy it into its own
 * map to add or override types.
 */
export const MIME_TYPES: ReadonlyMap<string, string> = new Map(Object.entries(TYPES));

/**
 * The media type to send as `Content-Type` for a file, from its extension, or
 * `undefined` when the built-in table does not know it.
 *
 * @remarks
 * The extension is what follows the last `.` of the last path segment (both
 * `/` and `\` separate segments), compared without regard to case; a name
 * with no dot, or whose only dot starts it (`.bashrc`), has none. The table
 * holds about a hundred common extensions (web pages and assets, images,
 * fonts, audio and video, archives, office documents). Textual types carry
 * `; charset=utf-8`: `text/*`, JavaScript (`text/javascript`, RFC 9239),
 * JSON and its `+json` kin, XML and its `+xml` kin (including SVG, RSS and
 * Atom), YAML, TOML, iCalendar and vCard. The others carry no parameter.
 *
 * Differences from Twisted: `File` reads the system's `mime.types`, so its
 * answers vary by machine; this table is fixed. `File` falls back to its
 * `defaultType` (`text/html`); the caller of this function picks its own.
 *
 * @param pathOrName - A file name or a path ending in one.
 * @see Twisted: twisted.web.static.File.contentTypes
 */
export function mimeTypeFor(pathOrName: string): string | undefined {
  const slash = Math.max(pathOrName.lastIndexOf('/'), pathOrName.lastIndexOf('\\'));
  const name = pathOrName.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return MIME_TYPES.get(name.slice(dot + 1).toLowerCase());
}
