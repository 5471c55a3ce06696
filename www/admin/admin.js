// The admin page of `loyalty serve`: members (search with diacritics ignored, filters, detail with
// ledger history, cards, status / points / tier changes, the move to a new phone, export,
// deletion), cards (types, anonymous batches with their CSV, activation, lost cards), online
// transaction entry (quoted with the core module like a till, booked through POST /v1/orders),
// policies (draft → validate → simulate over the stored members → publish), imports (upload,
// progress, integrity report) and settings (stores, tills, webhooks). Every figure is the server's answer.
import init, { Engine, LoyaltyError } from '../pkg/core/web.js';
import { api, newId } from '../shared/api.js';
import { date, initLang, money, num, onLang, parseAmount, t } from '../shared/i18n.js';
// The simulator's JSON editor (CodeMirror 6 with the policy's JSON Schema), reused for the draft.
import { upgrade } from '../simulator/editor.js';
import { wireInputs } from '../shared/inputs.js';

const $ = (id) => document.getElementById(id);
const S = { csrf: sessionStorage.getItem('loyalty.admin.csrf'), cursors: [null], page: 0, member: null, historyCursor: null, policy: null, draftDigest: null, engine: null };
window.__admin = S;

const call = (path, opts = {}) => api(path, { ...opts, csrf: S.csrf });
const post = (path, body, extra = {}) => call(path, { method: 'POST', body, ...extra });

function say(text, kind = 'info') {
  $('message').textContent = text;
  $('message').dataset.kind = kind;
}
/** Runs an action; its error (the server's coded error) goes to the message line. */
const act = (f) => async (ev) => {
  ev?.preventDefault?.();
  try {
    await f(ev);
  } catch (e) {
    say(`${e.message}${e.code ? ` (${e.code}${e.path ? ` at ${e.path}` : ''})` : ''}`, 'error');
  }
};

function cells(tr, values) {
  for (const [v, cls] of values) {
    const td = document.createElement('td');
    if (v instanceof Node) td.append(v);
    else td.textContent = v ?? '—';
    if (cls) td.className = cls;
    tr.append(td);
  }
  return tr;
}

// ---- members --------------------------------------------------------------------------------

async function search(pageIndex = 0) {
  const p = new URLSearchParams({ limit: '20' });
  for (const [k, id] of [['q', 'q'], ['status', 'f-status'], ['tier', 'f-tier'], ['store', 'f-store']]) {
    if ($(id).value.trim()) p.set(k, $(id).value.trim());
  }
  const cursor = S.cursors[pageIndex];
  if (cursor) p.set('cursor', cursor);
  const r = await call(`/v1/members?${p}`);
  S.page = pageIndex;
  S.cursors[pageIndex + 1] = r.next_cursor;
  $('prev').disabled = pageIndex === 0;
  $('next').disabled = !r.next_cursor;
  $('members').tBodies[0].replaceChildren(
    ...r.items.map((m) => {
      const tr = document.createElement('tr');
      tr.tabIndex = 0;
      tr.dataset.id = m.id;
      cells(tr, [[m.id], [m.name], [m.phone], [t(m.status)], [m.snapshot.tier], [num(m.snapshot.points), 'num']]);
      const open = () => showMember(m.id);
      tr.addEventListener('click', act(open));
      tr.addEventListener('keydown', (e) => e.key === 'Enter' && act(open)());
      return tr;
    }),
  );
  document.body.dataset.results = String(r.items.length);
}

async function showMember(id) {
  const [state, summary] = await Promise.all([call(`/v1/members/${encodeURIComponent(id)}`), call(`/v1/members?q=${encodeURIComponent(id)}&limit=5`)]);
  const m = summary.items.find((x) => x.id === id) ?? { id, cards: [], phone: null, name: null };
  S.member = { id, state, summary: m };
  $('detail').hidden = false;
  $('d-title').textContent = `${m.name ?? ''} ${id}`.trim();
  $('d-status').textContent = t(state.status);
  $('d-status').dataset.value = state.status;
  $('d-tier').textContent = state.tier.id;
  $('d-available').textContent = num(state.points.available);
  $('d-available').dataset.value = String(state.points.available);
  $('d-pending').textContent = num(state.points.pending);
  $('d-phone').textContent = m.phone ?? '—';
  $('d-cards').replaceChildren(
    ...m.cards.map((c) => {
      const li = document.createElement('li');
      li.textContent = `${c.number} · ${c.type} · ${t(c.state)}`;
      return li;
    }),
  );
  const excludeBtn = document.querySelector('[data-status="excluded"]');
  excludeBtn.disabled = state.status === 'excluded';
  const activateBtn = document.querySelector('[data-status="active"]');
  activateBtn.textContent = t(state.status === 'excluded' ? 'Re-activate' : 'Activate');
  activateBtn.disabled = state.status === 'active';
  S.historyCursor = null;
  $('history').tBodies[0].replaceChildren();
  await moreHistory();
  document.body.dataset.member = id;
}

async function moreHistory() {
  const id = S.member.id;
  const p = new URLSearchParams({ limit: '20' });
  if (S.historyCursor) p.set('cursor', S.historyCursor);
  const r = await call(`/v1/members/${encodeURIComponent(id)}/history?${p}`);
  S.historyCursor = r.next_cursor;
  $('history-more').hidden = !r.next_cursor;
  $('history').tBodies[0].append(
    ...r.items.map((h) => cells(document.createElement('tr'), [[date(h.at)], [t(h.type)], [num(h.points_delta), 'num'], [num(h.available_after), 'num'], [h.tier_after]])),
  );
}

const memberEvent = (body) => post(`/v1/members/${encodeURIComponent(S.member.id)}/events`, body);

// ---- cards ------------------------------------------------------------------------------------

async function loadCards() {
  const [types, batches] = await Promise.all([call('/v1/card-types'), call('/v1/card-batches')]);
  $('types').tBodies[0].replaceChildren(...types.items.map((x) => cells(document.createElement('tr'), [[x.id], [x.name], [x.prefix], [num(x.length), 'num'], [x.check_digit]])));
  for (const sel of document.querySelectorAll('select.card-types, #nm-card')) {
    const keep = sel.id === 'nm-card' ? [new Option('—', '')] : [];
    sel.replaceChildren(...keep, ...types.items.map((x) => new Option(x.name, x.id)));
  }
  $('batches').tBodies[0].replaceChildren(
    ...batches.items.map((b) => {
      const a = document.createElement('a');
      a.href = `/v1/card-batches/${encodeURIComponent(b.id)}/cards.csv`;
      a.textContent = t('Download CSV');
      a.download = `cards-${b.id}.csv`;
      return cells(document.createElement('tr'), [[b.id], [b.type], [`${b.first} – ${b.last}`], [num(b.unassigned), 'num'], [a]]);
    }),
  );
}

// ---- online transaction entry ----------------------------------------------------------------------

function addEntryLine(line = { sku: '', category: '', quantity: 1, price: '' }) {
  const tr = document.createElement('tr');
  const n = $('en-lines').tBodies[0].rows.length + 1;
  for (const [field, label, attrs] of [['sku', 'SKU'], ['category', 'Category'], ['quantity', 'Qty', { type: 'number', min: 1 }], ['price', t('Amount'), { inputMode: 'numeric' }]]) {
    const td = document.createElement('td');
    const input = document.createElement('input');
    input.value = String(line[field]);
    input.dataset.field = field;
    input.setAttribute('aria-label', `${label} ${n}`);
    Object.assign(input, attrs ?? {});
    td.append(input);
    tr.append(td);
  }
  const td = document.createElement('td');
  const rm = document.createElement('button');
  rm.type = 'button';
  rm.textContent = '✕';
  rm.setAttribute('aria-label', `Remove line ${n}`);
  rm.addEventListener('click', () => {
    const next = tr.nextElementSibling ?? tr.previousElementSibling;
    tr.remove();
    (next?.querySelector('input') ?? $('en-add')).focus();
  });
  td.append(rm);
  tr.append(td);
  $('en-lines').tBodies[0].append(tr);
}

async function entryQuote() {
  const card = $('en-card').value.trim();
  const m = await call(`/v1/members/lookup?card=${encodeURIComponent(card)}`);
  if (!S.engine) {
    await init();
    const active = await call('/v1/policies/active');
    S.engine = new Engine(active.policy);
    S.policy = active.policy;
  }
  const local = $('en-at').value; // programme time (+07:00)
  const lines = [...$('en-lines').tBodies[0].rows].map((tr, i) => {
    const v = (f) => tr.querySelector(`[data-field="${f}"]`).value.trim();
    const line = { id: `L${i + 1}`, quantity: Number(v('quantity')), unit_price: parseAmount(v('price')) };
    if (v('sku')) line.sku = v('sku');
    if (v('category')) line.category = v('category');
    return line;
  });
  const request = {
    member: m.snapshot,
    cart: { id: $('en-doc').value.trim(), at: `${local}:00+07:00`, store: $('en-store').value, channel: 'online', lines },
    redeem_points: 0,
  };
  try {
    const quote = S.engine.quote(request);
    $('en-result').textContent = `${money(quote.total, quote.currency)} · +${num(quote.earned_points)} ${t('Points').toLowerCase()}`;
    return { request, quote, card };
  } catch (e) {
    if (e instanceof LoyaltyError) throw Object.assign(new Error(e.message), { code: e.code, path: e.path });
    throw e;
  }
}

/** The entry's date defaults to the server's clock, in the programme's time (+07:00). */
async function entryNow() {
  if ($('en-at').value) return;
  const me = await call('/v1/me');
  $('en-at').value = new Date(Date.parse(me.now) + 7 * 3_600_000).toISOString().slice(0, 16);
  S.refreshInputs?.();
}

// ---- policies and settings -------------------------------------------------------------------------

async function loadPolicies() {
  const r = await call('/v1/policies');
  $('policies').tBodies[0].replaceChildren(...r.items.map((p) => cells(document.createElement('tr'), [[p.policy_digest.slice(0, 19) + '…'], [date(p.created_at)], [p.published.map((x) => date(x)).join(', ') || '—']])));
  if (!$('draft').value) {
    const active = await call('/v1/policies/active');
    $('draft').value = JSON.stringify(active.policy, null, 2);
  }
}

/** The simulate report's summary (SPEC §5): active policy (the report's baseline) against the draft. */
function showSimulation(r) {
  const base = r.diff?.baseline;
  const cur = S.policy?.currency ?? 'VND';
  const rows = [
    ['Members simulated', base?.members, r.members, num],
    ['Points issued', base?.points.issued, r.points.issued, num],
    ['Points redeemed', base?.points.redeemed, r.points.redeemed, num],
    ['Points expired', base?.points.expired, r.points.expired, num],
    ['Points outstanding', base?.points.outstanding, r.points.outstanding, num],
    ['Liability', base?.liability, r.liability, (x) => money(x, cur)],
    ['Tier discounts', base?.tier_discounts, r.tier_discounts, (x) => money(x, cur)],
  ];
  $('sim-table').tBodies[0].replaceChildren(
    ...rows.map(([label, before, after, f]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = t(label);
      tr.append(th);
      const change = before === undefined || before === null || after === null ? null : Number(after) - Number(before);
      const sign = change > 0 ? '+' : '';
      cells(tr, [[f(before), 'num'], [f(after), 'num'], [change === null ? '—' : `${sign}${f(change)}`, 'num']]);
      tr.dataset.row = label;
      tr.dataset.before = String(before ?? '');
      tr.dataset.after = String(after ?? '');
      return tr;
    }),
  );
  const moved = r.diff?.members_moved ?? { up: 0, down: 0 };
  const affected = moved.up + moved.down;
  $('sim-moved').textContent = `${t('Members whose tier changes')}: ${num(affected)} (↑ ${num(moved.up)} · ↓ ${num(moved.down)})${r.rejected.length ? ` · ${t('Rejected')}: ${num(r.rejected.length)}` : ''}`;
  $('sim-moved').dataset.affected = String(affected);
  $('sim').hidden = false;
  S.simulation = r;
}

const NOTICE_LABELS = { tier_up: 'Tier up', tier_down: 'Tier down', points_expiring: 'Points expiring', points_expired: 'Points expired', receipt: 'Receipt', one_time_code: 'One-time code' };

async function loadSettings() {
  const [settings, stores] = await Promise.all([call('/v1/settings'), call('/v1/stores')]);
  const list = Array.isArray(settings) ? settings : settings.items ?? Object.entries(settings).map(([key, value]) => ({ key, value }));
  $('settings').replaceChildren(...list.map((s) => Object.assign(document.createElement('li'), { textContent: `${s.key} = ${s.value}` })));
  const hooks = await call('/v1/webhooks');
  $('webhooks').tBodies[0].replaceChildren(
    ...hooks.items.map((w) => cells(document.createElement('tr'), [[w.url], [w.events ? w.events.map((k) => t(NOTICE_LABELS[k] ?? k)).join(', ') : t('All')], [date(w.created_at)], [num(w.pending), 'num']])),
  );
  $('stores').replaceChildren(...stores.items.map((s) => Object.assign(document.createElement('li'), { textContent: `${s.id} · ${s.name} · ${(s.tills ?? []).map((x) => x.id).join(', ')}` })));
  for (const sel of [$('f-store'), $('en-store'), $('nt-store')]) {
    const keep = sel.id === 'f-store' ? [new Option(t('All'), '')] : [];
    sel.replaceChildren(...keep, ...stores.items.map((s) => new Option(`${s.id} · ${s.name}`, s.id)));
  }
}

async function loadPolicyLists() {
  const active = await call('/v1/policies/active');
  S.policy = active.policy;
  const tiers = active.policy.tiers?.levels ?? [];
  $('f-tier').replaceChildren(new Option(t('All'), ''), ...tiers.map((l) => new Option(l.name, l.id)));
  $('st-tier').replaceChildren(...tiers.map((l) => new Option(l.name, l.id)));
  $('reward-id').replaceChildren(...(active.policy.rewards ?? []).map((r) => new Option(`${r.name} (${num(r.points)})`, r.id)));
}

// ---- import (issue 18) -------------------------------------------------------------------------

function importKind() {
  const exports = document.querySelector('[name="im-kind"]:checked').value === 'exports';
  $('im-ndjson-row').hidden = exports;
  $('im-exports-row').hidden = !exports;
}

/** Sends the upload as POST /v1/imports: member NDJSON as the body, or the mapping and its exports as multipart parts. */
async function startImport() {
  const exports = document.querySelector('[name="im-kind"]:checked').value === 'exports';
  let body;
  const headers = { 'x-csrf-token': S.csrf };
  if (exports) {
    const mapping = $('im-mapping').files[0];
    const files = [...$('im-files').files];
    if (!mapping || !files.length) throw Object.assign(new Error(t('Choose the mapping and the export files')), { code: 'invalid_request', path: 'files' });
    body = new FormData();
    body.append('mapping', await mapping.text());
    for (const f of files) body.append('files', f, f.name);
  } else {
    const f = $('im-members').files[0];
    if (!f) throw Object.assign(new Error(t('Choose a members file')), { code: 'invalid_request', path: 'members' });
    body = f;
    headers['content-type'] = 'application/x-ndjson';
  }
  const res = await fetch('/v1/imports', { method: 'POST', headers, body, credentials: 'same-origin' });
  const job = await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error(job?.error?.message ?? `HTTP ${res.status}`), { code: job?.error?.code, path: job?.error?.path });
  await followImport(job.id);
}

const IMPORT_COUNTS = {
  members_read: 'Members read', members_created: 'Members created', members_unchanged: 'Members unchanged',
  members_conflicting: 'Members in conflict', members_rejected: 'Members rejected', events_written: 'Events written', cards_written: 'Cards written',
};

function showImport(job) {
  $('im-job').hidden = false;
  $('im-id').textContent = job.id;
  $('im-state').textContent = t(job.state);
  $('im-state').dataset.state = job.state;
  $('im-phase').textContent = job.phase && job.phase !== job.state ? `(${t(job.phase)})` : '';
  S.importJob = job;
  const fraction = job.state === 'done' ? 1 : job.progress?.fraction ?? 0;
  $('im-progress').value = fraction;
  $('im-progress').textContent = `${Math.round(fraction * 100)} %`;
  $('im-counts').replaceChildren(
    ...Object.entries(IMPORT_COUNTS).filter(([k]) => job.counts?.[k] !== undefined).map(([k, label]) => {
      const d = document.createElement('div');
      const dt = Object.assign(document.createElement('dt'), { textContent: t(label) });
      const dd = Object.assign(document.createElement('dd'), { textContent: num(job.counts[k]) });
      dd.dataset.count = k;
      d.append(dt, dd);
      return d;
    }),
  );
  $('im-error').hidden = !job.error;
  $('im-error').textContent = job.error ?? '';
  const done = job.state === 'done';
  $('im-report').hidden = !done;
  if (done) {
    $('im-report').href = `/v1/imports/${encodeURIComponent(job.id)}/report`;
    $('im-report').download = `import-report-${job.id}.json`;
  }
  document.body.dataset.importState = job.state;
}

/** Polls GET /v1/imports/{id} until the job is done or failed. */
async function followImport(id) {
  for (;;) {
    const job = await call(`/v1/imports/${encodeURIComponent(id)}`);
    showImport(job);
    if (job.state === 'done' || job.state === 'failed') return job;
    await new Promise((r) => setTimeout(r, 400));
  }
}

// ---- wiring -------------------------------------------------------------------------------------------

function showTab(name) {
  S.tab = name;
  for (const b of document.querySelectorAll('[role="tab"]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('[role="tabpanel"]')) s.hidden = s.id !== `tab-${name}`;
  const load = { cards: loadCards, policies: loadPolicies, settings: loadSettings }[name];
  if (load) act(load)();
}

async function enter() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  await Promise.all([loadPolicyLists(), loadSettings(), loadCards(), entryNow()]);
  await search(0);
  takeHandoff();
  // A section named in the address (`/admin/#policies`, as the simulator links to it).
  const tab = location.hash.slice(1);
  if (tab && document.getElementById(`tab-${tab}`)?.getAttribute('role') === 'tabpanel') showTab(tab);
  document.body.dataset.ready = '1';
}

// ---- a draft from the simulator ------------------------------------------------------------------------

/** Where the simulator (www/simulator/simulator.js, "Open in admin to publish") leaves its draft. */
const HANDOFF_KEY = 'loyalty.simulator.handoff';

/**
 * The simulator's draft, once logged in: it goes into the draft editor with a notice, and is
 * removed from storage (a reload does not bring it back over later edits). Publishing stays here:
 * validate → simulate → publish, with this session and its CSRF token.
 */
function takeHandoff() {
  let handoff = null;
  try {
    handoff = JSON.parse(localStorage.getItem(HANDOFF_KEY) ?? 'null');
  } catch {
    handoff = null;
  }
  localStorage.removeItem(HANDOFF_KEY);
  if (!handoff || typeof handoff.text !== 'string') return;
  $('draft').value = handoff.text;
  S.draftDigest = null;
  $('simulate').disabled = true;
  $('publish').disabled = true;
  $('sim').hidden = true;
  S.handoff = { at: handoff.at, digest: handoff.digest };
  showHandoff();
  if (!location.hash) history.replaceState(null, '', '#policies');
}

function showHandoff() {
  const el = $('draft-origin');
  if (!S.handoff) return;
  el.hidden = false;
  el.dataset.digest = S.handoff.digest ?? '';
  el.textContent = `${t('This draft came from the policy simulator')}${S.handoff.at ? ` (${date(S.handoff.at)})` : ''}. ${t('Validate it, simulate it on the stored members, then publish.')}`;
}

function wire() {
  $('login').addEventListener('submit', act(async () => {
    const r = await api('/v1/admin/login', { method: 'POST', body: { user: $('user').value, password: $('password').value } });
    S.csrf = r.csrf_token;
    sessionStorage.setItem('loyalty.admin.csrf', S.csrf);
    $('password').value = '';
    say('');
    await enter();
  }));
  $('logout').addEventListener('click', act(async () => {
    await post('/v1/admin/logout', {});
    sessionStorage.removeItem('loyalty.admin.csrf');
    location.reload();
  }));
  for (const b of document.querySelectorAll('[role="tab"]')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('search').addEventListener('submit', act(() => {
    S.cursors = [null];
    return search(0);
  }));
  $('next').addEventListener('click', act(() => search(S.page + 1)));
  $('prev').addEventListener('click', act(() => search(Math.max(0, S.page - 1))));
  $('history-more').addEventListener('click', act(moreHistory));
  $('new-member').addEventListener('submit', act(async () => {
    const body = { phone: $('nm-phone').value, status: $('nm-status').value };
    if ($('nm-name').value.trim()) body.name = $('nm-name').value.trim();
    const created = await post('/v1/members', body);
    if ($('nm-card').value) await post('/v1/cards', { member_id: created.id, type: $('nm-card').value });
    say(`${t('New member')}: ${created.id}`);
    await showMember(created.id);
  }));
  for (const b of document.querySelectorAll('[data-status]')) {
    b.addEventListener('click', act(async () => {
      await memberEvent({ type: 'status', status: b.dataset.status });
      await showMember(S.member.id);
    }));
  }
  $('adjust').addEventListener('submit', act(async () => {
    await memberEvent({ type: 'adjust', points: Number($('adj-points').value), reason: $('adj-reason').value, counts_for_tier: $('adj-tier').checked });
    await showMember(S.member.id);
  }));
  $('set-tier').addEventListener('submit', act(async () => {
    const until = $('st-until').value;
    await memberEvent({ type: 'set_tier', tier: $('st-tier').value, locked_until: until ? `${until}T00:00:00+07:00` : null });
    await showMember(S.member.id);
  }));
  $('issue').addEventListener('submit', act(async () => {
    const c = await post('/v1/cards', { member_id: S.member.id, type: $('issue-type').value });
    say(`${t('Issue card')}: ${c.number}`);
    await showMember(S.member.id);
  }));
  $('reward').addEventListener('submit', act(async () => {
    await post(`/v1/members/${encodeURIComponent(S.member.id)}/rewards`, { reward_id: $('reward-id').value }, { idem: newId('reward-') });
    await showMember(S.member.id);
  }));
  $('move').addEventListener('submit', act(async () => {
    const r = await post(`/v1/members/${encodeURIComponent(S.member.id)}/move`, { phone: $('move-phone').value, reason: $('move-reason').value });
    say(`${t('Move to new phone')}: ${S.member.id} → ${r.new.id} (${num(r.moved_points)})`);
    document.body.dataset.moved = r.new.id;
    await showMember(r.new.id);
  }));
  $('export').addEventListener('click', act(async () => {
    const data = await call(`/v1/members/${encodeURIComponent(S.member.id)}/export`);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    a.download = `member-${S.member.id}.json`;
    a.click();
    document.body.dataset.exported = S.member.id;
  }));
  $('erase').addEventListener('submit', act(async () => {
    if (!window.confirm(`${t('Delete member')} ${S.member.id}?`)) return;
    await post(`/v1/members/${encodeURIComponent(S.member.id)}/erase`, { reason: $('erase-reason').value });
    say(`${t('Delete member')}: ${S.member.id}`);
    document.body.dataset.erased = S.member.id;
    await showMember(S.member.id);
  }));
  $('new-type').addEventListener('submit', act(async () => {
    await post('/v1/card-types', { id: $('nt-id').value, name: $('nt-name').value, prefix: $('nt-prefix').value, length: Number($('nt-length').value) });
    await loadCards();
  }));
  $('new-batch').addEventListener('submit', act(async () => {
    const b = await post('/v1/card-batches', { type: $('nb-type').value, count: Number($('nb-count').value) });
    say(`${t('New batch')}: ${b.first} – ${b.last}`);
    await loadCards();
  }));
  $('activate').addEventListener('submit', act(async () => {
    const r = await post(`/v1/cards/${encodeURIComponent($('ac-card').value.trim())}/activate`, { phone: $('ac-phone').value });
    say(`${t('Activate card')}: ${r.card.number} → ${r.member.id}`);
    await loadCards();
  }));
  $('block').addEventListener('submit', act(async () => {
    const r = await post(`/v1/cards/${encodeURIComponent($('bl-card').value.trim())}/block`, { reason: $('bl-reason').value, replacement: $('bl-replace').checked ? {} : null });
    say(`${t('Block card')}: ${r.blocked.number}${r.replacement ? ` → ${r.replacement.number}` : ''}`);
  }));
  $('en-add').addEventListener('click', () => addEntryLine());
  $('en-quote').addEventListener('click', act(entryQuote));
  $('entry').addEventListener('submit', act(async () => {
    const { request, quote, card } = await entryQuote();
    // A receipt typed later than the sale (more than a few minutes before the server's clock) is
    // booked as an offline sale, the way a till sends a sale it made without the network.
    const me = await call('/v1/me');
    const late = Date.parse(me.now) - Date.parse(request.cart.at) > 4 * 60_000;
    const r = await post('/v1/orders', { document_no: request.cart.id, card, quote_request: request, quote, confirm: true, offline: late }, { idem: newId('entry-') });
    $('en-result').textContent = `${t('Sale booked')}: ${r.order_id} · ${money(quote.total, quote.currency)}`;
  }));
  $('draft').addEventListener('input', () => {
    S.draftDigest = null;
    $('simulate').disabled = true;
    $('publish').disabled = true;
    $('sim').hidden = true;
  });
  $('validate').addEventListener('click', act(async () => {
    $('policy-result').textContent = '';
    const r = await post('/v1/policies', $('draft').value);
    S.draftDigest = r.policy_digest;
    $('simulate').disabled = false;
    $('publish').disabled = false;
    const warnings = (r.warnings ?? []).map((w) => w.message ?? JSON.stringify(w));
    $('policy-result').textContent = `✓ ${t('Valid')}: ${r.policy_digest}${warnings.length ? ` · ${t('Warnings')}: ${warnings.join('; ')}` : ''}`;
    document.body.dataset.draft = r.policy_digest;
    await loadPolicies();
  }));
  $('simulate').addEventListener('click', act(async () => {
    const body = {};
    const expected = $('sim-expected').value.trim().replace(',', '.');
    if (expected) body.expected_redemption = expected;
    $('simulate').disabled = true;
    $('policy-result').textContent = t('Simulating…');
    try {
      showSimulation(await post(`/v1/policies/${encodeURIComponent(S.draftDigest)}/simulate`, body));
      $('policy-result').textContent = '';
    } finally {
      $('simulate').disabled = !S.draftDigest;
    }
  }));
  $('publish').addEventListener('click', act(async () => {
    const at = $('effective').value;
    const r = await post(`/v1/policies/${encodeURIComponent(S.draftDigest)}/publish`, at ? { effective_at: `${at}:00+07:00` } : {});
    $('policy-result').textContent = `${t('Published')}: ${r.policy_digest ?? S.draftDigest} · ${t('Effective at')} ${date(r.effective_at)}`;
    document.body.dataset.published = r.policy_digest;
    await loadPolicies();
    await loadPolicyLists();
  }));
  $('setting').addEventListener('submit', act(async () => {
    await call('/v1/settings', { method: 'PUT', body: { key: $('set-key').value, value: $('set-value').value } });
    await loadSettings();
  }));
  $('new-webhook').addEventListener('submit', act(async () => {
    const boxes = [...document.querySelectorAll('#wh-events input')];
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!chosen.length) throw Object.assign(new Error(t('Choose at least one kind of notice')), { code: 'invalid_request', path: 'events' });
    // Every kind checked: no list, so kinds added later are sent too.
    const body = { url: $('wh-url').value.trim(), ...(chosen.length < boxes.length ? { events: chosen } : {}) };
    const w = await post('/v1/webhooks', body);
    $('wh-secret').textContent = w.secret;
    $('wh-secret-box').hidden = false;
    $('wh-url').value = '';
    say(`${t('Webhook added')}: ${w.url}`);
    await loadSettings();
  }));
  for (const r of document.querySelectorAll('[name="im-kind"]')) r.addEventListener('change', importKind);
  $('import').addEventListener('submit', act(startImport));
  $('new-till').addEventListener('submit', act(async () => {
    const id = $('till-id').value.trim();
    await post('/v1/tills', { id, store: $('nt-store').value, name: id });
    const k = await post(`/v1/tills/${encodeURIComponent(id)}/keys`, {});
    $('till-key-out').textContent = `${t('Till key')}: ${k.key ?? JSON.stringify(k)}`;
    await loadSettings();
  }));
  addEntryLine();
  $('en-doc').value = `ONL-${Date.now().toString(36).toUpperCase()}`;
}

async function main() {
  initLang();
  // A language change redraws what was drawn in the other one.
  onLang(() => {
    if (S.member) act(() => showMember(S.member.id))();
    if ($('app').hidden) return;
    act(loadCards)();
    if (S.tab === 'policies') act(loadPolicies)();
    if (S.tab === 'settings') act(loadSettings)();
    if (S.simulation) showSimulation(S.simulation);
    showHandoff();
    if (S.importJob) showImport(S.importJob);
  });
  wire();
  // Date and file inputs in the page's language, not the browser's (www/shared/inputs.js).
  S.refreshInputs = wireInputs();
  // The draft policy's editor: completion of field names and values, hover docs and inline errors
  // from the policy's JSON Schema; #draft stays its model (the plain textarea if the bundle is missing).
  await upgrade($('draft'));
  if (S.csrf) {
    try {
      await enter();
      return;
    } catch {
      sessionStorage.removeItem('loyalty.admin.csrf');
      S.csrf = null;
      $('login').hidden = false;
      $('app').hidden = true;
    }
  }
  document.body.dataset.ready = '1';
}

main();
