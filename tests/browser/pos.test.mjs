// The POS page (www/pos/) in Chromium: after each thing a cashier does, the figures on screen
// must be exactly what the package computes in Node for the same request (and the request the
// page sent must be the one the test expects from what it did). Errors must appear next to the
// field their path points at.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { CART, CATALOG, MEMBERS, POLICY, searchCatalog } from '../../www/pos/sample-data.js';
import { SAMPLE_AS_OF, replaySample, sampleHistories } from '../../www/shared/sample.js';
import { esm } from '../support/package.js';
import { closeAll, openReadyPage } from './browser.js';

let browser;
let server;
let page;
let problems;

before(async () => {
  ({ browser, server, page, problems } = await openReadyPage('pos/'));
});
after(async () => {
  await closeAll(browser, server);
});

// What the test expects the page to send, updated as the test acts.
const expected = { member: { ...MEMBERS[0] }, cart: structuredClone(CART), redeem_points: 0 };

/** The package's answer in Node: the quote, or the LoyaltyError. */
function quoteInNode(request) {
  try {
    return { quote: new esm.Engine(POLICY).quote(request) };
  } catch (e) {
    if (!(e instanceof esm.LoyaltyError)) throw e;
    return { error: e };
  }
}

/** The figures as the page shows them (each element's exact data-value). */
async function screen() {
  return page.evaluate(() => {
    const v = (id) => document.getElementById(id).dataset.value;
    const rows = [...document.querySelectorAll('#allocation tbody tr')];
    return {
      subtotal: v('r-subtotal'),
      tier_discount: v('r-tier_discount'),
      redeemed_points: v('r-redeemed_points'),
      redeemed_amount: v('r-redeemed_amount'),
      total: v('r-total'),
      earned_points: v('r-earned_points'),
      max_redeemable_points: v('r-max_redeemable_points'),
      tier: v('r-tier'),
      digest: v('r-digest'),
      policy_digest: v('r-policy_digest'),
      lines: rows.map((tr) => [
        tr.dataset.line,
        ...[...tr.querySelectorAll('td[data-field]')].map((td) => `${td.dataset.field}=${td.dataset.value}`),
      ]),
      line_totals: [...document.querySelectorAll('#lines tbody tr[data-line]')].map(
        (tr) => `${tr.dataset.line}=${tr.querySelector('.line-total').dataset.value}`,
      ),
      applied_rules: [...document.querySelectorAll('#applied-rules li')].map((li) => JSON.parse(li.dataset.value)),
      notes: [...document.querySelectorAll('#notes li')].map((li) => JSON.parse(li.dataset.value)),
    };
  });
}

/** What the page should show for a quote. */
function screenFor(q) {
  return {
    subtotal: q.subtotal,
    tier_discount: q.tier_discount,
    redeemed_points: String(q.redeemed_points),
    redeemed_amount: q.redeemed_amount,
    total: q.total,
    earned_points: String(q.earned_points),
    max_redeemable_points: String(q.max_redeemable_points),
    tier: q.tier,
    digest: q.digest,
    policy_digest: q.policy_digest,
    lines: q.lines.map((l) =>
      [l.id, ...['subtotal', 'tier_discount', 'redeemed_amount', 'paid', 'earn_basis'].map((f) => `${f}=${l[f]}`)],
    ),
    line_totals: q.lines.map((l) => `${l.id}=${l.subtotal}`),
    applied_rules: q.applied_rules,
    notes: q.notes,
  };
}

/** The page sent `expected` and shows exactly the package's quote of it. */
async function assertShowsQuote() {
  assert.deepEqual(await page.evaluate(() => window.__pos.lastRequest), expected, 'the request the page sent');
  const { quote, error } = quoteInNode(expected);
  assert.ok(quote, `the test's request should quote: ${error}`);
  assert.deepEqual(await screen(), screenFor(quote));
  assert.equal(await page.locator('.field-error:visible').count(), 0, 'no error shown');
  return quote;
}

/** The page shows the package's error for `expected`, next to the field at its path. */
async function assertShowsError(fieldSelector) {
  assert.deepEqual(await page.evaluate(() => window.__pos.lastRequest), expected);
  const { error } = quoteInNode(expected);
  assert.ok(error, 'the package rejects this request too');
  const box = page.locator(`.field-error[data-path="${error.path}"]`);
  assert.equal(await box.count(), 1, `one error shown for ${error.path}`);
  assert.equal(await box.getAttribute('data-code'), error.code);
  assert.ok((await box.textContent()).includes(error.message), 'the engine message is shown');
  assert.equal(await page.locator(fieldSelector).getAttribute('aria-invalid'), 'true', 'the field is marked');
  // Next to it: the error is the first error-ish thing after the field in the document.
  const adjacent = await page.locator(fieldSelector).evaluate((field, path) => {
    const box = document.querySelector(`.field-error[data-path="${path}"]`);
    const container = field.closest('tr') ?? field.closest('.row, label') ?? field;
    const next = container.nextElementSibling;
    return next === box || next?.contains(box);
  }, error.path);
  assert.ok(adjacent, 'the error sits right after its field');
  assert.equal(await page.locator('#r-total').getAttribute('data-value'), '', 'no stale total');
  return error;
}

const input = (line, field) => `#lines tr[data-line="${line}"] input[data-field="${field}"]`;
async function setRange(value) {
  await page.locator('#redeem-range').evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

test('on load: the SPEC §2 cart for m-001, no redemption', async () => {
  const q = await assertShowsQuote();
  assert.equal(q.total, '1615000');
  // The redemption controls are limited by the quote.
  const range = await page.locator('#redeem-range').evaluate((el) => ({ max: el.max, step: el.step, min: el.dataset.minPoints }));
  assert.deepEqual(range, { max: String(q.max_redeemable_points), step: '1', min: '10' });
});

test('Max → SPEC §2 worked example (hand-checked: total 1315000, earned 32)', async () => {
  await page.click('#redeem-max');
  expected.redeem_points = 'max';
  const q = await assertShowsQuote();
  assert.equal(q.total, '1315000');
  assert.equal(q.earned_points, 32);
  assert.equal((await page.textContent('#r-total')).trim(), '1,315,000 VND');
  assert.equal((await page.textContent('#r-earned_points')).trim(), '32');
  assert.equal(await page.inputValue('#redeem'), '300');
});

test('typing a quantity re-quotes', async () => {
  await page.fill(input('A', 'quantity'), '3');
  expected.cart.lines[0].quantity = 3;
  await assertShowsQuote();
});

test('moving the slider redeems that many points; below min_points it snaps', async () => {
  await setRange(120);
  expected.redeem_points = 120;
  await assertShowsQuote();
  assert.equal(await page.inputValue('#redeem'), '120');
  await setRange(4); // going down past min_points (10) → 0
  expected.redeem_points = 0;
  await assertShowsQuote();
  await setRange(3); // going up from 0 into (0, 10) → 10
  expected.redeem_points = 10;
  await assertShowsQuote();
});

test('a typed redemption below the minimum: the engine error next to the redeem field', async () => {
  await page.fill('#redeem', '5');
  expected.redeem_points = 5;
  const error = await assertShowsError('#redeem');
  assert.equal(error.code, 'redemption_below_minimum');
  await page.fill('#redeem', '250');
  expected.redeem_points = 250;
  await assertShowsQuote();
});

test('a unit price with too many decimals: the error under that line', async () => {
  await page.fill(input('B', 'unit_price'), '12.5');
  expected.cart.lines[1].unit_price = '12.5';
  const error = await assertShowsError(input('B', 'unit_price'));
  assert.equal(error.path, 'cart.lines[1].unit_price');
  await page.fill(input('B', 'unit_price'), '990000');
  expected.cart.lines[1].unit_price = '990000';
  await assertShowsQuote();
});

test('the slider from the keyboard: 0 → 10 (min_points) → 11 → 12, never back to 0 (issue 14)', async () => {
  await page.click('#redeem-none');
  expected.redeem_points = 0;
  await assertShowsQuote();
  await page.focus('#redeem-range');
  for (const points of [10, 11, 12]) {
    await page.keyboard.press('ArrowRight');
    expected.redeem_points = points;
    await assertShowsQuote();
    assert.equal(await page.inputValue('#redeem-range'), String(points));
  }
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft'); // 12 → 11 → 10 → below min_points: 0
  expected.redeem_points = 0;
  await assertShowsQuote();
  assert.equal(await page.inputValue('#redeem-range'), '0');
});

test('an invalid line: the redemption hint does not claim "Up to 0 points" (issue 14)', async () => {
  await page.fill(input('B', 'unit_price'), 'abc');
  expected.cart.lines[1].unit_price = 'abc';
  await assertShowsError(input('B', 'unit_price'));
  const hint = await page.textContent('#redeem-info');
  assert.doesNotMatch(hint, /Up to 0 points/);
  assert.match(hint, /Correct the order/);
  await page.fill(input('B', 'unit_price'), '990000');
  expected.cart.lines[1].unit_price = '990000';
  await assertShowsQuote();
  assert.match(await page.textContent('#redeem-info'), /^Up to \d+ points/);
});

test('adding and removing lines', async () => {
  const cap = CATALOG.find((i) => i.sku === 'CAP-07');
  await page.click('.quick-add[data-sku="CAP-07"]');
  expected.cart.lines.push({ id: 'L3', sku: cap.sku, category: cap.category, quantity: 1, unit_price: cap.unit_price });
  await assertShowsQuote();
  const gift = CATALOG.find((i) => i.sku === 'GC-500');
  await page.click('.quick-add[data-sku="GC-500"]');
  expected.cart.lines.push({ id: 'L4', sku: gift.sku, category: gift.category, quantity: 1, unit_price: gift.unit_price });
  await assertShowsQuote();
  await page.click('#lines tr[data-line="A"] button.remove');
  expected.cart.lines.shift();
  await assertShowsQuote();
});

test('other members: gold, inactive (notes say why nothing is earned)', async () => {
  await page.selectOption('#member', '1');
  Object.assign(expected, { member: { ...MEMBERS[1] }, redeem_points: 0 });
  const gold = await assertShowsQuote();
  assert.equal(gold.tier, 'gold');
  await page.click('#redeem-max');
  expected.redeem_points = 'max';
  await assertShowsQuote();
  await page.selectOption('#member', '3');
  Object.assign(expected, { member: { ...MEMBERS[3] }, redeem_points: 0 });
  const inactive = await assertShowsQuote();
  assert.ok(inactive.notes.length > 0, 'a note explains the inactive member');
  assert.equal(await page.locator('#notes li').count(), inactive.notes.length);
});

test('SKU search: typing filters the catalogue, Enter adds the first match', async () => {
  await page.locator('#sku-search').pressSequentially('trail', { delay: 20 });
  const shown = await page.locator('#sku-results button').evaluateAll((bs) => bs.map((b) => b.dataset.sku));
  assert.deepEqual(shown, searchCatalog('trail').map((i) => i.sku));
  assert.ok(shown.length >= 1);
  await page.press('#sku-search', 'Enter');
  const item = CATALOG.find((i) => i.sku === shown[0]);
  expected.cart.lines.push({ id: 'L5', sku: item.sku, category: item.category, quantity: 1, unit_price: item.unit_price });
  await assertShowsQuote();
  assert.equal(await page.inputValue('#sku-search'), '', 'the search is cleared');
  // Clicking a result adds it too.
  await page.fill('#sku-search', 'sock');
  await page.click('#sku-results button[data-sku="SCK-03"]');
  const socks = CATALOG.find((i) => i.sku === 'SCK-03');
  expected.cart.lines.push({ id: 'L6', sku: socks.sku, category: socks.category, quantity: 1, unit_price: socks.unit_price });
  await assertShowsQuote();
  // By keyboard: type, ArrowDown into the results, ArrowDown to the second, Enter.
  await page.fill('#sku-search', '');
  await page.locator('#sku-search').pressSequentially('acc', { delay: 15 });
  const accessories = searchCatalog('acc');
  assert.ok(accessories.length >= 2);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const second = accessories[1];
  expected.cart.lines.push({ id: 'L7', sku: second.sku, category: second.category, quantity: 1, unit_price: second.unit_price });
  await assertShowsQuote();
  await page.click('#lines tr[data-line="L7"] button.remove');
  expected.cart.lines.pop();
  await assertShowsQuote();
  await page.fill(input('L6', 'quantity'), '4');
  expected.cart.lines.at(-1).quantity = 4;
  await assertShowsQuote();
});

test('a member from the generated sample (generate → replay snapshot); the slider by keyboard and mouse', async () => {
  // The same sample in Node: generate with the same options, replay each history, take the snapshot.
  const engine = new esm.Engine(POLICY);
  const sample = replaySample(engine, sampleHistories(esm.generate), SAMPLE_AS_OF, esm.LoyaltyError);
  engine.free();
  const options = await page.locator('#member optgroup:nth-of-type(2) option').evaluateAll((os) => os.map((o) => o.value));
  assert.equal(options.length, sample.replayed.length, 'every replayable generated member is offered');
  const k = sample.replayed.findIndex((r) => r.replay.snapshot.status === 'active' && r.replay.snapshot.points >= 100);
  assert.ok(k >= 0, 'the sample has an active member with points');
  const snapshot = sample.replayed[k].replay.snapshot;
  await page.selectOption('#member', `g${k}`);
  Object.assign(expected, { member: { ...snapshot }, redeem_points: 0 });
  const q0 = await assertShowsQuote();
  assert.equal(await page.inputValue('#member-points'), String(snapshot.points));

  // Keyboard: End → the maximum, ArrowLeft → one step less, Home → 0.
  await page.focus('#redeem-range');
  await page.keyboard.press('End');
  expected.redeem_points = q0.max_redeemable_points;
  const qMax = await assertShowsQuote();
  assert.equal(qMax.redeemed_points, q0.max_redeemable_points);
  await page.keyboard.press('ArrowLeft');
  expected.redeem_points = q0.max_redeemable_points - (POLICY.redemption.step ?? 1);
  await assertShowsQuote();
  await page.keyboard.press('Home');
  expected.redeem_points = 0;
  await assertShowsQuote();

  // Mouse: drag the thumb from the left end to about 60 % of the track.
  const box = await page.locator('#redeem-range').boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 3, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.35, y, { steps: 4 });
  await page.mouse.move(box.x + box.width * 0.6, y, { steps: 4 });
  await page.mouse.up();
  const dragged = Number(await page.inputValue('#redeem'));
  assert.ok(dragged >= POLICY.redemption.min_points && dragged <= q0.max_redeemable_points, `dragged to ${dragged}`);
  expected.redeem_points = dragged;
  const q = await assertShowsQuote();
  assert.equal(q.redeemed_points, dragged);
  assert.equal(await page.inputValue('#redeem-range'), String(dragged));
});

test('an invalid policy: the error next to the policy editor', async () => {
  await page.click('#policy-section summary');
  await page.fill('#policy', JSON.stringify({ ...POLICY, schema: 2 }));
  await page.click('#policy-apply');
  let thrown;
  try {
    new esm.Engine({ ...POLICY, schema: 2 });
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof esm.LoyaltyError);
  const box = page.locator(`.field-error[data-path="${thrown.path}"]`);
  assert.equal(await box.count(), 1);
  assert.equal(await box.getAttribute('data-code'), thrown.code);
  assert.ok((await box.textContent()).includes(thrown.message));
  assert.equal(await page.locator('#policy').getAttribute('aria-invalid'), 'true');
  await page.click('#policy-reset');
  await assertShowsQuote();
});

test('the POS runs on the core module: only loyalty_engine_core_bg.wasm is fetched', async () => {
  const fetched = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname).filter((p) => p.startsWith('/pkg/')),
  );
  assert.ok(fetched.includes('/pkg/core/web.js'), fetched.join(', '));
  assert.deepEqual(fetched.filter((p) => p.endsWith('.wasm')), ['/pkg/wasm/loyalty_engine_core_bg.wasm']);
  assert.ok(!fetched.includes('/pkg/web.js') && !fetched.includes('/pkg/wasm/loyalty_engine.js'), 'not the full entry');
});

test('no console errors, failed requests or uncaught exceptions', () => {
  assert.deepEqual(problems, []);
});
