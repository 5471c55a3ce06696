// The member's own page on `loyalty serve`: card or phone → a one-time code (sent through the
// server's outbox to the SMS / e-mail tool) → a member session; then the balance, tier, progress
// to the next tier, points expiring (by their last usable day) and the history, paged — all the
// server's replay of the member's stored events (SPEC §8.6).
import { api } from '../shared/api.js';
import { date, initLang, num, onLang, t } from '../shared/i18n.js';

const $ = (id) => document.getElementById(id);
const A = { who: null, id: null, cursors: [null], page: 0 };
window.__account = A;

function say(text, kind = 'info') {
  $('account-message').textContent = text;
  $('account-message').dataset.kind = kind;
  $('account-message').className = kind === 'error' ? 'field-error' : 'muted';
}

/** `{ card }` or `{ phone }` from what the member typed. */
function who(text) {
  const d = text.replace(/[\s.\-()]/g, '');
  return /^(\+|0|84)\d{8,11}$/.test(d) ? { phone: text.trim() } : { card: text.trim() };
}

/** The last usable day of points gone at `expires_at` (the instant the day after starts). */
const lastDay = (iso) => date(new Date(Date.parse(iso) - 1).toISOString(), false);

async function show() {
  const id = encodeURIComponent(A.id);
  const [state, progress] = await Promise.all([api(`/v1/members/${id}`), api(`/v1/members/${id}/progress`).catch(() => null)]);
  $('account-view').hidden = false;
  $('otp-request').hidden = true;
  $('otp-verify').hidden = true;
  $('a-available').textContent = num(state.points.available);
  $('a-available').dataset.value = String(state.points.available);
  $('a-pending').textContent = num(state.points.pending);
  $('a-tier').textContent = state.tier.id;
  if (progress?.next_tier) {
    $('a-progress').textContent = `${num(progress.remaining)} → ${progress.next_tier}`;
    $('a-bar').max = Number(progress.next_threshold) || 1;
    $('a-bar').value = Number(progress.current) || 0;
  } else {
    $('a-progress').textContent = progress ? '✓' : '—';
    $('a-bar').value = $('a-bar').max;
  }
  const byDay = new Map();
  for (const lot of state.points.lots ?? []) {
    if (!lot.expires_at || !lot.points) continue;
    byDay.set(lot.expires_at, (byDay.get(lot.expires_at) ?? 0) + lot.points);
  }
  $('a-expiring').replaceChildren(
    ...[...byDay].sort().map(([at, pts]) => Object.assign(document.createElement('li'), { textContent: `${num(pts)} · ${lastDay(at)}` })),
  );
  await history(0);
  document.body.dataset.account = A.id;
}

async function history(page) {
  const p = new URLSearchParams({ limit: '10' });
  if (A.cursors[page]) p.set('cursor', A.cursors[page]);
  const r = await api(`/v1/members/${encodeURIComponent(A.id)}/history?${p}`);
  A.page = page;
  A.cursors[page + 1] = r.next_cursor;
  $('a-prev').disabled = page === 0;
  $('a-next').disabled = !r.next_cursor;
  $('a-history').tBodies[0].replaceChildren(
    ...r.items.map((h) => {
      const tr = document.createElement('tr');
      for (const [v, cls] of [[date(h.at)], [t(h.type)], [num(h.points_delta), 'num'], [num(h.available_after), 'num']]) {
        const td = document.createElement('td');
        td.textContent = v;
        if (cls) td.className = cls;
        tr.append(td);
      }
      return tr;
    }),
  );
}

function wire() {
  $('otp-request').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    A.who = who($('otp-who').value);
    try {
      await api('/v1/member/login', { method: 'POST', body: A.who });
      $('otp-verify').hidden = false;
      say(t('One-time code'));
      $('otp-code').focus();
    } catch (e) {
      say(e.message, 'error');
    }
  });
  $('otp-verify').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('/v1/member/verify', { method: 'POST', body: { ...A.who, code: $('otp-code').value } });
      A.id = r.member_id;
      localStorage.setItem('loyalty.member.id', A.id);
      say('');
      await show();
    } catch (e) {
      say(e.message, 'error');
    }
  });
  $('a-next').addEventListener('click', () => history(A.page + 1));
  $('a-prev').addEventListener('click', () => history(Math.max(0, A.page - 1)));
  $('a-logout').addEventListener('click', () => {
    localStorage.removeItem('loyalty.member.id');
    location.reload();
  });
}

async function main() {
  initLang();
  onLang(() => A.id && show());
  wire();
  // Logged in before (the session cookie is HttpOnly; the page keeps the member id): straight to
  // the figures. No request otherwise, so the page also runs on a static server (the demo).
  const known = localStorage.getItem('loyalty.member.id');
  if (known) {
    A.id = known;
    try {
      await show();
    } catch {
      localStorage.removeItem('loyalty.member.id');
      $('account-view').hidden = true;
      $('otp-request').hidden = false;
    }
  }
}

main();
