#!/usr/bin/env node
// Size report of the shipped .wasm modules and of the packed package.
//
//   node scripts/size.mjs                 # print the report (Markdown)
//   node scripts/size.mjs --write FILE    # also write it to FILE (e.g. docs/size.md)
//   node scripts/size.mjs --check         # exit 1 when over budget (also: SIZE_BUDGET=enforce)
//
// Three modules (scripts/build.sh): the core one, `loyalty-engine/core` (validate and quote: what a
// POS downloads), the progress one, `loyalty-engine/progress` (validate and progress: what the
// storefront widget `<loyalty-progress>` downloads) and the full one, `loyalty-engine` (every
// operation). The budget of issue 2, ≤ 250 KB raw and ≤ 90 KB gzip with the time-zone data
// included (KB = 1000 bytes; gzip at level 9, as servers precompress), applies to the core module;
// issue 17's, ≤ 100 KB gzip, to the progress module; the full module is reported too. The
// widget's whole download (its script, the progress entry's JS and the module, each file gzipped
// on its own as a server sends it) is reported beside them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = { raw: 250_000, gzip: 90_000, issue: 'issue 2, what a POS downloads' };
const PROGRESS_BUDGET = { gzip: 100_000, issue: 'issue 17, what the storefront widget downloads' };
const args = process.argv.slice(2);
const check = args.includes('--check') || process.env.SIZE_BUDGET === 'enforce';
const writeTo = args.includes('--write') ? args[args.indexOf('--write') + 1] : null;

const MODULES = [
  { entry: 'loyalty-engine/core', what: 'validate + quote, for a POS', file: 'loyalty_engine_core_bg.wasm', budget: BUDGET },
  { entry: 'loyalty-engine/progress', what: 'validate + progress, for the storefront widget', file: 'loyalty_engine_progress_bg.wasm', budget: PROGRESS_BUDGET },
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
// What `<loyalty-progress>` fetches (tests/browser/widget.test.mjs checks this list on a page
// with the widget alone).
const WIDGET_FILES = [
  'www/widget/loyalty-progress.js',
  'pkg/progress/web.js',
  'pkg/api.js',
  'pkg/web-init.js',
  'pkg/wasm/loyalty_engine_progress.js',
  'pkg/wasm/loyalty_engine_progress_bg.wasm',
];
const widget = WIDGET_FILES.map((f) => {
  const bytes = fs.readFileSync(path.join(root, f));
  return { file: f, raw: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
});
const widgetTotal = { raw: widget.reduce((a, w) => a + w.raw, 0), gzip: widget.reduce((a, w) => a + w.gzip, 0) };
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
  ...(fs.existsSync(tarball) ? [`| npm tarball | \`loyalty-engine.tgz\` (the three modules) | | ${fs.statSync(tarball).size} B | |`] : []),
  '',
  `The widget's whole download (\`<loyalty-progress>\` on a page: ${widget.map((w) => `\`${path.basename(w.file)}\` ${kb(w.gzip)}`).join(', ')}, gzip -9 each): ` +
    `${widgetTotal.raw} B raw (${kb(widgetTotal.raw)}), ${widgetTotal.gzip} B gzip (${kb(widgetTotal.gzip)}).`,
  '',
  ...MODULES.filter((m) => m.budget).map(
    (m) =>
      `Budget (${m.budget.issue}: \`${m.entry}\`): ` +
      [m.budget.raw && `raw ${verdict(m.raw, m.budget.raw)}`, m.budget.gzip && `gzip ${verdict(m.gzip, m.budget.gzip)}`].filter(Boolean).join('; ') +
      '.',
  ),
  '',
].join('\n');

console.log(report);
if (writeTo) fs.writeFileSync(path.resolve(writeTo), report);
const over = MODULES.filter((m) => m.budget && ((m.budget.raw && m.raw > m.budget.raw) || (m.budget.gzip && m.gzip > m.budget.gzip)));
if (over.length) {
  const how = check ? 'failing (--check / SIZE_BUDGET=enforce)' : 'warning only; enforce with --check or SIZE_BUDGET=enforce';
  console.log(`size: ${over.map((m) => m.entry).join(', ')} over budget (${how})`);
  if (check) process.exit(1);
}
