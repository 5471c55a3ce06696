// A plain browser <script type="module"> importing pkg/web.js (and pkg/core/web.js, the core
// module) by relative URL: init() fetches the .wasm (served as application/wasm), and the
// scenario's answers equal Node's byte for byte.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';
import { assertScenario } from '../support/checks.js';
import { LIVE } from '../support/live.js';
import { coreEsm, esm } from '../support/package.js';
import { runScenario } from '../support/scenario.js';
import { launch, openPage, scenarioResult, serve } from './browser.js';

let browser;
let server;
before(async () => {
  [browser, server] = await Promise.all([launch(), serve()]);
});
after(async () => {
  await browser?.close();
  server?.server.close();
});

test('module script: same answers as Node, byte for byte', async () => {
  const { page, problems } = await openPage(browser, `${server.url}__tests__/browser/pages/module.html`);
  const inBrowser = await scenarioResult(page);
  const inNode = await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE });
  assert.deepEqual(inBrowser, inNode);
  assertScenario(inBrowser, LIVE);
  assert.deepEqual(problems, []);
});

test('module script, core module (pkg/core/web.js): same answers as Node, and only the core .wasm is fetched', async () => {
  const { page, problems } = await openPage(browser, `${server.url}__tests__/browser/pages/module-core.html`);
  const inBrowser = await scenarioResult(page);
  assert.deepEqual(inBrowser, await runScenario(coreEsm, { policy: POLICY, request: WORKED_EXAMPLE }));
  assert.deepEqual(inBrowser, await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE }));
  assertScenario(inBrowser, LIVE);
  const wasm = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname).filter((p) => p.endsWith('.wasm')),
  );
  assert.deepEqual(wasm, ['/pkg/wasm/loyalty_engine_core_bg.wasm']);
  assert.deepEqual(problems, []);
});

test('the server sends both .wasm files as application/wasm (streaming instantiation)', async () => {
  for (const file of ['loyalty_engine_bg.wasm', 'loyalty_engine_core_bg.wasm']) {
    const res = await fetch(`${server.url}pkg/wasm/${file}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/wasm');
    await res.arrayBuffer();
  }
});
