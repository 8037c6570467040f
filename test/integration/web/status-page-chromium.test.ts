// The proxy's status page in headless Chromium: a Site on 127.0.0.1 serving
// ProxyStatusResource over a ProxyStats the test feeds. The counters are
// read back from the DOM, then follow new events live (server-sent events),
// the SVG chart draws the last seconds, the page's style and script run
// under its Content-Security-Policy, a screenshot is a PNG, the explain form
// answers, the stream ends when the page goes away, and with JavaScript off
// the counters as of loading are there and the form still works. And the
// helper's proxyServer option: loopback requests go through the proxy.
// Chromium must be installed (.ci/run installs it): without it these tests
// are skipped, saying so.

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import type { IPAddress } from 'torsion/protocol';
import { Resource, Site } from 'torsion/web';
import { IPv4Address } from '../../../src/internet/address.js';
import { Headers } from '../../../src/web/headers.js';
import type {
  IProxyRulesView,
  ProxiedRequestInfo,
  ProxyExplanation,
  ProxyRulesSummary,
} from '../../../src/web/proxy/hooks.js';
import { ProxyStats } from '../../../src/web/proxy/stats.js';
import { ProxyStatusResource } from '../../../src/web/proxy/status-page.js';
import { chromiumSkipReason, isPng, launchChromium, waitForText } from '../../helpers/chromium.js';
import { SocketHarness, until } from '../../helpers/sockets.js';

const SKIP = chromiumSkipReason();

function info(host: string): ProxiedRequestInfo {
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

/** One rule: line 2 blocks ads.example. */
const RULES: IProxyRulesView = {
  summary(): ProxyRulesSummary {
    return {
      source: 'test-rules.txt',
      loadedAt: 1_800_000_000,
      rules: [{ line: 2, text: 'block ads.example' }],
    };
  },
  explain(url: string): ProxyExplanation {
    const host = new URL(url).hostname;
    const rule = { line: 2, text: 'block ads.example' };
    const matched = host === 'ads.example';
    return {
      url,
      steps: [{ rule, matched, reason: `the host is ${host}`, wins: matched }],
      verdict: matched ? 'blocked by line 2: block ads.example' : 'passes: no rule matches',
    };
  },
};

/** A status page on 127.0.0.1, its statistics, and the harness closing both. */
function serve(t: import('node:test').TestContext): {
  stats: ProxyStats;
  status: ProxyStatusResource;
  url: string;
} {
  const h = new SocketHarness();
  const stats = new ProxyStats(h.reactor, { window: 120 });
  const status = new ProxyStatusResource(stats, {
    clock: h.reactor,
    rules: RULES,
    interval: 0.25,
  });
  const root = new Resource();
  root.putChild('_torsion', status);
  const site = new Site(root, { clock: h.reactor });
  site.noisy = false;
  const port = (h.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
  t.after(async () => {
    status.close();
    await h.close();
  });
  return { stats, status, url: `http://127.0.0.1:${port}/_torsion/` };
}

const counter = (name: string) => `#counter-${name}`;

test('the status page shows the counters, follows them live, draws the chart and explains a URL', {
  skip: SKIP,
  timeout: 90_000,
}, async (t) => {
  // The browser first: its after hook, run first, closes it whatever the others do.
  const chromium = await launchChromium(t);
  const { stats, status, url } = serve(t);
  stats.connectionOpened();
  stats.connectionOpened();
  for (let i = 0; i < 7; i++) stats.request(info('news.example'));
  for (let i = 0; i < 3; i++) stats.blocked(info('ads.example'), 'test-rules.txt:2');
  stats.imageBlocked(info('pixel.example'), 'test-rules.txt:2');
  stats.cookiesStripped(info('news.example'), 4);
  stats.upstreamError(info('down.example'), 'connection refused');

  const page = await chromium.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  const response = await page.goto(url);
  assert.equal(response?.status(), 200);

  // The counters as served.
  assert.equal(await page.textContent(counter('requests')), '7');
  assert.equal(await page.textContent(counter('blocked-connections')), '3');
  assert.equal(await page.textContent(counter('stripped-cookies')), '4');
  assert.equal(await page.textContent(counter('blocked-images')), '1');
  assert.equal(await page.textContent(counter('upstream-errors')), '1');
  assert.equal(await page.textContent(counter('active-connections')), '2');
  assert.equal(await page.textContent('#rules-source'), 'test-rules.txt');
  assert.match((await page.textContent('#top-blocked')) ?? '', /ads\.example\s+3/);

  // The script runs (its hash is in the policy) and the stream opens.
  await waitForText(page, '#live', 'live', 'the event stream to open');
  assert.equal(status.openStreams, 1);

  // New events reach the DOM without a reload.
  for (let i = 0; i < 5; i++) stats.request(info('news.example'));
  stats.blocked(info('tracker.example'), 'test-rules.txt:2');
  stats.connectionClosed();
  await waitForText(page, counter('requests'), '12', 'the new requests to show');
  assert.equal(await page.textContent(counter('blocked-connections')), '4');
  assert.equal(await page.textContent(counter('active-connections')), '1');
  assert.match((await page.textContent('#top-blocked')) ?? '', /tracker\.example\s+1/);

  // The chart: an SVG polyline, a point per second, rising once a second with requests has passed.
  const points = (await page.getAttribute('svg#chart polyline#chart-line', 'points')) ?? '';
  assert.equal(points.split(' ').length, 120);
  await waitForText(page, '#chart-max', /^[1-9]\d*$/, 'the chart to rise');
  assert.equal(
    await page.evaluate("document.querySelector('#chart').namespaceURI"),
    'http://www.w3.org/2000/svg',
  );

  // The style applies under the policy too.
  assert.equal(
    await page.evaluate("getComputedStyle(document.querySelector('.counters')).display"),
    'grid',
  );

  const shot = await chromium.screenshot(page, 'status-page');
  assert.ok(isPng(shot.bytes), 'a PNG');
  assert.ok(statSync(shot.path).size > 2000, `a real picture (${shot.path})`);
  t.diagnostic(`screenshot: ${shot.path}`);

  // The explain form, with JavaScript on.
  await page.fill('#explain-form input[name=url]', 'http://ads.example/banner.gif');
  await Promise.all([
    page.waitForURL(/\/_torsion\/explain\?url=/),
    page.click('#explain-form button'),
  ]);
  assert.equal(await page.textContent('#explain-verdict'), 'blocked by line 2: block ads.example');

  // Leaving the page ends its stream on the server.
  await page.context().close();
  await until(() => status.openStreams === 0, 'the event stream to end with its page');
  assert.deepEqual(problems, [], 'no script, CSP or console errors');
});

test('with JavaScript off the page shows the counters as of loading and the form still works', {
  skip: SKIP,
  timeout: 60_000,
}, async (t) => {
  const chromium = await launchChromium(t, { javaScriptEnabled: false });
  const { stats, status, url } = serve(t);
  for (let i = 0; i < 3; i++) stats.request(info('news.example'));
  stats.blocked(info('ads.example'), 'test-rules.txt:2');
  const page = await chromium.newPage();
  await page.goto(url);
  assert.equal(await page.textContent(counter('requests')), '3');
  assert.equal(await page.textContent(counter('blocked-connections')), '1');
  assert.equal(await page.textContent(counter('active-connections')), '0');
  assert.equal(await page.textContent('#live'), 'off (counters as of loading)');
  assert.equal(status.openStreams, 0, 'no event stream without JavaScript');
  assert.equal((await page.$$('svg#chart polyline#chart-line')).length, 1);

  await page.fill('#explain-form input[name=url]', 'http://news.example/');
  await Promise.all([
    page.waitForURL(/\/_torsion\/explain\?url=/),
    page.click('#explain-form button'),
  ]);
  assert.equal(await page.textContent('#explain-verdict'), 'passes: no rule matches');
  const shot = await chromium.screenshot(page, 'status-page-no-js');
  assert.ok(isPng(shot.bytes));
});

test('the helper sends loopback requests through the proxy it is given', {
  skip: SKIP,
  timeout: 60_000,
}, async (t) => {
  // A stand-in proxy: a Site that records the request-targets it gets and answers itself.
  const h = new SocketHarness();
  const seen: string[] = [];
  const proxy = new Resource();
  proxy.isLeaf = true;
  proxy.render = (request) => {
    seen.push(`${request.method} ${request.uri}`);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return '<p id="via">answered by the proxy</p>';
  };
  const site = new Site(proxy, { clock: h.reactor });
  site.noisy = false;
  const port = (h.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPAddress).port;
  const chromium = await launchChromium(t, { proxyServer: `http://127.0.0.1:${port}` });
  t.after(() => h.close());
  const page = await chromium.newPage();
  // The proxy's own address: asked directly, it would get `GET /through?x=1`
  // (origin form); through the proxy, the absolute URL.
  const target = `http://127.0.0.1:${port}/through?x=1`;
  await page.goto(target);
  assert.equal(await page.textContent('#via'), 'answered by the proxy');
  assert.ok(
    seen.includes(`GET ${target}`),
    `the proxy got the absolute URL: ${JSON.stringify(seen)}`,
  );
});
