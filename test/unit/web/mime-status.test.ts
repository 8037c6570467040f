// Reason phrases (RFC 9110 §15 and the registered extras) and media types by
// file extension, with their charset on textual types.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MIME_TYPES, mimeTypeFor } from '../../../src/web/_mime.js';
import { reasonPhrase } from '../../../src/web/_status.js';

describe('reasonPhrase', () => {
  test("gives RFC 9110's phrases, including its renamings of 413, 416 and 422", () => {
    const expected: [number, string][] = [
      [100, 'Continue'],
      [101, 'Switching Protocols'],
      [200, 'OK'],
      [203, 'Non-Authoritative Information'],
      [204, 'No Content'],
      [206, 'Partial Content'],
      [301, 'Moved Permanently'],
      [302, 'Found'],
      [304, 'Not Modified'],
      [307, 'Temporary Redirect'],
      [308, 'Permanent Redirect'],
      [400, 'Bad Request'],
      [404, 'Not Found'],
      [405, 'Method Not Allowed'],
      [408, 'Request Timeout'],
      [412, 'Precondition Failed'],
      [413, 'Content Too Large'],
      [414, 'URI Too Long'],
      [416, 'Range Not Satisfiable'],
      [417, 'Expectation Failed'],
      [421, 'Misdirected Request'],
      [422, 'Unprocessable Content'],
      [426, 'Upgrade Required'],
      [500, 'Internal Server Error'],
      [501, 'Not Implemented'],
      [505, 'HTTP Version Not Supported'],
    ];
    for (const [code, phrase] of expected) assert.equal(reasonPhrase(code), phrase, String(code));
  });

  test('gives the common registered extras', () => {
    const expected: [number, string][] = [
      [102, 'Processing'],
      [103, 'Early Hints'],
      [207, 'Multi-Status'],
      [208, 'Already Reported'],
      [226, 'IM Used'],
      [423, 'Locked'],
      [424, 'Failed Dependency'],
      [425, 'Too Early'],
      [428, 'Precondition Required'],
      [429, 'Too Many Requests'],
      [431, 'Request Header Fields Too Large'],
      [451, 'Unavailable For Legal Reasons'],
      [506, 'Variant Also Negotiates'],
      [507, 'Insufficient Storage'],
      [508, 'Loop Detected'],
      [510, 'Not Extended'],
      [511, 'Network Authentication Required'],
    ];
    for (const [code, phrase] of expected) assert.equal(reasonPhrase(code), phrase, String(code));
  });

  test("says 'Unknown Status' for any other code, including unregistered 418 and 509", () => {
    for (const code of [0, 99, 199, 306, 418, 499, 509, 599, 600, 999, -1, 200.5, Number.NaN]) {
      assert.equal(reasonPhrase(code), 'Unknown Status', String(code));
    }
  });

  test('every phrase it knows is non-empty printable ASCII, fit for a status line', () => {
    for (let code = 100; code < 600; code++) {
      assert.match(reasonPhrase(code), /^[\x20-\x7e]+$/);
    }
  });
});

describe('mimeTypeFor', () => {
  test('gives text types with charset=utf-8 and binary types without', () => {
    const expected: [string, string][] = [
      ['index.html', 'text/html; charset=utf-8'],
      ['index.htm', 'text/html; charset=utf-8'],
      ['style.css', 'text/css; charset=utf-8'],
      ['app.js', 'text/javascript; charset=utf-8'],
      ['app.mjs', 'text/javascript; charset=utf-8'],
      ['data.json', 'application/json; charset=utf-8'],
      ['app.js.map', 'application/json; charset=utf-8'],
      ['site.webmanifest', 'application/manifest+json; charset=utf-8'],
      ['notes.txt', 'text/plain; charset=utf-8'],
      ['table.csv', 'text/csv; charset=utf-8'],
      ['README.md', 'text/markdown; charset=utf-8'],
      ['feed.xml', 'application/xml; charset=utf-8'],
      ['logo.svg', 'image/svg+xml; charset=utf-8'],
      ['feed.rss', 'application/rss+xml; charset=utf-8'],
      ['feed.atom', 'application/atom+xml; charset=utf-8'],
      ['config.yaml', 'application/yaml; charset=utf-8'],
      ['config.yml', 'application/yaml; charset=utf-8'],
      ['Cargo.toml', 'application/toml; charset=utf-8'],
      ['cal.ics', 'text/calendar; charset=utf-8'],
      ['card.vcf', 'text/vcard; charset=utf-8'],
      ['photo.png', 'image/png'],
      ['photo.jpg', 'image/jpeg'],
      ['photo.jpeg', 'image/jpeg'],
      ['anim.gif', 'image/gif'],
      ['photo.webp', 'image/webp'],
      ['photo.avif', 'image/avif'],
      ['favicon.ico', 'image/x-icon'],
      ['scan.tiff', 'image/tiff'],
      ['font.woff2', 'font/woff2'],
      ['font.ttf', 'font/ttf'],
      ['doc.pdf', 'application/pdf'],
      ['archive.zip', 'application/zip'],
      ['archive.tar.gz', 'application/gzip'],
      ['archive.7z', 'application/x-7z-compressed'],
      ['module.wasm', 'application/wasm'],
      ['song.mp3', 'audio/mpeg'],
      ['clip.mp4', 'video/mp4'],
      ['clip.webm', 'video/webm'],
      ['sound.ogg', 'audio/ogg'],
      ['report.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
      ['sheet.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      ['blob.bin', 'application/octet-stream'],
    ];
    for (const [name, type] of expected) assert.equal(mimeTypeFor(name), type, name);
  });

  test('compares extensions without regard to case and looks only at the last segment', () => {
    assert.equal(mimeTypeFor('INDEX.HTML'), 'text/html; charset=utf-8');
    assert.equal(mimeTypeFor('Photo.JpG'), 'image/jpeg');
    assert.equal(mimeTypeFor('/var/www/site.d/index.html'), 'text/html; charset=utf-8');
    assert.equal(mimeTypeFor('C:\\site\\img\\a.png'), 'image/png');
    assert.equal(mimeTypeFor('/var/www/site.d/README'), undefined);
  });

  test('gives undefined for unknown extensions, names without one, and dotfiles', () => {
    for (const name of [
      '',
      'README',
      'file.',
      'file.unknownext',
      '.bashrc',
      '.png',
      'dir/.html',
      'a.constructor',
      'a.__proto__',
    ]) {
      assert.equal(mimeTypeFor(name), undefined, name);
    }
  });

  test('every type in the table is type/subtype, with charset=utf-8 exactly on the textual ones', () => {
    assert.ok(MIME_TYPES.size >= 80, `${MIME_TYPES.size} extensions`);
    for (const [ext, type] of MIME_TYPES) {
      assert.match(ext, /^[a-z0-9]+$/);
      assert.equal(mimeTypeFor(`f.${ext}`), type);
      assert.match(type, /^[a-z]+\/[a-z0-9.+-]+(; charset=utf-8)?$/, ext);
      const textual = /^text\/|[/+]json|[/+]xml|yaml|toml/.test(type);
      assert.equal(type.endsWith('; charset=utf-8'), textual, ext);
    }
  });
});
