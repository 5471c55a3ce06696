// Side by side in one Node process (issue 17): `engine.quote` of the ten_lines_5_rules case
// (bench/quote_cases.json) through the package's full module (`loyalty-engine`) and its core
// module (`loyalty-engine/core`, what a POS loads), against json-rules-engine computing the
// earning alone for the same cart: the same 4 rules (shoes ×2, bags ×3, weekend +10,
// subtotal ≥ 2,000,000 +25) and the gold tier's ×1.5 as json-rules-engine rules, facts built
// from the cart per call, the points summed from the events in JavaScript (floats, no discount,
// redemption, allocation or digest). Both give the same points (checked before timing).
//
//   node bench/vs-json-rules-engine.mjs        (after scripts/build.sh and `npm ci --prefix bench`)
//
// Prints one JSON line per contender (µs per op by the wall clock and by this process's CPU
// time, medians of 5 runs of ~1 s) and the ratios. Not a test: numbers vary by machine and load.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Engine } = await import(path.join(root, 'pkg', 'node.mjs'));
const core = await import(path.join(root, 'pkg', 'core', 'node.mjs'));
const { Engine: RulesEngine } = await import(path.join(root, 'bench', 'node_modules', 'json-rules-engine', 'dist', 'index.js')).then((m) => m.default ?? m);
const { policy, request } = JSON.parse(readFileSync(path.join(root, 'bench', 'quote_cases.json'), 'utf8')).ten_lines_5_rules;

// json-rules-engine: the policy's earning as rules; each event names what it adds.
const rules = new RulesEngine([], { allowUndefinedFacts: true });
for (const r of policy.earning.rules) {
  const w = r.when;
  const all = [];
  if (w.categories) all.push({ fact: 'categories', operator: 'contains', value: w.categories[0] });
  if (w.days_of_week) all.push({ fact: 'dayOfWeek', operator: 'in', value: w.days_of_week });
  if (w.min_subtotal) all.push({ fact: 'subtotal', operator: 'greaterThanInclusive', value: Number(w.min_subtotal) });
  const event = r.multiplier
    ? { type: 'multiplier', params: { category: w.categories[0], factor: Number(r.multiplier) } }
    : { type: 'bonus', params: { points: r.bonus_points } };
  rules.addRule({ name: r.id, conditions: { all }, event });
}
const gold = policy.tiers.levels.find((l) => l.id === 'gold');
rules.addRule({ name: 'tier-gold', conditions: { all: [{ fact: 'tier', operator: 'equal', value: 'gold' }] }, event: { type: 'tier', params: { factor: Number(gold.earn_multiplier) } } });
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const spend = Number(policy.earning.spend);
const excluded = new Set(policy.earning.exclude_categories);

async function earnWithRules(req) {
  const lines = req.cart.lines;
  let subtotal = 0;
  const categories = [];
  for (const l of lines) {
    subtotal += l.quantity * Number(l.unit_price);
    if (!excluded.has(l.category)) categories.push(l.category);
  }
  // The cart's local day: its written offset (+07:00 is Asia/Ho_Chi_Minh's).
  const at = req.cart.at;
  const offsetMin = Number(at.slice(-6, -3)) * 60 + Math.sign(Number(at.slice(-6, -3))) * Number(at.slice(-2));
  const dayOfWeek = DAYS[new Date(Date.parse(at) + offsetMin * 60_000).getUTCDay()];
  const { events } = await rules.run({ categories, dayOfWeek, subtotal, tier: req.member.tier });
  const multiplier = new Map();
  let bonus = 0;
  let tier = 1;
  for (const e of events) {
    if (e.type === 'multiplier') multiplier.set(e.params.category, Math.max(multiplier.get(e.params.category) ?? 1, e.params.factor));
    else if (e.type === 'bonus') bonus += e.params.points;
    else if (e.type === 'tier') tier = e.params.factor;
  }
  let units = 0;
  for (const l of lines) {
    if (excluded.has(l.category)) continue;
    units += ((l.quantity * Number(l.unit_price)) / spend) * (multiplier.get(l.category) ?? 1);
  }
  return Math.floor(units * tier * policy.earning.points) + bonus;
}

const full = new Engine(policy);
const pos = new core.Engine(policy);
const quoted = full.quote(request);
const earned = await earnWithRules(request);
if (earned !== quoted.earned_points) throw new Error(`json-rules-engine earns ${earned}, the engine ${quoted.earned_points}`);
if (JSON.stringify(pos.quote(request)) !== JSON.stringify(quoted)) throw new Error('core and full modules differ');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function bench(name, fn, isAsync) {
  for (let i = 0; i < 2000; i++) isAsync ? await fn() : fn();
  const wall = [];
  const cpu = [];
  for (let run = 0; run < 5; run++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    while (process.hrtime.bigint() - t0 < 1_000_000_000n) {
      if (isAsync) for (let i = 0; i < 100; i++) await fn();
      else for (let i = 0; i < 100; i++) fn();
      n += 100;
    }
    const t = Number(process.hrtime.bigint() - t0) / 1e3;
    const c = process.cpuUsage(c0);
    wall.push(t / n);
    cpu.push((c.user + c.system) / n);
  }
  const r = { target: 'node', contender: name, us_per_op: +median(wall).toFixed(2), cpu_us_per_op: +median(cpu).toFixed(2), load1: +loadavg()[0].toFixed(2) };
  console.log(JSON.stringify(r));
  return r;
}

const a = await bench('loyalty-engine quote (full module)', () => full.quote(request), false);
const b = await bench('loyalty-engine/core quote (core module)', () => pos.quote(request), false);
const c = await bench('json-rules-engine earning only', () => earnWithRules(request), true);
const ratio = (x, y) => +(x / y).toFixed(2);
console.log(JSON.stringify({
  json_rules_engine_over_full: ratio(c.cpu_us_per_op, a.cpu_us_per_op),
  json_rules_engine_over_core: ratio(c.cpu_us_per_op, b.cpu_us_per_op),
  core_over_full: ratio(b.cpu_us_per_op, a.cpu_us_per_op),
  by: 'cpu time',
}));
