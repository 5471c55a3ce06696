// Paths shared by the Node and browser tests.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PKG = path.join(ROOT, 'pkg');
export const CONSUMER = path.join(ROOT, 'tests', 'consumer');
export const VITE_APP = path.join(ROOT, 'tests', 'vite');
export const CLI = path.join(ROOT, 'target', 'release', process.platform === 'win32' ? 'loyalty.exe' : 'loyalty');
export const VECTORS = path.join(ROOT, 'tests', 'vectors');
/** SPEC.md sits in shared/ beside the repository (CI and developers alike). */
export const SPEC = [path.join(ROOT, '..', 'shared', 'SPEC.md'), path.join(ROOT, 'SPEC.md')].find((p) =>
  fs.existsSync(p),
);

/** Fails with a clear message when the package has not been built and installed. */
export function requireBuiltPackage() {
  const installed = path.join(CONSUMER, 'node_modules', 'loyalty-engine', 'package.json');
  if (!fs.existsSync(path.join(PKG, 'package.json')) || !fs.existsSync(installed)) {
    throw new Error('the package is not built: run ./scripts/build.sh (builds pkg/ and installs it into tests/consumer)');
  }
}
