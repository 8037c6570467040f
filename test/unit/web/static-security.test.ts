// File keeps every request inside its root: `..` and `.` segments, encoded
// slashes, backslashes and NUL, and symbolic links leading outside are
// refused, and nothing from outside the root ever reaches the client. Ports
// Twisted's test_securityViolationNotFound, and goes further.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { File } from '../../../src/web/static.js';
import { fetch, makeTree, open, pump } from './_static-fixture.js';

const tree = makeTree();
after(() => tree.remove());

const SECRET = 'TOP-SECRET-CONTENT';
let root: string;

before(() => {
  // <tmp>/public is served; <tmp>/secret.txt, <tmp>/private/ and
  // <tmp>/public-evil/ (a sibling whose name starts like the root's) are not.
  root = tree.mkdir('public');
  tree.file('public/ok.txt', 'fine');
  tree.file('public/sub/inner.txt', 'inner');
  tree.file('public/.hidden', 'dotfile');
  tree.file('secret.txt', SECRET);
  tree.file('private/key.txt', SECRET);
  tree.file('public-evil/x.txt', SECRET);
  tree.symlink('public/out-file', `${tree.dir}/secret.txt`);
  tree.symlink('public/out-dir', `${tree.dir}/private`);
  tree.symlink('public/out-relative', '../secret.txt');
  tree.symlink('public/out-sibling', '../public-evil');
  tree.symlink('public/in-file', 'ok.txt');
  tree.symlink('public/in-dir', 'sub');
  tree.symlink('public/sub/up-and-in', '../ok.txt');
  tree.symlink('public/dangling', `${tree.dir}/nowhere`);
});

/** Requests `target` (raw, as on the request line) and checks the secret did not leak. */
function attempt(target: string, options = {}): number {
  const r = fetch(new File(root, options), target);
  assert.doesNotMatch(r.body, new RegExp(SECRET), `${target} leaked the secret`);
  return r.status;
}

describe('File refusing path segments that leave the directory', () => {
  const cases: Array<[string, string]> = [
    ['/../secret.txt', 'a literal ..'],
    ['/sub/../../secret.txt', 'a literal .. below a directory'],
    ['/%2e%2e/secret.txt', 'an encoded ..'],
    ['/%2E%2e/secret.txt', 'an encoded .. in mixed case'],
    ['/.%2e/secret.txt', 'half encoded ..'],
    ['/..%2fsecret.txt', '.. and an encoded slash'],
    ['/..%2Fsecret.txt', '.. and an encoded slash, upper case'],
    ['/sub%2f..%2f..%2fsecret.txt', 'encoded slashes all along'],
    ['/..%5csecret.txt', '.. and an encoded backslash'],
    ['/..\\secret.txt', '.. and a raw backslash'],
    ['/sub%5cinner.txt', 'an encoded backslash between names'],
    ['/ok.txt%00', 'an encoded NUL after the name'],
    ['/ok.txt%00.html', 'an encoded NUL before an extension'],
    ['/%00', 'a lone NUL'],
    ['/./ok.txt', 'a literal .'],
    ['/%2e/ok.txt', 'an encoded .'],
  ];
  for (const [target, what] of cases) {
    test(`${what} answers 404: ${target}`, () => {
      assert.equal(attempt(target), 404);
    });
  }

  test('the same segments are refused by getChild directly (test_securityViolationNotFound)', () => {
    const file = new File(root);
    for (const segment of ['..', '.', '../secret.txt', 'a\\b', 'ok.txt\0', '/etc']) {
      const child = file.getChild(segment, undefined as never);
      assert.equal(child instanceof File, false, JSON.stringify(segment));
    }
  });

  test('an absolute-form target cannot smuggle a path either', () => {
    assert.equal(attempt('http://example.com/%2e%2e/secret.txt'), 404);
  });

  test('names that only look like dots are ordinary files', () => {
    tree.file('public/...', 'three dots');
    tree.file('public/..x', 'dot dot x');
    assert.equal(fetch(new File(root), '/...').body, 'three dots');
    assert.equal(fetch(new File(root), '/..x').body, 'dot dot x');
  });
});

describe('File and symbolic links', () => {
  test('a link to a file outside the root answers 403', () => {
    assert.equal(attempt('/out-file'), 403);
    assert.equal(attempt('/out-relative'), 403);
  });

  test('a link to a directory outside the root answers 403, for the directory and below it', () => {
    assert.equal(attempt('/out-dir'), 403);
    assert.equal(attempt('/out-dir/'), 403);
    assert.equal(attempt('/out-dir/key.txt'), 403);
  });

  test("a sibling directory whose name starts like the root's is outside it", () => {
    assert.equal(attempt('/out-sibling/x.txt'), 403);
  });

  test('links that stay inside the root are followed', () => {
    assert.equal(fetch(new File(root), '/in-file').body, 'fine');
    assert.equal(fetch(new File(root), '/in-dir/inner.txt').body, 'inner');
    assert.equal(fetch(new File(root), '/sub/up-and-in').body, 'fine');
  });

  test('a dangling link answers 404', () => {
    assert.equal(attempt('/dangling'), 404);
  });

  test('followSymlinks: true lets links lead anywhere', () => {
    const r = fetch(new File(root, { followSymlinks: true }), '/out-file');
    assert.equal(r.status, 200);
    assert.equal(r.body, SECRET);
    assert.equal(fetch(new File(root, { followSymlinks: true }), '/out-dir/key.txt').body, SECRET);
  });

  test('an index file that is a link outside the root answers 403', () => {
    tree.mkdir('public/linked-index');
    tree.symlink('public/linked-index/index.html', `${tree.dir}/secret.txt`);
    assert.equal(attempt('/linked-index/'), 403);
  });

  test('a root given through a link is served from where the link leads', () => {
    const link = tree.symlink('public-link', root);
    assert.equal(fetch(new File(link), '/ok.txt').body, 'fine');
    assert.equal(fetch(new File(link), '/sub/inner.txt').body, 'inner');
    assert.equal(fetch(new File(link), '/out-file').status, 403);
  });
});

test('dotfiles are served by name (Twisted does; the listing hides them)', () => {
  assert.equal(fetch(new File(root), '/.hidden').body, 'dotfile');
});

test('a request path that is nothing but dots and slashes never leaves the root', () => {
  const c = open(new File(root));
  for (const target of ['/..', '/../', '/../..', '/.../..', '//..', '/%2e%2e%2f%2e%2e%2f']) {
    c.send(`GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`);
  }
  pump(c);
  for (const r of c.replies()) {
    assert.notEqual(r.status, 200);
    assert.doesNotMatch(r.body, new RegExp(SECRET));
  }
});
