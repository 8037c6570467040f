// HTTPChannel under forAllChunkings: pipelined requests with fixed-length and
// chunked bodies, a 100-continue, a malformed request and a streamed body give
// the same responses (byte for byte) and the same requests at the resource
// for every split of what the client sends as for one read.

import { describe, test } from 'node:test';
import { IPv4Address } from '../../../src/internet/address.js';
import { ConnectionDone } from '../../../src/internet/error.js';
import type { IProtocol } from '../../../src/internet/interfaces.js';
import { Clock } from '../../../src/internet/task/clock.js';
import { forAllChunkings } from '../../../src/testing/chunks.js';
import { StringTransportWithDisconnection } from '../../../src/testing/string-transport.js';
import type { HTTPChannel } from '../../../src/web/channel.js';
import type { Request } from '../../../src/web/request.js';
import { NOT_DONE_YET, Resource } from '../../../src/web/resource.js';
import { Site } from '../../../src/web/site.js';

/** Answers every request with what it saw: method, target, Host, body. */
class Echo extends Resource {
  override isLeaf = true;
  readonly seen: string[] = [];

  override render(request: Request): Buffer {
    const body = request.content.read().toString('latin1');
    const line = `${request.method} ${request.uri} host=${request.getHeader('host') ?? ''} body=${body}`;
    this.seen.push(line);
    return Buffer.from(line, 'latin1');
  }
}

/** Streams each body to a reader and answers once it has all arrived. */
class Streaming extends Resource {
  override isLeaf = true;
  override streamsRequestBody = true;
  readonly seen: string[] = [];

  override render(request: Request): typeof NOT_DONE_YET {
    const chunks: string[] = [];
    request.content.deliverBody({
      makeConnection: () => undefined,
      dataReceived: (data) => {
        chunks.push(Buffer.from(data).toString('latin1'));
      },
      connectionLost: (reason) => {
        const line = `${request.method} ${request.uri} body=${chunks.join('')}`;
        this.seen.push(line);
        if (reason.check(ConnectionDone) !== null) {
          request.write(Buffer.from(line, 'latin1'));
          request.finish();
        }
      },
    });
    return NOT_DONE_YET;
  }
}

const resources = new WeakMap<IProtocol, Echo | Streaming>();

function channelFor(make: () => Echo | Streaming): () => HTTPChannel {
  return () => {
    const resource = make();
    const site = new Site(resource, { clock: new Clock(1_000_000_000) });
    site.noisy = false;
    const channel = site.buildProtocol(new IPv4Address('TCP', '192.0.2.7', 40000));
    resources.set(channel, resource);
    return channel;
  };
}

function transportFor(protocol: IProtocol): StringTransportWithDisconnection<IPv4Address> {
  return new StringTransportWithDisconnection<IPv4Address>({
    peerAddress: new IPv4Address('TCP', '192.0.2.7', 40000),
    hostAddress: new IPv4Address('TCP', '192.0.2.1', 8080),
    lenient: true,
    protocol,
  });
}

function check(make: () => Echo | Streaming, input: string, count = 60): void {
  forAllChunkings(
    channelFor(make),
    Buffer.from(input, 'latin1'),
    (channel, transport) => ({
      output: transport.value().toString('latin1'),
      seen: resources.get(channel)?.seen,
      closing: transport.disconnecting,
    }),
    { count, seed: 0xc4a7, makeTransport: transportFor },
  );
}

describe('HTTPChannel under every split', () => {
  test('pipelined requests: a GET, a POST with a body, a chunked PUT, a closing GET', () => {
    check(
      () => new Echo(),
      'GET /a HTTP/1.1\r\nHost: h\r\n\r\n' +
        'POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello' +
        'PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n' +
        'GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' +
        'GET /never HTTP/1.1\r\nHost: h\r\n\r\n',
    );
  });

  test('an HTTP/1.0 request, then the connection closes', () => {
    check(() => new Echo(), 'GET /old HTTP/1.0\r\n\r\nGET /never HTTP/1.0\r\n\r\n');
  });

  test('Expect: 100-continue is answered before the body, whatever the split', () => {
    check(
      () => new Echo(),
      'POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nxyz',
    );
  });

  test('a good request, then a malformed one: the 400 and the close come at the same point', () => {
    check(
      () => new Echo(),
      'GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET /bad HTTP/1.1\r\nBad Header\r\n\r\n',
    );
    check(
      () => new Echo(),
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    );
  });

  test('a streamed chunked body reaches the reader whole', () => {
    check(
      () => new Streaming(),
      'POST /s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '4\r\nwiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\n' +
        'POST /t HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nlast',
    );
  });

  test('a short request under all of its splits', () => {
    check(() => new Echo(), 'GET / HTTP/1.0\r\n\r\n'.slice(0, 12), 0);
  });
});
