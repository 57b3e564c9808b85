// The audit console in tests: served on a free loopback port over a test schema, and looked at in Debian's
// Chromium through playwright-core, with every request the page makes recorded and screenshots kept.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startConsole, type ConsoleServerOptions, type RunningConsole } from '@inferlog/console';
import { DATABASE_URL } from './helpers';

export const CHROMIUM = '/usr/bin/chromium';

/** The console over `schema` on 127.0.0.1 and a free port. */
export function serveConsole(schema: string, options: Partial<ConsoleServerOptions> = {}): Promise<RunningConsole> {
  return startConsole({ database: DATABASE_URL, schema, port: 0, ...options });
}

/** Headless Chromium, as `.ci/run` installs it; a clear failure when it is missing. */
export async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: the console tests drive headless Chromium. Install it: apt-get update && apt-get install -y chromium`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Where screenshots go: `$INFERLOG_TEST_ARTIFACTS/console`, else `test-artifacts/console` in the
 * repository (ignored by git), kept after the run for a person to look at.
 */
export function artifactDir(): string {
  const dir = join(process.env.INFERLOG_TEST_ARTIFACTS ?? join(__dirname, '..', 'test-artifacts'), 'console');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A page at a laptop's size that records every URL it requests and every script error and dialog. */
export async function consolePage(browser: Browser): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return { page, requests, errors };
}

/** Whether a page set the global a planted script would set. */
export const pwned = (page: Page): Promise<unknown> => page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned);

/**
 * Nothing planted ran, loaded or became an element: no global set, no script error or dialog, no request
 * beyond the console's origin, no element a logged value could have made, every link the console's own,
 * and the only scripts the console's files (chart data blocks are `application/json`, never run).
 */
export async function expectInert(page: Page, requests: string[], errors: string[], origin: string): Promise<void> {
  expect(await pwned(page)).toBeUndefined();
  expect(errors).toEqual([]);
  expect(requests.filter((u) => !u.startsWith(origin))).toEqual([]);
  expect(
    await page.$$eval(
      'main img, main iframe, main object, main embed, main link, main script:not([type="application/json"]), main [onerror], main [onload], main [onmouseover]',
      (all) => all.length,
    ),
  ).toBe(0);
  // The monitor's charts are SVG the console draws; anything else would be a logged value's.
  expect(await page.$$eval('main svg', (all) => all.filter((s) => !s.closest('.monitor figure')).length)).toBe(0);
  expect(
    await page.$$eval('a[href]', (all) => all.map((a) => a.getAttribute('href')!).filter((h) => !h.startsWith('/') && !h.startsWith('#'))),
  ).toEqual([]);
  expect(
    await page.$$eval('script[src]', (all) => all.map((s) => s.getAttribute('src')!).filter((src) => !/^\/assets\/[\w.-]+$/.test(src))),
  ).toEqual([]);
}
