// The policy simulator page: a form for the common settings and a JSON editor for the draft
// policy (CodeMirror with the policy's JSON Schema, ./editor.js; kept in step; the engine's `validate` runs on every change and its errors are shown at
// their `path`), a member dataset (generated, or loaded from an NDJSON file), and a run of the
// `ParallelSimulation` in a Web Worker (./worker.js) with a progress bar and a cancel button.
// The results: a summary table (CSV export) and Chart.js charts.
import init, { LoyaltyError, validate } from '../pkg/web.js';
import { date, initLang, lang, money, num, onLang, t } from '../shared/i18n.js';
import { upgrade } from './editor.js';
import './strings.js';
import { locate, splitPath } from './json-locate.js';
import { PRESETS } from './presets.js';
import { summaryRows, toCsv } from './summary.js';
import { partialMonth, zoneParts } from './partial.js';

const $ = (id) => document.getElementById(id);
const form = $('draft-form');

const state = {
  /** The draft as an object (the last JSON text that parsed), or null. */
  draft: null,
  /** The chosen NDJSON file (read by the worker, as a stream). */
  file: null,
  worker: null,
  result: null,
  charts: {},
};
window.__sim = state;

/** The text of `key` in the page's language with its {placeholders} filled in. */
const tf = (key, params = {}) => t(key).replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));

/** Sets an element's text to a translatable key (kept for the next language switch). */
function say(el, key, params) {
  el.dataset.i18nKey = key;
  el.textContent = tf(key, params);
}

/** The run status: its key and values, rendered again when the language changes. */
let status = null;
function setStatus(key, params = {}) {
  status = key ? { key, params } : null;
  $('run-status').textContent = key ? tf(key, Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'function' ? v() : v]))) : '';
}

// ---- paths --------------------------------------------------------------------------------------

function getAt(obj, parts) {
  return parts.reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}

function setAt(obj, parts, value) {
  let o = obj;
  for (let n = 0; n < parts.length - 1; n++) {
    if (o[parts[n]] === null || typeof o[parts[n]] !== 'object') o[parts[n]] = typeof parts[n + 1] === 'number' ? [] : {};
    o = o[parts[n]];
  }
  const last = parts.at(-1);
  if (value === undefined) delete o[last];
  else o[last] = value;
}

/** A form field's text → the JSON value: integers as numbers, decimals as strings; '' → absent. */
function fieldValue(el) {
  const text = el.value.trim();
  if (text === '' && el.hasAttribute('data-optional')) return undefined;
  if (el.dataset.kind === 'int') return /^-?\d+$/.test(text) ? Number(text) : text;
  return text;
}

// ---- form ↔ JSON ------------------------------------------------------------------------------

function levelRow(level, i) {
  const tr = document.createElement('tr');
  tr.dataset.path = `policy.tiers.levels[${i}]`;
  for (const [field, kind, optional] of [
    ['id', 'text', false],
    ['name', 'text', false],
    ['threshold', 'decimal', false],
    ['discount_percent', 'decimal', true],
    ['earn_multiplier', 'decimal', true],
  ]) {
    const td = document.createElement('td');
    const input = document.createElement('input');
    input.dataset.path = `policy.tiers.levels[${i}].${field}`;
    input.dataset.kind = kind;
    if (optional) input.setAttribute('data-optional', '');
    input.setAttribute('aria-label', tf('Level {n} {field}', { n: i + 1, field: t(field) }));
    input.value = level?.[field] ?? '';
    td.append(input);
    tr.append(td);
  }
  const td = document.createElement('td');
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.textContent = '✕';
  remove.title = tf('Remove level {n}', { n: i + 1 });
  remove.setAttribute('aria-label', remove.title);
  remove.addEventListener('click', () => {
    state.draft.tiers.levels.splice(i, 1);
    fillForm();
    formChanged();
  });
  td.append(remove);
  tr.append(td);
  return tr;
}

/** Fills the form from state.draft. */
function fillForm() {
  const d = state.draft ?? {};
  for (const el of form.querySelectorAll('[data-path]:not(#levels [data-path])')) {
    const v = getAt(d, splitPath(el.dataset.path, 'policy'));
    if (el.tagName === 'SELECT') {
      el.value = v ?? el.options[0].value;
    } else {
      el.value = v === undefined || v === null ? '' : String(v);
    }
  }
  $('levels').tBodies[0].replaceChildren(...(d.tiers?.levels ?? []).map(levelRow));
  $('redemption-on').checked = !!d.redemption;
  for (const el of form.querySelectorAll('[data-path^="policy.redemption."]')) el.disabled = !d.redemption;
  const kind = d.expiry?.kind ?? 'never';
  for (const label of form.querySelectorAll('[data-for-kind]')) label.hidden = !label.dataset.forKind.split(' ').includes(kind);
}

/** The form changed: rewrite the JSON and validate. */
function formChanged() {
  $('draft').value = JSON.stringify(state.draft, null, 2);
  check();
  persist();
}

function onFormInput(e) {
  const el = e.target;
  if (!el.dataset?.path || !state.draft) return;
  const parts = splitPath(el.dataset.path, 'policy');
  if (el.dataset.path === 'policy.expiry.kind') {
    const kind = el.value;
    const old = state.draft.expiry ?? {};
    state.draft.expiry =
      kind === 'never' ? { kind } :
      kind === 'end_of_period' ? { kind, period: old.period ?? 'year', after: old.after ?? 1 } :
      { kind, months: old.months ?? 12 };
    fillForm();
  } else if (el.dataset.path === 'policy.tiers.downgrade.review' && el.value === 'never') {
    state.draft.tiers.downgrade = { review: 'never' };
    fillForm();
  } else {
    setAt(state.draft, parts, fieldValue(el));
  }
  formChanged();
}

// ---- validation errors at their paths -------------------------------------------------------------

function clearMarks(scope) {
  for (const el of document.querySelectorAll(`.field-error[data-scope="${scope}"], .field-warning[data-scope="${scope}"]`)) el.remove();
  for (const el of document.querySelectorAll(`[aria-invalid="true"][data-scope-mark="${scope}"]`)) {
    el.removeAttribute('aria-invalid');
    delete el.dataset.scopeMark;
  }
}

function box(kind, scope, { code, message, path }, text) {
  const p = document.createElement('p');
  p.className = kind === 'error' ? 'field-error' : 'field-warning';
  if (kind === 'error') p.setAttribute('role', 'alert');
  Object.assign(p.dataset, { scope, code, path });
  p.textContent = text ?? `${message} (${code}${path ? ` ${t('at')} ${path}` : ''})`;
  return p;
}

/** The form control whose data-path is `path`, or its closest ancestor's. */
function formFieldFor(path) {
  let p = path;
  while (p && p !== 'policy') {
    const el = form.querySelector(`[data-path="${CSS.escape(p)}"]`);
    if (el) return el;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return null;
}

/** Shows an engine error/warning in the JSON editor's list (with its line) and next to its form field. */
function mark(kind, scope, item, textarea, list, withForm) {
  const where = locate(textarea.value, item.path, scope === 'draft' ? 'policy' : 'baseline');
  const b = box(kind, scope, item);
  if (where) {
    b.dataset.line = String(where.line);
    b.textContent += ` — ${tf('line {n}', { n: where.line })}`;
    const go = document.createElement('button');
    go.type = 'button';
    go.textContent = t('show');
    go.className = 'show-in-json';
    go.addEventListener('click', () => {
      textarea.focus();
      textarea.setSelectionRange(where.start, where.end);
    });
    b.append(' ', go);
  }
  list.append(b);
  if (kind === 'error') {
    textarea.setAttribute('aria-invalid', 'true');
    textarea.dataset.scopeMark = scope;
  }
  if (!withForm) return;
  const field = formFieldFor(item.path);
  if (!field) return;
  const inline = box(kind, scope, item);
  inline.classList.add('inline');
  if (kind === 'error') {
    field.setAttribute('aria-invalid', 'true');
    field.dataset.scopeMark = scope;
  }
  const row = field.closest('tr');
  if (row) {
    const tr = document.createElement('tr');
    tr.className = 'field-error-row';
    const td = document.createElement('td');
    td.colSpan = row.cells.length;
    td.append(inline);
    tr.append(td);
    row.after(tr);
  } else {
    (field.closest('label') ?? field).after(inline);
  }
}

/** Validates one editor's text with the engine; returns the parsed object or null. */
function checkOne(scope, textarea, list, digestEl, withForm) {
  clearMarks(scope);
  for (const tr of document.querySelectorAll(`.field-error-row`)) if (!tr.querySelector('.field-error, .field-warning')) tr.remove();
  list.replaceChildren();
  digestEl.textContent = '';
  let parsed = null;
  try {
    parsed = JSON.parse(textarea.value);
  } catch {
    // The engine reports it (path "policy"); the JSON parser adds where.
  }
  try {
    const v = validate(textarea.value);
    digestEl.textContent = `${t('valid')} · ${v.policy_digest.slice(0, 19)}…`;
    digestEl.dataset.value = v.policy_digest;
    const prefixed = (w) => ({ ...w, path: w.path.startsWith(scope === 'draft' ? 'policy' : 'baseline') ? w.path : `${scope === 'draft' ? 'policy' : 'baseline'}.${w.path}` });
    for (const w of v.warnings) mark('warning', scope, prefixed(w), textarea, list, withForm);
    return parsed;
  } catch (e) {
    if (!(e instanceof LoyaltyError)) throw e;
    const err = e.toJSON().error;
    if (scope === 'baseline') err.path = err.path.replace(/^policy/, 'baseline');
    mark('error', scope, err, textarea, list, withForm);
    delete digestEl.dataset.value;
    return null;
  }
}

function check() {
  const draftOk = checkOne('draft', $('draft'), $('draft-errors'), $('draft-digest'), true);
  const baselineOk = $('baseline-on').checked ? checkOne('baseline', $('baseline'), $('baseline-errors'), $('baseline-digest'), false) : true;
  if (!$('baseline-on').checked) {
    clearMarks('baseline');
    $('baseline-errors').replaceChildren();
  }
  $('run').disabled = !(draftOk && baselineOk) || !!state.worker;
  document.body.dataset.valid = draftOk && baselineOk ? '1' : '0';
  $('download-draft').disabled = !draftParses();
  $('open-admin').disabled = !draftOk;
}

// ---- presets and data -------------------------------------------------------------------------------

function loadPreset(name) {
  const p = PRESETS[name];
  $('preset').value = name;
  state.draft = structuredClone(p.draft);
  $('draft').value = JSON.stringify(p.draft, null, 2);
  $('baseline').value = JSON.stringify(p.baseline, null, 2);
  $('as-of').value = p.as_of;
  showAsOf();
  fillForm();
  check();
}

function source() {
  const kind = document.querySelector('input[name="source"]:checked').value;
  if (kind === 'file') {
    if (!state.file) throw new Error(t('choose an NDJSON file first'));
    return { kind: 'file', file: state.file };
  }
  return {
    kind: 'generate',
    options: {
      members: Number($('gen-members').value),
      seed: Number($('gen-seed').value),
      months: Number($('gen-months').value),
      profile: $('preset').value,
      as_of: $('as-of').value.trim(),
    },
  };
}

// ---- the draft kept, downloaded, handed to the admin ----------------------------------------------

/** Where the page keeps its inputs between visits (this browser, this origin). */
const SAVED_KEY = 'loyalty.simulator.saved';
/** The draft handed to the admin page (same origin; read and removed by www/admin/admin.js). */
const HANDOFF_KEY = 'loyalty.simulator.handoff';

/** The inputs kept: the editors' text as typed (even while invalid), the data and run settings. */
const KEPT = [
  ['draft', 'value'], ['baseline', 'value'], ['baseline-on', 'checked'], ['as-of', 'value'],
  ['expected-redemption', 'value'], ['preset', 'value'], ['gen-members', 'value'], ['gen-seed', 'value'],
  ['gen-months', 'value'],
];
/** The sample's data and run settings (index.html's values), for "Reset to the sample". */
const SAMPLE = { 'baseline-on': true, 'expected-redemption': '0.7', 'gen-members': '1000', 'gen-seed': '7', 'gen-months': '18' };

let restoring = false;
function persist() {
  if (restoring || document.body.dataset.ready !== '1') return;
  try {
    localStorage.setItem(SAVED_KEY, JSON.stringify(Object.fromEntries(KEPT.map(([id, prop]) => [id, $(id)[prop]]))));
    document.body.dataset.saved = String(Number(document.body.dataset.saved ?? 0) + 1);
  } catch {
    // Storage full or disabled (private mode): the page works without it.
  }
}

/** Puts back what was kept; false when nothing was (or it cannot be read). */
function restore() {
  let saved;
  try {
    saved = JSON.parse(localStorage.getItem(SAVED_KEY) ?? 'null');
  } catch {
    saved = null;
  }
  if (!saved || typeof saved.draft !== 'string') return false;
  restoring = true;
  for (const [id, prop] of KEPT) if (id in saved && typeof saved[id] === typeof $(id)[prop]) $(id)[prop] = saved[id];
  try {
    state.draft = JSON.parse($('draft').value);
  } catch {
    state.draft = null;
  }
  restoring = false;
  showAsOf();
  fillForm();
  check();
  return true;
}

/** "Reset to the sample": the vn-fashion preset and the page's default data; nothing kept. */
function resetToSample() {
  try {
    localStorage.removeItem(SAVED_KEY);
  } catch {
    // Storage disabled: nothing was kept.
  }
  for (const [id, v] of Object.entries(SAMPLE)) $(id)[typeof v === 'boolean' ? 'checked' : 'value'] = v;
  document.querySelector('input[name="source"][value="generate"]').checked = true;
  restoring = true;
  loadPreset('vn-fashion');
  restoring = false;
  say($('saved-status'), 'Reset to the sample: nothing kept.');
}

/** The draft's text is a JSON object (what can be downloaded or handed over). */
function draftParses() {
  try {
    const v = JSON.parse($('draft').value);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** The draft as a file: pretty JSON, named after the policy's id. */
function downloadDraft() {
  const policy = JSON.parse($('draft').value);
  const name = `${String(policy.id ?? 'policy-draft').replace(/[^A-Za-z0-9._-]+/g, '-') || 'policy-draft'}.json`;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([`${JSON.stringify(policy, null, 2)}\n`], { type: 'application/json' }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/**
 * Served by `loyalty serve`? Its /healthz answers `{ "status": "ok" }` and /admin/ exists on this
 * origin; a plain static host has neither, and the admin action stays hidden there.
 */
async function detectServer() {
  try {
    const health = await fetch(new URL('/healthz', location.href), { headers: { accept: 'application/json' } });
    if (!health.ok || (await health.json())?.status !== 'ok') return false;
    const admin = await fetch(new URL('/admin/', location.href), { method: 'HEAD' });
    return admin.ok;
  } catch {
    return false;
  }
}

/** Hands the draft to the admin page (same origin) and goes to its policies section. */
function openInAdmin() {
  const policy = JSON.parse($('draft').value);
  localStorage.setItem(HANDOFF_KEY, JSON.stringify({
    text: `${JSON.stringify(policy, null, 2)}`,
    digest: $('draft-digest').dataset.value ?? null,
    at: new Date().toISOString(),
  }));
  location.assign(new URL('/admin/#policies', location.href));
}

// ---- running in the worker ---------------------------------------------------------------------------

function setRunning(running) {
  $('run').disabled = running || document.body.dataset.valid !== '1';
  $('cancel').disabled = !running;
  document.body.dataset.state = running ? 'running' : document.body.dataset.state;
}

function run() {
  $('run-errors').replaceChildren();
  let request;
  let src;
  try {
    src = source();
    const er = $('expected-redemption').value.trim();
    request = {
      policy: JSON.parse($('draft').value),
      baseline: $('baseline-on').checked ? JSON.parse($('baseline').value) : null,
      as_of: $('as-of').value.trim(),
      expected_redemption: er === '' ? null : er,
    };
  } catch (e) {
    $('run-errors').append(box('error', 'run', { code: 'input', message: e.message, path: '' }));
    return;
  }
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  state.worker = worker;
  state.lastRequest = { request, source: src };
  const progress = $('progress');
  progress.value = 0;
  progress.max = 1;
  progress.dataset.done = '0';
  if (src.kind === 'generate') setStatus('Generating {n} members…', { n: () => num(src.options.members) });
  else setStatus('Reading {file}…', { file: src.file.name });
  document.body.dataset.state = 'running';
  setRunning(true);
  worker.onmessage = ({ data }) => {
    if (state.worker !== worker) return;
    if (data.type === 'start' || data.type === 'progress') {
      progress.max = Math.max(1, data.total);
      progress.value = data.done ?? 0;
      progress.dataset.done = String(data.done ?? 0);
      progress.dataset.members = String(data.members ?? 0);
      progress.dataset.unit = data.unit;
      if (data.unit === 'bytes') {
        setStatus('Replayed {n} members ({pct} % of the file)…', { n: () => num(data.members ?? 0), pct: Math.round((100 * (data.done ?? 0)) / Math.max(1, data.total)) });
      } else {
        setStatus('Replayed {done} of {total} members…', { done: () => num(data.done ?? 0), total: () => num(data.total) });
      }
      return;
    }
    worker.terminate();
    state.worker = null;
    if (data.type === 'done') {
      state.result = data.result;
      setStatus('Done: {n} members in {s} s.', { n: () => num(data.total), s: () => decimal(data.ms / 1000, 1) });
      progress.value = progress.max;
      document.body.dataset.state = 'done';
      document.body.dataset.runs = String(Number(document.body.dataset.runs ?? 0) + 1);
      renderResult(data.result);
    } else {
      const err = data.error;
      document.body.dataset.state = 'error';
      setStatus('The simulation failed.');
      const field = document.querySelector(`#data-section [data-path="${CSS.escape(err.path)}"]`);
      const b = box('error', 'run', err);
      if (field) {
        field.setAttribute('aria-invalid', 'true');
        field.dataset.scopeMark = 'run';
        (field.closest('label') ?? field).after(b);
      } else if (err.path.startsWith('policy') || err.path.startsWith('baseline')) {
        mark('error', err.path.startsWith('policy') ? 'draft' : 'baseline', err, err.path.startsWith('policy') ? $('draft') : $('baseline'), $(err.path.startsWith('policy') ? 'draft-errors' : 'baseline-errors'), true);
      } else {
        $('run-errors').append(b);
      }
    }
    setRunning(false);
  };
  worker.onerror = (e) => {
    $('run-errors').append(box('error', 'run', { code: 'worker', message: e.message, path: '' }));
    state.worker = null;
    setRunning(false);
  };
  for (const el of document.querySelectorAll('[data-scope-mark="run"]')) el.removeAttribute('aria-invalid');
  worker.postMessage({ type: 'run', request, source: src, chunk: 100 });
}

function cancel() {
  if (!state.worker) return;
  state.worker.terminate();
  state.worker = null;
  const progress = $('progress');
  const members = Number(progress.dataset.members ?? 0);
  const done = Number(progress.dataset.done ?? 0);
  const total = progress.max;
  if (progress.dataset.unit === 'bytes') setStatus('Cancelled after {n} members.', { n: () => num(members) });
  else setStatus('Cancelled after {done} of {total} members.', { done: () => num(done), total: () => num(total) });
  progress.value = 0;
  progress.dataset.done = '0';
  document.body.dataset.state = 'cancelled';
  setRunning(false);
}

// ---- results ------------------------------------------------------------------------------------

/** A number with `digits` decimals in the page's locale (`1,2` in Vietnamese). */
const decimal = (v, digits) => new Intl.NumberFormat(lang() === 'vi' ? 'vi-VN' : 'en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);

/** A decimal string in the page's locale, exactly (grouping and the decimal sign; no rounding). */
function decimalText(v) {
  const [i, f] = v.replace('-', '').split('.');
  const group = lang() === 'vi' ? '.' : ',';
  const sep = lang() === 'vi' ? ',' : '.';
  return `${v.startsWith('-') ? '-' : ''}${i.replace(/\B(?=(\d{3})+(?!\d))/g, group)}${f ? sep + f : ''}`;
}

/** Money figures (liability, tier discounts) in the policy's currency, the others as numbers. */
const MONEY = new Set(['liability', 'tier_discounts']);
function fmt(v, key) {
  if (v === null || v === undefined) return '—';
  const currency = state.draft?.currency;
  if (MONEY.has(key) && currency && /^-?\d+(\.\d+)?$/.test(String(v))) {
    // Intl for the currency's symbol and grouping (`1.450.000 ₫`); exact below 2^53 (VND without decimals).
    return money(String(v), currency);
  }
  if (typeof v === 'number') return num(v);
  return /^-?\d+(\.\d+)?$/.test(v) ? decimalText(v) : v;
}

function renderResult(result) {
  $('results').hidden = false;
  $('summary').tBodies[0].replaceChildren(
    ...summaryRows(result, { names: Object.fromEntries((state.draft?.tiers?.levels ?? []).map((l) => [l.id, l.name])), t: tf }).map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.key = r.key;
      const th = document.createElement('td');
      th.textContent = r.label;
      tr.append(th);
      for (const col of ['draft', 'baseline', 'change']) {
        const td = document.createElement('td');
        td.className = 'num';
        td.dataset.col = col;
        td.dataset.value = r[col] === null ? '' : String(r[col]);
        td.textContent = col === 'change' && r.change !== null && !String(r.change).startsWith('-') && Number(r.change) !== 0 ? `+${fmt(r.change, r.key)}` : fmt(r[col], r.key);
        if (col === 'change' && r.change !== null && Number(r.change) !== 0) td.className += String(r.change).startsWith('-') ? ' change-down' : ' change-up';
        tr.append(td);
      }
      return tr;
    }),
  );
  $('rejected').replaceChildren(
    ...result.rejected.slice(0, 20).map((r) => box('warning', 'result', { ...r.error, path: `${r.member_id}: ${r.error.path}` })),
  );
  const pm = partial(result);
  const note = $('partial-note');
  note.hidden = !pm;
  note.textContent = pm ? pm.note : '';
  if (pm) note.dataset.month = pm.month;
  else delete note.dataset.month;
  renderCharts(result);
}

/** Months as the page writes dates (month first: 03/2026); the data keep the report's `2026-03`. */
const monthText = (m) => (/^\d{4}-\d{2}$/.test(m) ? `${m.slice(5)}/${m.slice(0, 4)}` : m);

/** A local date and time in `zone` as the page writes them: `07/03/2026 14:30`. */
function zoneDate(instant, zone) {
  const p = zoneParts(instant, zone);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/**
 * The report's partial last month (./partial.js) with its texts in the page's language: `label`
 * for the axis, table and tooltip (`03/2026 (1–7)`, `10/2026 (01/10 00:00 only)`), `short` for the
 * charts' subtitle, `tip` for the tooltip, `note` under the results' heading.
 */
function partial(result) {
  const req = state.lastRequest?.request;
  const zone = req?.policy?.time_zone;
  const pm = partialMonth(result.by_month, req?.as_of, zone);
  if (!pm) return null;
  const month = monthText(pm.month);
  const dm = `${String(pm.day).padStart(2, '0')}/${pm.month.slice(5)}`;
  const time = `${pm.hour}:${pm.minute}`;
  const label = pm.instantOnly
    ? tf('{month} ({date} {time} only)', { month, date: dm, time })
    : pm.midnight
      ? tf('{month} (1–{last})', { month, last: pm.day - 1, m: Number(pm.month.slice(5)) })
      : tf('{month} (to {date} {time})', { month, date: dm, time });
  const from = zoneDate(`${pm.month}-01T00:00:00Z`, 'UTC');
  const to = zoneDate(pm.asOf, zone);
  return {
    ...pm,
    label,
    short: tf('Last month is partial: up to {to}', { to }),
    tip: pm.instantOnly ? tf('Partial month: only the as-of instant, {to} ({zone})', { to, zone }) : tf('Partial month: {from} to {to} ({zone})', { from, to, zone }),
    note: pm.instantOnly
      ? tf('The last month, {month}, is partial: it holds only the as-of instant, {to} ({zone}), such as the points that expire then. Its figures are the engine\'s, not a drop.', { month: label, to, zone })
      : tf('The last month, {month}, is partial: it covers {from} to the as-of, {to} ({zone}). Its figures are the engine\'s for part of a month, not a drop.', { month: label, from, to, zone }),
  };
}

/** A Chart.js plugin: a hatched band behind the partial month. */
function partialBand(pm) {
  return {
    id: 'partialBand',
    beforeDatasetsDraw(chart) {
      if (!pm) return;
      const x = chart.scales.x;
      const area = chart.chartArea;
      const at = x.getPixelForValue(pm.index);
      const step = pm.index > 0 ? at - x.getPixelForValue(pm.index - 1) : area.right - area.left;
      const left = Math.max(area.left, at - step / 2);
      const right = Math.min(area.right, at + step / 2);
      const ctx = chart.ctx;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, area.top, right - left, area.bottom - area.top);
      ctx.clip();
      ctx.fillStyle = 'rgba(247, 144, 9, 0.08)';
      ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
      ctx.strokeStyle = 'rgba(181, 71, 8, 0.25)';
      ctx.lineWidth = 1;
      for (let d = left - (area.bottom - area.top); d < right; d += 8) {
        ctx.moveTo(d, area.bottom);
        ctx.lineTo(d + (area.bottom - area.top), area.top);
      }
      ctx.stroke();
      ctx.restore();
    },
  };
}

function renderCharts(result) {
  if (!window.Chart) return;
  const Chart = window.Chart;
  const names = Object.fromEntries((state.draft?.tiers?.levels ?? []).map((l) => [l.id, l.name]));
  // The last month is partial (./partial.js): its label says so, its points and the line's last
  // segment are drawn open/dashed over a hatched band, the subtitle and the tooltip explain it.
  const pm = partial(result);
  const label = (m) => (pm && m === pm.month ? pm.label : monthText(m));
  // On the axis, the partial month's label on two lines (`10/2026`, `(01/10 00:00 only)`): one long rotated label would squeeze the plot.
  const tick = (m) => {
    const text = label(m);
    const cut = text.indexOf(' (');
    return pm && m === pm.month && cut > 0 ? [text.slice(0, cut), text.slice(cut + 1)] : text;
  };
  const monthAxis = (title) => ({ title: { display: true, text: title }, ticks: { callback(v) { return tick(this.getLabelForValue(v)); } } });
  const partialOptions = {
    subtitle: { display: !!pm, text: pm ? pm.short : '', color: '#b54708' },
    tooltip: {
      callbacks: {
        title: (items) => (items[0] ? label(items[0].label) : ''),
        afterTitle: (items) => (pm && items[0]?.dataIndex === pm.index ? pm.tip : ''),
      },
    },
  };
  const lineMarks = (color) => (pm ? {
    segment: { borderDash: (ctx) => (ctx.p1DataIndex === pm.index ? [2, 3] : undefined) },
    pointBackgroundColor: result.by_month.map((m, i) => (i === pm.index ? '#ffffff' : color)),
    pointBorderColor: color,
    pointStyle: result.by_month.map((m, i) => (i === pm.index ? 'rectRot' : 'circle')),
    pointRadius: result.by_month.map((m, i) => (i === pm.index ? 5 : 3)),
  } : {});
  for (const id of ['chart-monthly', 'chart-liability']) {
    if (pm) {
      $(id).dataset.partialMonth = pm.month;
      $(id).dataset.partialLabel = pm.label;
    } else {
      delete $(id).dataset.partialMonth;
      delete $(id).dataset.partialLabel;
    }
  }
  Chart.defaults.locale = lang() === 'vi' ? 'vi-VN' : 'en-GB';
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  for (const c of Object.values(state.charts)) c.destroy();
  const base = result.diff?.baseline ?? null;
  const blue = '#0b6bcb';
  const grey = '#98a2b3';
  state.charts.tiers = new Chart($('chart-tiers'), {
    type: 'bar',
    data: {
      labels: result.tiers.map((t) => t.tier),
      datasets: [
        ...(base ? [{ label: t('Baseline'), data: base.tiers.map((x) => x.members), backgroundColor: grey }] : []),
        { label: t('Draft'), data: result.tiers.map((x) => x.members), backgroundColor: blue },
      ],
    },
    options: {
      plugins: { title: { display: true, text: t('Members per tier, baseline and draft') } },
      scales: {
        x: { title: { display: true, text: t('Tier') }, ticks: { callback: (v, i) => names[result.tiers[i]?.tier] ?? result.tiers[i]?.tier } },
        y: { title: { display: true, text: t('Members') }, ticks: { callback: (v) => num(v) } },
      },
    },
  });
  const months = result.by_month.map((m) => m.month);
  const series = (figures, field) => months.map((month) => figures.by_month.find((m) => m.month === month)?.[field] ?? 0);
  const colors = { issued: '#12b76a', redeemed: blue, expired: '#f04438' };
  state.charts.monthly = new Chart($('chart-monthly'), {
    type: 'line',
    plugins: [partialBand(pm)],
    data: {
      labels: months,
      datasets: ['issued', 'redeemed', 'expired'].flatMap((field) => [
        { label: tf('Draft {what}', { what: t(field) }), data: series(result, field), borderColor: colors[field], backgroundColor: colors[field], ...lineMarks(colors[field]) },
        ...(base ? [{ label: tf('Baseline {what}', { what: t(field) }), data: series(base, field), borderColor: colors[field], backgroundColor: colors[field], borderDash: [5, 4], ...lineMarks(colors[field]) }] : []),
      ]),
    },
    options: {
      plugins: { title: { display: true, text: t('Points issued, redeemed and expired per month') }, ...partialOptions },
      scales: { x: monthAxis(t('Month')), y: { title: { display: true, text: t('points') }, ticks: { callback: (v) => num(v) } } },
    },
  });
  // Liability at as-of (money, one figure per policy) and the outstanding points it comes from,
  // month by month (cumulative issued − redeemed − expired from the monthly figures).
  const cumulative = (figures) => {
    let sum = 0;
    return series(figures, 'issued').map((v, i) => (sum += v - series(figures, 'redeemed')[i] - series(figures, 'expired')[i]));
  };
  state.charts.liability = new Chart($('chart-liability'), {
    plugins: [partialBand(pm)],
    data: {
      labels: months,
      datasets: [
        { type: 'line', label: t('Draft: net points issued, cumulative'), data: cumulative(result), borderColor: blue, yAxisID: 'points', ...lineMarks(blue) },
        ...(base ? [{ type: 'line', label: t('Baseline: net points issued, cumulative'), data: cumulative(base), borderColor: grey, borderDash: [5, 4], yAxisID: 'points', ...lineMarks(grey) }] : []),
        { type: 'bar', label: tf('Draft liability at as-of ({v})', { v: fmt(result.liability, 'liability') }), data: months.map((m, i) => (i === months.length - 1 ? Number(result.liability ?? 0) : null)), backgroundColor: blue, yAxisID: 'money' },
        ...(base ? [{ type: 'bar', label: tf('Baseline liability at as-of ({v})', { v: fmt(base.liability, 'liability') }), data: months.map((m, i) => (i === months.length - 1 ? Number(base.liability ?? 0) : null)), backgroundColor: grey, yAxisID: 'money' }] : []),
      ],
    },
    options: {
      plugins: { title: { display: true, text: t('Liability at as-of and outstanding points by month') }, ...partialOptions },
      scales: {
        x: monthAxis(t('Month')),
        points: { position: 'left', title: { display: true, text: t('points') }, ticks: { callback: (v) => num(v) } },
        money: { position: 'right', title: { display: true, text: tf('liability ({currency})', { currency: state.draft?.currency ?? '' }) }, ticks: { callback: (v) => fmt(String(v), 'liability') }, grid: { drawOnChartArea: false } },
      },
    },
  });
}

function exportCsv() {
  if (!state.result) return;
  const blob = new Blob([toCsv(state.result, { partial: partial(state.result)?.month ?? null })], { type: 'text/csv' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `simulation-${new Date().toISOString().slice(0, 10)}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ---- wiring -------------------------------------------------------------------------------------

/** The chosen file, in the page's language (the native input's own text is the browser's). */
function showFile() {
  const file = state.file;
  $('file-name').textContent = file ? file.name : t('No file chosen');
  $('file-info').textContent = file ? tf('{name}: {kb} KB, read as a stream when the run starts', { name: file.name, kb: decimal(file.size / 1024, 1) }) : '';
}

/** The as-of instant as the page writes dates (dd/mm/yyyy hh:mm, the programme's zone). */
function showAsOf() {
  const v = $('as-of').value.trim();
  const d = new Date(v);
  $('as-of-shown').textContent = v && !Number.isNaN(d.getTime()) ? date(v) : t('Date and time with its offset (RFC 3339)');
}

/** The language changed: every text the script wrote, again. */
function relabel() {
  fillForm();
  check();
  showFile();
  showAsOf();
  if (status) setStatus(status.key, status.params);
  if (state.result) renderResult(state.result);
}

async function main() {
  initLang();
  onLang(relabel);
  showFile();
  form.addEventListener('input', onFormInput);
  $('level-add').addEventListener('click', () => {
    const levels = (state.draft.tiers ??= {}).levels ??= [];
    const last = levels.at(-1);
    levels.push({ id: `level-${levels.length + 1}`, name: `Level ${levels.length + 1}`, threshold: String(Number(last?.threshold ?? 0) * 2 || 100) });
    fillForm();
    formChanged();
  });
  $('redemption-on').addEventListener('change', (e) => {
    if (e.target.checked) state.draft.redemption = { point_value: '1000', min_points: 10, step: 1, max_share: '0.5' };
    else delete state.draft.redemption;
    fillForm();
    formChanged();
  });
  $('draft').addEventListener('input', () => {
    try {
      state.draft = JSON.parse($('draft').value);
      fillForm();
    } catch {
      // Keep the form as it was; the engine's error is shown.
    }
    check();
    persist();
  });
  $('baseline').addEventListener('input', () => {
    check();
    persist();
  });
  $('baseline-on').addEventListener('change', () => {
    check();
    persist();
  });
  for (const id of ['as-of', 'expected-redemption', 'preset', 'gen-members', 'gen-seed', 'gen-months']) {
    $(id).addEventListener('input', persist);
    $(id).addEventListener('change', persist);
  }
  $('reset-sample').addEventListener('click', resetToSample);
  $('download-draft').addEventListener('click', downloadDraft);
  $('open-admin').addEventListener('click', openInAdmin);
  $('preset-load').addEventListener('click', () => {
    loadPreset($('preset').value);
    persist();
  });
  $('file').addEventListener('change', async (e) => {
    const file = e.target.files[0] ?? null;
    state.file = file;
    showFile();
    document.querySelector('input[name="source"][value="file"]').checked = !!file;
    document.body.dataset.file = file ? file.name : '';
  });
  $('as-of').addEventListener('input', showAsOf);
  $('run').addEventListener('click', run);
  $('cancel').addEventListener('click', cancel);
  $('export-csv').addEventListener('click', exportCsv);
  await init();
  // The JSON editors: CodeMirror with the policy's JSON Schema (completion, hover docs, inline
  // errors); the textareas stay their model (see editor.js).
  await Promise.all([
    upgrade($('draft')),
    upgrade($('baseline')),
  ]);
  say($('engine-status'), 'engine ready (WebAssembly)');
  // The inputs kept from the last visit, else the sample (vn-fashion).
  if (restore()) say($('saved-status'), 'Restored from this browser (kept automatically).');
  else loadPreset('vn-fashion');
  // On `loyalty serve`, the draft can go to the admin page to be published.
  $('open-admin').hidden = !(await detectServer());
  document.body.dataset.server = $('open-admin').hidden ? '0' : '1';
  document.body.dataset.ready = '1';
}

main();
