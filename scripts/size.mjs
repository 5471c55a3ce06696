#!/usr/bin/env node
// Size report of the shipped .wasm (pkg/wasm/loyalty_engine_bg.wasm) and of the packed package.
//
//   node scripts/size.mjs                 # print the report (Markdown)
//   node scripts/size.mjs --write FILE    # also write it to FILE (e.g. docs/size.md)
//   node scripts/size.mjs --check         # exit 1 when over budget (also: SIZE_BUDGET=enforce)
//
// Budget: ≤ 250 KB raw, ≤ 90 KB gzip (KB = 1000 bytes; gzip at level 9, as servers precompress).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = { raw: 250_000, gzip: 90_000 };
const args = process.argv.slice(2);
const check = args.includes('--check') || process.env.SIZE_BUDGET === 'enforce';
const writeTo = args.includes('--write') ? args[args.indexOf('--write') + 1] : null;

const wasmPath = path.join(root, 'pkg', 'wasm', 'loyalty_engine_bg.wasm');
if (!fs.existsSync(wasmPath)) {
  console.error('size: pkg/ is not built: run ./scripts/build.sh');
  process.exit(1);
}
const wasm = fs.readFileSync(wasmPath);
const sizes = {
  raw: wasm.length,
  gzip: zlib.gzipSync(wasm, { level: 9 }).length,
  brotli: zlib.brotliCompressSync(wasm, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
};
const tarball = path.join(root, 'target', 'npm', 'loyalty-engine.tgz');
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const verdict = (n, budget) => (n <= budget ? `≤ ${kb(budget)} ✓` : `> ${kb(budget)} ✗ OVER BUDGET`);
const version = JSON.parse(fs.readFileSync(path.join(root, 'pkg', 'package.json'), 'utf8')).version;

const report = [
  `## Wasm size (loyalty-engine ${version})`,
  '',
  '| file | raw | gzip -9 | brotli |',
  '| --- | ---: | ---: | ---: |',
  `| \`wasm/loyalty_engine_bg.wasm\` (wasm-opt -Oz) | ${sizes.raw} B (${kb(sizes.raw)}) | ${sizes.gzip} B (${kb(sizes.gzip)}) | ${sizes.brotli} B (${kb(sizes.brotli)}) |`,
  ...(fs.existsSync(tarball) ? [`| npm tarball \`loyalty-engine.tgz\` | | ${fs.statSync(tarball).size} B | |`] : []),
  '',
  `Budget: raw ${verdict(sizes.raw, BUDGET.raw)}; gzip ${verdict(sizes.gzip, BUDGET.gzip)}.`,
  '',
].join('\n');

console.log(report);
if (writeTo) fs.writeFileSync(path.resolve(writeTo), report);
const over = sizes.raw > BUDGET.raw || sizes.gzip > BUDGET.gzip;
if (over) {
  const how = check ? 'failing (--check / SIZE_BUDGET=enforce)' : 'warning only; enforce with --check or SIZE_BUDGET=enforce';
  console.log(`size: the .wasm is over budget (${how})`);
  if (check) process.exit(1);
}
