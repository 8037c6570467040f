// HTTP11ClientProtocol under forAllChunkings: a response (its head, its body
// by length, chunked or to the close, a 100 Continue before it, a malformed
// one) gives the same response, body, end and connection state for every
// split of what the server sends as for one read.

import { describe, test } from 'node:test';
import { ConnectionDone } from '../../../src/internet/error.js';
import { Failure } from '../../../src/internet/failure.js';
import type { ITCPTransport } from '../../../src/internet/interfaces.js';
import { forAllChunkings } from '../../../src/testing/chunks.js';
import {
  type StringTransport,
  StringTransportWithDisconnection,
} from '../../../src/testing/string-transport.js';
import { HTTP11ClientProtocol } from '../../../src/web/client/client-protocol.js';
import type { Response } from '../../../src/web/client/response.js';
import { Headers } from '../../../src/web/headers.js';

/** Sends one request as soon as it is connected, and records what follows. */
class Client extends HTTP11ClientProtocol {
  readonly events: string[] = [];

  constructor(
    readonly method: string,
    readonly persistent: boolean,
  ) {
    super(() => this.events.push('quiescent'));
  }

  override makeConnection(transport: ITCPTransport): void {
    super.makeConnection(transport);
    const d = this.request({
      method: this.method,
      target: '/',
      headers: new Headers({ Host: ['example.com'] }),
      persistent: this.persistent,
    });
    d.addCallbacks(
      (response) => {
        this.#read(response);
        return undefined;
      },
      (failure: Failure) => {
        this.events.push(`request failed: ${failure.type?.name}: ${failure.getErrorMessage()}`);
        return undefined;
      },
    );
  }

  #read(response: Response): void {
    this.events.push(
      `response ${response.code} ${response.phrase} ${JSON.stringify([...response.headers])}`,
    );
    const body: string[] = [];
    response.deliverBody({
      makeConnection: () => undefined,
      dataReceived: (data) => {
        body.push(Buffer.from(data).toString('latin1'));
      },
      connectionLost: (reason) => {
        this.events.push(`body ${JSON.stringify(body.join(''))}`);
        this.events.push(`end ${reason.type?.name}`);
      },
    });
  }
}

interface Exchange {
  readonly name: string;
  readonly method?: string;
  readonly persistent?: boolean;
  /** The server closes after sending (the response is read to the close). */
  readonly eof?: boolean;
  readonly response: string;
}

const exchanges: Exchange[] = [
  {
    name: 'a body by Content-Length, and the connection closed by the client',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\n\r\nhello world',
  },
  {
    name: 'a chunked body with extensions and trailers',
    response:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;a=b\r\nwiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n',
  },
  {
    name: 'a 100 Continue, then the response',
    response: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
  },
  {
    name: 'a body read to the close',
    eof: true,
    response: 'HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this, until the end',
  },
  {
    name: 'a persistent connection goes quiescent after the body',
    persistent: true,
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
  },
  {
    name: 'a HEAD response has no body, whatever its Content-Length',
    method: 'HEAD',
    persistent: true,
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n',
  },
  {
    name: 'a malformed status line fails the request',
    response: 'HTTP/1.1 2x0 OK\r\n\r\n',
  },
  {
    name: 'a bad chunk size fails the body',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n',
  },
  {
    name: 'a body cut short by the close',
    eof: true,
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort',
  },
];

function observe(client: Client, transport: StringTransport, eof: boolean): unknown {
  if (eof && transport.connected === true) client.connectionLost(new Failure(new ConnectionDone()));
  return {
    events: client.events,
    state: client.state,
    closing: transport.disconnecting,
    sent: transport.value().toString('latin1'),
  };
}

describe('HTTP11ClientProtocol under every split', () => {
  test('bytes after a persistent response close the connection however they arrive', () => {
    // Only the quiescent notice depends on the split: when the response
    // ends at the end of a read, the connection goes back to its pool
    // before the stray bytes arrive (as it would if they came later); the
    // pool then sees an idle connection close. Everything else is the same.
    forAllChunkings(
      () => new Client('GET', true),
      Buffer.from(
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n',
        'latin1',
      ),
      (client, transport) => ({
        events: client.events.filter((e) => e !== 'quiescent'),
        state: client.state,
        closing: transport.disconnecting,
      }),
      {
        count: 40,
        makeTransport: (protocol) =>
          new StringTransportWithDisconnection({ lenient: true, protocol }),
      },
    );
  });

  for (const exchange of exchanges) {
    test(exchange.name, () => {
      forAllChunkings(
        () => new Client(exchange.method ?? 'GET', exchange.persistent ?? false),
        Buffer.from(exchange.response, 'latin1'),
        (client, transport) => observe(client, transport, exchange.eof === true),
        {
          count: 80,
          seed: 0xc11e,
          makeTransport: (protocol) =>
            new StringTransportWithDisconnection({ lenient: true, protocol }),
        },
      );
    });
  }
});
