// Differential test (issue 6): native vs Wasm on generated requests.
//
// `cargo run --release --example diffgen -- --seed S --cases N` writes N random but valid
// eval requests (every quote feature, plus validate and verify lines; examples/diffgen.rs). Each
// line goes through the package's evalLine (Wasm) and through the native `loyalty eval`
// (target/release/loyalty); the answers must be byte-identical.
//
//   DIFF_SEED   the seed (default: derived from today's UTC date, so every day explores new
//               cases); always printed, so a failure can be re-run exactly
//   DIFF_CASES  how many cases (default 10,000)
//
// On a mismatch the request is minimized (members and elements deleted while the answers still
// differ) and written as a vector under tests/vectors/differential/ whose `expected` is the
// NATIVE answer — a differential regression, not hand-checked — and the test fails. Native or
// package builds older than the source also differ: rebuild with ./scripts/build.sh first.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { CLI, PKG, ROOT, VECTORS } from '../support/paths.js';

const DIFFGEN = path.join(ROOT, 'target', 'release', 'examples', process.platform === 'win32' ? 'diffgen.exe' : 'diffgen');
const OUT_DIR = path.join(VECTORS, 'differential');
const MAX_VECTORS = 5;

function seedOf() {
  if (process.env.DIFF_SEED) return BigInt(process.env.DIFF_SEED).toString();
  const d = new Date();
  return String(d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate());
}

function cargoBuild(args) {
  const r = spawnSync('cargo', ['build', '--release', ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  assert.equal(r.status, 0, `cargo build --release ${args.join(' ')} failed`);
}

/** Runs lines through `loyalty eval`; one answer per (non-blank) line. */
function native(lines) {
  const r = spawnSync(CLI, ['eval'], { input: lines.join('\n') + '\n', maxBuffer: 1 << 30, encoding: 'utf8' });
  assert.equal(r.status, 0, `loyalty eval exited ${r.status}: ${r.stderr}`);
  const out = r.stdout.split('\n');
  out.pop(); // after the last '\n'
  assert.equal(out.length, lines.length, 'one native answer per line');
  return out;
}

// ------------------------------------------------------------------ minimizing

function removals(value) {
  // Every value reachable by deleting one object member or one array element (deepest first,
  // so that small deletions are tried before whole subtrees vanish).
  const out = [];
  const walk = (v, rebuild) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, (nx) => rebuild(v.map((y, j) => (j === i ? nx : y)))));
      v.forEach((_, i) => out.push(rebuild(v.filter((_, j) => j !== i))));
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      keys.forEach((k) => walk(v[k], (nx) => rebuild({ ...v, [k]: nx })));
      keys.forEach((k) => {
        if (k === 'op') return;
        const copy = { ...v };
        delete copy[k];
        out.push(rebuild(copy));
      });
    }
  };
  walk(value, (x) => x);
  return out;
}

/** Greedy minimization: keep deleting while native and Wasm still disagree. */
function minimize(line, evalLine) {
  let current = JSON.parse(line);
  for (let round = 0; round < 500; round++) {
    const candidates = removals(current).map((c) => JSON.stringify(c));
    if (candidates.length === 0) break;
    const nat = native(candidates);
    const i = candidates.findIndex((c, k) => evalLine(c) !== nat[k]);
    if (i < 0) break;
    current = JSON.parse(candidates[i]);
  }
  return JSON.stringify(current);
}

function writeVector(seed, index, line, nativeAnswer, wasmAnswer) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const taken = fs.readdirSync(OUT_DIR).filter((f) => f.endsWith('.json')).length;
  const file = path.join(OUT_DIR, `${String(taken + 1).padStart(3, '0')}-seed-${seed}-case-${index}.json`);
  const vector = {
    description: `Differential regression (native vs Wasm), NOT hand-checked: expected is the native CLI's answer to diffgen seed ${seed} case ${index}, minimized; the Wasm package answered differently.`,
    notes: [
      `Found by tests/node/differential.test.mjs (DIFF_SEED=${seed}); regenerate the original with: cargo run --release --example diffgen -- --seed ${seed} --start ${index} --cases 1`,
      `Wasm answered: ${wasmAnswer}`,
      'Check the expected answer by hand (or fix the engine) before relying on it.',
    ],
    request: JSON.parse(line),
    expected: JSON.parse(nativeAnswer),
  };
  fs.writeFileSync(file, JSON.stringify(vector, null, 2) + '\n');
  return path.relative(ROOT, file);
}

// ------------------------------------------------------------------ the test

const built = fs.existsSync(path.join(PKG, 'package.json'));

test('differential: native loyalty eval vs Wasm evalLine on generated requests', { skip: !built && 'pkg/ is not built (./scripts/build.sh)' }, async () => {
  const { esm: api } = await import('../support/package.js');
  const seed = seedOf();
  const cases = Number(process.env.DIFF_CASES ?? 10000);
  console.log(`# differential: DIFF_SEED=${seed} DIFF_CASES=${cases}`);
  if (!fs.existsSync(CLI)) cargoBuild(['--bin', 'loyalty']);
  if (!fs.existsSync(DIFFGEN)) cargoBuild(['--example', 'diffgen']);

  // Generated and compared in chunks, so memory stays bounded for long runs (1,000,000 cases).
  const CHUNK = 5000;
  const mismatches = [];
  const counts = { ok: 0, error: 0 };
  for (let start = 0; start < cases; start += CHUNK) {
    const n = Math.min(CHUNK, cases - start);
    const gen = spawnSync(DIFFGEN, ['--seed', seed, '--start', String(start), '--cases', String(n)], {
      maxBuffer: 1 << 30,
      encoding: 'utf8',
    });
    assert.equal(gen.status, 0, `diffgen failed: ${gen.stderr}`);
    const chunk = gen.stdout.split('\n').filter((l) => l.length > 0);
    assert.equal(chunk.length, n);
    const nat = native(chunk);
    chunk.forEach((line, k) => {
      const wasm = api.evalLine(line);
      if (wasm !== nat[k]) {
        if (mismatches.length < 1000) mismatches.push({ index: start + k, line, native: nat[k], wasm });
        else mismatches.push({ index: start + k });
      } else counts[nat[k].startsWith('{"error"') ? 'error' : 'ok'] += 1;
    });
    if (cases > 50000 && (start / CHUNK) % 20 === 19) {
      console.log(`# differential: ${start + n} of ${cases} cases, ${mismatches.length} mismatch(es) so far`);
    }
  }
  console.log(`# differential: ${cases} cases, ${counts.ok} results and ${counts.error} error answers identical, ${mismatches.length} mismatch(es)`);

  const written = [];
  for (const m of mismatches.slice(0, MAX_VECTORS)) {
    const small = minimize(m.line, api.evalLine);
    const [nat] = native([small]);
    written.push(writeVector(seed, m.index, small, nat, api.evalLine(small)));
  }
  assert.equal(
    mismatches.length,
    0,
    `native and Wasm differ on ${mismatches.length} of ${cases} cases (DIFF_SEED=${seed}); ` +
      `minimized reproductions: ${written.join(', ')}\nfirst: ${mismatches[0]?.line}\n native: ${mismatches[0]?.native}\n wasm:   ${mismatches[0]?.wasm}`,
  );
});
