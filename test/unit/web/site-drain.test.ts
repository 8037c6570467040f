// Site.drain on StringTransports: idle connections close at once, requests in
// flight are answered (the last with Connection: close) before their
// connection closes, a late NOT_DONE_YET response is waited for, and the
// Deferred fires when the last connection is gone.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from '../../../src/internet/address.js';
import { Clock } from '../../../src/internet/task/clock.js';
import { assertNoResult, successResultOf } from '../../../src/testing/deferred-asserts.js';
import {
  StringTransport,
  StringTransportWithDisconnection,
} from '../../../src/testing/string-transport.js';
import type { HTTPChannel } from '../../../src/web/channel.js';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../src/web/resource.js';
import { Site } from '../../../src/web/site.js';
import { parseReplies } from './_server.js';

/** Answers `/fast/...` at once; holds every other request until the test answers it. */
class Slow extends Resource {
  override isLeaf = true;
  readonly held: Request[] = [];
  render_GET(request: Request): string | typeof NOT_DONE_YET {
    if (request.path.startsWith('/fast')) return `fast ${request.path}`;
    this.held.push(request);
    return NOT_DONE_YET;
  }
  render_POST(request: Request): string {
    return `got ${request.content.read().toString('latin1')}`;
  }
}

const GET = (path = '/', extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: example.com\r\n${extra}\r\n`;

interface Conn {
  readonly channel: HTTPChannel;
  readonly transport: StringTransport<IPv4Address>;
  send(text: string): void;
  replies(methods?: readonly string[]): ReturnType<typeof parseReplies>;
}

function newSite(resource: Resource, options: { maxPipelinedRequests?: number } = {}) {
  const clock = new Clock(1_000_000_000);
  const site = new Site(resource, { clock, ...options });
  site.noisy = false;
  return { site, clock };
}

/**
 * A connection to `site`. By default its transport tells the channel at
 * once when it is closed; with `manual`, the test calls `connectionLost`.
 */
function open(site: Site, manual = false): Conn {
  const options = {
    peerAddress: new IPv4Address('TCP', '192.0.2.7', 40000),
    hostAddress: new IPv4Address('TCP', '192.0.2.1', 8080),
    lenient: true,
  };
  const transport = manual
    ? new StringTransport<IPv4Address>(options)
    : new StringTransportWithDisconnection<IPv4Address>(options);
  const channel = site.buildProtocol(transport.getPeer());
  if (transport instanceof StringTransportWithDisconnection) transport.protocol = channel;
  channel.makeConnection(transport);
  return {
    channel,
    transport,
    send: (text) => channel.dataReceived(Buffer.from(text, 'latin1')),
    replies: (methods) => parseReplies(transport.value(), methods),
  };
}

describe('Site.drain', () => {
  test('with no connections, fires at once', () => {
    const { site } = newSite(new Slow());
    assert.equal(successResultOf(site.drain()), undefined);
  });

  test('an idle keep-alive connection is closed at once', () => {
    const { site } = newSite(new Slow());
    const c = open(site);
    c.send(GET('/fast/1'));
    assert.equal(c.replies()[0]?.header('connection'), undefined);
    assert.equal(c.transport.disconnecting, false);
    const drained = site.drain();
    assert.equal(c.transport.disconnecting, true);
    assert.equal(successResultOf(drained), undefined);
  });

  test('a connection that has sent nothing, or half a request head, is closed at once', () => {
    const { site } = newSite(new Slow());
    const quiet = open(site);
    const partial = open(site);
    partial.send('GET /fast/x HTTP/1.1\r\nHo');
    successResultOf(site.drain());
    assert.equal(quiet.transport.disconnecting, true);
    assert.equal(partial.transport.disconnecting, true);
    assert.equal(partial.transport.value().length, 0);
  });

  test('a request in flight is answered with Connection: close, then the connection closes', () => {
    const resource = new Slow();
    const { site } = newSite(resource);
    const c = open(site);
    c.send(GET('/slow'));
    const drained = site.drain();
    assert.equal(c.transport.disconnecting, false);
    assertNoResult(drained);
    const request = resource.held[0] as Request;
    request.write(Buffer.from('done'));
    request.finish();
    const [reply, ...more] = c.replies();
    assert.equal(more.length, 0);
    assert.equal(reply?.body, 'done');
    assert.equal(reply?.header('connection'), 'close');
    assert.equal(c.transport.disconnecting, true);
    assert.equal(successResultOf(drained), undefined);
  });

  test('a NOT_DONE_YET response already under way is waited for, however long, then closed', () => {
    const resource = new Slow();
    const { site, clock } = newSite(resource);
    const c = open(site);
    c.send(GET('/stream'));
    const request = resource.held[0] as Request;
    request.write(Buffer.from('part 1;')); // the head goes out now, saying keep-alive
    clock.callLater(120, () => {
      request.write(Buffer.from('part 2'));
      request.finish();
    });
    const drained = site.drain();
    clock.advance(119);
    assertNoResult(drained);
    assert.equal(c.transport.disconnecting, false, 'no idle timeout cuts a draining response');
    clock.advance(1);
    const [reply] = c.replies();
    assert.equal(reply?.body, 'part 1;part 2');
    assert.equal(c.transport.disconnecting, true);
    assert.equal(successResultOf(drained), undefined);
  });

  test('pipelined requests already parsed are answered in order; those not yet parsed are dropped', () => {
    const resource = new Slow();
    const { site } = newSite(resource, { maxPipelinedRequests: 2 });
    const c = open(site);
    // The first holds the line; two more are parsed behind it, the fourth waits unparsed.
    c.send(GET('/slow') + GET('/fast/2') + GET('/fast/3') + GET('/fast/4'));
    assert.equal(c.channel.pendingRequests, 3);
    const drained = site.drain();
    c.send(GET('/fast/5')); // arrives after the drain began: never read
    const request = resource.held[0] as Request;
    request.write(Buffer.from('first'));
    request.finish();
    const replies = c.replies();
    assert.deepEqual(
      replies.map((r) => r.body),
      ['first', 'fast /fast/2', 'fast /fast/3'],
    );
    assert.deepEqual(
      replies.map((r) => r.header('connection')),
      [undefined, undefined, 'close'],
    );
    assert.equal(c.transport.disconnecting, true);
    assert.equal(successResultOf(drained), undefined);
  });

  test('a request whose body is still arriving is read, answered with Connection: close, and closed', () => {
    const { site } = newSite(new Slow());
    const c = open(site);
    c.send('POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\n\r\nhello');
    const drained = site.drain();
    assertNoResult(drained);
    c.send(' body');
    const [reply] = c.replies();
    assert.equal(reply?.body, 'got hello body');
    assert.equal(reply?.header('connection'), 'close');
    assert.equal(successResultOf(drained), undefined);
  });

  test('a pipelined request with a body, held behind the one answered, is read and answered last', () => {
    const resource = new Slow();
    const { site } = newSite(resource);
    const c = open(site);
    c.send(
      `${GET('/slow')}POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nbody`,
    );
    assert.equal(c.channel.pendingRequests, 2);
    const drained = site.drain();
    (resource.held[0] as Request).finish();
    const replies = c.replies(['GET', 'POST']);
    assert.deepEqual(
      replies.map((r) => [r.body, r.header('connection')]),
      [
        ['', undefined],
        ['got body', 'close'],
      ],
    );
    assert.equal(successResultOf(drained), undefined);
  });

  test('an HTTP/1.0 keep-alive request in flight is answered with Connection: close', () => {
    const resource = new Slow();
    const { site } = newSite(resource);
    const c = open(site);
    c.send('GET /slow HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const drained = site.drain();
    (resource.held[0] as Request).finish();
    assert.equal(c.replies()[0]?.header('connection'), 'close');
    assert.equal(successResultOf(drained), undefined);
  });

  test('fires only when the last of several connections has closed', () => {
    const resource = new Slow();
    const { site } = newSite(resource);
    const idle = open(site);
    const busy1 = open(site);
    const busy2 = open(site);
    busy1.send(GET('/a'));
    busy2.send(GET('/b'));
    const drained = site.drain();
    assert.equal(idle.transport.disconnecting, true);
    (resource.held[0] as Request).finish();
    assert.equal(busy1.transport.disconnecting, true);
    assertNoResult(drained);
    (resource.held[1] as Request).finish();
    assert.equal(busy2.transport.disconnecting, true);
    assert.equal(successResultOf(drained), undefined);
  });

  test('waits for the connections to be lost, not only told to close', () => {
    const { site } = newSite(new Slow());
    const c = open(site, true);
    const drained = site.drain();
    assert.equal(c.transport.disconnecting, true);
    assertNoResult(drained);
    c.channel.connectionLost();
    assert.equal(successResultOf(drained), undefined);
  });

  test('a client that goes away mid-response ends its part of the drain', () => {
    const resource = new Slow();
    const { site } = newSite(resource);
    const c = open(site, true);
    c.send(GET('/slow'));
    const drained = site.drain();
    assertNoResult(drained);
    c.channel.connectionLost();
    assert.equal(successResultOf(drained), undefined);
  });

  test('is idempotent: a second call fires with the first', () => {
    const resource = new Slow();
    const { site } = newSite(resource);
    const c = open(site);
    c.send(GET('/slow'));
    const first = site.drain();
    const second = site.drain();
    assertNoResult(first);
    assertNoResult(second);
    (resource.held[0] as Request).finish();
    assert.equal(successResultOf(first), undefined);
    assert.equal(successResultOf(second), undefined);
    assert.equal(c.replies().length, 1);
    assert.equal(successResultOf(site.drain()), undefined);
  });

  test('a connection made during a drain is closed at once; after the drain, the site serves again', () => {
    const resource = new Slow();
    const { site } = newSite(resource);
    const busy = open(site);
    busy.send(GET('/slow'));
    const drained = site.drain();
    const late = open(site);
    assert.equal(late.transport.disconnecting, true);
    assert.equal(late.transport.value().length, 0);
    (resource.held[0] as Request).finish();
    successResultOf(drained);
    const again = open(site);
    again.send(GET('/fast/again'));
    assert.equal(again.replies()[0]?.body, 'fast /fast/again');
    assert.equal(again.transport.disconnecting, false);
  });
});
