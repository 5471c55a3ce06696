#!/usr/bin/env node
// Screenshots of the pages for the docs (docs/pages.md): docs/screenshots/*.png.
//
//   node tests/browser/screenshots.mjs [name…]     (only the named shots, e.g. simulator simulator-vi)
//
// Each page is driven to a state worth showing (a quote with points redeemed, a finished
// simulation, a looked-up member…) in Debian's Chromium, one page at a time.
import fs from 'node:fs';
import path from 'node:path';

import { ROOT } from '../support/paths.js';
import { launch, serve } from './browser.js';

const OUT = path.join(ROOT, 'docs', 'screenshots');
fs.mkdirSync(OUT, { recursive: true });

const browser = await launch();
const server = await serve();
const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });

const ONLY = process.argv.slice(2);

async function shot(name, url, act, { fullPage = false, lang = null } = {}) {
  if (ONLY.length && !ONLY.includes(name)) return;
  // A page in a chosen language (www/shared/i18n.js keeps it in localStorage) gets a context of its own.
  const own = lang ? await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 }) : null;
  if (own) await own.addInitScript((l) => localStorage.setItem('loyalty.lang', l), lang);
  const page = await (own ?? context).newPage();
  await page.goto(`${server.url}${url}`);
  await act(page);
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  console.log(`${path.relative(ROOT, file)} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
  await page.close();
  await own?.close();
}

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });

try {
  await shot('index', '', async (page) => page.waitForSelector('ul.pages'));
  await shot('pos', 'pos/', async (page) => {
    await ready(page);
    await page.fill('#sku-search', 'sho');
    await page.click('#redeem-max');
  });
  await shot('pos-error', 'pos/', async (page) => {
    await ready(page);
    await page.fill('#lines tr[data-line="B"] input[data-field="unit_price"]', '12.5');
  });
  // The simulator after a run over 1,000 generated members.
  const simulated = async (page) => {
    await ready(page);
    await page.fill('#gen-members', '1000');
    await page.click('#run');
    await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
  };
  await shot(
    'simulator',
    'simulator/',
    async (page) => {
      await simulated(page);
      await page.fill('input[data-path="policy.tiers.levels[2].threshold"]', '300');
    },
    { fullPage: true },
  );
  await shot(
    'simulator-vi',
    'simulator/',
    simulated,
    { fullPage: true, lang: 'vi' },
  );
  await shot('widget', 'widget/', ready);
  await shot('member', 'member/', async (page) => {
    await ready(page);
    await page.fill('#query', '6868 0000 0000 0003');
    await page.press('#query', 'Enter');
    await page.waitForSelector('#result:not([hidden])');
  });
} finally {
  await browser.close();
  server.server.close();
}
