#!/usr/bin/env node
// Packs pkg/ exactly as `npm publish` would (target/npm/loyalty-engine.tgz) and installs that
// tarball, offline, into the test consumers tests/consumer/ and tests/vite/, whose package.json
// depend on it with a `file:` specifier. The tests then use the package the way users get it:
// only the files package.json ships, resolved through its `exports` map.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'target', 'npm');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
const packed = JSON.parse(
  execFileSync(npm, ['pack', '--json', '--loglevel=error', '--pack-destination', outDir, path.join(root, 'pkg')], {
    encoding: 'utf8',
  }),
)[0];
const tarball = path.join(outDir, 'loyalty-engine.tgz');
fs.renameSync(path.join(outDir, packed.filename), tarball);
console.log(
  `packed ${packed.id}: ${packed.entryCount} files, ${packed.size} bytes (unpacked ${packed.unpackedSize})`,
);

for (const consumer of ['tests/consumer', 'tests/vite']) {
  const dir = path.join(root, consumer);
  // A fresh copy every time: npm would otherwise keep a cached install of the same version.
  fs.rmSync(path.join(dir, 'node_modules', 'loyalty-engine'), { recursive: true, force: true });
  execFileSync(
    npm,
    ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'],
    { cwd: dir, stdio: 'inherit' },
  );
  const installed = path.join(dir, 'node_modules', 'loyalty-engine', 'package.json');
  if (!fs.existsSync(installed)) {
    console.error(`pack: ${consumer}/node_modules/loyalty-engine was not installed`);
    process.exit(1);
  }
}
