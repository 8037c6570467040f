// HTTPChannel's timeouts on a Clock: idle between requests, a request head
// that trickles (408), a stalled body, and the abort after a timed-out close.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../src/web/resource.js';
import { connect, describeSplits } from './_server.js';

class Hello extends Resource {
  override isLeaf = true;
  render_GET(): string {
    return 'hi';
  }
  render_POST(request: Request): string {
    return `got ${request.content.read().length}`;
  }
}

const GET = 'GET / HTTP/1.1\r\nHost: h\r\n\r\n';

describeSplits('HTTPChannel timeouts', () => {
  test('an idle connection closes after `timeout`; a request resets the wait', () => {
    const c = connect(new Hello(), { timeout: 10 });
    c.clock.advance(9);
    c.send(GET);
    c.clock.advance(9);
    assert.equal(c.transport.disconnecting, false);
    c.clock.advance(1);
    assert.equal(c.transport.disconnecting, true);
    assert.equal(c.replies().length, 1, 'nothing is written for an idle close');
  });

  test('no idle timeout while a response is being produced', () => {
    let pending: Request | undefined;
    class Slow extends Resource {
      override isLeaf = true;
      render_GET(request: Request): typeof NOT_DONE_YET {
        pending = request;
        return NOT_DONE_YET;
      }
    }
    const c = connect(new Slow(), { timeout: 10 });
    c.send(GET);
    c.clock.advance(100);
    assert.equal(c.transport.disconnecting, false);
    pending?.finish();
    c.clock.advance(10);
    assert.equal(c.transport.disconnecting, true);
  });

  test('a head trickling in slower than `headersTimeout` gets 408 and the close, however often bytes come', () => {
    const c = connect(new Hello(), { timeout: 10, headersTimeout: 5 });
    const head = Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nX-Long: aaaaaaaaaaaaaaaaaaaa\r\n');
    for (let i = 0; i < head.length && !c.transport.disconnecting; i++) {
      c.send(head.subarray(i, i + 1));
      c.clock.advance(0.5);
    }
    const [reply] = c.replies();
    assert.equal(reply?.status, 408);
    assert.equal(reply?.header('connection'), 'close');
    assert.equal(c.transport.disconnecting, true);
    assert.equal(c.clock.seconds() - 1_000_000_000, 5);
  });

  test('the head timeout counts from the first byte of each request, not from the connection', () => {
    const c = connect(new Hello(), { timeout: 100, headersTimeout: 5 });
    for (let i = 0; i < 5; i++) {
      c.clock.advance(4);
      c.send(GET);
    }
    assert.equal(c.replies().length, 5);
    assert.equal(c.transport.disconnecting, false);
  });

  test('a body that stops arriving for `timeout` gets 408 and the close', () => {
    const c = connect(new Hello(), { timeout: 10 });
    c.send('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc');
    c.clock.advance(9);
    c.send('def');
    c.clock.advance(9);
    assert.equal(c.transport.disconnecting, false);
    c.clock.advance(1);
    const [reply] = c.replies(['POST']);
    assert.equal(reply?.status, 408);
    assert.equal(c.transport.disconnecting, true);
  });

  test('a connection closed by a timeout is aborted `abortTimeout` later if still open', () => {
    const c = connect(new Hello(), { timeout: 10, abortTimeout: 3 });
    let aborted = false;
    c.transport.abortConnection = () => {
      aborted = true;
    };
    // The peer does not close: the transport stays connected after loseConnection.
    c.transport.loseConnection = () => {
      c.transport.disconnecting = true;
    };
    c.clock.advance(10);
    assert.equal(c.transport.disconnecting, true);
    c.clock.advance(2.9);
    assert.equal(aborted, false);
    c.clock.advance(0.1);
    assert.equal(aborted, true);
  });

  test('null timeouts schedule nothing', () => {
    const c = connect(new Hello(), { timeout: null, headersTimeout: null });
    c.send('GET / HTTP/1.1\r\n');
    assert.deepEqual(c.clock.getDelayedCalls(), []);
  });

  test('nothing stays scheduled once the connection is lost', () => {
    const c = connect(new Hello());
    c.send('GET / HTTP/1.1\r\n');
    assert.ok(c.clock.getDelayedCalls().length > 0);
    c.transport.loseConnection();
    assert.deepEqual(c.clock.getDelayedCalls(), []);
  });
});
