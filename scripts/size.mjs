#!/usr/bin/env node
// Size report of the shipped .wasm modules and of the packed package.
//
//   node scripts/size.mjs                 # print the report (Markdown)
//   node scripts/size.mjs --write FILE    # also write it to FILE (e.g. docs/size.md)
//   node scripts/size.mjs --check         # exit 1 when over budget (also: SIZE_BUDGET=enforce)
//
// Two modules (scripts/build.sh): the core one, `loyalty-engine/core` (validate and quote: what a
// POS downloads), and the full one, `loyalty-engine` (every operation). The budget of issue 2,
// ≤ 250 KB raw and ≤ 90 KB gzip with the time-zone data included (KB = 1000 bytes; gzip at
// level 9, as servers precompress), applies to the core module; the full module is reported too.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = { raw: 250_000, gzip: 90_000 };
const args = process.argv.slice(2);
const check = args.includes('--check') || process.env.SIZE_BUDGET === 'enforce';
const writeTo = args.includes('--write') ? args[args.indexOf('--write') + 1] : null;

const MODULES = [
  { entry: 'loyalty-engine/core', what: 'validate + quote, for a POS', file: 'loyalty_engine_core_bg.wasm', budget: BUDGET },
  { entry: 'loyalty-engine', what: 'every operation', file: 'loyalty_engine_bg.wasm', budget: null },
];

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const verdict = (n, budget) => (n <= budget ? `≤ ${kb(budget)} ✓` : `> ${kb(budget)} ✗ OVER BUDGET`);

for (const m of MODULES) {
  const wasmPath = path.join(root, 'pkg', 'wasm', m.file);
  if (!fs.existsSync(wasmPath)) {
    console.error(`size: pkg/wasm/${m.file} is missing: run ./scripts/build.sh`);
    process.exit(1);
  }
  const wasm = fs.readFileSync(wasmPath);
  m.raw = wasm.length;
  m.gzip = zlib.gzipSync(wasm, { level: 9 }).length;
  m.brotli = zlib.brotliCompressSync(wasm, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
}
const tarball = path.join(root, 'target', 'npm', 'loyalty-engine.tgz');
const version = JSON.parse(fs.readFileSync(path.join(root, 'pkg', 'package.json'), 'utf8')).version;

const report = [
  `## Wasm size (loyalty-engine ${version})`,
  '',
  '| entry | module (after wasm-opt, tz data included) | raw | gzip -9 | brotli |',
  '| --- | --- | ---: | ---: | ---: |',
  ...MODULES.map(
    (m) =>
      `| \`${m.entry}\` (${m.what}) | \`wasm/${m.file}\` | ${m.raw} B (${kb(m.raw)}) | ${m.gzip} B (${kb(m.gzip)}) | ${m.brotli} B (${kb(m.brotli)}) |`,
  ),
  ...(fs.existsSync(tarball) ? [`| npm tarball | \`loyalty-engine.tgz\` (both modules) | | ${fs.statSync(tarball).size} B | |`] : []),
  '',
  ...MODULES.filter((m) => m.budget).map(
    (m) =>
      `Budget (issue 2, what a POS downloads: \`${m.entry}\`): raw ${verdict(m.raw, m.budget.raw)}; gzip ${verdict(m.gzip, m.budget.gzip)}.`,
  ),
  '',
].join('\n');

console.log(report);
if (writeTo) fs.writeFileSync(path.resolve(writeTo), report);
const over = MODULES.filter((m) => m.budget && (m.raw > m.budget.raw || m.gzip > m.budget.gzip));
if (over.length) {
  const how = check ? 'failing (--check / SIZE_BUDGET=enforce)' : 'warning only; enforce with --check or SIZE_BUDGET=enforce';
  console.log(`size: ${over.map((m) => m.entry).join(', ')} over budget (${how})`);
  if (check) process.exit(1);
}
