// The POS as a till of `loyalty serve` (SPEC §8.5): log in with a till key, find the member by
// card or phone (GET /v1/members/lookup), quote locally with the core module (pos.js, as before),
// book in two steps (hold → confirm after payment, void on cancel) and, offline, queue sales
// durably in IndexedDB with their idempotency keys — made and stored *before* the first send —
// and sync them when the network is back: each queued sale is booked exactly once (a resend
// under the same key gets the first answer). Refunds by receipt: load the order by its id, pick
// lines and quantities, book the refund under its own idempotency key.
import { api, ApiError, newId } from '../shared/api.js';
import { date, initLang, money, num, onLang, t } from '../shared/i18n.js';
import { CATALOG } from './sample-data.js';

const $ = (id) => document.getElementById(id);
const LS = { key: 'loyalty.till.key', policy: 'loyalty.till.policy', me: 'loyalty.till.me', members: 'loyalty.till.members' };

const till = {
  key: localStorage.getItem(LS.key),
  me: JSON.parse(localStorage.getItem(LS.me) ?? 'null'),
  /** The member looked up: the MemberSummary and the card scanned. */
  member: null,
  card: null,
  /** The held order: { order_id, key }. */
  held: null,
  syncing: null,
};
window.__till = till;

// ---- IndexedDB queue ------------------------------------------------------------------------

function openDb() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open('loyalty-till', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('queue', { keyPath: 'key' });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
const dbp = openDb();

async function store(mode, f) {
  const db = await dbp;
  return new Promise((resolve, reject) => {
    const tx = db.transaction('queue', mode);
    const result = f(tx.objectStore('queue'));
    tx.oncomplete = () => resolve(result.result ?? result);
    tx.onerror = () => reject(tx.error);
  });
}
const putEntry = (e) => store('readwrite', (s) => s.put(e));
const allEntries = async () => (await store('readonly', (s) => s.getAll())).sort((a, b) => a.created - b.created);

// ---- server time and state --------------------------------------------------------------------

/** Now on the server's clock (RFC 3339, UTC): the offset was measured at the last contact. */
function serverNow() {
  const offset = till.me?.offset ?? 0;
  return new Date(Date.now() + offset).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function setNet(online) {
  $('till-net').textContent = t(online ? 'online' : 'offline');
  $('till-net').dataset.online = online ? '1' : '0';
  document.body.dataset.online = online ? '1' : '0';
}

function say(text, kind = 'info') {
  const m = $('till-message');
  m.textContent = text;
  m.className = kind === 'error' ? 'field-error' : 'muted';
  m.dataset.kind = kind;
}

function cachedMembers() {
  return JSON.parse(localStorage.getItem(LS.members) ?? '{}');
}
function cacheMember(query, summary) {
  const all = cachedMembers();
  all[query] = summary;
  all[summary.id] = summary;
  localStorage.setItem(LS.members, JSON.stringify(all));
}

function showMember() {
  const m = till.member;
  const s = m?.snapshot;
  $('till-member').textContent = m
    ? `${m.id} · ${t(s.status)} · ${t('Tier')} ${s.tier ?? '—'} · ${num(s.points)} ${t('Points').toLowerCase()}` +
      (m.phone ? ` · ${m.phone}` : '')
    : '';
  $('till-activate').hidden = !(m && s.status === 'unassigned') && !till.unboundCard;
  const ready = !!m && !till.held;
  $('till-hold').disabled = !ready || !navigator.onLine;
  $('till-sell-offline').disabled = !m;
  const rewards = till.policy?.rewards ?? [];
  $('till-reward').hidden = !m || !rewards.length || s.status !== 'active';
  if ($('till-reward-id').options.length !== rewards.length) {
    $('till-reward-id').replaceChildren(...rewards.map((r) => new Option(`${r.name} (${num(r.points)})`, r.id)));
  }
  $('till-confirm').hidden = !till.held;
  $('till-void').hidden = !till.held;
}

function useMember(summary, card) {
  till.member = summary;
  till.card = card;
  till.unboundCard = null;
  window.__pos.setTillMember(summary.snapshot, {
    store: till.me?.store,
    at: serverNow(),
    info: `${t('Member')} ${summary.id} (${t(summary.status)})`,
  });
  showMember();
}

// ---- log in -----------------------------------------------------------------------------------

async function login(key) {
  const t0 = Date.now();
  const me = await api('/v1/me', { key });
  const active = await api('/v1/policies/active', { key });
  const m = /^till:(.*)$/.exec(me.principal);
  if (!m) throw new ApiError(403, { code: 'forbidden', message: 'this is not a till key' });
  const serverMs = me.now ? Date.parse(me.now) : Date.now();
  till.key = key;
  till.me = { till: m[1], store: me.store, offset: serverMs - Math.round((t0 + Date.now()) / 2) };
  localStorage.setItem(LS.key, key);
  localStorage.setItem(LS.me, JSON.stringify(till.me));
  localStorage.setItem(LS.policy, JSON.stringify(active.policy));
  till.policy = active.policy;
  window.__pos.applyPolicy(active.policy);
}

function showLoggedIn() {
  const on = !!till.key;
  $('till-login').hidden = on;
  $('till-work').hidden = !on;
  $('till-who').textContent = on ? `${till.me?.till ?? ''} · ${till.me?.store ?? ''}` : '';
  document.body.dataset.till = on ? '1' : '0';
}

// ---- lookup and activation ---------------------------------------------------------------------

/** A card number, or a phone (starts with +, 0 or 84 and has 9 to 12 digits). */
function lookupParam(q) {
  const digits = q.replace(/[\s.\-()]/g, '');
  if (/^(\+|0|84)\d{8,11}$/.test(digits)) return `phone=${encodeURIComponent(q)}`;
  return `card=${encodeURIComponent(q.trim())}`;
}

async function lookup(q) {
  const param = lookupParam(q);
  const card = param.startsWith('card=') ? q.trim() : null;
  try {
    const summary = await api(`/v1/members/lookup?${param}`, { key: till.key });
    cacheMember(q.trim(), summary);
    useMember(summary, card);
    say('');
  } catch (e) {
    if (e.code === 'network') {
      const cached = cachedMembers()[q.trim()];
      if (cached) {
        useMember(cached, card);
        say(t('offline'));
        return;
      }
    }
    till.member = null;
    till.unboundCard = e.status === 404 && card && /not bound/.test(e.message) ? card : null;
    showMember();
    say(`${e.message}`, 'error');
  }
}

async function activate() {
  const number = till.unboundCard ?? till.card;
  const body = { phone: $('till-activate-phone').value };
  const name = $('till-activate-name').value.trim();
  if (name) body.name = name;
  try {
    const r = await api(`/v1/cards/${encodeURIComponent(number)}/activate`, { method: 'POST', key: till.key, body });
    useMember(r.member, number);
    say(`${t('Activate card')}: ${number} → ${r.member.id}` + (r.moved_points ? ` (+${num(r.moved_points)})` : ''));
    document.body.dataset.activated = number;
  } catch (e) {
    say(e.message, 'error');
  }
}

// ---- selling ------------------------------------------------------------------------------------

function saleBody(offline) {
  const request = window.__pos.lastRequest;
  const quote = window.__pos.lastResponse;
  if (!request || !quote) return null;
  return JSON.stringify({
    document_no: request.cart.id,
    ...(till.card ? { card: till.card } : {}),
    quote_request: request,
    quote,
    confirm: false,
    offline,
  });
}

async function hold() {
  window.__pos.state.cart.at = serverNow();
  window.__pos.update();
  const body = saleBody(false);
  if (!body) return say(t('Quote'), 'error');
  const key = newId('hold-');
  try {
    const r = await api('/v1/orders', { method: 'POST', key: till.key, idem: key, body });
    // The total is the till's own quote, which the server checked.
    const total = JSON.parse(body).quote.total;
    till.held = { order_id: r.order_id, key, total };
    say(`${t('held')}: ${r.order_id} · ${money(total)}`);
    document.body.dataset.held = r.order_id;
  } catch (e) {
    say(`${e.message}${e.code !== 'network' ? ` (${e.code})` : ''}`, 'error');
  }
  showMember();
}

async function confirm() {
  try {
    const r = await api(`/v1/orders/${till.held.order_id}/confirm`, { method: 'POST', key: till.key, body: {} });
    say(`${t('Sale booked')}: ${till.held.order_id} · ${num(r.member.points.available)} ${t('Points').toLowerCase()}`);
    document.body.dataset.lastOrder = till.held.order_id;
    till.held = null;
    till.member = { ...till.member, snapshot: r.member.snapshot };
    window.__pos.setTillMember(r.member.snapshot, { store: till.me.store, at: serverNow() });
  } catch (e) {
    say(e.message, 'error');
  }
  showMember();
}

async function voidHold() {
  try {
    await api(`/v1/orders/${till.held.order_id}/void`, { method: 'POST', key: till.key, body: {} });
    say(`${t('voided')}: ${till.held.order_id}`);
    till.held = null;
  } catch (e) {
    say(e.message, 'error');
  }
  showMember();
}

/** A reward from the policy's catalogue (`redeem_reward`), online, under its own key. */
async function redeemReward() {
  const reward = $('till-reward-id').value;
  try {
    const r = await api(`/v1/members/${encodeURIComponent(till.member.id)}/rewards`, {
      method: 'POST',
      key: till.key,
      idem: newId('reward-'),
      body: { reward_id: reward, ...(till.card ? { card: till.card } : {}) },
    });
    say(`${t('Redeem reward')}: ${reward} (−${num(r.points)})`);
    till.member = { ...till.member, snapshot: r.member.snapshot };
    window.__pos.setTillMember(r.member.snapshot, { store: till.me.store, at: serverNow() });
  } catch (e) {
    say(`${e.message} (${e.code})`, 'error');
  }
  showMember();
}

/**
 * A sale paid while offline: stored in IndexedDB with its idempotency key before anything is
 * sent, its redeemed points kept off the cached balance (one offline till never spends the same
 * points twice), then synced.
 */
async function sellOffline() {
  const body = saleBody(true);
  if (!body) return;
  const parsed = JSON.parse(body);
  const entry = {
    key: newId('sale-'),
    created: Date.now(),
    body,
    document_no: parsed.document_no,
    member_id: till.member.id,
    total: parsed.quote.total,
    state: 'queued',
  };
  await putEntry(entry);
  const redeemed = parsed.quote.redeemed_points;
  const snap = { ...till.member.snapshot, points: till.member.snapshot.points - redeemed };
  till.member = { ...till.member, snapshot: snap };
  cacheMember(till.member.id, till.member);
  say(`${t('Sale queued (offline)')}: ${entry.document_no}`);
  window.__pos.setTillMember(snap, { store: till.me.store, at: serverNow() });
  await renderQueue();
  if (navigator.onLine) sync();
}

async function renderQueue() {
  const entries = await allEntries();
  const open = entries.filter((e) => e.state === 'queued');
  $('till-queue-count').textContent = num(open.length);
  document.body.dataset.queued = String(open.length);
  $('till-queue').tBodies[0].replaceChildren(
    ...entries.slice(-20).map((e) => {
      const tr = document.createElement('tr');
      tr.dataset.key = e.key;
      tr.dataset.state = e.state;
      for (const [text, cls] of [[e.document_no], [e.member_id], [money(e.total), 'num'], [t(e.state) + (e.error ? `: ${e.error}` : '')]]) {
        const td = document.createElement('td');
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      return tr;
    }),
  );
}

/**
 * Sends every queued sale under its own key, oldest first; one sync at a time. Called when the
 * browser says it is online, on "Sync now", and every few seconds while sales are queued (the
 * browser's online flag is not to be trusted: a till may "be online" with the server away).
 */
function sync() {
  till.syncing ??= (async () => {
    try {
      for (const e of await allEntries()) {
        if (e.state !== 'queued' || !till.key) continue;
        try {
          const r = await api('/v1/orders', { method: 'POST', key: till.key, idem: e.key, body: e.body });
          Object.assign(e, { state: 'booked', order_id: r.order_id, flags: r.flags ?? [] });
          setNet(true);
        } catch (err) {
          if (err.code === 'network') {
            setNet(false);
            break;
          }
          Object.assign(e, { state: 'failed', error: `${err.code}: ${err.message}` });
        }
        await putEntry(e);
      }
    } finally {
      till.syncing = null;
      await renderQueue();
      document.body.dataset.synced = String(Date.now());
    }
  })();
  return till.syncing;
}

// ---- refunds by receipt ----------------------------------------------------------------------

const CATALOG_NAMES = Object.fromEntries(CATALOG.map((i) => [i.sku, i.name]));

/** Loads a booked order by its id (typed or scanned from the receipt) and lists its lines. */
async function loadRefundOrder() {
  const id = $('till-refund-order').value.trim();
  $('till-refund-result').textContent = '';
  try {
    const o = await api(`/v1/orders/${encodeURIComponent(id)}`, { key: till.key });
    // One key per refund: kept while the cashier retries this one, new after it is booked.
    till.refund = { order: o, key: newId('refund-'), booked: null };
    $('till-refund-lines').tBodies[0].replaceChildren();
    renderRefund();
    $('till-refund').hidden = false;
    if (o.state !== 'booked') $('till-refund-book').disabled = true;
    $('till-refund-lines').querySelector('input:not([disabled])')?.focus();
    document.body.dataset.refundOrder = o.order_id;
  } catch (e) {
    till.refund = null;
    $('till-refund').hidden = true;
    $('till-refund-result').textContent = `${e.message}${e.code && e.code !== 'network' ? ` (${e.code})` : ''}`;
    $('till-refund-result').className = 'field-error';
  }
}

/** The loaded order and its lines, in the current language (quantities typed so far kept): per
 * line the quantity bought, the quantity already refunded (the server's figures: GET
 * /v1/orders/{id} `refunds.lines`) and an input capped at what remains (disabled when nothing
 * does). */
function renderRefund() {
  const o = till.refund?.order;
  if (!o) return;
  const lines = o.quote_request?.cart?.lines ?? [];
  const done = Object.fromEntries((o.refunds?.lines ?? []).map((r) => [r.line_id, r]));
  const typed = Object.fromEntries([...$('till-refund-lines').querySelectorAll('input[data-line]')].map((i) => [i.dataset.line, i.value]));
  if (till.refund.booked) showRefunded(till.refund.booked);
  $('till-refund-info').textContent = `${t('Order')} ${o.order_id} · ${o.document_no} · ${date(o.at)} · ${t(o.state)} · ${money(o.quote?.total, o.quote?.currency)}`;
  let open = 0;
  $('till-refund-lines').tBodies[0].replaceChildren(
    ...lines.map((l) => {
      const tr = document.createElement('tr');
      tr.dataset.line = l.id;
      const name = CATALOG_NAMES[l.sku] ?? l.sku ?? l.category ?? l.id;
      const refunded = done[l.id]?.refunded ?? 0;
      const left = done[l.id]?.refundable ?? l.quantity - refunded;
      open += left;
      tr.dataset.refunded = String(refunded);
      tr.dataset.refundable = String(left);
      const input = Object.assign(document.createElement('input'), {
        type: 'number', min: 0, max: left, step: 1, value: Math.min(Number(typed[l.id] ?? 0) || 0, left), inputMode: 'numeric', disabled: left <= 0,
      });
      input.dataset.line = l.id;
      input.id = `till-refund-qty-${l.id}`;
      input.setAttribute('aria-label', `${t('Quantity to return')}: ${name}`);
      const cell = document.createElement('span');
      cell.className = 'refund-qty';
      cell.append(input);
      const hint = document.createElement('small');
      hint.id = `${input.id}-hint`;
      hint.className = left <= 0 ? 'muted refund-none' : 'muted';
      hint.textContent = left <= 0 ? t('Fully refunded') : `${t('At most')} ${num(left)}`;
      input.setAttribute('aria-describedby', hint.id);
      cell.append(hint);
      for (const [v, cls, key] of [[`${name} (${l.sku ?? l.id})`], [num(l.quantity), 'num', 'sold'], [num(refunded), 'num', 'refunded'],
        [money(l.unit_price, o.quote?.currency), 'num'], [cell, 'num']]) {
        const td = document.createElement('td');
        if (v instanceof Node) td.append(v);
        else td.textContent = v;
        if (cls) td.className = cls;
        if (key) td.dataset.col = key;
        tr.append(td);
      }
      return tr;
    }),
  );
  $('till-refund-book').disabled = o.state !== 'booked' || open <= 0;
  $('till-refund-all').disabled = open <= 0;
  $('till-refund-state').textContent = o.state === 'booked' && open <= 0 ? t('Everything on this receipt has been refunded') : '';
  document.body.dataset.refundsSeen = String(o.refunds?.ids?.length ?? 0);
}

/** What a booked refund did: the points taken back and the balance after (the server's answer). */
function showRefunded(a) {
  const out = $('till-refund-result');
  const back = -Number(a.points_delta ?? 0);
  out.className = 'muted';
  out.textContent =
    `${t('Refund booked')}: ${a.refund_id} · ${t('Points taken back')}: ${num(back)}` +
    (a.shortfall ? ` · ${t('Points not covered by the balance')}: ${num(a.shortfall)}` : '') +
    ` · ${t('Available points')}: ${num(a.member.points.available)}`;
  out.dataset.pointsBack = String(back);
  out.dataset.available = String(a.member.points.available);
}

/** Books the refund of the chosen quantities (POST /v1/orders/{id}/refunds under its own key). */
async function bookRefund() {
  const r = till.refund;
  if (!r) return;
  const inputs = [...$('till-refund-lines').querySelectorAll('input[data-line]')];
  const out = $('till-refund-result');
  // At most what remains of each line (the server refuses more: refund_exceeds_order).
  const over = inputs.find((i) => !i.disabled && (!/^\d+$/.test(i.value.trim() || '0') || Number(i.value) > Number(i.max)));
  for (const i of inputs) i.removeAttribute('aria-invalid');
  if (over) {
    r.booked = null;
    over.setAttribute('aria-invalid', 'true');
    const name = over.getAttribute('aria-label').split(': ').slice(1).join(': ');
    out.textContent = `${name}: ${t('at most')} ${num(over.max)} ${t('can still be returned')}`;
    out.className = 'field-error';
    out.dataset.code = 'refund_exceeds_order';
    over.focus();
    return;
  }
  delete out.dataset.code;
  const lines = inputs
    .filter((i) => !i.disabled)
    .map((i) => ({ line_id: i.dataset.line, quantity: Number(i.value) }))
    .filter((l) => l.quantity > 0);
  if (!lines.length) {
    r.booked = null;
    out.textContent = t('Nothing to return');
    out.className = 'field-error';
    return;
  }
  try {
    const a = await api(`/v1/orders/${encodeURIComponent(r.order.order_id)}/refunds`, { method: 'POST', key: till.key, idem: r.key, body: { lines } });
    r.booked = a;
    showRefunded(a);
    document.body.dataset.lastRefund = a.refund_id;
    r.key = newId('refund-');
    for (const i of $('till-refund-lines').querySelectorAll('input[data-line]')) i.value = 0;
    // The order again: the server's refunded quantities after this refund.
    try {
      r.order = await api(`/v1/orders/${encodeURIComponent(r.order.order_id)}`, { key: till.key });
      renderRefund();
    } catch {
      // The refund is booked; the figures are refreshed when the order is loaded again.
    }
    if (till.member?.id === r.order.member_id) {
      till.member = { ...till.member, snapshot: a.member.snapshot };
      window.__pos.setTillMember(a.member.snapshot, { store: till.me.store, at: serverNow() });
      showMember();
    }
  } catch (e) {
    r.booked = null;
    out.className = 'field-error';
    out.textContent = `${e.message}${e.code && e.code !== 'network' ? ` (${e.code})` : ''}`;
  }
}

// ---- wiring -------------------------------------------------------------------------------------

async function whenPosReady() {
  while (document.body.dataset.ready !== '1') await new Promise((r) => setTimeout(r, 50));
}

async function main() {
  initLang();
  onLang(() => {
    renderRefund();
    showLoggedIn();
    showMember();
    setNet(navigator.onLine);
    renderQueue();
  });
  setNet(navigator.onLine);
  window.addEventListener('online', () => {
    setNet(true);
    showMember();
    sync();
  });
  window.addEventListener('offline', () => {
    setNet(false);
    showMember();
  });
  $('till-login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await login($('till-key').value.trim());
      $('till-key').value = '';
      showLoggedIn();
      say('');
      $('till-query').focus();
    } catch (e) {
      say(e.message, 'error');
    }
  });
  $('till-logout').addEventListener('click', () => {
    for (const k of Object.values(LS)) localStorage.removeItem(k);
    Object.assign(till, { key: null, me: null, member: null, held: null });
    showLoggedIn();
  });
  $('till-lookup').addEventListener('submit', (ev) => {
    ev.preventDefault();
    lookup($('till-query').value);
  });
  $('till-activate').addEventListener('submit', (ev) => {
    ev.preventDefault();
    activate();
  });
  $('till-reward').addEventListener('submit', (ev) => {
    ev.preventDefault();
    redeemReward();
  });
  $('till-hold').addEventListener('click', hold);
  $('till-confirm').addEventListener('click', confirm);
  $('till-void').addEventListener('click', voidHold);
  $('till-sell-offline').addEventListener('click', sellOffline);
  $('till-sync').addEventListener('click', () => sync());
  $('till-refund-load').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadRefundOrder();
  });
  $('till-refund').addEventListener('submit', (ev) => {
    ev.preventDefault();
    bookRefund();
  });
  $('till-refund-all').addEventListener('click', () => {
    for (const i of $('till-refund-lines').querySelectorAll('input[data-line]')) i.value = i.max;
  });
  await whenPosReady();
  if (till.key) {
    // Offline: the cached policy and the last server offset; online: refreshed.
    try {
      await login(till.key);
    } catch (e) {
      if (e.code !== 'network') {
        localStorage.removeItem(LS.key);
        till.key = null;
      } else {
        const cached = localStorage.getItem(LS.policy);
        if (cached) {
          till.policy = JSON.parse(cached);
          window.__pos.applyPolicy(till.policy);
        }
      }
    }
  }
  showLoggedIn();
  showMember();
  await renderQueue();
  document.body.dataset.tillReady = '1';
  if (till.key) sync();
  setInterval(() => {
    if (till.key && document.body.dataset.queued !== '0') sync();
  }, 3000);
}

main();

export { date };
