// The admin page's remaining flows and the POS refund by receipt on the real server (issues 14
// and 18): `loyalty serve --demo` with a fixed clock, driven in Chromium, every figure checked
// against the API and the engine (the npm package in Node, the library `loyalty simulate` runs).
// Flows: online transaction entry (the booked points are the engine's quote), cards (a card type,
// a batch and its CSV, an activation, a lost card replaced with its balance), webhooks, a members
// NDJSON import (the job completes, the member is found), the POS refund by receipt (the balance
// after it is the server's replay), and last the policy draft → validate → simulate → publish
// (it changes the programme for what follows). Screenshots with SCREENSHOTS=1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Engine, init, simulate } from '../../pkg/node.mjs';
import { ROOT } from '../support/paths.js';
import { completionsOnNewLine, launch } from './browser.js';
import { CLOCK, Client, startLoyaltyServer } from './loyalty-server.js';

let browser;
let srv;
let admin;
let till;
const SHOTS = process.env.SCREENSHOTS === '1';

before(async () => {
  [browser, srv] = await Promise.all([launch(), startLoyaltyServer(), init()]);
  admin = await Client.admin(srv.url, srv.creds['admin user'], srv.creds['admin password']);
  till = Client.till(srv.url, srv.creds['till key']);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function open(pathname, { viewport = { width: 1280, height: 900 }, lang = 'en' } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  await context.addInitScript((l) => localStorage.setItem('loyalty.lang', l), lang);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${srv.url}${pathname}`);
  return { context, page, problems };
}

async function shot(page, name, fullPage = false) {
  if (!SHOTS) return;
  const dir = path.join(ROOT, 'docs', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage });
}

/** Desktop and 390 px screenshots in both languages, and no sideways scrolling at 390 px. */
async function shots(page, name, select) {
  for (const lang of ['en', 'vi']) {
    await page.selectOption('#lang', lang);
    await page.setViewportSize({ width: 1280, height: 900 });
    if (select) await page.locator(select).scrollIntoViewIfNeeded();
    await shot(page, `${name}${lang === 'vi' ? '-vi' : ''}`);
    await page.setViewportSize({ width: 390, height: 844 });
    if (select) await page.locator(select).scrollIntoViewIfNeeded();
    await shot(page, `${name}-phone${lang === 'vi' ? '-vi' : ''}`);
    assert.equal(await sideways(page), 0, `${name} (${lang}): no sideways scrolling at 390 px`);
  }
  await page.selectOption('#lang', 'en');
  await page.setViewportSize({ width: 1280, height: 900 });
}

const sideways = (page) => page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));

async function adminLogin(page) {
  await page.waitForSelector('body[data-ready="1"]');
  await page.fill('#user', srv.creds['admin user']);
  await page.fill('#password', srv.creds['admin password']);
  await page.click('#login button[type="submit"]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('body[data-results]');
}

/** page.waitForFunction, failing with what the page said (its message lines). */
async function until(page, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: 30_000 });
  } catch (e) {
    const said = await page.evaluate(() => [...document.querySelectorAll('#message, #policy-result, #en-result, #till-refund-result, #im-error')].map((el) => `${el.id}: ${el.textContent}`).join(' | '));
    throw new Error(`${e.message}\npage: ${said}`);
  }
}

async function tab(page, name) {
  await page.click(`[role="tab"][data-tab="${name}"]`);
  await page.waitForSelector(`#tab-${name}:not([hidden])`);
}

/** Active demo members with a phone and an active card, not used by another test. */
const used = new Set();
async function activeMember() {
  const r = await admin.get('/v1/members?status=active&limit=100');
  const m = r.body.items.find((x) => !used.has(x.id) && x.phone && x.snapshot.points > 0 && x.cards.some((c) => c.state === 'active'));
  assert.ok(m, 'the demo has active members with a card');
  used.add(m.id);
  return { ...m, card: m.cards.find((c) => c.state === 'active').number };
}

const activePolicy = async () => (await till.get('/v1/policies/active')).body;

test('admin online transaction entry: the booked points are the engine quote', async () => {
  const m = await activeMember();
  const before = (await admin.get(`/v1/members/${m.id}`)).body;
  const snapshot = (await till.get(`/v1/members/lookup?card=${m.card}`)).body.snapshot;
  const { context, page, problems } = await open('admin/');
  await adminLogin(page);
  await tab(page, 'entry');
  await page.fill('#en-card', m.card);
  await page.selectOption('#en-store', 'hcm-01');
  await page.fill('#en-at', '2026-03-07T09:30');
  // The native picker is drawn in the browser's language; the hint says what was chosen in the page's.
  assert.equal(await page.textContent('#en-at-hint'), 'Chosen: 07/03/2026 09:30');
  assert.equal(await page.getAttribute('#en-at', 'aria-describedby'), 'en-at-hint');
  await page.fill('#en-doc', 'ONL-TEST-1');
  const row = page.locator('#en-lines tbody tr').first();
  await row.locator('[data-field="sku"]').fill('RUN-42');
  await row.locator('[data-field="category"]').fill('shoes');
  await row.locator('[data-field="quantity"]').fill('1');
  // Typed as a Vietnamese cashier writes it.
  await row.locator('[data-field="price"]').fill('1.200.000');
  await page.click('#entry button[type="submit"]');
  await until(page, () => document.querySelector('#en-result').textContent.length > 0 && /Sale booked/.test(document.querySelector('#en-result').textContent));
  const orderId = (await page.textContent('#en-result')).split(': ')[1].split(' · ')[0];
  const order = (await admin.get(`/v1/orders/${orderId}`)).body;
  assert.equal(order.state, 'booked');
  // The engine's quote of the same receipt with the member's snapshot before it.
  const engine = new Engine((await activePolicy()).policy);
  const q = engine.quote({
    member: snapshot,
    cart: { id: 'ONL-TEST-1', at: '2026-03-07T09:30:00+07:00', store: 'hcm-01', channel: 'online', lines: [{ id: 'L1', sku: 'RUN-42', category: 'shoes', quantity: 1, unit_price: '1200000' }] },
    redeem_points: 0,
  });
  assert.equal(order.quote.earned_points, q.earned_points);
  assert.equal(order.quote.total, q.total);
  assert.ok(q.earned_points >= 12, `1,200,000 ₫ earns at least 12 points (${q.earned_points})`);
  const afterState = (await admin.get(`/v1/members/${m.id}`)).body;
  assert.equal(afterState.points.available + afterState.points.pending, before.points.available + before.points.pending + q.earned_points);
  assert.deepEqual(problems, []);
  await context.close();
});

test('admin cards: a type, a batch and its CSV, an activation, a lost card replaced with its balance', async () => {
  const { context, page, problems } = await open('admin/');
  await adminLogin(page);
  await tab(page, 'cards');
  await page.fill('#nt-id', 'gift');
  await page.fill('#nt-name', 'Gift card');
  await page.fill('#nt-prefix', '7700');
  await page.fill('#nt-length', '12');
  await page.click('#new-type button[type="submit"]');
  await until(page, () => [...document.querySelectorAll('#types tbody tr')].some((tr) => tr.cells[0].textContent === 'gift'));
  const types = (await admin.get('/v1/card-types')).body.items;
  assert.ok(types.some((x) => x.id === 'gift' && x.prefix === '7700' && x.length === 12));
  await page.selectOption('#nb-type', 'gift');
  await page.fill('#nb-count', '3');
  await page.click('#new-batch button[type="submit"]');
  await until(page, () => [...document.querySelectorAll('#batches tbody tr')].some((tr) => tr.cells[1].textContent === 'gift'));
  const batch = (await admin.get('/v1/card-batches')).body.items.find((b) => b.type === 'gift');
  assert.equal(batch.unassigned, 3);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#batches tbody tr', { hasText: 'gift' }).locator('a').click(),
  ]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
  assert.equal(csv.length, 4, `a header and 3 cards: ${csv.join(' | ')}`);
  const numbers = csv.slice(1).map((l) => l.split(',')[0].replace(/"/g, ''));
  assert.equal(numbers[0], batch.first);
  assert.equal(numbers[2], batch.last);
  for (const n of numbers) assert.match(n, /^7700\d{8}$/);
  // Activate the first card for a new customer's phone.
  await page.fill('#ac-card', numbers[0]);
  await page.fill('#ac-phone', '0912 345 678');
  await page.click('#activate button[type="submit"]');
  await until(page, () => /^Activate card: .* → /.test(document.querySelector('#message').textContent));
  const bound = (await till.get(`/v1/members/lookup?card=${numbers[0]}`)).body;
  assert.equal(bound.phone, '+84912345678');
  assert.equal((await admin.get('/v1/card-batches')).body.items.find((b) => b.type === 'gift').unassigned, 2);
  // A member with points loses a card: blocked, a replacement keeps the balance.
  const m = await activeMember();
  const before = (await admin.get(`/v1/members/${m.id}`)).body;
  assert.ok(before.points.available > 0, 'a member with points');
  await page.fill('#bl-card', m.card);
  await page.fill('#bl-reason', 'lost');
  await page.check('#bl-replace');
  await page.click('#block button[type="submit"]');
  await until(page, () => /^Block card: .* → /.test(document.querySelector('#message').textContent));
  const replacement = (await page.textContent('#message')).split('→ ')[1].trim();
  const viaNew = (await till.get(`/v1/members/lookup?card=${replacement}`)).body;
  assert.equal(viaNew.id, m.id);
  assert.equal(viaNew.snapshot.points, before.snapshot?.points ?? before.points.available);
  assert.equal((await admin.get(`/v1/members/${m.id}`)).body.points.available, before.points.available);
  const old = await till.get(`/v1/members/lookup?card=${m.card}`);
  assert.notEqual(old.status, 200, 'the lost card no longer finds the member');
  await shots(page, 'admin-cards', '#types');
  assert.deepEqual(problems, []);
  await context.close();
});

test('admin settings: a webhook added, its secret shown once, listed', async () => {
  const { context, page, problems } = await open('admin/');
  await adminLogin(page);
  await tab(page, 'settings');
  // Every kind (the default), then one for receipts and tier changes only, by keyboard.
  await page.fill('#wh-url', 'https://crm.example/hooks/loyalty');
  await page.press('#wh-url', 'Enter');
  await page.waitForSelector('#wh-secret-box:not([hidden])');
  const secret = await page.textContent('#wh-secret');
  assert.match(secret, /^[0-9a-f]{64}$/);
  await until(page, () => [...document.querySelectorAll('#webhooks tbody tr')].some((tr) => tr.cells[0].textContent === 'https://crm.example/hooks/loyalty'));
  await page.fill('#wh-url', 'http://10.0.0.5:8080/loyalty');
  for (const kind of ['points_expiring', 'points_expired', 'one_time_code']) {
    await page.focus(`#wh-events input[value="${kind}"]`);
    await page.keyboard.press('Space');
  }
  await page.focus('#wh-url');
  await page.keyboard.press('Enter');
  await until(page, () => document.querySelectorAll('#webhooks tbody tr').length === 2);
  const secret2 = await page.textContent('#wh-secret');
  assert.notEqual(secret2, secret, 'each webhook its own secret');
  const list = (await admin.get('/v1/webhooks')).body.items;
  // Both made at the server's fixed clock: listed by (created_at, id), so in either order here.
  const byUrl = (a, b) => a[0].localeCompare(b[0]);
  assert.deepEqual(list.map((w) => [w.url, w.events]).sort(byUrl), [['http://10.0.0.5:8080/loyalty', ['tier_up', 'tier_down', 'receipt']], ['https://crm.example/hooks/loyalty', null]]);
  const shown = await page.$$eval('#webhooks tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]));
  assert.deepEqual(shown.sort(byUrl), [['http://10.0.0.5:8080/loyalty', 'Tier up, Tier down, Receipt'], ['https://crm.example/hooks/loyalty', 'All']]);
  assert.ok(!JSON.stringify(list).includes(secret) && !JSON.stringify(list).includes(secret2), 'the list never shows a secret');
  await shots(page, 'admin-settings', '#new-webhook');
  assert.deepEqual(problems, []);
  await context.close();
});

test('admin import: a members NDJSON uploaded, the job completes, the member is found', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-import-'));
  const file = path.join(dir, 'members.ndjson');
  const lines = [
    { member: { id: 'imp-001', status: 'active', joined_at: '2025-06-01T00:00:00+07:00' }, phone: '0903 555 001', name: 'Trần Thị Nhập',
      events: [{ id: 'ob-1', type: 'opening_balance', at: '2026-01-01T00:00:00+07:00', points: 750 }] },
    { member: { id: 'imp-002', status: 'inactive', joined_at: '2025-07-01T00:00:00+07:00' }, phone: '0903 555 002', events: [] },
  ];
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const { context, page, problems } = await open('admin/');
  await adminLogin(page);
  await tab(page, 'import');
  // The file input: visually hidden, shown as a button in the page's language with the chosen name.
  assert.equal(await page.textContent('label.file-button[for="im-members"]'), 'Choose a file…');
  assert.equal(await page.textContent('#im-members-chosen'), 'No file chosen');
  await page.setInputFiles('#im-members', file);
  assert.equal(await page.textContent('#im-members-chosen'), path.basename(file));
  await page.selectOption('#lang', 'vi');
  assert.equal(await page.textContent('label.file-button[for="im-members"]'), 'Chọn tệp…');
  await page.selectOption('#lang', 'en');
  await page.click('#import button[type="submit"]');
  await page.waitForSelector('body[data-import-state="done"]', { timeout: 60_000 });
  assert.equal(await page.textContent('[data-count="members_created"]'), '2');
  assert.equal(await page.getAttribute('#im-progress', 'value'), '1');
  const href = await page.getAttribute('#im-report', 'href');
  const report = (await admin.get(href)).body;
  assert.equal(report.import.state, 'done');
  assert.equal(report.import.counts.members_created, 2);
  assert.deepEqual(report.rejected, []);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#im-report')]);
  assert.equal(JSON.parse(fs.readFileSync(await download.path(), 'utf8')).import.id, report.import.id);
  await shots(page, 'admin-import', '#import');
  // The member is found by name with diacritics ignored, with the imported balance.
  await tab(page, 'members');
  await page.fill('#q', 'Tran Thi Nhap');
  await page.click('#search button[type="submit"]');
  await until(page, () => document.querySelector('#members tr[data-id="imp-001"]'));
  assert.equal((await admin.get('/v1/members/imp-001')).body.points.available, 750);
  assert.equal((await till.get('/v1/members/lookup?phone=0903555001')).body.id, 'imp-001');
  assert.deepEqual(problems, []);
  await context.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('POS refund by receipt: lines picked by keyboard, the balance after is the server replay', async () => {
  const m = await activeMember();
  const lookup = (await till.get(`/v1/members/lookup?card=${m.card}`)).body;
  const engine = new Engine((await activePolicy()).policy);
  const request = {
    member: lookup.snapshot,
    cart: { id: 'R-REFUND-1', at: CLOCK, store: 'hcm-01', channel: 'pos', lines: [
      { id: 'A', sku: 'TEE-01', category: 'apparel', quantity: 2, unit_price: '250000' },
      { id: 'B', sku: 'RUN-42', category: 'shoes', quantity: 1, unit_price: '1200000' },
    ] },
    redeem_points: 0,
  };
  const quote = engine.quote(request);
  const sold = await till.post('/v1/orders', { document_no: 'R-REFUND-1', card: m.card, quote_request: request, quote, confirm: true }, { 'idempotency-key': 'k-refund-sale-1' });
  assert.equal(sold.status, 201, sold.text);
  const afterSale = (await admin.get(`/v1/members/${m.id}`)).body;
  const { context, page, problems } = await open('pos/');
  await page.waitForSelector('body[data-till-ready="1"]', { timeout: 60_000 });
  await page.fill('#till-key', srv.creds['till key']);
  await page.click('#till-login button[type="submit"]');
  await page.waitForSelector('body[data-till="1"]');
  await page.click('#till-refund-box summary');
  await page.fill('#till-refund-order', sold.body.order_id);
  await page.press('#till-refund-order', 'Enter');
  await until(page, (id) => document.body.dataset.refundOrder === id, sold.body.order_id);
  assert.equal(await page.locator('#till-refund-lines tbody tr').count(), 2);
  // Keyboard only: the first quantity has the focus; return the shoes (line B) only.
  assert.equal(await page.evaluate(() => document.activeElement.dataset.line), 'A');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.line), 'B');
  await page.keyboard.type('1');
  await page.keyboard.press('Enter');
  await until(page, () => document.body.dataset.lastRefund);
  const back = Number(await page.getAttribute('#till-refund-result', 'data-points-back'));
  const shown = Number(await page.getAttribute('#till-refund-result', 'data-available'));
  const replay = (await admin.get(`/v1/members/${m.id}`)).body;
  assert.equal(shown, replay.points.available, 'the till shows the server replay');
  assert.equal(afterSale.points.available - back, replay.points.available);
  // The shoes' share of the points: the refund takes back what the line earned.
  const shoes = quote.lines?.find((l) => l.id === 'B');
  if (shoes?.earned_points !== undefined) assert.equal(back, shoes.earned_points);
  assert.ok(back > 0 && back < quote.earned_points, `part of ${quote.earned_points} taken back: ${back}`);
  const order = (await till.get(`/v1/orders/${sold.body.order_id}`)).body;
  assert.equal(order.state, 'booked');
  // The screen now shows the server's refunded quantities: B 1 of 1 back (nothing left: its input
  // disabled), A 0 of 2.
  await until(page, () => document.body.dataset.refundsSeen === '1');
  const row = async (line) => page.evaluate((l) => {
    const tr = document.querySelector(`#till-refund-lines tr[data-line="${l}"]`);
    const input = tr.querySelector('input');
    return { sold: tr.querySelector('[data-col="sold"]').textContent, refunded: tr.querySelector('[data-col="refunded"]').textContent,
      max: input.max, disabled: input.disabled, hint: tr.querySelector('small').textContent };
  }, line);
  assert.deepEqual(await row('B'), { sold: '1', refunded: '1', max: '0', disabled: true, hint: 'Fully refunded' });
  assert.deepEqual(await row('A'), { sold: '2', refunded: '0', max: '2', disabled: false, hint: 'At most 2' });
  assert.deepEqual(order.refunds.lines, [
    { line_id: 'A', quantity: 2, refunded: 0, refundable: 2 },
    { line_id: 'B', quantity: 1, refunded: 1, refundable: 0 },
  ]);
  // A partial refund of A (1 of 2): A shows 1 refunded, at most 1 more.
  await page.fill('#till-refund-lines input[data-line="A"]', '1');
  await page.click('#till-refund-book');
  await until(page, () => document.body.dataset.refundsSeen === '2');
  assert.deepEqual(await row('A'), { sold: '2', refunded: '1', max: '1', disabled: false, hint: 'At most 1' });
  const afterPartial = (await admin.get(`/v1/members/${m.id}`)).body.points.available;
  // The order loaded afresh shows the same figures (the server's, not the page's memory).
  await page.fill('#till-refund-order', sold.body.order_id);
  await page.press('#till-refund-order', 'Enter');
  await until(page, () => document.querySelector('#till-refund-lines tr[data-line="A"] [data-col="refunded"]')?.textContent === '1');
  assert.deepEqual(await row('B'), { sold: '1', refunded: '1', max: '0', disabled: true, hint: 'Fully refunded' });
  await shots(page, 'pos-refund', '#till-refund-box');
  // More than remains (2 > 1) is refused on the screen, with the reason; nothing is booked.
  await page.fill('#till-refund-lines input[data-line="A"]', '2');
  await page.click('#till-refund-book');
  await until(page, () => document.querySelector('#till-refund-result').dataset.code === 'refund_exceeds_order');
  assert.match(await page.textContent('#till-refund-result'), /at most 1 can still be returned/);
  assert.equal(await page.getAttribute('#till-refund-lines input[data-line="A"]', 'aria-invalid'), 'true');
  assert.equal((await admin.get(`/v1/members/${m.id}`)).body.points.available, afterPartial);
  assert.equal((await till.get(`/v1/orders/${sold.body.order_id}`)).body.refunds.ids.length, 2);
  assert.deepEqual(problems.filter((p) => !/40[09]|Failed to load resource/.test(p)), []);
  await context.close();
});

test('admin policies: draft → validate → simulate over the stored members → publish', async () => {
  const active = await activePolicy();
  const draft = structuredClone(active.policy);
  draft.earning.points = 2 * (draft.earning.points ?? 1);
  const { context, page, problems } = await open('admin/', { lang: 'vi' });
  await adminLogin(page);
  await tab(page, 'policies');
  assert.equal(await page.textContent('#effective-hint'), 'Chưa chọn ngày giờ (hiển thị dạng ngày/tháng/năm giờ:phút)');
  await until(page, () => document.querySelector('#draft').value.length > 10);
  // The draft is edited in the simulator's CodeMirror editor (www/simulator/editor.js), #draft its model.
  const content = page.locator('#draft-editor .cm-content');
  assert.equal(await page.getAttribute('#draft', 'data-editor'), 'codemirror');
  assert.equal(await page.isHidden('#draft'), true);
  assert.deepEqual(JSON.parse(await content.textContent()), active.policy, 'the editor shows the active policy');
  assert.equal(await content.getAttribute('aria-label'), 'Bản nháp (JSON)');
  // Completion from the policy's JSON Schema: a field name offered as it is typed.
  const schema = (await till.get('/v1/schemas/policy.json')).body;
  const field = 'expiry_notice_days';
  assert.ok(Object.keys(schema.properties).includes(field));
  const without = structuredClone(draft);
  delete without[field];
  await content.fill(JSON.stringify(without, null, 2));
  const offered = await completionsOnNewLine(page, content, '"expiry_n');
  assert.ok(offered[0].startsWith(field), offered.join());
  await page.keyboard.press('Escape');
  // A value outside the schema: marked inline in the editor.
  await content.fill(JSON.stringify({ ...draft, money_rounding: 'sideways' }, null, 2));
  await page.locator('#draft-editor .cm-lintRange-error').first().waitFor();
  // What validate and simulate use is what the editor holds.
  await content.fill(JSON.stringify(draft, null, 2));
  assert.deepEqual(JSON.parse(await page.inputValue('#draft')), draft);
  assert.equal(await page.isDisabled('#simulate'), true, 'simulate after validate');
  await page.click('#validate');
  await until(page, () => document.body.dataset.draft);
  const digest = await page.evaluate(() => document.body.dataset.draft);
  await page.fill('#sim-expected', '0,5');
  await page.click('#simulate');
  await page.waitForSelector('#sim:not([hidden])', { timeout: 60_000 });
  // The engine's report over the same members (each member's export: as it joined, its events).
  let members = [];
  let cursor = null;
  do {
    const r = await admin.get(`/v1/members?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    members.push(...r.body.items.map((x) => x.id));
    cursor = r.body.next_cursor;
  } while (cursor);
  members = [...new Set(members)].sort();
  const histories = [];
  for (const id of members) {
    const x = (await admin.get(`/v1/members/${encodeURIComponent(id)}/export`)).body;
    histories.push({ member: { id, status: x.member.status_at_joining, joined_at: x.member.joined_at }, events: x.events.map((e) => e.event) });
  }
  const asOf = new Date(Date.parse(CLOCK)).toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const expected = simulate({ policy: draft, baseline: active.policy, members: histories, as_of: asOf, expected_redemption: '0.5' });
  const server = await page.evaluate(() => window.__admin.simulation);
  assert.deepEqual(server, expected, 'the page shows the engine report');
  const row = async (label) => page.evaluate((l) => {
    const tr = document.querySelector(`#sim-table tr[data-row="${l}"]`);
    return { before: tr.dataset.before, after: tr.dataset.after, text: [...tr.cells].map((c) => c.textContent) };
  }, label);
  const issued = await row('Points issued');
  assert.equal(Number(issued.before), expected.diff.baseline.points.issued);
  assert.equal(Number(issued.after), expected.points.issued);
  assert.ok(expected.points.issued > expected.diff.baseline.points.issued, 'double points issue more');
  const liability = await row('Liability');
  assert.equal(liability.after, expected.liability);
  // In Vietnamese: `1.315.000 ₫` grouping.
  const vnd = new Intl.NumberFormat('vi-VN', { style: 'currency', currency: 'VND', maximumFractionDigits: 0 }).format(Number(expected.liability));
  assert.equal(liability.text[2], vnd);
  assert.match(liability.text[2], /^[\d.]+\s₫$/);
  assert.equal(await page.textContent('#sim-table tr[data-row="Members simulated"] th'), 'Hội viên được mô phỏng');
  assert.equal(Number((await row('Members simulated')).after), members.length - expected.rejected.length);
  await shots(page, 'admin-policies', '#sim');
  // Publishing at an instant a version already starts at is refused (409, said on the page).
  await page.click('#publish');
  await until(page, () => /invalid_state/.test(document.querySelector('#message').textContent));
  assert.notEqual((await activePolicy()).policy_digest, digest);
  // From 18:00 tonight (programme time).
  await page.fill('#effective', '2026-03-07T18:00');
  await page.click('#publish');
  await until(page, () => document.body.dataset.published);
  const versions = (await admin.get('/v1/policies')).body.versions;
  assert.deepEqual(versions.at(-1).policy_digest, digest);
  assert.equal(versions.at(-1).effective_at, '2026-03-07T11:00:00+00:00');
  assert.notEqual((await activePolicy()).policy_digest, digest, 'not before 18:00');
  assert.equal((await admin.post('/v1/admin/clock', { now: '2026-03-07T18:00:00+07:00' })).status, 200);
  assert.equal((await activePolicy()).policy_digest, digest);
  assert.deepEqual(problems.filter((p) => !/status of 409/.test(p)), []);
  await context.close();
});

test('the simulator on the server: "Open in admin to publish" prefills the admin draft; validate → publish gives the draft\'s digest', async () => {
  const active = await activePolicy();
  const draft = structuredClone(active.policy);
  draft.earning.points = 3 * (active.policy.earning.points ?? 1);
  const { context, page, problems } = await open('simulator/');
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  // Served by `loyalty serve` (its /healthz and /admin/): the action is offered.
  assert.equal(await page.getAttribute('body', 'data-server'), '1');
  assert.equal(await page.isVisible('#open-admin'), true);
  await page.locator('#draft-editor .cm-content').fill(JSON.stringify(draft, null, 2));
  await until(page, () => document.body.dataset.valid === '1' && document.querySelector('#draft-digest').dataset.value);
  const digest = await page.getAttribute('#draft-digest', 'data-value');
  assert.equal(await page.isDisabled('#open-admin'), false);
  await page.click('#open-admin');
  await page.waitForURL(/\/admin\/#policies$/);
  // Publishing stays the admin's: the login first (its session and CSRF token), then the policies section.
  assert.equal(await page.isVisible('#login'), true);
  await adminLogin(page);
  await page.waitForSelector('#tab-policies:not([hidden])');
  assert.equal(await page.getAttribute('[role="tab"][data-tab="policies"]', 'aria-selected'), 'true');
  assert.equal(await page.inputValue('#draft'), JSON.stringify(draft, null, 2), 'the admin editor holds the simulator\'s draft');
  assert.deepEqual(JSON.parse(await page.locator('#draft-editor .cm-content').textContent()), draft);
  assert.equal(await page.isVisible('#draft-origin'), true);
  assert.match(await page.textContent('#draft-origin'), /^This draft came from the policy simulator \(\d\d\/\d\d\/\d{4} \d\d:\d\d\)\. Validate it/);
  assert.equal(await page.evaluate(() => localStorage.getItem('loyalty.simulator.handoff')), null, 'handed over once');
  assert.equal(await page.isDisabled('#publish'), true, 'publish after validate');
  await page.click('#validate');
  await until(page, () => document.body.dataset.draft);
  assert.equal(await page.evaluate(() => document.body.dataset.draft), digest, 'the server\'s digest is the simulator\'s validate digest');
  await page.fill('#effective', '2026-03-08T09:00');
  await page.click('#publish');
  await until(page, () => document.body.dataset.published);
  assert.equal(await page.evaluate(() => document.body.dataset.published), digest);
  const versions = (await admin.get('/v1/policies')).body.versions;
  assert.equal(versions.at(-1).policy_digest, digest);
  assert.equal(versions.at(-1).effective_at, '2026-03-08T02:00:00+00:00');
  // In Vietnamese, the notice too.
  await page.selectOption('#lang', 'vi');
  assert.match(await page.textContent('#draft-origin'), /^Bản nháp này được chuyển từ trang mô phỏng chính sách/);
  await page.selectOption('#lang', 'en');
  // A reload does not bring the handed-over draft back over the admin's editor.
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.isHidden('#draft-origin'), true);
  assert.deepEqual(problems, []);
  // From 09:00 on 8 March (programme time) the programme runs the simulator's draft.
  assert.equal((await admin.post('/v1/admin/clock', { now: '2026-03-08T09:00:00+07:00' })).status, 200);
  assert.equal((await activePolicy()).policy_digest, digest);
  assert.deepEqual((await activePolicy()).policy, draft);
  await context.close();
});
