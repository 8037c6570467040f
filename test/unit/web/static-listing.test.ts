// The directory listing a File shows when directoryListing is on: names
// escaped, links percent-encoded, sizes, sorted with directories first,
// dotfiles hidden unless showHidden, broken links and links out of the root
// left out. Ports Twisted's DirectoryListerTests (test_static.py).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { formatFileSize } from '../../../src/web/_static-listing.js';
import { Resource } from '../../../src/web/resource.js';
import { File } from '../../../src/web/static.js';
import { fetch, makeTree } from './_static-fixture.js';

const tree = makeTree();
after(() => tree.remove());

let root: string;
before(() => {
  root = tree.mkdir('pub');
  tree.file('pub/b.txt', 'x'.repeat(2048));
  tree.file('pub/a.html', '<p>');
  tree.file('pub/Z.bin', 'zz');
  tree.file('pub/.env', 'SECRET=1');
  tree.mkdir('pub/.git');
  tree.mkdir('pub/sub dir');
  tree.mkdir('pub/alpha');
  tree.file('pub/odd <name> & "quotes".txt', 'odd');
  tree.file('pub/100%.txt', 'pct');
  tree.file('pub/été.txt', 'ete');
  tree.file('pub/javascript:alert(1)', 'js');
  tree.symlink('pub/broken', `${tree.dir}/nowhere`);
  tree.file('outside.txt', 'outside');
  tree.symlink('pub/out', `${tree.dir}/outside.txt`);
  tree.symlink('pub/in', 'a.html');
});

const listing = (options = {}, path = '/'): string => {
  const r = fetch(new File(root, { directoryListing: true, ...options }), path);
  assert.equal(r.status, 200);
  assert.equal(r.header('content-type'), 'text/html; charset=utf-8');
  return Buffer.from(r.body, 'latin1').toString('utf8');
};

/** The [href, text] of each row's link, in order. */
function links(html: string): Array<[string, string]> {
  return [...html.matchAll(/<td><a href="([^"]*)">([^<]*)<\/a><\/td>/g)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]);
}

describe('File directory listing', () => {
  test('lists directories first, then files, each sorted by name, dotfiles hidden (test_renderDirectories, test_renderFiles)', () => {
    assert.deepEqual(
      links(listing()).map(([, text]) => text),
      [
        'alpha/',
        'sub dir/',
        '100%.txt',
        'Z.bin',
        'a.html',
        'b.txt',
        'in',
        'javascript:alert(1)',
        'odd &lt;name&gt; &amp; &quot;quotes&quot;.txt',
        'été.txt',
      ],
    );
  });

  test('links are percent-encoded relative references, a slash after directories', () => {
    const hrefs = Object.fromEntries(links(listing()).map(([href, text]) => [text, href]));
    assert.equal(hrefs['sub dir/'], 'sub%20dir/');
    assert.equal(hrefs['100%.txt'], '100%25.txt');
    assert.equal(hrefs['été.txt'], '%C3%A9t%C3%A9.txt');
    // A colon is encoded, so the name cannot read as a URL scheme.
    assert.equal(hrefs['javascript:alert(1)'], 'javascript%3Aalert(1)');
    assert.equal(
      hrefs['odd &lt;name&gt; &amp; &quot;quotes&quot;.txt'],
      'odd%20%3Cname%3E%20%26%20%22quotes%22.txt',
    );
  });

  test('every link leads to its entry', () => {
    const file = new File(root, { directoryListing: true });
    for (const [href] of links(listing())) {
      assert.equal(fetch(file, `/${href}`).status, 200, href);
    }
  });

  test('rows show sizes as Twisted formats them, and content types; directories neither (test_contentType)', () => {
    const html = listing();
    assert.match(
      html,
      /<a href="b.txt">b.txt<\/a><\/td><td>2K<\/td><td>text\/plain; charset=utf-8<\/td>/,
    );
    assert.match(
      html,
      /<a href="Z.bin">Z.bin<\/a><\/td><td>2B<\/td><td>application\/octet-stream<\/td>/,
    );
    assert.match(html, /<a href="alpha\/">alpha\/<\/a><\/td><td><\/td><td>directory<\/td>/);
  });

  test('rows alternate odd and even classes, with -dir for directories (test_oddAndEven)', () => {
    const classes = [...listing().matchAll(/<tr class="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(classes.slice(0, 4), ['odd-dir', 'even-dir', 'odd', 'even']);
  });

  test('the title and heading name the directory by its URL path, escaped (test_renderHeader, test_escapeHeader)', () => {
    const html = listing({}, '/sub%20dir/');
    assert.match(html, /<title>Directory listing for \/sub dir\/<\/title>/);
    assert.match(html, /<h1>Directory listing for \/sub dir\/<\/h1>/);
    tree.mkdir('pub/<b>');
    const escaped = listing({}, '/%3Cb%3E/');
    assert.match(escaped, /<title>Directory listing for \/&lt;b&gt;\/<\/title>/);
    assert.doesNotMatch(escaped, /<b>/);
  });

  test('the heading shows where the File is mounted', () => {
    const site = new Resource();
    site.putChild('static', new File(root, { directoryListing: true }));
    const html = Buffer.from(fetch(site, '/static/').body, 'latin1').toString('utf8');
    assert.match(html, /<h1>Directory listing for \/static\/<\/h1>/);
  });

  test('showHidden lists dotfiles and dot-directories', () => {
    const texts = links(listing({ showHidden: true })).map(([, text]) => text);
    assert.ok(texts.includes('.git/'));
    assert.ok(texts.includes('.env'));
  });

  test('a broken link is not listed (test_brokenSymlink)', () => {
    assert.ok(!links(listing()).some(([, text]) => text === 'broken'));
  });

  test('a link out of the root is not listed unless followSymlinks; one inside is', () => {
    const texts = links(listing()).map(([, text]) => text);
    assert.ok(!texts.includes('out'));
    assert.ok(texts.includes('in'));
    assert.ok(links(listing({ followSymlinks: true })).some(([, text]) => text === 'out'));
  });

  test('HEAD on a listing sends its headers and no body', () => {
    const file = new File(root, { directoryListing: true });
    const get = fetch(file, '/');
    const head = fetch(file, '/', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.header('content-length'), get.header('content-length'));
  });

  test('a path below the listing answers 404 (test_childrenNotFound)', () => {
    const r = fetch(new File(root, { directoryListing: true }), '//a.html');
    assert.equal(r.status, 404);
  });

  test('an index file wins over the listing', () => {
    tree.file('pub/alpha/index.html', 'alpha index');
    assert.equal(fetch(new File(root, { directoryListing: true }), '/alpha/').body, 'alpha index');
  });
});

test('formatFileSize writes bytes, then whole KiB, MiB and GiB rounded down (test_formatFileSize)', () => {
  assert.equal(formatFileSize(0), '0B');
  assert.equal(formatFileSize(123), '123B');
  assert.equal(formatFileSize(1023), '1023B');
  assert.equal(formatFileSize(1024), '1K');
  assert.equal(formatFileSize(4567), '4K');
  assert.equal(formatFileSize(4567 * 1024), '4M');
  assert.equal(formatFileSize(4 * 1024 ** 3 + 5), '4G');
  assert.equal(formatFileSize(2 * 1024 ** 4), '2048G');
});
