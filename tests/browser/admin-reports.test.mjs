// The admin reports page (www/admin/reports/, issue 15) against a real `loyalty serve --demo`
// (the release CLI, scripts/build.sh): sign in, the five reports as charts and tables in
// Vietnamese, the same figures as the JSON routes, English on a click, and a CSV download that
// is the route's CSV.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { launch, openPage } from './browser.js';
import { CLI, ROOT } from '../support/paths.js';

/** Starts `loyalty serve --demo` on a free port: { base, user, password, stop }. */
async function startServer() {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} not found: run ./scripts/build.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reports-page-'));
  const child = spawn(CLI, ['serve', '--demo', '--demo-members', '300', '--data-dir', dir, '--listen', '127.0.0.1:0',
    '--www', path.join(ROOT, 'www'), '--clock', '2026-10-01T10:00:00+07:00', '--worker-interval-ms', '60000'],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const deadline = Date.now() + 120_000;
  // Whole lines only: the pipes arrive in chunks, which may end inside the port or the password.
  while (!/listening on (http:\/\/\S+)\r?\n/.test(err) || !/admin password: \S+\r?\n/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`loyalty serve did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base: /listening on (http:\/\/\S+)/.exec(err)[1],
    user: /admin user: (\S+)/.exec(out)[1],
    password: /admin password: (\S+)/.exec(out)[1],
    stop: () => { child.kill('SIGTERM'); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

const group = (s, sep) => String(s).replace(/\B(?=(\d{3})+(?!\d))/g, sep);

test('the reports page shows the server figures with charts, in Vietnamese and English, and downloads CSV', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const { page, problems } = await openPage(browser, `${server.base}/admin/reports/`);
    await page.waitForSelector('body[data-ready="1"]');
    assert.equal(await page.locator('h1').textContent(), 'Báo cáo');
    await page.fill('#user', server.user);
    await page.fill('#password', server.password);
    await page.click('#login-button');
    await page.waitForSelector('body[data-loaded="1"]', { timeout: 60_000 });
    // The demo's twelve months.
    await page.fill('#from', '2025-10-01');
    await page.fill('#to', '2026-09-30');
    await page.evaluate(() => { document.body.dataset.loaded = '0'; });
    await page.click('#show');
    await page.waitForSelector('body[data-loaded="1"]', { timeout: 60_000 });

    // The page's figures are the JSON routes' (fetched with the page's session).
    const api = await page.evaluate(async () => {
      const q = 'from=2025-10-01&to=2026-09-30&group=month';
      const get = (n) => fetch(`/v1/reports/${n}?${q}`).then((r) => r.json());
      return { revenue: await get('revenue'), points: await get('points'), tiers: await get('tiers') };
    });
    assert.ok(api.revenue.totals.orders > 100, JSON.stringify(api.revenue.totals));
    const figure = (section, key) => page.locator(`#${section} dd[data-key="${key}"]`).textContent();
    assert.equal(await figure('revenue', 'orders'), group(api.revenue.totals.orders, '.'));
    assert.equal(await figure('revenue', 'sales'), group(api.revenue.totals.sales, '.'));
    assert.equal(await figure('points', 'liability'), group(api.points.at_end.liability, '.'));
    assert.equal(await page.locator('#revenue h2').textContent(), 'Doanh thu và đơn hàng');
    // Twelve months in the chart, one table row per store.
    const bars = await page.evaluate(() => Chart.getChart('chart-revenue').data.labels.length);
    assert.equal(bars, 12);
    assert.equal(await page.locator('#revenue-stores tr').count(), api.revenue.by_store.length + 1);
    assert.equal(await page.locator('#tiers-end tr').count(), api.tiers.members_at_end.length + 1);

    // English on a click: labels and number grouping change, figures do not.
    await page.click('[data-lang="en"]');
    assert.equal(await page.locator('h1').textContent(), 'Reports');
    assert.equal(await page.locator('#revenue h2').textContent(), 'Revenue and orders');
    assert.equal(await figure('revenue', 'orders'), group(api.revenue.totals.orders, ','));

    // The CSV download is the route's CSV.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#revenue a.csv')]);
    const file = await download.path();
    const csv = fs.readFileSync(file, 'utf8');
    assert.match(download.suggestedFilename(), /^revenue-2025-10-01-2026-09-30\.csv$/);
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'section,key,orders,refunds,gross_sales,tier_discounts,sales,average_basket,redemptions,points_redeemed,redeemed_amount,paid');
    assert.equal(lines[1].split(',')[2], String(api.revenue.totals.orders));
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    server.stop();
  }
});
