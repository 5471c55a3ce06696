// The native CLI and the Wasm package give the same bytes (SPEC §6, §7.1, §7.26): every line
// fed to `loyalty eval` (target/release/loyalty) is also given to the package's evalLine, and the
// answers must be identical. The lines: every conformance vector's request, variations of SPEC
// §2's worked example (quantities, prices, redemptions, members, times), and malformed input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { CART, MEMBERS, POLICY } from '../../www/pos/sample-data.js';
import { LIVE } from '../support/live.js';
import { esm as api } from '../support/package.js';
import { CLI, VECTORS } from '../support/paths.js';

function vectorRequests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return vectorRequests(full);
    if (!e.name.endsWith('.json')) return [];
    try {
      return [JSON.stringify(JSON.parse(fs.readFileSync(full, 'utf8')).request)];
    } catch {
      return []; // malformed vectors are reported by vectors.test.mjs
    }
  });
}

/** Deterministic variations of the worked example (a tiny LCG, so every run is the same). */
function variations(count) {
  let seed = 12345;
  const next = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const lines = [];
  for (let i = 0; i < count; i++) {
    const member = { ...MEMBERS[next(MEMBERS.length)], points: next(3000) };
    const cart = structuredClone(CART);
    cart.at = `2026-03-${String(1 + next(28)).padStart(2, '0')}T${String(next(24)).padStart(2, '0')}:30:00+07:00`;
    for (const line of cart.lines) {
      line.quantity = 1 + next(5);
      line.unit_price = String(next(40) * 25000 + next(3) * 1000);
    }
    if (next(3) === 0) cart.lines.push({ id: 'C', sku: 'GC-500', category: 'gift_card', quantity: 1, unit_price: '500000' });
    const redeem = [0, 'max', next(400), 10, 5, 300][next(6)];
    lines.push(JSON.stringify({ op: 'quote', policy: POLICY, member, cart, redeem_points: redeem }));
  }
  return lines;
}

const MALFORMED = [
  '{"op":"quote",',
  'null',
  '[]',
  '"text"',
  '{}',
  '{"op":"fly","policy":{}}',
  '{"op":"validate"}',
  `{"op":"validate","policy":${JSON.stringify({ ...POLICY, id: 'tab\there "quoted" \u0001 é 🎟' })}}`,
  `{"op":"validate","policy":${JSON.stringify({ ...POLICY, schema: 2 })}}`,
  `{"op":"quote","policy":${JSON.stringify(POLICY)},"member":${JSON.stringify(MEMBERS[0])},"cart":{"id":"x","at":"2026-03-07T10:00:00+07:00","lines":[{"id":"A","quantity":1.5,"unit_price":"1"}]}}`,
];

test('loyalty eval (native) and evalLine (Wasm) answer every line with the same bytes', (t) => {
  if (!fs.existsSync(CLI)) {
    assert.fail(`${CLI} is missing: run ./scripts/build.sh (it builds the CLI)`);
  }
  const lines = [...vectorRequests(VECTORS), ...variations(300), ...MALFORMED];
  // Blank lines are skipped by both and produce nothing.
  const input = `${lines.join('\n\n')}\n   \n`;
  const run = spawnSync(CLI, ['eval'], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(run.status, 0, `loyalty eval exited ${run.status}: ${run.stderr}`);
  const out = run.stdout.split('\n');
  assert.equal(out.pop(), '', 'the output ends with a newline');
  if (out.length !== lines.length && !LIVE.cli) {
    t.todo(`the CLI answered ${out.length} of ${lines.length} lines`); // TODO(engine): gone once LIVE.cli
    return;
  }
  assert.equal(out.length, lines.length, 'one answer per non-blank line');
  let differ = 0;
  lines.forEach((line, i) => {
    const wasm = api.evalLine(line);
    if (wasm !== out[i]) {
      differ++;
      if (differ <= 3) assert.equal(wasm, out[i], `line ${i + 1}: ${line.slice(0, 200)}`);
    }
  });
  assert.equal(differ, 0, `${differ} of ${lines.length} lines differ`);
  t.diagnostic(`${lines.length} lines compared (${vectorRequests(VECTORS).length} from vectors)`);
});

test('loyalty validate POLICY prints what validate() returns; exit 1 on an error', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-cli-'));
  try {
    const good = path.join(dir, 'good.json');
    fs.writeFileSync(good, JSON.stringify(POLICY, null, 2));
    const ok = spawnSync(CLI, ['validate', good], { encoding: 'utf8' });
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...POLICY, schema: 7 }));
    const fails = spawnSync(CLI, ['validate', bad], { encoding: 'utf8' });
    const expected = (policy) => {
      try {
        return JSON.stringify(api.validate(policy));
      } catch (e) {
        return JSON.stringify(e);
      }
    };
    assert.equal(ok.stdout.trimEnd(), expected(POLICY));
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(fails.stdout.trimEnd(), expected({ ...POLICY, schema: 7 }));
    assert.equal(fails.status, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
