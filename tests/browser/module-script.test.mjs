// A plain browser <script type="module"> importing pkg/web.js (and pkg/core/web.js, the core
// module) by relative URL: init() fetches the .wasm (served as application/wasm), and the
// scenario's answers equal Node's byte for byte.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';
import { assertScenario } from '../support/checks.js';
import { LIVE } from '../support/live.js';
import { coreEsm, esm } from '../support/package.js';
import { ROOT } from '../support/paths.js';
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

test('module script: ParallelSimulation on module Web Workers = Simulation, byte for byte', async () => {
  const { page, problems } = await openPage(browser, `${server.url}__tests__/browser/pages/module.html`);
  await scenarioResult(page);
  const example = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'examples', `${name}.json`), 'utf8'));
  const out = await page.evaluate(
    async ({ draft, baseline }) => {
      const api = await import(new URL('../../../pkg/web.js', location.href).href);
      await api.init();
      const lines = api.generate({ members: 300, seed: 9, months: 12, profile: 'vn-fashion' }).trimEnd().split('\n');
      lines.splice(7, 0, '17');
      const request = { policy: draft, baseline, as_of: '2026-10-01T00:00:00+07:00', expected_redemption: '0.7' };
      const single = new api.Simulation(request);
      single.add(lines.join('\n'));
      const want = JSON.stringify(single.finish());
      const sim = new api.ParallelSimulation(request, { workers: 3 });
      for (let i = 0; i < lines.length; i += 41) await sim.add(lines.slice(i, i + 41).join('\n'));
      const got = JSON.stringify(await sim.finish());
      let badPolicy = null;
      try {
        new api.ParallelSimulation({ policy: { schema: 2 }, as_of: request.as_of });
      } catch (e) {
        badPolicy = e instanceof api.LoyaltyError ? e.path : String(e);
      }
      return { same: got === want, members: JSON.parse(got).members, progress: sim.progress, badPolicy };
    },
    { draft: example('vn-fashion-draft'), baseline: example('vn-fashion-baseline') },
  );
  assert.deepEqual(out, { same: true, members: 300, progress: 301, badPolicy: 'policy.id' });
  assert.deepEqual(problems, []);
});
