// A plain browser <script type="module"> importing pkg/web.js by relative URL: init() fetches
// the .wasm (served as application/wasm), and the scenario's answers equal Node's byte for byte.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';
import { assertScenario } from '../support/checks.js';
import { LIVE } from '../support/live.js';
import { esm } from '../support/package.js';
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

test('the server sends the .wasm as application/wasm (streaming instantiation)', async () => {
  const res = await fetch(`${server.url}pkg/wasm/loyalty_engine_bg.wasm`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/wasm');
  await res.arrayBuffer();
});
