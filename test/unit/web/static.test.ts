// File, the static resource: serving files with their headers, content
// types, conditional requests, HEAD, errors, and directories (redirects,
// index files). Ranges, security, streaming and listings have their own
// files (static-*.test.ts). Ports Twisted's StaticFileTests and
// StaticMakeProducerTests (twisted/web/test/test_static.py).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { captureLogs } from '../../../src/logger/capture.js';
import { NoResource, Resource } from '../../../src/web/resource.js';
import { File } from '../../../src/web/static.js';
import {
  fetch,
  MTIME,
  MTIME_HTTP,
  makeTree,
  open,
  openFds,
  pump,
  requestBytes,
} from './_static-fixture.js';

const tree = makeTree();
after(() => tree.remove());

/** The strong tag the File sends for a file of `size` bytes modified at `mtime` seconds. */
function etagFor(size: number, mtime = MTIME): string {
  return `"${size.toString(16)}-${(BigInt(mtime) * 1_000_000_000n).toString(16)}"`;
}

describe('File serving a file', () => {
  before(() => {
    tree.file('hello.txt', 'hello, world\n');
    tree.file('page.html', '<p>hi</p>');
    tree.file('blob.unknownext', 'xyz');
    tree.file('noext', 'plain');
    tree.file('.bashrc', 'secret-ish');
    tree.file('Upper.TXT', 'upper');
    tree.file('empty.txt', '');
    tree.file('été.txt', 'summer');
    tree.file('a b&c.css', 'body{}');
  });

  test('serves the file a segment names, with Content-Type, Content-Length, Last-Modified, ETag and Accept-Ranges (test_staticFile)', () => {
    const r = fetch(new File(tree.dir), '/hello.txt');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello, world\n');
    assert.equal(r.header('content-type'), 'text/plain; charset=utf-8');
    assert.equal(r.header('content-length'), '13');
    assert.equal(r.header('last-modified'), MTIME_HTTP);
    assert.equal(r.header('etag'), etagFor(13));
    assert.equal(r.header('accept-ranges'), 'bytes');
  });

  test('a name percent-encoded as UTF-8 finds the file (test_staticFileUnicodeFileName)', () => {
    const r = fetch(new File(tree.dir), '/%C3%A9t%C3%A9.txt');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'summer');
    assert.equal(fetch(new File(tree.dir), '/a%20b%26c.css').body, 'body{}');
  });

  test('a File mounted as a child serves its file for its own path', () => {
    const root = new Resource();
    root.putChild('readme', new File(join(tree.dir, 'hello.txt')));
    const r = fetch(root, '/readme');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello, world\n');
    // The type comes from the file's own name, not from the URL's.
    assert.equal(r.header('content-type'), 'text/plain; charset=utf-8');
  });

  test('the content type comes from the built-in table, case-insensitively, else defaultType', () => {
    const file = new File(tree.dir);
    assert.equal(fetch(file, '/page.html').header('content-type'), 'text/html; charset=utf-8');
    assert.equal(fetch(file, '/Upper.TXT').header('content-type'), 'text/plain; charset=utf-8');
    assert.equal(
      fetch(file, '/blob.unknownext').header('content-type'),
      'application/octet-stream',
    );
    assert.equal(fetch(file, '/noext').header('content-type'), 'application/octet-stream');
    // A leading dot does not start an extension.
    assert.equal(fetch(file, '/.bashrc').header('content-type'), 'application/octet-stream');
    const custom = new File(tree.dir, { defaultType: 'text/plain' });
    assert.equal(fetch(custom, '/noext').header('content-type'), 'text/plain');
  });

  test('contentTypes adds and overrides types by extension, with or without the dot, in any case', () => {
    const file = new File(tree.dir, {
      contentTypes: { '.UNKNOWNEXT': 'application/x-blob', txt: 'text/x-mine' },
    });
    assert.equal(fetch(file, '/blob.unknownext').header('content-type'), 'application/x-blob');
    assert.equal(fetch(file, '/hello.txt').header('content-type'), 'text/x-mine');
    assert.equal(fetch(file, '/page.html').header('content-type'), 'text/html; charset=utf-8');
    assert.equal(file.contentTypeFor('x.Txt'), 'text/x-mine');
  });

  test("children share their parent's options", () => {
    tree.file('sub/deeper/x.unknownext', 'deep');
    const file = new File(tree.dir, { contentTypes: { unknownext: 'application/x-deep' } });
    const r = fetch(file, '/sub/deeper/x.unknownext');
    assert.equal(r.body, 'deep');
    assert.equal(r.header('content-type'), 'application/x-deep');
  });

  test('dotfiles are served when asked for by name, as Twisted serves them', () => {
    const r = fetch(new File(tree.dir), '/.bashrc');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'secret-ish');
  });

  test('an empty file answers 200 with Content-Length: 0 and no body', () => {
    const c = open(new File(tree.dir));
    c.send(requestBytes('/empty.txt'));
    pump(c);
    const [r] = c.replies();
    assert.equal(r?.status, 200);
    assert.equal(r?.header('content-length'), '0');
    assert.equal(r?.body, '');
    assert.equal(c.transport.producer, undefined);
  });

  test('a missing file answers 404 (test_notFound)', () => {
    const r = fetch(new File(tree.dir), '/nope.txt');
    assert.equal(r.status, 404);
    assert.match(r.body, /File not found/);
  });

  test('a path below a file answers 404', () => {
    assert.equal(fetch(new File(tree.dir), '/hello.txt/more').status, 404);
    assert.equal(fetch(new File(tree.dir), '/hello.txt/').status, 404);
    assert.equal(fetch(new File(tree.dir), '/missing/more').status, 404);
  });

  test('a file deleted after traversal found it answers 404 (test_staticFileDeletedRender)', () => {
    const path = tree.file('doomed.txt', 'bye');
    const file = new File(path);
    rmSync(path);
    const root = new Resource();
    root.putChild('doomed', file);
    assert.equal(fetch(root, '/doomed').status, 404);
  });

  test('the child of a File whose directory was deleted is a 404 (test_staticFileDeletedGetChild)', () => {
    const dir = tree.mkdir('gone');
    const file = new File(dir);
    rmSync(dir, { recursive: true });
    const request = open(file);
    request.send(requestBytes('/anything'));
    assert.equal(request.replies()[0]?.status, 404);
    assert.ok(new File(dir).getChild('x', undefined as never) instanceof NoResource);
  });

  test('a file that may not be read answers 403 (test_forbiddenResource)', () => {
    class Unreadable extends File {
      override openForReading(): number {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      }
    }
    const root = new Resource();
    root.putChild('f', new Unreadable(join(tree.dir, 'hello.txt')));
    const r = fetch(root, '/f');
    assert.equal(r.status, 403);
    assert.doesNotMatch(r.body, /hello/);
  });

  test('any other error opening the file answers 500 through processingFailed, logged once', () => {
    class Broken extends File {
      override openForReading(): number {
        throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      }
    }
    const root = new Resource();
    root.putChild('f', new Broken(join(tree.dir, 'hello.txt')));
    const logs = captureLogs();
    try {
      const r = fetch(root, '/f');
      assert.equal(r.status, 500);
      assert.doesNotMatch(r.body, /EIO/);
      const failures = logs.events.filter((e) => e.log_failure !== undefined);
      assert.equal(failures.length, 1);
    } finally {
      logs.stop();
    }
  });

  test('a FIFO answers 403 at once, without waiting for a writer', () => {
    const path = join(tree.dir, 'pipe');
    execFileSync('mkfifo', [path]);
    const before = openFds();
    assert.equal(fetch(new File(tree.dir), '/pipe').status, 403);
    assert.equal(openFds(), before);
  });

  test('methods other than GET and HEAD answer 405 with Allow: GET, HEAD (test_invalidMethod)', () => {
    const r = fetch(new File(tree.dir), '/hello.txt', {}, 'POST');
    assert.equal(r.status, 405);
    assert.equal(r.header('allow'), 'GET, HEAD');
  });
});

describe('File and HEAD', () => {
  before(() => {
    tree.file('head.txt', 'abcdefghij');
  });

  test('HEAD sends the headers GET would, and no body (test_headRequest)', () => {
    const file = new File(tree.dir);
    const get = fetch(file, '/head.txt');
    const head = fetch(file, '/head.txt', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    for (const name of [
      'content-type',
      'content-length',
      'last-modified',
      'etag',
      'accept-ranges',
    ]) {
      assert.equal(head.header(name), get.header(name), name);
    }
    assert.equal(head.header('content-length'), '10');
  });

  test('HEAD reads nothing and closes the file (test_HEADClosesFile)', () => {
    // A descriptor open for writing only: any read of it would fail.
    let fd = -1;
    class WriteOnly extends File {
      override openForReading(): number {
        fd = openSync(this.path, constants.O_WRONLY);
        return fd;
      }
    }
    const root = new Resource();
    root.putChild('f', new WriteOnly(join(tree.dir, 'head.txt')));
    const before = openFds();
    const c = open(root);
    c.send(requestBytes('/f', {}, 'HEAD'));
    const [r] = c.replies(['HEAD']);
    assert.equal(r?.status, 200);
    assert.equal(r?.header('content-length'), '10');
    assert.equal(c.transport.producer, undefined);
    assert.equal(c.clock.getDelayedCalls().length, 0);
    assert.equal(openFds(), before);
    assert.throws(() => closeSync(fd), { code: 'EBADF' });
  });

  test('HEAD ignores Range (RFC 9110 §14.2 defines ranges for GET only)', () => {
    const r = fetch(new File(tree.dir), '/head.txt', { Range: 'bytes=0-1' }, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.header('content-length'), '10');
    assert.equal(r.header('content-range'), undefined);
  });
});

describe('File and conditional requests', () => {
  const size = 'conditional'.length;
  before(() => {
    tree.file('cond.txt', 'conditional');
  });
  const file = (): File => new File(tree.dir);

  test('If-Modified-Since at or after Last-Modified answers 304, no body, no Content-Length (test_cachedRequestClosesFile)', () => {
    const before = openFds();
    for (const since of [MTIME_HTTP, 'Sun, 09 Sep 2001 01:46:40 GMT']) {
      const c = open(file());
      c.send(requestBytes('/cond.txt', { 'If-Modified-Since': since }));
      const [r] = c.replies();
      assert.equal(r?.status, 304);
      assert.equal(r?.body, '');
      assert.equal(r?.header('content-length'), undefined);
      assert.equal(r?.header('etag'), etagFor(size));
      assert.equal(c.transport.producer, undefined);
    }
    assert.equal(openFds(), before);
  });

  test('If-Modified-Since before Last-Modified answers 200 with the body', () => {
    const r = fetch(file(), '/cond.txt', { 'If-Modified-Since': 'Fri, 07 Sep 2001 00:00:00 GMT' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'conditional');
  });

  test('If-None-Match with the current tag (strong or weak, or *) answers 304', () => {
    for (const tags of [etagFor(size), `W/${etagFor(size)}`, `"other", ${etagFor(size)}`, '*']) {
      const r = fetch(file(), '/cond.txt', { 'If-None-Match': tags });
      assert.equal(r.status, 304, tags);
      assert.equal(r.body, '');
    }
  });

  test('If-None-Match with another tag answers 200, even with a matching If-Modified-Since', () => {
    const r = fetch(file(), '/cond.txt', {
      'If-None-Match': '"stale"',
      'If-Modified-Since': MTIME_HTTP,
    });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'conditional');
  });

  test('If-Match without the current tag answers 412; with it, 200', () => {
    const failed = fetch(file(), '/cond.txt', { 'If-Match': '"stale"' });
    assert.equal(failed.status, 412);
    assert.equal(failed.body, '');
    assert.equal(fetch(file(), '/cond.txt', { 'If-Match': etagFor(size) }).status, 200);
    // A weak tag never matches If-Match (strong comparison).
    assert.equal(fetch(file(), '/cond.txt', { 'If-Match': `W/${etagFor(size)}` }).status, 412);
  });

  test('If-Unmodified-Since before Last-Modified answers 412; at it, 200', () => {
    assert.equal(
      fetch(file(), '/cond.txt', { 'If-Unmodified-Since': 'Fri, 07 Sep 2001 00:00:00 GMT' }).status,
      412,
    );
    assert.equal(fetch(file(), '/cond.txt', { 'If-Unmodified-Since': MTIME_HTTP }).status, 200);
  });

  test('HEAD is answered 304 the same way', () => {
    const r = fetch(file(), '/cond.txt', { 'If-None-Match': etagFor(size) }, 'HEAD');
    assert.equal(r.status, 304);
  });

  test('the tag changes with the size and with the modification time', () => {
    tree.file('changing.txt', 'one');
    const first = fetch(file(), '/changing.txt').header('etag');
    tree.file('changing.txt', 'three');
    const second = fetch(file(), '/changing.txt').header('etag');
    tree.file('changing.txt', 'other', MTIME + 1);
    const third = fetch(file(), '/changing.txt').header('etag');
    assert.equal(new Set([first, second, third]).size, 3);
    assert.equal(third, etagFor(5, MTIME + 1));
  });
});

describe('File fed a request in pieces', () => {
  test('the responses are the same whether the requests arrive whole or a byte at a time', () => {
    tree.file('pieces.txt', 'the quick brown fox');
    const requests = [
      requestBytes('/pieces.txt'),
      requestBytes('/pieces.txt', { Range: 'bytes=4-8' }),
      requestBytes('/pieces.txt', { 'If-Modified-Since': MTIME_HTTP }),
      requestBytes('/pieces.txt', {}, 'HEAD'),
      requestBytes('/'),
      requestBytes('/%2e%2e/x'),
    ].join('');
    const whole = open(new File(tree.dir));
    whole.send(requests);
    pump(whole);
    const bytewise = open(new File(tree.dir));
    for (const byte of Buffer.from(requests, 'latin1')) {
      bytewise.send(Buffer.of(byte));
      pump(bytewise);
    }
    assert.equal(bytewise.output(), whole.output());
    assert.equal(whole.replies(['GET', 'GET', 'GET', 'HEAD']).length, 6);
  });
});

describe('File serving a directory', () => {
  before(() => {
    tree.file('site/index.html', '<h1>home</h1>');
    tree.file('site/docs/index.htm', 'docs home');
    tree.file('site/docs/guide.txt', 'guide');
    tree.file('site/bare/file.txt', 'bare');
    tree.file('site/custom/start.txt', 'custom start');
    tree.file('site/custom/index.html', 'not this one');
    tree.mkdir('site/fake/index.html');
    tree.file('site/fake/index.htm', 'the real index');
  });
  const site = (options = {}): File => new File(join(tree.dir, 'site'), options);

  test('a directory without a trailing slash redirects (301) to the URL with one, keeping the query (test_directoryWithoutTrailingSlashRedirects)', () => {
    const r = fetch(site(), '/docs?x=1&y=%20');
    assert.equal(r.status, 301);
    assert.equal(r.header('location'), '/docs/?x=1&y=%20');
    assert.match(r.body, /href="\/docs\/\?x=1&amp;y=%20"/);
    assert.equal(fetch(site(), '/docs').header('location'), '/docs/');
  });

  test('the redirect keeps the path as the client encoded it, and uses the path of an absolute-form target', () => {
    tree.mkdir('site/with space');
    assert.equal(fetch(site(), '/with%20space').header('location'), '/with%20space/');
    assert.equal(fetch(site(), 'http://example.com/docs?q').header('location'), '/docs/?q');
  });

  test('the redirect never points at another host (//host or /\\host)', () => {
    const root = new Resource();
    root.putChild('', site());
    // `GET //docs` reaches the directory through the root's '' child.
    const r = fetch(root, '//docs');
    assert.equal(r.status, 301);
    assert.equal(r.header('location'), '/docs/');
  });

  test('a directory with a trailing slash serves its first index file (test_indexNames)', () => {
    const r = fetch(site(), '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, '<h1>home</h1>');
    assert.equal(r.header('content-type'), 'text/html; charset=utf-8');
    assert.equal(fetch(site(), '/docs/').body, 'docs home');
  });

  test('indexNames chooses the index files, in order', () => {
    const r = fetch(site({ indexNames: ['start.txt', 'index.html'] }), '/custom/');
    assert.equal(r.body, 'custom start');
    assert.equal(r.header('content-type'), 'text/plain; charset=utf-8');
  });

  test('an index name that is a directory is skipped', () => {
    assert.equal(fetch(site(), '/fake/').body, 'the real index');
  });

  test('a directory without an index answers 403 unless directoryListing (test_emptyChild)', () => {
    const r = fetch(site(), '/bare/');
    assert.equal(r.status, 403);
    assert.doesNotMatch(r.body, /file\.txt/);
    const listed = fetch(site({ directoryListing: true }), '/bare/');
    assert.equal(listed.status, 200);
    assert.match(listed.body, /file\.txt/);
  });

  test('files in nested directories are found segment by segment', () => {
    assert.equal(fetch(site(), '/docs/guide.txt').body, 'guide');
    assert.equal(fetch(site(), '/docs/missing.txt').status, 404);
  });

  test('several requests on one connection are answered in order', () => {
    const c = open(site());
    c.send(requestBytes('/docs/guide.txt') + requestBytes('/docs') + requestBytes('/'));
    pump(c);
    assert.deepEqual(
      c.replies().map((r) => [r.status, r.body.slice(0, 13)]),
      [
        [200, 'guide'],
        [301, '<!DOCTYPE htm'],
        [200, '<h1>home</h1>'],
      ],
    );
  });
});
