// The member lookup page (www/member/) in Chromium: typing a card number or a phone number shows
// exactly what the package's Engine.replay answers in Node for that member's history.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { expiringByDate } from '../../www/member/expiring.js';
import { POLICY } from '../../www/pos/sample-data.js';
import { SAMPLE_AS_OF, cardNumber, phoneNumber, sampleHistories } from '../../www/shared/sample.js';
import { esm } from '../support/package.js';
import { closeAll, openReadyPage } from './browser.js';

let browser;
let server;
let page;
let problems;
const histories = sampleHistories(esm.generate);
const engine = new esm.Engine(POLICY);

before(async () => {
  ({ browser, server, page, problems } = await openReadyPage('member/'));
});
after(async () => {
  engine.free();
  await closeAll(browser, server);
});

function replayInNode(i, asOf = SAMPLE_AS_OF) {
  try {
    return { replay: engine.replay({ ...histories[i], as_of: asOf }) };
  } catch (e) {
    if (!(e instanceof esm.LoyaltyError)) throw e;
    return { error: e };
  }
}

async function lookUp(text) {
  const n = Number((await page.getAttribute('body', 'data-lookups')) ?? 0);
  await page.fill('#query', '');
  await page.locator('#query').pressSequentially(text, { delay: 10 });
  await page.press('#query', 'Enter');
  await page.waitForSelector(`body[data-lookups="${n + 1}"]`);
}

async function screen() {
  return page.evaluate(() => {
    const v = (id) => document.getElementById(id).dataset.value;
    const rows = (id) => [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) => ({ ...tr.dataset }));
    return {
      status: v('f-status'),
      tier: v('f-tier'),
      available: v('f-available'),
      pending: v('f-pending'),
      qualification: v('f-qualification'),
      expiring: rows('expiring-table'),
      totals: rows('totals-table'),
      history: rows('history-table'),
      visible: !document.getElementById('result').hidden,
    };
  });
}

function screenFor(r) {
  return {
    status: r.status,
    tier: r.tier.id,
    available: String(r.points.available),
    pending: String(r.points.pending),
    qualification: String(r.qualification.value),
    expiring: expiringByDate(r.points.lots).map((x) => ({ expiresAt: x.expires_at, points: String(x.points) })),
    totals: Object.entries(r.totals).map(([key, value]) => ({ key, value: String(value) })),
    history: [...r.history].reverse().map((h) => ({
      event: h.event_id ?? '',
      type: h.type,
      at: h.at,
      delta: String(h.points_delta),
      availableAfter: String(h.available_after),
      tierAfter: h.tier_after,
    })),
    visible: true,
  };
}

const replayable = histories.map((_, i) => i).filter((i) => replayInNode(i).replay);

test('a card number, typed with spaces: the package\'s replay of that member', async () => {
  const i = replayable.find((k) => replayInNode(k).replay.points.lots.some((l) => l.expires_at));
  const card = cardNumber(i).replace(/(\d{4})(?=\d)/g, '$1 ');
  await lookUp(card);
  assert.deepEqual(await screen(), screenFor(replayInNode(i).replay));
  assert.ok((await page.textContent('#member-title')).includes(histories[i].member.id));
});

test('a phone number in local format; another as-of', async () => {
  const i = replayable.findLast((k) => replayInNode(k).replay.history.length > 5);
  const local = `0${phoneNumber(i).slice(3)}`; // +8490… → 090…
  await lookUp(local);
  assert.deepEqual(await screen(), screenFor(replayInNode(i).replay));
  const asOf = '2026-06-30T18:00:00+07:00';
  await page.fill('#as-of', asOf);
  await page.click('#lookup');
  await page.waitForFunction((a) => window.__member.last?.replay?.as_of === a, asOf);
  assert.deepEqual(await screen(), screenFor(replayInNode(i, asOf).replay));
  await page.fill('#as-of', SAMPLE_AS_OF);
});

test('unknown card: not found; a history the engine rejects: its error', async () => {
  await lookUp('6868 9999 9999 9999');
  assert.equal(await page.getAttribute('#lookup-error', 'data-code'), 'not_found');
  assert.equal(await page.isVisible('#lookup-error'), true);
  assert.equal(await page.isHidden('#result'), true);
  assert.equal(await page.getAttribute('#query', 'aria-invalid'), 'true');
  const bad = histories.map((_, i) => i).find((i) => replayInNode(i).error);
  if (bad === undefined) return; // every sample history replays
  const { error } = replayInNode(bad);
  await lookUp(cardNumber(bad));
  assert.equal(await page.getAttribute('#lookup-error', 'data-code'), error.code);
  assert.equal(await page.getAttribute('#lookup-error', 'data-path'), error.path);
  assert.ok((await page.textContent('#lookup-error')).includes(error.message));
});

test('the sample directory: clicking a card looks it up', async () => {
  await page.click('.directory summary');
  const i = replayable[0];
  await page.click(`#directory button:text-is("${cardNumber(i)}")`);
  await page.waitForFunction((id) => window.__member.last?.replay?.member_id === id, histories[i].member.id);
  assert.deepEqual(await screen(), screenFor(replayInNode(i).replay));
});

test('no console errors, failed requests or uncaught exceptions', () => {
  assert.deepEqual(problems, []);
});
