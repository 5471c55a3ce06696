#!/usr/bin/env node
// Assembles pkg/ (the npm package) from wasm-bindgen's output and pkg-template/.
//
//   node scripts/assemble-pkg.mjs <wasm-bindgen out-dir>
//
// The out-dir holds three modules built from the same crate (scripts/build.sh), each run through
// wasm-bindgen --target web and --target nodejs: full/{web,nodejs} (every operation: the
// package's main entry), core/{web,nodejs} (`--no-default-features`: validate and quote, the
// `loyalty-engine/core` entry) and progress/{web,nodejs} (`--features progress`: validate and
// progress, the `loyalty-engine/progress` entry, what the storefront widget loads). Both targets of a module produce the same .wasm binary (only the
// JS glue differs), so the package ships ONE .wasm per module, optimized with `wasm-opt` (-O3 for
// the full module, -Oz for the core and progress ones):
//
//   pkg/wasm/loyalty_engine_bg.wasm        the full engine
//   pkg/wasm/loyalty_engine.js, .cjs       its wasm-bindgen glue: --target web (ESM, fetches the .wasm), --target nodejs (CJS)
//   pkg/wasm/loyalty_engine_core_bg.wasm   the core engine (validate, quote)
//   pkg/wasm/loyalty_engine_core.js, .cjs  its glue
//   pkg/wasm/loyalty_engine_progress_bg.wasm, .js, .cjs   the progress engine (validate, progress) and its glue
//   pkg/types.d.ts, pkg/types.d.cts        the engine's types (tsify), from the full module's .d.ts
//   pkg/{web.js,web-init.js,node.cjs,node.mjs,api.js,index.d.ts,package.json,README.md}  from pkg-template/
//   pkg/core/{web.js,node.cjs,node.mjs,index.d.ts}                                      from pkg-template/core/
//   pkg/progress/{web.js,node.cjs,node.mjs,index.d.ts}                                  from pkg-template/progress/
//   pkg/{worker-serve.js,node-worker.cjs,web-worker.js}   ParallelSimulation's workers (Node worker threads, Web Workers)
//   pkg/api.cjs, pkg/worker-serve.cjs, pkg/index.d.cts, pkg/{core,progress}/index.d.cts   derived here from api.js, worker-serve.js and the index.d.ts files
//   pkg/schema/*.json                      the JSON Schemas, from schema/ (`loyalty-engine/schema/policy.json`, …)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [outDir] = process.argv.slice(2).map((d) => path.resolve(d));
if (!outDir) {
  console.error('usage: assemble-pkg.mjs <wasm-bindgen out-dir (with {full,core,progress}/{web,nodejs})>');
  process.exit(2);
}
const template = path.join(root, 'pkg-template');
const pkg = path.join(root, 'pkg');
/** The modules: wasm-bindgen out-name → where its two outputs are, and wasm-opt's level (the full
 * module is optimized for speed, the core one a POS downloads for size; see Cargo.toml). */
const MODULES = [
  { name: 'loyalty_engine', opt: '-O3', webDir: path.join(outDir, 'full', 'web'), nodeDir: path.join(outDir, 'full', 'nodejs') },
  { name: 'loyalty_engine_core', opt: '-Oz', webDir: path.join(outDir, 'core', 'web'), nodeDir: path.join(outDir, 'core', 'nodejs') },
  { name: 'loyalty_engine_progress', opt: '-Oz', webDir: path.join(outDir, 'progress', 'web'), nodeDir: path.join(outDir, 'progress', 'nodejs') },
];

function fail(message) {
  console.error(`assemble-pkg: ${message}`);
  process.exit(1);
}
const read = (file) => fs.readFileSync(file, 'utf8');

fs.rmSync(pkg, { recursive: true, force: true });
fs.mkdirSync(path.join(pkg, 'wasm'), { recursive: true });
fs.mkdirSync(path.join(pkg, 'core'), { recursive: true });
fs.mkdirSync(path.join(pkg, 'progress'), { recursive: true });

const wasmOpt = path.join(root, 'node_modules', '.bin', 'wasm-opt');
if (!fs.existsSync(wasmOpt)) fail('node_modules/.bin/wasm-opt missing: run scripts/setup.sh');
const SELF_TYPES = /^\/\* @ts-self-types=".*?" \*\/\n/;
const built = [];
for (const { name: NAME, opt, webDir, nodeDir } of MODULES) {
  // 1. One .wasm for both targets.
  const webWasm = fs.readFileSync(path.join(webDir, `${NAME}_bg.wasm`));
  const nodeWasm = fs.readFileSync(path.join(nodeDir, `${NAME}_bg.wasm`));
  if (!webWasm.equals(nodeWasm)) {
    fail(
      'wasm-bindgen produced different .wasm files for --target web and --target nodejs; ' +
        `this layout assumes one shared binary (ship pkg/wasm-node/ separately if this changes) [${NAME}]`,
    );
  }

  // 2. wasm-opt (binaryen from npm: node_modules/.bin/wasm-opt).
  // The features Rust enables by default for wasm32-unknown-unknown; enabling a feature only
  // allows wasm-opt to keep/use it. Node 18+ and current browsers support all of them.
  const features = [
    '--enable-bulk-memory',
    '--enable-bulk-memory-opt',
    '--enable-mutable-globals',
    '--enable-nontrapping-float-to-int',
    '--enable-sign-ext',
    '--enable-reference-types',
    '--enable-multivalue',
  ];
  const wasmOut = path.join(pkg, 'wasm', `${NAME}_bg.wasm`);
  execFileSync(
    wasmOpt,
    [
      opt,
      ...features,
      '--strip-debug',
      '--strip-producers',
      '--strip-target-features',
      path.join(webDir, `${NAME}_bg.wasm`),
      '-o',
      wasmOut,
    ],
    { stdio: 'inherit' },
  );

  // 3. wasm-bindgen's JS glue, and the types generated from the engine's Rust types.
  const webGlue = read(path.join(webDir, `${NAME}.js`)).replace(SELF_TYPES, '');
  fs.writeFileSync(path.join(pkg, 'wasm', `${NAME}.js`), webGlue);
  const nodeGlue = read(path.join(nodeDir, `${NAME}.js`)).replace(SELF_TYPES, '');
  if (!nodeGlue.includes(`${NAME}_bg.wasm`)) fail('unexpected nodejs glue: no reference to the .wasm file');
  fs.writeFileSync(path.join(pkg, 'wasm', `${NAME}.cjs`), nodeGlue);
  built.push({ name: NAME, wasmOut, before: webWasm.length, dts: read(path.join(webDir, `${NAME}.d.ts`)) });
}

// The engine's types, from the full module; the core and progress modules' are the same (subsets).
const [full, ...smaller] = built;
const { text: types, blocks: fullBlocks } = extractTypes(full.dts);
fs.writeFileSync(path.join(pkg, 'types.d.ts'), types);
fs.writeFileSync(path.join(pkg, 'types.d.cts'), types);
for (const m of smaller) {
  for (const block of extractTypes(m.dts).blocks) {
    if (!fullBlocks.includes(block)) fail(`${m.name} declares a type the full module does not:\n${block}`);
  }
}

/**
 * The generated .d.ts minus wasm-bindgen's declarations of the raw bindings (RawEngine, call,
 * evalLine, init plumbing), which are not public API: what is left is the engine's tsify
 * interfaces and type aliases, plus InitInput for init()'s parameter.
 */
function extractTypes(dts) {
  const RAW = new Set(['RawEngine', 'RawSimulation', 'call', 'generate', 'evalLine', 'start', 'InitOutput', 'SyncInitInput', 'initSync', '__wbg_init']);
  const body = dts.replace(/^\/\* (tslint:disable|eslint-disable) \*\/\n/gm, '');
  // Top-level blocks: a column-0 `export …` declaration with the doc comment before it.
  const blocks = body.split(/\n(?=\/\*\*\n|export )/).map((b) => b.trim()).filter(Boolean);
  const merged = [];
  for (const block of blocks) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.startsWith('/**') && !/^export /m.test(last)) merged[merged.length - 1] = `${last}\n${block}`;
    else merged.push(block);
  }
  const kept = [];
  const names = [];
  for (const block of merged) {
    const m = /^export (default )?(class|function|interface|type|const|enum|declare) ?\s*([A-Za-z_$][\w$]*)/m.exec(block);
    if (!m) fail(`generated .d.ts: cannot tell what this declares:\n${block}`);
    const [, , kind, name] = m;
    if (RAW.has(name)) continue;
    if (kind !== 'interface' && kind !== 'type') {
      fail(`generated .d.ts: unexpected ${kind} ${name}; add it to RAW in assemble-pkg.mjs or export it from index.d.ts`);
    }
    kept.push(block);
    names.push(name);
  }
  if (!names.includes('InitInput')) fail('generated .d.ts: InitInput is missing');
  const header =
    '// Generated: the engine\'s request/response types, derived from its Rust types with tsify\n' +
    '// and written out by wasm-bindgen (scripts/assemble-pkg.mjs keeps only the types). Do not edit.\n';
  return { text: `${header}\n${kept.join('\n\n')}\n`, blocks: kept };
}

// 4. The template.
for (const file of ['api.js', 'web.js', 'web-init.js', 'node.cjs', 'node.mjs', 'index.d.ts', 'README.md', 'worker-serve.js', 'node-worker.cjs', 'web-worker.js']) {
  fs.copyFileSync(path.join(template, file), path.join(pkg, file));
}
// The core and progress entries (`loyalty-engine/core`, `loyalty-engine/progress`): thin files
// over the same api.js and web-init.js.
for (const entry of ['core', 'progress']) {
  for (const file of ['web.js', 'node.cjs', 'node.mjs', 'index.d.ts']) {
    fs.copyFileSync(path.join(template, entry, file), path.join(pkg, entry, file));
  }
}

// api.cjs: the same glue as CommonJS.
const api = read(path.join(template, 'api.js'));
const EXPORT = /^export function createApi\(/m;
if (!EXPORT.test(api)) fail('pkg-template/api.js must contain `export function createApi(`');
const apiCjs = `'use strict';\n${api.replace(EXPORT, 'function createApi(')}\nmodule.exports = { createApi };\n`;
if (/^\s*(import|export)\b/m.test(apiCjs)) fail('pkg-template/api.js may have no other import/export');
fs.writeFileSync(path.join(pkg, 'api.cjs'), apiCjs);

// worker-serve.cjs: ParallelSimulation's worker side as CommonJS (for node-worker.cjs).
const serve = read(path.join(template, 'worker-serve.js'));
const SERVE_EXPORT = /^export function serveSimulation\(/m;
if (!SERVE_EXPORT.test(serve)) fail('pkg-template/worker-serve.js must contain `export function serveSimulation(`');
const serveCjs = `'use strict';\n${serve.replace(SERVE_EXPORT, 'function serveSimulation(')}\nmodule.exports = { serveSimulation };\n`;
if (/^\s*(import|export)\b/m.test(serveCjs)) fail('pkg-template/worker-serve.js may have no other import/export');
fs.writeFileSync(path.join(pkg, 'worker-serve.cjs'), serveCjs);

// index.d.cts: the same declarations for `require` (TypeScript's node16/nodenext resolution),
// taking the generated types from types.d.cts.
const indexDts = read(path.join(template, 'index.d.ts'));
if (!indexDts.includes("from './types.js';")) fail("pkg-template/index.d.ts must import from './types.js'");
fs.writeFileSync(path.join(pkg, 'index.d.cts'), indexDts.replaceAll("'./types.js'", "'./types.cjs'"));
// core/index.d.cts, progress/index.d.cts: their declarations, from ../index.d.cts.
for (const entry of ['core', 'progress']) {
  const dts = read(path.join(template, entry, 'index.d.ts'));
  if (!dts.includes("from '../index.js';")) fail(`pkg-template/${entry}/index.d.ts must take its declarations from '../index.js'`);
  fs.writeFileSync(path.join(pkg, entry, 'index.d.cts'), dts.replaceAll("'../index.js'", "'../index.cjs'"));
}

// package.json: the crate's version.
const cargoToml = read(path.join(root, 'Cargo.toml'));
const version = /^\[package\][^[]*?^version\s*=\s*"([^"]+)"/m.exec(cargoToml)?.[1];
if (!version) fail('could not read [package] version from Cargo.toml');
const manifest = JSON.parse(read(path.join(template, 'package.json')));
manifest.version = version;

// The JSON Schemas (schema/*.json, generated from the Rust types by `UPDATE_SCHEMA=1 cargo test
// --features schema --test schema`): `loyalty-engine/schema/policy.json`, … Listed in `files`
// here, so a new schema needs no template edit.
const schemaDir = path.join(root, 'schema');
const schemas = fs.readdirSync(schemaDir).filter((f) => f.endsWith('.json')).sort();
if (!schemas.includes('policy.json')) fail('schema/policy.json is missing');
fs.rmSync(path.join(pkg, 'schema'), { recursive: true, force: true });
fs.mkdirSync(path.join(pkg, 'schema'));
for (const file of schemas) {
  fs.copyFileSync(path.join(schemaDir, file), path.join(pkg, 'schema', file));
  manifest.files.push(`schema/${file}`);
}
fs.writeFileSync(path.join(pkg, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

// 5. Every file the manifest lists exists (and nothing else is shipped by accident).
for (const file of manifest.files) {
  if (!fs.existsSync(path.join(pkg, file))) fail(`package.json lists ${file}, which was not produced`);
}

const sizes = built.map((m) => `${m.name}_bg.wasm ${fs.statSync(m.wasmOut).size} bytes (before wasm-opt ${m.before})`);
console.log(`pkg/ assembled: loyalty-engine@${version}, ${sizes.join(', ')}`);
