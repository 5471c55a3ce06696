// The package in a Vite build: tests/vite (which depends on the packed tarball through a
// `file:` dependency) is built with `vite build`, served, and run in Chromium. The same app also
// runs under Vite's dev server (dependency pre-bundling must not lose the .wasm).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { build, createServer } from 'vite';

import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';
import { assertScenario } from '../support/checks.js';
import { LIVE } from '../support/live.js';
import { esm } from '../support/package.js';
import { ROOT, VITE_APP } from '../support/paths.js';
import { runScenario } from '../support/scenario.js';
import { launch, openPage, scenarioResult, serve } from './browser.js';

const DIST = path.join(ROOT, 'target', 'vite-dist');
let browser;
let server;

before(async () => {
  if (!fs.existsSync(path.join(VITE_APP, 'node_modules', 'loyalty-engine', 'package.json'))) {
    throw new Error('tests/vite has no loyalty-engine installed: run ./scripts/build.sh');
  }
  await build({
    root: VITE_APP,
    configFile: false,
    logLevel: 'warn',
    build: { outDir: DIST, emptyOutDir: true },
  });
  [browser, server] = await Promise.all([launch(), serve({ '/': DIST })]);
});
after(async () => {
  await browser?.close();
  server?.server.close();
});

test('vite build emits the .wasm as an asset and the bundle does not reach into node_modules', () => {
  const assets = fs.readdirSync(path.join(DIST, 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one .wasm asset: ${assets.join(', ')}`);
  const js = assets.filter((f) => f.endsWith('.js')).map((f) => fs.readFileSync(path.join(DIST, 'assets', f), 'utf8'));
  assert.ok(js.some((code) => code.includes(wasm[0])), 'the bundle refers to the emitted .wasm');
  assert.ok(!js.some((code) => code.includes('node.cjs') || code.includes('readFileSync')), 'the browser build, not the Node one');
});

test('Vite bundle: same answers as Node, byte for byte', async () => {
  const { page, problems } = await openPage(browser, server.url);
  const inBrowser = await scenarioResult(page);
  const inNode = await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE });
  assert.deepEqual(inBrowser, inNode);
  assertScenario(inBrowser, LIVE);
  assert.deepEqual(problems, []);
});

test('Vite dev server: the same app works unbundled, with dependency pre-bundling', async () => {
  const dev = await createServer({
    root: VITE_APP,
    configFile: false,
    logLevel: 'warn',
    server: { port: 0, host: '127.0.0.1', hmr: false },
  });
  try {
    await dev.listen();
    const { page, problems } = await openPage(browser, dev.resolvedUrls.local[0]);
    const inBrowser = await scenarioResult(page);
    const inNode = await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE });
    assert.deepEqual(inBrowser, inNode);
    assert.deepEqual(problems, []);
  } finally {
    await dev.close();
  }
});
