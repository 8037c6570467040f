// ProxyStatusResource on an in-memory connection: the page with its counters,
// chart, blocked hosts and rules, escaped; the event stream (an update at
// once and on each tick of the Clock, ending when the client goes away or at
// close(), bounded in number, paused with its connection); stats.json; the
// explain form and its errors; and the refusals: non-loopback clients and
// Host names that are not IPs or localhost.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { IPv4Address, IPv6Address, UNIXAddress } from '../../../../src/internet/address.js';
import { ConnectionDone } from '../../../../src/internet/error.js';
import { Failure } from '../../../../src/internet/failure.js';
import type { IPushProducer } from '../../../../src/internet/interfaces.js';
import { Clock } from '../../../../src/internet/task/clock.js';
import { captureLogs } from '../../../../src/logger/capture.js';
import { StringTransportWithDisconnection } from '../../../../src/testing/string-transport.js';
import { HttpParser } from '../../../../src/web/_parser.js';
import type { HTTPChannel } from '../../../../src/web/channel.js';
import { Headers } from '../../../../src/web/headers.js';
import type {
  IProxyRulesView,
  ProxiedRequestInfo,
  ProxyExplanation,
  ProxyRulesSummary,
} from '../../../../src/web/proxy/hooks.js';
import { ProxyStats } from '../../../../src/web/proxy/stats.js';
import {
  isLoopbackAddress,
  type ProxyStatusPayload,
  ProxyStatusResource,
} from '../../../../src/web/proxy/status-page.js';
import type { Request } from '../../../../src/web/request.js';
import { type IResource, Resource } from '../../../../src/web/resource.js';
import { Site } from '../../../../src/web/site.js';
import { parseReplies, type Reply } from '../_server.js';

const T0 = 1_800_000_000;

function info(host = 'example.com'): ProxiedRequestInfo {
  return {
    method: 'GET',
    url: `http://${host}/`,
    scheme: 'http',
    host,
    port: 80,
    path: '/',
    headers: new Headers(),
    clientAddress: new IPv4Address('TCP', '127.0.0.1', 40000),
  };
}

/** A rule set of two rules: line 3 blocks `ads.example`, line 5 strips cookies everywhere. */
class FakeRules implements IProxyRulesView {
  source = '/etc/torsion/rules.txt';
  loadedAt = T0 - 60;
  explained: string[] = [];

  summary(): ProxyRulesSummary {
    return {
      source: this.source,
      loadedAt: this.loadedAt,
      rules: [
        { line: 3, text: 'block ads.example' },
        { line: 5, text: 'strip-cookies * <script>' },
      ],
    };
  }

  explain(url: string): ProxyExplanation {
    this.explained.push(url);
    const parsed = new URL(url); // throws TypeError for a bad URL, as the contract says
    const ads = parsed.hostname === 'ads.example';
    const [block, strip] = this.summary().rules as [
      ProxyRulesSummary['rules'][number],
      ProxyRulesSummary['rules'][number],
    ];
    return {
      url: parsed.href,
      steps: [
        {
          rule: block,
          matched: ads,
          reason: ads ? 'the host is ads.example' : 'the host is not ads.example',
          wins: ads,
        },
        { rule: strip, matched: true, reason: 'every host <matches>', wins: true },
      ],
      verdict: ads ? 'blocked by line 3: block ads.example' : 'passes; cookies stripped by line 5',
    };
  }
}

interface Client {
  readonly channel: HTTPChannel;
  readonly transport: StringTransportWithDisconnection<IPv4Address | IPv6Address | UNIXAddress>;
  /** Sends a GET (or `method`) for `path` with `headers` (Host 127.0.0.1:8080 unless given). */
  request(path: string, headers?: Record<string, string>, method?: string): void;
  /** The complete responses so far. */
  replies(): Reply[];
}

interface Setup {
  /** Every request the site has received, in order. */
  readonly requests: Request[];
  readonly clock: Clock;
  readonly stats: ProxyStats;
  readonly rules: FakeRules;
  readonly status: ProxyStatusResource;
  connect(peer?: IPv4Address | IPv6Address | UNIXAddress): Client;
}

function setup(options: { maxStreams?: number; withRules?: boolean } = {}): Setup {
  const clock = new Clock(T0);
  const stats = new ProxyStats(clock, { window: 120 });
  const rules = new FakeRules();
  const status = new ProxyStatusResource(stats, {
    clock,
    ...(options.withRules === false ? {} : { rules: () => rules }),
    ...(options.maxStreams === undefined ? {} : { maxStreams: options.maxStreams }),
  });
  const root = new Resource();
  root.putChild('_torsion', status);
  const requests: Request[] = [];
  const site = new (class extends Site {
    override getResourceFor(request: Request): IResource {
      requests.push(request);
      return super.getResourceFor(request);
    }
  })(root, { clock, timeout: null, headersTimeout: null });
  site.noisy = false;
  return {
    requests,
    clock,
    stats,
    rules,
    status,
    connect(peer = new IPv4Address('TCP', '127.0.0.1', 40000)) {
      const transport = new StringTransportWithDisconnection<
        IPv4Address | IPv6Address | UNIXAddress
      >({
        peerAddress: peer,
        hostAddress: new IPv4Address('TCP', '127.0.0.1', 8080),
        lenient: true,
      });
      const channel = site.buildProtocol(peer);
      transport.protocol = channel;
      // A UNIX peer on a TCP-typed transport: the channel only reads its address.
      channel.makeConnection(transport as unknown as StringTransportWithDisconnection<IPv4Address>);
      return {
        channel,
        transport,
        request(path, headers = {}, method = 'GET') {
          const all = { Host: '127.0.0.1:8080', ...headers };
          let head = `${method} ${path} HTTP/1.1\r\n`;
          for (const [name, value] of Object.entries(all)) head += `${name}: ${value}\r\n`;
          channel.dataReceived(Buffer.from(`${head}\r\n`, 'latin1'));
        },
        replies() {
          return parseReplies(transport.value());
        },
      };
    },
  };
}

/** Reads an event stream's response as it arrives: its head, and its `data:` messages parsed. */
class StreamReader {
  status = 0;
  headers: [string, string][] = [];
  text = '';
  ended = false;
  #offset = 0;
  readonly #parser = new HttpParser('response', {
    onResponseHead: (head) => {
      this.status = head.status;
      this.headers = head.headers.map(([n, v]) => [n.toLowerCase(), v]);
    },
    onBody: (chunk) => {
      this.text += chunk.toString('utf8');
    },
    onMessageComplete: () => {
      this.ended = true;
    },
    onError: (error) => {
      throw error;
    },
  });

  constructor(
    readonly transport: StringTransportWithDisconnection<IPv4Address | IPv6Address | UNIXAddress>,
  ) {
    this.#parser.expectResponse('GET');
  }

  /** Parses what was written since the last read. */
  read(): this {
    const all = this.transport.value();
    this.#parser.feed(all.subarray(this.#offset));
    this.#offset = all.length;
    return this;
  }

  header(name: string): string | undefined {
    return this.headers.find(([n]) => n === name)?.[1];
  }

  /** The payloads of the `data:` messages so far. */
  messages(): ProxyStatusPayload[] {
    return this.text
      .split('\n\n')
      .filter((block) => block.includes('data: '))
      .map((block) => {
        const line = block.split('\n').find((l) => l.startsWith('data: ')) as string;
        return JSON.parse(line.slice(6)) as ProxyStatusPayload;
      });
  }
}

/** The text of the element with `id` in `html` (its content up to the next tag), unescaped. */
function byId(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m?.[1]?.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function feed(stats: ProxyStats): void {
  stats.connectionOpened();
  for (let i = 0; i < 5; i++) stats.request(info());
  stats.blocked(info('ads.example'), 'rules.txt:3');
  stats.blocked(info('ads.example'), 'rules.txt:3');
  stats.imageBlocked(info('<img>.example'), 'rules.txt:4');
  stats.cookiesStripped(info(), 3);
  stats.upstreamError(info(), 'refused');
}

describe('ProxyStatusResource page', () => {
  test('shows each counter under its id, the chart, the blocked hosts and the rules', () => {
    const s = setup();
    feed(s.stats);
    s.clock.advance(1);
    const c = s.connect();
    c.request('/_torsion/');
    const [reply] = c.replies();
    assert.equal(reply?.status, 200);
    assert.equal(reply.header('content-type'), 'text/html; charset=utf-8');
    const html = reply.body;
    assert.equal(byId(html, 'counter-requests'), '5');
    assert.equal(byId(html, 'counter-blocked-connections'), '2');
    assert.equal(byId(html, 'counter-stripped-cookies'), '3');
    assert.equal(byId(html, 'counter-blocked-images'), '1');
    assert.equal(byId(html, 'counter-upstream-errors'), '1');
    assert.equal(byId(html, 'counter-active-connections'), '1');
    assert.match(html, /<svg id="chart"[^>]*viewBox="0 0 600 120"/);
    const points = /id="chart-line"[^>]*points="([^"]*)"/.exec(html)?.[1]?.split(' ') ?? [];
    assert.equal(points.length, 120, 'a point per second of the window');
    assert.equal(points.at(-1), '600,2', 'the last second, at the peak, at the top right');
    assert.equal(points[0], '0,118', 'a quiet second on the base line');
    assert.equal(byId(html, 'chart-max'), '5');
    assert.match(html, /Requests per second, last 2 minutes/);
    assert.match(
      html,
      /<li><span class="host">ads\.example<\/span> <span class="count">2<\/span><\/li>/,
    );
    assert.equal(byId(html, 'rules-source'), '/etc/torsion/rules.txt');
    assert.equal(byId(html, 'rules-loaded'), new Date((T0 - 60) * 1000).toISOString());
    assert.match(html, /<td class="line">3<\/td><td><code>block ads\.example<\/code>/);
    assert.match(html, /<form id="explain-form" action="explain" method="get">/);
    assert.equal(byId(html, 'live'), 'off (counters as of loading)');
  });

  test('escapes what it shows: host names, rule text and the rules source', () => {
    const s = setup();
    s.rules.source = '/tmp/<b>"rules"</b>';
    s.stats.blocked(info('<script>alert(1)</script>'), 'r');
    const c = s.connect();
    c.request('/_torsion/');
    const html = c.replies()[0]?.body ?? '';
    assert.doesNotMatch(html, /<script>alert/);
    assert.doesNotMatch(html, /<b>"rules"/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /strip-cookies \* &lt;script&gt;/);
    assert.equal(byId(html, 'rules-source'), '/tmp/<b>"rules"</b>'.replaceAll('"', '&quot;'));
    // One script element only: the page's own.
    assert.equal(html.split('<script>').length, 2);
  });

  test('allows only its own inline script and style, by hash, and is never framed or cached', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion/');
    const reply = c.replies()[0] as Reply;
    const csp = reply.header('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    // The hashes are those of the elements' text.
    const script = /<script>([\s\S]*?)<\/script>/.exec(reply.body)?.[1] as string;
    const style = /<style>([\s\S]*?)<\/style>/.exec(reply.body)?.[1] as string;
    const hash = (t: string) => createHash('sha256').update(t, 'utf8').digest('base64');
    assert.ok(csp.includes(`'sha256-${hash(script)}'`));
    assert.ok(csp.includes(`'sha256-${hash(style)}'`));
    assert.equal(reply.header('cache-control'), 'no-store');
    assert.equal(reply.header('x-content-type-options'), 'nosniff');
    assert.equal(reply.header('x-frame-options'), 'DENY');
    assert.doesNotMatch(reply.body, /\s(src|href)="(https?:)?\/\//, 'no external asset');
  });

  test('without rules it says so, and the page still renders', () => {
    const s = setup({ withRules: false });
    const c = s.connect();
    c.request('/_torsion/');
    const reply = c.replies()[0] as Reply;
    assert.equal(reply.status, 200);
    assert.match(byId(reply.body, 'rules-source') ?? '', /No rules are loaded/);
  });

  test('redirects /_torsion to /_torsion/ and answers 404 for other parts', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion');
    c.request('/_torsion/nothing');
    c.request('/_torsion/events/more');
    const [redirect, missing, deeper] = c.replies();
    assert.equal(redirect?.status, 301);
    assert.equal(redirect.header('location'), '/_torsion/');
    assert.equal(missing?.status, 404);
    assert.equal(deeper?.status, 404);
  });

  test('answers other methods than GET and HEAD with 405', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion/', { 'Content-Length': '0' }, 'POST');
    const reply = c.replies()[0] as Reply;
    assert.equal(reply.status, 405);
    assert.equal(reply.header('allow'), 'GET, HEAD');
  });
});

describe('ProxyStatusResource access', () => {
  test('refuses clients that are not on loopback with 403', () => {
    const s = setup();
    for (const peer of [
      new IPv4Address('TCP', '192.168.1.5', 40000),
      new IPv6Address('TCP', 'fe80::1', 40000),
      new IPv6Address('TCP', '::ffff:10.0.0.1', 40000),
    ]) {
      const c = s.connect(peer);
      for (const path of ['/_torsion/', '/_torsion/events', '/_torsion/stats.json']) {
        c.request(path);
      }
      const replies = c.replies();
      assert.deepEqual(
        replies.map((r) => r.status),
        [403, 403, 403],
        peer.host,
      );
      assert.match(replies[0]?.body ?? '', /only clients on this machine/);
      assert.doesNotMatch(replies[2]?.body ?? '', /requests/, 'no statistics leak');
    }
    assert.equal(s.status.openStreams, 0);
  });

  test('serves loopback clients over IPv4, IPv6, IPv4-mapped IPv6 and UNIX sockets', () => {
    const s = setup();
    for (const peer of [
      new IPv4Address('TCP', '127.0.0.1', 40000),
      new IPv4Address('TCP', '127.3.2.1', 40000),
      new IPv6Address('TCP', '::1', 40000),
      new IPv6Address('TCP', '::ffff:127.0.0.1', 40000),
      new UNIXAddress('/run/torsion.sock'),
    ]) {
      const c = s.connect(peer);
      c.request('/_torsion/stats.json');
      assert.equal(c.replies()[0]?.status, 200, String(peer));
    }
  });

  test('answers only under an IP address or a localhost name (DNS rebinding)', () => {
    const s = setup();
    const allowed = [
      '127.0.0.1:8080',
      '127.0.0.1',
      '[::1]:8080',
      '[::1]',
      'localhost',
      'LOCALHOST:8080',
      'proxy.localhost:8080',
      'localhost.',
    ];
    const refused = [
      'evil.example',
      'evil.example:8080',
      'localhost.evil.example',
      'evillocalhost',
      '127.0.0.1.nip.io',
      '[::1',
      '::1',
      '127.0.0.1:99999',
      '127.0.0.1:80x',
      'a..localhost',
    ];
    for (const host of allowed) {
      const c = s.connect();
      c.request('/_torsion/stats.json', { Host: host });
      assert.equal(c.replies()[0]?.status, 200, host);
    }
    for (const host of refused) {
      const c = s.connect();
      c.request('/_torsion/stats.json', { Host: host });
      const reply = c.replies()[0];
      // The server itself may refuse a malformed Host first (400); either way no statistics.
      assert.ok(reply !== undefined && (reply.status === 403 || reply.status === 400), host);
      assert.doesNotMatch(reply.body, /"counters"/, host);
      if (reply.status === 403) assert.match(reply.body, /DNS rebinding/, host);
    }
  });

  test('isLoopbackAddress judges addresses and host strings', () => {
    assert.equal(isLoopbackAddress('127.0.0.1'), true);
    assert.equal(isLoopbackAddress('127.255.0.9'), true);
    assert.equal(isLoopbackAddress('::1'), true);
    assert.equal(isLoopbackAddress('[::1]'), true);
    assert.equal(isLoopbackAddress('0:0:0:0:0:0:0:1'), true);
    assert.equal(isLoopbackAddress('::FFFF:127.0.0.1'), true);
    assert.equal(isLoopbackAddress('localhost'), false, 'a name is not an address');
    assert.equal(isLoopbackAddress('128.0.0.1'), false);
    assert.equal(isLoopbackAddress('::2'), false);
    assert.equal(isLoopbackAddress(new UNIXAddress('/tmp/s')), true);
    assert.equal(isLoopbackAddress(new IPv4Address('TCP', '10.1.1.1', 1)), false);
  });
});

describe('ProxyStatusResource stats.json', () => {
  test('answers the snapshot and the rules summary as JSON', () => {
    const s = setup();
    feed(s.stats);
    s.clock.advance(2.5);
    const c = s.connect();
    c.request('/_torsion/stats.json');
    const reply = c.replies()[0] as Reply;
    assert.equal(reply.status, 200);
    assert.equal(reply.header('content-type'), 'application/json');
    const payload = JSON.parse(reply.body) as ProxyStatusPayload;
    assert.deepEqual(payload, {
      ...s.stats.snapshot(),
      rules: { source: '/etc/torsion/rules.txt', loadedAt: T0 - 60, count: 2 },
    });
    assert.equal(payload.time, T0 + 2.5);
    assert.equal(payload.counters.requests, 5);
  });
});

describe('ProxyStatusResource events', () => {
  test('sends an update at once and another on each tick of the clock', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion/events');
    const stream = new StreamReader(c.transport).read();
    assert.equal(stream.status, 200);
    assert.equal(stream.header('content-type'), 'text/event-stream');
    assert.equal(stream.header('cache-control'), 'no-store');
    assert.equal(stream.header('transfer-encoding'), 'chunked');
    assert.match(stream.text, /^retry: 3000\n/);
    assert.equal(stream.messages().length, 1);
    assert.equal(stream.messages()[0]?.counters.requests, 0);
    assert.equal(s.status.openStreams, 1);

    s.stats.request(info());
    s.stats.request(info());
    s.clock.advance(0.5);
    assert.equal(stream.read().messages().length, 1, 'nothing before the interval');
    s.clock.advance(0.5);
    const second = stream.read().messages();
    assert.equal(second.length, 2);
    assert.equal(second[1]?.counters.requests, 2);
    assert.equal(second[1]?.time, T0 + 1);
    assert.equal(second[1]?.requestsPerSecond.values.at(-1), 2);
    for (let i = 0; i < 3; i++) s.clock.advance(1);
    assert.equal(stream.read().messages().length, 5);
    // A late timer skips the updates it missed rather than bursting them.
    s.clock.advance(10);
    assert.equal(stream.read().messages().length, 6);
    assert.equal(stream.ended, false);

    s.status.close();
    assert.equal(stream.read().ended, true, 'close() ends the response');
    assert.equal(s.status.openStreams, 0);
    assert.deepEqual(s.clock.getDelayedCalls(), [], 'no timer left');
  });

  test('every stream gets the same update, from one timer', () => {
    const s = setup();
    const a = s.connect();
    const b = s.connect();
    a.request('/_torsion/events');
    b.request('/_torsion/events');
    assert.equal(s.clock.getDelayedCalls().length, 1);
    s.stats.blocked(info('ads.example'), 'r');
    s.clock.advance(1);
    const ma = new StreamReader(a.transport).read().messages();
    const mb = new StreamReader(b.transport).read().messages();
    assert.equal(ma.length, 2);
    assert.deepEqual(ma[1], mb[1]);
    assert.deepEqual(ma[1]?.topBlockedHosts, [{ host: 'ads.example', count: 1 }]);
    s.status.close();
  });

  test('a stream ends when its client goes away, and the timer stops with the last one', () => {
    const s = setup();
    const a = s.connect();
    const b = s.connect();
    a.request('/_torsion/events');
    b.request('/_torsion/events');
    assert.equal(s.status.openStreams, 2);
    a.transport.loseConnection();
    assert.equal(s.status.openStreams, 1);
    const before = a.transport.value().length;
    s.clock.advance(1);
    assert.equal(a.transport.value().length, before, 'nothing written to the closed one');
    assert.equal(new StreamReader(b.transport).read().messages().length, 2);
    b.channel.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(s.status.openStreams, 0);
    assert.deepEqual(s.clock.getDelayedCalls(), [], 'the timer stopped');
    // A new stream starts it again.
    const c = s.connect();
    c.request('/_torsion/events');
    assert.equal(s.clock.getDelayedCalls().length, 1);
    s.status.close();
    assert.deepEqual(s.clock.getDelayedCalls(), []);
  });

  test('a client that does not read has its updates skipped until it does', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion/events');
    const producer = c.transport.producer as IPushProducer | undefined;
    assert.ok(producer !== undefined, 'the stream is registered as a push producer');
    assert.equal(c.transport.streaming, true);
    producer.pauseProducing();
    const before = c.transport.value().length;
    s.clock.advance(3);
    assert.equal(c.transport.value().length, before);
    producer.resumeProducing();
    s.stats.request(info());
    s.clock.advance(1);
    const messages = new StreamReader(c.transport).read().messages();
    assert.equal(messages.length, 2, 'the first update, then the one after resuming');
    assert.equal(messages[1]?.counters.requests, 1);
    s.status.close();
    assert.equal(c.transport.producer, undefined, 'unregistered at the end');
  });

  test('a stream whose response ended under it is dropped and logged; the others go on', (t) => {
    const logs = captureLogs();
    t.after(() => logs.stop());
    const s = setup();
    const a = s.connect();
    const b = s.connect();
    a.request('/_torsion/events');
    b.request('/_torsion/events');
    const broken = s.requests[0] as Request;
    broken.unregisterProducer();
    broken.finish();
    s.clock.advance(1);
    assert.equal(s.status.openStreams, 1);
    assert.ok(
      logs.events.some((e) => String(e.log_format).includes('status event stream failed')),
      'logged',
    );
    s.clock.advance(1);
    assert.equal(new StreamReader(b.transport).read().messages().length, 3);
    s.status.close();
  });

  test('at most maxStreams are open; more are answered 503 with Retry-After', () => {
    const s = setup({ maxStreams: 2 });
    const clients = [s.connect(), s.connect(), s.connect()];
    for (const c of clients) c.request('/_torsion/events');
    assert.equal(s.status.openStreams, 2);
    const refused = clients[2]?.replies()[0] as Reply;
    assert.equal(refused.status, 503);
    assert.equal(refused.header('retry-after'), '5');
    assert.match(refused.body, /Too many status event streams are open \(2\)/);
    clients[0]?.transport.loseConnection();
    const again = s.connect();
    again.request('/_torsion/events');
    assert.equal(s.status.openStreams, 2, 'a place freed is taken again');
    s.status.close();
  });

  test('after close() new streams are refused, and the page still renders', () => {
    const s = setup();
    s.status.close();
    const c = s.connect();
    c.request('/_torsion/events');
    c.request('/_torsion/');
    const [events, page] = c.replies();
    assert.equal(events?.status, 503);
    assert.match(events.body, /shutting down/);
    assert.equal(page?.status, 200);
    assert.deepEqual(s.clock.getDelayedCalls(), []);
  });

  test('HEAD gives the stream headers without opening one', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion/events', {}, 'HEAD');
    const reply = parseReplies(c.transport.value(), ['HEAD'])[0] as Reply;
    assert.equal(reply.status, 200);
    assert.equal(reply.header('content-type'), 'text/event-stream');
    assert.equal(s.status.openStreams, 0);
  });

  test('interval and maxStreams are checked', () => {
    const stats = new ProxyStats(new Clock());
    const clock = new Clock();
    assert.throws(
      () => new ProxyStatusResource(stats, { clock, interval: 0 }),
      /interval must be a positive number of seconds, not 0/,
    );
    assert.throws(
      () => new ProxyStatusResource(stats, { clock, maxStreams: 0.5 }),
      /maxStreams must be a positive integer/,
    );
  });
});

describe('ProxyStatusResource explain', () => {
  test('shows the verdict, the rules that match and which wins, with the form filled in', () => {
    const s = setup();
    const c = s.connect();
    c.request(`/_torsion/explain?url=${encodeURIComponent('http://ads.example/x?y=<1>')}`);
    const reply = c.replies()[0] as Reply;
    assert.equal(reply.status, 200);
    assert.deepEqual(s.rules.explained, ['http://ads.example/x?y=<1>']);
    const html = reply.body;
    assert.equal(byId(html, 'explain-verdict'), 'blocked by line 3: block ads.example');
    assert.equal(byId(html, 'explain-url'), 'http://ads.example/x?y=%3C1%3E');
    assert.match(
      html,
      /<tr class="wins"><td class="line">3<\/td><td><code>block ads\.example<\/code><\/td><td>wins<\/td><td>the host is ads\.example<\/td><\/tr>/,
    );
    assert.match(html, /every host &lt;matches&gt;/);
    assert.match(html, /value="http:\/\/ads\.example\/x\?y=&lt;1&gt;"/);
    // The rest of the page is there too: the counters and the live script.
    assert.equal(byId(html, 'counter-requests'), '0');
    assert.match(reply.header('content-security-policy') ?? '', /script-src/);
  });

  test('folds away the rules that do not match', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion/explain?url=http%3A%2F%2Fnews.example%2F');
    const html = c.replies()[0]?.body ?? '';
    assert.equal(byId(html, 'explain-verdict'), 'passes; cookies stripped by line 5');
    assert.match(html, /<details><summary>1 rule does not match<\/summary>/);
  });

  test('a URL the rules cannot parse gets 400 and the reason', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion/explain?url=not%20a%20url');
    const reply = c.replies()[0] as Reply;
    assert.equal(reply.status, 400);
    assert.match(
      byId(reply.body, 'explain-error') ?? '',
      /^This URL cannot be explained: .*Invalid URL/,
    );
    assert.equal(byId(reply.body, 'explain-verdict'), undefined);
  });

  test('no URL gets 400 and an example', () => {
    const s = setup();
    const c = s.connect();
    c.request('/_torsion/explain');
    c.request('/_torsion/explain?url=%20');
    for (const reply of c.replies()) {
      assert.equal(reply.status, 400);
      assert.match(byId(reply.body, 'explain-error') ?? '', /Give a URL to explain/);
    }
    assert.deepEqual(s.rules.explained, []);
  });

  test('without rules it answers 503 saying none are loaded', () => {
    const s = setup({ withRules: false });
    const c = s.connect();
    c.request('/_torsion/explain?url=http%3A%2F%2Fa.example%2F');
    const reply = c.replies()[0] as Reply;
    assert.equal(reply.status, 503);
    assert.match(byId(reply.body, 'explain-error') ?? '', /No rules are loaded/);
  });

  test('rules that fail otherwise give 500 with a generic message, and are logged', (t) => {
    const logs = captureLogs();
    t.after(() => logs.stop());
    const clock = new Clock(T0);
    const broken: IProxyRulesView = {
      summary: () => ({ source: 'x', loadedAt: 0, rules: [] }),
      explain: () => {
        throw new Error('secret internals');
      },
    };
    const status = new ProxyStatusResource(new ProxyStats(clock), { clock, rules: broken });
    const root = new Resource();
    root.putChild('_torsion', status);
    const site = new Site(root, { clock, timeout: null, headersTimeout: null });
    const transport = new StringTransportWithDisconnection<IPv4Address>({
      peerAddress: new IPv4Address('TCP', '127.0.0.1', 1),
      lenient: true,
    });
    const channel = site.buildProtocol(transport.getPeer());
    transport.protocol = channel;
    channel.makeConnection(transport);
    channel.dataReceived(
      Buffer.from('GET /_torsion/explain?url=http://a/ HTTP/1.1\r\nHost: localhost\r\n\r\n'),
    );
    const reply = parseReplies(transport.value())[0] as Reply;
    assert.equal(reply.status, 500);
    assert.match(reply.body, /failed to explain this URL; the error has been logged/);
    assert.doesNotMatch(reply.body, /secret internals/);
    assert.ok(logs.events.some((e) => String(e.log_format).includes('failed to explain')));
  });
});
