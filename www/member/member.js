// Member card lookup: a card number or phone number → the member's history → Engine.replay in the
// browser → status, tier, available and pending points, expiring points and history.
import init, { Engine, LoyaltyError, generate } from '../pkg/web.js';
import { POLICY } from '../pos/sample-data.js';
import { expiringByDate } from './expiring.js';
import { SAMPLE_AS_OF, cardNumber, normalizeLookup, phoneNumber, sampleHistories } from '../shared/sample.js';

const $ = (id) => document.getElementById(id);
const state = { engine: null, directory: [], last: null };
window.__member = state;

// ================================================================================================
// DEPLOYMENT HOOK — where a real deployment fetches the member's history from its server.
//
// Replace the body of this function with a call to your backend, e.g.
//
//   const res = await fetch(`/api/loyalty/members?lookup=${encodeURIComponent(key)}`,
//                           { headers: { Authorization: `Bearer ${staffToken}` } });
//   if (res.status === 404) return null;
//   if (!res.ok) throw new Error(`lookup failed: HTTP ${res.status}`);
//   return res.json();          // { member: { id, status, joined_at }, events: [...] }
//
// It receives the normalized card number / phone (digits, phones as +84…) and must resolve to
// the member's SPEC §3 history `{ member, events }`, or null when no member matches. The page
// replays it with the policy below; nothing else changes. This demo looks the key up in the
// generated sample (www/shared/sample.js) instead.
// ================================================================================================
export async function fetchMemberHistory(key) {
  const entry = state.directory.find((d) => d.card === key || d.phone === key || d.history.member.id === key);
  return entry ? structuredClone(entry.history) : null;
}

/** The policy the member's history is replayed with (a deployment would load its own). */
export const LOOKUP_POLICY = POLICY;

// ---- rendering ------------------------------------------------------------------------------------

const group = (v) => String(v).replace(/^(-?\d+)/, (i) => i.replace(/\B(?=(\d{3})+(?!\d))/g, ','));
const tierName = (id) => LOOKUP_POLICY.tiers.levels.find((l) => l.id === id)?.name ?? id;

function set(id, value, text = group(value)) {
  $(id).dataset.value = String(value);
  $(id).textContent = text;
}

function row(cells, attrs = {}) {
  const tr = document.createElement('tr');
  Object.assign(tr.dataset, attrs);
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c;
    if (/^[+-]?[\d,]+$/.test(c)) td.className = 'num';
    tr.append(td);
  }
  return tr;
}

function render(r, key) {
  $('result').hidden = false;
  const entry = state.directory.find((d) => d.history.member.id === r.member_id);
  $('member-title').textContent = `${r.member_id}${entry ? ` · card ${entry.card} · ${entry.phone}` : ''}`;
  $('member-title').dataset.key = key;
  set('f-status', r.status, r.status);
  set('f-tier', r.tier.id, tierName(r.tier.id));
  set('f-available', r.points.available);
  set('f-pending', r.points.pending);
  set('f-qualification', r.qualification.value, `${group(r.qualification.value)} ${r.qualification.metric}`);
  $('tier-info').textContent =
    `${tierName(r.tier.id)} since ${r.tier.since}` +
    (r.tier.next_review ? `; next review ${r.tier.next_review}` : '; no review scheduled') +
    (r.tier.locked_until ? `; locked until ${r.tier.locked_until}` : '') +
    `. Replayed as of ${r.as_of}.`;
  const expiring = expiringByDate(r.points.lots);
  $('expiring-table').tBodies[0].replaceChildren(
    ...expiring.map((x) => row([x.expires_at, group(x.points)], { expiresAt: x.expires_at, points: String(x.points) })),
  );
  $('no-expiry').hidden = expiring.length > 0;
  $('totals-table').tBodies[0].replaceChildren(
    ...Object.entries(r.totals).map(([k, v]) => row([k.replace('_', ' '), group(v)], { key: k, value: String(v) })),
  );
  // Newest first, as a service desk reads it.
  $('history-table').tBodies[0].replaceChildren(
    ...[...r.history].reverse().map((h) =>
      row([h.event_id ?? '—', h.type, h.at, h.points_delta > 0 ? `+${group(h.points_delta)}` : group(h.points_delta), group(h.available_after), tierName(h.tier_after)], {
        event: h.event_id ?? '',
        type: h.type,
        at: h.at,
        delta: String(h.points_delta),
        availableAfter: String(h.available_after),
        tierAfter: h.tier_after,
      }),
    ),
  );
}

function showError(text, code = '', path = '') {
  $('result').hidden = true;
  const box = $('lookup-error');
  box.hidden = false;
  box.textContent = text;
  Object.assign(box.dataset, { code, path });
  const field = path === 'as_of' ? $('as-of') : $('query');
  field.setAttribute('aria-invalid', 'true');
}

async function lookup() {
  try {
    await lookupOnce();
  } finally {
    document.body.dataset.lookups = String(Number(document.body.dataset.lookups ?? 0) + 1);
  }
}

async function lookupOnce() {
  $('lookup-error').hidden = true;
  for (const el of document.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const raw = $('query').value;
  const key = normalizeLookup(raw);
  if (!key) return showError('Enter a card number or a phone number.', 'empty', 'query');
  const history = await fetchMemberHistory(key);
  state.last = { key, history, replay: null, error: null };
  if (!history) return showError(`No member with card or phone “${raw.trim()}”.`, 'not_found', 'query');
  try {
    const r = state.engine.replay({ ...history, as_of: $('as-of').value.trim() });
    state.last.replay = r;
    render(r, key);
  } catch (e) {
    if (!(e instanceof LoyaltyError)) throw e;
    state.last.error = e.toJSON().error;
    showError(`${e.message} (${e.code}${e.path ? ` at ${e.path}` : ''})`, e.code, e.path.startsWith('as_of') ? 'as_of' : e.path);
  }
}

async function main() {
  $('as-of').value = SAMPLE_AS_OF;
  $('lookup-form').addEventListener('submit', (e) => {
    e.preventDefault();
    lookup();
  });
  await init();
  $('engine-status').textContent = 'engine ready (WebAssembly)';
  state.engine = new Engine(LOOKUP_POLICY);
  state.directory = sampleHistories(generate).map((history, i) => ({ card: cardNumber(i), phone: phoneNumber(i), history }));
  $('directory').tBodies[0].replaceChildren(
    ...state.directory.map((d) => {
      const tr = row(['', d.phone, d.history.member.id]);
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = d.card;
      b.addEventListener('click', () => {
        $('query').value = d.card;
        lookup();
      });
      tr.cells[0].append(b);
      return tr;
    }),
  );
  document.body.dataset.ready = '1';
}

main();
