// Test support for the static File resource: a temporary directory tree with
// fixed modification times, requests against a File on the StringTransport
// server helper (pumping the clock until the body is written), open file
// descriptors counted, and multipart/byteranges bodies split into parts.

import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IResource } from '../../../src/web/resource.js';
import { type Connection, connect, type Reply } from './_server.js';

/** The modification time every fixture file gets: a day before the test clock's start (1e9 s). */
export const MTIME = 1_000_000_000 - 86_400;
/** {@link MTIME} as an HTTP-date. */
export const MTIME_HTTP = 'Sat, 08 Sep 2001 01:46:40 GMT';

/** A temporary directory to fill with files. */
export interface Tree {
  readonly dir: string;
  /** Writes a file (parents made), with mtime {@link MTIME} unless given. */
  file(relative: string, content: string | Uint8Array, mtime?: number): string;
  /** Makes a directory (and parents). */
  mkdir(relative: string): string;
  /** Makes a symbolic link at `relative` pointing to `target` (as given). */
  symlink(relative: string, target: string): string;
  /** Removes the tree. */
  remove(): void;
}

/** A new temporary directory. */
export function makeTree(prefix = 'torsion-static-'): Tree {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(relative, content, mtime = MTIME) {
      const path = join(dir, relative);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      utimesSync(path, mtime, mtime);
      return path;
    },
    mkdir(relative) {
      const path = join(dir, relative);
      mkdirSync(path, { recursive: true });
      return path;
    },
    symlink(relative, target) {
      const path = join(dir, relative);
      mkdirSync(dirname(path), { recursive: true });
      symlinkSync(target, path);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How many file descriptors this process has open. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A connection to a Site over `resource` with no timers of its own (no idle or header timeouts). */
export function open(resource: IResource): Connection {
  return connect(resource, { timeout: null, headersTimeout: null });
}

/** Runs the clock's pending calls (the producer's continuations) until none is left. */
export function pump(c: Connection, limit = 100_000): void {
  for (let i = 0; i < limit && c.clock.getDelayedCalls().length > 0; i++) c.clock.advance(0);
}

/** A request's bytes: `METHOD path HTTP/1.1` with Host and the headers given. */
export function requestBytes(
  path: string,
  headers: Readonly<Record<string, string>> = {},
  method = 'GET',
): string {
  let text = `${method} ${path} HTTP/1.1\r\nHost: example.com\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

/** Sends one request on a new connection, pumps the clock, and returns the response. */
export function fetch(
  resource: IResource,
  path: string,
  headers: Readonly<Record<string, string>> = {},
  method = 'GET',
): Reply {
  const c = open(resource);
  c.send(requestBytes(path, headers, method));
  pump(c);
  const replies = c.replies([method]);
  const reply = replies[0];
  if (reply === undefined || replies.length !== 1) {
    throw new Error(`expected one response, got ${replies.length}:\n${c.output().slice(0, 2000)}`);
  }
  return reply;
}

/** One part of a multipart/byteranges body. */
export interface Part {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The boundary of a `multipart/byteranges; boundary=…` Content-Type. */
export function boundaryOf(contentType: string | undefined): string {
  const match = /^multipart\/byteranges; boundary=([0-9A-Za-z'()+_,\-./:=?]+)$/.exec(
    contentType ?? '',
  );
  if (match === null) throw new Error(`not a multipart/byteranges type: ${contentType}`);
  return match[1] as string;
}

/**
 * The parts of a multipart body (latin1), checked strictly: the first
 * delimiter opens the body, each part's headers end with an empty line, and
 * the close delimiter `--boundary--` CRLF ends it.
 */
export function parseMultipart(body: string, boundary: string): Part[] {
  const delimiter = `--${boundary}`;
  if (!body.startsWith(`${delimiter}\r\n`))
    throw new Error('the body does not open with the delimiter');
  const close = `\r\n${delimiter}--\r\n`;
  if (!body.endsWith(close)) throw new Error('the body does not end with the close delimiter');
  const inner = body.slice(delimiter.length + 2, body.length - close.length);
  return inner.split(`\r\n${delimiter}\r\n`).map((raw) => {
    const end = raw.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`a part without the end of its headers: ${raw.slice(0, 80)}`);
    const headers: Record<string, string> = {};
    for (const line of raw.slice(0, end).split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { headers, body: raw.slice(end + 4) };
  });
}
