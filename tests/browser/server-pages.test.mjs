// The pages on the real server (issue 14): `loyalty serve --demo` with a fixed clock, driven in
// Chromium as a cashier, an admin and a member would, every outcome checked through the API.
// Flows: POS sale online (hold + confirm), offline POS (three sales queued in IndexedDB, a reload,
// back online: three bookings, each once), an anonymous card activated at the till, the phone
// "change", a member deleted with the programme's totals unchanged, the member's one-time-code
// login. Screenshots (desktop and 390 px) go to docs/screenshots/ when SCREENSHOTS=1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { ROOT } from '../support/paths.js';
import { launch } from './browser.js';
import { Client, startLoyaltyServer } from './loyalty-server.js';

let browser;
let srv;
let admin;
let till;
const SHOTS = process.env.SCREENSHOTS === '1';

before(async () => {
  [browser, srv] = await Promise.all([launch(), startLoyaltyServer()]);
  admin = await Client.admin(srv.url, srv.creds['admin user'], srv.creds['admin password']);
  till = Client.till(srv.url, srv.creds['till key']);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** A fresh context (no cookies, storage, service worker) and a page that records problems. */
async function open(pathname, { viewport = { width: 1280, height: 900 }, lang = 'en' } = {}) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript((l) => localStorage.setItem('loyalty.lang', l), lang);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${srv.url}${pathname}`);
  return { context, page, problems };
}

async function shot(page, name) {
  if (!SHOTS) return;
  const dir = path.join(ROOT, 'docs', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: false });
}

/** An active demo member with a card and a phone. */
async function activeMember(skip = 0) {
  const r = await admin.get('/v1/members?status=active&limit=50');
  const m = r.body.items.filter((x) => x.phone && x.cards.some((c) => c.state === 'active'))[skip];
  assert.ok(m, 'the demo has active members with a card');
  return m;
}

async function tillLogin(page) {
  await page.waitForSelector('body[data-till-ready="1"]', { timeout: 60_000 });
  await page.fill('#till-key', srv.creds['till key']);
  await page.click('#till-login button[type="submit"]');
  await page.waitForSelector('body[data-till="1"]');
}

async function findMember(page, query) {
  await page.fill('#till-query', query);
  await page.press('#till-query', 'Enter');
  await page.waitForFunction((q) => window.__till.member && !document.querySelector('#till-member').textContent.includes('…'), query);
}

/** How far the page scrolls sideways (0: it fits the viewport). */
const sideways = (page) => page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));

const purchases = async (id) => (await admin.get(`/v1/members/${id}`)).body.history.filter((h) => h.type === 'purchase').length;

test('POS online: a member found by card, held, paid, booked', async () => {
  const m = await activeMember(0);
  const card = m.cards.find((c) => c.state === 'active').number;
  const before = await purchases(m.id);
  const { context, page, problems } = await open('pos/');
  await tillLogin(page);
  await findMember(page, card);
  assert.equal(await page.inputValue('#member-points'), String(m.snapshot.points));
  assert.equal(await page.getAttribute('#member-points', 'readonly'), '', 'the balance is not editable');
  await page.click('#till-hold');
  await page.waitForSelector('#till-confirm:not([hidden])');
  const quote = await page.evaluate(() => window.__pos.lastResponse);
  await page.click('#till-confirm');
  await page.waitForFunction(() => document.body.dataset.lastOrder);
  const orderId = await page.evaluate(() => document.body.dataset.lastOrder);
  const order = await till.get(`/v1/orders/${orderId}`);
  assert.equal(order.status, 200);
  assert.equal(order.body.state, 'booked');
  assert.equal(order.body.member_id ?? order.body.quote_request?.member?.id, m.id);
  assert.equal(await purchases(m.id), before + 1);
  const after = await admin.get(`/v1/members/${m.id}`);
  assert.equal(after.body.points.available, m.snapshot.points + quote.earned_points - quote.redeemed_points);
  await shot(page, 'pos-till');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'pos-till-phone');
  assert.equal(await sideways(page), 0, 'no sideways scrolling at 390 px');
  assert.deepEqual(problems, []);
  await context.close();
});

test('POS offline: three sales queued, a reload, back online: three bookings, each once', async () => {
  const m = await activeMember(1);
  const card = m.cards.find((c) => c.state === 'active').number;
  const before = await purchases(m.id);
  const { context, page } = await open('pos/');
  await tillLogin(page);
  await page.waitForSelector('body[data-offline-ready="1"]', { timeout: 60_000 });
  await findMember(page, card);
  await context.setOffline(true);
  await page.waitForSelector('body[data-online="0"]');
  const docs = [];
  for (let i = 0; i < 3; i++) {
    await page.waitForFunction(() => window.__pos.lastResponse);
    docs.push(await page.evaluate(() => window.__pos.lastRequest.cart.id));
    await page.click('#till-sell-offline');
    await page.waitForFunction((n) => Number(document.body.dataset.queued) === n, i + 1);
    await page.waitForTimeout(5);
  }
  assert.equal(new Set(docs).size, 3, 'three receipts');
  assert.equal(await purchases(m.id), before, 'nothing booked while offline');
  await page.reload();
  await page.waitForSelector('body[data-till-ready="1"]', { timeout: 60_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.queued), '3', 'the queue survives a reload');
  await context.setOffline(false);
  await page.waitForFunction(() => document.body.dataset.queued === '0', null, { timeout: 30_000 });
  await page.click('#till-sync');
  await page.waitForTimeout(300);
  assert.equal(await purchases(m.id), before + 3, 'three bookings');
  const entries = await page.evaluate(() =>
    new Promise((resolve) => {
      const r = indexedDB.open('loyalty-till', 1);
      r.onsuccess = () => {
        const q = r.result.transaction('queue').objectStore('queue').getAll();
        q.onsuccess = () => resolve(q.result);
      };
    }),
  );
  assert.equal(entries.filter((e) => e.state === 'booked').length, 3);
  // Sent again under its key (a till that lost the answer): the first answer, nothing new.
  const e = entries[0];
  const again = await till.post('/v1/orders', e.body, { 'idempotency-key': e.key });
  assert.equal(again.status, 201);
  assert.equal(again.body.order_id, e.order_id);
  assert.equal(await purchases(m.id), before + 3, 'each once');
  await context.close();
});

test('an anonymous card activated at the till', async () => {
  const b = await admin.post('/v1/card-batches', { type: 'standard', count: 2 });
  assert.equal(b.status, 201);
  const card = b.body.first;
  const { context, page, problems } = await open('pos/');
  await tillLogin(page);
  await findMember(page, card);
  await page.waitForSelector('#till-activate:not([hidden])');
  await page.fill('#till-activate-phone', '0909 123 456');
  await page.fill('#till-activate-name', 'Nguyễn Thị Mai');
  await page.click('#till-activate button[type="submit"]');
  await page.waitForFunction((c) => document.body.dataset.activated === c, card);
  const m = await till.get(`/v1/members/lookup?phone=${encodeURIComponent('+84909123456')}`);
  assert.equal(m.status, 200);
  assert.equal(m.body.status, 'active');
  assert.deepEqual(m.body.cards.map((c) => [c.number, c.state]), [[card, 'active']]);
  assert.deepEqual(problems, []);
  await context.close();
});

async function adminLogin(page) {
  await page.waitForSelector('body[data-ready="1"]');
  await page.fill('#user', srv.creds['admin user']);
  await page.fill('#password', srv.creds['admin password']);
  await page.click('#login button[type="submit"]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('body[data-results]');
}

test('admin: search ignoring diacritics, then the phone "change"', async () => {
  const m = await activeMember(2);
  const state = (await admin.get(`/v1/members/${m.id}`)).body;
  const { context, page, problems } = await open('admin/');
  await adminLogin(page);
  const family = m.name.split(' ')[0].normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd');
  await page.fill('#q', family);
  await page.click('#search button[type="submit"]');
  await page.waitForFunction((id) => document.querySelector(`#members tr[data-id="${id}"]`), m.id);
  await page.fill('#q', m.phone.replace('+84', '0'));
  await page.click('#search button[type="submit"]');
  await page.waitForFunction((id) => document.querySelectorAll('#members tbody tr').length === 1 && document.querySelector(`#members tr[data-id="${id}"]`), m.id);
  await page.click(`#members tr[data-id="${m.id}"]`);
  await page.waitForFunction((id) => document.body.dataset.member === id, m.id);
  await shot(page, 'admin');
  await page.fill('#move-phone', '0988 000 111');
  await page.fill('#move-reason', 'new SIM');
  await page.click('#move button[type="submit"]');
  await page.waitForFunction(() => document.body.dataset.moved);
  const newId = await page.evaluate(() => document.body.dataset.moved);
  const oldAfter = (await admin.get(`/v1/members/${m.id}`)).body;
  const newAfter = (await admin.get(`/v1/members/${newId}`)).body;
  assert.equal(oldAfter.status, 'excluded');
  assert.equal(oldAfter.points.available, 0);
  assert.equal(newAfter.points.available, state.points.available);
  assert.equal(newAfter.tier.id, state.tier.id);
  const lookup = await till.get(`/v1/members/lookup?phone=0988000111`);
  assert.equal(lookup.body.id, newId);
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'admin-phone');
  assert.equal(await sideways(page), 0, 'no sideways scrolling at 390 px');
  assert.deepEqual(problems, []);
  await context.close();
});

async function liability() {
  let sum = 0;
  let cursor = null;
  do {
    const r = await admin.get(`/v1/members?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    for (const m of r.body.items) sum += m.snapshot.points;
    cursor = r.body.next_cursor;
  } while (cursor);
  return sum;
}

test('admin: a member deleted, the programme totals unchanged', async () => {
  const m = await activeMember(3);
  const before = await liability();
  const stateBefore = (await admin.get(`/v1/members/${m.id}`)).body;
  const { context, page, problems } = await open('admin/');
  page.on('dialog', (d) => d.accept());
  await adminLogin(page);
  await page.fill('#q', m.id);
  await page.click('#search button[type="submit"]');
  await page.waitForFunction((id) => document.querySelector(`#members tr[data-id="${id}"]`), m.id);
  await page.focus(`#members tr[data-id="${m.id}"]`);
  await page.keyboard.press('Enter');
  await page.waitForFunction((id) => document.body.dataset.member === id, m.id);
  await page.fill('#erase-reason', 'customer asked');
  await page.click('#erase button[type="submit"]');
  await page.waitForFunction((id) => document.body.dataset.erased === id, m.id);
  const exp = (await admin.get(`/v1/members/${m.id}/export`)).body;
  assert.equal(exp.member.name, null);
  assert.equal(exp.member.phone, null);
  assert.deepEqual(exp.state.totals, stateBefore.totals);
  assert.equal(await liability(), before, 'the liability is unchanged');
  assert.deepEqual(problems, []);
  await context.close();
});

test('member lookup: one-time code login, balance and history', async () => {
  const m = await activeMember(4);
  const { context, page, problems } = await open('member/', { lang: 'vi' });
  await page.fill('#otp-who', m.phone);
  await page.click('#otp-request button[type="submit"]');
  await page.waitForSelector('#otp-verify:not([hidden])');
  const outbox = await admin.get('/v1/outbox?kind=one_time_code');
  const lines = String(outbox.text).trim().split('\n').map((l) => JSON.parse(l));
  const notice = lines.reverse().find((n) => n.member_id === m.id);
  assert.ok(notice, 'the code is in the outbox');
  const payload = typeof notice.payload === 'string' ? JSON.parse(notice.payload) : notice.payload;
  await page.fill('#otp-code', String(payload.code));
  await page.click('#otp-verify button[type="submit"]');
  await page.waitForFunction((id) => document.body.dataset.account === id, m.id);
  const state = (await admin.get(`/v1/members/${m.id}`)).body;
  assert.equal(await page.getAttribute('#a-available', 'data-value'), String(state.points.available));
  // Vietnamese grouping: 1.234 (a dot), dates as dd/mm/yyyy.
  const firstDate = await page.textContent('#a-history tbody tr td');
  assert.match(firstDate, /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);
  await shot(page, 'member-account');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'member-account-phone');
  assert.equal(await sideways(page), 0, 'no sideways scrolling at 390 px');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the widget fed by the server: progress with a widget token; hidden once the member is excluded', async () => {
  const m = await activeMember(5);
  const tok = await admin.post('/v1/widget-tokens', { member_id: m.id });
  assert.equal(tok.status, 201, tok.text);
  const expected = (await Client.till(srv.url, tok.body.token).get(`/v1/members/${m.id}/progress`)).body;
  const { context, page } = await open('widget/');
  const shown = await page.evaluate(
    async ({ id, token }) => {
      const el = document.createElement('loyalty-progress');
      el.setAttribute('member-id', id);
      el.setAttribute('token', token);
      const got = new Promise((resolve) => el.addEventListener('loyalty-progress', (e) => resolve(e.detail)));
      document.body.append(el);
      window.__serverWidget = el;
      return got;
    },
    { id: m.id, token: tok.body.token },
  );
  assert.deepEqual(shown, expected, 'what the widget shows is the server progress');
  // The shopper's history never reaches the browser: only the progress answer does.
  assert.equal(shown.history, undefined);
  const ex = await admin.post(`/v1/members/${m.id}/events`, { type: 'status', status: 'excluded' });
  assert.equal(ex.status, 201);
  const hidden = await page.evaluate(async () => {
    const el = window.__serverWidget;
    el.setAttribute('token', el.getAttribute('token')); // re-render
    el.setAttribute('member-id', el.getAttribute('member-id') + '');
    el.removeAttribute('server');
    await new Promise((r) => setTimeout(r, 50));
    await el.updateComplete;
    return el.hidden;
  });
  assert.equal(hidden, true, 'an excluded member sees nothing');
  await context.close();
});
