// Headless Chromium for the browser tests, through playwright-core driving
// Debian's chromium (/usr/bin/chromium; .ci/run installs it): a browser per
// test, optionally sent through a proxy (loopback traffic included), with
// JavaScript on or off, and closed when the test ends whatever its outcome.
// A test is skipped, with the reason, only when chromium is not installed.
// Test-only; not exported.

import { AssertionError } from 'node:assert';
import { accessSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Where Debian installs chromium; `TORSION_CHROMIUM` names another binary. */
export const CHROMIUM_PATH = process.env.TORSION_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why browser tests cannot run here (chromium is not installed), or `false`
 * when they can: pass it as a test's `skip` option, so that a machine
 * without chromium reports the tests as skipped with the reason, and any
 * other problem (chromium failing to start, a page misbehaving) fails them.
 */
export function chromiumSkipReason(): string | false {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return false;
  } catch {
    return `chromium is not installed at ${CHROMIUM_PATH} (.ci/run installs it; TORSION_CHROMIUM names another binary)`;
  }
}

/** How a browser is launched and its pages set up. */
export interface ChromiumOptions {
  /**
   * A proxy every request goes through, loopback included
   * (`http://127.0.0.1:8080`): Chromium's `--proxy-server` with
   * `--proxy-bypass-list=<-loopback>`, which takes loopback off its
   * built-in bypass list.
   */
  readonly proxyServer?: string;
  /** Whether pages run JavaScript. Default true. */
  readonly javaScriptEnabled?: boolean;
  /** More command-line arguments for chromium. */
  readonly args?: readonly string[];
  /** Milliseconds a page action or wait may take before failing. Default 15000. */
  readonly timeout?: number;
}

/** The sessions not closed yet: the file's last hook closes them if a test's own hooks could not. */
const OPEN = new Set<ChromiumSession>();

after(async () => {
  for (const session of [...OPEN]) await session.close();
});

/** A launched browser and the pages opened in it; see {@link launchChromium}. */
export class ChromiumSession {
  readonly #contexts: BrowserContext[] = [];
  #closed = false;

  constructor(
    readonly browser: Browser,
    readonly options: ChromiumOptions,
  ) {}

  /**
   * A page in a fresh context (no cookies or cache shared with other pages),
   * with JavaScript on or off as the session's options (or `javaScriptEnabled`) say.
   */
  async newPage(overrides: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
    const context = await this.browser.newContext({
      javaScriptEnabled: overrides.javaScriptEnabled ?? this.options.javaScriptEnabled ?? true,
      viewport: { width: 1000, height: 900 },
    });
    this.#contexts.push(context);
    context.setDefaultTimeout(this.options.timeout ?? 15_000);
    return context.newPage();
  }

  /**
   * A screenshot of the whole page, written as `name`.png in a new
   * directory under the system's temporary directory.
   *
   * @returns The file's path and its bytes.
   */
  async screenshot(page: Page, name: string): Promise<{ path: string; bytes: Buffer }> {
    const bytes = await page.screenshot({ fullPage: true, type: 'png' });
    const path = join(mkdtempSync(join(tmpdir(), 'torsion-chromium-')), `${name}.png`);
    writeFileSync(path, bytes);
    return { path, bytes };
  }

  /** Closes every context and the browser (its processes end); again does nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    OPEN.delete(this);
    // A context that cannot close (its page crashed) does not keep the browser open.
    for (const context of this.#contexts) await context.close().catch(() => undefined);
    await this.browser.close();
  }
}

/**
 * Launches headless chromium for test `t` and closes it when `t` ends,
 * passed or failed. Call it only from a test whose `skip` option is
 * {@link chromiumSkipReason}.
 *
 * @remarks
 * Call it before opening the ports the test serves the browser from: a
 * test's `after` hooks run in the order they were added, and stop at the
 * first that throws, so the browser, closed first, is closed even when a
 * later hook (a harness finding a socket left open) fails. The file's own
 * last hook closes any session left open all the same.
 */
export async function launchChromium(
  t: TestContext,
  options: ChromiumOptions = {},
): Promise<ChromiumSession> {
  const args = [
    '--no-sandbox',
    '--disable-dev-shm-usage',
    '--disable-gpu',
    ...(options.args ?? []),
  ];
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args,
    timeout: 30_000,
    // Playwright turns `bypass` into --proxy-bypass-list; `<-loopback>`
    // sends 127.0.0.1 and localhost through the proxy as well.
    ...(options.proxyServer === undefined
      ? {}
      : { proxy: { server: options.proxyServer, bypass: '<-loopback>' } }),
  });
  const session = new ChromiumSession(browser, options);
  OPEN.add(session);
  t.after(() => session.close());
  return session;
}

/**
 * Waits until the element `selector` names shows `expected` (equal to a
 * string, or matching a RegExp), for at most `seconds`; fails naming `what`
 * and the text seen then.
 *
 * @remarks
 * Waits with a locator (Playwright's own script, which watches the DOM in
 * its isolated world) rather than `page.waitForFunction`, which evaluates
 * its predicate with `eval` inside the page: a page whose
 * Content-Security-Policy forbids `eval` (the status page's does) refuses it.
 */
export async function waitForText(
  page: Page,
  selector: string,
  expected: string | RegExp,
  what: string,
  seconds = 15,
): Promise<string> {
  const pattern =
    typeof expected === 'string'
      ? new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
      : expected;
  try {
    await page
      .locator(selector)
      .filter({ hasText: pattern })
      .first()
      .waitFor({ state: 'attached', timeout: seconds * 1000 });
  } catch {
    const text = (await page.textContent(selector)) ?? '';
    throw new AssertionError({
      message: `timed out after ${seconds}s waiting for ${what} (${selector} shows ${JSON.stringify(text)})`,
    });
  }
  return (await page.textContent(selector)) ?? '';
}

/** Whether `bytes` are a PNG image (its signature and an IHDR chunk first). */
export function isPng(bytes: Uint8Array): boolean {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return (
    bytes.length > 24 &&
    signature.every((b, i) => bytes[i] === b) &&
    Buffer.from(bytes.subarray(12, 16)).toString('latin1') === 'IHDR'
  );
}
