// TunnelEnd: two connections spliced, bytes both ways, backpressure and
// half-close passed through; and HTTPChannel._takeOver, which hands a
// server connection (and what the client sent ahead) to a tunnel.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionDone } from '../../../../src/internet/error.js';
import { Failure } from '../../../../src/internet/failure.js';
import { StringTransportWithDisconnection } from '../../../../src/testing/string-transport.js';
import type { TakenOverConnection } from '../../../../src/web/channel.js';
import { TunnelEnd } from '../../../../src/web/proxy/_tunnel.js';
import type { Request } from '../../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../../src/web/resource.js';
import { connect } from '../_server.js';

function spliced(onClosed?: () => void) {
  const [a, b] = TunnelEnd.pair(onClosed);
  const ta = new StringTransportWithDisconnection({ lenient: true, protocol: a });
  const tb = new StringTransportWithDisconnection({ lenient: true, protocol: b });
  a.makeConnection(ta);
  b.makeConnection(tb);
  return { a, b, ta, tb };
}

describe('TunnelEnd', () => {
  test('bytes pass both ways', () => {
    const { a, b, ta, tb } = spliced();
    a.dataReceived(Buffer.from('to b'));
    b.dataReceived(Buffer.from('to a'));
    assert.equal(tb.value().toString(), 'to b');
    assert.equal(ta.value().toString(), 'to a');
  });

  test('each side is the producer of the other: a full side pauses the other', () => {
    const { a, b, ta, tb } = spliced();
    assert.equal(tb.producer, a, "a's reading is paused when b cannot keep up");
    assert.equal(ta.producer, b);
    tb.producer?.pauseProducing();
    assert.equal(ta.producerState, 'paused');
    tb.producer?.resumeProducing();
    assert.equal(ta.producerState, 'producing');
  });

  test('a half-close passes through; when both have finished, both close', () => {
    const { a, b, ta, tb } = spliced();
    a.readConnectionLost();
    assert.equal(tb.writeDisconnecting, true, "b's writing finished");
    assert.equal(tb.connected, true, 'b still sends');
    b.dataReceived(Buffer.from('late answer'));
    assert.equal(ta.value().toString(), 'late answer');
    b.readConnectionLost();
    assert.equal(ta.connected, false);
    assert.equal(tb.connected, false);
  });

  test('a side that closes closes the other; onClosed runs once both have', () => {
    let closed = 0;
    const { a, tb } = spliced(() => closed++);
    a.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(tb.connected, false);
    assert.equal(closed, 1);
  });
});

describe('HTTPChannel._takeOver', () => {
  test('hands over the connection, with the bytes sent ahead, and later bytes', () => {
    const received: string[] = [];
    let taken: TakenOverConnection | undefined;
    let lost = false;
    class Taker extends Resource {
      override isLeaf = true;
      override render(request: Request): typeof NOT_DONE_YET {
        taken = request.channel._takeOver(request, {
          dataReceived: (data) => received.push(Buffer.from(data).toString()),
          readConnectionLost: () => received.push('<eof>'),
          connectionLost: () => {
            lost = true;
          },
        });
        request.transport.write(Buffer.from('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
        return NOT_DONE_YET;
      }
    }
    const c = connect(new Taker());
    c.send('GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nearly');
    assert.equal(c.transport.producerState, 'paused', 'left paused for the new owner');
    c.channel.dataReceived(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    assert.deepEqual(received, [], 'nothing before resume()');
    taken?.resume();
    assert.equal(c.transport.producerState, 'producing');
    c.channel.dataReceived(Buffer.from('more'));
    c.channel.readConnectionLost();
    assert.deepEqual(
      received.join('|'),
      'early|GET / HTTP/1.1\r\n\r\n|more|<eof>',
      'what was sent ahead first, nothing parsed as HTTP',
    );
    assert.equal(c.output(), 'HTTP/1.1 101 Switching Protocols\r\n\r\n');
    c.transport.loseConnection();
    assert.equal(lost, true);
  });

  test('a CONNECT request hands over what followed its head', () => {
    let rest = '';
    class Taker extends Resource {
      override isLeaf = true;
      override render(request: Request): typeof NOT_DONE_YET {
        request.channel
          ._takeOver(request, {
            dataReceived(data) {
              rest += Buffer.from(data).toString('latin1');
            },
            readConnectionLost() {},
            connectionLost() {},
          })
          .resume();
        return NOT_DONE_YET;
      }
    }
    const c = connect(new Taker());
    c.send('CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n\x16\x03\x01hello');
    c.channel.dataReceived(Buffer.from('!'));
    assert.equal(rest, '\x16\x03\x01hello!');
  });

  test('refuses a request with a body still arriving', () => {
    let error: unknown;
    class Taker extends Resource {
      override isLeaf = true;
      override streamsRequestBody = true;
      override render(request: Request): typeof NOT_DONE_YET {
        try {
          request.channel._takeOver(request, {
            dataReceived() {},
            readConnectionLost() {},
            connectionLost() {},
          });
        } catch (e) {
          error = e;
        }
        request.finish();
        return NOT_DONE_YET;
      }
    }
    const c = connect(new Taker());
    c.send('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab');
    assert.match(String(error), /still arriving/);
  });
});
