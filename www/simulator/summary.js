// The simulation report as rows (figure, draft, baseline, change) for the summary table and the
// CSV export. Values are the engine's as is: points are numbers, money is a decimal string.

/** a − b for decimal strings ("12.50" − "3.4" = "9.10"), exact (BigInt), keeping the longer scale. */
export function decimalSub(a, b) {
  const scale = Math.max((a.split('.')[1] ?? '').length, (b.split('.')[1] ?? '').length);
  const units = (s) => {
    const [i, f = ''] = s.replace('-', '').split('.');
    const v = BigInt(i + f.padEnd(scale, '0'));
    return s.startsWith('-') ? -v : v;
  };
  const d = units(a) - units(b);
  const neg = d < 0n;
  const digits = (neg ? -d : d).toString().padStart(scale + 1, '0');
  const out = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${out}` : out;
}

function change(draft, baseline) {
  if (typeof draft === 'number' && typeof baseline === 'number') return draft - baseline;
  if (typeof draft === 'string' && typeof baseline === 'string') return decimalSub(draft, baseline);
  return null;
}

/**
 * @param {object} result a SimulateResponse
 * @param {{ monthly?: boolean, names?: Record<string, string>, t?: (key: string, params?: object) => string }} options
 *   monthly: include by_month rows (the CSV does); names: tier id → the name people read (the
 *   draft's levels); t: the labels in the page's language (the English key, `{tier}` filled in)
 * @returns {{ key: string, label: string, draft: number|string|null, baseline: number|string|null, change: number|string|null }[]}
 */
const english = (key, params = {}) => key.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));

export function summaryRows(result, { monthly = false, names = {}, t = english } = {}) {
  const base = result.diff?.baseline ?? null;
  const rows = [];
  const add = (key, label, get) => {
    const d = get(result);
    const b = base ? get(base) : null;
    rows.push({ key, label, draft: d ?? null, baseline: b ?? null, change: base ? change(d, b) : null });
  };
  add('members', t('Members replayed'), (f) => f.members);
  add('points.issued', t('Points issued'), (f) => f.points.issued);
  add('points.redeemed', t('Points redeemed'), (f) => f.points.redeemed);
  add('points.expired', t('Points expired'), (f) => f.points.expired);
  add('points.outstanding', t('Points outstanding'), (f) => f.points.outstanding);
  add('liability', t('Liability'), (f) => f.liability);
  add('tier_discounts', t('Tier discounts'), (f) => f.tier_discounts);
  const tierIds = [...new Set([...result.tiers, ...(base?.tiers ?? [])].map((t) => t.tier))];
  for (const id of tierIds) {
    add(`tiers.${id}`, t('Members in {tier}', { tier: names[id] ?? id }), (f) => f.tiers.find((t) => t.tier === id)?.members ?? null);
  }
  if (result.diff) {
    for (const dir of ['up', 'down']) {
      rows.push({ key: `members_moved.${dir}`, label: t(`Members moved ${dir}`), draft: result.diff.members_moved[dir], baseline: null, change: null });
    }
  }
  rows.push({ key: 'rejected', label: t('Members rejected'), draft: result.rejected.length, baseline: null, change: null });
  if (monthly) {
    const months = [...new Set([...result.by_month, ...(base?.by_month ?? [])].map((m) => m.month))].sort();
    for (const month of months) {
      for (const field of ['issued', 'redeemed', 'expired', 'tier_discounts']) {
        add(`by_month.${month}.${field}`, `${month} ${field}`, (f) => f.by_month.find((m) => m.month === month)?.[field] ?? null);
      }
    }
  }
  return rows;
}

const cell = (v) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/**
 * The CSV export: `figure,draft,baseline,change,partial`, one row per figure, monthly rows
 * included; `partial` is `true` on the rows of the partial last month (./partial.js), `false` on
 * the other months' rows and empty on the totals.
 * @param {object} result a SimulateResponse
 * @param {{ partial?: string|null }} options partial: the partial month (`YYYY-MM`), if any
 */
export function toCsv(result, { partial = null } = {}) {
  const lines = ['figure,draft,baseline,change,partial'];
  for (const r of summaryRows(result, { monthly: true })) {
    const month = /^by_month\.(\d{4}-\d{2})\./.exec(r.key)?.[1];
    lines.push([r.key, r.draft, r.baseline, r.change, month ? String(month === partial) : ''].map(cell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

