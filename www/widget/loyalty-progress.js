// <loyalty-progress>: a storefront widget showing a member's tier, the way to the next tier, what
// keeps the tier at the next review and the points expiring soon — computed in the browser by the
// loyalty-engine WebAssembly package (`Engine.progress`, SPEC §4) — its progress module
// (`loyalty-engine/progress`: validate and progress only, the smallest download that answers it
// byte for byte as the full module does). One script tag embeds it:
//
//   <script type="module" src="/loyalty/loyalty-progress.js"></script>
//   <loyalty-progress policy-src="/loyalty/policy.json" src="/api/me/loyalty-history" as-of="2026-10-01T00:00:00+07:00"></loyalty-progress>
//
// Inputs (attributes, or properties for objects):
//   policy-src   URL of the policy JSON            | .policy  = policy object
//   src          URL of a replay request JSON: { member, events, as_of? } (a "policy" field in it
//                is used when no policy is given)  | .history = { member, events [, as_of] }
//   as-of        RFC 3339 instant (overrides the request's as_of; default: now)
//   engine-src   URL of an entry of the package exporting init and Engine with progress (default:
//                ../pkg/progress/web.js next to this file; ../pkg/web.js, the full module, works too)
// Server mode (`loyalty serve`, SPEC §8.6): the progress comes from the server, and nothing of
// the shopper's history reaches the browser:
//   member-id    the member's id                   | token = the short-lived widget token the
//   token        merchant's backend asked for (POST /v1/widget-tokens)
//   server       the server's origin (default: this page's; CORS for the allowed origins)
// An excluded member (the server answers 404) hides the widget.
// Output: `.progress` (the engine's answer), a `loyalty-progress` event with it as `detail`, and
// a `loyalty-error` event with the LoyaltyError's { code, message, path }.
// Theme: CSS custom properties --loyalty-* (docs/widget.md) and ::part(card|tier|bar|fill|…).

const DEFAULT_ENGINE = new URL('../pkg/progress/web.js', import.meta.url).href;
const engines = new Map();

/** The package, initialized once per URL. */
function loadEngine(url) {
  if (!engines.has(url)) {
    engines.set(
      url,
      import(url).then(async (mod) => {
        await mod.default();
        return mod;
      }),
    );
  }
  return engines.get(url);
}

/** The current instant, RFC 3339 with this device's offset (the engine never reads a clock). */
function nowRfc3339() {
  const d = new Date();
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${off < 0 ? '-' : '+'}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`
  );
}

const group = (v) => String(v).replace(/^(-?\d+)/, (i) => i.replace(/\B(?=(\d{3})+(?!\d))/g, ','));

const STYLE = `
:host {
  display: block;
  font-family: var(--loyalty-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
  color: var(--loyalty-fg, #1d2430);
  max-width: var(--loyalty-max-width, 28rem);
}
:host([hidden]) { display: none; }
.card {
  background: var(--loyalty-bg, #fff);
  border: 1px solid var(--loyalty-border, #d5dae1);
  border-radius: var(--loyalty-radius, 12px);
  padding: var(--loyalty-padding, 1rem 1.25rem);
}
.tier { display: flex; align-items: baseline; gap: 0.5rem; margin: 0 0 0.5rem; font-size: 1.1rem; }
.tier strong { color: var(--loyalty-accent, #0b6bcb); }
.points { margin-left: auto; font-size: 0.9rem; color: var(--loyalty-muted, #667085); }
.bar {
  height: var(--loyalty-bar-height, 0.75rem);
  background: var(--loyalty-track, #e4e7ec);
  border-radius: var(--loyalty-bar-radius, 999px);
  overflow: hidden;
}
.fill {
  height: 100%;
  background: var(--loyalty-accent, #0b6bcb);
  border-radius: inherit;
  transition: width 0.3s ease;
}
.next { margin: 0.4rem 0 0; font-weight: 600; }
.keep, .window { margin: 0.35rem 0 0; font-size: 0.9rem; color: var(--loyalty-muted, #667085); }
.expiring { margin: 0.6rem 0 0; padding: 0.4rem 0.6rem; list-style: none; font-size: 0.9rem;
  background: var(--loyalty-warn-bg, #fffaeb); color: var(--loyalty-warn, #93370d); border-radius: calc(var(--loyalty-radius, 12px) / 2); }
.expiring:empty { display: none; }
.error { color: var(--loyalty-error, #b42318); font-size: 0.9rem; margin: 0; }
.loading { color: var(--loyalty-muted, #667085); font-size: 0.9rem; margin: 0; }
`;

export class LoyaltyProgress extends HTMLElement {
  static observedAttributes = ['src', 'policy-src', 'as-of', 'engine-src', 'member-id', 'token', 'server'];

  #policy = null;
  #history = null;
  #progress = null;
  #error = null;
  #pending = null;
  #generation = 0;

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    this.shadowRoot.innerHTML = `<style>${STYLE}</style><div class="card" part="card"><p class="loading" part="loading">Loading your rewards…</p></div>`;
  }

  connectedCallback() {
    this.#schedule();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.#schedule();
  }

  /** The policy document (object); overrides policy-src. */
  get policy() {
    return this.#policy;
  }
  set policy(value) {
    this.#policy = value;
    this.#schedule();
  }

  /** The member's history { member, events [, as_of] }; overrides src. */
  get history() {
    return this.#history;
  }
  set history(value) {
    this.#history = value;
    this.#schedule();
  }

  get asOf() {
    return this.getAttribute('as-of');
  }
  set asOf(value) {
    if (value) this.setAttribute('as-of', value);
    else this.removeAttribute('as-of');
  }

  /** The engine's last answer (SPEC §4), or null. */
  get progress() {
    return this.#progress;
  }

  /** The last error { code, message, path }, or null. */
  get error() {
    return this.#error;
  }

  /** Resolves when the widget has rendered its current inputs. */
  get updateComplete() {
    return this.#pending ?? Promise.resolve();
  }

  #schedule() {
    const generation = ++this.#generation;
    this.#pending = Promise.resolve().then(() => (generation === this.#generation ? this.#update(generation) : undefined));
  }

  async #fetchJson(attr) {
    const url = this.getAttribute(attr);
    const res = await fetch(new URL(url, document.baseURI));
    if (!res.ok) throw Object.assign(new Error(`${attr} ${url}: HTTP ${res.status}`), { path: attr });
    return res.json();
  }

  /** Server mode: GET /v1/members/{id}/progress with the widget token. */
  async #updateFromServer(generation) {
    try {
      const base = this.getAttribute('server') || document.baseURI;
      const url = new URL(`/v1/members/${encodeURIComponent(this.getAttribute('member-id'))}/progress`, base);
      const [res, policy] = await Promise.all([
        fetch(url, { headers: { authorization: `Bearer ${this.getAttribute('token')}` } }),
        this.#policy ?? (this.hasAttribute('policy-src') ? this.#fetchJson('policy-src') : null),
      ]);
      if (generation !== this.#generation) return;
      if (res.status === 404) {
        // Not in the programme (excluded): the widget shows nothing.
        this.#progress = null;
        this.hidden = true;
        return;
      }
      const body = await res.json();
      if (!res.ok) throw Object.assign(new Error(body?.error?.message ?? `HTTP ${res.status}`), body?.error ?? {});
      this.hidden = false;
      this.#progress = body;
      this.#error = null;
      this.#render(body, (typeof policy === 'string' ? JSON.parse(policy) : policy) ?? {});
      this.dispatchEvent(new CustomEvent('loyalty-progress', { detail: body, bubbles: true, composed: true }));
    } catch (e) {
      if (generation !== this.#generation) return;
      this.#progress = null;
      this.#error = { code: e.code ?? 'error', message: e.message, path: e.path ?? '' };
      this.#renderMessage('error', e.message);
      this.dispatchEvent(new CustomEvent('loyalty-error', { detail: this.#error, bubbles: true, composed: true }));
    }
  }

  async #update(generation) {
    if (this.hasAttribute('member-id') && this.hasAttribute('token')) return this.#updateFromServer(generation);
    let request;
    let policy;
    try {
      const engineUrl = this.getAttribute('engine-src') ? new URL(this.getAttribute('engine-src'), document.baseURI).href : DEFAULT_ENGINE;
      const [api, fromSrc, fromPolicySrc] = await Promise.all([
        loadEngine(engineUrl),
        this.#history || !this.hasAttribute('src') ? null : this.#fetchJson('src'),
        this.#policy || !this.hasAttribute('policy-src') ? null : this.#fetchJson('policy-src'),
      ]);
      if (generation !== this.#generation) return;
      const source = this.#history ?? fromSrc;
      if (!source) return this.#renderMessage('loading', 'Waiting for the member history (src or .history)…');
      const { policy: embedded, ...rest } = source;
      policy = this.#policy ?? fromPolicySrc ?? embedded;
      if (!policy) return this.#renderMessage('loading', 'Waiting for the policy (policy-src or .policy)…');
      request = { member: rest.member, events: rest.events ?? [], as_of: this.getAttribute('as-of') ?? rest.as_of ?? nowRfc3339() };
      let engine;
      try {
        engine = new api.Engine(policy);
        this.#progress = engine.progress(request);
      } finally {
        engine?.free();
      }
      this.#error = null;
      this.#render(this.#progress, typeof policy === 'string' ? JSON.parse(policy) : policy);
      this.dispatchEvent(new CustomEvent('loyalty-progress', { detail: this.#progress, bubbles: true, composed: true }));
    } catch (e) {
      if (generation !== this.#generation) return;
      this.#progress = null;
      this.#error = { code: e.code ?? 'error', message: e.message, path: e.path ?? '' };
      this.#renderMessage('error', `${e.message}${e.path ? ` (${e.path})` : ''}`);
      this.dispatchEvent(new CustomEvent('loyalty-error', { detail: this.#error, bubbles: true, composed: true }));
    }
  }

  #renderMessage(kind, text) {
    const card = this.shadowRoot.querySelector('.card');
    const p = document.createElement('p');
    p.className = kind;
    p.part = kind;
    if (kind === 'error') p.setAttribute('role', 'alert');
    p.textContent = text;
    card.replaceChildren(p);
  }

  #render(pr, policy) {
    const levels = policy.tiers?.levels ?? [];
    const name = (id) => levels.find((l) => l.id === id)?.name ?? id;
    const currency = policy.currency ?? '';
    const amount = (v) =>
      pr.metric === 'spend' ? `${group(v)} ${currency}` : `${group(v)} ${pr.metric === 'orders' ? (Number(v) === 1 ? 'order' : 'orders') : Number(v) === 1 ? 'point' : 'points'}`;
    const el = (tag, cls, text) => {
      const e = document.createElement(tag);
      if (cls) {
        e.className = cls;
        e.part = cls;
      }
      if (text !== undefined) e.textContent = text;
      return e;
    };

    const tier = el('p', 'tier');
    const strong = el('strong', 'tier-name', name(pr.tier));
    strong.dataset.tier = pr.tier;
    const points = el('span', 'points', `${group(pr.available_points)} points available`);
    points.dataset.value = String(pr.available_points);
    tier.append(strong, ' member', points);

    const top = pr.next_tier === null;
    const max = top ? Number(pr.current) : Number(pr.next_threshold);
    const now = top ? max : Math.min(Number(pr.current), max);
    const bar = el('div', 'bar');
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', String(max));
    bar.setAttribute('aria-valuenow', String(now));
    const nextText = top
      ? `You have reached ${name(pr.tier)}, the top tier`
      : `${amount(pr.remaining)} to ${name(pr.next_tier)}`;
    bar.setAttribute('aria-valuetext', `${amount(pr.current)} of ${amount(max)}: ${nextText}`);
    bar.setAttribute('aria-label', top ? `Tier progress: ${name(pr.tier)}` : `Progress to ${name(pr.next_tier)}`);
    const fill = el('div', 'fill');
    fill.style.width = `${max > 0 ? Math.min(100, (now / max) * 100) : 100}%`;
    bar.append(fill);
    const next = el('p', 'next', nextText);
    next.dataset.remaining = pr.remaining === null ? '' : String(pr.remaining);

    const parts = [tier, bar, next];
    if (pr.keep) {
      const date = pr.keep.review_at.slice(0, 10);
      const keepText = Number(pr.keep.remaining) > 0
        ? `To keep ${name(pr.tier)} at the review on ${date}: ${amount(pr.keep.remaining)} more (${amount(pr.keep.required)} in the review window).`
        : `${name(pr.tier)} is secured at the review on ${date}.`;
      const keep = el('p', 'keep', keepText);
      keep.dataset.reviewAt = pr.keep.review_at;
      keep.dataset.remaining = String(pr.keep.remaining);
      parts.push(keep);
    }
    const expiring = el('ul', 'expiring');
    expiring.setAttribute('aria-label', 'Points expiring soon');
    for (const x of pr.expiring) {
      const li = el('li', 'expiring-item', `${group(x.points)} ${x.points === 1 ? 'point expires' : 'points expire'} on ${x.expires_at.slice(0, 10)} at ${x.expires_at.slice(11, 16)}`);
      li.dataset.points = String(x.points);
      li.dataset.expiresAt = x.expires_at;
      expiring.append(li);
    }
    parts.push(expiring);
    this.shadowRoot.querySelector('.card').replaceChildren(...parts);
  }
}

if (!customElements.get('loyalty-progress')) customElements.define('loyalty-progress', LoyaltyProgress);
