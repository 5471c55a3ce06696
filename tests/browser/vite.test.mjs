// The package in a Vite build: tests/vite (which depends on the packed tarball through a
// `file:` dependency) is built with `vite build`, served, and run in Chromium. Two pages:
// index.html imports 'loyalty-engine' (the full module), core.html 'loyalty-engine/core' (the
// core module). The same app also runs under Vite's dev server (dependency pre-bundling must not
// lose the .wasm).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { build, createServer } from 'vite';

import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';
import { assertScenario } from '../support/checks.js';
import { LIVE } from '../support/live.js';
import { coreEsm, esm } from '../support/package.js';
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
    build: {
      outDir: DIST,
      emptyOutDir: true,
      rollupOptions: { input: { main: path.join(VITE_APP, 'index.html'), core: path.join(VITE_APP, 'core.html') } },
    },
  });
  [browser, server] = await Promise.all([launch(), serve({ '/': DIST })]);
});
after(async () => {
  await browser?.close();
  server?.server.close();
});

test('vite build emits each .wasm as an asset and the bundle does not reach into node_modules', () => {
  const assets = fs.readdirSync(path.join(DIST, 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 2, `two .wasm assets (full and core): ${assets.join(', ')}`);
  assert.equal(wasm.filter((f) => f.startsWith('loyalty_engine_core_bg')).length, 1, 'the core module');
  assert.equal(wasm.filter((f) => f.startsWith('loyalty_engine_bg')).length, 1, 'the full module');
  const js = assets.filter((f) => f.endsWith('.js')).map((f) => fs.readFileSync(path.join(DIST, 'assets', f), 'utf8'));
  for (const file of wasm) assert.ok(js.some((code) => code.includes(file)), `the bundle refers to ${file}`);
  assert.ok(!js.some((code) => code.includes('node.cjs') || code.includes('readFileSync')), 'the browser build, not the Node one');
});

/** The .wasm files a page fetched (file names without Vite's hash). */
const wasmFetched = (page) =>
  page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((r) => new URL(r.name).pathname.split('/').pop())
      .filter((f) => f.endsWith('.wasm'))
      .map((f) => f.replace(/-[\w-]+\.wasm$/, '.wasm').replace(/\.wasm$/, '')),
  );

test('Vite bundle: same answers as Node, byte for byte', async () => {
  const { page, problems } = await openPage(browser, server.url);
  const inBrowser = await scenarioResult(page);
  const inNode = await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE });
  assert.deepEqual(inBrowser, inNode);
  assertScenario(inBrowser, LIVE);
  assert.deepEqual(problems, []);
});

test('Vite bundle, core entry (core.html): same answers as Node, only the core .wasm fetched', async () => {
  const { page, problems } = await openPage(browser, `${server.url}core.html`);
  const inBrowser = await scenarioResult(page);
  assert.deepEqual(inBrowser, await runScenario(coreEsm, { policy: POLICY, request: WORKED_EXAMPLE }));
  assert.deepEqual(inBrowser, await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE }));
  assertScenario(inBrowser, LIVE);
  assert.deepEqual(await wasmFetched(page), ['loyalty_engine_core_bg']);
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
    const inNode = await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE });
    for (const pathname of ['', 'core.html']) {
      const { page, problems } = await openPage(browser, `${dev.resolvedUrls.local[0]}${pathname}`);
      const inBrowser = await scenarioResult(page);
      assert.deepEqual(inBrowser, inNode, pathname || 'index.html');
      assert.deepEqual(problems, []);
    }
  } finally {
    await dev.close();
  }
});
