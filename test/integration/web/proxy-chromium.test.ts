// The filtering proxy with a real browser: headless Chromium, its proxy set
// to a FilteringProxyFactory on 127.0.0.1, visits a test site on 127.0.0.1
// with an image and a cookie, and a host the rules block (127.0.0.2). The
// image arrives as the 1×1 GIF (and the site never sees its request), the
// cookie never reaches the browser nor comes back (checked on the server
// side), the blocked host gets the 403 page naming its rule, and the status
// page — reached through the proxy, as a browser would — shows the counters
// (read from the DOM) and is saved as a screenshot. Chromium must be
// installed (.ci/run installs it): without it the test is skipped, saying so.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IPAddress } from 'torsion/protocol';
import { FilteringProxyFactory } from '../../../src/web/proxy/filtering-proxy.js';
import { Rules } from '../../../src/web/proxy/rules.js';
import type { Request } from '../../../src/web/request.js';
import { Resource } from '../../../src/web/resource.js';
import { Site } from '../../../src/web/site.js';
import { chromiumSkipReason, isPng, launchChromium, waitForText } from '../../helpers/chromium.js';
import { SocketHarness } from '../../helpers/sockets.js';

const SKIP = chromiumSkipReason();

/** A 3×2 red PNG: what the site serves as its image (the block answer is 1×1). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAEklEQVR4nGP4z8DAwMDAxAAAHvQC/8tV4mAAAAAASUVORK5CYII=',
  'base64',
);

/** What the test site saw: each request's path and its Cookie header. */
interface Seen {
  readonly path: string;
  readonly cookie: string | undefined;
}

/** The test site: a page with an image that sets a cookie, the image, and /check. */
class TestSite extends Resource {
  override isLeaf = true;
  constructor(
    private readonly seen: Seen[],
    private readonly blockedOrigin: string,
  ) {
    super();
  }

  render_GET(request: Request): string | Uint8Array {
    const path = request.path;
    this.seen.push({ path, cookie: request.getHeader('cookie') ?? undefined });
    if (path === '/pic.png') {
      request.setHeader('Content-Type', 'image/png');
      return PNG;
    }
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (path === '/') {
      request.addCookie('session', 'abc123', { path: '/' });
      return (
        '<!DOCTYPE html><html><head><title>test site</title></head><body>' +
        '<h1 id="title">Test site</h1>' +
        '<img id="pic" src="/pic.png" alt="picture">' +
        `<img id="ad" src="${this.blockedOrigin}/ad.png" alt="ad">` +
        '</body></html>'
      );
    }
    return `<!DOCTYPE html><p id="check">checked ${path}</p>`;
  }
}

test('Chromium through the filtering proxy: image blocked, cookies stripped, a host refused, the status page counting', {
  skip: SKIP,
  timeout: 120_000,
}, async (t) => {
  // The browser first: its after hook closes it whatever the others do.
  const h = new SocketHarness();
  const seen: Seen[] = [];
  const siteRoot = new TestSite(seen, 'http://127.0.0.2:1');
  const site = new Site(siteRoot, { clock: h.reactor });
  site.noisy = false;
  const sitePort = (h.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
  Object.assign(siteRoot, { blockedOrigin: `http://127.0.0.2:${sitePort}` });
  const rules = Rules.parse(
    [
      'option image-answer gif',
      'block 127.0.0.2',
      'block-images 127.0.0.1',
      'strip-cookies 127.0.0.1',
    ].join('\n'),
    'e2e-rules',
  );
  const proxy = new FilteringProxyFactory({ reactor: h.reactor, rules });
  proxy.noisy = false;
  const proxyPort = (h.listenTCP(0, proxy, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
  const chromium = await launchChromium(t, { proxyServer: `http://127.0.0.1:${proxyPort}` });
  t.after(async () => {
    await proxy.drain();
    await h.close();
  });

  const origin = `http://127.0.0.1:${sitePort}`;
  const page = await chromium.newPage();
  const response = await page.goto(`${origin}/`);
  assert.equal(response?.status(), 200);
  assert.equal(await page.textContent('#title'), 'Test site');
  assert.equal(response?.headers()['set-cookie'], undefined, 'Set-Cookie is stripped');

  // The image: the 1×1 GIF in place of the 3×2 PNG, and the site never asked for it.
  await page.waitForLoadState('load');
  const size = await page.evaluate(
    "(() => { const i = document.getElementById('pic'); return [i.complete, i.naturalWidth, i.naturalHeight]; })()",
  );
  assert.deepEqual(size, [true, 1, 1]);
  assert.ok(!seen.some((s) => s.path === '/pic.png'), 'the image request never reached the site');
  // The blocked host's image failed to load (403).
  assert.equal(
    await page.evaluate("document.getElementById('ad').naturalWidth"),
    0,
    'the blocked host’s image does not load',
  );

  // Cookies: none in the browser, none sent back to the site.
  assert.deepEqual(await page.context().cookies(), []);
  await page.goto(`${origin}/check`);
  assert.equal(await page.textContent('#check'), 'checked /check');
  const check = seen.find((s) => s.path === '/check');
  assert.ok(check !== undefined);
  assert.equal(check.cookie, undefined, 'no Cookie reached the site');

  // The blocked host: the 403 page naming the rule.
  const blocked = await page.goto(`http://127.0.0.2:${sitePort}/`);
  assert.equal(blocked?.status(), 403);
  assert.match((await page.textContent('body')) ?? '', /e2e-rules:2/);

  // The status page through the proxy: the counters, live.
  const status = await page.goto(`http://127.0.0.1:${proxyPort}/_torsion/`);
  assert.equal(status?.status(), 200);
  const count = async (name: string) => Number(await page.textContent(`#counter-${name}`));
  assert.ok((await count('requests')) >= 4, `requests: ${await count('requests')}`);
  assert.ok((await count('blocked-connections')) >= 2, 'the page and the ad image');
  assert.ok((await count('blocked-images')) >= 1);
  assert.ok((await count('stripped-cookies')) >= 1);
  assert.equal(await page.textContent('#rules-source'), 'e2e-rules');
  assert.match((await page.textContent('#top-blocked')) ?? '', /127\.0\.0\.2/);
  await waitForText(page, '#live', 'live', 'the event stream to open');
  const shot = await chromium.screenshot(page, 'proxy-status');
  assert.ok(isPng(shot.bytes));
  t.diagnostic(`screenshot: ${shot.path}`);
  assert.equal(proxy.stats.blockedImages, await count('blocked-images'));
});
