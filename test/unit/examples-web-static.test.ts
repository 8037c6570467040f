// The static file server example (examples/web-static.ts) on a
// MemoryReactorClock: it listens where asked, serves the directory's files,
// lists its directories, honours ranges, logs each request, and refuses a
// directory that does not exist.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { captureLogs } from 'torsion/logger';
import { MemoryReactorClock, StringTransportWithDisconnection } from 'torsion/testing';
import type { Site } from 'torsion/web';
import { UsageError } from '../../examples/_cli.js';
import { main } from '../../examples/web-static.js';
import { parseReplies, type Reply } from './web/_server.js';

const dir = mkdtempSync(join(tmpdir(), 'torsion-web-static-example-'));
writeFileSync(join(dir, 'hello.txt'), 'hello from disk\n');
mkdirSync(join(dir, 'docs'));
writeFileSync(join(dir, 'docs', 'guide.md'), '# Guide\n');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Sends `requests` (raw) on a new connection to the site the example listens with. */
function exchange(reactor: MemoryReactorClock, requests: string, methods: string[] = []): Reply[] {
  const [, factory] = reactor.tcpServers[0] ?? [];
  const site = factory as Site;
  const transport = new StringTransportWithDisconnection();
  const channel = site.buildProtocol(transport.getPeer());
  transport.protocol = channel;
  channel.makeConnection(transport);
  channel.dataReceived(Buffer.from(requests, 'latin1'));
  // The example's site runs on the reactor's clock; its idle timeout is the only call left.
  for (let i = 0; i < 1000 && transport.producer !== undefined; i++) reactor.advance(0);
  return parseReplies(transport.value(), methods);
}

const GET = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;

describe('the static file server example', () => {
  test('listens on the port and interface given, 8080 by default', () => {
    const reactor = new MemoryReactorClock();
    main(reactor, { directory: dir, port: 9090, interface: '127.0.0.1' });
    const [port, , , iface] = reactor.tcpServers[0] ?? [];
    assert.equal(port, 9090);
    assert.equal(iface, '127.0.0.1');
    const defaults = new MemoryReactorClock();
    main(defaults, { directory: dir });
    assert.equal(defaults.tcpServers[0]?.[0], 8080);
  });

  test('serves a file of the directory with its type and length', () => {
    const reactor = new MemoryReactorClock();
    main(reactor, { directory: dir, port: 0 });
    const [r] = exchange(reactor, GET('/hello.txt'));
    assert.equal(r?.status, 200);
    assert.equal(r?.body, 'hello from disk\n');
    assert.equal(r?.header('content-type'), 'text/plain; charset=utf-8');
    assert.equal(r?.header('content-length'), '16');
  });

  test('lists a directory without an index, and redirects it without its slash', () => {
    const reactor = new MemoryReactorClock();
    main(reactor, { directory: dir, port: 0 });
    const [listing, redirect] = exchange(reactor, GET('/') + GET('/docs'));
    assert.equal(listing?.status, 200);
    assert.match(listing?.body ?? '', /<a href="docs\/">docs\/<\/a>/);
    assert.match(listing?.body ?? '', /<a href="hello.txt">hello.txt<\/a>/);
    assert.equal(redirect?.status, 301);
    assert.equal(redirect?.header('location'), '/docs/');
  });

  test('answers a range request with 206', () => {
    const reactor = new MemoryReactorClock();
    main(reactor, { directory: dir, port: 0 });
    const [r] = exchange(reactor, GET('/hello.txt', 'Range: bytes=0-4\r\n'));
    assert.equal(r?.status, 206);
    assert.equal(r?.body, 'hello');
    assert.equal(r?.header('content-range'), 'bytes 0-4/16');
  });

  test('logs each request in Combined Log Format', () => {
    const reactor = new MemoryReactorClock();
    main(reactor, { directory: dir, port: 0 });
    const logs = captureLogs();
    try {
      exchange(reactor, GET('/hello.txt'));
    } finally {
      logs.stop();
    }
    const lines = logs.events
      .filter((e) => e.log_namespace === 'torsion.web.access')
      .map((e) => String(e.log_line));
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /"GET \/hello.txt HTTP\/1.1" 200 16 "-" "-"$/);
  });

  test('refuses a directory that does not exist, or a file, with a UsageError', () => {
    const reactor = new MemoryReactorClock();
    assert.throws(() => main(reactor, { directory: join(dir, 'missing') }), UsageError);
    assert.throws(() => main(reactor, { directory: join(dir, 'hello.txt') }), UsageError);
    assert.equal(reactor.tcpServers.length, 0);
  });
});
