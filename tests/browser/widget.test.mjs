// <loyalty-progress> (www/widget/loyalty-progress.js) in Chromium: what it shows — tier, the
// ARIA progress bar, "N points to Gold", the keep line, the expiring points — must be the
// package's `Engine.progress` answer in Node for the same request; it must work from one script
// tag, follow its as-of attribute and its properties, take its theme from CSS custom properties,
// and show the engine's error when the policy is bad.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { POLICY } from '../../www/pos/sample-data.js';
import { replaySample, sampleHistories } from '../../www/shared/sample.js';
import { esm } from '../support/package.js';
import { ROOT } from '../support/paths.js';
import { closeAll, openPage, openReadyPage } from './browser.js';

const readJson = (...p) => JSON.parse(fs.readFileSync(path.join(ROOT, ...p), 'utf8'));
const DEMO_POLICY = readJson('www', 'widget', 'demo', 'policy.json');
const DEMO_MEMBER = readJson('www', 'widget', 'demo', 'member.json');

let browser;
let server;
let page;
let problems;

before(async () => {
  ({ browser, server, page, problems } = await openReadyPage('widget/'));
});
after(async () => {
  await closeAll(browser, server);
});

/** What a widget shows (read through its open shadow root). */
async function shown(p, selector) {
  await p.locator(selector).evaluate((w) => w.updateComplete);
  return p.locator(selector).evaluate((w) => {
    const r = w.shadowRoot;
    const q = (s) => r.querySelector(s);
    const bar = q('[role="progressbar"]');
    return {
      tier: q('.tier-name')?.dataset.tier,
      tierName: q('.tier-name')?.textContent,
      available: q('.points')?.dataset.value,
      bar: bar && {
        min: bar.getAttribute('aria-valuemin'),
        max: bar.getAttribute('aria-valuemax'),
        now: bar.getAttribute('aria-valuenow'),
        text: bar.getAttribute('aria-valuetext'),
        width: bar.querySelector('.fill').style.width,
      },
      next: q('.next')?.textContent,
      keep: q('.keep') ? { reviewAt: q('.keep').dataset.reviewAt, remaining: q('.keep').dataset.remaining, text: q('.keep').textContent } : null,
      expiring: [...r.querySelectorAll('.expiring-item')].map((li) => ({ points: Number(li.dataset.points), expires_at: li.dataset.expiresAt })),
      error: q('.error')?.textContent ?? null,
      progress: w.progress,
    };
  });
}

const nameOf = (policy, id) => policy.tiers.levels.find((l) => l.id === id).name;

/** The widget shows `pr`, the package's progress answer, for `policy` (points metric). */
function assertShows(s, pr, policy) {
  assert.deepEqual(s.progress, pr, 'the widget computed the same answer as Node');
  assert.equal(s.error, null);
  assert.equal(s.tier, pr.tier);
  assert.equal(s.tierName, nameOf(policy, pr.tier));
  assert.equal(s.available, String(pr.available_points));
  if (pr.next_tier) {
    assert.deepEqual(
      { min: s.bar.min, max: s.bar.max, now: s.bar.now },
      { min: '0', max: String(pr.next_threshold), now: String(Math.min(pr.current, pr.next_threshold)) },
    );
    const text = `${pr.remaining.toLocaleString('en')} ${pr.remaining === 1 ? 'point' : 'points'} to ${nameOf(policy, pr.next_tier)}`;
    assert.equal(s.next, text, 'readable "N points to Gold"');
    assert.ok(s.bar.text.endsWith(text), 'the bar\'s aria-valuetext says it too');
  } else {
    assert.equal(s.bar.now, s.bar.max, 'top tier: a full bar');
    assert.match(s.next, /top tier/);
  }
  if (pr.keep) {
    assert.equal(s.keep.reviewAt, pr.keep.review_at);
    assert.equal(s.keep.remaining, String(pr.keep.remaining));
    assert.ok(s.keep.text.includes(pr.keep.review_at.slice(0, 10)));
  } else {
    assert.equal(s.keep, null);
  }
  assert.deepEqual(s.expiring, pr.expiring);
}

test('from policy-src + src: the package\'s progress, with keep and expiring points', async () => {
  const asOf = await page.getAttribute('#w-src', 'as-of');
  const pr = new esm.Engine(DEMO_POLICY).progress({ ...DEMO_MEMBER, as_of: asOf });
  assert.ok(pr.next_tier && pr.keep && pr.expiring.length > 0, 'the demo member shows every part');
  assertShows(await shown(page, '#w-src'), pr, DEMO_POLICY);
  assertShows(await shown(page, '#w-dark'), pr, DEMO_POLICY);
});

test('typing another as-of re-renders every widget for that instant', async () => {
  for (const asOf of ['2026-12-30T09:00:00+07:00', '2027-01-05T09:00:00+07:00']) {
    await page.fill('#as-of', asOf);
    await page.press('#as-of', 'Enter');
    await page.locator('#as-of').evaluate((el) => el.blur());
    await page.waitForFunction((a) => document.getElementById('w-src').progress && document.getElementById('w-src').getAttribute('as-of') === a, asOf);
    const pr = new esm.Engine(DEMO_POLICY).progress({ ...DEMO_MEMBER, as_of: asOf });
    assertShows(await shown(page, '#w-src'), pr, DEMO_POLICY);
  }
});

test('from properties: a generated member chosen in the demo', async () => {
  const engine = new esm.Engine(POLICY);
  const replayed = replaySample(engine, sampleHistories(esm.generate), undefined, esm.LoyaltyError).replayed;
  const asOf = await page.getAttribute('#w-props', 'as-of');
  let checked = 0;
  for (const k of [0, 3, replayed.length - 1]) {
    await page.selectOption('#member', String(k));
    await page.waitForFunction((id) => document.getElementById('w-props').progress && document.getElementById('w-props').history?.member.id === id, replayed[k].history.member.id);
    const pr = engine.progress({ ...replayed[k].history, as_of: asOf });
    assertShows(await shown(page, '#w-props'), pr, POLICY);
    checked++;
  }
  engine.free();
  assert.equal(checked, 3);
});

test('the top tier: a full bar and no "to next tier"', async () => {
  const big = structuredClone(DEMO_MEMBER);
  big.events.push({
    id: 'o-big',
    type: 'purchase',
    at: '2026-11-20T12:00:00+07:00',
    cart: { id: 'o-big', at: '2026-11-20T12:00:00+07:00', lines: [{ id: '1', category: 'shoes', quantity: 40, unit_price: '1850000' }] },
  });
  await page.locator('#w-props').evaluate((w, [policy, history]) => {
    w.policy = policy;
    w.history = history;
  }, [DEMO_POLICY, big]);
  await page.waitForFunction(() => document.getElementById('w-props').history?.events.some((e) => e.id === 'o-big') && document.getElementById('w-props').progress);
  const asOf = await page.getAttribute('#w-props', 'as-of');
  const pr = new esm.Engine(DEMO_POLICY).progress({ ...big, as_of: asOf });
  assert.equal(pr.next_tier, null, 'the member is at the top level');
  assertShows(await shown(page, '#w-props'), pr, DEMO_POLICY);
});

test('themed with CSS custom properties only', async () => {
  const colors = await page.evaluate(() =>
    ['#w-src', '#w-dark'].map((id) => {
      const w = document.querySelector(id);
      const fill = w.shadowRoot.querySelector('.fill');
      const card = w.shadowRoot.querySelector('.card');
      return [getComputedStyle(fill).backgroundColor, getComputedStyle(card).backgroundColor];
    }),
  );
  assert.deepEqual(colors[1], ['rgb(253, 176, 34)', 'rgb(16, 24, 40)'], 'the dark instance takes --loyalty-accent and --loyalty-bg');
  assert.notDeepEqual(colors[0], colors[1]);
});

test('one script tag on a plain page; a bad policy shows the engine\'s error', async () => {
  const { page: p, problems: pageProblems } = await openPage(browser, `${server.url}__tests__/browser/pages/widget-embed.html`);
  const scripts = await p.locator('script').count();
  assert.equal(scripts, 1, 'the page has exactly one script tag');
  await p.waitForFunction(() => document.getElementById('ok').progress && document.getElementById('bad').error);
  const s = await shown(p, '#ok');
  // No as-of attribute: the widget uses the current time; compare at the instant it used.
  const usedAsOf = await p.evaluate(() => document.getElementById('ok').progress.window_end);
  const pr = new esm.Engine(DEMO_POLICY).progress({ ...DEMO_MEMBER, as_of: usedAsOf });
  assertShows(s, pr, DEMO_POLICY);
  const bad = readJson('tests', 'browser', 'pages', 'bad-policy.json');
  let err;
  try {
    new esm.Engine(bad);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof esm.LoyaltyError);
  assert.deepEqual(await p.locator('#bad').evaluate((w) => w.error), { code: err.code, message: err.message, path: err.path });
  const b = await shown(p, '#bad');
  assert.ok(b.error.includes(err.message));
  assert.equal(await p.locator('#bad').locator('[role="alert"]').count(), 1);
  // What the widget downloads: its script and the progress entry of the package (the module
  // scripts/size.mjs weighs as the widget's download), not the full module.
  const fetched = await p.evaluate(() =>
    performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname).filter((q) => /\.(m?js|wasm)$/.test(q)),
  );
  assert.deepEqual([...fetched].sort(), [
    '/pkg/api.js',
    '/pkg/progress/web.js',
    '/pkg/wasm/loyalty_engine_progress.js',
    '/pkg/wasm/loyalty_engine_progress_bg.wasm',
    '/pkg/web-init.js',
    '/widget/loyalty-progress.js',
  ]);
  assert.deepEqual(pageProblems, []);
  await p.close();
});

test('engine-src: the widget runs on another entry of the package (here the full module), the same answer', async () => {
  const asOf = await page.getAttribute('#w-src', 'as-of');
  const before = await shown(page, '#w-src');
  // The attribute is followed: the core entry (validate and quote) has no progress, and says so.
  await page.locator('#w-src').evaluate((w) => w.setAttribute('engine-src', '../pkg/core/web.js'));
  const core = await shown(page, '#w-src');
  assert.equal(core.progress, null);
  assert.match(core.error, /progress/);
  await page.locator('#w-src').evaluate((w) => w.setAttribute('engine-src', '../pkg/web.js'));
  const after = await shown(page, '#w-src');
  const pr = new esm.Engine(DEMO_POLICY).progress({ ...DEMO_MEMBER, as_of: asOf });
  assertShows(after, pr, DEMO_POLICY);
  assert.deepEqual(after, before, 'the full module shows exactly what the progress module showed');
  await page.locator('#w-src').evaluate((w) => w.removeAttribute('engine-src'));
  assert.deepEqual(await shown(page, '#w-src'), before);
});

test('no console errors, failed requests or uncaught exceptions', () => {
  assert.deepEqual(problems, []);
});
