// RulesFilter: block pages, CONNECT refusals, images blocked by request and
// by response, cookies stripped (all, third-party, allow-listed), header
// edits, Referer trimming, statistics, and rules swapped under it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPv4Address } from '../../../../src/internet/address.js';
import { Headers } from '../../../../src/web/headers.js';
import type {
  IProxyStats,
  ProxiedRequestInfo,
  ProxiedResponseInfo,
  ProxyAnswer,
} from '../../../../src/web/proxy/hooks.js';
import { Rules } from '../../../../src/web/proxy/rules.js';
import { RulesFilter } from '../../../../src/web/proxy/rules-filter.js';

/** A request for `url` as a proxy would hand it to its filter. */
function request(
  url: string,
  headers: Readonly<Record<string, readonly string[]>> = {},
  method = 'GET',
): ProxiedRequestInfo {
  const u = new URL(url);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  return {
    method,
    url,
    scheme,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port),
    path: method === 'CONNECT' ? '' : `${u.pathname}${u.search}`,
    headers: new Headers(headers),
    clientAddress: new IPv4Address('TCP', '127.0.0.1', 50000),
  };
}

/** A CONNECT to `host:port`. */
function connect(host: string, port = 443): ProxiedRequestInfo {
  return request(`https://${host}:${port}/`, {}, 'CONNECT');
}

/** A response with `headers`. */
function response(headers: Record<string, string[]> = {}, code = 200): ProxiedResponseInfo {
  return { code, headers: new Headers(headers) };
}

/** Statistics that record each call. */
class RecordingStats implements IProxyStats {
  readonly calls: string[] = [];
  connectionOpened(): void {
    this.calls.push('opened');
  }
  connectionClosed(): void {
    this.calls.push('closed');
  }
  request(r: ProxiedRequestInfo): void {
    this.calls.push(`request ${r.url}`);
  }
  blocked(r: ProxiedRequestInfo, rule: string): void {
    this.calls.push(`blocked ${r.url} ${rule}`);
  }
  imageBlocked(r: ProxiedRequestInfo, rule: string): void {
    this.calls.push(`image ${r.url} ${rule}`);
  }
  cookiesStripped(r: ProxiedRequestInfo, count: number): void {
    this.calls.push(`cookies ${r.url} ${count}`);
  }
  upstreamError(r: ProxiedRequestInfo, reason: string): void {
    this.calls.push(`upstream ${r.url} ${reason}`);
  }
}

/** A filter of `text` (source `test.rules`) with recording statistics. */
function setup(text: string): { filter: RulesFilter; stats: RecordingStats } {
  const stats = new RecordingStats();
  return { filter: new RulesFilter(Rules.parse(text, 'test.rules'), { stats }), stats };
}

/** An answer's body as text. */
function bodyText(answer: ProxyAnswer | undefined): string {
  assert.ok(answer !== undefined, 'an answer');
  return typeof answer.body === 'string'
    ? answer.body
    : Buffer.from(answer.body).toString('latin1');
}

/** The answer's header `name`, or undefined. */
function header(answer: ProxyAnswer | undefined, name: string): string | undefined {
  return answer?.headers?.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

describe('RulesFilter: blocking', () => {
  test('a blocked host gets a 403 page naming the rule (file and line) and the URL', () => {
    const { filter, stats } = setup('# ads\nblock .example.com\n');
    const r = request('http://ads.example.com/x?a=<b>');
    const answer = filter.filterRequest(r);
    assert.equal(answer?.code, 403);
    assert.equal(answer?.phrase, 'Forbidden');
    assert.equal(header(answer, 'Content-Type'), 'text/html; charset=utf-8');
    assert.equal(header(answer, 'Cache-Control'), 'no-store');
    const body = bodyText(answer);
    assert.match(body, /test\.rules:2/);
    assert.match(body, /block \.example\.com/);
    assert.match(body, /http:\/\/ads\.example\.com\/x\?a=&lt;b&gt;/, 'the URL, escaped');
    assert.deepEqual(stats.calls, ['blocked http://ads.example.com/x?a=<b> test.rules:2']);
  });

  test('a CONNECT to a blocked host is refused the same way', () => {
    const { filter, stats } = setup('block *:25\nblock .example.com:443\n');
    const answer = filter.filterRequest(connect('www.example.com'));
    assert.equal(answer?.code, 403);
    assert.match(bodyText(answer), /test\.rules:2/);
    assert.deepEqual(stats.calls, ['blocked https://www.example.com:443/ test.rules:2']);
    assert.equal(filter.filterRequest(connect('www.example.org')), undefined);
  });

  test('an allowed request passes with its headers untouched', () => {
    const { filter, stats } = setup('block .example.com\nallow www.example.com\n');
    const r = request('http://www.example.com/', { Cookie: ['a=1'], Referer: ['http://x.org/p'] });
    assert.equal(filter.filterRequest(r), undefined);
    assert.deepEqual(
      [...r.headers],
      [
        ['Cookie', ['a=1']],
        ['Referer', ['http://x.org/p']],
      ],
    );
    assert.equal(filter.filterResponse(r, response({ 'Set-Cookie': ['b=2'] })), undefined);
    assert.deepEqual(stats.calls, []);
  });

  test('a CONNECT that is not blocked is left alone: no other rule applies to a tunnel', () => {
    const { filter } = setup('strip-cookies *\nblock-images *\nset-header * User-Agent X\n');
    const r = connect('example.com');
    r.headers.addRawHeader('Cookie', 'a=1');
    assert.equal(filter.filterRequest(r), undefined);
    assert.deepEqual(r.headers.getRawHeaders('Cookie'), ['a=1']);
    assert.equal(r.headers.hasHeader('User-Agent'), false);
  });
});

describe('RulesFilter: images', () => {
  const rules = 'block-images .example.com\nallow-images logo.example.com\n';

  for (const [what, url, headers] of [
    ['Sec-Fetch-Dest: image', 'http://a.example.com/pic', { 'Sec-Fetch-Dest': ['image'] }],
    ['an Accept of image/*', 'http://a.example.com/pic', { Accept: ['image/avif,image/webp,*/*'] }],
    ['an image extension', 'http://a.example.com/p/pic.JPEG?size=2', {}],
  ] as const) {
    test(`a request recognised by ${what} is answered with a transparent GIF`, () => {
      const { filter, stats } = setup(rules);
      const r = request(url, { ...headers });
      const answer = filter.filterRequest(r);
      assert.equal(answer?.code, 200);
      assert.equal(header(answer, 'Content-Type'), 'image/gif');
      const gif = answer?.body as Uint8Array;
      assert.equal(Buffer.from(gif.subarray(0, 6)).toString('latin1'), 'GIF89a');
      assert.deepEqual([gif[6], gif[8]], [1, 1], '1×1');
      assert.equal(gif.length, 43);
      assert.equal(gif[gif.length - 1], 0x3b, 'the trailer');
      assert.deepEqual(stats.calls, [`image ${url} test.rules:1`]);
    });
  }

  test('with option image-answer 403 a blocked image gets a 403 naming the rule', () => {
    const { filter } = setup(`${rules}option image-answer 403\n`);
    const answer = filter.filterRequest(request('http://a.example.com/a.png'));
    assert.equal(answer?.code, 403);
    assert.match(bodyText(answer), /test\.rules:1: block-images \.example\.com/);
  });

  test('images are not blocked on an allow-images host, nor where no rule says so', () => {
    const { filter, stats } = setup(rules);
    assert.equal(filter.filterRequest(request('http://logo.example.com/a.png')), undefined);
    assert.equal(filter.filterRequest(request('http://other.org/a.png')), undefined);
    assert.deepEqual(stats.calls, []);
  });

  test('a page on a block-images host is not an image', () => {
    const { filter } = setup(rules);
    const r = request('http://a.example.com/index.html', {
      Accept: ['text/html,image/webp'],
      'Sec-Fetch-Dest': ['document'],
    });
    assert.equal(filter.filterRequest(r), undefined);
    assert.equal(filter.filterResponse(r, response({ 'Content-Type': ['text/html'] })), undefined);
  });

  test('a response with Content-Type image/* is replaced, and counted once', () => {
    const { filter, stats } = setup(rules);
    const r = request('http://a.example.com/render?id=3');
    assert.equal(filter.filterRequest(r), undefined);
    const answer = filter.filterResponse(r, response({ 'Content-Type': [' Image/PNG'] }));
    assert.equal(answer?.code, 200);
    assert.equal(header(answer, 'Content-Type'), 'image/gif');
    assert.deepEqual(stats.calls, ['image http://a.example.com/render?id=3 test.rules:1']);
  });

  test('each GIF answer is its own copy', () => {
    const { filter } = setup(rules);
    const a = filter.filterRequest(request('http://a.example.com/1.gif'))?.body as Uint8Array;
    a[0] = 0;
    const b = filter.filterRequest(request('http://a.example.com/2.gif'))?.body as Uint8Array;
    assert.equal(b[0], 0x47);
  });
});

describe('RulesFilter: cookies', () => {
  test('strip-cookies removes Cookie from the request and Set-Cookie from the response, counted', () => {
    const { filter, stats } = setup('strip-cookies .tracker.net\n');
    const r = request('http://t.tracker.net/', { Cookie: ['a=1', 'b=2'], Accept: ['*/*'] });
    assert.equal(filter.filterRequest(r), undefined);
    assert.equal(r.headers.hasHeader('Cookie'), false);
    assert.equal(r.headers.hasHeader('Accept'), true);
    const res = response({ 'Set-Cookie': ['x=1', 'y=2', 'z=3'], 'Content-Type': ['text/html'] });
    assert.equal(filter.filterResponse(r, res), undefined);
    assert.equal(res.headers.hasHeader('Set-Cookie'), false);
    assert.deepEqual(stats.calls, [
      'cookies http://t.tracker.net/ 2',
      'cookies http://t.tracker.net/ 3',
    ]);
  });

  test('keep-cookies is the allow-list after strip-cookies', () => {
    const { filter } = setup('strip-cookies *\nkeep-cookies .example.com\n');
    const kept = request('http://www.example.com/', { Cookie: ['a=1'] });
    filter.filterRequest(kept);
    assert.deepEqual(kept.headers.getRawHeaders('Cookie'), ['a=1']);
    const res = response({ 'Set-Cookie': ['s=1'] });
    filter.filterResponse(kept, res);
    assert.deepEqual(res.headers.getRawHeaders('Set-Cookie'), ['s=1']);
    const stripped = request('http://other.org/', { Cookie: ['a=1'] });
    filter.filterRequest(stripped);
    assert.equal(stripped.headers.hasHeader('Cookie'), false);
  });

  test('nothing is counted when there was no cookie to strip', () => {
    const { filter, stats } = setup('strip-cookies *\n');
    const r = request('http://a.org/');
    filter.filterRequest(r);
    filter.filterResponse(r, response());
    assert.deepEqual(stats.calls, []);
  });

  test('strip-third-party-cookies strips when Sec-Fetch-Site is cross-site, keeps same-site', () => {
    const { filter } = setup('strip-third-party-cookies *\n');
    const cross = request('http://cdn.tracker.net/p', {
      Cookie: ['a=1'],
      'Sec-Fetch-Site': ['cross-site'],
      Referer: ['http://cdn.tracker.net/'],
    });
    filter.filterRequest(cross);
    assert.equal(cross.headers.hasHeader('Cookie'), false, 'Sec-Fetch-Site wins over Referer');
    for (const site of ['same-site', 'same-origin', 'none']) {
      const r = request('http://www.example.com/', {
        Cookie: ['a=1'],
        'Sec-Fetch-Site': [site],
        Referer: ['http://other.org/'],
      });
      filter.filterRequest(r);
      assert.deepEqual(r.headers.getRawHeaders('Cookie'), ['a=1'], site);
    }
  });

  test("without Sec-Fetch-Site, the Referer's site decides; no Referer is first-party", () => {
    const { filter } = setup('strip-third-party-cookies *\n');
    const third = request('http://pixel.tracker.net/p.gif', {
      Cookie: ['a=1'],
      Referer: ['https://news.example.co.uk/story'],
    });
    filter.filterRequest(third);
    assert.equal(third.headers.hasHeader('Cookie'), false);
    const first = request('http://img.example.co.uk/a', {
      Cookie: ['a=1'],
      Referer: ['https://news.example.co.uk/story'],
    });
    filter.filterRequest(first);
    assert.deepEqual(first.headers.getRawHeaders('Cookie'), ['a=1']);
    const typed = request('http://tracker.net/', { Cookie: ['a=1'] });
    filter.filterRequest(typed);
    assert.deepEqual(typed.headers.getRawHeaders('Cookie'), ['a=1']);
  });

  test("a third party's Set-Cookie is stripped even after trim-referer removed its Referer", () => {
    const { filter, stats } = setup('strip-third-party-cookies *\ntrim-referer *\n');
    const r = request('http://pixel.tracker.net/p', { Referer: ['https://example.com/page'] });
    filter.filterRequest(r);
    assert.equal(r.headers.hasHeader('Referer'), false);
    const res = response({ 'Set-Cookie': ['id=1'] });
    filter.filterResponse(r, res);
    assert.equal(res.headers.hasHeader('Set-Cookie'), false);
    assert.deepEqual(stats.calls, ['cookies http://pixel.tracker.net/p 1']);
  });

  test('each request keeps its own decision until its response, however many are pending', () => {
    const { filter } = setup('strip-third-party-cookies *\ntrim-referer *\n');
    const third = () =>
      request('http://pixel.tracker.net/p', { Referer: ['https://example.com/page'] });
    const pending = Array.from({ length: 5000 }, third);
    for (const r of pending) filter.filterRequest(r);
    // The Referer is gone from each, yet each response loses its cookies as
    // a third party's: the oldest as well as the latest.
    for (const r of [pending[0], pending[4999]] as ProxiedRequestInfo[]) {
      const res = response({ 'Set-Cookie': ['id=1'] });
      filter.filterResponse(r, res);
      assert.equal(res.headers.hasHeader('Set-Cookie'), false);
    }
  });

  test('a frozen request info object keeps its decision too', () => {
    const { filter } = setup('strip-third-party-cookies *\ntrim-referer *\n');
    const r = Object.freeze(
      request('http://pixel.tracker.net/p', { Referer: ['https://example.com/page'] }),
    );
    filter.filterRequest(r);
    assert.equal(r.headers.hasHeader('Referer'), false);
    const res = response({ 'Set-Cookie': ['id=1'] });
    filter.filterResponse(r, res);
    assert.equal(res.headers.hasHeader('Set-Cookie'), false);
  });

  test('a response whose request the filter did not see is still judged by the rules', () => {
    const { filter } = setup('strip-cookies *\n');
    const res = response({ 'Set-Cookie': ['id=1'] });
    filter.filterResponse(request('http://a.org/'), res);
    assert.equal(res.headers.hasHeader('Set-Cookie'), false);
  });
});

describe('RulesFilter: headers and Referer', () => {
  test('strip-header removes a header; set-header replaces every value with one', () => {
    const { filter } = setup(
      'strip-header * X-Client-Data\nset-header * User-Agent Mozilla/5.0 (X11; Linux)\nkeep-header .example.com x-client-data\n',
    );
    const r = request('http://a.org/', {
      'x-client-data': ['abc'],
      'User-Agent': ['curl/8', 'extra'],
    });
    filter.filterRequest(r);
    assert.equal(r.headers.hasHeader('X-Client-Data'), false);
    assert.deepEqual(r.headers.getRawHeaders('user-agent'), ['Mozilla/5.0 (X11; Linux)']);
    const kept = request('http://www.example.com/', { 'X-Client-Data': ['abc'] });
    filter.filterRequest(kept);
    assert.deepEqual(kept.headers.getRawHeaders('X-Client-Data'), ['abc']);
  });

  test('set-header adds a header the request did not have', () => {
    const { filter } = setup('set-header * DNT 1\n');
    const r = request('http://a.org/');
    filter.filterRequest(r);
    assert.deepEqual(r.headers.getRawHeaders('DNT'), ['1']);
  });

  test('trim-referer reduces a same-site Referer to its origin and removes a cross-site one', () => {
    const { filter } = setup('trim-referer *\nkeep-referer kept.org\n');
    const same = request('http://img.example.com/a', {
      Referer: ['https://www.example.com:8443/private/page?q=secret'],
    });
    filter.filterRequest(same);
    assert.deepEqual(same.headers.getRawHeaders('Referer'), ['https://www.example.com:8443/']);
    const cross = request('http://other.org/a', { Referer: ['https://www.example.com/page'] });
    filter.filterRequest(cross);
    assert.equal(cross.headers.hasHeader('Referer'), false);
    const junk = request('http://other.org/a', { Referer: ['not a url'] });
    filter.filterRequest(junk);
    assert.equal(junk.headers.hasHeader('Referer'), false);
    const kept = request('http://kept.org/a', { Referer: ['https://www.example.com/page'] });
    filter.filterRequest(kept);
    assert.deepEqual(kept.headers.getRawHeaders('Referer'), ['https://www.example.com/page']);
  });
});

describe('RulesFilter: rules given as a function', () => {
  test('asks for the rules at each request, so a new set takes effect at once', () => {
    let rules = Rules.parse('block a.org');
    const filter = new RulesFilter(() => rules);
    assert.equal(filter.filterRequest(request('http://a.org/'))?.code, 403);
    rules = Rules.parse('allow *');
    assert.equal(filter.filterRequest(request('http://a.org/')), undefined);
  });

  test('works without statistics', () => {
    const filter = new RulesFilter(Rules.parse('block a.org\nstrip-cookies *\nblock-images *'));
    assert.equal(filter.filterRequest(request('http://a.org/'))?.code, 403);
    const r = request('http://b.org/', { Cookie: ['a=1'] });
    assert.equal(filter.filterRequest(r), undefined);
    assert.equal(filter.filterRequest(request('http://b.org/i.png'))?.code, 200);
  });
});
