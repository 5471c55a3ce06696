// The POS page offline: the first load installs the service worker (www/pos/sw.js), which caches
// the page, its modules and the package's core module (the .wasm included). With the network off
// the page reloads and still quotes, and what it shows is the package's answer in Node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { CART, MEMBERS, POLICY } from '../../www/pos/sample-data.js';
import { esm } from '../support/package.js';
import { closeAll, launch, serve } from './browser.js';

let browser;
let server;
before(async () => {
  [browser, server] = await Promise.all([launch(), serve()]);
});
after(() => closeAll(browser, server));

async function shown(page) {
  return page.evaluate(() => {
    const v = (id) => document.getElementById(id).dataset.value;
    return {
      total: v('r-total'),
      earned_points: v('r-earned_points'),
      redeemed_points: v('r-redeemed_points'),
      digest: v('r-digest'),
    };
  });
}

test('after the first load the POS quotes with the network off', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${server.url}pos/`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  // The service worker has installed (its install step cached every file) and is active.
  await page.waitForSelector('body[data-offline-ready="1"]', { timeout: 30_000 });
  const cached = await page.evaluate(async () => {
    const keys = [];
    for (const name of await caches.keys()) {
      for (const req of await (await caches.open(name)).keys()) keys.push(new URL(req.url).pathname);
    }
    return keys;
  });
  for (const file of [
    '/pos/',
    '/pos/pos.js',
    '/pos/generated-sample.json',
    '/pkg/core/web.js',
    '/pkg/wasm/loyalty_engine_core_bg.wasm',
  ]) {
    assert.ok(cached.includes(file), `${file} is cached (cached: ${cached.join(', ')})`);
  }
  // The POS runs on the core module: the full module is not downloaded for it.
  assert.ok(!cached.includes('/pkg/wasm/loyalty_engine_bg.wasm'), 'the full .wasm is not cached');

  // Network off. Playwright's offline emulation covers the page but not the service worker's
  // own fetches, so the server goes down too: nothing can come from the network any more.
  await context.setOffline(true);
  assert.equal(await page.evaluate(() => navigator.onLine), false, 'the browser is offline');
  await new Promise((resolve) => {
    server.server.close(resolve);
    server.server.closeAllConnections();
  });
  server = null;
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  assert.match(await page.textContent('#offline-status'), /offline/);
  // The generated sample (replayed with the full module at build time) is there offline too.
  await page.waitForSelector('body[data-sample="1"]');
  assert.ok((await page.locator('#member optgroup:nth-of-type(2) option').count()) > 0);
  assert.match(await page.textContent('#engine-status'), /engine ready/);

  // Quote again offline: SPEC §2's worked example (Max), then a changed quantity.
  await page.click('#redeem-max');
  const request = { member: { ...MEMBERS[0] }, cart: structuredClone(CART), redeem_points: 'max' };
  assert.deepEqual(await page.evaluate(() => window.__pos.lastRequest), request);
  const q = new esm.Engine(POLICY).quote(request);
  assert.equal(q.total, '1315000'); // hand-checked (SPEC §2)
  assert.equal(q.earned_points, 32);
  assert.deepEqual(await shown(page), {
    total: q.total,
    earned_points: String(q.earned_points),
    redeemed_points: String(q.redeemed_points),
    digest: q.digest,
  });
  await page.fill('#lines tr[data-line="B"] input[data-field="quantity"]', '2');
  request.cart.lines[1].quantity = 2;
  const q2 = new esm.Engine(POLICY).quote(request);
  assert.deepEqual(await shown(page), {
    total: q2.total,
    earned_points: String(q2.earned_points),
    redeemed_points: String(q2.redeemed_points),
    digest: q2.digest,
  });
  assert.deepEqual(pageErrors, []);
  await context.close();
});
