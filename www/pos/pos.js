// A web POS page: edits a cart and quotes it with the loyalty-engine Wasm package, in the
// browser, on every change. Every figure shown is the engine's answer as is (money strings are
// only grouped for reading; the exact value is in each element's data-value). An engine error is
// shown next to the field its `path` points at.
// The core module (`loyalty-engine/core`: validate and quote) is all a till needs: a smaller
// .wasm than the full package's. The generated sample's member snapshots are computed at build
// time with the full module (scripts/pos-sample.mjs), as a real till gets them from its server.
import init, { Engine, LoyaltyError } from '../pkg/core/web.js';
import { SAMPLE_AS_OF, SAMPLE_OPTIONS } from '../shared/sample.js';
import { CART, CATALOG, MEMBERS, POLICY, searchCatalog } from './sample-data.js';

const $ = (id) => document.getElementById(id);

const state = {
  policy: POLICY,
  engine: null,
  member: { ...MEMBERS[0] },
  cart: { ...structuredClone(CART) },
  /** 'max' or the text of the redeem input. */
  redeem: '0',
  nextLine: CART.lines.length,
  /** The member select's value: "0"… for MEMBERS, "g0"… for the generated sample. */
  memberKey: '0',
  /** Generated members: { id, events, snapshot, pending, lots } (snapshot = the replay's §2 member snapshot). */
  generated: [],
};

// Exposed for tests and for poking around in the console.
window.__pos = { state, lastRequest: null, lastResponse: null, lastError: null };

// ---- formatting ---------------------------------------------------------------------------

/** "1315000" → "1,315,000"; "-12.50" → "-12.50": grouping only, digits untouched. */
function groupDigits(decimal) {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(decimal);
  if (!m) return decimal;
  return `${m[1]}${m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}

function setValue(el, value, text = String(value)) {
  el.dataset.value = value === null || value === undefined ? '' : String(value);
  el.textContent = text;
}

function setMoney(el, amount, currency) {
  setValue(el, amount, amount === '' ? '' : `${groupDigits(amount)} ${currency}`);
}

/** The wall-clock time here, RFC 3339 with this device's offset, to the second. */
function nowRfc3339() {
  const d = new Date();
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`
  );
}

// ---- errors next to fields --------------------------------------------------------------------

function clearErrors() {
  for (const el of document.querySelectorAll('.field-error-row, .field-error:not(.general)')) el.remove();
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  const general = $('general-error');
  general.hidden = true;
  general.textContent = '';
  delete general.dataset.code;
  delete general.dataset.path;
}

/** The field whose data-path is `path` (a form control first), or the closest ancestor path's. */
function fieldFor(path) {
  let p = path;
  while (p) {
    const all = [...document.querySelectorAll(`[data-path="${CSS.escape(p)}"]`)];
    const el = all.find((e) => e.matches('input, select, textarea')) ?? all[0];
    if (el) return el;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return null;
}

function showError(err) {
  const target = fieldFor(err.path);
  const text = `${err.message} (${err.code}${err.path ? ` at ${err.path}` : ''})`;
  if (!target) {
    const general = $('general-error');
    Object.assign(general.dataset, { code: err.code, path: err.path });
    general.textContent = text;
    general.hidden = false;
    return;
  }
  const box = document.createElement('p');
  box.className = 'field-error';
  box.setAttribute('role', 'alert');
  Object.assign(box.dataset, { code: err.code, path: err.path, field: target.dataset.path });
  box.textContent = text;
  target.setAttribute('aria-invalid', 'true');
  const row = target.closest('tr');
  if (row && row.closest('#lines')) {
    // A cart line: the message goes in a row right under that line.
    const tr = document.createElement('tr');
    tr.className = 'field-error-row';
    const td = document.createElement('td');
    td.colSpan = row.cells.length;
    td.append(box);
    tr.append(td);
    row.after(tr);
    box.textContent = `${target.dataset.field ? `${target.dataset.field}: ` : ''}${text}`;
  } else if (target.matches('fieldset, details, table')) {
    const heading = target.querySelector('legend, summary');
    if (heading) heading.after(box);
    else target.before(box);
  } else {
    (target.closest('.row, label') ?? target).after(box);
  }
}

// ---- the request ------------------------------------------------------------------------------

/** Integer-looking text becomes a JSON number; anything else is sent as is for the engine to judge. */
function numberOrText(text) {
  const t = String(text).trim();
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

function buildRequest() {
  const { cart, member } = state;
  const c = { id: cart.id, at: cart.at };
  if (cart.store) c.store = cart.store;
  if (cart.channel) c.channel = cart.channel;
  c.lines = cart.lines.map((l) => {
    const line = { id: l.id };
    if (l.sku) line.sku = l.sku;
    if (l.category) line.category = l.category;
    line.quantity = numberOrText(l.quantity);
    line.unit_price = String(l.unit_price).trim();
    return line;
  });
  return {
    member: { ...member, points: numberOrText(member.points) },
    cart: c,
    redeem_points: state.redeem === 'max' ? 'max' : numberOrText(state.redeem),
  };
}

// ---- rendering --------------------------------------------------------------------------------

const memberLabel = (m) => `${m.id} — ${m.status}${m.tier ? `, ${m.tier}` : ''}, ${m.points} pts`;

function renderMember() {
  const select = $('member');
  const fixed = document.createElement('optgroup');
  fixed.label = 'Sample members';
  fixed.append(...MEMBERS.map((m, i) => new Option(memberLabel(m), String(i))));
  const groups = [fixed];
  if (state.generated.length) {
    const gen = document.createElement('optgroup');
    gen.label = `Generated sample (replayed to ${SAMPLE_AS_OF.slice(0, 10)})`;
    gen.append(...state.generated.map((g, i) => new Option(memberLabel(g.snapshot), `g${i}`)));
    groups.push(gen);
  }
  select.replaceChildren(...groups);
  select.value = state.memberKey;
  $('member-points').value = String(state.member.points);
  const m = state.member;
  const g = state.memberKey.startsWith('g') ? state.generated[Number(state.memberKey.slice(1))] : null;
  $('member-info').textContent =
    `Status ${m.status}; tier ${m.tier ?? '(lowest)'}.` +
    (g ? ` Replayed from ${g.events} events: ${g.pending} points pending, ${g.lots} lots.` : '');
}

/**
 * The generated sample: `generate` → histories → `Engine.replay` → member snapshots, computed with
 * the full module when the package was built (scripts/pos-sample.mjs → generated-sample.json).
 */
async function fetchGeneratedMembers() {
  const res = await fetch('./generated-sample.json');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

/** Offers the generated members (`pending`: fetchGeneratedMembers()); false when there are none. */
async function showGeneratedMembers(pending) {
  const info = $('sample-info');
  let sample;
  try {
    sample = await pending;
  } catch (e) {
    info.textContent = `No generated sample (generated-sample.json: ${e.message}; scripts/build.sh writes it).`;
    return false;
  }
  state.generated = sample.members;
  const { rejected } = sample;
  info.textContent =
    `+ ${state.generated.length} generated members (seed ${SAMPLE_OPTIONS.seed}), snapshots from Engine.replay ` +
    'at build time (the till quotes with the core module only)' +
    (rejected.length ? `; ${rejected.length} left out (their history fails to replay).` : '.');
  info.title =
    `generate(${JSON.stringify(SAMPLE_OPTIONS)}), replayed to ${sample.as_of}` +
    rejected.map((r) => `\n${r.id}: ${r.error.code} at ${r.error.path}: ${r.error.message}`).join('');
  info.dataset.rejected = String(rejected.length);
  renderMember();
  return true;
}

function selectMember(key) {
  state.memberKey = key;
  state.member = key.startsWith('g')
    ? { ...state.generated[Number(key.slice(1))].snapshot }
    : { ...MEMBERS[Number(key)] };
  state.redeem = '0';
  renderMember();
  update();
}

function renderSearch() {
  const results = searchCatalog($('sku-search').value).slice(0, 8);
  $('sku-results').replaceChildren(
    ...results.map((item) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'sku-result';
      b.dataset.sku = item.sku;
      const sku = document.createElement('span');
      sku.className = 'sku';
      sku.textContent = item.sku;
      b.append(sku, ` ${item.name} · ${groupDigits(item.unit_price)}`);
      b.addEventListener('click', () => {
        addLine(item);
        $('sku-search').value = '';
        renderSearch();
        $('sku-search').focus();
      });
      li.append(b);
      return li;
    }),
  );
}

function renderCart() {
  const { cart } = state;
  $('cart-id').value = cart.id;
  $('cart-at').value = cart.at;
  $('cart-store').value = cart.store ?? '';
  $('cart-channel').value = cart.channel ?? '';
  const tbody = $('lines').tBodies[0];
  tbody.replaceChildren(
    ...cart.lines.map((line, i) => {
      const tr = document.createElement('tr');
      tr.dataset.path = `cart.lines[${i}]`;
      tr.dataset.line = line.id;
      const cell = (child) => {
        const td = document.createElement('td');
        if (child) td.append(child);
        tr.append(td);
        return td;
      };
      const input = (field, attrs = {}) => {
        const el = document.createElement('input');
        el.value = String(line[field] ?? '');
        el.dataset.path = `cart.lines[${i}].${field}`;
        el.dataset.field = field;
        Object.assign(el, attrs);
        el.addEventListener('input', () => {
          line[field] = el.value;
          update();
        });
        return el;
      };
      cell(document.createTextNode(line.id)).className = 'line-id';
      cell(input('sku', { size: 8 })).firstChild.setAttribute('list', 'skus');
      cell(input('category', { size: 10 })).firstChild.setAttribute('list', 'categories');
      cell(input('quantity', { type: 'number', min: 1, step: 1, inputMode: 'numeric', className: 'qty' }));
      cell(input('unit_price', { size: 9, inputMode: 'decimal', className: 'price' }));
      const total = cell();
      total.className = 'num line-total';
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '✕';
      remove.title = `Remove line ${line.id}`;
      remove.className = 'remove';
      remove.addEventListener('click', () => {
        cart.lines.splice(i, 1);
        renderCart();
        update();
      });
      cell(remove);
      return tr;
    }),
  );
}

function addLine(item = { sku: '', category: '', unit_price: '0' }) {
  const id = `L${++state.nextLine}`;
  state.cart.lines.push({ id, sku: item.sku, category: item.category, quantity: 1, unit_price: item.unit_price });
  renderCart();
  update();
}

/**
 * The redemption limits; `maxPoints` null when the order itself is invalid (the limit is then
 * unknown: the hint says so rather than "Up to 0 points", issue 14).
 */
function renderRedeemLimits(maxPoints) {
  if (maxPoints === null) {
    $('redeem-info').textContent = 'Correct the order above to see how many points can be redeemed.';
    $('redeem-info').dataset.unknown = '1';
    return;
  }
  delete $('redeem-info').dataset.unknown;
  const r = state.policy?.redemption ?? null;
  const step = r?.step ?? 1;
  const minPoints = r?.min_points ?? 1;
  for (const el of [$('redeem-range'), $('redeem')]) {
    el.max = String(maxPoints);
    el.step = String(step);
    el.dataset.minPoints = String(minPoints);
    el.disabled = !r;
  }
  const shown = state.redeem === 'max' ? String(maxPoints) : state.redeem;
  // Leave the field being typed in alone.
  if (document.activeElement !== $('redeem-range')) $('redeem-range').value = String(Number(shown) || 0);
  const pts = Number(shown) || 0;
  $('redeem-range').setAttribute(
    'aria-valuetext',
    r ? `${pts} points of at most ${maxPoints}` : 'no redemption',
  );
  if (document.activeElement !== $('redeem') && $('redeem').value !== shown) $('redeem').value = shown;
  $('redeem-info').textContent = r
    ? `Up to ${maxPoints} points; at least ${minPoints}, in steps of ${step}; 1 point = ${groupDigits(r.point_value)} ${state.policy.currency}.`
    : 'This policy has no redemption section: points cannot pay for orders.';
}

function clearResult() {
  for (const id of ['subtotal', 'tier_discount', 'redeemed_amount', 'total']) setValue($(`r-${id}`), '', '—');
  for (const id of ['redeemed_points', 'earned_points', 'max_redeemable_points', 'digest', 'tier']) {
    setValue($(`r-${id}`), '', '—');
  }
  $('allocation').tBodies[0].replaceChildren();
  $('applied-rules').replaceChildren();
  $('notes').replaceChildren();
  for (const el of document.querySelectorAll('.line-total')) setValue(el, '', '');
  $('result').classList.add('stale');
}

function renderResult(q) {
  const cur = q.currency;
  $('result').classList.remove('stale');
  setMoney($('r-subtotal'), q.subtotal, cur);
  setMoney($('r-tier_discount'), q.tier_discount, cur);
  setMoney($('r-redeemed_amount'), q.redeemed_amount, cur);
  setMoney($('r-total'), q.total, cur);
  setValue($('r-redeemed_points'), q.redeemed_points);
  setValue($('r-earned_points'), q.earned_points);
  setValue($('r-max_redeemable_points'), q.max_redeemable_points);
  setValue($('r-tier'), q.tier);
  setValue($('r-digest'), q.digest);
  setValue($('r-policy_digest'), q.policy_digest);

  $('allocation').tBodies[0].replaceChildren(
    ...q.lines.map((line) => {
      const tr = document.createElement('tr');
      tr.dataset.line = line.id;
      const id = document.createElement('td');
      id.textContent = line.id;
      tr.append(id);
      for (const field of ['subtotal', 'tier_discount', 'redeemed_amount', 'paid', 'earn_basis']) {
        const td = document.createElement('td');
        td.className = 'num';
        td.dataset.field = field;
        setMoney(td, line[field], '');
        tr.append(td);
      }
      return tr;
    }),
  );
  const byId = new Map(q.lines.map((l) => [l.id, l]));
  for (const tr of $('lines').tBodies[0].rows) {
    const line = byId.get(tr.dataset.line);
    if (line) setMoney(tr.querySelector('.line-total'), line.subtotal, '');
  }
  $('applied-rules').replaceChildren(
    ...q.applied_rules.map((r) => {
      const li = document.createElement('li');
      li.dataset.rule = r.rule;
      li.dataset.value = JSON.stringify(r);
      li.textContent = `${r.rule}: ${JSON.stringify(r.effect)}${r.lines.length ? ` on ${r.lines.join(', ')}` : ' (order)'}`;
      return li;
    }),
  );
  $('notes').replaceChildren(
    ...q.notes.map((n) => {
      const li = document.createElement('li');
      li.dataset.code = n.code;
      li.dataset.value = JSON.stringify(n);
      li.textContent = `${n.message} (${n.code})`;
      return li;
    }),
  );
}

// ---- quoting ----------------------------------------------------------------------------------

function update() {
  clearErrors();
  const { engine } = state;
  if (!engine) {
    clearResult();
    return;
  }
  const request = buildRequest();
  window.__pos.lastRequest = request;
  $('request-json').textContent = JSON.stringify(request, null, 2);
  try {
    const quote = engine.quote(request);
    window.__pos.lastResponse = quote;
    window.__pos.lastError = null;
    $('response-json').textContent = JSON.stringify(quote);
    renderResult(quote);
    renderRedeemLimits(quote.max_redeemable_points);
  } catch (e) {
    if (!(e instanceof LoyaltyError)) throw e;
    window.__pos.lastResponse = null;
    window.__pos.lastError = e.toJSON().error;
    $('response-json').textContent = JSON.stringify(e);
    clearResult();
    showError(e);
    // Keep the redemption limits current: what could be redeemed if nothing were.
    try {
      renderRedeemLimits(engine.quote({ ...request, redeem_points: 0 }).max_redeemable_points);
    } catch {
      renderRedeemLimits(null);
    }
  }
  document.body.dataset.quotes = String(Number(document.body.dataset.quotes ?? 0) + 1);
}

function loadPolicy(policy) {
  state.engine?.free();
  state.engine = null;
  state.policy = null;
  try {
    state.engine = new Engine(policy);
    state.policy = typeof policy === 'string' ? JSON.parse(policy) : policy;
    $('policy-id').textContent = `${state.policy.id} · ${state.engine.policyDigest.slice(0, 19)}…`;
    setValue($('r-policy_digest'), state.engine.policyDigest);
    return null;
  } catch (e) {
    if (!(e instanceof LoyaltyError)) throw e;
    return e;
  }
}

function applyPolicy(text) {
  const err = loadPolicy(text);
  update();
  if (err) {
    clearResult();
    $('policy-section').open = true;
    showError(err);
    window.__pos.lastError = err.toJSON().error;
  }
}

// ---- wiring -------------------------------------------------------------------------------------

function wire() {
  $('member').addEventListener('change', (e) => selectMember(e.target.value));
  $('sku-search').addEventListener('input', renderSearch);
  $('sku-search').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      $('sku-results').querySelector('button')?.click();
    } else if (e.key === 'Escape') {
      $('sku-search').value = '';
      renderSearch();
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      $('sku-results').querySelector('button')?.focus();
    }
  });
  // Arrow keys move between the results; Escape goes back to the search field.
  $('sku-results').addEventListener('keydown', (e) => {
    const buttons = [...$('sku-results').querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowRight') buttons[Math.min(i + 1, buttons.length - 1)]?.focus();
    else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') (i > 0 ? buttons[i - 1] : $('sku-search')).focus();
    else if (e.key === 'Escape') $('sku-search').focus();
    else return;
    e.preventDefault();
  });
  $('member-points').addEventListener('input', (e) => {
    state.member.points = e.target.value;
    update();
  });
  for (const [id, field] of [
    ['cart-id', 'id'],
    ['cart-at', 'at'],
    ['cart-store', 'store'],
    ['cart-channel', 'channel'],
  ]) {
    $(id).addEventListener('input', (e) => {
      state.cart[field] = e.target.value;
      update();
    });
  }
  $('now').addEventListener('click', () => {
    state.cart.at = nowRfc3339();
    $('cart-at').value = state.cart.at;
    update();
  });
  $('add-line').addEventListener('click', () => addLine());
  $('catalog').replaceChildren(
    ...CATALOG.map((item) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'quick-add';
      b.dataset.sku = item.sku;
      b.textContent = item.name;
      b.title = `${item.sku} · ${item.category} · ${groupDigits(item.unit_price)}`;
      b.addEventListener('click', () => addLine(item));
      return b;
    }),
  );
  $('skus').replaceChildren(...CATALOG.map((i) => new Option(i.name, i.sku)));
  const categories = new Set(CATALOG.map((i) => i.category));
  for (const rule of POLICY.earning.rules) for (const c of rule.when?.categories ?? []) categories.add(c);
  $('categories').replaceChildren(...[...categories].map((c) => new Option(c, c)));

  // The slider moves in valid amounts only: 0, or min_points..max in steps.
  $('redeem-range').addEventListener('input', (e) => {
    let v = Number(e.target.value);
    const min = Number(e.target.dataset.minPoints ?? 1);
    const max = Number(e.target.max);
    const before = state.redeem === 'max' ? max : Number(state.redeem) || 0;
    // Between 0 and min_points: going up jumps to min_points, going down to 0.
    if (v > 0 && v < min) v = before >= min || min > max ? 0 : min;
    // The thumb itself moves to the snapped amount: otherwise the next ArrowRight starts from
    // the unsnapped 1 and snaps back to 0 (0 → 10 → 0 → 10, issue 14).
    e.target.value = String(v);
    state.redeem = String(v);
    $('redeem').value = state.redeem;
    update();
  });
  // The number field sends what was typed: the engine says what is wrong with it.
  $('redeem').addEventListener('input', (e) => {
    state.redeem = e.target.value;
    update();
  });
  $('redeem-max').addEventListener('click', () => {
    state.redeem = 'max';
    update();
  });
  $('redeem-none').addEventListener('click', () => {
    state.redeem = '0';
    update();
  });
  $('policy').value = JSON.stringify(POLICY, null, 2);
  $('policy-apply').addEventListener('click', () => applyPolicy($('policy').value));
  $('policy-reset').addEventListener('click', () => {
    $('policy').value = JSON.stringify(POLICY, null, 2);
    applyPolicy(POLICY);
  });
}

async function main() {
  wire();
  renderMember();
  renderCart();
  // Fetched while the engine loads; offered once the first quote is on screen.
  const generated = fetchGeneratedMembers();
  generated.catch(() => {});
  // engine-init → engine-ready: the .wasm fetched, compiled (streaming) and instantiated
  // (tests/browser/bench-startup.mjs reports the breakdown).
  performance.mark('engine-init');
  try {
    await init();
  } catch (e) {
    $('engine-status').textContent = `engine failed to load: ${e.message}`;
    throw e;
  }
  performance.mark('engine-ready');
  $('engine-status').textContent = 'engine ready (WebAssembly)';
  applyPolicy(POLICY);
  // The first quote is on screen (tests/browser/bench-startup.mjs measures up to here).
  performance.mark('first-quote');
  const sampled = await showGeneratedMembers(generated);
  document.body.dataset.ready = '1';
  if (sampled) document.body.dataset.sample = '1';
}

/** Offline: a service worker keeps the page, its modules and the package (with the .wasm). */
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const status = $('offline-status');
  try {
    await navigator.serviceWorker.register('./sw.js');
    await navigator.serviceWorker.ready;
    status.textContent = navigator.onLine ? 'available offline' : 'offline — using the cached engine';
    status.hidden = false;
    document.body.dataset.offlineReady = '1';
  } catch (e) {
    status.textContent = `offline mode unavailable: ${e.message}`;
    status.hidden = false;
  }
}
window.addEventListener('online', () => ($('offline-status').textContent = 'available offline'));
window.addEventListener('offline', () => ($('offline-status').textContent = 'offline — using the cached engine'));

/**
 * The till panel (till.js) sets the member the server looked up: its snapshot is what the till
 * quotes with, not editable ("Available points" typed by a cashier is not a balance).
 */
function setTillMember(snapshot, { store, at, info } = {}) {
  state.member = { ...snapshot };
  state.memberKey = 'till';
  state.redeem = '0';
  state.cart.id = `R-${Date.now().toString(36).toUpperCase()}`;
  if (store) state.cart.store = store;
  if (at) state.cart.at = at;
  state.cart.channel = 'pos';
  // The sample members are the demo's: a till quotes for the member the server found.
  $('member').closest('label').hidden = true;
  $('sample-info').hidden = true;
  const points = $('member-points');
  points.value = String(snapshot.points);
  points.readOnly = true;
  points.setAttribute('aria-readonly', 'true');
  $('member-info').textContent = info ?? '';
  renderCart();
  update();
}

/** A new receipt for the same member (after a booking): new document number, time now. */
function nextReceipt(at) {
  state.cart.id = `R-${Date.now().toString(36).toUpperCase()}`;
  if (at) state.cart.at = at;
  state.redeem = '0';
  renderCart();
  update();
}

Object.assign(window.__pos, { applyPolicy, update, setTillMember, nextReceipt });

registerServiceWorker();

main();
