// Helpers for the browser tests: Debian's Chromium driven by playwright-core (no browser
// download), and the project's static server (scripts/serve.mjs) on a free loopback port.
import fs from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { defaultMounts, startServer } from '../../scripts/serve.mjs';
import { PKG, ROOT } from '../support/paths.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// As root in a container: no sandbox; and no background traffic to Google's hosts.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
];

/** Launches Chromium (playwright gives it a fresh, temporary --user-data-dir). */
export async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run ./scripts/setup.sh --browser (apt-get install chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
}

/** Serves www/ at /, pkg/ at /pkg/, chart.js at /vendor/chart.js/ and tests/ at /__tests__/ (plus extra mounts). */
export async function serve(extraMounts = {}) {
  if (!fs.existsSync(path.join(PKG, 'web.js'))) throw new Error('pkg/ is not built: run ./scripts/build.sh');
  const mounts = {
    ...defaultMounts(),
    '/pkg/': PKG,
    '/__tests__/': path.join(ROOT, 'tests'),
    '/': path.join(ROOT, 'www'),
    ...extraMounts,
  };
  return startServer({ port: 0, host: '127.0.0.1', mounts, redirects: {} });
}

/**
 * Opens a page that records console errors, uncaught exceptions and failed requests, so a test
 * can require a clean run.
 */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  await page.goto(url);
  return { page, problems };
}

/** Waits for a page that runs tests/support/scenario.js and returns its result. */
export async function scenarioResult(page) {
  await page.waitForSelector('body[data-done="1"]', { timeout: 30_000 });
  const { result, error } = await page.evaluate(() => ({ result: window.__scenario, error: window.__scenarioError }));
  if (error) throw new Error(`the scenario failed in the browser: ${error}`);
  return result;
}

/**
 * Launches Chromium, serves the site and opens `pathname` (e.g. `pos/`), waiting until the page
 * marks itself ready (`body[data-ready="1"]`): the shared set-up of the page tests.
 */
export async function openReadyPage(pathname) {
  const [browser, server] = await Promise.all([launch(), serve()]);
  const { page, problems } = await openPage(browser, `${server.url}${pathname}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  return { browser, server, page, problems };
}

/**
 * Types `text` as a new line after the first line of a CodeMirror editor (`content`: its
 * `.cm-content`) and returns the completions offered, first the best (the schema editor of the
 * simulator and of the admin draft).
 */
export async function completionsOnNewLine(page, content, text) {
  await content.click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(text);
  const options = page.locator('.cm-tooltip-autocomplete li');
  await options.first().waitFor();
  return options.allTextContents();
}

/** Closes what `launch`/`serve` (or `openReadyPage`) started; safe on a failed set-up. */
export async function closeAll(browser, server) {
  await browser?.close();
  server?.server.close();
}
