// Test support for the HTTP server: a Site's channel on a StringTransport, fed
// bytes whole, byte by byte or at seeded random splits, and its output parsed
// back into responses with Torsion's own parser (response direction).

import { before, describe } from 'node:test';
import { IPv4Address } from '../../../src/internet/address.js';
import { Clock } from '../../../src/internet/task/clock.js';
import { StringTransportWithDisconnection } from '../../../src/testing/string-transport.js';
import { HttpParser, type RawHeaderList } from '../../../src/web/_parser.js';
import type { HTTPChannel } from '../../../src/web/channel.js';
import type { IResource } from '../../../src/web/resource.js';
import { Site, type SiteOptions } from '../../../src/web/site.js';

/** One response as the client reads it. */
export interface Reply {
  readonly status: number;
  readonly reason: string;
  readonly headers: RawHeaderList;
  readonly body: string;
  /** The last value of a header (case-insensitive). */
  header(name: string): string | undefined;
}

export interface Connection {
  readonly site: Site;
  readonly clock: Clock;
  readonly channel: HTTPChannel;
  readonly transport: StringTransportWithDisconnection<IPv4Address>;
  /** Feeds bytes (latin1 for a string) to the channel, split as the enclosing `describeSplits` says. */
  send(data: string | Buffer): void;
  /** The responses written so far, parsed; `methods` are the requests' methods in order (GET by default). */
  replies(methods?: readonly string[]): Reply[];
  /** All bytes written so far, latin1. */
  output(): string;
}

/** How `send` delivers bytes: in one read, one byte per read, or at seeded random splits. */
export type Split = 'whole' | 'bytes' | 'random';

let split: Split = 'whole';
let seed = 0x5eed;

/**
 * Declares the suite `body` three times, once per way of splitting what the
 * tests send, so that every request test also runs byte by byte and at
 * random splits (seeded: a failure replays).
 */
export function describeSplits(name: string, body: () => void): void {
  const labels: Record<Split, string> = {
    whole: 'one read',
    bytes: 'byte by byte',
    random: 'random splits',
  };
  for (const mode of ['whole', 'bytes', 'random'] as const) {
    describe(`${name} (${labels[mode]})`, () => {
      before(() => {
        split = mode;
        seed = 0x5eed;
      });
      body();
    });
  }
}

/** A seeded generator of integers in [1, max] (mulberry32). */
function nextSize(max: number): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return 1 + Math.floor(r * max);
}

/** A connection to a new Site over `resource`, with a Clock (start 1e9 s) unless `options.clock` is given. */
export function connect(resource: IResource, options: SiteOptions = {}): Connection {
  const clock = (options.clock as Clock | undefined) ?? new Clock(1_000_000_000);
  const site = new Site(resource, { ...options, clock });
  site.noisy = false;
  const transport = new StringTransportWithDisconnection<IPv4Address>({
    peerAddress: new IPv4Address('TCP', '192.0.2.7', 40000),
    hostAddress: new IPv4Address('TCP', '192.0.2.1', 8080),
    lenient: true,
  });
  const channel = site.buildProtocol(transport.getPeer());
  transport.protocol = channel;
  channel.makeConnection(transport);
  return {
    site,
    clock,
    channel,
    transport,
    send(data) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      if (split === 'whole' || bytes.length <= 1) {
        channel.dataReceived(bytes);
        return;
      }
      for (let i = 0; i < bytes.length; ) {
        const n = split === 'bytes' ? 1 : nextSize(Math.min(bytes.length - i, 64));
        channel.dataReceived(bytes.subarray(i, i + n));
        i += n;
      }
    },
    replies(methods = []) {
      return parseReplies(transport.value(), methods);
    },
    output() {
      return transport.value().toString('latin1');
    },
  };
}

/** Parses every complete response in `bytes` (1xx included); throws on a malformed one. */
export function parseReplies(bytes: Buffer, methods: readonly string[] = []): Reply[] {
  const replies: Reply[] = [];
  let current:
    | { status: number; reason: string; headers: RawHeaderList; body: Buffer[] }
    | undefined;
  const parser = new HttpParser('response', {
    onResponseHead(head) {
      current = { status: head.status, reason: head.reason, headers: head.headers, body: [] };
      if (head.status >= 100 && head.status < 200) {
        replies.push(reply(current));
        current = undefined;
      }
    },
    onBody(chunk) {
      current?.body.push(Buffer.from(chunk));
    },
    onMessageComplete() {
      if (current !== undefined) replies.push(reply(current));
      current = undefined;
    },
    onError(error) {
      throw new Error(`malformed response: ${error.message}\n${bytes.toString('latin1')}`);
    },
  });
  for (let i = 0; i < Math.max(methods.length, 64); i++) parser.expectResponse(methods[i] ?? 'GET');
  parser.feed(bytes);
  return replies;
}

function reply(r: {
  status: number;
  reason: string;
  headers: RawHeaderList;
  body: Buffer[];
}): Reply {
  return {
    status: r.status,
    reason: r.reason,
    headers: r.headers,
    body: Buffer.concat(r.body).toString('latin1'),
    header(name) {
      const values = r.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase());
      return values[values.length - 1]?.[1];
    },
  };
}
