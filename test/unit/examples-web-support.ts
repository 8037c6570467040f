// Test support for the web examples: the Site an example listens with,
// fetched from a MemoryReactorClock, sent raw requests over a
// StringTransport (whole or in chunks), and its responses parsed back with
// the server's tests' parser.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { type IProtocolFactory, IPv4Address } from 'torsion/protocol';
import {
  assertReactorClean,
  deliverInChunks,
  MemoryReactorClock,
  StringTransportWithDisconnection,
} from 'torsion/testing';
import { parseReplies, type Reply } from './web/_server.js';

export type { Reply } from './web/_server.js';

/**
 * A MemoryReactorClock shut down after the test as a real reactor would be:
 * the shutdown triggers run and the ports stop listening. Nothing else may
 * be left behind (no connection's timer, no service's re-read).
 */
export function reactorFor(t: TestContext): MemoryReactorClock {
  const reactor = new MemoryReactorClock();
  t.after(() => {
    reactor.fireSystemEvent('shutdown');
    for (const port of reactor.ports) port.stopListening();
    assertReactorClean(reactor);
  });
  return reactor;
}

/** The factory of the `index`th listenTCP call. */
export function tcpFactory(reactor: MemoryReactorClock, index = 0): IProtocolFactory {
  const record = reactor.tcpServers[index];
  assert.ok(record, `no listenTCP call #${index}`);
  return record[1];
}

/** One connection to a site: what it was sent, in chunks, and what it answered. */
export interface Exchange {
  readonly transport: StringTransportWithDisconnection<IPv4Address>;
  /** The responses, parsed; `methods` are the requests' methods in order (GET by default). */
  replies(methods?: readonly string[]): Reply[];
  /** Everything written back, latin1. */
  output(): string;
  /** Closes the connection (the channel cancels its timers). */
  close(): void;
}

/** Opens a connection to `site` and sends `raw` (latin1) in `size`-byte chunks. */
export function open(site: IProtocolFactory, raw: string, size = Infinity): Exchange {
  const transport = new StringTransportWithDisconnection<IPv4Address>({
    peerAddress: new IPv4Address('TCP', '192.0.2.7', 40000),
    hostAddress: new IPv4Address('TCP', '192.0.2.1', 8080),
    lenient: true,
  });
  const channel = site.buildProtocol(transport.getPeer());
  assert.ok(channel, 'the site refused the connection');
  transport.protocol = channel;
  channel.makeConnection(transport);
  deliverInChunks(channel, Buffer.from(raw, 'latin1'), size);
  return {
    transport,
    replies: (methods) => parseReplies(transport.value(), methods),
    output: () => transport.value().toString('latin1'),
    close: () => {
      if (transport.connected) transport.loseConnection();
    },
  };
}

/**
 * Lets promise callbacks run: a render function's Promise or Deferred is
 * answered through `then`, a microtask after it settles.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Sends `raw` on a new connection, lets the answers settle, closes it, and returns the responses. */
export async function exchange(
  site: IProtocolFactory,
  raw: string,
  size = Infinity,
  methods?: readonly string[],
): Promise<Reply[]> {
  const connection = open(site, raw, size);
  try {
    await settle();
    return connection.replies(methods);
  } finally {
    connection.close();
  }
}

/** The one response to `raw`. */
export async function fetchOne(
  site: IProtocolFactory,
  raw: string,
  size = Infinity,
  method = 'GET',
): Promise<Reply> {
  const replies = await exchange(site, raw, size, [method]);
  assert.equal(replies.length, 1, `expected one response, got ${replies.length}`);
  return replies[0] as Reply;
}

/** A GET request for `target`, with `headers` (each a "Name: value" line). */
export function get(target: string, ...headers: string[]): string {
  return [`GET ${target} HTTP/1.1`, 'Host: example.com', ...headers, '', ''].join('\r\n');
}

/** A POST of an urlencoded form (`fields` already encoded) to `target`. */
export function postForm(target: string, body: string, ...headers: string[]): string {
  return [
    `POST ${target} HTTP/1.1`,
    'Host: example.com',
    'Content-Type: application/x-www-form-urlencoded',
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
    ...headers,
    '',
    body,
  ].join('\r\n');
}
