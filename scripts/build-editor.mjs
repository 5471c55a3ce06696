// Bundles the simulator's JSON editor into one ES module, target/vendor/codemirror/editor.js
// (served at /vendor/codemirror/editor.js by `loyalty serve` and the test servers): CodeMirror 6,
// its JSON language, and codemirror-json-schema for completion, hover docs and inline errors from
// the policy's JSON Schema. Everything comes from the npm devDependencies (no CDN).
//
// Two parts of codemirror-json-schema are swapped for smaller ones (see scripts/editor/): its
// markdown renderer without the shiki highlighter, and no YAML/JSON5 parsers (the editor is JSON
// only). Skipped when its inputs (package-lock.json, scripts/editor/, this file) are unchanged.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const src = path.join(here, 'editor');
const out = path.join(root, 'target', 'vendor', 'codemirror');
const stampFile = path.join(out, 'inputs.sha256');

const inputs = [path.join(root, 'package-lock.json'), fileURLToPath(import.meta.url), ...fs.readdirSync(src).sort().map((f) => path.join(src, f))];
const hash = createHash('sha256');
for (const f of inputs) hash.update(f).update(fs.readFileSync(f));
const stamp = hash.digest('hex');
if (fs.existsSync(path.join(out, 'editor.js')) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
  console.log('target/vendor/codemirror/editor.js is up to date');
  process.exit(0);
}

const swaps = [
  [/(^|\/)utils\/markdown(\.js)?$/, 'markdown.js'],
  [/^\.\/(yaml|json5)-parser(\.js)?$/, 'json-only.js'],
];
await build({
  configFile: false,
  logLevel: 'warn',
  root,
  plugins: [
    {
      name: 'loyalty-editor-swaps',
      enforce: 'pre',
      resolveId(source, importer) {
        if (!importer || !importer.includes(`${path.sep}codemirror-json-schema${path.sep}`)) return null;
        for (const [re, file] of swaps) if (re.test(source)) return path.join(src, file);
        return null;
      },
    },
  ],
  build: {
    lib: { entry: path.join(src, 'entry.js'), formats: ['es'], fileName: () => 'editor.js' },
    outDir: out,
    emptyOutDir: true,
    minify: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
});
fs.writeFileSync(stampFile, stamp);
const size = fs.statSync(path.join(out, 'editor.js')).size;
console.log(`target/vendor/codemirror/editor.js: ${(size / 1024).toFixed(0)} KB`);
