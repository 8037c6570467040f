// Finger stage 10 (docs/tutorial/finger.md): the finger server that answers
// from web pages, run against Sites in memory through a real Agent: the
// page's text for a user, "Internal error in server" for a page that is
// missing or a server that refuses, where it listens, and a prefix that is
// no URL refused at start.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from 'torsion/protocol';
import { StringTransport, successResultOf } from 'torsion/testing';
import { InvalidURIError, NoResource, Resource } from 'torsion/web';
import { FingerFactory, main } from '../../examples/finger/finger10.js';
import { leaf, MemoryWeb } from '../helpers/memory-web.js';

/** Asks `factory` about `user` over a StringTransport; returns what was written and whether it hung up. */
function finger(web: MemoryWeb, factory: FingerFactory, user: string): [string, boolean] {
  const protocol = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 5555));
  assert.ok(protocol !== null);
  const transport = new StringTransport();
  protocol.makeConnection(transport);
  protocol.dataReceived(Buffer.from(`${user}\r\n`));
  web.flush();
  return [Buffer.from(transport.value()).toString('utf8'), transport.disconnecting];
}

/** A web server with a page per user under `/~`. */
function userPages(web: MemoryWeb): void {
  const root = new Resource();
  root.putChild(
    '~moshez',
    leaf(() => 'Happy and well\n'),
  );
  root.putChild(
    '~ada lovelace',
    leaf(() => 'Computing\n'),
  );
  web.serve('web.test', 80, root);
}

describe('finger, stage 10: answers from the web', () => {
  test("a user's page, trimmed, is the answer; then the server hangs up", () => {
    const web = new MemoryWeb();
    userPages(web);
    const factory = new FingerFactory('http://web.test/~', web.agent());
    assert.deepEqual(finger(web, factory, 'moshez'), ['Happy and well\r\n', true]);
    assert.deepEqual(web.connects, ['web.test:80']);
  });

  test('the user name is percent-encoded into the URL', () => {
    const web = new MemoryWeb();
    userPages(web);
    const factory = new FingerFactory('http://web.test/~', web.agent());
    assert.deepEqual(finger(web, factory, 'ada lovelace'), ['Computing\r\n', true]);
  });

  test('a missing page (404) is an internal error', () => {
    const web = new MemoryWeb();
    userPages(web);
    const factory = new FingerFactory('http://web.test/~', web.agent());
    assert.deepEqual(finger(web, factory, 'nobody'), ['Internal error in server\r\n', true]);
  });

  test('a web server that refuses is an internal error', () => {
    const web = new MemoryWeb();
    web.serve('other.test', 80, new NoResource());
    const factory = new FingerFactory('http://web.test/~', web.agent());
    assert.deepEqual(finger(web, factory, 'moshez'), ['Internal error in server\r\n', true]);
  });

  test('listens on TCP port 1079 by default, or where its endpoint says', () => {
    const web = new MemoryWeb();
    successResultOf(main(web.reactor, web.agent()));
    successResultOf(main(web.reactor, web.agent(), { endpoint: 'tcp:0:interface=127.0.0.1' }));
    assert.deepEqual(
      web.reactor.tcpServers.map(([port, , , iface]) => [port, iface]),
      [
        [1079, ''],
        [0, '127.0.0.1'],
      ],
    );
  });

  test('a prefix that is no URL is refused at start', () => {
    const web = new MemoryWeb();
    assert.throws(() => main(web.reactor, web.agent(), { prefix: 'web.test/~' }), InvalidURIError);
    assert.equal(web.reactor.tcpServers.length, 0);
  });
});
