// The package's TypeScript types: generated from the engine's Rust types (tsify → wasm-bindgen
// → types.d.ts), re-exported by index.d.ts, and usable from TypeScript (tsc --noEmit on small
// usage files: Node ESM and CommonJS under node16 resolution, and the Vite app under bundler
// resolution), with skipLibCheck off so that the shipped .d.ts files are checked too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { LIVE } from '../support/live.js';
import { CONSUMER, PKG, ROOT, VITE_APP, requireBuiltPackage } from '../support/paths.js';

requireBuiltPackage();
const indexDts = fs.readFileSync(path.join(PKG, 'index.d.ts'), 'utf8');
const typesDts = fs.readFileSync(path.join(PKG, 'types.d.ts'), 'utf8');

/** The names index.d.ts imports from the generated types. */
function importedNames() {
  const block = /import type \{([^}]*)\} from '\.\/types\.js';/.exec(indexDts);
  assert.ok(block, "index.d.ts imports its types from './types.js'");
  return block[1]
    .split('\n')
    .map((l) => l.replace(/\/\/.*$/, '').trim().replace(/,$/, ''))
    .filter(Boolean);
}
const declared = (name) => new RegExp(`^export (interface|type) ${name}\\b`, 'm').test(typesDts);

test('index.d.ts takes its request/response types from the generated ones', () => {
  const names = importedNames();
  for (const name of ['PolicyDocument', 'QuoteRequest', 'QuoteResponse', 'ValidateResponse']) {
    assert.ok(names.includes(name), `index.d.ts imports ${name}`);
  }
  const missing = names.filter((n) => !declared(n));
  assert.deepEqual(missing, [], 'every imported name is declared in the generated types.d.ts');
  assert.match(typesDts, /^\/\/ Generated:/, 'types.d.ts is the generated file');
  assert.equal(
    fs.readFileSync(path.join(PKG, 'types.d.cts'), 'utf8'),
    typesDts,
    'types.d.cts (for require) is the same declarations',
  );
  // The generated interfaces carry the contract's field names (SPEC §2), in order.
  const quoteResponse = /export interface QuoteResponse \{([^}]*)\}/.exec(typesDts)[1];
  const fields = [...quoteResponse.matchAll(/^\s*(\w+)\??:/gm)].map((m) => m[1]);
  assert.deepEqual(fields, [
    'policy_digest', 'member_id', 'currency', 'tier', 'subtotal', 'tier_discount', 'redeemed_points',
    'redeemed_amount', 'max_redeemable_points', 'total', 'earned_points', 'lines', 'applied_rules',
    'notes', 'digest',
  ]);
  assert.match(quoteResponse, /earned_points: number;/, 'points are numbers, not bigint');
});

test('error types come from Rust too', () => {
  const missing = ['ErrorCode', 'ErrorBody'].filter((n) => !declared(n));
  assert.deepEqual(missing, []);
  assert.ok(
    importedNames().includes('ErrorCode') && importedNames().includes('ErrorBody'),
    'ErrorCode and ErrorBody are generated now: import them in pkg-template/index.d.ts and delete the stand-ins there',
  );
});

function tsc(project) {
  const bin = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [bin, '-p', project], { encoding: 'utf8' });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

for (const [name, project] of [
  ['Node ESM + CommonJS (node16), tests/consumer', CONSUMER],
  ['Vite app (bundler resolution), tests/vite', VITE_APP],
]) {
  test(`tsc --noEmit: ${name}`, (t) => {
    const { ok, output } = tsc(project);
    if (!ok && !LIVE.types) {
      // TODO(engine): remove once LIVE.types is true; until then the errors are printed here.
      t.diagnostic(output);
      t.todo("the package's types do not check yet (tsc output above)");
      return;
    }
    assert.ok(ok, output);
  });
}
